// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA mapping for hmm_range_fault() users (RDMA on-demand paging, GPU
 * shared virtual memory).
 *
 * A mirror reserves the IOVA of its whole range once. Pages are mapped at
 * their index as faults report them, in batches with one IOTLB sync each,
 * and unmapped on invalidation with one IOTLB invalidation, never
 * allocating. Unlike dma_link_range() there is no chunk record: the pfn
 * array a mirror keeps anyway is the record, with the state of each page in
 * spare bits of its entry, so a map costs 8 bytes per page in all.
 *
 * Locking: the caller serialises all calls on one map (e.g. with the mutex
 * its invalidation callback takes). Nothing here sleeps except
 * hmm_dma_map_alloc() when its gfp allows it.
 */
#include <linux/dma-direct.h>
#include <linux/dma-iova.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/hmm-dma.h>
#include <linux/iommu-dma.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>

#include "iova_engine.h"

/* The state bits must stay clear of any pfn a 64-bit machine can have. */
static_assert(BIT_ULL(52 - PAGE_SHIFT) <= HMM_DMA_P2P_BUS);

/**
 * hmm_dma_map_alloc() - set up the DMA state of a mirrored range
 * @dev: device that will do the DMA
 * @map: caller-owned state, fully initialised by this call
 * @npages: pages in the range
 * @gfp: allocation flags for the pfn array and the IOVA
 *
 * Allocates the pfn array (8 bytes per page) and, when @dev uses an IOMMU
 * DMA domain, reserves @npages pages of IOVA. Nothing is mapped yet.
 *
 * Context: May sleep if @gfp allows it.
 * Return: 0; -EINVAL for a missing or DMA-incapable device, no pages or a
 * range the device cannot address; -EOPNOTSUPP when single pages cannot be
 * mapped for @dev: an IOMMU granule larger than PAGE_SIZE, or, without an
 * IOMMU DMA domain (or with one not attached yet), a device that is not
 * cache-coherent, is forced through swiotlb,
 * cannot address all memory (a mirror cannot keep the CPU's and the
 * device's views apart) or has DMA ops of its own (its addresses cannot be
 * recomputed from the pfn array); -ENOMEM. On error @map holds nothing and
 * hmm_dma_map_free() on it is a no-op.
 */
int hmm_dma_map_alloc(struct device *dev, struct hmm_dma_map *map,
		      unsigned long npages, gfp_t gfp)
{
	struct dma_iova_engine eng;
	size_t gran, len;

	memset(map, 0, sizeof(*map));
	if (!dev || !dev->dma_mask || !npages ||
	    check_mul_overflow(npages, PAGE_SIZE, &len))
		return -EINVAL;
	gran = iova_engine_init(&eng, dev);
	/*
	 * Not dma_dev_need_sync(): DMA_API_DEBUG sets it for every device, and
	 * one bounce sets it for good. What matters is whether the direct
	 * path could ever bounce or need cache maintenance.
	 */
	if (gran > PAGE_SIZE ||
	    (!gran && (use_dma_iommu(dev) || get_dma_ops(dev) ||
		       !dev_is_dma_coherent(dev) ||
		       is_swiotlb_force_bounce(dev) ||
		       dma_addressing_limited(dev))))
		return -EOPNOTSUPP;
	if (gran && len - 1 > dma_get_mask(dev))
		return -EINVAL;

	map->pfns = kvcalloc(npages, sizeof(*map->pfns), gfp);
	if (!map->pfns)
		return -ENOMEM;
	if (gran) {
		map->iova = iova_engine_alloc(&eng, len);
		if (!map->iova) {
			kvfree(map->pfns);
			map->pfns = NULL;
			return -ENOMEM;
		}
	}
	map->eng = eng;
	map->npages = npages;
	return 0;
}
EXPORT_SYMBOL_GPL(hmm_dma_map_alloc);

static bool range_valid(const struct hmm_dma_map *map, unsigned long first,
			unsigned long n)
{
	return n && first < map->npages && n <= map->npages - first;
}

/* HMM_DMA_* kind bits of @page for the device, or -errno. */
static int page_kind(struct hmm_dma_map *map, struct page *page,
		     unsigned long *kind)
{
	*kind = 0;
	if (!is_pci_p2pdma_page(page))
		return 0;
	if (iova_engine_should_fail())
		return -EREMOTEIO;
	switch (pci_p2pdma_classify(&map->p2p, map->eng.dev, page)) {
	case PCI_P2PDMA_MAP_BUS_ADDR:
		*kind = HMM_DMA_P2P_BUS;
		return 0;
	case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
		*kind = HMM_DMA_P2P;
		return 0;
	default:
		return -EREMOTEIO;
	}
}

