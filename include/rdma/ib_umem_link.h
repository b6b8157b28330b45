/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RDMA memory regions mapped into one IOVA range with the two-step IOVA
 * DMA API: pinned user memory, on-demand paging and dma-buf importers, no
 * scatterlist. See Documentation/core-api/dma-iova.rst.
 */
#ifndef _RDMA_IB_UMEM_LINK_H
#define _RDMA_IB_UMEM_LINK_H

#include <linux/dma-iova.h>
#include <linux/hmm-dma.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>

struct dma_buf;
struct dma_buf_attach_ops;
struct dma_buf_attachment;
struct dma_buf_phys_list;
struct ib_device;

/**
 * struct ib_umem_link_pin - a physically contiguous run of pinned pages
 * @pfn: its first page frame
 * @npages: its number of pages
 */
struct ib_umem_link_pin {
	unsigned long pfn;
	unsigned long npages;
};

/**
 * struct ib_umem_link - a memory region mapped into one IOVA range
 * @ibdev: device the region is registered for
 * @owning_mm: mm of the user pages, %NULL for a dma-buf region
 * @address: user virtual address of the first byte (dma-buf: offset in
 *	the buffer)
 * @length: length in bytes
 * @map_offset: offset of the first byte in @map
 * @writable: the device may write to the region
 * @map: the IOVA mapping; its record keeps what each stretch of the region
 *	is (host or peer memory), for unmapping and descriptors
 * @pins: pinned regions: the physically contiguous runs of pinned pages,
 *	to unpin once the device lost them (the IOVA record keeps no
 *	physical addresses)
 * @nr_pins: entries used in @pins
 * @max_pins: entries allocated in @pins
 */
struct ib_umem_link {
	struct ib_device *ibdev;
	struct mm_struct *owning_mm;
	unsigned long address;
	size_t length;
	size_t map_offset;
	bool writable;
	struct dma_iova_mapping map;
	struct ib_umem_link_pin *pins;
	unsigned long nr_pins;
	unsigned long max_pins;
};

/**
 * struct ib_umem_link_block_iter - cursor over the HW blocks of a region
 * @segs: segment cursor
 * @seg: current DMA segment
 * @next: DMA address of the next block in @seg
 * @pgsz: block size
 */
struct ib_umem_link_block_iter {
	struct dma_iova_iter segs;
	struct dma_iova_seg seg;
	dma_addr_t next;
	unsigned long pgsz;
};

struct ib_umem_link_odp;

/**
 * struct ib_umem_link_odp_ops - driver callbacks of an ODP region
 * @invalidate: stop the device from using [@start, @end) before its pages
 *	are unlinked; called with &ib_umem_link_odp.umem_mutex held
 */
struct ib_umem_link_odp_ops {
	void (*invalidate)(struct ib_umem_link_odp *odp, unsigned long start,
			   unsigned long end);
};

/**
 * struct ib_umem_link_odp - an on-demand-paging region on one IOVA range
 * @umem: the region (its @map is unused: pages are mapped through @dma)
 * @notifier: invalidations of the user range
 * @umem_mutex: serialises faults, invalidations and the driver's use of
 *	the mapped pages
 * @dma: DMA state of the pages: the IOVA reserved at registration and one
 *	pfn entry per page (hmm_range_fault() output plus HMM_DMA_* state)
 * @start: first page of the region
 * @end: end of the last page of the region
 * @ops: driver callbacks
 * @priv: driver data
 */
struct ib_umem_link_odp {
	struct ib_umem_link umem;
	struct mmu_interval_notifier notifier;
	struct mutex umem_mutex; /* faults vs. invalidations */
	struct hmm_dma_map dma;
	unsigned long start;
	unsigned long end;
	const struct ib_umem_link_odp_ops *ops;
	void *priv;
};

