// SPDX-License-Identifier: GPL-2.0-only
/* protobuf-c messages <-> grpc byte buffers; grpc status -> errno. */
#include <errno.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>

#include "oap_priv.h"

grpc_byte_buffer *oap_pack(const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	grpc_slice s = grpc_slice_malloc(len);
	grpc_byte_buffer *bb;

	protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

int oap_unpack(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc,
	       ProtobufCMessage **out)
{
	grpc_byte_buffer_reader r;
	grpc_slice s;

	if (!bb) {
		*out = protobuf_c_message_unpack(desc, NULL, 0, (const uint8_t *)"");
		return *out ? 0 : -EPROTO;
	}
	if (!grpc_byte_buffer_reader_init(&r, bb))
		return -EPROTO;
	s = grpc_byte_buffer_reader_readall(&r);
	grpc_byte_buffer_reader_destroy(&r);
	*out = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
	grpc_slice_unref(s);
	return *out ? 0 : -EPROTO;
}

int oap_status_errno(grpc_status_code code)
{
	switch (code) {
	case GRPC_STATUS_OK:
		return 0;
	case GRPC_STATUS_UNAVAILABLE:
		return -ECONNREFUSED;
	case GRPC_STATUS_DEADLINE_EXCEEDED:
		return -ETIMEDOUT;
	case GRPC_STATUS_RESOURCE_EXHAUSTED:
		return -ENOBUFS;
	case GRPC_STATUS_PERMISSION_DENIED:
	case GRPC_STATUS_UNAUTHENTICATED:
		return -EACCES;
	case GRPC_STATUS_UNIMPLEMENTED:
		return -EOPNOTSUPP;
	default:
		return -EPROTO;
	}
}

const char *oap_command_arg(const Skywalking__V3__Command *cmd, const char *key)
{
	for (size_t i = 0; i < cmd->n_args; i++)
		if (cmd->args[i]->key && !strcmp(cmd->args[i]->key, key))
			return cmd->args[i]->value;
	return NULL;
}

void oap_commands_free(Skywalking__V3__Commands *cmds)
{
	if (cmds)
		skywalking__v3__commands__free_unpacked(cmds, NULL);
}
