/* SPDX-License-Identifier: MIT */
/*
 * khoemu.h: the C test API for KhoEmu's guest kernel (docs/testing.md, "Writing a test in C").
 *
 * Everything here is the Linux x86-64 ABI as the guest kernel implements it: system call numbers as in
 * arch/x86/entry/syscalls/syscall_64.tbl, ioctl numbers and structs as in include/uapi/linux/liveupdate.h,
 * iommufd.h and vfio.h (Linux 7.3). One test source therefore builds for KhoEmu's kernel and for Linux, and
 * tests/KhoEmu.Guest.Tests checks every number, size and offset below against Linux's own headers.
 *
 * Two ways to build a test (both static: the guest kernel has no dynamic loader):
 *   gcc -static -nostdlib -ffreestanding -fno-pie -no-pie -O2 -o test test.c   (this header supplies _start)
 *   gcc -static -O2 -o test test.c                                             (glibc's start-up; main as usual)
 * The program runs as init: from fw_cfg file opt/khoemu/init on KhoEmu's kernel, as /init of an initramfs on
 * Linux. It prints KTAP on stdout (fd 1) and exits with 0 when every test passed.
 *
 * Definitions are skipped where a Linux uapi header already made them, so this header may follow <linux/...>.
 * Only what the guest kernel implements is here; a system call it lacks returns -ENOSYS (see kh_mount).
 */
#ifndef KHOEMU_TEST_H
#define KHOEMU_TEST_H

#include <stddef.h>
#include <stdint.h>

/* ---- System call numbers (x86-64, arch/x86/entry/syscalls/syscall_64.tbl) ---- */
#ifndef __NR_read
#define __NR_read            0
#define __NR_write           1
#define __NR_open            2
#define __NR_close           3
#define __NR_lseek           8
#define __NR_ioctl          16
#define __NR_pread64        17
#define __NR_pwrite64       18
#define __NR_getpid         39
#define __NR_exit           60
#define __NR_ftruncate      77
#define __NR_mount         165   /* Linux only: KhoEmu's kernel returns -ENOSYS (it has no file systems to mount) */
#define __NR_reboot        169
#define __NR_exit_group    231
#define __NR_openat        257
#define __NR_memfd_create  319
#define __NR_kexec_file_load 320
#endif

/* errno values the guest kernel returns (negated), as include/uapi/asm-generic/errno-base.h numbers them. */
#ifndef EPERM
#define EPERM    1
#define ENOENT   2
#define EIO      5
#define E2BIG    7
#define EBADF    9
#define EAGAIN  11
#define ENOMEM  12
#define EFAULT  14
#define EBUSY   16
#define EEXIST  17
#define ENODEV  19
#define EINVAL  22
#define ENOTTY  25
#define ENOSPC  28
#define ESPIPE  29
#define ENOSYS  38
#endif

/* memfd_create flags (include/uapi/linux/memfd.h) the kernel accepts. */
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC       0x0001U
#define MFD_ALLOW_SEALING 0x0002U
#define MFD_HUGETLB       0x0004U
#endif

/* reboot(2) (include/uapi/linux/reboot.h): KhoEmu's kernel implements KEXEC and POWER_OFF. */
#ifndef LINUX_REBOOT_MAGIC1
#define LINUX_REBOOT_MAGIC1        0xfee1deadU
#define LINUX_REBOOT_MAGIC2        672274793
#define LINUX_REBOOT_CMD_RESTART   0x01234567U
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321FEDCU
#define LINUX_REBOOT_CMD_KEXEC     0x45584543U
#endif

#ifndef KEXEC_FILE_NO_INITRAMFS
#define KEXEC_FILE_UNLOAD       0x00000001
#define KEXEC_FILE_NO_INITRAMFS 0x00000004
#endif

#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif

/* _IO(type, nr) of include/uapi/asm-generic/ioctl.h: direction and size bits 0, as these uAPIs use it. */
#define KH_IO(type, nr) ((((unsigned int)(type)) << 8) | (unsigned int)(nr))

/* ---- /dev/liveupdate (include/uapi/linux/liveupdate.h) ---- */
#ifndef LIVEUPDATE_IOCTL_TYPE
#define LIVEUPDATE_IOCTL_TYPE 0xBA
#define LIVEUPDATE_SESSION_NAME_LENGTH 64

struct liveupdate_ioctl_create_session {
	uint32_t size;
	int32_t fd;
	uint8_t name[LIVEUPDATE_SESSION_NAME_LENGTH];
};
struct liveupdate_ioctl_retrieve_session {
	uint32_t size;
	int32_t fd;
	uint8_t name[LIVEUPDATE_SESSION_NAME_LENGTH];
};
struct liveupdate_session_preserve_fd {
	uint32_t size;
	int32_t fd;
	uint64_t token __attribute__((aligned(8)));
};
struct liveupdate_session_retrieve_fd {
	uint32_t size;
	int32_t fd;
	uint64_t token __attribute__((aligned(8)));
};
struct liveupdate_session_finish {
	uint32_t size;
	uint32_t reserved;
};

