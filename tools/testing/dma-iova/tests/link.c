// SPDX-License-Identifier: GPL-2.0-only
/* dma_link_range() and dma_iova_commit() for host memory. */

static bool test_link_resolves_after_one_commit(void)
{
	struct dma_iova_mapping map;
	struct dma_iova_seg seg[2];

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0x800, gphys(10) + 0x800, G - 0x800,
				 DMA_BIDIRECTIONAL, 0), 0);
	ASSERT_EQ(dma_link_range(&map, G, gphys(20), 2 * G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 3 * G, gphys(30), 0x234,
				 DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(nr_pending(&map), 3);
	ASSERT_FALSE(mock_iova_synced(map.addr + G));
	ASSERT_EQ(mock.sync_calls, 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(mock.sync_calls, 1);
	ASSERT_EQ(nr_pending(&map), 0);
	ASSERT_TRUE(mock_iova_synced(map.addr));
	ASSERT_TRUE(mock_iova_synced(map.addr + 3 * G));
	ASSERT_TRUE(resolves(&map, 0x800, gphys(10) + 0x800, G - 0x800));
	ASSERT_TRUE(resolves(&map, G, gphys(20), 2 * G));
	ASSERT_TRUE(resolves(&map, 3 * G, gphys(30), 0x234));
	ASSERT_TRUE(unmapped(map.addr + 4 * G, 16 * G - 4 * G));
	/* Three runs: directions differ. */
	ASSERT_EQ(nr_runs(&map), 3);
	ASSERT_EQ(chunk_at(&map, G)->type, DMA_CHUNK_HOST);
	ASSERT_EQ(chunk_at(&map, G)->dir, DMA_TO_DEVICE);
	ASSERT_EQ(chunk_at(&map, 3 * G)->dir, DMA_FROM_DEVICE);

	/* One contiguous DMA segment covers all three chunks. */
	ASSERT_EQ(count_segs(&map, seg, 2), 1);
	ASSERT_EQ(seg[0].addr, map.addr + 0x800);
	ASSERT_EQ(seg[0].len, 3 * G + 0x234 - 0x800);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(mock.sync_calls, 1);	/* nothing pending: no sync */
	dma_destroy_iova(&map);
	return true;
}

/* Unaligned chunks may go anywhere their granule offset matches. */
static bool test_link_unaligned_anywhere(void)
{
	struct dma_iova_mapping map;
	struct dma_iova_seg seg[3];

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 2 * G + 0x123, gphys(5) + 0x123,
				 0x100, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0x800, gphys(6) + 0x800, G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_TRUE(resolves(&map, 2 * G + 0x123, gphys(5) + 0x123, 0x100));
	ASSERT_TRUE(resolves(&map, 0x800, gphys(6) + 0x800, G));
	ASSERT_EQ(map.rec.runs[0].offset, 0x800);	/* kept sorted */
	ASSERT_EQ(nr_runs(&map), 2);
	ASSERT_EQ(count_segs(&map, seg, 3), 2);
	dma_destroy_iova(&map);
	return true;
}

static bool test_link_rejects_misuse(void)
{
	struct dma_iova_mapping map, dead = { 0 };

	ASSERT_EQ(dma_link_range(&dead, 0, gphys(1), G,
				 DMA_TO_DEVICE, 0), -EINVAL);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(1), SZ_2K, DMA_TO_DEVICE,
				 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);

	/* double link, and a chunk sharing the committed chunk's granule */
	ASSERT_EQ(dma_link_range(&map, 0, gphys(1), SZ_2K, DMA_TO_DEVICE,
				 0), -EEXIST);
	ASSERT_EQ(dma_link_range(&map, SZ_2K, gphys(2) + SZ_2K, SZ_2K,
				 DMA_TO_DEVICE, 0), -EEXIST);
	/* granule offset of phys differs from the offset's */
	ASSERT_EQ(dma_link_range(&map, G, gphys(2) + 8, SZ_2K,
				 DMA_TO_DEVICE, 0), -EINVAL);
	ASSERT_EQ(dma_link_range(&map, 4 * G - SZ_2K, gphys(2), G,
				 DMA_TO_DEVICE, 0), -EINVAL);
	ASSERT_EQ(dma_link_range(&map, G, gphys(2), 0, DMA_TO_DEVICE,
				 0), -EINVAL);
	ASSERT_EQ(dma_link_range(&map, SIZE_MAX - G + 1, gphys(2),
				 2 * G, DMA_TO_DEVICE, 0), -EINVAL);
	ASSERT_EQ(dma_link_range(&map, G, gphys(2), G, DMA_NONE,
				 0), -EINVAL);
	ASSERT_EQ(dma_link_range(&map, G, gphys(2), G,
				 (enum dma_data_direction)7, 0), -EINVAL);
	/* memory without struct pages, and a phys range that wraps */
	ASSERT_EQ(dma_link_range(&map, G, 0x1000, G, DMA_TO_DEVICE,
				 0), -EINVAL);
	ASSERT_EQ(dma_link_range(&map, G, ~(phys_addr_t)0xfff, 2 * G,
				 DMA_TO_DEVICE, 0), -EINVAL);
	/* one chunk may not span RAM and P2P memory, or two providers */
	ASSERT_EQ(dma_link_range(&map, G, p2p_phys(0, 0) - G,
				 2 * G, DMA_TO_DEVICE, 0), -EINVAL);
	ASSERT_EQ(dma_link_range(&map, G, p2p_phys(0, P2P_GRANULES - 1),
				 2 * G, DMA_TO_DEVICE, 0), -EINVAL);

	ASSERT_EQ(dma_iova_nr_chunks(&map), 1);
	ASSERT_EQ(mock.nr_ext, 1);
	ASSERT_TRUE(resolves(&map, 0, gphys(1), SZ_2K));
	dma_destroy_iova(&map);
	return true;
}

/*
 * Upstream bug B2: a failure at link k of a batch (first, middle, last)
 * leaves nothing of that batch mapped, keeps the committed batch, and the
 * mapping is still destroyable with nothing re-supplied.
 */
static bool link_fails_at(unsigned int k, unsigned int n)
{
	struct dma_iova_mapping map;
	unsigned int i, flushes;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(40), G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	flushes = mock.flushes;

	mock.fail_at[FAIL_MAP] = mock.calls[FAIL_MAP] + k + 1;
	for (i = 0; i < n; i++) {
		int ret = dma_link_range(&map, (i + 1) * G,
					 gphys(50 + 2 * i), G,
					 DMA_TO_DEVICE, 0);

		if (i == k) {
			ASSERT_EQ(ret, -ENOMEM);
			break;
		}
		ASSERT_EQ(ret, 0);
	}
	ASSERT_EQ(dma_iova_nr_chunks(&map), 1);
	ASSERT_EQ(nr_pending(&map), 0);
	ASSERT_EQ(mock.nr_ext, 1);
	ASSERT_EQ(mock.flushes, flushes + (k > 0));
	ASSERT_TRUE(resolves(&map, 0, gphys(40), G));
	ASSERT_TRUE(unmapped(map.addr + G, 16 * G - G));
	ASSERT_EQ(mock.nr_iova, 1);	/* still the caller's to destroy */
	dma_destroy_iova(&map);
	return true;
}

static bool test_b2_link_failure_first_unwinds_batch(void)
{
	return link_fails_at(0, 5);
}

static bool test_b2_link_failure_middle_unwinds_batch(void)
{
	return link_fails_at(2, 5);
}

static bool test_b2_link_failure_last_unwinds_batch(void)
{
	return link_fails_at(4, 5);
}

/*
 * Host chunks linked in any order into one IOVA make one run; chunks that
 * cannot join (other directions) grow the record, or unwind.
 */
static bool test_link_grows_record(void)
{
	struct dma_iova_mapping map;
	unsigned int i;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 200 * G, 0, 0), 0);
	for (i = 0; i < 100; i++)
		ASSERT_EQ(dma_link_range(&map, (99 - i) * 2 * G,
					 gphys(100 + i), G,
					 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 100);
	ASSERT_EQ(nr_runs(&map), 1);
	for (i = 0; i < 100; i++) {
		ASSERT_TRUE(resolves(&map, i * 2 * G, gphys(199 - i),
				     G));
		ASSERT_TRUE(chunk_at(&map, (2 * i + 1) * G) == NULL);
	}
	dma_destroy_iova(&map);

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 200 * G, 0, 0), 0);
	for (i = 0; i < 100; i++)
		ASSERT_EQ(dma_link_range(&map, i * G, gphys(100 + i),
					 G, i & 1 ? DMA_TO_DEVICE :
					 DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(nr_runs(&map), 100);
	for (i = 0; i < 100; i++)
		ASSERT_EQ(map.rec.runs[i].offset, i * G);
	dma_destroy_iova(&map);

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	mock.fail_at[FAIL_KMALLOC] = mock.calls[FAIL_KMALLOC] + 1;
	/* the record's own room: one run */
	ASSERT_EQ(map.rec.max_runs, 1);
	for (i = 0; i < 1; i++)
		ASSERT_EQ(dma_link_range(&map, i * G, gphys(5 + i),
					 G, i & 1 ? DMA_TO_DEVICE :
					 DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, i * G, gphys(5 + i), G,
				 i & 1 ? DMA_TO_DEVICE : DMA_FROM_DEVICE, 0),
		  -ENOMEM);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 0);
	ASSERT_EQ(mock.nr_ext, 0);
	dma_destroy_iova(&map);
	return true;
}

