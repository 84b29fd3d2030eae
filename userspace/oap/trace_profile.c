// SPDX-License-Identifier: GPL-2.0-only
/* ProfileTask: trace-profiling tasks, thread snapshots, task finish. */
#include "oap.h"

#define SVC "/skywalking.v3.ProfileTask/"

int oap_trace_query_tasks(struct oap *c, const Skywalking__V3__ProfileTaskCommandQuery *req,
			  Skywalking__V3__Commands **resp)
{
	return oap_unary(c, SVC "getProfileTaskCommands", &req->base,
			 &skywalking__v3__commands__descriptor, (ProtobufCMessage **)resp);
}

int oap_trace_report_finish(struct oap *c, const Skywalking__V3__ProfileTaskFinishReport *req,
			    Skywalking__V3__Commands **resp)
{
	return oap_unary(c, SVC "reportTaskFinish", &req->base,
			 &skywalking__v3__commands__descriptor, (ProtobufCMessage **)resp);
}

int oap_trace_snapshot_open(struct oap *c, struct oap_stream **out)
{
	return oap_stream_open(c, SVC "collectSnapshot", out);
}

int oap_trace_snapshot_send(struct oap_stream *s, const Skywalking__V3__ThreadSnapshot *msg)
{
	return oap_stream_send(s, &msg->base);
}

int oap_trace_snapshot_close(struct oap_stream *s, Skywalking__V3__Commands **resp)
{
	return oap_stream_close(s, &skywalking__v3__commands__descriptor, (ProtobufCMessage **)resp);
}
