// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suites for block/blk-dma.c.
 *
 * blk_dma: requests built by hand (bios on a bare struct request, as
 * blk_rq_append_bio() leaves them) are mapped for QEMU's edu devices behind
 * an emulated IOMMU; every segment is checked in the IOMMU page
 * tables. Covers the layout (one segment when bio_vecs meet on granule
 * boundaries, gaps otherwise), queue-limit splitting, integrity payloads,
 * mixed chunk types, failure unwinding (upstream bugs B1, B2) and the
 * no-IOMMU fallback.
 *
 * blk_dma_nvme: real I/O through the converted nvme-pci driver to QEMU NVMe
 * namespaces (controllers with CMBs, one behind a PCIe switch): host pages,
 * P2P memory of the other controller's CMB (through the host bridge, in
 * the IOVA), of the controller's own CMB (by bus address), mixed with host
 * pages in one request, and a namespace with T10 PI metadata that QEMU
 * checks on every write.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/bio-integrity.h>
#include <linux/blk-dma.h>
#include <linux/blk-integrity.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/dma-direct.h>
#include <linux/fault-inject.h>
#include <linux/file.h>
#include <linux/sizes.h>

#include "../../kernel/dma/iova_debug.h"
#include "dma_iova_kunit.h"

/* blk_status_t is __bitwise: compare (and print) the errno it stands for. */
#define assert_blk_ok(test, sts) \
	KUNIT_ASSERT_EQ(test, blk_status_to_errno(sts), 0)

/* ---- building requests by hand ----------------------------------------- */

struct test_rq {
	struct request rq;
	struct request_queue q;		/* only its limits are read */
	struct bio bio;
	struct bio_vec vecs[12];
};

static void test_rq_release(void *data)
{
	struct test_rq *t = data;

	bio_uninit(&t->bio);
}

/* A write request whose payload is @nr pieces (phys, len). */
static struct request *rq_make(struct kunit *test, const phys_addr_t *phys,
			       const unsigned int *len, unsigned int nr)
{
	struct test_rq *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_ASSERT_LE(test, nr, ARRAY_SIZE(t->vecs));
	bio_init(&t->bio, NULL, t->vecs, ARRAY_SIZE(t->vecs), REQ_OP_WRITE);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, test_rq_release, t), 0);
	for (i = 0; i < nr; i++)
		__bio_add_page(&t->bio, pfn_to_page(PHYS_PFN(phys[i])), len[i],
			       offset_in_page(phys[i]));
	t->rq.cmd_flags = REQ_OP_WRITE;
	t->rq.q = &t->q;
	t->rq.bio = &t->bio;
	t->rq.biotail = &t->bio;
	t->rq.__data_len = t->bio.bi_iter.bi_size;
	t->rq.nr_phys_segments = nr;
	return &t->rq;
}

/* Attach @nr integrity pieces to @rq's bio. */
static void rq_add_integrity(struct kunit *test, struct request *rq,
			     const phys_addr_t *phys, const unsigned int *len,
			     unsigned int nr)
{
	struct bio_integrity_payload *bip;
	unsigned int i;

	bip = bio_integrity_alloc(rq->bio, GFP_KERNEL, nr);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, bip);
	for (i = 0; i < nr; i++) {
		bvec_set_page(&bip->bip_vec[i], pfn_to_page(PHYS_PFN(phys[i])),
			      len[i], offset_in_page(phys[i]));
		bip->bip_iter.bi_size += len[i];
	}
	bip->bip_vcnt = nr;
	rq->cmd_flags |= REQ_INTEGRITY;
	rq->nr_integrity_segments = nr;
}

/* Limits of a queue with a page-sized virtual boundary, like nvme-pci. */
static const struct queue_limits nvme_like = {
	.max_segment_size = UINT_MAX,
	.seg_boundary_mask = ULONG_MAX,
	.virt_boundary_mask = PAGE_SIZE - 1,
};

/* Limits of a queue without a virtual boundary. */
static const struct queue_limits sg_like = {
	.max_segment_size = SZ_64K,
	.seg_boundary_mask = ULONG_MAX,
};

static struct dma_iova_mapping *map_state(struct kunit *test)
{
	struct dma_iova_mapping *map = kunit_kzalloc(test, sizeof(*map),
						     GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, map);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, destroy_action,
							map), 0);
	return map;
}

/* Collect the segments; check that they add up to @payload bytes. */
static unsigned int segs_get(struct kunit *test, struct dma_iova_mapping *map,
			     const struct queue_limits *lim,
			     struct dma_iova_seg *segs, unsigned int max,
			     size_t payload)
{
	struct blk_dma_iter iter;
	struct dma_iova_seg seg;
	unsigned int n = 0;
	size_t total = 0;

	blk_dma_for_each_seg(map, lim, &iter, &seg) {
		KUNIT_ASSERT_LT(test, n, max);
		segs[n++] = seg;
		total += seg.len;
	}
	KUNIT_EXPECT_EQ(test, total, payload);
	KUNIT_EXPECT_EQ(test, n, blk_dma_nr_segs(map, lim));
	return n;
}

/* Byte @i of @dma resolves to @phys + @i (or its bounce slot, untrusted). */
static bool dma_to_phys_at(struct kunit *test, struct iova_env *env,
			   dma_addr_t dma, phys_addr_t phys, size_t i)
{
	phys_addr_t got = iommu_iova_to_phys(env->domain, dma + i);

	if (got == phys + i ||
	    (untrusted_run && slot_mirrors(env_dev(env), got, phys + i)))
		return true;
	KUNIT_FAIL(test, "%pad+%zx -> %pa, want %pa+%zx", &dma, i, &got,
		   &phys, i);
	return false;
}

