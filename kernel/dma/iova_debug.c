// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA-API debugging for the two-step IOVA API (CONFIG_DMA_API_DEBUG).
 *
 * A mapping state lives in its caller's memory, where nothing stops it from
 * being copied, overwritten or reused while live. So each live state gets a
 * shadow entry here, keyed by the state's address, that records what the
 * state must look like: its device, its IOVA range, its chunk count, the
 * bytes linked into it and those not yet committed, and where it was
 * allocated and last linked. As dma-debug does for the streaming API, each
 * entry point of kernel/dma/iova_link.c calls one hook here after it acted,
 * with its result; the hook checks the call and the state against the
 * shadow, reports each misuse once, as one numbered check (&enum
 * dma_iova_debug_check), through dma-debug's error count, rate limit and
 * driver filter, and updates the shadow. Checks that the core enforces are
 * reported from the errno it returned. Nothing here asks the core for its
 * record.
 */
#include "iova_link_internal.h"

#define IOVA_DEBUG_HASH_BITS	8
#define IOVA_DEBUG_LINE_BITS	10
#define IOVA_DEBUG_STACK	8

struct iova_debug_entry {
	struct hlist_node node;
	const struct dma_iova_mapping *map;
	struct device *dev;
	dma_addr_t addr;
	size_t size;
	unsigned long nr_chunks;	/* chunks linked, as the calls tell */
	unsigned int shift;	/* shadow_key(): granule shift, or 0 */
	struct xarray starts;	/* shadow_key() -> a value: offset in granule */
	struct xarray linked;	/* bytes linked, as spans (span_add()) */
	struct xarray pending;	/* bytes linked since the last commit */
	struct xarray lines;	/* shadow_key() -> the chunk's iova_debug_line */
	bool lossy;		/* lost a chunk or span to memory: no I8, I11, I14 */
	unsigned int alloc_nr;
	unsigned int link_nr;
	unsigned long alloc_stack[IOVA_DEBUG_STACK];
	unsigned long link_stack[IOVA_DEBUG_STACK];
};

/*
 * A cacheline in which device-writable host chunks of one state start, for
 * check I14. The lines of all states are hashed by cacheline in
 * @iova_lines (one element per state and cacheline), those of one state
 * keyed by chunk in its entry: each check costs a lookup.
 */
struct iova_debug_line {
	struct hlist_node node;		/* in iova_lines */
	const struct dma_iova_mapping *map;
	unsigned long line;
	unsigned int users;		/* chunks of @map starting in it */
};

static DEFINE_HASHTABLE(iova_states, IOVA_DEBUG_HASH_BITS);
static DEFINE_HASHTABLE(iova_lines, IOVA_DEBUG_LINE_BITS);
static DEFINE_SPINLOCK(iova_debug_lock);
static unsigned int iova_debug_counts[DMA_IOVA_DBG_NR];
static bool iova_debug_off;	/* out of memory for shadows */

static const char *const check_names[DMA_IOVA_DBG_NR] = {
	[DMA_IOVA_DBG_LIVE_REALLOC] = "I1 state allocated again while live, its IOVA leaks",
	[DMA_IOVA_DBG_NOT_LIVE] = "I2 state not allocated, or already destroyed or freed",
	[DMA_IOVA_DBG_RANGE] = "I3 link outside the range, empty or overflowing",
	[DMA_IOVA_DBG_OVERLAP] = "I4 link overlaps a linked chunk or its granule",
	[DMA_IOVA_DBG_PLACEMENT] = "I5 link offset and phys differ within the IOMMU granule",
	[DMA_IOVA_DBG_SOURCE] = "I6 link source is stack, kernel image, not RAM/P2P, or mixed",
	[DMA_IOVA_DBG_DIRECTION] = "I7 invalid DMA direction",
	[DMA_IOVA_DBG_SYNC_RANGE] = "I8 sync of a range that is not fully linked",
	[DMA_IOVA_DBG_UNCOMMITTED] = "I9 chunk torn down before dma_iova_commit()",
	[DMA_IOVA_DBG_UNLINK] = "I10 unlink range does not match linked chunks",
	[DMA_IOVA_DBG_COUNT] = "I11 chunk count changed behind the API",
	[DMA_IOVA_DBG_FREE_LINKED] = "I12 dma_free_iova() with chunks linked",
	[DMA_IOVA_DBG_UNBIND_LEAK] = "I13 live IOVA states at driver unbind",
	[DMA_IOVA_DBG_CACHELINE] = "I14 device-writable chunks of two states share a cacheline",
	[DMA_IOVA_DBG_CORRUPT] = "I15 state's device or range changed behind the API",
	[DMA_IOVA_DBG_BOUNCE_ATTR] = "I16 link would bounce memory that must not be bounced",
};