/* An entry written by this batch, not yet published as mapped. */
static bool is_new(unsigned long pfn)
{
	return pfn && !(pfn & HMM_DMA_MAPPED);
}

/* The entry's page is reached through the IOVA (not by bus address). */
static bool in_iova(unsigned long pfn)
{
	return pfn && !(pfn & HMM_DMA_P2P_BUS);
}

/* The page frame of an entry: no page lookup needed. */
static unsigned long entry_pfn(unsigned long e)
{
	return e & ~(HMM_PFN_FLAGS | HMM_DMA_STATE);
}

/* Pages in the CPU mapping of entry @e, and @e's offset among them. */
static unsigned long block_size(unsigned long e, unsigned long *off)
{
	unsigned long size = 1UL << hmm_pfn_to_map_order(e);

	*off = entry_pfn(e) & (size - 1);
	return size;
}

/*
 * Page @b can join page @a in one IOMMU call: the next page of the same
 * CPU huge mapping (hmm_pfn_to_map_order()), of one kind. The IOMMU may
 * then use a large page, which only an unmap of the whole block removes;
 * the CPU invalidates such a mapping as a whole, and
 * hmm_dma_unmap_range() widens to it.
 */
static bool mergeable(unsigned long a, unsigned long b)
{
	unsigned long off;

	block_size(b, &off);
	return off && entry_pfn(b) == entry_pfn(a) + 1 &&
	       (a & HMM_DMA_P2P) == (b & HMM_DMA_P2P);
}

/* First index of the CPU huge mapping that entry @idx belongs to. */
static unsigned long block_start(const struct hmm_dma_map *map,
				 unsigned long idx)
{
	unsigned long off;

	if (!(map->pfns[idx] & HMM_DMA_MAPPED))
		return idx;
	block_size(map->pfns[idx], &off);
	return idx - min(off, idx);
}

/* End index of the CPU huge mapping that entry @idx belongs to. */
static unsigned long block_end(const struct hmm_dma_map *map,
			       unsigned long idx)
{
	unsigned long off, size;

	if (!(map->pfns[idx] & HMM_DMA_MAPPED))
		return idx + 1;
	size = block_size(map->pfns[idx], &off);
	return idx + min(size - off, map->npages - idx);
}

/*
 * Unmap the pages of [@first, @first + @n) that @sel picks and that are in
 * the IOVA, index-contiguous stretches at a time, into @gather. Return
 * whether anything was unmapped.
 */
static bool unmap_pages(struct hmm_dma_map *map, unsigned long first,
			unsigned long n, bool (*sel)(unsigned long),
			struct iommu_iotlb_gather *gather)
{
	unsigned long i, start = 0, *pfn = map->pfns;
	bool open = false, any = false;

	for (i = first; i <= first + n; i++) {
		bool in = i < first + n && sel(pfn[i]) && in_iova(pfn[i]);

		if (in && !open) {
			start = i;
			open = true;
		} else if (!in && open) {
			iova_engine_unmap(&map->eng,
					  map->iova + start * PAGE_SIZE,
					  (i - start) * PAGE_SIZE, gather);
			open = false;
			any = true;
		}
	}
	return any;
}

/* A host page without an IOMMU: mapped through the DMA API. */
static bool is_direct_host(const struct hmm_dma_map *map, unsigned long pfn)
{
	return !map->iova && !(pfn & (HMM_DMA_P2P | HMM_DMA_P2P_BUS));
}

static dma_addr_t direct_addr(const struct hmm_dma_map *map,
			      unsigned long pfn)
{
	return phys_to_dma(map->eng.dev, page_to_phys(hmm_dma_page(pfn)));
}

/*
 * Without an IOMMU, each new host page of [@first, @first + @n) through
 * dma_map_page(), as 6.12's ODP mapped them, so that dma-debug tracks them;
 * *@mapped gets how far it got. hmm_dma_map_alloc() let only devices
 * through whose direct mapping is phys_to_dma(), which hmm_dma_addr()
 * recomputes.
 */
