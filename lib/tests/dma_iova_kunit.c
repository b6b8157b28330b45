// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite for the two-step IOVA DMA mapping API, run against real PCI
 * devices behind an emulated IOMMU (VT-d, AMD-Vi, virtio-iommu or SMMUv3):
 * QEMU's edu DMA engines as clients, NVMe controller memory buffers as P2P
 * providers, on the root complex and behind a PCIe switch. Chunks are laid
 * out in pages: the IOMMU granule is the page on every machine the suites
 * run on (4 KiB, or 64 KiB on arm64 with 64 KiB pages).
 *
 * Every mapping is checked in the IOMMU page tables with
 * iommu_iova_to_phys(), and data is moved by the edu DMA engine through it.
 * A case that needs the IOMMU skips on a device that is direct-mapped
 * (iommu.passthrough=1), and fails where one should translate (the runner
 * allows that skip only on the passthrough boot); dma_iova_any_path moves
 * data on every path, that boot's direct one included.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <asm/sections.h>
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/debugfs.h>
#include <linux/dma-direct.h>
#include <linux/dma-iova.h>
#include <linux/dma-map-ops.h>
#include <linux/fault-inject.h>
#include <linux/hmm-dma.h>
#include <linux/iommu.h>
#include <linux/iommu-dma.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/nvme.h>
#include <linux/pci-p2pdma.h>
#include <linux/random.h>
#include <linux/sizes.h>
#include <linux/sort.h>
#include <linux/swiotlb.h>

#include "../../kernel/dma/iova_debug.h"
#include "dma_iova_debug_cases.h"
#include "dma_iova_edu.h"
#include "dma_iova_kunit.h"
#include "kmemleak_check.h"

struct align_case {
	const char *desc;
	size_t size;
	size_t align;
};

static const struct align_case align_cases[] = {
	{ "4K size, granule", SZ_4K, 0 },
	{ "12K size, 2M align", 3 * SZ_4K, SZ_2M },
	{ "1M+4K size, 2M align", SZ_1M + SZ_4K, SZ_2M },
	{ "3M size, 2M align", 3 * SZ_1M, SZ_2M },
	{ "5 bytes, 64K align", 5, SZ_64K },
	{ "16M size, 1M align", SZ_16M, SZ_1M },
};

KUNIT_ARRAY_PARAM_DESC(align, align_cases, desc);

