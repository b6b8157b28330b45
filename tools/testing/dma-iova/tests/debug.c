// SPDX-License-Identifier: GPL-2.0-only
/*
 * CONFIG_DMA_API_DEBUG checks I1-I16: every scenario of the shared table
 * raises exactly one report of its check, correct use raises none.
 */
#include "../../../../lib/tests/dma_iova_debug_cases.h"

static struct device dbg_dev;

static phys_addr_t dbg_env_page(struct dma_iova_debug_env *env, unsigned int n)
{
	return gphys(400 + n);
}

static void dbg_env_bounce(struct dma_iova_debug_env *env, bool on)
{
	env->dev->needs_bounce = on;
}

static void dbg_env_unbind(struct dma_iova_debug_env *env)
{
	debug_dma_iova_device_unbind(env->dev);
}

static void dbg_env_release(struct dma_iova_debug_env *env,
			    struct dma_iova_mapping *copy)
{
	iommu_dma_iova_free(copy->eng.domain, copy->addr, copy->rec.iova_len, NULL);
	/* A copy's record points into the state it was copied from. */
	if (copy->rec.runs == &env->map.rec.run)
		copy->rec.runs = &copy->rec.run;
	free_record(&copy->rec);
}

static void dbg_env_init(struct dma_iova_debug_env *env)
{
	dbg_dev = iommu_dev;
	memset(env, 0, sizeof(*env));
	env->dev = &dbg_dev;
	env->granule = G;
	env->page = dbg_env_page;
	env->stack_phys = mock_phys(MOCK_STACK_FIRST + 1) + 0x123;
	env->text_phys = mock_phys(MOCK_TEXT_FIRST) + 0x40;
	env->p2p_phys = p2p_phys(0, 7);
	env->needs_bounce = dbg_env_bounce;
	env->unbind = dbg_env_unbind;
	env->release_leaked = dbg_env_release;
}

static bool test_debug_checks_fire_exactly_once(void)
{
	struct dma_iova_debug_env env;
	unsigned int i, c;

	for (i = 0; i < sizeof(dma_iova_debug_cases) /
			sizeof(dma_iova_debug_cases[0]); i++) {
		const struct dma_iova_debug_case *dc = &dma_iova_debug_cases[i];
		unsigned int before[DMA_IOVA_DBG_NR], dd;

		dbg_env_init(&env);
		ASSERT_EQ(dc->prepare(&env), 0);
		for (c = 0; c < DMA_IOVA_DBG_NR; c++)
			before[c] = dma_iova_debug_errors(c);
		dd = mock.dma_debug_errors;

		dc->misuse(&env);
		for (c = 1; c < DMA_IOVA_DBG_NR; c++) {
			unsigned int want = before[c] + (c == dc->check);

			if (dma_iova_debug_errors(c) != want)
				fprintf(stderr, "%s: check %u fired %u times\n",
					dc->desc, c,
					dma_iova_debug_errors(c) - before[c]);
			ASSERT_EQ(dma_iova_debug_errors(c), want);
		}
		ASSERT_EQ(dma_iova_debug_errors(DMA_IOVA_DBG_NONE),
			  before[DMA_IOVA_DBG_NONE] + 1);
		ASSERT_EQ(mock.dma_debug_errors, dd + 1);

		dma_destroy_iova(&env.map);
		dma_destroy_iova(&env.other);
		if (dma_iova_debug_errors(DMA_IOVA_DBG_NONE) != before[0] + 1)
			fprintf(stderr, "%s: cleanup reported\n", dc->desc);
		ASSERT_EQ(dma_iova_debug_errors(DMA_IOVA_DBG_NONE),
			  before[DMA_IOVA_DBG_NONE] + 1);
	}
	return true;
}

static bool test_debug_correct_use_is_silent(void)
{
	struct dma_iova_debug_env env;
	unsigned int before = dma_iova_debug_errors(DMA_IOVA_DBG_NONE);

	dbg_env_init(&env);
	ASSERT_EQ(dma_iova_debug_correct_use(&env), 0);
	dma_destroy_iova(&env.map);
	dma_destroy_iova(&env.map);	/* destroying a dead state is fine */
	ASSERT_EQ(dma_iova_debug_errors(DMA_IOVA_DBG_NONE), before);
	ASSERT_EQ(mock.dma_debug_errors, 0);
	return true;
}

