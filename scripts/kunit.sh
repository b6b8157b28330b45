#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the patched kernel and run the KUnit suites in QEMU behind the
# IOMMU DMA_IOVA_IOMMU names (kernel-env.sh; VT-d by default), once with
# strict and once with lazy invalidation (KUNIT_MODES). Prints
# "kunit-<iommu>-<mode>: N passed, N failed, N skipped" per mode; exits
# non-zero on failure. A skip is never a pass: it is allowed only where the
# machine has a known limit ($allowed_skips, kernel-env.sh), else it fails.
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"

tree=$("$repo/scripts/build-kernel.sh" | tail -n 1) || exit 1
out=${DMA_IOVA_OUT:-$repo/out}
mkdir -p "$out"
rc=0
for mode in ${KUNIT_MODES:-strict lazy}; do
	case $mode in
	strict) args="iommu.strict=1" ;;
	lazy) args="iommu.strict=0" ;;
	esac
	name=kunit-$DMA_IOVA_IOMMU-$mode
	log=$out/$name.log
	echo ">> KUnit in QEMU ($machine, $DMA_IOVA_IOMMU IOMMU, $mode invalidation), log: $log"
	(cd "$tree" && python3 tools/testing/kunit/kunit.py exec \
		--build_dir="$build" --qemu_config="$qemu_config" \
		--kernel_args="$args" --timeout="$kunit_timeout" --raw_output=all) \
		> "$log" 2>&1
	(cd "$tree" && python3 tools/testing/kunit/kunit.py parse "$log") \
		> "$log.parsed" 2>&1
	grep -E '\[(PASSED|FAILED|SKIPPED|CRASHED)\]|Testing complete' \
		"$log.parsed" | sed 's/^\[..:..:..\] //'
	grep -E 'DMA domain TLB' "$log" || true
	summary=$(grep -E 'Testing complete\. Ran [0-9]+ tests' "$log.parsed")
	pass=$(echo "$summary" | sed -nE 's/.*passed: ([0-9]+).*/\1/p')
	fail=$(echo "$summary" | sed -nE 's/.*(failed|crashed): ([0-9]+).*/\2/p')
	pass=${pass:-0}
	fail=${fail:-0}
	# "ok N name # SKIP reason" of each case (indented; a suite whose
	# cases all skipped says so unindented, without a reason)
	skips=$(grep -E '^ +ok [0-9]+ .* # SKIP' "$log" | sed -E 's/^ *ok [0-9]+ //')
	skip=0
	if [ -n "$skips" ]; then
		skip=$(echo "$skips" | wc -l)
		echo "$skips" | sed 's/^/>> skipped: /'
		bad=$(echo "$skips" | grep -vE "${allowed_skips:-^$}" || true)
		if [ -n "$bad" ]; then
			echo ">> skips with no known limit of this machine: counted as failed"
			fail=$((fail + $(echo "$bad" | wc -l)))
		fi
	fi
	if ! grep -q 'Adding to iommu group' "$log"; then
		echo ">> no device behind an IOMMU in the guest: counting the run as failed"
		fail=$((fail + 1))
	fi
	if grep -qE "$sanitizers" "$log"; then
		echo ">> sanitizer report in the guest: counting the run as failed"
		grep -E "$sanitizers" "$log" | head -5
		fail=$((fail + 1))
	fi
	# Faults are allowed exactly where the lock-out tests attack.
	faults=$(python3 "$repo/scripts/dma-faults.py" "$log" "$DMA_IOVA_IOMMU") ||
		fail=$((fail + 1))
	echo "$faults"
	# not a pass either: nothing could be matched
	if echo "$faults" | grep -q 'matching skipped'; then
		skip=$((skip + 1))
	fi
	if [ "$fail" -ne 0 ] || [ "$pass" -eq 0 ]; then
		rc=1
		[ "$fail" -eq 0 ] && fail=1
	fi
	echo "$name: $pass passed, $fail failed, $skip skipped"
done
exit $rc
