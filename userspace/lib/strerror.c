// SPDX-License-Identifier: GPL-2.0-only
/* What an errno means when it comes from swprof.ko or libswprof. */
#include "swprof_internal.h"

static const char *const messages[] = {
	[ENOENT] = "/dev/swprof is missing: load the module (modprobe swprof) "
		   "(from a trace task call: no such task)",
	[ENODEV] = "the swprof module is not loaded: modprobe swprof",
	[ENXIO] = "the swprof module is not loaded: modprobe swprof",
	[EACCES] = "no permission to open /dev/swprof: check its owner and mode",
	[EPERM] = "not allowed: registering another user's (or a non-dumpable) thread needs "
		  "CAP_SYS_PTRACE; kernel stacks and resetting statistics need CAP_PERFMON "
		  "(or CAP_SYS_ADMIN); listening to swprof events needs CAP_NET_ADMIN",
	[ESRCH] = "no such thread (it may have exited)",
	[ENOSPC] = "swprof's limit on registered targets or on ring memory for all targets "
		   "is reached: unregister targets or ask for smaller rings",
	[E2BIG] = "a request is larger than the module knows and sets fields it does not "
		  "know: upgrade swprof.ko or leave the new options at 0",
	[ENOTTY] = "not a swprof file descriptor, or a command the module does not know",
	[EPROTO] = "swprof.ko and libswprof differ in API major version or ring format: "
		   "install matching versions",
	[EINVAL] = "invalid argument: no stack asked for, unknown flag or mode, period out "
		   "of range, ring size not a power of two, depth or raw stack above the "
		   "limit, a kernel thread, an empty or too long endpoint or segment id, or "
		   "options this libswprof does not know",
	[EOPNOTSUPP] = "not supported by this swprof module (check its feature bits)",
	[EBADMSG] = "corrupt record in a swprof ring: stop reading this target",
	[ENOMEM] = "out of memory for swprof rings or objects",
	[EDQUOT] = "the trace task has admitted its max sampling count of segments",
	[EBUSY] = "the trace task samples its max parallel segments already",
	[EALREADY] = "this thread is already in a traced segment",
	[ENOBUFS] = "the swprof events socket overflowed: events were lost; read it more often",
	[EBADF] = "not an open file descriptor (a swprof target, group or session fd was "
		  "closed?)",
};

const char *swprof_strerror(int err)
{
	unsigned int e = err < 0 ? -(unsigned int)err : (unsigned int)err;

	if (e < sizeof(messages) / sizeof(messages[0]) && messages[e])
		return messages[e];
	return strerror((int)e);
}
