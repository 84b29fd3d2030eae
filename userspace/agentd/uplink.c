// SPDX-License-Identifier: GPL-2.0-only
/* The thread that talks to OAP and owns the spool (uplink.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "agent_spool.h"
#include "sw_log.h"
#include "sw_time.h"
#include "uplink.h"

/* What an OAP client is made of, owned (the config may be reloaded). */
struct backend {
	char **addrs;
	size_t nr_addrs;
	char *token, *ca, *cert, *key;
	bool tls, insecure;
	uint32_t check_ms;	/* core.backend.check_period: the longest back-off */
};

struct uplink {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *todo, **todo_tail;		/* lock */
	struct job *done, **done_tail;		/* lock */
	bool stop;				/* lock */
	int64_t stop_by_ms;			/* lock: give up on the queue then */
	struct backend *next_backend;		/* lock: SIGHUP's, taken between jobs */
	struct uplink_stats st;			/* lock */
	/* the thread's own */
	char *agent_id;
	struct backend *be;
	struct oap *oap;
	struct agent_spool *spool;
	bool up;
	int64_t down_since_ms;
	int last_err;
};

static const char *const err_names[UPLINK_ERR_NR] = {
	"unavailable", "deadline", "exhausted", "denied", "unimplemented", "broken", "other",
};

const char *uplink_err_name(enum uplink_err e)
{
	return e < UPLINK_ERR_NR ? err_names[e] : "?";
}

static enum uplink_err err_kind(int err)
{
	switch (err) {
	case -ECONNREFUSED: return UPLINK_ERR_UNAVAILABLE;
	case -ETIMEDOUT: return UPLINK_ERR_DEADLINE;
	case -ENOBUFS: return UPLINK_ERR_EXHAUSTED;
	case -EACCES: return UPLINK_ERR_DENIED;
	case -EOPNOTSUPP: return UPLINK_ERR_UNIMPLEMENTED;
	case -EPIPE: return UPLINK_ERR_BROKEN;
	default: return UPLINK_ERR_OTHER;
	}
}

void proc_desc_free(struct proc_desc *p)
{
	size_t i;

	free(p->layer);
	free(p->service);
	free(p->instance);
	free(p->process);
	free(p->cmdline);
	for (i = 0; i < p->nr_labels; i++)
		free(p->labels[i]);
	free(p->labels);
}

struct job *job_new(enum job_kind kind)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j)
		j->kind = kind;
	return j;
}

struct agent_kv *job_command_args(const Skywalking__V3__Command *c)
{
	struct agent_kv *kv = calloc(c->n_args + 1, sizeof(*kv));
	size_t k;

	for (k = 0; kv && k < c->n_args; k++) {
		kv[k].key = c->args[k]->key;
		kv[k].value = c->args[k]->value;
	}
	return kv;
}

void job_free(struct job *j)
{
	size_t i;

	if (!j)
		return;
	for (i = 0; i < j->nr_procs; i++)
		proc_desc_free(&j->procs[i]);
	free(j->procs);
	free(j->host_ip);
	if (j->procs_resp)
		oap_ebpf_processes_free(j->procs_resp);
	if (j->cmds)
		oap_commands_free(j->cmds);
	for (i = 0; i < j->nr_batches; i++)
		agent_batch_free(j->batches[i]);
	free(j->batches);
	cp_job_free(j);
	tp_job_free(j);
	free(j);
}

/* ---- the client ------------------------------------------------------- */

static void backend_free(struct backend *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->nr_addrs; i++)
		free(b->addrs[i]);
	free(b->addrs);
	free(b->token);
	free(b->ca);
	free(b->cert);
	free(b->key);
	free(b);
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

static struct backend *backend_from(const struct agent_config *cfg)
{
	struct backend *b = calloc(1, sizeof(*b));
	size_t i;

