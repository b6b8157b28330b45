#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the patched kernel and run the KUnit suites in QEMU behind the
# IOMMU DMA_IOVA_IOMMU names (kernel-env.sh; VT-d by default), one boot per
# mode of KUNIT_MODES (strict and lazy invalidation by default; see
# mode_args for production, untrusted and passthrough). Prints
# "kunit-<iommu>-<mode>: N passed, N failed, N skipped" per mode; exits
# non-zero on failure. A skip is never a pass: it is allowed only where the
# machine has a known limit ($allowed_skips, kernel-env.sh), else it fails.
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"

tree=$("$repo/scripts/build-kernel.sh" | tail -n 1) || exit 1
out=${DMA_IOVA_OUT:-$repo/out}
mkdir -p "$out"

# The kernel command line of a mode: the configuration users run that it
# adds to the matrix.
mode_args() {
	case $1 in
	strict) echo "iommu.strict=1" ;;
	lazy) echo "iommu.strict=0" ;;
	# a distribution kernel's path: flush queue, dma-debug off
	production) echo "iommu.strict=0 dma_debug=off" ;;
	# devices behind an external-facing port: bounced, always strict
	untrusted) echo "iommu.strict=1 dma_iova_kunit.untrusted=1" \
		"blk_dma_kunit.untrusted=1 umem_link_kunit.untrusted=1" ;;
	# devices outside any IOMMU DMA domain (iommu=pt hosts), dma-debug on;
	# no forced bouncing, which makes the ODP helper refuse a device
	passthrough) echo "iommu.passthrough=1 swiotlb=noforce" ;;
	*) echo "KUNIT_MODES: unknown mode $1" >&2; return 1 ;;
	esac
}

# What a mode may skip besides the machine's limits (kernel-env.sh).
mode_skips() {
	case $1 in
	production) echo "dma-debug is off" ;;
	untrusted) echo "untrusted run: unaligned chunks bounce" ;;
	passthrough) echo "is direct-mapped: no IOMMU DMA domain" ;;
	esac
}

run_mode() {	# mode: one boot, its raw log in $out/kunit-<iommu>-<mode>.log
	local args log=$out/kunit-$DMA_IOVA_IOMMU-$1.log

	args=$(mode_args "$1") || return
	(cd "$tree" && python3 tools/testing/kunit/kunit.py exec \
		--build_dir="$build" --qemu_config="$qemu_config" \
		--kernel_args="$args" --timeout="$kunit_timeout" --raw_output=all) \
		> "$log" 2>&1
}

# A KUnit boot keeps about one core busy (the tests run one at a time):
# KUNIT_JOBS boots run at once, two by default on this project's machines.
modes=(${KUNIT_MODES:-strict lazy})
jobs=${KUNIT_JOBS:-2}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "KUNIT_JOBS=$jobs: not a count of boots" >&2; exit 2; }
# the boots, kunit.py and QEMU, go down with this script
trap 'for j in $(jobs -p); do kill_tree "$j"; done' EXIT
for ((i = 0; i < ${#modes[@]}; i += jobs)); do
	batch=("${modes[@]:i:jobs}")
	for mode in "${batch[@]}"; do
		echo ">> KUnit in QEMU ($machine, $DMA_IOVA_IOMMU IOMMU, $mode: $(mode_args "$mode")), log: $out/kunit-$DMA_IOVA_IOMMU-$mode.log"
		run_mode "$mode" &
	done
	wait
done

rc=0
for mode in "${modes[@]}"; do
	name=kunit-$DMA_IOVA_IOMMU-$mode
	log=$out/$name.log
	echo ">> $name"
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
	# what failed, named on the summary line (CI keeps only the tail)
	why=$(grep -E '\[(FAILED|CRASHED)\]' "$log.parsed" |
	      sed -E 's/.*\[(FAILED|CRASHED)\] //; s/ =+$//' | tr '\n' ' ')
	# "ok N name # SKIP reason" of each case and parameter (a suite or
	# parameterised case whose parts all skipped says so without a reason)
	skips=$(grep -E '^ +ok [0-9]+ .* # SKIP .' "$log" | sed -E 's/^ *ok [0-9]+ //')
	skip=0
	if [ -n "$skips" ]; then
		skip=$(echo "$skips" | wc -l)
		echo "$skips" | sed 's/^/>> skipped: /'
		allowed=${allowed_skips:-^$}
		extra=$(mode_skips "$mode")
		[ -n "$extra" ] && allowed="$allowed|$extra"
		bad=$(echo "$skips" | grep -vE "$allowed" || true)
		if [ -n "$bad" ]; then
			echo ">> skips with no known limit of this machine or mode: counted as failed"
			why+="unexplained-skips "
			fail=$((fail + $(echo "$bad" | wc -l)))
		fi
	fi
	if ! grep -q 'Adding to iommu group' "$log"; then
		echo ">> no device behind an IOMMU in the guest: counting the run as failed"
		why+="no-iommu-group "
		fail=$((fail + 1))
	fi
	if grep -qE "$sanitizers" "$log"; then
		echo ">> sanitizer report in the guest: counting the run as failed"
		why+="sanitizer "
		grep -E "$sanitizers" "$log" | head -5
		fail=$((fail + 1))
	fi
	# arm64: io-pgtable-arm's boot selftest (virt.py) counts as a test
	case $DMA_IOVA_IOMMU in
	smmuv3*)
		if grep -qE 'selftest: completed with [1-9][0-9]* PASS 0 FAIL' "$log"; then
			pass=$((pass + 1))
		else
			echo ">> io-pgtable-arm's selftest did not pass:"
			grep -E 'selftest: (completed|test failed)' "$log" | head -3
			why+="io-pgtable-arm-selftest "
			fail=$((fail + 1))
		fi
		;;
	esac
	# Faults are allowed exactly where the lock-out tests attack.
	# Direct-mapped, nothing can be attacked: no attack, no fault.
	direct=
	[ "$mode" = passthrough ] && direct=--direct
	faults=$(python3 "$repo/scripts/dma-faults.py" "$log" "$DMA_IOVA_IOMMU" \
		 $direct) || {
		fail=$((fail + 1))
		why+="dma-faults "
	}
	echo "$faults"
	# not a pass either: nothing could be matched
	if echo "$faults" | grep -q 'matching skipped'; then
		skip=$((skip + 1))
	fi
	if [ "$fail" -ne 0 ] || [ "$pass" -eq 0 ]; then
		rc=1
		[ "$fail" -eq 0 ] && fail=1
	fi
	echo "$name: $pass passed, $fail failed, $skip skipped${why:+ (failed: ${why% })}"
done
exit $rc
