#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn a scripts/bench.sh run into a table, results.json and plots.

Reads DIR/vm.log (the guest's "bench:" lines, one per dma_map_benchmark run)
and DIR/qemu-trace.log (QEMU's invalidation-descriptor events, framed per run
by the guest's marker writes to edu's config register 0xfc), then:
  - prints mean +- stddev per operation of every mode and the ratios
    ours/floor, sgtable/ours, page/ours and page/iova-fault,
  - counts IOTLB invalidation descriptors per operation for every run,
  - reports bookkeeping bytes per mapped 4 KiB page,
  - writes DIR/results.json and DIR/cost-per-chunk.png (gnuplot).
With --smoke, checks instead that every run produced timings and that ours
invalidates the IOTLB once per operation in strict mode, and prints
"bench smoke: P passed, F failed".
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys

PHASES = ("setup", "map", "sync", "unmap")
MODES = ("iova", "floor", "sgtable", "page", "iova-fault")
IOTLB = re.compile(r"\bvtd_inv_desc_iotlb_\w+")
DESC = re.compile(r"\bvtd_inv_desc\b(?!_)")
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
		# Phases are timed in one operation: their sum's spread is at most
		# the sum of theirs; report the independent-phases estimate.
		run["total_sd_ns"] = round(math.sqrt(sum(
			v["sd_ns"] ** 2 for v in run["phases"].values())))
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


def compare(runs):
	groups = {}
	for r in runs.values():
		if "error" in r or r["chunks"] >= SCALE_MIN:
			continue
		key = (r["policy"], r["threads"], r["order"], r["chunks"])
		groups.setdefault(key, {})[r["mode"]] = r
	rows = []
	for key in sorted(groups):
		g = groups[key]
		t = {m: g[m]["total_ns"] for m in g}
		row = dict(zip(("policy", "threads", "order", "chunks"), key))
		row["total_ns"] = t
		row["total_sd_ns"] = {m: g[m]["total_sd_ns"] for m in g}
		row["iotlb_inv_per_op"] = {m: g[m].get("iotlb_inv_per_op") for m in g}
		row["meta_bytes_per_page"] = {m: g[m]["meta_bytes_per_page"]
					      for m in g}

		def ratio(a, b):
			return round(t[a] / t[b], 3) if a in t and b in t and t[b] else None
		row["ours_over_floor"] = ratio("iova", "floor")
		row["sg_over_ours"] = ratio("sgtable", "iova")
		row["page_over_ours"] = ratio("page", "iova")
		row["page_over_fault"] = ratio("page", "iova-fault")
		rows.append(row)
	return rows


def fmt_ns(ns, sd):
	if ns >= 10_000_000:
		return "%.1f±%.1fms" % (ns / 1e6, sd / 1e6)
	if ns >= 10_000:
		return "%.0f±%.0fus" % (ns / 1e3, sd / 1e3)
	return "%.2f±%.2fus" % (ns / 1e3, sd / 1e3)


def print_table(rows):
	print("per operation: mean ± stddev of setup+map+sync+unmap; "
	      "inv = IOTLB invalidation descriptors per operation")
	hdr = "%-6s %2s %-3s %6s | %-16s %-16s %-16s %-16s %-16s | %6s %6s %6s %7s | %s"
	print(hdr % ("policy", "th", "chk", "N", "iova (ours)", "floor", "sgtable",
		     "page", "iova-fault", "o/flr", "sg/o", "pg/o", "pg/flt",
		     "inv: iova floor sg page fault"))
	for r in rows:
		cells = []
		for m in MODES:
			cells.append(fmt_ns(r["total_ns"][m], r["total_sd_ns"][m])
				     if m in r["total_ns"] else "-")
		inv = " ".join("%g" % r["iotlb_inv_per_op"][m]
			       if r["iotlb_inv_per_op"].get(m) is not None else "-"
			       for m in MODES)
		print(hdr % (r["policy"], r["threads"],
			     "4K" if r["order"] == 0 else "2M", r["chunks"], *cells,
			     *("%.3f" % r[k] if r[k] is not None else "-" for k in
			       ("ours_over_floor", "sg_over_ours", "page_over_ours",
				"page_over_fault")), inv))


def print_scale(runs):
	scale = sorted((r for r in runs.values()
			if r["chunks"] >= SCALE_MIN), key=lambda r: (r["mode"], r["chunks"]))
	if not scale:
		return []
	print("\nscale: one operation of N 4 KiB chunks, strict, 1 thread")
	print("%-6s %9s %7s | %10s %10s %9s | %12s %12s %9s" % (
		"mode", "N", "GiB", "map s", "unmap s", "ns/page", "record B",
		"pgtable B", "B/page"))
	out = []
	for r in scale:
		if "error" in r:
			print("%-6s %9d  error: %s" % (r["mode"], r["chunks"], r["error"]))
			out.append(r)
			continue
		p = r["phases"]
		mapped = p["setup"]["mean_ns"] + p["map"]["mean_ns"] + p["sync"]["mean_ns"]
		print("%-6s %9d %7g | %10.3f %10.3f %9.1f | %12d %12d %9.2f" % (
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
		for order in (0, 9):
			sel = [r for r in rows if r["policy"] == pol and
			       r["order"] == order and r["threads"] == 1]
			if not sel:
				continue
			plots = []
			for m in MODES:
				path = os.path.join(out, "plot-%s-%d-%s.dat" % (pol, order, m))
				with open(path, "w") as f:
					for r in sel:
						if m in r["total_ns"]:
							f.write("%d %f\n" % (r["chunks"],
									    r["total_ns"][m] / r["chunks"]))
				plots.append("'%s' using 1:2 with linespoints title '%s'" % (path, m))
			panels.append("set title '%s, %s chunks, 1 thread'\nplot %s" % (
				pol, "4 KiB" if order == 0 else "2 MiB", ", ".join(plots)))
	script = """set terminal pngcairo size 1400,1000 noenhanced
set output '%s'
set multiplot layout 2,2 title 'dma_map_benchmark under QEMU VT-d (TCG): map + unmap cost per chunk'
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
		if r["policy"] == "strict" and r["mode"] == "iova" and \
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


def main():
	args = [a for a in sys.argv[1:] if not a.startswith("--")]
	out = args[0]
	runs = parse_runs(os.path.join(out, "vm.log"))
	count_invalidations(os.path.join(out, "qemu-trace.log"), runs)
	if "--smoke" in sys.argv:
		sys.exit(0 if smoke(runs) else 1)
	rows = compare(runs)
	print_table(rows)
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
