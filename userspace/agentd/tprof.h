/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trace profiling in the daemon (tprof.c): the service instances of
 * trace_profiling.instances kept alive in OAP (ManagementService), their
 * ProfileTasks polled and queued (agent_trace.h), each task's window a
 * task of the module's trace session, each segment the module admits
 * adopted by the pipeline and every sample of it one ThreadSnapshot, sent
 * in batches every trace_profiling.flush_interval.  Runs in the daemon's
 * main thread (the pipeline calls its sink from pl_poll()).
 */
#ifndef AGENTD_TPROF_H
#define AGENTD_TPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_config.h"
#include "pipeline.h"
#include "uplink.h"

struct tprof;

/*
 * Start trace profiling for @cfg's instances: 0 with *out NULL when there
 * are none or trace_profiling.active is false, or when the module cannot
 * (said once); 0 with *out set; a negative errno.  @cfg, @pl and @up must
 * outlive it.
 */
int tprof_new(const struct agent_config *cfg, struct pl *pl, struct uplink *up,
	      const char *host_name, const char *host_ip, struct tprof **out);
/* Stop the running tasks, send what is pending to the uplink, free. */
void tprof_free(struct tprof *tp);

/* Calls due at @now_ms (epoch): keep-alive, queries, task windows, a batch. */
void tprof_tick(struct tprof *tp, int64_t now_ms);
/* The ms until tprof_tick() has something to do. */
int64_t tprof_wait_ms(const struct tprof *tp, int64_t now_ms);
/* A finished TP_* job: true when it was one (and it is freed). */
bool tprof_job_done(struct tprof *tp, struct job *j);
/* OAP came back (may have restarted): report the instances again. */
void tprof_reconnected(struct tprof *tp);

struct tprof_stats {
	size_t instances, registered;
	size_t tasks_waiting, tasks_running;
	uint64_t tasks_started, tasks_finished, tasks_rejected, tasks_failed;
	uint64_t segments;		/* adopted from the session */
	uint64_t segments_reported;	/* of programs without a tracer (TraceSegmentReportService) */
	uint64_t segments_dropped;	/* their reports beyond the queue's bound */
	uint64_t snapshots;		/* taken (a sample of a segment) */
	uint64_t snapshots_queued;	/* waiting to be sent */
	uint64_t snapshots_dropped;	/* the queue's bound, or a sample of an unknown task */
	uint64_t records_lost;		/* LOST records of segment rings */
};
void tprof_stats(const struct tprof *tp, struct tprof_stats *st);

#endif
