/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the KUnit suites of the two-step IOVA API and of its
 * users (blk-dma): edu devices behind the IOMMU, test pages, NVMe CMB P2P
 * memory, and page-table checks with iommu_iova_to_phys().
 */
#ifndef _LIB_TESTS_DMA_IOVA_KUNIT_H
#define _LIB_TESTS_DMA_IOVA_KUNIT_H

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-iova.h>
#include <linux/fault-inject.h>
#include <linux/iommu.h>
#include <linux/iommu-dma.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/pci-p2pdma.h>
#include <linux/sched.h>
#include <linux/swiotlb.h>

#include "dma_iova_edu.h"

struct iova_env {
	struct edu edu;
	struct iommu_domain *domain;
};

/*
 * Booted with dma_iova_kunit.untrusted=1, blk_dma_kunit.untrusted=1 and
 * umem_link_kunit.untrusted=1, the suites run with their edu and NVMe
 * devices marked untrusted, as behind an external-facing port: what does
 * not fill an IOMMU granule is bounced through swiotlb.
 */
static bool untrusted_run;
module_param_named(untrusted, untrusted_run, bool, 0444);
MODULE_PARM_DESC(untrusted, "run with untrusted (bounced) edu and NVMe devices");

/*
 * For a case that checks the runs or page-table entries of unaligned
 * chunks on a trusted device: an untrusted run bounces them.
 */
static inline void need_trusted(struct kunit *test)
{
	if (untrusted_run)
		kunit_skip(test,
			   "untrusted run: unaligned chunks bounce, the case checks a trusted device's runs");
}

/* Back to the run's setting, after a case marked @pdev itself. */
static inline void untrusted_reset(void *pdev)
{
	((struct pci_dev *)pdev)->untrusted = untrusted_run;
}

/* Mark @pdev untrusted, or trusted, for the rest of the test. */
static inline void untrusted_set(struct kunit *test, struct pci_dev *pdev,
				 bool on)
{
	pdev->untrusted = on;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, untrusted_reset,
							pdev), 0);
}

static inline void env_close(void *data)
{
	struct iova_env *env = data;

	edu_close(&env->edu);
	pci_dev_put(env->edu.pdev);
}

/* edu device @nth, whether an IOMMU translates its DMA or not. */
static inline struct iova_env *env_get_any(struct kunit *test,
					   unsigned int nth)
{
	struct iova_env *env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);
	struct pci_dev *pdev = edu_find(nth);

	KUNIT_ASSERT_NOT_NULL(test, env);
	KUNIT_ASSERT_NOT_NULL_MSG(test, pdev, "edu device %u not found", nth);
	KUNIT_ASSERT_EQ(test, edu_open(&env->edu, pdev), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, env_close, env),
			0);
	pdev->untrusted = untrusted_run;
	env->domain = iommu_get_domain_for_dev(&pdev->dev);
	return env;
}

/*
 * edu device @nth behind its IOMMU DMA domain. A direct-mapped device
 * (iommu.passthrough=1) skips the test: the runner allows that skip only on
 * such a boot, and fails it anywhere else.
 */
static inline struct iova_env *env_get(struct kunit *test, unsigned int nth)
{
	struct iova_env *env = env_get_any(test, nth);
	struct pci_dev *pdev = env->edu.pdev;

	if (!use_dma_iommu(&pdev->dev))
		kunit_skip(test, "%s is direct-mapped: no IOMMU DMA domain",
			   pci_name(pdev));
	KUNIT_ASSERT_NOT_NULL_MSG(test, env->domain, "no IOMMU for %s",
				  pci_name(pdev));
	/* the suites lay chunks out in pages: one page must be one granule */
	KUNIT_ASSERT_EQ_MSG(test, dma_get_merge_boundary(&pdev->dev) + 1,
			    PAGE_SIZE, "IOMMU granule of %s is not PAGE_SIZE",
			    pci_name(pdev));
	return env;
}

/* The DMA address of byte @off of @map, however the chunk reaches the device. */
static inline dma_addr_t map_dma_at(struct kunit *test,
				    const struct dma_iova_mapping *map,
				    size_t off)
{
	const struct dma_iova_chunk *c = dma_iova_find_chunk(map, off);

	KUNIT_ASSERT_NOT_NULL_MSG(test, c, "nothing linked at %zx", off);
	return c->dma_addr + (off - c->offset);
}

/* A device on no bus and behind no IOMMU, addressing 64 bits: dma-direct. */
static inline struct device *direct_dev_get(struct kunit *test,
					    const char *name)
{
	struct device *dev = kunit_device_register(test, name);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	dev->coherent_dma_mask = DMA_BIT_MASK(64);
	dev->dma_mask = &dev->coherent_dma_mask;
	return dev;
}

static inline struct device *env_dev(struct iova_env *env)
{
	return &env->edu.pdev->dev;
}

static inline void edu_mask_restore(void *dev)
{
	WARN_ON(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(EDU_DMA_BITS)));
}

/*
 * Let the edu device address 1 TiB for one test: QEMU runs it with a
 * 40-bit dma_mask, the driver keeps 28 bits otherwise.
 */
