# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the scripts: where the tree, build directory and ccache live,
# and the machine the kernel runs on. DMA_IOVA_IOMMU picks it: intel
# (default), amd, virtio (q35, one x86 kernel for all three), smmuv3 or
# smmuv3-64k (arm64 virt, a kernel with 4 KiB or 64 KiB pages each).
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${DMA_IOVA_CACHE:-$HOME/.cache/dma-iova}
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown)
export DMA_IOVA_IOMMU=${DMA_IOVA_IOMMU:-intel}
case $DMA_IOVA_IOMMU in
intel | amd | virtio)
	arch=x86_64
	cross=
	machine=q35
	kernel_image=arch/x86/boot/bzImage
	console=ttyS0
	suffix=
	;;
smmuv3 | smmuv3-64k)
	arch=arm64
	cross=aarch64-linux-gnu-
	machine=virt
	kernel_image=arch/arm64/boot/Image.gz
	console=ttyAMA0
	export DMA_IOVA_PAGES=4k
	[ "$DMA_IOVA_IOMMU" = smmuv3-64k ] && DMA_IOVA_PAGES=64k
	suffix=-arm64-$DMA_IOVA_PAGES
	;;
*)
	echo "DMA_IOVA_IOMMU=$DMA_IOVA_IOMMU: not intel, amd, virtio, smmuv3 or smmuv3-64k" >&2
	exit 2
	;;
esac
qemu=qemu-system-${arch/arm64/aarch64}
# A test may skip only for a known limit of the machine: its reason must
# match. QEMU 7.2's amd-iommu translates no DMA of a device behind a PCIe
# switch (nvme1 fails to probe); the AMD driver keeps page tables after
# an unmap and virtio-iommu has none in the guest (no allocation to fail),
# and serves each map as a request (~1 ms under TCG: a 1 GiB ODP region
# may not fit KUnit's 300 s per case); pci_p2pdma allows P2P through no
# arm64 host bridge; with 64 KiB pages a PMD (THP) maps 512 MiB, and so
# does one leaf table of the IOMMU's page table.
case $DMA_IOVA_IOMMU in
amd) allowed_skips='has no driver \(its probe failed\)|no page table allocated|does not translate the DMA' ;;
virtio) allowed_skips="no page table allocated|beyond KUnit's 300 s" ;;
smmuv3) allowed_skips='P2P through (this|the) host bridge' ;;
smmuv3-64k) allowed_skips='P2P through (this|the) host bridge|no 2 MiB THP|one leaf table of a 64 KiB granule' ;;
*) allowed_skips='' ;;
esac
# kunit.py's limit for one boot: every virtio-iommu map is a request QEMU
# serves (~1 ms each under TCG), so its suites take about twice as long.
kunit_timeout=1800
[ "$DMA_IOVA_IOMMU" = virtio ] && kunit_timeout=3600
build=${DMA_IOVA_BUILD:-$CACHE/build-$ver$suffix}
qemu_config=$repo/tools/testing/dma-iova/qemu/$machine.py
kunitconfig=${DMA_IOVA_KUNITCONFIG:-$repo/kernel/dma/.kunitconfig}
# What the KUnit kernel also needs to boot scripts/vm.sh's machine (not
# part of the series' .kunitconfig); none for another DMA_IOVA_KUNITCONFIG.
kunitconfig_vm=
if [ "$kunitconfig" = "$repo/kernel/dma/.kunitconfig" ]; then
	kunitconfig_vm=$repo/tools/testing/dma-iova/vm/kunit-vm.config
fi
# What the KUnit kernel's sanitizers print: a run with one fails.
sanitizers='BUG: KASAN|UBSAN:|WARNING: possible|circular locking|inconsistent lock state|BUG: sleeping function|kmemleak: [0-9]+ new suspected'
# A failed "<label>-sanitizers" line, after the first reports, if log has any.
sanitizer_check() {	# log label
	grep -qE "$sanitizers" "$1" || return 0
	grep -E "$sanitizers" "$1" | head -5
	echo "$2-sanitizers: 0 passed, 1 failed"
}
jobs=$(nproc)
# Signal @pid and everything it started (a boot's kunit.py and QEMU).
kill_tree() {	# pid
	local child
	for child in $(pgrep -P "$1"); do
		kill_tree "$child"
	done
	kill "$1" 2> /dev/null
}
