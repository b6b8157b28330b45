// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two-step IOVA DMA mapping: the record of a mapping as a data structure
 * (runs, granule bitmaps, what is pending), and the segment iterator that
 * reads it. It knows no lower layer: the IOMMU engine (iova_iommu.c) and
 * the path without an IOMMU (iova_direct.c) map, kernel/dma/iova_link.c
 * decides, and this file keeps track. Built as part of iova_link.c.
 */
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
	return eng_granule(&map->eng);
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
	return x >> map->eng.granule_shift;
}

static unsigned long gidx_up(const struct dma_iova_mapping *map, size_t x)
{
	return gran_up(map, x) >> map->eng.granule_shift;
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
	unsigned int i = run_index(rec,
				   (size_t)(g + 1) << map->eng.granule_shift);

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

/* ---- where a chunk goes ------------------------------------------------- */

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
	return (size_t)(last + 1) << map->eng.granule_shift;
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
				map->eng.granule_shift;
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
 * Record @n chunks that append_chunk() or append_ranges() mapped to
 * [@start, @end) of run @r.
 */
static __always_inline void
record_appends(struct dma_iova_mapping *map, struct dma_iova_chunk *r,
	       size_t start, size_t end, unsigned long n)
{
	struct dma_iova_record *rec = &map->rec;

	if (!n)
		return;
	rec->nr_runs = max(rec->nr_runs, 1U);
	r->size = end - r->offset;
	set_span(rec->linked, gidx(map, start), gidx(map, end));
	set_span(rec->pending, gidx(map, start), gidx(map, end));
	rec->nr_chunks += n;
	rec->nr_pending += n;
	note_pending(rec, start, end);
}

/*
 * The record's last run, if host chunks of @dir and @attrs may join it; in
 * an empty record, a new run from @off, which counts once a chunk joins it
 * (record_appends()).
 */
static struct dma_iova_chunk *append_run(struct dma_iova_mapping *map,
					 size_t off,
					 enum dma_data_direction dir,
					 unsigned long attrs)
{
	struct dma_iova_record *rec = &map->rec;
	struct dma_iova_chunk *r = rec->runs;

	if (!dma_iova_uses_iommu(map))
		return NULL;
	if (!rec->nr_runs) {
		*r = (struct dma_iova_chunk) {
			.offset = off, .dma_addr = map->addr + off,
			.attrs = attrs, .type = DMA_CHUNK_HOST, .dir = dir,
		};
		return r;
	}
	r += rec->nr_runs - 1;
	if (r->type != DMA_CHUNK_HOST || r->dir != dir || r->attrs != attrs ||
	    !gran_aligned(map, run_end(r)))
		return NULL;
	return r;
}

/* First byte of the chunk in linked granule @g, 0 if it starts before @g. */
static size_t chunk_start_in(const struct dma_iova_mapping *map,
			     unsigned long g)
{
	const struct dma_iova_chunk *r = run_of_granule(map, g);

	if (!test_bit(g, map->rec.starts))
		return 0;
	return gidx(map, r->offset) == g ? r->offset :
	       (size_t)g << map->eng.granule_shift;
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
	start = first == rs ? r->offset :
			      (size_t)first << map->eng.granule_shift;
	end = test_bit(re - 1, rec->linked) ? run_end(r) :
	      linked_end_before(map, r, re);
	r->dma_addr += start - r->offset;
	r->offset = start;
	r->size = end - start;
	return true;
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

static void reset_mapping(struct dma_iova_mapping *map)
{
	free_record(&map->rec);
	init_mapping(map);
}

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
			start = max(start, (size_t)s << map->eng.granule_shift);
			end = min(end, (size_t)e << map->eng.granule_shift);
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
		return max(offset, (size_t)g << map->eng.granule_shift);
	}
	for (i = run_index(rec, offset); i < rec->nr_runs &&
	     rec->runs[i].offset < end; i++)
		if (rec->runs[i].__flags & RUN_PENDING)
			return rec->runs[i].offset;
	return -1;
}
