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
 * sleeps except dma_alloc_iova() and the links that grow the record, when
 * the mapping's gfp allows it.
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

/*
 * The record
 *
 * With an IOMMU, the record is a sorted array of runs (struct
 * dma_iova_chunk), one per maximal stretch linked with one type, direction
 * and attribute set, plus three bitmaps with one bit per IOVA granule:
 *
 *   linked   the granule holds linked bytes
 *   starts   a chunk starts in the granule (an unlink may begin there)
 *   pending  linked since the last commit
 *
 * Host chunks linked back to back, whatever their physical addresses, grow
 * one run: the IOMMU page table holds the physical side. A run's first and
 * last bytes are linked; an unlink inside a run leaves a hole on granule
 * boundaries that the bitmaps show, so it never needs a new entry and never
 * allocates.
 *
 * The record sits in struct dma_iova_mapping with room for one run and for
 * bitmaps of BITS_PER_LONG granules, so the common mapping (one run of host
 * memory, a block request say) allocates nothing. What the rest costs is
 * paid where it is used: bitmaps of larger mappings come with the
 * reservation, from dma_alloc_iova(); a second run grows the run array, and
 * bounced chunks and P2P memory add the extension below, at link time, when
 * memory may be allocated. Bounced chunks are runs of their own; their
 * swiotlb slots are kept in the extension. Physical addresses are read back
 * from the page table on the rare paths that need them (cache maintenance on
 * non-coherent devices), as iommu_dma_unmap_page() does.
 *
 * Without an IOMMU every chunk is a run of its own with its DMA address, and
 * there are no bitmaps: chunks are only unlinked whole.
 */

/* Run flags, used without an IOMMU only. */
#define RUN_PENDING	BIT(0)
#define RUN_DOOMED	BIT(1)
#define RUN_RESOURCE	BIT(2)	/* MMIO without struct pages */

/*
 * The swiotlb side of a bounced chunk: what swiotlb returned for the head's
 * and the tail's slot (where their bytes sit: slot_bytes()).
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

/* What only some mappings need: large bitmaps, bounce slots, P2P caches. */
struct dma_iova_record_ext {
	unsigned int nr_bounce;
	unsigned int max_bounce;
	struct dma_iova_bounce *bounce;
	struct pci_p2pdma_map_state p2p;	/* provider cache */
	struct pci_p2pdma_phys_state mmio;	/* ... for BARs without pages */
	unsigned long bits[];			/* bitmaps beyond rec->bits */
};

static size_t granule(const struct dma_iova_mapping *map)
{
	return (size_t)1 << map->granule_shift;
}

static size_t gran_down(const struct dma_iova_mapping *map, size_t x)
{
	return x & ~(granule(map) - 1);
}

static size_t gran_up(const struct dma_iova_mapping *map, size_t x)
{
	return gran_down(map, x + granule(map) - 1);
}

static bool gran_aligned(const struct dma_iova_mapping *map, size_t x)
{
	return !(x & (granule(map) - 1));
}

/* Granule index of byte @x, and of the granule past byte @x - 1. */
static unsigned long gidx(const struct dma_iova_mapping *map, size_t x)
{
	return x >> map->granule_shift;
}

static unsigned long gidx_up(const struct dma_iova_mapping *map, size_t x)
{
	return gran_up(map, x) >> map->granule_shift;
}

/* Granules the bitmaps cover: those of the mapping, none without an IOMMU. */
static unsigned long nr_granules(const struct dma_iova_mapping *map)
{
	return dma_iova_uses_iommu(map) ? gidx_up(map, map->size) : 0;
}

static size_t run_end(const struct dma_iova_chunk *r)
{
	return r->offset + r->size;
}

static bool chunk_is_mapped(int type)
{
	return type != DMA_CHUNK_P2P_BUS;
}

