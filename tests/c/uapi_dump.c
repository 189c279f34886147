// SPDX-License-Identifier: MIT
/*
 * Prints every number, struct size and field offset khoemu.h defines, one "name value" per line. Built twice by
 * tests/KhoEmu.Guest.Tests (CApiTests): once over khoemu.h alone, once with -DKH_LINUX over Linux's own headers
 * (<sys/syscall.h>, <errno.h> and the Linux 7.3 tree's include/uapi); the two outputs must be identical.
 */
#include <stdio.h>
#include <stddef.h>
#ifdef KH_LINUX
#include <sys/syscall.h>
#include <errno.h>
#include <linux/memfd.h>
#include <linux/reboot.h>
#include <linux/kexec.h>
#include <linux/liveupdate.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#define KH_NUMBERS_ONLY
#endif
#ifndef KH_NUMBERS_ONLY
#include "khoemu.h"
#endif

#define N(x) printf("%s %lld\n", #x, (long long)(x))
#define S(t) printf("sizeof(%s) %zu\n", #t, sizeof(struct t))
#define O(t, f) printf("offsetof(%s.%s) %zu\n", #t, #f, offsetof(struct t, f))

int main(void)
{
	N(__NR_read); N(__NR_write); N(__NR_open); N(__NR_close); N(__NR_lseek); N(__NR_ioctl); N(__NR_pread64);
	N(__NR_pwrite64); N(__NR_getpid); N(__NR_exit); N(__NR_ftruncate); N(__NR_mount); N(__NR_reboot);
	N(__NR_exit_group); N(__NR_openat); N(__NR_memfd_create); N(__NR_kexec_file_load);
	N(EPERM); N(ENOENT); N(EIO); N(E2BIG); N(EBADF); N(EAGAIN); N(ENOMEM); N(EFAULT); N(EBUSY); N(EEXIST);
	N(ENODEV); N(EINVAL); N(ENOTTY); N(ENOSPC); N(ESPIPE); N(ENOSYS);
	N(MFD_CLOEXEC); N(MFD_ALLOW_SEALING); N(MFD_HUGETLB);
	N(LINUX_REBOOT_MAGIC1); N(LINUX_REBOOT_MAGIC2); N(LINUX_REBOOT_CMD_RESTART); N(LINUX_REBOOT_CMD_POWER_OFF);
	N(LINUX_REBOOT_CMD_KEXEC); N(KEXEC_FILE_UNLOAD); N(KEXEC_FILE_NO_INITRAMFS);
	N(LIVEUPDATE_IOCTL_TYPE); N(LIVEUPDATE_SESSION_NAME_LENGTH);
	N(LIVEUPDATE_IOCTL_CREATE_SESSION); N(LIVEUPDATE_IOCTL_RETRIEVE_SESSION); N(LIVEUPDATE_SESSION_PRESERVE_FD);
	N(LIVEUPDATE_SESSION_RETRIEVE_FD); N(LIVEUPDATE_SESSION_FINISH);
	S(liveupdate_ioctl_create_session); O(liveupdate_ioctl_create_session, fd); O(liveupdate_ioctl_create_session, name);
	S(liveupdate_ioctl_retrieve_session); O(liveupdate_ioctl_retrieve_session, fd); O(liveupdate_ioctl_retrieve_session, name);
	S(liveupdate_session_preserve_fd); O(liveupdate_session_preserve_fd, fd); O(liveupdate_session_preserve_fd, token);
	S(liveupdate_session_retrieve_fd); O(liveupdate_session_retrieve_fd, fd); O(liveupdate_session_retrieve_fd, token);
	S(liveupdate_session_finish); O(liveupdate_session_finish, reserved);
	N(IOMMUFD_TYPE); N(IOMMU_IOAS_ALLOC); N(IOMMU_IOAS_UNMAP); N(IOMMU_IOAS_MAP_FILE);
	N(IOMMU_IOAS_MAP_FIXED_IOVA); N(IOMMU_IOAS_MAP_WRITEABLE); N(IOMMU_IOAS_MAP_READABLE);
	S(iommu_ioas_alloc); O(iommu_ioas_alloc, flags); O(iommu_ioas_alloc, out_ioas_id);
	S(iommu_ioas_map_file); O(iommu_ioas_map_file, flags); O(iommu_ioas_map_file, ioas_id); O(iommu_ioas_map_file, fd);
	O(iommu_ioas_map_file, start); O(iommu_ioas_map_file, length); O(iommu_ioas_map_file, iova);
	S(iommu_ioas_unmap); O(iommu_ioas_unmap, ioas_id); O(iommu_ioas_unmap, iova); O(iommu_ioas_unmap, length);
	N(VFIO_TYPE); N(VFIO_BASE); N(VFIO_DEVICE_BIND_IOMMUFD); N(VFIO_DEVICE_ATTACH_IOMMUFD_PT);
	S(vfio_device_bind_iommufd); O(vfio_device_bind_iommufd, flags); O(vfio_device_bind_iommufd, iommufd);
	O(vfio_device_bind_iommufd, out_devid); O(vfio_device_bind_iommufd, token_uuid_ptr);
	S(vfio_device_attach_iommufd_pt); O(vfio_device_attach_iommufd_pt, flags); O(vfio_device_attach_iommufd_pt, pt_id);
	O(vfio_device_attach_iommufd_pt, pasid);
	return 0;
}
