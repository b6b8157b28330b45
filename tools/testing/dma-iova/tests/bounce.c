// SPDX-License-Identifier: GPL-2.0-only
/* swiotlb: only unaligned heads and tails of chunks are bounced. */

static bool is_tlb(phys_addr_t phys)
{
	return phys >= mock_phys(MOCK_TLB_FIRST) &&
	       phys < mock_phys(MOCK_P2P_FIRST);
}

static bool test_bounce_head_and_tail_only(void)
{
	phys_addr_t buf = gphys(200);
	struct dma_iova_mapping map;
	const struct dma_iova_chunk *c;
	u8 *v = phys_to_virt(buf);

	ASSERT_EQ(dma_alloc_iova(&bounce_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0x800, buf + 0x800, 2 * G,
				 DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	c = chunk_at(&map, 0x800);
	ASSERT_EQ(c->type, DMA_CHUNK_BOUNCE);
	ASSERT_EQ(bounce_at(&map, 0x800)->head_len, G - 0x800);
	ASSERT_EQ(bounce_at(&map, 0x800)->tail_len, 0x800);
	ASSERT_EQ(mock.nr_tlb, 2);
	ASSERT_TRUE(is_tlb(mock_iova_to_phys(map.addr + 0x800)));
	ASSERT_EQ(mock_iova_to_phys(map.addr + G), buf + G);
	ASSERT_TRUE(is_tlb(mock_iova_to_phys(map.addr + 2 * G)));
	/* the rest of a bounced granule is zeroed, not stale slot data */
	ASSERT_EQ(*(u8 *)phys_to_virt(mock_iova_to_phys(map.addr)), 0);

	/* "Device" writes through the IOVA; unlink copies the ends back. */
	memset(phys_to_virt(mock_iova_to_phys(map.addr + 0x800)), 0xee,
	       G - 0x800);
	memset(phys_to_virt(mock_iova_to_phys(map.addr + G)), 0xee, G);
	memset(phys_to_virt(mock_iova_to_phys(map.addr + 2 * G)), 0xee, 0x800);
	ASSERT_EQ(v[0x800], 0);
	ASSERT_EQ(dma_unlink_range(&map, 0x800, 2 * G), 0);
	ASSERT_EQ(v[0x7ff], 0);
	ASSERT_EQ(v[0x800], 0xee);
	ASSERT_EQ(v[2 * G + 0x7ff], 0xee);
	ASSERT_EQ(v[2 * G + 0x800], 0);
	ASSERT_EQ(mock.nr_tlb, 0);
	dma_destroy_iova(&map);
	return true;
}

/*
 * Issue 27, defect 1: on a device that does not snoop the CPU cache, what
 * it wrote reaches the buffer at unlink and at sync for the CPU, head and
 * tail slots included: the slot is invalidated before it is copied back,
 * as 6.12's iommu_dma_unmap_page() does.
 */
static bool test_bounce_noncoherent_copy_back(void)
{
	struct device *dev = &noncoh_bounce_dev;
	phys_addr_t buf = gphys(210);
	struct dma_iova_mapping map;
	u8 *v = phys_to_virt(buf);
	unsigned int pass;

	for (pass = 0; pass < 2; pass++) {
		memset(v, 0x11, 3 * G);
		ASSERT_EQ(dma_alloc_iova(dev, &map, 4 * G, 0, 0), 0);
		ASSERT_EQ(dma_link_range(&map, 0x800, buf + 0x800, 2 * G,
					 DMA_FROM_DEVICE, 0), 0);
		ASSERT_EQ(dma_iova_commit(&map), 0);
		ASSERT_EQ(chunk_at(&map, 0x800)->type, DMA_CHUNK_BOUNCE);
		mock_dev_write(dev, map.addr + 0x800, 0xee, 2 * G);
		/* nothing of it is visible to the CPU before a sync */
		ASSERT_EQ(v[G], 0x11);
		if (pass)
			dma_iova_sync_for_cpu(&map, 0x800, 2 * G);
		else
			ASSERT_EQ(dma_unlink_range(&map, 0x800, 2 * G), 0);
		ASSERT_EQ(v[0x7ff], 0x11);
		ASSERT_EQ(v[0x800], 0xee);		/* head slot */
		ASSERT_EQ(v[G + 0x10], 0xee);		/* middle */
		ASSERT_EQ(v[2 * G + 0x7ff], 0xee);	/* tail slot */
		ASSERT_EQ(v[2 * G + 0x800], 0x11);
		dma_destroy_iova(&map);
		ASSERT_EQ(mock.nr_tlb, 0);
	}
	return true;
}

/*
 * Issue 27: the head bounce reads only the chunk's bytes. Before the chunk
 * in its granule there may be other pages (a granule above PAGE_SIZE) that
 * the linear map no longer holds, or another object (KASAN's redzones):
 * 6.12 never reads outside the buffer. The device still finds the bytes at
 * the chunk's offset in the IOVA, with zeros before them.
 */
static bool test_bounce_reads_only_the_chunk(void)
{
	phys_addr_t buf = gphys(220);
	size_t pad = G - 0x300;
	struct dma_iova_mapping map;
	u8 *v = phys_to_virt(buf);
	size_t i;

	for (i = 0; i < 2 * G; i++)
		v[i] = i * 5 + 1;
	mock.unreadable_start = buf;
	mock.unreadable_end = buf + pad;
	ASSERT_EQ(dma_alloc_iova(&bounce_dev, &map, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, pad, buf + pad, G, DMA_BIDIRECTIONAL,
				 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(chunk_at(&map, pad)->type, DMA_CHUNK_BOUNCE);
	ASSERT_EQ(mock.errors, 0);
	ASSERT_EQ(mock_dev_read(&bounce_dev, map.addr), 0);
	ASSERT_EQ(mock_dev_read(&bounce_dev, map.addr + pad - 1), 0);
	for (i = pad; i < pad + G; i += 0x100)
		ASSERT_EQ(mock_dev_read(&bounce_dev, map.addr + i), v[i]);
	ASSERT_EQ(mock_dev_read(&bounce_dev, map.addr + pad + G - 1),
		  v[pad + G - 1]);
	/* and what the device writes comes back to the chunk only */
	mock_dev_write(&bounce_dev, map.addr, 0xee, 2 * G);
	ASSERT_EQ(dma_unlink_range(&map, pad, G), 0);
	ASSERT_EQ(v[pad - 1], (u8)((pad - 1) * 5 + 1));
	ASSERT_EQ(v[pad], 0xee);
	ASSERT_EQ(v[pad + G - 1], 0xee);
	ASSERT_EQ(v[pad + G], (u8)((pad + G) * 5 + 1));
	mock.unreadable_start = 0;
	mock.unreadable_end = 0;
	dma_destroy_iova(&map);
	ASSERT_EQ(mock.nr_tlb, 0);
	return true;
}

/* Upstream bug B3: no middle at all, at offset 0 and further in. */
static bool test_b3_bounce_with_empty_middle(void)
{
	const size_t offsets[] = { 0x800, 5 * G + 0x800 };
	struct dma_iova_mapping map;
	unsigned int i;

	ASSERT_EQ(dma_alloc_iova(&bounce_dev, &map, 16 * G, 0, 0), 0);
	for (i = 0; i < 2; i++) {
		const struct dma_iova_bounce *b;

		ASSERT_EQ(dma_link_range(&map, offsets[i],
					 gphys(300 + 4 * i) + 0x800, G,
					 DMA_TO_DEVICE, 0), 0);
		b = bounce_at(&map, offsets[i]);
		ASSERT_EQ(b->head_len, G - 0x800);
		ASSERT_EQ(b->tail_len, 0x800);
	}
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(mock.map_calls, 4);	/* no zero-size middle map */
	ASSERT_EQ(mock.nr_tlb, 4);
	dma_destroy_iova(&map);
	return true;
}

static bool test_bounce_within_one_granule(void)
{
	struct dma_iova_mapping map;
	const struct dma_iova_chunk *c;

	ASSERT_EQ(dma_alloc_iova(&bounce_dev, &map, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0x100, gphys(7) + 0x100, 0x200,
				 DMA_BIDIRECTIONAL, 0), 0);
	/* aligned chunks are not bounced even on this device */
	ASSERT_EQ(dma_link_range(&map, G, gphys(8), G,
				 DMA_BIDIRECTIONAL, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	c = chunk_at(&map, 0x100);
	ASSERT_EQ(c->type, DMA_CHUNK_BOUNCE);
	ASSERT_EQ(bounce_at(&map, 0x100)->head_len, 0x200);
	ASSERT_EQ(bounce_at(&map, 0x100)->tail_len, 0);
	ASSERT_EQ(chunk_at(&map, G)->type, DMA_CHUNK_HOST);
	ASSERT_EQ(mock.nr_tlb, 1);
	ASSERT_TRUE(resolves(&map, G, gphys(8), G));
	dma_destroy_iova(&map);
	return true;
}

/*
 * Upstream bug B3's unwind: when the tail bounce (or the middle map) fails,
 * only this chunk's IOVA is unmapped and the earlier chunk stays intact.
 */
static bool bounce_fails_at(enum mock_site site, unsigned int nth)
{
	struct dma_iova_mapping map;

	ASSERT_EQ(dma_alloc_iova(&bounce_dev, &map, 16 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0, gphys(9), G, DMA_TO_DEVICE,
				 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	mock.fail_at[site] = mock.calls[site] + nth;
	ASSERT_EQ(dma_link_range(&map, 2 * G + 0x800, gphys(20) + 0x800,
				 2 * G, DMA_TO_DEVICE, 0), -ENOMEM);
	ASSERT_EQ(dma_iova_nr_chunks(&map), 1);
	ASSERT_EQ(mock.nr_tlb, 0);
	ASSERT_EQ(mock.nr_ext, 1);
	ASSERT_TRUE(resolves(&map, 0, gphys(9), G));
	dma_destroy_iova(&map);
	return true;
}

static bool test_b3_bounce_tail_failure_unwinds_only_its_chunk(void)
{
	return bounce_fails_at(FAIL_SWIOTLB, 2);
}

static bool test_bounce_middle_failure_unwinds_chunk(void)
{
	return bounce_fails_at(FAIL_MAP, 2);
}

static bool test_bounce_head_failure_unwinds_chunk(void)
{
	return bounce_fails_at(FAIL_SWIOTLB, 1);
}

static bool test_bounce_refused_without_swiotlb_or_for_p2p(void)
{
	struct dma_iova_mapping map;

	ASSERT_EQ(dma_alloc_iova(&bounce_dev, &map, 16 * G, 0, 0), 0);
	mock.swiotlb_active = false;
	ASSERT_EQ(dma_link_range(&map, 0x800, gphys(7) + 0x800, SZ_2K,
				 DMA_TO_DEVICE, 0), -ENOMEM);
	mock.swiotlb_active = true;
	/* P2P memory is MMIO: never bounced, even when unaligned. */
	ASSERT_EQ(dma_link_range(&map, 0x800, p2p_phys(0, 1) + 0x800, SZ_2K,
				 DMA_TO_DEVICE, 0), -EPERM);
	ASSERT_EQ(dma_link_range(&map, G, p2p_phys(0, 1), G,
				 DMA_TO_DEVICE, 0), 0);
	ASSERT_EQ(chunk_at(&map, G)->type, DMA_CHUNK_P2P_HOST_BRIDGE);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	ASSERT_EQ(mock.nr_tlb, 0);
	dma_destroy_iova(&map);
	return true;
}

static bool test_bounce_sync_copies_both_ways(void)
{
	phys_addr_t buf = gphys(210);
	struct dma_iova_mapping map;
	u8 *v = phys_to_virt(buf), *slot;

	ASSERT_EQ(dma_alloc_iova(&bounce_dev, &map, 4 * G, 0, 0), 0);
	ASSERT_EQ(dma_link_range(&map, 0x400, buf + 0x400, 0x400,
				 DMA_BIDIRECTIONAL, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	slot = phys_to_virt(mock_iova_to_phys(map.addr + 0x400));
	ASSERT_TRUE(slot != v + 0x400);
	v[0x400] = 0x42;
	dma_iova_sync_for_device(&map, 0, 4 * G);
	ASSERT_EQ(slot[0], 0x42);
	slot[1] = 0x43;
	dma_iova_sync_for_cpu(&map, 0x400, 1);
	ASSERT_EQ(v[0x401], 0x43);
	dma_destroy_iova(&map);
	return true;
}

/*
 * An untrusted device never sees the bytes that share a granule with a
 * bounced chunk, and whatever it writes there never reaches them.
 */
static bool test_bounce_hides_and_protects_neighbours(void)
{
	phys_addr_t buf = gphys(220);
	struct dma_iova_mapping map;
	u8 *v = phys_to_virt(buf), *slot;
	unsigned int i;

	memset(v, 0x77, 3 * G);
	ASSERT_EQ(dma_alloc_iova(&bounce_dev, &map, 4 * G, 0, 0), 0);
	/* [0x900, G + 0xa00): a head and a tail, no middle */
	ASSERT_EQ(dma_link_range(&map, 0x900, buf + 0x900, G + 0x100,
				 DMA_FROM_DEVICE, 0), 0);
	ASSERT_EQ(dma_iova_commit(&map), 0);
	/* the device's view of both granules: zeros around the chunk */
	for (i = 0; i < 2 * G; i++) {
		u8 want = i >= 0x900 && i < G + 0xa00 ? 0x77 : 0;

		slot = phys_to_virt(mock_iova_to_phys(map.addr + i));
		ASSERT_EQ(*slot, want);
	}
	/* a hostile device writes both granules entirely */
	for (i = 0; i < 2 * G; i++)
		*(u8 *)phys_to_virt(mock_iova_to_phys(map.addr + i)) = 0xee;
	dma_destroy_iova(&map);
	for (i = 0; i < 3 * G; i++) {
		u8 want = i >= 0x900 && i < G + 0xa00 ? 0xee : 0x77;

		ASSERT_EQ(v[i], want);
	}
	return true;
}

static void run_bounce_tests(void)
{
	TEST(bounce_hides_and_protects_neighbours);
	TEST(bounce_head_and_tail_only);
	TEST(bounce_noncoherent_copy_back);
	TEST(bounce_reads_only_the_chunk);
	TEST(b3_bounce_with_empty_middle);
	TEST(bounce_within_one_granule);
	TEST(b3_bounce_tail_failure_unwinds_only_its_chunk);
	TEST(bounce_middle_failure_unwinds_chunk);
	TEST(bounce_head_failure_unwinds_chunk);
	TEST(bounce_refused_without_swiotlb_or_for_p2p);
	TEST(bounce_sync_copies_both_ways);
}