/*
 * The DMA address @dma resolves to @phys for @len bytes (sampled), or, on
 * an untrusted run, to a swiotlb slot that mirrors the granule of @phys.
 */
static void expect_dma_to_phys(struct kunit *test, struct iova_env *env,
			       dma_addr_t dma, phys_addr_t phys, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += SZ_512)
		if (!dma_to_phys_at(test, env, dma, phys, i))
			return;
	dma_to_phys_at(test, env, dma, phys, len - 1);
}

/* ---- blk_dma: mapping checks -------------------------------------------- */

/*
 * @nr pages, none physically adjacent to the one before it (pages from one
 * allocation, in a scrambled order), so that each is a chunk of its own.
 */
static void scattered_pages(struct kunit *test, phys_addr_t *phys,
			    unsigned int nr)
{
	static const unsigned int order[] = { 5, 1, 7, 3, 6, 0, 4, 2 };
	phys_addr_t base = pages_get(test, 3, 0);
	unsigned int i;

	KUNIT_ASSERT_LE(test, nr, ARRAY_SIZE(order));
	for (i = 0; i < nr; i++)
		phys[i] = base + order[i] * PAGE_SIZE;
}

/* One bio_vec: one segment at the IOVA, resolving to the page. */
static void blk_dma_single_bvec_is_one_segment(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	phys_addr_t p = pages_get(test, 1, 0) + SZ_512;
	unsigned int len = PAGE_SIZE;
	struct request *rq = rq_make(test, &p, &len, 1);
	struct dma_iova_mapping *map = map_state(test);
	struct dma_iova_seg segs[4];

	assert_blk_ok(test, blk_rq_dma_map(rq, env_dev(env), map, NULL, 0));
	KUNIT_EXPECT_TRUE(test, dma_iova_uses_iommu(map));
	KUNIT_ASSERT_EQ(test, segs_get(test, map, &nvme_like, segs, 4, len), 1);
	KUNIT_EXPECT_EQ(test, segs[0].addr, dma_iova_addr(map) + SZ_512);
	expect_dma_to_phys(test, env, segs[0].addr, p, len);
}

/*
 * Discontiguous pages that meet on page boundaries (what a virt boundary
 * guarantees) form one IOVA segment: unaligned start, whole pages, short
 * end. Adjacent pieces of one page merge into one chunk.
 */
static void blk_dma_boundary_pages_are_one_segment(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	phys_addr_t pg[3], a, b, c;
	phys_addr_t phys[4];
	unsigned int len[] = { PAGE_SIZE - SZ_1K, PAGE_SIZE / 2, PAGE_SIZE / 2,
			       SZ_1K + SZ_512 };
	size_t payload = len[0] + len[1] + len[2] + len[3];
	struct dma_iova_mapping *map = map_state(test);
	struct dma_iova_seg segs[4];
	struct request *rq;
	dma_addr_t d;

	scattered_pages(test, pg, 3);
	a = pg[0];
	b = pg[1];
	c = pg[2];
	phys[0] = a + SZ_1K;
	phys[1] = b;
	phys[2] = b + PAGE_SIZE / 2;
	phys[3] = c;
	rq = rq_make(test, phys, len, 4);

	assert_blk_ok(test, blk_rq_dma_map(rq, env_dev(env), map, NULL, 0));
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(map), 3);
	KUNIT_ASSERT_EQ(test, segs_get(test, map, &nvme_like, segs, 4, payload),
			1);
	d = segs[0].addr;
	KUNIT_EXPECT_EQ(test, d & (PAGE_SIZE - 1), SZ_1K);
	expect_dma_to_phys(test, env, d, a + SZ_1K, PAGE_SIZE - SZ_1K);
	expect_dma_to_phys(test, env, d + PAGE_SIZE - SZ_1K, b, PAGE_SIZE);
	expect_dma_to_phys(test, env, d + 2 * PAGE_SIZE - SZ_1K, c,
			   SZ_1K + SZ_512);

	/*
	 * The queue's virtual boundary lets blk-dma size the IOVA without
	 * a first walk; the layout must be the same.
	 */
	dma_destroy_iova(map);
	rq->q->limits.virt_boundary_mask = PAGE_SIZE - 1;
	assert_blk_ok(test, blk_rq_dma_map(rq, env_dev(env), map, NULL, 0));
	KUNIT_EXPECT_EQ(test, dma_iova_size(map), SZ_1K + payload);
	KUNIT_ASSERT_EQ(test, segs_get(test, map, &nvme_like, segs, 4, payload),
			1);
	KUNIT_EXPECT_EQ(test, segs[0].addr & (PAGE_SIZE - 1), SZ_1K);
	expect_dma_to_phys(test, env, segs[0].addr, a + SZ_1K,
			   PAGE_SIZE - SZ_1K);
	expect_dma_to_phys(test, env, segs[0].addr + PAGE_SIZE - SZ_1K, b,
			   PAGE_SIZE);
	expect_dma_to_phys(test, env, segs[0].addr + 2 * PAGE_SIZE - SZ_1K,
			   c, SZ_1K + SZ_512);
}

/*
 * Pieces that do not meet on a granule boundary cannot be contiguous in
 * the IOVA: each starts a segment, at its own in-page offset.
 */
