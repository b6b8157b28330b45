#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make run`: build the patched kernel and boot it in QEMU behind the
# IOMMU DMA_IOVA_IOMMU names (kernel-env.sh; VT-d by default) with NVMe
# CMBs and edu devices (the KUnit topology), with KUnit off and the boot
# demo on. Prints the demo's table.
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"

"$repo/scripts/build-kernel.sh" > /dev/null ||
	{ echo "demo-$DMA_IOVA_IOMMU: 0 passed, 1 failed"; exit 1; }
out=${DMA_IOVA_OUT:-$repo/out}
mkdir -p "$out"
log=$out/demo-$DMA_IOVA_IOMMU.log
args=$(python3 "$repo/scripts/qemu-args.py" "$qemu_config")
qemu_params=$(echo "$args" | sed -n 1p)
cmdline=$(echo "$args" | sed -n 2p)
echo ">> booting QEMU $machine + $DMA_IOVA_IOMMU IOMMU (TCG), demo on"
eval "timeout 900 $qemu -nodefaults -m 1024 -nographic \
	-serial stdio -no-reboot -kernel $build/$kernel_image \
	-append '$cmdline kunit.enable=0 dma_iova_demo.run=1 umem_link_demo.run=1 panic=-1' \
	$qemu_params" > "$log" 2>&1 || true
grep -E 'Adding to iommu group 0$|added peer-to-peer DMA memory|dma_iova_demo:|umem_link_demo:' "$log" | sed 's/^\[ *[0-9.]*\] //'
pass=0 fail=0 skip=0
for demo in dma_iova_demo umem_link_demo; do
	reason=$(sed -n "s/.*$demo: skipped: //p" "$log" | head -n 1)
	if grep -qE "$demo: .*(MISMATCH|timeout|WRONG|FAILED|link: -|alloc_iova: -)" "$log"; then
		fail=$((fail + 1))
	elif grep -q "$demo: done" "$log"; then
		pass=$((pass + 1))
	elif [ -n "$reason" ] && [ -n "$allowed_skips" ] &&
	     echo "$reason" | grep -qE "$allowed_skips"; then
		echo ">> $demo skipped: $reason"
		skip=$((skip + 1))
	else
		echo ">> $demo did not finish, see $log"
		fail=$((fail + 1))
	fi
done
# the verdict goes into the log too: scripts/kunit-table.py reads it there
echo "demo-$DMA_IOVA_IOMMU: $pass passed, $fail failed, $skip skipped" |
	tee -a "$log"
[ "$fail" -eq 0 ]
