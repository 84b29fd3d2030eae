// SPDX-License-Identifier: GPL-2.0-only
/*
 * The client: credentials (TLS, token), the channel to the current
 * address, failover and back-off, the completion-queue thread, and calls
 * (unary and client streams).  Each call's batches complete on the one
 * completion-queue thread, which wakes the calling thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>

#include "oap_priv.h"
#include "sw_log.h"

#define MAX_UNIMPL_LOGGED 16

struct chan {
	grpc_channel *ch;
	size_t addr;
	int refs;			/* [mu] */
};

struct oap {
	char **addrs;
	size_t nr_addrs;
	char *token;
	grpc_channel_credentials *creds;
	grpc_channel_args args;
	grpc_arg arg[6];
	uint32_t deadline_ms, stream_deadline_ms, backoff_base_ms, backoff_max_ms;

	grpc_completion_queue *cq;
	pthread_t cq_thread;

	pthread_mutex_t mu;
	pthread_cond_t done;		/* a batch completed */
	struct chan *chan;		/* [mu] the current channel, NULL: none yet */
	size_t cur;			/* [mu] index into addrs */
	unsigned int failures;		/* [mu] retryable failures since the last success */
	uint64_t retry_at_ms;		/* [mu] monotonic: no call before */
	uint32_t rnd;			/* [mu] jitter state */
	bool denied_logged;		/* [mu] */
	char *unimpl_logged[MAX_UNIMPL_LOGGED];	/* [mu] methods already reported */
};

struct batch {
	bool done, ok;
};

struct oap_stream {
	struct oap *c;
	struct chan *chan;
	grpc_call *call;
	const char *path;
	grpc_metadata md;
	bool broken;
	bool got_initial;	/* initial metadata received (by oap_stream_recv()) */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *cq_main(void *arg)
{
	struct oap *c = arg;

	for (;;) {
		grpc_event ev = grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
							   NULL);
		struct batch *b = ev.tag;

		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			return NULL;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		pthread_mutex_lock(&c->mu);
		b->ok = ev.success;
		b->done = true;
		pthread_cond_broadcast(&c->done);
		pthread_mutex_unlock(&c->mu);
	}
}

