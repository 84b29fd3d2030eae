// SPDX-License-Identifier: GPL-2.0-only
/* The reconnect back-off: exponential, jittered within [0.8, 1.2], capped. */
#include <stdint.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "oap.h"

TEST(no_wait_before_the_first_failure)
{
	EXPECT_EQ(0, oap_backoff_ms(0, 1000, 60000, 12345));
}

TEST(exponential_within_jitter_bounds)
{
	static const uint32_t rnds[] = { 0, 1, 7, 199, 200, 401, 65535, 0xffffffff, 0x9e3779b9 };

	for (unsigned int a = 1; a <= 12; a++) {
		uint64_t ideal = 100ull << (a - 1);

		if (ideal > 30000)
			ideal = 30000;
		for (size_t i = 0; i < sizeof(rnds) / sizeof(rnds[0]); i++) {
			uint32_t v = oap_backoff_ms(a, 100, 30000, rnds[i]);

			EXPECT_GE(v, ideal * 4 / 5) TH_LOG("attempt %u rnd %u: %u", a, rnds[i], v);
			EXPECT_LE(v, ideal * 6 / 5) TH_LOG("attempt %u rnd %u: %u", a, rnds[i], v);
			EXPECT_LE(v, 30000);
		}
	}
}

TEST(jitter_spreads_the_retries)
{
	uint32_t lo = UINT32_MAX, hi = 0;

	for (uint32_t r = 0; r < 1000; r++) {
		uint32_t v = oap_backoff_ms(3, 1000, 60000, r * 2654435761u);

		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	/* ideal 4000: the range covers most of [3200, 4800] */
	EXPECT_LE(lo, 3300);
	EXPECT_GE(hi, 4700);
}

TEST(capped_at_max_even_after_many_failures)
{
	EXPECT_LE(oap_backoff_ms(1000, 1000, 60000, 0xffffffff), 60000);
	EXPECT_GE(oap_backoff_ms(1000, 1000, 60000, 0), 48000);
	/* a max below the base: the base */
	EXPECT_LE(oap_backoff_ms(5, 1000, 10, 77), 1000);
}

TEST_HARNESS_MAIN
