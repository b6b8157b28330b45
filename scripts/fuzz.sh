#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fuzz kernel/dma/iova_link.c against its reference model for SECONDS
# (default 30): replay the committed corpus (regressions included) with the
# plain driver, then run libFuzzer from it. Crashers are kept in
# tools/testing/dma-iova/fuzz/crashes/. Prints executions, operations and
# rates, and a closing "fuzz: N passed, N failed".
set -uo pipefail
dir=$(cd "$(dirname "$0")/../tools/testing/dma-iova" && pwd)
secs=${1:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$dir" || exit 1
fail=0

make -s fuzz-driver fuzz-ops || { echo "fuzz: 0 passed, 1 failed"; exit 1; }
./fuzz-driver -r 1000 -s "$RANDOM" fuzz/corpus || fail=1
mkdir -p fuzz/crashes
./fuzz-ops -max_total_time="$secs" -print_final_stats=1 \
	-artifact_prefix=fuzz/crashes/ "$work" fuzz/corpus > "$work.log" 2>&1 ||
	fail=1
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)|^fuzz: |ERROR' \
	"$work.log"
if [ "$fail" -ne 0 ]; then
	tail -n 30 "$work.log"
	ls fuzz/crashes
fi
rm -f "$work.log"
echo "fuzz: $((1 - fail)) passed, $fail failed"
exit $fail
