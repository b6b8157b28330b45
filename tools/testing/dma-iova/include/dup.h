/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations DUPLICATED from the 6.12 kernel (dma-mapping.h,
 * dma-map-ops.h, iommu.h, overflow.h, minmax.h, mm.h): keep in sync.
 */
#ifndef _HARNESS_DUP_H
#define _HARNESS_DUP_H

#ifndef PAGE_SHIFT
#define PAGE_SHIFT		12	/* make PAGE_SHIFT=16: 64 KiB pages */
#endif
#define PAGE_SIZE		(1UL << PAGE_SHIFT)
#define PHYS_PFN(x)		((unsigned long)((x) >> PAGE_SHIFT))
#define offset_in_page(p)	((unsigned long)(p) & (PAGE_SIZE - 1))

#define DMA_MAPPING_ERROR	(~(dma_addr_t)0)
#define DMA_BIT_MASK(n)		(((n) == 64) ? ~0ULL : ((1ULL << ((n) & 63)) - 1))

#define DMA_ATTR_WEAK_ORDERING		(1UL << 1)
#define DMA_ATTR_WRITE_COMBINE		(1UL << 2)
#define DMA_ATTR_NO_KERNEL_MAPPING	(1UL << 4)
#define DMA_ATTR_SKIP_CPU_SYNC		(1UL << 5)
#define DMA_ATTR_FORCE_CONTIGUOUS	(1UL << 6)
#define DMA_ATTR_ALLOC_SINGLE_PAGES	(1UL << 7)
#define DMA_ATTR_NO_WARN		(1UL << 8)
#define DMA_ATTR_PRIVILEGED		(1UL << 9)

enum pci_p2pdma_map_type {
	PCI_P2PDMA_MAP_UNKNOWN = 0,
	PCI_P2PDMA_MAP_NOT_SUPPORTED,
	PCI_P2PDMA_MAP_BUS_ADDR,
	PCI_P2PDMA_MAP_THRU_HOST_BRIDGE,
};

struct dev_pagemap;

struct pci_p2pdma_map_state {
	struct dev_pagemap *pgmap;
	int map;
	u64 bus_off;
};

struct pci_dev;

struct pci_p2pdma_phys_state {
	struct pci_dev *provider;
	phys_addr_t start, end;
	int map;
	u64 bus_off;
};

#define IOMMU_READ	(1 << 0)
#define IOMMU_WRITE	(1 << 1)
#define IOMMU_CACHE	(1 << 2)
#define IOMMU_MMIO	(1 << 4)
#define IOMMU_PRIV	(1 << 5)

struct iommu_iotlb_gather {
	unsigned long start;
	unsigned long end;
	size_t pgsize;
	bool queued;
};

#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)

#define BIT(n)			(1UL << (n))
#define U32_MAX			((u32)~0U)
#define BITS_PER_LONG		(8 * (int)sizeof(long))
#define BITS_TO_LONGS(n)	(((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define ALIGN(x, a)		(((x) + (a) - 1) & ~((typeof(x))(a) - 1))
#define ilog2(n)		(BITS_PER_LONG - 1 - __builtin_clzl(n))
#define struct_size(p, member, n) \
	(sizeof(*(p)) + (n) * sizeof(*(p)->member))

/* include/linux/bvec.h */
struct page;
struct bio_vec {
	struct page *bv_page;
	unsigned int bv_len;
	unsigned int bv_offset;
};

#define min(a, b)	((a) < (b) ? (a) : (b))
#define max(a, b)	((a) > (b) ? (a) : (b))
#define max_t(t, a, b)	max((t)(a), (t)(b))

#endif
