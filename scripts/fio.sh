#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fio with verification on the emulated NVMe behind the emulated Intel
# IOMMU, through the nvme-pci driver converted to blk-dma (see
# tools/testing/dma-iova/vm/fio.sh), judged by scripts/fio-check.py.
#   scripts/fio.sh [min GiB verified, default 1]
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"

command -v fio > /dev/null || { echo "fio: 0 passed, 1 failed (fio not installed)"; exit 1; }
export DMA_IOVA_OUT=$repo/out/fio
# A watchdog for a hung guest, not a time limit: a healthy run took 840 s
# of vm.sh's default 900 beside KUnit, and more beside a cold kernel build.
export VM_TIMEOUT=${VM_TIMEOUT:-1800}
"$repo/scripts/vm.sh" "$repo/tools/testing/dma-iova/vm/fio.sh" > /dev/null
python3 "$repo/scripts/fio-check.py" "$DMA_IOVA_OUT/vm.log" "${1:-1}"
rc=$?
# the guest ran the KUnit kernel: its sanitizers' reports fail the run
reports=$(sanitizer_check "$DMA_IOVA_OUT/vm.log" fio)
[ -z "$reports" ] || { echo "$reports"; rc=1; }
exit $rc
