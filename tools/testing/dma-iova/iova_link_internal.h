/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace replacement for kernel/dma/iova_link_internal.h. It claims the
 * same include guard, so when the real kernel/dma/iova_link.c includes its
 * internal header, this one has already provided everything.
 */
#ifndef _KERNEL_DMA_IOVA_LINK_INTERNAL_H
#define _KERNEL_DMA_IOVA_LINK_INTERNAL_H

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../include/linux/dma-iova.h"

#include "include/dup.h"
#include "include/stubs.h"
#include "include/custom.h"

#include "../../../kernel/dma/iova_debug.h"
#include "../../../kernel/dma/iova_engine.h"

#endif