	if (!b)
		return NULL;
	b->addrs = calloc(cfg->backend.nr_addrs, sizeof(*b->addrs));
	if (!b->addrs)
		goto nomem;
	for (i = 0; i < cfg->backend.nr_addrs; i++, b->nr_addrs++)
		if (!(b->addrs[i] = strdup(cfg->backend.addrs[i])))
			goto nomem;
	b->check_ms = cfg->backend.check_period_ns / 1000000;
	b->tls = cfg->backend.enable_tls;
	b->insecure = cfg->backend.insecure_skip_verify;
	b->token = dup_or_null(cfg->backend.authentication);
	if (b->tls) {
		b->ca = dup_or_null(cfg->backend.ca_pem_path);
		b->cert = dup_or_null(cfg->backend.client_pem_path);
		b->key = dup_or_null(cfg->backend.client_key_path);
	}
	return b;
nomem:
	backend_free(b);
	return NULL;
}

static int client_new(const struct backend *b, struct oap **out)
{
	/* a client certificate is optional: only when both files exist */
	bool cert = b->cert && b->key && !access(b->cert, R_OK) && !access(b->key, R_OK);
	OAP_OPTS(o, .addrs = (const char *const *)b->addrs, .nr_addrs = b->nr_addrs,
		 .token = b->token, .tls = b->tls, .ca_path = b->ca,
		 .cert_path = cert ? b->cert : NULL, .key_path = cert ? b->key : NULL,
		 .insecure_skip_verify = b->insecure, .backoff_max_ms = b->check_ms,
		 .backoff_base_ms = b->check_ms < 1000 ? b->check_ms : 0);

	if (b->tls && b->ca && access(b->ca, R_OK)) {
		sw_err("core.backend.ca_pem_path %s: %s; set it to OAP's CA certificate (PEM)",
		       b->ca, strerror(errno));
		return -errno;
	}
	return oap_new(&o, out);
}

/* ---- calls ------------------------------------------------------------ */

/* Count a call's result; say it once when OAP goes away or comes back. */
static void note(struct uplink *u, int err)
{
	int64_t now = sw_epoch_ns() / 1000000;

	if (err == -EAGAIN)
		return;		/* backing off: nothing was tried */
	pthread_mutex_lock(&u->lock);
	u->st.calls++;
	if (err)
		u->st.errors[err_kind(err)]++;
	pthread_mutex_unlock(&u->lock);
	if (!err) {
		if (!u->up) {
			if (u->down_since_ms)
				sw_info("OAP at %s reachable again after %.1f s", oap_current_addr(u->oap),
					(now - u->down_since_ms) / 1000.0);
			pthread_mutex_lock(&u->lock);
			u->st.reconnects += !!u->down_since_ms;
			pthread_mutex_unlock(&u->lock);
		}
		u->up = true;
		u->down_since_ms = 0;
		u->last_err = 0;
		return;
	}
	if (err != -ECONNREFUSED && err != -ETIMEDOUT && err != -ENOBUFS && err != -EACCES &&
	    err != -EOPNOTSUPP) {
		/* OAP answered, with an error: it is not down, but say it (rate-limited) */
		sw_log_ratelimited(SW_LOG_WARN, "OAP at %s failed a call: %s", oap_current_addr(u->oap),
				   strerror(-err));
		return;
	}
	if (err == u->last_err)
		return;
	u->last_err = err;
	switch (err) {
	case -EACCES:
		sw_err("OAP at %s refused the token (PERMISSION_DENIED): set "
		       "core.backend.authentication to OAP's authentication setting; retrying",
		       oap_current_addr(u->oap));
		break;
	case -EOPNOTSUPP:
		sw_err("OAP at %s lacks a service the agent uses (UNIMPLEMENTED): enable "
		       "receiver-ebpf (and receiver-profile) in OAP's application.yml; retrying",
		       oap_current_addr(u->oap));
		break;
	default:
		sw_warn("OAP at %s: %s; retrying with back-off, profiles are %s meanwhile",
			oap_current_addr(u->oap), strerror(-err),
			u->spool ? "spooled" : "dropped (no spool)");
		break;
	}
	if (u->up || !u->down_since_ms)
		u->down_since_ms = now;
	u->up = false;
}

