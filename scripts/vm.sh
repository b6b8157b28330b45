#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run a command in a VM: the machine of DMA_IOVA_IOMMU (kernel-env.sh; q35
# with the emulated Intel IOMMU by default, arm64 virt with an SMMUv3 for
# smmuv3 and smmuv3-64k) with the devices of the KUnit topology (edu, NVMe
# with CMB, PCIe switch), booting the KUnit kernel (KASAN, kmemleak,
# lockdep, DMA_API_DEBUG; kernel/dma/.kunitconfig) with KUnit off, or with
# VM_KERNEL_CONFIG=bench one built without sanitizers and with BTF for
# timing and bpftrace (tools/testing/dma-iova/vm/kunitconfig, its own
# build directory), and the host's root filesystem read-only over 9p, so tools installed on the host (fio, nvme-cli,
# bpftrace, ...) run in the guest. An arm64 guest cannot run this host's
# binaries: it boots an initramfs with Debian's busybox-static:arm64
# (downloaded once; needs `dpkg --add-architecture arm64`) and sees the
# host's files at their paths, so scripts and static arm64 tools run.
# Prints the guest's console; exits with the command's status.
#
#   scripts/vm.sh 'cat /proc/cmdline; ls /sys/bus/pci/devices'
# VM_MEM (MiB, 2048), VM_CPUS (2), VM_CMDLINE (extra kernel parameters) and
# VM_TIMEOUT (seconds, 900) change the machine; DMA_IOVA_OUT the log's place;
# VM_KERNEL boots another kernel image (e.g. stock 6.12 with the same config).
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

[ $# -ge 1 ] || { echo "usage: $0 'command'" >&2; exit 2; }
vmdir=$repo/tools/testing/dma-iova/vm
case ${VM_KERNEL_CONFIG:-kunit} in
kunit) ;;
bench)
	build=$CACHE/build-vm-$ver$suffix
	export DMA_IOVA_KUNITCONFIG=$vmdir/kunitconfig
	;;
*) echo "VM_KERNEL_CONFIG=$VM_KERNEL_CONFIG: not kunit or bench" >&2; exit 2 ;;
esac
if [ -n "${VM_KERNEL:-}" ]; then
	kernel=$VM_KERNEL
else
	DMA_IOVA_BUILD=$build "$repo/scripts/build-kernel.sh" > /dev/null
	kernel=$build/$kernel_image
fi

# The initramfs of an arm64 guest: busybox and init.sh as /init, which
# mounts the host's root on /host and binds in what the initramfs lacks.
initramfs() {	# prints its path
	local dir=$CACHE/initramfs-arm64 debs=$CACHE/debs
	if [ ! -x "$dir/bin/busybox" ]; then
		mkdir -p "$debs" "$dir"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,host}
		(cd "$debs" && apt-get download busybox-static:arm64 >&2) || {
			echo "vm.sh: no busybox-static:arm64 (dpkg --add-architecture arm64 && apt-get update)" >&2
			exit 1
		}
		dpkg-deb --fsys-tarfile "$(ls "$debs"/busybox-static_*_arm64.deb | tail -n 1)" |
			tar -xO ./bin/busybox > "$dir/bin/busybox"
		chmod 755 "$dir/bin/busybox"
		ln -sf busybox "$dir/bin/sh"
	fi
	cp "$vmdir/init.sh" "$dir/init"
	(cd "$dir" && find . | cpio -o -H newc --quiet) | gzip > "$dir.cpio.gz"
	echo "$dir.cpio.gz"
}

if [ "$arch" = arm64 ]; then
	boot="-initrd $(initramfs)"
	root="rdinit=/init"
else
	boot=
	root="root=/dev/root rootfstype=9p ro init=$vmdir/init.sh"
	root="$root rootflags=trans=virtio,version=9p2000.L,msize=512000"
fi

args=$(python3 "$repo/scripts/qemu-args.py" "$qemu_config")
qemu_params=$(echo "$args" | sed -n 1p)
cmd=$(printf '%s' "$1" | base64 -w0)
out=${DMA_IOVA_OUT:-$repo/out}
mkdir -p "$out"
# never judge an earlier run's log
rm -f "$out/vm.log"
eval "timeout ${VM_TIMEOUT:-900} $qemu -nodefaults -m ${VM_MEM:-2048} \
	-nographic -serial stdio -no-reboot \
	-kernel $kernel $boot \
	-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root \
	-append 'console=$console $root \
kunit.enable=0 panic=-1 ${VM_CMDLINE:-} dma_iova_vm.cmd=$cmd' \
	$qemu_params -smp ${VM_CPUS:-2}" 2>&1 | tee "$out/vm.log" | grep -v '^vtd_dmar_fault'
status=$(sed -n 's/^vm: exit status \([0-9]*\).*/\1/p' "$out/vm.log" | tail -n 1)
exit "${status:-1}"
