// SPDX-License-Identifier: GPL-2.0-only
/*
 * Map a request's payload for DMA without a scatterlist.
 *
 * The bio_vecs of the data (or integrity) payload are merged into
 * physically contiguous runs and linked into one IOVA reservation through
 * the two-step IOVA API, a batch of runs per call: a run goes right after
 * the previous one when both meet on an IOMMU granule boundary, so a
 * request whose bio_vecs respect a page-sized virtual boundary becomes a
 * single DMA segment, and its size is known without walking it first. Runs of
 * different kinds (host pages, P2P memory via the host bridge or by bus
 * address) may share a request; the mapping records each run's kind, so
 * dma_destroy_iova() alone undoes it all. Without an IOMMU the same calls
 * map each run on its own.
 */
#include <linux/blk-dma.h>
#include <linux/blk-integrity.h>
#include <linux/blk-mq.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/mmzone.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>

#include "blk.h"

static DEFINE_PER_CPU(struct blk_dma_stats, blk_dma_stats);

/* Runs handed to dma_link_bvecs() per call. */
#define BLK_DMA_BATCH	8

/*
 * One pass over a payload: bio_vecs are merged into physically contiguous
 * runs of one memory kind, and the runs are linked in batches. A pass with
 * no mapping only lays the runs out, to size the IOVA reservation when
 * their placement cannot be known in advance.
 */
struct blk_dma_walk {
	struct dma_iova_mapping *map;	/* NULL while sizing */
	size_t granule;			/* 0 without an IOMMU */
	enum dma_data_direction dir;
	struct bio_vec run;
	size_t off;
	size_t bytes;
	unsigned int nr_runs;
	unsigned int nr_batch;
	int err;
	struct bio_vec batch[BLK_DMA_BATCH];
};

static inline void link_batch(struct blk_dma_walk *w)
{
	if (w->nr_batch && !w->err)
		w->err = dma_link_bvecs(w->map, &w->off, w->batch, w->nr_batch,
					w->dir, 0);
	w->nr_batch = 0;
}

static inline void end_run(struct blk_dma_walk *w)
{
	phys_addr_t phys = bvec_phys(&w->run);
	size_t mask = w->granule - 1;

	if (!w->run.bv_len)
		return;
	w->bytes += w->run.bv_len;
	w->nr_runs++;
	if (w->map) {
		w->batch[w->nr_batch++] = w->run;
		if (w->nr_batch == BLK_DMA_BATCH)
			link_batch(w);
	} else {
		/* Where dma_link_bvecs() will put it. */
		if (w->granule && ((w->off | phys) & mask))
			w->off = ALIGN(w->off, w->granule) + (phys & mask);
		w->off += w->run.bv_len;
	}
	w->run.bv_len = 0;
}

static inline void add_bvec(struct blk_dma_walk *w,
			    const struct bio_vec *bv)
{
	if (w->run.bv_len &&
	    bvec_phys(&w->run) + w->run.bv_len == bvec_phys(bv) &&
	    zone_device_pages_have_same_pgmap(w->run.bv_page, bv->bv_page)) {
		w->run.bv_len += bv->bv_len;
		return;
	}
	end_run(w);
	w->run = *bv;
}

static void walk_data(struct request *rq, struct blk_dma_walk *w)
{
	struct req_iterator iter;
	struct bio_vec bv;

	if (rq->rq_flags & RQF_SPECIAL_PAYLOAD) {
		add_bvec(w, &rq->special_vec);
	} else {
		rq_for_each_bvec(bv, rq, iter)
			add_bvec(w, &bv);
	}
	end_run(w);
}

/*
 * IOVA bytes a data payload needs, without walking it, when the queue's
 * virtual boundary puts every bio_vec edge inside the payload on a granule
 * boundary: then the runs follow each other without gaps. 0 if unknown.
 */
static size_t data_size_known(struct request *rq, size_t granule)
{
	unsigned long vb = rq->q->limits.virt_boundary_mask;
	struct bio_vec first;

	if (!granule)
		return blk_rq_payload_bytes(rq);
	if (rq->rq_flags & RQF_SPECIAL_PAYLOAD)
		first = rq->special_vec;
	else if (rq->bio && ((vb + 1) & (granule - 1)) == 0 && vb)
		first = req_bvec(rq);
	else
		return 0;
	return (bvec_phys(&first) & (granule - 1)) + blk_rq_payload_bytes(rq);
}

