/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Misuse scenarios for the CONFIG_DMA_API_DEBUG checks of the two-step IOVA
 * API, shared by lib/tests/dma_iova_kunit.c and a userspace harness.
 *
 * Each scenario prepares a mapping by correct use, which must raise no
 * report, then misuses it once, which must raise exactly one report of the
 * named check, and leaves it so that destroying env->map and env->other
 * raises none (where the API cannot refuse the misuse, it commits what it
 * linked).
 */
#ifndef _LIB_TESTS_DMA_IOVA_DEBUG_CASES_H
#define _LIB_TESTS_DMA_IOVA_DEBUG_CASES_H

struct dma_iova_debug_env {
	/* behind an IOMMU */
	struct device *dev;
	/* its IOMMU granule */
	size_t granule;
	/* physical address of scratch granule @n (n < 4) of RAM */
	phys_addr_t (*page)(struct dma_iova_debug_env *env, unsigned int n);
	/* a byte on the current stack, a byte of kernel text */
	phys_addr_t stack_phys;
	phys_addr_t text_phys;
	/*
	 * a granule of P2P memory that @dev reaches through the host bridge,
	 * or 0 where the machine allows no such path
	 */
	phys_addr_t p2p_phys;
	/* make @dev need (or no longer need) swiotlb bouncing */
	void (*needs_bounce)(struct dma_iova_debug_env *env, bool on);
	/* unbind @dev's driver, which runs dma-debug's unbind check */
	void (*unbind)(struct dma_iova_debug_env *env);
	/* give back the IOVA of a state that was dropped while live */
	void (*release_leaked)(struct dma_iova_debug_env *env,
			       struct dma_iova_mapping *copy);
	struct dma_iova_mapping map;
	struct dma_iova_mapping other;
};

struct dma_iova_debug_case {
	const char *desc;
	enum dma_iova_debug_check check;
	int (*prepare)(struct dma_iova_debug_env *env);
	void (*misuse)(struct dma_iova_debug_env *env);
};

static int dbg_alloc(struct dma_iova_debug_env *env)
{
	return dma_alloc_iova(env->dev, &env->map, 4 * env->granule, 0,
			      GFP_ATOMIC);
}

static int dbg_alloc_linked(struct dma_iova_debug_env *env)
{
	return dbg_alloc(env) ?:
	       dma_link_range(&env->map, 0, env->page(env, 0), env->granule,
			      DMA_BIDIRECTIONAL, 0) ?:
	       dma_link_range(&env->map, env->granule, env->page(env, 1),
			      env->granule, DMA_BIDIRECTIONAL, 0) ?:
	       dma_iova_commit(&env->map);
}

static int dbg_alloc_destroy(struct dma_iova_debug_env *env)
{
	int ret = dbg_alloc(env);

	dma_destroy_iova(&env->map);
	return ret;
}

static int dbg_alloc_pending(struct dma_iova_debug_env *env)
{
	return dbg_alloc(env) ?:
	       dma_link_range(&env->map, 0, env->page(env, 0), env->granule,
			      DMA_TO_DEVICE, 0);
}

static int dbg_two_states(struct dma_iova_debug_env *env)
{
	return dbg_alloc(env) ?:
	       dma_alloc_iova(env->dev, &env->other, 4 * env->granule, 0,
			      GFP_ATOMIC) ?:
	       dma_link_range(&env->map, 0, env->page(env, 2), 64,
			      DMA_FROM_DEVICE, 0) ?:
	       dma_iova_commit(&env->map);
}

static int dbg_bounce_alloc(struct dma_iova_debug_env *env)
{
	env->needs_bounce(env, true);
	return dbg_alloc(env);
}

static void dbg_realloc_live(struct dma_iova_debug_env *env)
{
	struct dma_iova_mapping copy = env->map;

	dbg_alloc(env);
	env->release_leaked(env, &copy);
}

