// SPDX-License-Identifier: GPL-2.0-only
/* dma_link_bvecs(), and what the run record costs and never allocates. */

static void bvec_at(struct bio_vec *bv, phys_addr_t phys, unsigned int len)
{
	bv->bv_page = pfn_to_page(PHYS_PFN(phys));
	bv->bv_offset = offset_in_page(phys);
	bv->bv_len = len;
}

/*
 * Placement as documented: back to back where chunks meet on a granule
 * boundary, at the next granule plus the in-granule offset otherwise;
 * physically contiguous neighbours merge into one chunk.
 */
static bool test_link_bvecs_places_and_merges(void)
{
	struct dma_iova_mapping map;
	struct dma_iova_seg seg[4];
	struct bio_vec bv[5];
	size_t off = 0x200;

	bvec_at(&bv[0], gphys(10) + 0x200, G - 0x200);
	bvec_at(&bv[1], gphys(20), G / 2);		/* merges with [2] */
	bvec_at(&bv[2], gphys(20) + G / 2, G / 2);
	bvec_at(&bv[3], gphys(30), 0x100);		/* ends mid-granule */
	bvec_at(&bv[4], gphys(40) + 0x80, 0x80);	/* a new granule */
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 5, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(off, 3 * G + 0x100);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 4);
	ASSERT_EQ(mock.map_calls, 4);
	ASSERT_EQ(nr_runs(&map), 2);
	ASSERT_EQ(nr_pending(&map), 4);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(mock.sync_calls, 1);
	ASSERT_TRUE(resolves(&map, 0x200, gphys(10) + 0x200, G - 0x200));
	ASSERT_TRUE(resolves(&map, G, gphys(20), G));
	ASSERT_TRUE(resolves(&map, 2 * G, gphys(30), 0x100));
	ASSERT_TRUE(resolves(&map, 3 * G + 0x80, gphys(40) + 0x80,
			     0x80));
	ASSERT_EQ(count_segs(&map, seg, 4), 2);
	ASSERT_EQ(seg[0].addr, map.addr + 0x200);
	ASSERT_EQ(seg[0].len, 2 * G + 0x100 - 0x200);
	ASSERT_EQ(seg[1].addr, map.addr + 3 * G + 0x80);

	/* A second call goes on where the first stopped. */
	off = 5 * G;
	bvec_at(&bv[0], gphys(50), G);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 1, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(off, 6 * G);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	dma_destroy_iova(&map);
	return true;
}

/*
 * A failing batch leaves nothing of itself: chunks of this call and of
 * earlier calls since the commit are unlinked, the committed one stays,
 * and *offset is left alone. With dma_debug=off too, where the append
 * loop records its chunks once per stretch instead of once per chunk.
 */
static bool link_bvecs_failure_unwinds(bool dma_debug_off)
{
	struct dma_iova_mapping map;
	struct bio_vec bv[4];
	size_t off = 2 * G;
	unsigned int i;

	mock.dma_debug_off = dma_debug_off;
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(3), G, DMA_TO_DEVICE,
				 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(dma_link_range(&map, G, gphys(5), G,
				 DMA_TO_DEVICE, 0), 0);
	for (i = 0; i < 4; i++)
		bvec_at(&bv[i], gphys(60 + 2 * i), G);
	mock.fail_at[FAIL_MAP] = mock.calls[FAIL_MAP] + 3;
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 4, DMA_TO_DEVICE, 0),
		  -ENOMEM);
	ASSERT_EQ(off, 2 * G);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 1);
	ASSERT_EQ(nr_pending(&map), 0);
	ASSERT_EQ(mock.nr_ext, 1);
	ASSERT_TRUE(resolves(&map, 0, gphys(3), G));
	ASSERT_TRUE(unmapped(map.addr + G, 16 * G - G));

	/* Misuse in the middle of a call: the same, and reported once. */
	bvec_at(&bv[2], mock_phys(MOCK_TEXT_FIRST), G); /* "kernel text" */
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 4, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	off = 40 * G;
	bvec_at(&bv[1], gphys(70), G);
	bvec_at(&bv[2], gphys(72), G);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 3, DMA_NONE, 0), -EINVAL);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 5);
	/* an empty call is misuse too, but unlinks nothing of the batch */
	off = 12 * G;
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv + 1, 1, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 0, DMA_TO_DEVICE, 0),
		  -EINVAL);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 6);
	ASSERT_EQ(nr_pending(&map), 1);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	dma_destroy_iova(&map);
	/* text, DMA_NONE, empty */
	ASSERT_EQ(mock.dma_debug_errors, dma_debug_off ? 0 : 3);
	mock.dma_debug_errors = 0;
	mock.dma_debug_off = false;
	return true;
}

