/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A dma-buf exporter for tests and the boot demo: its buffer is a list of
 * physical ranges (host pages, NVMe CMB peer memory, PCI BAR memory without
 * struct pages) that it hands out
 * through &dma_buf_ops.map_phys, and that a test can move.
 */
#ifndef _LIB_TESTS_UMEM_LINK_EXPORTER_H
#define _LIB_TESTS_UMEM_LINK_EXPORTER_H

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/memremap.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#define TEST_EXPORTER_MAX_VECS	4

struct test_exporter {
	struct dma_buf *dmabuf;
	unsigned int nr;
	struct dma_buf_phys_vec vecs[TEST_EXPORTER_MAX_VECS];
	atomic_t mapped;
	atomic_t pinned;
};

static inline bool test_exporter_has_p2p(struct test_exporter *exp)
{
	unsigned int i;

	for (i = 0; i < exp->nr; i++) {
		unsigned long pfn = PHYS_PFN(exp->vecs[i].paddr);

		/* P2PDMA pages, or a BAR without struct pages */
		if (!pfn_valid(pfn) || is_pci_p2pdma_page(pfn_to_page(pfn)))
			return true;
	}
	return false;
}

static inline struct dma_buf_phys_list *
test_exporter_map_phys(struct dma_buf_attachment *attach)
{
	struct test_exporter *exp = attach->dmabuf->priv;
	struct dma_buf_phys_list *list;

	if (!attach->peer2peer && test_exporter_has_p2p(exp))
		return ERR_PTR(-EOPNOTSUPP);
	list = kmalloc(struct_size(list, vecs, exp->nr), GFP_KERNEL);
	if (!list)
		return ERR_PTR(-ENOMEM);
	list->nr = exp->nr;
	memcpy(list->vecs, exp->vecs, exp->nr * sizeof(exp->vecs[0]));
	atomic_inc(&exp->mapped);
	return list;
}

static inline void test_exporter_unmap_phys(struct dma_buf_attachment *attach,
					    struct dma_buf_phys_list *list)
{
	struct test_exporter *exp = attach->dmabuf->priv;

	atomic_dec(&exp->mapped);
	kfree(list);
}

/* Only importers of physical ranges are served. */
static inline struct sg_table *
test_exporter_map_sgt(struct dma_buf_attachment *attach,
		      enum dma_data_direction dir)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void test_exporter_unmap_sgt(struct dma_buf_attachment *attach,
					   struct sg_table *sgt,
					   enum dma_data_direction dir)
{
}

static inline int test_exporter_pin(struct dma_buf_attachment *attach)
{
	struct test_exporter *exp = attach->dmabuf->priv;

	atomic_inc(&exp->pinned);
	return 0;
}

static inline void test_exporter_unpin(struct dma_buf_attachment *attach)
{
	struct test_exporter *exp = attach->dmabuf->priv;

	atomic_dec(&exp->pinned);
}

static inline void test_exporter_release(struct dma_buf *dmabuf)
{
	kfree(dmabuf->priv);
}

static const struct dma_buf_ops test_exporter_ops = {
	.pin = test_exporter_pin,
	.unpin = test_exporter_unpin,
	.map_dma_buf = test_exporter_map_sgt,
	.unmap_dma_buf = test_exporter_unmap_sgt,
	.map_phys = test_exporter_map_phys,
	.unmap_phys = test_exporter_unmap_phys,
	.release = test_exporter_release,
};

/* Export @nr ranges as one buffer; the exporter is freed with the buffer. */
static inline struct test_exporter *
test_exporter_create(const struct dma_buf_phys_vec *vecs, unsigned int nr)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct test_exporter *exp;
	unsigned int i;

	if (nr > TEST_EXPORTER_MAX_VECS)
		return ERR_PTR(-EINVAL);
	exp = kzalloc(sizeof(*exp), GFP_KERNEL);
	if (!exp)
		return ERR_PTR(-ENOMEM);
	exp->nr = nr;
	memcpy(exp->vecs, vecs, nr * sizeof(*vecs));
	for (i = 0; i < nr; i++)
		info.size += vecs[i].len;
	info.ops = &test_exporter_ops;
	info.flags = O_RDWR;
	info.priv = exp;
	exp->dmabuf = dma_buf_export(&info);
	if (IS_ERR(exp->dmabuf)) {
		struct dma_buf *err = exp->dmabuf;

		kfree(exp);
		return ERR_CAST(err);
	}
	return exp;
}

/* Move range @i to @paddr and tell the importers, as a migrating exporter. */
static inline void test_exporter_move(struct test_exporter *exp,
				      unsigned int i, phys_addr_t paddr)
{
	dma_resv_lock(exp->dmabuf->resv, NULL);
	exp->vecs[i].paddr = paddr;
	dma_buf_move_notify(exp->dmabuf);
	dma_resv_unlock(exp->dmabuf->resv);
}

/*
 * A move whose copy is still in flight when move_notify runs: the fence of
 * the copy sits in the buffer's reservation object (kernel usage) and is
 * signalled by a worker once the bytes are in their new place. The fence
 * comes first: its last reference frees the move (dma_fence_free()).
 */
struct test_move {
	struct dma_fence fence;
	spinlock_t lock;	/* for the fence */
	struct delayed_work copy;
	void *from, *to;
	size_t len;
};

static inline const char *test_move_name(struct dma_fence *fence)
{
	return "umem_link_test_move";
}

static const struct dma_fence_ops test_move_fence_ops = {
	.get_driver_name = test_move_name,
	.get_timeline_name = test_move_name,
};

static inline void test_move_copy(struct work_struct *work)
{
	struct test_move *mv = container_of(to_delayed_work(work),
					    struct test_move, copy);

	memcpy(mv->to, mv->from, mv->len);
	dma_fence_signal(&mv->fence);
}

/*
 * Move range @i to @paddr with a copy that lands @delay jiffies later.
 * The caller holds a reference to the move's fence until test_move_done().
 */
static inline struct test_move *
test_exporter_move_fenced(struct test_exporter *exp, unsigned int i,
			  phys_addr_t paddr, unsigned long delay)
{
	struct dma_resv *resv = exp->dmabuf->resv;
	struct test_move *mv = kzalloc(sizeof(*mv), GFP_KERNEL);
	int ret;

	if (!mv)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&mv->lock);
	dma_fence_init(&mv->fence, &test_move_fence_ops, &mv->lock,
		       dma_fence_context_alloc(1), 1);
	INIT_DELAYED_WORK(&mv->copy, test_move_copy);
	mv->from = phys_to_virt(exp->vecs[i].paddr);
	mv->to = phys_to_virt(paddr);
	mv->len = exp->vecs[i].len;

	dma_resv_lock(resv, NULL);
	ret = dma_resv_reserve_fences(resv, 1);
	if (!ret) {
		dma_resv_add_fence(resv, &mv->fence, DMA_RESV_USAGE_KERNEL);
		exp->vecs[i].paddr = paddr;
		dma_buf_move_notify(exp->dmabuf);
	}
	dma_resv_unlock(resv);
	if (ret) {
		dma_fence_put(&mv->fence);
		return ERR_PTR(ret);
	}
	schedule_delayed_work(&mv->copy, delay);
	return mv;
}

/* Let the copy land and drop the caller's reference to its fence. */
static inline void test_move_done(void *move)
{
	struct test_move *mv = move;

	flush_delayed_work(&mv->copy);
	dma_fence_put(&mv->fence);
}

#endif /* _LIB_TESTS_UMEM_LINK_EXPORTER_H */
