// SPDX-License-Identifier: GPL-2.0-only
/*
 * Model-based fuzzer for kernel/dma/iova_link.c and iova_debug.c.
 *
 * Input bytes become a sequence of alloc/link/commit/unlink/sync/destroy/
 * free operations with random sizes, offsets, alignments, devices, memory
 * kinds and injected failures. A small reference model says what each call
 * must return, which chunks must then be mapped where, and how many debug
 * reports each call must raise; after every operation the real state, the
 * mock IOMMU page table and the counters are checked against it. Any
 * difference aborts, so libFuzzer keeps the input as a crasher.
 *
 * Built with libFuzzer (clang), or with driver.c as a plain program.
 */
#include "../iova_link_internal.h"
#include "../../../../kernel/dma/iova_link.c"
#include "../../../../kernel/dma/iova_debug.c"
#include "../mock.c"

#define SZ_4K		0x1000UL
#define SZ_16K		0x4000UL
#define SZ_64K		0x10000UL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_CHUNKS	48	/* below the mock's 64 slots per table */

unsigned long long fuzz_ops_total;

#define TRACE(...) do { if (harness_verbose) fprintf(stderr, __VA_ARGS__); } while (0)

struct model_chunk {
	size_t offset, size;
	phys_addr_t phys;
	enum dma_chunk_type type;
	int dir;
	bool pending;
};

static struct model {
	bool live, iommu;
	size_t size;
	struct model_chunk c[MAX_CHUNKS];
	unsigned int n;
} m;

static struct dma_iova_mapping map;
static u64 mask64 = DMA_BIT_MASK(64), mask32 = DMA_BIT_MASK(32);
static const struct device devs[] = {
	{ .dma_mask = &mask64, .iommu_granule = SZ_4K, .coherent = true, .is_pci = true },
	{ .dma_mask = &mask64, .iommu_granule = SZ_4K, .coherent = true, .is_pci = true, .lazy = true },
	{ .dma_mask = &mask64, .iommu_granule = SZ_4K, .coherent = true, .is_pci = true, .needs_bounce = true },
	{ .dma_mask = &mask64, .coherent = true, .is_pci = true },
	{ .dma_mask = &mask32, .iommu_granule = SZ_4K, .is_pci = true },
	{ .dma_mask = &mask64, .iommu_granule = SZ_4K, .coherent = true },
	/* untrusted and not snooping the CPU cache: bounces, arch syncs */
	{ .dma_mask = &mask64, .iommu_granule = SZ_4K, .is_pci = true, .needs_bounce = true },
};
static struct device dev;	/* the mapping's: one of @devs, maybe regranuled */
/* The mapping's IOMMU granule (4 KiB without an IOMMU, for the sizes). */
static size_t G = SZ_4K;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		abort();						\
	}								\
} while (0)

struct input {
	const u8 *p;
	size_t left;
};

static u64 take(struct input *in, unsigned int bytes)
{
	u64 v = 0;

	while (bytes--) {
		v = (v << 8) | (in->left ? *in->p : 0);
		if (in->left) {
			in->p++;
			in->left--;
		}
	}
	return v;
}

static size_t gdown(size_t x)
{
	return x & ~(G - 1);
}

static size_t gup(size_t x)
{
	return gdown(x + G - 1);
}

static bool extents_meet(size_t a, size_t a_end, size_t b, size_t b_end)
{
	if (m.iommu)
		return gdown(a) < gup(b_end) && gdown(b) < gup(a_end);
	return a < b_end && b < a_end;
}

/* -1 for RAM, the provider index for P2P memory, -2 if not memory. */
static int mem_kind(phys_addr_t phys)
{
	unsigned long pfn = PHYS_PFN(phys);

	if (!pfn_valid(pfn))
		return -2;
	pfn -= PHYS_PFN(MOCK_PHYS_BASE);
	if (pfn >= MOCK_P2P_FIRST && pfn < MOCK_P2P_FIRST + 3 * MOCK_P2P_PAGES)
		return (pfn - MOCK_P2P_FIRST) / MOCK_P2P_PAGES;
	return -1;
}

static void drop_pending(void)
{
	unsigned int i, k = 0;

	for (i = 0; i < m.n; i++)
		if (!m.c[i].pending)
			m.c[k++] = m.c[i];
	m.n = k;
}

