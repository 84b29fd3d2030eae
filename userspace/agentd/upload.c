// SPDX-License-Identifier: GPL-2.0-only
/* Batches -> one collectProfilingData stream (PROTOCOL.md, "Upload semantics"). */
#include <errno.h>
#include <limits.h>

#include "uplink.h"

static char *missing[] = { "[MISSING]" };

static int32_t clamp32(uint64_t v)
{
	return v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

/*
 * One message per stack: at most one KERNEL and one USER stack each, ids
 * unique within the upload across both types (kernel 2i+1, user 2i+2), so
 * no two messages share OAP's storage id.  The first message of each batch
 * carries the task's metadata: its processId differs between batches.
 */
static int send_batch(struct oap_stream *s, const struct agent_batch *b, int32_t *next_id)
{
	Skywalking__V3__EBPFProfilingTaskMetadata meta =
		SKYWALKING__V3__EBPFPROFILING_TASK_METADATA__INIT;
	bool first = true;
	size_t i;
	int err;

	meta.taskid = b->task_id;
	meta.processid = b->process_id;
	meta.profilingstarttime = b->start_ms;
	meta.currenttime = b->time_ms;
	for (i = 0; i < b->nr_stacks; i++) {
		const struct agent_stack *st = &b->stacks[i];
		Skywalking__V3__EBPFProfilingData msg = SKYWALKING__V3__EBPFPROFILING_DATA__INIT;
		Skywalking__V3__EBPFOnCPUProfiling on = SKYWALKING__V3__EBPFON_CPUPROFILING__INIT;
		Skywalking__V3__EBPFOffCPUProfiling off = SKYWALKING__V3__EBPFOFF_CPUPROFILING__INIT;
		Skywalking__V3__EBPFProfilingStackMetadata k =
			SKYWALKING__V3__EBPFPROFILING_STACK_METADATA__INIT;
		Skywalking__V3__EBPFProfilingStackMetadata u =
			SKYWALKING__V3__EBPFPROFILING_STACK_METADATA__INIT;
		Skywalking__V3__EBPFProfilingStackMetadata *stacks[2];
		size_t n = 0;

		if (!st->count)
			continue;	/* zero deltas are not sent */
		if (st->nr_kernel) {
			k.stacktype = SKYWALKING__V3__EBPFPROFILING_STACK_TYPE__PROCESS_KERNEL_SPACE;
			k.stackid = *next_id;
			k.n_stacksymbols = st->nr_kernel;
			k.stacksymbols = (char **)st->kernel;
			stacks[n++] = &k;
		}
		if (st->nr_user || !st->nr_kernel) {
			/* a sample without any frame still counts: one [MISSING] frame */
			u.stacktype = SKYWALKING__V3__EBPFPROFILING_STACK_TYPE__PROCESS_USER_SPACE;
			u.stackid = *next_id + 1;
			u.n_stacksymbols = st->nr_user ? st->nr_user : 1;
			u.stacksymbols = st->nr_user ? (char **)st->user : missing;
			stacks[n++] = &u;
		}
		*next_id += 2;
		if (b->target == AGENT_TARGET_OFF_CPU) {
			off.n_stacks = n;
			off.stacks = stacks;
			off.switchcount = clamp32(st->count);
			off.duration = st->duration_ns > INT64_MAX ? INT64_MAX : (int64_t)st->duration_ns;
			msg.profiling_case = SKYWALKING__V3__EBPFPROFILING_DATA__PROFILING_OFF_CPU;
			msg.offcpu = &off;
		} else {
			on.n_stacks = n;
			on.stacks = stacks;
			on.dumpcount = clamp32(st->count);
			msg.profiling_case = SKYWALKING__V3__EBPFPROFILING_DATA__PROFILING_ON_CPU;
			msg.oncpu = &on;
		}
		msg.task = first ? &meta : NULL;	/* the batch's first message only */
		err = oap_ebpf_collect_send(s, &msg);
		if (err)
			return err;
		first = false;
	}
	return 0;
}

int upload_batches(struct oap *c, struct agent_batch *const *b, size_t n)
{
	Skywalking__V3__Commands *resp = NULL;
	struct oap_stream *s;
	int32_t next_id = 1;
	size_t i;
	int err, cerr;

	err = oap_ebpf_collect_open(c, &s);
	if (err)
		return err;
	for (i = 0; i < n && !err; i++)
		err = send_batch(s, b[i], &next_id);
	/* closes and frees in every case; a broken stream says why here */
	cerr = oap_ebpf_collect_close(s, &resp);
	if (resp)
		oap_commands_free(resp);
	return cerr ? cerr : err;
}