/**
 * dma_iova_debug_errors() - how often a check has fired
 * @check: the check, or %DMA_IOVA_DBG_NONE for all of them
 *
 * Counts every report, also those the rate limit kept quiet.
 *
 * Context: Any context.
 * Return: the number of reports since boot.
 */
unsigned int dma_iova_debug_errors(enum dma_iova_debug_check check)
{
	return check < DMA_IOVA_DBG_NR ? READ_ONCE(iova_debug_counts[check]) : 0;
}

/**
 * dma_iova_debug_live_states() - number of mapping states now live
 * @dev: count only the states of this device; all if %NULL
 *
 * Context: Any context.
 * Return: states allocated and not yet destroyed or freed.
 */
unsigned int dma_iova_debug_live_states(const struct device *dev)
{
	struct iova_debug_entry *e;
	unsigned int bkt, n = 0;
	unsigned long flags;

	spin_lock_irqsave(&iova_debug_lock, flags);
	hash_for_each(iova_states, bkt, e, node)
		n += !dev || e->dev == dev;
	spin_unlock_irqrestore(&iova_debug_lock, flags);
	return n;
}

/*
 * Where a state was allocated and last linked, as far as the kernel keeps
 * stacks (dma-debug saves them only with CONFIG_STACKTRACE too).
 */
#ifdef CONFIG_STACKTRACE
static __always_inline unsigned int save_stack(unsigned long *store)
{
	return stack_trace_save(store, IOVA_DEBUG_STACK, 1);
}

static void print_stack(const char *what, const unsigned long *store,
			unsigned int nr)
{
	if (!nr)
		return;
	pr_err("DMA-API: IOVA state %s at:\n", what);
	stack_trace_print(store, nr, 0);
}
#else
static unsigned int save_stack(unsigned long *store)
{
	return 0;
}

static void print_stack(const char *what, const unsigned long *store,
			unsigned int nr)
{
}
#endif

static void report(const struct iova_debug_entry *e, struct device *dev,
		   enum dma_iova_debug_check check, size_t offset)
{
	iova_debug_counts[check]++;
	iova_debug_counts[DMA_IOVA_DBG_NONE]++;
	if (!dma_debug_report_error(dev))
		return;
	WARN(1, "DMA-API: %s %s: %s [offset %#zx]\n",
	     dev ? dev_driver_string(dev) : "NULL",
	     dev ? dev_name(dev) : "NULL", check_names[check], offset);
	if (e) {
		print_stack("allocated", e->alloc_stack, e->alloc_nr);
		print_stack("last linked", e->link_stack, e->link_nr);
	}
}

static struct iova_debug_entry *lookup(const struct dma_iova_mapping *map)
{
	struct iova_debug_entry *e;

	hash_for_each_possible(iova_states, e, node, (unsigned long)map)
		if (e->map == map)
			return e;
	return NULL;
}

/* Whether to check: dma-debug is on and had memory for every shadow. */
static bool iova_debug_active(void)
{
	return dma_debug_active() && !READ_ONCE(iova_debug_off);
}

/* I15: the state's device or range differs from its shadow's. */
static void check_identity(struct iova_debug_entry *e,
			   const struct dma_iova_mapping *map, size_t offset)
{
	if (!dma_iova_is_live(map) || map->eng.dev != e->dev ||
	    dma_iova_addr(map) != e->addr || dma_iova_size(map) != e->size)
		report(e, e->dev, DMA_IOVA_DBG_CORRUPT, offset);
}

