/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Two-step IOVA DMA mapping: reserve one contiguous IOVA range, then link
 * physically contiguous chunks of mixed kinds into it.
 *
 * See Documentation/core-api/dma-iova.rst.
 */
#ifndef _LINUX_DMA_IOVA_H
#define _LINUX_DMA_IOVA_H

#include <linux/dma-direction.h>
#include <linux/errno.h>
#include <linux/types.h>

struct bio_vec;
struct device;
struct iommu_domain;

/**
 * enum dma_chunk_type - how a linked chunk reaches the device
 * @DMA_CHUNK_HOST: host memory, mapped in the IOVA (or directly)
 * @DMA_CHUNK_BOUNCE: host memory whose granule-unaligned head and/or tail
 *	were bounced through swiotlb; the aligned middle is mapped in place
 * @DMA_CHUNK_P2P_BUS: PCI peer memory reached by PCI bus address through a
 *	common switch; uses no IOVA
 * @DMA_CHUNK_P2P_HOST_BRIDGE: PCI peer memory reached through the host
 *	bridge; mapped as MMIO, never cache-maintained or bounced
 */
enum dma_chunk_type {
	DMA_CHUNK_HOST,
	DMA_CHUNK_BOUNCE,
	DMA_CHUNK_P2P_BUS,
	DMA_CHUNK_P2P_HOST_BRIDGE,
};

/**
 * struct dma_iova_chunk - one run of the mapping's record
 * @offset: byte offset of the run's first linked byte in the mapping
 * @size: bytes from @offset to the run's last linked byte
 * @dma_addr: DMA address of @offset as the device sees it
 * @attrs: DMA_ATTR_* the run's chunks were linked with
 * @type: &enum dma_chunk_type
 * @dir: &enum dma_data_direction the run's chunks were linked with
 *
 * A run is a maximal stretch of the mapping linked with one type, direction
 * and attribute set. With an IOMMU, host chunks linked back to back form one
 * run whatever their physical addresses, and a run may hold holes that were
 * unlinked again (on granule boundaries): dma_iova_find_chunk() and the
 * segment iterator skip them. A bounced chunk is a run of its own. Without
 * an IOMMU every chunk is a run, with its own DMA address. The record keeps
 * no physical addresses: the IOMMU page table has them.
 */
struct dma_iova_chunk {
	size_t offset;
	size_t size;
	dma_addr_t dma_addr;
	u32 attrs;
	u8 type;
	u8 dir;
	/* private: */
	u8 __flags;
};

/*
 * Callback of dma_destroy_iova_release(): @chunk describes one linked
 * stretch of a run (holes left out).
 */
typedef void (*dma_iova_release_fn)(const struct dma_iova_chunk *chunk,
				    void *arg);

struct dma_iova_record_ext;

/*
 * What a mapping records of its chunks, private to kernel/dma/iova_link.c.
 * It sits in the mapping, so that a mapping of up to BITS_PER_LONG IOMMU
 * granules whose chunks form one run (a block request, most of everything)
 * allocates nothing; larger mappings, more runs, bounced chunks and P2P
 * memory add what they need. The pointers may point into the mapping
 * itself: a live mapping must not be moved.
 */
struct dma_iova_record {
	struct dma_iova_chunk *runs;
	unsigned long *linked;
	unsigned long *starts;
	unsigned long *pending;
	struct dma_iova_record_ext *ext;
	size_t iova_len;
	size_t pend_start;
	size_t pend_end;
	unsigned long nr_chunks;
	unsigned long nr_pending;
	unsigned int nr_runs;
	unsigned int max_runs;
	struct dma_iova_chunk run;
	unsigned long bits[3];
	bool borrowed;
};

/**
 * struct dma_iova_engine - a device's DMA domain as kernel/dma maps into it
 *
 * Looked up once when a mapping or an HMM map is set up, then handed to
 * every operation of the IOVA engine (kernel/dma/iova_engine.c).
 */
struct dma_iova_engine {
	/* private: */
	struct device *dev;
	struct iommu_domain *domain;	/* NULL: no IOMMU DMA domain */
	u8 granule_shift;		/* 0 without @domain */
};

/**
 * struct dma_iova_mapping - caller-owned state of one two-step mapping
 *
 * Callers own the memory and read it through the accessors below; every
 * field is private to kernel/dma/iova_link.c. A live mapping must not be
 * moved or copied.
 */
