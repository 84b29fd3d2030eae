// SPDX-License-Identifier: GPL-2.0-only
/*
 * libswprof trace profiling without the module: the controller's sessions
 * and tasks, the records of trace segments, and the integrator's
 * swprof_trace_begin()/end() (lazy process-wide open, one open a second at
 * most when the device is missing, reopen after fork, per-thread state,
 * errno mapping).  The harness runs each test in a fresh fork, so each one
 * starts with the integrator's state untouched.
 */
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

/* The 6.1 harness defines global functions and compares with the literal's type. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "fake_swprof.h"

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--)
		if (*c++)
			return false;
	return true;
}

/* A string of @len 'a's. */
static char *string_of(size_t len)
{
	static char buf[1024];

	memset(buf, 'a', len);
	buf[len] = 0;
	return buf;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Controller: sessions and tasks                                     */

FIXTURE(session) {
	int memfd;
	char path[64];
	struct swprof *sw;
	struct swprof_group *s;
};

FIXTURE_SETUP(session)
{
	SWPROF_OPTS(swprof_open_opts, opts, .path = self->path);

	self->memfd = fake_setup(self->path, sizeof(self->path));
	self->s = NULL;
	ASSERT_EQ(0, swprof_open(&opts, &self->sw));
}

FIXTURE_TEARDOWN(session)
{
	swprof_group_free(self->s);
	swprof_close(self->sw);
	close(self->memfd);
}

static int new_session(FIXTURE_DATA(session) *self)
{
	SWPROF_OPTS(swprof_trace_session_opts, opts, .flags = SWPROF_TARGET_USTACK);

	return swprof_trace_session_new(self->sw, &opts, &self->s);
}

TEST_F(session, new_passes_every_option)
{
	SWPROF_OPTS(swprof_trace_session_opts, opts,
		.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_KSTACK,
		.ring_size = 1 << 17,
		.raw_stack_size = 4096,
		.max_kernel_depth = 33,
		.max_user_depth = 44,
	);
	int fd;

	ASSERT_EQ(0, swprof_trace_session_new(self->sw, &opts, &self->s));
	EXPECT_EQ(1, fake.sessions);
	EXPECT_EQ(sizeof(struct swprof_trace_session_attr), fake.session.size);
	EXPECT_EQ(SWPROF_TARGET_USTACK | SWPROF_TARGET_KSTACK, fake.session.flags);
	EXPECT_EQ(1 << 17, fake.session.ring_size);
	EXPECT_EQ(4096, fake.session.raw_stack_size);
	EXPECT_EQ(33, fake.session.max_kernel_depth);
	EXPECT_EQ(44, fake.session.max_user_depth);
	EXPECT_EQ(0, fake.session.__reserved);
	fd = swprof_group_fd(self->s);
	EXPECT_TRUE(fd_is(fd, FAKE_SESSION));
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

TEST_F(session, new_with_null_opts_is_all_zero_and_errors_are_negative_errno)
{
	ASSERT_EQ(0, swprof_trace_session_new(self->sw, NULL, &self->s));
	EXPECT_EQ(sizeof(struct swprof_trace_session_attr), fake.session.size);
	EXPECT_EQ(0, fake.session.flags);
	EXPECT_EQ(0, fake.session.ring_size);
	swprof_group_free(self->s);
	fake.session_errno = EPERM;
	EXPECT_EQ(-EPERM, swprof_trace_session_new(self->sw, NULL, &self->s));
	EXPECT_EQ(NULL, self->s);
}

TEST_F(session, new_refuses_unknown_nonzero_opts)
{
	struct {
		struct swprof_trace_session_opts o;
		__u64 newer_field;
	} big;

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.newer_field = 1;
	EXPECT_EQ(-EINVAL, swprof_trace_session_new(self->sw, &big.o, &self->s));
	EXPECT_EQ(0, fake.sessions);
	big.newer_field = 0;
	EXPECT_EQ(0, swprof_trace_session_new(self->sw, &big.o, &self->s));
}

TEST_F(session, task_add_passes_every_field)
{
	SWPROF_OPTS(swprof_trace_task_opts, opts,
		.endpoint = "GET:/api/orders/{id}",
		.start_ns = 1700000000000000000ULL,
		.end_ns = 1700000600000000000ULL,
		.min_duration_ns = 50000000,
		.dump_period_ns = 10000000,
		.max_sampling_count = 9,
		.max_parallel = 3,
		.max_samples = 1000,
	);
	__u32 id = 0;

	ASSERT_EQ(0, new_session(self));
	memset(&fake.task, 0xcc, sizeof(fake.task));
	ASSERT_EQ(0, swprof_trace_task_add(self->s, &opts, &id));
	EXPECT_EQ(11, id);
	EXPECT_EQ(sizeof(struct swprof_trace_task), fake.task.size);
	EXPECT_EQ(0, fake.task.flags);
	EXPECT_EQ(0, fake.task.id);
	EXPECT_EQ(1700000000000000000ULL, fake.task.start_ns);
	EXPECT_EQ(1700000600000000000ULL, fake.task.end_ns);
	EXPECT_EQ(50000000, fake.task.min_duration_ns);
	EXPECT_EQ(10000000, fake.task.dump_period_ns);
	EXPECT_EQ(9, fake.task.max_sampling_count);
	EXPECT_EQ(3, fake.task.max_parallel);
	EXPECT_EQ(1000, fake.task.max_samples);
	EXPECT_STREQ("GET:/api/orders/{id}", fake.task.endpoint);
	EXPECT_TRUE(all_zero(fake.task.endpoint + strlen("GET:/api/orders/{id}"),
			     SWPROF_ENDPOINT_MAX - strlen("GET:/api/orders/{id}")));
}

TEST_F(session, task_add_defaults_max_parallel_to_skywalkings_five)
{
	SWPROF_OPTS(swprof_trace_task_opts, opts, .endpoint = "e", .max_sampling_count = 1);

	ASSERT_EQ(0, new_session(self));
	ASSERT_EQ(0, swprof_trace_task_add(self->s, &opts, NULL));	/* id may be NULL */
	EXPECT_EQ(SWPROF_TRACE_DEFAULT_MAX_PARALLEL, fake.task.max_parallel);
	EXPECT_EQ(5, SWPROF_TRACE_DEFAULT_MAX_PARALLEL);
}

TEST_F(session, task_add_checks_the_endpoint_without_asking_the_module)
{
	SWPROF_OPTS(swprof_trace_task_opts, opts, .max_sampling_count = 1);
	__u32 id = 77;

	ASSERT_EQ(0, new_session(self));
	EXPECT_EQ(-EINVAL, swprof_trace_task_add(self->s, &opts, &id));	/* NULL */
	EXPECT_EQ(0, id);
	opts.endpoint = "";
	EXPECT_EQ(-EINVAL, swprof_trace_task_add(self->s, &opts, &id));
	opts.endpoint = string_of(SWPROF_ENDPOINT_MAX);
	EXPECT_EQ(-EINVAL, swprof_trace_task_add(self->s, &opts, &id));
	EXPECT_EQ(-EINVAL, swprof_trace_task_add(self->s, NULL, &id));
	EXPECT_EQ(0, fake.task_adds);

	opts.endpoint = string_of(SWPROF_ENDPOINT_MAX - 1);	/* the longest that fits */
	EXPECT_EQ(0, swprof_trace_task_add(self->s, &opts, &id));
	EXPECT_EQ(1, fake.task_adds);
	EXPECT_EQ('a', fake.task.endpoint[SWPROF_ENDPOINT_MAX - 2]);
	EXPECT_EQ(0, fake.task.endpoint[SWPROF_ENDPOINT_MAX - 1]);
}

TEST_F(session, task_add_with_older_opts_reads_missing_fields_as_zero)
{
	SWPROF_OPTS(swprof_trace_task_opts, opts, .endpoint = "e", .max_sampling_count = 2,
		    .max_parallel = 4, .max_samples = 99);

	ASSERT_EQ(0, new_session(self));
	opts.sz = offsetofend(struct swprof_trace_task_opts, max_sampling_count);
	ASSERT_EQ(0, swprof_trace_task_add(self->s, &opts, NULL));
	EXPECT_EQ(2, fake.task.max_sampling_count);
	EXPECT_EQ(SWPROF_TRACE_DEFAULT_MAX_PARALLEL, fake.task.max_parallel);
	EXPECT_EQ(0, fake.task.max_samples);
}

TEST_F(session, task_add_errors_are_negative_errno)
{
	SWPROF_OPTS(swprof_trace_task_opts, opts, .endpoint = "e");
	__u32 id = 3;

	ASSERT_EQ(0, new_session(self));
	fake.task_errno = EINVAL;
	EXPECT_EQ(-EINVAL, swprof_trace_task_add(self->s, &opts, &id));
	EXPECT_EQ(0, id);
	EXPECT_EQ(1, fake.task_adds);
}

TEST_F(session, task_end_and_stats_pass_the_id)
{
	struct swprof_trace_task_stats st;

	ASSERT_EQ(0, new_session(self));
	EXPECT_EQ(0, swprof_trace_task_end(self->s, 42));
	EXPECT_EQ(1, fake.task_ends);
	EXPECT_EQ(42, fake.task_end_id);

	fake.task_stats = (struct swprof_trace_task_stats) {
		.admitted = 4, .active = 2, .refused_count = 7, .refused_parallel = 8, .ended = 1,
	};
	memset(&st, 0xcc, sizeof(st));
	ASSERT_EQ(0, swprof_trace_task_stats(self->s, 43, &st));
	EXPECT_EQ(sizeof(st), st.size);
	EXPECT_EQ(43, st.id);
	EXPECT_EQ(4, st.admitted);
	EXPECT_EQ(2, st.active);
	EXPECT_EQ(7, st.refused_count);
	EXPECT_EQ(8, st.refused_parallel);
	EXPECT_EQ(1, st.ended);
	EXPECT_EQ(0, st.__pad);

	fake.task_errno = ENOENT;
	EXPECT_EQ(-ENOENT, swprof_trace_task_end(self->s, 9));
	EXPECT_EQ(-ENOENT, swprof_trace_task_stats(self->s, 9, &st));
	EXPECT_NE(NULL, strstr(swprof_strerror(-ENOENT), "no such task"));
}

TEST_F(session, accept_gives_one_target_per_segment_starting_with_trace_begin)
{
	const struct swprof_trace_rec *b;
	const struct swprof_rec *rec;
	struct swprof_target *t;

	ASSERT_EQ(0, new_session(self));
	fake.begin_task = 12;
	fake.pending[0].tid = 300;
	fake.pending[0].pid = 299;
	fake.nr_pending = 1;
	ASSERT_EQ(0, swprof_group_accept(self->s, &t));
	EXPECT_EQ(300, swprof_target_tid(t));
	EXPECT_EQ(299, swprof_target_pid(t));
	EXPECT_EQ(SWPROF_MODE_WALL, swprof_target_header(t)->mode);
	ASSERT_EQ(1, swprof_target_next(t, &rec));
	b = swprof_rec_trace_begin(rec);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(12, b->task);
	EXPECT_EQ(300, b->tid);
	EXPECT_STREQ("segment-300", b->segment_id);
	swprof_target_free(t);
	EXPECT_EQ(-EAGAIN, swprof_group_accept(self->s, &t));
}

/* ------------------------------------------------------------------ */
/* Records of API 1.1                                                 */

static __u64 rbuf[512];

static struct swprof_rec *make_rec(__u16 type, size_t size)
{
	struct swprof_rec *r = (void *)rbuf;

	memset(rbuf, 0, sizeof(rbuf));
	r->type = type;
	r->size = size;
	return r;
}

TEST(offcpu_records_use_the_sample_layout)
{
	struct swprof_rec *r = make_rec(SWPROF_REC_OFFCPU, sizeof(struct swprof_sample) + 16);
	struct swprof_sample *s = (void *)r;

	r->flags = SWPROF_STATE_DISK;
	s->nr_user = 2;
	s->period_ns = 5000;
	s->data[0] = 0x401000;
	s->data[1] = 0x402000;
	EXPECT_TRUE(swprof_rec_valid(r));
	EXPECT_EQ(s, swprof_rec_sample(r));
	ASSERT_NE(NULL, swprof_sample_ips(s));
	EXPECT_EQ(0x402000, swprof_sample_ips(s)[1]);
	EXPECT_STREQ("offcpu", swprof_rec_type_name(SWPROF_REC_OFFCPU));

	s->nr_user = 3;		/* announces more than it holds */
	EXPECT_FALSE(swprof_rec_valid(r));
	EXPECT_EQ(NULL, swprof_rec_sample(r));
	EXPECT_EQ(NULL, swprof_sample_ips(s));
	s->nr_user = 0;
	r->size = sizeof(struct swprof_sample) - 8;
	EXPECT_FALSE(swprof_rec_valid(r));
}

TEST(sample_view_accepts_samples_and_refuses_other_types)
{
	struct swprof_rec *r = make_rec(SWPROF_REC_SAMPLE, sizeof(struct swprof_sample));

	EXPECT_EQ((void *)r, swprof_rec_sample(r));
	r->type = SWPROF_REC_COMM;
	EXPECT_EQ(NULL, swprof_rec_sample(r));
}

TEST(trace_samples_carry_task_and_seq)
{
	struct swprof_rec *r = make_rec(SWPROF_REC_SAMPLE, sizeof(struct swprof_sample) + 8);
	struct swprof_sample *s = (void *)r;

	s->trace_task = 3;
	s->trace_seq = 17;
	s->nr_user = 1;
	s->data[0] = 0x1234;
	/* The fields sit before the ips: the ips start right after trace_seq. */
	EXPECT_EQ(offsetofend(struct swprof_sample, trace_seq), offsetof(struct swprof_sample, data));
	ASSERT_NE(NULL, swprof_sample_ips(s));
	EXPECT_EQ(0x1234, swprof_sample_ips(s)[0]);
}

TEST(comm_records)
{
	struct swprof_rec *r = make_rec(SWPROF_REC_COMM, sizeof(struct swprof_comm));
	struct swprof_comm *c = (void *)r;

	strcpy(c->comm, "worker-1");
	EXPECT_TRUE(swprof_rec_valid(r));
	EXPECT_EQ(c, swprof_rec_comm(r));
	EXPECT_STREQ("comm", swprof_rec_type_name(SWPROF_REC_COMM));

	memset(c->comm, 'x', sizeof(c->comm));	/* no NUL */
	EXPECT_TRUE(swprof_rec_valid(r));
	EXPECT_EQ(NULL, swprof_rec_comm(r));
	c->comm[SWPROF_COMM_LEN - 1] = 0;
	EXPECT_EQ(c, swprof_rec_comm(r));

	r->size = sizeof(struct swprof_comm) - 8;
	EXPECT_FALSE(swprof_rec_valid(r));
	EXPECT_EQ(NULL, swprof_rec_comm(r));
	r->size = sizeof(struct swprof_comm);
	r->type = SWPROF_REC_EXEC;
	EXPECT_EQ(NULL, swprof_rec_comm(r));
}

TEST(trace_begin_records)
{
	struct swprof_rec *r = make_rec(SWPROF_REC_TRACE_BEGIN, sizeof(struct swprof_trace_rec));
	struct swprof_trace_rec *b = (void *)r;

	b->task = 4;
	strcpy(b->segment_id, "a1b2c3.45.16000000000001");
	EXPECT_TRUE(swprof_rec_valid(r));
	EXPECT_EQ(b, swprof_rec_trace_begin(r));
	EXPECT_STREQ("trace_begin", swprof_rec_type_name(SWPROF_REC_TRACE_BEGIN));
	EXPECT_EQ(NULL, swprof_rec_trace_end(r));

	memset(b->segment_id, 'x', sizeof(b->segment_id));	/* no NUL */
	EXPECT_EQ(NULL, swprof_rec_trace_begin(r));
	b->segment_id[0] = 0;
	EXPECT_EQ(b, swprof_rec_trace_begin(r));

	r->size = sizeof(struct swprof_trace_rec) - 8;
	EXPECT_FALSE(swprof_rec_valid(r));
	EXPECT_EQ(NULL, swprof_rec_trace_begin(r));
	r->size = sizeof(struct swprof_trace_rec) + 64;	/* a later minor may append */
	EXPECT_TRUE(swprof_rec_valid(r));
}

TEST(trace_end_records_and_reasons)
{
	struct swprof_rec *r = make_rec(SWPROF_REC_TRACE_END, sizeof(struct swprof_trace_end));
	struct swprof_trace_end *e = (void *)r;

	e->reason = SWPROF_TRACE_END_MAX_SAMPLES;
	e->samples = 100;
	EXPECT_TRUE(swprof_rec_valid(r));
	EXPECT_EQ(e, swprof_rec_trace_end(r));
	EXPECT_STREQ("trace_end", swprof_rec_type_name(SWPROF_REC_TRACE_END));
	r->size = sizeof(struct swprof_trace_end) - 8;
	EXPECT_FALSE(swprof_rec_valid(r));
	EXPECT_EQ(NULL, swprof_rec_trace_end(r));

	EXPECT_STREQ("called", swprof_trace_end_reason_name(SWPROF_TRACE_END_CALLED));
	EXPECT_STREQ("task", swprof_trace_end_reason_name(SWPROF_TRACE_END_TASK));
	EXPECT_STREQ("max samples", swprof_trace_end_reason_name(SWPROF_TRACE_END_MAX_SAMPLES));
	EXPECT_STREQ("exit", swprof_trace_end_reason_name(SWPROF_TRACE_END_EXIT));
	EXPECT_STREQ("session", swprof_trace_end_reason_name(SWPROF_TRACE_END_SESSION));
	EXPECT_STREQ("unknown", swprof_trace_end_reason_name(99));
}

TEST(unknown_types_are_size_checked_only)
{
	struct swprof_rec *r = make_rec(200, 24);

	EXPECT_TRUE(swprof_rec_valid(r));
	EXPECT_STREQ("unknown", swprof_rec_type_name(200));
	EXPECT_EQ(NULL, swprof_rec_sample(r));
	EXPECT_EQ(NULL, swprof_rec_comm(r));
	EXPECT_EQ(NULL, swprof_rec_trace_begin(r));
	EXPECT_EQ(NULL, swprof_rec_trace_end(r));
}

/* ------------------------------------------------------------------ */
/* Integrator: swprof_trace_begin()/end()                             */

FIXTURE(integ) {
	int memfd;
	char path[64];
};

FIXTURE_SETUP(integ)
{
	self->memfd = fake_setup(self->path, sizeof(self->path));
	fake.begin_task = 7;
	ASSERT_EQ(0, setenv("SWPROF_DEVICE", self->path, 1));
}

FIXTURE_TEARDOWN(integ)
{
	close(self->memfd);
}

TEST_F(integ, no_tracer_gets_a_segment_id_of_its_own)
{
	char first[SWPROF_SEGMENT_ID_MAX];

	EXPECT_EQ(NULL, swprof_trace_current_segment());
	EXPECT_EQ(1, swprof_trace_begin("GET:/a", NULL));
	ASSERT_NE(NULL, swprof_trace_current_segment());
	EXPECT_STREQ(fake.begin.segment_id, swprof_trace_current_segment());
	EXPECT_EQ(0, strncmp(SWPROF_TRACE_OWN_SEGMENT, fake.begin.segment_id,
			     strlen(SWPROF_TRACE_OWN_SEGMENT)));
	EXPECT_LT(strlen(fake.begin.segment_id), SWPROF_SEGMENT_ID_MAX);
	snprintf(first, sizeof(first), "%s", fake.begin.segment_id);
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(NULL, swprof_trace_current_segment());
	/* the next one is another */
	EXPECT_EQ(1, swprof_trace_begin("GET:/a", NULL));
	EXPECT_STRNE(first, fake.begin.segment_id);
	EXPECT_EQ(0, swprof_trace_end());
	/* a tracer's id is passed as it is */
	EXPECT_EQ(1, swprof_trace_begin("GET:/a", "tracer.1.2"));
	EXPECT_STREQ("tracer.1.2", swprof_trace_current_segment());
	EXPECT_EQ(0, swprof_trace_end());
}

TEST_F(integ, admitted_begin_marshals_every_field)
{
	static const char ep[] = "POST:/checkout", seg[] = "5f1e.62.17000000000000001";

	EXPECT_EQ(1, swprof_trace_begin(ep, seg));
	EXPECT_EQ(SWPROF_TRACE_ADMITTED, swprof_trace_reason());
	EXPECT_EQ(0, swprof_trace_last_error());
	EXPECT_EQ(7, swprof_trace_current_task());
	EXPECT_EQ(1, fake.begins);
	EXPECT_EQ(sizeof(struct swprof_trace_begin), fake.begin.size);
	EXPECT_EQ(0, fake.begin.flags);
	EXPECT_EQ(0, fake.begin.task);
	EXPECT_EQ(0, fake.begin.__reserved);
	EXPECT_STREQ(ep, fake.begin.endpoint);
	EXPECT_STREQ(seg, fake.begin.segment_id);
	EXPECT_TRUE(all_zero(fake.begin.endpoint + sizeof(ep) - 1,
			     SWPROF_ENDPOINT_MAX - sizeof(ep) + 1));
	EXPECT_TRUE(all_zero(fake.begin.segment_id + sizeof(seg) - 1,
			     SWPROF_SEGMENT_ID_MAX - sizeof(seg) + 1));
	EXPECT_EQ(gettid(), fake.begin_tid);

	/* Its own fd, not the caller's, close-on-exec, after one handshake. */
	EXPECT_NE(self->memfd, fake.begin_fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fake.begin_fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(1, fake.opens);
	EXPECT_EQ(1, fake.versions);

	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(1, fake.ends);
	EXPECT_EQ(0, swprof_trace_current_task());
}

TEST_F(integ, device_is_opened_lazily_and_once)
{
	int i;

	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(0, fake.opens);
	fake.begin_errno = ENOENT;
	for (i = 0; i < 100; i++) {
		EXPECT_EQ(0, swprof_trace_begin("e", "s"));
		EXPECT_EQ(0, swprof_trace_end());
	}
	EXPECT_EQ(1, fake.opens);
	EXPECT_EQ(1, fake.versions);
	EXPECT_EQ(100, fake.begins);
	EXPECT_EQ(0, fake.ends);
	EXPECT_EQ(2, fake_dev_fds());	/* the test's memfd and the library's */
}

static void *begin_end_thread(void *arg)
{
	unsigned int i, *admitted = arg;

	for (i = 0; i < 200; i++) {
		if (swprof_trace_begin("e", "s") == 1)
			(*admitted)++;
		swprof_trace_end();
	}
	return NULL;
}

TEST_F(integ, concurrent_first_calls_open_once)
{
	unsigned int admitted[8] = { 0 };
	pthread_t th[8];
	int i;

	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, begin_end_thread, &admitted[i]));
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(200, admitted[i]);
	}
	EXPECT_EQ(1, fake.opens);
	EXPECT_EQ(1600, fake.begins);
	EXPECT_EQ(1600, fake.ends);
	EXPECT_EQ(2, fake_dev_fds());
}

