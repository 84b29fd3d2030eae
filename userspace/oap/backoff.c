// SPDX-License-Identifier: GPL-2.0-only
/* The reconnect back-off: exponential, with jitter so that many agents
 * losing one OAP do not all come back in the same millisecond. */
#include "oap.h"

uint32_t oap_backoff_ms(unsigned int attempt, uint32_t base_ms, uint32_t max_ms, uint32_t rnd)
{
	uint64_t d = base_ms, span, v;

	if (attempt == 0)
		return 0;
	if (max_ms < base_ms)
		max_ms = base_ms;
	while (--attempt && d < max_ms)
		d <<= 1;
	if (d > max_ms)
		d = max_ms;
	/* [0.8 d, 1.2 d] */
	span = 2 * d / 5;
	v = d - d / 5 + (span ? rnd % (span + 1) : 0);
	return v > max_ms ? max_ms : (uint32_t)v;
}