#define LIVEUPDATE_IOCTL_CREATE_SESSION   KH_IO(LIVEUPDATE_IOCTL_TYPE, 0x00)
#define LIVEUPDATE_IOCTL_RETRIEVE_SESSION KH_IO(LIVEUPDATE_IOCTL_TYPE, 0x01)
#define LIVEUPDATE_SESSION_PRESERVE_FD    KH_IO(LIVEUPDATE_IOCTL_TYPE, 0x40)
#define LIVEUPDATE_SESSION_RETRIEVE_FD    KH_IO(LIVEUPDATE_IOCTL_TYPE, 0x41)
#define LIVEUPDATE_SESSION_FINISH         KH_IO(LIVEUPDATE_IOCTL_TYPE, 0x42)
#endif

/* ---- /dev/iommu (include/uapi/linux/iommufd.h): the IOAS calls the kernel implements ---- */
#ifndef IOMMUFD_TYPE
#define IOMMUFD_TYPE (';')

struct iommu_ioas_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_ioas_id;
};
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};
struct iommu_ioas_map_file {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	int32_t fd;
	uint64_t start __attribute__((aligned(8)));
	uint64_t length __attribute__((aligned(8)));
	uint64_t iova __attribute__((aligned(8)));
};
struct iommu_ioas_unmap {
	uint32_t size;
	uint32_t ioas_id;
	uint64_t iova __attribute__((aligned(8)));
	uint64_t length __attribute__((aligned(8)));
};

#define IOMMU_IOAS_ALLOC    KH_IO(IOMMUFD_TYPE, 0x81)
#define IOMMU_IOAS_UNMAP    KH_IO(IOMMUFD_TYPE, 0x86)
#define IOMMU_IOAS_MAP_FILE KH_IO(IOMMUFD_TYPE, 0x8f)
#endif

/* ---- vfio device cdevs /dev/vfio/devices/vfioN (include/uapi/linux/vfio.h): bind and attach ---- */
#ifndef VFIO_TYPE
#define VFIO_TYPE (';')
#define VFIO_BASE 100

struct vfio_device_bind_iommufd {
	uint32_t argsz;
	uint32_t flags;
	int32_t iommufd;
	uint32_t out_devid;
	uint64_t token_uuid_ptr __attribute__((aligned(8)));   /* Linux 7.3; the kernel accepts argsz 16 too */
};
struct vfio_device_attach_iommufd_pt {
	uint32_t argsz;
	uint32_t flags;
	uint32_t pt_id;
	uint32_t pasid;
};

#define VFIO_DEVICE_BIND_IOMMUFD      KH_IO(VFIO_TYPE, VFIO_BASE + 18)
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT KH_IO(VFIO_TYPE, VFIO_BASE + 19)
#endif

/* ---- System calls: the raw x86-64 convention (rax, rdi rsi rdx r10 r8 r9); results are -errno ---- */
static inline long kh_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define kh_syscall(nr, a1, a2, a3) kh_syscall6((nr), (long)(a1), (long)(a2), (long)(a3), 0, 0, 0)

static inline long kh_read(int fd, void *buf, size_t n) { return kh_syscall(__NR_read, fd, buf, n); }
static inline long kh_write(int fd, const void *buf, size_t n) { return kh_syscall(__NR_write, fd, buf, n); }
static inline long kh_open(const char *path, int flags) { return kh_syscall(__NR_open, path, flags, 0); }
static inline long kh_close(int fd) { return kh_syscall(__NR_close, fd, 0, 0); }
static inline long kh_lseek(int fd, long off, int whence) { return kh_syscall(__NR_lseek, fd, off, whence); }
static inline long kh_ioctl(int fd, unsigned int request, void *arg) { return kh_syscall(__NR_ioctl, fd, request, arg); }
static inline long kh_ftruncate(int fd, long size) { return kh_syscall(__NR_ftruncate, fd, size, 0); }
static inline long kh_getpid(void) { return kh_syscall(__NR_getpid, 0, 0, 0); }
static inline long kh_memfd_create(const char *name, unsigned int flags) { return kh_syscall(__NR_memfd_create, name, flags, 0); }
static inline long kh_pread(int fd, void *buf, size_t n, long off) { return kh_syscall6(__NR_pread64, fd, (long)buf, (long)n, off, 0, 0); }
static inline long kh_pwrite(int fd, const void *buf, size_t n, long off) { return kh_syscall6(__NR_pwrite64, fd, (long)buf, (long)n, off, 0, 0); }
static inline long kh_mount(const char *src, const char *target, const char *type)
{
	return kh_syscall6(__NR_mount, (long)src, (long)target, (long)type, 0, 0, 0);
}
static inline long kh_kexec_file_load(int kernel_fd, int initrd_fd, const char *cmdline, size_t len, unsigned long flags)
{
	return kh_syscall6(__NR_kexec_file_load, kernel_fd, initrd_fd, (long)len, (long)cmdline, (long)flags, 0);
}
static inline long kh_reboot(unsigned int cmd)
{
	return kh_syscall(__NR_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, cmd);
}
static inline __attribute__((noreturn)) void kh_exit(int status)
{
	for (;;)
		kh_syscall(__NR_exit_group, status, 0, 0);
}

