#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Judge the log of tools/testing/dma-iova/vm/fio.sh run by scripts/vm.sh:
fio's jobs finished with 0 errors and verified at least MIN_GIB GiB
together, blk-dma mapped data and integrity payloads and failed none, no DMAR fault in the guest log or in
QEMU's vtd_dmar_fault trace. Prints a summary and "fio: P passed, F
failed"."""
import json
import re
import sys

MIN_GIB = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
log = open(sys.argv[1], errors="replace").read()
fails = []


def stats(label):
    m = re.search(r"fio.sh: blk-dma %s\n((?:\w+ \d+\n)+)" % label, log)
    return {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", m.group(1))} if m else {}


m = re.search(r"fio.sh: json begin\n(.*?)fio.sh: json end", log, re.S)
jobs = []
if m:
    text = m.group(1)
    text = text[text.find("{"):]
    try:
        jobs = json.loads(text)["jobs"]
    except (ValueError, KeyError) as e:
        fails.append("fio output unreadable: %s" % e)
else:
    fails.append("no fio output in the log")
if m and not jobs:
    fails.append("fio ran no job")

before, after = stats("before"), stats("after")
delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
iostats = re.findall(r"fio.sh: (?:pi )?io stat +(\d+) +\d+ +\d+ +\d+ +(\d+)",
                     log)
guest_faults = re.search(r"fio.sh: dmar faults (\d+)", log)
qemu_faults = len(re.findall(r"^vtd_dmar_fault", log, re.M))

verified = 0
for job in jobs:
    verified += job["read"]["io_bytes"]
    print("fio: job %s, written %d bytes (%d I/Os), verified %d bytes "
          "(%d I/Os), error %d, %.1f s" % (
              job["jobname"], job["write"]["io_bytes"],
              job["write"]["total_ios"], job["read"]["io_bytes"],
              job["read"]["total_ios"], job["error"],
              job["job_runtime"] / 1000.0))
    if job["error"]:
        fails.append("fio job %s: error %d" % (job["jobname"], job["error"]))
if jobs and verified < MIN_GIB * (1 << 30):
    fails.append("verified %d bytes < %.2f GiB" % (verified, MIN_GIB))
if delta:
    print("blk-dma during fio: " +
          ", ".join("%s %d" % (k, v) for k, v in delta.items()))
    if delta.get("iova_maps", 0) <= 0:
        fails.append("no request was mapped through blk-dma")
    if delta.get("integrity_maps", 0) <= 0:
        fails.append("no integrity payload was mapped through blk-dma")
    if delta.get("failures", 0):
        fails.append("blk-dma failed %d mappings" % delta["failures"])
else:
    fails.append("no blk-dma counters in the log")
if iostats:
    reqs = sum(int(r) + int(w) for r, w in iostats)
    data = delta.get("iova_maps", 0) - delta.get("integrity_maps", 0)
    print("requests completed on the two namespaces: %d; data payloads "
          "mapped by blk-dma: %d (the rest took nvme-pci's single-segment "
          "fast path), integrity payloads: %d" %
          (reqs, data, delta.get("integrity_maps", 0)))
if not guest_faults:
    fails.append("no DMAR fault count from the guest")
else:
    print("DMAR faults: guest %s, QEMU vtd_dmar_fault %d" %
          (guest_faults.group(1), qemu_faults))
    if int(guest_faults.group(1)) or qemu_faults:
        fails.append("DMAR faults")

for f in fails:
    print("fio: FAIL: " + f)
print("fio: %d passed, %d failed" % (0 if fails else 1, 1 if fails else 0))
sys.exit(1 if fails else 0)