/* The range honours the requested alignment exactly (upstream bug B6). */
static void dma_iova_alloc_should_honour_alignment(struct kunit *test)
{
	const struct align_case *p = test->param_value;
	struct iova_env *env = env_get(test, 0);
	struct dma_iova_mapping map;

	KUNIT_ASSERT_EQ(test, dma_alloc_iova(env_dev(env), &map, p->size,
					     p->align, GFP_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, dma_iova_uses_iommu(&map));
	KUNIT_EXPECT_NE(test, dma_iova_addr(&map), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_addr(&map) & (max_t(size_t, p->align, PAGE_SIZE) - 1),
			0);
	KUNIT_EXPECT_GE(test, dma_iova_reserved_len(&map), p->size);
	KUNIT_EXPECT_LE(test, dma_iova_addr(&map) + dma_iova_reserved_len(&map) - 1,
			DMA_BIT_MASK(EDU_DMA_BITS));
	KUNIT_EXPECT_EQ(test, dma_free_iova(&map), 0);
	KUNIT_EXPECT_FALSE(test, dma_iova_is_live(&map));
}

/* Bad input is refused and leaves a state that is safe to destroy. */
static void dma_iova_alloc_should_reject_bad_input(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct device *dev = env_dev(env);
	struct dma_iova_mapping map;

	memset(&map, 0xa5, sizeof(map));
	KUNIT_EXPECT_EQ(test, dma_alloc_iova(dev, &map, 0, 0, GFP_KERNEL),
			-EINVAL);
	KUNIT_EXPECT_FALSE(test, dma_iova_is_live(&map));
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(&map), 0);
	dma_destroy_iova(&map);

	KUNIT_EXPECT_EQ(test, dma_alloc_iova(dev, &map, PAGE_SIZE, 3 * PAGE_SIZE,
					     GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_alloc_iova(NULL, &map, PAGE_SIZE, 0, GFP_KERNEL),
			-EINVAL);
	/* Larger than the 28-bit DMA mask can ever address. */
	KUNIT_EXPECT_EQ(test, dma_alloc_iova(dev, &map, SZ_512M, 0, GFP_KERNEL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, dma_alloc_iova(dev, &map, SIZE_MAX, 0, GFP_KERNEL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, dma_alloc_iova(dev, &map, (size_t)1 << 63, 0,
					     GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_FALSE(test, dma_iova_is_live(&map));
	KUNIT_EXPECT_EQ(test, dma_link_range(&map, 0, 0, PAGE_SIZE, DMA_TO_DEVICE,
					     0), -EINVAL);
	dma_destroy_iova(&map);
}

/*
 * Three chunks from separate pages, the first starting mid-granule, become
 * one IOVA range: every byte resolves to its page, and after destroy none
 * does and the IOVA goes back to the allocator.
 */
static void dma_iova_link_should_resolve_every_byte(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct dma_iova_mapping *map = map_alloc(test, env_dev(env), 16 * PAGE_SIZE);
	phys_addr_t a = pages_get(test, 0, 0), b = pages_get(test, 1, 0);
	phys_addr_t c = pages_get(test, 0, 0);
	struct dma_iova_iter iter;
	struct dma_iova_seg seg;
	dma_addr_t addr = dma_iova_addr(map);
	unsigned int nsegs = 0;

	KUNIT_ASSERT_EQ(test, dma_link_range(map, 0x800, a + 0x800,
					     PAGE_SIZE - 0x800,
					     DMA_BIDIRECTIONAL, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(map, PAGE_SIZE, b, 2 * PAGE_SIZE,
					     DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(map, 3 * PAGE_SIZE, c, 0x234,
					     DMA_FROM_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(map), 3);
	KUNIT_EXPECT_EQ(test, chunk_at(map, PAGE_SIZE)->type, DMA_CHUNK_HOST);
	KUNIT_EXPECT_EQ(test, chunk_at(map, PAGE_SIZE)->dir, DMA_TO_DEVICE);

	expect_resolves(test, env->domain, map, 0x800, a + 0x800,
			PAGE_SIZE - 0x800);
	expect_resolves(test, env->domain, map, PAGE_SIZE, b, 2 * PAGE_SIZE);
	expect_resolves(test, env->domain, map, 3 * PAGE_SIZE, c, 0x234);
	expect_unmapped(test, env->domain, addr + 4 * PAGE_SIZE, 12 * PAGE_SIZE);

	dma_iova_for_each_seg(map, &iter, &seg) {
		KUNIT_EXPECT_EQ(test, seg.addr, addr + 0x800);
		KUNIT_EXPECT_EQ(test, seg.len, 3 * PAGE_SIZE + 0x234 - 0x800);
		nsegs++;
	}
	KUNIT_EXPECT_EQ(test, nsegs, 1);

	dma_destroy_iova(map);
	KUNIT_EXPECT_FALSE(test, dma_iova_is_live(map));
	expect_unmapped(test, env->domain, addr, 16 * PAGE_SIZE);
	expect_iova_released(test, env_dev(env), addr, 16 * PAGE_SIZE);
}

/*
 * The edu engine reads 4 KiB that straddle two unrelated pages through one
 * IOVA and writes them to a third page: the bytes must arrive intact.
 */
static void dma_iova_edu_should_copy_through_iova(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct dma_iova_mapping *map = map_alloc(test, env_dev(env), 4 * PAGE_SIZE);
	phys_addr_t a = pages_get(test, 0, 0), b = pages_get(test, 0, 0);
	phys_addr_t dst = pages_get(test, 0, 0x5a);
	u8 *va = phys_to_virt(a), *vb = phys_to_virt(b), *vd;
	unsigned int i;

	for (i = 0; i < SZ_2K; i++) {
		va[PAGE_SIZE - SZ_2K + i] = i * 7 + 1;
		vb[i] = i * 13 + 3;
	}
	KUNIT_ASSERT_EQ(test, dma_link_range(map, PAGE_SIZE - SZ_2K,
					     a + PAGE_SIZE - SZ_2K, SZ_2K,
					     DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(map, PAGE_SIZE, b, SZ_2K,
					     DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(map, 2 * PAGE_SIZE, dst, PAGE_SIZE,
					     DMA_FROM_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);

	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu,
				       dma_iova_addr(map) + PAGE_SIZE - SZ_2K,
				       dma_iova_addr(map) + 2 * PAGE_SIZE, SZ_4K), 0);
	dma_iova_sync_for_cpu(map, 2 * PAGE_SIZE, SZ_4K);

	vd = phys_to_virt(dst);
	for (i = 0; i < SZ_4K; i++) {
		u8 want = i < SZ_2K ? va[PAGE_SIZE - SZ_2K + i] : vb[i - SZ_2K];

		if (vd[i] != want) {
			KUNIT_FAIL(test, "byte %u: %02x, want %02x", i, vd[i],
				   want);
			break;
		}
	}
}

/*
 * dma_link_bvecs() links 16 scattered pages, the first one starting
 * mid-page, as one run: one segment, every byte in the page tables, the
 * device copies across all of them. Unlinking pages in the middle leaves
 * holes the device cannot reach and the rest mapped; linking them again
 * makes one run again.
 */
static void dma_iova_link_bvecs_should_make_one_run(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct dma_iova_mapping *map = map_alloc(test, env_dev(env),
						 32 * PAGE_SIZE);
	phys_addr_t dst = pages_get(test, 4, 0);
	struct dma_iova_range holes[] = {
		{ .offset = 3 * PAGE_SIZE, .size = PAGE_SIZE },
		{ .offset = 7 * PAGE_SIZE, .size = 3 * PAGE_SIZE },
	};
	struct bio_vec bv[16];
	phys_addr_t pg[16];
	struct dma_iova_seg seg;
	size_t off = 0x400;
	unsigned int i, k;

	need_trusted(test);

	/* First halves of order-1 blocks: no two pages are adjacent. */
	for (i = 0; i < 16; i++) {
		pg[i] = pages_get(test, 1, 0);
		memset(phys_to_virt(pg[i]), 0x10 + i, PAGE_SIZE);
		bvec_set_page(&bv[i], pfn_to_page(PHYS_PFN(pg[i])),
			      i ? PAGE_SIZE : PAGE_SIZE - 0x400, i ? 0 : 0x400);
	}
	KUNIT_ASSERT_EQ(test, dma_link_bvecs(map, &off, bv, 16, DMA_TO_DEVICE,
					     0), 0);
	KUNIT_EXPECT_EQ(test, off, 16 * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(map), 16);
	KUNIT_ASSERT_EQ(test, nr_segs(map, &seg), 1);
	KUNIT_EXPECT_EQ(test, seg.addr, dma_iova_addr(map) + 0x400);
	KUNIT_EXPECT_EQ(test, chunk_at(map, 0x400)->size, 16 * PAGE_SIZE - 0x400);
	KUNIT_EXPECT_LE(test, dma_iova_record_bytes(map), 512);
	expect_resolves(test, env->domain, map, 0x400, pg[0] + 0x400,
			PAGE_SIZE - 0x400);
	for (i = 1; i < 16; i++)
		expect_resolves(test, env->domain, map, i * PAGE_SIZE, pg[i], PAGE_SIZE);

	/* The device copies 4 KiB across each boundary between two pages. */
	KUNIT_ASSERT_EQ(test, dma_link_range(map, 16 * PAGE_SIZE, dst, 16 * PAGE_SIZE,
					     DMA_FROM_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);
	for (i = 0; i < 15; i++)
		KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, dma_iova_addr(map) +
					       (i + 1) * PAGE_SIZE - SZ_2K,
					       dma_iova_addr(map) + 16 * PAGE_SIZE +
					       i * PAGE_SIZE, SZ_4K), 0);
	dma_iova_sync_for_cpu(map, 16 * PAGE_SIZE, 16 * PAGE_SIZE);
	for (i = 0; i < 15; i++) {
		u8 *d = phys_to_virt(dst) + i * PAGE_SIZE;

		KUNIT_EXPECT_EQ_MSG(test, d[0], 0x10 + i, "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, d[SZ_4K - 1], 0x11 + i, "page %u", i);
	}

	KUNIT_ASSERT_EQ(test, dma_unlink_ranges(map, holes, 2), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(map), 13);
	for (i = 1; i < 16; i++) {
		bool hole = i == 3 || (i >= 7 && i < 10);

		if (hole)
			expect_unmapped(test, env->domain,
					dma_iova_addr(map) + i * PAGE_SIZE, PAGE_SIZE);
		else
			expect_resolves(test, env->domain, map, i * PAGE_SIZE,
					pg[i], PAGE_SIZE);
	}
	KUNIT_EXPECT_NULL(test, dma_iova_find_chunk(map, 8 * PAGE_SIZE));
	/* Three stretches; the destination run follows the last one. */
	KUNIT_EXPECT_EQ(test, nr_segs(map, &seg), 3);
	for (k = 0; k < 2; k++)
		for (i = 0; i < holes[k].size / PAGE_SIZE; i++) {
			unsigned int p = holes[k].offset / PAGE_SIZE + i;

			KUNIT_ASSERT_EQ(test, dma_link_range(map, p * PAGE_SIZE,
							     pg[p], PAGE_SIZE,
							     DMA_TO_DEVICE, 0),
					0);
		}
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);
	KUNIT_EXPECT_EQ(test, nr_segs(map, &seg), 1);
	KUNIT_EXPECT_EQ(test, chunk_at(map, 0x400)->size, 16 * PAGE_SIZE - 0x400);
}

/* Several ranges unlink in one call; bad ranges change nothing. */
static void dma_iova_unlink_ranges_should_be_exact(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct dma_iova_mapping *map = map_alloc(test, env_dev(env), 16 * PAGE_SIZE);
	struct dma_iova_range two[] = {
		{ .offset = 0, .size = PAGE_SIZE },
		{ .offset = 2 * PAGE_SIZE, .size = 2 * PAGE_SIZE },
	};
	struct dma_iova_range split = { .offset = 0, .size = SZ_2K };
	phys_addr_t p[4];
	unsigned int i;

	for (i = 0; i < 4; i++) {
		p[i] = pages_get(test, 0, 0);
		KUNIT_ASSERT_EQ(test, dma_link_range(map, i * PAGE_SIZE, p[i],
						     PAGE_SIZE, DMA_BIDIRECTIONAL,
						     0), 0);
	}
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);

	KUNIT_EXPECT_EQ(test, dma_unlink_ranges(map, &split, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_unlink_range(map, 4 * PAGE_SIZE, PAGE_SIZE), -ENOENT);
	KUNIT_EXPECT_EQ(test, dma_unlink_range(map, 16 * PAGE_SIZE - 1, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(map), 4);
	for (i = 0; i < 4; i++)
		expect_resolves(test, env->domain, map, i * PAGE_SIZE, p[i], PAGE_SIZE);

	KUNIT_ASSERT_EQ(test, dma_unlink_ranges(map, two, ARRAY_SIZE(two)), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(map), 1);
	expect_unmapped(test, env->domain, dma_iova_addr(map), PAGE_SIZE);
	expect_unmapped(test, env->domain, dma_iova_addr(map) + 2 * PAGE_SIZE, 2 * PAGE_SIZE);
	expect_resolves(test, env->domain, map, PAGE_SIZE, p[1], PAGE_SIZE);

	/* The freed range can be linked again. */
	KUNIT_EXPECT_EQ(test, dma_link_range(map, 0, p[3], PAGE_SIZE,
					     DMA_TO_DEVICE, 0), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_commit(map), 0);
	expect_resolves(test, env->domain, map, 0, p[3], PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, dma_free_iova(map), -EBUSY);
}

/* Overlaps, shared granules and offset mismatches are refused. */
static void dma_iova_link_should_reject_misuse(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct dma_iova_mapping *map = map_alloc(test, env_dev(env), 4 * PAGE_SIZE);
	phys_addr_t a = pages_get(test, 0, 0), b = pages_get(test, 0, 0);

	KUNIT_ASSERT_EQ(test, dma_link_range(map, 0, a, SZ_2K, DMA_TO_DEVICE,
					     0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);
	/* Same granule as the committed chunk, though not the same bytes. */
	KUNIT_EXPECT_EQ(test, dma_link_range(map, SZ_2K, b + SZ_2K, SZ_2K,
					     DMA_TO_DEVICE, 0), -EEXIST);
	KUNIT_EXPECT_EQ(test, dma_link_range(map, 0, a, SZ_2K, DMA_TO_DEVICE,
					     0), -EEXIST);
	KUNIT_EXPECT_EQ(test, dma_link_range(map, PAGE_SIZE, b + 0x10, SZ_2K,
					     DMA_TO_DEVICE, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_link_range(map, 4 * PAGE_SIZE - SZ_2K, b, PAGE_SIZE,
					     DMA_TO_DEVICE, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_link_range(map, PAGE_SIZE, b, 0, DMA_TO_DEVICE,
					     0), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_link_range(map, PAGE_SIZE, b, PAGE_SIZE,
					     DMA_NONE, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_link_range(map, SIZE_MAX - PAGE_SIZE + 1, b,
					     2 * PAGE_SIZE, DMA_TO_DEVICE, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(map), 1);
	expect_resolves(test, env->domain, map, 0, a, SZ_2K);
	expect_unmapped(test, env->domain, dma_iova_addr(map) + PAGE_SIZE, 3 * PAGE_SIZE);
}

static const unsigned int fail_at[] = { 0, 2, 4 };

static void fail_at_desc(const unsigned int *k, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "fail link %u of 5", *k + 1);
}

KUNIT_ARRAY_PARAM(fail_at, fail_at, fail_at_desc);

/*
 * A failing link (here an overlapping one) at position k of a batch of five
 * unlinks the whole batch; the batch committed before it stays mapped.
 */
static void dma_iova_failed_link_should_unwind_batch(struct kunit *test)
{
	const unsigned int *k = test->param_value;
	struct iova_env *env = env_get(test, 0);
	struct dma_iova_mapping *map = map_alloc(test, env_dev(env), 16 * PAGE_SIZE);
	phys_addr_t keep = pages_get(test, 0, 0), p = pages_get(test, 3, 0);
	unsigned int i;

	KUNIT_ASSERT_EQ(test, dma_link_range(map, 0, keep, PAGE_SIZE,
					     DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);

	for (i = 0; i < 5; i++) {
		size_t off = i == *k ? 0 : 2 * PAGE_SIZE + i * PAGE_SIZE;
		int ret = dma_link_range(map, off, p + (i % 4) * PAGE_SIZE,
					 PAGE_SIZE, DMA_TO_DEVICE, 0);

		if (i == *k) {
			KUNIT_EXPECT_EQ(test, ret, -EEXIST);
			break;
		}
		KUNIT_ASSERT_EQ(test, ret, 0);
	}
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(map), 1);
	KUNIT_EXPECT_TRUE(test, nothing_pending(map));
	expect_unmapped(test, env->domain, dma_iova_addr(map) + PAGE_SIZE, 15 * PAGE_SIZE);
	expect_resolves(test, env->domain, map, 0, keep, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, dma_iova_commit(map), 0);
}

/*
 * CMB memory of the NVMe on the same root complex is reached through the
 * host bridge: it is mapped in the IOVA (as MMIO) and the edu engine writes
 * into it through the IOMMU.
 */
static void dma_iova_p2p_host_bridge_should_map_in_iova(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct p2p_buf *cmb = p2p_get(test, env->edu.pdev, 2 * PAGE_SIZE);
	struct dma_iova_mapping *map = map_alloc(test, env_dev(env), 4 * PAGE_SIZE);
	phys_addr_t src = pages_get(test, 0, 0);
	phys_addr_t cmb_phys = virt_to_phys(cmb->va);

	p2p_need_host_bridge(test, cmb->pdev, env_dev(env));
	const struct dma_iova_chunk *c;
	u8 *s = phys_to_virt(src), got[64];
	unsigned int i;

	for (i = 0; i < PAGE_SIZE; i++)
		s[i] = i ^ 0x3c;
	memset_io((void __iomem *)cmb->va, 0, 2 * PAGE_SIZE);

	KUNIT_ASSERT_EQ(test, dma_link_range(map, 0, src, PAGE_SIZE,
					     DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(map, PAGE_SIZE, cmb_phys, 2 * PAGE_SIZE,
					     DMA_BIDIRECTIONAL, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);
	c = chunk_at(map, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, c->type, DMA_CHUNK_P2P_HOST_BRIDGE);
	KUNIT_EXPECT_EQ(test, c->dma_addr, dma_iova_addr(map) + PAGE_SIZE);
	expect_resolves(test, env->domain, map, PAGE_SIZE, cmb_phys, 2 * PAGE_SIZE);

	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, dma_iova_addr(map),
				       dma_iova_addr(map) + 2 * PAGE_SIZE,
				       PAGE_SIZE), 0);
	for (i = 0; i < PAGE_SIZE; i += sizeof(got)) {
		memcpy_fromio(got, (void __iomem *)cmb->va + PAGE_SIZE + i,
			      sizeof(got));
		if (memcmp(got, s + i, sizeof(got))) {
			KUNIT_FAIL(test, "CMB bytes %u.. differ", i);
			break;
		}
	}
}

/*
 * Behind a common switch the peer is reached by bus address: no IOVA is
 * used, and the iterator yields the bus address as a separate segment.
 */
static void dma_iova_p2p_bus_should_bypass_iova(struct kunit *test)
{
	struct iova_env *env = env_get(test, 1);
	struct p2p_buf *cmb = p2p_get(test, env->edu.pdev, PAGE_SIZE);
	struct dma_iova_mapping *map = map_alloc(test, env_dev(env), 4 * PAGE_SIZE);
	phys_addr_t a = pages_get(test, 0, 0), b = pages_get(test, 0, 0);
	const struct dma_iova_chunk *c;
	struct dma_iova_iter iter;
	struct dma_iova_seg seg[4];
	unsigned int n;

	KUNIT_ASSERT_EQ(test, dma_link_range(map, 0, a, PAGE_SIZE, DMA_TO_DEVICE,
					     0), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(map, PAGE_SIZE, virt_to_phys(cmb->va),
					     PAGE_SIZE, DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(map, 2 * PAGE_SIZE, b, PAGE_SIZE,
					     DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);
	c = chunk_at(map, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, c->type, DMA_CHUNK_P2P_BUS);
	KUNIT_EXPECT_EQ(test, c->dma_addr,
			pci_p2pmem_virt_to_bus(cmb->pdev, cmb->va));
	expect_unmapped(test, env->domain, dma_iova_addr(map) + PAGE_SIZE, PAGE_SIZE);

	dma_iova_iter_init(&iter, map);
	for (n = 0; n < ARRAY_SIZE(seg) && dma_iova_next_seg(&iter, &seg[n]);)
		n++;
	KUNIT_ASSERT_EQ(test, n, 3);
	KUNIT_EXPECT_EQ(test, seg[0].addr, dma_iova_addr(map));
	KUNIT_EXPECT_EQ(test, seg[1].addr, c->dma_addr);
	KUNIT_EXPECT_EQ(test, seg[2].addr, dma_iova_addr(map) + 2 * PAGE_SIZE);

	KUNIT_EXPECT_EQ(test, dma_unlink_range(map, PAGE_SIZE, PAGE_SIZE), 0);
	expect_resolves(test, env->domain, map, 0, a, PAGE_SIZE);
}

/* A device the peer cannot reach gets -EREMOTEIO and nothing mapped. */
static void dma_iova_p2p_unreachable_should_fail(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct p2p_buf *cmb = p2p_get(test, env->edu.pdev, PAGE_SIZE);
	struct device *dev = direct_dev_get(test, "dma_iova_nopci");
	struct dma_iova_mapping map;

	KUNIT_ASSERT_EQ(test, dma_alloc_iova(dev, &map, 2 * PAGE_SIZE, 0, GFP_KERNEL),
			0);
	KUNIT_EXPECT_EQ(test, dma_link_range(&map, 0, virt_to_phys(cmb->va),
					     PAGE_SIZE, DMA_TO_DEVICE, 0),
			-EREMOTEIO);
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(&map), 0);
	KUNIT_EXPECT_EQ(test, dma_free_iova(&map), 0);
}

/* Make edu need swiotlb bouncing for the rest of the test. */
static void make_untrusted(struct kunit *test, struct iova_env *env)
{
	untrusted_set(test, env->edu.pdev, true);
}

/*
 * A device that needs bouncing gets only the unaligned head and tail of a
 * chunk bounced; the aligned middle is mapped in place, and an empty middle
 * (upstream bug B3) is fine. Data the device writes reaches the original
 * buffer on unlink.
 */
static void dma_iova_bounce_should_cover_only_head_and_tail(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct device *dev = env_dev(env);
	struct dma_iova_mapping *map;
	phys_addr_t buf = pages_get(test, 2, 0x11);
	phys_addr_t src = pages_get(test, 0, 0xee);
	const struct dma_iova_chunk *c;
	phys_addr_t head, mid, tail;
	u8 *v = phys_to_virt(buf);
	unsigned int i;

	make_untrusted(test, env);
	KUNIT_ASSERT_TRUE(test, is_swiotlb_active(dev));
	map = map_alloc(test, dev, 16 * PAGE_SIZE);

	/* head PAGE_SIZE - 0x800 + middle PAGE_SIZE + tail 0x800 */
	KUNIT_ASSERT_EQ(test, dma_link_range(map, 0x800, buf + 0x800,
					     2 * PAGE_SIZE, DMA_FROM_DEVICE, 0), 0);
	/* head PAGE_SIZE - 0x800 + tail 0x800, no middle */
	KUNIT_ASSERT_EQ(test, dma_link_range(map, 4 * PAGE_SIZE + 0x800,
					     buf + 2 * PAGE_SIZE + 0x800, PAGE_SIZE,
					     DMA_FROM_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);

	c = chunk_at(map, 0x800);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, c->type, DMA_CHUNK_BOUNCE);
	head = iommu_iova_to_phys(env->domain, dma_iova_addr(map) + 0x800);
	mid = iommu_iova_to_phys(env->domain, dma_iova_addr(map) + PAGE_SIZE);
	tail = iommu_iova_to_phys(env->domain, dma_iova_addr(map) + 2 * PAGE_SIZE);
	KUNIT_EXPECT_NOT_NULL(test, swiotlb_find_pool(dev, head));
	KUNIT_EXPECT_EQ(test, mid, buf + PAGE_SIZE);
	KUNIT_EXPECT_NOT_NULL(test, swiotlb_find_pool(dev, tail));
	/* No middle: head and tail granules are both swiotlb slots. */
	c = chunk_at(map, 4 * PAGE_SIZE + 0x800);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, c->type, DMA_CHUNK_BOUNCE);
	head = iommu_iova_to_phys(env->domain,
				  dma_iova_addr(map) + 4 * PAGE_SIZE + 0x800);
	tail = iommu_iova_to_phys(env->domain,
				  dma_iova_addr(map) + 4 * PAGE_SIZE + PAGE_SIZE);
	KUNIT_EXPECT_NOT_NULL(test, swiotlb_find_pool(dev, head));
	KUNIT_EXPECT_NOT_NULL(test, swiotlb_find_pool(dev, tail));

	/*
	 * The device fills the first chunk with 0xee through the IOVA. Its
	 * head and tail reach @buf only by the copy-back at unlink.
	 */
	KUNIT_ASSERT_EQ(test, dma_link_range(map, 8 * PAGE_SIZE, src, PAGE_SIZE,
					     DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);
	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, dma_iova_addr(map) + 8 * PAGE_SIZE,
				       dma_iova_addr(map) + 0x800, PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, dma_iova_addr(map) + 8 * PAGE_SIZE,
				       dma_iova_addr(map) + PAGE_SIZE + 0x800,
				       PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, v[0x800], 0x11);
	KUNIT_ASSERT_EQ(test, dma_unlink_range(map, 0x800, 2 * PAGE_SIZE), 0);
	for (i = 0; i < 3 * PAGE_SIZE; i++) {
		u8 want = i >= 0x800 && i < 2 * PAGE_SIZE + 0x800 ? 0xee : 0x11;

		if (v[i] != want) {
			KUNIT_FAIL(test, "byte %x: %02x, want %02x", i, v[i],
				   want);
			break;
		}
	}
	expect_unmapped(test, env->domain, dma_iova_addr(map), 4 * PAGE_SIZE);
}

/*
 * Without an IOMMU the same calls map each chunk directly and record its
 * address: with swiotlb=force the direct path bounces, and sync_for_cpu
 * must copy the bounce buffer back using the recorded address.
 */
static void dma_iova_no_iommu_should_map_per_chunk(struct kunit *test)
{
	struct device *dev = direct_dev_get(test, "dma_iova_direct");
	phys_addr_t a = pages_get(test, 0, 0), b = pages_get(test, 0, 0);
	struct dma_iova_mapping map;
	struct dma_iova_iter iter;
	const struct dma_iova_chunk *c;
	struct dma_iova_seg seg;
	unsigned int n = 0;
	size_t off = 0;
	u8 *bounce;

	KUNIT_ASSERT_EQ(test, dma_alloc_iova(dev, &map, 2 * PAGE_SIZE, 0, GFP_KERNEL),
			0);
	KUNIT_EXPECT_FALSE(test, dma_iova_uses_iommu(&map));
	KUNIT_ASSERT_EQ(test, dma_link_range(&map, 0, a, PAGE_SIZE,
					     DMA_FROM_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(&map, PAGE_SIZE, b, PAGE_SIZE,
					     DMA_FROM_DEVICE, 0), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_commit(&map), 0);

	dma_iova_for_each_seg(&map, &iter, &seg) {
		c = dma_iova_find_chunk(&map, off);
		KUNIT_ASSERT_NOT_NULL(test, c);
		KUNIT_EXPECT_EQ(test, seg.addr, c->dma_addr);
		KUNIT_EXPECT_NE(test, seg.addr, DMA_MAPPING_ERROR);
		off += seg.len;
		n++;
	}
	KUNIT_EXPECT_GE(test, n, 1);
	KUNIT_EXPECT_LE(test, n, 2);

	/* Play device: write where the recorded DMA address points. */
	c = dma_iova_find_chunk(&map, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, c);
	bounce = phys_to_virt(dma_to_phys(dev, c->dma_addr));
	memset(bounce, 0x77, PAGE_SIZE);
	dma_iova_sync_for_cpu(&map, PAGE_SIZE, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, ((u8 *)phys_to_virt(b))[123], 0x77);
	KUNIT_EXPECT_EQ(test, ((u8 *)phys_to_virt(a))[123], 0);
	dma_destroy_iova(&map);
	KUNIT_EXPECT_FALSE(test, dma_iova_is_live(&map));
}

/* ---- lock-out: no device access after unlink or destroy --------------- */

/*
 * Every DMA the tests below aim at an IOVA they took away must fault. They
 * name the target here, so that the runner can match the DMA faults the
 * guest logs and QEMU traces against these lines: every
 * attack must fault, and nothing else may.
 */
static void announce_attack(struct kunit *test, dma_addr_t iova, size_t len)
{
	kunit_info(test, "lockout: attacking iova %pad len %#zx\n", &iova, len);
}

static bool all_bytes(const void *p, u8 val, size_t len)
{
	return !memchr_inv(p, val, len);
}

/*
 * After unlink + (strict or lazy) the device can neither write the old
 * target nor read the old source, while the rest of the mapping works.
 */
static void dma_iova_lockout_after_unlink(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct dma_iova_mapping *map = map_alloc(test, env_dev(env), 4 * PAGE_SIZE);
	phys_addr_t src = pages_get(test, 0, 0xa7), dst = pages_get(test, 0, 0);
	phys_addr_t zero = pages_get(test, 0, 0), out = pages_get(test, 0, 0x55);
	u8 *vdst = phys_to_virt(dst), *vout = phys_to_virt(out);

	KUNIT_ASSERT_EQ(test, dma_link_range(map, 0, src, PAGE_SIZE,
					     DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(map, PAGE_SIZE, dst, PAGE_SIZE,
					     DMA_FROM_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(map, 2 * PAGE_SIZE, zero, PAGE_SIZE,
					     DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(map, 3 * PAGE_SIZE, out, PAGE_SIZE,
					     DMA_FROM_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);

	/* While linked, the device writes the target. */
	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, dma_iova_addr(map),
				       dma_iova_addr(map) + PAGE_SIZE,
				       EDU_XFER_MAX), 0);
	KUNIT_ASSERT_TRUE(test, all_bytes(vdst, 0xa7, EDU_XFER_MAX));
	memset(vdst, 0, PAGE_SIZE);

	/* Unlinked, it cannot: the write faults and memory stays. */
	KUNIT_ASSERT_EQ(test, dma_unlink_range(map, PAGE_SIZE, PAGE_SIZE), 0);
	announce_attack(test, dma_iova_addr(map) + PAGE_SIZE, EDU_XFER_MAX);
	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, dma_iova_addr(map),
				       dma_iova_addr(map) + PAGE_SIZE,
				       EDU_XFER_MAX), 0);
	KUNIT_EXPECT_TRUE(test, all_bytes(vdst, 0, PAGE_SIZE));

	/* Nor can it read an unlinked source: it copies zeros, not 0xa7. */
	KUNIT_ASSERT_EQ(test, dma_unlink_range(map, 0, PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, dma_iova_addr(map) + 2 * PAGE_SIZE,
				       dma_iova_addr(map) + 3 * PAGE_SIZE, EDU_XFER_MAX), 0);
	KUNIT_ASSERT_TRUE(test, all_bytes(vout, 0, EDU_XFER_MAX));
	memset(vout, 0x55, PAGE_SIZE);
	announce_attack(test, dma_iova_addr(map), EDU_XFER_MAX);
	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, dma_iova_addr(map),
				       dma_iova_addr(map) + 3 * PAGE_SIZE, EDU_XFER_MAX), 0);
	KUNIT_EXPECT_TRUE(test, all_bytes(vout, 0, EDU_XFER_MAX));
}

/*
 * After destroy the device cannot write the old IOVA either. On a lazy
 * domain the IOTLB may keep the old translation until the flush queue
 * drains (IOVA_FQ_TIMEOUT, 10 ms), exactly as after dma_unmap_page() on
 * that domain; edu starts a DMA only 100 ms after it is told to, so the
 * window has closed by then in both modes.
 */
static void dma_iova_lockout_after_destroy(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct dma_iova_mapping *keep = map_alloc(test, env_dev(env), PAGE_SIZE);
	struct dma_iova_mapping gone;
	phys_addr_t src = pages_get(test, 0, 0x3c), dst = pages_get(test, 0, 0);
	u8 *vdst = phys_to_virt(dst);
	dma_addr_t old;

	KUNIT_ASSERT_EQ(test, dma_link_range(keep, 0, src, PAGE_SIZE,
					     DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(keep), 0);
	KUNIT_ASSERT_EQ(test, dma_alloc_iova(env_dev(env), &gone, PAGE_SIZE, 0,
					     GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(&gone, 0, dst, PAGE_SIZE,
					     DMA_FROM_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(&gone), 0);
	old = gone.addr;

	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, keep->addr, old,
				       EDU_XFER_MAX), 0);
	KUNIT_ASSERT_TRUE(test, all_bytes(vdst, 0x3c, EDU_XFER_MAX));
	memset(vdst, 0, PAGE_SIZE);

	dma_destroy_iova(&gone);
	announce_attack(test, old, EDU_XFER_MAX);
	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, keep->addr, old,
				       EDU_XFER_MAX), 0);
	KUNIT_EXPECT_TRUE(test, all_bytes(vdst, 0, PAGE_SIZE));
}

/*
 * The window itself: on a lazy domain, destroy hands the IOTLB flush and the
 * IOVA's reuse to the flush queue, so the same range cannot be handed out
 * again until the queue drains; on a strict domain it can at once. The
 * kernel's own dma_map_page()/dma_unmap_page() on the same domain must
 * behave the same way, measured side by side.
 */
static void dma_iova_lockout_lazy_window_matches_dma_unmap(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct device *dev = env_dev(env);
	bool lazy = env->domain->type == IOMMU_DOMAIN_DMA_FQ;
	struct page *page = pfn_to_page(PHYS_PFN(pages_get(test, 0, 0)));
	struct dma_iova_mapping map;
	dma_addr_t a, b, first;
	bool ours_reused, theirs_reused;

	/* One CPU, one rcache: what is freed here is handed out here. */
	set_cpus_allowed_ptr(current, cpumask_of(raw_smp_processor_id()));
	msleep(50);	/* start with drained flush queues */
	a = dma_map_page(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, a));
	dma_unmap_page(dev, a, PAGE_SIZE, DMA_TO_DEVICE);
	b = dma_map_page(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, b));
	dma_unmap_page(dev, b, PAGE_SIZE, DMA_TO_DEVICE);
	theirs_reused = a == b;

	msleep(50);
	KUNIT_ASSERT_EQ(test, dma_alloc_iova(dev, &map, PAGE_SIZE, 0, GFP_KERNEL),
			0);
	KUNIT_ASSERT_EQ(test, dma_link_range(&map, 0, page_to_phys(page),
					     PAGE_SIZE, DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(&map), 0);
	first = dma_iova_addr(&map);
	dma_destroy_iova(&map);
	KUNIT_ASSERT_EQ(test, dma_alloc_iova(dev, &map, PAGE_SIZE, 0, GFP_KERNEL),
			0);
	ours_reused = dma_iova_addr(&map) == first;
	KUNIT_EXPECT_EQ(test, dma_free_iova(&map), 0);

	kunit_info(test, "%s domain: IOVA reused at once: dma_unmap_page %d, dma_destroy_iova %d\n",
		   lazy ? "lazy" : "strict", theirs_reused, ours_reused);
	KUNIT_EXPECT_EQ(test, ours_reused, theirs_reused);
	KUNIT_EXPECT_EQ(test, ours_reused, !lazy);
}

static struct kunit_case dma_iova_lockout_test_cases[] = {
	KUNIT_CASE(dma_iova_lockout_after_unlink),
	KUNIT_CASE(dma_iova_lockout_after_destroy),
	KUNIT_CASE(dma_iova_lockout_lazy_window_matches_dma_unmap),
	{}
};

static struct kunit_suite dma_iova_lockout_test_suite = {
	.name = "dma_iova_lockout",
	.test_cases = dma_iova_lockout_test_cases,
};

/* ---- fault injection: every failure point unwinds to nothing ---------- */

/* What the fault scenario links: three host runs and one P2P page. */
struct fault_mem {
	phys_addr_t pg[3];
	phys_addr_t p2p;
};

/* edu0, made to bounce, and the memory the scenario links for it. */
static struct iova_env *fault_setup(struct kunit *test, struct fault_mem *mem)
{
	struct iova_env *env = env_get(test, 0);
	struct p2p_buf *cmb = p2p_get(test, env->edu.pdev, PAGE_SIZE);

	p2p_need_host_bridge(test, cmb->pdev, env_dev(env));
	mem->p2p = virt_to_phys(cmb->va);
	mem->pg[0] = pages_get(test, 0, 0);
	mem->pg[1] = pages_get(test, 2, 0);
	mem->pg[2] = pages_get(test, 0, 0);
	make_untrusted(test, env);
	return env;
}

/*
 * Reserve @size bytes of IOVA (stage 0), link and commit a host page
 * (stage 1), then link a bounced chunk, a host-bridge P2P chunk that makes
 * the run record grow, and another host page, and commit (stage 2), all
 * within the first 64 KiB. *@stage says how far it got.
 */
static int fault_scenario(struct device *dev, struct dma_iova_mapping *map,
			  size_t size, const struct fault_mem *mem, int *stage,
			  struct iommu_domain *drop_tables)
{
	const phys_addr_t *pg = mem->pg;
	int ret;

	*stage = 0;
	ret = dma_alloc_iova(dev, map, size, 0, GFP_KERNEL);
	if (ret)
		return ret;
	/*
	 * Unmapping a whole, empty, aligned range frees any page table an
	 * earlier user of this IOVA left there, so the links below make the
	 * IOMMU driver allocate one. This allocates nothing itself.
	 */
	if (drop_tables)
		iommu_unmap(drop_tables, dma_iova_addr(map),
			    dma_iova_reserved_len(map));
	*stage = 1;
	ret = dma_link_range(map, 0, pg[0], PAGE_SIZE, DMA_TO_DEVICE, 0) ?:
	      dma_iova_commit(map);
	if (ret)
		return ret;
	*stage = 2;
	return dma_link_range(map, 2 * PAGE_SIZE + 0x800, pg[1] + 0x800, 2 * PAGE_SIZE,
			      DMA_FROM_DEVICE, 0) ?:
	       dma_link_range(map, 8 * PAGE_SIZE, mem->p2p, PAGE_SIZE, DMA_BIDIRECTIONAL,
			      0) ?:
	       dma_link_range(map, 8 * PAGE_SIZE + 2 * PAGE_SIZE, pg[2], PAGE_SIZE, DMA_TO_DEVICE,
			      0) ?:
	       dma_iova_commit(map);
}

/* A complete run: all four chunks linked where they belong. */
static void expect_complete(struct kunit *test, struct iova_env *env,
			    struct dma_iova_mapping *map,
			    const struct fault_mem *mem)
{
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(map), 4);
	expect_resolves(test, env->domain, map, 0, mem->pg[0], PAGE_SIZE);
	expect_resolves(test, env->domain, map, 8 * PAGE_SIZE, mem->p2p, PAGE_SIZE);
}

/*
 * A run that failed at @stage (call @k): nothing of the failed batch is in
 * the page tables, and the committed batch, if any, is.
 */
static void expect_unwound(struct kunit *test, struct iova_env *env,
			   struct dma_iova_mapping *map,
			   const struct fault_mem *mem, int stage,
			   unsigned int k)
{
	if (stage == 0) {
		KUNIT_EXPECT_FALSE(test, dma_iova_is_live(map));
		return;
	}
	KUNIT_EXPECT_TRUE(test, dma_iova_is_live(map));
	KUNIT_EXPECT_EQ_MSG(test, dma_iova_nr_chunks(map), stage - 1, "call %u", k);
	KUNIT_EXPECT_TRUE(test, nothing_pending(map));
	expect_unmapped(test, env->domain, dma_iova_addr(map) + PAGE_SIZE, 15 * PAGE_SIZE);
	if (stage == 1)
		expect_unmapped(test, env->domain, dma_iova_addr(map), PAGE_SIZE);
	else
		expect_resolves(test, env->domain, map, 0, mem->pg[0], PAGE_SIZE);
}

/*
 * Fail the 1st, 2nd, ... lower-layer call of the scenario in turn, on the
 * real IOMMU driver: each failure returns an error, leaves nothing of
 * its batch in the page tables, keeps the committed batch, and gives all
 * IOVA back once the mapping is destroyed.
 */
static void dma_iova_fault_every_call_should_unwind(struct kunit *test)
{
	unsigned int live = dma_iova_debug_live_states(NULL);
	unsigned int k, hits[3] = {};
	struct dma_iova_mapping map;
	struct iova_env *env;
	struct fault_mem mem;
	struct device *dev;
	dma_addr_t base;

	if (!IS_ENABLED(CONFIG_FAULT_INJECTION))
		kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
	env = fault_setup(test, &mem);
	dev = env_dev(env);
	KUNIT_ASSERT_EQ(test, dma_alloc_iova(dev, &map, 16 * PAGE_SIZE, 0, GFP_KERNEL),
			0);
	base = dma_iova_addr(&map);
	KUNIT_ASSERT_EQ(test, dma_free_iova(&map), 0);

	for (k = 1; k <= 64; k++) {
		int stage, ret;

		fault_arm(k);
		ret = fault_scenario(dev, &map, 16 * PAGE_SIZE, &mem, &stage, NULL);
		if (!fault_disarm()) {
			/* Past the last call: everything worked. */
			KUNIT_EXPECT_EQ(test, ret, 0);
			expect_complete(test, env, &map, &mem);
			dma_destroy_iova(&map);
			break;
		}
		hits[stage]++;
		KUNIT_EXPECT_NE_MSG(test, ret, 0, "call %u", k);
		expect_unwound(test, env, &map, &mem, stage, k);
		if (stage == 0)
			continue;
		dma_destroy_iova(&map);
		expect_iova_released(test, dev, base, 16 * PAGE_SIZE);
	}
	/*
	 * The IOVA (the record sits in the mapping); map + sync; 13 calls in
	 * the second batch (8 for the bounced chunk, whose run is the second
	 * and grows the record past its inline run and whose slots make the
	 * extension; 3 for P2P, whose run is the third and grows the record
	 * again; a map and the sync)
	 */
	KUNIT_EXPECT_EQ(test, hits[0], 1);
	KUNIT_EXPECT_EQ(test, hits[1], 2);
	KUNIT_EXPECT_EQ(test, hits[2], 13);
	KUNIT_EXPECT_EQ(test, k, 17);
	/* no mapping state leaked (counted with CONFIG_DMA_API_DEBUG) */
	KUNIT_EXPECT_EQ(test, dma_iova_debug_live_states(NULL), live);
}

#define FAIL_NTH_RUNS	48

struct fail_page_alloc_knobs {
	u32 *min_order;
	unsigned long *require_start, *require_end;
};

static void fail_page_alloc_restore(void *data)
{
	struct fail_page_alloc_knobs *k = data;

	*k->min_order = 1;
	*k->require_start = 0;
	*k->require_end = ULONG_MAX;
	atomic_set(&fail_dma_iova.times, 0);
}

/*
 * Let fail_page_alloc fail page allocations of any order, and only those
 * made under function @name ([*@start, *@end)), until the test ends.
 * Skips where the kernel lacks what this needs.
 */
static struct fail_page_alloc_knobs *
fail_page_alloc_under(struct kunit *test, const char *name,
		      unsigned long *start, unsigned long *end)
{
	struct fail_page_alloc_knobs *knobs;

	if (!IS_ENABLED(CONFIG_FAIL_PAGE_ALLOC) ||
	    !IS_ENABLED(CONFIG_FAULT_INJECTION_DEBUG_FS) ||
	    !IS_ENABLED(CONFIG_FAULT_INJECTION_STACKTRACE_FILTER) ||
	    !IS_ENABLED(CONFIG_KPROBES))
		kunit_skip(test,
			   "needs FAIL_PAGE_ALLOC, its stacktrace filter, KPROBES");
	knobs = kunit_kzalloc(test, sizeof(*knobs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, knobs);
	knobs->min_order = fail_page_alloc_knob("min-order");
	knobs->require_start = fail_page_alloc_knob("require-start");
	knobs->require_end = fail_page_alloc_knob("require-end");
	KUNIT_ASSERT_TRUE(test, knobs->min_order && knobs->require_start &&
			  knobs->require_end);
	KUNIT_ASSERT_TRUE_MSG(test, function_extent(name, start, end),
			      "cannot find %s() (needs kprobes)", name);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, fail_page_alloc_restore,
						  knobs), 0);
	*knobs->min_order = 0;
	*knobs->require_start = *start;
	*knobs->require_end = *end;
	return knobs;
}

static void destroy_all(void *data)
{
	struct dma_iova_mapping *maps = data;
	unsigned int i;

	for (i = 0; i < FAIL_NTH_RUNS; i++)
		dma_destroy_iova(&maps[i]);
}

/*
 * One fail-nth sweep of the scenario: run k fails the k-th counted
 * fault-injectable call of this task, until a run completes without a
 * failure. Every run reserves its own 2 MiB of IOVA, keeps it to the end of
 * the sweep and drops any page table an earlier user of the range left
 * there, so the driver must allocate one. Whatever fails, the scenario
 * either errors out having unwound its batch, or succeeds completely.
 * @trace gets, per run, the stage at which our hook ('0' + stage) or a call
 * below it ('a' + stage) failed, '-' for none. Returns the number of runs.
 */
static unsigned int fail_nth_sweep(struct kunit *test, struct iova_env *env,
				   struct dma_iova_mapping *maps,
				   const struct fault_mem *mem, char *trace,
				   unsigned int *ours, unsigned int *others)
{
	unsigned int k;

	*ours = 0;
	*others = 0;
	for (k = 1; k <= FAIL_NTH_RUNS; k++) {
		int times = atomic_read(&fail_dma_iova.times), stage, ret;
		struct dma_iova_mapping *map = &maps[k - 1];
		bool hit;

		current->fail_nth = k;
		ret = fault_scenario(env_dev(env), map, SZ_2M, mem, &stage,
				     env->domain);
		hit = !READ_ONCE(current->fail_nth);
		current->fail_nth = 0;
		if (hit && atomic_read(&fail_dma_iova.times) != times) {
			(*ours)++;
			trace[k - 1] = '0' + stage;
		} else if (hit) {
			(*others)++;
			trace[k - 1] = 'a' + stage;
		} else {
			trace[k - 1] = '-';
		}

		if (!ret) {
			expect_complete(test, env, map, mem);
			dma_unlink_range(map, 0, SZ_2M);
			if (!hit)
				break;
			continue;
		}
		KUNIT_EXPECT_TRUE_MSG(test, hit, "call %u failed uninjected", k);
		expect_unwound(test, env, map, mem, stage, k);
		if (stage == 2)
			dma_unlink_range(map, 0, PAGE_SIZE);
	}
	trace[min(k, FAIL_NTH_RUNS)] = '\0';
	return k;
}

/*
 * The scenario under fail-nth, twice. fail-nth counts every
 * fault-injectable call, and page allocations happen in this task that
 * the scenario does not make (slab refills, KASAN's stack depot), more or
 * fewer from one run to the next: they shift the k-th call. So
 * fail_page_alloc only takes part through its stacktrace filter (calls it
 * rejects are not counted): first for no allocation at all, so that the
 * sweep meets each of our hook's calls once, then for allocations under
 * the IOMMU core's __iommu_map(), so that it meets the driver's. Those
 * need not repeat from run to run either (virtio-iommu's are slab
 * refills), so the second sweep counts our hook's calls but does not
 * expect each of them.
 */
static void dma_iova_fault_driver_allocations_should_unwind(struct kunit *test)
{
	unsigned int k, ours, others;
	struct fail_page_alloc_knobs *knobs;
	char trace[FAIL_NTH_RUNS + 1] = {};
	struct dma_iova_mapping *maps;
	struct iova_env *env;
	struct fault_mem mem;
	struct page *page;
	unsigned long start, end;

	knobs = fail_page_alloc_under(test, "__iommu_map", &start, &end);
	env = fault_setup(test, &mem);
	maps = kunit_kcalloc(test, FAIL_NTH_RUNS, sizeof(*maps), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, maps);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, destroy_all, maps),
			0);
	/* the filter works: an allocation elsewhere is neither failed nor counted */
	current->fail_nth = 1;
	page = alloc_page(GFP_ATOMIC | __GFP_NOWARN);
	KUNIT_EXPECT_EQ(test, READ_ONCE(current->fail_nth), 1);
	current->fail_nth = 0;
	KUNIT_ASSERT_NOT_NULL(test, page);
	__free_page(page);

	/* our hook takes part in fail-nth only; count its failures */
	fail_dma_iova.probability = 0;
	atomic_set(&fail_dma_iova.times, 1000);

	/*
	 * the hook alone (an empty window): its 16 calls, in order (a 2 MiB
	 * reservation has its bitmaps in the extension with 4 KiB granules,
	 * and makes it for the bounced chunk with 64 KiB ones)
	 */
	*knobs->require_end = start;
	k = fail_nth_sweep(test, env, maps, &mem, trace, &ours, &others);
	kunit_info(test, "fail-nth, hook alone: %u calls failed: %s\n",
		   ours + others, trace);
	KUNIT_EXPECT_EQ(test, ours, 16);
	KUNIT_EXPECT_EQ(test, others, 0);
	KUNIT_EXPECT_EQ(test, k, 17);
	destroy_all(maps);

	/* and the page tables below */
	*knobs->require_end = end;
	k = fail_nth_sweep(test, env, maps, &mem, trace, &ours, &others);
	kunit_info(test, "fail-nth, with __iommu_map(): %u calls failed, %u in the hook, %u below: %s\n",
		   ours + others, ours, others, trace);
	/* the run that completed made the hook's 16 counted calls, and fewer than k */
	KUNIT_EXPECT_GE(test, k, 17);
	KUNIT_EXPECT_LE(test, k, FAIL_NTH_RUNS);
	KUNIT_EXPECT_GT(test, ours, 0);
	/*
	 * VT-d and io-pgtable free a table when a whole range is unmapped;
	 * AMD-Vi's v1 tables stay until the domain goes, virtio-iommu keeps
	 * none in the guest (at most its mapping tree needs a slab page):
	 * their drivers may have had nothing to allocate, and then what this
	 * case is named for did not happen.
	 */
	if (!others && test->status == KUNIT_SUCCESS)
		kunit_skip(test, "no page table allocated under __iommu_map(): %s",
			   "the driver keeps them after an unmap, or has none here");
	KUNIT_EXPECT_GT(test, others, 0);
}

static struct kunit_case dma_iova_fault_test_cases[] = {
	KUNIT_CASE(dma_iova_fault_every_call_should_unwind),
	KUNIT_CASE(dma_iova_fault_driver_allocations_should_unwind),
	{}
};

static struct kunit_suite dma_iova_fault_test_suite = {
	.name = "dma_iova_fault",
	.test_cases = dma_iova_fault_test_cases,
};

/* ---- CONFIG_DMA_API_DEBUG checks ------------------------------------- */

/* The checks report only on a DMA_API_DEBUG kernel with dma-debug on. */
static void need_dma_debug(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_DMA_API_DEBUG))
		kunit_skip(test, "needs CONFIG_DMA_API_DEBUG");
	if (!debug_dma_iova_active())
		kunit_skip(test, "dma-debug is off (dma_debug=off)");
}

struct kunit_debug_env {
	struct dma_iova_debug_env env;
	struct kunit *test;
	struct iova_env *iova;
	phys_addr_t pages[4];
};

static phys_addr_t kdbg_page(struct dma_iova_debug_env *env, unsigned int n)
{
	return container_of(env, struct kunit_debug_env, env)->pages[n];
}

static void kdbg_bounce(struct dma_iova_debug_env *env, bool on)
{
	to_pci_dev(env->dev)->untrusted = on;
}

/*
 * Unbind the edu device's driver (dma_iova_edu.h binds one) and bind it
 * again: the unbind runs dma-debug's notifier.
 */
static void kdbg_unbind(struct dma_iova_debug_env *env)
{
	struct kunit_debug_env *k = container_of(env, struct kunit_debug_env,
						 env);

	device_release_driver(env->dev);
	KUNIT_EXPECT_EQ(k->test, device_attach(env->dev), 1);
}

static void kdbg_release(struct dma_iova_debug_env *env,
			 struct dma_iova_mapping *copy)
{
	struct kunit_debug_env *k = container_of(env, struct kunit_debug_env,
						 env);

	iommu_dma_iova_free(copy->eng.domain, dma_iova_addr(copy),
			    dma_iova_reserved_len(copy), NULL);
	/*
	 * The leaked state's record sat in the state itself (one run of a few
	 * granules): nothing of it is on the heap.
	 */
	KUNIT_EXPECT_NULL(k->test, copy->rec.ext);
	KUNIT_EXPECT_PTR_EQ(k->test, copy->rec.runs, &env->map.rec.run);
}

static void kdbg_cleanup(void *data)
{
	struct kunit_debug_env *k = data;

	untrusted_reset(to_pci_dev(k->env.dev));
	dma_destroy_iova(&k->env.map);
	dma_destroy_iova(&k->env.other);
}

/* Where a local of the caller's frame lives, vmapped stack or not. */
static phys_addr_t stack_phys(const void *p)
{
	struct page *page = is_vmalloc_addr(p) ? vmalloc_to_page(p) :
						 virt_to_page(p);

	return page_to_phys(page) + offset_in_page(p);
}

static struct kunit_debug_env *kdbg_env(struct kunit *test, const void *local)
{
	struct kunit_debug_env *k = kunit_kzalloc(test, sizeof(*k), GFP_KERNEL);
	struct p2p_buf *cmb;
	unsigned int i;

	need_dma_debug(test);
	KUNIT_ASSERT_NOT_NULL(test, k);
	k->test = test;
	k->iova = env_get(test, 0);
	for (i = 0; i < ARRAY_SIZE(k->pages); i++)
		k->pages[i] = pages_get(test, 0, 0);
	k->env.dev = env_dev(k->iova);
	k->env.granule = dma_get_merge_boundary(k->env.dev) + 1;
	/* each scratch granule is one page */
	KUNIT_ASSERT_LE(test, k->env.granule, PAGE_SIZE);
	k->env.page = kdbg_page;
	k->env.stack_phys = stack_phys(local);
	k->env.text_phys = __pa_symbol(_stext) + 0x40;
	cmb = p2p_get(test, k->iova->edu.pdev, k->env.granule);
	if (pci_p2pdma_distance(cmb->pdev, k->env.dev, false) >= 0)
		k->env.p2p_phys = virt_to_phys(cmb->va);
	k->env.needs_bounce = kdbg_bounce;
	k->env.unbind = kdbg_unbind;
	k->env.release_leaked = kdbg_release;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kdbg_cleanup, k),
			0);
	return k;
}

KUNIT_ARRAY_PARAM_DESC(dbg, dma_iova_debug_cases, desc);

/* One misuse raises its check exactly once, and nothing else. */
static void dma_iova_debug_check_should_fire_once(struct kunit *test)
{
	const struct dma_iova_debug_case *dc = test->param_value;
	unsigned int before[DMA_IOVA_DBG_NR], c;
	u64 on_stack = 0;
	struct kunit_debug_env *k = kdbg_env(test, &on_stack);

	if (dc->misuse == dbg_bounce_p2p && !k->env.p2p_phys)
		kunit_skip(test, "the kernel allows no P2P through this host bridge");
	/* bounced, a device's writes share no cacheline with the CPU's */
	if (dc->check == DMA_IOVA_DBG_CACHELINE)
		need_trusted(test);
	KUNIT_ASSERT_EQ(test, dc->prepare(&k->env), 0);
	for (c = 0; c < DMA_IOVA_DBG_NR; c++)
		before[c] = dma_iova_debug_errors(c);
	dc->misuse(&k->env);
	for (c = 1; c < DMA_IOVA_DBG_NR; c++)
		KUNIT_EXPECT_EQ_MSG(test, dma_iova_debug_errors(c),
				    before[c] + (c == dc->check),
				    "check %u", c);
	KUNIT_EXPECT_EQ(test, dma_iova_debug_errors(DMA_IOVA_DBG_NONE),
			before[DMA_IOVA_DBG_NONE] + 1);

	dma_destroy_iova(&k->env.map);
	dma_destroy_iova(&k->env.other);
	KUNIT_EXPECT_EQ(test, dma_iova_debug_errors(DMA_IOVA_DBG_NONE),
			before[DMA_IOVA_DBG_NONE] + 1);
	KUNIT_EXPECT_EQ(test, on_stack, 0);
}

/* Correct use of every call raises nothing. */
static void dma_iova_debug_correct_use_should_be_silent(struct kunit *test)
{
	u64 on_stack = 0;
	struct kunit_debug_env *k = kdbg_env(test, &on_stack);
	unsigned int before = dma_iova_debug_errors(DMA_IOVA_DBG_NONE);

	KUNIT_ASSERT_EQ(test, dma_iova_debug_correct_use(&k->env), 0);
	dma_destroy_iova(&k->env.map);
	KUNIT_EXPECT_EQ(test, dma_iova_debug_errors(DMA_IOVA_DBG_NONE), before);
}

#define SCALE_CHUNKS	4000
#define SCALE_RUNS	5

/*
 * Link @n device-writable pages one by one, commit, unlink them one by one
 * and destroy: every debug check runs once per call. Return the time.
 */
static u64 debug_scale_run(struct kunit *test, struct device *dev,
			   const phys_addr_t *pages, unsigned int n)
{
	struct dma_iova_mapping map;
	unsigned int i;
	u64 t0 = ktime_get_ns();

	KUNIT_ASSERT_EQ(test, dma_alloc_iova(dev, &map, (size_t)n * PAGE_SIZE, 0,
					     GFP_KERNEL), 0);
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_EQ(test, dma_link_range(&map, (size_t)i * PAGE_SIZE,
						     pages[i], PAGE_SIZE,
						     DMA_FROM_DEVICE, 0), 0);
		cond_resched();
	}
	KUNIT_ASSERT_EQ(test, dma_iova_commit(&map), 0);
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_EQ(test, dma_unlink_range(&map, (size_t)i * PAGE_SIZE,
						       PAGE_SIZE), 0);
		cond_resched();
	}
	dma_destroy_iova(&map);
	return ktime_get_ns() - t0;
}

