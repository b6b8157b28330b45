#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make run`: build the patched kernel and boot it in QEMU q35 with the
# emulated Intel IOMMU, NVMe CMBs and edu devices (the KUnit topology),
# with KUnit off and the boot demo on. Prints the demo's table.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

"$repo/scripts/build-kernel.sh" > /dev/null
out=${DMA_IOVA_OUT:-$repo/out}
mkdir -p "$out"
log=$out/demo.log
args=$(python3 "$repo/scripts/qemu-args.py" "$qemu_config")
qemu_params=$(echo "$args" | sed -n 1p)
cmdline=$(echo "$args" | sed -n 2p)
echo ">> booting QEMU q35 + intel-iommu (TCG), demo on"
eval "timeout 600 qemu-system-x86_64 -nodefaults -m 1024 -nographic \
	-serial stdio -no-reboot -kernel $build/arch/x86/boot/bzImage \
	-append '$cmdline kunit.enable=0 dma_iova_demo.run=1 umem_link_demo.run=1 panic=-1' \
	$qemu_params" > "$log" 2>&1 || true
grep -E 'Virtualization Technology for Directed I/O|added peer-to-peer DMA memory|dma_iova_demo:|umem_link_demo:' "$log" | sed 's/^\[ *[0-9.]*\] //'
for demo in dma_iova_demo umem_link_demo; do
	grep -q "$demo: done" "$log" || { echo ">> $demo did not finish, see $log"; exit 1; }
done
! grep -qE '(dma_iova|umem_link)_demo: .*(MISMATCH|timeout|WRONG|FAILED)' "$log"