static blk_status_t map_payload(struct request *rq, struct device *dma_dev,
				struct dma_iova_mapping *map,
				struct dma_iova_chunk *chunks, unsigned int nr,
				void (*walk)(struct request *rq,
					     struct blk_dma_walk *w),
				size_t size)
{
	unsigned long merge_boundary = dma_get_merge_boundary(dma_dev);
	struct blk_dma_walk w = {
		.granule = merge_boundary ? merge_boundary + 1 : 0,
		.dir = rq_dma_dir(rq),
	};
	int ret;

	if (size == SIZE_MAX)
		size = data_size_known(rq, w.granule);
	if (!size) {
		walk(rq, &w);
		size = w.off;
	}

	/* Initialises @map on every path, so no state outlives a request. */
	ret = dma_alloc_iova(dma_dev, map, size, 0, GFP_ATOMIC | __GFP_NOWARN);
	if (ret)
		goto fail;
	if (WARN_ON_ONCE(dma_iova_uses_iommu(map) != !!w.granule)) {
		ret = -EIO;
		goto destroy;
	}
	if (chunks && nr > 1) {
		ret = dma_iova_provide_chunks(map, chunks, nr);
		if (ret)
			goto destroy;
	}

	w.map = map;
	w.off = 0;
	w.bytes = 0;
	w.nr_runs = 0;
	walk(rq, &w);
	link_batch(&w);
	ret = w.err ?: dma_iova_commit(map);
	if (ret)
		goto destroy;
	if (WARN_ON_ONCE(w.off != size)) {
		ret = -EIO;
		goto destroy;
	}

	if (dma_iova_uses_iommu(map))
		this_cpu_inc(blk_dma_stats.iova_maps);
	else
		this_cpu_inc(blk_dma_stats.direct_maps);
	this_cpu_add(blk_dma_stats.chunks, w.nr_runs);
	this_cpu_add(blk_dma_stats.bytes, w.bytes);
	return BLK_STS_OK;

destroy:
	/* Unlinks whatever was linked and releases the IOVA (upstream B2). */
	dma_destroy_iova(map);
fail:
	this_cpu_inc(blk_dma_stats.failures);
	return errno_to_blk_status(ret);
}

/**
 * blk_rq_dma_map() - map a request's data payload for DMA
 * @rq: request with a data payload
 * @dma_dev: device that will do the DMA
 * @map: mapping state, (re)initialised here whatever the outcome
 * @chunks: optional storage for the run record (e.g. from a mempool); with
 *	an IOMMU a payload of one memory kind needs none, without one it
 *	needs one entry per physical segment of @rq
 * @nr: entries in @chunks
 *
 * With an IOMMU the payload is linked into one IOVA reservation and, when
 * its bio_vecs meet on IOMMU granule boundaries (always for queues with a
 * page-sized virtual boundary), forms one DMA segment; P2P memory reached
 * by bus address forms segments of its own. Without an IOMMU each run is
 * mapped on its own. Walk the result with blk_dma_for_each_seg() and undo
 * it with dma_destroy_iova(@map), which needs nothing else.
 *
 * Context: Any context; does not sleep.
 * Return: %BLK_STS_OK on success, with @map live. Otherwise nothing stays
 * mapped or reserved and @map is not live: %BLK_STS_RESOURCE when IOVA
 * space, page tables or bounce buffers ran out (retry later),
 * %BLK_STS_TARGET when @dma_dev cannot reach P2P memory in the payload,
 * %BLK_STS_INVAL for an empty payload or one @dma_dev cannot address,
 * %BLK_STS_IOERR for anything else.
 */
blk_status_t blk_rq_dma_map(struct request *rq, struct device *dma_dev,
			    struct dma_iova_mapping *map,
			    struct dma_iova_chunk *chunks, unsigned int nr)
{
	return map_payload(rq, dma_dev, map, chunks, nr, walk_data, SIZE_MAX);
}
EXPORT_SYMBOL_GPL(blk_rq_dma_map);

#ifdef CONFIG_BLK_DEV_INTEGRITY
static void walk_integrity(struct request *rq, struct blk_dma_walk *w)
{
	struct bio *bio = rq->bio;
	struct bvec_iter iter;
	struct bio_vec bv;

	bio_for_each_integrity_vec(bv, bio, iter)
		add_bvec(w, &bv);
	end_run(w);
}

/**
 * blk_rq_integrity_dma_map() - map a request's integrity payload for DMA
 * @rq: request with an integrity payload
 * @dma_dev: device that will do the DMA
 * @map: mapping state, (re)initialised here whatever the outcome
 * @chunks: optional storage for the run record, as for blk_rq_dma_map()
 * @nr: entries in @chunks
 *
 * Like blk_rq_dma_map() for the metadata buffers. With an IOMMU, integrity
 * bio_vecs that meet on granule boundaries form one DMA segment, which a
 * controller taking a single metadata pointer can use.
 *
 * Context: Any context; does not sleep.
 * Return: as for blk_rq_dma_map().
 */