TEST_F(integ, end_without_an_admitted_begin_does_no_ioctl)
{
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(0, swprof_trace_end());
	fake.begin_errno = EBUSY;
	EXPECT_EQ(0, swprof_trace_begin("e", "s"));
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(0, fake.ends);
}

TEST_F(integ, refusals_are_zero_with_a_reason)
{
	static const struct { int err; enum swprof_trace_reason reason; const char *name; } cases[] = {
		{ ENOENT, SWPROF_TRACE_NO_TASK, "no task" },
		{ EDQUOT, SWPROF_TRACE_MAX_SAMPLED, "max sampled" },
		{ EBUSY, SWPROF_TRACE_MAX_PARALLEL, "max parallel" },
		{ EALREADY, SWPROF_TRACE_NESTED, "nested" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake.begin_errno = cases[i].err;
		EXPECT_EQ(0, swprof_trace_begin("e", "s"));
		EXPECT_EQ(cases[i].reason, swprof_trace_reason());
		EXPECT_STREQ(cases[i].name, swprof_trace_reason_name(swprof_trace_reason()));
		EXPECT_EQ(0, swprof_trace_last_error());
		EXPECT_EQ(0, swprof_trace_current_task());
		EXPECT_EQ(0, swprof_trace_end());
	}
	EXPECT_EQ(4, fake.begins);
	EXPECT_EQ(0, fake.ends);	/* EALREADY too: that segment is not ours */
}

TEST_F(integ, other_errors_are_negative_errno_with_reason_error)
{
	fake.begin_errno = EPERM;
	EXPECT_EQ(-EPERM, swprof_trace_begin("e", "s"));
	EXPECT_EQ(SWPROF_TRACE_ERROR, swprof_trace_reason());
	EXPECT_STREQ("error", swprof_trace_reason_name(SWPROF_TRACE_ERROR));
	EXPECT_EQ(-EPERM, swprof_trace_last_error());
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(0, fake.ends);
	EXPECT_EQ(0, swprof_trace_last_error());
	fake.begin_errno = 0;
	EXPECT_EQ(1, swprof_trace_begin("e", "s"));	/* not cached: a module answer */
	EXPECT_STREQ("unknown", swprof_trace_reason_name(99));
}

TEST_F(integ, nested_begins_cost_nothing_and_only_the_outermost_end_ends)
{
	EXPECT_EQ(1, swprof_trace_begin("outer", "s1"));
	EXPECT_EQ(0, swprof_trace_begin("inner", "s1"));
	EXPECT_EQ(SWPROF_TRACE_NESTED, swprof_trace_reason());
	EXPECT_EQ(0, swprof_trace_begin("inner2", "s1"));
	EXPECT_EQ(1, fake.begins);
	EXPECT_EQ(7, swprof_trace_current_task());
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(0, fake.ends);
	EXPECT_EQ(7, swprof_trace_current_task());
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(1, fake.ends);
	EXPECT_EQ(0, swprof_trace_current_task());
	EXPECT_EQ(0, swprof_trace_end());	/* unpaired: still nothing */
	EXPECT_EQ(1, fake.ends);
	EXPECT_EQ(1, swprof_trace_begin("next", "s2"));	/* a new segment */
	EXPECT_EQ(2, fake.begins);
}

TEST_F(integ, end_of_a_segment_the_module_ended_is_not_an_error)
{
	EXPECT_EQ(1, swprof_trace_begin("e", "s"));
	fake.end_errno = ENOENT;
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(0, swprof_trace_last_error());

	EXPECT_EQ(1, swprof_trace_begin("e", "s"));
	fake.end_errno = EIO;
	EXPECT_EQ(-EIO, swprof_trace_end());
	EXPECT_EQ(-EIO, swprof_trace_last_error());
	EXPECT_EQ(0, swprof_trace_end());	/* the flag is cleared whatever happened */
	EXPECT_EQ(2, fake.ends);
}

TEST_F(integ, bad_strings_are_einval_before_anything_else)
{
	EXPECT_EQ(-EINVAL, swprof_trace_begin(NULL, "s"));
	EXPECT_EQ(SWPROF_TRACE_ERROR, swprof_trace_reason());
	EXPECT_EQ(-EINVAL, swprof_trace_last_error());
	EXPECT_EQ(-EINVAL, swprof_trace_begin("", "s"));
	EXPECT_EQ(-EINVAL, swprof_trace_begin(string_of(SWPROF_ENDPOINT_MAX), "s"));
	EXPECT_EQ(-EINVAL, swprof_trace_begin(string_of(SWPROF_ENDPOINT_MAX + 100), "s"));
	EXPECT_EQ(-EINVAL, swprof_trace_begin("e", ""));
	EXPECT_EQ(-EINVAL, swprof_trace_begin("e", string_of(SWPROF_SEGMENT_ID_MAX)));
	EXPECT_EQ(0, fake.opens);	/* not even the device was opened */
	EXPECT_EQ(0, fake.begins);
	EXPECT_EQ(0, swprof_trace_end());

	EXPECT_EQ(1, swprof_trace_begin(string_of(SWPROF_ENDPOINT_MAX - 1), "s"));
	EXPECT_EQ(SWPROF_ENDPOINT_MAX - 1, strlen(fake.begin.endpoint));
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(1, swprof_trace_begin("e", string_of(SWPROF_SEGMENT_ID_MAX - 1)));
	EXPECT_EQ(SWPROF_SEGMENT_ID_MAX - 1, strlen(fake.begin.segment_id));

	/* Inside a segment too, and a bad begin is no nesting level. */
	EXPECT_EQ(-EINVAL, swprof_trace_begin("", "s"));
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(2, fake.ends);
}

static void *other_thread(void *arg)
{
	long *res = arg;

	res[0] = swprof_trace_end();		/* not this thread's segment */
	res[1] = fake.ends;
	res[2] = swprof_trace_current_task();
	res[3] = swprof_trace_begin("e", "s2");	/* its own segment */
	res[4] = fake.begin_tid == gettid();
	res[5] = swprof_trace_end();
	return NULL;
}

TEST_F(integ, segments_are_per_thread)
{
	long res[6];
	pthread_t th;

	EXPECT_EQ(1, swprof_trace_begin("e", "s1"));
	ASSERT_EQ(0, pthread_create(&th, NULL, other_thread, res));
	pthread_join(th, NULL);
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(0, res[1]);
	EXPECT_EQ(0, res[2]);
	EXPECT_EQ(1, res[3]);
	EXPECT_EQ(1, res[4]);
	EXPECT_EQ(0, res[5]);
	EXPECT_EQ(7, swprof_trace_current_task());	/* still ours */
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(2, fake.ends);
}

TEST_F(integ, missing_device_is_enoent_and_tried_at_most_once_a_second)
{
	__u64 t0;
	int i;

	ASSERT_EQ(0, setenv("SWPROF_DEVICE", "/nonexistent/swprof", 1));
	t0 = mono_ns();
	for (i = 0; i < 10000; i++)
		ASSERT_EQ(-ENOENT, swprof_trace_begin("e", "s"));
	EXPECT_EQ(SWPROF_TRACE_ERROR, swprof_trace_reason());
	EXPECT_EQ(-ENOENT, swprof_trace_last_error());
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(-ENOENT, swprof_trace_available());
	if (mono_ns() - t0 < 900000000ULL)
		EXPECT_EQ(1, fake.opens);

	/* The module appears: noticed after the second is over, not before. */
	ASSERT_EQ(0, setenv("SWPROF_DEVICE", self->path, 1));
	if (mono_ns() - t0 < 900000000ULL)
		EXPECT_EQ(-ENOENT, swprof_trace_begin("e", "s"));
	usleep(1100000);
	EXPECT_EQ(1, swprof_trace_begin("e", "s"));
	EXPECT_EQ(1, swprof_trace_available());
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(1, fake.ends);
}

static void *missing_thread(void *arg)
{
	int i;

	for (i = 0; i < 5000; i++)
		if (swprof_trace_begin("e", "s") != -ENOENT)
			*(int *)arg = 1;
	return NULL;
}

TEST_F(integ, missing_device_from_many_threads_is_still_one_open_a_second)
{
	int bad[4] = { 0 };
	pthread_t th[4];
	__u64 t0, secs;
	int i;

	ASSERT_EQ(0, setenv("SWPROF_DEVICE", "/nonexistent/swprof", 1));
	t0 = mono_ns();
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, missing_thread, &bad[i]));
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, bad[i]);
	}
	secs = (mono_ns() - t0) / 1000000000ULL;
	EXPECT_LE(1, fake.opens);
	EXPECT_GE(1 + secs, fake.opens);
}

