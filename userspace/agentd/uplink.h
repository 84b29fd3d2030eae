/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The uplink: the one thread that talks to OAP (oap.h) and owns the spool,
 * so that the daemon's main thread, which drains the rings, never waits on
 * the network.  The main thread submits jobs; report, keep-alive and query
 * jobs come back through uplink_done() with OAP's answer, upload jobs do
 * not: their batches are delivered, or spooled and delivered later in
 * order, or dropped and counted (agent_spool.h says when).
 */
#ifndef AGENTD_UPLINK_H
#define AGENTD_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_batch.h"
#include "agent_config.h"
#include "agent_task.h"
#include "oap.h"

/* A process as reportProcesses and keepAlive describe it (strings owned). */
struct proc_desc {
	pid_t pid;
	char *layer, *service, *instance, *process;
	char **labels;
	size_t nr_labels;
	char *cmdline;
};
void proc_desc_free(struct proc_desc *p);

enum job_kind {
	JOB_REPORT,		/* reportProcesses(procs) -> procs_resp */
	JOB_KEEPALIVE,		/* keepAlive(procs) */
	JOB_QUERY,		/* queryTasks(latest_update) -> cmds */
	JOB_UPLOAD,		/* collectProfilingData(batches): not returned */
	JOB_POLICIES,		/* queryPolicies(services) -> cmds */
	JOB_CP_REPORT,		/* reportProfilingTask(cp) -> cmds */
	JOB_METERS,		/* collectBatch(meters): not returned */
	JOB_TP_INSTANCE,	/* reportInstanceProperties(tp) */
	JOB_TP_PING,		/* keepAlive(tp) */
	JOB_TP_QUERY,		/* getProfileTaskCommands(tp) -> cmds */
	JOB_TP_FINISH,		/* reportTaskFinish(tp) */
	JOB_TP_SNAPSHOTS,	/* collectSnapshot(tp.snaps) -> tp.sent */
	JOB_TP_SEGMENTS,	/* TraceSegmentReportService.collect(tp.segs) */
};

/* The segment of a request of a program without a tracer: one entry span. */
struct tp_segment {
	char *service, *instance, *segment_id, *endpoint;
	int64_t start_ms, end_ms;	/* epoch */
};
void tp_segment_free(struct tp_segment *s);

/* One ThreadSnapshot of trace profiling (strings owned). */
struct tp_snapshot {
	char *task_id, *segment_id;
	int64_t time_ms;		/* epoch */
	int32_t sequence;
	char **sigs;			/* codeSignatures, root first */
	size_t nr_sigs;
};
void tp_snapshot_free(struct tp_snapshot *s);

/* A continuous-profiling trigger as reportProfilingTask describes it. */
struct cp_report_desc {
	uint64_t id;			/* agent_cp_report_ok() / _failed() */
	pid_t pid;
	char *layer, *service, *instance, *process;
	enum agent_task_target target;
	struct {
		int type;		/* enum agent_cp_monitor = the proto's monitor type */
		double threshold, current;
	} causes[8];
	size_t nr_causes;
	uint32_t duration_s;
};

/* One meter value of collectBatch. */
struct meter_desc {
	char *name, *process_name, *layer, *service, *instance;
	double value;
	int64_t timestamp_ms;
};

struct job {
	struct job *next;
	enum job_kind kind;
	int err;				/* the call's: 0 or oap.h's errnos */
	struct proc_desc *procs;		/* REPORT, KEEPALIVE */
	size_t nr_procs;
	bool full;				/* REPORT: every process, not only new ones */
	char *host_ip;				/* REPORT: the host_ip property */
	Skywalking__V3__EBPFReportProcessDownstream *procs_resp;
	int64_t latest_update;			/* QUERY */
	Skywalking__V3__Commands *cmds;
	struct agent_batch **batches;		/* UPLOAD: the uplink takes them */
	size_t nr_batches;
	char **services, **uuids;		/* POLICIES: the last UUID of each ("" none) */
	size_t nr_services;
	struct cp_report_desc cp;		/* CP_REPORT */
	struct meter_desc *meters;		/* METERS */
	size_t nr_meters;
	struct {				/* TP_*: trace profiling, one instance */
		size_t inst;			/* the daemon's index of the instance */
		char *service, *instance, *layer;
		char *task_id;			/* FINISH */
		int64_t last_command;		/* QUERY: lastCommandTime */
		char *host_name, *host_ip;	/* INSTANCE: properties */
		struct tp_snapshot *snaps;	/* SNAPSHOTS, the first tp.sent of them delivered */
		size_t nr_snaps, sent;
		struct tp_segment *segs;	/* SEGMENTS */
		size_t nr_segs;
	} tp;
};
struct job *job_new(enum job_kind kind);
/* @c's args as key/value pairs (borrowed strings; free() the array), or NULL: out of memory. */
struct agent_kv *job_command_args(const Skywalking__V3__Command *c);
void job_free(struct job *j);

