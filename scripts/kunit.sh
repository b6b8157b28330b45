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
	echo ">> KUnit in QEMU (intel-iommu, $mode invalidation)"
	(cd "$tree" && python3 tools/testing/kunit/kunit.py exec \
		--build_dir="$build" --qemu_config="$qemu_config" \
		--kernel_args="$args" --timeout=1200) > "$log" 2>&1
	st=$?
	grep -E '^\[..:..:..\] (\[(PASSED|FAILED|SKIPPED)\]|=+ |# |Testing complete)' "$log" || true
	grep -E 'Virtualization Technology for Directed I/O|DMAR: \[DMA (Read|Write)' "$log" | head -5 || true
	pass=$(grep -cE '\[PASSED\] ' "$log")
	fail=$(grep -cE '\[(FAILED|CRASHED)\] ' "$log")
	if ! grep -q 'Virtualization Technology for Directed I/O' "$log"; then
		echo ">> no IOMMU in the guest: counting the run as failed"
		fail=$((fail + 1))
	fi
	if [ "$st" -ne 0 ] || [ "$fail" -ne 0 ] || [ "$pass" -eq 0 ]; then
		rc=1
		[ "$fail" -eq 0 ] && fail=1
	fi
	echo "kunit-$mode: $pass passed, $fail failed"
done
exit $rc
