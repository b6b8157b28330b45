// SPDX-License-Identifier: GPL-2.0-only
/*
 * Userspace harness for kernel/dma/iova_link.c, built unchanged against the
 * shim in iova_link_internal.h and the mock in mock.c. Tests are included
 * directly so they can reach static functions too.
 *
 * Usage: dma-iova [-v]
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
		fprintf(stderr, "FAIL: %s\n", name);
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

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "v")) != -1)
		if (opt == 'v')
			harness_verbose++;

	run_alloc_tests();
	run_link_tests();
	run_bounce_tests();
	run_p2p_tests();
	run_unlink_tests();
	run_direct_tests();
	run_debug_tests();
	run_fault_tests();
	run_batch_tests();

	printf("%u tests run, %u passed, %u failed.\n", nr_run,
	       nr_run - nr_failed, nr_failed);
	return nr_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