static bool test_link_bvecs_failure_unwinds_batch(void)
{
	return link_bvecs_failure_unwinds(false) &&
	       link_bvecs_failure_unwinds(true);
}

/*
 * Scattered pages of one call reach the IOMMU APPEND_RANGES at a time, in
 * one vectored map each; a map failing in a later vector takes the earlier
 * vectors of the batch with it, and the mapping is as before the call.
 */
static bool test_link_bvecs_maps_ranges_per_call(void)
{
	const unsigned int n = 2 * APPEND_RANGES + 9;
	struct dma_iova_mapping map;
	struct bio_vec bv[2 * APPEND_RANGES + 9];
	unsigned int i, ext;
	size_t off = 0;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 4 * n * G, 0, 0), 0);
	for (i = 0; i < n; i++)
		bvec_at(&bv[i], gphys(3 * i + 1), G);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, n, DMA_TO_DEVICE, 0), 0);
	/* the first chunk opens the run, the others append to it */
	ASSERT_EQ(mock.map_calls, n);
	ASSERT_EQ(mock.map_range_calls, DIV_ROUND_UP(n - 1, APPEND_RANGES));
	ASSERT_EQ(dma_iova_commit(&map), 0);
	for (i = 0; i < n; i++)
		ASSERT_TRUE(resolves(&map, i * G, gphys(3 * i + 1), G));

	ext = mock.nr_ext;
	for (i = 0; i < n; i++)
		bvec_at(&bv[i], gphys(3 * i + 2), G);
	mock.fail_at[FAIL_MAP] = mock.calls[FAIL_MAP] + APPEND_RANGES + 3;
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, n, DMA_TO_DEVICE, 0),
		  -ENOMEM);
	ASSERT_EQ(off, n * G);
	ASSERT_EQ(mock.nr_ext, ext);
	ASSERT_EQ(dma_iova_nr_chunks(&map), n);
	ASSERT_EQ(nr_pending(&map), 0);
	ASSERT_TRUE(unmapped(map.addr + n * G, 3 * n * G));
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, n, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	for (i = 0; i < n; i += 5)
		ASSERT_TRUE(resolves(&map, (n + i) * G, gphys(3 * i + 2), G));
	dma_destroy_iova(&map);
	return true;
}

/*
 * Host pages linked in any order, one call each, are one run: the record
 * costs at most a byte per mapped page once a few hundred are linked.
 */
static bool test_record_is_one_run_for_scattered_pages(void)
{
	const unsigned int n = 1024;
	struct dma_iova_mapping map;
	unsigned int i, k;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, n * G, 0, 0), 0);
	/* A permutation of the pages: odd multiplier mod a power of two. */
	for (i = 0; i < n; i++) {
		k = (i * 389) % n;
		ASSERT_EQ(dma_link_range(&map, k * G,
					 gphys((k * 7) % RAM_GRANULES),
					 G, DMA_BIDIRECTIONAL, 0), 0);
	}
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(nr_runs(&map), 1);
	ASSERT_TRUE(dma_iova_record_bytes(&map) <= n);
	/* the state holds the record of small mappings: a few cache lines */
	ASSERT_TRUE(sizeof(map) <= 256);
	for (i = 0; i < n; i += 97)
		ASSERT_TRUE(resolves(&map, i * G,
				     gphys((i * 7) % RAM_GRANULES),
				     G));
	dma_destroy_iova(&map);
	return true;
}

