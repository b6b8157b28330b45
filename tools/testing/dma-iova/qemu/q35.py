# SPDX-License-Identifier: GPL-2.0
#
# kunit.py --qemu_config for the two-step IOVA API on x86: q35 with the
# devices of devices.py behind the IOMMU DMA_IOVA_IOMMU names: intel
# (VT-d, the default), amd (AMD-Vi) or virtio (virtio-iommu). One kernel
# serves all three: each driver finds its own hardware. 3 GiB of RAM hold
# a 1 GiB region beside KASAN's shadow.
# The CPU reports an AMD Zen family so that the kernel allows host-bridge
# P2P (drivers/pci/p2pdma.c: cpu_supports_p2pdma()); TCG does not care.
# Each IOMMU's DMA faults are traced by QEMU too, seen from outside.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import devices

from ..qemu_config import QemuArchParams

IOMMUS = {
	'intel': ['-device', 'intel-iommu', '-trace', 'vtd_dmar_fault'],
	'amd': ['-device', 'amd-iommu,intremap=off',
		'-trace', 'amdvi_page_fault'],
	'virtio': ['-device', 'virtio-iommu-pci',
		   '-trace', 'virtio_iommu_report_fault'],
}
IOMMU = os.environ.get('DMA_IOVA_IOMMU', 'intel')

QEMU_ARCH = QemuArchParams(linux_arch='x86_64',
			   kconfig='''
CONFIG_ACPI=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_INTEL_IOMMU=y
CONFIG_INTEL_IOMMU_DEFAULT_ON=y
CONFIG_AMD_IOMMU=y
CONFIG_VIRTIO_MENU=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_IOMMU=y''',
			   qemu_arch='x86_64',
			   kernel_path='arch/x86/boot/bzImage',
			   kernel_command_line='console=ttyS0 swiotlb=force ' +
				devices.CMDLINE,
			   extra_qemu_params=[
				# after kunit.py's -m 1024: 1 GiB regions
				'-m', '3072',
				# two vCPUs run in parallel (multi-threaded TCG)
				'-smp', '2',
				'-machine', 'q35',
				'-cpu', 'qemu64,vendor=AuthenticAMD,family=23',
			   ] + IOMMUS[IOMMU] + devices.PCI_DEVICES + devices.EXTRA)