static void blk_dma_gaps_start_segments(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	phys_addr_t a = pages_get(test, 0, 0), b = pages_get(test, 0, 0);
	phys_addr_t c = pages_get(test, 0, 0);
	phys_addr_t phys[] = { a + SZ_512, b + SZ_1K, c };
	unsigned int len[] = { SZ_1K, SZ_2K, SZ_512 };
	struct request *rq = rq_make(test, phys, len, 3);
	struct dma_iova_mapping *map = map_state(test);
	struct dma_iova_seg segs[4];
	unsigned int i;

	assert_blk_ok(test, blk_rq_dma_map(rq, env_dev(env), map, NULL, 0));
	KUNIT_ASSERT_EQ(test, segs_get(test, map, &sg_like, segs, 4,
				       SZ_1K + SZ_2K + SZ_512), 3);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, segs[i].len, len[i]);
		KUNIT_EXPECT_EQ(test, segs[i].addr & (PAGE_SIZE - 1),
				offset_in_page(phys[i]));
		expect_dma_to_phys(test, env, segs[i].addr, phys[i],
				   len[i]);
	}
}

/*
 * More runs than one dma_link_bvecs() call takes (BLK_DMA_BATCH), each
 * ending mid-granule where the next starts at that same in-granule
 * offset, on a queue without a virtual boundary: every run, the first of
 * the second batch too, goes to a granule of its own, where the sizing
 * walk put it (issue 27, defect 2: the chained call's first run collided
 * with the last one's granule and the request failed).
 */
static void blk_dma_chained_batches_end_mid_granule(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct dma_iova_mapping *map = map_state(test);
	phys_addr_t phys[10];
	unsigned int len[10], i;
	struct dma_iova_seg segs[12];
	struct request *rq;

	for (i = 0; i < 10; i++) {
		phys[i] = pages_get(test, 0, 0) + SZ_256 * (i + 1);
		len[i] = SZ_256;
	}
	rq = rq_make(test, phys, len, 10);
	assert_blk_ok(test, blk_rq_dma_map(rq, env_dev(env), map, NULL, 0));
	KUNIT_ASSERT_EQ(test, segs_get(test, map, &sg_like, segs, 12,
				       10 * SZ_256), 10);
	for (i = 0; i < 10; i++) {
		KUNIT_EXPECT_EQ(test, segs[i].len, len[i]);
		expect_dma_to_phys(test, env, segs[i].addr, phys[i],
				   len[i]);
	}
}

struct split_case {
	const char *name;
	struct queue_limits lim;
	dma_addr_t addr;
	size_t len;
	unsigned int nr;
	size_t first;
};

static const struct split_case split_cases[] = {
	{ "max segment size", { .max_segment_size = SZ_64K,
	  .seg_boundary_mask = ULONG_MAX }, 0x100000, SZ_256K, 4, SZ_64K },
	{ "segment boundary", { .max_segment_size = UINT_MAX,
	  .seg_boundary_mask = SZ_64K - 1 }, 0x10000 + SZ_32K, SZ_128K, 3,
	  SZ_32K },
	{ "virt boundary ends splits on it", { .max_segment_size = 6000,
	  .seg_boundary_mask = ULONG_MAX, .virt_boundary_mask = SZ_4K - 1 },
	  0x200000 + SZ_512, SZ_16K, 4, SZ_4K - SZ_512 },
	{ "no split needed", { .max_segment_size = UINT_MAX,
	  .seg_boundary_mask = ULONG_MAX, .virt_boundary_mask = SZ_4K - 1 },
	  0x300000 + SZ_512, SZ_1M, 1, SZ_1M },
};

