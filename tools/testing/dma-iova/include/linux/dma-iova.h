/* SPDX-License-Identifier: GPL-2.0-only */
/* For kernel/dma/iova_engine.h: the real header, as iova_link_internal.h has it. */
#include "../../../../../include/linux/dma-iova.h"
