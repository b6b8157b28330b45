#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`: boot the VM once and run dma_map_benchmark (patches/0011) on
# edu0 behind the emulated Intel IOMMU in every mode - ours (iova), the raw
# IOMMU floor, dma_map_sgtable, per-page dma_map_page and the ODP-shaped
# iova-fault - for N = 1..65536 chunks of 4 KiB and 1..512 chunks of 2 MiB,
# strict and lazy, 1 and 2 threads, then link and destroy up to 64 GiB.
# QEMU traces every invalidation descriptor; scripts/bench-report.py counts
# them per run, prints the table and writes out/bench/results.json and the
# plots.
#   scripts/bench.sh           the whole matrix (about 10 minutes here)
#   scripts/bench.sh --smoke   N=8, strict, 1 thread: checks that every mode
#                              runs and is counted (part of `make test`)
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

smoke=
[ "${1:-}" = --smoke ] && smoke=1
out=$repo/out/bench${smoke:+-smoke}
mkdir -p "$out"
rm -f "$out/qemu-trace.log" "$out/vm.log"
tool=$("$repo/scripts/bench-tool.sh" "$out")

modes="iova floor sgtable page iova-fault"
secs=${BENCH_SECONDS:-1}
{
	echo "# policy threads order seconds chunks modes..."
	if [ -n "$smoke" ]; then
		echo "strict 1 0 1 8 $modes"
		echo "lazy 1 0 1 8 iova"
	else
		for pol in strict lazy; do
			for t in 1 2; do
				for n in 1 8 64 512 4096 65536; do
					echo "$pol $t 0 $secs $n $modes"
				done
				for n in 1 8 64 512; do
					echo "$pol $t 9 $secs $n $modes"
				done
			done
		done
		# Scale: 1, 4, 16 and 64 GiB of 4 KiB chunks, one operation each.
		for n in 262144 1048576 4194304 16777216; do
			echo "strict 1 0 1 $n iova floor"
		done
	fi
} > "$out/plan.txt"

export DMA_IOVA_OUT=$out VM_MEM=6144 VM_CPUS=2
export VM_TIMEOUT=${VM_TIMEOUT:-3600}
export DMA_IOVA_QEMU_ARGS="-trace vtd_inv_desc* -trace pci_cfg_write -D $out/qemu-trace.log"
"$repo/scripts/vm.sh" \
	"$repo/tools/testing/dma-iova/vm/bench.sh $tool $out/plan.txt" |
	grep --line-buffered -E '^bench:|map_benchmark|BUG|WARNING' || true
python3 "$repo/scripts/bench-report.py" ${smoke:+--smoke} "$out"