static int cmp_ns(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Under CONFIG_DMA_API_DEBUG each check costs a lookup, never a walk over
 * all chunks or all tracked cachelines: 4x the chunks (each in its own
 * cacheline, device-writable, so that I14 tracks every one) cost less than
 * 8x. A quadratic check costs 16x. Under TCG, with other boots sharing the
 * host's cores, a run only gets slower than its work: each size takes the
 * fastest of five interleaved runs (medians of three ranged from 1.4x to
 * 9.1x in one day's boots).
 */
static void dma_iova_debug_should_scale(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	unsigned int before = dma_iova_debug_errors(DMA_IOVA_DBG_NONE);
	u64 small[SCALE_RUNS], large[SCALE_RUNS];
	phys_addr_t *pages;
	unsigned int i;

	need_dma_debug(test);
	/* 4000 pages of 64 KiB nearly fill edu's 28 address bits */
	edu_wide_mask(test, env_dev(env));
	pages = kunit_kmalloc_array(test, SCALE_CHUNKS, sizeof(*pages),
				    GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (i = 0; i < SCALE_CHUNKS; i++)
		pages[i] = pages_get(test, 0, 0);
	for (i = 0; i < SCALE_RUNS; i++) {
		small[i] = debug_scale_run(test, env_dev(env), pages,
					   SCALE_CHUNKS / 4);
		large[i] = debug_scale_run(test, env_dev(env), pages,
					   SCALE_CHUNKS);
	}
	sort(small, SCALE_RUNS, sizeof(u64), cmp_ns, NULL);
	sort(large, SCALE_RUNS, sizeof(u64), cmp_ns, NULL);
	kunit_info(test, "%u chunks: %llu us, %u chunks: %llu us (%llu.%02llux; slowest %llu, %llu us)\n",
		   SCALE_CHUNKS / 4, div_u64(small[0], 1000), SCALE_CHUNKS,
		   div_u64(large[0], 1000), div64_u64(large[0], small[0]),
		   div64_u64(100 * large[0], small[0]) % 100,
		   div_u64(small[SCALE_RUNS - 1], 1000),
		   div_u64(large[SCALE_RUNS - 1], 1000));
	KUNIT_EXPECT_LT(test, large[0], 8 * small[0]);
	KUNIT_EXPECT_EQ(test, dma_iova_debug_errors(DMA_IOVA_DBG_NONE), before);
}

static struct kunit_case dma_iova_debug_test_cases[] = {
	KUNIT_CASE_PARAM(dma_iova_debug_check_should_fire_once,
			 dbg_gen_params),
	KUNIT_CASE(dma_iova_debug_correct_use_should_be_silent),
	KUNIT_CASE_SLOW(dma_iova_debug_should_scale),
	{}
};

static struct kunit_suite dma_iova_debug_test_suite = {
	.name = "dma_iova_debug",
	.test_cases = dma_iova_debug_test_cases,
};

static struct kunit_case dma_iova_test_cases[] = {
	KUNIT_CASE_PARAM(dma_iova_alloc_should_honour_alignment,
			 align_gen_params),
	KUNIT_CASE(dma_iova_alloc_should_reject_bad_input),
	KUNIT_CASE(dma_iova_link_should_resolve_every_byte),
	KUNIT_CASE(dma_iova_edu_should_copy_through_iova),
	KUNIT_CASE(dma_iova_link_bvecs_should_make_one_run),
	KUNIT_CASE(dma_iova_unlink_ranges_should_be_exact),
	KUNIT_CASE(dma_iova_link_should_reject_misuse),
	KUNIT_CASE_PARAM(dma_iova_failed_link_should_unwind_batch,
			 fail_at_gen_params),
	KUNIT_CASE(dma_iova_p2p_host_bridge_should_map_in_iova),
	KUNIT_CASE(dma_iova_p2p_bus_should_bypass_iova),
	KUNIT_CASE(dma_iova_p2p_unreachable_should_fail),
	KUNIT_CASE(dma_iova_bounce_should_cover_only_head_and_tail),
	KUNIT_CASE(dma_iova_no_iommu_should_map_per_chunk),
	{}
};

static struct kunit_suite dma_iova_test_suite = {
	.name = "dma_iova",
	.test_cases = dma_iova_test_cases,
};

/* ---- the IOMMU's vectored map ------------------------------------------ */

#define RANGES_WINDOW	SZ_16M	/* IOVA the lists are mapped into */
#define RANGES_MAX	96
#define RANGES_BLOCK	SZ_4M	/* the physical memory they take pages of */

struct ranges_case {
	struct iova_env *env;
	struct dma_iova_mapping *map;	/* holds the IOVA window, links nothing */
	dma_addr_t base;
	phys_addr_t block;
	struct iommu_map_range r[RANGES_MAX];
	unsigned int nr;
	size_t total;
	size_t mapped;			/* of the window, for the cleanup */
	phys_addr_t dst;		/* a page the device writes */
	dma_addr_t dst_dma;		/* ... mapped for it, or 0 */
};

/* Unmap what a failed assertion left, before the window is released. */
static void ranges_cleanup(void *data)
{
	struct ranges_case *rc = data;

	if (rc->mapped)
		iommu_unmap(rc->env->domain, rc->base, rc->mapped);
	if (rc->dst_dma)
		dma_unmap_page(env_dev(rc->env), rc->dst_dma, PAGE_SIZE,
			       DMA_FROM_DEVICE);
}

static u32 ranges_rand(u32 *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return *seed >> 8;
}

static void ranges_add(struct ranges_case *rc, phys_addr_t phys, size_t size)
{
	if (rc->nr == RANGES_MAX || rc->total + size > RANGES_WINDOW)
		return;
	rc->r[rc->nr].phys = phys;
	rc->r[rc->nr++].size = size;
	rc->total += size;
}

/*
 * A list of ranges from 4 KiB to 4 MiB, taken from a 4 MiB block: single
 * pages anywhere, runs of pages that cross leaf tables, 2 MiB-aligned
 * memory wherever the list has got to in the IOVA (mostly where no
 * superpage fits), and 2 or 4 MiB padded to a 2 MiB IOVA boundary, where
 * one fits.
 */
static void ranges_build(struct ranges_case *rc, u32 seed)
{
	const unsigned long pages = RANGES_BLOCK / PAGE_SIZE;

	rc->nr = 0;
	rc->total = 0;
	while (rc->nr < RANGES_MAX - 1 && rc->total < RANGES_WINDOW - SZ_4M) {
		unsigned long first = ranges_rand(&seed) % pages, n;
		size_t pad;

		switch (ranges_rand(&seed) % 5) {
		case 0:
		case 1:
			ranges_add(rc, rc->block + first * PAGE_SIZE, PAGE_SIZE);
			break;
		case 2:
			n = 2 + ranges_rand(&seed) % 600;
			n = min(n, pages - first);
			ranges_add(rc, rc->block + first * PAGE_SIZE,
				   n * PAGE_SIZE);
			break;
		case 3:
			ranges_add(rc, rc->block + (first & 1) * SZ_2M, SZ_2M);
			break;
		default:
			pad = ALIGN(rc->total, SZ_2M) - rc->total;
			if (pad)
				ranges_add(rc, rc->block, pad);
			if (first & 1)
				ranges_add(rc, rc->block, SZ_4M);
			else
				ranges_add(rc, rc->block + SZ_2M, SZ_2M);
		}
	}
}

static void ranges_setup(struct kunit *test, struct ranges_case *rc)
{
	unsigned long i;
	u32 *word;

	rc->env = env_get(test, 0);
	rc->map = map_alloc(test, env_dev(rc->env), RANGES_WINDOW);
	rc->base = dma_iova_addr(rc->map);
	KUNIT_ASSERT_TRUE(test, IS_ALIGNED(rc->base, SZ_2M));
	rc->block = pages_get(test, get_order(RANGES_BLOCK), 0);
	rc->dst = pages_get(test, 0, 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ranges_cleanup,
							rc), 0);
	/* each page says where it is */
	for (i = 0; i < RANGES_BLOCK / PAGE_SIZE; i++) {
		word = phys_to_virt(rc->block + i * PAGE_SIZE);
		*word = i ^ 0x5a5a0000;
	}
}

/* Every page of the list where it belongs, nothing mapped after it. */
static void ranges_expect_mapped(struct kunit *test, struct ranges_case *rc)
{
	struct iommu_domain *domain = rc->env->domain;
	size_t off = 0, p;
	unsigned int i;

	for (i = 0; i < rc->nr; off += rc->r[i++].size) {
		for (p = 0; p < rc->r[i].size; p += PAGE_SIZE) {
			dma_addr_t iova = rc->base + off + p + 0x123;
			phys_addr_t got = iommu_iova_to_phys(domain, iova);

			if (got != rc->r[i].phys + p + 0x123) {
				KUNIT_FAIL(test, "range %u: iova %pad -> %pa, want %pa+%zx",
					   i, &iova, &got, &rc->r[i].phys,
					   p + 0x123);
				return;
			}
		}
	}
	expect_unmapped(test, domain, rc->base + rc->total,
			RANGES_WINDOW - rc->total);
}

/*
 * Random lists of ranges mapped in one call are mapped page by page as
 * iommu_map() of each would, and the device reads each sampled page
 * through them.
 */
static void iommu_map_ranges_should_map_every_page(struct kunit *test)
{
	struct ranges_case *rc = kunit_kzalloc(test, sizeof(*rc), GFP_KERNEL);
	unsigned int round, i;

	KUNIT_ASSERT_NOT_NULL(test, rc);
	ranges_setup(test, rc);
	rc->dst_dma = dma_map_page(env_dev(rc->env),
				   pfn_to_page(PHYS_PFN(rc->dst)), 0, PAGE_SIZE,
				   DMA_FROM_DEVICE);
	if (dma_mapping_error(env_dev(rc->env), rc->dst_dma))
		rc->dst_dma = 0;
	KUNIT_ASSERT_NE(test, rc->dst_dma, 0);

	for (round = 0; round < 8; round++) {
		struct iommu_domain *domain = rc->env->domain;

		ranges_build(rc, round + 1);
		KUNIT_ASSERT_EQ(test, iommu_map_ranges_nosync(domain, rc->base,
							      rc->r, rc->nr,
							      IOMMU_READ | IOMMU_WRITE,
							      GFP_KERNEL), 0);
		rc->mapped = rc->total;
		KUNIT_ASSERT_EQ(test, iommu_sync_map(domain, rc->base,
						     rc->total), 0);
		ranges_expect_mapped(test, rc);
		/* the device reads the last page of a few ranges */
		for (i = round % 7; round < 2 && i < rc->nr; i += 7) {
			size_t o = 0, last = rc->r[i].size - PAGE_SIZE;
			unsigned int k;
			u32 *got = phys_to_virt(rc->dst);

			for (k = 0; k < i; k++)
				o += rc->r[k].size;
			*got = 0;
			dma_sync_single_for_device(env_dev(rc->env), rc->dst_dma,
						   PAGE_SIZE, DMA_FROM_DEVICE);
			KUNIT_ASSERT_EQ(test, edu_copy(&rc->env->edu,
						       rc->base + o + last,
						       rc->dst_dma, 4), 0);
			dma_sync_single_for_cpu(env_dev(rc->env), rc->dst_dma,
						PAGE_SIZE, DMA_FROM_DEVICE);
			KUNIT_EXPECT_EQ(test, *got,
					*(u32 *)phys_to_virt(rc->r[i].phys + last));
		}
		KUNIT_EXPECT_EQ(test, iommu_unmap(domain, rc->base, rc->total),
				rc->total);
		rc->mapped = 0;
		expect_unmapped(test, domain, rc->base, RANGES_WINDOW);
	}
}

/*
 * Leave no leaf table under the window, so that the next list has to
 * allocate its own: map the window whole with 4 MiB ranges (blocks where
 * the format has them) and unmap it whole.
 */
static void ranges_drop_tables(struct kunit *test, struct ranges_case *rc)
{
	struct iommu_map_range whole[RANGES_WINDOW / RANGES_BLOCK];
	struct iommu_domain *domain = rc->env->domain;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(whole); i++) {
		whole[i].phys = rc->block;
		whole[i].size = RANGES_BLOCK;
	}
	KUNIT_ASSERT_EQ(test, iommu_map_ranges_nosync(domain, rc->base, whole,
						      ARRAY_SIZE(whole),
						      IOMMU_READ, GFP_KERNEL),
			0);
	rc->mapped = RANGES_WINDOW;
	KUNIT_ASSERT_EQ(test, iommu_unmap(domain, rc->base, RANGES_WINDOW),
			RANGES_WINDOW);
	rc->mapped = 0;
}

/*
 * A page-table allocation failing anywhere in a list leaves nothing of the
 * list mapped: fail_page_alloc fails the k-th allocation under
 * iommu_map_ranges_nosync() for k = 1, 2, ... until a list maps whole.
 * GFP_ATOMIC, as the engine maps: fail_page_alloc ignores allocations
 * that may reclaim.
 */
static void iommu_map_ranges_failure_should_map_nothing(struct kunit *test)
{
	struct ranges_case *rc = kunit_kzalloc(test, sizeof(*rc), GFP_KERNEL);
	unsigned long start, end;
	unsigned int k, failed = 0;
	struct iommu_domain *domain;
	size_t gran, leaf;
	int ret = -ENOMEM;

	KUNIT_ASSERT_NOT_NULL(test, rc);
	ranges_setup(test, rc);
	domain = rc->env->domain;
	/* what one leaf table maps: 8-byte entries in a granule */
	gran = 1UL << __ffs(domain->pgsize_bitmap);
	leaf = gran / 8 * gran;
	if (leaf > RANGES_WINDOW)
		kunit_skip(test, "one leaf table of a %zu KiB granule maps %zu MiB: %s",
			   gran / SZ_1K, leaf / SZ_1M,
			   "no window of this size frees it, nothing to allocate");
	ranges_build(rc, 77);
	fail_page_alloc_under(test, "iommu_map_ranges_nosync", &start, &end);

	for (k = 1; k <= 64 && ret; k++) {
		ranges_drop_tables(test, rc);
		current->fail_nth = k;
		ret = iommu_map_ranges_nosync(domain, rc->base, rc->r, rc->nr,
					      IOMMU_READ, GFP_ATOMIC);
		current->fail_nth = 0;
		if (!ret) {
			rc->mapped = rc->total;
			break;
		}
		KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
		failed++;
		expect_unmapped(test, domain, rc->base, RANGES_WINDOW);
		if (test->status != KUNIT_SUCCESS)
			return;
	}
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "still failing after %u tries", k);
	ranges_expect_mapped(test, rc);
	KUNIT_EXPECT_EQ(test, iommu_unmap(domain, rc->base, rc->total),
			rc->total);
	rc->mapped = 0;
	kunit_info(test, "%u ranges, %zu KiB: %u allocations failed in turn\n",
		   rc->nr, rc->total / SZ_1K, failed);
	if (!failed && test->status == KUNIT_SUCCESS)
		kunit_skip(test, "no page table allocated under iommu_map_ranges_nosync(): %s",
			   "the driver keeps them after an unmap, or has none here");
	KUNIT_EXPECT_GT(test, failed, 0);
}

