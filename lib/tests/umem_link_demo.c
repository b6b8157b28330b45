// SPDX-License-Identifier: GPL-2.0-only
/*
 * Boot demo of RDMA memory regions on one IOVA (umem_link_demo.run=1): a
 * dma-buf whose memory is a host page, a page of NVMe CMB and another host
 * page is registered as one region for an ib_device that does DMA through
 * QEMU's edu device. The edu engine writes across every chunk boundary of
 * the region through the IOMMU and the bytes are checked where they land.
 */
#define pr_fmt(fmt) "umem_link_demo: " fmt

#include <linux/dma-resv.h>
#include <linux/init.h>
#include <linux/moduleparam.h>
#include <linux/nvme.h>
#include <linux/pci-p2pdma.h>
#include <rdma/ib_umem_link.h>
#include <rdma/ib_verbs.h>

#include "dma_iova_edu.h"
#include "umem_link_exporter.h"

static bool run;
module_param(run, bool, 0444);

#define NR_PARTS	3

static const char * const type_names[] = {
	[DMA_CHUNK_HOST] = "host",
	[DMA_CHUNK_BOUNCE] = "swiotlb-bounce",
	[DMA_CHUNK_P2P_BUS] = "p2p-bus-addr",
	[DMA_CHUNK_P2P_HOST_BRIDGE] = "p2p-host-bridge",
};

static void move_notify(struct dma_buf_attachment *attach)
{
	ib_umem_link_dmabuf_unmap_pages(attach->importer_priv);
}

static const struct dma_buf_attach_ops importer_ops = {
	.allow_peer2peer = true,
	.move_notify = move_notify,
};

/* The device copies @src_dma's page over [@at, @at + @len) of the region. */
static const char *write_across(struct edu *edu, dma_addr_t src_dma,
				dma_addr_t at, size_t len, void *const *cpu,
				const size_t *ends, size_t off)
{
	unsigned int p = 0;
	size_t i, start = 0;

	if (edu_copy(edu, src_dma, at, len))
		return "DMA timeout";
	for (i = off; i < off + len; i++) {
		while (i >= ends[p])
			start = ends[p++];
		if (((u8 *)cpu[p])[i - start] != 0xc3)
			return "DATA MISMATCH";
	}
	return "ok, bytes verified";
}

