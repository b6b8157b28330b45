/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Everything kernel/dma/iova_link.c and iova_debug.c depend on, in one
 * place, so that a userspace harness can substitute it and build them
 * unchanged against a mock IOMMU.
 */
#ifndef _KERNEL_DMA_IOVA_LINK_INTERNAL_H
#define _KERNEL_DMA_IOVA_LINK_INTERNAL_H

#include <linux/bug.h>
#include <linux/bvec.h>
#include <linux/cache.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-iova.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/export.h>
#include <linux/fault-inject.h>
#include <linux/hashtable.h>
#include <linux/highmem.h>
#include <linux/init.h>
#include <linux/iommu.h>
#include <linux/iommu-dma.h>
#include <linux/kmsan-checks.h>
#include <linux/log2.h>
#include <linux/memremap.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/task_stack.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/stacktrace.h>
#include <linux/string.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#include <asm/sections.h>

#include "debug.h"
#include "iova_debug.h"
#include "iova_engine.h"

#endif /* _KERNEL_DMA_IOVA_LINK_INTERNAL_H */
