// SPDX-License-Identifier: GPL-2.0-only
/*
 * trace_controller: the controller's side of trace profiling, in small.
 *
 *   cc -Iinclude/uapi -Iuserspace/lib -o trace_controller \
 *      userspace/examples/trace_controller.c build/lib/libswprof.a -lpthread
 *   ./trace_controller -e ENDPOINT [-d SECONDS] [-m MIN_DURATION_MS]
 *                      [-p DUMP_PERIOD_MS] [-c MAX_SAMPLING_COUNT]
 *                      [-P MAX_PARALLEL] [-s MAX_SAMPLES]
 *
 * Opens a trace session, adds one task (a SkyWalking ProfileTask) for
 * ENDPOINT from now on for SECONDS, accepts each segment the module admits
 * and prints its records: TRACE_BEGIN, the samples with their sequence
 * numbers, TRACE_END.  Then ends the task and prints its statistics.
 * swctl agent does the same and symbolizes and uploads the samples.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <swprof.h>

struct segment {
	struct swprof_target *t;
	char id[SWPROF_SEGMENT_ID_MAX];
	__u64 begin_ns;		/* CLOCK_MONOTONIC, as record times */
	bool ended;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static __u64 now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static const char *state_name(unsigned int state)
{
	static const char *const names[] = {
		[SWPROF_STATE_RUNNING] = "running", [SWPROF_STATE_RUNNABLE] = "runnable",
		[SWPROF_STATE_SLEEPING] = "sleeping", [SWPROF_STATE_DISK] = "disk",
		[SWPROF_STATE_STOPPED] = "stopped", [SWPROF_STATE_OTHER] = "other",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

static int print_record(void *ctx, const struct swprof_rec *rec)
{
	const struct swprof_trace_rec *begin = swprof_rec_trace_begin(rec);
	const struct swprof_trace_end *end = swprof_rec_trace_end(rec);
	const struct swprof_sample *s = swprof_rec_sample(rec);
	struct segment *seg = ctx;

	if (begin) {
		snprintf(seg->id, sizeof(seg->id), "%s", begin->segment_id);
		seg->begin_ns = begin->begin_ns;
		printf("segment %s: task %u, pid %u, tid %u\n", seg->id, begin->task,
		       begin->pid, begin->tid);
	} else if (s) {
		printf("segment %s: sequence %u at +%llu ms, %s, %u frames\n", seg->id,
		       s->trace_seq, (unsigned long long)(rec->time_ns - seg->begin_ns) / 1000000,
		       state_name(rec->flags), s->nr_kernel + s->nr_user);
	} else if (end) {
		seg->ended = true;
		printf("segment %s: ended (%s) after %u samples\n", seg->id,
		       swprof_trace_end_reason_name(end->reason), end->samples);
	} else if (rec->type == SWPROF_REC_LOST) {
		printf("segment %s: %llu records lost\n", seg->id,
		       (unsigned long long)((const struct swprof_lost *)rec)->count);
	}
	return 0;
}

/* Accept every pending segment and watch its ring. */
static int accept_segments(struct swprof_group *session, int ep, unsigned int *nr_segments)
{
	struct swprof_target *t;
	int err;

	while (!(err = swprof_group_accept(session, &t))) {
		struct segment *seg = calloc(1, sizeof(*seg));
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = seg };

		if (!seg) {
			swprof_target_free(t);
			return -ENOMEM;
		}
		seg->t = t;
		strcpy(seg->id, "?");
		if (epoll_ctl(ep, EPOLL_CTL_ADD, swprof_target_fd(t), &ev)) {
			swprof_target_free(t);
			free(seg);
			return -errno;
		}
		(*nr_segments)++;
	}
	return err == -EAGAIN ? 0 : err;
}

/* Read what the segment's ring holds; free it after its TRACE_END. */
static int read_segment(struct segment *seg, int ep, unsigned int *nr_segments)
{
	int n = swprof_target_read(seg->t, print_record, seg, 0);

	if (n < 0 || seg->ended || swprof_target_header(seg->t)->state & SWPROF_TSTATE_EXITED) {
		epoll_ctl(ep, EPOLL_CTL_DEL, swprof_target_fd(seg->t), NULL);
		swprof_target_free(seg->t);
		free(seg);
		(*nr_segments)--;
	}
	return n < 0 ? n : 0;
}

int main(int argc, char **argv)
{
	SWPROF_OPTS(swprof_trace_task_opts, task,
		.min_duration_ns = 0,
		.dump_period_ns = 10 * 1000000ULL,
		.max_sampling_count = 5,
	);
	SWPROF_OPTS(swprof_trace_session_opts, session_opts, .flags = SWPROF_TARGET_USTACK);
	struct swprof_trace_task_stats st;
	struct swprof_group *session;
	unsigned int nr_segments = 0;
	__u64 duration_s = 60, deadline;
	struct epoll_event ev;
	struct swprof *sw;
	bool ended = false;
	int opt, err, ep;
	__u32 id;

	while ((opt = getopt(argc, argv, "e:d:m:p:c:P:s:")) != -1) {
		switch (opt) {
		case 'e': task.endpoint = optarg; break;
		case 'd': duration_s = strtoull(optarg, NULL, 10); break;
		case 'm': task.min_duration_ns = strtoull(optarg, NULL, 10) * 1000000; break;
		case 'p': task.dump_period_ns = strtoull(optarg, NULL, 10) * 1000000; break;
		case 'c': task.max_sampling_count = strtoul(optarg, NULL, 10); break;
		case 'P': task.max_parallel = strtoul(optarg, NULL, 10); break;
		case 's': task.max_samples = strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (!task.endpoint)
		goto usage;

	err = swprof_open(NULL, &sw);
	if (err) {
		fprintf(stderr, "trace_controller: open %s: %s\n", SWPROF_DEVICE, swprof_strerror(err));
		return 1;
	}
	if (!swprof_has_feature(sw, SWPROF_FEAT_TRACE)) {
		fprintf(stderr, "trace_controller: this swprof.ko has no trace profiling: upgrade it\n");
		return 1;
	}
	err = swprof_trace_session_new(sw, &session_opts, &session);
	if (err) {
		fprintf(stderr, "trace_controller: session: %s\n", swprof_strerror(err));
		return 1;
	}
	task.start_ns = now_ns(CLOCK_REALTIME);
	task.end_ns = task.start_ns + duration_s * 1000000000ULL;
	err = swprof_trace_task_add(session, &task, &id);
	if (err) {
		fprintf(stderr, "trace_controller: task for %s: %s\n", task.endpoint,
			swprof_strerror(err));
		return 1;
	}
	printf("task %u: %s for %llu s; ready\n", id, task.endpoint, (unsigned long long)duration_s);
	fflush(stdout);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev = (struct epoll_event) { .events = EPOLLIN, .data.ptr = NULL };	/* NULL: the session */
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, swprof_group_fd(session), &ev)) {
		perror("trace_controller: epoll");
		return 1;
	}

	/* Until the task's end, then until its segments have ended (1 s at most). */
	deadline = now_ns(CLOCK_MONOTONIC) + duration_s * 1000000000ULL;
	for (;;) {
		__u64 now = now_ns(CLOCK_MONOTONIC);
		int n;

		if (!ended && (now >= deadline || stop)) {
			swprof_trace_task_end(session, id);	/* its segments get TRACE_END */
			ended = true;
			deadline = now + 1000000000ULL;
		} else if (ended && (now >= deadline || !nr_segments)) {
			break;
		}
		n = epoll_wait(ep, &ev, 1, (int)((deadline - now) / 1000000) + 1);
		if (n < 0 && errno != EINTR) {
			perror("trace_controller: epoll_wait");
			break;
		}
		if (n <= 0)
			continue;
		err = ev.data.ptr ? read_segment(ev.data.ptr, ep, &nr_segments)
				  : accept_segments(session, ep, &nr_segments);
		if (err)
			fprintf(stderr, "trace_controller: %s\n", swprof_strerror(err));
	}

	if (!swprof_trace_task_stats(session, id, &st))
		printf("task %u: %u segments admitted, %llu refused (max sampling count), "
		       "%llu refused (max parallel)\n", id, st.admitted,
		       (unsigned long long)st.refused_count, (unsigned long long)st.refused_parallel);
	swprof_group_free(session);	/* segments still open end too */
	swprof_close(sw);
	return 0;

usage:
	fprintf(stderr, "usage: trace_controller -e ENDPOINT [-d SECONDS] [-m MIN_DURATION_MS] "
		"[-p DUMP_PERIOD_MS] [-c MAX_SAMPLING_COUNT] [-P MAX_PARALLEL] [-s MAX_SAMPLES]\n");
	return 2;
}
