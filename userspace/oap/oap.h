/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The OAP client: SkyWalking's gRPC services over grpc's C core and
 * protobuf-c (docs/oap.md).  The only folder that includes grpc; callers
 * see protobuf-c messages (build/gen/skywalking/) and negative errnos.
 *
 * One completion-queue thread serves every call of a client; the calls
 * themselves block the calling thread until they complete or their
 * deadline passes.  Errors: 0 or a negative errno:
 *   -ECONNREFUSED  UNAVAILABLE (every address tried)
 *   -ETIMEDOUT     DEADLINE_EXCEEDED
 *   -ENOBUFS       RESOURCE_EXHAUSTED (OAP under memory pressure)
 *   -EAGAIN        backing off after one of the three above: not tried now,
 *                  oap_retry_in_ms() says when
 *   -EACCES        PERMISSION_DENIED / UNAUTHENTICATED (the token)
 *   -EOPNOTSUPP    UNIMPLEMENTED (OAP lacks that receiver)
 *   -EPIPE         a stream broken before its close (the close tells why)
 *   -EPROTO        any other status, or a reply that does not decode
 */
#ifndef OAP_H
#define OAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "sw_opts.h"
#include "skywalking/common.pb-c.h"
#include "skywalking/continuous_profiling.pb-c.h"
#include "skywalking/ebpf_process.pb-c.h"
#include "skywalking/ebpf_profiling.pb-c.h"
#include "skywalking/management.pb-c.h"
#include "skywalking/meter.pb-c.h"
#include "skywalking/pprof_task.pb-c.h"
#include "skywalking/trace_profile.pb-c.h"
#include "skywalking/trace_segment.pb-c.h"

struct oap;
struct oap_stream;

struct oap_opts {
	size_t sz;
	/* "host:port" each; tried in order, the next one when a call finds
	 * the current one UNAVAILABLE.  At least one. */
	const char *const *addrs;
	size_t nr_addrs;
	/* sent as metadata "authentication" on every call; NULL: none */
	const char *token;
	bool tls;
	const char *ca_path;		/* PEM; NULL: the system's roots */
	const char *cert_path;		/* client certificate, PEM, with key_path */
	const char *key_path;
	/* grpc core cannot skip verification: true is refused (-EOPNOTSUPP) */
	bool insecure_skip_verify;
	/* the name the server's certificate must carry; NULL: the address's host */
	const char *tls_server_name;
	uint32_t deadline_ms;		/* unary calls; 0: 10000 */
	uint32_t stream_deadline_ms;	/* a whole client stream; 0: 60000 */
	uint32_t backoff_base_ms;	/* first retry delay; 0: 1000 */
	uint32_t backoff_max_ms;	/* 0: 60000 */
	uint32_t max_recv_bytes;	/* 0: 50 MiB (OAP's own limit) */
};
#define oap_opts__last_field max_recv_bytes
#define OAP_OPTS(name, ...) SW_OPTS(oap_opts, name, __VA_ARGS__)

/* Starts grpc and the completion-queue thread; connects at the first call. */
int oap_new(const struct oap_opts *opts, struct oap **out);
/* No call or stream of @c may be in flight. */
void oap_free(struct oap *c);

/* 0 when a call would be tried now, else the milliseconds of back-off left. */
uint32_t oap_retry_in_ms(struct oap *c);
/* The address calls go to now. */
const char *oap_current_addr(struct oap *c);

/*
 * Back-off before retry number @attempt (1 = the first retry):
 * min(max, base * 2^(attempt-1)) scaled by a factor in [0.8, 1.2] that
 * @rnd picks, never above @max_ms.
 */
uint32_t oap_backoff_ms(unsigned int attempt, uint32_t base_ms, uint32_t max_ms, uint32_t rnd);

/* Generic calls; @path "/package.Service/method". */
int oap_unary(struct oap *c, const char *path, const ProtobufCMessage *req,
	      const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp);
int oap_stream_open(struct oap *c, const char *path, struct oap_stream **out);
int oap_stream_send(struct oap_stream *s, const ProtobufCMessage *msg);
/* A stream that also receives (PprofTask.collect): the next message from
 * OAP; -ENODATA when OAP ended its side, -EPIPE when the stream broke. */
int oap_stream_recv(struct oap_stream *s, const ProtobufCMessageDescriptor *desc,
		    ProtobufCMessage **out);
