// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suites for RDMA memory regions on one IOVA range
 * (drivers/infiniband/core/umem_link.c).
 *
 * The test's ib_device does DMA through QEMU's edu device behind an
 * emulated IOMMU (VT-d, AMD-Vi, virtio-iommu or SMMUv3). Pinned and ODP
 * regions are real user memory of an mm attached to the test; the device
 * writes through the region's IOVA and the bytes are read back from the
 * user pages. dma-buf regions mix host
 * pages with NVMe CMB peer memory. ODP invalidations are counted at the
 * IOMMU driver's IOTLB sync with a kprobe.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>
#include <rdma/ib_umem_link.h>
#include <rdma/ib_verbs.h>

#include "../../kernel/dma/iova_debug.h"
#include "dma_iova_kunit.h"
#include "kmemleak_check.h"
#include "umem_link_exporter.h"

#define XFER	1024	/* bytes the device writes per check */

struct mr_env {
	struct iova_env *iova;
	struct ib_device *ibdev;
	u8 *src;		/* what the device copies, DMA-mapped */
	dma_addr_t src_dma;
};

static void ibdev_put(void *ibdev)
{
	ib_dealloc_device(ibdev);
}

static struct ib_device *ibdev_get(struct kunit *test, struct device *dma)
{
	struct ib_device *ibdev = _ib_alloc_device(sizeof(*ibdev));

	KUNIT_ASSERT_NOT_NULL(test, ibdev);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ibdev_put, ibdev),
			0);
	ibdev->dma_device = dma;
	return ibdev;
}

static void src_unmap(void *data)
{
	struct mr_env *env = data;

	dma_unmap_single(env_dev(env->iova), env->src_dma, XFER, DMA_TO_DEVICE);
}

static struct mr_env *mr_env_open(struct kunit *test, struct iova_env *iova)
{
	struct mr_env *env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, env);
	env->iova = iova;
	env->ibdev = ibdev_get(test, env_dev(env->iova));
	env->src = kunit_kmalloc(test, XFER, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, env->src);
	for (i = 0; i < XFER; i++)
		env->src[i] = i * 7 + 3;
	env->src_dma = dma_map_single(env_dev(env->iova), env->src, XFER,
				      DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(env_dev(env->iova),
						   env->src_dma));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, src_unmap, env),
			0);
	return env;
}

/* The ib_device of a test does DMA through edu device @nth, behind an IOMMU. */
static struct mr_env *mr_env_get(struct kunit *test, unsigned int nth)
{
	return mr_env_open(test, env_get(test, nth));
}

/* The same, on whatever path edu device @nth takes, 40-bit addressing. */
static struct mr_env *mr_env_get_any(struct kunit *test, unsigned int nth)
{
	struct iova_env *iova = env_get_any(test, nth);

	edu_wide_mask(test, env_dev(iova));
	return mr_env_open(test, iova);
}

/* Let edu write the source pattern at DMA address @dma. */
static void device_write(struct kunit *test, struct mr_env *env,
			 dma_addr_t dma)
{
	KUNIT_ASSERT_EQ(test, edu_copy(&env->iova->edu, env->src_dma, dma,
				       XFER), 0);
}

static unsigned long user_map(struct kunit *test, size_t len)
{
	unsigned long va = kunit_vm_mmap(test, NULL, 0, len,
					 PROT_READ | PROT_WRITE,
					 MAP_ANONYMOUS | MAP_PRIVATE, 0);

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR_VALUE(va), "vm_mmap: %ld",
			       (long)va);
	return va;
}

static void mnt_put_action(void *mnt)
{
	mntput(mnt);
}

static void file_put_action(void *file)
{
	fput(file);
}

/*
 * A shared user mapping of @len bytes of @pdev's P2P memory, made the way a
 * process makes one: mmap of the device's sysfs p2pmem/allocate file.
 */
static unsigned long user_map_p2p(struct kunit *test, struct pci_dev *pdev,
				  size_t len)
{
	struct file_system_type *sysfs = get_fs_type("sysfs");
	struct vfsmount *mnt;
	struct file *file;
	unsigned long va;
	char path[64];

	KUNIT_ASSERT_NOT_NULL(test, sysfs);
	mnt = vfs_kern_mount(sysfs, 0, "sysfs", NULL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(mnt), "sysfs: %pe", mnt);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mnt_put_action,
							mnt), 0);
	snprintf(path, sizeof(path), "bus/pci/devices/%s/p2pmem/allocate",
		 pci_name(pdev));
	file = file_open_root_mnt(mnt, path, O_RDWR, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(file), "%s: %pe", path, file);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, file_put_action,
							file), 0);
	va = kunit_vm_mmap(test, file, 0, len, PROT_READ | PROT_WRITE,
			   MAP_SHARED, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR_VALUE(va), "mmap %s: %ld", path,
			       (long)va);
	return va;
}

/* Fault in [@va, @va + @len) with a fill that differs from the pattern. */
static void user_fill(struct kunit *test, unsigned long va, size_t len)
{
	u8 *zeros = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	size_t done;

	KUNIT_ASSERT_NOT_NULL(test, zeros);
	for (done = 0; done < len; done += PAGE_SIZE)
		KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)(va + done),
						   zeros, PAGE_SIZE), 0);
}

/* The page backing user address @va right now. */
static struct page *user_page(struct kunit *test, unsigned long va)
{
	struct page *page;

	KUNIT_ASSERT_EQ(test, get_user_pages_fast(va & PAGE_MASK, 1, 0, &page),
			1);
	put_page(page);
	return page;
}

static void expect_user_bytes(struct kunit *test, struct mr_env *env,
			      unsigned long va)
{
	u8 *got = kunit_kmalloc(test, XFER, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, got);
	KUNIT_ASSERT_EQ(test, copy_from_user(got, (void __user *)va, XFER), 0);
	KUNIT_EXPECT_MEMEQ(test, got, env->src, XFER);
}

/* Byte @off of the region resolves to the user page holding it. */
static void expect_region_resolves(struct kunit *test, struct mr_env *env,
				   struct ib_umem_link *umem, dma_addr_t base,
				   size_t off)
{
	unsigned long va = umem->address + off;
	phys_addr_t want = page_to_phys(user_page(test, va)) +
			   offset_in_page(va);

	KUNIT_EXPECT_EQ_MSG(test, iommu_iova_to_phys(env->iova->domain,
						     base + off), want,
			    "region byte %zx", off);
}

static void umem_release_action(void *umem)
{
	ib_umem_link_release(umem);
}

/*
 * Scattered user pages, unaligned start and end: one IOVA segment of whole
 * pages, as 6.12's ib_umem_get() maps them, every byte resolves to its user
 * page, pages pinned until release, and the device's write through the
 * IOVA lands in the user's memory, at the region's edges too. The same for
 * an untrusted device (behind an external-facing port): its unaligned edge
 * pages must not be bounced, which would hide each side's writes from the
 * other for the region's life (issue 27, defect 3).
 */
static void pinned_region_one_segment(struct kunit *test, bool untrusted)
{
	struct mr_env *env = mr_env_get(test, 0);
	size_t len = 6 * PAGE_SIZE, size = len - 0x100 - 0x80, off;
	unsigned long va = user_map(test, len);
	struct pci_dev *pdev = env->iova->edu.pdev;
	struct ib_umem_link *umem;
	struct dma_iova_seg seg;
	struct page *first;
	dma_addr_t start;

	user_fill(test, va, len);
	untrusted_set(test, pdev, untrusted);
	umem = ib_umem_link_get(env->ibdev, va + 0x100, size,
				IB_ACCESS_LOCAL_WRITE);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(umem), "%pe", umem);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, umem_release_action,
						  umem), 0);
	start = dma_iova_addr(&umem->map) + umem->map_offset;

	KUNIT_EXPECT_EQ(test, nr_segs(&umem->map, &seg), 1);
	KUNIT_EXPECT_EQ(test, seg.len, len);
	KUNIT_EXPECT_EQ(test, seg.addr, start - 0x100);
	KUNIT_EXPECT_EQ(test, offset_in_page(start), 0x100);
	/* Host pages linked back to back: one run, nothing bounced. */
	KUNIT_EXPECT_EQ(test, dma_iova_find_chunk(&umem->map,
						  umem->map_offset)->type,
			DMA_CHUNK_HOST);
	KUNIT_EXPECT_EQ(test, dma_iova_find_chunk(&umem->map,
						  umem->map_offset)->size,
			len);
	for (off = 0; off < size; off += PAGE_SIZE / 2)
		expect_region_resolves(test, env, umem, start, off);
	expect_region_resolves(test, env, umem, start, size - 1);

	first = user_page(test, va);
	KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(page_folio(first)));

	/* across the boundary of the first two user pages */
	off = PAGE_SIZE - 0x100 - XFER / 2;
	device_write(test, env, start + off);
	expect_user_bytes(test, env, va + 0x100 + off);
	/* at the region's first and last bytes, before release */
	device_write(test, env, start);
	expect_user_bytes(test, env, va + 0x100);
	device_write(test, env, start + size - XFER);
	expect_user_bytes(test, env, va + 0x100 + size - XFER);

	kunit_release_action(test, umem_release_action, umem);
	KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(first)));
	expect_unmapped(test, env->iova->domain, seg.addr, len);
}

static void umem_link_pinned_region_should_be_one_segment(struct kunit *test)
{
	pinned_region_one_segment(test, false);
}

static void umem_link_untrusted_region_should_not_bounce(struct kunit *test)
{
	pinned_region_one_segment(test, true);
}

/*
 * The block size comes from how the IOVA lines up with the device's
 * virtual address; the block iterator covers the region exactly.
 */
