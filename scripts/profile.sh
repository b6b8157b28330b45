#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make profile`: where the time of benchmark modes goes inside the guest.
# Boots the bench kernel (no sanitizers) with one vCPU, runs
# dma_map_benchmark (patches/0023) in each MODE for N chunks of 4 KiB under
# perf in the guest (the host's binary; cpu-clock sampling, which TCG
# supports: there is no PMU) and prints each mode's median and the symbols
# of the kernel's busy time.
#   scripts/profile.sh [POLICY] N MODE...
#   scripts/profile.sh strict 8 iova-batch sgtable floor
# PROFILE_ROUNDS (40) runs of the benchmark per mode, each of one second or
# PROFILE_LOOPS (8192) operations; PROFILE_ORDER (0) the chunk's page order.
# PROFILE_ICOUNT=1 runs QEMU with -icount shift=0: the guest's clock then
# advances a nanosecond per instruction, so times and samples count
# instructions, exactly and alike from run to run, not the host's time.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

pol=strict
case ${1:-} in strict|lazy) pol=$1; shift ;; esac
[ $# -ge 2 ] || { echo "usage: $0 [strict|lazy] N MODE..." >&2; exit 2; }
n=$1
shift
command -v perf > /dev/null || { echo "perf not installed" >&2; exit 1; }
out=$repo/out/profile
mkdir -p "$out"
tool=$("$repo/scripts/bench-tool.sh" "$out")
for mode; do
	echo "$pol 1 ${PROFILE_ORDER:-0} 1 $n ${PROFILE_ROUNDS:-40} $mode" \
		> "$out/plan-$mode.txt"
done
export DMA_IOVA_OUT=$out VM_KERNEL_CONFIG=bench VM_CPUS=1
export VM_CMDLINE="dma_debug=off map_benchmark.max_loops=${PROFILE_LOOPS:-8192} ${VM_CMDLINE:-}"
[ -n "${PROFILE_ICOUNT:-}" ] &&
	export DMA_IOVA_QEMU_ARGS="-icount shift=0,sleep=off ${DMA_IOVA_QEMU_ARGS:-}"
"$repo/scripts/vm.sh" "$repo/tools/testing/dma-iova/vm/profile.sh $tool $out $*" |
	sed -n '/^profile:/,/^vm: exit status/p'
