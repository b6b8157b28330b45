#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# PID 1 of the VM that scripts/vm.sh boots with the host's root filesystem
# mounted read-only over 9p: mount the pseudo filesystems, run the command
# given on the kernel command line (dma_iova_vm.cmd=, base64), print its
# exit status and power off. An arm64 guest starts it as /init of an
# initramfs holding a static busybox; there the host's root is mounted on
# /host and what the initramfs lacks of it (the repository, the output
# directory) is bound at the same path.
#
if [ -d /host ]; then
	# busybox finds itself through /proc to install its applets
	/bin/busybox mount -t proc proc /proc && /bin/busybox --install -s
else
	mount -t proc proc /proc
fi
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# Not over /tmp: the repository running this may live there on the host.
mount -t tmpfs run /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
if [ -d /host ]; then
	mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000 /dev/root /host
	for d in /host/*; do
		[ -d "$d" ] && [ ! -e "${d#/host}" ] || continue
		mkdir "${d#/host}" && mount --bind "$d" "${d#/host}"
	done
fi
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/run TMPDIR=/run
cmd=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^dma_iova_vm.cmd=//p' | base64 -d)
echo "vm: running: $cmd"
sh -c "$cmd"
echo "vm: exit status $?"
sync
echo o > /proc/sysrq-trigger
# PID 1 must not exit while power-off runs, and the root filesystem goes
# away under it: wait in the shell, with no command to load.
while :; do :; done