/* Start a batch and wait for the completion-queue thread to see it done. */
static bool run_batch(struct oap *c, grpc_call *call, const grpc_op *ops, size_t n)
{
	struct batch b = { 0 };

	if (grpc_call_start_batch(call, ops, n, &b, NULL) != GRPC_CALL_OK)
		return false;
	pthread_mutex_lock(&c->mu);
	while (!b.done)
		pthread_cond_wait(&c->done, &c->mu);
	pthread_mutex_unlock(&c->mu);
	return b.ok;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, 0, f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int make_creds(struct oap *c, const struct oap_opts *opts)
{
	const char *ca = SW_OPTS_GET(opts, ca_path, NULL);
	const char *cert = SW_OPTS_GET(opts, cert_path, NULL);
	const char *key = SW_OPTS_GET(opts, key_path, NULL);
	char *ca_pem = NULL, *cert_pem = NULL, *key_pem = NULL;
	grpc_ssl_pem_key_cert_pair pair;
	int err = 0;

	if (!SW_OPTS_GET(opts, tls, false)) {
		c->creds = grpc_insecure_credentials_create();
		return 0;
	}
	if (SW_OPTS_GET(opts, insecure_skip_verify, false)) {
		sw_err("oap: insecure_skip_verify is not supported: grpc core always verifies the "
		       "server's certificate; give the CA that signed it in ca_pem_path instead");
		return -EOPNOTSUPP;
	}
	if (!cert != !key) {
		sw_err("oap: a client certificate needs both client_pem_path and client_key_path");
		return -EINVAL;
	}
	if (ca && !(ca_pem = read_file(ca))) {
		err = -errno ?: -EINVAL;
		sw_err("oap: cannot read the CA certificate %s: %s", ca, strerror(-err));
		goto out;
	}
	if (cert && !(cert_pem = read_file(cert))) {
		err = -errno ?: -EINVAL;
		sw_err("oap: cannot read the client certificate %s: %s", cert, strerror(-err));
		goto out;
	}
	if (key && !(key_pem = read_file(key))) {
		err = -errno ?: -EINVAL;
		sw_err("oap: cannot read the client key %s: %s", key, strerror(-err));
		goto out;
	}
	pair.private_key = key_pem;
	pair.cert_chain = cert_pem;
	c->creds = grpc_ssl_credentials_create(ca_pem, cert ? &pair : NULL, NULL, NULL);
	if (!c->creds) {
		sw_err("oap: grpc refused the TLS credentials (CA %s)", ca ?: "system roots");
		err = -EINVAL;
	}
out:
	free(ca_pem);
	free(cert_pem);
	free(key_pem);
	return err;
}

/* grpc's own messages go through sw_log, at debug level: a failed call is
 * reported once, with grpc's details, by note_status() */
static void grpc_log(gpr_log_func_args *a)
{
	sw_debug("grpc: %s", a->message);
}

int oap_new(const struct oap_opts *opts, struct oap **out)
{
	const char *name = NULL;
	struct oap *c;
	size_t n;
	int err, a = 0;

	*out = NULL;
	if (!opts || !SW_OPTS_VALID(opts, oap_opts))
		return -EINVAL;
	n = SW_OPTS_GET(opts, nr_addrs, 0);
	if (!n || !opts->addrs) {
		sw_err("oap: no backend address given");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->addrs = calloc(n, sizeof(*c->addrs));
	if (!c->addrs) {
		free(c);
		return -ENOMEM;
	}
	for (c->nr_addrs = 0; c->nr_addrs < n; c->nr_addrs++)
		if (!(c->addrs[c->nr_addrs] = strdup(opts->addrs[c->nr_addrs]))) {
			err = -ENOMEM;
			goto fail;
		}
	if (SW_OPTS_GET(opts, token, NULL) && opts->token[0] && !(c->token = strdup(opts->token))) {
		err = -ENOMEM;
		goto fail;
	}
	c->deadline_ms = SW_OPTS_GET_OR(opts, deadline_ms, 10000);
	c->stream_deadline_ms = SW_OPTS_GET_OR(opts, stream_deadline_ms, 60000);
	c->backoff_base_ms = SW_OPTS_GET_OR(opts, backoff_base_ms, 1000);
	c->backoff_max_ms = SW_OPTS_GET_OR(opts, backoff_max_ms, 60000);
	c->rnd = (uint32_t)(mono_ms() ^ ((uint64_t)getpid() << 16)) | 1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->done, NULL);

	gpr_set_log_function(grpc_log);
	grpc_init();
	err = make_creds(c, opts);
	if (err)
		goto fail_grpc;

	/* grpc's own reconnect back-off stays below ours; a channel of its own
	 * subchannels, so that a new channel after an outage connects at once */
	c->arg[a++] = (grpc_arg){ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL,
				  .value.integer = 1 };
	c->arg[a++] = (grpc_arg){ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
				  .value.integer = (int)c->backoff_base_ms };
	c->arg[a++] = (grpc_arg){ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
				  .value.integer = (int)c->backoff_base_ms };
	c->arg[a++] = (grpc_arg){ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
				  .value.integer = (int)SW_OPTS_GET_OR(opts, max_recv_bytes, 50u << 20) };
	c->arg[a++] = (grpc_arg){ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ENABLE_RETRIES,
				  .value.integer = 0 };
	name = SW_OPTS_GET(opts, tls_server_name, NULL);
	if (name)
		c->arg[a++] = (grpc_arg){ .type = GRPC_ARG_STRING, .key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
					  .value.string = (char *)name };
	c->args.num_args = a;
	c->args.args = c->arg;
	if (name && !(c->arg[a - 1].value.string = strdup(name))) {
		err = -ENOMEM;
		goto fail_grpc;
	}

	c->cq = grpc_completion_queue_create_for_next(NULL);
	err = -pthread_create(&c->cq_thread, NULL, cq_main, c);
	if (err) {
		grpc_completion_queue_destroy(c->cq);
		c->cq = NULL;
		goto fail_grpc;
	}
	*out = c;
	return 0;

fail_grpc:
	if (c->creds)
		grpc_channel_credentials_release(c->creds);
	if (name && c->arg[a - 1].value.string != name)
		free(c->arg[a - 1].value.string);
	grpc_shutdown();
	pthread_cond_destroy(&c->done);
	pthread_mutex_destroy(&c->mu);
fail:
	while (c->nr_addrs)
		free(c->addrs[--c->nr_addrs]);
	free(c->addrs);
	free(c->token);
	free(c);
	return err;
}

static void chan_put_locked(struct chan *ch)
{
	if (ch && !--ch->refs) {
		grpc_channel_destroy(ch->ch);
		free(ch);
	}
}

static void chan_put(struct oap *c, struct chan *ch)
{
	pthread_mutex_lock(&c->mu);
	chan_put_locked(ch);
	pthread_mutex_unlock(&c->mu);
}

void oap_free(struct oap *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	chan_put_locked(c->chan);
	c->chan = NULL;
	pthread_mutex_unlock(&c->mu);
	grpc_completion_queue_shutdown(c->cq);
	pthread_join(c->cq_thread, NULL);
	grpc_completion_queue_destroy(c->cq);
	grpc_channel_credentials_release(c->creds);
	if (c->args.num_args && c->arg[c->args.num_args - 1].type == GRPC_ARG_STRING)
		free(c->arg[c->args.num_args - 1].value.string);
	grpc_shutdown();
	pthread_cond_destroy(&c->done);
	pthread_mutex_destroy(&c->mu);
	for (size_t i = 0; i < MAX_UNIMPL_LOGGED; i++)
		free(c->unimpl_logged[i]);
	while (c->nr_addrs)
		free(c->addrs[--c->nr_addrs]);
	free(c->addrs);
	free(c->token);
	free(c);
}

uint32_t oap_retry_in_ms(struct oap *c)
{
	uint64_t now = mono_ms();
	uint32_t left;

	pthread_mutex_lock(&c->mu);
	left = c->retry_at_ms > now ? (uint32_t)(c->retry_at_ms - now) : 0;
	pthread_mutex_unlock(&c->mu);
	return left;
}

const char *oap_current_addr(struct oap *c)
{
	const char *a;

	pthread_mutex_lock(&c->mu);
	a = c->addrs[c->cur];
	pthread_mutex_unlock(&c->mu);
	return a;
}

/* The current channel, referenced; -EAGAIN while backing off. */
static int chan_get(struct oap *c, struct chan **out)
{
	struct chan *ch;
	int err = 0;

	pthread_mutex_lock(&c->mu);
	if (c->retry_at_ms > mono_ms()) {
		err = -EAGAIN;
		goto out;
	}
	if (!c->chan) {
		ch = calloc(1, sizeof(*ch));
		if (!ch) {
			err = -ENOMEM;
			goto out;
		}
		ch->addr = c->cur;
		ch->refs = 1;
		ch->ch = grpc_channel_create(c->addrs[c->cur], c->creds, &c->args);
		if (!ch->ch) {
			free(ch);
			err = -ENOMEM;
			goto out;
		}
		c->chan = ch;
	}
	c->chan->refs++;
	*out = c->chan;
out:
	pthread_mutex_unlock(&c->mu);
	return err;
}

static bool retryable(grpc_status_code code)
{
	return code == GRPC_STATUS_UNAVAILABLE || code == GRPC_STATUS_RESOURCE_EXHAUSTED ||
	       code == GRPC_STATUS_DEADLINE_EXCEEDED;
}

/*
 * Account for one call's end on @ch: reset the back-off on success; on a
 * retryable failure move to the next address (a fresh channel) and, when
 * @backoff, schedule the next try.  One log line per outage, per wrong
 * token, per unimplemented method.
 */
static void note_status(struct oap *c, struct chan *ch, const char *path, grpc_status_code code,
			const char *details, bool backoff)
{
	const char *addr = c->addrs[ch->addr];
	uint32_t wait;
	size_t i;

	/* state changes are logged at debug level: the caller says them once, with what to do */
	pthread_mutex_lock(&c->mu);
	if (code == GRPC_STATUS_OK) {
		if (c->failures)
			sw_debug("oap: %s reachable again after %u failed attempts", addr, c->failures);
		c->failures = 0;
		c->retry_at_ms = 0;
		c->denied_logged = false;
		goto out;
	}
	if (retryable(code)) {
		if (c->chan == ch) {
			c->chan = NULL;
			chan_put_locked(ch);
			c->cur = (ch->addr + 1) % c->nr_addrs;
		}
		if (!backoff)
			goto out;
		c->rnd ^= c->rnd << 13;
		c->rnd ^= c->rnd >> 17;
		c->rnd ^= c->rnd << 5;
		wait = oap_backoff_ms(++c->failures, c->backoff_base_ms, c->backoff_max_ms, c->rnd);
		c->retry_at_ms = mono_ms() + wait;
		if (c->failures == 1)
			sw_debug("oap: %s %s (%s): retrying with back-off", addr,
				code == GRPC_STATUS_UNAVAILABLE ? "unavailable" :
				code == GRPC_STATUS_RESOURCE_EXHAUSTED ? "busy (RESOURCE_EXHAUSTED)" :
				"too slow (DEADLINE_EXCEEDED)", details);
		else
			sw_debug("oap: %s: %s; next try in %u ms", addr, details, wait);
		goto out;
	}
	if (code == GRPC_STATUS_PERMISSION_DENIED || code == GRPC_STATUS_UNAUTHENTICATED) {
		if (!c->denied_logged)
			sw_debug("oap: %s refused the authentication token (%s): check `authentication` "
			       "against OAP's core.default.authentication", addr,
			       code == GRPC_STATUS_PERMISSION_DENIED ? "PERMISSION_DENIED" :
			       "UNAUTHENTICATED");
		c->denied_logged = true;
		goto out;
	}
	if (code == GRPC_STATUS_UNIMPLEMENTED) {
		for (i = 0; i < MAX_UNIMPL_LOGGED && c->unimpl_logged[i]; i++)
			if (!strcmp(c->unimpl_logged[i], path))
				goto out;
		if (i < MAX_UNIMPL_LOGGED)
			c->unimpl_logged[i] = strdup(path);	/* NULL: logged again next time */
		sw_debug("oap: %s does not implement %s: enable the receiver in OAP (receiver-ebpf "
		       "for the eBPF services, receiver-profile for ProfileTask)", addr, path);
		goto out;
	}
	sw_log_ratelimited(SW_LOG_WARN, "oap: %s: %s failed: status %d: %s", addr, path, code,
			   details);
out:
	pthread_mutex_unlock(&c->mu);
}

static grpc_call *new_call(struct oap *c, struct chan *ch, const char *path, uint32_t ms)
{
	gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
				       gpr_time_from_millis(ms, GPR_TIMESPAN));

	return grpc_channel_create_call(ch->ch, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
					grpc_slice_from_static_string(path), NULL, dl, NULL);
}