TEST_F(integ, module_without_trace_profiling_is_eopnotsupp)
{
	fake.version.features &= ~SWPROF_FEAT_TRACE;
	EXPECT_EQ(-EOPNOTSUPP, swprof_trace_begin("e", "s"));
	EXPECT_EQ(-EOPNOTSUPP, swprof_trace_available());
	EXPECT_EQ(0, fake.begins);
	EXPECT_EQ(1, fake.opens);	/* the fd stays: the module cannot change under it */
	EXPECT_EQ(0, swprof_trace_end());
}

TEST_F(integ, module_of_another_major_is_eproto_and_its_fd_closed)
{
	fake.version.major = SWPROF_API_MAJOR + 1;
	EXPECT_EQ(-EPROTO, swprof_trace_begin("e", "s"));
	EXPECT_EQ(-EPROTO, swprof_trace_begin("e", "s"));
	EXPECT_EQ(1, fake.opens);
	EXPECT_EQ(1, fake_dev_fds());	/* only the test's own */
}

TEST_F(integ, fd_closed_behind_the_librarys_back_is_reopened)
{
	fake.begin_errno = ENOENT;
	EXPECT_EQ(0, swprof_trace_begin("e", "s"));
	ASSERT_LE(0, fake.begin_fd);
	close(fake.begin_fd);
	EXPECT_EQ(-EBADF, swprof_trace_begin("e", "s"));
	EXPECT_EQ(0, swprof_trace_begin("e", "s"));
	EXPECT_EQ(SWPROF_TRACE_NO_TASK, swprof_trace_reason());
	EXPECT_EQ(2, fake.opens);
	EXPECT_EQ(2, fake.begins);
}

