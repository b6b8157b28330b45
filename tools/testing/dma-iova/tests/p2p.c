// SPDX-License-Identifier: GPL-2.0-only
/* PCI P2P chunks: classified per chunk, recorded, torn down by type. */

/*
 * One mapping mixes every kind: host, host-bridge P2P (MMIO in the IOVA,
 * never cache-maintained), bus-address P2P (no IOVA) and a bounced chunk.
 * Unmap needs nothing but the mapping.
 */
static bool test_p2p_mixed_mapping(void)
{
	struct device dev = bounce_dev;
	struct dma_iova_mapping map;
	struct dma_iova_seg seg[4];
	const struct dma_iova_chunk *bus;

	dev.coherent = false;	/* host chunks get cache maintenance */
	ASSERT_EQ(dma_alloc_iova(&dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(1), G, DMA_TO_DEVICE,
				 0), 0);
	ASSERT_EQ(mock.cpu_syncs, 1);
	ASSERT_EQ(dma_link_range(&map, G, p2p_phys(0, 3), 2 * G,
				 DMA_BIDIRECTIONAL, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 3 * G, p2p_phys(1, 5), G,
				 DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 4 * G + 0x10, gphys(2) + 0x10,
				 0x20, DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(mock.cpu_syncs, 2);

	ASSERT_EQ(chunk_at(&map, 0)->type, DMA_CHUNK_HOST);
	ASSERT_EQ(chunk_at(&map, G)->type, DMA_CHUNK_P2P_HOST_BRIDGE);
	bus = chunk_at(&map, 3 * G);
	ASSERT_EQ(bus->type, DMA_CHUNK_P2P_BUS);
	ASSERT_EQ(bus->dma_addr, p2p_phys(1, 5) + MOCK_BUS_OFFSET);
	ASSERT_EQ(chunk_at(&map, 4 * G + 0x10)->type, DMA_CHUNK_BOUNCE);
	ASSERT_TRUE(resolves(&map, G, p2p_phys(0, 3), 2 * G));
	ASSERT_TRUE(unmapped(map.addr + 3 * G, G));

	ASSERT_EQ(count_segs(&map, seg, 4), 3);
	ASSERT_EQ(seg[0].addr, map.addr);
	ASSERT_EQ(seg[0].len, 3 * G);
	ASSERT_EQ(seg[1].addr, bus->dma_addr);
	ASSERT_EQ(seg[1].len, G);
	ASSERT_EQ(seg[2].addr, map.addr + 4 * G + 0x10);
	ASSERT_EQ(seg[2].len, 0x20);

	dma_destroy_iova(&map);
	ASSERT_EQ(mock.cpu_syncs, 4);	/* host and bounce chunk, for cpu */
	return true;
}

/*
 * Upstream bug B4: P2P through the host bridge must be mapped as MMIO, get
 * no CPU cache maintenance on map, sync or unmap, and never be bounced. The
 * mock IOMMU flags RAM/MMIO mix-ups and cache maintenance of P2P memory.
 */
static bool test_b4_host_bridge_p2p_is_mmio_and_never_synced(void)
{
	struct device dev = iommu_dev;
	struct dma_iova_mapping map;
	unsigned int i;

	dev.coherent = false;
	ASSERT_EQ(dma_alloc_iova(&dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, p2p_phys(0, 9), 2 * G,
				 DMA_BIDIRECTIONAL, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(chunk_at(&map, 0)->type, DMA_CHUNK_P2P_HOST_BRIDGE);
	for (i = 0; i < mock.nr_ext; i++)
		ASSERT_TRUE(mock.ext[i].mmio);
	dma_iova_sync_for_cpu(&map, 0, 2 * G);
	dma_iova_sync_for_device(&map, 0, 2 * G);
	dma_destroy_iova(&map);
	ASSERT_EQ(mock.cpu_syncs, 0);
	ASSERT_EQ(mock.nr_tlb, 0);
	ASSERT_EQ(mock.calls[FAIL_SWIOTLB], 0);
	return true;
}

static bool test_p2p_unreachable_maps_nothing(void)
{
	struct device nonpci = iommu_dev;
	struct dma_iova_mapping map;

	nonpci.is_pci = false;
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(1), G, DMA_TO_DEVICE,
				 0), 0);
	ASSERT_EQ(dma_link_range(&map, G, p2p_phys(2, 0), G,
				 DMA_TO_DEVICE, 0), -EREMOTEIO);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 0);	/* the whole batch is gone */
	ASSERT_EQ(mock.nr_ext, 0);
	dma_destroy_iova(&map);

	ASSERT_EQ(dma_alloc_iova(&nonpci, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, p2p_phys(0, 0), G,
				 DMA_TO_DEVICE, 0), -EREMOTEIO);
	dma_destroy_iova(&map);
	return true;
}

/* The provider of consecutive chunks is looked up once. */
static bool test_p2p_provider_cache(void)
{
	struct dma_iova_mapping map;
	unsigned int i;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 32 * G, 0, 0), 0);
	for (i = 0; i < 16; i++)
		ASSERT_EQ(dma_link_range(&map, i * G, p2p_phys(0, i), G,
					 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(mock.p2p_lookups, 1);
	for (i = 16; i < 20; i++)
		ASSERT_EQ(dma_link_range(&map, i * G, p2p_phys(i & 1, i),
					 G, DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(mock.p2p_lookups, 4);	/* 0 is cached */
	ASSERT_EQ(dma_iova_commit(&map), 0);
	dma_destroy_iova(&map);

	/*
	 * Once a mapping holds nothing the provider is looked up afresh
	 * (its pgmap may be gone and its address reused), also when what
	 * emptied it was a failed batch rather than an unlink.
	 */
	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 32 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, p2p_phys(0, 0), G, DMA_TO_DEVICE,
				 0), 0);
	mock.fail_at[FAIL_MAP] = mock.calls[FAIL_MAP] + 1;
	ASSERT_EQ(dma_link_range(&map, 2 * G, gphys(5), G, DMA_TO_DEVICE, 0),
		  -ENOMEM);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 0);
	ASSERT_EQ(dma_link_range(&map, 0, p2p_phys(0, 0), G, DMA_TO_DEVICE,
				 0), 0);
	ASSERT_EQ(mock.p2p_lookups, 6);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	dma_destroy_iova(&map);
	return true;
}