static void split_case_desc(const struct split_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(split, split_cases, split_case_desc);

/*
 * The iterator splits a merged segment by the queue's limits: no segment
 * above the max size or across a boundary, inner splits on the virtual
 * boundary, nothing lost. A cursor primed with the merged segment, over an
 * empty mapping, stands in for any merged segment.
 */
static void blk_dma_segments_should_respect_limits(struct kunit *test)
{
	const struct split_case *c = test->param_value;
	struct device *dev = direct_dev_get(test, "blk_dma_split");
	struct dma_iova_mapping *map = map_state(test);
	struct blk_dma_iter iter;
	struct dma_iova_seg seg;
	dma_addr_t next = c->addr;
	unsigned int n = 0;

	KUNIT_ASSERT_EQ(test, dma_alloc_iova(dev, map, c->len, 0, GFP_KERNEL),
			0);
	blk_dma_iter_init(&iter, map, &c->lim);
	iter.rest.addr = c->addr;
	iter.rest.len = c->len;
	while (blk_dma_next_seg(&iter, &seg)) {
		KUNIT_EXPECT_EQ(test, seg.addr, next);
		KUNIT_EXPECT_LE(test, seg.len, c->lim.max_segment_size);
		KUNIT_EXPECT_EQ(test, seg.addr & ~(u64)c->lim.seg_boundary_mask,
				(seg.addr + seg.len - 1) &
				~(u64)c->lim.seg_boundary_mask);
		if (!n)
			KUNIT_EXPECT_EQ(test, seg.len, c->first);
		if (next + seg.len != c->addr + c->len)
			KUNIT_EXPECT_EQ(test, (seg.addr + seg.len) &
					c->lim.virt_boundary_mask, 0);
		next = seg.addr + seg.len;
		n++;
	}
	KUNIT_EXPECT_EQ(test, next, c->addr + c->len);
	KUNIT_EXPECT_EQ(test, n, c->nr);
}

/* The integrity payload gets its own IOVA, merged into one segment. */
static void blk_dma_integrity_payload_is_one_segment(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	phys_addr_t d = pages_get(test, 2, 0);
	phys_addr_t m1 = pages_get(test, 0, 0), m2 = pages_get(test, 0, 0);
	phys_addr_t m3 = pages_get(test, 0, 0);
	phys_addr_t mphys[] = { m1 + PAGE_SIZE - 64, m2, m3 };
	unsigned int mlen[] = { 64, PAGE_SIZE, 128 };
	unsigned int len = 4 * PAGE_SIZE;
	struct request *rq = rq_make(test, &d, &len, 1);
	struct dma_iova_mapping *map = map_state(test);
	struct dma_iova_mapping *meta = map_state(test);
	struct blk_dma_stats before, after;
	struct dma_iova_seg segs[4];

	rq_add_integrity(test, rq, mphys, mlen, 3);
	blk_dma_read_stats(&before);
	assert_blk_ok(test, blk_rq_dma_map(rq, env_dev(env), map, NULL, 0));
	assert_blk_ok(test, blk_rq_integrity_dma_map(rq, env_dev(env), meta,
						     NULL, 0));
	blk_dma_read_stats(&after);
	KUNIT_EXPECT_EQ(test, after.integrity_maps - before.integrity_maps, 1);
	KUNIT_EXPECT_NE(test, dma_iova_addr(map), dma_iova_addr(meta));
	KUNIT_ASSERT_EQ(test, segs_get(test, meta, &nvme_like, segs, 4,
				       64 + PAGE_SIZE + 128), 1);
	expect_dma_to_phys(test, env, segs[0].addr, mphys[0], 64);
	expect_dma_to_phys(test, env, segs[0].addr + 64, m2, PAGE_SIZE);
	expect_dma_to_phys(test, env, segs[0].addr + 64 + PAGE_SIZE, m3,
			   128);
	KUNIT_ASSERT_EQ(test, segs_get(test, map, &nvme_like, segs, 4, len), 1);
	expect_dma_to_phys(test, env, segs[0].addr, d, len);
}

/*
 * One request mixing host pages, P2P memory reached by bus address (the
 * NVMe CMB behind the same switch as edu1) and P2P memory reached through
 * the host bridge (the NVMe CMB on the root complex): host and host-bridge
 * chunks share the IOVA, the bus-address chunk is a segment of its own.
 */
static void blk_dma_mixed_chunk_types_in_one_request(struct kunit *test)
{
	struct iova_env *env = env_get(test, 1);
	struct iova_env *root = env_get(test, 0);
	struct p2p_buf *bus = p2p_get(test, env->edu.pdev, PAGE_SIZE);
	struct p2p_buf *hb = p2p_get(test, root->edu.pdev, PAGE_SIZE);
	phys_addr_t h1 = pages_get(test, 0, 0), h2 = pages_get(test, 0, 0);
	phys_addr_t phys[] = { h1, virt_to_phys(bus->va), virt_to_phys(hb->va),
			       h2 };
	unsigned int len[] = { PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, SZ_2K };
	struct request *rq = rq_make(test, phys, len, 4);
	struct dma_iova_mapping *map = map_state(test);
	struct dma_iova_seg segs[4];
	unsigned int i;

	p2p_need_host_bridge(test, hb->pdev, env_dev(env));

	assert_blk_ok(test, blk_rq_dma_map(rq, env_dev(env), map, NULL, 0));
	KUNIT_ASSERT_EQ(test, dma_iova_nr_chunks(map), 4);
	/* Four runs: the host chunks cannot join across the P2P ones. */
	KUNIT_EXPECT_EQ(test, dma_iova_find_chunk(map, 0)->type,
			DMA_CHUNK_HOST);
	KUNIT_EXPECT_EQ(test, dma_iova_find_chunk(map, PAGE_SIZE)->type,
			DMA_CHUNK_P2P_BUS);
	KUNIT_EXPECT_EQ(test, dma_iova_find_chunk(map, 2 * PAGE_SIZE)->type,
			DMA_CHUNK_P2P_HOST_BRIDGE);
	/* its unaligned end bounces on an untrusted device */
	KUNIT_EXPECT_EQ(test, dma_iova_find_chunk(map, 3 * PAGE_SIZE)->type,
			untrusted_run ? DMA_CHUNK_BOUNCE : DMA_CHUNK_HOST);
	KUNIT_ASSERT_EQ(test, segs_get(test, map, &nvme_like, segs, 4,
				       3 * PAGE_SIZE + SZ_2K), 3);
	expect_dma_to_phys(test, env, segs[0].addr, h1, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, segs[1].addr,
			pci_p2pmem_virt_to_bus(bus->pdev, bus->va));
	KUNIT_EXPECT_EQ(test, segs[1].len, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, segs[2].len, PAGE_SIZE + SZ_2K);
	expect_dma_to_phys(test, env, segs[2].addr, phys[2], PAGE_SIZE);
	expect_dma_to_phys(test, env, segs[2].addr + PAGE_SIZE, h2, SZ_2K);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_NE(test, segs[i].addr, DMA_MAPPING_ERROR);
}

/*
 * Upstream bug B1: the state is initialised on every path. A state full of
 * garbage whose mapping fails is left not live (destroy is a no-op, nothing
 * leaks), and the same state then maps the next request correctly.
 */
static void blk_dma_b1_failed_map_leaves_no_stale_state(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	phys_addr_t p = pages_get(test, 0, 0);
	unsigned int len = PAGE_SIZE;
	struct request *rq = rq_make(test, &p, &len, 1);
	struct dma_iova_mapping *map = map_state(test);
	unsigned int live = dma_iova_debug_live_states(NULL);
	blk_status_t sts;
	struct dma_iova_seg seg;

	memset(map, 0xa5, sizeof(*map));
	rq->bio->bi_iter.bi_size = 0;	/* empty payload: refused */
	sts = blk_rq_dma_map(rq, env_dev(env), map, NULL, 0);
	KUNIT_EXPECT_EQ(test, blk_status_to_errno(sts), -EINVAL);
	KUNIT_EXPECT_FALSE(test, dma_iova_is_live(map));
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(map), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_debug_live_states(NULL), live);
	dma_destroy_iova(map);

	rq->bio->bi_iter.bi_size = len;
	assert_blk_ok(test, blk_rq_dma_map(rq, env_dev(env), map, NULL, 0));
	KUNIT_ASSERT_EQ(test, segs_get(test, map, &nvme_like, &seg, 1, len), 1);
	expect_dma_to_phys(test, env, seg.addr, p, len);
}

