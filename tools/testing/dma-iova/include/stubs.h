/* SPDX-License-Identifier: GPL-2.0-only */
/* Kernel facilities STUBBED for userspace: no behaviour under test. */
#ifndef _HARNESS_STUBS_H
#define _HARNESS_STUBS_H

#define EXPORT_SYMBOL_GPL(sym)	extern typeof(sym) sym

#define dev_warn_once(dev, fmt, ...) \
	do { if (harness_verbose) fprintf(stderr, "dev_warn: " fmt, ##__VA_ARGS__); } while (0)

extern int harness_verbose;

#endif
