#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make trace`: boot the VM and run a bpftrace script of
# tools/testing/dma-iova/bpftrace/ with the host's bpftrace (over the 9p
# root) while fio and dma_map_benchmark map through the two-step IOVA API;
# print what it saw.
#   scripts/trace.sh [SCRIPT]   default: dma-iova.bt
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

command -v bpftrace > /dev/null || { echo "bpftrace not installed" >&2; exit 1; }
bt=$repo/tools/testing/dma-iova/bpftrace/${1:-dma-iova.bt}
out=$repo/out/trace
mkdir -p "$out"
tool=$("$repo/scripts/bench-tool.sh" "$out")
printf '%s\n' "strict 1 0 2 64 1 iova" "strict 1 0 2 512 1 iova-fault" \
	"lazy 1 0 2 64 1 iova" > "$out/plan.txt"
# bpftrace needs the BTF of the kernel without sanitizers
export DMA_IOVA_OUT=$out VM_MEM=2048 VM_KERNEL_CONFIG=bench
"$repo/scripts/vm.sh" \
	"$repo/tools/testing/dma-iova/vm/trace.sh $bt $tool $out/plan.txt" |
	sed -n '/^tracing the two-step/,/^vm: exit status/p'