/*
 * Upstream bug B2: a link failing part-way through a request unlinks what
 * was linked and frees the IOVA. Each lower-layer call of a three-chunk
 * request fails in turn: the status is an error, nothing of the request
 * stays in the page tables, and the IOVA range goes back to the allocator.
 */
static void blk_dma_b2_failure_anywhere_unwinds_all(struct kunit *test)
{
#ifdef CONFIG_FAULT_INJECTION
	struct iova_env *env = env_get(test, 0);
	unsigned int len[] = { SZ_2K, PAGE_SIZE, SZ_1K };
	struct dma_iova_mapping *map = map_state(test);
	unsigned int k, live = dma_iova_debug_live_states(NULL);
	phys_addr_t phys[3];
	struct request *rq;
	struct blk_dma_stats before, after;
	dma_addr_t addr;
	blk_status_t sts;

	scattered_pages(test, phys, 3);
	phys[0] += SZ_2K;
	rq = rq_make(test, phys, len, 3);

	/* Where the request lands when nothing fails. */
	assert_blk_ok(test, blk_rq_dma_map(rq, env_dev(env), map, NULL, 0));
	addr = dma_iova_addr(map);
	dma_destroy_iova(map);

	for (k = 1; k < 16; k++) {
		blk_dma_read_stats(&before);
		fault_arm(k);
		sts = blk_rq_dma_map(rq, env_dev(env), map, NULL, 0);
		if (!fault_disarm()) {
			/* k is past the last call: the whole request mapped. */
			KUNIT_EXPECT_EQ(test, blk_status_to_errno(sts), 0);
			dma_destroy_iova(map);
			break;
		}
		blk_dma_read_stats(&after);
		KUNIT_EXPECT_NE_MSG(test, blk_status_to_errno(sts), 0, "call %u", k);
		KUNIT_EXPECT_FALSE_MSG(test, dma_iova_is_live(map), "call %u", k);
		KUNIT_EXPECT_EQ(test, after.failures - before.failures, 1);
		expect_unmapped(test, env->domain, addr, 3 * PAGE_SIZE);
		expect_iova_released(test, env_dev(env), addr, 3 * PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, dma_iova_debug_live_states(NULL), live);
	}
	/* IOVA alloc, three maps and the commit sync: the record is in @map */
	KUNIT_EXPECT_GE(test, k, 6);
	KUNIT_EXPECT_LT(test, k, 16);
#else
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION for fail_dma_iova");
#endif
}

/*
 * Without an IOMMU (a device on dma-direct) the same call maps each run on
 * its own: one segment per discontiguous run, at the run's DMA address.
 */
static void blk_dma_no_iommu_maps_per_run(struct kunit *test)
{
	struct device *dev = direct_dev_get(test, "blk_dma_direct");
	unsigned int len[] = { PAGE_SIZE - SZ_1K, SZ_2K };
	struct blk_dma_stats before, after;
	struct dma_iova_mapping *map;
	struct dma_iova_seg segs[4];
	phys_addr_t phys[2];
	struct request *rq;
	unsigned int i, n;

	/* Like nvme-pci: swiotlb keeps offsets within a controller page. */
	dev->dma_parms = kunit_kzalloc(test, sizeof(*dev->dma_parms),
				       GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dev->dma_parms);
	dma_set_min_align_mask(dev, SZ_4K - 1);
	map = map_state(test);		/* destroyed before dma_parms goes */
	scattered_pages(test, phys, 2);
	phys[0] += SZ_1K;
	for (i = 0; i < 2; i++)
		memset(phys_to_virt(phys[i]), 0x41 + i, len[i]);
	rq = rq_make(test, phys, len, 2);

	blk_dma_read_stats(&before);
	assert_blk_ok(test, blk_rq_dma_map(rq, dev, map, NULL, 0));
	blk_dma_read_stats(&after);
	KUNIT_EXPECT_FALSE(test, dma_iova_uses_iommu(map));
	KUNIT_EXPECT_EQ(test, after.direct_maps - before.direct_maps, 1);
	KUNIT_ASSERT_EQ(test, dma_iova_nr_chunks(map), 2);
	for (i = 0; i < 2; i++) {
		dma_addr_t dma = dma_iova_find_chunk(map, i ? len[0] : 0)->dma_addr;
		u8 *seen = phys_to_virt(dma_to_phys(dev, dma));

		/* swiotlb=force bounces: the data moves, the offset stays. */
		KUNIT_EXPECT_EQ(test, dma & (SZ_4K - 1),
				offset_in_page(phys[i]));
		KUNIT_EXPECT_TRUE(test, seen[0] == 0x41 + i &&
				  seen[len[i] - 1] == 0x41 + i);
	}
	/* Bounce slots may happen to be adjacent and merge. */
	n = segs_get(test, map, &nvme_like, segs, 4, len[0] + len[1]);
	KUNIT_EXPECT_GE(test, n, 1);
	KUNIT_EXPECT_LE(test, n, 2);
	KUNIT_EXPECT_EQ(test, segs[0].addr, dma_iova_find_chunk(map, 0)->dma_addr);
}

/*
 * Run storage from the caller (a driver's mempool) is used as given: four
 * scattered pages are one run, written there.
 */
