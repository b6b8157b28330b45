/* SPDX-License-Identifier: GPL-2.0-only */
/* Tracepoints of kernel/dma/iova_link.c: nothing to trace in userspace. */
#ifndef _HARNESS_TRACE_DMA_IOVA_H
#define _HARNESS_TRACE_DMA_IOVA_H

static inline void trace_dma_iova_link(const struct dma_iova_mapping *map,
				       size_t offset, size_t size,
				       phys_addr_t phys, dma_addr_t dma_addr,
				       u8 type, u8 dir, u32 bounced)
{
}

static inline void trace_dma_iova_teardown(const struct dma_iova_mapping *map,
					   unsigned long chunks, u64 bytes,
					   bool destroy)
{
}

/* Off, as in a kernel nobody traces: destroy skips its second pass. */
static inline bool trace_dma_iova_teardown_enabled(void)
{
	return false;
}

#endif
