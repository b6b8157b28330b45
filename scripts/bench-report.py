#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn a scripts/bench.sh run into a table, results.json and plots.

Reads DIR/vm.log (the guest's "bench:" lines, one per dma_map_benchmark run)
and QEMU's invalidation-descriptor events, framed per run by the guest's
marker writes to edu's config register 0xfc, from DIR/qemu-trace.log or,
for timed runs, from the untimed traced boot in DIR/count/. Each run
reports the median of its operations; every configuration ran its modes
interleaved (A B C, A B C, ...) for several
rounds in one boot, so that a drift of the emulator's speed hits all modes
alike. The report gives, per configuration:
  - the median time of an operation per mode over the rounds, with the
    spread (max - min) / median of the rounds' means,
  - ratios of those medians (batched link / floor, vectored map / floor,
    one call per chunk / floor, sgtable / batched, page / iova-fault,
    page / hmm, page / hmm-page, odp-upstream / hmm, blk-sg / blk-dma), each
    with the spread of the same ratio taken round by round,
  - IOTLB invalidation descriptors per operation, and bookkeeping bytes per
    mapped 4 KiB page,
and writes DIR/results.json and DIR/cost-per-chunk.png (gnuplot).
  bench-report.py DIR                      the report
  bench-report.py --smoke DIR              checks for `make test`
  bench-report.py --compare DIR1 DIR2      do two runs agree on every ratio?
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

PHASES = ("setup", "map", "sync", "unmap")
CHUNK_MODES = ("iova-batch", "iova", "floor", "floor-vec", "sgtable", "page",
	       "iova-fault")
ODP_MODES = ("page", "iova-fault", "hmm", "hmm-page", "odp-upstream")
BLOCK_MODES = ("blk-dma", "blk-sg")
# (name, numerator, denominator): "a/b" < 1 means a is faster
RATIOS = (
	("batch/floor", "iova-batch", "floor"),
	("vec/floor", "floor-vec", "floor"),
	("iova/floor", "iova", "floor"),
	("sg/batch", "sgtable", "iova-batch"),
	("sg/iova", "sgtable", "iova"),
	("page/fault", "page", "iova-fault"),
	("page/hmm", "page", "hmm"),
	("page/hmm1", "page", "hmm-page"),
	("upstream/hmm", "odp-upstream", "hmm"),
	("blksg/blkdma", "blk-sg", "blk-dma"),
)
# VT-d: a line per queued descriptor, another per IOTLB one; SMMUv3: a line
# per command, another per TLBI (a VA range, an ASID or everything).
IOTLB = re.compile(r"\b(vtd_inv_desc_iotlb_\w+|smmuv3_s1_range_inval|"
		   r"smmuv3_cmdq_tlbi_nh\w*)\b")
DESC = re.compile(r"\b(vtd_inv_desc|smmuv3_cmdq_opcode)\b(?!_)")
MARK = re.compile(r"\bpci_cfg_write\b.*@0xfc <- 0x([0-9a-f]+)")
SCALE_MIN = 262144


def parse_runs(log):
	runs = {}
	for line in open(log, errors="replace"):
		m = re.match(r"bench: id=(\d+) (.*)", line.strip())
		if not m:
			continue
		kv = dict(re.findall(r"(\w+)=(\S+)", m.group(2)))
		run = {"id": int(m.group(1)), "policy": kv["policy"],
		       "round": int(kv.get("round", 0)),
		       "mode": kv["mode"], "chunks": int(kv["chunks"]),
		       "order": int(kv["order"]), "threads": int(kv["threads"])}
		if "error:" in line:
			run["error"] = line.split("error:", 1)[1].strip()
			runs[run["id"]] = run
			continue
		run["loops"] = int(kv["loops"])
		run["phases"] = {p: {"mean_ns": int(kv[p + "_ns"]),
				     "sd_ns": int(kv[p + "_sd"])} for p in PHASES}
		run["total_ns"] = sum(v["mean_ns"] for v in run["phases"].values())
		# The kernel's median of its operations, robust to TCG's hiccups.
		run["op_ns"] = int(kv.get("median_ns", 0)) or run["total_ns"]
		pages = run["chunks"] << run["order"]
		run["meta_bytes"] = int(kv["meta_bytes"])
		run["meta_bytes_per_page"] = round(run["meta_bytes"] / pages, 3)
		run["pgtable_bytes"] = int(kv["pgtable_bytes"])
		runs[run["id"]] = run
	return runs


def count_invalidations(trace, runs):
	cur = None
	counts = {}
	if not os.path.exists(trace):
		return
	for line in open(trace, errors="replace"):
		m = MARK.search(line)
		if m:
			v = int(m.group(1), 16)
			if v >> 24 == 0x1d:
				cur = v & 0xffffff
				counts[cur] = [0, 0]
			elif v >> 24 == 0x2d:
				cur = None
			continue
		if cur is None:
			continue
		if IOTLB.search(line):
			counts[cur][0] += 1
		elif DESC.search(line):
			counts[cur][1] += 1
	for rid, (iotlb, desc) in counts.items():
		run = runs.get(rid)
		if run and run.get("loops"):
			run["iotlb_inv"] = iotlb
			run["iotlb_inv_per_op"] = round(iotlb / run["loops"], 3)
			run["inv_desc_per_op"] = round(desc / run["loops"], 3)


def add_counts(runs, count_dir):
	"""Invalidations per operation from the untimed, traced boot."""
	log = os.path.join(count_dir, "vm.log")
	if not os.path.exists(log):
		return
	counted = parse_runs(log)
	count_invalidations(os.path.join(count_dir, "qemu-trace.log"), counted)
	per = {}
	for r in counted.values():
		if "iotlb_inv" in r:
			per[(r["policy"], r["mode"], r["chunks"], r["order"],
			     r["threads"])] = r
	for r in runs.values():
		c = per.get((r["policy"], r["mode"], r["chunks"], r["order"],
			     r["threads"]))
		if c and "error" not in r:
			r["iotlb_inv"] = c["iotlb_inv_per_op"] * r["loops"]
			r["iotlb_inv_per_op"] = c["iotlb_inv_per_op"]
			r["inv_desc_per_op"] = c["inv_desc_per_op"]


def spread(values):
	med = statistics.median(values)
	return round((max(values) - min(values)) / med, 3) if med else None


def compare(runs):
	groups = {}
	for r in runs.values():
		if "error" in r or r["chunks"] >= SCALE_MIN:
			continue
		key = (r["policy"], r["threads"], r["order"], r["chunks"])
		groups.setdefault(key, {}).setdefault(r["mode"], []).append(r)
	rows = []
	for key in sorted(groups):
		g = groups[key]
		row = dict(zip(("policy", "threads", "order", "chunks"), key))
		row["median_ns"] = {m: statistics.median(x["op_ns"] for x in g[m])
				    for m in g}
		row["spread"] = {m: spread([x["op_ns"] for x in g[m]]) for m in g}
		row["rounds"] = {m: len(g[m]) for m in g}
		row["iotlb_inv_per_op"] = {
			m: round(sum(x.get("iotlb_inv", 0) for x in g[m]) /
				 sum(x["loops"] for x in g[m]), 3)
			if all("iotlb_inv" in x for x in g[m]) else None for m in g}
		row["meta_bytes_per_page"] = {m: g[m][0]["meta_bytes_per_page"]
					      for m in g}
		row["meta_bytes"] = {m: g[m][0]["meta_bytes"] for m in g}
		row["ratios"] = {}
		for name, a, b in RATIOS:
			if a not in g or b not in g or not row["median_ns"][b]:
				continue
			by_round = {}
			for x in g[a]:
				by_round.setdefault(x["round"], {})["a"] = x["op_ns"]
			for x in g[b]:
				by_round.setdefault(x["round"], {})["b"] = x["op_ns"]
			per = [v["a"] / v["b"] for v in by_round.values()
			       if "a" in v and "b" in v and v["b"]]
			row["ratios"][name] = {
				"median": round(row["median_ns"][a] /
						row["median_ns"][b], 3),
				"rounds_min": round(min(per), 3) if per else None,
				"rounds_max": round(max(per), 3) if per else None}
		rows.append(row)
	return rows


def fmt_ns(ns, sp):
	if ns >= 10_000_000:
		s = "%.1fms" % (ns / 1e6)
	elif ns >= 10_000:
		s = "%.0fus" % (ns / 1e3)
	else:
		s = "%.2fus" % (ns / 1e3)
	return s + ("±%d%%" % round(50 * sp) if sp is not None else "")


def chunk_label(order):
	return {0: "4K", 4: "64K", 9: "2M"}.get(order, "o%d" % order)


def print_table(rows, modes, ratios, title):
	sel = [r for r in rows if any(m in r["median_ns"] for m in modes)]
	if not sel:
		return
	print("\n" + title)
	print("median over the rounds of each run's median operation "
	      "(setup+map+sync+unmap), ± half the rounds' spread; ratios of "
	      "medians [per-round min..max]")
	hdr = "%-6s %2s %-3s %6s | " + " ".join(["%-13s"] * len(modes)) + \
	      " | " + " ".join(["%-20s"] * len(ratios))
	print(hdr % ("policy", "th", "chk", "N", *modes, *ratios))
	for r in sel:
		cells = [fmt_ns(r["median_ns"][m], r["spread"][m])
			 if m in r["median_ns"] else "-" for m in modes]
		rat = []
		for name in ratios:
			x = r["ratios"].get(name)
			rat.append("%.3f [%.2f..%.2f]" % (x["median"], x["rounds_min"],
							  x["rounds_max"])
				   if x and x["rounds_min"] is not None else "-")
		print(hdr % (r["policy"], r["threads"], chunk_label(r["order"]),
			     r["chunks"], *cells, *rat))
	print("IOTLB invalidation descriptors per operation; record bytes per "
	      "4 KiB page")
	for r in sel:
		inv = " ".join("%s=%g" % (m, r["iotlb_inv_per_op"][m])
			       for m in modes if r["iotlb_inv_per_op"].get(m)
			       is not None)
		meta = " ".join("%s=%g" % (m, r["meta_bytes_per_page"][m])
				for m in modes if m in r["meta_bytes_per_page"])
		print("  %-6s %-3s %6d | inv: %s | B/page: %s" % (
			r["policy"], chunk_label(r["order"]), r["chunks"], inv, meta))


def print_scale(runs):
	scale = sorted((r for r in runs.values()
			if r["chunks"] >= SCALE_MIN), key=lambda r: (r["mode"], r["chunks"]))
	if not scale:
		return []
	print("\nscale: one operation of N 4 KiB chunks, strict, 1 thread")
	print("%-10s %9s %7s | %10s %10s %9s | %12s %12s %9s" % (
		"mode", "N", "GiB", "map s", "unmap s", "ns/page", "record B",
		"pgtable B", "B/page"))
	out = []
	for r in scale:
		if "error" in r:
			print("%-10s %9d  error: %s" % (r["mode"], r["chunks"], r["error"]))
			out.append(r)
			continue
		p = r["phases"]
		mapped = p["setup"]["mean_ns"] + p["map"]["mean_ns"] + p["sync"]["mean_ns"]
		print("%-10s %9d %7g | %10.3f %10.3f %9.1f | %12d %12d %9.2f" % (
			r["mode"], r["chunks"], r["chunks"] * 4096 / 2**30, mapped / 1e9,
			p["unmap"]["mean_ns"] / 1e9, r["total_ns"] / r["chunks"],
			r["meta_bytes"], r["pgtable_bytes"],
			(r["meta_bytes"] + r["pgtable_bytes"]) / r["chunks"]))
		out.append(r)
	return out


def plot(rows, out):
	if not shutil.which("gnuplot"):
		print("gnuplot not installed: no plot")
		return
	panels = []
	for pol in ("strict", "lazy"):
		for order, modes in ((0, CHUNK_MODES), (9, CHUNK_MODES),
				     (0, BLOCK_MODES)):
			sel = [r for r in rows if r["policy"] == pol and
			       r["order"] == order and r["threads"] == 1 and
			       any(m in r["median_ns"] for m in modes)]
			if not sel:
				continue
			plots = []
			for m in modes:
				path = os.path.join(out, "plot-%s-%d-%s.dat" % (pol, order, m))
				with open(path, "w") as f:
					for r in sel:
						if m in r["median_ns"]:
							f.write("%d %f\n" % (r["chunks"],
									    r["median_ns"][m] / r["chunks"]))
				plots.append("'%s' using 1:2 with linespoints title '%s'" % (path, m))
			panels.append("set title '%s, %s chunks, 1 thread'\nplot %s" % (
				pol, chunk_label(order) + (" request" if modes == BLOCK_MODES
							   else ""), ", ".join(plots)))
	script = """set terminal pngcairo size 1800,1000 noenhanced
set output '%s'
set multiplot layout 2,3 title 'dma_map_benchmark under QEMU VT-d (TCG): median map + unmap cost per chunk'
set logscale xy
set xlabel 'chunks per operation (N)'
set ylabel 'ns per chunk'
set key top right
%s
unset multiplot
""" % (os.path.join(out, "cost-per-chunk.png"), "\n".join(panels))
	r = subprocess.run(["gnuplot"], input=script, text=True,
			   capture_output=True)
	if r.returncode:
		print("gnuplot failed: " + r.stderr.strip())
	else:
		print("plot: " + os.path.join(out, "cost-per-chunk.png"))


def smoke(runs):
	ok = bad = 0
	for r in sorted(runs.values(), key=lambda r: r["id"]):
		name = "%s %s N=%d" % (r["policy"], r["mode"], r["chunks"])
		if "error" in r or not r.get("loops") or r["total_ns"] <= 0:
			print("FAIL %s: %s" % (name, r.get("error", "no timings")))
			bad += 1
			continue
		if "iotlb_inv_per_op" not in r:
			print("FAIL %s: no invalidations counted (trace markers missing)" % name)
			bad += 1
			continue
		if r["policy"] == "strict" and \
		   r["mode"] in ("iova", "iova-batch", "hmm", "blk-dma") and \
		   r["iotlb_inv"] != r["loops"]:
			print("FAIL %s: %d IOTLB invalidations for %d operations" %
			      (name, r["iotlb_inv"], r["loops"]))
			bad += 1
			continue
		print("ok   %s: %d ops, %.2f us, %g IOTLB inv/op" % (
			name, r["loops"], r["total_ns"] / 1e3, r["iotlb_inv_per_op"]))
		ok += 1
	if not runs:
		bad += 1
	print("bench smoke: %d passed, %d failed" % (ok, bad))
	return bad == 0


def compare_runs(a, b):
	"""Print every ratio of two runs' results.json side by side."""
	ra = {(r["policy"], r["threads"], r["order"], r["chunks"]): r
	      for r in json.load(open(os.path.join(a, "results.json")))["comparisons"]}
	rb = {(r["policy"], r["threads"], r["order"], r["chunks"]): r
	      for r in json.load(open(os.path.join(b, "results.json")))["comparisons"]}
	worst = 0
	n = far = 0
	print("%-6s %-3s %6s %-13s %8s %8s %7s" % ("policy", "chk", "N", "ratio",
						   "run 1", "run 2", "differ"))
	for key in sorted(set(ra) & set(rb)):
		for name in ra[key]["ratios"]:
			if name not in rb[key]["ratios"]:
				continue
			x = ra[key]["ratios"][name]["median"]
			y = rb[key]["ratios"][name]["median"]
			d = abs(x / y - 1) if y else float("inf")
			worst = max(worst, d)
			n += 1
			far += d > 0.10
			print("%-6s %-3s %6d %-13s %8.3f %8.3f %6.1f%%%s" % (
				key[0], chunk_label(key[2]), key[3], name, x, y,
				100 * d, "  > 10%" if d > 0.10 else ""))
	print("compare: %d ratios, %d differ by more than 10%%, worst %.1f%%" %
	      (n, far, 100 * worst))


def main():
	args = [a for a in sys.argv[1:] if not a.startswith("--")]
	if "--compare" in sys.argv:
		compare_runs(args[0], args[1])
		return
	out = args[0]
	runs = parse_runs(os.path.join(out, "vm.log"))
	count_invalidations(os.path.join(out, "qemu-trace.log"), runs)
	add_counts(runs, os.path.join(out, "count"))
	if "--smoke" in sys.argv:
		sys.exit(0 if smoke(runs) else 1)
	rows = compare(runs)
	print_table(rows, CHUNK_MODES, ("batch/floor", "vec/floor", "iova/floor",
					"sg/batch", "page/fault"),
		    "chunked modes: N physically discontiguous chunks")
	print_table([r for r in rows if "hmm" in r["median_ns"]], ODP_MODES,
		    ("page/hmm", "page/hmm1", "upstream/hmm", "page/fault"),
		    "ODP-shaped: N pages faulted in and invalidated; hmm maps "
		    "512 per call, hmm-page one (6.12's ODP keeps 16 B/page: "
		    "pfn_list + dma_list)")
	print_table(rows, BLOCK_MODES, ("blksg/blkdma",),
		    "block: a request of N bio_vecs, blk-dma against 6.12's "
		    "blk_rq_map_sg + dma_map_sgtable")
	scale = print_scale(runs)
	errors = [r for r in runs.values() if "error" in r]
	for r in errors:
		print("error: %s %s N=%d order %d threads %d: %s" % (
			r["policy"], r["mode"], r["chunks"], r["order"], r["threads"],
			r["error"]))
	with open(os.path.join(out, "results.json"), "w") as f:
		json.dump({"runs": sorted(runs.values(), key=lambda r: r["id"]),
			   "comparisons": rows, "scale": scale}, f, indent=1)
	print("results: " + os.path.join(out, "results.json"))
	plot(rows, out)
	sys.exit(1 if errors or not runs else 0)


if __name__ == "__main__":
	main()