static void blk_dma_uses_caller_chunk_storage(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct dma_iova_chunk *store = kunit_kcalloc(test, 8, sizeof(*store),
						     GFP_KERNEL);
	phys_addr_t phys[4];
	unsigned int len[4], i;
	struct request *rq;
	struct dma_iova_mapping *map = map_state(test);
	struct dma_iova_seg seg;

	KUNIT_ASSERT_NOT_NULL(test, store);
	scattered_pages(test, phys, 4);
	for (i = 0; i < 4; i++)
		len[i] = PAGE_SIZE;
	rq = rq_make(test, phys, len, 4);
	assert_blk_ok(test, blk_rq_dma_map(rq, env_dev(env), map, store, 8));
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(map), 4);
	KUNIT_EXPECT_EQ(test, store[0].size, 4 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, store[0].type, DMA_CHUNK_HOST);
	KUNIT_EXPECT_PTR_EQ(test, dma_iova_find_chunk(map, 0),
			    (const struct dma_iova_chunk *)store);
	KUNIT_ASSERT_EQ(test, segs_get(test, map, &nvme_like, &seg, 1,
				       4 * PAGE_SIZE), 1);
	for (i = 0; i < 4; i++)
		expect_dma_to_phys(test, env, seg.addr + i * PAGE_SIZE,
				   phys[i], PAGE_SIZE);
}

static struct kunit_case blk_dma_test_cases[] = {
	KUNIT_CASE(blk_dma_single_bvec_is_one_segment),
	KUNIT_CASE(blk_dma_boundary_pages_are_one_segment),
	KUNIT_CASE(blk_dma_gaps_start_segments),
	KUNIT_CASE(blk_dma_chained_batches_end_mid_granule),
	KUNIT_CASE_PARAM(blk_dma_segments_should_respect_limits,
			 split_gen_params),
	KUNIT_CASE(blk_dma_integrity_payload_is_one_segment),
	KUNIT_CASE(blk_dma_mixed_chunk_types_in_one_request),
	KUNIT_CASE(blk_dma_b1_failed_map_leaves_no_stale_state),
	KUNIT_CASE(blk_dma_b2_failure_anywhere_unwinds_all),
	KUNIT_CASE(blk_dma_no_iommu_maps_per_run),
	KUNIT_CASE(blk_dma_uses_caller_chunk_storage),
	{}
};

static struct kunit_suite blk_dma_test_suite = {
	.name = "blk_dma",
	.test_cases = blk_dma_test_cases,
};

/* ---- blk_dma_nvme: real I/O through nvme-pci ---------------------------- */

#define NVME_DATA_MB	512	/* nvme0n1: plain namespace on the root bus */
#define NVME_PI_MB	64	/* nvme0n2: 8 bytes of T10 PI per block */

struct disk_want {
	sector_t min_sectors;
	sector_t max_sectors;
	bool pi;
};

static int disk_match(struct device *dev, const void *data)
{
	const struct disk_want *want = data;
	struct gendisk *disk;

	if (dev->type != &disk_type)
		return 0;
	disk = dev_to_disk(dev);
	if (disk->flags & GENHD_FL_HIDDEN || strncmp(disk->disk_name, "nvme", 4))
		return 0;
	return get_capacity(disk) >= want->min_sectors &&
	       get_capacity(disk) <= want->max_sectors &&
	       !!blk_get_integrity(disk) == want->pi;
}

static void bdev_file_close(void *f)
{
	fput(f);
}

/*
 * The namespace our QEMU configuration gives a size of @mb MiB (and PI
 * metadata if @pi), opened for reading and writing. Namespaces are scanned
 * asynchronously after the controllers probe: wait for it.
 */
static struct block_device *nvme_disk(struct kunit *test, unsigned int mb,
				      bool pi)
{
	struct disk_want want = {
		.min_sectors = ((sector_t)mb << 11) - 2048 * 8,
		.max_sectors = (sector_t)mb << 11,
		.pi = pi,
	};
	struct device *dev = NULL;
	struct file *f;
	unsigned int tries;

	for (tries = 0; tries < 300 && !dev; tries++) {
		dev = class_find_device(&block_class, NULL, &want, disk_match);
		if (!dev)
			msleep(100);
	}
	KUNIT_ASSERT_NOT_NULL_MSG(test, dev, "no %u MiB NVMe namespace%s", mb,
				  pi ? " with PI" : "");
	f = bdev_file_open_by_dev(dev->devt, BLK_OPEN_READ | BLK_OPEN_WRITE,
				  NULL, NULL);
	put_device(dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, bdev_file_close,
							f), 0);
	return file_bdev(f);
}

/* Synchronous I/O of one bio made of @nr (phys, len) pieces. */
static int disk_rw(struct block_device *bdev, blk_opf_t op, sector_t sector,
		   const phys_addr_t *phys, const unsigned int *len,
		   unsigned int nr)
{
	struct bio *bio = bio_alloc(bdev, nr, op, GFP_KERNEL);
	unsigned int i;
	int ret;

	if (!bio)
		return -ENOMEM;
	bio->bi_iter.bi_sector = sector;
	for (i = 0; i < nr; i++)
		__bio_add_page(bio, pfn_to_page(PHYS_PFN(phys[i])), len[i],
			       offset_in_page(phys[i]));
	ret = submit_bio_wait(bio);
	bio_put(bio);
	return ret;
}

static void fill(phys_addr_t phys, unsigned int len, u32 seed, bool io)
{
	unsigned int i;

	for (i = 0; i < len; i++) {
		u8 v = (i * 31 + seed * 7 + (i >> 8)) & 0xff;

		if (io)
			iowrite8(v, (void __iomem *)phys_to_virt(phys) + i);
		else
			((u8 *)phys_to_virt(phys))[i] = v;
	}
}

