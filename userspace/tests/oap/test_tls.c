// SPDX-License-Identifier: GPL-2.0-only
/*
 * TLS to tools/fake-oap with certificates made by openssl for this run:
 * the right CA, the wrong CA, a client certificate, an unreadable CA.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "fake_oap.h"
#include "oap.h"
#include "sw_log.h"

static int nr_lines;
static char last[512];

static void capture(void *ctx, enum sw_log_level level, const char *msg)
{
	nr_lines++;
	snprintf(last, sizeof(last), "%s", msg);
}

/* EC keys: quick to make.  ca signs srv (127.0.0.1) and cli; other is a stranger. */
static const char make_certs[] =
	"set -e; cd \"$1\"; exec 2>openssl.log >&2\n"
	"key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out $1.key; }\n"
	"for ca in ca other; do key $ca; openssl req -x509 -new -key $ca.key -out $ca.pem -days 1 "
	"-subj /CN=swprof-test-$ca; done\n"
	"printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > srv.ext\n"
	"printf 'extendedKeyUsage=clientAuth\\n' > cli.ext\n"
	"for c in srv cli; do key $c; openssl req -new -key $c.key -out $c.csr -subj /CN=$c; "
	"openssl x509 -req -in $c.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
	"-extfile $c.ext -out $c.pem; done\n";

FIXTURE(tls)
{
	char dir[64];
	char path[8][128];
	struct fake_oap fake;
	struct oap *c;
};

static const char *f(FIXTURE_DATA(tls) *self, int i, const char *name)
{
	snprintf(self->path[i], sizeof(self->path[i]), "%s/%s", self->dir, name);
	return self->path[i];
}

FIXTURE_SETUP(tls)
{
	char cmd[2048];

	strcpy(self->dir, "/tmp/swprof-tls-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(cmd, sizeof(cmd), "%s/mk.sh", self->dir);
	FILE *sh = fopen(cmd, "w");
	ASSERT_NE(NULL, sh);
	fputs(make_certs, sh);
	fclose(sh);
	snprintf(cmd, sizeof(cmd), "bash %s/mk.sh %s", self->dir, self->dir);
	ASSERT_EQ(0, system(cmd)) TH_LOG("openssl failed: see %s/openssl.log", self->dir);
	self->c = NULL;
	self->fake.pid = 0;
	nr_lines = 0;
	sw_log_set_fn(capture, NULL);
}

FIXTURE_TEARDOWN(tls)
{
	char cmd[128];

	oap_free(self->c);
	fake_oap_stop(&self->fake);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	system(cmd);
}

static int start(FIXTURE_DATA(tls) *self, bool client_auth)
{
	const char *args[] = { "--tls-cert", f(self, 0, "srv.pem"), "--tls-key", f(self, 1, "srv.key"),
			       client_auth ? "--tls-client-ca" : NULL, f(self, 2, "ca.pem"), NULL };

	return fake_oap_start(&self->fake, args);
}

static int call(FIXTURE_DATA(tls) *self, const char *ca, const char *cert, const char *key)
{
	const char *addrs[] = { self->fake.addr };
	OAP_OPTS(o, .addrs = addrs, .nr_addrs = 1, .tls = true, .ca_path = ca, .cert_path = cert,
		 .key_path = key, .deadline_ms = 5000);
	Skywalking__V3__Commands *cmds = NULL;
	int err;

	err = oap_new(&o, &self->c);
	if (err)
		return err;
	err = oap_ebpf_query_tasks(self->c, "a", 0, &cmds);
	oap_commands_free(cmds);
	return err;
}

TEST_F(tls, server_ca)
{
	ASSERT_EQ(0, start(self, false));
	EXPECT_EQ(0, call(self, f(self, 3, "ca.pem"), NULL, NULL));
	EXPECT_STREQ("\"OK\"", fake_oap_get(&self->fake, "last.queryTasks.status"));
}

TEST_F(tls, wrong_ca_fails)
{
	sw_log_set_level(SW_LOG_DEBUG);		/* the client's state lines are debug */
	ASSERT_EQ(0, start(self, false));
	EXPECT_EQ(-ECONNREFUSED, call(self, f(self, 3, "other.pem"), NULL, NULL));
	TH_LOG("%s", last);
	EXPECT_NE(NULL, strstr(last, "unavailable"));
	EXPECT_EQ(0, strcmp("[]", fake_oap_get(&self->fake, "calls")));
}

TEST_F(tls, client_certificate)
{
	ASSERT_EQ(0, start(self, true));
	EXPECT_EQ(0, call(self, f(self, 3, "ca.pem"), f(self, 4, "cli.pem"), f(self, 5, "cli.key")));
	oap_free(self->c);
	self->c = NULL;
	/* without one, the server refuses the handshake */
	EXPECT_EQ(-ECONNREFUSED, call(self, f(self, 3, "ca.pem"), NULL, NULL));
}

TEST_F(tls, unreadable_ca_one_line)
{
	ASSERT_EQ(0, start(self, false));
	EXPECT_EQ(-ENOENT, call(self, f(self, 3, "missing.pem"), NULL, NULL));
	EXPECT_EQ(1, nr_lines);
	EXPECT_NE(NULL, strstr(last, "cannot read the CA certificate"));
}

TEST_HARNESS_MAIN
