#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Overlay and patch the 6.12 tree, configure it for KUnit on the QEMU
# machine of DMA_IOVA_IOMMU (kernel-env.sh) and build it (ccache,
# incremental; cross-compiled for arm64), showing progress. Prints the
# tree's path on its last line.
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

tree=$("$repo/scripts/prepare-tree.sh" | tail -n 1)
mkdir -p "$build"
# One make at a time in a build directory (make test's legs share them).
exec 9> "$build.lock"
flock 9
cd "$tree"
cc="ccache ${cross}gcc"
python3 tools/testing/kunit/kunit.py config --arch="$arch" \
	${cross:+--cross_compile="$cross"} --build_dir="$build" \
	--kunitconfig="$kunitconfig" \
	${kunitconfig_vm:+--kunitconfig="$kunitconfig_vm"} \
	--qemu_config="$qemu_config" \
	--make_options CC="$cc" >&2

echo ">> building the kernel in $build (-j$jobs, ccache)" >&2
start=$(date +%s)
# One line per 200 compiled objects keeps CI logs short but alive.
make ARCH="$arch" ${cross:+CROSS_COMPILE="$cross"} O="$build" -j"$jobs" \
	CC="$cc" 2>&1 |
	awk '/ (CC|LD|AR) / { n++; if (n % 200 == 0) { printf ">> %d objects...\n", n; fflush() } }
	     / error: |Error [0-9]|warning: / { print; fflush() }' >&2
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || { echo ">> kernel build failed" >&2; exit "$status"; }
echo ">> kernel built in $(( $(date +%s) - start ))s" >&2
echo "$tree"
