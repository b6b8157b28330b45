// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two-step IOVA DMA mapping without an IOMMU (dma-direct, identity domains):
 * each chunk is mapped on its own and the record keeps its DMA address.
 * Built as part of kernel/dma/iova_link.c.
 */
/* Without an IOMMU: map the chunk on its own, one run per chunk. */
static int link_direct(struct dma_iova_mapping *map, struct link_chunk *c)
{
	struct dma_iova_record *rec = &map->rec;
	struct device *dev = map->eng.dev;
	struct dma_iova_chunk *r;
	bool resource;
	int ret;

	ret = reserve_runs(map, 1);
	if (ret)
		return ret;
	/*
	 * P2PDMA pages through the host bridge map like host pages, with
	 * phys_to_dma() as 6.12's dma-direct does; only MMIO that has no
	 * struct pages needs dma_map_resource().
	 */
	resource = c->type == DMA_CHUNK_P2P_HOST_BRIDGE &&
		   !pfn_valid(PHYS_PFN(c->phys));
	if (resource)
		c->dma_addr = dma_map_resource(dev, c->phys, c->size, c->dir,
					       c->attrs);
	else if (c->type != DMA_CHUNK_P2P_BUS)
		c->dma_addr = dma_map_page_attrs(dev,
						 pfn_to_page(PHYS_PFN(c->phys)),
						 offset_in_page(c->phys),
						 c->size, c->dir, c->attrs);
	if (dma_mapping_error(dev, c->dma_addr))
		return -ENOMEM;
	r = insert_runs(rec, run_index(rec, c->offset), 1);
	fill_run(r, c);
	r->__flags = RUN_PENDING | (resource ? RUN_RESOURCE : 0);
	return 0;
}

static void unmap_direct_run(struct dma_iova_mapping *map,
			     const struct dma_iova_chunk *r)
{
	if (r->__flags & RUN_RESOURCE)
		dma_unmap_resource(map->eng.dev, r->dma_addr, r->size, r->dir,
				   r->attrs);
	else if (r->type != DMA_CHUNK_P2P_BUS)
		dma_unmap_page_attrs(map->eng.dev, r->dma_addr, r->size, r->dir,
				     r->attrs);
}

/* Without an IOMMU: unmap and drop every run marked doomed. */
static void teardown_direct(struct dma_iova_mapping *map,
			    dma_iova_release_fn release, void *arg)
{
	struct dma_iova_record *rec = &map->rec;
	unsigned long pending = 0;
	unsigned int i, kept = 0;
	u64 bytes = 0;

	for (i = 0; i < rec->nr_runs; i++) {
		struct dma_iova_chunk *r = &rec->runs[i];

		if (!(r->__flags & RUN_DOOMED)) {
			rec->runs[kept++] = *r;
			continue;
		}
		unmap_direct_run(map, r);
		if (release)
			release(r, arg);
		bytes += r->size;
		pending += !!(r->__flags & RUN_PENDING);
	}
	trace_dma_iova_teardown(map, rec->nr_runs - kept, bytes, false);
	forget_chunks(rec, rec->nr_runs - kept, pending);
	rec->nr_runs = kept;
}
