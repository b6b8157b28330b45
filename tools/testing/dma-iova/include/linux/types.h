/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace stand-in for <linux/types.h>, enough for dma-iova.h. */
#ifndef _HARNESS_LINUX_TYPES_H
#define _HARNESS_LINUX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef uint64_t dma_addr_t;
typedef uint64_t phys_addr_t;
typedef unsigned int gfp_t;

#endif
