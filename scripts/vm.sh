#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run a command in a VM: q35 with the emulated Intel IOMMU and the devices
# of the KUnit topology (edu, NVMe with CMB, PCIe switch), booting a kernel
# built without sanitizers (tools/testing/dma-iova/vm/kunitconfig) and the
# host's root filesystem read-only over 9p, so tools installed on the host
# (fio, nvme-cli, bpftrace, ...) run in the guest. Prints the guest's
# console; exits with the command's status.
#
#   scripts/vm.sh 'cat /proc/cmdline; ls /sys/bus/pci/devices'
# VM_MEM (MiB, 2048), VM_CPUS (2), VM_CMDLINE (extra kernel parameters) and
# VM_TIMEOUT (seconds, 900) change the machine; DMA_IOVA_OUT the log's place;
# VM_KERNEL boots another bzImage (e.g. stock 6.12 with the same config).
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

[ $# -ge 1 ] || { echo "usage: $0 'command'" >&2; exit 2; }
vmdir=$repo/tools/testing/dma-iova/vm
build=$CACHE/build-vm-$ver
if [ -n "${VM_KERNEL:-}" ]; then
	kernel=$VM_KERNEL
else
	DMA_IOVA_BUILD=$build DMA_IOVA_KUNITCONFIG=$vmdir/kunitconfig \
		"$repo/scripts/build-kernel.sh" > /dev/null
	kernel=$build/arch/x86/boot/bzImage
fi

args=$(python3 "$repo/scripts/qemu-args.py" "$qemu_config")
qemu_params=$(echo "$args" | sed -n 1p)
cmd=$(printf '%s' "$1" | base64 -w0)
out=${DMA_IOVA_OUT:-$repo/out}
mkdir -p "$out"
eval "timeout ${VM_TIMEOUT:-900} qemu-system-x86_64 -nodefaults -m ${VM_MEM:-2048} \
	-nographic -serial stdio -no-reboot \
	-kernel $kernel \
	-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root \
	-append 'console=ttyS0 root=/dev/root rootfstype=9p \
rootflags=trans=virtio,version=9p2000.L,msize=512000 ro init=$vmdir/init.sh \
kunit.enable=0 panic=-1 ${VM_CMDLINE:-} dma_iova_vm.cmd=$cmd' \
	$qemu_params -smp ${VM_CPUS:-2}" 2>&1 | tee "$out/vm.log" | grep -v '^vtd_dmar_fault'
status=$(sed -n 's/^vm: exit status \([0-9]*\).*/\1/p' "$out/vm.log" | tail -n 1)
exit "${status:-1}"
