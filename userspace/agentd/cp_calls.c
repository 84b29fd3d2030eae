// SPDX-License-Identifier: GPL-2.0-only
/* The continuous-profiling calls: queryPolicies, reportProfilingTask, collectBatch (meters). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uplink.h"

void cp_job_free(struct job *j)
{
	size_t i;

	for (i = 0; i < j->nr_services; i++) {
		free(j->services[i]);
		free(j->uuids[i]);
	}
	free(j->services);
	free(j->uuids);
	free(j->cp.layer);
	free(j->cp.service);
	free(j->cp.instance);
	free(j->cp.process);
	for (i = 0; i < j->nr_meters; i++) {
		free(j->meters[i].name);
		free(j->meters[i].process_name);
		free(j->meters[i].layer);
		free(j->meters[i].service);
		free(j->meters[i].instance);
	}
	free(j->meters);
}

int cp_query_policies(struct oap *c, struct job *j)
{
	Skywalking__V3__ContinuousProfilingPolicyQuery req =
		SKYWALKING__V3__CONTINUOUS_PROFILING_POLICY_QUERY__INIT;
	Skywalking__V3__ContinuousProfilingServicePolicyQuery *q = calloc(j->nr_services + 1,
									   sizeof(*q));
	Skywalking__V3__ContinuousProfilingServicePolicyQuery **qp = calloc(j->nr_services + 1,
									     sizeof(*qp));
	size_t i;
	int err = -ENOMEM;

	if (q && qp) {
		for (i = 0; i < j->nr_services; i++) {
			skywalking__v3__continuous_profiling_service_policy_query__init(&q[i]);
			q[i].servicename = j->services[i];
			q[i].uuid = j->uuids[i];
			qp[i] = &q[i];
		}
		req.n_policies = j->nr_services;
		req.policies = qp;
		err = oap_cont_query_policies(c, &req, &j->cmds);
	}
	free(q);
	free(qp);
	return err;
}

int cp_report_task(struct oap *c, struct job *j)
{
	Skywalking__V3__ContinuousProfilingReport req = SKYWALKING__V3__CONTINUOUS_PROFILING_REPORT__INIT;
	Skywalking__V3__ContinuousProfilingCause causes[8], *cp[8];
	Skywalking__V3__ContinuousProfilingSingleValueCause single[8];
	Skywalking__V3__ContinuousOnCPUProfilingTask on = SKYWALKING__V3__CONTINUOUS_ON_CPUPROFILING_TASK__INIT;
	Skywalking__V3__ContinuousOffCPUProfilingTask off =
		SKYWALKING__V3__CONTINUOUS_OFF_CPUPROFILING_TASK__INIT;
	Skywalking__V3__ContinuousNetworkProfilingTask net =
		SKYWALKING__V3__CONTINUOUS_NETWORK_PROFILING_TASK__INIT;
	size_t i;

	req.layer = j->cp.layer;
	req.servicename = j->cp.service;
	req.instancename = j->cp.instance;
	req.processname = j->cp.process;
	req.duration = (int32_t)j->cp.duration_s;
	for (i = 0; i < j->cp.nr_causes && i < 8; i++) {
		skywalking__v3__continuous_profiling_cause__init(&causes[i]);
		skywalking__v3__continuous_profiling_single_value_cause__init(&single[i]);
		/* the raw values: OAP stores them x100 (Rover sends them so too) */
		single[i].threshold = j->cp.causes[i].threshold;
		single[i].current = j->cp.causes[i].current;
		causes[i].type = j->cp.causes[i].type;
		causes[i].cause_case = SKYWALKING__V3__CONTINUOUS_PROFILING_CAUSE__CAUSE_SINGLE_VALUE;
		causes[i].singlevalue = &single[i];
		cp[i] = &causes[i];
	}
	req.n_causes = i;
	req.causes = cp;
	switch (j->cp.target) {
	case AGENT_TARGET_OFF_CPU:
		req.target_task_case = SKYWALKING__V3__CONTINUOUS_PROFILING_REPORT__TARGET_TASK_OFF_CPU;
		req.offcpu = &off;
		break;
	case AGENT_TARGET_NETWORK:
		req.target_task_case = SKYWALKING__V3__CONTINUOUS_PROFILING_REPORT__TARGET_TASK_NETWORK;
		req.network = &net;
		break;
	default:
		req.target_task_case = SKYWALKING__V3__CONTINUOUS_PROFILING_REPORT__TARGET_TASK_ON_CPU;
		req.oncpu = &on;
		break;
	}
	return oap_cont_report_task(c, &req, &j->cmds);
}

/* One MeterDataCollection per message, one MeterData per value. */
int cp_send_meters(struct oap *c, const struct job *j)
{
	Skywalking__V3__Commands *resp = NULL;
	struct oap_stream *s;
	size_t i;
	int err, cerr;

	if (!j->nr_meters)
		return 0;
	err = oap_meter_open(c, &s);
	if (err)
		return err;
	for (i = 0; i < j->nr_meters && !err; i++) {
		const struct meter_desc *m = &j->meters[i];
		Skywalking__V3__MeterDataCollection coll = SKYWALKING__V3__METER_DATA_COLLECTION__INIT;
		Skywalking__V3__MeterData d = SKYWALKING__V3__METER_DATA__INIT, *dp = &d;
		Skywalking__V3__MeterSingleValue v = SKYWALKING__V3__METER_SINGLE_VALUE__INIT;
		Skywalking__V3__Label l[2] = { SKYWALKING__V3__LABEL__INIT, SKYWALKING__V3__LABEL__INIT };
		Skywalking__V3__Label *lp[2] = { &l[0], &l[1] };

		l[0].name = "process_name";
		l[0].value = m->process_name;
		l[1].name = "layer";
		l[1].value = m->layer;
		v.name = m->name;
		v.n_labels = 2;
		v.labels = lp;
		v.value = m->value;
		d.service = m->service;
		d.serviceinstance = m->instance;
		d.timestamp = m->timestamp_ms;
		d.metric_case = SKYWALKING__V3__METER_DATA__METRIC_SINGLE_VALUE;
		d.singlevalue = &v;
		coll.n_meterdata = 1;
		coll.meterdata = &dp;
		err = oap_meter_send(s, &coll);
	}
	cerr = oap_meter_close(s, &resp);
	if (resp)
		oap_commands_free(resp);
	return cerr ? cerr : err;
}
