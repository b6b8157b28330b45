# SPDX-License-Identifier: GPL-2.0-only
#
# make test     harness + KUnit in QEMU (intel-iommu and one more IOMMU)
# make test-all make test, then KUnit + demo behind every other IOMMU
# make harness  userspace harness only (seconds)
# make kunit    KUnit in QEMU only (builds the kernel)
# make run      boot the patched kernel and run the DMA demo
# make fuzz     fuzz the core against its model for FUZZ_SECONDS (600)
# make check    checkpatch --strict and kernel-doc on our kernel files
# make stress   resets, FLR, remove, hotplug, injected errors under I/O (SMP VM)
# make bench    dma_map_benchmark, every mode, in one VM boot -> out/bench/
# make trace    bpftrace tools/testing/dma-iova/bpftrace/dma-iova.bt in the VM
# make series   the patch series as git format-patch mails -> out/series/
# make series-check  git am, build every patch, checkpatch, sparse, W=1

FUZZ_SECONDS ?= 600
STRESS_SECONDS ?= 180

.PHONY: test test-all harness kunit run fuzz check stress bench trace profile series series-check clean

# Each target first installs the Debian packages it needs and the machine
# lacks (scripts/deps.sh; as root, else it prints the sudo command).
DEPS = scripts/deps.sh

test:
	$(DEPS) test
	scripts/test.sh

test-all:
	$(DEPS) test-all
	scripts/test-all.sh

harness:
	$(DEPS) harness
	$(MAKE) -C tools/testing/dma-iova run

kunit:
	$(DEPS) kunit
	scripts/kunit.sh

run:
	$(DEPS) run
	scripts/run-demo.sh

fuzz:
	$(DEPS) fuzz
	scripts/fuzz.sh $(FUZZ_SECONDS)

check:
	$(DEPS) check
	scripts/check.sh

stress:
	$(DEPS) stress
	scripts/stress.sh $(STRESS_SECONDS)

bench:
	$(DEPS) bench
	scripts/bench.sh

series:
	$(DEPS) series
	scripts/series.sh

series-check:
	$(DEPS) series-check
	scripts/series.sh --check

trace:
	$(DEPS) trace
	scripts/trace.sh

# make profile PROFILE="strict 8 iova-batch sgtable"
profile:
	$(DEPS) bench
	scripts/profile.sh $(PROFILE)

clean:
	$(MAKE) -C tools/testing/dma-iova clean
	rm -rf out