static void umem_link_best_pgsz_should_follow_the_iova(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	size_t len = 3 * PAGE_SIZE;
	unsigned long va = user_map(test, len), pgsz;
	struct ib_umem_link_block_iter iter;
	struct ib_umem_link *umem;
	struct dma_iova_seg seg;
	dma_addr_t block, expect;
	size_t n = 0;

	user_fill(test, va, len);
	umem = ib_umem_link_get(env->ibdev, va, len, IB_ACCESS_LOCAL_WRITE);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(umem), "%pe", umem);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, umem_release_action,
						  umem), 0);
	KUNIT_ASSERT_EQ(test, nr_segs(&umem->map, &seg), 1);

	/* device VA = IOVA: any supported size fits one segment */
	pgsz = ib_umem_link_find_best_pgsz(umem, SZ_4K | SZ_2M, seg.addr);
	KUNIT_EXPECT_EQ(test, pgsz, SZ_2M);
	/* capped as in 6.12: the smallest size covering the 3 pages suffices */
	pgsz = ib_umem_link_find_best_pgsz(umem, SZ_4K | SZ_64K | SZ_2M,
					   seg.addr);
	KUNIT_EXPECT_EQ(test, pgsz, (seg.addr ^ (seg.addr + len - 1)) < SZ_64K ?
			SZ_64K : SZ_2M);
	/* user VA: the largest size both addresses agree on */
	pgsz = ib_umem_link_find_best_pgsz(umem, SZ_4K | SZ_64K | SZ_2M, va);
	KUNIT_EXPECT_TRUE(test,
			  pgsz == SZ_4K || pgsz == SZ_64K || pgsz == SZ_2M);
	KUNIT_EXPECT_EQ(test, (seg.addr ^ va) & (pgsz - 1), 0);
	if (pgsz < SZ_2M)
		KUNIT_EXPECT_NE(test, (seg.addr ^ va) & ((pgsz == SZ_4K ?
				SZ_64K : SZ_2M) - 1), 0);
	/* in-page offsets differ: no block size works */
	KUNIT_EXPECT_EQ(test, ib_umem_link_find_best_pgsz(umem, PAGE_SIZE,
							  va + 8), 0);
	/* sizes below PAGE_SIZE are never offered */
	KUNIT_EXPECT_EQ(test, ib_umem_link_find_best_pgsz(umem, SZ_1K, va), 0);

	expect = seg.addr;
	ib_umem_link_for_each_block(umem, &iter, PAGE_SIZE, &block) {
		KUNIT_EXPECT_EQ(test, block, expect);
		expect += PAGE_SIZE;
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, 3);
	KUNIT_EXPECT_EQ(test, ib_umem_link_num_dma_blocks(umem, PAGE_SIZE), 3);
	KUNIT_EXPECT_EQ(test, ib_umem_link_num_dma_blocks(umem, SZ_2M),
			ALIGN(seg.addr + len, SZ_2M) / SZ_2M -
			seg.addr / SZ_2M);
}

/* A transparent huge page is one chunk and one 2 MiB block. */
static void umem_link_huge_page_should_be_one_block(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	unsigned long va = user_map(test, 2 * SZ_2M);
	unsigned long huge = ALIGN(va, SZ_2M);
	struct ib_umem_link *umem;
	struct dma_iova_seg seg;
	struct page *page;

	if (PMD_SIZE != SZ_2M)
		kunit_skip(test, "no 2 MiB THP: a PMD maps %lu MiB with %lu KiB pages",
			   PMD_SIZE >> 20, PAGE_SIZE >> 10);
	user_fill(test, huge, PAGE_SIZE);
	page = user_page(test, huge);
	if (!PageTransHuge(compound_head(page)))
		kunit_skip(test, "no transparent huge page for %lx (THP %s)",
			   huge, IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) ?
			   "enabled, none free" : "disabled");

	umem = ib_umem_link_get(env->ibdev, huge, SZ_2M, IB_ACCESS_LOCAL_WRITE);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(umem), "%pe", umem);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, umem_release_action,
						  umem), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(&umem->map), 1);
	KUNIT_EXPECT_EQ(test, dma_iova_find_chunk(&umem->map,
						  umem->map_offset)->size,
			SZ_2M);
	KUNIT_ASSERT_EQ(test, nr_segs(&umem->map, &seg), 1);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(seg.addr, SZ_2M));
	KUNIT_EXPECT_EQ(test,
			ib_umem_link_find_best_pgsz(umem, SZ_4K | SZ_2M | SZ_1G,
						    huge), SZ_2M);
	KUNIT_EXPECT_EQ(test, ib_umem_link_num_dma_blocks(umem, SZ_2M), 1);
	expect_region_resolves(test, env, umem, seg.addr, 0);
	expect_region_resolves(test, env, umem, seg.addr, SZ_2M - 1);
	device_write(test, env, seg.addr + SZ_1M);
	expect_user_bytes(test, env, huge + SZ_1M);
}

/*
 * Bad requests get a clear error; a pin failure half-way (a hole in the
 * range) and a link failure at each lower-layer call leave nothing pinned,
 * accounted, linked or reserved.
 */
static void umem_link_pinned_failures_should_unwind(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	struct ib_device *virt = ibdev_get(test, NULL);
	size_t len = 8 * PAGE_SIZE;
	unsigned long va = user_map(test, len);
	s64 pinned_vm = atomic64_read(&current->mm->pinned_vm);
	unsigned int reports = dma_iova_debug_errors(DMA_IOVA_DBG_NONE);
	struct ib_umem_link *umem;
	struct page *page0;
	unsigned int k, failed = 0;

	KUNIT_EXPECT_EQ(test, PTR_ERR(ib_umem_link_get(env->ibdev, va, 0, 0)),
			-EINVAL);
	umem = ib_umem_link_get(env->ibdev, ULONG_MAX - 10, 100, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(umem), -EINVAL);
	umem = ib_umem_link_get(env->ibdev, va, len, IB_ACCESS_ON_DEMAND);
	KUNIT_EXPECT_EQ(test, PTR_ERR(umem), -EINVAL);
	/* B5: rxe/siw have no DMA device and must keep ib_umem_get() */
	KUNIT_EXPECT_EQ(test, PTR_ERR(ib_umem_link_get(virt, va, len, 0)),
			-EOPNOTSUPP);

	user_fill(test, va, len);
	page0 = user_page(test, va);

	/* link failures: each call into the lower layers fails in turn */
	for (k = 1; k < 32; k++) {
		fault_arm(k);
		umem = ib_umem_link_get(env->ibdev, va, len,
					IB_ACCESS_LOCAL_WRITE);
		if (!fault_disarm()) {
			KUNIT_ASSERT_FALSE(test, IS_ERR(umem));
			ib_umem_link_release(umem);
			break;
		}
		KUNIT_EXPECT_TRUE_MSG(test, IS_ERR(umem), "call %u", k);
		if (!IS_ERR(umem)) {
			ib_umem_link_release(umem);
			continue;
		}
		failed++;
		KUNIT_EXPECT_FALSE_MSG(test,
				       folio_maybe_dma_pinned(page_folio(page0)),
				       "call %u left pages pinned", k);
		KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm),
				pinned_vm);
	}
	KUNIT_EXPECT_GE_MSG(test, failed, 3, "too few lower-layer calls");
	KUNIT_EXPECT_LT(test, k, 32);

	/* a hole after five pages: the first batch pins, the second fails */
	vm_munmap(va + 5 * PAGE_SIZE, PAGE_SIZE);
	umem = ib_umem_link_get(env->ibdev, va, len, IB_ACCESS_LOCAL_WRITE);
	KUNIT_EXPECT_EQ(test, PTR_ERR(umem), -EFAULT);
	KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(page0)));
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm),
			pinned_vm);
	/* every IOVA reserved was released, no misuse of the API on the way */
	KUNIT_EXPECT_EQ(test, dma_iova_debug_live_states(NULL), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_debug_errors(DMA_IOVA_DBG_NONE), reports);
}

/* ODP */

/*
 * What the driver saw of invalidations. With @model set (under the
 * region's mutex), every invalidation clears the pages it covers there
 * and counts the mapped stretches it hit, whoever caused it: the test,
 * or the kernel (compaction migrates the pages of a large region).
 */
struct odp_ctx {
	unsigned int invalidations;
	unsigned long start, end;
	unsigned long *model;
	unsigned long hit, stretches;
};

/* Mapped stretches of @model in pages [@first, @first + @n). */
static unsigned long model_stretches(const unsigned long *model,
				     unsigned long first, unsigned long n)
{
	unsigned long i, nr = 0;

	for (i = first; i < first + n; i++)
		nr += test_bit(i, model) && (i == first || !test_bit(i - 1, model));
	return nr;
}

static void odp_ctx_invalidate(struct ib_umem_link_odp *odp,
			       unsigned long start, unsigned long end)
{
	struct odp_ctx *ctx = odp->priv;
	unsigned long first = (start - odp->start) >> PAGE_SHIFT;
	unsigned long n = DIV_ROUND_UP(end - odp->start, PAGE_SIZE) - first;
	unsigned long nr;

	ctx->invalidations++;
	ctx->start = start;
	ctx->end = end;
	if (!ctx->model)
		return;
	nr = model_stretches(ctx->model, first, n);
	ctx->stretches += nr;
	ctx->hit += !!nr;
	bitmap_clear(ctx->model, first, n);
}

static const struct ib_umem_link_odp_ops odp_ctx_ops = {
	.invalidate = odp_ctx_invalidate,
};

static void odp_release_action(void *odp)
{
	ib_umem_link_odp_release(odp);
}

/*
 * The region outlives the test function (the mm goes away with the test
 * thread, and invalidates it then), so its context is not on the stack.
 */
static struct ib_umem_link_odp *odp_get(struct kunit *test,
					struct mr_env *env, unsigned long va,
					size_t len)
{
	struct odp_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct ib_umem_link_odp *odp;

	KUNIT_ASSERT_NOT_NULL(test, ctx);

	odp = ib_umem_link_odp_get(env->ibdev, va, len, IB_ACCESS_LOCAL_WRITE |
				   IB_ACCESS_ON_DEMAND, &odp_ctx_ops, ctx);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(odp), "%pe", odp);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, odp_release_action,
						  odp), 0);
	return odp;
}

/* Pages of @odp mapped for the device, from the helper's pfn array. */
static unsigned long odp_mapped(struct ib_umem_link_odp *odp)
{
	unsigned long i, n = 0;

	for (i = 0; i < (odp->end - odp->start) >> PAGE_SHIFT; i++)
		n += !!(odp->dma.pfns[i] & HMM_DMA_MAPPED);
	return n;
}

static void odp_map(struct kunit *test, struct ib_umem_link_odp *odp,
		    unsigned long va, size_t len)
{
	KUNIT_ASSERT_EQ(test, ib_umem_link_odp_map_and_lock(odp, va, len, true),
			0);
	mutex_unlock(&odp->umem_mutex);
}

