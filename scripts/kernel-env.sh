# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the scripts: where the tree, build directory and ccache live.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${DMA_IOVA_CACHE:-$HOME/.cache/dma-iova}
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown)
build=${DMA_IOVA_BUILD:-$CACHE/build-$ver}
qemu_config=$repo/tools/testing/dma-iova/qemu/intel_iommu.py
kunitconfig=${DMA_IOVA_KUNITCONFIG:-$repo/kernel/dma/.kunitconfig}
jobs=$(nproc)
