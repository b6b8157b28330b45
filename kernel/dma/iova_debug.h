/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CONFIG_DMA_API_DEBUG hooks of the two-step IOVA API, one per entry point
 * of kernel/dma/iova_link.c, called after the operation with its result,
 * and the report counters the KUnit suites read; empty inlines when the
 * option is off.
 */
#ifndef _KERNEL_DMA_IOVA_DEBUG_H
#define _KERNEL_DMA_IOVA_DEBUG_H

#include "debug.h"

#ifdef CONFIG_FAULT_INJECTION
struct fault_attr;

/*
 * Fails the lower-layer calls of the IOVA engine (iova_engine.c), for the
 * core and hmm_dma.c (debugfs fail_dma_iova/); the KUnit suites drive it
 * too.
 */
extern struct fault_attr fail_dma_iova;
#endif

/*
 * Lookups of kernel/dma/iova_link.c for the KUnit suites (built in) and the
 * harness's fuzzer; the checks keep their own shadow instead. Not exported.
 */
unsigned long dma_iova_nr_chunks(const struct dma_iova_mapping *map);
size_t dma_iova_reserved_len(const struct dma_iova_mapping *map);
ssize_t dma_iova_first_pending(const struct dma_iova_mapping *map,
			       size_t offset, size_t size);

/**
 * enum dma_iova_debug_check - misuse reported by CONFIG_DMA_API_DEBUG
 * @DMA_IOVA_DBG_NONE: no check; counts all reports together
 * @DMA_IOVA_DBG_LIVE_REALLOC: (I1) dma_alloc_iova() on a state still live
 * @DMA_IOVA_DBG_NOT_LIVE: (I2) use of a state never allocated, or already
 *	destroyed or freed
 * @DMA_IOVA_DBG_RANGE: (I3) link outside the range, empty, or overflowing
 * @DMA_IOVA_DBG_OVERLAP: (I4) link overlapping, or sharing a granule with,
 *	a linked chunk
 * @DMA_IOVA_DBG_PLACEMENT: (I5) link whose offset in the IOMMU granule
 *	differs from its physical address's
 * @DMA_IOVA_DBG_SOURCE: (I6) link source on the stack, in kernel text or
 *	rodata, without struct pages, or spanning memory kinds
 * @DMA_IOVA_DBG_DIRECTION: (I7) invalid DMA direction
 * @DMA_IOVA_DBG_SYNC_RANGE: (I8) sync of a range not fully linked
 * @DMA_IOVA_DBG_UNCOMMITTED: (I9) chunk unlinked or destroyed before any
 *	dma_iova_commit() made it visible
 * @DMA_IOVA_DBG_UNLINK: (I10) unlink range not matching linked chunks
 * @DMA_IOVA_DBG_COUNT: (I11) chunk count in the state differs from what was
 *	linked through it (state copied or overwritten)
 * @DMA_IOVA_DBG_FREE_LINKED: (I12) dma_free_iova() with chunks linked
 * @DMA_IOVA_DBG_UNBIND_LEAK: (I13) live states left at driver unbind
 * @DMA_IOVA_DBG_CACHELINE: (I14) device-writable chunk sharing a cacheline
 *	with a device-writable chunk of another state
 * @DMA_IOVA_DBG_CORRUPT: (I15) state whose device or range differs from the
 *	one allocated (used for another device, copied or overwritten)
 * @DMA_IOVA_DBG_BOUNCE_ATTR: (I16) link that would bounce memory that may
 *	not be bounced (P2P)
 * @DMA_IOVA_DBG_NR: number of checks
 */
enum dma_iova_debug_check {
	DMA_IOVA_DBG_NONE,
	DMA_IOVA_DBG_LIVE_REALLOC,
	DMA_IOVA_DBG_NOT_LIVE,
	DMA_IOVA_DBG_RANGE,
	DMA_IOVA_DBG_OVERLAP,
	DMA_IOVA_DBG_PLACEMENT,
	DMA_IOVA_DBG_SOURCE,
	DMA_IOVA_DBG_DIRECTION,
	DMA_IOVA_DBG_SYNC_RANGE,
	DMA_IOVA_DBG_UNCOMMITTED,
	DMA_IOVA_DBG_UNLINK,
	DMA_IOVA_DBG_COUNT,
	DMA_IOVA_DBG_FREE_LINKED,
	DMA_IOVA_DBG_UNBIND_LEAK,
	DMA_IOVA_DBG_CACHELINE,
	DMA_IOVA_DBG_CORRUPT,
	DMA_IOVA_DBG_BOUNCE_ATTR,
	DMA_IOVA_DBG_NR,
};

#ifdef CONFIG_DMA_API_DEBUG
/* Whether the hooks check anything (dma_debug=off turns them off). */
static inline bool debug_dma_iova_active(void)
{
	return dma_debug_active();
}

unsigned int dma_iova_debug_errors(enum dma_iova_debug_check check);
unsigned int dma_iova_debug_live_states(const struct device *dev);
void debug_dma_iova_alloc(struct dma_iova_mapping *map, int ret);
void debug_dma_iova_link(struct dma_iova_mapping *map, size_t offset,
			 phys_addr_t phys, size_t size,
			 enum dma_data_direction dir, unsigned long attrs,
			 int ret);
void debug_dma_iova_link_bvecs(struct dma_iova_mapping *map, size_t start,
			       size_t end, const struct bio_vec *bv,
			       unsigned int nr, enum dma_data_direction dir,
			       unsigned long attrs, int ret);
void debug_dma_iova_commit(struct dma_iova_mapping *map, int ret);
void debug_dma_iova_unlink(struct dma_iova_mapping *map,
			   const struct dma_iova_range *ranges,
			   unsigned int nr, int ret);
void debug_dma_iova_sync(struct dma_iova_mapping *map, size_t offset,
			 size_t size);
void debug_dma_iova_destroy(struct dma_iova_mapping *map);
void debug_dma_iova_free(struct dma_iova_mapping *map, int ret);
#else
static inline bool debug_dma_iova_active(void)
{
	return false;
}

static inline unsigned int
dma_iova_debug_errors(enum dma_iova_debug_check check)
{
	return 0;
}

static inline unsigned int
dma_iova_debug_live_states(const struct device *dev)
{
	return 0;
}

static inline void debug_dma_iova_alloc(struct dma_iova_mapping *map, int ret)
{
}

static inline void debug_dma_iova_link(struct dma_iova_mapping *map,
				       size_t offset, phys_addr_t phys,
				       size_t size,
				       enum dma_data_direction dir,
				       unsigned long attrs, int ret)
{
}

static inline void debug_dma_iova_link_bvecs(struct dma_iova_mapping *map,
					     size_t start, size_t end,
					     const struct bio_vec *bv,
					     unsigned int nr,
					     enum dma_data_direction dir,
					     unsigned long attrs, int ret)
{
}

static inline void debug_dma_iova_commit(struct dma_iova_mapping *map,
					 int ret)
{
}

static inline void debug_dma_iova_unlink(struct dma_iova_mapping *map,
					 const struct dma_iova_range *ranges,
					 unsigned int nr, int ret)
{
}

static inline void debug_dma_iova_sync(struct dma_iova_mapping *map,
				       size_t offset, size_t size)
{
}

static inline void debug_dma_iova_destroy(struct dma_iova_mapping *map)
{
}

static inline void debug_dma_iova_free(struct dma_iova_mapping *map, int ret)
{
}
#endif /* CONFIG_DMA_API_DEBUG */

#endif /* _KERNEL_DMA_IOVA_DEBUG_H */
