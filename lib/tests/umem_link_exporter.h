/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A dma-buf exporter for tests and the boot demo: its buffer is a list of
 * physical ranges (host pages, NVMe CMB peer memory) that it hands out
 * through &dma_buf_ops.map_phys, and that a test can move.
 */
#ifndef _LIB_TESTS_UMEM_LINK_EXPORTER_H
#define _LIB_TESTS_UMEM_LINK_EXPORTER_H

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/memremap.h>
#include <linux/slab.h>

#define TEST_EXPORTER_MAX_VECS	4

struct test_exporter {
	struct dma_buf *dmabuf;
	unsigned int nr;
	struct dma_buf_phys_vec vecs[TEST_EXPORTER_MAX_VECS];
	atomic_t mapped;
};

static inline bool test_exporter_has_p2p(struct test_exporter *exp)
{
	unsigned int i;

	for (i = 0; i < exp->nr; i++)
		if (is_pci_p2pdma_page(pfn_to_page(PHYS_PFN(exp->vecs[i].paddr))))
			return true;
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
	return 0;
}

static inline void test_exporter_unpin(struct dma_buf_attachment *attach)
{
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

#endif /* _LIB_TESTS_UMEM_LINK_EXPORTER_H */