static void set_md(struct oap *c, grpc_metadata *md, grpc_op *op)
{
	memset(op, 0, sizeof(*op));
	op->op = GRPC_OP_SEND_INITIAL_METADATA;
	if (!c->token)
		return;
	memset(md, 0, sizeof(*md));
	md->key = grpc_slice_from_static_string("authentication");
	md->value = grpc_slice_from_static_string(c->token);
	op->data.send_initial_metadata.count = 1;
	op->data.send_initial_metadata.metadata = md;
}

/* The ops that end a call: initial metadata, the reply, the status. */
struct call_end {
	grpc_metadata_array initial, trailing;
	grpc_byte_buffer *reply;
	grpc_status_code status;
	grpc_slice details;
	const char *error;
};

static size_t end_ops(struct call_end *e, grpc_op *ops, bool got_initial)
{
	size_t n = 0;

	memset(e, 0, sizeof(*e));
	grpc_metadata_array_init(&e->initial);
	grpc_metadata_array_init(&e->trailing);
	memset(ops, 0, 3 * sizeof(*ops));
	if (!got_initial) {
		ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
		ops[n++].data.recv_initial_metadata.recv_initial_metadata = &e->initial;
	}
	ops[n].op = GRPC_OP_RECV_MESSAGE;
	ops[n++].data.recv_message.recv_message = &e->reply;
	ops[n].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[n].data.recv_status_on_client.trailing_metadata = &e->trailing;
	ops[n].data.recv_status_on_client.status = &e->status;
	ops[n].data.recv_status_on_client.status_details = &e->details;
	ops[n++].data.recv_status_on_client.error_string = &e->error;
	return n;
}