static void dbg_link_dead(struct dma_iova_debug_env *env)
{
	dma_link_range(&env->map, 0, env->page(env, 0), env->granule,
		       DMA_TO_DEVICE, 0);
}

static void dbg_link_outside(struct dma_iova_debug_env *env)
{
	dma_link_range(&env->map, 3 * env->granule, env->page(env, 0),
		       2 * env->granule, DMA_TO_DEVICE, 0);
}

static void dbg_link_shared_granule(struct dma_iova_debug_env *env)
{
	dma_link_range(&env->map, env->granule + 0x800,
		       env->page(env, 2) + 0x800, 0x100, DMA_TO_DEVICE, 0);
}

static void dbg_link_misplaced(struct dma_iova_debug_env *env)
{
	dma_link_range(&env->map, 2 * env->granule, env->page(env, 2) + 0x10,
		       0x100, DMA_TO_DEVICE, 0);
}

static void dbg_link_stack(struct dma_iova_debug_env *env)
{
	size_t off = env->stack_phys & (env->granule - 1);

	dma_link_range(&env->map, off, env->stack_phys, 8, DMA_TO_DEVICE, 0);
	dma_iova_commit(&env->map);
}

static void dbg_link_text(struct dma_iova_debug_env *env)
{
	size_t off = env->text_phys & (env->granule - 1);

	dma_link_range(&env->map, off, env->text_phys, 8, DMA_TO_DEVICE, 0);
	dma_iova_commit(&env->map);
}

static void dbg_link_no_direction(struct dma_iova_debug_env *env)
{
	dma_link_range(&env->map, 0, env->page(env, 0), env->granule, DMA_NONE,
		       0);
}

static void dbg_sync_hole(struct dma_iova_debug_env *env)
{
	dma_iova_sync_for_cpu(&env->map, env->granule, 2 * env->granule);
}

static void dbg_unlink_pending(struct dma_iova_debug_env *env)
{
	dma_unlink_range(&env->map, 0, env->granule);
}

static void dbg_unlink_half(struct dma_iova_debug_env *env)
{
	dma_unlink_range(&env->map, 0, env->granule / 2);
}

static void dbg_count_changed(struct dma_iova_debug_env *env)
{
	struct dma_iova_record rec = env->map.rec;

	/* Another state's record written over this state's. */
	if (dma_alloc_iova(env->dev, &env->other, 4 * env->granule, 0,
			   GFP_ATOMIC))
		return;
	env->map.rec = env->other.rec;
	dma_iova_commit(&env->map);
	env->map.rec = rec;
	dma_destroy_iova(&env->other);
}

static void dbg_free_linked(struct dma_iova_debug_env *env)
{
	dma_free_iova(&env->map);
}

static void dbg_unbind(struct dma_iova_debug_env *env)
{
	env->unbind(env);
}

static void dbg_shared_cacheline(struct dma_iova_debug_env *env)
{
	dma_link_range(&env->other, 0, env->page(env, 2), 64, DMA_FROM_DEVICE,
		       0);
	dma_iova_commit(&env->other);
}

static void dbg_other_device(struct dma_iova_debug_env *env)
{
	struct device *dev = env->map.eng.dev;

	env->map.eng.dev = (struct device *)&env->other;
	dma_iova_commit(&env->map);
	env->map.eng.dev = dev;
}

/* The one misuse that needs env->p2p_phys. */
static void dbg_bounce_p2p(struct dma_iova_debug_env *env)
{
	dma_link_range(&env->map, 0x800, env->p2p_phys + 0x800, 0x100,
		       DMA_TO_DEVICE, 0);
	env->needs_bounce(env, false);
}

