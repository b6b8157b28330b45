// SPDX-License-Identifier: GPL-2.0-only
/* dma_unlink_ranges(), dma_destroy_iova() and IOTLB flushing. */

static bool link_pages(struct dma_iova_mapping *map, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		ASSERT_EQ(dma_link_range(map, i * G, gphys(60 + 3 * i),
					 G, DMA_BIDIRECTIONAL, 0), 0);
	ASSERT_EQ(dma_iova_commit(map), 0);
	return true;
}

static bool test_unlink_ranges_one_flush(void)
{
	struct dma_iova_range two[] = {
		{ .offset = 0, .size = G },
		{ .offset = 2 * G, .size = 2 * G },
	};
	struct dma_iova_mapping map;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_TRUE(link_pages(&map, 5));
	ASSERT_EQ(dma_unlink_ranges(&map, two, 2), 0);
	ASSERT_EQ(mock.flushes, 1);
	ASSERT_EQ(mock.nr_stale, 0);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 2);
	ASSERT_TRUE(unmapped(map.addr, G));
	ASSERT_TRUE(unmapped(map.addr + 2 * G, 2 * G));
	ASSERT_TRUE(resolves(&map, G, gphys(63), G));
	ASSERT_TRUE(resolves(&map, 4 * G, gphys(72), G));

	/* relink into the freed range */
	ASSERT_EQ(dma_link_range(&map, 0, gphys(99), G, DMA_TO_DEVICE,
				 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_TRUE(resolves(&map, 0, gphys(99), G));
	dma_destroy_iova(&map);
	ASSERT_EQ(mock.flushes, 2);
	return true;
}

static bool test_unlink_rejects_bad_ranges(void)
{
	struct dma_iova_range overlap[] = {
		{ .offset = 0, .size = 2 * G },
		{ .offset = G, .size = G },
	};
	struct dma_iova_range ok_then_bad[] = {
		{ .offset = 0, .size = G },
		{ .offset = G + 1, .size = G },
	};
	struct dma_iova_mapping map, dead = { 0 };

	ASSERT_EQ(dma_unlink_range(&dead, 0, G), -EINVAL);
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_TRUE(link_pages(&map, 3));
	ASSERT_EQ(dma_unlink_range(&map, 0, SZ_2K), -EINVAL);	/* splits */
	ASSERT_EQ(dma_unlink_range(&map, SZ_2K, G), -EINVAL);
	ASSERT_EQ(dma_unlink_range(&map, 4 * G, G), -ENOENT);
	ASSERT_EQ(dma_unlink_range(&map, 0, 0), -EINVAL);
	ASSERT_EQ(dma_unlink_range(&map, 16 * G - 1, 2), -EINVAL);
	ASSERT_EQ(dma_unlink_range(&map, SIZE_MAX, 2), -EINVAL);
	ASSERT_EQ(dma_unlink_ranges(&map, overlap, 2), -EINVAL);
	ASSERT_EQ(dma_unlink_ranges(&map, ok_then_bad, 2), -EINVAL);
	ASSERT_EQ(dma_unlink_ranges(&map, overlap, 0), -EINVAL);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 3);
	ASSERT_EQ(mock.flushes, 0);
	ASSERT_TRUE(resolves(&map, 0, gphys(60), G));
	ASSERT_TRUE(resolves(&map, G, gphys(63), G));
	ASSERT_EQ(dma_unlink_range(&map, 0, 16 * G), 0);	/* all */
	ASSERT_EQ(dma_iova_nr_chunks(&map), 0);
	ASSERT_EQ(dma_free_iova(&map), 0);
	return true;
}

