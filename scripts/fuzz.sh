#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fuzz kernel/dma/iova_link.c against its reference model for SECONDS
# (default 30), half with 4 KiB and half with 64 KiB pages (the fuzzer
# picks IOMMU granules of 4, 16 and 64 KiB itself): replay the committed
# corpus (regressions included) with the plain driver, then run libFuzzer
# from it. Crashers are kept in tools/testing/dma-iova/fuzz/crashes/.
# Prints executions, operations and rates, and per page size a closing
# "fuzz-<page size>: N passed, N failed".
set -uo pipefail
dir=$(cd "$(dirname "$0")/../tools/testing/dma-iova" && pwd)
secs=${1:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$dir" || exit 1
rc=0

for shift in 12 16; do
	label=fuzz-$((1 << (shift - 10)))k-pages
	fail=0
	echo ">> $label"
	make -s clean
	if ! make -s fuzz-driver fuzz-ops PAGE_SHIFT=$shift; then
		echo "$label: 0 passed, 1 failed"
		rc=1
		continue
	fi
	./fuzz-driver -r 1000 -s "$RANDOM" fuzz/corpus || fail=1
	mkdir -p fuzz/crashes "$work/$shift"
	./fuzz-ops -max_total_time=$(((secs + 1) / 2)) -print_final_stats=1 \
		-artifact_prefix=fuzz/crashes/ "$work/$shift" fuzz/corpus \
		> "$work/log" 2>&1 || fail=1
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)|^fuzz: |ERROR' \
		"$work/log"
	if [ "$fail" -ne 0 ]; then
		tail -n 30 "$work/log"
		ls fuzz/crashes
		rc=1
	fi
	echo "$label: $((1 - fail)) passed, $fail failed"
done
make -s clean
exit $rc
