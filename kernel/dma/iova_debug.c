// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA-API debugging for the two-step IOVA API (CONFIG_DMA_API_DEBUG).
 *
 * A mapping state lives in its caller's memory, where nothing stops it from
 * being copied, overwritten or reused while live. So each live state gets a
 * shadow entry here, keyed by the state's address, that records what the
 * state must look like: its device, its IOVA range, its chunk count, and
 * where it was allocated and last linked. Every entry point checks the state
 * against its shadow before it acts, and each misuse is reported once, as
 * one numbered check (&enum dma_iova_debug_check), through dma-debug's error
 * count, rate limit and driver filter.
 */
#include "iova_link_internal.h"

#define IOVA_DEBUG_HASH_BITS	8
#define IOVA_DEBUG_STACK	8

struct iova_debug_entry {
	struct hlist_node node;
	const struct dma_iova_mapping *map;
	struct device *dev;
	dma_addr_t addr;
	size_t size;
	unsigned long nr_chunks;
	struct xarray lines;	/* chunk offset -> its iova_debug_line */
	size_t pend_lo, pend_hi;	/* chunks linked since the last commit */
	unsigned int alloc_nr;
	unsigned int link_nr;
	unsigned long alloc_stack[IOVA_DEBUG_STACK];
	unsigned long link_stack[IOVA_DEBUG_STACK];
};

/*
 * A cacheline in which device-writable host chunks of one state start, for
 * check I14. The lines of all states are indexed by cacheline in
 * @iova_lines (a short list per cacheline, one element per state), those
 * of one state by chunk offset in its entry: each check costs a lookup.
 */
struct iova_debug_line {
	struct iova_debug_line *next;	/* another state's, same cacheline */
	const struct dma_iova_mapping *map;
	unsigned long line;
	unsigned int users;		/* chunks of @map starting in it */
};

