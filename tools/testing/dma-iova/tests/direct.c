// SPDX-License-Identifier: GPL-2.0-only
/* Devices without an IOMMU: same calls, per-chunk direct addresses. */

static bool test_direct_maps_per_chunk(void)
{
	struct dma_iova_mapping map;
	struct dma_iova_seg seg[4];

	ASSERT_EQ(dma_alloc_iova(&direct_dev, &map, SZ_64K, 0, 0), 0);
	ASSERT_FALSE(dma_iova_uses_iommu(&map));
	ASSERT_EQ(mock.nr_iova, 0);
	/* two physically adjacent chunks at adjacent offsets, one apart */
	ASSERT_EQ(dma_link_range(&map, 0, mock_phys(10), SZ_4K,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, SZ_4K, mock_phys(10) + SZ_4K, SZ_4K,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, SZ_8K, mock_phys(40) + 0x10, 0x30,
				 DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, SZ_16K, p2p_phys(0, 0), SZ_4K,
				 DMA_BIDIRECTIONAL, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 5 * SZ_4K, p2p_phys(1, 0), SZ_4K,
				 DMA_BIDIRECTIONAL, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 6 * SZ_4K, MOCK_BAR_BASE, SZ_4K,
				 DMA_BIDIRECTIONAL, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(mock.nr_direct, 5);	/* bus-address P2P needs none */
	ASSERT_EQ(chunk_at(&map, SZ_16K)->type, DMA_CHUNK_P2P_HOST_BRIDGE);
	ASSERT_EQ(chunk_at(&map, 5 * SZ_4K)->type, DMA_CHUNK_P2P_BUS);
	/* P2PDMA pages get phys_to_dma() as in 6.12, pageless MMIO does not */
	ASSERT_EQ(chunk_at(&map, 6 * SZ_4K)->dma_addr, MOCK_BAR_BASE);
	ASSERT_EQ(dma_unlink_range(&map, 6 * SZ_4K, SZ_4K), 0);

	ASSERT_EQ(count_segs(&map, seg, 4), 4);
	ASSERT_EQ(seg[0].addr, mock_phys(10) + MOCK_DIRECT_OFFSET);
	ASSERT_EQ(seg[0].len, SZ_8K);
	ASSERT_EQ(seg[1].addr, mock_phys(40) + 0x10 + MOCK_DIRECT_OFFSET);
	ASSERT_EQ(seg[2].addr, p2p_phys(0, 0) + MOCK_DIRECT_OFFSET);
	ASSERT_EQ(seg[3].addr, p2p_phys(1, 0) + MOCK_BUS_OFFSET);

	dma_iova_sync_for_cpu(&map, SZ_8K, 1);
	ASSERT_EQ(mock.cpu_syncs, 1);
	ASSERT_EQ(dma_link_range(&map, SZ_8K, mock_phys(41), SZ_4K,
				 DMA_TO_DEVICE, 0), -EEXIST);
	ASSERT_EQ(dma_unlink_range(&map, SZ_4K, SZ_4K), 0);
	ASSERT_EQ(mock.nr_direct, 3);
	dma_destroy_iova(&map);
	return true;
}

static bool test_direct_failure_unwinds_batch(void)
{
	struct dma_iova_mapping map;

	ASSERT_EQ(dma_alloc_iova(&direct_dev, &map, SZ_64K, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, mock_phys(10), SZ_4K,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(dma_link_range(&map, SZ_4K, mock_phys(20), SZ_4K,
				 DMA_TO_DEVICE, 0), 0);
	mock.fail_at[FAIL_DIRECT_MAP] = mock.calls[FAIL_DIRECT_MAP] + 1;
	ASSERT_EQ(dma_link_range(&map, SZ_8K, mock_phys(30), SZ_4K,
				 DMA_TO_DEVICE, 0), -ENOMEM);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 1);
	ASSERT_EQ(mock.nr_direct, 1);
	dma_destroy_iova(&map);
	return true;
}

static void run_direct_tests(void)
{
	TEST(direct_maps_per_chunk);
	TEST(direct_failure_unwinds_batch);
}