static const struct dma_iova_debug_case dma_iova_debug_cases[] = {
	{ "I1 alloc on a live state", DMA_IOVA_DBG_LIVE_REALLOC,
	  dbg_alloc, dbg_realloc_live },
	{ "I2 link after destroy", DMA_IOVA_DBG_NOT_LIVE,
	  dbg_alloc_destroy, dbg_link_dead },
	{ "I3 link past the end", DMA_IOVA_DBG_RANGE,
	  dbg_alloc, dbg_link_outside },
	{ "I4 link into a linked granule", DMA_IOVA_DBG_OVERLAP,
	  dbg_alloc_linked, dbg_link_shared_granule },
	{ "I5 link at a mismatched granule offset", DMA_IOVA_DBG_PLACEMENT,
	  dbg_alloc, dbg_link_misplaced },
	{ "I6 link the stack", DMA_IOVA_DBG_SOURCE,
	  dbg_alloc, dbg_link_stack },
	{ "I6 link kernel text", DMA_IOVA_DBG_SOURCE,
	  dbg_alloc, dbg_link_text },
	{ "I7 link with DMA_NONE", DMA_IOVA_DBG_DIRECTION,
	  dbg_alloc, dbg_link_no_direction },
	{ "I8 sync over a hole", DMA_IOVA_DBG_SYNC_RANGE,
	  dbg_alloc_linked, dbg_sync_hole },
	{ "I9 unlink before commit", DMA_IOVA_DBG_UNCOMMITTED,
	  dbg_alloc_pending, dbg_unlink_pending },
	{ "I10 unlink half a chunk", DMA_IOVA_DBG_UNLINK,
	  dbg_alloc_linked, dbg_unlink_half },
	{ "I11 record of another state", DMA_IOVA_DBG_COUNT,
	  dbg_alloc_linked, dbg_count_changed },
	{ "I12 free with chunks linked", DMA_IOVA_DBG_FREE_LINKED,
	  dbg_alloc_linked, dbg_free_linked },
	{ "I13 driver unbound with a live state", DMA_IOVA_DBG_UNBIND_LEAK,
	  dbg_alloc, dbg_unbind },
	{ "I14 two states share a cacheline", DMA_IOVA_DBG_CACHELINE,
	  dbg_two_states, dbg_shared_cacheline },
	{ "I15 state used for another device", DMA_IOVA_DBG_CORRUPT,
	  dbg_alloc, dbg_other_device },
	{ "I16 unaligned P2P on a bouncing device", DMA_IOVA_DBG_BOUNCE_ATTR,
	  dbg_bounce_alloc, dbg_bounce_p2p },
};

/*
 * Correct use of everything (P2P memory where the machine has it): must
 * raise no report. Leaves env->map live for the caller to destroy.
 */
static int dma_iova_debug_correct_use(struct dma_iova_debug_env *env)
{
	struct dma_iova_range r[2] = {
		{ .offset = 0, .size = env->granule },
		{ .offset = 2 * env->granule + 0x10, .size = 0x20 },
	};
	int ret;

	ret = dbg_alloc(env) ?: dma_free_iova(&env->map) ?: dbg_alloc(env) ?:
	      dma_link_range(&env->map, 0, env->page(env, 0), env->granule,
			     DMA_TO_DEVICE, 0) ?:
	      dma_link_range(&env->map, env->granule,
			     env->p2p_phys ?: env->page(env, 2), env->granule,
			     DMA_BIDIRECTIONAL, 0) ?:
	      dma_link_range(&env->map, 2 * env->granule + 0x10,
			     env->page(env, 1) + 0x10, 0x20, DMA_FROM_DEVICE,
			     0) ?:
	      dma_iova_commit(&env->map);
	if (ret)
		return ret;
	dma_iova_sync_for_cpu(&env->map, 0, 2 * env->granule);
	dma_iova_sync_for_device(&env->map, 2 * env->granule + 0x10, 0x20);
	return dma_unlink_ranges(&env->map, r, 2) ?:
	       dma_link_range(&env->map, 0, env->page(env, 3), env->granule,
			      DMA_TO_DEVICE, 0) ?:
	       dma_iova_commit(&env->map);
}

#endif /* _LIB_TESTS_DMA_IOVA_DEBUG_CASES_H */
