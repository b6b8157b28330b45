/* SPDX-License-Identifier: GPL-2.0-only */
/* Test macros and helpers shared by the harness's tests. */
#ifndef _HARNESS_SHARED_H
#define _HARNESS_SHARED_H

#define ASSERT_TRUE(x) do {						\
	if (!(x)) {							\
		fprintf(stderr, "Assert FAILED at %s:%d:%s(): %s is FALSE.\n", \
			__FILE__, __LINE__, __func__, #x);		\
		return false;						\
	}								\
} while (0)
#define ASSERT_FALSE(x)	ASSERT_TRUE(!(x))
#define ASSERT_EQ(a, b) do {						\
	unsigned long long __a = (unsigned long long)(a);		\
	unsigned long long __b = (unsigned long long)(b);		\
	if (__a != __b) {						\
		fprintf(stderr, "Assert FAILED at %s:%d:%s(): %s == %s: %#llx != %#llx\n", \
			__FILE__, __LINE__, __func__, #a, #b, __a, __b); \
		return false;						\
	}								\
} while (0)
#define ASSERT_NE(a, b)	ASSERT_TRUE((a) != (b))

#define SZ_2K	0x800UL
#define SZ_4K	0x1000UL
#define SZ_8K	0x2000UL
#define SZ_16K	0x4000UL
#define SZ_64K	0x10000UL
#define SZ_1M	0x100000UL
#define SZ_2M	0x200000UL
#define SZ_1G	0x40000000UL
#define SZ_4G	0x100000000ULL

/*
 * The IOMMU granule of this pass (4, 16 or 64 KiB; main.c runs every test
 * once per granule). Tests lay their chunks out in granules: G is the
 * granule, gphys(n) the start of RAM granule n.
 */
static size_t harness_granule = SZ_4K;
#define G	harness_granule

static inline phys_addr_t gphys(unsigned long n)
{
	return mock_phys(0) + n * G;
}

/* Devices: behind an IOMMU of granule G, needing bounces, or direct. */
static u64 mask64 = DMA_BIT_MASK(64), mask32 = DMA_BIT_MASK(32);
static struct device iommu_dev = {
	.dma_mask = &mask64, .iommu_granule = SZ_4K, .coherent = true,
	.is_pci = true,
};
static struct device bounce_dev = {
	.dma_mask = &mask64, .iommu_granule = SZ_4K, .coherent = true,
	.is_pci = true, .needs_bounce = true,
};
/* untrusted and not snooping the CPU cache (an arm64 SoC's external port) */
static struct device noncoh_bounce_dev = {
	.dma_mask = &mask64, .iommu_granule = SZ_4K, .is_pci = true,
	.needs_bounce = true,
};
static struct device direct_dev = {
	.dma_mask = &mask64, .coherent = true, .is_pci = true,
};

/* Granule @n of the host-bridge, switch or unreachable P2P provider. */
static inline phys_addr_t p2p_phys(unsigned int provider, unsigned int n)
{
	return mock_phys(MOCK_P2P_FIRST + provider * MOCK_P2P_PAGES) + n * G;
}

/* Granules of RAM for tests, and of one P2P provider. */
#define RAM_GRANULES	(MOCK_RAM_PAGES * PAGE_SIZE / G)
#define P2P_GRANULES	(MOCK_P2P_PAGES * PAGE_SIZE / G)

static inline bool resolves(struct dma_iova_mapping *map, size_t offset,
			    phys_addr_t phys, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += 64)
		if (mock_iova_to_phys(map->addr + offset + i) != phys + i)
			return false;
	return mock_iova_to_phys(map->addr + offset + size - 1) ==
	       phys + size - 1;
}

static inline bool unmapped(dma_addr_t iova, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += 512)
		if (mock_iova_to_phys(iova + i))
			return false;
	return true;
}

/* The run holding linked byte @offset, or %NULL. */
static inline const struct dma_iova_chunk *
chunk_at(const struct dma_iova_mapping *map, size_t offset)
{
	return dma_iova_find_chunk(map, offset);
}

static inline unsigned int nr_runs(const struct dma_iova_mapping *map)
{
	return map->live ? map->rec.nr_runs : 0;
}

/* Chunks linked since the last commit. */
static inline unsigned long nr_pending(const struct dma_iova_mapping *map)
{
	const struct dma_iova_record *rec = &map->rec;
	unsigned long g, n = 0;
	unsigned int i;

	if (!map->live)
		return 0;
	if (!dma_iova_uses_iommu(map)) {
		for (i = 0; i < rec->nr_runs; i++)
			n += !!(rec->runs[i].__flags & RUN_PENDING);
		return n;
	}
	for (g = 0; g < nr_granules(map); g++)
		n += test_bit(g, rec->starts) && test_bit(g, rec->pending);
	return n;
}

/* The swiotlb side of the bounced chunk at @offset. */
static inline const struct dma_iova_bounce *
bounce_at(const struct dma_iova_mapping *map, size_t offset)
{
	const struct dma_iova_record_ext *ext = map->rec.ext;
	unsigned int i;

	if (!ext)
		return NULL;
	i = bounce_index(ext, offset);
	return i < ext->nr_bounce && ext->bounce[i].offset == offset ?
	       &ext->bounce[i] : NULL;
}

static inline unsigned int count_segs(const struct dma_iova_mapping *map,
				      struct dma_iova_seg *segs,
				      unsigned int max)
{
	struct dma_iova_iter iter;
	struct dma_iova_seg seg;
	unsigned int n = 0;

	dma_iova_for_each_seg(map, &iter, &seg) {
		if (n < max)
			segs[n] = seg;
		n++;
	}
	return n;
}

#endif
