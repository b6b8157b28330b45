/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel interfaces CUSTOMISED for the harness: a simulated physical memory
 * with struct pages and P2P providers, a mock IOMMU behind the
 * iommu_dma_iova_*() building blocks, a mock swiotlb and dma-direct, and
 * allocation with deterministic failure injection. Each fake checks its
 * contract and counts violations in mock.errors; mock.c implements them.
 */
#ifndef _HARNESS_CUSTOM_H
#define _HARNESS_CUSTOM_H

/*
 * Simulated RAM starts above 4 GiB so that 32-bit truncation shows. It is
 * laid out in units of the largest IOMMU granule tested (64 KiB), whatever
 * PAGE_SIZE is, so that every test finds room for its granules.
 */
#define MOCK_PHYS_BASE		0x100000000ULL
#define MOCK_UNIT		0x10000UL
#define MOCK_UNIT_PAGES		(MOCK_UNIT / PAGE_SIZE)
#define MOCK_NR_PAGES		(4096 * MOCK_UNIT_PAGES)
#define MOCK_RAM_PAGES		(2048 * MOCK_UNIT_PAGES) /* RAM for tests */
#define MOCK_TEXT_FIRST		(1900 * MOCK_UNIT_PAGES) /* 4 units of text */
#define MOCK_RODATA_FIRST	(1904 * MOCK_UNIT_PAGES) /* 2 of rodata */
#define MOCK_STACK_FIRST	(1910 * MOCK_UNIT_PAGES) /* current stack */
#define MOCK_TLB_FIRST		(2048 * MOCK_UNIT_PAGES) /* swiotlb pool */
#define MOCK_TLB_SLOTS		1024	/* of one unit each */
#define MOCK_P2P_FIRST		(3072 * MOCK_UNIT_PAGES) /* three providers */
#define MOCK_P2P_PAGES		(256 * MOCK_UNIT_PAGES)
#define MOCK_BUS_OFFSET		0x7000000000ULL
#define MOCK_DIRECT_OFFSET	0x4000000000ULL	/* dma-direct: phys + this */
#define MOCK_IOVA_LIMIT		(1ULL << 48)
#define MOCK_BAR_BASE		0x300000000ULL	/* PCI BAR, no struct pages */
#define MOCK_BAR_SIZE		0x100000ULL

struct dev_pagemap {
	const char *name;
	enum pci_p2pdma_map_type map;	/* for PCI clients */
	u64 bus_offset;
};

struct page {
	struct dev_pagemap *pgmap;
};

/* The provider of the BAR at MOCK_BAR_BASE; counts references taken. */
struct pci_dev {
	int refs;
};

struct device;

/* A device's DMA domain: the mock keeps one in each device. */
struct iommu_domain {
	struct device *dev;
};

struct device {
	struct iommu_domain domain;	/* iommu_dma_iova_domain() sets it */
	u64 *dma_mask;
	u64 coherent_dma_mask;
	size_t iommu_granule;	/* 0: no IOMMU, dma-direct */
	bool needs_bounce;	/* untrusted: unaligned chunks bounce */
	bool coherent;
	bool is_pci;
	bool lazy;		/* domain has a flush queue */
};

enum mock_site {
	FAIL_HOOK,		/* the core's own fail_dma_iova should_fail() */
	FAIL_IOVA_ALLOC,
	FAIL_MAP,
	FAIL_SYNC,
	FAIL_SWIOTLB,
	FAIL_KMALLOC,
	FAIL_DIRECT_MAP,
	NR_FAIL_SITES,
};

struct mock_extent {
	dma_addr_t iova;
	phys_addr_t phys;
	size_t len;
	bool synced;
	bool mmio;
	int prot;		/* IOMMU_* */
};