/* Return: 0 when every write landed, -EREMOTEIO when the topology refuses. */
static int demo(struct edu *edu, struct pci_dev *cmb_dev)
{
	struct device *dev = &edu->pdev->dev;
	struct page *host[2] = {
		alloc_page(GFP_KERNEL | __GFP_ZERO),
		alloc_page(GFP_KERNEL | __GFP_ZERO),
	};
	struct page *src = alloc_page(GFP_KERNEL);
	void *cmb = pci_alloc_p2pmem(cmb_dev, PAGE_SIZE);
	struct ib_umem_link_dmabuf *umem = NULL;
	struct test_exporter *exp = NULL;
	struct ib_device *ibdev = NULL;
	dma_addr_t src_dma = DMA_MAPPING_ERROR;
	struct dma_iova_seg seg;
	struct dma_iova_iter iter;
	void *cpu[NR_PARTS];
	size_t ends[NR_PARTS], off;
	const size_t part_len[NR_PARTS] = { PAGE_SIZE, PAGE_SIZE, PAGE_SIZE };
	phys_addr_t part_phys[NR_PARTS];
	const char *res[2];
	unsigned int i;
	int ret = -EIO;

	if (!host[0] || !host[1] || !src || !cmb) {
		pr_err("out of memory (or no CMB on %s)\n", pci_name(cmb_dev));
		goto out;
	}
	memset(page_address(src), 0xc3, PAGE_SIZE);
	src_dma = dma_map_page(dev, src, 0, PAGE_SIZE, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, src_dma))
		goto out;

	part_phys[0] = page_to_phys(host[0]);
	part_phys[1] = virt_to_phys(cmb);
	part_phys[2] = page_to_phys(host[1]);
	{
		struct dma_buf_phys_vec vecs[NR_PARTS] = {
			{ part_phys[0], part_len[0] },
			{ part_phys[1], part_len[1] },
			{ part_phys[2], part_len[2] },
		};

		exp = test_exporter_create(vecs, NR_PARTS);
	}
	if (IS_ERR(exp)) {
		pr_err("export: %pe\n", exp);
		exp = NULL;
		goto out;
	}
	ibdev = _ib_alloc_device(sizeof(*ibdev));
	if (!ibdev)
		goto out;
	ibdev->dma_device = dev;

	umem = ib_umem_link_dmabuf_get(ibdev, exp->dmabuf, 0, exp->dmabuf->size,
				       IB_ACCESS_LOCAL_WRITE, &importer_ops,
				       NULL);
	if (IS_ERR(umem)) {
		pr_err("register: %pe\n", umem);
		umem = NULL;
		goto out;
	}
	dma_resv_lock(exp->dmabuf->resv, NULL);
	ret = ib_umem_link_dmabuf_map_pages(umem);
	dma_resv_unlock(exp->dmabuf->resv);
	if (ret == -EREMOTEIO) {
		pr_info("skipped: the CMB is refused (-EREMOTEIO): no P2P through this host bridge\n");
		goto out;
	} else if (ret) {
		pr_err("map: %d\n", ret);
		ret = -EIO;
		goto out;
	}

	pr_info("MR of %zu bytes from a dma-buf for %s, IOVA %#llx (%s)\n",
		umem->umem.length, pci_name(edu->pdev), (u64)dma_iova_addr(&umem->umem.map),
		dma_iova_uses_iommu(&umem->umem.map) ? "IOMMU" : "direct");
	pr_info("| %-16s | %12s | %12s | %7s |\n", "chunk type", "phys",
		"dma addr", "size");
	for (i = 0, off = 0; i < NR_PARTS; off += part_len[i++]) {
		const struct dma_iova_chunk *c =
			dma_iova_find_chunk(&umem->umem.map,
					    umem->umem.map_offset + off);

		if (!c)
			continue;
		pr_info("| %-16s | %#12llx | %#12llx | %#7zx |\n",
			type_names[c->type], (u64)part_phys[i],
			(u64)(c->dma_addr + (umem->umem.map_offset + off -
					     c->offset)), part_len[i]);
	}
	i = 0;
	dma_iova_for_each_seg(&umem->umem.map, &iter, &seg)
		pr_info("DMA segment %u: %#llx + %#zx\n", i++, (u64)seg.addr,
			seg.len);
	pr_info("HW block size (4K|64K|2M): %#lx\n",
		ib_umem_link_find_best_pgsz(&umem->umem, SZ_4K | SZ_64K | SZ_2M,
					    dma_iova_addr(&umem->umem.map)));

	cpu[0] = page_address(host[0]);
	cpu[1] = cmb;
	cpu[2] = page_address(host[1]);
	ends[0] = PAGE_SIZE;
	ends[1] = 2 * PAGE_SIZE;
	ends[2] = 3 * PAGE_SIZE;
	res[0] = write_across(edu, src_dma, seg.addr + PAGE_SIZE - SZ_1K,
			      SZ_2K, cpu, ends, PAGE_SIZE - SZ_1K);
	pr_info("device write across host->CMB: %s\n", res[0]);
	res[1] = write_across(edu, src_dma, seg.addr + ends[1] - SZ_1K, SZ_2K,
			      cpu, ends, ends[1] - SZ_1K);
	pr_info("device write across CMB->host: %s\n", res[1]);
	ret = !strncmp(res[0], "ok", 2) && !strncmp(res[1], "ok", 2) ? 0 : -EIO;

out:
	ib_umem_link_dmabuf_release(umem);
	if (ibdev)
		ib_dealloc_device(ibdev);
	if (exp)
		dma_buf_put(exp->dmabuf);
	if (!dma_mapping_error(dev, src_dma))
		dma_unmap_page(dev, src_dma, PAGE_SIZE, DMA_TO_DEVICE);
	if (cmb)
		pci_free_p2pmem(cmb_dev, cmb, PAGE_SIZE);
	if (src)
		__free_page(src);
	for (i = 0; i < ARRAY_SIZE(host); i++)
		if (host[i])
			__free_page(host[i]);
	return ret;
}

static int __init umem_link_demo(void)
{
	struct pci_dev *pdev, *cmb_dev;
	struct edu edu = {};
	int ret = -EIO;

	if (!run)
		return 0;
	pdev = edu_find(0);
	if (!pdev) {
		pr_err("no edu device\n");
		return 0;
	}
	cmb_dev = edu_cmb_near(pdev);
	if (!cmb_dev)
		pr_err("no NVMe CMB next to %s\n", pci_name(pdev));
	else if (edu_open(&edu, pdev))
		pr_err("%s: cannot open edu\n", pci_name(pdev));
	else
		ret = demo(&edu, cmb_dev);
	edu_close(&edu);
	pci_dev_put(cmb_dev);
	pci_dev_put(pdev);
	if (!ret)
		pr_info("done\n");
	else if (ret != -EREMOTEIO)
		pr_err("FAILED\n");
	return 0;
}
late_initcall_sync(umem_link_demo);
