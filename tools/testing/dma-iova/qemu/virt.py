# SPDX-License-Identifier: GPL-2.0
#
# kunit.py --qemu_config for the two-step IOVA API on arm64: QEMU's virt
# machine with an SMMUv3 in front of the PCIe root complex and the devices
# of devices.py, GICv3 with an ITS for MSIs. DMA_IOVA_PAGES=64k builds the
# kernel with 64 KiB pages (and so a 64 KiB IOMMU granule); the default is
# 4 KiB. The SMMU's faults reach the guest as event queue records (which
# the driver logs rate-limited) and QEMU's log (-d guest_errors) with the
# faulting IOVA.
# The machine is described by its device tree: the kernel builds no ACPI
# and no EFI (300 of its 1600 objects, a fifth of a cold build).
# io-pgtable-arm's boot selftest runs too (every LPAE format, granule and
# input size; scripts/kunit.sh checks its summary line).
# The kernel allows P2P through no arm64 host bridge (pci_p2pdma's allow
# list names x86 ones only): the suites skip those cases here.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import devices

from ..qemu_config import QemuArchParams

PAGES = {
	'4k': 'CONFIG_ARM64_4K_PAGES=y',
	'64k': 'CONFIG_ARM64_64K_PAGES=y',
}[os.environ.get('DMA_IOVA_PAGES', '4k')]

QEMU_ARCH = QemuArchParams(linux_arch='arm64',
			   kconfig='''
CONFIG_SERIAL_AMBA_PL011=y
CONFIG_SERIAL_AMBA_PL011_CONSOLE=y
CONFIG_PCI_HOST_GENERIC=y
CONFIG_ARM_SMMU_V3=y
CONFIG_IOMMU_IO_PGTABLE_LPAE_SELFTEST=y
# CONFIG_ACPI is not set
# CONFIG_EFI is not set
''' + PAGES,
			   qemu_arch='aarch64',
			   kernel_path='arch/arm64/boot/Image.gz',
			   kernel_command_line='console=ttyAMA0 swiotlb=force ' +
				devices.CMDLINE,
			   extra_qemu_params=[
				'-m', '3072',
				'-smp', '2',
				'-machine', 'virt,gic-version=3,iommu=smmuv3',
				# pauth-impdef: TCG's fast pointer auth
				'-cpu', 'max,pauth-impdef=on',
				'-d', 'guest_errors',
			   ] + devices.PCI_DEVICES + devices.EXTRA)
