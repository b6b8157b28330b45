#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Overlay and patch the 6.12 tree, configure it for KUnit under QEMU with
# the emulated Intel IOMMU, and build it (ccache, incremental), showing
# progress. Prints the tree's path on its last line.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

tree=$("$repo/scripts/prepare-tree.sh" | tail -n 1)
mkdir -p "$build"
cd "$tree"
python3 tools/testing/kunit/kunit.py config --arch=x86_64 \
	--build_dir="$build" --kunitconfig="$kunitconfig" \
	--qemu_config="$qemu_config" --make_options CC="ccache gcc" >&2

echo ">> building the kernel in $build (-j$jobs, ccache)" >&2
start=$(date +%s)
# One line per 200 compiled objects keeps CI logs short but alive.
make ARCH=x86_64 O="$build" -j"$jobs" CC="ccache gcc" 2>&1 |
	awk '/ (CC|LD|AR) / { n++; if (n % 200 == 0) { printf ">> %d objects...\n", n; fflush() } }
	     /error|Error|warning: / { print; fflush() }' >&2
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || { echo ">> kernel build failed" >&2; exit "$status"; }
echo ">> kernel built in $(( $(date +%s) - start ))s" >&2
echo "$tree"