static struct kunit_case iommu_map_ranges_test_cases[] = {
	KUNIT_CASE_SLOW(iommu_map_ranges_should_map_every_page),
	KUNIT_CASE_SLOW(iommu_map_ranges_failure_should_map_nothing),
	{}
};

static struct kunit_suite iommu_map_ranges_test_suite = {
	.name = "iommu_map_ranges",
	.test_cases = iommu_map_ranges_test_cases,
};

/* ---- several CPUs on one device at once ------------------------------- */

#define STRESS_THREADS	4
#define STRESS_PAGES	16	/* host pages of each thread */
#define STRESS_CHUNKS	8	/* most chunks linked per mapping */
#define STRESS_TIME	(4 * HZ)

struct stress_thread {
	struct device *dev;
	struct iommu_domain *domain;
	phys_addr_t host;	/* STRESS_PAGES pages of this thread */
	phys_addr_t cmb;	/* CMB P2P memory shared by all threads */
	unsigned long deadline, started;
	unsigned int rounds, chunks;
	int err;		/* first failure, reported by the test */
	char what[96];
	struct completion done;
};

static int stress_fail(struct stress_thread *t, int err, const char *what,
		       size_t offset)
{
	t->err = err ?: -EIO;
	snprintf(t->what, sizeof(t->what), "round %u: %s at %zx: %d",
		 t->rounds, what, offset, err);
	return t->err;
}