static void fill_entity(Skywalking__V3__EBPFProcessEntityMetadata *e, const struct proc_desc *p)
{
	skywalking__v3__ebpfprocess_entity_metadata__init(e);
	e->layer = p->layer;
	e->servicename = p->service;
	e->instancename = p->instance;
	e->processname = p->process;
	e->n_labels = p->nr_labels;
	e->labels = p->labels;
}

static int do_report(struct uplink *u, struct job *j)
{
	Skywalking__V3__EBPFProcessReportList req = SKYWALKING__V3__EBPFPROCESS_REPORT_LIST__INIT;
	size_t n = j->nr_procs, i;
	Skywalking__V3__EBPFProcessProperties *props = calloc(n + 1, sizeof(*props));
	Skywalking__V3__EBPFProcessProperties **pp = calloc(n + 1, sizeof(*pp));
	Skywalking__V3__EBPFHostProcessMetadata *hm = calloc(n + 1, sizeof(*hm));
	Skywalking__V3__EBPFProcessEntityMetadata *em = calloc(n + 1, sizeof(*em));
	Skywalking__V3__KeyStringValuePair *kv = calloc(4 * n + 1, sizeof(*kv));
	Skywalking__V3__KeyStringValuePair **kvp = calloc(4 * n + 1, sizeof(*kvp));
	char (*pids)[16] = calloc(n + 1, sizeof(*pids));
	int err = -ENOMEM;

	if (!props || !pp || !hm || !em || !kv || !kvp || !pids)
		goto out;
	for (i = 0; i < n; i++) {
		const struct proc_desc *p = &j->procs[i];
		static const char *const keys[4] = {
			"host_ip", "pid", "command_line", "support_ebpf_profiling",
		};
		const char *vals[4];
		int k;

		snprintf(pids[i], sizeof(pids[i]), "%d", p->pid);
		vals[0] = j->host_ip ? j->host_ip : "";
		vals[1] = pids[i];
		vals[2] = p->cmdline;
		vals[3] = "true";
		for (k = 0; k < 4; k++) {
			skywalking__v3__key_string_value_pair__init(&kv[4 * i + k]);
			kv[4 * i + k].key = (char *)keys[k];
			kv[4 * i + k].value = (char *)vals[k];
			kvp[4 * i + k] = &kv[4 * i + k];
		}
		fill_entity(&em[i], p);
		skywalking__v3__ebpfhost_process_metadata__init(&hm[i]);
		hm[i].entity = &em[i];
		hm[i].pid = p->pid;
		hm[i].n_properties = 4;
		hm[i].properties = &kvp[4 * i];
		skywalking__v3__ebpfprocess_properties__init(&props[i]);
		props[i].metadata_case =
			SKYWALKING__V3__EBPFPROCESS_PROPERTIES__METADATA_HOST_PROCESS;
		props[i].hostprocess = &hm[i];
		pp[i] = &props[i];
	}
	req.n_processes = n;
	req.processes = pp;
	req.ebpfagentid = u->agent_id;
	err = oap_ebpf_report_processes(u->oap, &req, &j->procs_resp);
out:
	free(props);
	free(pp);
	free(hm);
	free(em);
	free(kv);
	free(kvp);
	free(pids);
	return err;
}

static int do_keepalive(struct uplink *u, struct job *j)
{
	Skywalking__V3__EBPFProcessPingPkgList req = SKYWALKING__V3__EBPFPROCESS_PING_PKG_LIST__INIT;
	size_t n = j->nr_procs, i;
	Skywalking__V3__EBPFProcessPingPkg *pk = calloc(n + 1, sizeof(*pk));
	Skywalking__V3__EBPFProcessPingPkg **pkp = calloc(n + 1, sizeof(*pkp));
	Skywalking__V3__EBPFProcessEntityMetadata *em = calloc(n + 1, sizeof(*em));
	Skywalking__V3__Commands *resp = NULL;
	int err = -ENOMEM;

	if (!pk || !pkp || !em)
		goto out;
	for (i = 0; i < n; i++) {
		fill_entity(&em[i], &j->procs[i]);
		skywalking__v3__ebpfprocess_ping_pkg__init(&pk[i]);
		pk[i].entitymetadata = &em[i];
		pkp[i] = &pk[i];
	}
	req.n_processes = n;
	req.processes = pkp;
	req.ebpfagentid = u->agent_id;
	err = oap_ebpf_keepalive(u->oap, &req, &resp);
	if (resp)
		oap_commands_free(resp);
out:
	free(pk);
	free(pkp);
	free(em);
	return err;
}

