#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make test`: the userspace harness (ASan+UBSan), the patch series'
# quick check, and the KUnit suites in QEMU with the emulated Intel IOMMU
# (strict and lazy), fio, stress and a benchmark smoke run. Ends with one
# "N passed, N failed" line over everything; exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"

pass=0
fail=0
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

# Long steps stream their output (the first kernel build takes minutes)
# and are counted from a copy of it afterwards.
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo ">> KUnit under QEMU"
"$repo/scripts/kunit.sh" 2>&1 | tee "$log" |
	grep --line-buffered -vE '^kunit-[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed'
st=${PIPESTATUS[0]}
f0=$fail
count < <(grep -E '^kunit-[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed' "$log")
[ "$st" -eq 0 ] || [ $fail -gt $f0 ] ||
	count <<< "kunit-$DMA_IOVA_IOMMU: 0 passed, 1 failed (kunit.sh exit $st)"

# One IOMMU besides VT-d per commit, in turn: KUnit in strict mode and
# the boot demo (make test-all runs every IOMMU, strict and lazy). An arm64
# machine costs a cross-compiled kernel: ~9 minutes when not cached; a
# strict run takes 3-5 minutes, 10 behind virtio-iommu (each map is a
# request QEMU serves).
extras=(smmuv3 amd virtio smmuv3-64k)
n=$(git -C "$repo" rev-list --count HEAD 2>/dev/null || echo 0)
extra=${DMA_IOVA_EXTRA_IOMMU:-${extras[n % ${#extras[@]}]}}
if [ "$extra" != none ]; then
	echo ">> KUnit under QEMU behind this commit's second IOMMU: $extra"
	DMA_IOVA_IOMMU=$extra KUNIT_MODES=strict "$repo/scripts/kunit.sh" 2>&1 |
		tee "$log" |
		grep --line-buffered -vE '^kunit-[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed'
	st=${PIPESTATUS[0]}
	f0=$fail
	count < <(grep -E '^kunit-[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed' "$log")
	[ "$st" -eq 0 ] || [ $fail -gt $f0 ] ||
		count <<< "kunit-$extra: 0 passed, 1 failed (kunit.sh exit $st)"
	count < <(DMA_IOVA_IOMMU=$extra "$repo/scripts/run-demo.sh" 2>&1 |
		 summary "demo-$extra")
fi

echo ">> fio on NVMe through blk-dma, in QEMU"
count < <("$repo/scripts/fio.sh" 2>&1 | summary fio)

echo ">> block-layer stress through nvme-pci, SMP, in QEMU"
count < <("$repo/scripts/stress.sh" "${DMA_IOVA_STRESS_SECONDS:-180}" 2>&1 |
	 summary stress)

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

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
