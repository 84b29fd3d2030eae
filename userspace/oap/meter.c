// SPDX-License-Identifier: GPL-2.0-only
/* MeterReportService: meter batches (continuous-profiling meters). */
#include "oap.h"

#define SVC "/skywalking.v3.MeterReportService/"

int oap_meter_open(struct oap *c, struct oap_stream **out)
{
	return oap_stream_open(c, SVC "collectBatch", out);
}

int oap_meter_send(struct oap_stream *s, const Skywalking__V3__MeterDataCollection *msg)
{
	return oap_stream_send(s, &msg->base);
}

int oap_meter_close(struct oap_stream *s, Skywalking__V3__Commands **resp)
{
	return oap_stream_close(s, &skywalking__v3__commands__descriptor, (ProtobufCMessage **)resp);
}