/* Log, decode the reply; free the ends.  Returns the call's result. */
static int finish(struct oap *c, struct chan *ch, const char *path, struct call_end *e,
		  bool backoff, const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
	char details[256];
	int err = oap_status_errno(e->status);

	snprintf(details, sizeof(details), "%.*s", (int)GRPC_SLICE_LENGTH(e->details),
		 (const char *)GRPC_SLICE_START_PTR(e->details));
	note_status(c, ch, path, e->status, details, backoff);
	if (!err && resp_desc && resp) {
		err = oap_unpack(e->reply, resp_desc, resp);
		if (err)
			sw_log_ratelimited(SW_LOG_WARN, "oap: %s: the reply to %s does not decode",
					   c->addrs[ch->addr], path);
	}
	if (e->reply)
		grpc_byte_buffer_destroy(e->reply);
	grpc_slice_unref(e->details);
	gpr_free((void *)e->error);
	grpc_metadata_array_destroy(&e->initial);
	grpc_metadata_array_destroy(&e->trailing);
	return err;
}

/* One attempt on the current channel; *code the status. */
static int unary_once(struct oap *c, const char *path, grpc_byte_buffer *req, bool last,
		      const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
		      grpc_status_code *code)
{
	struct call_end e;
	struct chan *ch;
	grpc_metadata md;
	grpc_op ops[6];
	grpc_call *call;
	int err;

	err = chan_get(c, &ch);
	if (err)
		return err;
	call = new_call(c, ch, path, c->deadline_ms);
	if (!call) {
		chan_put(c, ch);
		return -ENOMEM;
	}
	set_md(c, &md, &ops[0]);
	memset(&ops[1], 0, 2 * sizeof(*ops));
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = req;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	run_batch(c, call, ops, 3 + end_ops(&e, &ops[3], false));
	*code = e.status;
	/* UNAVAILABLE before the last address: fail over without back-off */
	err = finish(c, ch, path, &e, last || e.status != GRPC_STATUS_UNAVAILABLE, resp_desc, resp);
	grpc_call_unref(call);
	chan_put(c, ch);
	return err;
}

