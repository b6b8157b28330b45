// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two-step IOVA DMA mapping: the IOVA engine, the one road to the lower
 * layers. It reserves and releases IOVA in a device's DMA domain, links
 * physical ranges into it (with cache maintenance for non-coherent devices,
 * MMIO protection for P2P memory, and swiotlb slots for the unaligned heads
 * and tails of untrusted devices' chunks), syncs, and unmaps through one
 * IOTLB gather. It knows nothing of chunks or runs: the record
 * (iova_record.c, iova_iommu.c) and the HMM helper (hmm_dma.c) call it.
 * Built as part of kernel/dma/iova_link.c; the operations hmm_dma.c calls
 * are declared in iova_engine.h.
 */

#ifdef CONFIG_FAULT_INJECTION
/*
 * fail_dma_iova fails the engine's calls to lower layers (IOVA allocation,
 * each map, each bounce slot, the IOTLB sync), the record's growth and P2P
 * classification the way they fail for real, so that every unwind path can
 * be exercised against a real IOMMU driver. See
 * Documentation/fault-injection/fault-injection.rst; debugfs: fail_dma_iova/.
 */
struct fault_attr fail_dma_iova = FAULT_ATTR_INITIALIZER;

/*
 * Inline, it costs the per-chunk loops two loads, not a call: when neither
 * is set, should_fail() returns false before counting anything.
 */
static __always_inline bool iova_should_fail(void)
{
	if (!READ_ONCE(fail_dma_iova.probability) &&
	    !(in_task() && READ_ONCE(current->fail_nth)))
		return false;
	return should_fail(&fail_dma_iova, 1);
}

static int __init fail_dma_iova_debugfs(void)
{
	fault_create_debugfs_attr("fail_dma_iova", NULL, &fail_dma_iova);
	return 0;
}
late_initcall(fail_dma_iova_debugfs);
#else
static bool iova_should_fail(void)
{
	return false;
}
#endif

/* For the engine's users outside this file: one fault point of theirs. */
bool iova_engine_should_fail(void)
{
	return iova_should_fail();
}

static size_t eng_granule(const struct dma_iova_engine *eng)
{
	return (size_t)1 << eng->granule_shift;
}

static dma_addr_t eng_down(const struct dma_iova_engine *eng, dma_addr_t x)
{
	return x & ~(dma_addr_t)(eng_granule(eng) - 1);
}

/*
 * Take @dev's DMA domain into @eng. Return its IOVA granule, or 0 when no
 * IOMMU DMA domain translates for @dev (and the engine is not to be used).
 */
size_t iova_engine_init(struct dma_iova_engine *eng, struct device *dev)
{
	size_t gran = 0;

	eng->dev = dev;
	eng->domain = iommu_dma_iova_domain(dev, &gran);
	eng->granule_shift = gran ? ilog2(gran) : 0;
	return gran;
}

/* Reserve @size bytes of IOVA, granule-aligned: the IOVA, or 0. */
dma_addr_t iova_engine_alloc(const struct dma_iova_engine *eng, size_t size)
{
	return iova_should_fail() ? 0 :
	       iommu_dma_iova_alloc(eng->domain, eng->dev, size);
}

/* Release IOVA after the unmaps of @gather (or with none mapped: NULL). */
void iova_engine_free(const struct dma_iova_engine *eng, dma_addr_t iova,
		      size_t size, struct iommu_iotlb_gather *gather)
{
	iommu_dma_iova_free(eng->domain, iova, size, gather);
}

static bool engine_wants_sync(const struct dma_iova_engine *eng,
			      unsigned long attrs)
{
	return !dev_is_dma_coherent(eng->dev) &&
	       !(attrs & DMA_ATTR_SKIP_CPU_SYNC);
}

/*
 * Look up once what links of one direction, attributes and kind share:
 * @mmio for P2P memory through the host bridge (no cache maintenance).
 */
void iova_engine_batch_init(const struct dma_iova_engine *eng,
			    struct iova_engine_batch *b,
			    enum dma_data_direction dir, unsigned long attrs,
			    bool mmio)
{
	b->domain = eng->domain;
	b->prot = dma_info_to_prot(dir, dev_is_dma_coherent(eng->dev), attrs);
	if (mmio)
		b->prot |= IOMMU_MMIO;
	b->mask = eng_granule(eng) - 1;
	b->dir = dir;
	b->sync = !mmio && engine_wants_sync(eng, attrs);
}

/*
 * Link whole granules [@phys, @phys + @size) at @iova: clean them out of
 * the CPU caches where the batch says so, then map them without an IOTLB
 * sync. Nothing is left mapped on error. Inline in the record's per-chunk
 * loops, where it costs what the IOMMU map costs.
 */
static __always_inline int engine_link_whole(const struct iova_engine_batch *b,
					     dma_addr_t iova, phys_addr_t phys,
					     size_t size)
{
	if (b->sync)
		arch_sync_dma_for_device(phys, size, b->dir);
	if (iova_should_fail())
		return -ENOMEM;
	return iommu_map_nosync(b->domain, iova, phys, size, b->prot,
				GFP_ATOMIC);
}

/*
 * Link [@phys, @phys + @size) at @iova, which has the same offset in a
 * granule: clean those bytes, and only those, and map the granules they
 * touch.
 */
static int engine_link(const struct iova_engine_batch *b, dma_addr_t iova,
		       phys_addr_t phys, size_t size)
{
	size_t pad = iova & b->mask;

	if (b->sync)
		arch_sync_dma_for_device(phys, size, b->dir);
	if (iova_should_fail())
		return -ENOMEM;
	return iommu_map_nosync(b->domain, iova - pad, phys - pad,
				(pad + size + b->mask) & ~b->mask, b->prot,
				GFP_ATOMIC);
}

/*
 * Link ranges of whole granules at consecutive IOVAs from @iova in one call
 * of the IOMMU, which walks its page table once per leaf table rather than
 * once per range: cleaned where the batch says so, all mapped or none.
 */
static __always_inline int
engine_link_ranges(const struct iova_engine_batch *b, dma_addr_t iova,
		   const struct iommu_map_range *ranges, unsigned int nr)
{
	unsigned int i;

	if (b->sync) {
		for (i = 0; i < nr; i++)
			arch_sync_dma_for_device(ranges[i].phys,
						 ranges[i].size, b->dir);
	}
	if (iova_should_fail())
		return -ENOMEM;
	return iommu_map_ranges_nosync(b->domain, iova, ranges, nr, b->prot,
				       GFP_ATOMIC);
}

/* engine_link_ranges() for hmm_dma.c, whose pages are whole granules */
int iova_engine_link_ranges(const struct iova_engine_batch *b,
			    dma_addr_t iova,
			    const struct iommu_map_range *ranges,
			    unsigned int nr)
{
	return engine_link_ranges(b, iova, ranges, nr);
}

/* Make what was linked in [@iova, @iova + @size) visible to the device. */
int iova_engine_sync_map(const struct dma_iova_engine *eng, dma_addr_t iova,
			 size_t size)
{
	if (iova_should_fail())
		return -ENOMEM;
	return iommu_sync_map(eng->domain, iova, size);
}

/*
 * Start a teardown; @may_queue when its IOVA is released with it, so that
 * a lazy domain may leave the IOTLB invalidation to its flush queue.
 */
void iova_engine_gather_init(const struct dma_iova_engine *eng,
			     struct iommu_iotlb_gather *gather, bool may_queue)
{
	iommu_dma_iova_gather_init(eng->domain, gather, may_queue);
}

/* Unmap granule-aligned [@iova, @iova + @size), all of it mapped. */
void iova_engine_unmap(const struct dma_iova_engine *eng, dma_addr_t iova,
		       size_t size, struct iommu_iotlb_gather *gather)
{
	size_t unmapped = iommu_unmap_fast(eng->domain, iova, size, gather);

	WARN_ON_ONCE(unmapped != size);
}

/* End a teardown: the device sees none of its unmaps any more. */
void iova_engine_flush(const struct dma_iova_engine *eng,
		       struct iommu_iotlb_gather *gather)
{
	iommu_dma_iova_flush(eng->domain, gather);
}

/* Would the device have [@phys, @phys + @size) bounced (untrusted)? */
bool iova_engine_needs_bounce(const struct dma_iova_engine *eng,
			      phys_addr_t phys, size_t size,
			      enum dma_data_direction dir)
{
	return ((phys | size) & (eng_granule(eng) - 1)) &&
	       iommu_dma_iova_need_bounce(eng->dev, size, dir);
}

/*
 * Cache maintenance of host memory mapped at [@iova, @iova + @size): the
 * record keeps no physical addresses, so read them back from the page
 * table, as iommu_dma_unmap_page() does.
 */
static void engine_sync_iova(const struct dma_iova_engine *eng,
			     dma_addr_t iova, size_t size,
			     enum dma_data_direction dir, bool for_cpu)
{
	phys_addr_t phys = 0;
	size_t len = 0;

	/* by length: a range may end at the top of the IOVA space */
	while (size) {
		size_t piece = eng_granule(eng) -
			       (size_t)(iova & (eng_granule(eng) - 1));
		phys_addr_t p = iommu_iova_to_phys(eng->domain, iova);

		piece = min(piece, size);
		if (len && p != phys + len) {
			iova_engine_sync_phys(eng, phys, len, dir, for_cpu);
			len = 0;
		}
		if (!len)
			phys = p;
		len += piece;
		iova += piece;
		size -= piece;
	}
	if (len)
		iova_engine_sync_phys(eng, phys, len, dir, for_cpu);
}

/* ---- bounced chunks ----------------------------------------------------- */

/*
 * A chunk whose unaligned head and tail go through swiotlb: what swiotlb
 * returned for the head's and the tail's slot (where their bytes sit:
 * slot_bytes()). @offset is the record's; the engine does not use it.
 */
struct dma_iova_bounce {
	size_t offset;
	size_t size;
	phys_addr_t phys;
	phys_addr_t head_tlb;
	phys_addr_t tail_tlb;
	u32 head_len;
	u32 tail_len;
};

/*
 * Copy between host memory at @phys and a bounce slot at @tlb, a page of
 * @phys at a time (it may be highmem), as swiotlb copies.
 */
static void bounce_copy(phys_addr_t phys, phys_addr_t tlb, size_t len,
			bool to_slot)
{
	char *slot = phys_to_virt(tlb);

	/* the device wrote the slot: KMSAN cannot see that (swiotlb_bounce) */
	if (!to_slot)
		kmsan_unpoison_memory(slot, len);
	while (len) {
		size_t off = offset_in_page(phys);
		size_t n = min(len, PAGE_SIZE - off);
		char *buf = kmap_local_page(pfn_to_page(PHYS_PFN(phys)));

		if (to_slot)
			memcpy(slot, buf + off, n);
		else
			memcpy(buf + off, slot, n);
		kunmap_local(buf);
		phys += n;
		slot += n;
		len -= n;
	}
}

/*
 * Where the bytes of @phys sit in the granule slot that swiotlb returned as
 * @tlb: at their offset in the granule (bounce_granule() put them there).
 */
static phys_addr_t slot_bytes(const struct dma_iova_engine *eng,
			      phys_addr_t tlb, phys_addr_t phys)
{
	phys_addr_t mask = eng_granule(eng) - 1;

	return (tlb & ~mask) | (phys & mask);
}

/*
 * Bounce [@phys, @phys + @len), which lies within one granule, and map the
 * slot's granule at the granule of @iova; *@tlb gets what swiotlb returned,
 * which its unmap needs.
 *
 * swiotlb reads only the chunk's own bytes (nothing before it, which with a
 * granule above PAGE_SIZE may be a page no longer in the linear map) and
 * keeps their offset in the granule only as far as the device's
 * min_align_mask asks; the slot is a whole granule, though, so the bytes
 * move to their offset in the granule, where the IOVA puts them, and the
 * rest of the slot is zeroed before the device can see it.
 */
static int bounce_granule(const struct dma_iova_engine *eng, dma_addr_t iova,
			  phys_addr_t phys, size_t len,
			  enum dma_data_direction dir, unsigned long attrs,
			  phys_addr_t *tlb)
{
	size_t gran = eng_granule(eng), pad = phys & (gran - 1);
	struct iova_engine_batch b;
	phys_addr_t got, base;
	char *va;
	int ret;

	if (!is_swiotlb_active(eng->dev)) {
		dev_warn_once(eng->dev, "no bounce buffers for an unaligned link\n");
		return -ENOMEM;
	}
	if (iova_should_fail())
		return -ENOMEM;
	got = swiotlb_tbl_map_single(eng->dev, phys, len, gran - 1, dir, attrs);
	if (got == (phys_addr_t)DMA_MAPPING_ERROR)
		return -ENOMEM;

	base = got & ~(phys_addr_t)(gran - 1);
	va = phys_to_virt(base);
	if (got != base + pad)
		memmove(va + pad, phys_to_virt(got), len);
	memset(va, 0, pad);
	memset(va + pad + len, 0, gran - pad - len);

	/* the caller does the cache maintenance of the whole chunk */
	iova_engine_batch_init(eng, &b, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC,
			       false);
	ret = engine_link_whole(&b, eng_down(eng, iova), base, gran);
	if (ret) {
		swiotlb_tbl_unmap_single(eng->dev, got, len, dir,
					 attrs | DMA_ATTR_SKIP_CPU_SYNC);
		return ret;
	}
	*tlb = got;
	return 0;
}

/*
 * Release a slot from bounce_granule(), copying back only the chunk's bytes
 * (which swiotlb's unmap cannot: they may have moved in the slot).
 */
static void bounce_release(const struct dma_iova_engine *eng,
			   phys_addr_t phys, phys_addr_t tlb, size_t len,
			   enum dma_data_direction dir, unsigned long attrs,
			   bool copy_back)
{
	if (copy_back && !(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
	    (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce_copy(phys, slot_bytes(eng, tlb, phys), len, false);
	swiotlb_tbl_unmap_single(eng->dev, tlb, len, dir,
				 attrs | DMA_ATTR_SKIP_CPU_SYNC);
}

/* The host address of a bounced chunk's tail. */
static phys_addr_t bounce_tail_phys(const struct dma_iova_bounce *b)
{
	return b->phys + b->size - b->tail_len;
}

/* Cache maintenance of a bounced chunk: its slots in place of head and tail. */
static void arch_sync_bounce(const struct dma_iova_engine *eng,
			     const struct dma_iova_bounce *b,
			     enum dma_data_direction dir, bool for_cpu)
{
	size_t mid = b->size - b->head_len - b->tail_len;

	if (b->head_len)
		iova_engine_sync_phys(eng,
				      slot_bytes(eng, b->head_tlb, b->phys),
				      b->head_len, dir, for_cpu);
	if (mid)
		iova_engine_sync_phys(eng, b->phys + b->head_len, mid, dir,
				      for_cpu);
	if (b->tail_len)
		iova_engine_sync_phys(eng, slot_bytes(eng, b->tail_tlb,
						      bounce_tail_phys(b)),
				      b->tail_len, dir, for_cpu);
}

/*
 * Link the chunk @b describes at @iova, its unaligned head and tail through
 * swiotlb, filling in @b's slots. What it maps is one IOVA run from the
 * chunk's first granule, so a failure unwinds that run, and only that,
 * with one unmap.
 */
static int engine_link_bounce(const struct dma_iova_engine *eng,
			      dma_addr_t iova, struct dma_iova_bounce *b,
			      enum dma_data_direction dir, unsigned long attrs)
{
	size_t gran = eng_granule(eng), pad = b->phys & (gran - 1);
	dma_addr_t start = eng_down(eng, iova), mapped = start;
	dma_addr_t end = iova + b->size;
	struct iommu_iotlb_gather gather;
	struct iova_engine_batch batch;
	size_t mid_len;
	int ret = 0;

	b->head_len = 0;
	b->tail_len = 0;
	if (start == eng_down(eng, end - 1)) {
		/* Head and tail share one granule: bounce it as the head. */
		b->head_len = b->size;
	} else {
		b->head_len = pad ? gran - pad : 0;
		b->tail_len = end & (gran - 1);
	}
	mid_len = b->size - b->head_len - b->tail_len;

	if (b->head_len) {
		ret = bounce_granule(eng, iova, b->phys, b->head_len, dir,
				     attrs, &b->head_tlb);
		if (ret) {
			b->head_len = 0;
			goto unwind;
		}
		mapped += gran;
	}
	/* An empty middle is legal and must not reach the IOMMU. */
	if (mid_len) {
		iova_engine_batch_init(eng, &batch, dir,
				       attrs | DMA_ATTR_SKIP_CPU_SYNC, false);
		ret = engine_link_whole(&batch, mapped,
					b->phys + b->head_len, mid_len);
		if (ret)
			goto unwind;
		mapped += mid_len;
	}
	if (b->tail_len) {
		ret = bounce_granule(eng, mapped, bounce_tail_phys(b),
				     b->tail_len, dir, attrs, &b->tail_tlb);
		if (ret)
			goto unwind;
	}
	if (engine_wants_sync(eng, attrs))
		arch_sync_bounce(eng, b, dir, false);
	return 0;

unwind:
	if (mapped > start) {
		iova_engine_gather_init(eng, &gather, false);
		iova_engine_unmap(eng, start, mapped - start, &gather);
		iova_engine_flush(eng, &gather);
	}
	if (b->head_len)
		bounce_release(eng, b->phys, b->head_tlb, b->head_len, dir,
			       attrs, false);
	return ret;
}

/*
 * Give a bounced chunk's slots back, after its unmap was flushed, copying
 * the device's bytes out.
 */
static void engine_unlink_bounce(const struct dma_iova_engine *eng,
				 const struct dma_iova_bounce *b,
				 enum dma_data_direction dir,
				 unsigned long attrs, bool copy_back)
{
	/* Invalidate first: the copy back must read what the device wrote. */
	if (copy_back && engine_wants_sync(eng, attrs))
		arch_sync_bounce(eng, b, dir, true);
	if (b->head_len)
		bounce_release(eng, b->phys, b->head_tlb, b->head_len, dir,
			       attrs, copy_back);
	if (b->tail_len)
		bounce_release(eng, bounce_tail_phys(b), b->tail_tlb,
			       b->tail_len, dir, attrs, copy_back);
}

/* swiotlb's sync of one slot: the copy its direction asks for. */
static void bounce_sync(const struct dma_iova_engine *eng, phys_addr_t phys,
			phys_addr_t tlb, size_t len,
			enum dma_data_direction dir, bool for_cpu)
{
	tlb = slot_bytes(eng, tlb, phys);
	if (for_cpu && (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce_copy(phys, tlb, len, false);
	else if (!for_cpu && (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce_copy(phys, tlb, len, true);
}

/* Sync a bounced chunk: caches around the copies, as swiotlb orders them. */
static void engine_sync_bounce(const struct dma_iova_engine *eng,
			       const struct dma_iova_bounce *b,
			       enum dma_data_direction dir,
			       unsigned long attrs, bool for_cpu)
{
	if (for_cpu && engine_wants_sync(eng, attrs))
		arch_sync_bounce(eng, b, dir, true);
	if (b->head_len)
		bounce_sync(eng, b->phys, b->head_tlb, b->head_len, dir,
			    for_cpu);
	if (b->tail_len)
		bounce_sync(eng, bounce_tail_phys(b), b->tail_tlb, b->tail_len,
			    dir, for_cpu);
	if (!for_cpu && engine_wants_sync(eng, attrs))
		arch_sync_bounce(eng, b, dir, false);
}