static int map_direct(struct hmm_dma_map *map, unsigned long first,
		      unsigned long n, unsigned long *mapped)
{
	unsigned long i;

	for (i = first; i < first + n; i++) {
		unsigned long e = map->pfns[i];
		dma_addr_t addr = DMA_MAPPING_ERROR;

		if (!is_new(e) || !is_direct_host(map, e))
			continue;
		if (!iova_engine_should_fail())
			addr = dma_map_page(map->eng.dev, hmm_dma_page(e), 0,
					    PAGE_SIZE, DMA_BIDIRECTIONAL);
		if (dma_mapping_error(map->eng.dev, addr)) {
			*mapped = i - first;
			return -ENOMEM;
		}
		if (WARN_ON_ONCE(addr != direct_addr(map, e))) {
			dma_unmap_page(map->eng.dev, addr, PAGE_SIZE,
				       DMA_BIDIRECTIONAL);
			*mapped = i - first;
			return -EIO;
		}
	}
	*mapped = n;
	return 0;
}

/* Undo a failed batch: unmap what it mapped, forget what it wrote. */
static void unwind_batch(struct hmm_dma_map *map, unsigned long first,
			 unsigned long mapped, unsigned long n)
{
	struct iommu_iotlb_gather gather;
	unsigned long i;

	if (map->iova && mapped) {
		iova_engine_gather_init(&map->eng, &gather, false);
		if (unmap_pages(map, first, mapped, is_new, &gather))
			iova_engine_flush(&map->eng, &gather);
	}
	for (i = first; i < first + n; i++) {
		unsigned long e = map->pfns[i];

		if (!is_new(e))
			continue;
		if (i < first + mapped && is_direct_host(map, e))
			dma_unmap_page(map->eng.dev, direct_addr(map, e),
				       PAGE_SIZE, DMA_BIDIRECTIONAL);
		map->pfns[i] = 0;
	}
}

/* Blocks of pages map_new() hands the IOMMU per call. */
#define HMM_DMA_RANGES	16

/*
 * Map the new entries of [@first, @first + @n): physically contiguous
 * pages of one kind as one range, and ranges of one kind that follow each
 * other in the IOVA with one engine call, HMM_DMA_RANGES at a time; *@mapped
 * gets how far it got (every call before the failed one mapped its ranges,
 * the failed one none).
 */
static int map_new(struct hmm_dma_map *map, unsigned long first,
		   unsigned long n, unsigned long *mapped)
{
	unsigned long i, j, from = 0, to = 0, end = first + n, *pfn = map->pfns;
	struct iova_engine_batch host, p2p, *b = NULL, *kind;
	struct iommu_map_range ranges[HMM_DMA_RANGES];
	unsigned int nr = 0;
	bool has_p2p = false;
	int ret;

	iova_engine_batch_init(&map->eng, &host, DMA_BIDIRECTIONAL, 0, false);

	for (i = first; i < end; i = j) {
		j = i + 1;
		if (!is_new(pfn[i]) || !in_iova(pfn[i]))
			continue;
		while (j < end && is_new(pfn[j]) && in_iova(pfn[j]) &&
		       mergeable(pfn[j - 1], pfn[j]))
			j++;
		/* P2P memory is rare: look its protection up when met */
		if ((pfn[i] & HMM_DMA_P2P) && !has_p2p) {
			iova_engine_batch_init(&map->eng, &p2p,
					       DMA_BIDIRECTIONAL, 0, true);
			has_p2p = true;
		}
		kind = pfn[i] & HMM_DMA_P2P ? &p2p : &host;
		/* a gap, another kind or a full list: link the list so far */
		if (nr && (i != to || kind != b || nr == HMM_DMA_RANGES)) {
			ret = iova_engine_link_ranges(b, map->iova +
						      from * PAGE_SIZE,
						      ranges, nr);
			if (ret)
				goto fail;
			nr = 0;
		}
		if (!nr) {
			from = i;
			b = kind;
		}
		ranges[nr].phys = page_to_phys(hmm_dma_page(pfn[i]));
		ranges[nr++].size = (j - i) * PAGE_SIZE;
		to = j;
	}
	if (nr) {
		ret = iova_engine_link_ranges(b, map->iova + from * PAGE_SIZE,
					      ranges, nr);
		if (ret)
			goto fail;
	}
	*mapped = n;
	return 0;

fail:
	*mapped = from - first;
	return ret;
}

