// SPDX-License-Identifier: GPL-2.0-only
/*
 * Boot demo of the two-step IOVA API (dma_iova_demo.run=1): one IOVA for
 * QEMU's edu device holding a host chunk, an NVMe CMB chunk reached through
 * the host bridge and a bounced (unaligned, untrusted-device) chunk; the edu
 * engine writes a pattern into each through the IOMMU and the bytes are
 * checked. A second edu behind a PCIe switch shows a bus-address P2P chunk.
 */
#define pr_fmt(fmt) "dma_iova_demo: " fmt

#include <linux/dma-iova.h>
#include <linux/init.h>
#include <linux/iommu.h>
#include <linux/moduleparam.h>
#include <linux/nvme.h>
#include <linux/pci-p2pdma.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "dma_iova_edu.h"

static bool run;
module_param(run, bool, 0444);

static const char * const type_names[] = {
	[DMA_CHUNK_HOST] = "host",
	[DMA_CHUNK_BOUNCE] = "swiotlb-bounce",
	[DMA_CHUNK_P2P_BUS] = "p2p-bus-addr",
	[DMA_CHUNK_P2P_HOST_BRIDGE] = "p2p-host-bridge",
};

/* Let the device write @len bytes of @fill at IOVA @dma; check @cpu. */
static const char *device_write(struct edu *edu, dma_addr_t dma,
				dma_addr_t src_dma, void *cpu, size_t len,
				bool iomem, u8 fill)
{
	u8 got[64];
	size_t i;

	if (edu_copy(edu, src_dma, dma, len))
		return "DMA timeout";
	for (i = 0; i < len; i += sizeof(got)) {
		if (iomem)
			memcpy_fromio(got, (void __iomem *)cpu + i, sizeof(got));
		else
			memcpy(got, cpu + i, sizeof(got));
		if (memchr_inv(got, fill, sizeof(got)))
			return "DATA MISMATCH";
	}
	return "ok, bytes verified";
}

/* The chunk linked at @offset from @phys, as the mapping recorded it. */
static void print_chunk(struct dma_iova_mapping *map, size_t offset,
			phys_addr_t phys, size_t size, const char *outcome)
{
	const struct dma_iova_chunk *c = dma_iova_find_chunk(map, offset);

	if (!c)
		return;
	pr_info("| %-16s | %#12llx | %#12llx | %#7zx | %s\n",
		type_names[c->type], (u64)phys,
		(u64)(c->dma_addr + (offset - c->offset)), size, outcome);
}

/*
 * One chunk per page (the IOMMU granule is at most a page on every machine
 * the demo runs on): source, host, CMB, and at 4 pages an unaligned chunk.
 * edu moves at most 4 KiB, so each transfer is 4 KiB whatever PAGE_SIZE is.
 */
