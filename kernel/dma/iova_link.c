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
 * Locking: the caller serialises all calls on one mapping. Nothing here
 * sleeps except dma_alloc_iova() when its gfp allows it.
 */
#include "iova_link_internal.h"

#define CREATE_TRACE_POINTS
#include <trace/events/dma_iova.h>

#ifdef CONFIG_FAULT_INJECTION
/*
 * fail_dma_iova fails the calls this file makes to lower layers (IOVA
 * allocation, each map, each bounce slot, chunk record growth, P2P
 * classification, the commit's IOTLB sync) the way they fail for real, so
 * that every unwind path can be exercised against a real IOMMU driver. See
 * Documentation/fault-injection/fault-injection.rst; debugfs: fail_dma_iova/.
 */
struct fault_attr fail_dma_iova = FAULT_ATTR_INITIALIZER;
EXPORT_SYMBOL_GPL(fail_dma_iova);

static bool iova_should_fail(void)
{
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

static size_t gran_down(const struct dma_iova_mapping *map, size_t x)
{
	return x & ~(map->granule - 1);
}

static size_t gran_up(const struct dma_iova_mapping *map, size_t x)
{
	return gran_down(map, x + map->granule - 1);
}

static size_t chunk_end(const struct dma_iova_chunk *c)
{
	return c->offset + c->size;
}

static size_t extent_start(const struct dma_iova_mapping *map, size_t offset)
{
	return dma_iova_uses_iommu(map) ? gran_down(map, offset) : offset;
}

static size_t extent_end(const struct dma_iova_mapping *map, size_t end)
{
	return dma_iova_uses_iommu(map) ? gran_up(map, end) : end;
}

/* Index of the first chunk whose offset is >= @offset. */
static unsigned int chunk_index(const struct dma_iova_mapping *map,
				size_t offset)
{
	unsigned int lo = 0, hi = map->nr_chunks;

	/* Most users link in offset order: try past the last chunk first. */
	if (!hi || map->chunks[hi - 1].offset < offset)
		return hi;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (map->chunks[mid].offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int check_range(const struct dma_iova_mapping *map, size_t offset,
		       size_t size)
{
	size_t end;

	if (!size || check_add_overflow(offset, size, &end) || end > map->size)
		return -EINVAL;
	return 0;
}

/* An empty, not live state: what every failed or finished mapping becomes. */
static void init_mapping(struct dma_iova_mapping *map)
{
	memset(map, 0, sizeof(*map));
	map->chunks = map->inline_chunks;
	map->max_chunks = DMA_IOVA_INLINE_CHUNKS;
}

static int __dma_alloc_iova(struct device *dev, struct dma_iova_mapping *map,
			    size_t size, size_t align, gfp_t gfp)
{
	size_t granule, len;
	dma_addr_t addr = 0;

	init_mapping(map);

	if (!dev || !dev->dma_mask || !size || (align & (align - 1)))
		return -EINVAL;

	granule = iommu_dma_iova_granule(dev);
	if (granule) {
		align = max(align, granule);
		if (check_add_overflow(size, granule - 1, &len))
			return -EINVAL;
		len &= ~(granule - 1);
		len = max(len, align);
		if (len - 1 > dma_get_mask(dev))
			return -EINVAL;
		addr = iova_should_fail() ? 0 : iommu_dma_iova_alloc(dev, len);
		if (!addr)
			return -ENOMEM;
		if (WARN_ON_ONCE(addr & (align - 1))) {
			iommu_dma_iova_free(dev, addr, len, NULL);
			return -EIO;
		}
		map->iova_len = len;
	}

	map->dev = dev;
	map->addr = addr;
	map->size = size;
	map->granule = granule;
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
 * @gfp: allocation flags, used here and when dma_link_range() must grow the
 *	chunk record beyond its inline capacity
 *
 * When @dev uses an IOMMU DMA domain, reserves IOVA space for @size bytes.
 * Otherwise reserves nothing: the mapping then records a DMA address per
 * chunk, and callers use it through the very same calls.
 *
 * Context: May sleep if @gfp allows it.
 * Return: 0 on success; -EINVAL for a missing or DMA-incapable device, a zero
 * size, a size the device cannot address or that overflows, or an alignment
 * that is not a power of two; -ENOMEM when the IOVA space is exhausted. On
 * error @map is left initialised and not live: dma_destroy_iova() on it is a
 * no-op.
 */
int dma_alloc_iova(struct device *dev, struct dma_iova_mapping *map,
		   size_t size, size_t align, gfp_t gfp)
{
	int ret = __dma_alloc_iova(dev, map, size, align, gfp);

	debug_dma_iova_alloc(map, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_alloc_iova);

static void free_chunk_record(struct dma_iova_mapping *map)
{
	if (map->chunks == map->inline_chunks || map->borrowed)
		return;
	/* Destroy may run in atomic context: defer freeing a vmalloc'ed record. */
	if (is_vmalloc_addr(map->chunks))
		vfree_atomic(map->chunks);
	else
		kfree(map->chunks);
}

static int grow_chunks(struct dma_iova_mapping *map)
{
	struct dma_iova_chunk *new;
	unsigned int max;

	if (map->nr_chunks < map->max_chunks)
		return 0;
	if (check_mul_overflow(map->max_chunks, 2U, &max) || iova_should_fail())
		return -ENOMEM;
	/* Beyond the page allocator's largest block when the gfp flags allow. */
	new = kvmalloc_array(max, sizeof(*new), map->gfp);
	if (!new)
		return -ENOMEM;
	memcpy(new, map->chunks, map->nr_chunks * sizeof(*new));
	free_chunk_record(map);
	map->chunks = new;
	map->max_chunks = max;
	map->borrowed = false;
	return 0;
}

/**
 * dma_iova_provide_chunks() - record chunks in storage the caller owns
 * @map: mapping set up by dma_alloc_iova(), nothing linked yet
 * @chunks: array for the chunk record, e.g. from the caller's mempool
 * @nr: number of entries in @chunks
 *
 * Lets a caller that knows how many chunks it will link, and that must not
 * depend on a GFP_ATOMIC allocation for forward progress (block drivers in
 * ->queue_rq), supply the chunk record. Linking beyond @nr still grows the
 * record with the mapping's gfp flags. @chunks must stay valid until @map
 * is destroyed or freed; it is never freed here.
 *
 * Context: Any context.
 * Return: 0 on success; -EINVAL if @map is not live, @chunks is NULL or @nr
 * is zero; -EBUSY if chunks are already linked.
 */
int dma_iova_provide_chunks(struct dma_iova_mapping *map,
			    struct dma_iova_chunk *chunks, unsigned int nr)
{
	if (!map->live || !chunks || !nr)
		return -EINVAL;
	if (map->nr_chunks)
		return -EBUSY;
	if (nr <= map->max_chunks)
		return 0;
	free_chunk_record(map);
	map->chunks = chunks;
	map->max_chunks = nr;
	map->borrowed = true;
	return 0;
}
EXPORT_SYMBOL_GPL(dma_iova_provide_chunks);

/* Would a chunk need bouncing: device asks for it, chunk not aligned? */
static bool chunk_needs_bounce(const struct dma_iova_mapping *map,
			       phys_addr_t phys, size_t size,
			       enum dma_data_direction dir)
{
	return dma_iova_uses_iommu(map) &&
	       ((phys | size) & (map->granule - 1)) &&
	       iommu_dma_iova_need_bounce(map->dev, size, dir);
}

/*
 * Work out how the device reaches [@phys, @phys + @size): returns the chunk
 * type, or -errno; *@bus_addr gets the bus address of bus-address P2P memory.
 */
static int classify_chunk(struct dma_iova_mapping *map, phys_addr_t phys,
			  size_t size, enum dma_data_direction dir,
			  dma_addr_t *bus_addr)
{
	struct pci_p2pdma_map_state p2p = {
		.pgmap = map->p2p_pgmap,
		.map = map->p2p_map,
		.bus_off = map->p2p_bus_off,
	};
	enum pci_p2pdma_map_type type;
	struct page *first, *last;
	phys_addr_t end;

	/* Chunks are RAM or P2PDMA memory, both backed by struct pages. */
	if (check_add_overflow(phys, (phys_addr_t)size - 1, &end) ||
	    !pfn_valid(PHYS_PFN(phys)) ||
	    (PHYS_PFN(end) != PHYS_PFN(phys) && !pfn_valid(PHYS_PFN(end))))
		return -EINVAL;
	first = pfn_to_page(PHYS_PFN(phys));
	last = pfn_to_page(PHYS_PFN(end));

	if (!is_pci_p2pdma_page(first)) {
		if (is_pci_p2pdma_page(last))
			return -EINVAL;
		return chunk_needs_bounce(map, phys, size, dir) ?
		       DMA_CHUNK_BOUNCE : DMA_CHUNK_HOST;
	}

	/* A chunk never spans two providers. */
	if (!is_pci_p2pdma_page(last) || last->pgmap != first->pgmap)
		return -EINVAL;

	if (iova_should_fail())
		return -EREMOTEIO;
	type = pci_p2pdma_classify(&p2p, map->dev, first);
	map->p2p_pgmap = p2p.pgmap;
	map->p2p_map = p2p.map;
	map->p2p_bus_off = p2p.bus_off;

	switch (type) {
	case PCI_P2PDMA_MAP_BUS_ADDR:
		*bus_addr = phys + p2p.bus_off;
		return DMA_CHUNK_P2P_BUS;
	case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
		/* MMIO is never bounced: the device would see its neighbours. */
		return chunk_needs_bounce(map, phys, size, dir) ? -EPERM :
		       DMA_CHUNK_P2P_HOST_BRIDGE;
	default:
		return -EREMOTEIO;
	}
}

static int map_extent(struct dma_iova_mapping *map, size_t offset,
		      phys_addr_t phys, size_t len, struct dma_iova_chunk *c,
		      bool mmio)
{
	if (iova_should_fail())
		return -ENOMEM;
	return iommu_dma_iova_map(map->dev, map->addr + offset, phys, len,
				  c->dir, c->attrs, mmio);
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
 * Bounce [@phys, @phys + @len), which lies within one granule, and map the
 * slot's granule at @offset; *@tlb gets the bounced data's address.
 *
 * swiotlb keeps a buffer's offset within the granule only as far as the
 * device's min_align_mask asks, so bounce from the start of the granule:
 * the slot then mirrors the granule's layout. The neighbours' bytes that
 * this copies in are zeroed before the device can see them, and only the
 * chunk's own bytes are ever copied back (bounce_release()).
 */
static int bounce_granule(struct dma_iova_mapping *map,
			  struct dma_iova_chunk *c, size_t offset,
			  phys_addr_t phys, size_t len, phys_addr_t *tlb)
{
	size_t pad = phys & (map->granule - 1);
	phys_addr_t base;
	char *slot;
	int ret;

	if (!is_swiotlb_active(map->dev)) {
		dev_warn_once(map->dev, "no bounce buffers for an unaligned link\n");
		return -ENOMEM;
	}
	if (iova_should_fail())
		return -ENOMEM;
	base = swiotlb_tbl_map_single(map->dev, phys - pad, pad + len,
				      map->granule - 1, c->dir, c->attrs);
	if (base == (phys_addr_t)DMA_MAPPING_ERROR)
		return -ENOMEM;

	slot = phys_to_virt(base);
	memset(slot, 0, pad);
	memset(slot + pad + len, 0, map->granule - pad - len);

	ret = map_extent(map, gran_down(map, offset), base, map->granule, c,
			 false);
	if (ret) {
		swiotlb_tbl_unmap_single(map->dev, base, pad + len, c->dir,
					 c->attrs | DMA_ATTR_SKIP_CPU_SYNC);
		return ret;
	}
	*tlb = base + pad;
	return 0;
}

/* Release a slot from bounce_granule(), copying back only the chunk's bytes. */
static void bounce_release(struct dma_iova_mapping *map,
			   struct dma_iova_chunk *c, phys_addr_t tlb,
			   size_t len, bool copy_back)
{
	size_t pad = tlb & (map->granule - 1);

	if (copy_back && !(c->attrs & DMA_ATTR_SKIP_CPU_SYNC))
		swiotlb_sync_single_for_cpu(map->dev, tlb, len, c->dir);
	swiotlb_tbl_unmap_single(map->dev, tlb - pad, pad + len, c->dir,
				 c->attrs | DMA_ATTR_SKIP_CPU_SYNC);
}

/*
 * Map a chunk whose unaligned head and tail go through swiotlb. What it
 * maps is one IOVA run from the chunk's first granule, so a failure unwinds
 * that run, and only that, with one unmap.
 */
static int link_bounce(struct dma_iova_mapping *map, struct dma_iova_chunk *c)
{
	size_t pad = c->phys & (map->granule - 1);
	size_t start = gran_down(map, c->offset), mapped = start;
	size_t end = c->offset + c->size, mid_len;
	struct iommu_iotlb_gather gather;
	int ret = 0;

	if (start == gran_down(map, end - 1)) {
		/* Head and tail share one granule: bounce it as the head. */
		c->head_len = c->size;
	} else {
		c->head_len = pad ? map->granule - pad : 0;
		c->tail_len = end & (map->granule - 1);
	}
	mid_len = c->size - c->head_len - c->tail_len;

	if (c->head_len) {
		ret = bounce_granule(map, c, c->offset, c->phys, c->head_len,
				     &c->head_tlb);
		if (ret) {
			c->head_len = 0;
			goto unwind;
		}
		mapped += map->granule;
	}
	/* An empty middle is legal and must not reach the IOMMU. */
	if (mid_len) {
		ret = map_extent(map, mapped, c->phys + c->head_len, mid_len, c,
				 false);
		if (ret)
			goto unwind;
		mapped += mid_len;
	}
	if (c->tail_len) {
		ret = bounce_granule(map, c, mapped, c->phys + c->size -
				     c->tail_len, c->tail_len, &c->tail_tlb);
		if (ret)
			goto unwind;
	}
	return 0;

unwind:
	if (mapped > start) {
		iommu_dma_iova_gather_init(map->dev, &gather, false);
		unmap_extent(map, start, mapped, &gather);
		iommu_dma_iova_flush(map->dev, &gather);
	}
	if (c->head_len)
		bounce_release(map, c, c->head_tlb, c->head_len, false);
	c->head_len = 0;
	c->tail_len = 0;
	return ret;
}

/*
 * CPU cache maintenance for a chunk on a non-coherent device, piece by
 * piece: bounce slots in place of the bounced head and tail. P2P memory is
 * never cache-maintained.
 */
static void arch_sync_chunk(struct dma_iova_mapping *map,
			    struct dma_iova_chunk *c, bool for_cpu)
{
	void (*sync)(phys_addr_t paddr, size_t size,
		     enum dma_data_direction dir) =
		for_cpu ? arch_sync_dma_for_cpu : arch_sync_dma_for_device;
	size_t mid = c->size - c->head_len - c->tail_len;

	if (dev_is_dma_coherent(map->dev) ||
	    (c->attrs & DMA_ATTR_SKIP_CPU_SYNC) ||
	    (c->type != DMA_CHUNK_HOST && c->type != DMA_CHUNK_BOUNCE))
		return;
	if (c->head_len)
		sync(c->head_tlb, c->head_len, c->dir);
	if (mid)
		sync(c->phys + c->head_len, mid, c->dir);
	if (c->tail_len)
		sync(c->tail_tlb, c->tail_len, c->dir);
}

static int map_chunk(struct dma_iova_mapping *map, struct dma_iova_chunk *c)
{
	struct device *dev = map->dev;
	size_t start;

	if (c->type == DMA_CHUNK_P2P_BUS)
		return 0;

	if (!dma_iova_uses_iommu(map)) {
		struct page *page = pfn_to_page(PHYS_PFN(c->phys));

		if (c->type == DMA_CHUNK_P2P_HOST_BRIDGE)
			c->dma_addr = dma_map_resource(dev, c->phys, c->size,
						       c->dir, c->attrs);
		else
			c->dma_addr = dma_map_page_attrs(dev, page,
							 offset_in_page(c->phys),
							 c->size, c->dir,
							 c->attrs);
		if (dma_mapping_error(dev, c->dma_addr))
			return -ENOMEM;
		return 0;
	}

	c->dma_addr = map->addr + c->offset;
	if (c->type == DMA_CHUNK_BOUNCE) {
		int ret = link_bounce(map, c);

		if (!ret)
			arch_sync_chunk(map, c, false);
		return ret;
	}

	arch_sync_chunk(map, c, false);
	start = gran_down(map, c->offset);
	return map_extent(map, start, c->phys - (c->offset - start),
			  gran_up(map, chunk_end(c)) - start, c,
			  c->type == DMA_CHUNK_P2P_HOST_BRIDGE);
}

static void unmap_direct_chunk(struct dma_iova_mapping *map,
			       struct dma_iova_chunk *c)
{
	if (c->type == DMA_CHUNK_P2P_HOST_BRIDGE)
		dma_unmap_resource(map->dev, c->dma_addr, c->size, c->dir,
				   c->attrs);
	else
		dma_unmap_page_attrs(map->dev, c->dma_addr, c->size, c->dir,
				     c->attrs);
}

/*
 * First pass of a teardown: take the doomed chunks out of the device's view.
 * Chunks whose extents touch go to the IOMMU as one range: a page-table walk
 * per run of chunks, not per chunk.
 */
static void unmap_doomed(struct dma_iova_mapping *map,
			 struct iommu_iotlb_gather *gather)
{
	size_t start = 0, end = 0;
	unsigned int i;

	for (i = 0; i < map->nr_chunks; i++) {
		struct dma_iova_chunk *c = &map->chunks[i];

		if (!c->doomed || c->type == DMA_CHUNK_P2P_BUS)
			continue;
		if (!dma_iova_uses_iommu(map)) {
			unmap_direct_chunk(map, c);
			continue;
		}
		if (gran_down(map, c->offset) != end) {
			if (end)
				unmap_extent(map, start, end, gather);
			start = gran_down(map, c->offset);
		}
		end = gran_up(map, chunk_end(c));
	}
	if (end)
		unmap_extent(map, start, end, gather);
}

/* Second pass, after the IOTLB flush: hand the memory back to the CPU. */
static void release_chunk(struct dma_iova_mapping *map,
			  struct dma_iova_chunk *c)
{
	if (!dma_iova_uses_iommu(map))
		return;

	arch_sync_chunk(map, c, true);
	if (c->head_len)
		bounce_release(map, c, c->head_tlb, c->head_len, true);
	if (c->tail_len)
		bounce_release(map, c, c->tail_tlb, c->tail_len, true);
}

/*
 * Tear down every chunk marked doomed in one IOTLB flush and drop their
 * records. With @free_iova the IOVA is released through the same gather, so
 * a lazy domain defers both the flush and the reuse of the range.
 */
static void teardown_doomed(struct dma_iova_mapping *map, bool free_iova,
			    dma_iova_release_fn release, void *arg)
{
	struct iommu_iotlb_gather gather = {};
	unsigned int i, kept = 0;
	u64 bytes = 0;

	if (dma_iova_uses_iommu(map))
		iommu_dma_iova_gather_init(map->dev, &gather, free_iova);

	unmap_doomed(map, &gather);
	if (dma_iova_uses_iommu(map)) {
		iommu_dma_iova_flush(map->dev, &gather);
		if (free_iova)
			iommu_dma_iova_free(map->dev, map->addr, map->iova_len,
					    &gather);
	}

	for (i = 0; i < map->nr_chunks; i++) {
		struct dma_iova_chunk *c = &map->chunks[i];

		if (!c->doomed) {
			map->chunks[kept++] = *c;
			continue;
		}
		release_chunk(map, c);
		if (release)
			release(c, arg);
		if (c->pending)
			map->nr_pending--;
		bytes += c->size;
	}
	trace_dma_iova_teardown(map, map->nr_chunks - kept, bytes, free_iova);
	map->nr_chunks = kept;
}

/* Undo every link since the last commit; earlier batches stay intact. */
static void unwind_pending(struct dma_iova_mapping *map)
{
	unsigned int i;

	for (i = chunk_index(map, map->pend_start); i < map->nr_chunks; i++)
		map->chunks[i].doomed = map->chunks[i].pending;
	teardown_doomed(map, false, NULL, NULL);
	WARN_ON_ONCE(map->nr_pending);
	map->nr_pending = 0;
}

/* Make room for a chunk at @idx of a record with a free entry. */
static struct dma_iova_chunk *insert_chunk(struct dma_iova_mapping *map,
					   unsigned int idx)
{
	struct dma_iova_chunk *c = &map->chunks[idx];

	if (idx < map->nr_chunks)
		memmove(c + 1, c, (map->nr_chunks - idx) * sizeof(*c));
	map->nr_chunks++;
	return c;
}

static void remove_chunk(struct dma_iova_mapping *map, unsigned int idx)
{
	struct dma_iova_chunk *c = &map->chunks[idx];

	map->nr_chunks--;
	if (idx < map->nr_chunks)
		memmove(c, c + 1, (map->nr_chunks - idx) * sizeof(*c));
}

static int __dma_link_range(struct dma_iova_mapping *map, size_t offset,
			    phys_addr_t phys, size_t size,
			    enum dma_data_direction dir, unsigned long attrs)
{
	struct dma_iova_chunk *c;
	dma_addr_t bus_addr = 0;
	unsigned int idx;
	int type, ret;

	if (!map->live)
		return -EINVAL;
	ret = valid_dma_direction(dir) ? check_range(map, offset, size) :
					 -EINVAL;
	if (ret)
		goto fail;
	if (dma_iova_uses_iommu(map) &&
	    ((offset ^ phys) & (map->granule - 1))) {
		ret = -EINVAL;
		goto fail;
	}

	idx = chunk_index(map, offset);
	if ((idx > 0 && extent_end(map, chunk_end(&map->chunks[idx - 1])) >
			extent_start(map, offset)) ||
	    (idx < map->nr_chunks &&
	     extent_start(map, map->chunks[idx].offset) <
			extent_end(map, offset + size))) {
		ret = -EEXIST;
		goto fail;
	}

	/* Misuse and unreachable memory are reported before any allocation. */
	type = classify_chunk(map, phys, size, dir, &bus_addr);
	if (type < 0) {
		ret = type;
		goto fail;
	}
	ret = grow_chunks(map);
	if (ret)
		goto fail;

	/*
	 * Build the chunk in its slot: a link is the hot path of page-by-page
	 * users, and a whole chunk is too big to set up twice.
	 */
	c = insert_chunk(map, idx);
	c->offset = offset;
	c->size = size;
	c->phys = phys;
	c->dma_addr = bus_addr;
	c->head_tlb = 0;
	c->tail_tlb = 0;
	c->head_len = 0;
	c->tail_len = 0;
	c->attrs = attrs;
	c->type = type;
	c->dir = dir;
	c->pending = true;
	c->doomed = false;
	ret = map_chunk(map, c);
	if (ret) {
		remove_chunk(map, idx);
		goto fail;
	}
	trace_dma_iova_link(map, c);
	if (!map->nr_pending++) {
		map->pend_start = offset;
		map->pend_end = offset + size;
	} else {
		map->pend_start = min(map->pend_start, offset);
		map->pend_end = max(map->pend_end, offset + size);
	}
	return 0;

fail:
	if (map->nr_pending)
		unwind_pending(map);
	if (WARN_ON_ONCE(ret != -EINVAL && ret != -EEXIST && ret != -ENOMEM &&
			 ret != -EREMOTEIO && ret != -EPERM))
		ret = -EIO;
	return ret;
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
 * lands at IOVA @map->addr + @offset; its offset within the IOMMU granule
 * must equal that of @phys, and it may not share a granule with another
 * chunk. Bus-address P2P chunks use no IOVA. The IOTLB is not synced: call
 * dma_iova_commit() after the last link of a batch.
 *
 * If this fails, every chunk linked since the last commit is unlinked too:
 * a batch is linked completely or not at all, while earlier batches stay.
 *
 * Context: Any context; the caller serialises calls on @map. Growing the
 * chunk record beyond its inline capacity allocates with the gfp flags given
 * to dma_alloc_iova().
 * Return: 0 on success; -EINVAL for misuse (mapping not live, empty or
 * out-of-range chunk, overflow, invalid direction, granule offset mismatch,
 * chunk spanning memory kinds); -EEXIST if the chunk overlaps a linked one;
 * -EREMOTEIO if the P2P topology does not allow @map's device to reach the
 * memory; -EPERM if P2P memory would need bouncing; -ENOMEM when page tables,
 * bounce slots or the chunk record cannot be allocated; -EIO if a lower layer
 * fails unexpectedly.
 */
int dma_link_range(struct dma_iova_mapping *map, size_t offset,
		   phys_addr_t phys, size_t size, enum dma_data_direction dir,
		   unsigned long attrs)
{
	bool reported = debug_dma_iova_link(map, offset, phys, size, dir);
	int ret = __dma_link_range(map, offset, phys, size, dir, attrs);

	debug_dma_iova_linked(map, offset, reported, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_link_range);

static int __dma_iova_commit(struct dma_iova_mapping *map)
{
	unsigned int i;
	int ret;

	if (!map->live)
		return -EINVAL;
	if (!map->nr_pending)
		return 0;

	if (dma_iova_uses_iommu(map)) {
		size_t start = gran_down(map, map->pend_start);
		size_t end = gran_up(map, map->pend_end);

		ret = iova_should_fail() ? -ENOMEM :
		      iommu_dma_iova_sync_map(map->dev, map->addr + start,
					      end - start);
		if (ret) {
			unwind_pending(map);
			return ret == -ENOMEM ? ret : -EIO;
		}
	}

	for (i = chunk_index(map, map->pend_start);
	     i < map->nr_chunks && map->nr_pending; i++) {
		if (map->chunks[i].pending) {
			map->chunks[i].pending = false;
			map->nr_pending--;
		}
	}
	WARN_ON_ONCE(map->nr_pending);
	map->nr_pending = 0;
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
	int ret;

	debug_dma_iova_commit(map);
	ret = __dma_iova_commit(map);
	debug_dma_iova_committed(map, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_iova_commit);

/* Mark the chunks exactly covered by @r; 0 or -errno with nothing marked. */
static int mark_range(struct dma_iova_mapping *map,
		      const struct dma_iova_range *r)
{
	size_t end = r->offset + r->size;
	unsigned int i = chunk_index(map, r->offset);
	unsigned int first = i;

	if (check_range(map, r->offset, r->size))
		return -EINVAL;
	if (i > 0 && chunk_end(&map->chunks[i - 1]) > r->offset)
		return -EINVAL;
	for (; i < map->nr_chunks && map->chunks[i].offset < end; i++) {
		if (chunk_end(&map->chunks[i]) > end || map->chunks[i].doomed)
			goto undo;
		map->chunks[i].doomed = true;
	}
	return i > first ? 0 : -ENOENT;

undo:
	while (i-- > first)
		map->chunks[i].doomed = false;
	return -EINVAL;
}

static int __dma_unlink_ranges(struct dma_iova_mapping *map,
			       const struct dma_iova_range *ranges,
			       unsigned int nr)
{
	unsigned int i, j;
	int ret;

	if (!map->live || !nr)
		return -EINVAL;

	for (i = 0; i < nr; i++) {
		ret = mark_range(map, &ranges[i]);
		if (ret) {
			for (j = 0; j < map->nr_chunks; j++)
				map->chunks[j].doomed = false;
			return ret;
		}
	}
	teardown_doomed(map, false, NULL, NULL);
	return 0;
}

/**
 * dma_unlink_ranges() - unlink the chunks in several ranges, one IOTLB flush
 * @map: mapping set up by dma_alloc_iova()
 * @ranges: byte ranges of @map; each must cover whole chunks and at least one
 * @nr: number of entries in @ranges
 *
 * Unmaps every chunk inside @ranges with the direction, attributes and type
 * recorded at link time, invalidates the IOTLB once for all of them, then
 * releases bounce slots and syncs for the CPU. The IOVA stays reserved for
 * new links. Nothing is unlinked if any range is invalid.
 *
 * Context: Any context; the caller serialises calls on @map.
 * Return: 0 on success; -EINVAL if @map is not live, a range is empty, out
 * of bounds, splits a chunk or overlaps another range; -ENOENT if a range
 * covers no chunk.
 */
int dma_unlink_ranges(struct dma_iova_mapping *map,
		      const struct dma_iova_range *ranges, unsigned int nr)
{
	bool reported = debug_dma_iova_unlink(map, ranges, nr);
	int ret = __dma_unlink_ranges(map, ranges, nr);

	debug_dma_iova_unlinked(map, reported, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_unlink_ranges);

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

static void swiotlb_sync(struct device *dev, phys_addr_t tlb, size_t len,
			 enum dma_data_direction dir, bool for_cpu)
{
	if (for_cpu)
		swiotlb_sync_single_for_cpu(dev, tlb, len, dir);
	else
		swiotlb_sync_single_for_device(dev, tlb, len, dir);
}

static void sync_chunks(struct dma_iova_mapping *map, size_t offset,
			size_t size, bool for_cpu)
{
	struct device *dev = map->dev;
	unsigned int i;
	size_t end;

	if (!map->live || check_add_overflow(offset, size, &end))
		return;

	for (i = chunk_index(map, offset);
	     i > 0 && chunk_end(&map->chunks[i - 1]) > offset; i--)
		;
	for (; i < map->nr_chunks && map->chunks[i].offset < end; i++) {
		struct dma_iova_chunk *c = &map->chunks[i];

		if (c->type == DMA_CHUNK_P2P_BUS ||
		    c->type == DMA_CHUNK_P2P_HOST_BRIDGE)
			continue;
		if (!dma_iova_uses_iommu(map)) {
			if (for_cpu)
				dma_sync_single_for_cpu(dev, c->dma_addr,
							c->size, c->dir);
			else
				dma_sync_single_for_device(dev, c->dma_addr,
							   c->size, c->dir);
			continue;
		}
		if (for_cpu)
			arch_sync_chunk(map, c, true);
		if (c->head_len)
			swiotlb_sync(dev, c->head_tlb, c->head_len, c->dir,
				     for_cpu);
		if (c->tail_len)
			swiotlb_sync(dev, c->tail_tlb, c->tail_len, c->dir,
				     for_cpu);
		if (!for_cpu)
			arch_sync_chunk(map, c, false);
	}
}

/**
 * dma_iova_sync_for_cpu() - give linked chunks back to the CPU
 * @map: mapping set up by dma_alloc_iova()
 * @offset: start of the range
 * @size: length of the range
 *
 * Syncs every chunk that intersects the range, whole, as its recorded type
 * requires: copies bounced heads and tails back, invalidates CPU caches on
 * non-coherent devices, and skips P2P memory.
 *
 * Context: Any context; the caller serialises calls on @map.
 */
void dma_iova_sync_for_cpu(struct dma_iova_mapping *map, size_t offset,
			   size_t size)
{
	debug_dma_iova_sync(map, offset, size);
	sync_chunks(map, offset, size, true);
}
EXPORT_SYMBOL_GPL(dma_iova_sync_for_cpu);

/**
 * dma_iova_sync_for_device() - give linked chunks back to the device
 * @map: mapping set up by dma_alloc_iova()
 * @offset: start of the range
 * @size: length of the range
 *
 * The counterpart of dma_iova_sync_for_cpu().
 *
 * Context: Any context; the caller serialises calls on @map.
 */
void dma_iova_sync_for_device(struct dma_iova_mapping *map, size_t offset,
			      size_t size)
{
	debug_dma_iova_sync(map, offset, size);
	sync_chunks(map, offset, size, false);
}
EXPORT_SYMBOL_GPL(dma_iova_sync_for_device);

static void reset_mapping(struct dma_iova_mapping *map)
{
	free_chunk_record(map);
	init_mapping(map);
}

/**
 * dma_destroy_iova_release() - destroy a mapping, then release each chunk
 * @map: mapping set up by dma_alloc_iova(), live or not
 * @release: called for every chunk, in offset order, once it is unmapped
 * @arg: passed to @release
 *
 * As dma_destroy_iova(), for callers that own the linked memory only
 * through the chunk record (e.g. pinned user pages): @release sees each
 * chunk after the device lost it (after the IOTLB invalidation, or with it
 * queued in lazy mode, as for dma_unmap_page()) and before the record is
 * dropped.
 *
 * Context: Any context that @release allows.
 */
void dma_destroy_iova_release(struct dma_iova_mapping *map,
			      dma_iova_release_fn release, void *arg)
{
	unsigned int i;

	debug_dma_iova_destroy(map);
	if (!map->live)
		return;
	for (i = 0; i < map->nr_chunks; i++)
		map->chunks[i].doomed = true;
	teardown_doomed(map, true, release, arg);
	reset_mapping(map);
}
EXPORT_SYMBOL_GPL(dma_destroy_iova_release);

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
	if (map->nr_chunks)
		return -EBUSY;
	if (dma_iova_uses_iommu(map))
		iommu_dma_iova_free(map->dev, map->addr, map->iova_len, NULL);
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

/**
 * dma_iova_find_chunk() - the linked chunk holding a byte of a mapping
 * @map: mapping set up by dma_alloc_iova()
 * @offset: byte offset in @map
 *
 * Context: Any context; the caller keeps @map stable while using the chunk.
 * Return: the chunk's record (type, DMA address, ...), or %NULL if nothing
 * is linked at @offset.
 */
const struct dma_iova_chunk *
dma_iova_find_chunk(const struct dma_iova_mapping *map, size_t offset)
{
	unsigned int i = chunk_index(map, offset);

	if (i < map->nr_chunks && map->chunks[i].offset == offset)
		return &map->chunks[i];
	if (i > 0 && chunk_end(&map->chunks[i - 1]) > offset)
		return &map->chunks[i - 1];
	return NULL;
}
EXPORT_SYMBOL_GPL(dma_iova_find_chunk);

/**
 * dma_iova_next_seg() - next DMA segment of a mapping
 * @iter: cursor set up by dma_iova_iter_init()
 * @seg: filled with the segment
 *
 * Merges chunks that follow each other in DMA address space.
 *
 * Context: Any context; the caller keeps the mapping stable while walking.
 * Return: %true if @seg was filled, %false at the end.
 */
bool dma_iova_next_seg(struct dma_iova_iter *iter, struct dma_iova_seg *seg)
{
	const struct dma_iova_mapping *map = iter->map;
	const struct dma_iova_chunk *c;

	if (iter->idx >= map->nr_chunks)
		return false;

	c = &map->chunks[iter->idx++];
	seg->addr = c->dma_addr;
	seg->len = c->size;
	while (iter->idx < map->nr_chunks) {
		c = &map->chunks[iter->idx];
		if (seg->addr + seg->len != c->dma_addr)
			break;
		seg->len += c->size;
		iter->idx++;
	}
	return true;
}
EXPORT_SYMBOL_GPL(dma_iova_next_seg);
