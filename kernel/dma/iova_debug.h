/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CONFIG_DMA_API_DEBUG hooks of the two-step IOVA API, called by
 * kernel/dma/iova_link.c; empty inlines when the option is off.
 */
#ifndef _KERNEL_DMA_IOVA_DEBUG_H
#define _KERNEL_DMA_IOVA_DEBUG_H

/*
 * Lookups of kernel/dma/iova_link.c that the checks reuse; the KUnit suites
 * use them too. Not for drivers.
 */
unsigned long dma_iova_nr_chunks(const struct dma_iova_mapping *map);
size_t dma_iova_reserved_len(const struct dma_iova_mapping *map);
bool dma_iova_range_busy(const struct dma_iova_mapping *map, size_t offset,
			 size_t size);
bool dma_iova_range_linked(const struct dma_iova_mapping *map, size_t offset,
			   size_t size);
ssize_t dma_iova_first_pending(const struct dma_iova_mapping *map,
			       size_t offset, size_t size);

#ifdef CONFIG_DMA_API_DEBUG
void debug_dma_iova_alloc(struct dma_iova_mapping *map, int ret);
bool debug_dma_iova_link(struct dma_iova_mapping *map, size_t offset,
			 phys_addr_t phys, size_t size,
			 enum dma_data_direction dir);
void debug_dma_iova_linked(struct dma_iova_mapping *map, size_t offset,
			   phys_addr_t phys, bool reported, int ret);
void debug_dma_iova_commit(struct dma_iova_mapping *map);
void debug_dma_iova_committed(struct dma_iova_mapping *map, int ret);
bool debug_dma_iova_unlink(struct dma_iova_mapping *map,
			   const struct dma_iova_range *ranges,
			   unsigned int nr);
void debug_dma_iova_unlinked(struct dma_iova_mapping *map,
			     const struct dma_iova_range *ranges,
			     unsigned int nr, bool reported, int ret);
void debug_dma_iova_sync(struct dma_iova_mapping *map, size_t offset,
			 size_t size);
void debug_dma_iova_destroy(struct dma_iova_mapping *map);
void debug_dma_iova_free(struct dma_iova_mapping *map, int ret);
#else
static inline void debug_dma_iova_alloc(struct dma_iova_mapping *map, int ret)
{
}

static inline bool debug_dma_iova_link(struct dma_iova_mapping *map,
				       size_t offset, phys_addr_t phys,
				       size_t size,
				       enum dma_data_direction dir)
{
	return false;
}

static inline void debug_dma_iova_linked(struct dma_iova_mapping *map,
					 size_t offset, phys_addr_t phys,
					 bool reported, int ret)
{
}

static inline void debug_dma_iova_commit(struct dma_iova_mapping *map)
{
}

static inline void debug_dma_iova_committed(struct dma_iova_mapping *map,
					    int ret)
{
}

static inline bool debug_dma_iova_unlink(struct dma_iova_mapping *map,
					 const struct dma_iova_range *ranges,
					 unsigned int nr)
{
	return false;
}

static inline void debug_dma_iova_unlinked(struct dma_iova_mapping *map,
					   const struct dma_iova_range *ranges,
					   unsigned int nr, bool reported,
					   int ret)
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
