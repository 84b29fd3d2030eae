// SPDX-License-Identifier: GPL-2.0-only
/* EBPFProcessService: report the processes, keep them alive. */
#include "oap.h"

#define SVC "/skywalking.v3.EBPFProcessService/"

int oap_ebpf_report_processes(struct oap *c, const Skywalking__V3__EBPFProcessReportList *req,
			      Skywalking__V3__EBPFReportProcessDownstream **resp)
{
	return oap_unary(c, SVC "reportProcesses", &req->base,
			 &skywalking__v3__ebpfreport_process_downstream__descriptor,
			 (ProtobufCMessage **)resp);
}

void oap_ebpf_processes_free(Skywalking__V3__EBPFReportProcessDownstream *resp)
{
	if (resp)
		skywalking__v3__ebpfreport_process_downstream__free_unpacked(resp, NULL);
}

int oap_ebpf_keepalive(struct oap *c, const Skywalking__V3__EBPFProcessPingPkgList *req,
		       Skywalking__V3__Commands **resp)
{
	return oap_unary(c, SVC "keepAlive", &req->base, &skywalking__v3__commands__descriptor,
			 (ProtobufCMessage **)resp);
}
