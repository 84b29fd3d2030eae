// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of registrations shared between sinks: recordings that ask for
 * the same thread (or process) with the same options share one
 * registration, one ring and one reader, each gets every record, and the
 * ring (or group) closes when the last of them leaves; other options make
 * another registration.  The device is tests/fakes/fake_swprof.h: a
 * registered thread's ring holds one EXIT record, an accepted thread's a
 * COMM record.  Its fds are memfds, which epoll refuses: fake_epoll.h
 * watches a quiet eventfd in their place, and the reader finds the records
 * in its sweeps (every 100 ms).
 */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "fake_swprof.h"
#include "fake_epoll.h"
#include "pipeline_priv.h"
#include "record.h"

FIXTURE(targets) {
	int memfd;
	char path[64];
	struct pl *pl;
	struct rec_session *r[3];
};

FIXTURE_SETUP(targets)
{
	self->memfd = fake_setup(self->path, sizeof(self->path));
	PL_OPTS(po, .device = self->path);
	REC_OPTS(cpu, .mode = SWPROF_MODE_CPU, .period_ns = 10000000);
	REC_OPTS(offcpu, .mode = SWPROF_MODE_OFFCPU);

	ASSERT_EQ(0, pl_new(&po, &self->pl));
	ASSERT_EQ(0, rec_new(self->pl, &cpu, &self->r[0]));
	ASSERT_EQ(0, rec_new(self->pl, &cpu, &self->r[1]));
	ASSERT_EQ(0, rec_new(self->pl, &offcpu, &self->r[2]));
}

FIXTURE_TEARDOWN(targets)
{
	int i;

	for (i = 0; i < 3; i++)
		rec_free(self->r[i]);
	pl_free(self->pl);
	close(self->memfd);
}

static size_t open_rings(struct pl *pl)
{
	size_t n;

	pthread_mutex_lock(&pl->lock);
	n = pl->nr_targets;
	pthread_mutex_unlock(&pl->lock);
	return n;
}

static void stats(struct rec_session *r, struct rec_stats *st)
{
	rec_get_stats(r, st);
}

TEST_F(targets, same_thread_same_options_one_registration_closed_with_the_last_sink)
{
	REC_OPTS(cpu, .mode = SWPROF_MODE_CPU, .period_ns = 10000000);
	struct rec_stats st;
	int i;

	ASSERT_EQ(0, rec_add_thread(self->r[0], getpid(), 4242));
	ASSERT_EQ(0, rec_add_thread(self->r[1], getpid(), 4242));
	EXPECT_EQ(1, fake.registers);
	/* another mode is another registration */
	ASSERT_EQ(0, rec_add_thread(self->r[2], getpid(), 4242));
	EXPECT_EQ(2, fake.registers);
	EXPECT_EQ(2, open_rings(self->pl));

	pl_drain(self->pl);
	for (i = 0; i < 3; i++) {
		stats(self->r[i], &st);
		EXPECT_EQ(1, st.exits) TH_LOG("recording %d", i);
		EXPECT_EQ(1, st.threads) TH_LOG("recording %d", i);
		EXPECT_EQ(1, st.records) TH_LOG("recording %d", i);
	}

	/* the first sink leaves: the second still reads the shared ring */
	rec_free(self->r[0]);
	self->r[0] = NULL;
	EXPECT_EQ(2, open_rings(self->pl));
	rec_free(self->r[1]);
	self->r[1] = NULL;
	EXPECT_EQ(1, open_rings(self->pl));
	rec_free(self->r[2]);
	self->r[2] = NULL;
	EXPECT_EQ(0, open_rings(self->pl));
	/* a new sink registers afresh: nothing is found closed and reused */
	ASSERT_EQ(0, rec_new(self->pl, &cpu, &self->r[0]));
	ASSERT_EQ(0, rec_add_thread(self->r[0], getpid(), 4242));
	EXPECT_EQ(3, fake.registers);
	EXPECT_EQ(1, open_rings(self->pl));
}

TEST_F(targets, a_process_group_is_shared_and_closed_with_the_last_sink)
{
	struct rec_stats st0, st1;
	struct pl_reg *reg;
	int i;

	fake.pending[0].tid = 101;
	fake.pending[0].pid = getpid();
	fake.pending[1].tid = 102;
	fake.pending[1].pid = getpid();
	fake.nr_pending = 2;
	EXPECT_EQ(1, rec_add_process(self->r[0], getpid()));	/* one group */
	EXPECT_EQ(0, rec_add_process(self->r[1], getpid()));	/* the same */
	EXPECT_EQ(1, fake.registers);
	/* the reader accepts both threads; each COMM record reaches both sinks */
	for (i = 0; i < 500; i++) {
		pl_poll(self->pl, 10);
		rec_get_stats(self->r[0], &st0);
		rec_get_stats(self->r[1], &st1);
		if (st0.comms == 2 && st1.comms == 2)
			break;
	}
	EXPECT_EQ(2, st0.comms);
	EXPECT_EQ(2, st1.comms);
	EXPECT_EQ(2, st0.threads);
	EXPECT_EQ(2, st1.threads);
	EXPECT_EQ(2, open_rings(self->pl));

	reg = self->pl->regs;
	while (reg && !reg->grp)
		reg = reg->next;
	ASSERT_NE(NULL, reg);
	rec_free(self->r[0]);
	self->r[0] = NULL;
	EXPECT_NE(NULL, reg->grp->g);		/* still followed for r[1] */
	EXPECT_EQ(2, open_rings(self->pl));
	rec_free(self->r[1]);
	self->r[1] = NULL;
	EXPECT_EQ(NULL, reg->grp->g);		/* closed: no sink wants it */
	EXPECT_EQ(0, open_rings(self->pl));
}

TEST_HARNESS_MAIN
