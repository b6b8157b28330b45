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
# Namespaces are backed by sparse files, fresh for each run, so that data
# written can be read back: nvme0n1 (plain, for fio), nvme0n2 (8 bytes of separate T10 PI
# metadata per block, which QEMU checks on every write), nvme1n1.
import os
import shutil

DISKS = os.environ.get('DMA_IOVA_DISKS',
		       os.path.expanduser('~/.cache/dma-iova/disks'))

def started(pid):
	"""The start time of process @pid, None if there is none."""
	try:
		with open('/proc/%d/stat' % pid) as f:
			return f.read().rsplit(')', 1)[1].split()[19]
	except (OSError, IndexError):
		return None


def run_dir():
	"""
	The disks of this run alone, named after the process that starts
	QEMU (this module's importer's parent): two QEMUs at once (a KUnit
	boot beside a benchmark, two checkouts) never share an image, and
	every run starts from empty disks. The directories of processes that
	are gone are removed. Not QEMU's snapshot=on: its qcow2 overlay does
	not report never-written blocks as zero, so the PI namespace would
	fail its reference tag checks on them.
	"""
	os.makedirs(DISKS, exist_ok=True)
	for name in os.listdir(DISKS):
		part = name.split('-')
		if (part[0] == 'run' and len(part) == 3 and part[1].isdigit() and
		    started(int(part[1])) != part[2]):
			shutil.rmtree(os.path.join(DISKS, name), ignore_errors=True)
	ppid = os.getppid()
	path = os.path.join(DISKS, 'run-%d-%s' % (ppid, started(ppid)))
	os.makedirs(path, exist_ok=True)
	return path


RUN_DISKS = run_dir()


def disk(name, size_mb):
	path = os.path.join(RUN_DISKS, name + '.raw')
	with open(path, 'ab') as f:
		f.truncate(size_mb << 20)
	return 'if=none,id=%s,file=%s,format=raw,cache=unsafe' % (name, path)

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