struct mock_state {
	/* contract violations seen by the fakes; tests expect 0 */
	unsigned int errors;
	unsigned int warns;
	/* fault injection: call number (1-based) that fails, 0 for none */
	unsigned int fail_at[NR_FAIL_SITES];
	unsigned int calls[NR_FAIL_SITES];
	/* IOMMU page table and IOTLB */
	struct mock_extent *ext;
	unsigned int nr_ext, max_ext;
	unsigned int nr_stale;		/* unmapped, IOTLB not yet flushed */
	unsigned int map_calls, sync_calls, unmap_calls, flushes, fq_drains;
	unsigned int batch_inits;	/* dma_info_to_prot() calls: batches */
	unsigned int map_range_calls;	/* iommu_map_ranges_nosync() calls */
	/* IOVA allocator */
	struct { dma_addr_t addr; size_t len; bool queued; } iova[64];
	unsigned int nr_iova;
	/* swiotlb */
	bool swiotlb_active;
	/* RAM the kernel may not read, [start, end): out of the linear map */
	phys_addr_t unreadable_start, unreadable_end;
	struct { phys_addr_t tlb, orig; size_t len; int dir; } tlb[64];
	unsigned int nr_tlb;
	unsigned int tlb_in_use[MOCK_TLB_SLOTS];
	/* dma-direct */
	struct { dma_addr_t addr; size_t len; int dir; bool res; } direct[64];
	unsigned int nr_direct;
	/* cache maintenance and P2P lookups */
	unsigned int cpu_syncs, p2p_lookups;
	long kmalloc_live;
	/* dma-debug error_count */
	unsigned int dma_debug_errors;
	bool dma_debug_off;		/* dma_debug=off */
	bool kzalloc_nomem;		/* the debug layer's kzalloc() fails */
};

extern struct mock_state mock;
extern struct page mock_pages[MOCK_NR_PAGES];
extern struct dev_pagemap mock_p2p[3];
extern struct pci_dev mock_bar_dev;
extern u8 *mock_mem;

#define WARN_ON_ONCE(cond) ({						\
	bool __c = !!(cond);						\
	if (__c) {							\
		mock.warns++;						\
		fprintf(stderr, "WARN_ON_ONCE(%s) at %s:%d\n", #cond,	\
			__FILE__, __LINE__);				\
	}								\
	__c;								\
})

static inline phys_addr_t mock_phys(unsigned int page)
{
	return MOCK_PHYS_BASE + (phys_addr_t)page * PAGE_SIZE;
}

static inline bool pfn_valid(unsigned long pfn)
{
	return pfn >= PHYS_PFN(MOCK_PHYS_BASE) &&
	       pfn < PHYS_PFN(MOCK_PHYS_BASE) + MOCK_NR_PAGES;
}

static inline struct page *pfn_to_page(unsigned long pfn)
{
	assert(pfn_valid(pfn));
	return &mock_pages[pfn - PHYS_PFN(MOCK_PHYS_BASE)];
}

static inline unsigned long page_to_pfn(struct page *page)
{
	return PHYS_PFN(MOCK_PHYS_BASE) + (page - mock_pages);
}

static inline phys_addr_t page_to_phys(struct page *page)
{
	return mock_phys(page - mock_pages);
}

static inline void *phys_to_virt(phys_addr_t phys)
{
	assert(phys >= MOCK_PHYS_BASE &&
	       phys < MOCK_PHYS_BASE + (phys_addr_t)MOCK_NR_PAGES * PAGE_SIZE);
	return mock_mem + (phys - MOCK_PHYS_BASE);
}

/* Simulated RAM is all in the linear map: no highmem to map. */
static inline void *kmap_local_page(struct page *page)
{
	return phys_to_virt(page_to_phys(page));
}

#define kunmap_local(addr)	((void)(addr))

static inline bool is_pci_p2pdma_page(const struct page *page)
{
	return page->pgmap != NULL;
}

static inline phys_addr_t bvec_phys(const struct bio_vec *bv)
{
	return page_to_phys(bv->bv_page) + bv->bv_offset;
}

static inline bool zone_device_pages_have_same_pgmap(const struct page *a,
						     const struct page *b)
{
	return a->pgmap == b->pgmap;
}

/* lib/bitmap.c and lib/find_bit.c, bit by bit. */
static inline bool test_bit(unsigned long nr, const unsigned long *map)
{
	return map[nr / BITS_PER_LONG] & (1UL << (nr % BITS_PER_LONG));
}

static inline void __set_bit(unsigned long nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}

static inline void bitmap_set(unsigned long *map, unsigned long start,
			      unsigned long len)
{
	while (len--)
		__set_bit(start++, map);
}

