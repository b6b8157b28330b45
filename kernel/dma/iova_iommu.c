// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two-step IOVA DMA mapping: the IOMMU engine. Maps and unmaps ranges of
 * a mapping's IOVA through the DMA domain's building blocks, with cache
 * maintenance for non-coherent devices and swiotlb bounce slots for the
 * unaligned heads and tails of untrusted devices' chunks; links host memory
 * that appends to the last run on a fast path; tears down through one
 * IOTLB gather. Built as part of kernel/dma/iova_link.c.
 */

/* ---- mapping ------------------------------------------------------------ */
static int map_extent(struct dma_iova_mapping *map, size_t offset,
		      phys_addr_t phys, size_t len,
		      enum dma_data_direction dir, unsigned long attrs,
		      bool mmio)
{
	if (iova_should_fail())
		return -ENOMEM;
	return iommu_dma_iova_map(map->dev, map->addr + offset, phys, len, dir,
				  attrs, mmio);
}

static void unmap_extent(struct dma_iova_mapping *map, size_t start,
			 size_t end, struct iommu_iotlb_gather *gather)
{
	size_t unmapped;

	unmapped = iommu_dma_iova_unmap(map->dev, map->addr + start,
					end - start, gather);
	WARN_ON_ONCE(unmapped != end - start);
}

/*
 * Cache maintenance of [@start, @end) of host memory mapped in the IOVA, on
 * a non-coherent device: the record keeps no physical addresses, so read
 * them back from the page table, as iommu_dma_unmap_page() does.
 */
static void arch_sync_iova(struct dma_iova_mapping *map, size_t start,
			   size_t end, enum dma_data_direction dir, bool for_cpu)
{
	void (*sync)(phys_addr_t paddr, size_t size,
		     enum dma_data_direction dir) =
		for_cpu ? arch_sync_dma_for_cpu : arch_sync_dma_for_device;
	phys_addr_t phys = 0;
	size_t len = 0;

	while (start < end) {
		size_t piece = min(gran_down(map, start) + granule(map), end) -
			       start;
		phys_addr_t p = iommu_dma_iova_to_phys(map->dev,
						       map->addr + start);

		if (len && p != phys + len) {
			sync(phys, len, dir);
			len = 0;
		}
		if (!len)
			phys = p;
		len += piece;
		start += piece;
	}
	if (len)
		sync(phys, len, dir);
}

static bool wants_arch_sync(const struct dma_iova_mapping *map, u32 attrs)
{
	return !dev_is_dma_coherent(map->dev) && !(attrs & DMA_ATTR_SKIP_CPU_SYNC);
}

/* ---- bounced chunks ----------------------------------------------------- */