/* Page @i is mapped, at its place in the IOVA, to the current user page. */
static void expect_odp_page(struct kunit *test, struct mr_env *env,
			    struct ib_umem_link_odp *odp, unsigned int i,
			    bool mapped)
{
	unsigned long va = odp->start + i * PAGE_SIZE;
	dma_addr_t want = hmm_dma_iova(&odp->dma) + i * PAGE_SIZE;
	dma_addr_t dma;

	mutex_lock(&odp->umem_mutex);
	dma = ib_umem_link_odp_dma_addr(odp, va);
	mutex_unlock(&odp->umem_mutex);
	if (!mapped) {
		KUNIT_EXPECT_EQ_MSG(test, dma, DMA_MAPPING_ERROR, "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, odp->dma.pfns[i], 0, "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test,
				    iommu_iova_to_phys(env->iova->domain, want),
				    0, "page %u", i);
		return;
	}
	KUNIT_EXPECT_EQ_MSG(test, dma, want, "page %u", i);
	KUNIT_EXPECT_EQ_MSG(test, odp->dma.pfns[i] & HMM_DMA_STATE,
			    HMM_DMA_MAPPED, "page %u", i);
	KUNIT_EXPECT_TRUE(test, odp->dma.pfns[i] & HMM_PFN_WRITE);
	KUNIT_EXPECT_EQ_MSG(test, iommu_iova_to_phys(env->iova->domain, want),
			    page_to_phys(user_page(test, va)), "page %u", i);
}

/*
 * Faults link exactly the faulted pages into the IOVA reserved at
 * registration; the device writes through them into the user's memory.
 */
static void umem_link_odp_fault_should_link_pages(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	size_t len = 16 * PAGE_SIZE;
	unsigned long va = user_map(test, len);
	struct odp_ctx *ctx;
	struct ib_umem_link_odp *odp;
	unsigned int i;

	user_fill(test, va, len);
	odp = odp_get(test, env, va, len);
	ctx = odp->priv;
	KUNIT_EXPECT_EQ(test, odp_mapped(odp), 0);

	odp_map(test, odp, va + 2 * PAGE_SIZE, 8 * PAGE_SIZE);
	for (i = 0; i < 16; i++)
		expect_odp_page(test, env, odp, i, i >= 2 && i < 10);
	KUNIT_EXPECT_EQ(test, odp_mapped(odp), 8);

	/* a second fault over mapped pages links only the new ones */
	odp_map(test, odp, va + 8 * PAGE_SIZE, 4 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, odp_mapped(odp), 10);

	device_write(test, env, hmm_dma_iova(&odp->dma) +
		     4 * PAGE_SIZE - XFER / 2);
	expect_user_bytes(test, env, va + 4 * PAGE_SIZE - XFER / 2);
	KUNIT_EXPECT_EQ(test, ctx->invalidations, 0);
}

/*
 * On every path, direct-mapped too (a passthrough boot), a fault makes
 * the pages reachable at the address the region reports for them, and the
 * device's writes land in the user's memory.
 */
static void umem_link_odp_any_path_should_reach_user_pages(struct kunit *test)
{
	struct mr_env *env = mr_env_get_any(test, 0);
	size_t len = 4 * PAGE_SIZE;
	unsigned long va = user_map(test, len);
	struct ib_umem_link_odp *odp;
	unsigned int i;

	user_fill(test, va, len);
	odp = odp_get(test, env, va, len);
	odp_map(test, odp, va, len);
	KUNIT_EXPECT_EQ(test, odp_mapped(odp), 4);
	for (i = 0; i < 4; i++) {
		unsigned long at = va + i * PAGE_SIZE + (i ? 0x200 : 0);
		dma_addr_t dma;

		mutex_lock(&odp->umem_mutex);
		dma = ib_umem_link_odp_dma_addr(odp, at);
		mutex_unlock(&odp->umem_mutex);
		KUNIT_ASSERT_NE_MSG(test, dma, DMA_MAPPING_ERROR, "page %u", i);
		device_write(test, env, dma);
		expect_user_bytes(test, env, at);
	}
}

struct flush_counter {
	struct kprobe kp;
	struct iommu_domain *domain;
	atomic_t n;
};

static int flush_counter_hit(struct kprobe *kp, struct pt_regs *regs)
{
	struct flush_counter *fc = container_of(kp, struct flush_counter, kp);

	if ((void *)regs_get_kernel_argument(regs, 0) == fc->domain)
		atomic_inc(&fc->n);
	return 0;
}

static void flush_counter_stop(void *kp)
{
	unregister_kprobe(kp);
}

/*
 * Count calls of @symbol, or of the function at @addr, which takes
 * @domain first. Stop it with
 * counter_stop() before the test returns: the test thread's exit tears its
 * mm down (ODP invalidations) while KUnit's cleanup runs in another thread,
 * and a probe hit there while cleanup removed it oopsed on the int3 left
 * behind ("Oops: int3" on an SMP boot).
 */
static struct flush_counter *call_counter_start(struct kunit *test,
						struct iommu_domain *domain,
						const char *symbol, void *addr)
{
	struct flush_counter *fc = kunit_kzalloc(test, sizeof(*fc), GFP_KERNEL);
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, fc);
	fc->domain = domain;
	fc->kp.symbol_name = symbol;
	fc->kp.addr = addr;
	fc->kp.pre_handler = flush_counter_hit;
	ret = register_kprobe(&fc->kp);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "kprobe on %s", symbol ?: "iotlb_sync");
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, flush_counter_stop,
						  &fc->kp), 0);
	return fc;
}

static void counter_stop(struct kunit *test, struct flush_counter *fc)
{
	kunit_release_action(test, flush_counter_stop, &fc->kp);
}

/* Count the IOMMU driver's IOTLB syncs for @domain, whichever it is. */
static struct flush_counter *flush_counter_start(struct kunit *test,
						 struct iommu_domain *domain)
{
	void *sync = domain->ops->iotlb_sync;

	KUNIT_ASSERT_NOT_NULL_MSG(test, sync, "the IOMMU driver has no iotlb_sync");
	return call_counter_start(test, domain, NULL, sync);
}

/*
 * An invalidation (madvise DONTNEED, munmap) unlinks the pages in its range
 * with one IOTLB flush, whatever their number; the rest stays mapped, and
 * the pages fault back in at the same IOVA.
 */
static void umem_link_odp_invalidation_should_flush_once(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	size_t len = 16 * PAGE_SIZE;
	unsigned long va = user_map(test, len);
	struct odp_ctx *ctx;
	struct ib_umem_link_odp *odp;
	struct flush_counter *fc;
	unsigned int i;

	user_fill(test, va, len);
	odp = odp_get(test, env, va, len);
	ctx = odp->priv;
	odp_map(test, odp, va, 12 * PAGE_SIZE);
	fc = flush_counter_start(test, env->iova->domain);

	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, va + 2 * PAGE_SIZE,
					 4 * PAGE_SIZE, MADV_DONTNEED), 0);
	KUNIT_EXPECT_EQ(test, ctx->invalidations, 1);
	KUNIT_EXPECT_EQ(test, ctx->start, va + 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, ctx->end, va + 6 * PAGE_SIZE);
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&fc->n), 1,
			    "IOTLB syncs for one 4-page invalidation");
	for (i = 0; i < 16; i++)
		expect_odp_page(test, env, odp, i, i < 2 || (i >= 6 && i < 12));
	KUNIT_EXPECT_EQ(test, odp_mapped(odp), 8);

	KUNIT_ASSERT_EQ(test, vm_munmap(va + 8 * PAGE_SIZE, 8 * PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, ctx->invalidations, 2);
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&fc->n), 2,
			    "IOTLB syncs after a 4-mapped-page munmap");
	KUNIT_EXPECT_EQ(test, odp_mapped(odp), 4);

	/* refault: new pages at the same place in the IOVA */
	odp_map(test, odp, va + 2 * PAGE_SIZE, 4 * PAGE_SIZE);
	for (i = 0; i < 8; i++)
		expect_odp_page(test, env, odp, i, true);
	device_write(test, env, hmm_dma_iova(&odp->dma) +
		     3 * PAGE_SIZE - XFER / 2);
	expect_user_bytes(test, env, va + 3 * PAGE_SIZE - XFER / 2);
	counter_stop(test, fc);
}

/*
 * User memory that is NVMe CMB (mmap of p2pmem/allocate): faults link it
 * through the host bridge into the region's IOVA with the P2P bit in the
 * pfn list, and the device writes into the CMB through it. The same memory
 * cannot be pinned long-term: gup refuses P2P pages with FOLL_LONGTERM, and
 * the pinned registration fails cleanly.
 */
static void umem_link_odp_p2p_pages_should_carry_their_type(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	struct pci_dev *cmb_dev = cmb_provider(test, env->iova->edu.pdev);
	size_t len = 4 * PAGE_SIZE;
	unsigned long va = user_map_p2p(test, cmb_dev, len);
	struct ib_umem_link_odp *odp;
	struct ib_umem_link *pinned;
	unsigned int i;

	pci_dev_put(cmb_dev);	/* the NVMe device stays for good */
	p2p_need_host_bridge(test, cmb_dev, env_dev(env->iova));
	pinned = ib_umem_link_get(env->ibdev, va, len, IB_ACCESS_LOCAL_WRITE);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinned), -EFAULT);
	if (!IS_ERR(pinned))
		ib_umem_link_release(pinned);

	odp = odp_get(test, env, va, len);
	odp_map(test, odp, va, len);
	for (i = 0; i < 4; i++) {
		unsigned long pfn = odp->dma.pfns[i];
		struct page *page = hmm_dma_page(pfn);
		dma_addr_t iova = hmm_dma_iova(&odp->dma) + i * PAGE_SIZE;

		KUNIT_EXPECT_EQ_MSG(test, pfn & HMM_DMA_STATE,
				    HMM_DMA_MAPPED | HMM_DMA_P2P, "page %u", i);
		KUNIT_EXPECT_TRUE(test, is_pci_p2pdma_page(page));
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(env->iova->domain,
							 iova),
				page_to_phys(page));
	}
	device_write(test, env, hmm_dma_iova(&odp->dma) +
		     2 * PAGE_SIZE - XFER / 2);
	expect_user_bytes(test, env, va + 2 * PAGE_SIZE - XFER / 2);
}

/*
 * edu1 and nvme1 share a PCIe switch: the CMB faults in by bus address,
 * outside the IOVA, with the P2P_BUS bit. Mapping checks only: QEMU sends
 * every device DMA through the emulated IOMMU, so a bus address cannot be
 * reached by a real transfer here.
 */