/*
 * One round: reserve a range of random size, link host pages, P2P memory
 * through the host bridge and now and then an unaligned (bounced) piece,
 * commit, check every chunk in the page table, unlink one and check it is
 * gone, destroy.
 */
static int stress_round(struct stress_thread *t)
{
	unsigned int n = 1 + get_random_u32_below(STRESS_CHUNKS), i;
	size_t off[STRESS_CHUNKS], len[STRESS_CHUNKS], pos = 0;
	phys_addr_t phys[STRESS_CHUNKS];
	bool mapped[STRESS_CHUNKS];
	struct dma_iova_mapping map;
	int ret;

	ret = dma_alloc_iova(t->dev, &map, STRESS_CHUNKS * 5 * PAGE_SIZE,
			     get_random_u32_below(2) ? SZ_64K : 0, GFP_KERNEL);
	if (ret)
		return stress_fail(t, ret, "alloc", 0);
	for (i = 0; i < n; i++) {
		unsigned int kind = get_random_u32_below(8);

		len[i] = (1 + get_random_u32_below(4)) * PAGE_SIZE;
		mapped[i] = true;
		if (kind == 0) {
			phys[i] = t->cmb + get_random_u32_below(4) * PAGE_SIZE;
		} else if (kind == 1) {
			/* head and tail bounced through swiotlb slots */
			phys[i] = t->host + SZ_2K;
			len[i] = PAGE_SIZE;
			mapped[i] = false;
		} else {
			phys[i] = t->host + get_random_u32_below(STRESS_PAGES - 3) *
					    PAGE_SIZE;
		}
		off[i] = pos + offset_in_page(phys[i]);
		pos += len[i] + (mapped[i] ? 0 : PAGE_SIZE);
		/* to the device: chunks may share pages without I14 reports */
		ret = dma_link_range(&map, off[i], phys[i], len[i],
				     DMA_TO_DEVICE, 0);
		if (ret) {
			stress_fail(t, ret, "link", off[i]);
			goto out;
		}
	}
	ret = dma_iova_commit(&map);
	if (ret) {
		stress_fail(t, ret, "commit", 0);
		goto out;
	}
	for (i = 0; i < n; i++) {
		dma_addr_t iova = dma_iova_addr(&map) + off[i];

		if (!mapped[i])
			continue;
		if (iommu_iova_to_phys(t->domain, iova) != phys[i] ||
		    iommu_iova_to_phys(t->domain, iova + len[i] - 1) !=
		    phys[i] + len[i] - 1) {
			ret = stress_fail(t, 0, "page table", off[i]);
			goto out;
		}
	}
	i = get_random_u32_below(n);
	ret = dma_unlink_range(&map, off[i], len[i]);
	if (!ret)
		ret = dma_iova_commit(&map);
	if (ret) {
		stress_fail(t, ret, "unlink", off[i]);
		goto out;
	}
	if (iommu_iova_to_phys(t->domain, dma_iova_addr(&map) + off[i])) {
		ret = stress_fail(t, 0, "still mapped after unlink", off[i]);
		goto out;
	}
	t->chunks += n;
out:
	dma_destroy_iova(&map);
	return ret;
}