static void demo_one(struct edu *edu, struct pci_dev *cmb_dev)
{
	struct device *dev = &edu->pdev->dev;
	struct page *src = alloc_page(GFP_KERNEL | __GFP_ZERO);
	struct page *host = alloc_pages(GFP_KERNEL | __GFP_ZERO, 2);
	void *cmb = cmb_dev ? pci_alloc_p2pmem(cmb_dev, PAGE_SIZE) : NULL;
	const size_t g = PAGE_SIZE;
	phys_addr_t bounce_phys;
	struct dma_iova_mapping map;
	const char *res_host, *res_cmb = "no CMB", *res_bounce;
	void *bounce_va;
	int ret;

	if (!src || !host)
		goto out;
	memset(page_address(src), 0xc3, PAGE_SIZE);
	ret = dma_alloc_iova(dev, &map, 8 * g, 8 * g, GFP_KERNEL);
	if (ret) {
		pr_err("dma_alloc_iova: %d\n", ret);
		goto out;
	}
	pr_info("%s: IOVA %#llx..%#llx (%s)\n", pci_name(edu->pdev),
		(u64)dma_iova_addr(&map),
		(u64)(dma_iova_addr(&map) + dma_iova_size(&map) - 1),
		dma_iova_uses_iommu(&map) ? "IOMMU" : "direct");

	ret = dma_link_range(&map, 0, page_to_phys(src), g, DMA_TO_DEVICE,
			     0) ?:
	      dma_link_range(&map, g, page_to_phys(host), g, DMA_FROM_DEVICE,
			     0) ?:
	      dma_iova_commit(&map);
	if (ret) {
		pr_err("link: %d\n", ret);
		goto destroy;
	}
	if (cmb) {
		ret = dma_link_range(&map, 2 * g, virt_to_phys(cmb), g,
				     DMA_BIDIRECTIONAL, 0) ?:
		      dma_iova_commit(&map);
		/* a topology the kernel refuses is an answer, not a failure */
		if (ret == -EREMOTEIO)
			res_cmb = "refused (-EREMOTEIO): no P2P through this host bridge";
		else if (ret)
			pr_err("link: %d\n", ret);
	}

	pr_info("| %-16s | %12s | %12s | %7s | %s\n", "type", "phys",
		"dma addr", "size", "device DMA through it");
	res_host = device_write(edu, dma_iova_addr(&map) + g,
				dma_iova_addr(&map), page_address(host), SZ_4K,
				false, 0xc3);
	print_chunk(&map, 0, page_to_phys(src), g, "source of the copies");
	print_chunk(&map, g, page_to_phys(host), g, res_host);
	if (cmb && !ret) {
		const struct dma_iova_chunk *c = dma_iova_find_chunk(&map,
								     2 * g);

		if (c->type == DMA_CHUNK_P2P_BUS)
			res_cmb = "mapping only: QEMU translates bus addresses";
		else
			res_cmb = device_write(edu, dma_iova_addr(&map) + 2 * g,
					       dma_iova_addr(&map), cmb, SZ_4K,
					       true, 0xc3);
		print_chunk(&map, 2 * g, virt_to_phys(cmb), g, res_cmb);
	} else if (cmb) {
		pr_info("| %-16s | %#12llx | %12s | %#7zx | %s\n", "p2p",
			(u64)virt_to_phys(cmb), "-", g, res_cmb);
	}

	/* Bounce: make the device untrusted and link an unaligned chunk. */
	edu->pdev->untrusted = true;
	bounce_phys = page_to_phys(host) + g + 0x200;
	bounce_va = phys_to_virt(bounce_phys);
	ret = dma_link_range(&map, 4 * g + 0x200, bounce_phys, SZ_4K,
			     DMA_FROM_DEVICE, 0) ?: dma_iova_commit(&map);
	if (ret) {
		pr_err("bounce link: %d\n", ret);
	} else {
		if (edu_copy(edu, dma_iova_addr(&map),
			     dma_iova_addr(&map) + 4 * g + 0x200, SZ_4K)) {
			res_bounce = "DMA timeout";
		} else if (!memchr_inv(bounce_va, 0xc3, SZ_4K)) {
			res_bounce = "WRONG: bytes arrived before the sync";
		} else {
			dma_iova_sync_for_cpu(&map, 4 * g + 0x200, SZ_4K);
			res_bounce = memchr_inv(bounce_va, 0xc3, SZ_4K) ?
				     "DATA MISMATCH" :
				     "ok, bytes verified after sync";
		}
		print_chunk(&map, 4 * g + 0x200, bounce_phys, SZ_4K,
			    res_bounce);
	}
	edu->pdev->untrusted = false;

destroy:
	dma_destroy_iova(&map);
out:
	if (cmb)
		pci_free_p2pmem(cmb_dev, cmb, PAGE_SIZE);
	if (host)
		__free_pages(host, 2);
	if (src)
		__free_page(src);
}

/*
 * Whether @edu's DMA lands through 6.12's own streaming API. Where it does
 * not, the machine cannot translate the device's DMA (QEMU 7.2's amd-iommu
 * for devices behind a PCIe switch) and nothing here could be shown.
 */
static bool stock_dma_works(struct edu *edu)
{
	struct device *dev = &edu->pdev->dev;
	struct page *page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	dma_addr_t dma;
	bool ok = false;

	if (!page)
		return false;
	memset(page_address(page), 0x5a, SZ_1K);
	dma = dma_map_page(dev, page, 0, PAGE_SIZE, DMA_BIDIRECTIONAL);
	if (!dma_mapping_error(dev, dma)) {
		ok = !edu_copy(edu, dma, dma + SZ_2K, SZ_1K);
		dma_unmap_page(dev, dma, PAGE_SIZE, DMA_BIDIRECTIONAL);
		ok = ok && !memchr_inv(page_address(page) + SZ_2K, 0x5a, SZ_1K);
	}
	__free_page(page);
	return ok;
}

static int __init dma_iova_demo(void)
{
	unsigned int nth, skipped = 0;

	if (!run)
		return 0;
	for (nth = 0; nth < 2; nth++) {
		struct pci_dev *pdev = edu_find(nth), *cmb_dev;
		struct edu edu = {};

		if (!pdev)
			break;
		if (edu_open(&edu, pdev)) {
			pr_err("%s: cannot open edu\n", pci_name(pdev));
			pci_dev_put(pdev);
			continue;
		}
		if (stock_dma_works(&edu)) {
			cmb_dev = edu_cmb_near(pdev);
			demo_one(&edu, cmb_dev);
			pci_dev_put(cmb_dev);
		} else {
			pr_info("%s: the machine does not translate this device's DMA (dma_map_page() fails too)\n",
				pci_name(pdev));
			skipped++;
		}
		edu_close(&edu);
		pci_dev_put(pdev);
	}
	/* a demo that could not show everything is not done */
	if (skipped)
		pr_info("skipped: the machine does not translate the DMA of %u edu device(s)\n",
			skipped);
	else
		pr_info("done\n");
	return 0;
}
late_initcall_sync(dma_iova_demo);