static void umem_link_odp_bus_address_p2p_should_skip_the_iova(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 1);
	struct pci_dev *cmb_dev = cmb_provider(test, env->iova->edu.pdev);
	size_t len = 2 * PAGE_SIZE;
	unsigned long va = user_map_p2p(test, cmb_dev, len);
	struct ib_umem_link_odp *odp = odp_get(test, env, va, len);
	unsigned int i;

	odp_map(test, odp, va, len);
	for (i = 0; i < 2; i++) {
		unsigned long pfn = odp->dma.pfns[i];
		struct page *page = hmm_dma_page(pfn);
		dma_addr_t dma;

		mutex_lock(&odp->umem_mutex);
		dma = ib_umem_link_odp_dma_addr(odp, va + i * PAGE_SIZE);
		mutex_unlock(&odp->umem_mutex);
		KUNIT_EXPECT_EQ_MSG(test, pfn & HMM_DMA_STATE,
				    HMM_DMA_MAPPED | HMM_DMA_P2P_BUS,
				    "page %u", i);
		KUNIT_EXPECT_EQ(test, dma,
				pci_p2pmem_virt_to_bus(cmb_dev,
						       page_address(page)));
		KUNIT_EXPECT_EQ(test,
				iommu_iova_to_phys(env->iova->domain,
						   hmm_dma_iova(&odp->dma) +
						   i * PAGE_SIZE), 0);
	}
	pci_dev_put(cmb_dev);

	KUNIT_ASSERT_EQ(test, vm_munmap(va, len), 0);
	KUNIT_EXPECT_EQ(test, odp_mapped(odp), 0);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, odp->dma.pfns[i], 0);
}

/* Bad requests and failures half-way leave the region as it was. */
static void umem_link_odp_failures_should_unwind(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	struct ib_device *virt = ibdev_get(test, NULL);
	size_t len = 8 * PAGE_SIZE;
	unsigned long va = user_map(test, len);
	struct ib_umem_link_odp *odp, *ro;
	struct odp_ctx *ctx;
	unsigned int reports = dma_iova_debug_errors(DMA_IOVA_DBG_NONE);
	unsigned int i, k, failed = 0;
	int ret;

	/* B5: no DMA device, no IOVA: refused cleanly, not an oops */
	odp = ib_umem_link_odp_get(virt, va, len, IB_ACCESS_ON_DEMAND, NULL,
				   NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(odp), -EOPNOTSUPP);
	odp = ib_umem_link_odp_get(env->ibdev, va, 0, IB_ACCESS_ON_DEMAND,
				   NULL, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(odp), -EINVAL);

	user_fill(test, va, len);
	odp = odp_get(test, env, va, len);
	ctx = odp->priv;
	ret = ib_umem_link_odp_map_and_lock(odp, va - PAGE_SIZE, PAGE_SIZE,
					    false);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	ret = ib_umem_link_odp_map_and_lock(odp, va, len + 1, false);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	ro = ib_umem_link_odp_get(env->ibdev, va, len, IB_ACCESS_ON_DEMAND,
				  NULL, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(ro));
	KUNIT_EXPECT_EQ(test, ib_umem_link_odp_map_and_lock(ro, va, len, true),
			-EPERM);
	ib_umem_link_odp_release(ro);

	/* each lower-layer call of a 4-page fault fails in turn */
	for (k = 1; k < 16; k++) {
		fault_arm(k);
		ret = ib_umem_link_odp_map_and_lock(odp, va, 4 * PAGE_SIZE,
						    true);
		if (!fault_disarm()) {
			KUNIT_ASSERT_EQ(test, ret, 0);
			mutex_unlock(&odp->umem_mutex);
			break;
		}
		KUNIT_EXPECT_NE_MSG(test, ret, 0, "call %u", k);
		if (!ret) {
			mutex_unlock(&odp->umem_mutex);
			continue;
		}
		failed++;
		KUNIT_EXPECT_FALSE(test, mutex_is_locked(&odp->umem_mutex));
		KUNIT_EXPECT_EQ(test, odp_mapped(odp), 0);
		for (i = 0; i < 8; i++)
			KUNIT_EXPECT_EQ(test, odp->dma.pfns[i], 0);
	}
	/* one vectored map of the four pages, one IOTLB sync */
	KUNIT_EXPECT_EQ(test, failed, 2);
	for (i = 0; i < 8; i++)
		expect_odp_page(test, env, odp, i, i < 4);

	/* a hole: hmm_range_fault fails, nothing of the batch is linked */
	KUNIT_ASSERT_EQ(test, vm_munmap(va + 6 * PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, ctx->invalidations, 1);
	KUNIT_EXPECT_EQ(test, dma_iova_debug_errors(DMA_IOVA_DBG_NONE), reports);
	KUNIT_EXPECT_EQ(test, ib_umem_link_odp_map_and_lock(odp, va + 4 *
				PAGE_SIZE, 4 * PAGE_SIZE, true), -EFAULT);
	KUNIT_EXPECT_FALSE(test, mutex_is_locked(&odp->umem_mutex));
	KUNIT_EXPECT_EQ(test, odp_mapped(odp), 4);
}

struct release_probe {
	struct kprobe kp;
	struct ib_umem_link_odp *odp;
	int still_mapped;	/* -1 until @odp's notifier is removed */
};

/*
 * A kprobe handler runs as an NMI does (int3 on x86): it may take no lock,
 * and iommu_iova_to_phys() takes one in some drivers (virtio-iommu's
 * mapping tree). So it reads the helper's pfn array, whose entries are
 * cleared only once the IOMMU unmap and its IOTLB sync are done.
 */
static int release_probe_hit(struct kprobe *kp, struct pt_regs *regs)
{
	struct release_probe *rp = container_of(kp, struct release_probe, kp);

	if ((void *)regs_get_kernel_argument(regs, 0) == &rp->odp->notifier)
		rp->still_mapped = odp_mapped(rp->odp);
	return 0;
}

/*
 * Release unmaps every page before it removes the MMU notifier, as 6.12's
 * ib_umem_odp_release() does: ODP holds no page references, so once the
 * notifier is gone nothing stops reclaim or munmap from freeing a page the
 * device can still reach. Seen at the moment the notifier is removed, and
 * in the page tables once release is done.
 */
static void umem_link_odp_release_should_unmap_before_notifier_removal(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	size_t len = 16 * PAGE_SIZE;
	unsigned long va = user_map(test, len);
	struct release_probe rp = {
		.kp.symbol_name = "mmu_interval_notifier_remove",
		.kp.pre_handler = release_probe_hit,
		.still_mapped = -1,
	};
	unsigned int i, npages = len >> PAGE_SHIFT;
	dma_addr_t iova;
	int ret;

	user_fill(test, va, len);
	rp.odp = ib_umem_link_odp_get(env->ibdev, va, len,
				      IB_ACCESS_LOCAL_WRITE |
				      IB_ACCESS_ON_DEMAND, NULL, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(rp.odp));
	iova = hmm_dma_iova(&rp.odp->dma);
	ret = ib_umem_link_odp_map_and_lock(rp.odp, va, len, true);
	if (!ret)
		mutex_unlock(&rp.odp->umem_mutex);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, odp_mapped(rp.odp), npages);
	for (i = 0; i < npages; i++)
		expect_odp_page(test, env, rp.odp, i, true);
	ret = register_kprobe(&rp.kp);
	ib_umem_link_odp_release(rp.odp);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "kprobe on %s", rp.kp.symbol_name);
	unregister_kprobe(&rp.kp);
	KUNIT_EXPECT_EQ_MSG(test, rp.still_mapped, 0,
			    "pages mapped when the notifier went (-1: never removed)");
	expect_unmapped(test, env->iova->domain, iova, len);
}

struct odp_zapper {
	struct mm_struct *mm;
	unsigned long va;
	unsigned long npages;
	unsigned long zaps;
	unsigned long gap_us;	/* between zaps */
	int err;
	struct completion running;
};

/* Drop random stretches of the region's pages until told to stop. */
static int odp_zapper_fn(void *data)
{
	struct odp_zapper *z = data;

	complete(&z->running);
	while (!kthread_should_stop()) {
		unsigned long first = get_random_u32_below(z->npages);
		unsigned long n = 1 + get_random_u32_below(z->npages - first);
		int ret = do_madvise(z->mm, z->va + first * PAGE_SIZE,
				     n * PAGE_SIZE, MADV_DONTNEED);

		if (ret && !z->err)
			z->err = ret;
		z->zaps++;
		/*
		 * Give faults a chance to complete: back to back, the zaps
		 * kept every 64-page fault retrying until its timeout.
		 */
		usleep_range(z->gap_us, 2 * z->gap_us);
	}
	return 0;
}

/* Nanoseconds to register, fault in and release [@va, @va + @len) alone. */
static u64 odp_fault_ns(struct kunit *test, struct mr_env *env,
			unsigned long va, size_t len)
{
	struct ib_umem_link_odp *odp;
	u64 t0 = ktime_get_ns();

	odp = odp_get(test, env, va, len);
	odp_map(test, odp, va, len);
	kunit_release_action(test, odp_release_action, odp);
	return ktime_get_ns() - t0;
}

/*
 * Page @i of @odp, if mapped, is the page its entry names, in the IOMMU.
 * Called with the mutex held: no invalidation can run in between.
 */
static unsigned int odp_stale_pages(struct ib_umem_link_odp *odp,
				    struct iommu_domain *domain)
{
	unsigned long i, npages = (odp->end - odp->start) >> PAGE_SHIFT;
	unsigned int stale = 0;

	for (i = 0; i < npages; i++) {
		unsigned long pfn = odp->dma.pfns[i];
		dma_addr_t iova = hmm_dma_iova(&odp->dma) + i * PAGE_SIZE;

		if ((pfn & HMM_DMA_MAPPED) &&
		    iommu_iova_to_phys(domain, iova) !=
		    page_to_phys(hmm_dma_page(pfn)))
			stale++;
	}
	return stale;
}

/*
 * A second CPU drops random stretches of the region (MADV_DONTNEED: the
 * pages are freed, the notifier unmaps them) while this one registers,
 * faults in the whole region and releases it, over and over: faults race
 * invalidations, releases race both. Every mapped page is the current one,
 * and nothing is left mapped or reported; KASAN and the page allocator's
 * checks catch a page freed while the device could reach it.
 */