static bool same(phys_addr_t a, phys_addr_t b, unsigned int len, bool a_io)
{
	u8 buf[64];
	unsigned int i;

	for (i = 0; i < len; i += sizeof(buf)) {
		unsigned int n = min_t(unsigned int, sizeof(buf), len - i);

		if (a_io)
			memcpy_fromio(buf, (void __iomem *)phys_to_virt(a) + i,
				      n);
		else
			memcpy(buf, phys_to_virt(a) + i, n);
		if (memcmp(buf, phys_to_virt(b) + i, n))
			return false;
	}
	return true;
}

/*
 * Write @src pieces (P2P pieces marked in @io) to the disk in one request,
 * read them back into fresh host pages in one request, compare.
 */
static void roundtrip(struct kunit *test, struct block_device *bdev,
		      sector_t sector, const phys_addr_t *src,
		      const unsigned int *len, const bool *io, unsigned int nr)
{
	phys_addr_t dst[9];
	struct blk_dma_stats before, after;
	unsigned int i;

	KUNIT_ASSERT_LE(test, nr, ARRAY_SIZE(dst));
	for (i = 0; i < nr; i++) {
		fill(src[i], len[i], sector + i, io[i]);
		dst[i] = pages_get(test, 1, 0) + offset_in_page(src[i]);
	}
	blk_dma_read_stats(&before);
	KUNIT_ASSERT_EQ(test, disk_rw(bdev, REQ_OP_WRITE | REQ_FUA, sector,
				      src, len, nr), 0);
	KUNIT_ASSERT_EQ(test, disk_rw(bdev, REQ_OP_READ, sector, dst, len, nr),
			0);
	blk_dma_read_stats(&after);
	/*
	 * Both requests had several segments: blk-dma mapped them, into one
	 * IOVA, or run by run on a direct-mapped boot (iommu.passthrough=1).
	 */
	if (iommu_default_passthrough())
		KUNIT_EXPECT_GE(test, after.direct_maps - before.direct_maps, 2);
	else
		KUNIT_EXPECT_GE(test, after.iova_maps - before.iova_maps, 2);
	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_TRUE_MSG(test, same(src[i], dst[i], len[i], io[i]),
				      "piece %u differs after the round trip",
				      i);
}

#ifdef CONFIG_FAULT_INJECTION
static void pressure_off(void *unused)
{
	fail_dma_iova.probability = 0;
	atomic_set(&fail_dma_iova.times, 0);
}

/*
 * Memory pressure where nvme-pci allocates per I/O: a third of the
 * two-step API's calls that allocate (the IOVA, each map, where the IOMMU
 * driver allocates page tables, and the commit) fail, in
 * whatever task submits or requeues. Every request still completes and
 * reads back what was written: nvme-pci answers BLK_STS_RESOURCE, blk-mq
 * requeues, and with an IOMMU there is no per-I/O pool element to wait
 * for (6.12 needed an order-2 one here).
 */
static void blk_dma_nvme_memory_pressure_should_not_livelock(struct kunit *test)
{
	struct block_device *bdev = nvme_disk(test, NVME_DATA_MB, false);
	unsigned int len[] = { SZ_4K, SZ_8K, SZ_2K, SZ_4K };
	bool io[4] = {};
	int failed, i;

	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pressure_off,
							NULL), 0);
	fail_dma_iova.verbose = 0;
	fail_dma_iova.interval = 1;
	fail_dma_iova.task_filter = false;
	atomic_set(&fail_dma_iova.times, 100000);
	fail_dma_iova.probability = 33;

	for (i = 0; i < 16; i++) {
		phys_addr_t src[] = { pages_get(test, 0, 0),
				      pages_get(test, 1, 0),
				      pages_get(test, 0, 0) + SZ_2K,
				      pages_get(test, 0, 0) };

		roundtrip(test, bdev, 8192 + 64 * i, src, len, io, 4);
	}
	failed = 100000 - atomic_read(&fail_dma_iova.times);
	kunit_release_action(test, pressure_off, NULL);
	kunit_info(test, "16 round trips under pressure: %d calls failed\n",
		   failed);
	/*
	 * Each request makes about five such calls through an IOMMU (the
	 * IOVA, the maps, the sync), failing a third of them. Direct-mapped
	 * it makes none: the record sits in the mapping, the runs in 6.12's
	 * mempool element, and dma-direct is not ours to fail.
	 */
	if (iommu_default_passthrough())
		KUNIT_EXPECT_EQ(test, failed, 0);
	else
		KUNIT_EXPECT_GT(test, failed, 32);
}
#else
static void blk_dma_nvme_memory_pressure_should_not_livelock(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}
#endif

/* @size bytes of CMB of the NVMe next to edu @nth (see p2p_get()). */
static struct p2p_buf *cmb_near_edu(struct kunit *test, unsigned int nth,
				    size_t size)
{
	struct pci_dev *edu = edu_find(nth);
	struct p2p_buf *cmb;

	KUNIT_ASSERT_NOT_NULL(test, edu);
	cmb = p2p_get(test, edu, size);
	pci_dev_put(edu);
	return cmb;
}

/* Discontiguous host pages, unaligned start and end, through one IOVA. */
static void blk_dma_nvme_host_pages_roundtrip(struct kunit *test)
{
	struct block_device *bdev = nvme_disk(test, NVME_DATA_MB, false);
	phys_addr_t src[] = { pages_get(test, 0, 0) + SZ_2K,
			      pages_get(test, 0, 0), pages_get(test, 1, 0),
			      pages_get(test, 0, 0) };
	unsigned int len[] = { SZ_2K, SZ_4K, SZ_8K, SZ_1K };
	bool io[4] = {};

	roundtrip(test, bdev, 2048, src, len, io, 4);
}

