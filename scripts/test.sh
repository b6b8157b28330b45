#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make test`: the userspace harness (ASan+UBSan), the patch series'
# quick check, and the KUnit suites in QEMU with the emulated Intel IOMMU
# (strict, untrusted, production and passthrough boots) and one more
# IOMMU, fio, stress and a benchmark smoke run. Ends with one
# "N passed, N failed" line over everything; exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"

pass=0
fail=0
failed=()	# the summary lines that counted failures, repeated at the end
count() {	# "<label>: P passed, F failed" lines on stdin
	local line p f
	while read -r line; do
		echo "$line"
		# a label first: not a harness's own "N tests run, ..." line
		if [[ $line =~ ^[a-z][a-z0-9-]*:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
			p=${BASH_REMATCH[1]}
			f=${BASH_REMATCH[2]}
			pass=$((pass + p))
			fail=$((fail + f))
			[ "$f" -eq 0 ] || failed+=("$line")
		fi
	done
}

# Print the harness's summary as "<label>: P passed, F failed"; when the
# build or the run ends without one, the last lines that say why.
harness_run() {	# label, command...
	local label=$1 out st
	shift
	out=$(timeout 600 "$@" 2>&1)
	st=$?
	echo "$out" | grep -E '^FAIL|^Assert|not clean|ERROR' || true
	if [[ $(echo "$out" | tail -n 1) =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		local p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}

		# died after its summary (an exit-time sanitizer report)
		[ "$st" -eq 0 ] || [ "$f" -gt 0 ] || {
			echo ">> $label: exit status $st after its summary"
			f=1
		}
		echo "$label: $p passed, $f failed"
	else
		echo "$out" | tail -n 15 | sed 's/^/>>   /'
		echo ">> $label: exit status $st and no summary line"
		echo "$label: 0 passed, 1 failed"
	fi
}

harness_build() {	# label, make arguments...
	local label=$1 out
	shift
	if ! out=$(make -s -C "$dir" clean dma-iova "$@" 2>&1); then
		echo "$out" | tail -n 15 | sed 's/^/>>   /'
		echo ">> $label: the build failed"
		echo "$label: 0 passed, 1 failed"
		return 1
	fi
}

harness() {	# label, make arguments...
	local label=$1
	echo ">> userspace harness ($label)"
	harness_build "$@" || return
	harness_run "$label" "$dir/dma-iova"
}

# The 32-bit build runs natively where the kernel executes 32-bit code
# (IA32 emulation); where it does not, its UBSan build runs under
# qemu-i386 (ASan's shadow memory does not map there), and the label says so.
harness32() {
	local label=gcc-32 probe=$dir/probe-32
	echo ">> userspace harness ($label)"
	if ! echo 'int main(void) { return 0; }' |
	     gcc -m32 -x c -o "$probe" - 2>&1 | tail -n 5; then
		echo ">> gcc -m32 cannot build a program (gcc-12-multilib?)"
		echo "$label: 0 passed, 1 failed"
		return
	fi
	if "$probe" 2>/dev/null; then
		rm -f "$probe"
		harness_build $label BUILD=32 || return
		harness_run $label "$dir/dma-iova"
		return
	fi
	rm -f "$probe"
	label=gcc-32-qemu-i386-ubsan
	echo ">> this kernel executes no 32-bit code: the UBSan build runs under qemu-i386"
	command -v qemu-i386 > /dev/null || {
		echo ">> qemu-i386 missing (apt-get install qemu-user)"
		echo "$label: 0 passed, 1 failed"
		return
	}
	harness_build "$label" BUILD=32 SANITIZE=undefined || return
	harness_run "$label" qemu-i386 -L / "$dir/dma-iova"
}

dir=$repo/tools/testing/dma-iova
# Each build runs every test at IOMMU granules of 4, 16 and 64 KiB.
count < <(harness gcc-64)
count < <(harness gcc-64-64k-pages PAGE_SHIFT=16)
count < <(harness32)
count < <(harness clang CC=clang)
# A step that ends without its summary line failed, whatever it printed.
summary() {	# label regex: the step's output on stdin; a failure if no summary
	local out
	out=$(cat)
	echo "$out"
	grep -qE "^($1): [0-9]+ passed, [0-9]+ failed" <<< "$out" ||
		echo "${1%%|*}: 0 passed, 1 failed (no summary line)"
}

count < <("$repo/scripts/fuzz.sh" "${DMA_IOVA_FUZZ_SECONDS:-30}" 2>&1 |
	 summary 'fuzz-64k-pages')
make -s -C "$repo/tools/testing/dma-iova" clean

echo ">> the patch series: make series, git am, checkpatch in-tree"
count < <("$repo/scripts/series.sh" --check --quick 2>&1 | grep -v '^   ' |
	 summary series-check)

# Long steps stream their output (the first kernel build takes minutes);
# count() echoes each line as it comes and adds up the summary lines.
log=$(mktemp)
leg=
trap '[ -z "$leg" ] || kill_tree "$leg"; rm -f "$log" "$log".*' EXIT

kunit_step() {	# iommu modes: kunit.sh, and a failure if it died unsummarised
	local st
	DMA_IOVA_IOMMU=$1 KUNIT_MODES=$2 "$repo/scripts/kunit.sh" 2>&1 |
		tee "$log.$1"
	st=${PIPESTATUS[0]}
	[ "$st" -eq 0 ] ||
		grep -qE "^kunit-$1-[a-z]+: [0-9]+ passed, [1-9][0-9]* failed" "$log.$1" ||
		echo "kunit-$1: 0 passed, 1 failed (kunit.sh exit $st)"
}

built() {	# iommu: its kernel is in the cache already
	(DMA_IOVA_IOMMU=$1 && . "$repo/scripts/kernel-env.sh" &&
	 [ -e "$build/$kernel_image" ])
}

# One IOMMU besides VT-d per commit, in turn: KUnit in strict mode and
# the boot demo (make test-all runs every IOMMU in every mode). A strict
# run takes 3-5 minutes, 10 behind virtio-iommu (each map is a request
# QEMU serves). An arm64 machine costs a cross-compiled kernel (~19 minutes
# cold): a run builds at most one cold kernel, so on a machine that has
# built neither the x86 kernel nor this arm64 one, AMD-Vi takes the turn.
extras=(smmuv3 amd virtio smmuv3-64k)
n=$(git -C "$repo" rev-list --count HEAD 2>/dev/null || echo 0)
extra=${DMA_IOVA_EXTRA_IOMMU:-${extras[n % ${#extras[@]}]}}
case $extra in
smmuv3*)
	if [ -z "${DMA_IOVA_EXTRA_IOMMU:-}" ] && ! built intel && ! built "$extra"; then
		echo ">> no kernel built yet on this machine: AMD-Vi takes $extra's turn"
		extra=amd
	fi
	;;
esac

# VT-d in the configurations users run, two boots at a time (each keeps
# about one core busy): strict with dma-debug; devices behind an
# external-facing port (untrusted: bounced); a distribution kernel's
# path (lazy, dma-debug off); direct-mapped devices (iommu.passthrough=1)
# with dma-debug. make test-all adds lazy with dma-debug.
echo ">> KUnit under QEMU"
count < <(kunit_step intel "${DMA_IOVA_VTD_MODES:-strict untrusted production passthrough}")

# The second IOMMU's leg (its kernel build, if any, KUnit and the demo)
# runs beside fio and the benchmark smoke run, sharing the cores evenly
# (at nice 10 it was the cold run's long pole: 15 of its 60.5 minutes);
# stress runs alone after them, its I/O timeouts want the cores.
if [ "$extra" != none ]; then
	echo ">> KUnit under QEMU behind this commit's second IOMMU ($extra), beside fio and the bench smoke run"
	{
		kunit_step "$extra" strict
		DMA_IOVA_IOMMU=$extra "$repo/scripts/run-demo.sh" 2>&1 |
			summary "demo-$extra"
	} > "$log.extra" 2>&1 < /dev/null &
	leg=$!
fi

echo ">> fio on NVMe through blk-dma, in QEMU"
count < <("$repo/scripts/fio.sh" 2>&1 | summary fio)

echo ">> dma_map_benchmark smoke run (every mode, N=8), in QEMU"
"$repo/scripts/bench.sh" --smoke 2>&1 | tee "$log" |
	grep --line-buffered -E '^(ok|FAIL|error|>>)' || true
if grep -q '^bench smoke:' "$log"; then
	count < <(grep '^bench smoke:' "$log" | sed 's/^bench smoke:/bench-smoke:/')
	# the smoke run boots the KUnit kernel: its sanitizers report too
	count < <(sanitizer_check "$repo/out/bench-smoke/vm.log" bench-smoke)
else
	tail -n 20 "$log"
	count < <(echo "bench-smoke: 0 passed, 1 failed")
fi

if [ "$extra" != none ]; then
	wait "$leg"
	st=$?
	leg=
	echo ">> the second IOMMU's leg ($extra)"
	count < "$log.extra"
	# a leg that died (a signal, the OOM killer) wrote no failure itself
	grep -qE "^kunit-$extra(-strict)?: [0-9]+ passed" "$log.extra" ||
		count <<< "kunit-$extra-strict: 0 passed, 1 failed (the leg ended with status $st)"
	grep -qE "^demo-$extra: [0-9]+ passed" "$log.extra" ||
		count <<< "demo-$extra: 0 passed, 1 failed (the leg ended with status $st)"
fi

echo ">> block-layer stress through nvme-pci, SMP, in QEMU"
count < <("$repo/scripts/stress.sh" "${DMA_IOVA_STRESS_SECONDS:-120}" 2>&1 |
	 summary stress)

# CI keeps only the last lines: name the failed steps there.
for line in "${failed[@]}"; do
	echo ">> failed: $line"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
