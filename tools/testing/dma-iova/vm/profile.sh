#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs in the VM that scripts/profile.sh boots: each MODE's plan
# (DIR/plan-MODE.txt) through vm/bench.sh under perf record, then the
# result line and the hottest kernel symbols of that mode.
#   profile.sh TOOL DIR MODE...
tool=$1
dir=$2
shift 2
here=$(dirname "$0")

for mode; do
	perf record -q -a -e cpu-clock -F 4000 -o "/run/perf-$mode.data" -- \
		"$here/bench.sh" "$tool" "$dir/plan-$mode.txt" > "/run/bench-$mode.txt" 2>&1
	echo "profile: $mode"
	# the median of the runs' medians
	sed -n 's/^bench: .* median_ns=\([0-9]*\).*/\1/p' "/run/bench-$mode.txt" |
		sort -n | awk '{ v[NR] = $1 }
		END { if (NR) printf "%s: %d runs, median %d ns\n", mode, NR,
			      v[int((NR + 1) / 2)] }' mode="$mode"
	# the share of each kernel symbol in the kernel's busy time: at N = 1
	# the tool's start-up (ld.so, printf) would outweigh the mapping.
	# Without a PMU, samples taken with interrupts off land where they
	# are enabled again (the unlock of an irqsave lock).
	perf report -i "/run/perf-$mode.data" --stdio --no-children \
		--sort comm,sym 2> /dev/null |
	awk '/^#/ || NF < 4 { next }
	     { sub("%", "", $1); all += $1 }
	     $2 == "swapper" || $3 != "[k]" { next }
	     { pct[$NF] += $1; busy += $1 }
	     END { for (s in pct) if (pct[s] * 100 >= busy * 0.7)
			printf "%7.2f%%  %s\n", pct[s] * 100 / busy, s
		   printf "%7.2f%%  of the samples: kernel, not idle\n",
			  all ? busy * 100 / all : 0 }' |
	sort -rn
done
echo "profile: done"
