// SPDX-License-Identifier: GPL-2.0-only
/* dma_alloc_iova(), dma_free_iova() and state hygiene. */

static bool test_alloc_and_free(void)
{
	struct dma_iova_mapping map;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_TRUE(map.live);
	ASSERT_TRUE(dma_iova_uses_iommu(&map));
	ASSERT_NE(map.addr, 0);
	ASSERT_EQ(map.addr & (G - 1), 0);
	ASSERT_EQ(map.rec.iova_len, 16 * G);
	ASSERT_EQ(mock.nr_iova, 1);
	ASSERT_EQ(dma_free_iova(&map), 0);
	ASSERT_FALSE(map.live);
	ASSERT_EQ(dma_free_iova(&map), -EINVAL);
	return true;
}

/* Upstream bug B6: the alignment asked for is the alignment obtained. */
static bool test_b6_requested_alignment_is_obtained(void)
{
	const size_t sizes[] = {
		1, 4095, 4096, 4097, 3 * G, SZ_1M + G, 3 * SZ_1M,
		5 * SZ_1M + 1, SZ_1G + 1,
	};
	const size_t aligns[] = { 0, G, 16 * G, SZ_2M, SZ_1G };
	unsigned int i, j;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (j = 0; j < sizeof(aligns) / sizeof(aligns[0]); j++) {
			size_t want = max(aligns[j], G);
			struct dma_iova_mapping map;

			ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, sizes[i],
						 aligns[j], 0), 0);
			ASSERT_EQ(map.addr & (want - 1), 0);
			ASSERT_TRUE(map.rec.iova_len >= sizes[i]);
			ASSERT_TRUE(map.rec.iova_len >= want);
			ASSERT_EQ(dma_free_iova(&map), 0);
		}
	}
	return true;
}

static bool test_b5_no_or_dma_incapable_device_is_refused(void)
{
	struct device no_mask = iommu_dev;
	struct device dev32 = iommu_dev;
	struct dma_iova_mapping map;

	no_mask.dma_mask = NULL;
	dev32.dma_mask = &mask32;
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 0, 0, 0), -EINVAL);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, G, 3, 0), -EINVAL);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, G, 6 * SZ_1M, 0),
		  -EINVAL);
	/* Upstream bug B5: no device, or one that cannot do DMA. */
	ASSERT_EQ(dma_alloc_iova(NULL, &map, G, 0, 0), -EINVAL);
	ASSERT_EQ(dma_alloc_iova(&no_mask, &map, G, 0, 0), -EINVAL);
	if (sizeof(size_t) > 4) {	/* beyond a 32-bit DMA mask */
		ASSERT_EQ(dma_alloc_iova(&dev32, &map, (size_t)(SZ_4G + 1), 0,
					 0), -EINVAL);
		ASSERT_EQ(dma_alloc_iova(&dev32, &map, G,
					 (size_t)(SZ_4G * 2), 0), -EINVAL);
	}
	ASSERT_FALSE(map.live);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 0);
	dma_destroy_iova(&map);
	return true;
}

/*
 * Upstream bug B7: sizes around 4 GiB and up to 2^63 never wrap. On 32-bit,
 * sizes near SIZE_MAX are the edge instead.
 */
static bool test_b7_sizes_past_4g_never_wrap(void)
{
	const u64 ok_sizes[] = {
		SZ_4G - 1, SZ_4G, SZ_4G + G, 2 * SZ_4G + G,
	};
	const size_t top = (size_t)1 << (sizeof(size_t) * 8 - 1);
	struct dma_iova_mapping map;
	unsigned int i;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, SIZE_MAX, 0, 0), -EINVAL);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, SIZE_MAX - G + 2, 0, 0),
		  -EINVAL);
	ASSERT_FALSE(map.live);
	if (sizeof(size_t) == 4)
		return true;

	/* Representable, but larger than the 48-bit IOVA space. */
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, top, 0, 0), -ENOMEM);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, G, top, 0), -ENOMEM);
	ASSERT_FALSE(map.live);

	for (i = 0; i < sizeof(ok_sizes) / sizeof(ok_sizes[0]); i++) {
		size_t size = (size_t)ok_sizes[i];

		ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, size, 0, 0), 0);
		ASSERT_TRUE(map.rec.iova_len >= size);
		/* A chunk at the very end, beyond 4 GiB of offset. */
		ASSERT_EQ(dma_link_range(&map, (size - 1) & ~(G - 1),
					 gphys(1), ((size - 1) & (G - 1)) + 1,
					 DMA_TO_DEVICE, 0), 0);
		ASSERT_EQ(dma_iova_commit(&map), 0);
		ASSERT_TRUE(resolves(&map, (size - 1) & ~(G - 1),
				     gphys(1),
				     ((size - 1) & (G - 1)) + 1));
		ASSERT_EQ(dma_link_range(&map, size - 1, gphys(2),
					 2, DMA_TO_DEVICE, 0), -EINVAL);
		dma_destroy_iova(&map);
	}
	return true;
}

