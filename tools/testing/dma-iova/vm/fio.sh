#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Run in the VM by scripts/fio.sh: fio with crc32c verification over the
# 512 MiB NVMe namespace (and, alongside, the one with T10 PI metadata), mixed sizes (512 B .. 1 MiB, powers of two and
# odd multiples of 512 B), random offsets, O_DIRECT; blk-dma's counters before and after,
# and the guest's DMAR fault messages. scripts/fio-check.py judges the log.
set -u
SIZE_MB=${FIO_SIZE_MB:-512}
LOOPS=${FIO_LOOPS:-2}
# Sizes from 512 B to 1 MiB, powers of two and odd multiples of 512 B.
BSSPLIT=512/8:1k/6:1536/6:4k/12:7680/6:8k/8:12800/6:28k/6:64k/8:100k/6
BSSPLIT=$BSSPLIT:128k/8:260k/6:512k/6:1m/8
dev=
pidev=
for b in /sys/block/nvme*n*; do
	[ "$(cat "$b/size")" = $((512 * 2048)) ] && dev=/dev/${b##*/}
	case $(cat "$b/integrity/format" 2>/dev/null) in
	T10-DIF-TYPE1*) pidev=/dev/${b##*/} ;;
	esac
done
[ -n "$dev" ] || { echo "fio.sh: no 512 MiB NVMe namespace"; exit 1; }
[ -n "$pidev" ] || { echo "fio.sh: no NVMe namespace with T10 PI"; exit 1; }
echo "fio.sh: data on $dev, PI metadata on $pidev"

"$(dirname "$0")/fragment-memory.sh"
echo "fio.sh: guest memory fragmented"

echo "fio.sh: blk-dma before"
cat /sys/kernel/debug/block/dma_stats
echo "fio.sh: json begin"
fio --thread --direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite \
	--bssplit="$BSSPLIT" --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--randseed=4242 --output-format=json \
	--name=data --filename="$dev" --size="${SIZE_MB}m" --loops="$LOOPS" \
	--name=pi --filename="$pidev" --size=32m --loops=1
st=$?
kill "$(cat /run/fragmented)"
echo "fio.sh: json end"
echo "fio.sh: blk-dma after"
cat /sys/kernel/debug/block/dma_stats
echo "fio.sh: io stat $(cat /sys/block/${dev#/dev/}/stat)"
echo "fio.sh: pi io stat $(cat /sys/block/${pidev#/dev/}/stat)"
echo "fio.sh: dmar faults $(dmesg | grep -c 'DMAR: \[DMA')"
exit $st
