// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two-step IOVA DMA mapping.
 *
 * A caller reserves one contiguous IOVA range with dma_alloc_iova() and then
 * links physically contiguous chunks into it at byte offsets of its choice.
 * Each chunk is classified here (host memory, swiotlb bounce, PCI P2P by bus
 * address, PCI P2P through the host bridge) and recorded in the mapping, so
 * unlink, sync, destroy and the segment iterator need nothing re-supplied.
 * Without an IOMMU (dma-direct, identity domains) the same calls map each
 * chunk on its own and the mapping records the per-chunk DMA addresses.
 *
 * This file holds the entry points and the classification of chunks. The
 * mechanisms they use have rooms of their own, built in this compilation
 * unit (as kernel/sched/build_policy.c builds its files) so that the link
 * loops keep their inlining:
 *
 *   iova_engine.c  the one road to the IOMMU, swiotlb and cache maintenance,
 *                  which hmm_dma.c takes too (iova_engine.h)
 *   iova_record.c  the record: runs, granule bitmaps, pending chunks
 *   iova_iommu.c   the record's side of the IOMMU path: link, sync, teardown
 *   iova_direct.c  the path without an IOMMU
 *
 * Locking: the caller serialises all calls on one mapping. Nothing here
 * sleeps except dma_alloc_iova() and the links that grow the record, when
 * the mapping's gfp allows it.
 */
#include "iova_link_internal.h"

#define CREATE_TRACE_POINTS
#include <trace/events/dma_iova.h>

#include "iova_engine.c"
#include "iova_record.c"
#include "iova_iommu.c"
#include "iova_direct.c"

/* ---- entry points ------------------------------------------------------- */

static int __dma_alloc_iova(struct device *dev, struct dma_iova_mapping *map,
			    size_t size, size_t align, gfp_t gfp)
{
	struct dma_iova_engine eng;
	size_t gran, len = 0;
	dma_addr_t addr = 0;

	init_mapping(map);

	if (!dev || !dev->dma_mask || !size || (align & (align - 1)))
		return -EINVAL;

	gran = iova_engine_init(&eng, dev);
	if (gran) {
		align = max(align, gran);
		if (check_add_overflow(size, gran - 1, &len))
			return -EINVAL;
		len &= ~(gran - 1);
		len = max(len, align);
		if (len - 1 > dma_get_mask(dev))
			return -EINVAL;
		addr = iova_engine_alloc(&eng, len);
		if (!addr)
			return -ENOMEM;
		if (WARN_ON_ONCE(addr & (align - 1))) {
			iova_engine_free(&eng, addr, len, NULL);
			return -EIO;
		}
	}
	if (init_record(&map->rec, gran ? DIV_ROUND_UP(size, gran) : 0, gfp)) {
		if (gran)
			iova_engine_free(&eng, addr, len, NULL);
		init_mapping(map);
		return -ENOMEM;
	}
	map->rec.iova_len = len;

	map->eng = eng;
	map->addr = addr;
	map->size = size;
	map->gfp = gfp;
	map->live = true;
	return 0;
}

/**
 * dma_alloc_iova() - reserve a contiguous IOVA range for a device
 * @dev: device that will do the DMA
 * @map: caller-owned mapping state, fully (re)initialised by this call
 * @size: bytes the range must cover
 * @align: minimum alignment of the range in bytes, a power of two; 0 for the
 *	IOMMU granule. Larger alignments (e.g. SZ_2M for huge device pages)
 *	are honoured exactly; the allocator may align more.
 * @gfp: allocation flags, used here for the IOVA (and, beyond BITS_PER_LONG
 *	granules, bitmaps of the record with one bit per granule) and when
 *	a link must grow the record
 *
 * When @dev uses an IOMMU DMA domain, reserves IOVA space for @size bytes.
 * Otherwise reserves nothing: the mapping then records a DMA address per
 * chunk, and callers use it through the very same calls.
 *
 * Context: May sleep if @gfp allows it.
 * Return: 0 on success; -EINVAL for a missing or DMA-incapable device, a zero
 * size, a size the device cannot address or that overflows, or an alignment
 * that is not a power of two; -ENOMEM when the IOVA space or the record
 * cannot be allocated. On error @map is left initialised and not live:
 * dma_destroy_iova() on it is a no-op.
 */
