// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock IOMMU, swiotlb, dma-direct and memory for the IOVA link harness.
 *
 * The IOMMU is a list of mapped extents. It refuses (and counts as errors)
 * zero-size and unaligned maps, maps outside a reserved IOVA range, double
 * maps, unmaps that split an extent, frees that do not match an allocation,
 * MMIO maps of RAM and non-MMIO maps of P2P memory. Unmapped extents stay in
 * the IOTLB until a flush. mock_check_clean() proves that a test left no
 * mapping, IOVA, bounce slot, direct mapping, stale IOTLB entry or
 * allocation behind.
 */
#include <stdarg.h>
#include <sys/mman.h>

struct mock_state mock;
struct page mock_pages[MOCK_NR_PAGES];
struct dev_pagemap mock_p2p[3] = {
	{ "p2p-host-bridge", PCI_P2PDMA_MAP_THRU_HOST_BRIDGE, 0 },
	{ "p2p-switch", PCI_P2PDMA_MAP_BUS_ADDR, MOCK_BUS_OFFSET },
	{ "p2p-unreachable", PCI_P2PDMA_MAP_NOT_SUPPORTED, 0 },
};
struct pci_dev mock_bar_dev;
u8 *mock_mem;
int harness_verbose;

void mock_error(const char *fmt, ...)
{
	va_list ap;

	mock.errors++;
	fprintf(stderr, "mock: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool site_fails(enum mock_site site)
{
	return ++mock.calls[site] == mock.fail_at[site];
}

void mock_reset(void)
{
	unsigned int i;

	free(mock.ext);
	memset(&mock, 0, sizeof(mock));
	mock_bar_dev.refs = 0;
	mock.swiotlb_active = true;
	/* 256 MiB, zeroed by dropping the pages: tests touch little of it */
	if (!mock_mem) {
		mock_mem = mmap(NULL, (size_t)MOCK_NR_PAGES * PAGE_SIZE,
				PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert(mock_mem != MAP_FAILED);
		for (i = 0; i < MOCK_NR_PAGES; i++) {
			unsigned int p = i - MOCK_P2P_FIRST;

			mock_pages[i].pgmap = i >= MOCK_P2P_FIRST &&
					      p < 3 * MOCK_P2P_PAGES ?
					      &mock_p2p[p / MOCK_P2P_PAGES] :
					      NULL;
		}
	}
	madvise(mock_mem, (size_t)MOCK_NR_PAGES * PAGE_SIZE, MADV_DONTNEED);
	mock_cache_reset();
}

/* Shadow entries and tracked cachelines kernel/dma/iova_debug.c holds. */
static unsigned int debug_shadows(void)
{
	struct iova_debug_entry *e;
	struct iova_debug_line *l;
	unsigned int bkt, n = 0;

	hash_for_each(iova_states, bkt, e, node)
		n++;
	hash_for_each(iova_lines, bkt, l, node)
		n++;
	return n;
}

bool mock_check_clean(void)
{
	bool ok = true;

#define CLEAN(cond, ...) do { if (!(cond)) { fprintf(stderr, "not clean: " __VA_ARGS__); fputc('\n', stderr); ok = false; } } while (0)
	CLEAN(!mock.errors, "%u contract violations", mock.errors);
	CLEAN(!mock.warns, "%u WARN_ON_ONCE hits", mock.warns);
	CLEAN(!mock.nr_ext, "%u IOMMU extents still mapped", mock.nr_ext);
	CLEAN(!mock.nr_stale, "%u unmapped extents never flushed", mock.nr_stale);
	CLEAN(!mock.nr_iova, "%u IOVA ranges still reserved", mock.nr_iova);
	CLEAN(!mock.nr_tlb, "%u swiotlb slots still in use", mock.nr_tlb);
	CLEAN(!mock.nr_direct, "%u direct mappings still live", mock.nr_direct);
	CLEAN(!mock.kmalloc_live, "%ld allocations leaked", mock.kmalloc_live);
	CLEAN(debug_shadows() == 0, "%u IOVA debug shadows left", debug_shadows());
	CLEAN(!mock_bar_dev.refs, "%d BAR provider references held",
	      mock_bar_dev.refs);
#undef CLEAN
	return ok;
}

bool should_fail(struct fault_attr *attr, ssize_t size)
{
	(void)attr;
	(void)size;
	return site_fails(FAIL_HOOK);
}

bool dma_debug_active(void)
{
	return !mock.dma_debug_off;
}

bool dma_debug_report_error(struct device *dev)
{
	mock.dma_debug_errors++;
	return harness_verbose;
}

void *kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;

	(void)gfp;
	if (site_fails(FAIL_KMALLOC) || check_mul_overflow(n, size, &bytes))
		return NULL;
	mock.kmalloc_live++;
	return calloc(1, bytes ? bytes : 1);
}

void *kzalloc(size_t size, gfp_t gfp)
{
	(void)gfp;
	if (mock.kzalloc_nomem)
		return NULL;
	mock.kmalloc_live++;
	return calloc(1, size);
}

void kfree(const void *p)
{
	if (p)
		mock.kmalloc_live--;
	free((void *)p);
}

enum pci_p2pdma_map_type pci_p2pdma_classify(struct pci_p2pdma_map_state *s,
					     struct device *dev,
					     struct page *page)
{
	if (s->pgmap != page->pgmap) {
		mock.p2p_lookups++;
		s->pgmap = page->pgmap;
		s->map = dev->is_pci ? page->pgmap->map :
				       PCI_P2PDMA_MAP_NOT_SUPPORTED;
		s->bus_off = page->pgmap->bus_offset;
	}
	return s->map;
}

static bool phys_in_bar(phys_addr_t phys)
{
	return phys >= MOCK_BAR_BASE && phys < MOCK_BAR_BASE + MOCK_BAR_SIZE;
}

/* The BAR is reached through the host bridge by PCI clients. */
enum pci_p2pdma_map_type
pci_p2pdma_classify_phys(struct pci_p2pdma_phys_state *s, struct device *dev,
			 phys_addr_t phys, size_t size)
{
	phys_addr_t end = phys + size - 1;

	if (!size || end < phys)
		return PCI_P2PDMA_MAP_UNKNOWN;
	if (s->provider && phys >= s->start && end <= s->end)
		return s->map;
	if (!phys_in_bar(phys) || !phys_in_bar(end))
		return PCI_P2PDMA_MAP_UNKNOWN;
	mock.p2p_lookups++;
	pci_p2pdma_phys_state_release(s);
	mock_bar_dev.refs++;
	s->provider = &mock_bar_dev;
	s->start = MOCK_BAR_BASE;
	s->end = MOCK_BAR_BASE + MOCK_BAR_SIZE - 1;
	s->map = dev->is_pci ? PCI_P2PDMA_MAP_THRU_HOST_BRIDGE :
			       PCI_P2PDMA_MAP_NOT_SUPPORTED;
	s->bus_off = 0;
	return s->map;
}

void pci_p2pdma_phys_state_release(struct pci_p2pdma_phys_state *s)
{
	if (s->provider)
		s->provider->refs--;
	s->provider = NULL;
}

/* PCI memory: P2PDMA pages or the BAR without pages. */
static bool phys_is_p2p(phys_addr_t phys)
{
	return phys_in_bar(phys) || (pfn_valid(PHYS_PFN(phys)) &&
	       is_pci_p2pdma_page(pfn_to_page(PHYS_PFN(phys))));
}

/* ---- IOMMU -------------------------------------------------------------- */

struct iommu_domain *iommu_dma_iova_domain(struct device *dev,
					   size_t *granule)
{
	if (!dev->iommu_granule)
		return NULL;
	dev->domain.dev = dev;
	*granule = dev->iommu_granule;
	return &dev->domain;
}

/* The device a domain from iommu_dma_iova_domain() belongs to. */
static struct device *domain_dev(struct iommu_domain *domain)
{
	if (!domain || !domain->dev || &domain->dev->domain != domain) {
		mock_error("IOMMU call without a domain from iommu_dma_iova_domain()");
		assert(0);
	}
	return domain->dev;
}

static int iova_overlaps(dma_addr_t addr, size_t len)
{
	unsigned int i;

	for (i = 0; i < mock.nr_iova; i++)
		if (addr < mock.iova[i].addr + mock.iova[i].len &&
		    mock.iova[i].addr < addr + len)
			return i;
	return -1;
}

/*
 * Size-aligned, top-down first fit below the DMA mask, like the kernel,
 * and within the domain's aperture, which the IOMMU API addresses with an
 * unsigned long.
 */
dma_addr_t iommu_dma_iova_alloc(struct iommu_domain *domain,
				struct device *dev, size_t size)
{
	u64 limit = min(min(dma_get_mask(dev), MOCK_IOVA_LIMIT - 1),
			(u64)ULONG_MAX);
	u64 align = 1, cand;
	int i;

	if (domain_dev(domain) != dev)
		mock_error("IOVA alloc in another device's domain");
	if (!size || size & (dev->iommu_granule - 1))
		mock_error("IOVA alloc of %#zx: not granule-aligned", size);
	if (site_fails(FAIL_IOVA_ALLOC) || size > limit ||
	    mock.nr_iova == 64)
		return 0;
	while (align < size)
		align <<= 1;
	if (align > limit)
		return 0;
	cand = (limit + 1 - size) & ~(align - 1);
	while (cand >= dev->iommu_granule) {
		i = iova_overlaps(cand, size);
		if (i < 0) {
			mock.iova[mock.nr_iova].addr = cand;
			mock.iova[mock.nr_iova].len = size;
			mock.iova[mock.nr_iova].queued = false;
			mock.nr_iova++;
			return cand;
		}
		if (mock.iova[i].addr < size)
			break;
		cand = (mock.iova[i].addr - size) & ~(align - 1);
	}
	return 0;
}

static void iova_remove(unsigned int i)
{
	mock.iova[i] = mock.iova[--mock.nr_iova];
}

void iommu_dma_iova_free(struct iommu_domain *domain, dma_addr_t iova,
			 size_t size, struct iommu_iotlb_gather *gather)
{
	unsigned int i;

	domain_dev(domain);
	for (i = 0; i < mock.nr_iova; i++) {
		if (mock.iova[i].addr != iova || mock.iova[i].queued)
			continue;
		if (mock.iova[i].len != size)
			mock_error("IOVA free %#llx: size %#zx, allocated %#zx",
				   (unsigned long long)iova, size,
				   mock.iova[i].len);
		if (gather && gather->queued)
			mock.iova[i].queued = true;
		else
			iova_remove(i);
		return;
	}
	mock_error("IOVA free %#llx: not allocated", (unsigned long long)iova);
}

void mock_fq_drain(void)
{
	unsigned int i = 0;

	mock.fq_drains++;
	mock.nr_stale = 0;
	while (i < mock.nr_iova) {
		if (mock.iova[i].queued)
			iova_remove(i);
		else
			i++;
	}
}

static int mock_map(struct device *dev, dma_addr_t iova, phys_addr_t phys,
		    size_t size, int prot)
{
	size_t g = dev->iommu_granule;
	bool mmio = prot & IOMMU_MMIO;
	unsigned int i;
	int r;

	mock.map_calls++;
	if (!(prot & (IOMMU_READ | IOMMU_WRITE)))
		mock_error("map %#llx without access", (unsigned long long)iova);
	if (!size) {
		mock_error("zero-size map at %#llx", (unsigned long long)iova);
		return -EINVAL;
	}
	if ((iova | phys | size) & (g - 1)) {
		mock_error("unaligned map %#llx -> %#llx + %#zx",
			   (unsigned long long)iova, (unsigned long long)phys,
			   size);
		return -EINVAL;
	}
	r = iova_overlaps(iova, size);
	if (r < 0 || iova + size > mock.iova[r].addr + mock.iova[r].len ||
	    iova < mock.iova[r].addr || mock.iova[r].queued) {
		mock_error("map %#llx + %#zx outside reserved IOVA",
			   (unsigned long long)iova, size);
		return -EINVAL;
	}
	for (i = 0; i < mock.nr_ext; i++) {
		if (iova < mock.ext[i].iova + mock.ext[i].len &&
		    mock.ext[i].iova < iova + size) {
			mock_error("double map of %#llx", (unsigned long long)iova);
			return -EEXIST;
		}
	}
	if (mmio != phys_is_p2p(phys))
		mock_error("%s map of %s memory at %#llx", mmio ? "MMIO" : "RAM",
			   phys_is_p2p(phys) ? "P2P" : "RAM",
			   (unsigned long long)phys);
	if (site_fails(FAIL_MAP))
		return -ENOMEM;
	if (mock.nr_ext == mock.max_ext) {
		mock.max_ext = mock.max_ext ? 2 * mock.max_ext : 16;
		mock.ext = realloc(mock.ext, mock.max_ext * sizeof(*mock.ext));
		assert(mock.ext);
	}
	mock.ext[mock.nr_ext++] = (struct mock_extent){
		.iova = iova, .phys = phys, .len = size, .mmio = mmio,
		.prot = prot,
	};
	return 0;
}

int dma_info_to_prot(enum dma_data_direction dir, bool coherent,
		     unsigned long attrs)
{
	int prot = coherent ? IOMMU_CACHE : 0;

	mock.batch_inits++;
	if (attrs & DMA_ATTR_PRIVILEGED)
		prot |= IOMMU_PRIV;
	switch (dir) {
	case DMA_BIDIRECTIONAL:
		return prot | IOMMU_READ | IOMMU_WRITE;
	case DMA_TO_DEVICE:
		return prot | IOMMU_READ;
	case DMA_FROM_DEVICE:
		return prot | IOMMU_WRITE;
	default:
		return 0;
	}
}

int iommu_map_nosync(struct iommu_domain *domain, unsigned long iova,
		     phys_addr_t paddr, size_t size, int prot, gfp_t gfp)
{
	(void)gfp;
	return mock_map(domain_dev(domain), iova, paddr, size, prot);
}

/*
 * The vectored map of patch 0002: the ranges at consecutive IOVAs, each
 * as one map (and so one fault site); on error the ones this call mapped
 * are gone again, as iommu_map_ranges_nosync() unmaps them.
 */
int iommu_map_ranges_nosync(struct iommu_domain *domain, unsigned long iova,
			    const struct iommu_map_range *ranges,
			    unsigned int nr, int prot, gfp_t gfp)
{
	unsigned int i, had = mock.nr_ext;
	int ret = 0;

	mock.map_range_calls++;
	if (!nr)
		mock_error("empty range list at %#lx", iova);
	for (i = 0; i < nr && !ret; iova += ranges[i++].size)
		ret = iommu_map_nosync(domain, iova, ranges[i].phys,
				       ranges[i].size, prot, gfp);
	if (ret)
		mock.nr_ext = had;	/* extents are appended: drop this call's */
	return ret;
}

int iommu_sync_map(struct iommu_domain *domain, unsigned long start,
		   size_t size)
{
	dma_addr_t iova = start;
	unsigned int i;

	domain_dev(domain);
	mock.sync_calls++;
	if (site_fails(FAIL_SYNC))
		return -ENOMEM;
	for (i = 0; i < mock.nr_ext; i++)
		if (mock.ext[i].iova >= iova &&
		    mock.ext[i].iova + mock.ext[i].len <= iova + size)
			mock.ext[i].synced = true;
	return 0;
}

void iommu_dma_iova_gather_init(struct iommu_domain *domain,
				struct iommu_iotlb_gather *gather,
				bool may_queue)
{
	memset(gather, 0, sizeof(*gather));
	gather->start = ~0UL;
	gather->queued = may_queue && domain_dev(domain)->lazy;
}

size_t iommu_unmap_fast(struct iommu_domain *domain, unsigned long start,
			size_t size, struct iommu_iotlb_gather *gather)
{
	dma_addr_t iova = start;	/* a range may end at 4 GiB on 32-bit */
	size_t unmapped = 0;
	unsigned int i = 0;

	domain_dev(domain);
	mock.unmap_calls++;
	while (i < mock.nr_ext) {
		struct mock_extent *e = &mock.ext[i];
		bool inside = e->iova >= iova && e->iova + e->len <= iova + size;

		if (!inside && e->iova < iova + size && iova < e->iova + e->len) {
			mock_error("unmap %#llx + %#zx splits extent %#llx + %#zx",
				   (unsigned long long)iova, size,
				   (unsigned long long)e->iova, e->len);
			i++;
			continue;
		}
		if (!inside) {
			i++;
			continue;
		}
		unmapped += e->len;
		mock.nr_stale++;
		*e = mock.ext[--mock.nr_ext];
	}
	gather->start = min(gather->start, (unsigned long)iova);
	gather->end = max(gather->end, (unsigned long)(iova + size - 1));
	return unmapped;
}

void iommu_iotlb_sync(struct iommu_domain *domain,
		      struct iommu_iotlb_gather *gather)
{
	domain_dev(domain);
	if (gather->queued)
		mock_error("IOTLB sync of a gather its flush queue owns");
	mock.flushes++;
	mock.nr_stale = 0;
}

/* iommu-dma.h's inline: no sync for a gather the flush queue took over */
void iommu_dma_iova_flush(struct iommu_domain *domain,
			  struct iommu_iotlb_gather *gather)
{
	if (!gather->queued)
		iommu_iotlb_sync(domain, gather);
}

bool iommu_dma_iova_need_bounce(struct device *dev, size_t size,
				enum dma_data_direction dir)
{
	(void)size;
	(void)dir;
	return dev->needs_bounce;
}

phys_addr_t iommu_iova_to_phys(struct iommu_domain *domain, dma_addr_t iova)
{
	phys_addr_t phys = mock_iova_to_phys(iova);

	domain_dev(domain);
	if (!phys)
		mock_error("page-table look-up of unmapped IOVA %#llx",
			   (unsigned long long)iova);
	return phys;
}

phys_addr_t mock_iova_to_phys(dma_addr_t iova)
{
	unsigned int i;

	for (i = 0; i < mock.nr_ext; i++)
		if (iova >= mock.ext[i].iova &&
		    iova < mock.ext[i].iova + mock.ext[i].len)
			return mock.ext[i].phys + (iova - mock.ext[i].iova);
	return 0;
}

bool mock_iova_synced(dma_addr_t iova)
{
	unsigned int i;

	for (i = 0; i < mock.nr_ext; i++)
		if (iova >= mock.ext[i].iova &&
		    iova < mock.ext[i].iova + mock.ext[i].len)
			return mock.ext[i].synced;
	return false;
}

/* ---- swiotlb ------------------------------------------------------------ */

bool is_swiotlb_active(struct device *dev)
{
	(void)dev;
	return mock.swiotlb_active;
}

static void bounce(phys_addr_t to, phys_addr_t from, size_t len)
{
	if (from < mock.unreadable_end && from + len > mock.unreadable_start)
		mock_error("swiotlb reads %#llx+%#zx, out of the linear map",
			   (unsigned long long)from, len);
	memcpy(phys_to_virt(to), phys_to_virt(from), len);
}

/*
 * Like 6.12: the slot is aligned to @align_mask + 1 and keeps @phys's offset
 * only under the device's min_align_mask, which the mock devices lack.
 */
phys_addr_t swiotlb_tbl_map_single(struct device *dev, phys_addr_t phys,
				   size_t len, unsigned int align_mask,
				   enum dma_data_direction dir,
				   unsigned long attrs)
{
	unsigned int slot;
	phys_addr_t tlb;

	(void)dev;
	(void)attrs;
	if (phys_is_p2p(phys))
		mock_error("swiotlb bounce of P2P memory %#llx",
			   (unsigned long long)phys);
	/* slots are unit-aligned: any granule's alignment holds */
	if (len > MOCK_UNIT || align_mask >= MOCK_UNIT)
		mock_error("bounce of %#zx bytes, alignment %#x: beyond a slot",
			   len, align_mask + 1);
	if (site_fails(FAIL_SWIOTLB) || mock.nr_tlb == 64)
		return (phys_addr_t)DMA_MAPPING_ERROR;
	for (slot = 0; mock.tlb_in_use[slot]; slot++)
		assert(slot + 1 < MOCK_TLB_SLOTS);
	mock.tlb_in_use[slot] = 1;
	tlb = mock_phys(MOCK_TLB_FIRST) + (phys_addr_t)slot * MOCK_UNIT;
	memset(phys_to_virt(tlb), 0xdb, MOCK_UNIT);
	bounce(tlb, phys, len);	/* the kernel always fills the slot */
	mock.tlb[mock.nr_tlb].tlb = tlb;
	mock.tlb[mock.nr_tlb].orig = phys;
	mock.tlb[mock.nr_tlb].len = len;
	mock.tlb[mock.nr_tlb].dir = dir;
	mock.nr_tlb++;
	return tlb;
}

/* The mapping holding [tlb, tlb + len); unmap must name it exactly. */
static int tlb_find(phys_addr_t tlb, size_t len, enum dma_data_direction dir,
		    bool exact)
{
	unsigned int i;

	for (i = 0; i < mock.nr_tlb; i++) {
		phys_addr_t base = mock.tlb[i].tlb;

		if (tlb < base || tlb + len > base + mock.tlb[i].len)
			continue;
		if ((exact && (tlb != base || len != mock.tlb[i].len)) ||
		    mock.tlb[i].dir != (int)dir)
			mock_error("swiotlb %#llx+%#zx: range/dir mismatch",
				   (unsigned long long)tlb, len);
		return i;
	}
	mock_error("swiotlb %#llx+%#zx not mapped", (unsigned long long)tlb,
		   len);
	return -1;
}

void swiotlb_tbl_unmap_single(struct device *dev, phys_addr_t tlb,
			      size_t len, enum dma_data_direction dir,
			      unsigned long attrs)
{
	int i = tlb_find(tlb, len, dir, true);

	(void)dev;
	if (i < 0)
		return;
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
	    (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce(mock.tlb[i].orig, tlb, len);
	mock.tlb_in_use[(tlb - mock_phys(MOCK_TLB_FIRST)) / MOCK_UNIT] = 0;
	mock.tlb[i] = mock.tlb[--mock.nr_tlb];
}

void swiotlb_sync_single_for_cpu(struct device *dev, phys_addr_t tlb,
				 size_t len, enum dma_data_direction dir)
{
	int i = tlb_find(tlb, len, dir, false);

	(void)dev;
	if (i >= 0 && (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce(mock.tlb[i].orig + (tlb - mock.tlb[i].tlb), tlb, len);
}

void swiotlb_sync_single_for_device(struct device *dev, phys_addr_t tlb,
				    size_t len, enum dma_data_direction dir)
{
	int i = tlb_find(tlb, len, dir, false);

	(void)dev;
	if (i >= 0 && (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL))
		bounce(tlb, mock.tlb[i].orig + (tlb - mock.tlb[i].tlb), len);
}

/* ---- dma-direct and cache maintenance ----------------------------------- */

static dma_addr_t direct_map(struct device *dev, phys_addr_t phys, size_t size,
			     enum dma_data_direction dir, bool res)
{
	if (dev->iommu_granule)
		mock_error("direct map for a device behind the IOMMU");
	/* MMIO without struct pages is a resource; P2PDMA pages are pages */
	if (res != phys_in_bar(phys))
		mock_error("%s mapping of %s memory", res ? "resource" : "page",
			   phys_in_bar(phys) ? "pageless MMIO" : "paged");
	if (site_fails(FAIL_DIRECT_MAP) || mock.nr_direct == 64)
		return DMA_MAPPING_ERROR;
	/* dma_map_resource() passes MMIO addresses through untranslated */
	mock.direct[mock.nr_direct].addr = phys + (res ? 0 : MOCK_DIRECT_OFFSET);
	mock.direct[mock.nr_direct].len = size;
	mock.direct[mock.nr_direct].dir = dir;
	mock.direct[mock.nr_direct].res = res;
	mock.nr_direct++;
	return mock.direct[mock.nr_direct - 1].addr;
}

/* Best fit, like dma-debug: the same address may be mapped twice. */
static int direct_find(dma_addr_t addr, size_t size,
		       enum dma_data_direction dir, bool res)
{
	unsigned int i;

	for (i = 0; i < mock.nr_direct; i++)
		if (mock.direct[i].addr == addr && mock.direct[i].len == size &&
		    mock.direct[i].dir == (int)dir && mock.direct[i].res == res)
			return i;
	mock_error("direct %#llx+%#zx: no such mapping",
		   (unsigned long long)addr, size);
	return -1;
}

dma_addr_t dma_map_page_attrs(struct device *dev, struct page *page,
			      size_t offset, size_t size,
			      enum dma_data_direction dir, unsigned long attrs)
{
	(void)attrs;
	return direct_map(dev, page_to_phys(page) + offset, size, dir, false);
}

void dma_unmap_page_attrs(struct device *dev, dma_addr_t addr, size_t size,
			  enum dma_data_direction dir, unsigned long attrs)
{
	int i = direct_find(addr, size, dir, false);

	(void)dev;
	(void)attrs;
	if (i >= 0)
		mock.direct[i] = mock.direct[--mock.nr_direct];
}

dma_addr_t dma_map_resource(struct device *dev, phys_addr_t phys,
			    size_t size, enum dma_data_direction dir,
			    unsigned long attrs)
{
	(void)attrs;
	return direct_map(dev, phys, size, dir, true);
}

void dma_unmap_resource(struct device *dev, dma_addr_t addr, size_t size,
			enum dma_data_direction dir, unsigned long attrs)
{
	int i = direct_find(addr, size, dir, true);

	(void)dev;
	(void)attrs;
	if (i >= 0)
		mock.direct[i] = mock.direct[--mock.nr_direct];
}

void dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr,
			     size_t size, enum dma_data_direction dir)
{
	(void)dev;
	direct_find(addr, size, dir, false);
	mock.cpu_syncs++;
}

void dma_sync_single_for_device(struct device *dev, dma_addr_t addr,
				size_t size, enum dma_data_direction dir)
{
	(void)dev;
	direct_find(addr, size, dir, false);
	mock.cpu_syncs++;
}

/*
 * The CPU cache, for devices that do not snoop it (!dev->coherent).
 * mock_mem is memory as the CPU sees it, through its cache; mock_ram is
 * memory as a non-coherent device sees it. A clean
 * (arch_sync_dma_for_device()) writes the CPU's view of its lines to RAM:
 * the device reads that snapshot, not what the CPU writes later. A device
 * write lands in RAM only and marks its lines stale in the CPU's cache
 * until an invalidate (arch_sync_dma_for_cpu(), not for DMA_TO_DEVICE)
 * makes it visible, so a CPU copy made before the invalidate reads the
 * bytes from before the DMA. Whole cache lines, as the hardware does.
 */
#define MOCK_LINE	64
#define MOCK_MEM_BYTES	((size_t)MOCK_NR_PAGES * PAGE_SIZE)

static u8 *mock_ram;
static unsigned long mock_stale[MOCK_MEM_BYTES / MOCK_LINE / BITS_PER_LONG];

static bool in_mock_mem(phys_addr_t phys, size_t size)
{
	return phys >= MOCK_PHYS_BASE &&
	       phys + size <= MOCK_PHYS_BASE + MOCK_MEM_BYTES;
}

static void cache_walk(phys_addr_t phys, size_t size, bool for_cpu)
{
	size_t l = (phys - MOCK_PHYS_BASE) / MOCK_LINE;
	size_t end = (phys - MOCK_PHYS_BASE + size + MOCK_LINE - 1) / MOCK_LINE;

	for (; l < end; l++) {
		u8 *cpu = mock_mem + l * MOCK_LINE, *ram = mock_ram + l * MOCK_LINE;

		if (for_cpu && test_bit(l, mock_stale))
			memcpy(cpu, ram, MOCK_LINE);
		else if (!for_cpu)
			memcpy(ram, cpu, MOCK_LINE);
		bitmap_clear(mock_stale, l, 1);
	}
}

void mock_cache_reset(void)
{
	if (!mock_ram) {
		mock_ram = mmap(NULL, MOCK_MEM_BYTES, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert(mock_ram != MAP_FAILED);
	}
	madvise(mock_ram, MOCK_MEM_BYTES, MADV_DONTNEED);
	memset(mock_stale, 0, sizeof(mock_stale));
}

/* Where @dev's DMA address @addr lands: IOMMU, dma-direct or a resource. */
static phys_addr_t dev_to_phys(struct device *dev, dma_addr_t addr)
{
	if (dev->iommu_granule)
		return mock_iova_to_phys(addr);
	if (addr >= MOCK_DIRECT_OFFSET + MOCK_PHYS_BASE)
		return addr - MOCK_DIRECT_OFFSET;
	return addr;
}

void mock_dev_write(struct device *dev, dma_addr_t addr, int c, size_t len)
{
	while (len) {
		size_t n = min(len, (size_t)(MOCK_LINE - (addr & (MOCK_LINE - 1))));
		phys_addr_t phys = dev_to_phys(dev, addr);

		if (!phys || !in_mock_mem(phys, n)) {
			mock_error("device write to %#llx: not mapped to memory",
				   (unsigned long long)addr);
			return;
		}
		if (dev->coherent) {
			memset(phys_to_virt(phys), c, n);
		} else {
			memset(mock_ram + (phys - MOCK_PHYS_BASE), c, n);
			__set_bit((phys - MOCK_PHYS_BASE) / MOCK_LINE, mock_stale);
		}
		addr += n;
		len -= n;
	}
}

u8 mock_dev_read(struct device *dev, dma_addr_t addr)
{
	phys_addr_t phys = dev_to_phys(dev, addr);

	if (!phys || !in_mock_mem(phys, 1)) {
		mock_error("device read of %#llx: not mapped to memory",
			   (unsigned long long)addr);
		return 0;
	}
	return dev->coherent ? *(u8 *)phys_to_virt(phys) :
	       mock_ram[phys - MOCK_PHYS_BASE];
}

static void arch_sync(phys_addr_t phys, size_t size, bool for_cpu)
{
	if (phys_is_p2p(phys))
		mock_error("cache maintenance on P2P memory %#llx",
			   (unsigned long long)phys);
	else if (in_mock_mem(phys, size))
		cache_walk(phys, size, for_cpu);
	mock.cpu_syncs++;
}

void arch_sync_dma_for_device(phys_addr_t phys, size_t size,
			      enum dma_data_direction dir)
{
	arch_sync(phys, size, false);
}

void arch_sync_dma_for_cpu(phys_addr_t phys, size_t size,
			   enum dma_data_direction dir)
{
	if (dir == DMA_TO_DEVICE)
		mock.cpu_syncs++;
	else
		arch_sync(phys, size, true);
}
