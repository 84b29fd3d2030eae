// SPDX-License-Identifier: GPL-2.0-only
/*
 * libswprof's unwind table calls (API 1.2) without the module: table add
 * and free, a process's mappings set and removed, the feature bit, and the
 * errors the module answers handed back as negative errnos.
 */
/* The 6.1 harness defines global functions and compares with the literal's type. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "fake_swprof.h"

FIXTURE(unwind) {
	int memfd;
	char path[64];
	struct swprof *sw;
};

FIXTURE_SETUP(unwind)
{
	SWPROF_OPTS(swprof_open_opts, opts, .path = self->path);

	self->memfd = fake_setup(self->path, sizeof(self->path));
	fake.version.features |= SWPROF_FEAT_UNWIND_TABLES;
	ASSERT_EQ(0, swprof_open(&opts, &self->sw));
}

FIXTURE_TEARDOWN(unwind)
{
	swprof_close(self->sw);
	close(self->memfd);
}

static const struct swprof_unwind_row rows[] = {
	{ .pc = 0x1000, .cfa = SWPROF_CFA_SP, .cfa_off = 8 },
	{ .pc = 0x1004, .cfa = SWPROF_CFA_SP, .cfa_off = 16, .bp = SWPROF_BP_CFA, .bp_off = -16 },
	{ .pc = 0x1010, .cfa = SWPROF_CFA_NONE },
};

TEST_F(unwind, feature_bit)
{
	EXPECT_TRUE(swprof_has_feature(self->sw, SWPROF_FEAT_UNWIND_TABLES));
}

TEST_F(unwind, table_add_returns_the_id_and_free_drops_it)
{
	__u32 id = 99, id2 = 0;

	ASSERT_EQ(0, swprof_unwind_table_add(self->sw, rows, 3, &id));
	EXPECT_EQ(1, id);
	EXPECT_EQ(3, fake.table_rows[1]);
	ASSERT_EQ(0, swprof_unwind_table_add(self->sw, rows, 3, &id2));
	EXPECT_EQ(2, id2);
	EXPECT_EQ(0, swprof_unwind_table_free(self->sw, id));
	EXPECT_EQ(0, fake.table_live[1]);
	EXPECT_EQ(1, fake.table_live[2]);
	EXPECT_EQ(-ENOENT, swprof_unwind_table_free(self->sw, id));
	EXPECT_EQ(2, fake.table_adds);
	EXPECT_EQ(2, fake.table_frees);
}

TEST_F(unwind, table_add_errors)
{
	__u32 id = 7;

	EXPECT_EQ(-EINVAL, swprof_unwind_table_add(self->sw, rows, 0, &id));
	EXPECT_EQ(0, id);
	EXPECT_EQ(-EINVAL, swprof_unwind_table_add(self->sw, NULL, 3, &id));
	EXPECT_EQ(0, fake.table_adds);	/* refused before the ioctl */
	/* the module refuses a table whose last row has a rule */
	EXPECT_EQ(-EINVAL, swprof_unwind_table_add(self->sw, rows, 2, &id));
	fake.table_errno = ENOSPC;
	EXPECT_EQ(-ENOSPC, swprof_unwind_table_add(self->sw, rows, 3, &id));
	EXPECT_EQ(0, id);
	fake.table_errno = E2BIG;
	EXPECT_EQ(-E2BIG, swprof_unwind_table_add(self->sw, rows, 3, &id));
}

TEST_F(unwind, maps_set_and_remove)
{
	struct swprof_unwind_mapping maps[2] = {
		{ .start = 0x400000, .end = 0x401000, .bias = 0x3ff000 },
		{ .start = 0x7f0000000000, .end = 0x7f0000010000, .bias = 0x7f0000000000 },
	};
	__u32 id;

	ASSERT_EQ(0, swprof_unwind_table_add(self->sw, rows, 3, &id));
	maps[0].table = maps[1].table = id;
	ASSERT_EQ(0, swprof_unwind_maps_set(self->sw, 4242, maps, 2));
	EXPECT_EQ(4242, fake.maps.pid);
	EXPECT_EQ(2, fake.maps.nr_maps);
	EXPECT_EQ(sizeof(struct swprof_unwind_maps), fake.maps.size);
	EXPECT_EQ(0, fake.maps.flags);
	EXPECT_EQ(0x3ff000, fake.maps_copy[0].bias);
	EXPECT_EQ(0x7f0000010000, fake.maps_copy[1].end);
	EXPECT_EQ(id, fake.maps_copy[1].table);
	ASSERT_EQ(0, swprof_unwind_maps_set(self->sw, 4242, NULL, 0));
	EXPECT_EQ(0, fake.maps.nr_maps);
	EXPECT_EQ(1, fake.maps_removes);
	EXPECT_EQ(-EINVAL, swprof_unwind_maps_set(self->sw, 4242, NULL, 2));
	fake.maps_errno = ESRCH;
	EXPECT_EQ(-ESRCH, swprof_unwind_maps_set(self->sw, 4242, maps, 2));
	fake.maps_errno = EPERM;
	EXPECT_EQ(-EPERM, swprof_unwind_maps_set(self->sw, 1, maps, 2));
}

TEST_F(unwind, a_module_before_1_2_says_enotty)
{
	struct swprof *old;
	__u32 id;

	SWPROF_OPTS(swprof_open_opts, opts, .path = self->path);
	fake.version.minor = 1;
	fake.version.features &= ~SWPROF_FEAT_UNWIND_TABLES;
	ASSERT_EQ(0, swprof_open(&opts, &old));
	EXPECT_FALSE(swprof_has_feature(old, SWPROF_FEAT_UNWIND_TABLES));
	/* the fake answers anyway; a real 1.1 module says ENOTTY, handed back as is */
	fake.table_errno = ENOTTY;
	EXPECT_EQ(-ENOTTY, swprof_unwind_table_add(old, rows, 3, &id));
	swprof_close(old);
}

TEST_HARNESS_MAIN