/*
 * Unlinking never allocates: with every allocation failing, random page
 * ranges of one run come out, one flush each, and the rest stays mapped.
 */
static bool test_unlink_never_allocates(void)
{
	const unsigned int n = 256;
	struct dma_iova_mapping map;
	unsigned int i, left = n, calls;
	bool linked[256];
	struct bio_vec bv[256];
	size_t off = 0;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, n * G, 0, 0), 0);
	for (i = 0; i < n; i++) {
		bvec_at(&bv[i], gphys(2 * i), G);
		linked[i] = true;
	}
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, n, DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(nr_runs(&map), 1);
	ASSERT_EQ(mock.map_calls, n);
	/*
	 * Domain and protection are looked up per call, not per chunk: the
	 * first chunk, which opens the run, takes the loop's path too.
	 */
	ASSERT_EQ(mock.batch_inits, 1);

	calls = mock.calls[FAIL_KMALLOC] + mock.calls[FAIL_HOOK];
	mock.fail_at[FAIL_KMALLOC] = mock.calls[FAIL_KMALLOC] + 1;
	for (i = 0; i < 40; i++) {
		unsigned int first = (i * 151 + 17) % n;
		unsigned int len = 1 + (i * 7) % 5, k;
		int ret;

		if (first + len > n)
			len = n - first;
		ret = dma_unlink_range(&map, first * G, len * G);
		for (k = first; k < first + len && !linked[k]; k++)
			;
		if (k == first + len) {
			ASSERT_EQ(ret, -ENOENT);
			continue;
		}
		ASSERT_EQ(ret, 0);
		for (k = first; k < first + len; k++) {
			left -= linked[k];
			linked[k] = false;
		}
		ASSERT_EQ(dma_iova_nr_chunks(&map), left);
		ASSERT_EQ(mock.nr_stale, 0);
	}
	ASSERT_EQ(mock.calls[FAIL_KMALLOC] + mock.calls[FAIL_HOOK], calls);
	mock.fail_at[FAIL_KMALLOC] = 0;
	for (i = 0; i < n; i++) {
		if (linked[i])
			ASSERT_TRUE(resolves(&map, i * G, gphys(2 * i),
					     G));
		else
			ASSERT_TRUE(unmapped(map.addr + i * G, G));
	}
	ASSERT_TRUE(left < n && left > 0);
	/* Pages linked into the holes join the run again. */
	for (i = 0; i < n; i++)
		if (!linked[i])
			ASSERT_EQ(dma_link_range(&map, i * G,
						 gphys(2 * i), G,
						 DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(nr_runs(&map), 1);
	ASSERT_EQ(dma_iova_nr_chunks(&map), n);
	dma_destroy_iova(&map);
	return true;
}

/*
 * Issue 27, defect 2: the offset one call hands back is always valid input
 * to the next, even after a chunk that ended mid-granule. The next call's
 * first chunk then starts a new granule, as it would within one call
 * (blk-dma chains calls every BLK_DMA_BATCH runs and sizes its IOVA so);
 * a caller's mid-granule start in an empty granule is still kept.
 */
static bool test_link_bvecs_chained_calls(void)
{
	struct dma_iova_mapping map;
	struct dma_iova_seg seg[4];
	struct bio_vec bv[2];
	size_t off = 0x100;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 8 * G, 0, 0), 0);
	bvec_at(&bv[0], gphys(1) + 0x100, 0x100);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 1, DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(off, 0x200);
	/* same in-granule offset as the offset handed back */
	bvec_at(&bv[0], gphys(3) + 0x200, 0x100);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 1, DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(off, G + 0x300);
	/* another in-granule offset, then a whole granule */
	bvec_at(&bv[0], gphys(5) + 0x80, 0x80);
	bvec_at(&bv[1], gphys(7), G);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 2, DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(off, 4 * G);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_TRUE(resolves(&map, 0x100, gphys(1) + 0x100, 0x100));
	ASSERT_TRUE(resolves(&map, G + 0x200, gphys(3) + 0x200, 0x100));
	ASSERT_TRUE(resolves(&map, 2 * G + 0x80, gphys(5) + 0x80, 0x80));
	ASSERT_TRUE(resolves(&map, 3 * G, gphys(7), G));
	ASSERT_EQ(dma_iova_nr_chunks(&map), 4);
	ASSERT_EQ(count_segs(&map, seg, 4), 4);
	/* a mid-granule start in an empty granule stays where it was asked */
	off = 5 * G + 0x40;
	bvec_at(&bv[0], gphys(9) + 0x40, 0x40);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 1, DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(off, 5 * G + 0x80);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_TRUE(resolves(&map, 5 * G + 0x40, gphys(9) + 0x40, 0x40));
	dma_destroy_iova(&map);

	/* beyond the mapping but inside its aligned reservation: -EINVAL */
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, G, SZ_1M, 0), 0);
	off = SZ_1M - G + 1;
	bvec_at(&bv[0], gphys(9) + 1, 0x40);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 1, DMA_FROM_DEVICE, 0),
		  -EINVAL);
	ASSERT_EQ(off, SZ_1M - G + 1);
	mock.dma_debug_errors = 0;
	dma_destroy_iova(&map);
	return true;
}