static void umem_link_odp_fault_and_release_should_survive_invalidation(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	unsigned int reports = dma_iova_debug_errors(DMA_IOVA_DBG_NONE);
	unsigned int live = dma_iova_debug_live_states(env_dev(env->iova));
	struct odp_zapper z = { .npages = 64 };
	unsigned int rounds = 0, faults = 0, busy = 0, stale = 0;
	unsigned long deadline = jiffies + 4 * HZ, invalidations = 0;
	struct odp_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct task_struct *zapper;
	int err = 0;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	z.va = user_map(test, z.npages * PAGE_SIZE);
	z.mm = current->mm;
	/*
	 * Zap no more often than a whole-region fault takes alone (1 ms at
	 * least): on a slower machine (arm64 under TCG: all 4 faults of a
	 * lazy run were invalidated before they completed, -EBUSY) faults
	 * must still complete between zaps, and they still race them.
	 */
	z.gap_us = max(1000ULL, odp_fault_ns(test, env, z.va,
					     z.npages * PAGE_SIZE) / 1000);
	init_completion(&z.running);
	zapper = kthread_create(odp_zapper_fn, &z, "odp_zapper");
	KUNIT_ASSERT_FALSE(test, IS_ERR(zapper));
	get_task_struct(zapper);
	kthread_bind(zapper, num_online_cpus() - 1);
	wake_up_process(zapper);
	/* kthread_stop() before it ran would skip its function */
	wait_for_completion(&z.running);

	while (time_before(jiffies, deadline) && !err) {
		struct ib_umem_link_odp *odp;
		int ret;

		ctx->invalidations = 0;
		odp = ib_umem_link_odp_get(env->ibdev, z.va,
					   z.npages * PAGE_SIZE,
					   IB_ACCESS_LOCAL_WRITE |
					   IB_ACCESS_ON_DEMAND,
					   &odp_ctx_ops, ctx);
		if (IS_ERR(odp)) {
			err = PTR_ERR(odp);
			break;
		}
		ret = ib_umem_link_odp_map_and_lock(odp, z.va,
						    z.npages * PAGE_SIZE, true);
		if (!ret) {
			stale += odp_stale_pages(odp, env->iova->domain);
			mutex_unlock(&odp->umem_mutex);
			faults++;
		} else if (ret == -EBUSY) {
			busy++;
		} else {
			err = ret;
		}
		/* sometimes release right away, racing the zapper */
		if (get_random_u32_below(2))
			cond_resched();
		ib_umem_link_odp_release(odp);
		invalidations += ctx->invalidations;
		rounds++;
	}
	kthread_stop_put(zapper);
	kunit_info(test, "%u rounds on %u CPUs: %u faults, %u busy, %lu invalidations, %lu zaps\n",
		   rounds, num_online_cpus(), faults, busy, invalidations,
		   z.zaps);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, z.err, 0);
	KUNIT_EXPECT_EQ(test, stale, 0);
	KUNIT_EXPECT_GT(test, faults, 0);
	/* the two really raced */
	KUNIT_EXPECT_GT(test, invalidations, 0);
	KUNIT_EXPECT_GE(test, num_online_cpus(), 2);
	KUNIT_EXPECT_EQ(test, dma_iova_debug_live_states(env_dev(env->iova)), live);
	KUNIT_EXPECT_EQ(test, dma_iova_debug_errors(DMA_IOVA_DBG_NONE), reports);
}

/* dma-buf */

static void dmabuf_move_notify(struct dma_buf_attachment *attach)
{
	ib_umem_link_dmabuf_unmap_pages(attach->importer_priv);
}

static const struct dma_buf_attach_ops dmabuf_importer_ops = {
	.allow_peer2peer = true,
	.move_notify = dmabuf_move_notify,
};

static void dmabuf_put_action(void *dmabuf)
{
	dma_buf_put(dmabuf);
}

static struct test_exporter *exporter_get(struct kunit *test,
					  const struct dma_buf_phys_vec *vecs,
					  unsigned int nr)
{
	struct test_exporter *exp = test_exporter_create(vecs, nr);

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(exp), "%pe", exp);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, dmabuf_put_action,
						  exp->dmabuf), 0);
	return exp;
}

static void dmabuf_release_action(void *umem)
{
	ib_umem_link_dmabuf_release(umem);
}

static struct ib_umem_link_dmabuf *dmabuf_import(struct kunit *test,
						 struct ib_device *ibdev,
						 struct test_exporter *exp)
{
	struct ib_umem_link_dmabuf *umem;

	umem = ib_umem_link_dmabuf_get(ibdev, exp->dmabuf, 0, exp->dmabuf->size,
				       IB_ACCESS_LOCAL_WRITE,
				       &dmabuf_importer_ops, NULL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(umem), "%pe", umem);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, dmabuf_release_action,
						  umem), 0);
	return umem;
}

static int dmabuf_map(struct ib_umem_link_dmabuf *umem)
{
	struct dma_resv *resv = umem->attach->dmabuf->resv;
	int ret;

	dma_resv_lock(resv, NULL);
	ret = ib_umem_link_dmabuf_map_pages(umem);
	dma_resv_unlock(resv);
	return ret;
}

/*
 * One region over host page, 8 KiB of NVMe CMB, host page: one IOVA
 * segment, types recorded, and the device's writes across both host/CMB
 * boundaries land in host memory and in the CMB.
 */
static void umem_link_dmabuf_host_and_cmb_should_share_the_iova(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	struct p2p_buf *cmb = p2p_get(test, env->iova->edu.pdev, 2 * PAGE_SIZE);
	struct dma_buf_phys_vec vecs[] = {
		{ pages_get(test, 0, 0), PAGE_SIZE },
		{ virt_to_phys(cmb->va), 2 * PAGE_SIZE },
		{ pages_get(test, 0, 0), PAGE_SIZE },
	};
	struct test_exporter *exp = exporter_get(test, vecs, 3);
	struct ib_umem_link_dmabuf *umem = dmabuf_import(test, env->ibdev, exp);
	struct dma_iova_mapping *map = &umem->umem.map;
	static const u8 types[] = { DMA_CHUNK_HOST, DMA_CHUNK_P2P_HOST_BRIDGE,
				    DMA_CHUNK_HOST };
	const size_t offs[] = { 0, PAGE_SIZE, 3 * PAGE_SIZE };
	struct dma_iova_seg seg;
	unsigned int i;

	p2p_need_host_bridge(test, cmb->pdev, env_dev(env->iova));
	KUNIT_ASSERT_EQ(test, dmabuf_map(umem), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&exp->mapped), 1);
	KUNIT_ASSERT_EQ(test, dma_iova_nr_chunks(map), 3);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, type_at(map, umem->umem.map_offset +
					      offs[i]), types[i]);
	KUNIT_ASSERT_EQ(test, nr_segs(map, &seg), 1);
	KUNIT_EXPECT_EQ(test, seg.len, 4 * PAGE_SIZE);
	expect_resolves(test, env->iova->domain, map, 0, vecs[0].paddr,
			PAGE_SIZE);
	expect_resolves(test, env->iova->domain, map, PAGE_SIZE, vecs[1].paddr,
			2 * PAGE_SIZE);
	expect_resolves(test, env->iova->domain, map, 3 * PAGE_SIZE,
			vecs[2].paddr, PAGE_SIZE);

	device_write(test, env, seg.addr + PAGE_SIZE - XFER / 2);
	KUNIT_EXPECT_MEMEQ(test, phys_to_virt(vecs[0].paddr) + PAGE_SIZE -
			   XFER / 2, env->src, XFER / 2);
	KUNIT_EXPECT_MEMEQ(test, cmb->va, env->src + XFER / 2, XFER / 2);
	device_write(test, env, seg.addr + 3 * PAGE_SIZE - XFER / 2);
	KUNIT_EXPECT_MEMEQ(test, cmb->va + 2 * PAGE_SIZE - XFER / 2, env->src,
			   XFER / 2);
	KUNIT_EXPECT_MEMEQ(test, phys_to_virt(vecs[2].paddr),
			   env->src + XFER / 2, XFER / 2);

	kunit_release_action(test, dmabuf_release_action, umem);
	KUNIT_EXPECT_EQ(test, atomic_read(&exp->mapped), 0);
	expect_unmapped(test, env->iova->domain, seg.addr, seg.len);
}

/*
 * The exporter moves a page while the region is in use: move_notify
 * unlinks everything (nothing stale left in the IOVA), the next map links
 * the new page at the same place.
 */
static void umem_link_dmabuf_move_should_relink(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	struct dma_buf_phys_vec vecs[] = {
		{ pages_get(test, 0, 0), PAGE_SIZE },
		{ pages_get(test, 1, 0), 2 * PAGE_SIZE },
	};
	phys_addr_t moved = pages_get(test, 1, 0);
	struct test_exporter *exp = exporter_get(test, vecs, 2);
	struct ib_umem_link_dmabuf *umem = dmabuf_import(test, env->ibdev, exp);
	struct dma_iova_mapping *map = &umem->umem.map;
	dma_addr_t base;

	KUNIT_ASSERT_EQ(test, dmabuf_map(umem), 0);
	base = dma_iova_addr(map);
	expect_resolves(test, env->iova->domain, map, PAGE_SIZE, vecs[1].paddr,
			2 * PAGE_SIZE);

	test_exporter_move(exp, 1, moved);
	KUNIT_EXPECT_NULL(test, umem->phys);
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(map), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&exp->mapped), 0);
	expect_unmapped(test, env->iova->domain, base, 3 * PAGE_SIZE);

	KUNIT_ASSERT_EQ(test, dmabuf_map(umem), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_addr(map), base);
	expect_resolves(test, env->iova->domain, map, 0, vecs[0].paddr,
			PAGE_SIZE);
	expect_resolves(test, env->iova->domain, map, PAGE_SIZE, moved,
			2 * PAGE_SIZE);
	device_write(test, env, base + PAGE_SIZE + 100);
	KUNIT_EXPECT_MEMEQ(test, phys_to_virt(moved) + 100, env->src, XFER);
}

/*
 * A move whose copy is still in flight: move_notify unlinks, and the next
 * map links the new place and returns only once the exporter's fence for
 * the copy has signalled, so the device never sees the bytes before they
 * arrive (6.12's ib_umem_dmabuf_map_pages() waits the same way).
 */
