#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# A freshly booted guest hands out physically consecutive pages, so I/O
# buffers would be single segments that nvme-pci maps on its fast path.
# Fragment memory as on a long-running system: touch 512 MiB and give back
# every other page, so the free pages others get are scattered. Returns
# once done, leaving the holder running; kill it (pid in /run/fragmented)
# to give the memory back.
rm -f /run/fragmented
python3 -c '
import mmap, os, time
n = 512 << 20
m = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for i in range(0, n, 4096):
	m[i] = 1
for i in range(0, n, 8192):
	m.madvise(mmap.MADV_DONTNEED, i, 4096)
open("/run/fragmented", "w").write(str(os.getpid()))
time.sleep(3600)
' &
while [ ! -s /run/fragmented ]; do sleep 0.2; done
