#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`: boot the VM once and run dma_map_benchmark (patches/0023) on
# edu0 behind the emulated Intel IOMMU (or, with DMA_IOVA_IOMMU=smmuv3 or
# smmuv3-64k, the arm64 SMMUv3) in every mode - ours batched
# (iova-batch) and one call per chunk (iova), the raw IOMMU floor and
# its vectored map (floor-vec),
# dma_map_sgtable, per-page dma_map_page, the ODP-shaped iova-fault, the
# HMM helper batched (hmm) and a page at a time (hmm-page) and upstream
# 6.16's ODP shape (odp-upstream, link + sync and unlink per page) -
# for N = 1..65536 chunks of 4 KiB and 1..512 chunks of 2 MiB; blk-dma
# against 6.12's blk_rq_map_sg + dma_map_sgtable for requests of 1..128
# bio_vecs; strict and lazy; then link and destroy up to 64 GiB. The modes
# of a configuration run interleaved for BENCH_ROUNDS (5) rounds in one
# boot with one vCPU and no tracing, and the report uses medians; a second
# boot runs every configuration once with QEMU tracing every invalidation
# descriptor, which scripts/bench-report.py counts per operation. It prints
# the tables and writes out/bench/results.json (out/bench-smmuv3/... on
# SMMUv3) and the plots. BENCH_OUT
# names another output directory (to compare two runs with
# bench-report.py --compare).
#   scripts/bench.sh           the whole matrix (about 20 minutes here)
#   BENCH_N="8 512" BENCH_MODES="iova-batch floor sgtable" scripts/bench.sh
#                              only those chunk counts and modes
#   BENCH_PLAN=file            runs the plan lines of file (see plan())
#   scripts/bench.sh --smoke   N=8, strict, 1 thread: checks that every mode
#                              runs and is counted (part of `make test`)
#   BENCH_ICOUNT=1             runs QEMU with -icount shift=0: the guest's
#                              clock counts instructions, a nanosecond each,
#                              so every figure is an instruction count, the
#                              same from round to round (what an operation
#                              executes, not what it costs in time)
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

smoke=
[ "${1:-}" = --smoke ] && smoke=1
# out/bench behind VT-d, out/bench-smmuv3 ... behind the others
machine_out=
[ "$DMA_IOVA_IOMMU" = intel ] || machine_out=-$DMA_IOVA_IOMMU
out=${BENCH_OUT:-$repo/out/bench$machine_out${smoke:+-smoke}}
mkdir -p "$out"
rm -f "$out/qemu-trace.log" "$out/vm.log"
tool=$("$repo/scripts/bench-tool.sh" "$out")

chunk_modes="iova-batch iova floor floor-vec sgtable page iova-fault"
odp_modes="hmm hmm-page odp-upstream"
block_modes="blk-dma blk-sg"
secs=${BENCH_SECONDS:-1}
rounds=${BENCH_ROUNDS:-5}

# The configurations, "POLICY THREADS ORDER N MODES...".
configs() {
	if [ -n "$smoke" ]; then
		echo "strict 1 0 8 $chunk_modes $odp_modes $block_modes"
		echo "lazy 1 0 8 iova-batch iova hmm blk-dma"
		return
	fi
	for pol in strict lazy; do
		for n in 1 8 64 512 4096 65536; do
			echo "$pol 1 0 $n $chunk_modes $odp_modes"
		done
		for n in 8 512; do
			echo "$pol 1 9 $n $chunk_modes"
		done
		for n in 1 8 32 128; do
			echo "$pol 1 0 $n $block_modes"
		done
		for n in 8 32; do
			echo "$pol 1 4 $n $block_modes"
		done
	done
}

# Plan lines: "POLICY THREADS ORDER SECONDS N ROUNDS MODES...", kept
# where N is in BENCH_N and with only the modes in BENCH_MODES (if set).
subset() {
	local pol t order secs n r modes m keep
	while read -r pol t order secs n r modes; do
		case $pol in "#"*) echo "$pol $t $order $secs $n $r $modes"; continue ;; esac
		[ -z "${BENCH_N:-}" ] || [[ " $BENCH_N " == *" $n "* ]] || continue
		keep=
		for m in $modes; do
			[ -z "${BENCH_MODES:-}" ] || [[ " $BENCH_MODES " == *" $m "* ]] ||
				continue
			keep="$keep $m"
		done
		[ -n "$keep" ] && echo "$pol $t $order $secs $n $r$keep"
	done
	return 0
}

