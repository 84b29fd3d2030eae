// SPDX-License-Identifier: GPL-2.0-only
/* TraceSegmentReportService: the segments trace profiling refers to. */
#include "oap.h"

#define SVC "/skywalking.v3.TraceSegmentReportService/"

int oap_segment_open(struct oap *c, struct oap_stream **out)
{
	return oap_stream_open(c, SVC "collect", out);
}

int oap_segment_send(struct oap_stream *s, const Skywalking__V3__SegmentObject *msg)
{
	return oap_stream_send(s, &msg->base);
}

int oap_segment_close(struct oap_stream *s, Skywalking__V3__Commands **resp)
{
	return oap_stream_close(s, &skywalking__v3__commands__descriptor, (ProtobufCMessage **)resp);
}
