/* SPDX-License-Identifier: GPL-2.0-only */
/* For kernel/dma/iova_engine.h: what it needs is in custom.h, mocked in mock.c. */