/* Lazy domains: destroy defers flush and IOVA reuse; unlink never does. */
static bool test_destroy_lazy_uses_flush_queue(void)
{
	struct device lazy = iommu_dev;
	struct dma_iova_mapping map;

	lazy.lazy = true;
	ASSERT_EQ(dma_alloc_iova(&lazy, &map, 16 * G, 0, 0), 0);
	ASSERT_TRUE(link_pages(&map, 4));
	ASSERT_EQ(dma_unlink_range(&map, 0, G), 0);
	ASSERT_EQ(mock.flushes, 1);
	ASSERT_EQ(mock.nr_stale, 0);
	dma_destroy_iova(&map);
	ASSERT_EQ(mock.flushes, 1);
	ASSERT_EQ(mock.nr_ext, 0);
	ASSERT_EQ(mock.nr_stale, 3);	/* the lazy window */
	ASSERT_EQ(mock.nr_iova, 1);	/* not reusable before the flush */
	mock_fq_drain();
	ASSERT_EQ(mock.nr_iova, 0);
	return true;
}

static bool test_destroy_strict_flushes_once(void)
{
	struct dma_iova_mapping map;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_TRUE(link_pages(&map, 8));
	dma_destroy_iova(&map);
	ASSERT_EQ(mock.flushes, 1);
	ASSERT_EQ(mock.unmap_calls, 1);	/* 8 touching chunks, one range */
	ASSERT_FALSE(map.live);
	return true;
}