static void umem_link_dmabuf_map_should_wait_for_the_move(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	struct dma_buf_phys_vec vecs[] = {
		{ pages_get(test, 0, 0), PAGE_SIZE },
	};
	phys_addr_t moved = pages_get(test, 0, 0);
	struct test_exporter *exp = exporter_get(test, vecs, 1);
	struct ib_umem_link_dmabuf *umem = dmabuf_import(test, env->ibdev, exp);
	struct test_move *mv;

	memset(phys_to_virt(vecs[0].paddr), 0x5a, PAGE_SIZE);
	memset(phys_to_virt(moved), 0, PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, dmabuf_map(umem), 0);

	mv = test_exporter_move_fenced(exp, 0, moved, msecs_to_jiffies(200));
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(mv), "%pe", mv);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_move_done,
							mv), 0);
	KUNIT_EXPECT_NULL(test, umem->phys);

	KUNIT_ASSERT_EQ(test, dmabuf_map(umem), 0);
	KUNIT_EXPECT_TRUE_MSG(test, dma_fence_is_signaled(&mv->fence),
			      "map returned before the move's copy landed");
	KUNIT_EXPECT_EQ(test, *(u8 *)phys_to_virt(moved), 0x5a);
	expect_resolves(test, env->iova->domain, &umem->umem.map, 0, moved,
			PAGE_SIZE);
}

/*
 * A pinned import (for drivers without move_notify): the exporter is
 * pinned and the memory linked at once; release unlinks and unpins. A
 * pinned import the device cannot reach leaves nothing pinned or mapped.
 */
static void umem_link_dmabuf_pinned_import_should_pin_and_link(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	struct p2p_buf *cmb = p2p_get(test, env->iova->edu.pdev, 2 * PAGE_SIZE);
	struct dma_buf_phys_vec vecs[] = {
		{ pages_get(test, 0, 0), PAGE_SIZE },
		{ virt_to_phys(cmb->va), 2 * PAGE_SIZE },
	};
	struct test_exporter *exp = exporter_get(test, vecs, 2);
	struct device *nopci = direct_dev_get(test, "umem_link_nopin");
	struct ib_umem_link_dmabuf *umem;
	struct dma_iova_seg seg;

	p2p_need_host_bridge(test, cmb->pdev, env_dev(env->iova));
	umem = ib_umem_link_dmabuf_get_pinned(env->ibdev, exp->dmabuf, 0,
					      3 * PAGE_SIZE,
					      IB_ACCESS_LOCAL_WRITE);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(umem), "%pe", umem);
	KUNIT_EXPECT_TRUE(test, umem->pinned);
	/* ours, plus the map's own pin without CONFIG_DMABUF_MOVE_NOTIFY */
	KUNIT_EXPECT_EQ(test, atomic_read(&exp->pinned),
			IS_ENABLED(CONFIG_DMABUF_MOVE_NOTIFY) ? 1 : 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&exp->mapped), 1);
	KUNIT_ASSERT_EQ(test, nr_segs(&umem->umem.map, &seg), 1);
	KUNIT_EXPECT_EQ(test, seg.len, 3 * PAGE_SIZE);
	device_write(test, env, seg.addr + PAGE_SIZE - XFER / 2);
	KUNIT_EXPECT_MEMEQ(test, cmb->va, env->src + XFER / 2, XFER / 2);
	ib_umem_link_dmabuf_release(umem);
	KUNIT_EXPECT_EQ(test, atomic_read(&exp->pinned), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&exp->mapped), 0);
	expect_unmapped(test, env->iova->domain, seg.addr, seg.len);

	umem = ib_umem_link_dmabuf_get_pinned(ibdev_get(test, nopci),
					      exp->dmabuf, 0, 3 * PAGE_SIZE, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(umem), -EREMOTEIO);
	KUNIT_EXPECT_EQ(test, atomic_read(&exp->pinned), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&exp->mapped), 0);
}

KUNIT_DEFINE_ACTION_WRAPPER(pci_dev_put_action, pci_dev_put, struct pci_dev *);
KUNIT_DEFINE_ACTION_WRAPPER(pci_disable_action, pci_disable_device,
			    struct pci_dev *);

/*
 * QEMU's ivshmem-plain: BAR 2 is plain memory that no driver claims, so it
 * has no struct pages, as a BAR VFIO exports; enabled for decoding here.
 */
static struct pci_dev *bar_provider(struct kunit *test)
{
	struct pci_dev *pdev = pci_get_device(PCI_VENDOR_ID_REDHAT_QUMRANET,
					      0x1110, NULL);
	unsigned long pfn;

	KUNIT_ASSERT_NOT_NULL_MSG(test, pdev, "no ivshmem-plain device");
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							pci_dev_put_action,
							pdev), 0);
	KUNIT_ASSERT_EQ(test, pci_enable_device_mem(pdev), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							pci_disable_action,
							pdev), 0);
	KUNIT_ASSERT_GE(test, pci_resource_len(pdev, 2), 6 * PAGE_SIZE);
	pfn = PHYS_PFN(pci_resource_start(pdev, 2));
	KUNIT_ASSERT_FALSE(test, pfn_valid(pfn));
	return pdev;
}

/*
 * An exporter's BAR memory that has no struct pages, between two host
 * pages: the core finds its provider by address, links it through the host
 * bridge as MMIO, and the device writes across both boundaries into host
 * memory and the BAR. A device that cannot reach the BAR gets -EREMOTEIO.
 */
static void umem_link_dmabuf_bar_without_pages_should_link(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	struct pci_dev *bar = bar_provider(test);
	phys_addr_t bar_phys = pci_resource_start(bar, 2);
	struct dma_buf_phys_vec vecs[] = {
		{ pages_get(test, 0, 0), PAGE_SIZE },
		{ bar_phys + 4 * PAGE_SIZE, 2 * PAGE_SIZE },
		{ pages_get(test, 0, 0), PAGE_SIZE },
	};
	struct test_exporter *exp = exporter_get(test, vecs, 3);
	struct ib_umem_link_dmabuf *umem = dmabuf_import(test, env->ibdev, exp);
	struct device *nopci = direct_dev_get(test, "umem_link_nobar");
	struct dma_iova_mapping *map = &umem->umem.map;
	struct dma_iova_seg seg;
	void __iomem *io;
	u8 *got;

	p2p_need_host_bridge(test, bar, env_dev(env->iova));
	io = pci_iomap_range(bar, 2, 4 * PAGE_SIZE, 2 * PAGE_SIZE);
	KUNIT_ASSERT_TRUE(test, io);
	memset_io(io, 0, 2 * PAGE_SIZE);
	got = kunit_kzalloc(test, XFER, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, got);

	KUNIT_ASSERT_EQ(test, dmabuf_map(umem), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_nr_chunks(map), 3);
	KUNIT_EXPECT_EQ(test, type_at(map, umem->umem.map_offset + PAGE_SIZE),
			DMA_CHUNK_P2P_HOST_BRIDGE);
	KUNIT_ASSERT_EQ(test, nr_segs(map, &seg), 1);
	KUNIT_EXPECT_EQ(test, seg.len, 4 * PAGE_SIZE);
	expect_resolves(test, env->iova->domain, map, PAGE_SIZE, vecs[1].paddr,
			2 * PAGE_SIZE);

	device_write(test, env, seg.addr + PAGE_SIZE - XFER / 2);
	KUNIT_EXPECT_MEMEQ(test, phys_to_virt(vecs[0].paddr) + PAGE_SIZE -
			   XFER / 2, env->src, XFER / 2);
	memcpy_fromio(got, io, XFER / 2);
	KUNIT_EXPECT_MEMEQ(test, got, env->src + XFER / 2, XFER / 2);
	device_write(test, env, seg.addr + 3 * PAGE_SIZE - XFER / 2);
	memcpy_fromio(got, io + 2 * PAGE_SIZE - XFER / 2, XFER / 2);
	KUNIT_EXPECT_MEMEQ(test, got, env->src, XFER / 2);
	KUNIT_EXPECT_MEMEQ(test, phys_to_virt(vecs[2].paddr),
			   env->src + XFER / 2, XFER / 2);
	pci_iounmap(bar, io);
	kunit_release_action(test, dmabuf_release_action, umem);
	expect_unmapped(test, env->iova->domain, seg.addr, seg.len);

	umem = dmabuf_import(test, ibdev_get(test, nopci), exp);
	KUNIT_EXPECT_EQ(test, dmabuf_map(umem), -EREMOTEIO);
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(&umem->umem.map), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&exp->mapped), 0);
}

/*
 * Behind a shared switch the CMB is reached by bus address: a segment of
 * its own between the two host segments in the IOVA, and HW blocks never
 * straddle a segment edge. The device writes into the host parts (QEMU
 * cannot route a real transfer to the bus address, see above).
 */
