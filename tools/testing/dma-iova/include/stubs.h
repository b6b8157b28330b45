/* SPDX-License-Identifier: GPL-2.0-only */
/* Kernel facilities STUBBED for userspace: no behaviour under test. */
#ifndef _HARNESS_STUBS_H
#define _HARNESS_STUBS_H

extern int harness_verbose;

#define EXPORT_SYMBOL_GPL(sym)	extern typeof(sym) sym
#define EXPORT_SYMBOL_IF_KUNIT(sym)	extern typeof(sym) sym
#define READ_ONCE(x)		(*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))
#define __uninitialized		/* compiler_attributes.h: no auto-init */

#define dev_warn_once(dev, fmt, ...) \
	do { if (harness_verbose) fprintf(stderr, "dev_warn: " fmt, ##__VA_ARGS__); } while (0)
#define pr_err(fmt, ...) \
	do { if (harness_verbose) fprintf(stderr, fmt, ##__VA_ARGS__); } while (0)
#define pr_warn(fmt, ...)	pr_err(fmt, ##__VA_ARGS__)
#define WARN(cond, fmt, ...) ({						\
	bool __w = !!(cond);						\
	if (__w && harness_verbose)					\
		fprintf(stderr, fmt, ##__VA_ARGS__);			\
	__w;								\
})

/* One CPU, no interrupts: locks have nothing to exclude. */
typedef struct { int unused; } spinlock_t;
#define DEFINE_SPINLOCK(x)		spinlock_t x
#define spin_lock_irqsave(l, f)		((void)(l), (f) = 0)
#define spin_unlock_irqrestore(l, f)	((void)(l), (void)(f))

static inline unsigned int stack_trace_save(unsigned long *store,
					    unsigned int size,
					    unsigned int skip)
{
	return 0;
}

static inline void stack_trace_print(const unsigned long *trace,
				     unsigned int nr, int spaces)
{
}

/* debugfs is never mounted in the harness. */
struct dentry;
struct seq_file;
struct file_operations { int unused; };
#define DEFINE_SHOW_ATTRIBUTE(name) \
	static const struct file_operations name##_fops __attribute__((unused))
#define seq_printf(seq, fmt, ...)	((void)(seq))
#define debugfs_create_file(name, mode, dir, data, fops) ((void)(fops))

/* Minimal hlist-based hash table, same interface as <linux/hashtable.h>. */
struct hlist_node {
	struct hlist_node *next, **pprev;
};

struct hlist_head {
	struct hlist_node *first;
};

#define DEFINE_HASHTABLE(name, bits)	struct hlist_head name[1 << (bits)]
#define HASH_SIZE(name)			(sizeof(name) / sizeof((name)[0]))
#define hash_bucket(name, key)		(&(name)[(key) % HASH_SIZE(name)])
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define hlist_entry_safe(ptr, type, member) \
	((ptr) ? container_of(ptr, type, member) : NULL)

static inline void hash_add_node(struct hlist_head *h, struct hlist_node *n)
{
	n->next = h->first;
	if (h->first)
		h->first->pprev = &n->next;
	h->first = n;
	n->pprev = &h->first;
}

static inline void hash_del(struct hlist_node *n)
{
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
}

#define hash_add(name, node, key)	hash_add_node(hash_bucket(name, key), node)
#define hash_for_each_possible(name, obj, member, key)			\
	for (obj = hlist_entry_safe(hash_bucket(name, key)->first,	\
				    typeof(*obj), member);		\
	     obj; obj = hlist_entry_safe((obj)->member.next,		\
					 typeof(*obj), member))
#define hash_for_each_safe(name, bkt, tmp, obj, member)			\
	for ((bkt) = 0; (bkt) < HASH_SIZE(name); (bkt)++)		\
		for (obj = hlist_entry_safe((name)[bkt].first,		\
					    typeof(*obj), member);	\
		     obj && ((tmp) = (obj)->member.next, 1);		\
		     obj = hlist_entry_safe(tmp, typeof(*obj), member))
#define hash_for_each(name, bkt, obj, member)				\
	for ((bkt) = 0; (bkt) < HASH_SIZE(name); (bkt)++)		\
		for (obj = hlist_entry_safe((name)[bkt].first,		\
					    typeof(*obj), member);	\
		     obj; obj = hlist_entry_safe((obj)->member.next,	\
						 typeof(*obj), member))

/*
 * Minimal xarray, same interface as <linux/xarray.h> for what the debug
 * layer uses: a sorted array, searched by bisection.
 */
struct xarray {
	unsigned long *index;
	void **entry;
	unsigned int nr, max;
};

#define DEFINE_XARRAY(name)	struct xarray name = { 0 }
#define XA_PRESENT		0

/* Tests: the xa_nomem-th store of a new index from now fails (-ENOMEM). */
static unsigned int xa_nomem;

static inline void xa_init(struct xarray *xa)
{
	memset(xa, 0, sizeof(*xa));
}

/* First slot whose index is >= @index. */
static inline unsigned int xa_slot(const struct xarray *xa,
				   unsigned long index)
{
	unsigned int lo = 0, hi = xa->nr;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (xa->index[mid] < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static inline void *xa_load(struct xarray *xa, unsigned long index)
{
	unsigned int i = xa_slot(xa, index);

	return i < xa->nr && xa->index[i] == index ? xa->entry[i] : NULL;
}

static inline void xa_destroy(struct xarray *xa)
{
	free(xa->index);
	free(xa->entry);
	xa_init(xa);
}

static inline void *xa_erase(struct xarray *xa, unsigned long index)
{
	unsigned int i = xa_slot(xa, index);
	void *old;

	if (i == xa->nr || xa->index[i] != index)
		return NULL;
	old = xa->entry[i];
	memmove(&xa->index[i], &xa->index[i + 1],
		(xa->nr - i - 1) * sizeof(*xa->index));
	memmove(&xa->entry[i], &xa->entry[i + 1],
		(xa->nr - i - 1) * sizeof(*xa->entry));
	if (!--xa->nr)
		xa_destroy(xa);
	return old;
}

static inline void *xa_store(struct xarray *xa, unsigned long index,
			     void *entry, gfp_t gfp)
{
	unsigned int i = xa_slot(xa, index);
	void *old;

	(void)gfp;
	if (!entry)
		return xa_erase(xa, index);
	if (i < xa->nr && xa->index[i] == index) {
		old = xa->entry[i];
		xa->entry[i] = entry;
		return old;
	}
	if (xa_nomem && !--xa_nomem)
		return (void *)(-ENOMEM * 4L + 2);
	if (xa->nr == xa->max) {
		xa->max = xa->max ? 2 * xa->max : 8;
		xa->index = realloc(xa->index, xa->max * sizeof(*xa->index));
		xa->entry = realloc(xa->entry, xa->max * sizeof(*xa->entry));
		assert(xa->index && xa->entry);
	}
	memmove(&xa->index[i + 1], &xa->index[i],
		(xa->nr - i) * sizeof(*xa->index));
	memmove(&xa->entry[i + 1], &xa->entry[i],
		(xa->nr - i) * sizeof(*xa->entry));
	xa->index[i] = index;
	xa->entry[i] = entry;
	xa->nr++;
	return NULL;
}

static inline void *xa_mk_value(unsigned long v)
{
	return (void *)((v << 1) | 1);
}

static inline unsigned long xa_to_value(const void *entry)
{
	return (unsigned long)entry >> 1;
}

static inline int xa_err(void *entry)
{
	/* values end in 1, pointers in 00: an error entry ends in 10 */
	return ((unsigned long)entry & 3) == 2 ? ((long)entry - 2) / 4 : 0;
}

static inline void *xa_find(struct xarray *xa, unsigned long *index,
			    unsigned long max, int filter)
{
	unsigned int i = xa_slot(xa, *index);

	if (i == xa->nr || xa->index[i] > max)
		return NULL;
	*index = xa->index[i];
	return xa->entry[i];
}

static inline void *xa_find_after(struct xarray *xa, unsigned long *index,
				  unsigned long max, int filter)
{
	unsigned long next = *index + 1;

	if (!next)
		return NULL;
	*index = next;
	return xa_find(xa, index, max, filter);
}

#define xa_for_each_range(xa, index, entry, start, last)		\
	for (index = start, entry = xa_find(xa, &index, last, XA_PRESENT); \
	     entry; entry = xa_find_after(xa, &index, last, XA_PRESENT))
#define xa_for_each(xa, index, entry) \
	xa_for_each_range(xa, index, entry, 0, ~0UL)

/* KMSAN: the harness has its own sanitizers */
#define kmsan_unpoison_memory(addr, size)	((void)(addr), (void)(size))

#endif