/* Chunks go to the IOMMU as one range per run of touching extents. */
static bool test_unlink_unmaps_runs(void)
{
	struct dma_iova_range r = { .offset = 0, .size = 16 * G };
	struct dma_iova_mapping map;
	unsigned int i;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	/* pages 0-2, a hole at 3, a sub-page chunk at 4, 5; pages 6-7 stay */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(dma_link_range(&map, i * G, gphys(60 + 3 * i),
					 G, DMA_BIDIRECTIONAL, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 4 * G + 512, gphys(80) + 512,
				 SZ_2K, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 5 * G, gphys(82), G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 6 * G, gphys(84), 2 * G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);

	r.size = 6 * G;
	ASSERT_EQ(dma_unlink_ranges(&map, &r, 1), 0);
	ASSERT_EQ(mock.unmap_calls, 2);
	ASSERT_EQ(mock.flushes, 1);
	ASSERT_EQ(mock.nr_stale, 0);
	ASSERT_TRUE(unmapped(map.addr, 6 * G));
	ASSERT_TRUE(resolves(&map, 6 * G, gphys(84), 2 * G));
	dma_destroy_iova(&map);
	ASSERT_EQ(mock.unmap_calls, 3);
	ASSERT_TRUE(unmapped(map.addr, 16 * G));
	return true;
}

struct released {
	unsigned int nr;
	size_t offset[4];
	size_t size[4];
	unsigned int flushes_seen;
};

static void note_release(const struct dma_iova_chunk *c, void *arg)
{
	struct released *r = arg;

	if (r->nr < 4) {
		r->offset[r->nr] = c->offset;
		r->size[r->nr] = c->size;
	}
	r->nr++;
	r->flushes_seen = mock.flushes;
}

/*
 * The release callback sees each linked stretch once, in order, after the
 * flush: three pages linked back to back are one run; a hole splits it.
 */
static bool test_destroy_release_after_flush(void)
{
	struct dma_iova_mapping map;
	struct released r = {};

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_TRUE(link_pages(&map, 3));
	dma_destroy_iova_release(&map, note_release, &r);
	ASSERT_EQ(r.nr, 1);
	ASSERT_EQ(r.flushes_seen, 1);
	ASSERT_EQ(r.offset[0], 0);
	ASSERT_EQ(r.size[0], 3 * G);
	ASSERT_FALSE(map.live);
	/* not live: nothing to release */
	dma_destroy_iova_release(&map, note_release, &r);
	ASSERT_EQ(r.nr, 1);

	memset(&r, 0, sizeof(r));
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_TRUE(link_pages(&map, 4));
	ASSERT_EQ(dma_unlink_range(&map, G, G), 0);
	ASSERT_EQ(mock.flushes, 2);
	dma_destroy_iova_release(&map, note_release, &r);
	ASSERT_EQ(r.nr, 2);
	ASSERT_EQ(r.flushes_seen, 3);
	ASSERT_EQ(r.offset[0], 0);
	ASSERT_EQ(r.size[0], G);
	ASSERT_EQ(r.offset[1], 2 * G);
	ASSERT_EQ(r.size[1], 2 * G);
	return true;
}

static bool test_find_chunk(void)
{
	struct dma_iova_mapping map;
	const struct dma_iova_chunk *c;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 2 * G, gphys(7), 2 * G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, (8 * G), gphys(20), G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_TRUE(dma_iova_find_chunk(&map, 0) == NULL);
	ASSERT_TRUE(dma_iova_find_chunk(&map, 2 * G - 1) == NULL);
	c = dma_iova_find_chunk(&map, 2 * G);
	/* One run with a hole: both chunks are host memory, one direction. */
	ASSERT_TRUE(c && c->offset == 2 * G && c->size == 7 * G);
	ASSERT_EQ(c->dma_addr, map.addr + 2 * G);
	ASSERT_TRUE(dma_iova_find_chunk(&map, 4 * G - 1) == c);
	ASSERT_TRUE(dma_iova_find_chunk(&map, 4 * G) == NULL);
	ASSERT_TRUE(dma_iova_find_chunk(&map, 8 * G - 1) == NULL);
	ASSERT_TRUE(dma_iova_find_chunk(&map, (8 * G) + 100) == c);
	ASSERT_EQ(c->type, DMA_CHUNK_HOST);
	ASSERT_TRUE(dma_iova_find_chunk(&map, 16 * G - 1) == NULL);
	dma_destroy_iova(&map);
	return true;
}

/* Trimming a run to an aligned end lets the next run join it (fuzzer). */
static bool test_unlink_trim_rejoins_runs(void)
{
	struct dma_iova_range b = { .offset = 2 * G, .size = 0x100 };
	struct dma_iova_mapping map;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 8 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(10), G, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 2 * G, gphys(20), 0x100,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 4 * G, gphys(30), G, DMA_TO_DEVICE,
				 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(nr_runs(&map), 2);	/* the first run ends unaligned */
	ASSERT_EQ(dma_unlink_ranges(&map, &b, 1), 0);
	ASSERT_EQ(nr_runs(&map), 1);
	ASSERT_EQ(run_end(&map.rec.runs[0]), 5 * G);
	ASSERT_TRUE(resolves(&map, 0, gphys(10), G));
	ASSERT_TRUE(unmapped(map.addr + G, 3 * G));
	ASSERT_TRUE(resolves(&map, 4 * G, gphys(30), G));
	dma_destroy_iova(&map);
	return true;
}

/*
 * An unlink range that shares a granule with an uncommitted chunk it does
 * not cover is no misuse (I9 looked at the granule only; fuzzer).
 */
static bool test_unlink_beside_pending_chunk(void)
{
	struct dma_iova_range r = { .offset = 0x800, .size = 2 * G - 0x800 };
	unsigned int before = dma_iova_debug_errors(DMA_IOVA_DBG_NONE);
	struct dma_iova_mapping map;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 8 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, G, gphys(10), G, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(dma_link_range(&map, 0x100, gphys(20) + 0x100, 0x100,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_unlink_ranges(&map, &r, 1), 0);
	ASSERT_EQ(dma_iova_debug_errors(DMA_IOVA_DBG_NONE), before);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 1);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_TRUE(resolves(&map, 0x100, gphys(20) + 0x100, 0x100));
	ASSERT_TRUE(unmapped(map.addr + G, G));
	/* covering it is misuse */
	r.offset = 0;
	r.size = 2 * G;
	ASSERT_EQ(dma_link_range(&map, G, gphys(10), G, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_unlink_ranges(&map, &r, 1), 0);
	ASSERT_EQ(dma_iova_debug_errors(DMA_IOVA_DBG_NONE), before + 1);
	dma_destroy_iova(&map);
	return true;
}

static void run_unlink_tests(void)
{
	TEST(destroy_release_after_flush);
	TEST(find_chunk);
	TEST(unlink_ranges_one_flush);
	TEST(unlink_rejects_bad_ranges);
	TEST(destroy_lazy_uses_flush_queue);
	TEST(destroy_strict_flushes_once);
	TEST(unlink_unmaps_runs);
	TEST(unlink_trim_rejoins_runs);
	TEST(unlink_beside_pending_chunk);
}