static unsigned int reports(void)
{
	return dma_iova_debug_errors(DMA_IOVA_DBG_NONE);
}

/* @n debug reports since @before, or none with dma_debug=off. */
static bool reported(unsigned int before, unsigned int n)
{
	return reports() - before == (mock.dma_debug_off ? 0 : n);
}

static dma_addr_t model_dma(const struct model_chunk *mc)
{
	if (mc->type == DMA_CHUNK_P2P_BUS)
		return mc->phys + MOCK_BUS_OFFSET;
	if (!m.iommu)
		return mc->phys + MOCK_DIRECT_OFFSET;
	return map.addr + mc->offset;
}

/* Bytes of a bounced chunk's head and tail that went through swiotlb. */
static void model_bounced(const struct model_chunk *mc, size_t *head,
			  size_t *tail)
{
	size_t end = mc->offset + mc->size;

	*head = 0;
	*tail = 0;
	if (mc->type != DMA_CHUNK_BOUNCE)
		return;
	if (gdown(mc->offset) == gdown(end - 1)) {
		*head = mc->size;
		return;
	}
	*head = mc->offset & (G - 1) ? G - (mc->offset & (G - 1)) : 0;
	*tail = end & (G - 1);
}

static const struct model_chunk *model_holding(size_t off)
{
	unsigned int i;

	for (i = 0; i < m.n; i++)
		if (off >= m.c[i].offset && off - m.c[i].offset < m.c[i].size)
			return &m.c[i];
	return NULL;
}

/* The run record: sorted, covering exactly the chunks, runs maximal. */
static void record_check(void)
{
	const struct dma_iova_record *rec = &map.rec;
	unsigned int i;

	CHECK(rec->nr_runs <= m.n);
	for (i = 0; i < rec->nr_runs; i++) {
		const struct dma_iova_chunk *r = &rec->runs[i];

		CHECK(r->size);
		CHECK(model_holding(r->offset));
		CHECK(model_holding(r->offset + r->size - 1));
		if (!i)
			continue;
		CHECK(rec->runs[i - 1].offset + rec->runs[i - 1].size <=
		      r->offset);
		if (m.iommu) {
			struct link_chunk c = {
				.offset = r->offset, .size = r->size,
				.dma_addr = r->dma_addr, .attrs = r->attrs,
				.type = r->type, .dir = r->dir,
			};

			CHECK(!joins_after(&map, &rec->runs[i - 1], &c));
		}
	}
}

/* The real mapping and the mock IOMMU agree with the model. */
static void model_check(void)
{
	unsigned int i, tlbs = 0, directs = 0;
	size_t g, total = 0, linked = 0;
	struct dma_iova_iter iter;
	struct dma_iova_seg seg;

	CHECK(!mock.errors && !mock.warns);
	CHECK(map.live == m.live);
	if (!m.live)
		return;
	CHECK(dma_iova_nr_chunks(&map) == m.n);
	record_check();
	for (i = 0; i < m.n; i++) {
		const struct model_chunk *mc = &m.c[i];
		const struct dma_iova_chunk *r;
		size_t head, tail, last = mc->offset + mc->size - 1;
		dma_addr_t dma = model_dma(mc);

		r = dma_iova_find_chunk(&map, mc->offset);
		CHECK(r && dma_iova_find_chunk(&map, last) == r);
		CHECK(r->type == mc->type && r->dir == mc->dir);
		CHECK(r->dma_addr + (mc->offset - r->offset) == dma);
		CHECK((dma_iova_first_pending(&map, mc->offset, mc->size) >= 0) ==
		      mc->pending);
		/* a byte before and after the chunk belongs to no other run */
		if (mc->offset && !model_holding(mc->offset - 1))
			CHECK(!dma_iova_find_chunk(&map, mc->offset - 1));
		if (last + 1 < m.size && !model_holding(last + 1))
			CHECK(!dma_iova_find_chunk(&map, last + 1));
		linked += mc->size;
		model_bounced(mc, &head, &tail);
		tlbs += !!head + !!tail;
		if (!m.iommu && mc->type != DMA_CHUNK_P2P_BUS)
			directs++;
		if (!m.iommu || mc->type == DMA_CHUNK_P2P_BUS)
			continue;
		CHECK(mock_iova_synced(dma) == !mc->pending);
		/* first, last and every granule start resolve as linked */
		for (g = 0; g < mc->size; g = g ? g + G : G - (mc->offset & (G - 1))) {
			phys_addr_t got = mock_iova_to_phys(dma + g);

			if (g < head || g >= mc->size - tail)
				CHECK(got >= mock_phys(MOCK_TLB_FIRST) &&
				      got < mock_phys(MOCK_P2P_FIRST));
			else
				CHECK(got == mc->phys + g);
		}
	}
	CHECK(mock.nr_tlb == tlbs);
	CHECK(mock.nr_direct == directs);
	dma_iova_for_each_seg(&map, &iter, &seg)
		total += seg.len;
	CHECK(total == linked);
	for (g = 0; g < m.size && g < 256 * G; g += G)
		if (!model_holding(g))
			CHECK(!dma_iova_find_chunk(&map, g));
	if (!m.iommu)
		return;
	/* nothing else of the range is mapped */
	for (g = 0; g < map.rec.iova_len && g < 256 * G; g += G) {
		bool used = false;

		for (i = 0; i < m.n && !used; i++)
			used = m.c[i].type != DMA_CHUNK_P2P_BUS &&
			       extents_meet(g, g + G, m.c[i].offset,
					    m.c[i].offset + m.c[i].size);
		if (!used)
			CHECK(!mock_iova_to_phys(map.addr + g));
	}
}