static DEFINE_HASHTABLE(iova_states, IOVA_DEBUG_HASH_BITS);
static DEFINE_XARRAY(iova_lines);
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
	if (e && e->alloc_nr) {
		pr_err("DMA-API: IOVA state allocated at:\n");
		stack_trace_print(e->alloc_stack, e->alloc_nr, 0);
	}
	if (e && e->link_nr) {
		pr_err("DMA-API: IOVA state last linked at:\n");
		stack_trace_print(e->link_stack, e->link_nr, 0);
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

/*
 * Find @map's shadow and check the state against it. Returns the shadow, or
 * NULL after reporting what is wrong.
 */
static struct iova_debug_entry *check_state(struct dma_iova_mapping *map,
					    size_t offset)
{
	struct iova_debug_entry *e = lookup(map);

	if (!e) {
		report(NULL, NULL, DMA_IOVA_DBG_NOT_LIVE, offset);
		return NULL;
	}
	if (!dma_iova_is_live(map) || map->dev != e->dev ||
	    dma_iova_addr(map) != e->addr || dma_iova_size(map) != e->size) {
		report(e, e->dev, DMA_IOVA_DBG_CORRUPT, offset);
		return NULL;
	}
	if (dma_iova_nr_chunks(map) != e->nr_chunks) {
		report(e, e->dev, DMA_IOVA_DBG_COUNT, offset);
		return NULL;
	}
	return e;
}

static void put_line(struct iova_debug_line *l)
{
	struct iova_debug_line **p, *head = xa_load(&iova_lines, l->line);

	if (--l->users)
		return;
	for (p = &head; *p != l; p = &(*p)->next)
		;
	*p = l->next;
	if (head)
		xa_store(&iova_lines, l->line, head, GFP_ATOMIC);
	else
		xa_erase(&iova_lines, l->line);
	kfree(l);
}

/*
 * Forget the tracked chunks of @e that start in [@first, @last] and are no
 * longer linked (all of them with @all).
 */
static void drop_lines(struct iova_debug_entry *e, size_t first, size_t last,
		       bool all)
{
	struct iova_debug_line *l;
	unsigned long off;

	xa_for_each_range(&e->lines, off, l, first, last) {
		if (all || !dma_iova_find_chunk(e->map, off)) {
			xa_erase(&e->lines, off);
			put_line(l);
		}
	}
}

/*
 * After a call that may have removed chunks of the batch since the last
 * commit (a failed link or commit unwinds it): follow the chunk count.
 */
static struct iova_debug_entry *follow(struct dma_iova_mapping *map)
{
	struct iova_debug_entry *e = lookup(map);

	if (e && e->nr_chunks != dma_iova_nr_chunks(map)) {
		if (dma_iova_nr_chunks(map) < e->nr_chunks &&
		    e->pend_lo <= e->pend_hi)
			drop_lines(e, e->pend_lo, e->pend_hi, false);
		e->nr_chunks = dma_iova_nr_chunks(map);
	}
	return e;
}

static void no_pending(struct iova_debug_entry *e)
{
	e->pend_lo = SIZE_MAX;
	e->pend_hi = 0;
}

static void drop_entry(struct iova_debug_entry *e)
{
	drop_lines(e, 0, SIZE_MAX, true);
	xa_destroy(&e->lines);
	hash_del(&e->node);
	kfree(e);
}

void debug_dma_iova_alloc(struct dma_iova_mapping *map, int ret)
{
	struct iova_debug_entry *e;
	unsigned long flags;

	if (!dma_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = lookup(map);
	if (e) {
		report(e, e->dev, DMA_IOVA_DBG_LIVE_REALLOC, 0);
		drop_entry(e);
	}
	if (ret || iova_debug_off)
		goto out;
	e = kzalloc(sizeof(*e), GFP_ATOMIC);
	if (!e) {
		pr_warn("DMA-API: out of memory, IOVA state checks disabled\n");
		iova_debug_off = true;
		goto out;
	}
	e->map = map;
	e->dev = map->dev;
	e->addr = map->addr;
	e->size = map->size;
	xa_init(&e->lines);
	no_pending(e);
	e->alloc_nr = stack_trace_save(e->alloc_stack, IOVA_DEBUG_STACK, 1);
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

static bool bad_source(phys_addr_t phys, phys_addr_t last)
{
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

bool debug_dma_iova_link(struct dma_iova_mapping *map, size_t offset,
			 phys_addr_t phys, size_t size,
			 enum dma_data_direction dir)
{
	enum dma_iova_debug_check check = DMA_IOVA_DBG_NONE;
	struct iova_debug_entry *e;
	phys_addr_t last;
	unsigned long flags;
	size_t end = 0;

	if (!dma_debug_active())
		return false;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = check_state(map, offset);
	if (!e)
		goto reported;

	if (!valid_dma_direction(dir))
		check = DMA_IOVA_DBG_DIRECTION;
	else if (!size || check_add_overflow(offset, size, &end) ||
		 end > dma_iova_size(map))
		check = DMA_IOVA_DBG_RANGE;
	else if (dma_iova_uses_iommu(map) &&
		 ((offset ^ phys) & (dma_iova_granule(map) - 1)))
		check = DMA_IOVA_DBG_PLACEMENT;
	else if (check_add_overflow(phys, (phys_addr_t)size - 1, &last) ||
		 bad_source(phys, last))
		check = DMA_IOVA_DBG_SOURCE;
	else if (dma_iova_range_busy(map, offset, size))
		check = DMA_IOVA_DBG_OVERLAP;
	if (check != DMA_IOVA_DBG_NONE) {
		report(e, e->dev, check, offset);
		goto reported;
	}
	e->link_nr = stack_trace_save(e->link_stack, IOVA_DEBUG_STACK, 1);
	spin_unlock_irqrestore(&iova_debug_lock, flags);
	return false;

reported:
	spin_unlock_irqrestore(&iova_debug_lock, flags);
	return true;
}

/* I14: device-writable host chunks of two states in one cacheline. */
static void track_line(struct iova_debug_entry *e,
		       const struct dma_iova_chunk *c, size_t offset,
		       phys_addr_t phys)
{
	unsigned long line = phys >> L1_CACHE_SHIFT;
	struct iova_debug_line *head, *l, *old, *mine = NULL;
	bool clash = false;

	if (!c || c->type != DMA_CHUNK_HOST || c->dir == DMA_TO_DEVICE ||
	    (c->attrs & DMA_ATTR_SKIP_CPU_SYNC))
		return;
	head = xa_load(&iova_lines, line);
	for (l = head; l; l = l->next) {
		if (l->map == e->map)
			mine = l;
		else
			clash = true;
	}
	if (clash)
		report(e, e->dev, DMA_IOVA_DBG_CACHELINE, offset);
	if (!mine) {
		mine = kzalloc(sizeof(*mine), GFP_ATOMIC);
		if (!mine)
			return;
		mine->map = e->map;
		mine->line = line;
		mine->next = head;
		if (xa_err(xa_store(&iova_lines, line, mine, GFP_ATOMIC))) {
			kfree(mine);
			return;
		}
	}
	mine->users++;
	old = xa_store(&e->lines, offset, mine, GFP_ATOMIC);
	if (xa_err(old))
		put_line(mine);
	else if (old)	/* a chunk that went without our noticing */
		put_line(old);
}

void debug_dma_iova_linked(struct dma_iova_mapping *map, size_t offset,
			   phys_addr_t phys, bool reported, int ret)
{
	struct iova_debug_entry *e;
	unsigned long flags;

	if (!dma_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = follow(map);	/* a failed link unwound its whole batch */
	if (!e)
		goto out;
	if (ret) {
		no_pending(e);
		if (reported)
			goto out;
		if (ret == -EPERM)
			report(e, e->dev, DMA_IOVA_DBG_BOUNCE_ATTR, offset);
		else if (ret == -EINVAL)
			report(e, e->dev, DMA_IOVA_DBG_SOURCE, offset);
		goto out;
	}
	e->pend_lo = min(e->pend_lo, offset);
	e->pend_hi = max(e->pend_hi, offset);
	track_line(e, dma_iova_find_chunk(map, offset), offset, phys);
out:
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

void debug_dma_iova_commit(struct dma_iova_mapping *map)
{
	unsigned long flags;

	if (!dma_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	check_state(map, 0);
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

void debug_dma_iova_committed(struct dma_iova_mapping *map, int ret)
{
	struct iova_debug_entry *e;
	unsigned long flags;

	if (!dma_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	/* a failed commit unwound its batch; either way none is pending */
	e = ret ? follow(map) : lookup(map);
	if (e)
		no_pending(e);
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

bool debug_dma_iova_unlink(struct dma_iova_mapping *map,
			   const struct dma_iova_range *ranges,
			   unsigned int nr)
{
	struct iova_debug_entry *e;
	bool reported = true;
	unsigned long flags;
	unsigned int r;
	ssize_t pending;

	if (!dma_debug_active())
		return false;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = check_state(map, nr ? ranges[0].offset : 0);
	if (!e)
		goto out;
	reported = false;
	for (r = 0; r < nr && !reported; r++) {
		pending = dma_iova_first_pending(map, ranges[r].offset,
						 ranges[r].size);
		if (pending >= 0) {
			report(e, e->dev, DMA_IOVA_DBG_UNCOMMITTED, pending);
			reported = true;
		}
	}
out:
	spin_unlock_irqrestore(&iova_debug_lock, flags);
	return reported;
}

void debug_dma_iova_unlinked(struct dma_iova_mapping *map,
			     const struct dma_iova_range *ranges,
			     unsigned int nr, bool reported, int ret)
{
	struct iova_debug_entry *e;
	unsigned long flags;
	unsigned int r;

	if (!dma_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = lookup(map);
	if (e && !ret) {
		for (r = 0; r < nr; r++)
			drop_lines(e, ranges[r].offset,
				   ranges[r].offset + ranges[r].size - 1,
				   false);
		e->nr_chunks = dma_iova_nr_chunks(map);
	}
	if (e && ret && !reported)
		report(e, e->dev, DMA_IOVA_DBG_UNLINK, 0);
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

void debug_dma_iova_sync(struct dma_iova_mapping *map, size_t offset,
			 size_t size)
{
	struct iova_debug_entry *e;
	unsigned long flags;
	size_t end;

	if (!dma_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = check_state(map, offset);
	if (!e)
		goto out;
	if (!size || check_add_overflow(offset, size, &end) ||
	    end > dma_iova_size(map) ||
	    !dma_iova_range_linked(map, offset, size))
		report(e, e->dev, DMA_IOVA_DBG_SYNC_RANGE, offset);
out:
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

void debug_dma_iova_destroy(struct dma_iova_mapping *map)
{
	struct iova_debug_entry *e;
	unsigned long flags;

	if (!dma_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = lookup(map);
	if (!e) {
		/* Destroying a state that is not live is allowed. */
		if (dma_iova_is_live(map))
			report(NULL, NULL, DMA_IOVA_DBG_NOT_LIVE, 0);
		goto out;
	}
	if (check_state(map, 0)) {
		ssize_t pending = dma_iova_first_pending(map, 0,
							 dma_iova_size(map));

		if (pending >= 0)
			report(e, e->dev, DMA_IOVA_DBG_UNCOMMITTED, pending);
	}
	drop_entry(e);
out:
	spin_unlock_irqrestore(&iova_debug_lock, flags);
}

void debug_dma_iova_free(struct dma_iova_mapping *map, int ret)
{
	struct iova_debug_entry *e;
	unsigned long flags;

	if (!dma_debug_active())
		return;
	spin_lock_irqsave(&iova_debug_lock, flags);
	e = lookup(map);
	if (ret == -EBUSY && e)
		report(e, e->dev, DMA_IOVA_DBG_FREE_LINKED, 0);
	else if (ret)
		check_state(map, 0);
	else if (e)
		drop_entry(e);
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