/**
 * hmm_dma_map_pfns() - map pages hmm_range_fault() reported
 * @map: map set up by hmm_dma_map_alloc()
 * @first: index of the first page
 * @hmm_pfns: hmm_range_fault() output for pages @first to @first + @n - 1
 * @n: number of pages
 *
 * Maps each page not mapped yet at its index: host memory and PCI P2P
 * memory through the host bridge in the IOVA, P2P memory behind a shared
 * switch by bus address; the pages of one CPU huge mapping with one IOMMU
 * call. Without an IOMMU each host page is mapped with dma_map_page().
 * Then makes the batch visible to the device with one IOTLB sync and only
 * then publishes it in @map->pfns. Pages mapped by earlier calls are left
 * mapped, taking the new HMM flags (a page that became writable); the
 * invalidation callback must have unmapped any page whose pfn changed since.
 *
 * Context: Any context; the caller holds the lock that serialises @map
 * against its invalidations, after checking that @hmm_pfns is still valid
 * (mmu_interval_read_retry()).
 * Return: 0; -EINVAL for a range outside @map; -EFAULT if a page is not
 * valid in @hmm_pfns or differs from the one still mapped at its index;
 * -EREMOTEIO for P2P memory the device cannot reach; -ENOMEM or the IOMMU
 * driver's error; -EIO if the direct mapping of a page is not where
 * hmm_dma_addr() would find it (a kernel bug, warned about). On error
 * nothing of this batch is left mapped.
 */
int hmm_dma_map_pfns(struct hmm_dma_map *map, unsigned long first,
		     const unsigned long *hmm_pfns, unsigned long n)
{
	unsigned long i, kind, fresh = 0, mapped = 0, *pfn = map->pfns;
	int ret = 0;

	if (!range_valid(map, first, n))
		return -EINVAL;
	for (i = 0; i < n && !ret; i++) {
		unsigned long want = hmm_pfns[i];

		if (!(want & HMM_PFN_VALID) || (want & HMM_PFN_ERROR)) {
			ret = -EFAULT;
		} else if (pfn[first + i] & HMM_DMA_MAPPED) {
			if (WARN_ON_ONCE(hmm_dma_page(pfn[first + i]) !=
					 hmm_pfn_to_page(want)))
				ret = -EFAULT;
			/*
			 * A transition that did not invalidate, such as
			 * read-only to writable: take the new flags, as
			 * ib_umem_odp_map_dma_single_page() resyncs them, so
			 * that the unmap dirties what the device may write.
			 */
			else
				pfn[first + i] = (want & ~HMM_DMA_STATE) |
						 (pfn[first + i] & HMM_DMA_STATE);
		} else {
			ret = page_kind(map, hmm_pfn_to_page(want), &kind);
			pfn[first + i] = (want & ~HMM_DMA_STATE) | kind;
			fresh += in_iova(pfn[first + i]);
		}
	}
	if (!ret && !map->iova && fresh)
		ret = map_direct(map, first, n, &mapped);
	if (!ret && map->iova && fresh)
		ret = map_new(map, first, n, &mapped);
	if (!ret && map->iova && fresh)
		ret = iova_engine_sync_map(&map->eng,
					   map->iova + first * PAGE_SIZE,
					   n * PAGE_SIZE);
	if (ret) {
		unwind_batch(map, first, mapped, n);
		return ret;
	}
	for (i = first; i < first + n; i++)
		if (is_new(pfn[i]))
			pfn[i] |= HMM_DMA_MAPPED;
	return 0;
}
EXPORT_SYMBOL_GPL(hmm_dma_map_pfns);

static bool is_mapped(unsigned long pfn)
{
	return pfn & HMM_DMA_MAPPED;
}

/* The device lost the page: hand it back to the CPU. */
static void release_page(struct hmm_dma_map *map, unsigned long pfn)
{
	struct page *page = hmm_dma_page(pfn);

	if (pfn & (HMM_DMA_P2P | HMM_DMA_P2P_BUS))
		return;
	if (!map->iova)
		dma_unmap_page(map->eng.dev, direct_addr(map, pfn), PAGE_SIZE,
			       DMA_BIDIRECTIONAL);
	else
		iova_engine_sync_phys(&map->eng, page_to_phys(page), PAGE_SIZE,
				      DMA_BIDIRECTIONAL, true);
	/* it was mapped writable: the device may have written to it */
	if (pfn & HMM_PFN_WRITE)
		set_page_dirty(compound_head(page));
}