static inline void bitmap_clear(unsigned long *map, unsigned long start,
				unsigned long len)
{
	for (; len; len--, start++)
		map[start / BITS_PER_LONG] &= ~(1UL << (start % BITS_PER_LONG));
}

static inline unsigned long find_next_bit(const unsigned long *map,
					  unsigned long size,
					  unsigned long off)
{
	for (; off < size; off++)
		if (test_bit(off, map))
			return off;
	return size;
}

static inline unsigned long find_next_zero_bit(const unsigned long *map,
					       unsigned long size,
					       unsigned long off)
{
	for (; off < size; off++)
		if (!test_bit(off, map))
			return off;
	return size;
}

static inline unsigned long find_last_bit(const unsigned long *map,
					  unsigned long size)
{
	unsigned long i = size;

	while (i--)
		if (test_bit(i, map))
			return i;
	return size;
}

static inline u64 dma_get_mask(struct device *dev)
{
	return *dev->dma_mask;
}

static inline bool dev_is_dma_coherent(struct device *dev)
{
	return dev->coherent;
}

void *kmalloc_array(size_t n, size_t size, gfp_t gfp);
void kfree(const void *p);
/* Nothing is vmalloc'ed here (is_vmalloc_addr() is false). */
#define kvmalloc_array(n, size, gfp)	kmalloc_array(n, size, gfp)
#define kvzalloc(size, gfp)		kmalloc_array(1, size, gfp)
#define might_alloc(gfp)		((void)(gfp))
#define vfree_atomic(p)			kfree(p)

#define GFP_ATOMIC	0x20u
/* The debug layer's allocation: fails while mock.kzalloc_nomem is set. */
void *kzalloc(size_t size, gfp_t gfp);
#define L1_CACHE_SHIFT	6
#define THREAD_SIZE	(4 * MOCK_UNIT)

static inline phys_addr_t virt_to_phys(const void *va)
{
	return MOCK_PHYS_BASE + ((const u8 *)va - mock_mem);
}

/* The kernel image and the current stack are mock pages too. */
#define __pa_symbol(x)		virt_to_phys(x)
#define _stext			((char *)phys_to_virt(mock_phys(MOCK_TEXT_FIRST)))
#define _etext			(_stext + 4 * MOCK_UNIT)
#define __start_rodata		((char *)phys_to_virt(mock_phys(MOCK_RODATA_FIRST)))
#define __end_rodata		(__start_rodata + 2 * MOCK_UNIT)
/* Enough of a task for the fault-injection gate. */
struct task_struct {
	unsigned int fail_nth;
};
#define current			((struct task_struct *)NULL)
#define in_task()		false
#define task_stack_page(task)	phys_to_virt(mock_phys(MOCK_STACK_FIRST))
#define is_vmalloc_addr(va)	false
#define vmalloc_to_page(va)	((struct page *)NULL)
#define virt_to_page(va)	pfn_to_page(PHYS_PFN(virt_to_phys(va)))

static inline const char *dev_name(const struct device *dev)
{
	return "mockdev";
}

static inline const char *dev_driver_string(const struct device *dev)
{
	return "mockdrv";
}

/*
 * The fault-injection framework, driven by mock.fail_at[FAIL_HOOK]: always
 * armed (a probability), so that the mock decides at every call.
 */
struct fault_attr {
	unsigned long probability;
};
#define FAULT_ATTR_INITIALIZER		{ .probability = 100 }
#define late_initcall(fn)		static int (*fn##_unused)(void) __attribute__((unused)) = fn
#define __init
#define fault_create_debugfs_attr(name, parent, attr)	NULL
bool should_fail(struct fault_attr *attr, ssize_t size);

enum pci_p2pdma_map_type pci_p2pdma_classify(struct pci_p2pdma_map_state *s,
					     struct device *dev,
					     struct page *page);
enum pci_p2pdma_map_type
pci_p2pdma_classify_phys(struct pci_p2pdma_phys_state *s, struct device *dev,
			 phys_addr_t phys, size_t size);
void pci_p2pdma_phys_state_release(struct pci_p2pdma_phys_state *s);

struct iommu_domain *iommu_dma_iova_domain(struct device *dev,
					   size_t *granule);
