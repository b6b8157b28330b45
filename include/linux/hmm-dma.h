/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DMA mapping for hmm_range_fault() users: one IOVA range reserved per
 * mirrored range, pages mapped into it at their index in batches and
 * unmapped on invalidation. See Documentation/core-api/dma-iova.rst.
 */
#ifndef _LINUX_HMM_DMA_H
#define _LINUX_HMM_DMA_H

#include <linux/dma-iova.h>
#include <linux/dma-map-ops.h>
#include <linux/hmm.h>

/*
 * Per-page state, kept in the page's pfn entry next to the pfn and HMM
 * flags (bits that hmm_range_fault() never sets: pfns are far smaller).
 */
#define HMM_DMA_MAPPED		BIT(HMM_PFN_ORDER_SHIFT - 1) /* device can reach it */
#define HMM_DMA_P2P		BIT(HMM_PFN_ORDER_SHIFT - 2) /* PCI MMIO in the IOVA */
#define HMM_DMA_P2P_BUS		BIT(HMM_PFN_ORDER_SHIFT - 3) /* by bus address */
#define HMM_DMA_STATE		(HMM_DMA_MAPPED | HMM_DMA_P2P | HMM_DMA_P2P_BUS)

/**
 * struct hmm_dma_map - DMA state of a range of pages mirrored with HMM
 * @pfns: one entry per page: the hmm_range_fault() output for the page when
 *	it was mapped (pfn, HMM_PFN_WRITE, map order) with HMM_DMA_* state
 *	bits, or 0; read it with the caller's lock held
 *
 * With an IOMMU, page @i lives at IOVA hmm_dma_iova() + @i * PAGE_SIZE
 * whatever its physical address, so the device sees the range as one
 * contiguous DMA range; without one, each page has its direct DMA address.
 * Eight bytes per page in all. The caller serialises all calls on a map.
 */
struct hmm_dma_map {
	unsigned long *pfns;
	/* private: */
	struct dma_iova_engine eng;
	dma_addr_t iova;
	unsigned long npages;
	struct pci_p2pdma_map_state p2p;
};

int hmm_dma_map_alloc(struct device *dev, struct hmm_dma_map *map,
		      unsigned long npages, gfp_t gfp);
void hmm_dma_map_free(struct hmm_dma_map *map);
int hmm_dma_map_pfns(struct hmm_dma_map *map, unsigned long first,
		     const unsigned long *hmm_pfns, unsigned long n);
unsigned long hmm_dma_unmap_range(struct hmm_dma_map *map,
				  unsigned long first, unsigned long n);
dma_addr_t hmm_dma_addr(struct hmm_dma_map *map, unsigned long idx);

/**
 * hmm_dma_iova() - first IOVA of a map's range
 * @map: map set up by hmm_dma_map_alloc()
 *
 * Context: Any context.
 * Return: the IOVA of page 0, or 0 when the device has no IOMMU and each
 * page has its own DMA address (hmm_dma_addr()).
 */
static inline dma_addr_t hmm_dma_iova(const struct hmm_dma_map *map)
{
	return map->iova;
}

/**
 * hmm_dma_page() - the page a mapped entry of a map refers to
 * @pfn: an entry of &hmm_dma_map.pfns with HMM_DMA_MAPPED set
 *
 * Context: Any context.
 * Return: the struct page.
 */
static inline struct page *hmm_dma_page(unsigned long pfn)
{
	return hmm_pfn_to_page(pfn & ~HMM_DMA_STATE);
}

#endif /* _LINUX_HMM_DMA_H */
