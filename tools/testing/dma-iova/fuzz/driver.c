// SPDX-License-Identifier: GPL-2.0-only
/*
 * Plain driver for fuzz_ops.c where libFuzzer is not available (gcc, -m32):
 * runs every file named on the command line (or in a named directory),
 * then -r N pseudo-random inputs from -s SEED, and prints the throughput.
 */
#include <dirent.h>
#include <getopt.h>
#include <sys/stat.h>
#include <time.h>

#include "fuzz_ops.c"

static unsigned int run_file(const char *path)
{
	static u8 buf[1 << 16];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 1;
}

static unsigned int run_path(const char *path)
{
	struct dirent *d;
	unsigned int n = 0;
	struct stat st;
	char sub[4096];
	DIR *dir;

	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return run_file(path);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name);
		n += run_file(sub);
	}
	if (dir)
		closedir(dir);
	return n;
}

int main(int argc, char **argv)
{
	unsigned long long seed = 1, rounds = 0, i, x;
	unsigned int files = 0;
	struct timespec t0, t1;
	static u8 buf[2048];
	double secs;
	int opt;

	while ((opt = getopt(argc, argv, "r:s:v")) != -1) {
		if (opt == 'v')
			harness_verbose = 1;
		else if (opt == 'r')
			rounds = strtoull(optarg, NULL, 0);
		else if (opt == 's')
			seed = strtoull(optarg, NULL, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (; optind < argc; optind++)
		files += run_path(argv[optind]);
	x = seed | 1;
	for (i = 0; i < rounds; i++) {
		size_t len = 64 + (x % (sizeof(buf) - 64)), j;

		for (j = 0; j < len; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[j] = x >> 32;
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("fuzz: seed %llu, %u files + %llu random inputs, %llu ops in %.2fs (%.0f execs/s, %.0f ops/s)\n",
	       seed, files, rounds, fuzz_ops_total, secs,
	       (files + rounds) / secs, fuzz_ops_total / secs);
	return 0;
}