blk_status_t blk_rq_integrity_dma_map(struct request *rq,
				      struct device *dma_dev,
				      struct dma_iova_mapping *map,
				      struct dma_iova_chunk *chunks,
				      unsigned int nr)
{
	/* Integrity bio_vecs know no virtual boundary: lay them out first. */
	blk_status_t sts = map_payload(rq, dma_dev, map, chunks, nr,
				       walk_integrity, 0);

	if (sts == BLK_STS_OK)
		this_cpu_inc(blk_dma_stats.integrity_maps);
	return sts;
}
EXPORT_SYMBOL_GPL(blk_rq_integrity_dma_map);
#endif /* CONFIG_BLK_DEV_INTEGRITY */

/**
 * blk_dma_iter_init() - start walking the DMA segments of a mapped payload
 * @iter: cursor to set up
 * @map: mapping filled by blk_rq_dma_map() or blk_rq_integrity_dma_map()
 * @lim: limits of the queue the segments are built for
 *
 * Context: Any context.
 * Return: @iter.
 */
struct blk_dma_iter *blk_dma_iter_init(struct blk_dma_iter *iter,
				       const struct dma_iova_mapping *map,
				       const struct queue_limits *lim)
{
	dma_iova_iter_init(&iter->iova, map);
	iter->rest.len = 0;
	iter->max_seg = lim->max_segment_size;
	iter->seg_boundary = lim->seg_boundary_mask;
	iter->virt_boundary = lim->virt_boundary_mask;
	return iter;
}
EXPORT_SYMBOL_GPL(blk_dma_iter_init);

/**
 * blk_dma_next_seg() - next DMA segment of a mapped payload
 * @iter: cursor set up by blk_dma_iter_init()
 * @seg: filled with the segment
 *
 * Splits the mapping's merged segments so that none exceeds the max segment
 * size or crosses a segment boundary; a split inside a merged segment ends
 * on the virtual boundary, so PRP-style descriptors stay valid.
 *
 * Context: Any context; the caller keeps the mapping stable while walking.
 * Return: %true if @seg was filled, %false at the end.
 */
bool blk_dma_next_seg(struct blk_dma_iter *iter, struct dma_iova_seg *seg)
{
	dma_addr_t addr, end;
	size_t len;

	if (!iter->rest.len && !dma_iova_next_seg(&iter->iova, &iter->rest))
		return false;

	addr = iter->rest.addr;
	len = min_t(size_t, iter->rest.len, iter->max_seg);
	if (iter->seg_boundary != ULONG_MAX)
		len = min_t(u64, len, iter->seg_boundary -
				      (addr & iter->seg_boundary) + 1);
	if (len < iter->rest.len && iter->virt_boundary) {
		end = (addr + len) & ~(dma_addr_t)iter->virt_boundary;
		if (end > addr)
			len = end - addr;
	}

	seg->addr = addr;
	seg->len = len;
	iter->rest.addr += len;
	iter->rest.len -= len;
	return true;
}
EXPORT_SYMBOL_GPL(blk_dma_next_seg);

/**
 * blk_dma_nr_segs() - number of DMA segments blk_dma_next_seg() will return
 * @map: mapping filled by blk_rq_dma_map() or blk_rq_integrity_dma_map()
 * @lim: limits of the queue the segments are built for
 *
 * Context: Any context.
 * Return: the number of segments.
 */
unsigned int blk_dma_nr_segs(const struct dma_iova_mapping *map,
			     const struct queue_limits *lim)
{
	struct blk_dma_iter iter;
	struct dma_iova_seg seg;
	unsigned int nr = 0;

	blk_dma_for_each_seg(map, lim, &iter, &seg)
		nr++;
	return nr;
}
EXPORT_SYMBOL_GPL(blk_dma_nr_segs);

/**
 * blk_dma_read_stats() - sum the per-CPU blk-dma counters
 * @sum: filled with the totals since boot
 *
 * Context: Any context.
 */
void blk_dma_read_stats(struct blk_dma_stats *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct blk_dma_stats *s = per_cpu_ptr(&blk_dma_stats,
							     cpu);

		sum->iova_maps += s->iova_maps;
		sum->direct_maps += s->direct_maps;
		sum->integrity_maps += s->integrity_maps;
		sum->bytes += s->bytes;
		sum->chunks += s->chunks;
		sum->failures += s->failures;
	}
}

static int blk_dma_stats_show(struct seq_file *m, void *v)
{
	struct blk_dma_stats s;

	blk_dma_read_stats(&s);
	seq_printf(m, "iova_maps %llu\ndirect_maps %llu\nintegrity_maps %llu\n",
		   s.iova_maps, s.direct_maps, s.integrity_maps);
	seq_printf(m, "bytes %llu\nchunks %llu\nfailures %llu\n",
		   s.bytes, s.chunks, s.failures);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(blk_dma_stats);

static int __init blk_dma_debugfs_init(void)
{
	debugfs_create_file("dma_stats", 0400, blk_debugfs_root, NULL,
			    &blk_dma_stats_fops);
	return 0;
}
late_initcall(blk_dma_debugfs_init);