/*
 * A BAR without struct pages (a dma-buf exporter's MMIO): classified by its
 * provider, linked through the host bridge as MMIO between host chunks,
 * the provider looked up once and its reference dropped with the record.
 * Ranges no BAR holds, or half RAM and half BAR, are refused; a device
 * that cannot reach the BAR gets -EREMOTEIO.
 */
static bool test_p2p_bar_without_pages(void)
{
	struct device nopci = iommu_dev;
	struct dma_iova_mapping map;

	ASSERT_EQ(dma_alloc_iova(&iommu_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(1), G, DMA_TO_DEVICE,
				 0), 0);
	ASSERT_EQ(dma_link_range(&map, G, MOCK_BAR_BASE + 2 * G, 2 * G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 3 * G, MOCK_BAR_BASE, G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(chunk_at(&map, G)->type, DMA_CHUNK_P2P_HOST_BRIDGE);
	ASSERT_EQ(chunk_at(&map, 3 * G)->type, DMA_CHUNK_P2P_HOST_BRIDGE);
	ASSERT_TRUE(resolves(&map, G, MOCK_BAR_BASE + 2 * G, 2 * G));
	ASSERT_EQ(mock.p2p_lookups, 1);
	ASSERT_EQ(mock_bar_dev.refs, 1);

	/* nobody's memory; RAM and BAR in one chunk */
	ASSERT_EQ(dma_link_range(&map, 4 * G, MOCK_BAR_BASE + MOCK_BAR_SIZE,
				 G, DMA_TO_DEVICE, 0), -EINVAL);
	ASSERT_EQ(dma_link_range(&map, 4 * G, mock_phys(MOCK_NR_PAGES - 1),
				 MOCK_BAR_BASE - mock_phys(MOCK_NR_PAGES - 1) +
				 G, DMA_TO_DEVICE, 0), -EINVAL);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 3);
	dma_destroy_iova(&map);
	ASSERT_EQ(mock_bar_dev.refs, 0);

	nopci.is_pci = false;
	ASSERT_EQ(dma_alloc_iova(&nopci, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, MOCK_BAR_BASE, G, DMA_TO_DEVICE,
				 0), -EREMOTEIO);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 0);
	dma_destroy_iova(&map);
	return true;
}

static void run_p2p_tests(void)
{
	TEST(p2p_mixed_mapping);
	TEST(b4_host_bridge_p2p_is_mmio_and_never_synced);
	TEST(p2p_unreachable_maps_nothing);
	TEST(p2p_provider_cache);
	TEST(p2p_bar_without_pages);
}
