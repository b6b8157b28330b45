#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Fill in the cover letter git format-patch --cover-letter wrote.

  series-cover.py COVER RESULTS_JSON VERSION NR_PATCHES

The benchmark table comes from RESULTS_JSON (scripts/bench-report.py's
out/bench/results.json); nothing in it is typed by hand.
"""
import glob
import json
import os
import sys

SUBJECT = ('dma-mapping: two-step IOVA mapping for 6.12: one IOVA per '
           'request or memory region, no scatterlist')

WHY = """\
On 6.12 a driver whose memory is not a scatterlist builds one anyway to
map it: nvme-pci takes a scatterlist table from a mempool for every I/O
of more than one segment, fills it with blk_rq_map_sg() and maps it with
dma_map_sgtable(); an RDMA pinned region is a scatterlist of every page.
A driver that maps page by page, as RDMA on-demand paging does, pays
dma_map_page() per page: an IOVA allocation and an IOTLB sync per page,
and an IOTLB invalidation per page when it unmaps. A dma-buf importer
gets the exporter's scatterlist, already mapped for one device, and
cannot mix peer memory with host pages in one IOVA.

This series lets a caller reserve one IOVA range and link physically
contiguous chunks of mixed kinds into it, with one IOTLB sync per batch
and one invalidation per unlink, and converts the block layer (nvme-pci)
and RDMA memory regions to it.
"""

API = """\
The API (include/linux/dma-iova.h, Documentation/core-api/dma-iova.rst):

  dma_alloc_iova(dev, map, size, align, gfp)   reserve one IOVA range
  dma_link_range(map, offset, phys, size, dir, attrs)
  dma_link_bvecs(map, &offset, bvecs, nr, dir, attrs)
                                  link chunks at offsets of your choice
  dma_iova_commit(map)            one IOTLB sync for all linked since
  dma_unlink_range(map, offset, size)
  dma_unlink_ranges(map, ranges, nr)
                                  unlink, one invalidation per call
  dma_iova_sync_for_{cpu,device}(map, offset, size)
  dma_destroy_iova(map)           unlink all and release the IOVA
  dma_iova_next_seg(iter, seg)    the DMA segments to build descriptors

Each chunk is classified when it is linked (host memory, host memory
with swiotlb-bounced unaligned edges, PCI peer memory by bus address,
PCI peer memory through the host bridge) and the mapping records type,
direction and attributes as runs, so unlink, sync and destroy need
nothing re-supplied. Host chunks linked back to back are one run
whatever their physical addresses. Without an IOMMU the same calls map
each chunk directly.

On top: hmm_dma_map_alloc()/hmm_dma_map_pfns()/hmm_dma_unmap_range()
for hmm_range_fault() users (state in the pfn array, 8 bytes a page),
blk_rq_dma_map() and blk_dma_next_seg() for block drivers, and
ib_umem_link for pinned, ODP and dma-buf RDMA memory regions.
"""

UPSTREAM = """\
How it differs from the dma_iova_* API merged in 6.16:

  | upstream 6.16 dma_iova_*          | this series                      |
  |-----------------------------------|----------------------------------|
  | no alignment control; phys taken  | explicit alignment argument      |
  | as a hint                         |                                  |
  | no size/overflow validation       | sizes and offsets checked, errno |
  | caller unwinds partial links      | a failed link or batch unwinds   |
  | (three leaks fixed after merge)   | itself; fault-injected per call  |
  | 16-byte state, no chunk record:   | runs record type, dir and attrs: |
  | attrs re-supplied at unmap        | unmap needs nothing re-supplied  |
  | one chunk type per state (blk     | host, bounce, P2P bus and host-  |
  | classifies the first segment)     | bridge P2P mixed in one mapping  |
  | IOTLB sync per unlink, per page   | one sync per commit, one         |
  | for HMM map                       | invalidation per (multi-)unlink  |
  | one bounced chunk slows the       | only bounced runs take the slow  |
  | whole unmap                       | path                             |
  | no dma-debug checks, no KUnit,    | dma-debug state checks, KUnit on |
  | no map_benchmark mode             | a real VT-d, benchmark modes     |
  | dma-buf: scatterlist only         | dma_buf_map_attachment_phys()    |
