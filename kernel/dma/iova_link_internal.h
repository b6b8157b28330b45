/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Everything kernel/dma/iova_link.c depends on, in one place, so that
 * tools/testing/dma-iova can substitute it and build iova_link.c unchanged
 * in userspace against a mock IOMMU.
 */
#ifndef _KERNEL_DMA_IOVA_LINK_INTERNAL_H
#define _KERNEL_DMA_IOVA_LINK_INTERNAL_H

#include <linux/bug.h>
#include <linux/device.h>
#include <linux/dma-iova.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/export.h>
#include <linux/iommu.h>
#include <linux/iommu-dma.h>
#include <linux/log2.h>
#include <linux/memremap.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/swiotlb.h>

#endif /* _KERNEL_DMA_IOVA_LINK_INTERNAL_H */
