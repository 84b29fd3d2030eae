/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hash of the pipeline's (pid, address, is-a-return-address) keys,
 * shared by the stack cache and the profile sink's location table.
 */
#ifndef SW_PIPELINE_ADDR_HASH_H
#define SW_PIPELINE_ADDR_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A 64-bit finalizer (murmur3's): every input bit moves every output bit. */
static inline uint64_t pl_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static inline size_t pl_addr_hash(uint64_t addr, int32_t pid, bool ret)
{
	return pl_mix64(addr ^ ((uint64_t)(uint32_t)pid << 32) ^ ret);
}

#endif