dma_addr_t iommu_dma_iova_alloc(struct iommu_domain *domain,
				struct device *dev, size_t size);
void iommu_dma_iova_free(struct iommu_domain *domain, dma_addr_t iova,
			 size_t size, struct iommu_iotlb_gather *gather);
void iommu_dma_iova_gather_init(struct iommu_domain *domain,
				struct iommu_iotlb_gather *gather,
				bool may_queue);
bool iommu_dma_iova_need_bounce(struct device *dev, size_t size,
				enum dma_data_direction dir);
void iommu_dma_iova_flush(struct iommu_domain *domain,
			  struct iommu_iotlb_gather *gather);

/* dma-iommu's protection for a direction; the mock counts the look-ups. */
int dma_info_to_prot(enum dma_data_direction dir, bool coherent,
		     unsigned long attrs);

struct iommu_map_range {
	phys_addr_t phys;
	size_t size;
};
int iommu_map_nosync(struct iommu_domain *domain, unsigned long iova,
		     phys_addr_t paddr, size_t size, int prot, gfp_t gfp);
int iommu_map_ranges_nosync(struct iommu_domain *domain, unsigned long iova,
			    const struct iommu_map_range *ranges,
			    unsigned int nr, int prot, gfp_t gfp);
int iommu_sync_map(struct iommu_domain *domain, unsigned long iova,
		   size_t size);
size_t iommu_unmap_fast(struct iommu_domain *domain, unsigned long iova,
			size_t size, struct iommu_iotlb_gather *gather);
void iommu_iotlb_sync(struct iommu_domain *domain,
		      struct iommu_iotlb_gather *gather);
phys_addr_t iommu_iova_to_phys(struct iommu_domain *domain, dma_addr_t iova);

bool is_swiotlb_active(struct device *dev);
phys_addr_t swiotlb_tbl_map_single(struct device *dev, phys_addr_t phys,
				   size_t len, unsigned int align_mask,
				   enum dma_data_direction dir,
				   unsigned long attrs);
void swiotlb_tbl_unmap_single(struct device *dev, phys_addr_t tlb,
			      size_t len, enum dma_data_direction dir,
			      unsigned long attrs);
void swiotlb_sync_single_for_cpu(struct device *dev, phys_addr_t tlb,
				 size_t len, enum dma_data_direction dir);
void swiotlb_sync_single_for_device(struct device *dev, phys_addr_t tlb,
				    size_t len, enum dma_data_direction dir);

dma_addr_t dma_map_page_attrs(struct device *dev, struct page *page,
			      size_t offset, size_t size,
			      enum dma_data_direction dir,
			      unsigned long attrs);
void dma_unmap_page_attrs(struct device *dev, dma_addr_t addr, size_t size,
			  enum dma_data_direction dir, unsigned long attrs);
dma_addr_t dma_map_resource(struct device *dev, phys_addr_t phys,
			    size_t size, enum dma_data_direction dir,
			    unsigned long attrs);
void dma_unmap_resource(struct device *dev, dma_addr_t addr, size_t size,
			enum dma_data_direction dir, unsigned long attrs);
void dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr,
			     size_t size, enum dma_data_direction dir);
void dma_sync_single_for_device(struct device *dev, dma_addr_t addr,
				size_t size, enum dma_data_direction dir);

static inline int dma_mapping_error(struct device *dev, dma_addr_t addr)
{
	return addr == DMA_MAPPING_ERROR;
}

void arch_sync_dma_for_device(phys_addr_t phys, size_t size,
			      enum dma_data_direction dir);
void arch_sync_dma_for_cpu(phys_addr_t phys, size_t size,
			   enum dma_data_direction dir);

/* Test-side helpers. */
void mock_reset(void);
bool mock_check_clean(void);
phys_addr_t mock_iova_to_phys(dma_addr_t iova);
bool mock_iova_synced(dma_addr_t iova);
void mock_fq_drain(void);
void mock_cache_reset(void);
/* DMA by @dev at @addr: through its IOMMU, CPU cache or not (mock.c) */
void mock_dev_write(struct device *dev, dma_addr_t addr, int c, size_t len);
u8 mock_dev_read(struct device *dev, dma_addr_t addr);
void mock_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