/*
 * Find @map's shadow and check the state against it. Returns the shadow,
 * also after reporting I15 (the shadow goes on following the calls), or
 * NULL if the state has none.
 */
static struct iova_debug_entry *find_state(struct dma_iova_mapping *map,
					   size_t offset)
{
	struct iova_debug_entry *e = lookup(map);

	if (!e)
		report(NULL, NULL, DMA_IOVA_DBG_NOT_LIVE, offset);
	else
		check_identity(e, map, offset);
	return e;
}

/*
 * I11: the shadow counts the chunks that each call linked and unlinked;
 * the state's count must follow. The shadow keeps its own count, so a
 * record put back after being overwritten is no longer reported.
 */
static bool check_count(struct iova_debug_entry *e,
			const struct dma_iova_mapping *map, long delta,
			size_t offset)
{
	unsigned long now = dma_iova_is_live(map) ? map->rec.nr_chunks : 0;

	e->nr_chunks += delta;
	if (now == e->nr_chunks || e->lossy) {
		e->nr_chunks = now;
		return true;
	}
	report(e, e->dev, DMA_IOVA_DBG_COUNT, offset);
	return false;
}

/*
 * Chunks start in distinct granules (bytes without an IOMMU), and so do
 * the spans of linked bytes they make up end in distinct granules: a
 * granule keys either. Chunks and spans that follow one another sit at
 * consecutive keys, dozens to an xarray node, so a mapping that grows or
 * shrinks one chunk at a time reuses its nodes instead of allocating.
 */
static unsigned long shadow_key(const struct iova_debug_entry *e,
				size_t offset)
{
	return offset >> e->shift;
}

static size_t in_granule(const struct iova_debug_entry *e, size_t offset)
{
	return offset & (((size_t)1 << e->shift) - 1);
}

/*
 * Sets of byte spans of a mapping (its linked or pending bytes): one xarray
 * entry per span, keyed by the granule of its last byte, holding how many
 * bytes it reaches back and where in that granule it ends. A value holds
 * at most LONG_MAX: longer spans are kept in pieces.
 */
static size_t span_max(const struct iova_debug_entry *e)
{
	return LONG_MAX >> e->shift;
}

/* The first span that ends at or after @pos. */
static bool span_find(const struct iova_debug_entry *e, struct xarray *xa,
		      size_t pos, size_t *start, size_t *last)
{
	unsigned long key = shadow_key(e, pos);
	void *v;

	while ((v = xa_find(xa, &key, ULONG_MAX, XA_PRESENT))) {
		*last = ((size_t)key << e->shift) +
			in_granule(e, xa_to_value(v));
		*start = *last - (xa_to_value(v) >> e->shift);
		if (*last >= pos)
			return true;
		if (key == ULONG_MAX)
			break;
		key++;	/* it ended before @pos, in @pos's granule */
	}
	return false;
}

/*
 * Store [@start, @last] under its key, overwriting what is there; false
 * (and the shadow lossy) if a piece found no memory.
 */
static bool span_store(struct iova_debug_entry *e, struct xarray *xa,
		       size_t start, size_t last)
{
	bool stored = true;
	unsigned long v;

	while (last - start > span_max(e)) {
		/* a piece ends with a granule, so the next has its own key */
		size_t cut = start + span_max(e) - in_granule(e, start +
							     span_max(e) + 1);

		stored &= span_store(e, xa, start, cut);
		start = cut + 1;
	}
	v = ((last - start) << e->shift) | in_granule(e, last);
	if (xa_err(xa_store(xa, shadow_key(e, last), xa_mk_value(v),
			    GFP_ATOMIC))) {
		e->lossy = true;
		stored = false;
	}
	return stored;
}

/*
 * Add [@start, @end), joining a span that ends right before it: the new
 * key is stored before the old one goes, so no node is freed to be
 * allocated again, and a store that fails loses no byte of the old span.
 */