static bool injected(const unsigned int *calls_before)
{
	unsigned int s;

	for (s = 0; s < NR_FAIL_SITES; s++)
		if (mock.fail_at[s] > calls_before[s] &&
		    mock.fail_at[s] <= mock.calls[s])
			return true;
	return false;
}

/*
 * IOVA granules of 16 and 64 KiB (SMMUv3, 64 KiB IOMMU pages) beside
 * VT-d's 4 KiB, bouncing devices included, whatever PAGE_SIZE the fuzzer
 * was built with.
 */
static size_t pick_granule(const struct device *d, unsigned int pick)
{
	if (!d->iommu_granule)
		return 0;
	return pick == 6 ? SZ_16K : pick == 7 ? SZ_64K : SZ_4K;
}

static void op_alloc(struct input *in)
{
	unsigned int pick = take(in, 1);
	size_t size, align;
	int ret;

	dma_destroy_iova(&map);
	mock_fq_drain();
	memset(&m, 0, sizeof(m));
	dev = devs[pick % ARRAY_SIZE(devs)];
	dev.iommu_granule = pick_granule(&dev, pick / ARRAY_SIZE(devs) % 8);
	G = dev.iommu_granule ?: SZ_4K;
	size = take(in, 3) % (64 * G) + 1;
	align = (size_t)1 << (take(in, 1) % 24);
	if (take(in, 1) % 16 == 0)
		align = 3 * G;	/* not a power of two */
	ret = dma_alloc_iova(&dev, &map, size, align, 0);
	TRACE("alloc dev %u granule %#zx size %#zx align %#zx: %d\n",
	      pick % (unsigned int)ARRAY_SIZE(devs), dev.iommu_granule, size,
	      align, ret);
	if (align & (align - 1)) {
		CHECK(ret == -EINVAL);
		return;
	}
	if (ret) {
		CHECK(ret == -ENOMEM);
		return;
	}
	CHECK(!dev.iommu_granule ||
	      !(map.addr & (max_t(size_t, align, G) - 1)));
	m.live = true;
	m.iommu = dev.iommu_granule;
	m.size = size;
}

/* What dma_link_range() must answer, before fault injection. */
static int predict_link(size_t off, phys_addr_t phys, size_t size, int dir,
			enum dma_chunk_type *type)
{
	bool bounce = map.eng.dev && map.eng.dev->needs_bounce && m.iommu &&
		      ((phys | size) & (G - 1));
	int first, last;
	unsigned int i;
	size_t end;

