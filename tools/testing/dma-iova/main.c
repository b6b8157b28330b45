// SPDX-License-Identifier: GPL-2.0-only
/*
 * Userspace harness for kernel/dma/iova_link.c, built unchanged against the
 * shim in iova_link_internal.h and the mock in mock.c. Tests are included
 * directly so they can reach static functions too.
 *
 * Every test runs once per IOMMU granule of -g (4, 16 and 64 KiB unless
 * told), at the PAGE_SIZE the harness was built with (make PAGE_SHIFT=16
 * for 64 KiB pages).
 *
 * Usage: dma-iova [-v] [-g KIB[,KIB...]]
 */
#include <getopt.h>

#include "iova_link_internal.h"
#include "../../../kernel/dma/iova_link.c"
#include "../../../kernel/dma/iova_debug.c"
#include "mock.c"
#include "shared.h"

static unsigned int nr_run, nr_failed;

static void run_test(const char *name, bool (*fn)(void))
{
	bool ok;

	mock_reset();
	ok = fn();
	ok = mock_check_clean() && ok;
	nr_run++;
	if (!ok) {
		nr_failed++;
		fprintf(stderr, "FAIL: %s (granule %zu KiB, PAGE_SIZE %lu KiB)\n",
			name, G >> 10, PAGE_SIZE >> 10);
	} else if (harness_verbose) {
		fprintf(stderr, "ok: %s\n", name);
	}
}

#define TEST(name) run_test(#name, test_##name)

#include "tests/alloc.c"
#include "tests/link.c"
#include "tests/bounce.c"
#include "tests/p2p.c"
#include "tests/unlink.c"
#include "tests/direct.c"
#include "tests/debug.c"
#include "tests/fault.c"
#include "tests/batch.c"

static void run_all_tests(void)
{
	run_alloc_tests();
	run_link_tests();
	run_bounce_tests();
	run_p2p_tests();
	run_unlink_tests();
	run_direct_tests();
	run_debug_tests();
	run_fault_tests();
	run_batch_tests();
}

int main(int argc, char **argv)
{
	const char *granules = "4,16,64";
	char *list, *kib;
	int opt;

	while ((opt = getopt(argc, argv, "vg:")) != -1) {
		if (opt == 'v')
			harness_verbose++;
		else if (opt == 'g')
			granules = optarg;
		else
			return EXIT_FAILURE;
	}
	list = strdup(granules);
	for (kib = strtok(list, ","); kib; kib = strtok(NULL, ",")) {
		G = strtoul(kib, NULL, 0) << 10;
		if (G < SZ_4K || G > MOCK_UNIT || (G & (G - 1))) {
			fprintf(stderr, "granule %s KiB: not 4..64 KiB\n", kib);
			return EXIT_FAILURE;
		}
		iommu_dev.iommu_granule = G;
		bounce_dev.iommu_granule = G;
		noncoh_bounce_dev.iommu_granule = G;
		run_all_tests();
	}
	free(list);

	printf("%u tests run, %u passed, %u failed.\n", nr_run,
	       nr_run - nr_failed, nr_failed);
	return nr_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
