// SPDX-License-Identifier: GPL-2.0
/*
 * /init of liveupdate.cpio: runs upstream's kselftest-harness test tools/testing/selftests/liveupdate/liveupdate
 * (15 cases on /dev/liveupdate, no kexec) and ends the machine. Upstream has no initramfs runner for this test
 * (it is meant for run_kselftest.sh on a booted system), so this does the least such a system gives it: devtmpfs
 * on /dev (the test opens /dev/liveupdate and /dev/null), proc and debugfs as the kexec tests' /init mounts them.
 * Then it reboots, as upstream's kexec tests' /init does: under QEMU's or KhoEmu's -no-reboot that ends the run
 * (a power-off would need ACPI to work, a reboot only the reset register or a triple fault).
 * Built static against glibc by prepare.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_BINARY "/liveupdate"

static void mount_or_warn(const char *source, const char *target, const char *type)
{
	if (mount(source, target, type, 0, NULL) < 0)
		fprintf(stderr, "INIT: cannot mount %s on %s: %s\n", type, target, strerror(errno));
}

int main(void)
{
	int status = 0;
	pid_t pid;

	mount_or_warn("devtmpfs", "/dev", "devtmpfs");
	mount_or_warn("proc", "/proc", "proc");
	mount_or_warn("debugfs", "/debugfs", "debugfs");

	printf("INIT: running %s\n", TEST_BINARY);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { TEST_BINARY, NULL };
		char *envp[] = { "PATH=/", NULL };

		execve(TEST_BINARY, argv, envp);
		fprintf(stderr, "INIT: cannot run %s: %s\n", TEST_BINARY, strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		fprintf(stderr, "INIT: fork failed: %s\n", strerror(errno));
	else if (waitpid(pid, &status, 0) != pid)
		fprintf(stderr, "INIT: waitpid failed: %s\n", strerror(errno));
	else if (WIFEXITED(status))
		printf("INIT: %s exited with %d\n", TEST_BINARY, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("INIT: %s killed by signal %d\n", TEST_BINARY, WTERMSIG(status));
	fflush(stdout);

	sync();
	reboot(RB_AUTOBOOT);
	/* Only reached if the reboot failed; init must not exit (the kernel would panic with a less clear message). */
	fprintf(stderr, "INIT: reboot failed: %s\n", strerror(errno));
	for (;;)
		pause();
}
