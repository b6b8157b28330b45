# SPDX-License-Identifier: GPL-2.0
#
# The PCI devices every machine of the KUnit suites carries, whatever its
# IOMMU: two edu DMA engines and two NVMe controllers with a CMB (real PCI
# P2P memory). One edu/NVMe pair sits on the root complex (P2P through the
# host bridge), the other behind a PCIe switch (P2P by bus address).
# ivshmem-plain gives a memory BAR with no driver and no struct pages (the
# way VFIO exports MMIO). The edu devices decode 40-bit DMA addresses
# (QEMU's default is 28 bits): the test driver keeps 28, the 1 GiB region
# cases widen it.
#
# Namespaces are backed by sparse files, each run writing to its own
# temporary overlay of them, so that data written can be read back: nvme0n1 (plain, for fio), nvme0n2 (8 bytes of separate T10 PI
# metadata per block, which QEMU checks on every write), nvme1n1.
import os

DISKS = os.environ.get('DMA_IOVA_DISKS',
		       os.path.expanduser('~/.cache/dma-iova/disks'))

def disk(name, size_mb):
	os.makedirs(DISKS, exist_ok=True)
	path = os.path.join(DISKS, name + '.raw')
	with open(path, 'ab') as f:
		f.truncate(size_mb << 20)
	# snapshot: each run writes to its own temporary overlay, so that
	# two QEMUs (a KUnit boot beside a benchmark, two checkouts) never
	# contend for the image's write lock
	return ('if=none,id=%s,file=%s,format=raw,cache=unsafe,snapshot=on'
		% (name, path))

PCI_DEVICES = [
	'-device', 'edu,id=edu0,dma_mask=0xffffffffff',
	'-device', 'nvme,id=nvme0,serial=dmaiova0,cmb_size_mb=16',
	'-drive', disk('nvm0n1', 512),
	'-device', 'nvme-ns,drive=nvm0n1,bus=nvme0,nsid=1',
	'-drive', disk('nvm0n2', 64),
	'-device', 'nvme-ns,drive=nvm0n2,bus=nvme0,nsid=2,ms=8,pi=1',
	'-device', 'pcie-root-port,id=rp1,chassis=1,slot=1',
	'-device', 'x3130-upstream,id=up1,bus=rp1',
	'-device', 'xio3130-downstream,id=dn1,bus=up1,chassis=2,slot=1',
	'-device', 'xio3130-downstream,id=dn2,bus=up1,chassis=3,slot=2',
	'-device', 'nvme,id=nvme1,serial=dmaiova1,cmb_size_mb=16,bus=dn1',
	'-drive', disk('nvm1n1', 64),
	'-device', 'nvme-ns,drive=nvm1n1,bus=nvme1,nsid=1',
	'-device', 'edu,id=edu1,bus=dn2,dma_mask=0xffffffffff',
	# a BAR of plain memory that no driver claims: no struct pages,
	# exported as dma-buf ranges
	'-object', 'memory-backend-ram,id=barmem,size=1M',
	'-device', 'ivshmem-plain,memdev=barmem,id=bar0',
]

# Test-specific extras (the stress and benchmark runs add to them).
EXTRA = os.environ.get('DMA_IOVA_QEMU_ARGS', '').split()
CMDLINE = os.environ.get('DMA_IOVA_CMDLINE', '')
