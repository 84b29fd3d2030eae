// SPDX-License-Identifier: GPL-2.0-only
/* PprofTask (skywalking.v10): pprof tasks, and their bidirectional upload. */
#include "oap.h"

#define SVC "/skywalking.v10.PprofTask/"

int oap_pprof_query_tasks(struct oap *c, const Skywalking__V10__PprofTaskCommandQuery *req,
			  Skywalking__V3__Commands **resp)
{
	return oap_unary(c, SVC "getPprofTaskCommands", &req->base,
			 &skywalking__v3__commands__descriptor, (ProtobufCMessage **)resp);
}

int oap_pprof_collect_open(struct oap *c, struct oap_stream **out)
{
	return oap_stream_open(c, SVC "collect", out);
}

int oap_pprof_collect_send(struct oap_stream *s, const Skywalking__V10__PprofData *msg)
{
	return oap_stream_send(s, &msg->base);
}

int oap_pprof_collect_recv(struct oap_stream *s, Skywalking__V10__PprofCollectionResponse **resp)
{
	return oap_stream_recv(s, &skywalking__v10__pprof_collection_response__descriptor,
			       (ProtobufCMessage **)resp);
}

void oap_pprof_response_free(Skywalking__V10__PprofCollectionResponse *resp)
{
	if (resp)
		skywalking__v10__pprof_collection_response__free_unpacked(resp, NULL);
}

/* OAP's side may end with or without a last response: none is kept. */
int oap_pprof_collect_close(struct oap_stream *s)
{
	return oap_stream_close(s, NULL, NULL);
}