int dma_alloc_iova(struct device *dev, struct dma_iova_mapping *map,
		   size_t size, size_t align, gfp_t gfp)
{
	int ret = __dma_alloc_iova(dev, map, size, align, gfp);

	debug_dma_iova_alloc(map, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_alloc_iova);

/* Would a chunk need bouncing: device asks for it, chunk not aligned? */
static bool chunk_needs_bounce(const struct dma_iova_mapping *map,
			       phys_addr_t phys, size_t size,
			       enum dma_data_direction dir)
{
	return dma_iova_uses_iommu(map) &&
	       iova_engine_needs_bounce(&map->eng, phys, size, dir);
}

/* The chunk type of P2P memory the device reaches as @how says. */
static int p2p_chunk_type(struct dma_iova_mapping *map,
			  enum pci_p2pdma_map_type how, u64 bus_off,
			  phys_addr_t phys, size_t size,
			  enum dma_data_direction dir, dma_addr_t *bus_addr)
{
	switch (how) {
	case PCI_P2PDMA_MAP_BUS_ADDR:
		*bus_addr = phys + bus_off;
		return DMA_CHUNK_P2P_BUS;
	case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
		/* MMIO is never bounced: the device would see its neighbours. */
		return chunk_needs_bounce(map, phys, size, dir) ? -EPERM :
		       DMA_CHUNK_P2P_HOST_BRIDGE;
	default:
		return -EREMOTEIO;
	}
}

/*
 * How the device reaches [@phys, @phys + @size), whose first page is @page
 * and which lies in one memory kind: the chunk type or -errno; *@bus_addr
 * gets the bus address of bus-address P2P memory.
 */
static int classify_page(struct dma_iova_mapping *map, struct page *page,
			 phys_addr_t phys, size_t size,
			 enum dma_data_direction dir, dma_addr_t *bus_addr)
{
	struct dma_iova_record_ext *ext = map->rec.ext;
	struct pci_p2pdma_map_state p2p = {};
	enum pci_p2pdma_map_type how;
	int type;

	if (!is_pci_p2pdma_page(page))
		return chunk_needs_bounce(map, phys, size, dir) ?
		       DMA_CHUNK_BOUNCE : DMA_CHUNK_HOST;

	if (iova_should_fail())
		return -EREMOTEIO;
	/* The provider cache lives in the extension, made only for a link. */
	if (ext)
		p2p = ext->p2p;
	how = pci_p2pdma_classify(&p2p, map->eng.dev, page);
	type = p2p_chunk_type(map, how, p2p.bus_off, phys, size, dir,
			      bus_addr);
	if (type < 0)
		return type;
	ext = get_ext(map);
	if (!ext)
		return -ENOMEM;
	ext->p2p = p2p;
	return type;
}

/*
 * Memory without struct pages can only be a PCI BAR that no P2PDMA
 * pagemap covers (a BAR exported through dma-buf, as VFIO does): look
 * its provider up by address.
 */
static int classify_mmio(struct dma_iova_mapping *map, phys_addr_t phys,
			 size_t size, enum dma_data_direction dir,
			 dma_addr_t *bus_addr)
{
	struct dma_iova_record_ext *ext = map->rec.ext;
	struct pci_p2pdma_phys_state mmio = {};
	enum pci_p2pdma_map_type how;
	int type = -EINVAL;

	if (iova_should_fail())
		return -EREMOTEIO;
	/* As classify_page(); the cache holds a reference to its provider. */
	if (ext)
		mmio = ext->mmio;
	how = pci_p2pdma_classify_phys(&mmio, map->eng.dev, phys, size);
	if (how != PCI_P2PDMA_MAP_UNKNOWN)
		type = p2p_chunk_type(map, how, mmio.bus_off, phys, size, dir,
				      bus_addr);
	if (!ext && type >= 0) {
		ext = get_ext(map);
		if (!ext)
			type = -ENOMEM;
	}
	if (ext)
		ext->mmio = mmio;
	else
		pci_p2pdma_phys_state_release(&mmio);
	return type;
}

/* As classify_page() for a chunk given by physical address alone. */
static int classify_phys(struct dma_iova_mapping *map, phys_addr_t phys,
			 size_t size, enum dma_data_direction dir,
			 dma_addr_t *bus_addr)
{
	struct page *first, *last;
	phys_addr_t end;

	if (check_add_overflow(phys, (phys_addr_t)size - 1, &end))
		return -EINVAL;
	if (!pfn_valid(PHYS_PFN(phys)) && !pfn_valid(PHYS_PFN(end)))
		return classify_mmio(map, phys, size, dir, bus_addr);
	/* A chunk never spans memory kinds or two providers. */
	if (!pfn_valid(PHYS_PFN(phys)) ||
	    (PHYS_PFN(end) != PHYS_PFN(phys) && !pfn_valid(PHYS_PFN(end))))
		return -EINVAL;
	first = pfn_to_page(PHYS_PFN(phys));
	last = pfn_to_page(PHYS_PFN(end));
	if (is_pci_p2pdma_page(first) != is_pci_p2pdma_page(last) ||
	    (is_pci_p2pdma_page(first) && last->pgmap != first->pgmap))
		return -EINVAL;
	return classify_page(map, first, phys, size, dir, bus_addr);
}

/*
 * Link one chunk: check its place, classify it (@page is its first page,
 * or NULL to look it up), map it, record it. Errors before the map leave
 * nothing behind; the caller unwinds the batch.
 */
static int link_one(struct dma_iova_mapping *map, size_t offset,
		    phys_addr_t phys, size_t size, struct page *page,
		    enum dma_data_direction dir, unsigned long attrs)
{
	struct link_chunk c = {
		.offset = offset, .size = size, .phys = phys,
		.attrs = attrs, .dir = dir,
	};
	int type, ret;

	ret = check_range(map, offset, size);
	if (ret)
		return ret;
	if (dma_iova_uses_iommu(map) && ((offset ^ phys) & (granule(map) - 1)))
		return -EINVAL;
	if (!range_is_free(map, offset, size))
		return -EEXIST;

	/* Misuse and unreachable memory are reported before any allocation. */
	if (page)
		type = classify_page(map, page, phys, size, dir, &c.dma_addr);
	else
		type = classify_phys(map, phys, size, dir, &c.dma_addr);
	if (type < 0)
		return type;
	c.type = type;

	ret = dma_iova_uses_iommu(map) ? link_iommu(map, &c) :
					 link_direct(map, &c);
	if (ret)
		return ret;
	map->rec.nr_chunks++;
	map->rec.nr_pending++;
	note_pending(&map->rec, offset, offset + size);
	trace_dma_iova_link(map, offset, size, phys, c.dma_addr, c.type, dir,
			    c.bounced);
	return 0;
}

static void unwind_pending(struct dma_iova_mapping *map);

/* A failed link or commit unwinds its batch, and reports only what it knows. */
static int link_failed(struct dma_iova_mapping *map, int ret)
{
	if (map->live)
		unwind_pending(map);
	if (WARN_ON_ONCE(ret != -EINVAL && ret != -EEXIST && ret != -ENOMEM &&
			 ret != -EREMOTEIO && ret != -EPERM))
		ret = -EIO;
	return ret;
}

static bool link_args_valid(const struct dma_iova_mapping *map,
			    enum dma_data_direction dir, unsigned long attrs)
{
	/* The record keeps attributes in 32 bits; all DMA_ATTR_* fit. */
	return map->live && valid_dma_direction(dir) && attrs <= U32_MAX;
}

/**
 * dma_link_range() - link a physically contiguous chunk into a mapping
 * @map: mapping set up by dma_alloc_iova()
 * @offset: byte offset in the mapping where the chunk goes
 * @phys: physical address of the chunk
 * @size: length of the chunk in bytes
 * @dir: DMA direction
 * @attrs: DMA_ATTR_* flags, kept with the chunk for unlink and sync
 *
 * Classifies the chunk (host memory, swiotlb bounce of an unaligned head and
 * tail when the device needs bouncing, PCI P2P by bus address, PCI P2P
 * through the host bridge), maps it and records it. With an IOMMU the chunk
 * lands at IOVA dma_iova_addr() + @offset; its offset within the IOMMU
 * granule must equal that of @phys, and it may not share a granule with
 * another chunk. Bus-address P2P chunks use no IOVA. The IOTLB is not
 * synced: call dma_iova_commit() after the last link of a batch. Linking
 * many chunks at once is cheaper with dma_link_bvecs().
 *
 * If this fails, every chunk linked since the last commit is unlinked too:
 * a batch is linked completely or not at all, while earlier batches stay.
 *
 * Context: Any context that the gfp flags given to dma_alloc_iova() allow:
 * a link may grow the record (a second or later run, a bounced chunk, the
 * first P2P chunk) with them.
 * The caller serialises calls on @map.
 * Return: 0 on success; -EINVAL for misuse (mapping not live, empty or
 * out-of-range chunk, overflow, invalid direction or attributes, granule
 * offset mismatch, chunk spanning memory kinds); -EEXIST if the chunk
 * overlaps a linked one; -EREMOTEIO if the P2P topology does not allow
 * @map's device to reach the memory; -EPERM if P2P memory would need
 * bouncing; -ENOMEM when page tables, bounce slots or the record cannot be
 * allocated; -EIO if a lower layer fails unexpectedly.
 */
int dma_link_range(struct dma_iova_mapping *map, size_t offset,
		   phys_addr_t phys, size_t size, enum dma_data_direction dir,
		   unsigned long attrs)
{
	int ret = -EINVAL;

	if (link_args_valid(map, dir, attrs)) {
		might_alloc(map->gfp);
		ret = link_page(map, offset, phys, size, dir, attrs) ?:
		      link_one(map, offset, phys, size, NULL, dir, attrs);
		ret = ret > 0 ? 0 : ret;
	}
	if (ret)
		ret = link_failed(map, ret);
	debug_dma_iova_link(map, offset, phys, size, dir, attrs, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_link_range);

static int __dma_link_bvecs(struct dma_iova_mapping *map, size_t *offset,
			    const struct bio_vec *bv, unsigned int nr,
			    enum dma_data_direction dir, unsigned long attrs)
{
	size_t off = *offset, mask = dma_iova_granule(map) - 1;
	bool iommu = dma_iova_uses_iommu(map);
	struct iova_engine_batch batch;
	bool taken = false;
	unsigned int i;

	if (!nr)
		return -EINVAL;	/* misuse, but an empty call unlinks nothing */
	/* past the end: it could round up past SIZE_MAX to offset 0 */
	if (!link_args_valid(map, dir, attrs) || off > map->size)
		return link_failed(map, -EINVAL);
	might_alloc(map->gfp);
	if (iommu) {
		/* Domain and protection: once per call, not per chunk. */
		iova_engine_batch_init(&map->eng, &batch, dir, attrs, false);
		/* Does a chunk hold *@offset's granule? (off < size: in range) */
		taken = (off & mask) && off < map->size &&
			!range_is_free(map, off, 1);
	}
	for (i = 0; i < nr;) {
		struct page *page = bv[i].bv_page;
		phys_addr_t phys = bvec_phys(&bv[i]);
		size_t len = bv[i].bv_len;
		int ret;

		if (iommu) {
			ret = link_appends(map, &batch, bv, nr, &i, &off, dir,
					   attrs);
			if (ret)
				return link_failed(map, ret);
			if (i == nr)
				break;
			page = bv[i].bv_page;
			phys = bvec_phys(&bv[i]);
			len = bv[i].bv_len;
		}
		while (i + 1 < nr && bvec_phys(&bv[i + 1]) == phys + len &&
		       zone_device_pages_have_same_pgmap(page, bv[i + 1].bv_page))
			len += bv[++i].bv_len;
		i++;
		/*
		 * A chunk may neither share a granule nor move within one;
		 * the first one may start where the caller said if it fits.
		 */
		if (iommu &&
		    ((off == *offset && !taken ? off ^ phys : off | phys) & mask))
			off = ALIGN(off, mask + 1) + (phys & mask);
		ret = link_one(map, off, phys, len, page, dir, attrs);
		if (ret)
			return link_failed(map, ret);
		off += len;
	}
	*offset = off;
	return 0;
}

/**
 * dma_link_bvecs() - link many chunks, given as bio_vecs, in one call
 * @map: mapping set up by dma_alloc_iova()
 * @offset: in: where the first chunk goes; out: the offset past the last
 * @bv: the chunks; physically contiguous neighbours of one memory kind are
 *	linked as one chunk
 * @nr: number of entries in @bv
 * @dir: DMA direction
 * @attrs: DMA_ATTR_* flags, kept with the chunks for unlink and sync
 *
 * Links the chunks one after the other from *@offset, as dma_link_range()
 * would, with one check of the mapping and no physical address look-ups:
 * each bio_vec names its page. With an IOMMU a chunk goes right after the
 * previous one (or at *@offset) when both meet on a granule boundary, and
 * otherwise at the next granule plus its own offset within a granule, so
 * bio_vecs that respect a granule-sized virtual boundary form one DMA
 * segment. The first chunk may also start mid-granule at *@offset, if its
 * offset within a granule is that of *@offset and nothing is linked in that
 * granule yet; so the *@offset one call hands back is always valid for the
 * next, which places its chunks as one call would have (except that
 * physically contiguous bio_vecs of two calls are not merged). Host chunks
 * linked this way grow one run of the record, whatever their number.
 *
 * Context: As dma_link_range().
 * Return: as dma_link_range(); on failure every chunk linked since the last
 * commit, this call's included, is unlinked and *@offset is unchanged. An
 * empty call (@nr == 0) returns -EINVAL and unlinks nothing.
 */
int dma_link_bvecs(struct dma_iova_mapping *map, size_t *offset,
		   const struct bio_vec *bv, unsigned int nr,
		   enum dma_data_direction dir, unsigned long attrs)
{
	size_t start = *offset;
	int ret = __dma_link_bvecs(map, offset, bv, nr, dir, attrs);

	debug_dma_iova_link_bvecs(map, start, *offset, bv, nr, dir, attrs,
				  ret);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_link_bvecs);

/* Undo every link since the last commit; earlier batches stay intact. */
static void unwind_pending(struct dma_iova_mapping *map)
{
	struct dma_iova_record *rec = &map->rec;
	struct dma_iova_range r = {
		.offset = rec->pend_start,
		.size = rec->pend_end - rec->pend_start,
	};
	unsigned int i;

	if (!rec->nr_pending)
		return;
	if (dma_iova_uses_iommu(map)) {
		teardown_iommu(map, rec->pending, &r, 1, false, false, NULL, NULL);
	} else {
		for (i = 0; i < rec->nr_runs; i++)
			if (rec->runs[i].__flags & RUN_PENDING)
				rec->runs[i].__flags |= RUN_DOOMED;
		teardown_direct(map, NULL, NULL);
	}
	WARN_ON_ONCE(rec->nr_pending);
}

static int __dma_iova_commit(struct dma_iova_mapping *map)
{
	struct dma_iova_record *rec = &map->rec;
	int ret;

	if (!map->live)
		return -EINVAL;
	if (!rec->nr_pending)
		return 0;

	if (dma_iova_uses_iommu(map)) {
		size_t start = gran_down(map, rec->pend_start);
		size_t end = gran_up(map, rec->pend_end);

		ret = iova_engine_sync_map(&map->eng, map->addr + start,
					   end - start);
		if (ret) {
			unwind_pending(map);
			return ret == -ENOMEM ? ret : -EIO;
		}
	}
	clear_pending(map);
	return 0;
}

/**
 * dma_iova_commit() - make all links since the last commit visible
 * @map: mapping set up by dma_alloc_iova()
 *
 * Issues one IOTLB sync covering every chunk linked since the previous
 * commit. If the sync fails, that batch is unlinked again.
 *
 * Context: Any context; the caller serialises calls on @map.
 * Return: 0 on success (also when nothing is pending); -EINVAL if @map is
 * not live; -ENOMEM or -EIO if the IOMMU could not sync, in which case the
 * batch is gone.
 */
int dma_iova_commit(struct dma_iova_mapping *map)
{
	int ret = __dma_iova_commit(map);

	debug_dma_iova_commit(map, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_iova_commit);

/* Check that @r covers whole chunks and at least one: 0 or -errno. */
static int check_unlink(const struct dma_iova_mapping *map,
			const struct dma_iova_range *r)
{
	const struct dma_iova_record *rec = &map->rec;
	size_t end = r->offset + r->size;
	unsigned int i;

	if (check_range(map, r->offset, r->size))
		return -EINVAL;
	if (dma_iova_uses_iommu(map)) {
		unsigned long gs, ge;

		if (cuts_chunk(map, r->offset) || cuts_chunk(map, end))
			return -EINVAL;
		unlink_window(map, r, &gs, &ge);
		return find_next_bit(rec->linked, ge, gs) < ge ? 0 : -ENOENT;
	}
	i = run_index(rec, r->offset);
	if (i > 0 && run_end(&rec->runs[i - 1]) > r->offset)
		return -EINVAL;
	if (i == rec->nr_runs || rec->runs[i].offset >= end)
		return -ENOENT;
	for (; i < rec->nr_runs && rec->runs[i].offset < end; i++)
		if (run_end(&rec->runs[i]) > end)
			return -EINVAL;
	return 0;
}

static bool ranges_overlap(const struct dma_iova_range *ranges,
			   unsigned int nr)
{
	unsigned int i, j;
	bool sorted = true;

	for (i = 1; i < nr && sorted; i++)
		sorted = ranges[i].offset >= ranges[i - 1].offset +
					     ranges[i - 1].size;
	if (sorted)
		return false;
	for (i = 0; i < nr; i++)
		for (j = i + 1; j < nr; j++)
			if (ranges[i].offset < ranges[j].offset + ranges[j].size &&
			    ranges[j].offset < ranges[i].offset + ranges[i].size)
				return true;
	return false;
}

static int __dma_unlink_ranges(struct dma_iova_mapping *map,
			       const struct dma_iova_range *ranges,
			       unsigned int nr)
{
	struct dma_iova_record *rec = &map->rec;
	unsigned int i, j;
	int ret;

	if (!map->live || !nr)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		ret = check_unlink(map, &ranges[i]);
		if (ret)
			return ret;
	}
	if (ranges_overlap(ranges, nr))
		return -EINVAL;

	if (dma_iova_uses_iommu(map)) {
		teardown_iommu(map, rec->linked, ranges, nr, true, false, NULL,
			       NULL);
	} else {
		for (i = 0; i < nr; i++) {
			size_t end = ranges[i].offset + ranges[i].size;

			for (j = run_index(rec, ranges[i].offset);
			     j < rec->nr_runs && rec->runs[j].offset < end; j++)
				rec->runs[j].__flags |= RUN_DOOMED;
		}
		teardown_direct(map, NULL, NULL);
	}
	return 0;
}

/**
 * dma_unlink_ranges() - unlink the chunks in several ranges, one IOTLB flush
 * @map: mapping set up by dma_alloc_iova()
 * @ranges: byte ranges of @map; each must cover whole chunks and at least
 *	one
 * @nr: number of entries in @ranges
 *
 * Unmaps every chunk inside @ranges with the direction, attributes and type
 * recorded at link time, invalidates the IOTLB once for all of them, then
 * releases bounce slots. With an IOMMU a range may cut a run of the record
 * anywhere between two chunks, leaving a hole: that never allocates, so
 * unlinking cannot fail for memory. The IOVA stays reserved for new links.
 * Nothing is unlinked if any range is invalid.
 *
 * Context: Any context; the caller serialises calls on @map.
 * Return: 0 on success; -EINVAL if @map is not live, a range is empty, out
 * of bounds, splits a chunk or overlaps another range; -ENOENT if a range
 * covers no chunk.
 */
int dma_unlink_ranges(struct dma_iova_mapping *map,
		      const struct dma_iova_range *ranges, unsigned int nr)
{
	int ret = __dma_unlink_ranges(map, ranges, nr);

	debug_dma_iova_unlink(map, ranges, nr, ret);
	return ret;
}

/**
 * dma_unlink_range() - unlink the chunks in one range
 * @map: mapping set up by dma_alloc_iova()
 * @offset: start of the range
 * @size: length of the range
 *
 * Same as dma_unlink_ranges() with a single range.
 *
 * Context: Any context; the caller serialises calls on @map.
 * Return: as dma_unlink_ranges().
 */
int dma_unlink_range(struct dma_iova_mapping *map, size_t offset, size_t size)
{
	struct dma_iova_range r = { .offset = offset, .size = size };

	return dma_unlink_ranges(map, &r, 1);
}
EXPORT_SYMBOL_GPL(dma_unlink_range);

static void sync_chunks(struct dma_iova_mapping *map, size_t offset,
			size_t size, bool for_cpu)
{
	struct dma_iova_record *rec;
	unsigned int i;
	size_t end;

	if (!map->live || check_add_overflow(offset, size, &end))
		return;
	rec = &map->rec;
	i = run_index(rec, offset + 1);
	if (i)
		i--;
	for (; i < rec->nr_runs && rec->runs[i].offset < end; i++) {
		struct dma_iova_chunk *r = &rec->runs[i];
		unsigned long s, e, g, ge;

		if (run_end(r) <= offset || r->type == DMA_CHUNK_P2P_BUS ||
		    r->type == DMA_CHUNK_P2P_HOST_BRIDGE)
			continue;
		if (!dma_iova_uses_iommu(map)) {
			if (for_cpu)
				dma_sync_single_for_cpu(map->eng.dev,
							r->dma_addr, r->size,
							r->dir);
			else
				dma_sync_single_for_device(map->eng.dev,
							   r->dma_addr,
							   r->size, r->dir);
			continue;
		}
		if (r->type == DMA_CHUNK_BOUNCE) {
			sync_bounced(map, r, for_cpu);
			continue;
		}
		if (!engine_wants_sync(&map->eng, r->attrs))
			continue;
		g = gidx(map, max(offset, r->offset));
		ge = gidx_up(map, min(end, run_end(r)));
		while (next_span(rec->linked, g, ge, &s, &e)) {
			size_t start, stop;

			span_bytes(map, r, s, e, &start, &stop);
			engine_sync_iova(&map->eng, map->addr + start,
					 stop - start, r->dir, for_cpu);
			g = e;
		}
	}
}

/**
 * dma_iova_sync_for_cpu() - give linked chunks back to the CPU
 * @map: mapping set up by dma_alloc_iova()
 * @offset: start of the range
 * @size: length of the range
 *
 * Syncs the linked memory in the range as its recorded type requires:
 * copies bounced heads and tails of the chunks it touches back, invalidates
 * CPU caches on non-coherent devices, and skips P2P memory. Unlike
 * dma_sync_single_range_for_cpu() it may sync more than the range: the
 * whole linked granules it touches, and the whole of each bounced chunk and
 * of each chunk of a device without an IOMMU it touches. Those bytes must
 * be the device's too, as the DMA API requires of a mapped buffer anyway.
 *
 * Context: Any context; the caller serialises calls on @map.
 */
void dma_iova_sync_for_cpu(struct dma_iova_mapping *map, size_t offset,
			   size_t size)
{
	sync_chunks(map, offset, size, true);
	debug_dma_iova_sync(map, offset, size);
}

/**
 * dma_iova_sync_for_device() - give linked chunks back to the device
 * @map: mapping set up by dma_alloc_iova()
 * @offset: start of the range
 * @size: length of the range
 *
 * The counterpart of dma_iova_sync_for_cpu(), with the same granularity:
 * it may sync more than the range, which must then be the CPU's to give.
 *
 * Context: Any context; the caller serialises calls on @map.
 */
void dma_iova_sync_for_device(struct dma_iova_mapping *map, size_t offset,
			      size_t size)
{
	sync_chunks(map, offset, size, false);
	debug_dma_iova_sync(map, offset, size);
}

/**
 * dma_destroy_iova_release() - destroy a mapping, then release what it held
 * @map: mapping set up by dma_alloc_iova(), live or not
 * @release: called for every linked stretch of every run, in offset order,
 *	once it is unmapped
 * @arg: passed to @release
 *
 * As dma_destroy_iova(), for callers that act on what was linked once the
 * device lost it: @release sees each stretch after the IOTLB invalidation
 * (or with it queued in lazy mode, as for dma_unmap_page()) and before the
 * record is dropped. The record holds no physical addresses; callers that
 * must release pages keep their own list of them.
 *
 * Context: Any context that @release allows.
 */
void dma_destroy_iova_release(struct dma_iova_mapping *map,
			      dma_iova_release_fn release, void *arg)
{
	struct dma_iova_record *rec = &map->rec;
	unsigned int i;

	if (!map->live) {
		debug_dma_iova_destroy(map);
		return;
	}
	if (dma_iova_uses_iommu(map)) {
		struct dma_iova_range all = { 0, map->size };

		teardown_iommu(map, rec->linked, &all, 1, false, true, release,
			       arg);
	} else {
		for (i = 0; i < rec->nr_runs; i++)
			rec->runs[i].__flags |= RUN_DOOMED;
		teardown_direct(map, release, arg);
	}
	/* torn down: the state still says what it held */
	debug_dma_iova_destroy(map);
	reset_mapping(map);
}

/**
 * dma_destroy_iova() - unlink everything and release the IOVA range
 * @map: mapping set up by dma_alloc_iova(), live or not
 *
 * Unlinks every chunk as recorded, with one IOTLB invalidation (deferred to
 * the flush queue together with the IOVA in lazy mode), and releases the
 * range. @map is left initialised and not live.
 *
 * Context: Any context.
 */
void dma_destroy_iova(struct dma_iova_mapping *map)
{
	dma_destroy_iova_release(map, NULL, NULL);
}
EXPORT_SYMBOL_GPL(dma_destroy_iova);

static int __dma_free_iova(struct dma_iova_mapping *map)
{
	if (!map->live)
		return -EINVAL;
	if (map->rec.nr_chunks)
		return -EBUSY;
	if (dma_iova_uses_iommu(map))
		iova_engine_free(&map->eng, map->addr, map->rec.iova_len,
				 NULL);
	reset_mapping(map);
	return 0;
}

/**
 * dma_free_iova() - release an IOVA range that has nothing linked
 * @map: mapping set up by dma_alloc_iova()
 *
 * Context: Any context.
 * Return: 0 on success; -EINVAL if @map is not live; -EBUSY if chunks are
 * still linked (nothing is released then: use dma_destroy_iova()).
 */
int dma_free_iova(struct dma_iova_mapping *map)
{
	int ret = __dma_free_iova(map);

	debug_dma_iova_free(map, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_free_iova);
