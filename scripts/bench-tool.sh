#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the dma_map_benchmark selftest tool of the patched tree (patches/0018)
# into DIR, against the patched header; prints the binary's path.
#   scripts/bench-tool.sh DIR
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

dir=$1
tree=$("$repo/scripts/prepare-tree.sh" | tail -n 1)
mkdir -p "$dir/include/linux"
cp "$tree/include/linux/map_benchmark.h" "$dir/include/linux/"
gcc -O2 -Wall -I"$dir/include" -o "$dir/dma_map_benchmark" \
	"$tree/tools/testing/selftests/dma/dma_map_benchmark.c"
echo "$dir/dma_map_benchmark"
