#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make test-all`: make test (VT-d, with lazy invalidation under dma-debug
# added, and everything else), then KUnit strict and lazy and the boot demo
# behind every other IOMMU: AMD-Vi and virtio-iommu (q35), SMMUv3 with
# 4 KiB and with 64 KiB pages (arm64 virt). Ends with the machines x
# suites table (scripts/kunit-table.py) and one "N passed, N failed" line
# over everything.
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"

out=${DMA_IOVA_OUT:-$repo/out}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
pass=0
fail=0
count() {	# "<label>: P passed, F failed" lines of $log
	local line
	while read -r line; do
		if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
			pass=$((pass + BASH_REMATCH[1]))
			fail=$((fail + BASH_REMATCH[2]))
		fi
	done < <(grep -E '^[a-z][a-z0-9-]*: [0-9]+ passed, [0-9]+ failed' "$log")
}

start=$(date +%s)
DMA_IOVA_EXTRA_IOMMU=none \
DMA_IOVA_VTD_MODES="strict lazy untrusted production passthrough" \
	"$repo/scripts/test.sh" 2>&1 | tee "$log"
# test.sh's own total line is not a label: count its parts
sed -i '/^[0-9]* passed, [0-9]* failed$/d' "$log"
count
for iommu in amd virtio smmuv3 smmuv3-64k; do
	t=$(date +%s)
	{
		DMA_IOVA_IOMMU=$iommu "$repo/scripts/kunit.sh"
		DMA_IOVA_IOMMU=$iommu "$repo/scripts/run-demo.sh"
	} 2>&1 | tee "$log"
	count
	# a step that died without its summary failed
	grep -qE "^kunit-$iommu-[a-z]+: [0-9]+ passed" "$log" ||
		{ echo "kunit-$iommu: 0 passed, 1 failed (no summary line)"; fail=$((fail + 1)); }
	grep -qE "^demo-$iommu: [0-9]+ passed" "$log" ||
		{ echo "demo-$iommu: 0 passed, 1 failed (no summary line)"; fail=$((fail + 1)); }
	echo ">> $iommu: $(( $(date +%s) - t ))s"
done
python3 "$repo/scripts/kunit-table.py" "$out"
echo ">> make test-all: $(( $(date +%s) - start ))s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
