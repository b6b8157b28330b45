#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Run in the VM by scripts/nvme-allocs.sh: count the slab and page
# allocations nvme-pci makes while it submits I/O (kmalloc,
# kmem_cache_alloc and mm_page_alloc events whose stack holds
# nvme_queue_rq or nvme_queue_rqs), for fio on the data namespace and on
# the one with T10 PI metadata, and divide by the I/Os the disk completed.
# Buffers of 8 KiB to 128 KiB in fragmented memory are mostly several
# physical segments: 6.12 takes a mempool element for each such I/O.
set -u
T=/sys/kernel/tracing
N=${ALLOCS_IOS:-2000}

mountpoint -q $T || mount -t tracefs nodev $T
dev=
pidev=
for b in /sys/block/nvme*n*; do
	[ "$(cat "$b/size")" = $((512 * 2048)) ] && dev=${b##*/}
	case $(cat "$b/integrity/format" 2>/dev/null) in
	T10-DIF-TYPE1*) pidev=${b##*/} ;;
	esac
done
[ -n "$dev" ] && [ -n "$pidev" ] || { echo "allocs: no data or PI namespace"; exit 1; }
"$(dirname "$0")/fragment-memory.sh"

ios() {	# completed reads + writes of $1
	awk '{ print $1 + $5 }' "/sys/block/$1/stat"
}

count() {	# label, namespace
	echo 0 > $T/tracing_on
	echo > $T/trace
	echo 65536 > $T/buffer_size_kb
	echo 1 > $T/options/stacktrace
	for e in kmalloc kmem_cache_alloc mm_page_alloc; do
		echo 1 > $T/events/kmem/$e/enable
	done
	before=$(ios "$2")
	echo 1 > $T/tracing_on
	fio --direct=1 --ioengine=libaio --iodepth=4 --rw=randrw \
		--bsrange=8k-128k --number_ios="$N" --size=64m \
		--name=allocs --filename="/dev/$2" --output=/dev/null \
		--eta=never
	echo 0 > $T/tracing_on
	after=$(ios "$2")
	for e in kmalloc kmem_cache_alloc mm_page_alloc; do
		echo 0 > $T/events/kmem/$e/enable
	done
	echo 0 > $T/options/stacktrace
	# An event line, then its stack as " => function" lines (one vCPU:
	# nothing interleaves). What a debug kernel's own instrumentation
	# allocates (kmemleak's objects, KASAN's) is not counted.
	awk -v label="$1" -v ios=$((after - before)) '
	function done_event() {
		if (ev != "" && hit && !instr) {
			n[ev]++; site[ev " " cs]++; total++
		}
		ev = ""; hit = 0; instr = 0
	}
	/ (kmalloc|kmem_cache_alloc|mm_page_alloc): / {
		done_event()
		match($0, / (kmalloc|kmem_cache_alloc|mm_page_alloc): /)
		ev = substr($0, RSTART + 1, RLENGTH - 3)
		cs = "-"
		if (match($0, /call_site=[^ ]+/))
			cs = substr($0, RSTART + 10, RLENGTH - 10)
		next
	}
	/^ => nvme_queue_rqs?($|[+ ])/ { hit = 1 }
	/^ => .*(kmemleak|kasan|__alloc_object)/ { instr = 1 }
	END {
		done_event()
		printf "\nallocs %s: %d I/Os, %d allocations under nvme_queue_rq: %.3f per I/O (kmalloc %d, kmem_cache_alloc %d, mm_page_alloc %d)\n",
		       label, ios, total, ios ? total / ios : 0, n["kmalloc"],
		       n["kmem_cache_alloc"], n["mm_page_alloc"]
		for (s in site)
			printf "allocs %s: site %s: %d\n", label, s, site[s]
	}' $T/trace
}

count data "$dev"
count metadata "$pidev"
kill "$(cat /run/fragmented)"
