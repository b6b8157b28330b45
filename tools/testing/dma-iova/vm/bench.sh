#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs in the VM that scripts/bench.sh boots: dma_map_benchmark on edu0
# behind the machine's IOMMU, in every mode the matrix asks for.
#   bench.sh TOOL PLAN
# PLAN lines: "POLICY THREADS ORDER SECONDS N ROUNDS MODE..." (POLICY strict
# or lazy): the modes run interleaved, ROUNDS times. Each run is framed in QEMU's trace by two writes to a config
# register edu does not implement (0xfc: 0x1d00NNNN before run NNNN, 0x2d00NNNN
# after it), so that the host counts IOTLB invalidations per run. Prints
# "bench: id=NNNN policy=POLICY <tool's result line>" per run.
tool=$1
plan=$2

edu=
for d in /sys/bus/pci/devices/0000:00:*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		edu=$d
		break
	fi
done
[ -n "$edu" ] || { echo "bench: no edu device"; exit 1; }
bdf=$(basename "$edu")

# Config writes reach QEMU's pci_cfg_write trace event; edu ignores them.
mark() {	# value
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) \
		$((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)))" |
		dd of="$edu/config" bs=4 seek=63 conv=notrunc 2>/dev/null
}

bind() {
	echo dma_map_benchmark > "$edu/driver_override"
	echo "$bdf" > /sys/bus/pci/drivers_probe
	[ -e /sys/kernel/debug/dma_map_benchmark ] ||
		{ echo "bench: dma_map_benchmark did not bind to $bdf"; exit 1; }
}

# The IOMMU group's domain type can only change with no driver bound. On
# a DT platform (arm64) the device joins its group when a driver first
# binds.
use_policy() {	# strict | lazy
	[ -e "$edu/iommu_group" ] || bind
	group=$(readlink -f "$edu/iommu_group")
	[ -e "$edu/driver" ] && echo "$bdf" > "$edu/driver/unbind"
	if [ "$1" = lazy ]; then echo DMA-FQ; else echo DMA; fi > "$group/type" ||
		{ echo "bench: cannot set $group to $1"; exit 1; }
	bind
	echo "bench: device $bdf group $(basename "$group") $1"
}

id=0
policy=
while read -r pol threads order seconds n rounds modes; do
	case $pol in ''|'#'*) continue ;; esac
	[ "$pol" = "$policy" ] || { use_policy "$pol"; policy=$pol; }
	r=0
	while [ "$r" -lt "$rounds" ]; do
		r=$((r + 1))
		for mode in $modes; do
			id=$((id + 1))
			mark $((0x1d000000 + id))
			out=$("$tool" -m "$mode" -g "$n" -o "$order" \
				-t "$threads" -s "$seconds" -b 48 2>&1)
			mark $((0x2d000000 + id))
			res=$(echo "$out" | sed -n 's/^result: //p')
			if [ -n "$res" ]; then
				echo "bench: id=$id policy=$pol round=$r $res"
			else
				echo "bench: id=$id policy=$pol round=$r mode=$mode chunks=$n order=$order threads=$threads error: $(echo "$out" | tail -n 1)"
			fi
		done
	done
done < "$plan"
echo "bench: done"
