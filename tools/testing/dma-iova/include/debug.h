/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace replacement for kernel/dma/debug.h, which kernel/dma/iova_debug.h
 * includes: the part of dma-debug (kernel/dma/debug.c) that the IOVA checks
 * call, implemented in mock.c.
 */
#ifndef _KERNEL_DMA_DEBUG_H
#define _KERNEL_DMA_DEBUG_H

bool dma_debug_report_error(struct device *dev);
bool dma_debug_active(void);

#endif
