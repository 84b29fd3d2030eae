// SPDX-License-Identifier: GPL-2.0-only
/* ManagementService: instance properties and keep-alive. */
#include "oap.h"

#define SVC "/skywalking.v3.ManagementService/"

int oap_mgmt_report_properties(struct oap *c, const Skywalking__V3__InstanceProperties *req,
			       Skywalking__V3__Commands **resp)
{
	return oap_unary(c, SVC "reportInstanceProperties", &req->base,
			 &skywalking__v3__commands__descriptor, (ProtobufCMessage **)resp);
}

int oap_mgmt_keepalive(struct oap *c, const Skywalking__V3__InstancePingPkg *req,
		       Skywalking__V3__Commands **resp)
{
	return oap_unary(c, SVC "keepAlive", &req->base, &skywalking__v3__commands__descriptor,
			 (ProtobufCMessage **)resp);
}