static int stress_thread_fn(void *data)
{
	struct stress_thread *t = data;

	/* at least one round, however late the thread got a CPU */
	t->started = jiffies;
	do {
		if (stress_round(t))
			break;
		t->rounds++;
		cond_resched();
	} while (time_before(jiffies, t->deadline));
	complete(&t->done);
	return 0;
}

/*
 * Threads on every CPU map, link, unlink and destroy on one device for a
 * few seconds: the IOVA allocator's per-CPU caches, the IOMMU page table,
 * the P2P provider lookup, swiotlb and the debug shadow are shared. Every
 * chunk resolves to its own memory, nothing fails, and no state or debug
 * report is left behind.
 */
static void dma_iova_threads_on_one_device_should_not_interfere(struct kunit *test)
{
	unsigned int reports = dma_iova_debug_errors(DMA_IOVA_DBG_NONE);
	struct iova_env *env = env_get(test, 0);
	unsigned int live = dma_iova_debug_live_states(env_dev(env));
	struct p2p_buf *cmb = p2p_get(test, env->edu.pdev, 8 * PAGE_SIZE);
	struct stress_thread *t;
	struct task_struct *task[STRESS_THREADS];
	unsigned int i, rounds = 0, chunks = 0;

	p2p_need_host_bridge(test, cmb->pdev, env_dev(env));

	make_untrusted(test, env);
	t = kunit_kcalloc(test, STRESS_THREADS, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	for (i = 0; i < STRESS_THREADS; i++) {
		t[i].dev = env_dev(env);
		t[i].domain = env->domain;
		t[i].host = pages_get(test, ilog2(STRESS_PAGES), i);
		t[i].cmb = virt_to_phys(cmb->va);
		t[i].deadline = jiffies + STRESS_TIME;
		init_completion(&t[i].done);
		task[i] = kthread_create(stress_thread_fn, &t[i],
					 "dma_iova_stress/%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task[i]));
		get_task_struct(task[i]);
		kthread_bind(task[i], i % num_online_cpus());
	}
	for (i = 0; i < STRESS_THREADS; i++)
		wake_up_process(task[i]);
	for (i = 0; i < STRESS_THREADS; i++) {
		/* kthread_stop() before a thread ran would skip its function */
		wait_for_completion(&t[i].done);
		kthread_stop_put(task[i]);
		KUNIT_EXPECT_GT(test, t[i].rounds, 0);
		KUNIT_EXPECT_EQ_MSG(test, t[i].err, 0, "thread %u: %s", i,
				    t[i].what);
		kunit_info(test, "thread %u: started after %u ms, %u rounds\n", i,
			   jiffies_to_msecs(t[i].started - t[i].deadline +
					    STRESS_TIME), t[i].rounds);
		rounds += t[i].rounds;
		chunks += t[i].chunks;
	}
	kunit_info(test, "%u threads on %u CPUs: %u rounds, %u chunks linked\n",
		   STRESS_THREADS, num_online_cpus(), rounds, chunks);
	/* bound to different CPUs, the threads ran in parallel */
	KUNIT_EXPECT_GE(test, num_online_cpus(), 2);
	KUNIT_EXPECT_EQ(test, dma_iova_debug_live_states(env_dev(env)), live);
	KUNIT_EXPECT_EQ(test, dma_iova_debug_errors(DMA_IOVA_DBG_NONE), reports);
}

static struct kunit_case dma_iova_concurrency_test_cases[] = {
	KUNIT_CASE_SLOW(dma_iova_threads_on_one_device_should_not_interfere),
	{}
};

static struct kunit_suite dma_iova_concurrency_test_suite = {
	.name = "dma_iova_concurrency",
	.test_cases = dma_iova_concurrency_test_cases,
};

/* ---- the HMM helper (linux/hmm-dma.h) on the real IOMMU --------------- */

static void hmm_map_free(void *map)
{
	hmm_dma_map_free(map);
}

static struct hmm_dma_map *hmm_map_get(struct kunit *test, struct device *dev,
				       unsigned long npages)
{
	struct hmm_dma_map *map = kunit_kzalloc(test, sizeof(*map), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, map);
	KUNIT_ASSERT_EQ(test, hmm_dma_map_alloc(dev, map, npages, GFP_KERNEL),
			0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, hmm_map_free,
							map), 0);
	if (use_dma_iommu(dev))
		KUNIT_ASSERT_NE(test, hmm_dma_iova(map), 0);
	return map;
}

/* What hmm_range_fault() reports for @page, mapped by the CPU at @order. */
static unsigned long hmm_pfn(struct page *page, bool write, unsigned int order)
{
	return page_to_pfn(page) | HMM_PFN_VALID | (write ? HMM_PFN_WRITE : 0) |
	       ((unsigned long)order << HMM_PFN_ORDER_SHIFT);
}

/*
 * Pages map at their index; a refault over mapped pages takes their new
 * flags (read-only to writable, which did not invalidate); an unmap takes
 * exactly its range out of the page table and dirties the pages that were
 * mapped writable.
 */
static void hmm_dma_pages_should_map_at_their_index(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct hmm_dma_map *map = hmm_map_get(test, env_dev(env), 8);
	unsigned long pfns[8];
	struct page *pages[8];
	unsigned int i;

	for (i = 0; i < 8; i++) {
		pages[i] = pfn_to_page(PHYS_PFN(pages_get(test, 0, 0)));
		ClearPageDirty(pages[i]);
		pfns[i] = hmm_pfn(pages[i], false, 0);
	}
	KUNIT_ASSERT_EQ(test, hmm_dma_map_pfns(map, 0, pfns, 8), 0);
	for (i = 0; i < 8; i++) {
		KUNIT_EXPECT_EQ(test, map->pfns[i] & HMM_DMA_STATE,
				HMM_DMA_MAPPED);
		KUNIT_EXPECT_EQ(test, hmm_dma_addr(map, i),
				hmm_dma_iova(map) + i * PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(env->domain,
							 hmm_dma_addr(map, i)),
				page_to_phys(pages[i]));
	}
	/* pages 2..5 became writable without an invalidation */
	for (i = 2; i < 6; i++)
		pfns[i] = hmm_pfn(pages[i], true, 0);
	KUNIT_ASSERT_EQ(test, hmm_dma_map_pfns(map, 2, pfns + 2, 4), 0);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ_MSG(test, !!(map->pfns[i] & HMM_PFN_WRITE),
				    i >= 2 && i < 6, "page %u", i);

	KUNIT_EXPECT_EQ(test, hmm_dma_unmap_range(map, 1, 4), 4);
	for (i = 0; i < 8; i++) {
		dma_addr_t iova = hmm_dma_iova(map) + i * PAGE_SIZE;
		bool gone = i >= 1 && i < 5;

		KUNIT_EXPECT_EQ_MSG(test, !(map->pfns[i] & HMM_DMA_MAPPED),
				    gone, "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, hmm_dma_addr(map, i) ==
				    DMA_MAPPING_ERROR, gone, "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, !iommu_iova_to_phys(env->domain, iova),
				    gone, "page %u", i);
		/* dirtied: unmapped and mapped writable */
		KUNIT_EXPECT_EQ_MSG(test, !!PageDirty(pages[i]),
				    gone && i >= 2, "page %u", i);
	}
	/* bad ranges and pfns: refused, nothing changes */
	KUNIT_EXPECT_EQ(test, hmm_dma_map_pfns(map, 6, pfns, 3), -EINVAL);
	pfns[0] = 0;
	KUNIT_EXPECT_EQ(test, hmm_dma_map_pfns(map, 0, pfns, 2), -EFAULT);
	KUNIT_EXPECT_EQ(test, map->pfns[0] & HMM_DMA_STATE, HMM_DMA_MAPPED);
	KUNIT_EXPECT_EQ(test, map->pfns[1], 0);
	/* before the pages go back: cleanup frees them before the map */
	KUNIT_EXPECT_EQ(test, hmm_dma_unmap_range(map, 0, 8), 4);
}

/*
 * The pages of a CPU huge mapping go to the IOMMU in one call (which may
 * use a large page), so an unmap that cuts the block takes all of it, as
 * the CPU side invalidates it; the page tables hold nothing of it after.
 */
static void hmm_dma_huge_mapping_should_unmap_whole(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct hmm_dma_map *map = hmm_map_get(test, env_dev(env), 1024);
	struct page *huge = pfn_to_page(PHYS_PFN(pages_get(test, 9, 0)));
	unsigned long *pfns;
	unsigned int i;

	pfns = kunit_kmalloc_array(test, 512, sizeof(*pfns), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pfns);
	for (i = 0; i < 512; i++)
		pfns[i] = hmm_pfn(nth_page(huge, i), true, 9);
	/* at index 512: the block is aligned in the IOVA as in memory */
	KUNIT_ASSERT_EQ(test, hmm_dma_map_pfns(map, 512, pfns, 512), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(env->domain,
						 hmm_dma_addr(map, 700)),
			page_to_phys(nth_page(huge, 188)));
	KUNIT_EXPECT_EQ(test, hmm_dma_unmap_range(map, 600, 1), 512);
	for (i = 0; i < 1024; i++)
		KUNIT_EXPECT_EQ_MSG(test, map->pfns[i], 0, "page %u", i);
	expect_unmapped(test, env->domain, hmm_dma_iova(map) + 512 * PAGE_SIZE,
			512 * PAGE_SIZE);
}

#define HMM_FAIL_PAGES	20	/* two of hmm_dma.c's lists of ranges */

/* Each lower-layer call of a batch fails in turn: nothing of it stays. */
static void hmm_dma_failures_should_unwind(struct kunit *test)
{
	struct iova_env *env = env_get(test, 0);
	struct hmm_dma_map *map = hmm_map_get(test, env_dev(env), HMM_FAIL_PAGES);
	unsigned int i, k, failed = 0;
	unsigned long pfns[HMM_FAIL_PAGES];
	int ret;

	if (!IS_ENABLED(CONFIG_FAULT_INJECTION))
		kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
	for (i = 0; i < HMM_FAIL_PAGES; i++)
		pfns[i] = hmm_pfn(pfn_to_page(PHYS_PFN(pages_get(test, 0, 0))),
				  true, 0);
	for (k = 1; k < 16; k++) {
		fault_arm(k);
		ret = hmm_dma_map_pfns(map, 0, pfns, HMM_FAIL_PAGES);
		if (!fault_disarm()) {
			KUNIT_EXPECT_EQ(test, ret, 0);
			break;
		}
		failed++;
		KUNIT_EXPECT_NE_MSG(test, ret, 0, "call %u", k);
		for (i = 0; i < HMM_FAIL_PAGES; i++)
			KUNIT_EXPECT_EQ_MSG(test, map->pfns[i], 0, "call %u", k);
		expect_unmapped(test, env->domain, hmm_dma_iova(map),
				HMM_FAIL_PAGES * PAGE_SIZE);
	}
	/*
	 * a vectored map per 16 pages (they are not one CPU mapping, each
	 * is a range), the second failing after the first, and the sync
	 */
	KUNIT_EXPECT_EQ(test, failed, 3);
	for (i = 0; i < HMM_FAIL_PAGES; i++)
		KUNIT_EXPECT_EQ(test, map->pfns[i] & HMM_DMA_STATE,
				HMM_DMA_MAPPED);
	/* before the pages go back: cleanup frees them before the map */
	KUNIT_EXPECT_EQ(test, hmm_dma_unmap_range(map, 0, HMM_FAIL_PAGES),
			HMM_FAIL_PAGES);
}

/* What the direct path never bounces through: no slots, not forced. */
static struct io_tlb_mem hmm_direct_no_tlb;

/*
 * Without an IOMMU a mirror maps each host page through the DMA API, at
 * its phys_to_dma() address, on a DMA_API_DEBUG kernel too, where
 * dma_dev_need_sync() holds for every device (issue 27, defect 4: such
 * kernels refused every direct device with -EOPNOTSUPP). A device the
 * direct path would bounce (swiotlb=force, as these boots run) or that
 * does not snoop the CPU cache is refused.
 */
static void hmm_dma_direct_device_should_map(struct kunit *test)
{
	struct device *dev = direct_dev_get(test, "hmm_dma_direct");
	struct hmm_dma_map *map = kunit_kzalloc(test, sizeof(*map), GFP_KERNEL);
	unsigned long pfns[4];
	struct page *pages[4];
	unsigned int i;

	if (!IS_ENABLED(CONFIG_DMA_API_DEBUG))
		kunit_skip(test, "the case is a DMA_API_DEBUG kernel's");
	KUNIT_ASSERT_NOT_NULL(test, map);
	/* pages first: the map's teardown must run before they are freed */
	for (i = 0; i < 4; i++) {
		pages[i] = pfn_to_page(PHYS_PFN(pages_get(test, 0, 0)));
		pfns[i] = hmm_pfn(pages[i], true, 0);
	}
	/* as a driver sets it up: only dma-debug keeps need_sync set */
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)),
			0);
	KUNIT_ASSERT_TRUE(test, dma_dev_need_sync(dev));
	if (is_swiotlb_force_bounce(dev))
		KUNIT_EXPECT_EQ(test, hmm_dma_map_alloc(dev, map, 4, GFP_KERNEL),
				-EOPNOTSUPP);
	dev->dma_io_tlb_mem = &hmm_direct_no_tlb;
	if (!dev_is_dma_coherent(dev)) {
		KUNIT_EXPECT_EQ(test, hmm_dma_map_alloc(dev, map, 4, GFP_KERNEL),
				-EOPNOTSUPP);
		return;
	}
	KUNIT_ASSERT_EQ(test, hmm_dma_map_alloc(dev, map, 4, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, hmm_map_free,
							map), 0);
	KUNIT_EXPECT_EQ(test, hmm_dma_iova(map), 0);
	KUNIT_ASSERT_EQ(test, hmm_dma_map_pfns(map, 0, pfns, 4), 0);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, hmm_dma_addr(map, i),
				phys_to_dma(dev, page_to_phys(pages[i])));
	KUNIT_EXPECT_EQ(test, hmm_dma_unmap_range(map, 1, 2), 2);
	KUNIT_EXPECT_EQ(test, hmm_dma_addr(map, 1), DMA_MAPPING_ERROR);
	KUNIT_EXPECT_EQ(test, hmm_dma_addr(map, 3),
			phys_to_dma(dev, page_to_phys(pages[3])));
	KUNIT_EXPECT_EQ(test, hmm_dma_unmap_range(map, 0, 4), 2);
}

