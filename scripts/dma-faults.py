#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Match IOMMU faults against the attacks the lock-out tests announce.

Usage: dma-faults.py LOG IOMMU [--direct]
       (IOMMU: intel, amd, virtio, smmuv3, smmuv3-64k)

Reads a raw KUnit QEMU log. The tests print
  "lockout: attacking iova 0x... len 0x..."
before each DMA they aim at an IOVA they took away. Faults come from the
guest (each IOMMU driver's fault report) and, where the QEMU model traces
the faulting address, from QEMU's trace event. Every attack must have
faulted, and every fault must lie in an attacked range; where the QEMU
model reports no faults at all (SILENT), only the attacks are checked and
the matching is reported as skipped. --direct is for a boot whose devices
are direct-mapped (iommu.passthrough=1): the lock-out tests cannot attack
there, so no attack and no fault may appear. Prints a summary; exits 1
otherwise.
"""
import re
import sys

HEX = r"(0x[0-9a-f]+)"
# the guest's fault report of each driver, and QEMU's trace of it
GUEST = {
    "intel": r"DMAR: \[DMA (?:Read|Write)[^\]]*\].*fault addr " + HEX,
    "amd": r"Event logged \[IO_PAGE_FAULT [^\]]*address=" + HEX,
    "virtio": r"fault from EP \d+ at " + HEX,
    # arm-smmu-v3 prints the 4 words of an event record after
    # "event 0x1N received:" (translation, address size, access,
    # permission faults); the third is the input address
    "smmuv3": r"event 0x1[0-3] received:\n[^\n]*\n[^\n]*\n[^\n]*\t" + HEX,
}
QEMU = {
    "intel": r"vtd_dmar_fault .*addr " + HEX,
    "amd": r"amdvi_page_fault .*address " + HEX,
    "virtio": r"virtio_iommu_report_fault .*address =" + HEX,
    # -d guest_errors (smmuv3_record_event has no address)
    "smmuv3": r"translation failed for iova=" + HEX,
}

# QEMU 7.2's amd-iommu blocks a DMA it cannot translate but reports it
# neither to the guest (no IO_PAGE_FAULT event) nor in a trace.
SILENT = {"amd"}

log = open(sys.argv[1], errors="replace").read()
iommu = sys.argv[2].split("-")[0]
attacks = [(int(a, 16), int(n, 16)) for a, n in
           re.findall(r"lockout: attacking iova " + HEX + " len " + HEX, log)]
guest = [int(a, 16) for a in re.findall(GUEST[iommu], log)]
qemu = [int(a, 16) for a in re.findall(QEMU[iommu], log)]


def attacked(addr):
    return any(a & ~0xfff <= addr < a + n for a, n in attacks)


unexpected = [hex(f) for f in guest + qemu if not attacked(f)]
missed = [hex(a) for a, n in attacks
          if not any(a & ~0xfff <= f < a + n for f in guest + qemu)]
print(f"dma faults ({sys.argv[2]}): {len(attacks)} attacks, "
      f"{len(qemu)} traced by QEMU, "
      f"{len(guest)} logged by the guest, {len(unexpected)} unexpected, "
      f"{len(missed)} attacks without a fault")
if unexpected:
    print("dma faults: unexpected faults at " + " ".join(unexpected))
if "--direct" in sys.argv[3:]:
    # nothing translates, so nothing may attack or fault
    sys.exit(1 if attacks or guest or qemu else 0)
if iommu in SILENT and not guest + qemu:
    print("dma faults: matching skipped: QEMU's %s model reports no faults"
          % iommu)
    sys.exit(0 if attacks else 1)
if missed:
    print("dma faults: no fault for attacks at " + " ".join(missed))
sys.exit(1 if unexpected or missed or not attacks else 0)