struct uplink;

/*
 * Start the thread.  The OAP client is made from @cfg's core.backend keys,
 * the spool from agent.spool_dir / spool_max_bytes (a spool that cannot be
 * opened is logged and the uplink runs without one: what OAP cannot take
 * is then dropped and counted).  0 or a negative errno (logged).
 */
int uplink_new(const struct agent_config *cfg, const char *agent_id, struct uplink **out);
/*
 * Finish the queued jobs (uploads that fail go to the spool) for at most
 * @grace_ms (a call under way finishes first), stop the thread, free.  The
 * batches of jobs still queued then go to the spool too; without a spool
 * their samples are counted as dropped ("exit").
 */
void uplink_free(struct uplink *u, uint32_t grace_ms);

/* Queue @j (taken). */
void uplink_submit(struct uplink *u, struct job *j);
/* A finished REPORT / KEEPALIVE / QUERY job, or NULL. */
struct job *uplink_done(struct uplink *u);
/* New core.backend settings (SIGHUP): a new client from the next call on. */
int uplink_reconfigure(struct uplink *u, const struct agent_config *cfg);

enum uplink_err {
	UPLINK_ERR_UNAVAILABLE,		/* -ECONNREFUSED */
	UPLINK_ERR_DEADLINE,		/* -ETIMEDOUT */
	UPLINK_ERR_EXHAUSTED,		/* -ENOBUFS */
	UPLINK_ERR_DENIED,		/* -EACCES */
	UPLINK_ERR_UNIMPLEMENTED,	/* -EOPNOTSUPP */
	UPLINK_ERR_BROKEN,		/* -EPIPE */
	UPLINK_ERR_OTHER,		/* -EPROTO and the rest */
	UPLINK_ERR_NR,
};
const char *uplink_err_name(enum uplink_err e);

struct uplink_stats {
	bool up;			/* the last call reached OAP */
	char addr[128];			/* the address in use */
	int64_t down_since_ms;		/* epoch ms; 0 when up */
	uint64_t down_ms;		/* how long it has been unreachable (0 when up) */
	uint32_t retry_in_ms;		/* back-off left */
	uint64_t reconnects;		/* down -> up transitions */
	uint64_t calls;			/* calls made (back-off skips not counted) */
	uint64_t errors[UPLINK_ERR_NR];
	uint64_t uploads;		/* collectProfilingData streams completed */
	uint64_t batches_sent, samples_sent;	/* delivered, spooled ones included */
	uint64_t samples_spooled;	/* written to the spool (then sent or dropped) */
	uint64_t samples_dropped;	/* every reason below */
	uint64_t dropped_spool_full;	/* the spool's bound (oldest dropped, or too big for it) */
	uint64_t dropped_spool_error;	/* the spool could not write (or there is none) */
	uint64_t dropped_corrupt;	/* a spooled batch that no longer decodes (entries) */
	uint64_t dropped_exit;		/* queued when the agent stopped, no spool */
	uint64_t spool_entries, spool_bytes, spool_samples;	/* waiting on disk */
	uint64_t queued_jobs;
	uint64_t snapshots_sent;	/* ThreadSnapshots OAP took */
};
void uplink_stats(struct uplink *u, struct uplink_stats *st);

/* upload.c: send @n batches in one collectProfilingData stream. */
int upload_batches(struct oap *c, struct agent_batch *const *b, size_t n);

/* cp_calls.c: the continuous-profiling calls of a job. */
int cp_query_policies(struct oap *c, struct job *j);
int cp_report_task(struct oap *c, struct job *j);
int cp_send_meters(struct oap *c, const struct job *j);
void cp_job_free(struct job *j);

/* The trace-profiling calls (tp_calls.c). */
int tp_report_instance(struct oap *c, struct job *j);
int tp_keepalive(struct oap *c, struct job *j);
int tp_query(struct oap *c, struct job *j);
int tp_finish(struct oap *c, struct job *j);
/* Sends the snapshots in one stream; j->tp.sent: how many OAP took. */
int tp_send_snapshots(struct oap *c, struct job *j);
int tp_send_segments(struct oap *c, const struct job *j);
void tp_job_free(struct job *j);

#endif