/* With dma_debug=off no check runs and no shadow state is kept. */
static bool test_debug_off_checks_nothing(void)
{
	unsigned int before = dma_iova_debug_errors(DMA_IOVA_DBG_NONE);
	unsigned int live = dma_iova_debug_live_states(NULL);
	struct dma_iova_debug_env env;
	unsigned int i;

	mock.dma_debug_off = true;
	for (i = 0; i < sizeof(dma_iova_debug_cases) /
			sizeof(dma_iova_debug_cases[0]); i++) {
		const struct dma_iova_debug_case *dc = &dma_iova_debug_cases[i];

		dbg_env_init(&env);
		ASSERT_EQ(dc->prepare(&env), 0);
		ASSERT_EQ(dma_iova_debug_live_states(NULL), live);
		dc->misuse(&env);
		dma_destroy_iova(&env.map);
		dma_destroy_iova(&env.other);
	}
	mock.dma_debug_off = false;
	ASSERT_EQ(dma_iova_debug_errors(DMA_IOVA_DBG_NONE), before);
	ASSERT_EQ(mock.dma_debug_errors, 0);
	return true;
}

/* Reports of each check since @before[] (as dma_iova_debug_errors()). */
static void dbg_snapshot(unsigned int *before)
{
	unsigned int c;

	for (c = 0; c < DMA_IOVA_DBG_NR; c++)
		before[c] = dma_iova_debug_errors(c);
}

static unsigned int dbg_since(const unsigned int *before,
			      enum dma_iova_debug_check c)
{
	return dma_iova_debug_errors(c) - before[c];
}

/*
 * Chunks the core bounces keep their cachelines from the device: two
 * states' bounced chunks may share one (I14 spares them, as dma-debug
 * spares swiotlb).
 */
static bool test_debug_bounced_chunks_may_share_a_line(void)
{
	struct dma_iova_mapping a, b;
	unsigned int before[DMA_IOVA_DBG_NR];
	phys_addr_t buf = gphys(300);

	dbg_snapshot(before);
	ASSERT_EQ(dma_alloc_iova(&bounce_dev, &a, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_alloc_iova(&bounce_dev, &b, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&a, 0x100, buf + 0x100, 0x20,
				 DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&b, 0x120, buf + 0x120, 0x20,
				 DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(chunk_at(&a, 0x100)->type, DMA_CHUNK_BOUNCE);
	ASSERT_EQ(dma_iova_commit(&a), 0);
	ASSERT_EQ(dma_iova_commit(&b), 0);
	dma_destroy_iova(&a);
	dma_destroy_iova(&b);
	ASSERT_EQ(dbg_since(before, DMA_IOVA_DBG_NONE), 0);
	return true;
}

/*
 * A state used once for another device is reported once: the shadow
 * follows that call, so the calls after it raise nothing.
 */
static bool test_debug_misuse_of_identity_reported_once(void)
{
	unsigned int before[DMA_IOVA_DBG_NR];
	struct dma_iova_mapping map;
	int at;

	for (at = 0; at < 2; at++) {
		dbg_dev = iommu_dev;
		dbg_snapshot(before);
		ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 4 * G, 0, 0), 0);
		map.eng.dev = at ? &dbg_dev : &iommu_dev;
		ASSERT_EQ(dma_link_range(&map, 0, gphys(301), G,
					 DMA_TO_DEVICE, 0), 0);
		map.eng.dev = at ? &iommu_dev : &dbg_dev;
		ASSERT_EQ(dma_iova_commit(&map), 0);
		map.eng.dev = &iommu_dev;
		dma_iova_sync_for_cpu(&map, 0, G);
		ASSERT_EQ(dma_unlink_range(&map, 0, G), 0);
		dma_destroy_iova(&map);
		ASSERT_EQ(dbg_since(before, DMA_IOVA_DBG_CORRUPT), 1);
		ASSERT_EQ(dbg_since(before, DMA_IOVA_DBG_NONE), 1);
	}
	return true;
}

/* I11 follows every call: a count lowered behind the API is caught. */
static bool test_debug_count_checked_by_unlink_and_destroy(void)
{
	unsigned int before[DMA_IOVA_DBG_NR];
	struct dma_iova_mapping map;
	unsigned int i;

	dbg_snapshot(before);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 4 * G, 0, 0), 0);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(dma_link_range(&map, i * G, gphys(306 + i), G,
					 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	map.rec.nr_chunks--;
	ASSERT_EQ(dma_unlink_range(&map, 0, G), 0);
	ASSERT_EQ(dbg_since(before, DMA_IOVA_DBG_COUNT), 1);
	map.rec.nr_chunks--;
	dma_destroy_iova(&map);
	ASSERT_EQ(dbg_since(before, DMA_IOVA_DBG_COUNT), 2);
	ASSERT_EQ(dbg_since(before, DMA_IOVA_DBG_NONE), 2);
	return true;
}

/* Out of memory for a shadow, the checks stop instead of crying I2. */
static bool test_debug_no_shadow_memory_stops_checks(void)
{
	unsigned int before[DMA_IOVA_DBG_NR];
	struct dma_iova_mapping map;

	dbg_snapshot(before);
	iova_debug_off = true;
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(309), G, DMA_TO_DEVICE, 0),
		  0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	dma_destroy_iova(&map);
	iova_debug_off = false;
	ASSERT_EQ(dbg_since(before, DMA_IOVA_DBG_NONE), 0);
	return true;
}

