#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the dma_map_benchmark selftest tool of the patched tree (patches/0023)
# into DIR, against the patched header; prints the binary's path. For an
# arm64 guest it is cross-compiled and static (libc6-dev-arm64-cross): the
# guest has no libc of its own.
#   scripts/bench-tool.sh DIR
set -euo pipefail
. "$(dirname "$0")/kernel-env.sh"

dir=$1
tree=$("$repo/scripts/prepare-tree.sh" | tail -n 1)
mkdir -p "$dir/include/linux"
cp "$tree/include/linux/map_benchmark.h" "$dir/include/linux/"
${cross}gcc ${cross:+-static} -O2 -Wall -I"$dir/include" -o "$dir/dma_map_benchmark" \
	"$tree/tools/testing/selftests/dma/dma_map_benchmark.c"
echo "$dir/dma_map_benchmark"
