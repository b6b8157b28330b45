# SPDX-License-Identifier: GPL-2.0
#
# kunit.py --qemu_config for the two-step IOVA API: q35 with an emulated
# Intel IOMMU, two edu DMA engines and two NVMe controllers with a CMB (real
# PCI P2P memory). One edu/NVMe pair sits on the root complex (P2P through
# the host bridge), the other behind a PCIe switch (P2P by bus address).
# ivshmem-plain gives a memory BAR with no driver and no struct pages (the
# way VFIO exports MMIO). The edu devices decode 40-bit DMA addresses (QEMU's default is 28 bits):
# the test driver keeps 28, the 1 GiB region cases widen it. 3 GiB of RAM
# hold a 1 GiB region beside KASAN's shadow.
# The CPU reports an AMD Zen family so that the kernel allows host-bridge
# P2P (drivers/pci/p2pdma.c: cpu_supports_p2pdma()); TCG does not care.
#
# Namespaces are backed by sparse files so that data written can be read
# back: nvme0n1 (plain, for fio), nvme0n2 (8 bytes of separate T10 PI
# metadata per block, which QEMU checks on every write), nvme1n1.
import os

DISKS = os.environ.get('DMA_IOVA_DISKS',
		       os.path.expanduser('~/.cache/dma-iova/disks'))

def disk(name, size_mb):
	os.makedirs(DISKS, exist_ok=True)
	path = os.path.join(DISKS, name + '.raw')
	with open(path, 'ab') as f:
		f.truncate(size_mb << 20)
	return 'if=none,id=%s,file=%s,format=raw,cache=unsafe' % (name, path)

from ..qemu_config import QemuArchParams

QEMU_ARCH = QemuArchParams(linux_arch='x86_64',
			   kconfig='''
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y''',
			   qemu_arch='x86_64',
			   kernel_path='arch/x86/boot/bzImage',
			   kernel_command_line='console=ttyS0 swiotlb=force ' +
				os.environ.get('DMA_IOVA_CMDLINE', ''),
			   extra_qemu_params=[
				# after kunit.py's -m 1024: 1 GiB regions
				'-m', '3072',
				# two vCPUs run in parallel (multi-threaded TCG)
				'-smp', '2',
				'-machine', 'q35',
				'-cpu', 'qemu64,vendor=AuthenticAMD,family=23',
				'-device', 'intel-iommu',
				# DMAR faults and IOTLB invalidations, seen from outside
				'-trace', 'vtd_dmar_fault',
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
				# a BAR of plain memory that no driver claims: no
				# struct pages, exported as dma-buf ranges
				'-object', 'memory-backend-ram,id=barmem,size=1M',
				'-device', 'ivshmem-plain,memdev=barmem,id=bar0',
			   ] + os.environ.get('DMA_IOVA_QEMU_ARGS', '').split())