TEST_F(integ, child_after_fork_reopens_and_has_no_segment)
{
	int status, parent_fd;
	pid_t pid;

	EXPECT_EQ(1, swprof_trace_begin("e", "s"));
	parent_fd = fake.begin_fd;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fail = 0;

		/* The forking thread's segment stayed in the parent. */
		fail |= swprof_trace_current_task() != 0;
		fail |= swprof_trace_end() != 0;
		fail |= fake.ends != 0;
		/* The inherited fd is closed; a new one is opened on first use. */
		fail |= (fake_dev_fds() != 1) << 1;
		fail |= (swprof_trace_begin("e", "child") != 1) << 2;
		fail |= (fake.opens != 2) << 3;
		fail |= (fake.begins != 2) << 4;
		fail |= (fake_dev_fds() != 2) << 5;
		fail |= (swprof_trace_end() != 0 || fake.ends != 1) << 6;
		_exit(fail);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The parent's segment and fd are untouched. */
	EXPECT_EQ(7, swprof_trace_current_task());
	EXPECT_LE(0, fcntl(parent_fd, F_GETFD));
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(1, fake.ends);
	EXPECT_EQ(parent_fd, fake.begin_fd);
}

TEST_F(integ, register_self_uses_the_process_fd)
{
	SWPROF_OPTS(swprof_target_opts, opts, .flags = SWPROF_TARGET_USTACK,
		    .mode = SWPROF_MODE_WALL, .period_ns = 10000000);
	struct swprof_target *t;

	ASSERT_EQ(0, swprof_register_self(&opts, &t));
	EXPECT_EQ(0, fake.attr.tid);
	EXPECT_EQ(SWPROF_MODE_WALL, fake.attr.mode);
	EXPECT_EQ(10000000, fake.attr.period_ns);
	EXPECT_EQ(gettid(), swprof_target_tid(t));
	EXPECT_EQ(getpid(), swprof_target_pid(t));
	swprof_target_free(t);
	EXPECT_EQ(1, swprof_trace_begin("e", "s"));
	EXPECT_EQ(1, fake.opens);		/* the same fd for both */

	opts.tid = 1;
	EXPECT_EQ(-EINVAL, swprof_register_self(&opts, &t));
	EXPECT_EQ(NULL, t);
	opts.tid = 0;
	opts.flags |= SWPROF_TARGET_PROCESS;
	EXPECT_EQ(-EINVAL, swprof_register_self(&opts, &t));
	EXPECT_EQ(1, fake.registers);
	fake.register_errno = ENOSPC;
	EXPECT_EQ(-ENOSPC, swprof_register_self(NULL, &t));
}

TEST_F(integ, register_self_without_device_is_enoent)
{
	struct swprof_target *t = (void *)1;

	ASSERT_EQ(0, setenv("SWPROF_DEVICE", "/nonexistent/swprof", 1));
	EXPECT_EQ(-ENOENT, swprof_register_self(NULL, &t));
	EXPECT_EQ(NULL, t);
}

TEST(strerror_speaks_trace)
{
	EXPECT_NE(NULL, strstr(swprof_strerror(-EDQUOT), "max sampling count"));
	EXPECT_NE(NULL, strstr(swprof_strerror(-EBUSY), "max parallel"));
	EXPECT_NE(NULL, strstr(swprof_strerror(-EALREADY), "already"));
	EXPECT_NE(NULL, strstr(swprof_strerror(-EINVAL), "segment id"));
	EXPECT_NE(NULL, strstr(swprof_strerror(-ENOENT), "modprobe swprof"));
}

TEST_HARNESS_MAIN
