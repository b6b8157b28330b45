#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Style checks on our kernel files, with the 6.12 tree's own tools:
# checkpatch --strict on every file, kernel-doc -Wall on the files that
# carry exported kernel-doc. The patches are checked in-tree, as the series
# git-am'd onto 6.12, by `make series-check`.
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"

# Only the tree's scripts are needed: use the pristine copy when it exists,
# so that a kernel build running in the work tree is left alone.
tree=$CACHE/pristine-$ver
[ -f "$tree/.unpacked" ] || tree=$("$repo/scripts/prepare-tree.sh" | tail -n 1)
files=$(cd "$repo" && git ls-files 'include/*.h' 'kernel/*.c' 'kernel/*.h' \
	'block/*.[ch]' 'drivers/*.[ch]' 'lib/*.[ch]' | sed "s|^|$repo/|")
# checkpatch consults git in its working directory: run it from the tree.
cd "$tree"
rc=0
perl scripts/checkpatch.pl --strict --no-tree --terse -f $files || rc=1
perl scripts/kernel-doc -none -Wall "$repo/include/linux/dma-iova.h" \
	"$repo/include/linux/blk-dma.h" "$repo/block/blk-dma.c" \
	"$repo/kernel/dma/iova_link.c" "$repo/kernel/dma/iova_record.c" \
	"$repo/kernel/dma/iova_iommu.c" "$repo/kernel/dma/iova_direct.c" \
	"$repo/kernel/dma/iova_engine.c" "$repo/kernel/dma/iova_engine.h" \
	"$repo/kernel/dma/iova_debug.c" \
	"$repo/include/linux/hmm-dma.h" "$repo/kernel/dma/hmm_dma.c" \
	"$repo/include/rdma/ib_umem_link.h" \
	"$repo/drivers/infiniband/core/umem_link.c" || rc=1
[ $rc -eq 0 ] && echo "check: clean"
exit $rc