/**
 * struct ib_umem_link_dmabuf - a dma-buf region on one IOVA range
 * @umem: the region; its IOVA is reserved at registration
 * @attach: dynamic attachment to the exporter
 * @phys: the buffer's physical ranges while linked, %NULL otherwise
 * @pinned: the buffer is pinned (ib_umem_link_dmabuf_get_pinned())
 * @priv: driver data
 */
struct ib_umem_link_dmabuf {
	struct ib_umem_link umem;
	struct dma_buf_attachment *attach;
	struct dma_buf_phys_list *phys;
	bool pinned;
	void *priv;
};

#ifdef CONFIG_INFINIBAND_UMEM_LINK
struct ib_umem_link *ib_umem_link_get(struct ib_device *device,
				      unsigned long addr, size_t size,
				      int access);
void ib_umem_link_release(struct ib_umem_link *umem);
unsigned long ib_umem_link_find_best_pgsz(struct ib_umem_link *umem,
					  unsigned long pgsz_bitmap,
					  unsigned long virt);
size_t ib_umem_link_num_dma_blocks(struct ib_umem_link *umem,
				   unsigned long pgsz);
bool ib_umem_link_next_block(struct ib_umem_link_block_iter *iter,
			     dma_addr_t *addr);

struct ib_umem_link_odp *
ib_umem_link_odp_get(struct ib_device *device, unsigned long addr,
		     size_t size, int access,
		     const struct ib_umem_link_odp_ops *ops, void *priv);
int ib_umem_link_odp_map_and_lock(struct ib_umem_link_odp *odp,
				  unsigned long addr, size_t size, bool write);
dma_addr_t ib_umem_link_odp_dma_addr(struct ib_umem_link_odp *odp,
				     unsigned long addr);
void ib_umem_link_odp_release(struct ib_umem_link_odp *odp);

struct ib_umem_link_dmabuf *
ib_umem_link_dmabuf_get(struct ib_device *device, struct dma_buf *dmabuf,
			unsigned long offset, size_t size, int access,
			const struct dma_buf_attach_ops *ops, void *priv);
struct ib_umem_link_dmabuf *
ib_umem_link_dmabuf_get_pinned(struct ib_device *device,
			       struct dma_buf *dmabuf, unsigned long offset,
			       size_t size, int access);
int ib_umem_link_dmabuf_map_pages(struct ib_umem_link_dmabuf *umem);
void ib_umem_link_dmabuf_unmap_pages(struct ib_umem_link_dmabuf *umem);
void ib_umem_link_dmabuf_release(struct ib_umem_link_dmabuf *umem);
#endif /* CONFIG_INFINIBAND_UMEM_LINK */

/**
 * ib_umem_link_block_iter_init() - start walking the HW blocks of a region
 * @iter: cursor to initialise
 * @umem: region to walk
 * @pgsz: block size, e.g. from ib_umem_link_find_best_pgsz()
 *
 * Context: Any context; the caller keeps @umem's mapping stable.
 * Return: @iter, for ib_umem_link_for_each_block().
 */
static inline struct ib_umem_link_block_iter *
ib_umem_link_block_iter_init(struct ib_umem_link_block_iter *iter,
			     struct ib_umem_link *umem, unsigned long pgsz)
{
	dma_iova_iter_init(&iter->segs, &umem->map);
	iter->seg.addr = 0;
	iter->seg.len = 0;
	iter->next = 0;
	iter->pgsz = pgsz;
	return iter;
}

/**
 * ib_umem_link_for_each_block - walk the HW blocks of a region
 * @umem: the region
 * @iter: &struct ib_umem_link_block_iter cursor
 * @pgsz: block size
 * @addr: &dma_addr_t set to each block's DMA address, aligned to @pgsz
 */
#define ib_umem_link_for_each_block(umem, iter, pgsz, addr)		\
	for (struct ib_umem_link_block_iter *__bi =			\
		ib_umem_link_block_iter_init(iter, umem, pgsz);		\
	     ib_umem_link_next_block(__bi, addr);)

#endif /* _RDMA_IB_UMEM_LINK_H */