plan() {	# seconds rounds
	echo "# policy threads order seconds chunks rounds modes..."
	configs | while read -r pol t order n modes; do
		echo "$pol $t $order $1 $n $2 $modes"
	done | if [ -n "$smoke" ]; then cat; else subset; fi
}

icount=${BENCH_ICOUNT:+-icount shift=0,sleep=off}
boot() {	# dir plan [qemu trace args]
	DMA_IOVA_OUT=$1 DMA_IOVA_QEMU_ARGS="$icount ${3:-}" "$repo/scripts/vm.sh" \
		"$repo/tools/testing/dma-iova/vm/bench.sh $tool $2" |
		grep --line-buffered -E '^bench:|map_benchmark|BUG|WARNING' || true
}

# QEMU's events for each invalidation command the driver queues.
case $DMA_IOVA_IOMMU in
intel) inval="-trace vtd_inv_desc*" ;;
smmuv3 | smmuv3-64k)
	inval="-trace smmuv3_cmdq_opcode -trace smmuv3_s1_range_inval -trace smmuv3_cmdq_tlbi_nh*" ;;
*) echo "bench.sh: no invalidation trace for $DMA_IOVA_IOMMU (intel, smmuv3)" >&2; exit 2 ;;
esac
trace="$inval -trace pci_cfg_write -D $out/qemu-trace.log"
# Two vCPUs, as users run: the threads=2 rows contend for real. They share
# this machine's two cores with QEMU's I/O thread, so compare ratios of one
# run, not absolute times across runs.
export VM_MEM=6144 VM_CPUS=2
# Under -icount an idle second vCPU stalls the guest (its timers do not
# fire; the power-off hangs in an RCU stall): count on one.
[ -n "${BENCH_ICOUNT:-}" ] && VM_CPUS=1
# Both kernels have CONFIG_DMA_API_DEBUG for the stress run; time without it.
export VM_CMDLINE="dma_debug=off ${VM_CMDLINE:-}"
export VM_TIMEOUT=${VM_TIMEOUT:-3600}
# Timed runs boot the kernel without sanitizers; the smoke run of make
# test boots make test's one kernel (KASAN, lockdep, kmemleak).
export VM_KERNEL_CONFIG=bench
[ -n "$smoke" ] && VM_KERNEL_CONFIG=kunit
if [ -n "$smoke" ]; then
	plan 1 1 > "$out/plan.txt"
	boot "$out" "$out/plan.txt" "$trace"
	python3 "$repo/scripts/bench-report.py" --smoke "$out"
	exit
fi

# Timed runs without QEMU's trace (a line per invalidation descriptor,
# written by the vCPU thread, would time the trace); then one untimed
# round of every run with it, to count invalidations per operation.
if [ -n "${BENCH_PLAN:-}" ]; then
	grep -v '^[[:space:]]*$' "$BENCH_PLAN" > "$out/plan.txt.new"
	mv "$out/plan.txt.new" "$out/plan.txt"
else
	{
		plan "$secs" "$rounds"
		# Scale: 1, 4, 16 and 64 GiB of 4 KiB chunks, one operation each.
		for n in 262144 1048576 4194304 16777216; do
			echo "strict 1 0 1 $n 1 iova-batch iova floor"
		done | subset
	} > "$out/plan.txt"
fi
grep -qv '^#' "$out/plan.txt" ||
	{ echo "bench.sh: no run left in the plan (BENCH_N, BENCH_MODES?)" >&2; exit 2; }
boot "$out" "$out/plan.txt"
mkdir -p "$out/count"
rm -f "$out/count/qemu-trace.log"
# the counting boot: every run once (a given plan's, or the matrix's
# without the scale runs)
if [ -n "${BENCH_PLAN:-}" ]; then
	awk '/^#/ { print; next } $5 >= 262144 { next } { $4 = 1; $6 = 1; print }' \
		"$out/plan.txt"
else
	plan 1 1
fi > "$out/count/plan.txt.new"
mv "$out/count/plan.txt.new" "$out/count/plan.txt"
trace="$inval -trace pci_cfg_write -D $out/count/qemu-trace.log"
boot "$out/count" "$out/count/plan.txt" "$trace"
python3 "$repo/scripts/bench-report.py" "$out"
