// SPDX-License-Identifier: GPL-2.0-only
/*
 * RDMA memory regions on one IOVA range: pinned user memory, on-demand
 * paging (ODP) and dma-buf importers, mapped with the two-step IOVA DMA API
 * instead of a scatterlist.
 *
 * A region reserves its IOVA once and links physically contiguous runs of
 * memory at the offsets they have in the region, so with an IOMMU the
 * device sees one contiguous DMA range whatever the pages are: host memory
 * and PCI peer memory mixed. For pinned and dma-buf regions the chunk
 * record of the mapping is the only list of what is linked; ODP regions
 * map page by page through the DMA core's HMM helper (linux/hmm-dma.h),
 * whose pfn array is theirs.
 */

#include <linux/bvec.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/hmm.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <rdma/ib_umem_link.h>
#include <rdma/ib_verbs.h>

/* Pages pinned or faulted per call and IOTLB sync: one PMD's worth. */
#define BATCH_PAGES	(PAGE_SIZE / sizeof(unsigned long))

/*
 * The IOVA of a region is aligned like its user address up to PMD_SIZE, so
 * that the device can use blocks as large as the region allows.
 */
static size_t region_align(size_t size)
{
	return size >= PMD_SIZE ? PMD_SIZE : PAGE_SIZE;
}

/*
 * Reserve the IOVA of a region of @size bytes starting at @addr; @gfp is
 * also what growing the chunk record will use.
 */
static int region_init(struct ib_umem_link *umem, struct ib_device *device,
		       unsigned long addr, size_t size, int access, gfp_t gfp)
{
	struct device *dev = device->dma_device;
	size_t align = region_align(size), total;

	/* Software RDMA devices (rxe, siw) do no DMA: use ib_umem_get(). */
	if (!dev)
		return -EOPNOTSUPP;
	umem->ibdev = device;
	umem->length = size;
	umem->writable = ib_access_writable(access);
	umem->map_offset = addr & (align - 1);
	if (check_add_overflow(umem->map_offset, size, &total) ||
	    total > ALIGN_DOWN(SIZE_MAX, PAGE_SIZE))
		return -EINVAL;
	/* whole pages: see link_runs() */
	return dma_alloc_iova(dev, &umem->map, PAGE_ALIGN(total), align, gfp);
}

static unsigned long region_npages(unsigned long addr, size_t size)
{
	return (ALIGN(addr + size, PAGE_SIZE) - ALIGN_DOWN(addr, PAGE_SIZE)) >>
	       PAGE_SHIFT;
}

/* Room for @n more pinned runs. */
static int reserve_pins(struct ib_umem_link *umem, unsigned long n)
{
	struct ib_umem_link_pin *pins;
	unsigned long max;

	if (umem->nr_pins + n <= umem->max_pins)
		return 0;
	max = max(2 * umem->max_pins, umem->nr_pins + n);
	pins = kvmalloc_array(max, sizeof(*pins), GFP_KERNEL);
	if (!pins)
		return -ENOMEM;
	if (umem->nr_pins)
		memcpy(pins, umem->pins, umem->nr_pins * sizeof(*pins));
	kvfree(umem->pins);
	umem->pins = pins;
	umem->max_pins = max;
	return 0;
}

static void note_pin(struct ib_umem_link *umem, struct page *first,
		     unsigned long npages)
{
	umem->pins[umem->nr_pins].pfn = page_to_pfn(first);
	umem->pins[umem->nr_pins].npages = npages;
	umem->nr_pins++;
}

/*
 * Link pinned pages @pages[0..@n), which hold the region's bytes
 * [@*pos, ...), with one batched call (@bv has room for @n entries), and
 * note the physically contiguous runs for unpinning; room for @n runs is
 * reserved.
 *
 * Whole pages are linked, also where the region starts or ends inside one,
 * as 6.12's ib_umem_get() maps them: the CPU and the device share a region
 * without syncs, so a partial edge granule must never be bounced, which an
 * untrusted device (or a non-coherent one, for a small edge) would do for
 * the region's whole life, hiding each side's writes from the other.
 */
