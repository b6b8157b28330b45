#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the patched kernel and run the KUnit suites in QEMU q35 with an
# emulated Intel IOMMU, once with strict and once with lazy invalidation.
# Prints "kunit: N passed, N failed" per mode; exits non-zero on failure.
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"

tree=$("$repo/scripts/build-kernel.sh" | tail -n 1) || exit 1
out=${DMA_IOVA_OUT:-$repo/out}
mkdir -p "$out"
rc=0
for mode in strict lazy; do
	case $mode in
	strict) args="iommu.strict=1" ;;
	lazy) args="iommu.strict=0" ;;
	esac
	log=$out/kunit-$mode.log
	echo ">> KUnit in QEMU (intel-iommu, $mode invalidation), log: $log"
	(cd "$tree" && python3 tools/testing/kunit/kunit.py exec \
		--build_dir="$build" --qemu_config="$qemu_config" \
		--kernel_args="$args" --timeout=1200 --raw_output=all) \
		> "$log" 2>&1
	(cd "$tree" && python3 tools/testing/kunit/kunit.py parse "$log") \
		> "$log.parsed" 2>&1
	grep -E '\[(PASSED|FAILED|SKIPPED|CRASHED)\]|Testing complete' \
		"$log.parsed" | sed 's/^\[..:..:..\] //'
	grep -E 'Virtualization Technology for Directed I/O|DMA domain TLB' \
		"$log" || true
	summary=$(grep -E 'Testing complete\. Ran [0-9]+ tests' "$log.parsed")
	pass=$(echo "$summary" | sed -nE 's/.*passed: ([0-9]+).*/\1/p')
	fail=$(echo "$summary" | sed -nE 's/.*(failed|crashed): ([0-9]+).*/\2/p')
	skip=$(echo "$summary" | sed -nE 's/.*skipped: ([0-9]+).*/\1/p')
	pass=${pass:-0}
	fail=${fail:-0}
	# A skipped case is not a pass here: every case needs the hardware.
	fail=$((fail + ${skip:-0}))
	if ! grep -q 'Virtualization Technology for Directed I/O' "$log"; then
		echo ">> no IOMMU in the guest: counting the run as failed"
		fail=$((fail + 1))
	fi
	if grep -qE 'BUG: KASAN|UBSAN:|WARNING: possible|circular locking|inconsistent lock state|BUG: sleeping function|kmemleak: [0-9]+ new suspected' "$log"; then
		echo ">> sanitizer report in the guest: counting the run as failed"
		grep -E 'BUG: KASAN|UBSAN:|WARNING: possible|circular locking|inconsistent lock state|BUG: sleeping function|kmemleak: [0-9]+ new suspected' "$log" | head -5
		fail=$((fail + 1))
	fi
	# Faults are allowed exactly where the lock-out tests attack.
	python3 "$repo/scripts/dmar-faults.py" "$log" || fail=$((fail + 1))
	if [ "$fail" -ne 0 ] || [ "$pass" -eq 0 ]; then
		rc=1
		[ "$fail" -eq 0 ] && fail=1
	fi
	echo "kunit-$mode: $pass passed, $fail failed"
done
exit $rc