/*
 * A chunk whose start the shadow could not store (lossy) leaves no
 * cacheline behind: once unlinked, another state may use its line.
 */
static bool test_debug_lost_chunk_keeps_no_cacheline(void)
{
	unsigned int before[DMA_IOVA_DBG_NR];
	struct dma_iova_mapping a, b;

	dbg_snapshot(before);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &a, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &b, 4 * G, 0, 0), 0);
	xa_nomem = 1;	/* the chunk's start */
	ASSERT_EQ(dma_link_range(&a, 0, gphys(312), G, DMA_FROM_DEVICE, 0),
		  0);
	xa_nomem = 0;
	ASSERT_EQ(dma_iova_commit(&a), 0);
	ASSERT_EQ(dma_unlink_range(&a, 0, G), 0);
	ASSERT_EQ(dma_link_range(&b, 0, gphys(312), G, DMA_FROM_DEVICE, 0),
		  0);
	ASSERT_EQ(dma_iova_commit(&b), 0);
	dma_destroy_iova(&b);
	dma_destroy_iova(&a);
	ASSERT_EQ(dbg_since(before, DMA_IOVA_DBG_NONE), 0);
	return true;
}

/*
 * Out of memory for a shadow, the checks stop: the shadows of states
 * still live go with them, so an unbind reports nothing and none leaks.
 */
static bool test_debug_stopping_drops_every_shadow(void)
{
	unsigned int before[DMA_IOVA_DBG_NR];
	struct dma_iova_mapping a, b;

	dbg_snapshot(before);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &a, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&a, 0, gphys(313), G, DMA_FROM_DEVICE, 0),
		  0);
	ASSERT_EQ(dma_iova_commit(&a), 0);
	mock.kzalloc_nomem = true;
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &b, 4 * G, 0, 0), 0);
	mock.kzalloc_nomem = false;
	dma_destroy_iova(&a);
	dma_destroy_iova(&b);
	debug_dma_iova_device_unbind(&iommu_dev);
	ASSERT_EQ(debug_shadows(), 0);
	iova_debug_off = false;
	ASSERT_EQ(dbg_since(before, DMA_IOVA_DBG_NONE), 0);
	return true;
}

/*
 * A chunk whose span could not be joined to the one before it (lossy)
 * loses nothing of that span: unlinking the earlier, uncommitted chunk
 * is still reported as I9.
 */
static bool test_debug_failed_join_keeps_the_span(void)
{
	unsigned int before[DMA_IOVA_DBG_NR];
	struct dma_iova_mapping map;

	dbg_snapshot(before);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(314), G, DMA_TO_DEVICE, 0),
		  0);
	xa_nomem = 3;	/* its start, its linked span, its pending span */
	ASSERT_EQ(dma_link_range(&map, G, gphys(315), G, DMA_TO_DEVICE, 0),
		  0);
	xa_nomem = 0;
	ASSERT_EQ(dma_unlink_range(&map, 0, G), 0);
	ASSERT_EQ(dbg_since(before, DMA_IOVA_DBG_UNCOMMITTED), 1);
	ASSERT_EQ(dbg_since(before, DMA_IOVA_DBG_NONE), 1);
	dma_destroy_iova(&map);
	return true;
}

static void run_debug_tests(void)
{
	TEST(debug_checks_fire_exactly_once);
	TEST(debug_correct_use_is_silent);
	TEST(debug_off_checks_nothing);
	TEST(debug_bounced_chunks_may_share_a_line);
	TEST(debug_misuse_of_identity_reported_once);
	TEST(debug_count_checked_by_unlink_and_destroy);
	TEST(debug_no_shadow_memory_stops_checks);
	TEST(debug_lost_chunk_keeps_no_cacheline);
	TEST(debug_stopping_drops_every_shadow);
	TEST(debug_failed_join_keeps_the_span);
}
