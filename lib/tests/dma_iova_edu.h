/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Minimal driver for QEMU's "edu" PCI device, whose DMA engine copies
 * between its 4 KiB internal buffer and a DMA address. Shared by the IOVA
 * link KUnit suite and the boot demo: the device's DMA goes through the
 * emulated IOMMU, so a wrong mapping faults or moves the wrong bytes.
 */
#ifndef _LIB_TESTS_DMA_IOVA_EDU_H
#define _LIB_TESTS_DMA_IOVA_EDU_H

#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>

#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_CMD_START		0x1
#define EDU_CMD_TO_RAM		0x2
#define EDU_BUF_ADDR		0x40000
#define EDU_BUF_SIZE		4096
#define EDU_XFER_MAX		2048
/* QEMU clamps edu DMA addresses to its default 28-bit mask. */
#define EDU_DMA_BITS		28

struct edu {
	struct pci_dev *pdev;
	void __iomem *regs;
};

static int edu_bind_probe(struct pci_dev *pdev,
			  const struct pci_device_id *id)
{
	return 0;
}

static const struct pci_device_id edu_bind_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR_ID, EDU_DEVICE_ID) },
	{ }
};

/*
 * A driver that only binds: binding makes the driver core configure the
 * devices' DMA, which on DT platforms (arm64 virt) is when a device joins
 * its IOMMU. Whichever user of this file registers first binds them.
 */
static struct pci_driver edu_bind_driver __maybe_unused = {
	.name = KBUILD_MODNAME "_edu",
	.id_table = edu_bind_ids,
	.probe = edu_bind_probe,
};

/* The @nth edu device (0-based) in bus order, with a reference held. */
static inline struct pci_dev *edu_find(unsigned int nth)
{
	static bool registered;
	struct pci_dev *pdev = NULL;

	if (!registered)
		registered = !pci_register_driver(&edu_bind_driver);

	while ((pdev = pci_get_device(EDU_VENDOR_ID, EDU_DEVICE_ID, pdev)))
		if (!nth--)
			return pdev;
	return NULL;
}

/*
 * The NVMe controller next to @edu (same bus, or behind the same switch),
 * with a reference held; with @unbound, only one without a driver, and
 * without a reference (the caller just asks whether there is one).
 */
static inline struct pci_dev *edu_nvme_near(struct pci_dev *edu,
					    bool unbound)
{
	struct pci_dev *pdev = NULL, *up = pci_upstream_bridge(edu);

	while ((pdev = pci_get_class(PCI_CLASS_STORAGE_EXPRESS, pdev))) {
		struct pci_dev *nup = pci_upstream_bridge(pdev);

		if ((pdev->bus == edu->bus ||
		     (up && nup && pci_upstream_bridge(up) ==
				   pci_upstream_bridge(nup))) &&
		    (!unbound || !pdev->dev.driver)) {
			if (unbound)
				pci_dev_put(pdev);
			break;
		}
	}
	return pdev;
}

/*
 * The NVMe controller next to @edu with a reference held, once its driver
 * has registered the CMB as P2P memory; %NULL if there is none after 10 s.
 */
static inline struct pci_dev *edu_cmb_near(struct pci_dev *edu)
{
	struct pci_dev *pdev = edu_nvme_near(edu, false);
	unsigned int tries;

	for (tries = 0; pdev && tries < 100 && !pci_has_p2pmem(pdev); tries++)
		msleep(100);
	if (pdev && !pci_has_p2pmem(pdev)) {
		pci_dev_put(pdev);
		return NULL;
	}
	return pdev;
}

static inline int edu_open(struct edu *edu, struct pci_dev *pdev)
{
	int ret;

	edu->pdev = pdev;
	ret = pci_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		return ret;
	edu->regs = pci_iomap(pdev, 0, 0);
	return edu->regs ? 0 : -ENOMEM;
}

static inline void edu_close(struct edu *edu)
{
	if (edu->regs)
		pci_iounmap(edu->pdev, edu->regs);
	edu->regs = NULL;
}

static inline int edu_dma_one(struct edu *edu, dma_addr_t dma, u32 buf_off,
			      u32 len, bool to_ram)
{
	u64 cmd = EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0);
	unsigned int i;

	writeq(to_ram ? EDU_BUF_ADDR + buf_off : dma, edu->regs + EDU_REG_DMA_SRC);
	writeq(to_ram ? dma : EDU_BUF_ADDR + buf_off, edu->regs + EDU_REG_DMA_DST);
	writeq(len, edu->regs + EDU_REG_DMA_COUNT);
	writeq(cmd, edu->regs + EDU_REG_DMA_CMD);
	for (i = 0; i < 500; i++) {
		if (!(readq(edu->regs + EDU_REG_DMA_CMD) & EDU_CMD_START))
			return 0;
		msleep(20);
	}
	return -ETIMEDOUT;
}

/*
 * Let the device copy @len bytes from DMA address @src to @dst, staging
 * them in its buffer. The engine works off a 100 ms virtual timer and is
 * polled. QEMU 7.2 refuses transfers that reach the last byte of the 4 KiB
 * buffer, so this moves EDU_XFER_MAX bytes at a time through its start.
 */
static inline int edu_copy(struct edu *edu, dma_addr_t src, dma_addr_t dst,
			   size_t len)
{
	size_t done, n;
	int ret;

	for (done = 0; done < len; done += n) {
		n = min_t(size_t, len - done, EDU_XFER_MAX);
		ret = edu_dma_one(edu, src + done, 0, n, false);
		if (!ret)
			ret = edu_dma_one(edu, dst + done, 0, n, true);
		if (ret)
			return ret;
	}
	return 0;
}

#endif /* _LIB_TESTS_DMA_IOVA_EDU_H */