	if (!m.live || dir > DMA_FROM_DEVICE)
		return -EINVAL;
	if (!size || check_add_overflow(off, size, &end) || end > m.size)
		return -EINVAL;
	if (m.iommu && ((off ^ phys) & (G - 1)))
		return -EINVAL;
	for (i = 0; i < m.n; i++)
		if (extents_meet(off, end, m.c[i].offset,
				 m.c[i].offset + m.c[i].size))
			return -EEXIST;
	first = mem_kind(phys);
	last = mem_kind(phys + size - 1);
	if (first == -2 || last == -2 || first != last)
		return -EINVAL;
	if (first == -1) {
		*type = bounce ? DMA_CHUNK_BOUNCE : DMA_CHUNK_HOST;
		return 0;
	}
	if (!map.eng.dev->is_pci || first == 2)
		return -EREMOTEIO;
	if (first == 1) {
		*type = DMA_CHUNK_P2P_BUS;
		return 0;
	}
	*type = DMA_CHUNK_P2P_HOST_BRIDGE;
	return bounce ? -EPERM : 0;
}

static void model_add(size_t off, size_t size, phys_addr_t phys,
		      enum dma_chunk_type type, int dir)
{
	unsigned int i = 0;

	while (i < m.n && m.c[i].offset < off)
		i++;
	memmove(&m.c[i + 1], &m.c[i], (m.n - i) * sizeof(m.c[0]));
	m.c[i] = (struct model_chunk){ off, size, phys, type, dir, true };
	m.n++;
}

/* A page of RAM, or of one of the three P2P providers. */
static phys_addr_t take_page(struct input *in)
{
	unsigned int kind = take(in, 1) % 8;

	if (kind < 5)
		return mock_phys(take(in, 2) % 1800);
	return mock_phys(MOCK_P2P_FIRST + (kind - 5) * MOCK_P2P_PAGES +
			 take(in, 1));
}

/*
 * dma_link_bvecs(): up to four bio_vecs, often physically contiguous;
 * the model places and predicts them chunk by chunk, as documented.
 */
static void op_link_bvecs(struct input *in)
{
	unsigned int nr = take(in, 1) % 5, i, before = reports(), misuse = 0;
	size_t off = take(in, 3) % (72 * G), start = off, first;
	int dir = take(in, 1) % 4, want = 0, ret;
	unsigned int calls[NR_FAIL_SITES];
	struct bio_vec bv[4];
	phys_addr_t phys = 0;

	if (m.n + nr > MAX_CHUNKS)
		return;
	for (i = 0; i < nr; i++) {
		/* odd draws give whole granules, the append loop's case */
		size_t v = take(in, 2);
		size_t len = v & 1 ? (v & 2 ? 2 * G : G) : v % (2 * G) + 1;

		/* one take() per statement: C leaves + unsequenced */
		if (!i || !(take(in, 1) % 2)) {
			phys = take_page(in);
			v = take(in, 2);
			phys = v & 1 ? phys & ~(phys_addr_t)(G - 1) : phys + v % G;
		}
		bv[i].bv_page = pfn_to_page(PHYS_PFN(phys));
		bv[i].bv_offset = offset_in_page(phys);
		/* a bio_vec stays within its memory kind */
		bv[i].bv_len = min(len, (size_t)(MOCK_P2P_PAGES * PAGE_SIZE -
					 (phys & (MOCK_P2P_PAGES * PAGE_SIZE - 1))));
		phys += bv[i].bv_len;
	}
	if (!m.live || !nr || dir > DMA_FROM_DEVICE)
		want = -EINVAL;
	/*
	 * The first chunk may start mid-granule where asked only in a granule
	 * that holds nothing: a start handed back after a chunk that ended
	 * mid-granule goes on as within one call.
	 */
	first = start;
	for (i = 0; m.iommu && (start & (G - 1)) && start < m.size && i < m.n; i++)
		if (gdown(m.c[i].offset) <= start &&
		    start < gup(m.c[i].offset + m.c[i].size))
			first = SIZE_MAX;
	for (i = 0; !want && i < nr; i++) {
		phys_addr_t p = bvec_phys(&bv[i]);
		size_t len = bv[i].bv_len;
		enum dma_chunk_type type = 0;

		while (i + 1 < nr && bvec_phys(&bv[i + 1]) == p + len &&
		       mem_kind(p) == mem_kind(bvec_phys(&bv[i + 1])))
			len += bv[++i].bv_len;
		/* the first chunk may start where asked, if it fits there */
		if (m.iommu && ((off == first ? off ^ p : off | p) & (G - 1)))
			off = gup(off) + (p & (G - 1));
		want = predict_link(off, p, len, dir, &type);
		if (!want)
			model_add(off, len, p, type, dir);
		else
			misuse = want == -EINVAL || want == -EEXIST ||
				 want == -EPERM;
		off += len;
	}
	memcpy(calls, mock.calls, sizeof(calls));
	ret = dma_link_bvecs(&map, &start, bv, nr, dir, 0);
	TRACE("link %u bvecs dir %d: %d (model %d)\n", nr, dir, ret, want);
	if (injected(calls) && ret == -ENOMEM) {
		want = -ENOMEM;
		misuse = 0;
	}
	CHECK(ret == want);
	if (ret) {
		/* an empty call unlinks nothing */
		if (m.live && nr)
			drop_pending();
	} else {
		CHECK(start == off);
	}
	if (!m.live || !nr || dir > DMA_FROM_DEVICE)
		misuse = 1;
	CHECK(reported(before, misuse));
}

