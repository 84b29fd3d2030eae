// SPDX-License-Identifier: GPL-2.0-only
/* EBPFProfilingService: poll tasks; the profiling-data client stream. */
#include "oap.h"

#define SVC "/skywalking.v3.EBPFProfilingService/"

int oap_ebpf_query_tasks(struct oap *c, const char *agent_id, int64_t latest_update_time,
			 Skywalking__V3__Commands **resp)
{
	Skywalking__V3__EBPFProfilingTaskQuery q = SKYWALKING__V3__EBPFPROFILING_TASK_QUERY__INIT;

	q.roverinstanceid = (char *)agent_id;
	q.latestupdatetime = latest_update_time;
	return oap_unary(c, SVC "queryTasks", &q.base, &skywalking__v3__commands__descriptor,
			 (ProtobufCMessage **)resp);
}

int oap_ebpf_collect_open(struct oap *c, struct oap_stream **out)
{
	return oap_stream_open(c, SVC "collectProfilingData", out);
}

int oap_ebpf_collect_send(struct oap_stream *s, const Skywalking__V3__EBPFProfilingData *msg)
{
	return oap_stream_send(s, &msg->base);
}

int oap_ebpf_collect_close(struct oap_stream *s, Skywalking__V3__Commands **resp)
{
	return oap_stream_close(s, &skywalking__v3__commands__descriptor, (ProtobufCMessage **)resp);
}