/*
 * Nine 4 KiB pieces at in-page offsets 0, 4 KiB ... 32 KiB, as preadv() of
 * nine iovecs with O_DIRECT makes them: with 64 KiB pages the IOMMU granule
 * is above the queue's 4 KiB virtual boundary, so runs end mid-granule and
 * blk-dma's batches of dma_link_bvecs() calls chain there (issue 27,
 * defect 2). With 4 KiB pages every piece is page-aligned.
 */
static void blk_dma_nvme_odd_offsets_roundtrip(struct kunit *test)
{
	struct block_device *bdev = nvme_disk(test, NVME_DATA_MB, false);
	unsigned int len[9], i;
	phys_addr_t src[9];
	bool io[9] = {};

	for (i = 0; i < 9; i++) {
		src[i] = pages_get(test, 0, 0) + (i * SZ_4K) % PAGE_SIZE;
		len[i] = SZ_4K;
	}
	roundtrip(test, bdev, 16384, src, len, io, 9);
}

/*
 * The other controller's CMB is reached through the host bridge: it sits
 * in the request's IOVA and nvme0 moves the data through the IOMMU.
 */
static void blk_dma_nvme_p2p_host_bridge_roundtrip(struct kunit *test)
{
	struct block_device *bdev = nvme_disk(test, NVME_DATA_MB, false);
	struct p2p_buf *cmb = cmb_near_edu(test, 1, SZ_8K);	/* nvme1 */
	struct pci_dev *edu0 = edu_find(0);
	phys_addr_t src[] = { pages_get(test, 0, 0), virt_to_phys(cmb->va),
			      pages_get(test, 0, 0) };
	unsigned int len[] = { SZ_4K, SZ_8K, SZ_4K };
	bool io[] = { false, true, false };

	/* nvme0 sits on the root complex beside edu0: the same path */
	KUNIT_ASSERT_NOT_NULL(test, edu0);
	pci_dev_put(edu0);	/* edu devices stay for good */
	p2p_need_host_bridge(test, cmb->pdev, &edu0->dev);

	roundtrip(test, bdev, 4096, src, len, io, 3);
}

/*
 * The controller's own CMB is reached by bus address: segments outside the
 * IOVA, which QEMU serves from the CMB directly. QEMU refuses commands that
 * mix CMB and host addresses (Invalid Use of Controller Memory Buffer), so
 * this request is CMB only; the mixed case is covered by
 * blk_dma_mixed_chunk_types_in_one_request.
 */
static void blk_dma_nvme_p2p_bus_addr_roundtrip(struct kunit *test)
{
	struct block_device *bdev = nvme_disk(test, NVME_DATA_MB, false);
	struct p2p_buf *cmb = cmb_near_edu(test, 0, SZ_16K);	/* nvme0 */
	phys_addr_t src[] = { virt_to_phys(cmb->va) + SZ_8K,
			      virt_to_phys(cmb->va) };
	unsigned int len[] = { SZ_4K, SZ_4K + SZ_2K };
	bool io[] = { true, true };

	roundtrip(test, bdev, 6144, src, len, io, 2);
}

/*
 * A PI namespace: the block layer generates guard tags into an integrity
 * payload that nvme-pci maps through blk-dma; QEMU checks every guard on
 * write and the block layer checks them on read.
 */
static void blk_dma_nvme_metadata_roundtrip(struct kunit *test)
{
	struct block_device *bdev = nvme_disk(test, NVME_PI_MB, true);
	phys_addr_t src[] = { pages_get(test, 0, 0), pages_get(test, 1, 0),
			      pages_get(test, 0, 0) };
	unsigned int len[] = { SZ_4K, SZ_8K, SZ_4K };
	bool io[3] = {};
	struct blk_dma_stats before, after;

	blk_dma_read_stats(&before);
	roundtrip(test, bdev, 1024, src, len, io, 3);
	blk_dma_read_stats(&after);
	KUNIT_EXPECT_GE(test, after.integrity_maps - before.integrity_maps, 2);
}

static struct kunit_case blk_dma_nvme_test_cases[] = {
	KUNIT_CASE(blk_dma_nvme_host_pages_roundtrip),
	KUNIT_CASE(blk_dma_nvme_odd_offsets_roundtrip),
	KUNIT_CASE(blk_dma_nvme_p2p_host_bridge_roundtrip),
	KUNIT_CASE(blk_dma_nvme_p2p_bus_addr_roundtrip),
	KUNIT_CASE(blk_dma_nvme_metadata_roundtrip),
	KUNIT_CASE(blk_dma_nvme_memory_pressure_should_not_livelock),
	{}
};

/* With blk_dma_kunit.untrusted=1 the controllers are untrusted too. */
static int blk_dma_nvme_suite_init(struct kunit_suite *suite)
{
	struct pci_dev *pdev = NULL;

	for_each_pci_dev(pdev)
		if (pdev->class == PCI_CLASS_STORAGE_EXPRESS)
			pdev->untrusted = untrusted_run;
	return 0;
}

static struct kunit_suite blk_dma_nvme_test_suite = {
	.name = "blk_dma_nvme",
	.suite_init = blk_dma_nvme_suite_init,
	.test_cases = blk_dma_nvme_test_cases,
};

kunit_test_suites(&blk_dma_test_suite, &blk_dma_nvme_test_suite);

MODULE_DESCRIPTION("KUnit tests for blk-dma");
MODULE_LICENSE("GPL");