static int link_runs(struct ib_umem_link *umem, struct page **pages,
		     struct bio_vec *bv, unsigned long n, size_t *pos,
		     unsigned long attrs)
{
	size_t start = ALIGN_DOWN(umem->map_offset + *pos, PAGE_SIZE);
	size_t off = start;
	unsigned long i, first = 0;
	int ret;

	for (i = 0; i < n; i++) {
		unsigned int in = i ? 0 : offset_in_page(umem->address + *pos);

		bvec_set_page(&bv[i], pages[i], PAGE_SIZE, 0);
		*pos += min_t(size_t, umem->length - *pos, PAGE_SIZE - in);
	}
	ret = dma_link_bvecs(&umem->map, &off, bv, n, DMA_BIDIRECTIONAL,
			     attrs);
	if (ret)
		return ret;
	/* An IOMMU granule above PAGE_SIZE moved scattered pages apart. */
	if (off != start + n * PAGE_SIZE) {
		WARN_ON_ONCE(dma_unlink_range(&umem->map, start, off - start));
		return -EINVAL;
	}
	for (i = 1; i <= n; i++) {
		if (i < n && page_to_pfn(pages[i]) == page_to_pfn(pages[i - 1]) + 1)
			continue;
		note_pin(umem, pages[first], i - first);
		first = i;
	}
	return 0;
}

/* After the device lost them, as 6.12's __ib_umem_release() does. */
static void unpin_all(struct ib_umem_link *umem)
{
	unsigned long i;

	for (i = 0; i < umem->nr_pins; i++)
		unpin_user_page_range_dirty_lock(pfn_to_page(umem->pins[i].pfn),
						 umem->pins[i].npages,
						 umem->writable);
	kvfree(umem->pins);
	umem->pins = NULL;
	umem->nr_pins = 0;
	umem->max_pins = 0;
}

static void unaccount_pinned(struct ib_umem_link *umem)
{
	atomic64_sub(region_npages(umem->address, umem->length),
		     &umem->owning_mm->pinned_vm);
}

/*
 * Pin the region in batches that end on PMD boundaries (so a huge page is
 * never split between two), link each batch and commit it. A failing batch
 * is unlinked by the core and unpinned here; earlier ones are in @umem->pins
 * for the caller to release.
 */
static int pin_and_link(struct ib_umem_link *umem, struct page **pages,
			struct bio_vec *bv, unsigned int gup_flags,
			unsigned long attrs)
{
	unsigned long npages = region_npages(umem->address, umem->length);
	size_t pos = 0;
	long pinned;
	int ret;

	while (npages) {
		unsigned long va = ALIGN_DOWN(umem->address + pos, PAGE_SIZE);
		unsigned long n = BATCH_PAGES -
				  ((va >> PAGE_SHIFT) & (BATCH_PAGES - 1));

		unsigned long pins = umem->nr_pins;

		ret = reserve_pins(umem, min(n, npages));
		if (ret)
			return ret;
		pinned = pin_user_pages_fast(va, min(n, npages), gup_flags,
					     pages);
		if (pinned <= 0)
			return pinned ?: -EFAULT;
		ret = link_runs(umem, pages, bv, pinned, &pos, attrs) ?:
		      dma_iova_commit(&umem->map);
		if (ret) {
			/* The core unlinked the batch: unpin it here. */
			umem->nr_pins = pins;
			unpin_user_pages(pages, pinned);
			return ret;
		}
		npages -= pinned;
		cond_resched();
	}
	return 0;
}

/**
 * ib_umem_link_get() - pin user memory and map it into one IOVA range
 * @device: device the region is for
 * @addr: user virtual address of the region
 * @size: length of the region in bytes
 * @access: IB_ACCESS_* flags of the region
 *
 * Pins the pages of the current process, reserves one IOVA range for the
 * region and links them at their offsets in the region with one batched
 * call (dma_link_bvecs()) and one IOTLB sync per 2 MiB batch of pages.
 * No scatterlist is kept: the runs of pinned pages (16 bytes each, a huge
 * page is one) are, for unpinning.
 * Use ib_umem_link_find_best_pgsz() and ib_umem_link_for_each_block() to
 * program the device.
 *
 * Context: Process context; may sleep.
 * Return: the region, or an ERR_PTR(): -EOPNOTSUPP for a device that does
 * no DMA of its own (rxe, siw: use ib_umem_get()), -EINVAL for an empty,
 * overflowing or on-demand-paging request, -ENOMEM beyond RLIMIT_MEMLOCK
 * or without memory, -EFAULT (or the pin error) when a page cannot be
 * pinned (PCI peer memory cannot be pinned long-term: register it with
 * ib_umem_link_odp_get() or as a dma-buf), -EINVAL when scattered pages
 * cannot keep their offsets (an IOMMU granule above PAGE_SIZE), or the
 * error of dma_link_bvecs() or dma_iova_commit(). On failure nothing
 * stays pinned, accounted, linked or reserved.
 */