static void count_drop(struct uplink *u, uint64_t *reason, uint64_t samples)
{
	pthread_mutex_lock(&u->lock);
	*reason += samples;
	u->st.samples_dropped += samples;
	pthread_mutex_unlock(&u->lock);
}

static void count_sent(struct uplink *u, struct agent_batch *const *b, size_t n)
{
	size_t i;

	pthread_mutex_lock(&u->lock);
	u->st.uploads++;
	for (i = 0; i < n; i++) {
		u->st.batches_sent++;
		u->st.samples_sent += b[i]->samples;
	}
	pthread_mutex_unlock(&u->lock);
}

/* What uplink_stats() shows of the thread's own state (the client is the thread's). */
static void publish(struct uplink *u)
{
	struct agent_spool_stats ss = { 0 };

	if (u->spool)
		agent_spool_stats(u->spool, &ss);
	pthread_mutex_lock(&u->lock);
	u->st.up = u->up;
	u->st.down_since_ms = u->down_since_ms;
	u->st.retry_in_ms = oap_retry_in_ms(u->oap);
	snprintf(u->st.addr, sizeof(u->st.addr), "%s", oap_current_addr(u->oap));
	u->st.spool_entries = ss.entries;
	u->st.spool_bytes = ss.bytes;
	u->st.spool_samples = ss.samples;
	pthread_mutex_unlock(&u->lock);
}

/* Into the spool, or counted as dropped with the reason. */
static void spool_batch(struct uplink *u, const struct agent_batch *b)
{
	struct agent_spool_stats before, after;
	uint64_t dropped;
	size_t len;
	void *buf;
	int err;

	if (!u->spool) {
		count_drop(u, &u->st.dropped_spool_error, b->samples);
		return;
	}
	if (agent_batch_encode(b, &buf, &len)) {
		count_drop(u, &u->st.dropped_spool_error, b->samples);
		return;
	}
	agent_spool_stats(u->spool, &before);
	err = agent_spool_put(u->spool, buf, len, b->samples);
	agent_spool_stats(u->spool, &after);
	free(buf);
	/*
	 * The spool drops the oldest entries to make room (its bound), then may
	 * refuse this one: larger than the bound itself (-EFBIG: the bound too),
	 * not written (-ENOSPC, -EIO), or no memory to track it (not counted
	 * by the spool, but lost all the same).
	 */
	dropped = after.dropped_samples - before.dropped_samples;
	if (err) {
		count_drop(u, err == -EFBIG ? &u->st.dropped_spool_full :
			   &u->st.dropped_spool_error, b->samples);
		dropped -= dropped < b->samples ? dropped : b->samples;
	}
	if (dropped)
		count_drop(u, &u->st.dropped_spool_full, dropped);
	if (!err) {
		pthread_mutex_lock(&u->lock);
		u->st.samples_spooled += b->samples;
		pthread_mutex_unlock(&u->lock);
	}
}

/* Deliver spooled batches, oldest first, while OAP takes them. */
static void drain_spool(struct uplink *u)
{
	struct agent_batch *b;
	uint64_t id, samples;
	size_t len;
	void *buf;
	int err;

	while (u->spool && !oap_retry_in_ms(u->oap) &&
	       !agent_spool_peek(u->spool, &id, &buf, &len, &samples)) {
		err = agent_batch_decode(buf, len, &b);
		free(buf);
		if (err) {
			sw_warn("spool: entry %llu no longer decodes: dropped (%llu samples)",
				(unsigned long long)id, (unsigned long long)samples);
			agent_spool_remove(u->spool, id);
			count_drop(u, &u->st.dropped_corrupt, samples);
			continue;
		}
		err = upload_batches(u->oap, &b, 1);
		note(u, err);
		if (!err) {
			count_sent(u, &b, 1);
			agent_spool_remove(u->spool, id);
		}
		agent_batch_free(b);
		if (err)
			break;
	}
	publish(u);
}

