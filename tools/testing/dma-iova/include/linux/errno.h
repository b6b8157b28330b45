/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace stand-in for <linux/errno.h>: the UAPI values are the kernel's. */
#ifndef _HARNESS_LINUX_ERRNO_H
#define _HARNESS_LINUX_ERRNO_H

#include_next <linux/errno.h>

#endif