static unsigned int bounce_index(const struct dma_iova_record_ext *ext,
				 size_t offset)
{
	unsigned int lo = 0, hi = ext->nr_bounce;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (ext->bounce[mid].offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The swiotlb side of the bounced chunk at @offset. */
static struct dma_iova_bounce *find_bounce(const struct dma_iova_mapping *map,
					   size_t offset)
{
	const struct dma_iova_record_ext *ext = map->rec.ext;
	unsigned int i;

	if (WARN_ON_ONCE(!ext))
		return NULL;
	i = bounce_index(ext, offset);
	if (WARN_ON_ONCE(i >= ext->nr_bounce || ext->bounce[i].offset != offset))
		return NULL;
	return &ext->bounce[i];
}

static int reserve_bounce(struct dma_iova_mapping *map)
{
	struct dma_iova_record_ext *ext = get_ext(map);
	struct dma_iova_bounce *new;
	unsigned int max;

	if (!ext)
		return -ENOMEM;
	if (ext->nr_bounce < ext->max_bounce)
		return 0;
	max = ext->max_bounce ? 2 * ext->max_bounce : 2;
	if (iova_should_fail())
		return -ENOMEM;
	new = kvmalloc_array(max, sizeof(*new), map->gfp);
	if (!new)
		return -ENOMEM;
	if (ext->nr_bounce)
		memcpy(new, ext->bounce, ext->nr_bounce * sizeof(*new));
	free_any_context(ext->bounce);
	ext->bounce = new;
	ext->max_bounce = max;
	return 0;
}

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
static phys_addr_t slot_bytes(const struct dma_iova_mapping *map,
			      phys_addr_t tlb, phys_addr_t phys)
{
	phys_addr_t mask = granule(map) - 1;

	return (tlb & ~mask) | (phys & mask);
}

/*
 * Bounce [@phys, @phys + @len), which lies within one granule, and map the
 * slot's granule at @offset; *@tlb gets what swiotlb returned, which its
 * unmap needs.
 *
 * swiotlb reads only the chunk's own bytes (nothing before it, which with a
 * granule above PAGE_SIZE may be a page no longer in the linear map) and
 * keeps their offset in the granule only as far as the device's
 * min_align_mask asks; the slot is a whole granule, though, so the bytes
 * move to their offset in the granule, where the IOVA puts them, and the
 * rest of the slot is zeroed before the device can see it.
 */
static int bounce_granule(struct dma_iova_mapping *map, size_t offset,
			  phys_addr_t phys, size_t len,
			  enum dma_data_direction dir, unsigned long attrs,
			  phys_addr_t *tlb)
{
	size_t pad = phys & (granule(map) - 1);
	phys_addr_t got, base;
	char *va;
	int ret;

	if (!is_swiotlb_active(map->dev)) {
		dev_warn_once(map->dev, "no bounce buffers for an unaligned link\n");
		return -ENOMEM;
	}
	if (iova_should_fail())
		return -ENOMEM;
	got = swiotlb_tbl_map_single(map->dev, phys, len, granule(map) - 1,
				     dir, attrs);
	if (got == (phys_addr_t)DMA_MAPPING_ERROR)
		return -ENOMEM;

	base = got & ~(phys_addr_t)(granule(map) - 1);
	va = phys_to_virt(base);
	if (got != base + pad)
		memmove(va + pad, phys_to_virt(got), len);
	memset(va, 0, pad);
	memset(va + pad + len, 0, granule(map) - pad - len);

	ret = map_extent(map, gran_down(map, offset), base, granule(map), dir,
			 attrs, false);
	if (ret) {
		swiotlb_tbl_unmap_single(map->dev, got, len, dir,
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
static void bounce_release(struct dma_iova_mapping *map, phys_addr_t phys,
			   phys_addr_t tlb, size_t len,
			   enum dma_data_direction dir, u32 attrs,
			   bool copy_back)
{
	if (copy_back && !(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
	    (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce_copy(phys, slot_bytes(map, tlb, phys), len, false);
	swiotlb_tbl_unmap_single(map->dev, tlb, len, dir,
				 attrs | DMA_ATTR_SKIP_CPU_SYNC);
}

/* The host address of a bounced chunk's tail. */
static phys_addr_t bounce_tail_phys(const struct dma_iova_bounce *b)
{
	return b->phys + b->size - b->tail_len;
}

/* Cache maintenance of a bounced chunk: its slots in place of head and tail. */
static void arch_sync_bounce(struct dma_iova_mapping *map,
			     const struct dma_iova_bounce *b,
			     enum dma_data_direction dir, bool for_cpu)
{
	void (*sync)(phys_addr_t paddr, size_t size,
		     enum dma_data_direction dir) =
		for_cpu ? arch_sync_dma_for_cpu : arch_sync_dma_for_device;
	size_t mid = b->size - b->head_len - b->tail_len;

	if (b->head_len)
		sync(slot_bytes(map, b->head_tlb, b->phys), b->head_len, dir);
	if (mid)
		sync(b->phys + b->head_len, mid, dir);
	if (b->tail_len)
		sync(slot_bytes(map, b->tail_tlb, bounce_tail_phys(b)),
		     b->tail_len, dir);
}

/*
 * Map a chunk whose unaligned head and tail go through swiotlb, filling @b.
 * What it maps is one IOVA run from the chunk's first granule, so a failure
 * unwinds that run, and only that, with one unmap.
 */
static int link_bounce(struct dma_iova_mapping *map, struct dma_iova_bounce *b,
		       enum dma_data_direction dir, unsigned long attrs)
{
	size_t pad = b->phys & (granule(map) - 1);
	size_t start = gran_down(map, b->offset), mapped = start;
	size_t end = b->offset + b->size, mid_len;
	struct iommu_iotlb_gather gather;
	int ret = 0;

	b->head_len = 0;
	b->tail_len = 0;
	if (start == gran_down(map, end - 1)) {
		/* Head and tail share one granule: bounce it as the head. */
		b->head_len = b->size;
	} else {
		b->head_len = pad ? granule(map) - pad : 0;
		b->tail_len = end & (granule(map) - 1);
	}
	mid_len = b->size - b->head_len - b->tail_len;

	if (b->head_len) {
		ret = bounce_granule(map, b->offset, b->phys, b->head_len, dir,
				     attrs, &b->head_tlb);
		if (ret) {
			b->head_len = 0;
			goto unwind;
		}
		mapped += granule(map);
	}
	/* An empty middle is legal and must not reach the IOMMU. */
	if (mid_len) {
		ret = map_extent(map, mapped, b->phys + b->head_len, mid_len,
				 dir, attrs, false);
		if (ret)
			goto unwind;
		mapped += mid_len;
	}
	if (b->tail_len) {
		ret = bounce_granule(map, mapped, bounce_tail_phys(b),
				     b->tail_len, dir, attrs, &b->tail_tlb);
		if (ret)
			goto unwind;
	}
	if (wants_arch_sync(map, attrs))
		arch_sync_bounce(map, b, dir, false);
	return 0;

unwind:
	if (mapped > start) {
		iommu_dma_iova_gather_init(map->dev, &gather, false);
		unmap_extent(map, start, mapped, &gather);
		iommu_dma_iova_flush(map->dev, &gather);
	}
	if (b->head_len)
		bounce_release(map, b->phys, b->head_tlb, b->head_len, dir,
			       attrs, false);
	return ret;
}

static int link_iommu(struct dma_iova_mapping *map, struct link_chunk *c)
{
	struct dma_iova_record *rec = &map->rec;
	struct dma_iova_record_ext *ext;
	struct dma_iova_bounce *b = NULL;
	unsigned long gs = gidx(map, c->offset);
	unsigned long ge = gidx_up(map, c->offset + c->size);
	size_t start = gran_down(map, c->offset);
	enum run_place place;
	unsigned int idx;
	int ret;

	c->dma_addr = c->type == DMA_CHUNK_P2P_BUS ? c->dma_addr :
		      map->addr + c->offset;
	place = place_chunk(map, c, &idx);
	ret = reserve_runs(map, runs_added(place));
	if (!ret && c->type == DMA_CHUNK_BOUNCE)
		ret = reserve_bounce(map);
	if (ret)
		return ret;

	switch (c->type) {
	case DMA_CHUNK_P2P_BUS:
		break;
	case DMA_CHUNK_BOUNCE:
		ext = rec->ext;
		b = &ext->bounce[bounce_index(ext, c->offset)];
		if (b < ext->bounce + ext->nr_bounce)
			memmove(b + 1, b, (ext->bounce + ext->nr_bounce - b) *
					  sizeof(*b));
		b->offset = c->offset;
		b->size = c->size;
		b->phys = c->phys;
		ret = link_bounce(map, b, c->dir, c->attrs);
		if (ret) {
			memmove(b, b + 1, (ext->bounce + ext->nr_bounce - b) *
					  sizeof(*b));
			return ret;
		}
		ext->nr_bounce++;
		c->bounced = b->head_len + b->tail_len;
		break;
	default:
		if (c->type == DMA_CHUNK_HOST && wants_arch_sync(map, c->attrs))
			arch_sync_dma_for_device(c->phys, c->size, c->dir);
		ret = map_extent(map, start, c->phys - (c->offset - start),
				 gran_up(map, c->offset + c->size) - start,
				 c->dir, c->attrs,
				 c->type == DMA_CHUNK_P2P_HOST_BRIDGE);
		if (ret)
			return ret;
	}

	record_chunk(map, c, place, idx);
	set_span(rec->linked, gs, ge);
	set_span(rec->pending, gs, ge);
	__set_bit(gs, rec->starts);
	return 0;
}

/*
 * The common case of a link, kept apart so that it costs little beyond the
 * IOMMU map: host memory of whole granules at or past the end of the
 * record's last run @r, which it joins (granules past the last run are
 * free by construction, so there is nothing to check them against).
 */
static __always_inline bool appends_to(const struct dma_iova_mapping *map,
				       const struct dma_iova_chunk *r,
				       size_t off, phys_addr_t phys,
				       size_t len, struct page *page)
{
	return !((phys | len | off) & (granule(map) - 1)) && len &&
	       off >= run_end(r) && off <= map->size &&
	       len <= map->size - off && !is_pci_p2pdma_page(page);
}

/*
 * Map a chunk appends_to() accepted and mark where it starts; the rest of
 * the record learns it from record_appends(), once per stretch of such
 * chunks. Inline in the loops that call it: per chunk, a function call and
 * return (with the return-thunk mitigations of current CPUs) cost more
 * than this bookkeeping.
 */
static __always_inline int append_chunk(struct dma_iova_mapping *map,
					const struct iommu_dma_iova_batch *batch,
					bool sync, size_t off, phys_addr_t phys,
					size_t len, enum dma_data_direction dir)
{
	int ret;

	if (sync)
		arch_sync_dma_for_device(phys, len, dir);
	ret = iova_should_fail() ? -ENOMEM :
	      iommu_dma_iova_batch_map(batch, map->addr + off, phys, len);
	if (ret)
		return ret;
	__set_bit(gidx(map, off), map->rec.starts);
	trace_dma_iova_link(map, off, len, phys, map->addr + off,
			    DMA_CHUNK_HOST, dir, 0);
	return 0;
}

/*
 * dma_link_bvecs() while the chunks append to the last run: one tight
 * loop around the IOMMU map. The chunks it links are contiguous, so the
 * record is written once for all of them. Advances *@i and *@off past what
 * it linked; 0 when done or when the next chunk needs the general path, or
 * the error that fails the batch (the caller unwinds it).
 */
static int link_appends(struct dma_iova_mapping *map,
			const struct iommu_dma_iova_batch *batch,
			const struct bio_vec *bv, unsigned int nr,
			unsigned int *i, size_t *off,
			enum dma_data_direction dir, unsigned long attrs)
{
	struct dma_iova_chunk *r = append_run(map, dir, attrs);
	size_t mask = granule(map) - 1, start = 0, end = *off;
	bool sync = r && wants_arch_sync(map, attrs);
	unsigned int k = *i, n = 0;
	int ret = 0;

	while (r && k < nr) {
		struct page *page = bv[k].bv_page;
		phys_addr_t phys = bvec_phys(&bv[k]);
		size_t len = bv[k].bv_len, o = ALIGN(end, mask + 1);
		unsigned int j = k + 1;

		while (j < nr && bvec_phys(&bv[j]) == phys + len &&
		       zone_device_pages_have_same_pgmap(page, bv[j].bv_page))
			len += bv[j++].bv_len;
		if (!appends_to(map, r, o, phys, len, page))
			break;
		ret = append_chunk(map, batch, sync, o, phys, len, dir);
		if (ret)
			break;
		if (!n++)
			start = o;
		end = o + len;
		k = j;
	}
	record_appends(map, r, start, end, n);
	if (ret)
		return ret;
	*i = k;
	*off = end;
	return 0;
}

/*
 * The append path for dma_link_range() of one whole page (page-at-a-time
 * users such as ODP): 1 when linked, 0 for the general path, or -errno.
 */
static int link_page(struct dma_iova_mapping *map, size_t offset,
		     phys_addr_t phys, size_t size, enum dma_data_direction dir,
		     unsigned long attrs)
{
	struct dma_iova_chunk *r = append_run(map, dir, attrs);
	struct iommu_dma_iova_batch batch;
	int ret;

	if (!r || size != PAGE_SIZE || !pfn_valid(PHYS_PFN(phys)) ||
	    !appends_to(map, r, offset, phys, size,
			pfn_to_page(PHYS_PFN(phys))))
		return 0;
	iommu_dma_iova_batch_init(map->dev, &batch, dir, attrs);
	ret = append_chunk(map, &batch, wants_arch_sync(map, attrs), offset,
			   phys, size, dir);
	if (ret)
		return ret;
	record_appends(map, r, offset, offset + size, 1);
	return 1;
}

/* ---- teardown ----------------------------------------------------------- */

/*
 * A teardown selects granules (IOMMU) or runs (direct) and takes them out in
 * two passes around one IOTLB flush: first out of the device's view, then
 * back to the CPU and out of the record.
 */
struct teardown {
	struct iommu_iotlb_gather gather;
	size_t start, end;		/* IOVA bytes waiting for one unmap */
	unsigned long chunks;
	unsigned long pending;
	u64 bytes;
	dma_iova_release_fn release;
	void *arg;
};

static void unmap_add(struct dma_iova_mapping *map, struct teardown *td,
		      size_t start, size_t end)
{
	if (td->end && start != td->end) {
		unmap_extent(map, td->start, td->end, &td->gather);
		td->end = 0;
	}
	if (!td->end)
		td->start = start;
	td->end = end;
}

static void unmap_done(struct dma_iova_mapping *map, struct teardown *td)
{
	if (td->end)
		unmap_extent(map, td->start, td->end, &td->gather);
	td->end = 0;
}

/* Byte extent of granules [@s, @e) of run @r. */
static void span_bytes(const struct dma_iova_mapping *map,
		       const struct dma_iova_chunk *r, unsigned long s,
		       unsigned long e, size_t *start, size_t *end)
{
	*start = max((size_t)s << map->granule_shift, r->offset);
	*end = min((size_t)e << map->granule_shift, run_end(r));
}

static void window(const struct dma_iova_mapping *map,
		   const struct dma_iova_range *r, bool exact,
		   unsigned long *gs, unsigned long *ge)
{
	if (exact) {
		unlink_window(map, r, gs, ge);
	} else {
		*gs = gidx(map, r->offset);
		*ge = gidx_up(map, r->offset + r->size);
	}
}

/*
 * Pass one over granules [@gs, @ge) selected in @sel: sync host memory for
 * the CPU while the page table still has it, and unmap.
 */
static void unmap_selected(struct dma_iova_mapping *map, struct teardown *td,
			   const unsigned long *sel, unsigned long gs,
			   unsigned long ge)
{
	struct dma_iova_record *rec = &map->rec;
	unsigned int i = run_index(rec, ((size_t)gs << map->granule_shift) + 1);
	unsigned long s, e;

	if (i)
		i--;
	for (; i < rec->nr_runs; i++) {
		struct dma_iova_chunk *r = &rec->runs[i];
		unsigned long rs = max(gidx(map, r->offset), gs);
		unsigned long re = min(gidx_up(map, run_end(r)), ge);

		if (rs >= ge)
			break;
		if (!chunk_is_mapped(r->type))
			continue;
		while (rs < re && next_span(sel, rs, re, &s, &e)) {
			size_t start, end;

			span_bytes(map, r, s, e, &start, &end);
			if (r->type == DMA_CHUNK_HOST &&
			    wants_arch_sync(map, r->attrs))
				arch_sync_iova(map, start, end, r->dir, true);
			unmap_add(map, td, gran_down(map, start),
				  gran_up(map, end));
			rs = e;
		}
	}
	unmap_done(map, td);
}

/* Give a bounced chunk's slots back, copying the device's bytes out. */
static void release_bounce(struct dma_iova_mapping *map,
			   const struct dma_iova_chunk *r, bool copy_back)
{
	struct dma_iova_record_ext *ext = map->rec.ext;
	struct dma_iova_bounce *b = find_bounce(map, r->offset);

	if (!b)
		return;
	/* Invalidate first: the copy back must read what the device wrote. */
	if (copy_back && wants_arch_sync(map, r->attrs))
		arch_sync_bounce(map, b, r->dir, true);
	if (b->head_len)
		bounce_release(map, b->phys, b->head_tlb, b->head_len,
			       r->dir, r->attrs, copy_back);
	if (b->tail_len)
		bounce_release(map, bounce_tail_phys(b), b->tail_tlb,
			       b->tail_len, r->dir, r->attrs, copy_back);
	ext->nr_bounce--;
	memmove(b, b + 1, (ext->bounce + ext->nr_bounce - b) * sizeof(*b));
}

/*
 * Pass two, after the flush: release bounce slots, tell @td->release, clear
 * the granules and trim the runs they were in.
 */
static void drop_selected(struct dma_iova_mapping *map, struct teardown *td,
			  unsigned long *sel, unsigned long gs,
			  unsigned long ge, bool copy_back)
{
	struct dma_iova_record *rec = &map->rec;
	unsigned int i = run_index(rec, ((size_t)gs << map->granule_shift) + 1);
	unsigned int first;
	unsigned long s, e;
	bool changed = false;

	if (i)
		i--;
	first = i;
	while (i < rec->nr_runs) {
		struct dma_iova_chunk *r = &rec->runs[i];
		unsigned long rs = max(gidx(map, r->offset), gs);
		unsigned long re = min(gidx_up(map, run_end(r)), ge);
		bool touched = false;

		if (rs >= ge)
			break;
		while (rs < re && next_span(sel, rs, re, &s, &e)) {
			struct dma_iova_chunk piece = *r;
			size_t start, end;

			span_bytes(map, r, s, e, &start, &end);
			if (r->type == DMA_CHUNK_BOUNCE)
				release_bounce(map, r, copy_back);
			if (td->release) {
				piece.dma_addr += start - r->offset;
				piece.offset = start;
				piece.size = end - start;
				td->release(&piece, td->arg);
			}
			td->chunks += count_span(rec->starts, s, e);
			td->pending += count_pending(rec, s, e);
			td->bytes += end - start;
			clear_span(rec->starts, s, e);
			clear_span(rec->pending, s, e);
			/* Last: @sel may be @rec->linked. */
			clear_span(rec->linked, s, e);
			touched = true;
			rs = e;
		}
		if (!touched || trim_run(map, i))
			i++;
		changed |= touched;
	}
	if (changed)
		join_runs(map, first, ge);
}

/*
 * Tear down, with one IOTLB flush, the granules selected in @sel within
 * @ranges: of the chunks inside them (@exact, for an unlink), or all.
 */
static void teardown_iommu(struct dma_iova_mapping *map, unsigned long *sel,
			   const struct dma_iova_range *ranges,
			   unsigned int nr, bool exact, bool destroy,
			   dma_iova_release_fn release, void *arg)
{
	struct teardown td = { .release = release, .arg = arg };
	unsigned long gs, ge;
	unsigned int i;

	iommu_dma_iova_gather_init(map->dev, &td.gather, destroy);
	for (i = 0; i < nr; i++) {
		window(map, &ranges[i], exact, &gs, &ge);
		unmap_selected(map, &td, sel, gs, ge);
	}
	iommu_dma_iova_flush(map->dev, &td.gather);
	if (destroy)
		iommu_dma_iova_free(map->dev, map->addr, map->rec.iova_len,
				    &td.gather);
	/*
	 * A destroy drops the record whole: the second pass only has work
	 * for bounce slots, a release callback or the tracepoint.
	 */
	if (destroy && !release &&
	    !(map->rec.ext && map->rec.ext->nr_bounce) &&
	    !trace_dma_iova_teardown_enabled())
		return;
	for (i = 0; i < nr; i++) {
		window(map, &ranges[i], exact, &gs, &ge);
		drop_selected(map, &td, sel, gs, ge, true);
	}
	forget_chunks(&map->rec, td.chunks, td.pending);
	trace_dma_iova_teardown(map, td.chunks, td.bytes, destroy);
}

/* swiotlb's sync of one slot: the copy its direction asks for. */
static void bounce_sync(struct dma_iova_mapping *map, phys_addr_t phys,
			phys_addr_t tlb, size_t len,
			enum dma_data_direction dir, bool for_cpu)
{
	tlb = slot_bytes(map, tlb, phys);
	if (for_cpu && (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce_copy(phys, tlb, len, false);
	else if (!for_cpu && (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce_copy(phys, tlb, len, true);
}

static void sync_bounced(struct dma_iova_mapping *map,
			 const struct dma_iova_chunk *r, bool for_cpu)
{
	struct dma_iova_bounce *b = find_bounce(map, r->offset);

	if (!b)
		return;
	if (for_cpu && wants_arch_sync(map, r->attrs))
		arch_sync_bounce(map, b, r->dir, true);
	if (b->head_len)
		bounce_sync(map, b->phys, b->head_tlb, b->head_len, r->dir,
			    for_cpu);
	if (b->tail_len)
		bounce_sync(map, bounce_tail_phys(b), b->tail_tlb, b->tail_len,
			    r->dir, for_cpu);
	if (!for_cpu && wants_arch_sync(map, r->attrs))
		arch_sync_bounce(map, b, r->dir, false);
}
