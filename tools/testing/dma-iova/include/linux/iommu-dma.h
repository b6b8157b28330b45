/* SPDX-License-Identifier: GPL-2.0-only */
/* The building blocks of patch 0007 are declared in custom.h, mocked in mock.c. */