static unsigned long unmap_range(struct hmm_dma_map *map, unsigned long first,
				 unsigned long n,
				 struct iommu_iotlb_gather *gather)
{
	unsigned long i, count = 0;

	if (map->iova && unmap_pages(map, first, n, is_mapped, gather))
		iova_engine_flush(&map->eng, gather);
	for (i = first; i < first + n; i++) {
		if (!is_mapped(map->pfns[i]))
			continue;
		release_page(map, map->pfns[i]);
		map->pfns[i] = 0;
		count++;
	}
	return count;
}

/**
 * hmm_dma_unmap_range() - unmap the mapped pages of a range
 * @map: map set up by hmm_dma_map_alloc()
 * @first: index of the first page
 * @n: number of pages
 *
 * Unmaps every mapped page in the range, one IOMMU call per stretch of
 * consecutive mapped pages and one IOTLB sync for them all (done before
 * returning, lazy domains included: the pages are about to go), then marks
 * host pages that were mapped writable dirty and clears their entries. A
 * CPU huge mapping the range cuts is unmapped whole, as the CPU side
 * invalidates it. Allocates nothing, so it is safe in an invalidation
 * callback under reclaim.
 *
 * Context: Any context; the caller holds the lock that serialises @map.
 * Return: the number of pages unmapped.
 */
unsigned long hmm_dma_unmap_range(struct hmm_dma_map *map,
				  unsigned long first, unsigned long n)
{
	struct iommu_iotlb_gather gather = {};
	unsigned long start, end;

	if (WARN_ON_ONCE(!range_valid(map, first, n)))
		return 0;
	start = block_start(map, first);
	end = block_end(map, first + n - 1);
	if (map->iova)
		iova_engine_gather_init(&map->eng, &gather, false);
	/*
	 * The pgmap cache holds no reference, and removing a P2P provider
	 * invalidates the mirror first: look the next provider up afresh, so
	 * that one reusing the old pgmap's address is not taken for it.
	 */
	map->p2p.pgmap = NULL;
	return unmap_range(map, start, end - start, &gather);
}
EXPORT_SYMBOL_GPL(hmm_dma_unmap_range);

/**
 * hmm_dma_addr() - DMA address of a mapped page
 * @map: map set up by hmm_dma_map_alloc()
 * @idx: index of the page
 *
 * Context: Any context; the caller holds the lock that serialises @map.
 * Return: the DMA address the device uses for the page, or
 * %DMA_MAPPING_ERROR if it is not mapped.
 */
dma_addr_t hmm_dma_addr(struct hmm_dma_map *map, unsigned long idx)
{
	unsigned long pfn;
	struct page *page;

	if (idx >= map->npages || !is_mapped(map->pfns[idx]))
		return DMA_MAPPING_ERROR;
	pfn = map->pfns[idx];
	page = hmm_dma_page(pfn);
	if (pfn & HMM_DMA_P2P_BUS) {
		/* cached: one compare unless the provider changed */
		pci_p2pdma_classify(&map->p2p, map->eng.dev, page);
		return page_to_phys(page) + map->p2p.bus_off;
	}
	if (map->iova)
		return map->iova + idx * PAGE_SIZE;
	return direct_addr(map, pfn);
}
EXPORT_SYMBOL_GPL(hmm_dma_addr);

/**
 * hmm_dma_map_free() - unmap everything and release a map
 * @map: map set up by hmm_dma_map_alloc(), or one whose setup failed
 *
 * As hmm_dma_unmap_range() over the whole range (in lazy mode the IOTLB
 * invalidation is queued with the IOVA, as dma_unmap_page() does), then
 * releases the IOVA and the pfn array.
 *
 * Context: Process context if the pfn array may have been vmalloc'ed;
 * the caller holds the lock that serialises @map.
 */
void hmm_dma_map_free(struct hmm_dma_map *map)
{
	struct iommu_iotlb_gather gather = {};

	if (!map->pfns)
		return;
	if (map->iova)
		iova_engine_gather_init(&map->eng, &gather, true);
	unmap_range(map, 0, map->npages, &gather);
	if (map->iova)
		iova_engine_free(&map->eng, map->iova, map->npages * PAGE_SIZE,
				 &gather);
	kvfree(map->pfns);
	memset(map, 0, sizeof(*map));
}
EXPORT_SYMBOL_GPL(hmm_dma_map_free);
