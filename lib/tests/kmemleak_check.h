/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Leak checking for the KUnit suites: kmemleak's first automatic scan comes
 * a minute after boot, when KUnit has ended, so the suites drive it through
 * its debugfs file themselves. The first suite scans and clears what boot
 * left (the baseline); the last one waits until every object the suites
 * allocated is old enough to be reported, scans, and fails on any suspect.
 */
#ifndef _LIB_TESTS_KMEMLEAK_CHECK_H
#define _LIB_TESTS_KMEMLEAK_CHECK_H

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mman.h>
#include <linux/mount.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

/* kmemleak reports objects older than 5 s (MSECS_MIN_AGE in mm/kmemleak.c) */
#define KMEMLEAK_MIN_AGE_MS	5100
#define KMEMLEAK_REPORT_MAX	(64 * 1024)

struct kmemleak_file {
	struct vfsmount *mnt;
	struct file *file;
	char __user *ubuf;	/* the file has no ->write_iter: user copies */
};

static inline void kmemleak_file_close(void *data)
{
	struct kmemleak_file *k = data;

	fput(k->file);
	mntput(k->mnt);
}

/* debugfs's "kmemleak", on a mount of our own (nothing mounted it yet). */
static inline struct kmemleak_file *kmemleak_open(struct kunit *test)
{
	struct file_system_type *fs = get_fs_type("debugfs");
	struct kmemleak_file *k = kunit_kzalloc(test, sizeof(*k), GFP_KERNEL);
	unsigned long va;

	KUNIT_ASSERT_NOT_NULL(test, k);
	KUNIT_ASSERT_NOT_NULL(test, fs);
	k->mnt = vfs_kern_mount(fs, 0, "debugfs", NULL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(k->mnt), "debugfs: %pe", k->mnt);
	k->file = file_open_root_mnt(k->mnt, "kmemleak", O_RDWR, 0);
	if (IS_ERR(k->file)) {
		mntput(k->mnt);
		KUNIT_FAIL_AND_ABORT(test, "kmemleak: %pe", k->file);
	}
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kmemleak_file_close,
							k), 0);
	va = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			   MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(va));
	k->ubuf = (char __user *)va;
	return k;
}

static inline void kmemleak_cmd(struct kunit *test, struct kmemleak_file *k,
				const char *cmd)
{
	size_t len = strlen(cmd);
	loff_t pos = 0;

	KUNIT_ASSERT_EQ(test, copy_to_user(k->ubuf, cmd, len), 0);
	KUNIT_ASSERT_EQ_MSG(test, vfs_write(k->file, k->ubuf, len, &pos),
			    (ssize_t)len, "kmemleak %s", cmd);
}

/* The current report, NUL-terminated (at most KMEMLEAK_REPORT_MAX bytes). */
static inline char *kmemleak_report(struct kunit *test,
				    struct kmemleak_file *k)
{
	char *report = kunit_kzalloc(test, KMEMLEAK_REPORT_MAX, GFP_KERNEL);
	size_t len = 0;
	loff_t pos = 0;
	ssize_t n;

	KUNIT_ASSERT_NOT_NULL(test, report);
	while (len < KMEMLEAK_REPORT_MAX - 1) {
		n = vfs_read(k->file, k->ubuf,
			     min_t(size_t, PAGE_SIZE,
				   KMEMLEAK_REPORT_MAX - 1 - len), &pos);
		KUNIT_ASSERT_GE(test, n, 0);
		if (!n)
			break;
		KUNIT_ASSERT_EQ(test, copy_from_user(report + len, k->ubuf, n),
				0);
		len += n;
	}
	return report;
}

/*
 * A scan paints an object it finds unreferenced grey again if its contents
 * changed since the previous scan (its checksum): only the second of two
 * scans reports what is really unreferenced.
 */
static inline void kmemleak_scan_twice(struct kunit *test,
				       struct kmemleak_file *k)
{
	kmemleak_cmd(test, k, "scan");
	kmemleak_cmd(test, k, "scan");
}

static inline unsigned int kmemleak_suspects(const char *report)
{
	unsigned int n = 0;

	for (; (report = strstr(report, "unreferenced object")); report++)
		n++;
	return n;
}

#endif /* _LIB_TESTS_KMEMLEAK_CHECK_H */