/* ---- any path: IOMMU, bounced or direct-mapped ------------------------ */

static void expect_bytes(struct kunit *test, const u8 *got, const u8 *want,
			 size_t len, const char *what)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (got[i] != want[i]) {
			KUNIT_FAIL(test, "%s byte %zx: %02x, want %02x", what, i,
				   got[i], want[i]);
			return;
		}
}

/*
 * The calls a driver makes move data whatever path the device takes:
 * through the IOMMU, bounced (untrusted), or direct-mapped, where a
 * passthrough boot runs this for real with dma-debug watching. Chunks
 * start and end mid-page; the device reads two of them and writes two,
 * one across a page boundary, at the addresses the mapping recorded.
 */
static void dma_iova_any_path_should_move_data(struct kunit *test)
{
	struct iova_env *env = env_get_any(test, 0);
	struct device *dev = env_dev(env);
	phys_addr_t src = pages_get(test, 0, 0), dst = pages_get(test, 1, 0);
	phys_addr_t both = pages_get(test, 0, 0);
	unsigned int errors = dma_iova_debug_errors(DMA_IOVA_DBG_NONE);
	u8 *vs = phys_to_virt(src), *vd = phys_to_virt(dst);
	u8 *vb = phys_to_virt(both), *was;
	size_t b_off = 4 * PAGE_SIZE + 0x100;
	struct dma_iova_mapping *map;
	unsigned int live, i;

	edu_wide_mask(test, dev);
	live = dma_iova_debug_live_states(dev);
	was = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, was);
	for (i = 0; i < PAGE_SIZE; i++) {
		vs[i] = i * 7 + 1;
		vb[i] = i * 3 + 5;
	}
	memcpy(was, vb, PAGE_SIZE);
	map = map_alloc(test, dev, 8 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, dma_iova_uses_iommu(map), use_dma_iommu(dev));
	KUNIT_ASSERT_EQ(test, dma_link_range(map, 0x500, src + 0x500, 0x300,
					     DMA_TO_DEVICE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_link_range(map, PAGE_SIZE, dst,
					     2 * PAGE_SIZE, DMA_FROM_DEVICE, 0),
			0);
	KUNIT_ASSERT_EQ(test, dma_link_range(map, b_off, both + 0x100,
					     PAGE_SIZE - 0x100,
					     DMA_BIDIRECTIONAL, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_commit(map), 0);

	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, map_dma_at(test, map, 0x500),
				       map_dma_at(test, map, PAGE_SIZE + 0x10),
				       0x300), 0);
	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, map_dma_at(test, map, b_off),
				       map_dma_at(test, map,
						  2 * PAGE_SIZE - 0x200),
				       0x400), 0);
	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, map_dma_at(test, map, 0x500),
				       map_dma_at(test, map, b_off + 0x700),
				       0x100), 0);
	dma_iova_sync_for_cpu(map, PAGE_SIZE, 2 * PAGE_SIZE);
	dma_iova_sync_for_cpu(map, b_off, PAGE_SIZE - 0x100);

	expect_bytes(test, vd + 0x10, vs + 0x500, 0x300, "first write");
	expect_bytes(test, vd + PAGE_SIZE - 0x200, was + 0x100, 0x400,
		     "write across pages");
	expect_bytes(test, vb + 0x800, vs + 0x500, 0x100, "bidirectional write");
	expect_bytes(test, vb + 0x100, was + 0x100, 0x700, "bidirectional head");
	expect_bytes(test, vb + 0x900, was + 0x900, PAGE_SIZE - 0x900,
		     "bidirectional tail");

	KUNIT_EXPECT_EQ(test, dma_unlink_range(map, b_off, PAGE_SIZE - 0x100), 0);
	kunit_release_action(test, destroy_action, map);
	KUNIT_EXPECT_FALSE(test, dma_iova_is_live(map));
	KUNIT_EXPECT_EQ(test, dma_iova_debug_live_states(dev), live);
	KUNIT_EXPECT_EQ(test, dma_iova_debug_errors(DMA_IOVA_DBG_NONE), errors);
}

