#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the Debian 12 packages a make target needs and this machine
# lacks: `apt-get update` once, then one `apt-get install` of only the
# missing ones. As root it installs; otherwise it prints the one sudo
# command that would, and fails. Every make target that needs a package
# calls it first; DMA_IOVA_NO_DEPS=1 skips the check.
#
#   scripts/deps.sh TARGET    run test test-all kunit harness fuzz check
#                             stress bench trace series series-check
set -euo pipefail

[ -n "${DMA_IOVA_NO_DEPS:-}" ] && exit 0
target=${1:?usage: $0 TARGET}
iommu=${DMA_IOVA_IOMMU:-intel}

# What builds and patches the kernel, and the QEMU of the machine it boots.
# flock (util-linux) guards build directories, pgrep (procps) stops boots.
kernel="linux-source-6.12 gcc make flex bison bc libelf-dev libssl-dev
	cpio kmod ccache dwarves python3 patch xz-utils perl git diffutils
	util-linux procps"
x86="qemu-system-x86"
arm64="qemu-system-arm gcc-aarch64-linux-gnu"
machine=$x86
case $iommu in smmuv3*) machine=$arm64 ;; esac
# The harness: 64- and 32-bit gcc, clang and its libFuzzer, qemu-i386 for
# the 32-bit build where the kernel runs no 32-bit code (issue 26).
harness="gcc make libc6-dev linux-libc-dev"
fuzz="$harness clang libclang-rt-14-dev"
harness_all="$fuzz gcc-12-multilib qemu-user"
# scripts/vm.sh's arm64 guest: a static busybox:arm64 and a static tool.
arm64_guest="libc6-dev-arm64-cross"
arch_arm64=

case $target in
run | kunit) pkgs="$kernel $machine" ;;
harness) pkgs="$harness" ;;
fuzz) pkgs="$fuzz" ;;
check) pkgs="$kernel" ;;
series) pkgs="$kernel" ;;
series-check) pkgs="$kernel sparse" ;;
# make test boots one more IOMMU in turn, which may be arm64
test | test-all) pkgs="$kernel $harness_all $x86 $arm64 fio" ;;
stress) pkgs="$kernel $x86 fio" ;;
bench)
	pkgs="$kernel $machine gnuplot-nox"
	if [ "$machine" = "$arm64" ]; then
		pkgs="$pkgs $arm64_guest"
		arch_arm64=1
	fi
	;;
trace) pkgs="$kernel $x86 fio bpftrace" ;;
*) echo "deps.sh: unknown target $target" >&2; exit 2 ;;
esac

# busybox-static:arm64 is downloaded by scripts/vm.sh, from the arm64
# package lists.
need_arch=
if [ -n "$arch_arm64" ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	need_arch=1
fi
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && [ -z "$need_arch" ] && exit 0

steps=
[ -n "$need_arch" ] && steps="dpkg --add-architecture arm64 && "
steps="${steps}apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "make $target needs packages this machine lacks; run:" >&2
	echo "  sudo sh -c '$steps'" >&2
	exit 1
fi
echo ">> make $target: installing$missing${need_arch:+ (and the arm64 architecture)}" >&2
start=$(date +%s)
log=$(mktemp)
sh -c "$steps" > "$log" 2>&1 < /dev/null || {
	tail -n 20 "$log" >&2
	echo "deps.sh: apt-get failed (log: $log)" >&2
	exit 1
}
rm -f "$log"
echo ">> installed in $(( $(date +%s) - start ))s" >&2
