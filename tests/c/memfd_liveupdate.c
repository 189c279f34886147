// SPDX-License-Identifier: MIT
/*
 * The C example test (docs/testing.md): a memfd written and read back, then preserved in a live-update session,
 * printed as KTAP. Built by tests/KhoEmu.Guest.Tests with gcc (freestanding, this directory's khoemu.h) and run as
 * init on KhoEmu's guest kernel; the same binary runs as /init on Linux 7.3 (tests/KhoEmu.Linux.Tests, LinuxKho).
 */
#include "khoemu.h"

#define SIZE (64 * 1024 + 24)   /* more than a page and not a multiple of one */
#define SMALLER 5000

static unsigned char buf[SIZE];

static uint64_t pattern(uint64_t i) { return (i * 0x9E3779B97F4A7C15ULL) >> 56; }

static int same_as_pattern(const unsigned char *b, long n)
{
	for (long i = 0; i < n; i++)
		if (b[i] != (unsigned char)pattern((uint64_t)i))
			return 0;
	return 1;
}

int main(void)
{
	/* Linux mounts nothing for an initramfs /init; KhoEmu's kernel has fixed paths and answers -ENOSYS. */
	long m = kh_mount("devtmpfs", "/dev", "devtmpfs");

	ktap_plan(13);
	ktap_note(m == 0 ? "c example: devtmpfs mounted on /dev" : "c example: /dev as the kernel provides it");
	ktap_expect(kh_getpid(), 1, "runs_as_init");

	long fd = kh_memfd_create("c-example", MFD_CLOEXEC);
	ktap_result(fd >= 0, "memfd_create", "memfd_create failed");
	for (long i = 0; i < SIZE; i++)
		buf[i] = (unsigned char)pattern((uint64_t)i);
	ktap_expect(kh_write((int)fd, buf, SIZE), SIZE, "memfd_write");
	ktap_expect(kh_lseek((int)fd, 0, SEEK_END), SIZE, "memfd_size");

	for (long i = 0; i < SIZE; i++)
		buf[i] = 0;
	kh_lseek((int)fd, 0, SEEK_SET);
	long got = kh_read((int)fd, buf, SIZE);
	ktap_result(got == SIZE && same_as_pattern(buf, SIZE), "memfd_read_back", "contents differ");

	ktap_expect(kh_ftruncate((int)fd, SMALLER), 0, "memfd_ftruncate");
	ktap_expect(kh_lseek((int)fd, 0, SEEK_END), SMALLER, "memfd_truncated_size");

	long dev = kh_open("/dev/liveupdate", 2 /* O_RDWR */);
	ktap_result(dev >= 0, "open_dev_liveupdate", "cannot open /dev/liveupdate");
	ktap_expect(kh_open("/dev/liveupdate", 2), -EBUSY, "second_open_is_busy");

	long session = kh_luo_session((int)dev, LIVEUPDATE_IOCTL_CREATE_SESSION, "c-example");
	ktap_result(session >= 0, "create_session", "LIVEUPDATE_IOCTL_CREATE_SESSION failed");
	ktap_expect(kh_luo_session((int)dev, LIVEUPDATE_IOCTL_CREATE_SESSION, "c-example"), -EEXIST, "duplicate_session_name_fails");
	ktap_expect(kh_luo_preserve((int)session, (int)fd, 0x1234), 0, "preserve_memfd");

	/* Closing an outgoing session unpreserves its files and frees its name. */
	kh_close((int)session);
	long again = kh_luo_session((int)dev, LIVEUPDATE_IOCTL_CREATE_SESSION, "c-example");
	ktap_result(again >= 0 && kh_luo_preserve((int)again, (int)fd, 0x1234) == 0, "name_and_file_free_after_close",
		    "the closed session still holds its name or the memfd");

	ktap_note(kh_ktap_failed == 0 ? "c example: all passed" : "c example: failures");
	/* Linux's init must not exit: a restart ends the run under -no-reboot. KhoEmu's kernel refuses RESTART
	 * (-EINVAL) and powers off with init's exit status instead. */
	kh_reboot(LINUX_REBOOT_CMD_RESTART);
	return kh_ktap_failed == 0 ? 0 : 1;
}