static void span_add(struct iova_debug_entry *e, struct xarray *xa,
		     size_t start, size_t end)
{
	size_t s, l;

	if (start && span_find(e, xa, start - 1, &s, &l) && l == start - 1 &&
	    end - 1 - s <= span_max(e)) {
		if (span_store(e, xa, s, end - 1) &&
		    shadow_key(e, l) != shadow_key(e, end - 1))
			xa_erase(xa, shadow_key(e, l));
		return;
	}
	span_store(e, xa, start, end - 1);
}

/* Take [@start, @end) out of the spans; whether any byte of it was in. */
static bool span_cut(struct iova_debug_entry *e, struct xarray *xa,
		     size_t start, size_t end)
{
	bool met = false;
	size_t s, l;

	while (span_find(e, xa, start, &s, &l) && s < end) {
		unsigned long key = shadow_key(e, l);
		bool kept = false;

		met = true;
		/* what is left after the cut keeps the old key if it can */
		if (l >= end) {
			span_store(e, xa, end, l);
			kept = true;
		}
		if (s < start) {
			/* both halves in one granule: a chunk was cut */
			if (kept && shadow_key(e, start - 1) == key)
				e->lossy = true;
			else
				span_store(e, xa, s, start - 1);
			kept |= shadow_key(e, start - 1) == key;
		}
		if (!kept)
			xa_erase(xa, key);
		if (l >= end)
			break;
	}
	return met;
}

/* Is every byte of [@start, @end) in a span? */
static bool span_covers(const struct iova_debug_entry *e, struct xarray *xa,
			size_t start, size_t end)
{
	size_t s, l;

	while (start < end) {
		if (!span_find(e, xa, start, &s, &l) || s > start)
			return false;
		start = l + 1;
	}
	return true;
}

static void put_line(struct iova_debug_line *l)
{
	if (--l->users)
		return;
	hash_del(&l->node);
	kfree(l);
}

/*
 * Forget the chunks of @e that start in [@first, @last]: they were
 * unlinked. Returns how many there were.
 */
static long drop_chunks(struct iova_debug_entry *e, size_t first,
			size_t last)
{
	struct iova_debug_line *l;
	unsigned long key;
	long n = 0;
	void *v;

	xa_for_each_range(&e->starts, key, v, shadow_key(e, first),
			  shadow_key(e, last)) {
		size_t off = ((size_t)key << e->shift) + xa_to_value(v);

		if (off < first || off > last)
			continue;
		xa_erase(&e->starts, key);
		l = xa_erase(&e->lines, key);
		if (l)
			put_line(l);
		n++;
	}
	return n;
}

/*
 * A failed link or commit unwound the batch since the last commit: forget
 * it. Returns how many chunks went with it.
 */
static long unwound(struct iova_debug_entry *e)
{
	size_t s, l;
	long n = 0;

	while (span_find(e, &e->pending, 0, &s, &l)) {
		xa_erase(&e->pending, shadow_key(e, l));
		span_cut(e, &e->linked, s, l + 1);
		n += drop_chunks(e, s, l);
	}
	return n;
}

static void drop_entry(struct iova_debug_entry *e)
{
	/* every tracked line is keyed as its chunk's start: all go here */
	drop_chunks(e, 0, SIZE_MAX);
	xa_destroy(&e->starts);
	xa_destroy(&e->lines);
	xa_destroy(&e->linked);
	xa_destroy(&e->pending);
	hash_del(&e->node);
	kfree(e);
}

