// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pipeline and unwind tables (API 1.2), on the fake device
 * (tests/fakes/fake_swprof.h): a process registered with user stacks and
 * no raw copy gets its mappings pushed before its registration, once per
 * file; again after an EXEC record; removed (and its tables freed) once it
 * is gone.  Not with --dwarf's raw copy, not with fp_only, not with a
 * module without SWPROF_FEAT_UNWIND_TABLES.  The processes are children
 * running /bin/sleep.
 */
#include <signal.h>
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "fake_child.h"
#include "fake_swprof.h"
#include "fake_epoll.h"
#include "pipeline_priv.h"

static unsigned int live_tables(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < FAKE_MAX_TABLES; i++)
		n += fake.table_live[i];
	return n;
}

FIXTURE(utab) {
	int memfd;
	char path[64];
	struct pl *pl;
	struct pl_sink *s;
	pid_t child;
};

static const struct pl_sink_ops no_ops = { .sz = sizeof(no_ops) };

static void setup(struct __test_metadata *_metadata, FIXTURE_DATA(utab) *self, bool feature,
		  bool fp_only)
{
	PL_OPTS(po, .device = self->path, .fp_only = fp_only);

	if (feature)
		fake.version.features |= SWPROF_FEAT_UNWIND_TABLES;
	ASSERT_EQ(0, pl_new(&po, &self->pl));
	ASSERT_EQ(0, pl_sink_new(self->pl, &no_ops, NULL, &self->s));
}

FIXTURE_SETUP(utab)
{
	self->memfd = fake_setup(self->path, sizeof(self->path));
	self->pl = NULL;
	self->child = spawn_sleep();
	ASSERT_TRUE(wait_exec(self->child));
}

FIXTURE_TEARDOWN(utab)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	pl_free(self->pl);
	close(self->memfd);
}

TEST_F(utab, a_process_gets_its_maps_before_sampling_and_loses_them_when_gone)
{
	PL_REG_OPTS(ro, .mode = SWPROF_MODE_CPU, .period_ns = 10000000);
	struct utab_stats st;
	unsigned int i;
	int sets;

	setup(_metadata, self, true, false);
	EXPECT_EQ(1, pl_add_process(self->pl, self->s, self->child, &ro));
	EXPECT_EQ(1, fake.registers);
	/* sleep, libc, ld.so, vdso: every table uploaded once, mapped */
	EXPECT_EQ(1, fake.maps_sets);
	EXPECT_EQ(self->child, fake.maps.pid);
	EXPECT_LE(4, fake.maps.nr_maps);
	EXPECT_EQ(fake.maps.nr_maps, fake.table_adds);
	for (i = 0; i < fake.maps.nr_maps; i++)
		EXPECT_EQ(1, fake.table_live[fake.maps_copy[i].table]);
	ASSERT_TRUE(pl_utab_stats(self->pl, &st));
	EXPECT_EQ(fake.table_adds, st.tables);
	EXPECT_EQ(fake.rows_total, st.rows);
	EXPECT_EQ(fake.rows_total * sizeof(struct swprof_unwind_row), st.uploaded_bytes);
	EXPECT_EQ(0, st.files_skipped);
	EXPECT_EQ(1, st.procs);

	/* the periodic check: nothing changed, no ioctl */
	sets = fake.maps_sets;
	pl_poll(self->pl, 1100);
	pl_poll(self->pl, 100);
	EXPECT_EQ(sets, fake.maps_sets);

	/* gone: mappings removed, tables freed within about a second */
	kill(self->child, SIGKILL);
	waitpid(self->child, NULL, 0);
	self->child = -1;
	for (i = 0; i < 30 && fake.maps_removes < 1; i++)
		pl_poll(self->pl, 100);
	EXPECT_EQ(1, fake.maps_removes);
	EXPECT_EQ(0, live_tables());
	pl_utab_stats(self->pl, &st);
	EXPECT_EQ(0, st.tables);
	EXPECT_EQ(0, st.procs);
}

TEST_F(utab, an_exec_record_pushes_the_new_image)
{
	struct swprof_exec e = {
		.hdr = { .size = sizeof(e), .type = SWPROF_REC_EXEC },
	};
	struct pl_target *rt;

	setup(_metadata, self, true, false);
	e.pid = self->child;
	e.tid = self->child;
	rt = pl_offline_target(self->pl, self->s, self->child, self->child, 0);
	ASSERT_NE(NULL, rt);
	pl_process(self->pl, rt, &e.hdr);
	EXPECT_EQ(1, fake.maps_sets);
	EXPECT_EQ(self->child, fake.maps.pid);
	EXPECT_LE(4, fake.maps.nr_maps);
}

TEST_F(utab, not_with_a_raw_stack_copy)
{
	PL_REG_OPTS(ro, .mode = SWPROF_MODE_CPU, .period_ns = 10000000, .raw_stack = 8192);

	setup(_metadata, self, true, false);
	EXPECT_EQ(1, pl_add_process(self->pl, self->s, self->child, &ro));
	EXPECT_EQ(0, fake.maps_sets);
	EXPECT_EQ(0, fake.table_adds);
}

TEST_F(utab, not_with_fp_only)
{
	PL_REG_OPTS(ro, .mode = SWPROF_MODE_CPU, .period_ns = 10000000);
	struct utab_stats st;

	setup(_metadata, self, true, true);
	EXPECT_EQ(1, pl_add_process(self->pl, self->s, self->child, &ro));
	EXPECT_EQ(0, fake.maps_sets);
	EXPECT_EQ(0, fake.table_adds);
	EXPECT_FALSE(pl_utab_stats(self->pl, &st));
}

TEST_F(utab, not_with_a_module_without_the_feature)
{
	PL_REG_OPTS(ro, .mode = SWPROF_MODE_CPU, .period_ns = 10000000);

	setup(_metadata, self, false, false);
	EXPECT_EQ(0, pl_add_thread(self->pl, self->s, self->child, self->child, &ro));
	EXPECT_EQ(0, fake.maps_sets);
}

TEST_F(utab, a_thread_target_too_and_a_refused_push_still_registers)
{
	PL_REG_OPTS(ro, .mode = SWPROF_MODE_CPU, .period_ns = 10000000);
	struct utab_stats st;

	setup(_metadata, self, true, false);
	fake.maps_errno = EPERM;
	EXPECT_EQ(0, pl_add_thread(self->pl, self->s, self->child, self->child, &ro));
	EXPECT_EQ(1, fake.registers);
	EXPECT_EQ(1, fake.maps_sets);
	pl_utab_stats(self->pl, &st);
	EXPECT_EQ(1, st.push_errors);
	/* not retried every second while the maps stay the same */
	pl_poll(self->pl, 1100);
	pl_poll(self->pl, 100);
	EXPECT_EQ(1, fake.maps_sets);
}

TEST_HARNESS_MAIN