/*
 * The common mapping allocates nothing: a request of scattered pages (up to
 * BITS_PER_LONG granules, one run of host memory) is reserved, linked in
 * two calls, committed, partly unlinked and destroyed with the record in
 * the mapping itself. A second run, a bounced chunk or a larger mapping
 * allocate, each once.
 */
static bool test_common_mapping_allocates_nothing(void)
{
	struct dma_iova_mapping map;
	struct bio_vec bv[8];
	unsigned int i, calls = mock.calls[FAIL_KMALLOC];
	size_t off = 0;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, BITS_PER_LONG * G, 0,
				 GFP_ATOMIC), 0);
	for (i = 0; i < 8; i++)
		bvec_at(&bv[i], gphys(40 - 3 * i), G);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 4, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv + 4, 4, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(nr_runs(&map), 1);
	ASSERT_EQ(dma_unlink_range(&map, 2 * G, 3 * G), 0);
	ASSERT_TRUE(resolves(&map, 7 * G, gphys(40 - 21), G));
	ASSERT_EQ(dma_iova_record_bytes(&map), sizeof(map));
	dma_destroy_iova(&map);
	ASSERT_EQ(mock.calls[FAIL_KMALLOC], calls);

	/* a second run (another direction) grows the run array: once */
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 8 * G, 0, GFP_ATOMIC), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(3), G, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, G, gphys(4), G, DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(nr_runs(&map), 2);
	ASSERT_EQ(mock.calls[FAIL_KMALLOC], calls + 1);
	dma_destroy_iova(&map);

	/* bitmaps beyond the record's words come with the reservation */
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, (BITS_PER_LONG + 1) * G, 0,
				 GFP_ATOMIC), 0);
	ASSERT_EQ(mock.calls[FAIL_KMALLOC], calls + 2);
	ASSERT_TRUE(dma_iova_record_bytes(&map) > sizeof(map));
	dma_destroy_iova(&map);
	return true;
}

/*
 * The debug layer's shadow places the chunks of a call as the core does,
 * also when the call's first granule is taken: syncs of the chunks stay
 * silent, a sync where the chunk would have gone otherwise is I8.
 */