void debug_dma_iova_alloc(struct dma_iova_mapping *map, int ret)
{
	struct iova_debug_entry *e;
	unsigned long flags;

	if (!iova_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = lookup(map);
	if (e) {
		report(e, e->dev, DMA_IOVA_DBG_LIVE_REALLOC, 0);
		drop_entry(e);
	}
	if (ret)
		goto out;
	e = kzalloc(sizeof(*e), GFP_ATOMIC);
	if (!e) {
		struct hlist_node *tmp;
		unsigned int bkt;

		/*
		 * A state without a shadow would look dead: stop, as
		 * dma-debug does, and forget the shadows of the states still
		 * live, whose calls are no longer followed.
		 */
		pr_warn("DMA-API: out of memory, IOVA state checks disabled\n");
		WRITE_ONCE(iova_debug_off, true);
		hash_for_each_safe(iova_states, bkt, tmp, e, node)
			drop_entry(e);
		goto out;
	}
	e->map = map;
	e->dev = map->eng.dev;
	e->addr = map->addr;
	e->size = map->size;
	/* 32-bit: too few value bits for granule keys, key by byte */
	e->shift = map->eng.granule_shift <= BITS_PER_LONG / 4 ?
		   map->eng.granule_shift : 0;
	xa_init(&e->starts);
	xa_init(&e->lines);
	xa_init(&e->linked);
	xa_init(&e->pending);
	e->alloc_nr = save_stack(e->alloc_stack);
	hash_add(iova_states, &e->node, (unsigned long)map);
out:
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

static bool phys_in(phys_addr_t phys, const void *start, const void *end)
{
	return phys >= __pa_symbol(start) && phys < __pa_symbol(end);
}

static bool phys_on_stack(phys_addr_t phys)
{
	void *stack = task_stack_page(current);
	size_t off;

	for (off = 0; off < THREAD_SIZE; off += PAGE_SIZE) {
		void *va = stack + off;
		struct page *page = is_vmalloc_addr(va) ? vmalloc_to_page(va) :
							  virt_to_page(va);

		if (page && page_to_pfn(page) == PHYS_PFN(phys))
			return true;
	}
	return false;
}

static bool bad_source(phys_addr_t phys, size_t size)
{
	phys_addr_t last;

	if (!size)
		return false;
	if (check_add_overflow(phys, (phys_addr_t)size - 1, &last))
		return true;
	/* No struct pages at all: PCI MMIO, the core looks its provider up. */
	if (!pfn_valid(PHYS_PFN(phys)) && !pfn_valid(PHYS_PFN(last)))
		return false;
	if (!pfn_valid(PHYS_PFN(phys)) || !pfn_valid(PHYS_PFN(last)))
		return true;
	if (is_pci_p2pdma_page(pfn_to_page(PHYS_PFN(phys))) !=
	    is_pci_p2pdma_page(pfn_to_page(PHYS_PFN(last))))
		return true;
	return phys_in(phys, _stext, _etext) ||
	       phys_in(phys, __start_rodata, __end_rodata) ||
	       phys_on_stack(phys) || phys_on_stack(last);
}

/*
 * What a link refused with @ret did wrong: the core's errno, and for
 * -EINVAL the arguments (its other -EINVAL is a source spanning kinds).
 */
static enum dma_iova_debug_check link_misuse(int ret,
					     enum dma_data_direction dir,
					     bool out_of_range,
					     bool misplaced)
{
	if (ret == -EEXIST)
		return DMA_IOVA_DBG_OVERLAP;
	if (ret == -EPERM)
		return DMA_IOVA_DBG_BOUNCE_ATTR;
	if (ret != -EINVAL)	/* out of memory, unreachable, IOMMU error */
		return DMA_IOVA_DBG_NONE;
	if (!valid_dma_direction(dir))
		return DMA_IOVA_DBG_DIRECTION;
	if (out_of_range)
		return DMA_IOVA_DBG_RANGE;
	if (misplaced)
		return DMA_IOVA_DBG_PLACEMENT;
	return DMA_IOVA_DBG_SOURCE;
}

/*
 * I14: device-writable host chunks of two states in one cacheline. Not
 * for chunks the core bounces, whose lines the device never sees (as
 * dma-debug spares swiotlb).
 */
static void track_line(struct iova_debug_entry *e,
		       const struct dma_iova_mapping *map, size_t offset,
		       phys_addr_t phys, size_t size,
		       enum dma_data_direction dir, unsigned long attrs)
{
	unsigned long line = phys >> L1_CACHE_SHIFT;
	struct iova_debug_line *l, *old, *mine = NULL;
	bool clash = false;

	if (dir == DMA_TO_DEVICE || (attrs & DMA_ATTR_SKIP_CPU_SYNC) ||
	    !pfn_valid(PHYS_PFN(phys)) ||
	    is_pci_p2pdma_page(pfn_to_page(PHYS_PFN(phys))))
		return;
	if (dma_iova_uses_iommu(map) &&
	    iova_engine_needs_bounce(&map->eng, phys, size, dir))
		return;
	hash_for_each_possible(iova_lines, l, node, line) {
		if (l->line != line)
			continue;
		if (l->map == e->map)
			mine = l;
		else
			clash = true;
	}
	if (clash && !e->lossy)
		report(e, e->dev, DMA_IOVA_DBG_CACHELINE, offset);
	if (!mine) {
		mine = kzalloc(sizeof(*mine), GFP_ATOMIC);
		if (!mine)
			return;
		mine->map = e->map;
		mine->line = line;
		hash_add(iova_lines, &mine->node, line);
	}
	mine->users++;
	old = xa_store(&e->lines, shadow_key(e, offset), mine, GFP_ATOMIC);
	if (xa_err(old))
		put_line(mine);
	else if (old)	/* a chunk that went without our noticing */
		put_line(old);
}

/* Shadow a chunk linked at [@offset, +@size). */
static void linked_chunk(struct iova_debug_entry *e,
			 const struct dma_iova_mapping *map, size_t offset,
			 phys_addr_t phys, size_t size,
			 enum dma_data_direction dir, unsigned long attrs)
{
	bool started = !xa_err(xa_store(&e->starts, shadow_key(e, offset),
					xa_mk_value(in_granule(e, offset)),
					GFP_ATOMIC));

	span_add(e, &e->linked, offset, offset + size);
	span_add(e, &e->pending, offset, offset + size);
	/* a line is dropped with its chunk's start: none without one */
	if (started)
		track_line(e, map, offset, phys, size, dir, attrs);
	else
		e->lossy = true;
}

void debug_dma_iova_link(struct dma_iova_mapping *map, size_t offset,
			 phys_addr_t phys, size_t size,
			 enum dma_data_direction dir, unsigned long attrs,
			 int ret)
{
	enum dma_iova_debug_check check = DMA_IOVA_DBG_NONE;
	struct iova_debug_entry *e;
	unsigned long flags;
	size_t end;

	if (!iova_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = find_state(map, offset);
	if (!e)
		goto out;
	if (ret) {
		/* a failed link unwound its batch */
		if (!check_count(e, map, -unwound(e), offset))
			goto out;
		check = link_misuse(ret, dir,
				    !size || check_add_overflow(offset, size,
								&end) ||
				    end > e->size,
				    dma_iova_uses_iommu(map) &&
				    ((offset ^ phys) &
				     (dma_iova_granule(map) - 1)));
	} else {
		e->link_nr = save_stack(e->link_stack);
		linked_chunk(e, map, offset, phys, size, dir, attrs);
		if (!check_count(e, map, 1, offset))
			goto out;
	}
	if (check == DMA_IOVA_DBG_NONE && bad_source(phys, size))
		check = DMA_IOVA_DBG_SOURCE;
	if (check != DMA_IOVA_DBG_NONE)
		report(e, e->dev, check, offset);
out:
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

/*
 * The chunks of a dma_link_bvecs() call, where its kernel-doc places them:
 * physically contiguous bio_vecs of one memory kind form one chunk, which
 * goes right after the previous one when both meet on a granule boundary,
 * otherwise at the next granule plus its offset in a granule; the first
 * one may stay at the call's offset if it @fits there.
 */
struct bvec_walk {
	const struct bio_vec *bv;
	unsigned int nr, i;
	size_t mask;		/* IOMMU granule - 1, 0 without an IOMMU */
	bool fits;
	size_t offset, end;	/* the chunk: [offset, end) */
	phys_addr_t phys;
};

static void walk_init(struct bvec_walk *w, const struct dma_iova_mapping *map,
		      const struct bio_vec *bv, unsigned int nr, size_t start,
		      bool fits)
{
	*w = (struct bvec_walk) {
		.bv = bv, .nr = nr, .fits = fits, .end = start,
		.mask = dma_iova_uses_iommu(map) ?
			dma_iova_granule(map) - 1 : 0,
	};
}

static bool walk_next(struct bvec_walk *w)
{
	const struct bio_vec *bv = w->bv;
	struct page *page;
	size_t len;

	if (w->i >= w->nr)
		return false;
	page = bv[w->i].bv_page;
	w->phys = bvec_phys(&bv[w->i]);
	len = bv[w->i].bv_len;
	while (++w->i < w->nr && bvec_phys(&bv[w->i]) == w->phys + len &&
	       zone_device_pages_have_same_pgmap(page, bv[w->i].bv_page))
		len += bv[w->i].bv_len;
	w->offset = w->end;
	if ((w->fits ? w->offset ^ w->phys : w->offset | w->phys) & w->mask)
		w->offset = ALIGN(w->offset, w->mask + 1) +
			    (w->phys & w->mask);
	w->fits = false;
	w->end = w->offset + len;
	return true;
}

/*
 * Walk all chunks from @start: the number of chunks, and whether one is
 * empty, overflows or ends past @size.
 */
static long walk_all(struct bvec_walk *w, size_t size, bool *out_of_range)
{
	long n = 0;

	*out_of_range = false;
	while (walk_next(w)) {
		if (w->end <= w->offset || w->end > size)
			*out_of_range = true;
		n++;
	}
	return n;
}

void debug_dma_iova_link_bvecs(struct dma_iova_mapping *map, size_t start,
			       size_t end, const struct bio_vec *bv,
			       unsigned int nr, enum dma_data_direction dir,
			       unsigned long attrs, int ret)
{
	enum dma_iova_debug_check check = DMA_IOVA_DBG_NONE;
	struct iova_debug_entry *e;
	bool fits, out_of_range;
	struct bvec_walk w;
	unsigned long flags;
	long chunks;

	if (!iova_debug_active())
		return;
	/* The first chunk stayed at @start unless the end says otherwise. */
	walk_init(&w, map, bv, nr, start, true);
	chunks = walk_all(&w, dma_iova_size(map), &out_of_range);
	fits = !ret && w.end == end;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = find_state(map, start);
	if (!e)
		goto out;
	if (!nr) {
		/* misuse, but an empty call unlinks nothing */
		if (check_count(e, map, 0, start))
			check = DMA_IOVA_DBG_RANGE;
	} else if (ret) {
		/* a failed call unwound its batch */
		if (check_count(e, map, -unwound(e), start))
			check = link_misuse(ret, dir, out_of_range, false);
	} else {
		e->link_nr = save_stack(e->link_stack);
		walk_init(&w, map, bv, nr, start, fits);
		while (walk_next(&w)) {
			linked_chunk(e, map, w.offset, w.phys,
				     w.end - w.offset, dir, attrs);
			if (bad_source(w.phys, w.end - w.offset))
				check = DMA_IOVA_DBG_SOURCE;
		}
		if (!check_count(e, map, chunks, start))
			check = DMA_IOVA_DBG_NONE;
	}
	if (check != DMA_IOVA_DBG_NONE)
		report(e, e->dev, check, start);
out:
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

void debug_dma_iova_commit(struct dma_iova_mapping *map, int ret)
{
	struct iova_debug_entry *e;
	unsigned long flags;

	if (!iova_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = find_state(map, 0);
	if (!e)
		goto out;
	/* a failed commit unwound its batch; either way none is pending */
	if (ret) {
		check_count(e, map, -unwound(e), 0);
	} else {
		check_count(e, map, 0, 0);
		xa_destroy(&e->pending);
	}
out:
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

void debug_dma_iova_unlink(struct dma_iova_mapping *map,
			   const struct dma_iova_range *ranges,
			   unsigned int nr, int ret)
{
	size_t offset = nr ? ranges[0].offset : 0;
	struct iova_debug_entry *e;
	bool pending = false;
	unsigned long flags;
	unsigned int r;
	long gone = 0;

	if (!iova_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = find_state(map, offset);
	if (!e)
		goto out;
	if (ret) {
		/* refused: nothing was unlinked */
		if (check_count(e, map, 0, offset))
			report(e, e->dev, DMA_IOVA_DBG_UNLINK, offset);
		goto out;
	}
	for (r = 0; r < nr; r++) {
		size_t start = ranges[r].offset, end = start + ranges[r].size;

		if (span_cut(e, &e->pending, start, end) && !pending) {
			pending = true;
			offset = start;
		}
		span_cut(e, &e->linked, start, end);
		gone += drop_chunks(e, start, end - 1);
	}
	if (check_count(e, map, -gone, offset) && pending)
		report(e, e->dev, DMA_IOVA_DBG_UNCOMMITTED, offset);
out:
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

void debug_dma_iova_sync(struct dma_iova_mapping *map, size_t offset,
			 size_t size)
{
	struct iova_debug_entry *e;
	unsigned long flags;
	size_t end;

	if (!iova_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = find_state(map, offset);
	if (!e || !check_count(e, map, 0, offset))
		goto out;
	if (!size || check_add_overflow(offset, size, &end) ||
	    end > e->size ||
	    (!e->lossy && !span_covers(e, &e->linked, offset, end)))
		report(e, e->dev, DMA_IOVA_DBG_SYNC_RANGE, offset);
out:
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

void debug_dma_iova_destroy(struct dma_iova_mapping *map)
{
	struct iova_debug_entry *e;
	unsigned long flags;
	size_t s, l;

	if (!iova_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = lookup(map);
	if (!e) {
		/* Destroying a state that is not live is allowed. */
		if (dma_iova_is_live(map))
			report(NULL, NULL, DMA_IOVA_DBG_NOT_LIVE, 0);
		goto out;
	}
	/*
	 * Called once the chunks are gone, before the state is reset: its
	 * count is what it was, or 0 if the teardown counted them down.
	 */
	check_identity(e, map, 0);
	if ((!dma_iova_is_live(map) || !map->rec.nr_chunks ||
	     check_count(e, map, 0, 0)) &&
	    span_find(e, &e->pending, 0, &s, &l))
		report(e, e->dev, DMA_IOVA_DBG_UNCOMMITTED, s);
	drop_entry(e);
out:
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

void debug_dma_iova_free(struct dma_iova_mapping *map, int ret)
{
	struct iova_debug_entry *e;
	unsigned long flags;

	if (!iova_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = lookup(map);
	if (ret == -EBUSY && e) {
		report(e, e->dev, DMA_IOVA_DBG_FREE_LINKED, 0);
	} else if (ret) {
		e = find_state(map, 0);
		if (e)
			check_count(e, map, 0, 0);
	} else if (e) {
		drop_entry(e);
	}
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

/**
 * debug_dma_iova_device_unbind() - report states left live by a driver
 * @dev: device whose driver was unbound
 *
 * Called from dma-debug's bus notifier.
 *
 * Context: Process context.
 */
void debug_dma_iova_device_unbind(struct device *dev)
{
	struct iova_debug_entry *e, *example = NULL;
	unsigned int bkt, count = 0;
	unsigned long flags;

	spin_lock_irqsave(&iova_debug_lock, flags);
	hash_for_each(iova_states, bkt, e, node) {
		if (e->dev == dev) {
			example = example ?: e;
			count++;
		}
	}
	if (count) {
		report(example, dev, DMA_IOVA_DBG_UNBIND_LEAK, count);
		pr_err("DMA-API: %u live IOVA states, e.g. IOVA %pad size %#zx\n",
		       count, &example->addr, example->size);
	}
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

static int iova_dump_show(struct seq_file *seq, void *v)
{
	struct iova_debug_entry *e;
	unsigned long flags;
	unsigned int bkt;

	spin_lock_irqsave(&iova_debug_lock, flags);
	hash_for_each(iova_states, bkt, e, node)
		seq_printf(seq, "%s %s IOVA %pad size %#zx chunks %lu\n",
			   dev_driver_string(e->dev), dev_name(e->dev),
			   &e->addr, e->size, e->nr_chunks);
	spin_unlock_irqrestore(&iova_debug_lock, flags);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iova_dump);

/**
 * debug_dma_iova_fs_init() - add the IOVA files to dma-debug's directory
 * @dir: the dma-api debugfs directory
 *
 * Context: Process context, at boot.
 */
void debug_dma_iova_fs_init(struct dentry *dir)
{
	debugfs_create_file("iova_dump", 0444, dir, NULL, &iova_dump_fops);
}
