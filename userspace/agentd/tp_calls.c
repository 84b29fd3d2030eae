// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trace-profiling calls of a job: ManagementService (an instance's
 * properties and keep-alive), ProfileTask (tasks, finish, snapshots).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "uplink.h"

void tp_snapshot_free(struct tp_snapshot *s)
{
	size_t i;

	free(s->task_id);
	free(s->segment_id);
	for (i = 0; i < s->nr_sigs; i++)
		free(s->sigs[i]);
	free(s->sigs);
	memset(s, 0, sizeof(*s));
}

void tp_segment_free(struct tp_segment *s)
{
	free(s->service);
	free(s->instance);
	free(s->segment_id);
	free(s->endpoint);
	memset(s, 0, sizeof(*s));
}

void tp_job_free(struct job *j)
{
	size_t i;

	for (i = 0; i < j->tp.nr_segs; i++)
		tp_segment_free(&j->tp.segs[i]);
	free(j->tp.segs);
	free(j->tp.service);
	free(j->tp.instance);
	free(j->tp.layer);
	free(j->tp.task_id);
	free(j->tp.host_name);
	free(j->tp.host_ip);
	for (i = 0; i < j->tp.nr_snaps; i++)
		tp_snapshot_free(&j->tp.snaps[i]);
	free(j->tp.snaps);
}

/* The properties the language agents report: the host, the OS, the language. */
int tp_report_instance(struct oap *c, struct job *j)
{
	Skywalking__V3__InstanceProperties req = SKYWALKING__V3__INSTANCE_PROPERTIES__INIT;
	Skywalking__V3__KeyStringValuePair kv[4], *kvp[4];
	Skywalking__V3__Commands *resp = NULL;
	struct utsname u;
	const char *keys[4] = { "hostname", "ipv4", "OS Name", "language" };
	const char *vals[4];
	size_t i, n = 0;
	int err;

	vals[0] = j->tp.host_name;
	vals[1] = j->tp.host_ip;
	vals[2] = uname(&u) ? "Linux" : u.sysname;
	vals[3] = "native (swprof)";
	for (i = 0; i < 4; i++) {
		if (!vals[i] || !*vals[i])
			continue;
		skywalking__v3__key_string_value_pair__init(&kv[n]);
		kv[n].key = (char *)keys[i];
		kv[n].value = (char *)vals[i];
		kvp[n] = &kv[n];
		n++;
	}
	req.service = j->tp.service;
	req.serviceinstance = j->tp.instance;
	req.layer = j->tp.layer;
	req.n_properties = n;
	req.properties = kvp;
	err = oap_mgmt_report_properties(c, &req, &resp);
	if (resp)
		oap_commands_free(resp);
	return err;
}

int tp_keepalive(struct oap *c, struct job *j)
{
	Skywalking__V3__InstancePingPkg req = SKYWALKING__V3__INSTANCE_PING_PKG__INIT;
	Skywalking__V3__Commands *resp = NULL;
	int err;

	req.service = j->tp.service;
	req.serviceinstance = j->tp.instance;
	req.layer = j->tp.layer;
	err = oap_mgmt_keepalive(c, &req, &resp);
	if (resp)
		oap_commands_free(resp);
	return err;
}

int tp_query(struct oap *c, struct job *j)
{
	Skywalking__V3__ProfileTaskCommandQuery req = SKYWALKING__V3__PROFILE_TASK_COMMAND_QUERY__INIT;

	req.service = j->tp.service;
	req.serviceinstance = j->tp.instance;
	req.lastcommandtime = j->tp.last_command;
	return oap_trace_query_tasks(c, &req, &j->cmds);
}

int tp_finish(struct oap *c, struct job *j)
{
	Skywalking__V3__ProfileTaskFinishReport req = SKYWALKING__V3__PROFILE_TASK_FINISH_REPORT__INIT;
	Skywalking__V3__Commands *resp = NULL;
	int err;

	req.service = j->tp.service;
	req.serviceinstance = j->tp.instance;
	req.taskid = j->tp.task_id;
	err = oap_trace_report_finish(c, &req, &resp);
	if (resp)
		oap_commands_free(resp);
	return err;
}

int tp_send_snapshots(struct oap *c, struct job *j)
{
	Skywalking__V3__Commands *resp = NULL;
	struct oap_stream *s;
	size_t i, sent = 0;
	int err, cerr;

	j->tp.sent = 0;
	if (!j->tp.nr_snaps)
		return 0;
	err = oap_trace_snapshot_open(c, &s);
	if (err)
		return err;
	for (i = 0; i < j->tp.nr_snaps && !err; i++) {
		const struct tp_snapshot *sn = &j->tp.snaps[i];
		Skywalking__V3__ThreadSnapshot m = SKYWALKING__V3__THREAD_SNAPSHOT__INIT;
		Skywalking__V3__ThreadStack st = SKYWALKING__V3__THREAD_STACK__INIT;

		st.n_codesignatures = sn->nr_sigs;
		st.codesignatures = sn->sigs;
		m.taskid = sn->task_id;
		m.tracesegmentid = sn->segment_id;
		m.time = sn->time_ms;
		m.sequence = sn->sequence;
		m.stack = &st;
		err = oap_trace_snapshot_send(s, &m);
		if (!err)
			sent++;
	}
	/* OAP took them when the stream closes well */
	cerr = oap_trace_snapshot_close(s, &resp);
	if (resp)
		oap_commands_free(resp);
	err = err ?: cerr;
	j->tp.sent = err ? 0 : sent;
	return err;
}

/*
 * The segments of programs without a tracer: what their tracer would have
 * reported, so that OAP lists them under the task (it shows only segments
 * it stored).  One entry span named after the endpoint, begin to end.
 */
int tp_send_segments(struct oap *c, const struct job *j)
{
	Skywalking__V3__Commands *resp = NULL;
	struct oap_stream *s;
	size_t i;
	int err = 0, cerr;

	if (!j->tp.nr_segs)
		return 0;
	err = oap_segment_open(c, &s);
	if (err)
		return err;
	for (i = 0; i < j->tp.nr_segs && !err; i++) {
		const struct tp_segment *sg = &j->tp.segs[i];
		Skywalking__V3__SegmentObject m = SKYWALKING__V3__SEGMENT_OBJECT__INIT;
		Skywalking__V3__SpanObject sp = SKYWALKING__V3__SPAN_OBJECT__INIT, *spp = &sp;

		sp.spanid = 0;
		sp.parentspanid = -1;
		sp.starttime = sg->start_ms;
		sp.endtime = sg->end_ms;
		sp.operationname = sg->endpoint;
		sp.spantype = SKYWALKING__V3__SPAN_TYPE__Entry;
		m.traceid = sg->segment_id;		/* a trace of its own */
		m.tracesegmentid = sg->segment_id;
		m.n_spans = 1;
		m.spans = &spp;
		m.service = sg->service;
		m.serviceinstance = sg->instance;
		err = oap_segment_send(s, &m);
	}
	cerr = oap_segment_close(s, &resp);
	if (resp)
		oap_commands_free(resp);
	return err ?: cerr;
}