static bool test_alloc_failure_leaves_nothing(void)
{
	struct dma_iova_mapping map;

	mock.fail_at[FAIL_IOVA_ALLOC] = 1;
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), -ENOMEM);
	ASSERT_FALSE(map.live);
	ASSERT_EQ(map.addr, 0);
	/* initialised, as documented: nothing says IOMMU any more */
	ASSERT_FALSE(dma_iova_uses_iommu(&map));
	ASSERT_EQ(dma_iova_granule(&map), 0);
	dma_destroy_iova(&map);
	return true;
}

/*
 * Upstream bug B1: a reused state is fully reinitialised on every path, so
 * a failed or direct-mode allocation never inherits the previous range.
 */
static bool test_b1_stale_state_is_never_reused(void)
{
	struct dma_iova_mapping map;

	memset(&map, 0xa5, sizeof(map));
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 0, 0, 0), -EINVAL);
	ASSERT_FALSE(map.live);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 0);
	ASSERT_EQ(map.addr, 0);
	ASSERT_TRUE(map.rec.runs == NULL && map.rec.ext == NULL);
	dma_destroy_iova(&map);

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(3), G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	dma_destroy_iova(&map);

	/* Same storage, now a device without an IOMMU. */
	ASSERT_EQ(dma_alloc_iova(&direct_dev, &map, 4 * G, 0, 0), 0);
	ASSERT_FALSE(dma_iova_uses_iommu(&map));
	ASSERT_EQ(map.addr, 0);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 0);
	dma_destroy_iova(&map);
	dma_destroy_iova(&map);
	return true;
}

static bool test_free_refuses_live_links(void)
{
	struct dma_iova_mapping map;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(3), G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(dma_free_iova(&map), -EBUSY);
	ASSERT_TRUE(map.live);
	ASSERT_TRUE(resolves(&map, 0, gphys(3), G));
	dma_destroy_iova(&map);
	return true;
}

/*
 * Caller-provided run storage is used without allocating, never freed by
 * the library, and outgrown into a library allocation when too small.
 * Without an IOMMU every chunk is a run of its own.
 */
static bool test_provided_chunks_are_used_and_kept(void)
{
	struct dma_iova_chunk store[4];
	struct dma_iova_mapping map;
	long before = mock.kmalloc_live, allocs;
	int i;

	ASSERT_EQ(dma_alloc_iova(&direct_dev, &map, 16 * G, 0, 0), 0);
	allocs = mock.kmalloc_live;
	ASSERT_EQ(dma_iova_provide_chunks(&map, NULL, 4), -EINVAL);
	ASSERT_EQ(dma_iova_provide_chunks(&map, store, 0), -EINVAL);
	ASSERT_EQ(dma_iova_provide_chunks(&map, store, 4), 0);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(dma_link_range(&map, i * 2 * G, gphys(10 + 2 * i),
					 G, DMA_TO_DEVICE, 0), 0);
	ASSERT_TRUE(map.rec.runs == store);
	ASSERT_EQ(mock.kmalloc_live, allocs);
	ASSERT_EQ(dma_iova_provide_chunks(&map, store, 4), -EBUSY);

	/* A fifth chunk moves the record into a library allocation. */
	ASSERT_EQ(dma_link_range(&map, 10 * G, gphys(30), G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_FALSE(map.rec.runs == store);
	ASSERT_EQ(mock.kmalloc_live, allocs + 1);
	ASSERT_EQ(dma_iova_find_chunk(&map, 6 * G)->dma_addr,
		  gphys(16) + MOCK_DIRECT_OFFSET);
	dma_destroy_iova(&map);
	ASSERT_EQ(mock.kmalloc_live, before);

	/* Kept storage is not freed by destroy. */
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_iova_provide_chunks(&map, store, 4), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(3), G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	dma_destroy_iova(&map);
	ASSERT_EQ(dma_iova_provide_chunks(&map, store, 4), -EINVAL);
	return true;
}

static void run_alloc_tests(void)
{
	TEST(alloc_and_free);
	TEST(b6_requested_alignment_is_obtained);
	TEST(b5_no_or_dma_incapable_device_is_refused);
	TEST(b7_sizes_past_4g_never_wrap);
	TEST(alloc_failure_leaves_nothing);
	TEST(b1_stale_state_is_never_reused);
	TEST(free_refuses_live_links);
	TEST(provided_chunks_are_used_and_kept);
}
