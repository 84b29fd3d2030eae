/* SPDX-License-Identifier: GPL-2.0-only */
/* Inside oap/: the codec between protobuf-c and grpc byte buffers. */
#ifndef OAP_PRIV_H
#define OAP_PRIV_H

#include <grpc/grpc.h>

#include "oap.h"

/* NULL when out of memory. */
grpc_byte_buffer *oap_pack(const ProtobufCMessage *msg);
/* 0, or -EPROTO when @bb does not decode as @desc (NULL @bb: an empty message). */
int oap_unpack(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc,
	       ProtobufCMessage **out);
/* The errno for a grpc status (oap.h). */
int oap_status_errno(grpc_status_code code);

#endif