/* ---- /dev/liveupdate helpers: each returns the new fd (or 0) or -errno ---- */
static inline size_t kh_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static inline long kh_luo_session(int dev, unsigned int request, const char *name)
{
	struct liveupdate_ioctl_create_session s;
	unsigned char *p = (unsigned char *)&s;
	for (size_t i = 0; i < sizeof(s); i++)
		p[i] = 0;
	s.size = sizeof(s);
	s.fd = -1;
	for (size_t i = 0; name[i] && i < LIVEUPDATE_SESSION_NAME_LENGTH - 1; i++)
		s.name[i] = (uint8_t)name[i];
	long r = kh_ioctl(dev, request, &s);
	return r < 0 ? r : s.fd;
}

static inline long kh_luo_preserve(int session, int fd, uint64_t token)
{
	struct liveupdate_session_preserve_fd p = { .size = sizeof(p), .fd = fd, .token = token };
	return kh_ioctl(session, LIVEUPDATE_SESSION_PRESERVE_FD, &p);
}

static inline long kh_luo_retrieve(int session, uint64_t token)
{
	struct liveupdate_session_retrieve_fd p = { .size = sizeof(p), .fd = -1, .token = token };
	long r = kh_ioctl(session, LIVEUPDATE_SESSION_RETRIEVE_FD, &p);
	return r < 0 ? r : p.fd;
}

static inline long kh_luo_finish(int session)
{
	struct liveupdate_session_finish f = { .size = sizeof(f), .reserved = 0 };
	return kh_ioctl(session, LIVEUPDATE_SESSION_FINISH, &f);
}

/* ---- KTAP output (Documentation/dev-tools/ktap.rst) on stdout ---- */
static int kh_ktap_number, kh_ktap_failed;

static inline void kh_puts(const char *s) { kh_write(1, s, kh_strlen(s)); }

static inline void kh_putd(long v)
{
	char b[24];
	int n = 0;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
	do
		b[23 - n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		b[23 - n++] = '-';
	kh_write(1, b + 24 - n, (size_t)n);
}

static inline void ktap_plan(int count)
{
	kh_puts("KTAP version 1\n1..");
	kh_putd(count);
	kh_puts("\n");
}

static inline void ktap_note(const char *s)
{
	kh_puts("# ");
	kh_puts(s);
	kh_puts("\n");
}

/* "ok N name" or "not ok N name # reason"; returns ok. */
static inline int ktap_result(int ok, const char *name, const char *reason)
{
	kh_ktap_number++;
	if (!ok)
		kh_ktap_failed++;
	kh_puts(ok ? "ok " : "not ok ");
	kh_putd(kh_ktap_number);
	kh_puts(" ");
	kh_puts(name);
	if (!ok && reason) {
		kh_puts(" # ");
		kh_puts(reason);
	}
	kh_puts("\n");
	return ok;
}

/* A call that must return exactly `expected` (0 or -errno); the actual value is printed when it did not. */
static inline int ktap_expect(long actual, long expected, const char *name)
{
	int ok = actual == expected;
	kh_ktap_number++;
	if (!ok)
		kh_ktap_failed++;
	kh_puts(ok ? "ok " : "not ok ");
	kh_putd(kh_ktap_number);
	kh_puts(" ");
	kh_puts(name);
	if (!ok) {
		kh_puts(" # expected ");
		kh_putd(expected);
		kh_puts(", got ");
		kh_putd(actual);
	}
	kh_puts("\n");
	return ok;
}

static inline void ktap_skip(const char *name, const char *reason)
{
	kh_ktap_number++;
	kh_puts("ok ");
	kh_putd(kh_ktap_number);
	kh_puts(" ");
	kh_puts(name);
	kh_puts(" # SKIP ");
	kh_puts(reason);
	kh_puts("\n");
}

/* ---- Freestanding start-up (gcc -ffreestanding -nostdlib): _start calls main and exits with its status ---- */
#if defined(__STDC_HOSTED__) && __STDC_HOSTED__ == 0 && !defined(KHOEMU_NO_START)
int main(void);
__attribute__((used, noreturn)) static void kh_start_c(void) { kh_exit(main()); }
/* The System V ABI wants rsp 16-byte aligned before a call; the kernel's initial rsp is aligned, so call once. */
__asm__(".globl _start\n_start:\n\txor %ebp, %ebp\n\tand $-16, %rsp\n\tcall kh_start_c\n\thlt\n");
#endif

#endif /* KHOEMU_TEST_H */