struct ib_umem_link *ib_umem_link_get(struct ib_device *device,
				      unsigned long addr, size_t size,
				      int access)
{
	unsigned int gup_flags = FOLL_LONGTERM;
	struct mm_struct *mm = current->mm;
	unsigned long npages, lock_limit, end;
	struct ib_umem_link *umem;
	struct page **pages;
	struct bio_vec *bv;
	int ret;

	if (!size || check_add_overflow(addr, size, &end) ||
	    end > ALIGN_DOWN(ULONG_MAX, PAGE_SIZE) ||
	    (access & IB_ACCESS_ON_DEMAND))
		return ERR_PTR(-EINVAL);
	if (!mm)
		return ERR_PTR(-EINVAL);

	umem = kzalloc(sizeof(*umem), GFP_KERNEL);
	if (!umem)
		return ERR_PTR(-ENOMEM);
	ret = region_init(umem, device, addr, size, access, GFP_KERNEL);
	if (ret)
		goto out_free;
	umem->address = addr;
	umem->owning_mm = mm;
	mmgrab(mm);

	npages = region_npages(addr, size);
	lock_limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	if (atomic64_add_return(npages, &mm->pinned_vm) > lock_limit &&
	    !capable(CAP_IPC_LOCK)) {
		ret = -ENOMEM;
		goto out_release;
	}

	pages = (struct page **)__get_free_page(GFP_KERNEL);
	bv = kvmalloc_array(BATCH_PAGES, sizeof(*bv), GFP_KERNEL);
	if (!pages || !bv) {
		free_page((unsigned long)pages);
		kvfree(bv);
		ret = -ENOMEM;
		goto out_release;
	}
	if (umem->writable)
		gup_flags |= FOLL_WRITE;
	ret = pin_and_link(umem, pages, bv, gup_flags,
			   access & IB_ACCESS_RELAXED_ORDERING ?
			   DMA_ATTR_WEAK_ORDERING : 0);
	free_page((unsigned long)pages);
	kvfree(bv);
	if (ret)
		goto out_release;
	return umem;

out_release:
	dma_destroy_iova(&umem->map);
	unpin_all(umem);
	unaccount_pinned(umem);
	mmdrop(mm);
out_free:
	kfree(umem);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(ib_umem_link_get);

/**
 * ib_umem_link_release() - unmap and unpin a region from ib_umem_link_get()
 * @umem: the region, may be %NULL
 *
 * Unlinks everything with one IOTLB invalidation, then unpins the pages
 * (marking them dirty if the device could write) and frees the IOVA.
 *
 * Context: Process context; may sleep.
 */
void ib_umem_link_release(struct ib_umem_link *umem)
{
	if (!umem)
		return;
	dma_destroy_iova(&umem->map);
	unpin_all(umem);
	unaccount_pinned(umem);
	mmdrop(umem->owning_mm);
	kfree(umem);
}
EXPORT_SYMBOL_GPL(ib_umem_link_release);

/**
 * ib_umem_link_find_best_pgsz() - largest HW block size for a region
 * @umem: the region
 * @pgsz_bitmap: block sizes the device supports
 * @virt: the device-visible virtual address of the region's first byte
 *
 * Reads the DMA segments of the region instead of a scatterlist: with an
 * IOMMU the region is one segment, so the block size is only limited by
 * how the IOVA and @virt line up and, as in ib_umem_find_best_pgsz(), by
 * the region's length and alignment. A block may not straddle two
 * segments, and within a block the DMA address and @virt must have the
 * same offset.
 *
 * Context: Any context; the caller keeps the region's mapping stable.
 * Return: the block size, or 0 if none in @pgsz_bitmap fits.
 */
unsigned long ib_umem_link_find_best_pgsz(struct ib_umem_link *umem,
					  unsigned long pgsz_bitmap,
					  unsigned long virt)
{
	dma_addr_t start = dma_iova_addr(&umem->map) + umem->map_offset;
	dma_addr_t end = start + umem->length;
	struct dma_iova_iter iter;
	struct dma_iova_seg seg;
	unsigned long bad = 0, va = virt, last_va;
	bool first = true;
	unsigned int bits;

	pgsz_bitmap &= GENMASK(BITS_PER_LONG - 1, PAGE_SHIFT);
	if (!pgsz_bitmap || check_add_overflow(virt, umem->length - 1, &last_va))
		return 0;
	/*
	 * As ib_umem_find_best_pgsz(): no block larger than the smallest
	 * supported size that covers the region's span of @virt bits.
	 */
	bits = bits_per(virt ^ last_va);
	if (bits < BITS_PER_LONG)
		bad |= pgsz_bitmap & GENMASK(BITS_PER_LONG - 1, bits);

	dma_iova_for_each_seg(&umem->map, &iter, &seg) {
		/* the region's bytes only, not the rest of its edge pages */
		dma_addr_t s = max(seg.addr, start);
		dma_addr_t e = min(seg.addr + seg.len, end);

		if (s >= e)
			continue;
		seg.addr = s;
		seg.len = e - s;
		if (!first)
			bad |= va;
		bad |= seg.addr ^ va;
		va += seg.len;
		first = false;
	}
	/* the last segment may end anywhere, earlier ones on a block edge */
	if (bad)
		pgsz_bitmap &= GENMASK(__ffs(bad), 0);
	return pgsz_bitmap ? rounddown_pow_of_two(pgsz_bitmap) : 0;
}
EXPORT_SYMBOL_GPL(ib_umem_link_find_best_pgsz);

/**
 * ib_umem_link_next_block() - DMA address of the next HW block of a region
 * @iter: cursor set up by ib_umem_link_block_iter_init()
 * @addr: set to the block's DMA address, aligned down to the block size
 *
 * Context: Any context; the caller keeps the region's mapping stable.
 * Return: %true if @addr was set, %false after the last block.
 */
bool ib_umem_link_next_block(struct ib_umem_link_block_iter *iter,
			     dma_addr_t *addr)
{
	if (iter->next >= iter->seg.addr + iter->seg.len) {
		if (!dma_iova_next_seg(&iter->segs, &iter->seg))
			return false;
		iter->next = ALIGN_DOWN(iter->seg.addr, iter->pgsz);
	}
	*addr = iter->next;
	iter->next += iter->pgsz;
	return true;
}
EXPORT_SYMBOL_GPL(ib_umem_link_next_block);

/**
 * ib_umem_link_num_dma_blocks() - number of HW blocks of a region
 * @umem: the region
 * @pgsz: block size
 *
 * Context: Any context; the caller keeps the region's mapping stable.
 * Return: how many blocks ib_umem_link_for_each_block() yields.
 */
size_t ib_umem_link_num_dma_blocks(struct ib_umem_link *umem,
				   unsigned long pgsz)
{
	struct dma_iova_iter iter;
	struct dma_iova_seg seg;
	size_t n = 0;

	dma_iova_for_each_seg(&umem->map, &iter, &seg)
		n += (ALIGN(seg.addr + seg.len, pgsz) -
		      ALIGN_DOWN(seg.addr, pgsz)) / pgsz;
	return n;
}
EXPORT_SYMBOL_GPL(ib_umem_link_num_dma_blocks);

/*
 * ODP: the pages of a region are mapped through the DMA core's HMM helper,
 * at their index in the region's IOVA; the helper's pfn array is the only
 * per-page state.
 */

static unsigned long odp_index(struct ib_umem_link_odp *odp, unsigned long va)
{
	return (va - odp->start) >> PAGE_SHIFT;
}

/* Unmap every mapped page in [@start, @end) with one IOTLB invalidation. */
static void odp_unmap_range(struct ib_umem_link_odp *odp, unsigned long start,
			    unsigned long end)
{
	lockdep_assert_held(&odp->umem_mutex);
	hmm_dma_unmap_range(&odp->dma, odp_index(odp, start),
			    (end - start) >> PAGE_SHIFT);
}

static bool odp_invalidate(struct mmu_interval_notifier *mni,
			   const struct mmu_notifier_range *range,
			   unsigned long cur_seq)
{
	struct ib_umem_link_odp *odp =
		container_of(mni, struct ib_umem_link_odp, notifier);
	unsigned long start = max(range->start, odp->start);
	unsigned long end = min(range->end, odp->end);

	if (mmu_notifier_range_blockable(range))
		mutex_lock(&odp->umem_mutex);
	else if (!mutex_trylock(&odp->umem_mutex))
		return false;

	mmu_interval_set_seq(mni, cur_seq);
	if (start < end) {
		if (odp->ops && odp->ops->invalidate)
			odp->ops->invalidate(odp, start, end);
		odp_unmap_range(odp, start, end);
	}
	mutex_unlock(&odp->umem_mutex);
	return true;
}

static const struct mmu_interval_notifier_ops odp_notifier_ops = {
	.invalidate = odp_invalidate,
};

/**
 * ib_umem_link_odp_get() - register an on-demand-paging region
 * @device: device the region is for
 * @addr: user virtual address of the region
 * @size: length of the region in bytes
 * @access: IB_ACCESS_* flags of the region
 * @ops: driver callbacks, may be %NULL
 * @priv: driver data, kept in the region
 *
 * Reserves the region's IOVA now (hmm_dma_map_alloc()); pages are mapped
 * on faults by ib_umem_link_odp_map_and_lock() and unmapped when the CPU
 * mapping changes, one IOTLB invalidation per change.
 *
 * Context: Process context; may sleep.
 * Return: the region or an ERR_PTR(): -EOPNOTSUPP for a device that does
 * no DMA of its own (rxe, siw) or whose direct mapping would bounce or
 * sync (ODP cannot keep CPU and device views apart); -EINVAL for an empty
 * or overflowing range or a kernel thread; -ENOMEM.
 */
struct ib_umem_link_odp *
ib_umem_link_odp_get(struct ib_device *device, unsigned long addr,
		     size_t size, int access,
		     const struct ib_umem_link_odp_ops *ops, void *priv)
{
	struct mm_struct *mm = current->mm;
	struct ib_umem_link_odp *odp;
	unsigned long start, end;
	struct device *dev;
	int ret;

	if (!size || check_add_overflow(addr, size, &end) ||
	    end > ALIGN_DOWN(ULONG_MAX, PAGE_SIZE) || !mm)
		return ERR_PTR(-EINVAL);
	start = ALIGN_DOWN(addr, PAGE_SIZE);
	end = ALIGN(end, PAGE_SIZE);

	/* Software RDMA devices (rxe, siw) do no DMA: use ib_umem_get(). */
	dev = device->dma_device;
	if (!dev)
		return ERR_PTR(-EOPNOTSUPP);

	odp = kzalloc(sizeof(*odp), GFP_KERNEL);
	if (!odp)
		return ERR_PTR(-ENOMEM);
	odp->start = start;
	odp->end = end;
	odp->ops = ops;
	odp->priv = priv;
	mutex_init(&odp->umem_mutex);
	odp->umem.ibdev = device;
	odp->umem.owning_mm = mm;
	odp->umem.address = addr;
	odp->umem.length = size;
	odp->umem.writable = ib_access_writable(access);
	ret = hmm_dma_map_alloc(dev, &odp->dma, (end - start) >> PAGE_SHIFT,
				GFP_KERNEL);
	if (ret)
		goto out_free;

	mmgrab(mm);
	ret = mmu_interval_notifier_insert(&odp->notifier, mm, start,
					   end - start, &odp_notifier_ops);
	if (ret) {
		mmdrop(mm);
		goto out_free_dma;
	}
	return odp;

out_free_dma:
	hmm_dma_map_free(&odp->dma);
out_free:
	kfree(odp);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(ib_umem_link_odp_get);

/*
 * Whether a batch an invalidation raced with may be faulted in again: for
 * HMM_RANGE_DEFAULT_TIMEOUT after the first race. (6.12 starts that clock
 * before the first fault, so a range whose first walk alone outlasts it -
 * a PMD's worth of 64 KiB pages on a slow machine - fails on the first
 * invalidation, however rare.)
 */
static bool odp_may_retry(bool *raced, unsigned long *deadline)
{
	if (!*raced) {
		*raced = true;
		*deadline = jiffies +
			    msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	}
	return !time_after(jiffies, *deadline);
}

/* Fault [@va, @va + @n pages) in and map it; return with the mutex held. */
static int odp_map_batch(struct ib_umem_link_odp *odp, unsigned long va,
			 unsigned long n, unsigned long *hmm_pfns, bool write)
{
	struct mm_struct *mm = odp->umem.owning_mm;
	struct hmm_range range = {
		.notifier = &odp->notifier,
		.start = va,
		.end = va + n * PAGE_SIZE,
		.hmm_pfns = hmm_pfns,
		.default_flags = HMM_PFN_REQ_FAULT |
				 (write ? HMM_PFN_REQ_WRITE : 0),
	};
	unsigned long deadline;
	bool raced = false;
	int ret;

	if (!mmget_not_zero(mm))
		return -EFAULT;
	do {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		range.notifier_seq = mmu_interval_read_begin(&odp->notifier);
		mmap_read_lock(mm);
		ret = hmm_range_fault(&range);
		mmap_read_unlock(mm);
		if (ret) {
			if (ret == -EBUSY && odp_may_retry(&raced, &deadline))
				continue;
			break;
		}
		mutex_lock(&odp->umem_mutex);
		if (!mmu_interval_read_retry(&odp->notifier,
					     range.notifier_seq)) {
			ret = hmm_dma_map_pfns(&odp->dma, odp_index(odp, va),
					       hmm_pfns, n);
			if (ret)
				mutex_unlock(&odp->umem_mutex);
			break;
		}
		mutex_unlock(&odp->umem_mutex);
		ret = -EBUSY;
	} while (odp_may_retry(&raced, &deadline));
	mmput(mm);
	return ret;
}

/**
 * ib_umem_link_odp_map_and_lock() - fault in and link part of an ODP region
 * @odp: the region
 * @addr: first user address to map
 * @size: bytes to map
 * @write: fault the pages in writable
 *
 * Faults the pages in with hmm_range_fault() and maps each one not yet
 * mapped at its place in the region's IOVA (hmm_dma_map_pfns()), one IOTLB
 * sync per batch of pages. On success returns with @odp->umem_mutex held so that the driver
 * can program the device before an invalidation can unlink the pages; the
 * driver unlocks it.
 *
 * Context: Process context; may sleep. Takes @odp->umem_mutex.
 * Return: 0 with the mutex held; -EINVAL if the range is empty or outside
 * the region; -EPERM for @write on a read-only region; the error of
 * hmm_range_fault() (-EFAULT, -EBUSY after retrying, ...) or of the map.
 * On error the mutex is not held; pages mapped by earlier batches stay.
 */
int ib_umem_link_odp_map_and_lock(struct ib_umem_link_odp *odp,
				  unsigned long addr, size_t size, bool write)
{
	unsigned long va, end, n, *hmm_pfns;
	int ret;

	if (!size || check_add_overflow(addr, size, &end) ||
	    addr < odp->start || end > odp->end)
		return -EINVAL;
	if (write && !odp->umem.writable)
		return -EPERM;

	va = ALIGN_DOWN(addr, PAGE_SIZE);
	end = ALIGN(end, PAGE_SIZE);
	hmm_pfns = kvmalloc_array(min((end - va) >> PAGE_SHIFT,
				      BATCH_PAGES), sizeof(*hmm_pfns),
				  GFP_KERNEL);
	if (!hmm_pfns)
		return -ENOMEM;

	for (;;) {
		n = min((end - va) >> PAGE_SHIFT, BATCH_PAGES);
		ret = odp_map_batch(odp, va, n, hmm_pfns, write);
		va += n * PAGE_SIZE;
		if (ret || va == end)
			break;
		mutex_unlock(&odp->umem_mutex);
		cond_resched();
	}
	kvfree(hmm_pfns);
	return ret;
}
EXPORT_SYMBOL_GPL(ib_umem_link_odp_map_and_lock);

/**
 * ib_umem_link_odp_dma_addr() - DMA address of a mapped byte of an ODP region
 * @odp: the region
 * @addr: user address
 *
 * Context: With @odp->umem_mutex held.
 * Return: the DMA address, or %DMA_MAPPING_ERROR if the page is not mapped.
 */
dma_addr_t ib_umem_link_odp_dma_addr(struct ib_umem_link_odp *odp,
				     unsigned long addr)
{
	dma_addr_t dma;

	lockdep_assert_held(&odp->umem_mutex);
	if (addr < odp->start || addr >= odp->end)
		return DMA_MAPPING_ERROR;
	dma = hmm_dma_addr(&odp->dma, odp_index(odp, addr));
	return dma == DMA_MAPPING_ERROR ? dma : dma + offset_in_page(addr);
}
EXPORT_SYMBOL_GPL(ib_umem_link_odp_dma_addr);

/**
 * ib_umem_link_odp_release() - tear down an ODP region
 * @odp: the region, may be %NULL
 *
 * Context: Process context; may sleep.
 */
void ib_umem_link_odp_release(struct ib_umem_link_odp *odp)
{
	if (!odp)
		return;
	/*
	 * As ib_umem_odp_release(): unmap while the notifier still runs, so
	 * that no page the device can reach is freed by reclaim, migration
	 * or munmap (ODP holds no page references), then stop notifications.
	 */
	mutex_lock(&odp->umem_mutex);
	odp_unmap_range(odp, odp->start, odp->end);
	mutex_unlock(&odp->umem_mutex);
	mmu_interval_notifier_remove(&odp->notifier);
	hmm_dma_map_free(&odp->dma);
	mmdrop(odp->umem.owning_mm);
	kfree(odp);
}
EXPORT_SYMBOL_GPL(ib_umem_link_odp_release);

/**
 * ib_umem_link_dmabuf_get() - import a dma-buf as a region on one IOVA range
 * @device: device the region is for
 * @dmabuf: the buffer; a reference is taken
 * @offset: offset of the region in the buffer
 * @size: length of the region
 * @access: IB_ACCESS_* flags of the region
 * @ops: importer callbacks; @ops->move_notify must stop the device and call
 *	ib_umem_link_dmabuf_unmap_pages()
 * @priv: driver data, kept in the region
 *
 * Attaches dynamically and reserves the IOVA; the memory is linked by
 * ib_umem_link_dmabuf_map_pages(). The exporter describes its memory as
 * physical ranges (&dma_buf_ops.map_phys), host pages and PCI peer memory
 * mixed; each range is linked at its offset in the region.
 *
 * Context: Process context; may sleep.
 * Return: the region or an ERR_PTR(): -EOPNOTSUPP for a device that does
 * no DMA of its own (rxe, siw); -EINVAL for an empty range, one beyond
 * the buffer or @ops without move_notify; the attach error; -ENOMEM.
 */
struct ib_umem_link_dmabuf *
ib_umem_link_dmabuf_get(struct ib_device *device, struct dma_buf *dmabuf,
			unsigned long offset, size_t size, int access,
			const struct dma_buf_attach_ops *ops, void *priv)
{
	struct ib_umem_link_dmabuf *umem;
	unsigned long end;
	int ret;

	if (!size || check_add_overflow(offset, size, &end) ||
	    end > dmabuf->size || !ops || !ops->move_notify)
		return ERR_PTR(-EINVAL);

	umem = kzalloc(sizeof(*umem), GFP_KERNEL);
	if (!umem)
		return ERR_PTR(-ENOMEM);
	ret = region_init(&umem->umem, device, offset, size, access,
			  GFP_KERNEL);
	if (ret)
		goto out_free;
	umem->umem.address = offset;
	umem->priv = priv;

	get_dma_buf(dmabuf);
	umem->attach = dma_buf_dynamic_attach(dmabuf, device->dma_device, ops,
					      umem);
	if (IS_ERR(umem->attach)) {
		ret = PTR_ERR(umem->attach);
		dma_buf_put(dmabuf);
		dma_free_iova(&umem->umem.map);
		goto out_free;
	}
	return umem;

out_free:
	kfree(umem);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(ib_umem_link_dmabuf_get);

static void dmabuf_pinned_move_notify(struct dma_buf_attachment *attach)
{
	struct ib_umem_link_dmabuf *umem = attach->importer_priv;

	ibdev_warn_ratelimited(umem->umem.ibdev,
			       "move_notify on a pinned dma-buf region\n");
}

static const struct dma_buf_attach_ops dmabuf_pinned_ops = {
	.allow_peer2peer = true,
	.move_notify = dmabuf_pinned_move_notify,
};

/**
 * ib_umem_link_dmabuf_get_pinned() - import a dma-buf as a pinned region
 * @device: device the region is for
 * @dmabuf: the buffer; a reference is taken
 * @offset: offset of the region in the buffer
 * @size: length of the region
 * @access: IB_ACCESS_* flags of the region
 *
 * For drivers that cannot handle move_notify, as 6.12's
 * ib_umem_dmabuf_get_pinned(): attaches, pins the buffer so the exporter
 * never moves it, and links its memory now.
 *
 * Context: Process context; may sleep. Takes the reservation lock.
 * Return: the region or an ERR_PTR(): as ib_umem_link_dmabuf_get(), the
 * error of dma_buf_pin() or of ib_umem_link_dmabuf_map_pages().
 */
struct ib_umem_link_dmabuf *
ib_umem_link_dmabuf_get_pinned(struct ib_device *device,
			       struct dma_buf *dmabuf, unsigned long offset,
			       size_t size, int access)
{
	struct ib_umem_link_dmabuf *umem;
	int ret;

	umem = ib_umem_link_dmabuf_get(device, dmabuf, offset, size, access,
				       &dmabuf_pinned_ops, NULL);
	if (IS_ERR(umem))
		return umem;

	dma_resv_lock(dmabuf->resv, NULL);
	ret = dma_buf_pin(umem->attach);
	if (ret)
		goto err_release;
	umem->pinned = true;
	ret = ib_umem_link_dmabuf_map_pages(umem);
	if (ret)
		goto err_release;
	dma_resv_unlock(dmabuf->resv);
	return umem;

err_release:
	dma_resv_unlock(dmabuf->resv);
	ib_umem_link_dmabuf_release(umem);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(ib_umem_link_dmabuf_get_pinned);

/* Link the part of @list that lies in the region. */
static int dmabuf_link(struct ib_umem_link_dmabuf *umem,
		       const struct dma_buf_phys_list *list)
{
	struct ib_umem_link *r = &umem->umem;
	unsigned long pos = 0, end = r->address + r->length;
	unsigned long first = ALIGN_DOWN(r->address, PAGE_SIZE), last;
	unsigned int i;
	int ret;

	for (i = 0; i < list->nr; i++)
		if (check_add_overflow(pos, list->vecs[i].len, &pos))
			return -EINVAL;
	if (pos < end)
		return -EINVAL;
	/* whole pages, as far as the buffer goes: see link_runs() */
	last = end + min(pos - end, offset_in_page(end) ?
			 PAGE_SIZE - offset_in_page(end) : 0);

	for (i = 0, pos = 0; i < list->nr && pos < last; pos += list->vecs[i++].len) {
		const struct dma_buf_phys_vec *v = &list->vecs[i];
		unsigned long from = max(pos, first);
		unsigned long to = min(pos + v->len, last);

		if (from >= to)
			continue;
		ret = dma_link_range(&r->map, r->map_offset + from - r->address,
				     v->paddr + from - pos, to - from,
				     DMA_BIDIRECTIONAL, 0);
		if (ret)
			return ret;
	}
	return dma_iova_commit(&r->map);
}

/**
 * ib_umem_link_dmabuf_map_pages() - link the current memory of a dma-buf region
 * @umem: the region
 *
 * Gets the exporter's physical ranges and links them into the region's
 * IOVA with one IOTLB sync, unless they are linked already, then waits for
 * the exporter's kernel fences (a move's copy) as 6.12's
 * ib_umem_dmabuf_map_pages() does.
 *
 * Context: Process context with the buffer's reservation lock held; may
 * sleep.
 * Return: 0; the error of dma_buf_map_attachment_phys(); -EINVAL if the
 * buffer is shorter than the region or a range is not aligned like its
 * offset; the link error (e.g. -EREMOTEIO for peer memory the device
 * cannot reach), with nothing linked; the error of the fence wait, with
 * the ranges linked (as 6.12 keeps its mapping then).
 */
int ib_umem_link_dmabuf_map_pages(struct ib_umem_link_dmabuf *umem)
{
	struct dma_buf_phys_list *list;
	long ret;

	dma_resv_assert_held(umem->attach->dmabuf->resv);
	if (umem->phys)
		goto wait_fence;

	list = dma_buf_map_attachment_phys(umem->attach);
	if (IS_ERR(list))
		return PTR_ERR(list);
	ret = dmabuf_link(umem, list);
	if (ret) {
		/* the failing link unwound its uncommitted batch */
		dma_buf_unmap_attachment_phys(umem->attach, list);
		return ret;
	}
	umem->phys = list;

wait_fence:
	/*
	 * As ib_umem_dmabuf_map_pages(): the ranges are valid now, but after
	 * a move their contents may still be in flight; wait for the
	 * exporter's kernel fences (the copy) before the device uses them.
	 */
	ret = dma_resv_wait_timeout(umem->attach->dmabuf->resv,
				    DMA_RESV_USAGE_KERNEL, false,
				    MAX_SCHEDULE_TIMEOUT);
	if (ret < 0)
		return ret;
	return ret ? 0 : -ETIMEDOUT;
}
EXPORT_SYMBOL_GPL(ib_umem_link_dmabuf_map_pages);

/**
 * ib_umem_link_dmabuf_unmap_pages() - unlink the memory of a dma-buf region
 * @umem: the region
 *
 * Unlinks everything with one IOTLB invalidation and gives the ranges back
 * to the exporter; the IOVA stays reserved for the next
 * ib_umem_link_dmabuf_map_pages(). Call it from move_notify.
 *
 * Context: Process context with the buffer's reservation lock held.
 */
void ib_umem_link_dmabuf_unmap_pages(struct ib_umem_link_dmabuf *umem)
{
	struct dma_iova_mapping *map = &umem->umem.map;

	dma_resv_assert_held(umem->attach->dmabuf->resv);
	if (!umem->phys)
		return;
	WARN_ON_ONCE(dma_unlink_range(map, 0, dma_iova_size(map)));
	dma_buf_unmap_attachment_phys(umem->attach, umem->phys);
	umem->phys = NULL;
}
EXPORT_SYMBOL_GPL(ib_umem_link_dmabuf_unmap_pages);

/**
 * ib_umem_link_dmabuf_release() - unmap, detach and free a dma-buf region
 * @umem: the region, may be %NULL
 *
 * Unlinks the memory, unpins a pinned region's buffer, detaches and drops
 * the buffer reference, in 6.12's ib_umem_dmabuf_release() order.
 *
 * Context: Process context; may sleep. Takes the reservation lock.
 */
void ib_umem_link_dmabuf_release(struct ib_umem_link_dmabuf *umem)
{
	struct dma_buf *dmabuf;

	if (!umem)
		return;
	dmabuf = umem->attach->dmabuf;
	dma_resv_lock(dmabuf->resv, NULL);
	ib_umem_link_dmabuf_unmap_pages(umem);
	if (umem->pinned)
		dma_buf_unpin(umem->attach);
	dma_resv_unlock(dmabuf->resv);
	dma_free_iova(&umem->umem.map);
	dma_buf_detach(dmabuf, umem->attach);
	dma_buf_put(dmabuf);
	kfree(umem);
}
EXPORT_SYMBOL_GPL(ib_umem_link_dmabuf_release);

MODULE_IMPORT_NS(DMA_BUF);
