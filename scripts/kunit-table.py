#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Tabulate KUnit results per machine and suite: pass/skip/fail.

Usage: kunit-table.py OUTDIR

Reads every OUTDIR/kunit-<iommu>-<mode>.log (raw KTAP from scripts/kunit.sh)
and OUTDIR/demo-<iommu>.log (scripts/run-demo.sh). Prints a table with one
row per machine and mode, one column per suite ("passed/skipped/failed",
a crashed or missing suite counts as failed) and the demo's verdict
(passed/skipped/failed, as run-demo.sh wrote it), then every skip with its
reason.
"""
import glob
import os
import re
import sys

CASE = re.compile(r"^    (not ok|ok) \d+ (\S+)(?: # SKIP ?(.*))?")
PARAM = re.compile(r"^        (not ok|ok) \d+ (.+?)(?: # SKIP ?(.*))?$")
SUITE = re.compile(r"^(not ok|ok) \d+ (\S+)")


def parse(path):
    suites, skips, cases, params = {}, [], [], []
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        m = PARAM.match(line)
        if m:
            params.append(m.groups())
            continue
        m = CASE.match(line)
        if m:
            # a parameterised case counts once per parameter, as kunit.py
            cases += [(r, "%s(%s)" % (m.group(2), n), sk)
                      for r, n, sk in params] or [m.groups()]
            params = []
            continue
        m = SUITE.match(line)
        if m:
            p = s = f = 0
            for res, name, skip in cases:
                if skip is not None:
                    s += 1
                    skips.append("%s.%s: %s" % (m.group(2), name, skip))
                elif res == "ok":
                    p += 1
                else:
                    f += 1
            if not cases and m.group(1) != "ok":
                f = 1
            suites[m.group(2)] = (p, s, f)
            cases = []
    return suites, skips


def demo(out, config):
    """The verdict scripts/run-demo.sh left in the machine's demo log."""
    path = os.path.join(out, "demo-%s.log" % config.rsplit("-", 1)[0])
    if not os.path.exists(path):
        return "-"
    m = re.findall(r"^demo-[a-z0-9-]+: (\d+) passed, (\d+) failed, (\d+) skipped",
                   open(path, errors="replace").read(), re.M)
    return "%s/%s/%s" % (m[-1][0], m[-1][2], m[-1][1]) if m else "FAIL"


def main():
    out = sys.argv[1]
    rows, all_suites, all_skips = [], [], []
    for path in sorted(glob.glob(os.path.join(out, "kunit-*-*.log"))):
        config = os.path.basename(path)[6:-4]
        suites, skips = parse(path)
        rows.append((config, suites))
        all_skips += ["%s: %s" % (config, s) for s in skips]
        for s in suites:
            if s not in all_suites:
                all_suites.append(s)
    short = [s.replace("dma_iova_", "").replace("umem_link", "umem")
             for s in all_suites]
    width = max([len(r[0]) for r in rows] + [6])
    print("%-*s  %s  %-9s  %s" % (width, "config",
                                  "  ".join("%-9s" % s[:9] for s in short),
                                  "total", "demo"))
    for config, suites in rows:
        cells, tot = [], [0, 0, 0]
        for s in all_suites:
            p, sk, f = suites.get(s, (0, 0, 1))
            tot = [tot[0] + p, tot[1] + sk, tot[2] + f]
            cells.append("%-9s" % ("%d/%d/%d" % (p, sk, f)))
        print("%-*s  %s  %-9s  %s" % (width, config, "  ".join(cells),
                                      "%d/%d/%d" % tuple(tot), demo(out, config)))
    print("suites: " + ", ".join("%s=%s" % (a, b) for a, b in
                                  zip(short, all_suites) if a != b))
    for s in all_skips:
        print("skip: " + s)


main()
