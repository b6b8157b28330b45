#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Match DMAR faults against the attacks the lock-out tests announce.

Reads a raw KUnit QEMU log. The tests print
  "lockout: attacking iova 0x... len 0x..."
before each DMA they aim at an IOVA they took away. Faults come from the
guest ("DMAR: [DMA Write NO_PASID] ... fault addr 0x...") and from QEMU's
vtd_dmar_fault trace event. Every attack must have faulted, and every fault
must lie in an attacked range. Prints a summary; exits 1 otherwise.
"""
import re
import sys

log = open(sys.argv[1], errors="replace").read()
attacks = [(int(a, 16), int(n, 16)) for a, n in
           re.findall(r"lockout: attacking iova (0x[0-9a-f]+) len (0x[0-9a-f]+)", log)]
guest = [int(a, 16) for a in re.findall(r"DMAR: \[DMA (?:Read|Write)[^\]]*\].*fault addr (0x[0-9a-f]+)", log)]
qemu = [int(a, 16) for a in re.findall(r"vtd_dmar_fault .*addr (0x[0-9a-f]+)", log)]


def attacked(addr):
    return any(a & ~0xfff <= addr < a + n for a, n in attacks)


unexpected = [hex(f) for f in guest + qemu if not attacked(f)]
missed = [hex(a) for a, n in attacks
          if not any(a & ~0xfff <= f < a + n for f in guest + qemu)]
print(f"dmar: {len(attacks)} attacks, {len(qemu)} faults traced by QEMU, "
      f"{len(guest)} logged by the guest, {len(unexpected)} unexpected, "
      f"{len(missed)} attacks without a fault")
if unexpected:
    print("dmar: unexpected faults at " + " ".join(unexpected))
if missed:
    print("dmar: no fault for attacks at " + " ".join(missed))
sys.exit(1 if unexpected or missed or not attacks else 0)