static inline void edu_wide_mask(struct kunit *test, struct device *dev)
{
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(40)),
			0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, edu_mask_restore,
							dev), 0);
}

static inline void destroy_action(void *map)
{
	dma_destroy_iova(map);
}

static inline struct dma_iova_mapping *map_alloc(struct kunit *test,
						 struct device *dev,
						 size_t size)
{
	struct dma_iova_mapping *map = kunit_kzalloc(test, sizeof(*map),
						     GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, map);
	KUNIT_ASSERT_EQ(test, dma_alloc_iova(dev, map, size, 0, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, destroy_action, map), 0);
	return map;
}

struct test_pages {
	struct page *page;
	unsigned int order;
};

static inline void pages_free(void *data)
{
	struct test_pages *p = data;

	__free_pages(p->page, p->order);
}

/* 2^@order physically contiguous pages filled with @fill. */
static inline phys_addr_t pages_get(struct kunit *test, unsigned int order,
				    u8 fill)
{
	struct test_pages *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	p->order = order;
	p->page = alloc_pages(GFP_KERNEL, order);
	KUNIT_ASSERT_NOT_NULL(test, p->page);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pages_free, p),
			0);
	memset(page_address(p->page), fill, PAGE_SIZE << order);
	return page_to_phys(p->page);
}

/* The run of the record holding linked byte @offset, or %NULL. */
static inline const struct dma_iova_chunk *
chunk_at(const struct dma_iova_mapping *map, size_t offset)
{
	return dma_iova_find_chunk(map, offset);
}

/* Type of the run holding linked byte @offset, -1 if nothing is linked. */
static inline int type_at(const struct dma_iova_mapping *map, size_t offset)
{
	const struct dma_iova_chunk *c = dma_iova_find_chunk(map, offset);

	return c ? c->type : -1;
}

/* Number of DMA segments of @map; *@first gets the first. */
static inline unsigned int nr_segs(struct dma_iova_mapping *map,
				   struct dma_iova_seg *first)
{
	struct dma_iova_iter iter;
	struct dma_iova_seg seg;
	unsigned int n = 0;

	dma_iova_for_each_seg(map, &iter, &seg)
		if (!n++)
			*first = seg;
	return n;
}

/* Nothing linked since the last commit. */
static inline bool nothing_pending(const struct dma_iova_mapping *map)
{
	return dma_iova_first_pending(map, 0, dma_iova_size(map)) < 0;
}

/*
 * @got is a swiotlb slot that holds the byte at @want, at its offset in
 * @dev's granule (a bounced head or tail, checked right after the link).
 */
static inline bool slot_mirrors(struct device *dev, phys_addr_t got,
				phys_addr_t want)
{
	return swiotlb_find_pool(dev, got) &&
	       !((got ^ want) & dma_get_merge_boundary(dev)) &&
	       *(u8 *)phys_to_virt(got) == *(u8 *)phys_to_virt(want);
}

/* Byte @off of @map lies in the first or last granule of chunk @c. */
static inline bool bounced_edge(const struct dma_iova_mapping *map,
				const struct dma_iova_chunk *c, size_t off)
{
	size_t mask = dma_iova_granule(map) - 1;

	return (off & ~mask) == (c->offset & ~mask) ||
	       (off & ~mask) == ((c->offset + c->size - 1) & ~mask);
}

/*
 * Every byte of [offset, offset + size) resolves to phys + i, or, in the
 * bounced head or tail of a chunk, to a swiotlb slot at the same offset in
 * the granule.
 */
static inline void expect_resolves(struct kunit *test,
				   struct iommu_domain *domain,
				   struct dma_iova_mapping *map, size_t offset,
				   phys_addr_t phys, size_t size)
{
	dma_addr_t base = dma_iova_addr(map);
	const struct dma_iova_chunk *c;
	size_t i;

	for (i = 0; i < size; i++) {
		phys_addr_t got = iommu_iova_to_phys(domain, base + offset + i);

		c = dma_iova_find_chunk(map, offset + i);
		if (got != phys + i && c && c->type == DMA_CHUNK_BOUNCE &&
		    bounced_edge(map, c, offset + i) &&
		    slot_mirrors(map->eng.dev, got, phys + i))
			continue;
		if (got != phys + i) {
			KUNIT_FAIL(test, "iova %pad+%zx -> %pa, want %pa+%zx",
				   &base, offset + i, &got, &phys, i);
			return;
		}
	}
}

static inline void expect_unmapped(struct kunit *test,
				   struct iommu_domain *domain,
				   dma_addr_t iova, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += SZ_512) {
		phys_addr_t got = iommu_iova_to_phys(domain, iova + i);

		if (got) {
			KUNIT_FAIL(test, "iova %pad+%zx still -> %pa", &iova,
				   i, &got);
			return;
		}
	}
}

/*
 * The IOVA allocator hands out the range just released again when nothing
 * leaked: allocate the same size and compare. Freed ranges of up to 32
 * pages go to the rcache of the CPU that frees them, which for a lazy
 * domain is the CPU its flush-queue timer (10 ms) runs on, hence the wait
 * and the allocation tried on every CPU. A leaked range is in no rcache.
 */