static void umem_link_dmabuf_bus_address_p2p_should_be_own_segment(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 1);
	struct p2p_buf *cmb = p2p_get(test, env->iova->edu.pdev, 2 * PAGE_SIZE);
	struct dma_buf_phys_vec vecs[] = {
		{ pages_get(test, 0, 0), PAGE_SIZE },
		{ virt_to_phys(cmb->va), 2 * PAGE_SIZE },
		{ pages_get(test, 0, 0), PAGE_SIZE },
	};
	struct test_exporter *exp = exporter_get(test, vecs, 3);
	struct ib_umem_link_dmabuf *umem = dmabuf_import(test, env->ibdev, exp);
	struct dma_iova_mapping *map = &umem->umem.map;
	static const u8 types[] = { DMA_CHUNK_HOST, DMA_CHUNK_P2P_BUS,
				    DMA_CHUNK_HOST };
	const size_t offs[] = { 0, PAGE_SIZE, 3 * PAGE_SIZE };
	dma_addr_t bus = pci_p2pmem_virt_to_bus(cmb->pdev, cmb->va);
	struct ib_umem_link_block_iter iter;
	dma_addr_t block, blocks[4];
	struct dma_iova_seg seg;
	unsigned int i, n = 0;

	KUNIT_ASSERT_EQ(test, dmabuf_map(umem), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_nr_chunks(map), 3);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, type_at(map, umem->umem.map_offset +
					      offs[i]), types[i]);
	KUNIT_EXPECT_EQ(test, dma_iova_find_chunk(map, umem->umem.map_offset +
						  PAGE_SIZE)->dma_addr, bus);
	KUNIT_EXPECT_EQ(test, nr_segs(map, &seg), 3);
	expect_resolves(test, env->iova->domain, map, 0, vecs[0].paddr,
			PAGE_SIZE);
	expect_resolves(test, env->iova->domain, map, 3 * PAGE_SIZE,
			vecs[2].paddr, PAGE_SIZE);
	expect_unmapped(test, env->iova->domain, dma_iova_addr(map) + PAGE_SIZE, 2 * PAGE_SIZE);

	/* segment edges at 1 and 3 pages into the region: page-sized blocks */
	KUNIT_EXPECT_EQ(test,
			ib_umem_link_find_best_pgsz(&umem->umem,
						    PAGE_SIZE | 16 * PAGE_SIZE | SZ_2M,
						    dma_iova_addr(map)), PAGE_SIZE);
	ib_umem_link_for_each_block(&umem->umem, &iter, PAGE_SIZE, &block)
		if (n < ARRAY_SIZE(blocks))
			blocks[n++] = block;
	KUNIT_ASSERT_EQ(test, n, 4);
	KUNIT_EXPECT_EQ(test, blocks[0], dma_iova_addr(map));
	KUNIT_EXPECT_EQ(test, blocks[1], bus);
	KUNIT_EXPECT_EQ(test, blocks[2], bus + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, blocks[3], dma_iova_addr(map) + 3 * PAGE_SIZE);

	device_write(test, env, dma_iova_addr(map) + 3 * PAGE_SIZE + 100);
	KUNIT_EXPECT_MEMEQ(test, phys_to_virt(vecs[2].paddr) + 100, env->src,
			   XFER);
}

/*
 * Peer memory the device cannot reach, a buffer shorter than its ranges,
 * a device without DMA: clear errors, nothing linked, nothing held.
 */
static void umem_link_dmabuf_failures_should_unwind(struct kunit *test)
{
	struct mr_env *env = mr_env_get(test, 0);
	struct p2p_buf *cmb = p2p_get(test, env->iova->edu.pdev, PAGE_SIZE);
	struct dma_buf_phys_vec vecs[] = {
		{ pages_get(test, 0, 0), PAGE_SIZE },
		{ virt_to_phys(cmb->va), PAGE_SIZE },
	};
	struct test_exporter *exp = exporter_get(test, vecs, 2);
	struct device *nopci = direct_dev_get(test, "umem_link_nopci");
	struct ib_device *virt = ibdev_get(test, NULL);
	struct ib_umem_link_dmabuf *umem;
	struct dma_buf_attach_ops no_move = {};

	umem = ib_umem_link_dmabuf_get(virt, exp->dmabuf, 0, PAGE_SIZE, 0,
				       &dmabuf_importer_ops, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(umem), -EOPNOTSUPP);
	/* past the end of the buffer */
	umem = ib_umem_link_dmabuf_get(env->ibdev, exp->dmabuf, PAGE_SIZE, 2 * PAGE_SIZE,
				       0, &dmabuf_importer_ops, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(umem), -EINVAL);
	umem = ib_umem_link_dmabuf_get(env->ibdev, exp->dmabuf, 0, PAGE_SIZE, 0,
				       &no_move, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(umem), -EINVAL);

	/* a non-PCI device cannot reach the CMB: -EREMOTEIO, all undone */
	umem = dmabuf_import(test, ibdev_get(test, nopci), exp);
	KUNIT_EXPECT_EQ(test, dmabuf_map(umem), -EREMOTEIO);
	KUNIT_EXPECT_NULL(test, umem->phys);
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(&umem->umem.map), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&exp->mapped), 0);

	/* the reachable part alone maps */
	umem = ib_umem_link_dmabuf_get(env->ibdev, exp->dmabuf, 0, PAGE_SIZE, 0,
				       &dmabuf_importer_ops, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(umem));
	KUNIT_EXPECT_EQ(test, dmabuf_map(umem), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_nr_chunks(&umem->umem.map), 1);
	ib_umem_link_dmabuf_release(umem);
	KUNIT_EXPECT_EQ(test, atomic_read(&exp->mapped), 0);
}

/* Large regions, as users register them */

static u64 ms(u64 ns)
{
	return div_u64(ns, NSEC_PER_MSEC);
}

/*
 * Fault [@va, @va + @len) in as a driver's page-fault handler does: an
 * -EBUSY (invalidations of the region kept racing the fault for
 * HMM_RANGE_DEFAULT_TIMEOUT, as compaction's migrations do) is counted in
 * *@busy and tried again, a few times. Returns with the mutex held.
 */
static void odp_fault(struct kunit *test, struct ib_umem_link_odp *odp,
		      unsigned long va, size_t len, unsigned int *busy)
{
	struct odp_ctx *ctx = odp->priv;
	unsigned int tries;
	int ret;

	for (tries = 0; tries < 8; tries++) {
		ret = ib_umem_link_odp_map_and_lock(odp, va, len, true);
		if (ret != -EBUSY)
			break;
		(*busy)++;
	}
	KUNIT_ASSERT_EQ_MSG(test, ret, 0,
			    "%u invalidations while faulting, the last [%lx, %lx)",
			    ctx->invalidations, ctx->start, ctx->end);
}

/* Pages whose HMM_DMA_MAPPED bit differs from @model. */
static unsigned long odp_model_diff(struct ib_umem_link_odp *odp,
				    const unsigned long *model)
{
	unsigned long i, n = (odp->end - odp->start) >> PAGE_SHIFT, bad = 0;

	for (i = 0; i < n; i++)
		bad += !!(odp->dma.pfns[i] & HMM_DMA_MAPPED) != test_bit(i, model);
	return bad;
}

static const size_t large_sizes[] = { SZ_64M, SZ_1G };

static void large_size_desc(const size_t *size, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%zu MiB", *size >> 20);
}

KUNIT_ARRAY_PARAM(large, large_sizes, large_size_desc);

/* What the last ODP size took per page, whole case: the next one's estimate */
static u64 odp_large_ns_per_page;

/*
 * An ODP region of 64 MiB and of 1 GiB (262144 pages): faulted fully in
 * batches, invalidated in 256 random ranges, then faulted back a page at a
 * time in random order. The mapped state always matches a model of every
 * invalidation, the kernel's own included (with 64 KiB pages, compaction
 * migrates pages of the 1 GiB region while it is faulted in), an
 * invalidation costs one unmap per mapped stretch it hits, and the
 * device's writes through the IOVA land. Times and memory are reported per
 * page, so that the two sizes compare (linear time means equal figures).
 */
static void umem_link_odp_large_region_should_scale(struct kunit *test)
{
	const size_t len = *(const size_t *)test->param_value;
	unsigned long npages = len >> PAGE_SHIFT, i, k, first, n, inv;
	unsigned long sparse = npages / 64, iommu_pages, stretches = 0, hit = 0;
	unsigned long nr_unmaps, nr_syncs, diff, mapped, modelled;
	unsigned int raced, passes, busy = 0;
	struct mr_env *env = mr_env_get(test, 0);
	struct flush_counter *fc, *unmaps;
	struct ib_umem_link_odp *odp;
	struct odp_ctx *ctx;
	struct rnd_state rnd;
	unsigned long *model;
	u64 t0, t_full, t_inval, t_sparse, t_case = ktime_get_ns(), est;
	unsigned long va;

	/*
	 * KUnit gives a case 300 s. Where every map is slow (virtio-iommu
	 * under TCG serves each page's map as a request, ~1 ms), skip a size
	 * the smaller one says cannot finish, naming the limit, rather than
	 * time out.
	 */
	est = div_u64(odp_large_ns_per_page * npages, NSEC_PER_SEC);
	if (est >= 300)
		kunit_skip(test,
			   "%llu ns/page at the smaller size: %lu pages need ~%llu s, beyond KUnit's 300 s per case",
			   odp_large_ns_per_page, npages, est);
	edu_wide_mask(test, env_dev(env->iova));
	model = kunit_kzalloc(test, BITS_TO_LONGS(npages) * sizeof(long),
			      GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, model);
	prandom_seed_state(&rnd, len);
	va = user_map(test, len);
	/* 4 KiB pages: a THP split would invalidate beyond a range's ends */
	KUNIT_ASSERT_EQ(test, do_madvise(current->mm, va, len,
					 MADV_NOHUGEPAGE), 0);
	iommu_pages = global_node_page_state(NR_IOMMU_PAGES);
	odp = odp_get(test, env, va, len);
	ctx = odp->priv;

	/*
	 * Fault the region in until no invalidation raced a whole pass
	 * (each pass after the first maps only what was invalidated), then
	 * hand the model to the invalidation callback under the mutex.
	 */
	t0 = ktime_get_ns();
	for (passes = 1;; passes++) {
		raced = READ_ONCE(ctx->invalidations);
		odp_fault(test, odp, va, len, &busy);
		if (passes == 1)
			t_full = ktime_get_ns() - t0;
		if (ctx->invalidations == raced)
			break;
		mutex_unlock(&odp->umem_mutex);
		KUNIT_ASSERT_LT(test, passes, 16);
	}
	raced = ctx->invalidations;
	bitmap_fill(model, npages);
	ctx->model = model;
	diff = odp_model_diff(odp, model);
	mutex_unlock(&odp->umem_mutex);
	/* checked after the unlock: a failed check allocates */
	KUNIT_EXPECT_EQ(test, diff, 0);
	iommu_pages = global_node_page_state(NR_IOMMU_PAGES) - iommu_pages;
	for (k = 0; k < 32; k++)
		expect_odp_page(test, env, odp,
				prandom_u32_state(&rnd) % npages, true);
	i = prandom_u32_state(&rnd) % npages;
	device_write(test, env, hmm_dma_iova(&odp->dma) + i * PAGE_SIZE);
	expect_user_bytes(test, env, va + i * PAGE_SIZE);

	fc = flush_counter_start(test, env->iova->domain);
	unmaps = call_counter_start(test, env->iova->domain, "iommu_unmap_fast",
				    NULL);
	/*
	 * The kernel may invalidate between the counters' start and here:
	 * count from here, under the mutex its unmaps are done in.
	 */
	mutex_lock(&odp->umem_mutex);
	inv = ctx->invalidations;
	ctx->hit = 0;
	ctx->stretches = 0;
	nr_unmaps = atomic_read(&unmaps->n);
	nr_syncs = atomic_read(&fc->n);
	mutex_unlock(&odp->umem_mutex);
	t0 = ktime_get_ns();
	for (k = 0; k < 256; k++) {
		first = prandom_u32_state(&rnd) % npages;
		n = min(1 + prandom_u32_state(&rnd) % (npages / 128),
			npages - first);
		KUNIT_ASSERT_EQ(test, do_madvise(current->mm,
						 va + first * PAGE_SIZE,
						 n * PAGE_SIZE, MADV_DONTNEED),
				0);
	}
	t_inval = ktime_get_ns() - t0;
	/*
	 * One unmap call per mapped stretch and one IOTLB sync per range
	 * from us; VT-d's gather syncs early whenever the next unmap is
	 * disjoint or of another page size, so count syncs, do not bound.
	 */
	mutex_lock(&odp->umem_mutex);
	inv = ctx->invalidations - inv;
	nr_unmaps = atomic_read(&unmaps->n) - nr_unmaps;
	nr_syncs = atomic_read(&fc->n) - nr_syncs;
	hit = ctx->hit;
	stretches = ctx->stretches;
	diff = odp_model_diff(odp, model);
	mutex_unlock(&odp->umem_mutex);
	KUNIT_EXPECT_GE(test, inv, 256);
	KUNIT_EXPECT_EQ(test, nr_unmaps, stretches);
	KUNIT_EXPECT_GE(test, nr_syncs, hit);
	KUNIT_EXPECT_EQ(test, diff, 0);

	t0 = ktime_get_ns();
	for (k = 0; k < sparse; k++) {
		i = prandom_u32_state(&rnd) % npages;
		odp_fault(test, odp, va + i * PAGE_SIZE, PAGE_SIZE, &busy);
		__set_bit(i, model);
		mutex_unlock(&odp->umem_mutex);
	}
	t_sparse = ktime_get_ns() - t0;
	mutex_lock(&odp->umem_mutex);
	diff = odp_model_diff(odp, model);
	mapped = odp_mapped(odp);
	modelled = bitmap_weight(model, npages);
	ctx->model = NULL;
	mutex_unlock(&odp->umem_mutex);
	KUNIT_EXPECT_EQ(test, diff, 0);
	KUNIT_EXPECT_EQ(test, mapped, modelled);
	device_write(test, env, hmm_dma_iova(&odp->dma) + i * PAGE_SIZE);
	expect_user_bytes(test, env, va + i * PAGE_SIZE);

	kunit_info(test, "ODP %zu MiB: %lu pages; DMA state %zu B (%zu B/page, nothing per mapped page), IOMMU page tables %lu KiB\n",
		   len >> 20, npages, npages * sizeof(*odp->dma.pfns) +
		   sizeof(odp->dma), sizeof(*odp->dma.pfns),
		   iommu_pages << (PAGE_SHIFT - 10));
	kunit_info(test, "ODP %zu MiB: full fault %llu ms (%llu ns/page; %u invalidations raced it, %u passes, %u busy faults); 256 random invalidations %llu ms (%lu hit %lu mapped stretches: %lu unmaps, %lu IOTLB syncs); %lu one-page faults in random order %llu ms (%llu ns/page)\n",
		   len >> 20, ms(t_full), div_u64(t_full, npages), raced, passes, busy, ms(t_inval),
		   hit, stretches, nr_unmaps, nr_syncs,
		   sparse, ms(t_sparse),
		   div_u64(t_sparse, sparse));
	counter_stop(test, unmaps);
	counter_stop(test, fc);
	odp_large_ns_per_page = div_u64(ktime_get_ns() - t_case, npages);
}

