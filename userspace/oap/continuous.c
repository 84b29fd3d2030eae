// SPDX-License-Identifier: GPL-2.0-only
/* ContinuousProfilingService: policies, and the tasks they trigger. */
#include "oap.h"

#define SVC "/skywalking.v3.ContinuousProfilingService/"

int oap_cont_query_policies(struct oap *c, const Skywalking__V3__ContinuousProfilingPolicyQuery *req,
			    Skywalking__V3__Commands **resp)
{
	return oap_unary(c, SVC "queryPolicies", &req->base, &skywalking__v3__commands__descriptor,
			 (ProtobufCMessage **)resp);
}

int oap_cont_report_task(struct oap *c, const Skywalking__V3__ContinuousProfilingReport *req,
			 Skywalking__V3__Commands **resp)
{
	return oap_unary(c, SVC "reportProfilingTask", &req->base,
			 &skywalking__v3__commands__descriptor, (ProtobufCMessage **)resp);
}
