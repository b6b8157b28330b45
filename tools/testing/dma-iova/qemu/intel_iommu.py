# SPDX-License-Identifier: GPL-2.0
#
# kunit.py --qemu_config for the two-step IOVA API: q35 with an emulated
# Intel IOMMU, two edu DMA engines and two NVMe controllers with a CMB (real
# PCI P2P memory). One edu/NVMe pair sits on the root complex (P2P through
# the host bridge), the other behind a PCIe switch (P2P by bus address).
# The CPU reports an AMD Zen family so that the kernel allows host-bridge
# P2P (drivers/pci/p2pdma.c: cpu_supports_p2pdma()); TCG does not care.
import os

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
				'-machine', 'q35',
				'-cpu', 'qemu64,vendor=AuthenticAMD,family=23',
				'-device', 'intel-iommu',
				# DMAR faults and IOTLB invalidations, seen from outside
				'-trace', 'vtd_dmar_fault',
				'-device', 'edu,id=edu0',
				'-drive', 'if=none,id=nvm0,file=null-co://,format=raw',
				'-device', 'nvme,serial=dmaiova0,drive=nvm0,cmb_size_mb=16',
				'-device', 'pcie-root-port,id=rp1,chassis=1,slot=1',
				'-device', 'x3130-upstream,id=up1,bus=rp1',
				'-device', 'xio3130-downstream,id=dn1,bus=up1,chassis=2,slot=1',
				'-device', 'xio3130-downstream,id=dn2,bus=up1,chassis=3,slot=2',
				'-drive', 'if=none,id=nvm1,file=null-co://,format=raw',
				'-device', 'nvme,serial=dmaiova1,drive=nvm1,cmb_size_mb=16,bus=dn1',
				'-device', 'edu,id=edu1,bus=dn2',
			   ] + os.environ.get('DMA_IOVA_QEMU_ARGS', '').split())