struct dma_iova_mapping {
	/* private: */
	struct dma_iova_engine eng;
	dma_addr_t addr;
	size_t size;
	gfp_t gfp;
	bool live;
	struct dma_iova_record rec;
};

/**
 * struct dma_iova_range - a byte range of a mapping, for batched unlink
 * @offset: start offset in the mapping
 * @size: length in bytes
 */
struct dma_iova_range {
	size_t offset;
	size_t size;
};

/**
 * struct dma_iova_seg - one DMA segment a driver puts in a descriptor
 * @addr: DMA address
 * @len: length in bytes
 */
struct dma_iova_seg {
	dma_addr_t addr;
	size_t len;
};

/**
 * struct dma_iova_iter - cursor of dma_iova_next_seg()
 * @map: mapping being walked
 * @idx: run being walked
 * @pos: offset in the mapping where the walk goes on
 */
struct dma_iova_iter {
	const struct dma_iova_mapping *map;
	unsigned int idx;
	size_t pos;
};

#ifdef CONFIG_DMA_IOVA_LINK
int dma_alloc_iova(struct device *dev, struct dma_iova_mapping *map,
		   size_t size, size_t align, gfp_t gfp);
int dma_link_range(struct dma_iova_mapping *map, size_t offset,
		   phys_addr_t phys, size_t size, enum dma_data_direction dir,
		   unsigned long attrs);
int dma_link_bvecs(struct dma_iova_mapping *map, size_t *offset,
		   const struct bio_vec *bv, unsigned int nr,
		   enum dma_data_direction dir, unsigned long attrs);
size_t dma_iova_record_bytes(const struct dma_iova_mapping *map);
int dma_iova_provide_chunks(struct dma_iova_mapping *map,
			    struct dma_iova_chunk *chunks, unsigned int nr);
int dma_iova_commit(struct dma_iova_mapping *map);
int dma_unlink_ranges(struct dma_iova_mapping *map,
		      const struct dma_iova_range *ranges, unsigned int nr);
int dma_unlink_range(struct dma_iova_mapping *map, size_t offset,
		     size_t size);
void dma_iova_sync_for_cpu(struct dma_iova_mapping *map, size_t offset,
			   size_t size);
void dma_iova_sync_for_device(struct dma_iova_mapping *map, size_t offset,
			      size_t size);
void dma_destroy_iova(struct dma_iova_mapping *map);
void dma_destroy_iova_release(struct dma_iova_mapping *map,
			      dma_iova_release_fn release, void *arg);
int dma_free_iova(struct dma_iova_mapping *map);
const struct dma_iova_chunk *
dma_iova_find_chunk(const struct dma_iova_mapping *map, size_t offset);
bool dma_iova_next_seg(struct dma_iova_iter *iter, struct dma_iova_seg *seg);
#else
static inline int dma_alloc_iova(struct device *dev,
				 struct dma_iova_mapping *map, size_t size,
				 size_t align, gfp_t gfp)
{
	return -EOPNOTSUPP;
}

static inline int dma_link_range(struct dma_iova_mapping *map, size_t offset,
				 phys_addr_t phys, size_t size,
				 enum dma_data_direction dir,
				 unsigned long attrs)
{
	return -EOPNOTSUPP;
}

static inline int dma_link_bvecs(struct dma_iova_mapping *map,
				 size_t *offset, const struct bio_vec *bv,
				 unsigned int nr, enum dma_data_direction dir,
				 unsigned long attrs)
{
	return -EOPNOTSUPP;
}

static inline size_t
dma_iova_record_bytes(const struct dma_iova_mapping *map)
{
	return 0;
}

static inline int dma_iova_provide_chunks(struct dma_iova_mapping *map,
					  struct dma_iova_chunk *chunks,
					  unsigned int nr)
{
	return -EOPNOTSUPP;
}

static inline int dma_iova_commit(struct dma_iova_mapping *map)
{
	return -EOPNOTSUPP;
}

static inline int dma_unlink_ranges(struct dma_iova_mapping *map,
				    const struct dma_iova_range *ranges,
				    unsigned int nr)
{
	return -EOPNOTSUPP;
}

static inline int dma_unlink_range(struct dma_iova_mapping *map,
				   size_t offset, size_t size)
{
	return -EOPNOTSUPP;
}