static inline void expect_iova_released(struct kunit *test,
					struct device *dev, dma_addr_t addr,
					size_t size)
{
	struct dma_iova_mapping again;
	bool released = false;
	int cpu;

	msleep(50);
	for_each_online_cpu(cpu) {
		set_cpus_allowed_ptr(current, cpumask_of(cpu));
		KUNIT_ASSERT_EQ(test, dma_alloc_iova(dev, &again, size, 0,
						     GFP_KERNEL), 0);
		released = dma_iova_addr(&again) == addr;
		KUNIT_EXPECT_EQ(test, dma_free_iova(&again), 0);
		if (released)
			break;
	}
	set_cpus_allowed_ptr(current, cpu_possible_mask);
	KUNIT_EXPECT_TRUE_MSG(test, released,
			      "IOVA %pad not returned to the allocator", &addr);
}

/* The NVMe controller next to @near with CMB P2P memory, or the test fails. */
static inline struct pci_dev *cmb_provider(struct kunit *test,
					   struct pci_dev *near)
{
	struct pci_dev *pdev = edu_cmb_near(near);

	/* a controller whose probe failed is the machine's limit, not ours */
	if (!pdev && edu_nvme_near(near, true))
		kunit_skip(test, "the NVMe controller next to %s has no driver (its probe failed)",
			   pci_name(near));
	KUNIT_ASSERT_NOT_NULL_MSG(test, pdev,
				  "no NVMe with CMB P2P memory next to %s",
				  pci_name(near));
	return pdev;
}

struct p2p_buf {
	struct pci_dev *pdev;
	void *va;
	size_t size;
};

static inline void p2p_free(void *data)
{
	struct p2p_buf *b = data;

	pci_free_p2pmem(b->pdev, b->va, b->size);
	pci_dev_put(b->pdev);
}

static inline struct p2p_buf *p2p_get(struct kunit *test,
				      struct pci_dev *near, size_t size)
{
	struct p2p_buf *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->pdev = cmb_provider(test, near);
	b->size = size;
	b->va = pci_alloc_p2pmem(b->pdev, size);
	if (!b->va)
		pci_dev_put(b->pdev);
	KUNIT_ASSERT_NOT_NULL(test, b->va);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, p2p_free, b), 0);
	return b;
}

/*
 * Skip unless @client may reach memory of @provider through the host
 * bridge: pci_p2pdma allows that only for host bridges on its allow list
 * (some x86 ones).
 */
static inline void p2p_need_host_bridge(struct kunit *test,
					struct pci_dev *provider,
					struct device *client)
{
	if (pci_p2pdma_distance(provider, client, false) < 0)
		kunit_skip(test, "the kernel allows no P2P through this host bridge (%s)",
			   pci_name(provider));
}

#ifdef CONFIG_FAULT_INJECTION
/* Fail the @k-th call of this task into fail_dma_iova, once. */
static inline void fault_arm(unsigned long k)
{
	fail_dma_iova.probability = 100;
	fail_dma_iova.interval = k;
	fail_dma_iova.count = 0;
	fail_dma_iova.task_filter = true;
	fail_dma_iova.verbose = 0;
	atomic_set(&fail_dma_iova.times, 1);
	current->make_it_fail = 1;
}

/* Disarm; return whether the failure was injected. */
static inline bool fault_disarm(void)
{
	bool hit = !atomic_read(&fail_dma_iova.times);

	current->make_it_fail = 0;
	fail_dma_iova.probability = 0;
	atomic_set(&fail_dma_iova.times, 0);
	return hit;
}

/*
 * The variable behind one of fail_page_alloc's debugfs knobs. Nothing has
 * mounted debugfs this early, so look the knob up.
 */
static inline void *fail_page_alloc_knob(const char *name)
{
	struct dentry *dir = debugfs_lookup("fail_page_alloc", NULL), *knob;
	void *val = NULL;

	if (IS_ERR_OR_NULL(dir))
		return NULL;
	knob = debugfs_lookup(name, dir);
	if (!IS_ERR_OR_NULL(knob)) {
		val = d_inode(knob)->i_private;
		dput(knob);
	}
	dput(dir);
	return val;
}

/*
 * Start and end of function @name (static ones too: a kprobe resolves it),
 * from its symbol "name+0x0/0xSIZE".
 */
static inline bool function_extent(const char *name, unsigned long *start,
				   unsigned long *end)
{
	struct kprobe kp = { .symbol_name = name };
	char sym[KSYM_SYMBOL_LEN], *slash;
	unsigned long size;

	if (register_kprobe(&kp))
		return false;
	*start = (unsigned long)kp.addr - kp.offset;
	unregister_kprobe(&kp);
	sprint_symbol(sym, *start);
	slash = strrchr(sym, '/');
	if (!slash || kstrtoul(slash + 1, 16, &size) || !size)
		return false;
	*end = *start + size;
	return true;
}
#endif /* CONFIG_FAULT_INJECTION */

#endif /* _LIB_TESTS_DMA_IOVA_KUNIT_H */
