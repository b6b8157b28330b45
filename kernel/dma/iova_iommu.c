// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two-step IOVA DMA mapping with an IOMMU: the record's side of linking,
 * syncing and tearing down chunks in one IOVA range, through the engine
 * (iova_engine.c). Links host memory that appends to the last run on a
 * fast path; tears down through one IOTLB gather. Built as part of
 * kernel/dma/iova_link.c.
 */

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

static int link_iommu(struct dma_iova_mapping *map, struct link_chunk *c)
{
	struct dma_iova_record *rec = &map->rec;
	struct dma_iova_record_ext *ext;
	struct dma_iova_bounce *b = NULL;
	unsigned long gs = gidx(map, c->offset);
	unsigned long ge = gidx_up(map, c->offset + c->size);
	struct iova_engine_batch batch;
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
		ret = engine_link_bounce(&map->eng, map->addr + c->offset, b,
					 c->dir, c->attrs);
		if (ret) {
			memmove(b, b + 1, (ext->bounce + ext->nr_bounce - b) *
					  sizeof(*b));
			return ret;
		}
		ext->nr_bounce++;
		c->bounced = b->head_len + b->tail_len;
		break;
	default:
		iova_engine_batch_init(&map->eng, &batch, c->dir, c->attrs,
				       c->type == DMA_CHUNK_P2P_HOST_BRIDGE);
		ret = engine_link(&batch, map->addr + c->offset, c->phys,
				  c->size);
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
 * the record learns it from record_appends(). For link_page(), whose
 * callers link a page at a time.
 */
static __always_inline int append_chunk(struct dma_iova_mapping *map,
					const struct iova_engine_batch *batch,
					size_t off, phys_addr_t phys,
					size_t len, enum dma_data_direction dir)
{
	int ret = engine_link_whole(batch, map->addr + off, phys, len);

	if (ret)
		return ret;
	__set_bit(gidx(map, off), map->rec.starts);
	trace_dma_iova_link(map, off, len, phys, map->addr + off,
			    DMA_CHUNK_HOST, dir, 0);
	return 0;
}

/* Chunks link_appends() hands the IOMMU per call. */
#define APPEND_RANGES	16

/*
 * Map chunks appends_to() accepted, at consecutive IOVA from @off, in one
 * call, and mark where each starts; all of them or, on error, none.
 */
static __always_inline int
append_ranges(struct dma_iova_mapping *map,
	      const struct iova_engine_batch *batch, size_t off,
	      const struct iommu_map_range *ranges, unsigned int nr,
	      enum dma_data_direction dir)
{
	unsigned int k;
	int ret;

	ret = engine_link_ranges(batch, map->addr + off, ranges, nr);
	if (ret)
		return ret;
	for (k = 0; k < nr; off += ranges[k++].size) {
		__set_bit(gidx(map, off), map->rec.starts);
		trace_dma_iova_link(map, off, ranges[k].size, ranges[k].phys,
				    map->addr + off, DMA_CHUNK_HOST, dir, 0);
	}
	return 0;
}

/*
 * dma_link_bvecs() while the chunks append to the last run: one tight
 * loop that gathers them for the IOMMU, APPEND_RANGES at a time. The chunks
 * it links are contiguous, so the record is written once for all of them.
 * Advances *@i and *@off past what it linked; 0 when done or when the next
 * chunk needs the general path, or the error that fails the batch (the
 * caller unwinds it).
 */
static __always_inline int
link_appends(struct dma_iova_mapping *map,
	     const struct iova_engine_batch *batch, const struct bio_vec *bv,
	     unsigned int nr, unsigned int *i, size_t *off,
	     enum dma_data_direction dir, unsigned long attrs)
{
	size_t mask = granule(map) - 1, end = *off, from = 0;
	/* where the first chunk goes; the others follow it back to back */
	size_t start = ALIGN(end, mask + 1);
	struct dma_iova_chunk *r = append_run(map, start, dir, attrs);
	/* written before it is read: no zeroing per call */
	struct iommu_map_range ranges[APPEND_RANGES] __uninitialized;
	unsigned int k = *i, n = 0, nv = 0;
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
		if (!nv)
			from = o;
		ranges[nv].phys = phys;
		ranges[nv++].size = len;
		end = o + len;
		k = j;
		if (nv == APPEND_RANGES) {
			ret = append_ranges(map, batch, from, ranges, nv, dir);
			if (ret)
				break;
			n += nv;
			nv = 0;
		}
	}
	if (nv && !ret) {
		ret = append_ranges(map, batch, from, ranges, nv, dir);
		if (!ret)
			n += nv;
	}
	/* What is mapped ends where the chunks of a failed call began. */
	record_appends(map, r, start, ret ? from : end, n);
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
	struct iova_engine_batch batch;
	struct dma_iova_chunk *r;
	int ret;

	if (size != PAGE_SIZE || !pfn_valid(PHYS_PFN(phys)))
		return 0;
	r = append_run(map, offset, dir, attrs);
	if (!r || !appends_to(map, r, offset, phys, size,
			      pfn_to_page(PHYS_PFN(phys))))
		return 0;
	iova_engine_batch_init(&map->eng, &batch, dir, attrs, false);
	ret = append_chunk(map, &batch, offset, phys, size, dir);
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

static void unmap_done(struct dma_iova_mapping *map, struct teardown *td)
{
	if (td->end)
		iova_engine_unmap(&map->eng, map->addr + td->start,
				  td->end - td->start, &td->gather);
	td->end = 0;
}

static void unmap_add(struct dma_iova_mapping *map, struct teardown *td,
		      size_t start, size_t end)
{
	if (td->end && start != td->end)
		unmap_done(map, td);
	if (!td->end)
		td->start = start;
	td->end = end;
}

/* Byte extent of granules [@s, @e) of run @r. */
static void span_bytes(const struct dma_iova_mapping *map,
		       const struct dma_iova_chunk *r, unsigned long s,
		       unsigned long e, size_t *start, size_t *end)
{
	*start = max((size_t)s << map->eng.granule_shift, r->offset);
	*end = min((size_t)e << map->eng.granule_shift, run_end(r));
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
	unsigned int i = run_index(rec,
				   ((size_t)gs << map->eng.granule_shift) + 1);
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
			    engine_wants_sync(&map->eng, r->attrs))
				engine_sync_iova(&map->eng, map->addr + start,
						 end - start, r->dir, true);
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
	engine_unlink_bounce(&map->eng, b, r->dir, r->attrs, copy_back);
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
	unsigned int i = run_index(rec,
				   ((size_t)gs << map->eng.granule_shift) + 1);
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
 * Pass one of a destroy when the record is what most mappings hold, one
 * run of mapped memory without holes that needs no cache maintenance:
 * a single unmap, without the span search. False for anything else.
 */
static bool unmap_one_run(struct dma_iova_mapping *map, struct teardown *td)
{
	const struct dma_iova_record *rec = &map->rec;
	const struct dma_iova_chunk *r = rec->runs;
	unsigned long gs, ge;

	if (rec->nr_runs != 1 || !chunk_is_mapped(r->type) ||
	    (r->type == DMA_CHUNK_HOST &&
	     engine_wants_sync(&map->eng, r->attrs)))
		return false;
	gs = gidx(map, r->offset);
	ge = gidx_up(map, run_end(r));
	if (find_next_zero_bit(rec->linked, ge, gs) < ge)
		return false;
	unmap_add(map, td, (size_t)gs << map->eng.granule_shift,
		  (size_t)ge << map->eng.granule_shift);
	unmap_done(map, td);
	return true;
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

	iova_engine_gather_init(&map->eng, &td.gather, destroy);
	/* a destroy selects every linked granule of the mapping */
	if (!destroy || !unmap_one_run(map, &td)) {
		for (i = 0; i < nr; i++) {
			window(map, &ranges[i], exact, &gs, &ge);
			unmap_selected(map, &td, sel, gs, ge);
		}
	}
	iova_engine_flush(&map->eng, &td.gather);
	if (destroy)
		iova_engine_free(&map->eng, map->addr, map->rec.iova_len,
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

static void sync_bounced(struct dma_iova_mapping *map,
			 const struct dma_iova_chunk *r, bool for_cpu)
{
	struct dma_iova_bounce *b = find_bounce(map, r->offset);

	if (b)
		engine_sync_bounce(&map->eng, b, r->dir, r->attrs, for_cpu);
}