static inline void dma_iova_sync_for_cpu(struct dma_iova_mapping *map,
					 size_t offset, size_t size)
{
}

static inline void dma_iova_sync_for_device(struct dma_iova_mapping *map,
					    size_t offset, size_t size)
{
}

static inline void dma_destroy_iova(struct dma_iova_mapping *map)
{
}

static inline void dma_destroy_iova_release(struct dma_iova_mapping *map,
					    dma_iova_release_fn release,
					    void *arg)
{
}

static inline int dma_free_iova(struct dma_iova_mapping *map)
{
	return -EOPNOTSUPP;
}

static inline const struct dma_iova_chunk *
dma_iova_find_chunk(const struct dma_iova_mapping *map, size_t offset)
{
	return NULL;
}

static inline bool dma_iova_next_seg(struct dma_iova_iter *iter,
				     struct dma_iova_seg *seg)
{
	return false;
}
#endif /* CONFIG_DMA_IOVA_LINK */

/**
 * dma_iova_uses_iommu() - does the mapping live in one IOMMU IOVA range?
 * @map: mapping set up by dma_alloc_iova()
 *
 * Context: Any context.
 * Return: %true if chunks are linked into one IOVA range, %false if each
 * chunk carries its own direct (or bus) address.
 */
static inline bool dma_iova_uses_iommu(const struct dma_iova_mapping *map)
{
	return map->eng.granule_shift != 0;
}

/**
 * dma_iova_addr() - first IOVA of the mapping's range
 * @map: mapping set up by dma_alloc_iova()
 *
 * A chunk linked at offset @off lands at dma_iova_addr() + @off.
 *
 * Context: Any context.
 * Return: the IOVA, or 0 when the mapping does not use an IOMMU.
 */
static inline dma_addr_t dma_iova_addr(const struct dma_iova_mapping *map)
{
	return map->addr;
}

/**
 * dma_iova_size() - bytes the mapping covers
 * @map: mapping set up by dma_alloc_iova()
 *
 * Context: Any context.
 * Return: the size given to dma_alloc_iova(), 0 if @map is not live.
 */
static inline size_t dma_iova_size(const struct dma_iova_mapping *map)
{
	return map->size;
}

/**
 * dma_iova_granule() - IOMMU granule of the mapping
 * @map: mapping set up by dma_alloc_iova()
 *
 * Context: Any context.
 * Return: the granule in bytes, 0 when the mapping does not use an IOMMU.
 */
static inline size_t dma_iova_granule(const struct dma_iova_mapping *map)
{
	return map->eng.granule_shift ? (size_t)1 << map->eng.granule_shift : 0;
}

/**
 * dma_iova_is_live() - is the mapping allocated and not yet destroyed?
 * @map: mapping state
 *
 * Context: Any context.
 * Return: %true between a successful dma_alloc_iova() and its destroy or
 * free.
 */
static inline bool dma_iova_is_live(const struct dma_iova_mapping *map)
{
	return map->live;
}

/**
 * dma_iova_iter_init() - start walking the DMA segments of a mapping
 * @iter: cursor to initialise
 * @map: mapping to walk
 *
 * Context: Any context; the caller keeps @map stable while walking.
 * Return: @iter, for use in dma_iova_for_each_seg().
 */
static inline struct dma_iova_iter *
dma_iova_iter_init(struct dma_iova_iter *iter,
		   const struct dma_iova_mapping *map)
{
	iter->map = map;
	iter->idx = 0;
	iter->pos = 0;
	return iter;
}

/**
 * dma_iova_for_each_seg - walk the DMA segments of a mapping
 * @map: mapping to walk
 * @iter: &struct dma_iova_iter cursor
 * @seg: &struct dma_iova_seg filled for each segment
 *
 * Chunks that are contiguous in DMA address space come out as one segment:
 * one segment for everything linked contiguously into the IOVA, separate
 * segments for bus-address P2P chunks and for direct-mapped chunks that do
 * not touch.
 */
#define dma_iova_for_each_seg(map, iter, seg)				\
	for (struct dma_iova_iter *__it = dma_iova_iter_init(iter, map);	\
	     dma_iova_next_seg(__it, seg);)

#endif /* _LINUX_DMA_IOVA_H */
