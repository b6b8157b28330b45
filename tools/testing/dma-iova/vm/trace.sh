#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs in the VM that scripts/trace.sh boots: a bpftrace script, while
# fio writes to NVMe through blk-dma and dma_map_benchmark links pages on
# edu (vm/bench.sh with PLAN); then prints what bpftrace saw.
#   trace.sh SCRIPT TOOL PLAN
bt=$1
dir=$(dirname "$0")

# Without CONFIG_FUNCTION_TRACER there is no available_filter_functions:
# bpftrace then warns that every kprobe "is not traceable", yet attaches.
bpftrace --no-warnings "$bt" > /run/bpftrace.out 2>&1 &
pid=$!
i=0
while ! grep -q 'Ctrl-C' /run/bpftrace.out && [ $i -lt 120 ]; do
	sleep 1
	i=$((i + 1))
done
grep -q 'Ctrl-C' /run/bpftrace.out || { cat /run/bpftrace.out; exit 1; }

"$dir/fragment-memory.sh"
fio --name=trace --filename=/dev/nvme0n1 --rw=randwrite --bsrange=4k-256k \
	--size=64m --direct=1 --ioengine=psync --runtime=5 --time_based \
	--output=/dev/null
kill "$(cat /run/fragmented)"
"$dir/bench.sh" "$2" "$3"

kill -INT $pid
wait $pid
cat /run/bpftrace.out
