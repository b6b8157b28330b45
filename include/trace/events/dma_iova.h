/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Events of the two-step IOVA API (kernel/dma/iova_link.c): one per linked
 * chunk, with the type the mapping recorded for it, and one per teardown.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dma_iova

#if !defined(_TRACE_DMA_IOVA_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_DMA_IOVA_H

#include <linux/device.h>
#include <linux/dma-iova.h>
#include <linux/tracepoint.h>

TRACE_DEFINE_ENUM(DMA_CHUNK_HOST);
TRACE_DEFINE_ENUM(DMA_CHUNK_BOUNCE);
TRACE_DEFINE_ENUM(DMA_CHUNK_P2P_BUS);
TRACE_DEFINE_ENUM(DMA_CHUNK_P2P_HOST_BRIDGE);

TRACE_EVENT(dma_iova_link,
	    TP_PROTO(const struct dma_iova_mapping *map, size_t offset,
		     size_t size, phys_addr_t phys, dma_addr_t dma_addr,
		     u8 type, u8 dir, u32 bounced),
	    TP_ARGS(map, offset, size, phys, dma_addr, type, dir, bounced),
	    TP_STRUCT__entry(__string(device, dev_name(map->eng.dev))
			     __field(u64, offset)
			     __field(u64, size)
			     __field(u64, phys)
			     __field(u64, dma_addr)
			     __field(u32, bounced)
			     __field(u8, type)
			     __field(u8, dir)),
	    TP_fast_assign(__assign_str(device);
			   __entry->offset = offset;
			   __entry->size = size;
			   __entry->phys = phys;
			   __entry->dma_addr = dma_addr;
			   __entry->bounced = bounced;
			   __entry->type = type;
			   __entry->dir = dir;),
	    TP_printk("%s offset=%#llx size=%#llx phys=%#llx dma_addr=%#llx type=%s dir=%u bounced=%u",
		      __get_str(device), __entry->offset, __entry->size,
		      __entry->phys, __entry->dma_addr,
		      __print_symbolic(__entry->type,
				       { DMA_CHUNK_HOST, "host" },
				       { DMA_CHUNK_BOUNCE, "bounce" },
				       { DMA_CHUNK_P2P_BUS, "p2p-bus" },
				       { DMA_CHUNK_P2P_HOST_BRIDGE,
					 "p2p-host-bridge" }),
		      __entry->dir, __entry->bounced)
);

TRACE_EVENT(dma_iova_teardown,
	    TP_PROTO(const struct dma_iova_mapping *map, unsigned int chunks,
		     u64 bytes, bool destroy),
	    TP_ARGS(map, chunks, bytes, destroy),
	    TP_STRUCT__entry(__string(device, dev_name(map->eng.dev))
			     __field(u64, bytes)
			     __field(u32, chunks)
			     __field(bool, destroy)),
	    TP_fast_assign(__assign_str(device);
			   __entry->bytes = bytes;
			   __entry->chunks = chunks;
			   __entry->destroy = destroy;),
	    TP_printk("%s chunks=%u bytes=%#llx %s", __get_str(device),
		      __entry->chunks, __entry->bytes,
		      __entry->destroy ? "destroy" : "unlink")
);

#endif /* _TRACE_DMA_IOVA_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
