#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The build half of `make series-check`, on SRC (a git repository whose
# branch dma-iova holds the series on tag base), with CONFIG (the KUnit
# test configuration) plus CONFIG_DMA_MAP_BENCHMARK:
#   - after every patch, the directories it touches, with DMA_API_DEBUG on
#     and off (one build directory each, reused, so later runs are
#     incremental);
#   - sparse (C=2) and W=1 on every object the series adds or changes,
#     compared with the same objects before the series: no warning in the
#     files it adds, none new in the files it changes;
#   - the objects of the API and its block and NVMe users in a minimal
#     kernel (tinyconfig plus NVMe and dma-debug: no IOMMU support, no
#     stack traces), where headers and configs differ most from the test
#     configuration;
#   - the whole kernel with the last patch applied.
# Prints "ok ..." or "FAIL ..." per check.
#
#   series-build.sh SRC CONFIG
set -uo pipefail
. "$(dirname "$0")/kernel-env.sh"

src=$1
config=$2
logs=${DMA_IOVA_OUT:-$repo/out}/series-build
mkdir -p "$logs"
rm -f "$logs"/*.log

mk() {	# build dir, make arguments...
	local b=$1
	shift
	make -s ARCH=x86_64 -C "$src" O="$b" -j"$jobs" CC="ccache gcc" "$@"
}

configure() {	# build dir, debug|nodebug
	mkdir -p "$1"
	cp "$config" "$1/.config"
	"$src/scripts/config" --file "$1/.config" --enable DMA_MAP_BENCHMARK
	[ "$2" = nodebug ] &&
		"$src/scripts/config" --file "$1/.config" --disable DMA_API_DEBUG
	mk "$1" olddefconfig > /dev/null
}

# What a patch changes that kbuild builds: the directories of its sources.
dirs_of() {	# commit
	git -C "$src" diff --name-only "$1^" "$1" |
		grep -E '\.[ch]$|/Makefile$|/Kconfig$' |
		grep -vE '^(include|tools|Documentation)/' |
		sed 's|/[^/]*$|/|' | sort -u
}

k=0
for c in $(git -C "$src" rev-list --reverse base..dma-iova); do
	k=$((k + 1))
	subj=$(git -C "$src" log -1 --format=%s "$c")
	git -C "$src" checkout -q -f "$c"
	dirs=$(dirs_of "$c")
	if [ -z "$dirs" ]; then
		echo "ok   patch $k ($subj): nothing kbuild builds"
		continue
	fi
	for mode in debug nodebug; do
		b=$CACHE/build-series-$mode-$ver
		log=$logs/$(printf %02d "$k")-$mode.log
		label="DMA_API_DEBUG=y"
		[ $mode = debug ] || label="DMA_API_DEBUG off"
		start=$(date +%s)
		if configure "$b" "$mode" > "$log" 2>&1 &&
			mk "$b" $dirs >> "$log" 2>&1; then
			echo "ok   patch $k ($subj): $(echo $dirs) with $label, $(( $(date +%s) - start ))s, $(grep -c 'warning:' "$log") warnings"
		else
			echo "FAIL patch $k ($subj): $(echo $dirs), $mode; $log:"
			grep -E 'error|Error' "$log" | head -5
		fi
	done
done

# sparse and W=1 on what the series adds or changes, before and after.
located() {	# log -> "file:line:col: warning|error: ..." lines, paths in-tree
	grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$1" |
		sed -E "s|^$src/||; s|^(\.\./)*||" | sort -u
}
warnings() {	# the same without line numbers, to compare before and after
	located "$1" | sed -E 's|^([^:]+):[0-9]+:[0-9]+: |\1: |' | sort -u
}
b=$CACHE/build-series-w1-$ver
cfiles=$(git -C "$src" diff --name-only base dma-iova -- '*.c' | grep -v '^tools/')
added=$(git -C "$src" diff --name-only --diff-filter=A base dma-iova)
git -C "$src" checkout -q -f base
configure "$b" debug > "$logs/w1-base.log" 2>&1
old_objs=$(for f in $cfiles; do [ -f "$src/$f" ] && echo "${f%.c}.o"; done)
mk "$b" W=1 C=2 $old_objs >> "$logs/w1-base.log" 2>&1
git -C "$src" checkout -q -f dma-iova
configure "$b" debug > "$logs/w1-tip.log" 2>&1
if mk "$b" W=1 C=2 $(for f in $cfiles; do echo "${f%.c}.o"; done) \
	>> "$logs/w1-tip.log" 2>&1; then
	warnings "$logs/w1-base.log" > "$logs/w1-base.txt"
	warnings "$logs/w1-tip.log" > "$logs/w1-tip.txt"
	comm -13 "$logs/w1-base.txt" "$logs/w1-tip.txt" > "$logs/w1-new.txt"
	located "$logs/w1-tip.log" > "$logs/w1-tip-located.txt"
	ours=0
	for f in $added; do
		ours=$((ours + $(grep -c "^$f:" "$logs/w1-tip-located.txt")))
	done
	new=$(wc -l < "$logs/w1-new.txt")
	if [ "$new" -eq 0 ] && [ "$ours" -eq 0 ]; then
		echo "ok   sparse + W=1 on $(echo $cfiles | wc -w) files: $ours warnings in added files, 0 new in changed ones ($(wc -l < "$logs/w1-base.txt") before the series, $(wc -l < "$logs/w1-tip.txt") after)"
	else
		echo "FAIL sparse + W=1: $new new warnings ($ours in added files):"
		head -20 "$logs/w1-new.txt"
	fi
else
	echo "FAIL sparse + W=1 build; $logs/w1-tip.log:"
	grep -E 'error|Error' "$logs/w1-tip.log" | head -5
fi

# A minimal kernel that still selects the API (NVMe does): no IOMMU API,
# no STACKTRACE; the API's objects and its block and NVMe users, W=1.
b=$CACHE/build-series-tiny-$ver
objs="kernel/dma/ block/blk-dma.o drivers/nvme/host/pci.o"
start=$(date +%s)
mkdir -p "$b"
if mk "$b" tinyconfig > "$logs/tiny.log" 2>&1 &&
	"$src/scripts/config" --file "$b/.config" --enable 64BIT --enable PCI \
		--enable BLOCK --enable BLK_DEV_NVME --enable BLK_DEV_INTEGRITY \
		--enable DMA_API_DEBUG --enable FAULT_INJECTION \
		--disable IOMMU_SUPPORT >> "$logs/tiny.log" 2>&1 &&
	mk "$b" olddefconfig >> "$logs/tiny.log" 2>&1 &&
	grep -q '^CONFIG_DMA_IOVA_LINK=y' "$b/.config" &&
	mk "$b" W=1 $objs >> "$logs/tiny.log" 2>&1; then
	echo "ok   minimal kernel without IOMMU support: $objs, W=1, $(( $(date +%s) - start ))s, $(grep -c 'warning:' "$logs/tiny.log") warnings"
else
	echo "FAIL minimal kernel without IOMMU support; $logs/tiny.log:"
	grep -E 'error|Error' "$logs/tiny.log" | head -5
fi

# The whole kernel, last patch applied, test configuration.
b=$CACHE/build-series-debug-$ver
start=$(date +%s)
if configure "$b" debug > "$logs/full.log" 2>&1 && mk "$b" >> "$logs/full.log" 2>&1; then
	echo "ok   whole kernel with all $k patches (DMA_API_DEBUG=y), $(( $(date +%s) - start ))s"
else
	echo "FAIL whole kernel with all $k patches; $logs/full.log:"
	grep -E 'error|Error' "$logs/full.log" | head -5
fi