/*
 * A pinned region of 64 MiB and of 1 GiB: one run in the record whatever
 * the pages, every byte checked resolves to its page, the device's write
 * lands; time and memory reported per page.
 */
static void umem_link_pinned_large_region_should_scale(struct kunit *test)
{
	const size_t len = *(const size_t *)test->param_value;
	unsigned long npages = len >> PAGE_SHIFT, k, va;
	struct mr_env *env = mr_env_get(test, 0);
	struct ib_umem_link *umem;
	struct dma_iova_seg seg;
	struct rnd_state rnd;
	u64 t0, t_get, t_rel;
	size_t off;

	edu_wide_mask(test, env_dev(env->iova));
	prandom_seed_state(&rnd, len);
	va = user_map(test, len);
	user_fill(test, va, len);

	t0 = ktime_get_ns();
	umem = ib_umem_link_get(env->ibdev, va, len, IB_ACCESS_LOCAL_WRITE);
	t_get = ktime_get_ns() - t0;
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(umem), "%pe", umem);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							umem_release_action,
							umem), 0);
	KUNIT_EXPECT_EQ(test, nr_segs(&umem->map, &seg), 1);
	KUNIT_EXPECT_EQ(test, seg.len, len);
	for (k = 0; k < 32; k++)
		expect_region_resolves(test, env, umem, dma_iova_addr(&umem->map),
				       (prandom_u32_state(&rnd) % npages) *
				       PAGE_SIZE);
	off = (prandom_u32_state(&rnd) % npages) * PAGE_SIZE;
	device_write(test, env, dma_iova_addr(&umem->map) + off);
	expect_user_bytes(test, env, va + off);
	kunit_info(test, "pinned %zu MiB: %lu pages, %lu pinned runs; record %zu B + runs %zu B (%llu mB/page)\n",
		   len >> 20, npages, umem->nr_pins,
		   dma_iova_record_bytes(&umem->map),
		   umem->max_pins * sizeof(*umem->pins),
		   div_u64((u64)(dma_iova_record_bytes(&umem->map) +
				 umem->max_pins * sizeof(*umem->pins)) * 1000,
			   npages));

	t0 = ktime_get_ns();
	kunit_release_action(test, umem_release_action, umem);
	t_rel = ktime_get_ns() - t0;
	kunit_info(test, "pinned %zu MiB: pin+link %llu ms (%llu ns/page), release %llu ms (%llu ns/page)\n",
		   len >> 20, ms(t_get), div_u64(t_get, npages), ms(t_rel),
		   div_u64(t_rel, npages));
}

static struct kunit_case umem_link_large_cases[] = {
	KUNIT_CASE_PARAM_ATTR(umem_link_odp_large_region_should_scale,
			      large_gen_params, { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE_PARAM_ATTR(umem_link_pinned_large_region_should_scale,
			      large_gen_params, { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite umem_link_large_suite = {
	.name = "umem_link_large",
	.test_cases = umem_link_large_cases,
};

static struct kunit_case umem_link_cases[] = {
	KUNIT_CASE(umem_link_pinned_region_should_be_one_segment),
	KUNIT_CASE(umem_link_untrusted_region_should_not_bounce),
	KUNIT_CASE(umem_link_best_pgsz_should_follow_the_iova),
	KUNIT_CASE(umem_link_huge_page_should_be_one_block),
	KUNIT_CASE(umem_link_pinned_failures_should_unwind),
	{}
};

static struct kunit_suite umem_link_suite = {
	.name = "umem_link",
	.test_cases = umem_link_cases,
};

static struct kunit_case umem_link_odp_cases[] = {
	KUNIT_CASE(umem_link_odp_fault_should_link_pages),
	KUNIT_CASE(umem_link_odp_any_path_should_reach_user_pages),
	KUNIT_CASE(umem_link_odp_invalidation_should_flush_once),
	KUNIT_CASE(umem_link_odp_p2p_pages_should_carry_their_type),
	KUNIT_CASE(umem_link_odp_bus_address_p2p_should_skip_the_iova),
	KUNIT_CASE(umem_link_odp_failures_should_unwind),
	KUNIT_CASE(umem_link_odp_release_should_unmap_before_notifier_removal),
	KUNIT_CASE_SLOW(umem_link_odp_fault_and_release_should_survive_invalidation),
	{}
};

static struct kunit_suite umem_link_odp_suite = {
	.name = "umem_link_odp",
	.test_cases = umem_link_odp_cases,
};

static struct kunit_case umem_link_dmabuf_cases[] = {
	KUNIT_CASE(umem_link_dmabuf_host_and_cmb_should_share_the_iova),
	KUNIT_CASE(umem_link_dmabuf_move_should_relink),
	KUNIT_CASE(umem_link_dmabuf_map_should_wait_for_the_move),
	KUNIT_CASE(umem_link_dmabuf_pinned_import_should_pin_and_link),
	KUNIT_CASE(umem_link_dmabuf_bar_without_pages_should_link),
	KUNIT_CASE(umem_link_dmabuf_bus_address_p2p_should_be_own_segment),
	KUNIT_CASE(umem_link_dmabuf_failures_should_unwind),
	{}
};

static struct kunit_suite umem_link_dmabuf_suite = {
	.name = "umem_link_dmabuf",
	.test_cases = umem_link_dmabuf_cases,
};

/*
 * Runs last (this file links last): once everything the suites allocated
 * is old enough for kmemleak to report, scan and fail on any suspect that
 * appeared since dma_iova_kmemleak_baseline cleared what boot left.
 */
static void kmemleak_suites_should_leak_nothing(struct kunit *test)
{
	struct kmemleak_file *k;
	unsigned int n;
	char *report;

	if (!IS_ENABLED(CONFIG_DEBUG_KMEMLEAK))
		kunit_skip(test, "needs CONFIG_DEBUG_KMEMLEAK");
	k = kmemleak_open(test);
	msleep(KMEMLEAK_MIN_AGE_MS);
	kmemleak_scan_twice(test, k);
	report = kmemleak_report(test, k);
	n = kmemleak_suspects(report);
	if (n)
		kunit_err(test, "kmemleak:\n%.2048s\n", report);
	KUNIT_EXPECT_EQ_MSG(test, n, 0, "new suspected leaks");
}

static struct kunit_case kmemleak_check_cases[] = {
	KUNIT_CASE_SLOW(kmemleak_suites_should_leak_nothing),
	{}
};

static struct kunit_suite kmemleak_check_suite = {
	.name = "dma_iova_kmemleak",
	.test_cases = kmemleak_check_cases,
};

kunit_test_suites(&umem_link_suite, &umem_link_odp_suite,
		  &umem_link_dmabuf_suite, &umem_link_large_suite,
		  &kmemleak_check_suite);

MODULE_DESCRIPTION("KUnit tests for RDMA memory regions on one IOVA range");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