/* Index of the first run whose offset is >= @offset. */
static unsigned int run_index(const struct dma_iova_record *rec,
			      size_t offset)
{
	unsigned int lo = 0, hi = rec->nr_runs;

	/* Most users link in offset order: try past the last run first. */
	if (!hi || rec->runs[hi - 1].offset < offset)
		return hi;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (rec->runs[mid].offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The run whose extent holds byte @offset, or NULL. */
static struct dma_iova_chunk *run_holding(const struct dma_iova_record *rec,
					  size_t offset)
{
	unsigned int i = run_index(rec, offset + 1);

	if (i && run_end(&rec->runs[i - 1]) > offset)
		return &rec->runs[i - 1];
	return NULL;
}

/* The run that owns linked granule @g (a run's extent touches it). */
static struct dma_iova_chunk *run_of_granule(const struct dma_iova_mapping *map,
					     unsigned long g)
{
	const struct dma_iova_record *rec = &map->rec;
	unsigned int i = run_index(rec, (size_t)(g + 1) << map->granule_shift);

	return i ? &rec->runs[i - 1] : NULL;
}

static int check_range(const struct dma_iova_mapping *map, size_t offset,
		       size_t size)
{
	size_t end;

	if (!size || check_add_overflow(offset, size, &end) || end > map->size)
		return -EINVAL;
	return 0;
}

/*
 * Set bits [@start, @end) of a bitmap. Inline: on the link fast path a
 * call costs more than the bit.
 */
static __always_inline void set_span(unsigned long *map, unsigned long start,
				     unsigned long end)
{
	if (end - start == 1)
		__set_bit(start, map);
	else
		bitmap_set(map, start, end - start);
}

static void clear_span(unsigned long *map, unsigned long start,
		       unsigned long end)
{
	bitmap_clear(map, start, end - start);
}

/* Next span of set bits of @sel in [@g, @end): [*@s, *@e), false if none. */
static bool next_span(const unsigned long *sel, unsigned long g,
		      unsigned long end, unsigned long *s, unsigned long *e)
{
	*s = find_next_bit(sel, end, g);
	if (*s >= end)
		return false;
	*e = find_next_zero_bit(sel, end, *s);
	return true;
}

/* Number of bits set in [@start, @end). */
static unsigned long count_span(const unsigned long *sel, unsigned long start,
				unsigned long end)
{
	unsigned long s, e, n = 0;

	while (next_span(sel, start, end, &s, &e)) {
		n += e - s;
		start = e;
	}
	return n;
}

/* Chunks starting in granules [@start, @end) that are not committed yet. */
static unsigned long count_pending(const struct dma_iova_record *rec,
				   unsigned long start, unsigned long end)
{
	unsigned long s, e, n = 0;

	while (next_span(rec->pending, start, end, &s, &e)) {
		n += count_span(rec->starts, s, e);
		start = e;
	}
	return n;
}

/* An empty, not live state: what every failed or finished mapping becomes. */
static void init_mapping(struct dma_iova_mapping *map)
{
	memset(map, 0, sizeof(*map));
}

/* Destroy may run in atomic context: defer freeing what vmalloc gave. */
static void free_any_context(const void *p)
{
	if (is_vmalloc_addr(p))
		vfree_atomic(p);
	else
		kfree(p);
}

static bool runs_owned(const struct dma_iova_record *rec)
{
	return rec->runs != &rec->run && !rec->borrowed;
}

static void free_record(struct dma_iova_record *rec)
{
	struct dma_iova_record_ext *ext = rec->ext;

	if (runs_owned(rec))
		free_any_context(rec->runs);
	if (ext) {
		free_any_context(ext->bounce);
		pci_p2pdma_phys_state_release(&ext->mmio);
		free_any_context(ext);
	}
}

/* The extension, allocated with the bitmaps of @nbits granules. */
static struct dma_iova_record_ext *alloc_ext(unsigned long nbits, gfp_t gfp)
{
	struct dma_iova_record_ext *ext;

	if (iova_should_fail())
		return NULL;
	return kvzalloc(struct_size(ext, bits, 3 * BITS_TO_LONGS(nbits)), gfp);
}

/*
 * Set up the record of a mapping of @nbits granules (0 without an IOMMU):
 * bitmaps beyond the record's own words come with the extension.
 */
static int init_record(struct dma_iova_record *rec, unsigned long nbits,
		       gfp_t gfp)
{
	unsigned long *bits = rec->bits;
	size_t words = 1;

	if (nbits > BITS_PER_LONG) {
		rec->ext = alloc_ext(nbits, gfp);
		if (!rec->ext)
			return -ENOMEM;
		bits = rec->ext->bits;
		words = BITS_TO_LONGS(nbits);
	}
	rec->linked = bits;
	rec->starts = bits + words;
	rec->pending = bits + 2 * words;
	rec->runs = &rec->run;
	rec->max_runs = 1;
	return 0;
}

/* The extension, made when a link first needs it. */
static struct dma_iova_record_ext *get_ext(struct dma_iova_mapping *map)
{
	if (!map->rec.ext)
		map->rec.ext = alloc_ext(0, map->gfp);
	return map->rec.ext;
}

static int __dma_alloc_iova(struct device *dev, struct dma_iova_mapping *map,
			    size_t size, size_t align, gfp_t gfp)
{
	size_t gran, len = 0;
	dma_addr_t addr = 0;

	init_mapping(map);

	if (!dev || !dev->dma_mask || !size || (align & (align - 1)))
		return -EINVAL;

	gran = iommu_dma_iova_granule(dev);
	if (gran) {
		align = max(align, gran);
		if (check_add_overflow(size, gran - 1, &len))
			return -EINVAL;
		len &= ~(gran - 1);
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
		map->granule_shift = ilog2(gran);
	}
	if (init_record(&map->rec, gran ? DIV_ROUND_UP(size, gran) : 0, gfp)) {
		if (gran)
			iommu_dma_iova_free(dev, addr, len, NULL);
		init_mapping(map);
		return -ENOMEM;
	}
	map->rec.iova_len = len;

	map->dev = dev;
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

/* Room for @nr more runs; links may grow the record, unlinks never do. */
static int reserve_runs(struct dma_iova_mapping *map, unsigned int nr)
{
	struct dma_iova_record *rec = &map->rec;
	struct dma_iova_chunk *new;
	unsigned int max;

	if (rec->nr_runs + nr <= rec->max_runs)
		return 0;
	if (check_mul_overflow(rec->max_runs, 2U, &max) || iova_should_fail())
		return -ENOMEM;
	max = max(max, rec->nr_runs + nr);
	/* Beyond the page allocator's largest block when the gfp flags allow. */
	new = kvmalloc_array(max, sizeof(*new), map->gfp);
	if (!new)
		return -ENOMEM;
	memcpy(new, rec->runs, rec->nr_runs * sizeof(*new));
	if (runs_owned(rec))
		free_any_context(rec->runs);
	rec->runs = new;
	rec->max_runs = max;
	rec->borrowed = false;
	return 0;
}

static struct dma_iova_chunk *insert_runs(struct dma_iova_record *rec,
					  unsigned int idx, unsigned int nr)
{
	struct dma_iova_chunk *r = &rec->runs[idx];

	if (idx < rec->nr_runs)
		memmove(r + nr, r, (rec->nr_runs - idx) * sizeof(*r));
	rec->nr_runs += nr;
	return r;
}

static void remove_run(struct dma_iova_record *rec, unsigned int idx)
{
	struct dma_iova_chunk *r = &rec->runs[idx];

	rec->nr_runs--;
	if (idx < rec->nr_runs)
		memmove(r, r + 1, (rec->nr_runs - idx) * sizeof(*r));
}

/**
 * dma_iova_provide_chunks() - keep the run record in storage the caller owns
 * @map: mapping set up by dma_alloc_iova(), nothing linked yet
 * @chunks: array for the run record, e.g. from the caller's mempool
 * @nr: number of entries in @chunks
 *
 * Lets a caller that must not depend on an allocation while linking supply
 * the run record: a mapping needs at most one run per chunk it links, and
 * usually one in all. Growing beyond @nr still allocates with the mapping's
 * gfp flags. @chunks must stay valid until @map is destroyed or freed; it
 * is never freed here.
 *
 * Context: Any context.
 * Return: 0 on success; -EINVAL if @map is not live, @chunks is NULL or @nr
 * is zero; -EBUSY if chunks are already linked.
 */
int dma_iova_provide_chunks(struct dma_iova_mapping *map,
			    struct dma_iova_chunk *chunks, unsigned int nr)
{
	struct dma_iova_record *rec = &map->rec;

	if (!map->live || !chunks || !nr)
		return -EINVAL;
	if (rec->nr_runs)
		return -EBUSY;
	if (nr <= rec->max_runs)
		return 0;
	if (runs_owned(rec))
		free_any_context(rec->runs);
	rec->runs = chunks;
	rec->max_runs = nr;
	rec->borrowed = true;
	return 0;
}

/**
 * dma_iova_record_bytes() - memory that keeps track of a mapping
 * @map: mapping set up by dma_alloc_iova()
 *
 * For accounting and benchmarks: the mapping state, which holds the record
 * of a small mapping, plus what was allocated for it (runs, bitmaps, bounce
 * slots); storage lent by dma_iova_provide_chunks() is the caller's and not
 * counted.
 *
 * Context: Any context.
 * Return: the number of bytes.
 */
size_t dma_iova_record_bytes(const struct dma_iova_mapping *map)
{
	const struct dma_iova_record *rec = &map->rec;
	const struct dma_iova_record_ext *ext = rec->ext;
	size_t bytes = sizeof(*map);

	if (runs_owned(rec))
		bytes += rec->max_runs * sizeof(*rec->runs);
	if (!ext)
		return bytes;
	bytes += struct_size(ext, bits, nr_granules(map) > BITS_PER_LONG ?
				       3 * BITS_TO_LONGS(nr_granules(map)) : 0);
	return bytes + ext->max_bounce * sizeof(*ext->bounce);
}

/* Would a chunk need bouncing: device asks for it, chunk not aligned? */
static bool chunk_needs_bounce(const struct dma_iova_mapping *map,
			       phys_addr_t phys, size_t size,
			       enum dma_data_direction dir)
{
	return dma_iova_uses_iommu(map) &&
	       ((phys | size) & (granule(map) - 1)) &&
	       iommu_dma_iova_need_bounce(map->dev, size, dir);
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
	how = pci_p2pdma_classify(&p2p, map->dev, page);
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
	how = pci_p2pdma_classify_phys(&mmio, map->dev, phys, size);
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

/* ---- linking ------------------------------------------------------------ */

/* One chunk on its way into the record. */
struct link_chunk {
	size_t offset;
	size_t size;
	phys_addr_t phys;
	dma_addr_t dma_addr;
	u32 attrs;
	u32 bounced;
	u8 type;
	u8 dir;
};

static bool same_kind(const struct dma_iova_chunk *r,
		      const struct link_chunk *c)
{
	return r->type == c->type && r->dir == c->dir && r->attrs == c->attrs &&
	       c->type != DMA_CHUNK_BOUNCE;
}

/* May @c join run @r, which ends before it, across any hole between them? */
static bool joins_after(const struct dma_iova_mapping *map,
			const struct dma_iova_chunk *r,
			const struct link_chunk *c)
{
	return same_kind(r, c) && gran_aligned(map, run_end(r)) &&
	       gran_aligned(map, c->offset) &&
	       r->dma_addr + (c->offset - r->offset) == c->dma_addr;
}

/* May @c join run @r, which starts after it? */
static bool joins_before(const struct dma_iova_mapping *map,
			 const struct dma_iova_chunk *r,
			 const struct link_chunk *c)
{
	return same_kind(r, c) && gran_aligned(map, c->offset + c->size) &&
	       gran_aligned(map, r->offset) &&
	       c->dma_addr + (r->offset - c->offset) == r->dma_addr;
}

static void fill_run(struct dma_iova_chunk *r, const struct link_chunk *c)
{
	r->offset = c->offset;
	r->size = c->size;
	r->dma_addr = c->dma_addr;
	r->attrs = c->attrs;
	r->type = c->type;
	r->dir = c->dir;
	r->__flags = 0;
}

/* Last linked granule before @g that still belongs to run @r's extent. */
static size_t linked_end_before(const struct dma_iova_mapping *map,
				const struct dma_iova_chunk *r, unsigned long g)
{
	unsigned long last = find_last_bit(map->rec.linked, g);

	WARN_ON_ONCE(last >= g || last < gidx(map, r->offset));
	return (size_t)(last + 1) << map->granule_shift;
}

/* Where a chunk goes in the run record (IOMMU). */
enum run_place {
	RUN_FILL,	/* into a hole of the run before it, which it suits */
	RUN_SPLIT,	/* into a hole of the run before it: a run of its own */
	RUN_SPLIT_LEFT,	/* ... which the run's part before the hole grows over */
	RUN_SPLIT_RIGHT, /* ... with which the run's part after the hole starts */
	RUN_APPEND,	/* grows the run before it */
	RUN_PREPEND,	/* grows the run after it */
	RUN_BRIDGE,	/* joins the runs before and after it into one */
	RUN_NEW,	/* a run of its own between two others */
};

/* Decide where @c goes; *@idx gets the index of the first run after it. */
static enum run_place place_chunk(const struct dma_iova_mapping *map,
				  const struct link_chunk *c,
				  unsigned int *idx)
{
	const struct dma_iova_record *rec = &map->rec;
	unsigned int i = run_index(rec, c->offset);
	const struct dma_iova_chunk *prev = i ? &rec->runs[i - 1] : NULL;
	const struct dma_iova_chunk *next = i < rec->nr_runs ?
					    &rec->runs[i] : NULL;
	bool after, before;

	*idx = i;
	if (prev && run_end(prev) > c->offset) {
		/* A hole's edges are granule-aligned: join where c's are too. */
		bool suits = same_kind(prev, c) &&
			     prev->dma_addr + (c->offset - prev->offset) ==
			     c->dma_addr;

		after = suits && gran_aligned(map, c->offset);
		before = suits && gran_aligned(map, c->offset + c->size);
		if (after && before)
			return RUN_FILL;
		if (after)
			return RUN_SPLIT_LEFT;
		return before ? RUN_SPLIT_RIGHT : RUN_SPLIT;
	}
	after = prev && joins_after(map, prev, c);
	before = next && joins_before(map, next, c);
	if (after && before)
		return RUN_BRIDGE;
	if (after)
		return RUN_APPEND;
	return before ? RUN_PREPEND : RUN_NEW;
}

static unsigned int runs_added(enum run_place place)
{
	switch (place) {
	case RUN_SPLIT:
		return 2;
	case RUN_SPLIT_LEFT:
	case RUN_SPLIT_RIGHT:
	case RUN_NEW:
		return 1;
	default:
		return 0;
	}
}

/* Record a mapped chunk where place_chunk() decided (IOMMU). */
static void record_chunk(struct dma_iova_mapping *map,
			 const struct link_chunk *c, enum run_place place,
			 unsigned int i)
{
	struct dma_iova_record *rec = &map->rec;
	struct dma_iova_chunk *prev = i ? &rec->runs[i - 1] : NULL;
	struct dma_iova_chunk *next = &rec->runs[i];
	struct dma_iova_chunk left, *r;
	size_t right;

	switch (place) {
	case RUN_FILL:
		break;
	case RUN_SPLIT:
	case RUN_SPLIT_LEFT:
	case RUN_SPLIT_RIGHT:
		/* prev keeps its part before the chunk, a new run the rest */
		left = *prev;
		if (place == RUN_SPLIT_RIGHT)
			right = c->offset;
		else
			right = (size_t)find_next_bit(rec->linked, nr_granules(map),
					gidx_up(map, c->offset + c->size)) <<
				map->granule_shift;
		r = insert_runs(rec, i, runs_added(place));
		if (place == RUN_SPLIT_LEFT)
			r[-1].size = c->offset + c->size - left.offset;
		else
			r[-1].size = linked_end_before(map, &left,
						       gidx(map, c->offset)) -
				     left.offset;
		if (place == RUN_SPLIT)
			fill_run(r++, c);
		*r = left;
		r->offset = right;
		r->size = run_end(&left) - right;
		r->dma_addr = left.dma_addr + (right - left.offset);
		break;
	case RUN_APPEND:
		prev->size = c->offset + c->size - prev->offset;
		break;
	case RUN_BRIDGE:
		prev->size = run_end(next) - prev->offset;
		remove_run(rec, i);
		break;
	case RUN_PREPEND:
		next->size = run_end(next) - c->offset;
		next->offset = c->offset;
		next->dma_addr = c->dma_addr;
		break;
	case RUN_NEW:
		fill_run(insert_runs(rec, i, 1), c);
		break;
	}
}

/* Is nothing linked in, or in a granule shared with, [@offset, +@size)? */
static bool range_is_free(const struct dma_iova_mapping *map, size_t offset,
			  size_t size)
{
	const struct dma_iova_record *rec = &map->rec;
	unsigned int i;

	if (dma_iova_uses_iommu(map))
		return find_next_bit(rec->linked, gidx_up(map, offset + size),
				     gidx(map, offset)) >=
		       gidx_up(map, offset + size);
	i = run_index(rec, offset);
	return !(i > 0 && run_end(&rec->runs[i - 1]) > offset) &&
	       !(i < rec->nr_runs && rec->runs[i].offset < offset + size);
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

/* Without an IOMMU: map the chunk on its own, one run per chunk. */
static int link_direct(struct dma_iova_mapping *map, struct link_chunk *c)
{
	struct dma_iova_record *rec = &map->rec;
	struct device *dev = map->dev;
	struct dma_iova_chunk *r;
	bool resource;
	int ret;

	ret = reserve_runs(map, 1);
	if (ret)
		return ret;
	/*
	 * P2PDMA pages through the host bridge map like host pages, with
	 * phys_to_dma() as 6.12's dma-direct does; only MMIO that has no
	 * struct pages needs dma_map_resource().
	 */
	resource = c->type == DMA_CHUNK_P2P_HOST_BRIDGE &&
		   !pfn_valid(PHYS_PFN(c->phys));
	if (resource)
		c->dma_addr = dma_map_resource(dev, c->phys, c->size, c->dir,
					       c->attrs);
	else if (c->type != DMA_CHUNK_P2P_BUS)
		c->dma_addr = dma_map_page_attrs(dev,
						 pfn_to_page(PHYS_PFN(c->phys)),
						 offset_in_page(c->phys),
						 c->size, c->dir, c->attrs);
	if (dma_mapping_error(dev, c->dma_addr))
		return -ENOMEM;
	r = insert_runs(rec, run_index(rec, c->offset), 1);
	fill_run(r, c);
	r->__flags = RUN_PENDING | (resource ? RUN_RESOURCE : 0);
	return 0;
}

static __always_inline void note_pending(struct dma_iova_record *rec,
					 size_t offset, size_t end)
{
	if (rec->pend_start == rec->pend_end) {
		rec->pend_start = offset;
		rec->pend_end = end;
	} else {
		rec->pend_start = min(rec->pend_start, offset);
		rec->pend_end = max(rec->pend_end, end);
	}
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

/* Record @n chunks that append_chunk() mapped to [@start, @end) of run @r. */
static void record_appends(struct dma_iova_mapping *map,
			   struct dma_iova_chunk *r, size_t start, size_t end,
			   unsigned long n)
{
	struct dma_iova_record *rec = &map->rec;

	if (!n)
		return;
	r->size = end - r->offset;
	set_span(rec->linked, gidx(map, start), gidx(map, end));
	set_span(rec->pending, gidx(map, start), gidx(map, end));
	rec->nr_chunks += n;
	rec->nr_pending += n;
	note_pending(rec, start, end);
}

/* The record's last run, if host chunks of @dir and @attrs may join it. */
static struct dma_iova_chunk *append_run(struct dma_iova_mapping *map,
					 enum dma_data_direction dir,
					 unsigned long attrs)
{
	struct dma_iova_record *rec = &map->rec;
	struct dma_iova_chunk *r;

	if (!dma_iova_uses_iommu(map) || !rec->nr_runs)
		return NULL;
	r = &rec->runs[rec->nr_runs - 1];
	if (r->type != DMA_CHUNK_HOST || r->dir != dir || r->attrs != attrs ||
	    !gran_aligned(map, run_end(r)))
		return NULL;
	return r;
}

/*
 * dma_link_bvecs() while the chunks append to the last run: one tight
 * loop around the IOMMU map. The chunks it links are contiguous, so the
 * record is written once for all of them. Advances *@i and *@off past what
 * it linked; 0 when done or when the next chunk needs the general path, or
 * the error of the batch (unwound).
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
		return link_failed(map, ret);
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
	struct iommu_dma_iova_batch batch;
	bool taken = false;
	unsigned int i;

	if (!nr)
		return -EINVAL;	/* misuse, but an empty call unlinks nothing */
	if (!link_args_valid(map, dir, attrs))
		return link_failed(map, -EINVAL);
	might_alloc(map->gfp);
	if (iommu) {
		/* Domain and protection: once per call, not per chunk. */
		iommu_dma_iova_batch_init(map->dev, &batch, dir, attrs);
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
				return ret;
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

/* First byte of the chunk in linked granule @g, 0 if it starts before @g. */
static size_t chunk_start_in(const struct dma_iova_mapping *map,
			     unsigned long g)
{
	const struct dma_iova_chunk *r = run_of_granule(map, g);

	if (!test_bit(g, map->rec.starts))
		return 0;
	return gidx(map, r->offset) == g ? r->offset :
	       (size_t)g << map->granule_shift;
}

/* Byte past the chunk in linked granule @g, SIZE_MAX if it goes on past @g. */
static size_t chunk_end_in(const struct dma_iova_mapping *map,
			   unsigned long g)
{
	const struct dma_iova_chunk *r = run_of_granule(map, g);

	return gidx_up(map, run_end(r)) == g + 1 ? run_end(r) : SIZE_MAX;
}

/* Does a linked chunk hold bytes on both sides of offset @x (IOMMU)? */
static bool cuts_chunk(const struct dma_iova_mapping *map, size_t x)
{
	const unsigned long *linked = map->rec.linked;
	unsigned long g = gidx(map, x);

	if (gran_aligned(map, x))
		return g > 0 && g < nr_granules(map) && test_bit(g - 1, linked) &&
		       test_bit(g, linked) && !test_bit(g, map->rec.starts);
	return test_bit(g, linked) && chunk_start_in(map, g) < x &&
	       x < chunk_end_in(map, g);
}

/*
 * Granules [*@gs, *@ge) of the chunks inside @r, a range that cuts no chunk
 * (IOMMU): its edge granules may hold chunks outside it.
 */
static void unlink_window(const struct dma_iova_mapping *map,
			  const struct dma_iova_range *r, unsigned long *gs,
			  unsigned long *ge)
{
	const unsigned long *linked = map->rec.linked;
	size_t end = r->offset + r->size;

	*gs = gidx(map, r->offset);
	*ge = gidx_up(map, end);
	if (test_bit(*gs, linked) && chunk_end_in(map, *gs) <= r->offset)
		(*gs)++;
	if (*ge > *gs && test_bit(*ge - 1, linked) &&
	    chunk_start_in(map, *ge - 1) >= end)
		(*ge)--;
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

/*
 * After runs were dropped or trimmed (an edge may now be granule-aligned),
 * join the neighbours that now meet, from run @i on up to granule @ge, as a
 * link would have. Never allocates.
 */
static void join_runs(struct dma_iova_mapping *map, unsigned int i,
		      unsigned long ge)
{
	struct dma_iova_record *rec = &map->rec;

	for (i = max(i, 1U); i < rec->nr_runs &&
	     gidx(map, rec->runs[i - 1].offset) < ge;) {
		struct dma_iova_chunk *prev = &rec->runs[i - 1];
		struct dma_iova_chunk *next = &rec->runs[i];
		struct link_chunk c = {
			.offset = next->offset, .size = next->size,
			.dma_addr = next->dma_addr, .attrs = next->attrs,
			.type = next->type, .dir = next->dir,
		};

		if (!joins_after(map, prev, &c)) {
			i++;
			continue;
		}
		prev->size = run_end(next) - prev->offset;
		remove_run(rec, i);
	}
}

/* Shrink run @i to its linked granules; drop it if none is left. */
static bool trim_run(struct dma_iova_mapping *map, unsigned int i)
{
	struct dma_iova_record *rec = &map->rec;
	struct dma_iova_chunk *r = &rec->runs[i];
	unsigned long rs = gidx(map, r->offset);
	unsigned long re = gidx_up(map, run_end(r));
	unsigned long first = find_next_bit(rec->linked, re, rs);
	size_t start, end;

	if (first >= re) {
		remove_run(rec, i);
		return false;
	}
	/* Chunk edges inside a run are granule-aligned, so this is exact. */
	start = first == rs ? r->offset : (size_t)first << map->granule_shift;
	end = test_bit(re - 1, rec->linked) ? run_end(r) :
	      linked_end_before(map, r, re);
	r->dma_addr += start - r->offset;
	r->offset = start;
	r->size = end - start;
	return true;
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

/* @chunks were unlinked, @pending of them not committed. */
static void forget_chunks(struct dma_iova_record *rec, unsigned long chunks,
			  unsigned long pending)
{
	rec->nr_chunks -= chunks;
	rec->nr_pending -= pending;
	if (!rec->nr_pending) {
		rec->pend_start = 0;
		rec->pend_end = 0;
	}
	/*
	 * The pgmap cache holds no reference: once nothing is linked (an
	 * unlink, or a failed batch), a provider may go away and another
	 * one reuse its pgmap's address (a long-lived ODP or dma-buf mapping
	 * sees exactly that after its invalidation), so look the next
	 * provider up afresh.
	 */
	if (!rec->nr_chunks && rec->ext)
		rec->ext->p2p.pgmap = NULL;
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

static void unmap_direct_run(struct dma_iova_mapping *map,
			     const struct dma_iova_chunk *r)
{
	if (r->__flags & RUN_RESOURCE)
		dma_unmap_resource(map->dev, r->dma_addr, r->size, r->dir,
				   r->attrs);
	else if (r->type != DMA_CHUNK_P2P_BUS)
		dma_unmap_page_attrs(map->dev, r->dma_addr, r->size, r->dir,
				     r->attrs);
}

/* Without an IOMMU: unmap and drop every run marked doomed. */
static void teardown_direct(struct dma_iova_mapping *map,
			    dma_iova_release_fn release, void *arg)
{
	struct dma_iova_record *rec = &map->rec;
	unsigned long pending = 0;
	unsigned int i, kept = 0;
	u64 bytes = 0;

	for (i = 0; i < rec->nr_runs; i++) {
		struct dma_iova_chunk *r = &rec->runs[i];

		if (!(r->__flags & RUN_DOOMED)) {
			rec->runs[kept++] = *r;
			continue;
		}
		unmap_direct_run(map, r);
		if (release)
			release(r, arg);
		bytes += r->size;
		pending += !!(r->__flags & RUN_PENDING);
	}
	trace_dma_iova_teardown(map, rec->nr_runs - kept, bytes, false);
	forget_chunks(rec, rec->nr_runs - kept, pending);
	rec->nr_runs = kept;
}

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

/* Forget the pending batch: it is committed. */
static void clear_pending(struct dma_iova_mapping *map)
{
	struct dma_iova_record *rec = &map->rec;
	unsigned int i;

	if (dma_iova_uses_iommu(map)) {
		clear_span(rec->pending, gidx(map, rec->pend_start),
			   gidx_up(map, rec->pend_end));
	} else {
		for (i = run_index(rec, rec->pend_start);
		     i < rec->nr_runs && rec->runs[i].offset < rec->pend_end;
		     i++)
			rec->runs[i].__flags &= ~RUN_PENDING;
	}
	rec->nr_pending = 0;
	rec->pend_start = 0;
	rec->pend_end = 0;
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

		ret = iova_should_fail() ? -ENOMEM :
		      iommu_dma_iova_sync_map(map->dev, map->addr + start,
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
				dma_sync_single_for_cpu(map->dev, r->dma_addr,
							r->size, r->dir);
			else
				dma_sync_single_for_device(map->dev,
							   r->dma_addr,
							   r->size, r->dir);
			continue;
		}
		if (r->type == DMA_CHUNK_BOUNCE) {
			sync_bounced(map, r, for_cpu);
			continue;
		}
		if (!wants_arch_sync(map, r->attrs))
			continue;
		g = gidx(map, max(offset, r->offset));
		ge = gidx_up(map, min(end, run_end(r)));
		while (next_span(rec->linked, g, ge, &s, &e)) {
			size_t start, stop;

			span_bytes(map, r, s, e, &start, &stop);
			arch_sync_iova(map, start, stop, r->dir, for_cpu);
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

static void reset_mapping(struct dma_iova_mapping *map)
{
	free_record(&map->rec);
	init_mapping(map);
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
		iommu_dma_iova_free(map->dev, map->addr, map->rec.iova_len,
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

/**
 * dma_iova_find_chunk() - the run holding a linked byte of a mapping
 * @map: mapping set up by dma_alloc_iova()
 * @offset: byte offset in @map
 *
 * Context: Any context; the caller keeps @map stable while using the run.
 * Return: the run's record (type, direction, attributes; the byte's DMA
 * address is its @dma_addr + (@offset - its @offset)), or %NULL if nothing
 * is linked at @offset.
 */
const struct dma_iova_chunk *
dma_iova_find_chunk(const struct dma_iova_mapping *map, size_t offset)
{
	const struct dma_iova_record *rec = &map->rec;

	if (!map->live || offset >= map->size)
		return NULL;
	if (dma_iova_uses_iommu(map) &&
	    !test_bit(gidx(map, offset), rec->linked))
		return NULL;
	return run_holding(rec, offset);
}

/*
 * The linked stretch at or after the cursor: its DMA address and length, in
 * run *@idx from offset *@pos. Advances the copies it is given.
 */
static bool next_piece(const struct dma_iova_mapping *map, unsigned int *idx,
		       size_t *pos, struct dma_iova_seg *seg)
{
	const struct dma_iova_record *rec = &map->rec;

	for (; *idx < rec->nr_runs; (*idx)++) {
		const struct dma_iova_chunk *r = &rec->runs[*idx];
		size_t start = max(*pos, r->offset), end = run_end(r);
		unsigned long s, e;

		if (start >= end)
			continue;
		if (dma_iova_uses_iommu(map)) {
			if (!next_span(rec->linked, gidx(map, start),
				       gidx_up(map, end), &s, &e))
				continue;
			start = max(start, (size_t)s << map->granule_shift);
			end = min(end, (size_t)e << map->granule_shift);
		}
		seg->addr = r->dma_addr + (start - r->offset);
		seg->len = end - start;
		*pos = end;
		return true;
	}
	return false;
}

/**
 * dma_iova_next_seg() - next DMA segment of a mapping
 * @iter: cursor set up by dma_iova_iter_init()
 * @seg: filled with the segment
 *
 * Merges linked stretches that follow each other in DMA address space.
 *
 * Context: Any context; the caller keeps the mapping stable while walking.
 * Return: %true if @seg was filled, %false at the end.
 */
bool dma_iova_next_seg(struct dma_iova_iter *iter, struct dma_iova_seg *seg)
{
	const struct dma_iova_mapping *map = iter->map;
	struct dma_iova_seg more;
	unsigned int idx;
	size_t pos;

	if (!map->live || !next_piece(map, &iter->idx, &iter->pos, seg))
		return false;
	for (;;) {
		idx = iter->idx;
		pos = iter->pos;
		if (!next_piece(map, &idx, &pos, &more) ||
		    more.addr != seg->addr + seg->len)
			return true;
		seg->len += more.len;
		iter->idx = idx;
		iter->pos = pos;
	}
}
EXPORT_SYMBOL_GPL(dma_iova_next_seg);

/* ---- lookups for the KUnit suites and the fuzzer ------------------------ */

/**
 * dma_iova_nr_chunks() - chunks linked into a mapping
 * @map: mapping set up by dma_alloc_iova()
 *
 * Context: Any context.
 * Return: the number of chunks linked and not unlinked again, 0 if @map is
 * not live.
 */
unsigned long dma_iova_nr_chunks(const struct dma_iova_mapping *map)
{
	return map->live ? map->rec.nr_chunks : 0;
}

/**
 * dma_iova_reserved_len() - IOVA bytes reserved for a mapping
 * @map: mapping set up by dma_alloc_iova()
 *
 * Context: Any context.
 * Return: the size with granule and alignment padding, 0 without an IOMMU
 * or if @map is not live.
 */
size_t dma_iova_reserved_len(const struct dma_iova_mapping *map)
{
	return map->live ? map->rec.iova_len : 0;
}

/**
 * dma_iova_first_pending() - first byte of a range not yet committed
 * @map: mapping set up by dma_alloc_iova()
 * @offset: start of the range
 * @size: its length
 *
 * Context: Any context; the caller keeps @map stable.
 * Return: the offset of the first chunk byte in the range linked since the
 * last dma_iova_commit() (with an IOMMU: of the first granule holding one,
 * or @offset), or -1.
 */
ssize_t dma_iova_first_pending(const struct dma_iova_mapping *map,
			       size_t offset, size_t size)
{
	const struct dma_iova_record *rec = &map->rec;
	size_t end;
	unsigned long g;
	unsigned int i;

	if (!map->live || !rec->nr_pending)
		return -1;
	end = min(offset + size, rec->pend_end);
	offset = max(offset, rec->pend_start);
	if (offset >= end)
		return -1;
	if (dma_iova_uses_iommu(map)) {
		unsigned long ge = gidx_up(map, end);

		/* The edge granules may hold a chunk outside the range. */
		g = find_next_bit(rec->pending, ge, gidx(map, offset));
		if (g < ge && chunk_end_in(map, g) <= offset)
			g = find_next_bit(rec->pending, ge, g + 1);
		if (g >= ge || (g == ge - 1 && chunk_start_in(map, g) >= end))
			return -1;
		return max(offset, (size_t)g << map->granule_shift);
	}
	for (i = run_index(rec, offset); i < rec->nr_runs &&
	     rec->runs[i].offset < end; i++)
		if (rec->runs[i].__flags & RUN_PENDING)
			return rec->runs[i].offset;
	return -1;
}