/*
 * hmm_range_fault() pages reach the device at hmm_dma_addr() on every
 * path; an unmap returns them.
 */
static void hmm_dma_any_path_should_move_data(struct kunit *test)
{
	struct iova_env *env = env_get_any(test, 0);
	struct device *dev = env_dev(env);
	struct hmm_dma_map *map;
	unsigned long pfns[4];
	struct page *pages[4];
	u8 *v[4];
	unsigned int i;

	edu_wide_mask(test, dev);
	for (i = 0; i < 4; i++) {
		pages[i] = pfn_to_page(PHYS_PFN(pages_get(test, 0, 0)));
		v[i] = page_address(pages[i]);
		memset(v[i], 0x10 + i, PAGE_SIZE);
		pfns[i] = hmm_pfn(pages[i], true, 0);
	}
	map = hmm_map_get(test, dev, 4);
	KUNIT_ASSERT_EQ(test, hmm_dma_map_pfns(map, 0, pfns, 4), 0);
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_NE_MSG(test, hmm_dma_addr(map, i),
				    DMA_MAPPING_ERROR, "page %u", i);
	/* page 0's bytes to the middle of page 2 and the end of page 3 */
	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, hmm_dma_addr(map, 0),
				       hmm_dma_addr(map, 2) + 0x100, 0x400), 0);
	KUNIT_ASSERT_EQ(test, edu_copy(&env->edu, hmm_dma_addr(map, 0) + 0x80,
				       hmm_dma_addr(map, 3) + PAGE_SIZE - 0x80,
				       0x80), 0);
	KUNIT_EXPECT_EQ(test, v[2][0xff], 0x12);
	KUNIT_EXPECT_EQ(test, v[2][0x100], 0x10);
	KUNIT_EXPECT_EQ(test, v[2][0x4ff], 0x10);
	KUNIT_EXPECT_EQ(test, v[2][0x500], 0x12);
	KUNIT_EXPECT_EQ(test, v[3][PAGE_SIZE - 0x81], 0x13);
	KUNIT_EXPECT_EQ(test, v[3][PAGE_SIZE - 0x80], 0x10);
	KUNIT_EXPECT_EQ(test, v[3][PAGE_SIZE - 1], 0x10);
	KUNIT_EXPECT_EQ(test, hmm_dma_unmap_range(map, 0, 4), 4);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, hmm_dma_addr(map, i), DMA_MAPPING_ERROR);
}

static struct kunit_case dma_iova_any_path_test_cases[] = {
	KUNIT_CASE(dma_iova_any_path_should_move_data),
	KUNIT_CASE(hmm_dma_any_path_should_move_data),
	{}
};

static struct kunit_suite dma_iova_any_path_test_suite = {
	.name = "dma_iova_any_path",
	.test_cases = dma_iova_any_path_test_cases,
};

static struct kunit_case hmm_dma_test_cases[] = {
	KUNIT_CASE(hmm_dma_pages_should_map_at_their_index),
	KUNIT_CASE(hmm_dma_direct_device_should_map),
	KUNIT_CASE(hmm_dma_huge_mapping_should_unmap_whole),
	KUNIT_CASE(hmm_dma_failures_should_unwind),
	{}
};

static struct kunit_suite hmm_dma_test_suite = {
	.name = "hmm_dma",
	.test_cases = hmm_dma_test_cases,
};

/*
 * Runs first (this file links first): what boot left unreferenced is no
 * business of the suites. Wait until it is old enough to be seen, scan,
 * and clear it; umem_link_kunit.c's last suite checks for new suspects.
 */
static void kmemleak_baseline_should_clear(struct kunit *test)
{
	struct kmemleak_file *k;

	if (!IS_ENABLED(CONFIG_DEBUG_KMEMLEAK))
		kunit_skip(test, "needs CONFIG_DEBUG_KMEMLEAK");
	k = kmemleak_open(test);
	msleep(KMEMLEAK_MIN_AGE_MS);
	kmemleak_scan_twice(test, k);
	kunit_info(test, "boot left %u suspected leaks; cleared\n",
		   kmemleak_suspects(kmemleak_report(test, k)));
	kmemleak_cmd(test, k, "clear");
	KUNIT_EXPECT_EQ(test, kmemleak_suspects(kmemleak_report(test, k)), 0);
}

static struct kunit_case kmemleak_baseline_cases[] = {
	KUNIT_CASE_SLOW(kmemleak_baseline_should_clear),
	{}
};

static struct kunit_suite kmemleak_baseline_suite = {
	.name = "dma_iova_kmemleak_baseline",
	.test_cases = kmemleak_baseline_cases,
};

kunit_test_suites(&kmemleak_baseline_suite, &dma_iova_test_suite, &dma_iova_debug_test_suite,
		  &dma_iova_lockout_test_suite, &dma_iova_fault_test_suite,
		  &hmm_dma_test_suite, &dma_iova_any_path_test_suite,
		  &dma_iova_concurrency_test_suite, &iommu_map_ranges_test_suite);

MODULE_DESCRIPTION("KUnit tests for the two-step IOVA DMA mapping API");
MODULE_LICENSE("GPL");