int oap_unary(struct oap *c, const char *path, const ProtobufCMessage *req,
	      const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
	grpc_status_code code = GRPC_STATUS_OK;
	grpc_byte_buffer *bb;
	int err = -EPROTO;

	if (resp)
		*resp = NULL;
	bb = oap_pack(req);
	if (!bb)
		return -ENOMEM;
	for (size_t i = 0; i < c->nr_addrs; i++) {
		err = unary_once(c, path, bb, i + 1 == c->nr_addrs, resp_desc, resp, &code);
		if (err != -ECONNREFUSED)
			break;
	}
	grpc_byte_buffer_destroy(bb);
	return err;
}

int oap_stream_open(struct oap *c, const char *path, struct oap_stream **out)
{
	struct oap_stream *s;
	grpc_op op;
	int err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = chan_get(c, &s->chan);
	if (err) {
		free(s);
		return err;
	}
	s->c = c;
	s->path = path;
	s->call = new_call(c, s->chan, path, c->stream_deadline_ms);
	if (!s->call) {
		chan_put(c, s->chan);
		free(s);
		return -ENOMEM;
	}
	set_md(c, &s->md, &op);
	if (!run_batch(c, s->call, &op, 1))
		s->broken = true;
	*out = s;
	return 0;
}

int oap_stream_send(struct oap_stream *s, const ProtobufCMessage *msg)
{
	grpc_byte_buffer *bb;
	grpc_op op;

	if (s->broken)
		return -EPIPE;
	bb = oap_pack(msg);
	if (!bb)
		return -ENOMEM;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.data.send_message.send_message = bb;
	if (!run_batch(s->c, s->call, &op, 1))
		s->broken = true;
	grpc_byte_buffer_destroy(bb);
	return s->broken ? -EPIPE : 0;
}

int oap_stream_recv(struct oap_stream *s, const ProtobufCMessageDescriptor *desc,
		    ProtobufCMessage **out)
{
	grpc_metadata_array initial;
	grpc_byte_buffer *bb = NULL;
	grpc_op ops[2];
	size_t n = 0;
	int err;

	*out = NULL;
	if (s->broken)
		return -EPIPE;
	grpc_metadata_array_init(&initial);
	memset(ops, 0, sizeof(ops));
	if (!s->got_initial) {
		ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
		ops[n++].data.recv_initial_metadata.recv_initial_metadata = &initial;
	}
	ops[n].op = GRPC_OP_RECV_MESSAGE;
	ops[n++].data.recv_message.recv_message = &bb;
	if (!run_batch(s->c, s->call, ops, n))
		s->broken = true;
	s->got_initial = true;
	grpc_metadata_array_destroy(&initial);
	if (s->broken || !bb)
		return s->broken ? -EPIPE : -ENODATA;
	err = oap_unpack(bb, desc, out);
	grpc_byte_buffer_destroy(bb);
	return err;
}

int oap_stream_close(struct oap_stream *s, const ProtobufCMessageDescriptor *resp_desc,
		     ProtobufCMessage **resp)
{
	struct oap *c = s->c;
	struct call_end e;
	grpc_op ops[4];
	size_t n = 0;
	int err;

	if (resp)
		*resp = NULL;
	memset(ops, 0, sizeof(ops));
	if (!s->broken) {
		ops[0].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
		run_batch(c, s->call, ops, 1);	/* a failure shows in the status */
	}
	n = end_ops(&e, ops, s->got_initial);
	run_batch(c, s->call, ops, n);
	err = finish(c, s->chan, s->path, &e, true, resp_desc, resp);
	grpc_call_unref(s->call);
	chan_put(c, s->chan);
	free(s);
	return err;
}
