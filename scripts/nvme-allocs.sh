#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Allocations per I/O in nvme-pci's submission path: boot the VM (the
# kernel without sanitizers, one vCPU) behind the emulated Intel IOMMU in
# the modes given (default: strict, lazy and passthrough, dma-debug off as
# in a distribution kernel)
# and count, with tracepoint stacks, the slab and page allocations made
# under nvme_queue_rq while fio runs 8..128 KiB I/O on the data and the
# T10 PI namespace (tools/testing/dma-iova/vm/nvme-allocs.sh).
#   scripts/nvme-allocs.sh [strict|lazy|passthrough]...
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"

[ "$DMA_IOVA_IOMMU" = intel ] || { echo "nvme-allocs: VT-d only" >&2; exit 2; }
command -v fio > /dev/null || { echo "nvme-allocs: fio not installed" >&2; exit 1; }
for mode in "${@:-strict lazy passthrough}"; do
	for m in $mode; do
		case $m in
		strict) args="iommu.strict=1" ;;
		lazy) args="iommu.strict=0" ;;
		passthrough) args="iommu.passthrough=1" ;;
		*) echo "nvme-allocs: unknown mode $m" >&2; exit 2 ;;
		esac
		echo ">> nvme-pci allocations per I/O, VT-d $m ($args dma_debug=off)"
		DMA_IOVA_OUT=$repo/out/nvme-allocs-$m VM_CPUS=1 \
		VM_KERNEL_CONFIG=${VM_KERNEL_CONFIG:-bench} \
		VM_CMDLINE="$args dma_debug=off ${VM_CMDLINE:-}" \
			"$repo/scripts/vm.sh" "$repo/tools/testing/dma-iova/vm/nvme-allocs.sh" |
			tr -d '\r' | grep -E '^allocs' | sed "s/^allocs /allocs $m /"
	done
done
