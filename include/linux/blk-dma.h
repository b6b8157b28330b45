/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Map a request's data or integrity payload for DMA through the two-step
 * IOVA API: one IOVA per payload with an IOMMU, per-chunk addresses without.
 * See Documentation/core-api/dma-iova.rst.
 */
#ifndef _LINUX_BLK_DMA_H
#define _LINUX_BLK_DMA_H

#include <linux/blk_types.h>
#include <linux/dma-iova.h>

struct device;
struct queue_limits;
struct request;

/**
 * struct blk_dma_iter - cursor over the DMA segments of a mapped payload
 * @iova: position among the mapping's merged segments
 * @rest: the part of the current merged segment not yet returned
 * @max_seg: the queue's max_segment_size
 * @seg_boundary: the queue's seg_boundary_mask
 * @virt_boundary: the queue's virt_boundary_mask
 */
struct blk_dma_iter {
	struct dma_iova_iter iova;
	struct dma_iova_seg rest;
	unsigned int max_seg;
	unsigned long seg_boundary;
	unsigned long virt_boundary;
};

/**
 * struct blk_dma_stats - what blk-dma mapped since boot
 * @iova_maps: payloads mapped into one IOVA
 * @direct_maps: payloads mapped per chunk (no IOMMU, identity domain)
 * @integrity_maps: of those, integrity payloads
 * @bytes: payload bytes mapped
 * @chunks: physically contiguous runs linked
 * @failures: payloads that could not be mapped (nothing left mapped)
 */
struct blk_dma_stats {
	u64 iova_maps;
	u64 direct_maps;
	u64 integrity_maps;
	u64 bytes;
	u64 chunks;
	u64 failures;
};

blk_status_t blk_rq_dma_map(struct request *rq, struct device *dma_dev,
			    struct dma_iova_mapping *map,
			    struct dma_iova_chunk *chunks, unsigned int nr);
#ifdef CONFIG_BLK_DEV_INTEGRITY
blk_status_t blk_rq_integrity_dma_map(struct request *rq,
				      struct device *dma_dev,
				      struct dma_iova_mapping *map,
				      struct dma_iova_chunk *chunks,
				      unsigned int nr);
#else
static inline blk_status_t
blk_rq_integrity_dma_map(struct request *rq, struct device *dma_dev,
			 struct dma_iova_mapping *map,
			 struct dma_iova_chunk *chunks, unsigned int nr)
{
	return BLK_STS_NOTSUPP;
}
#endif
struct blk_dma_iter *blk_dma_iter_init(struct blk_dma_iter *iter,
				       const struct dma_iova_mapping *map,
				       const struct queue_limits *lim);
bool blk_dma_next_seg(struct blk_dma_iter *iter, struct dma_iova_seg *seg);
unsigned int blk_dma_nr_segs(const struct dma_iova_mapping *map,
			     const struct queue_limits *lim);
void blk_dma_read_stats(struct blk_dma_stats *stats);

/**
 * blk_dma_for_each_seg - walk the DMA segments of a mapped payload
 * @map: mapping filled by blk_rq_dma_map() or blk_rq_integrity_dma_map()
 * @lim: the limits of the queue the segments are for
 * @iter: a &struct blk_dma_iter
 * @seg: a &struct dma_iova_seg, filled on each pass
 *
 * Segments respect @lim's max segment size, segment boundary and virtual
 * boundary.
 */
#define blk_dma_for_each_seg(map, lim, iter, seg)			\
	for (struct blk_dma_iter *__it = blk_dma_iter_init(iter, map, lim); \
	     blk_dma_next_seg(__it, seg);)

#endif /* _LINUX_BLK_DMA_H */