static bool test_link_bvecs_debug_shadow_places_chunks(void)
{
	unsigned int i8 = dma_iova_debug_errors(DMA_IOVA_DBG_SYNC_RANGE);
	unsigned int all = dma_iova_debug_errors(DMA_IOVA_DBG_NONE);
	struct dma_iova_mapping map;
	struct bio_vec bv[2];
	size_t off = 0x100;

	bvec_at(&bv[0], gphys(10) + 0x100, 0x100);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 8 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 1, DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(off, 0x200);
	/* granule 0 is taken: this call's first chunk goes to granule 1 */
	bvec_at(&bv[0], gphys(20) + 0x200, 0x100);
	bvec_at(&bv[1], gphys(30), G);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 2, DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(off, 3 * G);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	dma_iova_sync_for_cpu(&map, 0x100, 0x100);
	dma_iova_sync_for_cpu(&map, G + 0x200, 0x100);
	dma_iova_sync_for_cpu(&map, 2 * G, G);
	ASSERT_EQ(dma_iova_debug_errors(DMA_IOVA_DBG_NONE), all);
	dma_iova_sync_for_cpu(&map, 0x200, 0x100);
	ASSERT_EQ(dma_iova_debug_errors(DMA_IOVA_DBG_SYNC_RANGE), i8 + 1);
	ASSERT_EQ(dma_unlink_range(&map, G + 0x200, 0x100), 0);
	dma_destroy_iova(&map);
	ASSERT_EQ(dma_iova_debug_errors(DMA_IOVA_DBG_NONE), all + 1);
	return true;
}

/* An empty bio_vec among others is I3, as an empty dma_link_range(). */
static bool test_link_bvecs_empty_bvec_is_range_misuse(void)
{
	unsigned int i3 = dma_iova_debug_errors(DMA_IOVA_DBG_RANGE);
	unsigned int all = dma_iova_debug_errors(DMA_IOVA_DBG_NONE);
	struct dma_iova_mapping map;
	struct bio_vec bv[2];
	size_t off = 0;

	bvec_at(&bv[0], gphys(303), G);
	bvec_at(&bv[1], gphys(305), 0);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_bvecs(&map, &off, bv, 2, DMA_TO_DEVICE, 0),
		  -EINVAL);
	ASSERT_EQ(off, 0);
	dma_destroy_iova(&map);
	ASSERT_EQ(dma_iova_debug_errors(DMA_IOVA_DBG_RANGE), i3 + 1);
	ASSERT_EQ(dma_iova_debug_errors(DMA_IOVA_DBG_NONE), all + 1);
	return true;
}

/*
 * An offset past the mapping is misuse, also one within a granule of
 * SIZE_MAX, which rounds up to 0: nothing is linked, *offset stays.
 */
static bool test_link_bvecs_offset_past_end_is_refused(void)
{
	const size_t offs[] = { 4 * G + 1, SIZE_MAX - G / 2, SIZE_MAX };
	struct dma_iova_mapping map;
	struct bio_vec bv;
	unsigned int i;

	bvec_at(&bv, gphys(307), G);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 4 * G, 0, 0), 0);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		size_t off = offs[i];

		ASSERT_EQ(dma_link_bvecs(&map, &off, &bv, 1, DMA_TO_DEVICE, 0),
			  -EINVAL);
		ASSERT_EQ(off, offs[i]);
		ASSERT_EQ(mock.nr_ext, 0);
	}
	dma_destroy_iova(&map);
	return true;
}

static void run_batch_tests(void)
{
	TEST(link_bvecs_places_and_merges);
	TEST(link_bvecs_failure_unwinds_batch);
	TEST(link_bvecs_maps_ranges_per_call);
	TEST(link_bvecs_chained_calls);
	TEST(link_bvecs_debug_shadow_places_chunks);
	TEST(link_bvecs_empty_bvec_is_range_misuse);
	TEST(link_bvecs_offset_past_end_is_refused);
	TEST(record_is_one_run_for_scattered_pages);
	TEST(common_mapping_allocates_nothing);
	TEST(unlink_never_allocates);
}