static bool test_commit_failure_unwinds_batch(void)
{
	struct dma_iova_mapping map;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(3), G, DMA_TO_DEVICE,
				 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(dma_link_range(&map, G, gphys(4), G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 2 * G, gphys(5), G,
				 DMA_TO_DEVICE, 0), 0);
	mock.fail_at[FAIL_SYNC] = mock.calls[FAIL_SYNC] + 1;
	ASSERT_EQ(dma_iova_commit(&map), -ENOMEM);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 1);
	ASSERT_EQ(nr_pending(&map), 0);
	ASSERT_TRUE(resolves(&map, 0, gphys(3), G));
	ASSERT_TRUE(unmapped(map.addr + G, 2 * G));
	dma_destroy_iova(&map);
	ASSERT_EQ(dma_iova_commit(&map), -EINVAL);
	return true;
}

/*
 * A chunk linked into a hole of a run joins the run's part on each side
 * of it where both are granule-aligned, so runs stay maximal (found by
 * the fuzzer: fuzz/corpus/regress-hole-split-joins).
 */
static bool test_link_into_hole_joins_its_edges(void)
{
	struct dma_iova_mapping map;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		/* i = 0: aligned start, 1: aligned end, 2: both (a fill) */
		size_t off = i == 1 ? 2 * G + 0x800 : G;
		size_t size = i == 0 ? G + 0x100 : i == 1 ? G - 0x800 : 3 * G;

		ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 8 * G, 0, 0), 0);
		ASSERT_EQ(dma_link_range(&map, 0, gphys(10), G,
					 DMA_TO_DEVICE, 0), 0);
		ASSERT_EQ(dma_link_range(&map, 4 * G, gphys(20), G,
					 DMA_TO_DEVICE, 0), 0);
		ASSERT_EQ(nr_runs(&map), 1);
		ASSERT_EQ(dma_link_range(&map, off, gphys(30) + (off & (G - 1)),
					 size, DMA_TO_DEVICE, 0), 0);
		ASSERT_EQ(dma_iova_commit(&map), 0);
		ASSERT_EQ(nr_runs(&map), i == 2 ? 1U : 2U);
		ASSERT_EQ(map.rec.runs[0].offset, 0);
		ASSERT_EQ(run_end(&map.rec.runs[0]),
			  i == 0 ? off + size : i == 1 ? G : 5 * G);
		ASSERT_TRUE(resolves(&map, 0, gphys(10), G));
		ASSERT_TRUE(resolves(&map, off, gphys(30) + (off & (G - 1)),
				     size));
		ASSERT_TRUE(resolves(&map, 4 * G, gphys(20), G));
		dma_destroy_iova(&map);
	}
	return true;
}

static void run_link_tests(void)
{
	TEST(link_resolves_after_one_commit);
	TEST(link_unaligned_anywhere);
	TEST(link_rejects_misuse);
	TEST(b2_link_failure_first_unwinds_batch);
	TEST(b2_link_failure_middle_unwinds_batch);
	TEST(b2_link_failure_last_unwinds_batch);
	TEST(link_grows_record);
	TEST(link_into_hole_joins_its_edges);
	TEST(commit_failure_unwinds_batch);
}