static void op_link(struct input *in)
{
	unsigned int before = reports();
	size_t off = take(in, 3) % (72 * G);
	size_t size = take(in, 2) % (3 * G);
	int dir, want, ret;
	unsigned int calls[NR_FAIL_SITES];
	enum dma_chunk_type type = 0;
	phys_addr_t phys;

	size += take(in, 1) % 32 == 0 ? 0 : 1;	/* sometimes empty */
	dir = take(in, 1) % 4;
	if (m.n == MAX_CHUNKS)
		return;
	phys = take_page(in);
	/* mostly keep the granule offsets matched, else placement errors */
	phys += take(in, 1) % 4 ? (off & (G - 1)) : take(in, 2) % G;

	want = predict_link(off, phys, size, dir, &type);
	memcpy(calls, mock.calls, sizeof(calls));
	ret = dma_link_range(&map, off, phys, size, dir, 0);
	TRACE("link off %#zx phys %#llx size %#zx dir %d: %d (model %d)\n",
	      off, (unsigned long long)phys, size, dir, ret, want);
	if (!want && injected(calls))
		want = -ENOMEM;
	CHECK(ret == want);
	if (ret) {
		if (m.live)
			drop_pending();
	} else {
		model_add(off, size, phys, type, dir);
	}
	/* misuse is reported once; success, topology and ENOMEM are not */
	CHECK(reported(before, ret == -EINVAL || ret == -EEXIST ||
			      ret == -EPERM));
}

static void op_commit(void)
{
	unsigned int calls[NR_FAIL_SITES], i, before = reports();
	bool pending = false;
	int ret;

	for (i = 0; i < m.n; i++)
		pending |= m.c[i].pending;
	memcpy(calls, mock.calls, sizeof(calls));
	ret = dma_iova_commit(&map);
	TRACE("commit: %d\n", ret);
	if (!m.live) {
		CHECK(ret == -EINVAL && reported(before, 1));
		return;
	}
	CHECK(reported(before, 0));
	if (pending && m.iommu && injected(calls)) {
		CHECK(ret == -ENOMEM);
		drop_pending();
		return;
	}
	CHECK(ret == 0);
	for (i = 0; i < m.n; i++)
		m.c[i].pending = false;
}

/* The model's answer for dma_unlink_ranges(); marks chunks on success. */
static int predict_unlink(const struct dma_iova_range *r, unsigned int nr,
			  bool *doomed)
{
	unsigned int k, i, hit;
	size_t end;

	if (!m.live || !nr)
		return -EINVAL;
	memset(doomed, 0, MAX_CHUNKS);
	for (k = 0; k < nr; k++) {
		if (!r[k].size || check_add_overflow(r[k].offset, r[k].size, &end) ||
		    end > m.size)
			return -EINVAL;
		for (i = 0, hit = 0; i < m.n; i++) {
			size_t c_end = m.c[i].offset + m.c[i].size;

			if (m.c[i].offset < r[k].offset && c_end > r[k].offset)
				return -EINVAL;
			if (m.c[i].offset < r[k].offset || m.c[i].offset >= end)
				continue;
			if (c_end > end)
				return -EINVAL;
			doomed[i] = true;
			hit++;
		}
		if (!hit)
			return -ENOENT;
	}
	for (k = 0; k < nr; k++)
		for (i = k + 1; i < nr; i++)
			if (r[k].offset < r[i].offset + r[i].size &&
			    r[i].offset < r[k].offset + r[k].size)
				return -EINVAL;
	return 0;
}

