// SPDX-License-Identifier: GPL-2.0-only
/*
 * Run by run-in-guest with the module loaded as
 *   insmod swprof.ko mem_limit_mb=1 max_targets=2
 * The global limits hold and say ENOSPC; freeing makes room again.
 */
#include "common.h"
#include "kselftest_harness.h"

static int reg(struct swprof *sw, __u32 ring, struct swprof_target **t)
{
	SWPROF_OPTS(swprof_target_opts, o,
		.mode = SWPROF_MODE_CPU,
		.flags = SWPROF_TARGET_USTACK,
		.ring_size = ring,
	);
	return swprof_register(sw, &o, t);
}

TEST(limits)
{
	struct swprof_target *a, *b, *c;
	struct swprof *sw;
	int i;

	ASSERT_EQ(0, swprof_open(NULL, &sw));
	ASSERT_EQ(2, swprof_version(sw)->max_targets) TH_LOG("load with max_targets=2");
	ASSERT_EQ(1 << 20, swprof_version(sw)->mem_limit) TH_LOG("load with mem_limit_mb=1");
	/* a 1 MiB ring plus its two meta pages is over 1 MiB */
	EXPECT_EQ(-ENOSPC, reg(sw, 1 << 20, &a));
	ASSERT_EQ(0, reg(sw, 1 << 19, &a));
	EXPECT_EQ(-ENOSPC, reg(sw, 1 << 19, &b));
	ASSERT_EQ(0, reg(sw, 1 << 16, &b));
	EXPECT_EQ(-ENOSPC, reg(sw, 4096, &c));
	swprof_target_free(b);
	/* freed after a grace period */
	for (i = 0; i < 200 && reg(sw, 4096, &c) == -ENOSPC; i++)
		usleep(10000);
	EXPECT_LT(i, 200);
	swprof_target_free(c);
	swprof_target_free(a);
	swprof_close(sw);
}

TEST_HARNESS_MAIN
