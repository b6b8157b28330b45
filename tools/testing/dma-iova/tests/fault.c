// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every lower-layer call of the core fails in turn through its
 * fail_dma_iova hook (the same sweep the KUnit suite runs on intel-iommu).
 */

static int fault_scenario(struct device *dev, struct dma_iova_mapping *map,
			  int *stage)
{
	int ret;

	*stage = 0;
	ret = dma_alloc_iova(dev, map, 16 * G, 0, 0);
	if (ret)
		return ret;
	*stage = 1;
	ret = dma_link_range(map, 0, gphys(1), G, DMA_TO_DEVICE, 0) ?:
	      dma_iova_commit(map);
	if (ret)
		return ret;
	*stage = 2;
	return dma_link_range(map, 2 * G + 0x800, gphys(4) + 0x800, 2 * G,
			      DMA_FROM_DEVICE, 0) ?:
	       dma_link_range(map, 8 * G, p2p_phys(0, 2), G,
			      DMA_BIDIRECTIONAL, 0) ?:
	       dma_link_range(map, 10 * G, gphys(9), G,
			      DMA_TO_DEVICE, 0) ?:
	       dma_iova_commit(map);
}

static bool test_fault_every_hook_call_unwinds(void)
{
	unsigned int k, hits[3] = { 0 };
	struct dma_iova_mapping map;

	for (k = 1; k <= 64; k++) {
		unsigned int calls = mock.calls[FAIL_HOOK];
		int stage, ret;

		mock.fail_at[FAIL_HOOK] = calls + k;
		ret = fault_scenario(&bounce_dev, &map, &stage);
		mock.fail_at[FAIL_HOOK] = 0;
		if (mock.calls[FAIL_HOOK] < calls + k) {
			ASSERT_EQ(ret, 0);
			ASSERT_EQ(dma_iova_nr_chunks(&map), 4);
			dma_destroy_iova(&map);
			break;
		}
		hits[stage]++;
		ASSERT_NE(ret, 0);
		if (stage == 0) {
			ASSERT_FALSE(map.live);
			continue;
		}
		ASSERT_EQ(dma_iova_nr_chunks(&map), (unsigned int)stage - 1);
		ASSERT_TRUE(unmapped(map.addr + G, 16 * G - G));
		ASSERT_EQ(mock.nr_tlb, 0);
		if (stage == 2)
			ASSERT_TRUE(resolves(&map, 0, gphys(1), G));
		dma_destroy_iova(&map);
		ASSERT_EQ(mock.nr_iova, 0);
		ASSERT_EQ(mock.kmalloc_live, 0);
	}
	ASSERT_EQ(hits[0], 1);	/* IOVA: the record sits in the mapping */
	ASSERT_EQ(hits[1], 2);
	/*
	 * 8 for the bounced chunk (a second run grows the record past its
	 * one inline run; the bounce slots come with the extension), 3 for
	 * P2P (a third run grows it again)
	 */
	ASSERT_EQ(hits[2], 13);
	ASSERT_EQ(k, 17);
	return true;
}

static void run_fault_tests(void)
{
	TEST(fault_every_hook_call_unwinds);
}