/* Cache lines of chunk @i overlap another chunk's? */
static bool shares_lines(unsigned int i)
{
	phys_addr_t s = m.c[i].phys & ~63ULL;
	phys_addr_t e = m.c[i].phys + m.c[i].size;
	unsigned int k;

	for (k = 0; k < m.n; k++)
		if (k != i && (m.c[k].phys & ~63ULL) < e &&
		    s < m.c[k].phys + m.c[k].size)
			return true;
	return false;
}

/*
 * The one chunk an unlink takes, if the device can write to it and its
 * bytes must reach memory: host memory (bounced or not) behind the IOMMU,
 * committed, mapped for the device to write, and on a device that does not
 * snoop the CPU cache not sharing a cache line with another chunk (a
 * caller's bug there, not ours). -1 otherwise.
 */
static int writable_chunk(const bool *doomed)
{
	int i, pick = -1;

	for (i = 0; i < (int)m.n; i++) {
		if (!doomed[i])
			continue;
		if (pick >= 0)
			return -1;
		pick = i;
	}
	if (pick < 0 || !m.iommu || m.c[pick].pending ||
	    m.c[pick].dir == DMA_TO_DEVICE ||
	    (m.c[pick].type != DMA_CHUNK_HOST &&
	     m.c[pick].type != DMA_CHUNK_BOUNCE) ||
	    (!dev.coherent && shares_lines(pick)))
		return -1;
	return pick;
}

static void op_unlink(struct input *in)
{
	struct dma_iova_range r[3];
	unsigned int nr = take(in, 1) % 4, k, i, before = reports();
	bool doomed[MAX_CHUNKS], pending = false;
	int want, ret, w;

	for (k = 0; k < nr; k++) {
		unsigned int pick = take(in, 1);

		if (m.n && pick % 4) {	/* mostly whole chunks */
			const struct model_chunk *c = &m.c[pick % m.n];

			r[k].offset = c->offset;
			r[k].size = c->size + (pick % 8 == 1 ? G : 0);
		} else {
			r[k].offset = take(in, 3) % (72 * G);
			r[k].size = take(in, 2) % (4 * G);
		}
	}
	want = predict_unlink(r, nr, doomed);
	/* the device writes the chunk; the CPU must see it after the unlink */
	w = want ? -1 : writable_chunk(doomed);
	if (w >= 0)
		mock_dev_write(&dev, map.addr + m.c[w].offset,
			       0x40 + w, m.c[w].size);
	for (i = 0; m.live && i < m.n; i++)
		for (k = 0; k < nr; k++)
			pending |= m.c[i].pending &&
				   m.c[i].offset >= r[k].offset &&
				   m.c[i].offset - r[k].offset < r[k].size;
	ret = dma_unlink_ranges(&map, r, nr);
	TRACE("unlink %u ranges (%#zx+%#zx): %d (model %d)\n", nr,
	      nr ? r[0].offset : 0, nr ? r[0].size : 0, ret, want);
	CHECK(ret == want);
	CHECK(reported(before, (!m.live || pending || ret != 0)));
	if (w >= 0) {
		const u8 *v = phys_to_virt(m.c[w].phys);

		for (k = 0; k < m.c[w].size; k++)
			CHECK(v[k] == 0x40 + w);
	}
	if (!ret) {
		for (i = 0, k = 0; i < m.n; i++)
			if (!doomed[i])
				m.c[k++] = m.c[i];
		m.n = k;
	}
}

static void op_sync(struct input *in)
{
	size_t off = take(in, 3) % (72 * G), size = take(in, 2) % (4 * G);

	if (take(in, 1) & 1)
		dma_iova_sync_for_cpu(&map, off, size);
	else
		dma_iova_sync_for_device(&map, off, size);
}