/* Half-closes, waits for the reply and frees @s (also on failure). */
int oap_stream_close(struct oap_stream *s, const ProtobufCMessageDescriptor *resp_desc,
		     ProtobufCMessage **resp);

/* codec.c: the value of a command's arg, NULL when absent. */
const char *oap_command_arg(const Skywalking__V3__Command *cmd, const char *key);
void oap_commands_free(Skywalking__V3__Commands *cmds);

/* management.c: ManagementService */
int oap_mgmt_report_properties(struct oap *c, const Skywalking__V3__InstanceProperties *req,
			       Skywalking__V3__Commands **resp);
int oap_mgmt_keepalive(struct oap *c, const Skywalking__V3__InstancePingPkg *req,
		       Skywalking__V3__Commands **resp);

/* ebpf_process.c: EBPFProcessService */
int oap_ebpf_report_processes(struct oap *c, const Skywalking__V3__EBPFProcessReportList *req,
			      Skywalking__V3__EBPFReportProcessDownstream **resp);
void oap_ebpf_processes_free(Skywalking__V3__EBPFReportProcessDownstream *resp);
int oap_ebpf_keepalive(struct oap *c, const Skywalking__V3__EBPFProcessPingPkgList *req,
		       Skywalking__V3__Commands **resp);

/* ebpf_profiling.c: EBPFProfilingService */
int oap_ebpf_query_tasks(struct oap *c, const char *agent_id, int64_t latest_update_time,
			 Skywalking__V3__Commands **resp);
int oap_ebpf_collect_open(struct oap *c, struct oap_stream **out);
int oap_ebpf_collect_send(struct oap_stream *s, const Skywalking__V3__EBPFProfilingData *msg);
int oap_ebpf_collect_close(struct oap_stream *s, Skywalking__V3__Commands **resp);

/* continuous.c: ContinuousProfilingService */
int oap_cont_query_policies(struct oap *c, const Skywalking__V3__ContinuousProfilingPolicyQuery *req,
			    Skywalking__V3__Commands **resp);
int oap_cont_report_task(struct oap *c, const Skywalking__V3__ContinuousProfilingReport *req,
			 Skywalking__V3__Commands **resp);

/* trace_profile.c: ProfileTask */
int oap_trace_query_tasks(struct oap *c, const Skywalking__V3__ProfileTaskCommandQuery *req,
			  Skywalking__V3__Commands **resp);
int oap_trace_report_finish(struct oap *c, const Skywalking__V3__ProfileTaskFinishReport *req,
			    Skywalking__V3__Commands **resp);
int oap_trace_snapshot_open(struct oap *c, struct oap_stream **out);
int oap_trace_snapshot_send(struct oap_stream *s, const Skywalking__V3__ThreadSnapshot *msg);
int oap_trace_snapshot_close(struct oap_stream *s, Skywalking__V3__Commands **resp);

/* segment.c: TraceSegmentReportService */
int oap_segment_open(struct oap *c, struct oap_stream **out);
int oap_segment_send(struct oap_stream *s, const Skywalking__V3__SegmentObject *msg);
int oap_segment_close(struct oap_stream *s, Skywalking__V3__Commands **resp);

/* meter.c: MeterReportService */
int oap_meter_open(struct oap *c, struct oap_stream **out);
int oap_meter_send(struct oap_stream *s, const Skywalking__V3__MeterDataCollection *msg);
int oap_meter_close(struct oap_stream *s, Skywalking__V3__Commands **resp);

/* pprof_task.c: PprofTask (OAP 10.3+, package skywalking.v10).  Upload:
 * send a metadata-only PprofData, recv one response, send the gzip'd
 * content in chunks of at most 1 MiB, close. */
int oap_pprof_query_tasks(struct oap *c, const Skywalking__V10__PprofTaskCommandQuery *req,
			  Skywalking__V3__Commands **resp);
int oap_pprof_collect_open(struct oap *c, struct oap_stream **out);
int oap_pprof_collect_send(struct oap_stream *s, const Skywalking__V10__PprofData *msg);
int oap_pprof_collect_recv(struct oap_stream *s, Skywalking__V10__PprofCollectionResponse **resp);
void oap_pprof_response_free(Skywalking__V10__PprofCollectionResponse *resp);
int oap_pprof_collect_close(struct oap_stream *s);

#endif