"""


def fmt_ratio(r):
    if not r:
        return '   -  '
    return '%5.2f [%.2f-%.2f]' % (r['median'], r['rounds_min'],
                                  r['rounds_max'])


def bench(path, machine):
    if not os.path.exists(path):
        sys.stderr.write('series-cover: no %s: run make bench first; the '
                         'cover letter says so\n' % path)
        return ('No benchmark results were available when this series was '
                'made (make bench writes\nout/bench/results.json).\n')
    with open(path) as f:
        res = json.load(f)
    lines = []
    lines.append(
        '%s: dma_map_benchmark\n(patch "dma-mapping: benchmark"), 2 vCPUs, '
        'one thread, 4 KiB chunks;\nratios of median operation times over %d '
        'interleaved rounds, with the\nrange of the same ratio taken round '
        'by round. Above 1 means this series\nis faster:\n' %
        (machine, max((max(c['rounds'].values()) for c in res['comparisons']),
                      default=0)))
    cols = (('sg/batch', 'sgtable/batch'), ('blksg/blkdma', 'blk-sg/blk-dma'),
            ('page/hmm', 'page/hmm'))
    lines.append('  %-6s %6s  %-19s %-19s %-19s  %s' %
                 ('policy', 'N', cols[0][1], cols[1][1], cols[2][1],
                  'bytes/page ours:sg'))
    for c in res['comparisons']:
        if c['threads'] != 1 or c['order'] != 0:
            continue
        meta = c.get('meta_bytes_per_page', {})
        mb = ''
        if 'iova-batch' in meta and 'sgtable' in meta:
            mb = '%.1f:%.1f' % (meta['iova-batch'], meta['sgtable'])
        lines.append('  %-6s %6d  %-19s %-19s %-19s  %s' % (
            c['policy'], c['chunks'],
            fmt_ratio(c['ratios'].get('sg/batch')),
            fmt_ratio(c['ratios'].get('blksg/blkdma')),
            fmt_ratio(c['ratios'].get('page/hmm')), mb))
    return '\n'.join(lines) + '\n'


BENCH_LEGEND = (
    'sgtable/batch: dma_map_sgtable() of an sg_table against one '
    'dma_link_bvecs()\nand commit; blk-sg/blk-dma: blk_rq_map_sg() + '
    'dma_map_sgtable() against\nblk_rq_dma_map() for a request of N '
    'bio_vecs; page/hmm: dma_map_page() per\npage against '
    'hmm_dma_map_pfns() per 512 pages (ODP). Under TCG the spread is\n'
    'wide; the ranges say how far to trust each median.\n')


def benches(results):
    """VT-d's table, SMMUv3's (out/bench-smmuv3) where make bench ran there."""
    text = bench(results, 'QEMU q35 under TCG, emulated Intel IOMMU')
    smmu = os.path.join(os.path.dirname(os.path.dirname(results)),
                        'bench-smmuv3', 'results.json')
    if os.path.exists(smmu):
        text += '\n' + bench(smmu, 'QEMU arm64 virt under TCG, emulated '
                             'SMMUv3')
    return text + '\n' + BENCH_LEGEND


def kunit_runs(out):
    """The last KUnit totals per IOMMU and mode, from out/kunit-*.log.parsed."""
    lines = []
    for path in sorted(glob.glob(os.path.join(out, 'kunit-*-*.log.parsed'))):
        iommu, mode = os.path.basename(path)[6:-11].rsplit('-', 1)
        with open(path) as f:
            done = [l.split('] ', 1)[-1].strip() for l in f
                    if 'Testing complete.' in l]
        if done:
            lines.append('  %s, %s invalidation: %s' % (iommu, mode, done[-1]))
    if not lines:
        return ''
    return ('KUnit, the last run of each machine (out/kunit-*.log):\n' +
            '\n'.join(lines) + '\n')


def main():
    cover, results, version, nr = sys.argv[1:5]
    with open(cover) as f:
        text = f.read()
    blurb = '\n'.join(p for p in (
        WHY, API, UPSTREAM, benches(results),
        'Tested (make test in the series\' repository): a userspace '
        'harness that builds\nkernel/dma/iova_link.c unchanged against a '
        'mock IOMMU (gcc 64/32-bit,\nclang, ASan+UBSan) and a model-based '
        'fuzzer; KUnit under QEMU with an emulated\nIntel IOMMU in strict '
        'and lazy mode (KASAN, kmemleak, lockdep, DMA_API_DEBUG),\nedu '
        'devices as DMA clients and NVMe CMBs as peer memory; fio with '
        'crc32c\nverification through nvme-pci; a stress run of resets, '
        'FLR, hotplug and\ninjected errors under I/O with 0 DMAR faults '
        'allowed. Every patch builds\n(make series-check).\n',
        kunit_runs(os.path.dirname(os.path.dirname(results))),
        'Base: Debian\'s linux-source-6.12 %s, imported into git as one '
        'commit\n(the base-commit below is that import).\n' % version) if p)
    if '*** SUBJECT HERE ***' not in text or '*** BLURB HERE ***' not in text:
        sys.exit('series-cover: %s is not a fresh cover letter' % cover)
    text = text.replace('*** SUBJECT HERE ***', SUBJECT)
    text = text.replace('*** BLURB HERE ***', blurb.rstrip())
    with open(cover, 'w') as f:
        f.write(text)


if __name__ == '__main__':
    main()
