#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make test`: the userspace harness (ASan+UBSan) and the KUnit suites in
# QEMU with the emulated Intel IOMMU (strict and lazy). Ends with one
# "N passed, N failed" line over everything; exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"

pass=0
fail=0
count() {	# "<label>: P passed, F failed" lines on stdin
	local line p f
	while read -r line; do
		echo "$line"
		if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
			p=${BASH_REMATCH[1]}
			f=${BASH_REMATCH[2]}
			pass=$((pass + p))
			fail=$((fail + f))
		fi
	done
}

echo ">> userspace harness"
make -s -C "$repo/tools/testing/dma-iova" clean dma-iova || fail=$((fail + 1))
h=$("$repo/tools/testing/dma-iova/dma-iova" 2>&1) || fail=$((fail + 1))
echo "$h" | grep -E '^FAIL|^Assert|not clean|ERROR' || true
count < <(echo "$h" | tail -n 1 | sed 's/^[0-9]* tests run, /harness: /')

echo ">> KUnit under QEMU"
k=$("$repo/scripts/kunit.sh" 2>&1)
st=$?
echo "$k" | grep -vE ': [0-9]+ passed, [0-9]+ failed$'
count < <(echo "$k" | grep -E ': [0-9]+ passed, [0-9]+ failed$')
[ $st -eq 0 ] || [ $fail -gt 0 ] || fail=$((fail + 1))

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
