/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The IOVA engine: the one road from the chunk record (iova_link.c) and the
 * HMM helper (hmm_dma.c) to a DMA domain, to swiotlb and to the
 * architecture's cache maintenance. Its operations work on a struct
 * dma_iova_engine taken once per mapping; they are built into iova_link.o
 * and are not exported.
 */
#ifndef _KERNEL_DMA_IOVA_ENGINE_H
#define _KERNEL_DMA_IOVA_ENGINE_H

#include <linux/dma-iova.h>
#include <linux/dma-map-ops.h>
#include <linux/iommu-dma.h>

struct iommu_iotlb_gather;

/*
 * What the links of a batch share: the domain and protection looked up
 * once, and whether host memory needs cache maintenance before the device
 * sees it.
 */
struct iova_engine_batch {
	struct iommu_domain *domain;
	int prot;		/* IOMMU_* */
	size_t mask;		/* granule - 1 */
	enum dma_data_direction dir;
	bool sync;
};

bool iova_engine_should_fail(void);
size_t iova_engine_init(struct dma_iova_engine *eng, struct device *dev);
dma_addr_t iova_engine_alloc(const struct dma_iova_engine *eng, size_t size);
void iova_engine_free(const struct dma_iova_engine *eng, dma_addr_t iova,
		      size_t size, struct iommu_iotlb_gather *gather);
void iova_engine_batch_init(const struct dma_iova_engine *eng,
			    struct iova_engine_batch *b,
			    enum dma_data_direction dir, unsigned long attrs,
			    bool mmio);
int iova_engine_link_ranges(const struct iova_engine_batch *b,
			    dma_addr_t iova,
			    const struct iommu_map_range *ranges,
			    unsigned int nr);
int iova_engine_sync_map(const struct dma_iova_engine *eng, dma_addr_t iova,
			 size_t size);
void iova_engine_gather_init(const struct dma_iova_engine *eng,
			     struct iommu_iotlb_gather *gather, bool may_queue);
void iova_engine_unmap(const struct dma_iova_engine *eng, dma_addr_t iova,
		       size_t size, struct iommu_iotlb_gather *gather);
void iova_engine_flush(const struct dma_iova_engine *eng,
		       struct iommu_iotlb_gather *gather);
bool iova_engine_needs_bounce(const struct dma_iova_engine *eng,
			      phys_addr_t phys, size_t size,
			      enum dma_data_direction dir);

/*
 * Cache maintenance of host memory a non-coherent device reaches; inline,
 * as a coherent device's callers pay one test for it per page.
 */
static inline void iova_engine_sync_phys(const struct dma_iova_engine *eng,
					 phys_addr_t phys, size_t size,
					 enum dma_data_direction dir,
					 bool for_cpu)
{
	if (dev_is_dma_coherent(eng->dev))
		return;
	if (for_cpu)
		arch_sync_dma_for_cpu(phys, size, dir);
	else
		arch_sync_dma_for_device(phys, size, dir);
}

#endif /* _KERNEL_DMA_IOVA_ENGINE_H */