static void op_destroy(void)
{
	unsigned int i, before = reports();
	bool pending = false;

	for (i = 0; i < m.n; i++)
		pending |= m.c[i].pending;
	dma_destroy_iova(&map);
	CHECK(reported(before, (m.live && pending)));
	memset(&m, 0, sizeof(m));
}

/* Lends run storage; kept until the mapping goes. */
static struct dma_iova_chunk lent[MAX_CHUNKS];

static void op_provide(struct input *in)
{
	unsigned int nr = take(in, 1) % MAX_CHUNKS, before = reports();
	int ret = dma_iova_provide_chunks(&map, nr ? lent : NULL, nr);

	TRACE("provide %u: %d\n", nr, ret);
	CHECK(ret == (!m.live || !nr ? -EINVAL : m.n ? -EBUSY : 0));
	CHECK(reported(before, 0));
}

struct released {
	size_t bytes;
	size_t last_end;
	bool ordered;
};

static void note_release(const struct dma_iova_chunk *c, void *arg)
{
	struct released *r = arg;

	r->ordered &= c->offset >= r->last_end;
	r->last_end = c->offset + c->size;
	r->bytes += c->size;
	/* Called once the device lost it: nothing stale in the IOTLB. */
	CHECK(!mock.nr_stale || map.eng.dev->lazy);
}

/* dma_destroy_iova_release(): every linked byte once, in offset order. */
static void op_destroy_release(void)
{
	struct released r = { .ordered = true };
	unsigned int i, before = reports();
	size_t bytes = 0;
	bool pending = false;

	for (i = 0; i < m.n; i++) {
		pending |= m.c[i].pending;
		bytes += m.c[i].size;
	}
	dma_destroy_iova_release(&map, note_release, &r);
	CHECK(r.ordered && r.bytes == (m.live ? bytes : 0));
	CHECK(reported(before, (m.live && pending)));
	memset(&m, 0, sizeof(m));
}

static void op_free(void)
{
	unsigned int before = reports();
	int ret = dma_free_iova(&map);

	CHECK(ret == (!m.live ? -EINVAL : m.n ? -EBUSY : 0));
	CHECK(reported(before, (ret != 0)));
	if (!ret)
		memset(&m, 0, sizeof(m));
}

static void op_inject(struct input *in)
{
	static const enum mock_site sites[] = {
		FAIL_IOVA_ALLOC, FAIL_MAP, FAIL_SYNC, FAIL_SWIOTLB,
		FAIL_KMALLOC, FAIL_DIRECT_MAP,
	};
	enum mock_site s = sites[take(in, 1) % 6];

	mock.fail_at[s] = mock.calls[s] + 1 + take(in, 1) % 4;
}

static void print_ops(void)
{
	fprintf(stderr, "fuzz: %llu operations checked against the model\n",
		fuzz_ops_total);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	atexit(print_ops);
	return 0;
}

static void run_ops(const u8 *data, size_t size, bool dma_debug_off)
{
	struct input in = { data, size };
	unsigned int ops = 0;

	mock_reset();
	mock.dma_debug_off = dma_debug_off;
	memset(&m, 0, sizeof(m));
	memset(&map, 0, sizeof(map));
	while (in.left && ops++ < 256) {
		switch (take(&in, 1) % 11) {
		case 0:
			op_alloc(&in);
			break;
		case 1: case 2: case 3:
			op_link(&in);
			break;
		case 10:
			op_link_bvecs(&in);
			break;
		case 4:
			op_commit();
			break;
		case 5:
			op_unlink(&in);
			break;
		case 6:
			op_sync(&in);
			break;
		case 7:
			switch (take(&in, 1) % 4) {
			case 0:
				op_destroy();
				break;
			case 1:
				op_destroy_release();
				break;
			case 2:
				op_provide(&in);
				break;
			default:
				op_free();
			}
			break;
		default:
			op_inject(&in);
			break;
		}
		model_check();
	}
	fuzz_ops_total += ops;
	dma_destroy_iova(&map);
	mock_fq_drain();
	CHECK(mock_check_clean());
}

/*
 * Each input runs with dma-debug on, whose hooks check every chunk, and
 * off, as in production, where the link loops skip the per-chunk work the
 * hooks need.
 */
int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	run_ops(data, size, false);
	run_ops(data, size, true);
	return 0;
}