static void do_upload(struct uplink *u, struct job *j)
{
	struct agent_spool_stats ss = { 0 };
	size_t i;
	int err = -EAGAIN;

	if (u->spool)
		agent_spool_stats(u->spool, &ss);
	/* in order: what waits in the spool goes first */
	if (!ss.entries && !oap_retry_in_ms(u->oap)) {
		err = upload_batches(u->oap, j->batches, j->nr_batches);
		note(u, err);
	}
	if (!err)
		count_sent(u, j->batches, j->nr_batches);
	else
		for (i = 0; i < j->nr_batches; i++)
			spool_batch(u, j->batches[i]);
	publish(u);
}

static void run_job(struct uplink *u, struct job *j)
{
	switch (j->kind) {
	case JOB_REPORT:
		j->err = do_report(u, j);
		break;
	case JOB_KEEPALIVE:
		j->err = do_keepalive(u, j);
		break;
	case JOB_QUERY:
		j->err = oap_ebpf_query_tasks(u->oap, u->agent_id, j->latest_update, &j->cmds);
		break;
	case JOB_UPLOAD:
		do_upload(u, j);
		return;
	case JOB_POLICIES:
		j->err = cp_query_policies(u->oap, j);
		break;
	case JOB_CP_REPORT:
		j->err = cp_report_task(u->oap, j);
		break;
	case JOB_METERS:
		j->err = cp_send_meters(u->oap, j);
		break;
	case JOB_TP_INSTANCE:
		j->err = tp_report_instance(u->oap, j);
		break;
	case JOB_TP_PING:
		j->err = tp_keepalive(u->oap, j);
		break;
	case JOB_TP_QUERY:
		j->err = tp_query(u->oap, j);
		break;
	case JOB_TP_FINISH:
		j->err = tp_finish(u->oap, j);
		break;
	case JOB_TP_SEGMENTS:
		j->err = tp_send_segments(u->oap, j);
		break;
	case JOB_TP_SNAPSHOTS:
		j->err = tp_send_snapshots(u->oap, j);
		pthread_mutex_lock(&u->lock);
		u->st.snapshots_sent += j->tp.sent;
		pthread_mutex_unlock(&u->lock);
		break;
	}
	note(u, j->err);
}

/* ---- the thread ------------------------------------------------------- */

static void take_backend(struct uplink *u)
{
	struct backend *b;
	struct oap *c;

	pthread_mutex_lock(&u->lock);
	b = u->next_backend;
	u->next_backend = NULL;
	pthread_mutex_unlock(&u->lock);
	if (!b)
		return;
	if (client_new(b, &c)) {
		sw_err("core.backend: the new settings give no client; keeping %s",
		       oap_current_addr(u->oap));
		backend_free(b);
		return;
	}
	oap_free(u->oap);
	backend_free(u->be);
	u->oap = c;
	u->be = b;
	u->up = false;
	u->last_err = 0;
	sw_info("core.backend: now %s", oap_current_addr(c));
}

static void *uplink_main(void *arg)
{
	struct uplink *u = arg;
	struct job *j;

	pthread_mutex_lock(&u->lock);
	for (;;) {
		while (!u->todo && !u->stop) {
			struct timespec ts;

			/* wake up now and then to deliver the spool */
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&u->cond, &u->lock, &ts);
			if (!u->todo && u->st.spool_entries)
				break;
		}
		if (u->stop && (!u->todo || (int64_t)(sw_epoch_ns() / 1000000) >= u->stop_by_ms))
			break;
		j = u->todo;
		if (j) {
			u->todo = j->next;
			if (!u->todo)
				u->todo_tail = &u->todo;
			u->st.queued_jobs--;
		}
		pthread_mutex_unlock(&u->lock);
		take_backend(u);
		if (j)
			run_job(u, j);
		if (!u->stop)
			drain_spool(u);
		publish(u);
		pthread_mutex_lock(&u->lock);
		if (j && j->kind != JOB_UPLOAD && j->kind != JOB_METERS) {
			j->next = NULL;
			*u->done_tail = j;
			u->done_tail = &j->next;
		} else if (j) {
			pthread_mutex_unlock(&u->lock);
			job_free(j);
			pthread_mutex_lock(&u->lock);
		}
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

int uplink_new(const struct agent_config *cfg, const char *agent_id, struct uplink **out)
{
	AGENT_SPOOL_OPTS(so, .dir = cfg->agent.spool_dir, .max_bytes = cfg->agent.spool_max_bytes);
	struct uplink *u = calloc(1, sizeof(*u));
	int err = -ENOMEM;

	if (!u)
		return -ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->cond, NULL);
	u->todo_tail = &u->todo;
	u->done_tail = &u->done;
	u->agent_id = strdup(agent_id);
	u->be = backend_from(cfg);
	if (!u->agent_id || !u->be)
		goto fail;
	err = client_new(u->be, &u->oap);
	if (err)
		goto fail;
	if (agent_spool_open(&so, &u->spool))
		sw_warn("running without a spool: what OAP cannot take is dropped (and counted)");
	publish(u);
	err = -pthread_create(&u->thread, NULL, uplink_main, u);
	if (err)
		goto fail;
	*out = u;
	return 0;
fail:
	if (u->spool)
		agent_spool_close(u->spool);
	if (u->oap)
		oap_free(u->oap);
	backend_free(u->be);
	free(u->agent_id);
	free(u);
	return err;
}

void uplink_free(struct uplink *u, uint32_t grace_ms)
{
	struct job *j;
	size_t i;

	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	u->stop = true;
	u->stop_by_ms = sw_epoch_ns() / 1000000 + grace_ms;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->lock);
	pthread_join(u->thread, NULL);
	/* OAP's time is up, not the spool's: it keeps them for the next run */
	while ((j = u->todo)) {
		u->todo = j->next;
		for (i = 0; i < j->nr_batches; i++) {
			if (u->spool)
				spool_batch(u, j->batches[i]);
			else
				count_drop(u, &u->st.dropped_exit, j->batches[i]->samples);
		}
		job_free(j);
	}
	if (u->st.dropped_exit)
		sw_warn("exit: %llu samples still queued for OAP were dropped",
			(unsigned long long)u->st.dropped_exit);
	while ((j = u->done)) {
		u->done = j->next;
		job_free(j);
	}
	if (u->spool)
		agent_spool_close(u->spool);
	oap_free(u->oap);
	backend_free(u->be);
	backend_free(u->next_backend);
	free(u->agent_id);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->cond);
	free(u);
}

void uplink_submit(struct uplink *u, struct job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&u->lock);
	*u->todo_tail = j;
	u->todo_tail = &j->next;
	u->st.queued_jobs++;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->lock);
}

struct job *uplink_done(struct uplink *u)
{
	struct job *j;

	pthread_mutex_lock(&u->lock);
	j = u->done;
	if (j) {
		u->done = j->next;
		if (!u->done)
			u->done_tail = &u->done;
		j->next = NULL;
	}
	pthread_mutex_unlock(&u->lock);
	return j;
}

int uplink_reconfigure(struct uplink *u, const struct agent_config *cfg)
{
	struct backend *b = backend_from(cfg);

	if (!b)
		return -ENOMEM;
	pthread_mutex_lock(&u->lock);
	backend_free(u->next_backend);
	u->next_backend = b;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

void uplink_stats(struct uplink *u, struct uplink_stats *st)
{
	int64_t now = sw_epoch_ns() / 1000000;

	pthread_mutex_lock(&u->lock);
	*st = u->st;
	pthread_mutex_unlock(&u->lock);
	st->down_ms = st->down_since_ms ? (uint64_t)(now - st->down_since_ms) : 0;
}
