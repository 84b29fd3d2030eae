// SPDX-License-Identifier: GPL-2.0-only
/*
 * The status socket (status.h) and swctl status --agent (agentd_status()):
 * the latest text, whole, to each client; its directory made, a stale
 * socket replaced, the file removed at the end; no agent: exit 1 and one
 * line naming the path.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "agentd.h"
#include "agentd_test.h"
#include "status.h"

FIXTURE(status)
{
	char dir[64], path[128];
	struct status_srv *s;
	char *out;
	size_t len;
};

FIXTURE_SETUP(status)
{
	log_start();
	strcpy(self->dir, "/tmp/swprof-status-test-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	/* a directory that does not exist yet */
	snprintf(self->path, sizeof(self->path), "%s/run/agent.sock", self->dir);
}

FIXTURE_TEARDOWN(status)
{
	status_srv_free(self->s);
	free(self->out);
	rm_rf(self->dir);
}

/* agentd_status() into self->out; its exit status. */
static int ask(FIXTURE_DATA(status) *self, const char *path)
{
	FILE *f;
	int rc;

	free(self->out);
	self->out = NULL;
	f = open_memstream(&self->out, &self->len);
	if (!f)
		return -1;
	rc = agentd_status(path, f);
	fclose(f);
	return rc;
}

TEST_F(status, serves_the_latest_text)
{
	struct stat st;
	char *big;
	int i;

	ASSERT_EQ(0, status_srv_new(self->path, &self->s));
	ASSERT_EQ(0, stat(self->path, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	/* before the daemon's first status */
	ASSERT_EQ(0, ask(self, self->path));
	EXPECT_STREQ("starting\n", self->out);

	status_srv_set(self->s, "agent: abc, up 3 s\nOAP: up\n");
	ASSERT_EQ(0, ask(self, self->path));
	EXPECT_STREQ("agent: abc, up 3 s\nOAP: up\n", self->out);
	status_srv_set(self->s, "second\n");
	ASSERT_EQ(0, ask(self, self->path));
	EXPECT_STREQ("second\n", self->out);
	EXPECT_EQ(0, log_lines);

	/* more than one read's worth arrives whole */
	big = malloc(100001);
	ASSERT_NE(NULL, big);
	for (i = 0; i < 100000; i++)
		big[i] = i % 64 == 63 ? '\n' : 'a' + i % 26;
	big[100000] = 0;
	status_srv_set(self->s, big);
	ASSERT_EQ(0, ask(self, self->path));
	EXPECT_EQ(100000, self->len);
	EXPECT_STREQ(big, self->out);
	free(big);

	/* the file goes with the server */
	status_srv_free(self->s);
	self->s = NULL;
	EXPECT_NE(0, access(self->path, F_OK));
	EXPECT_EQ(1, ask(self, self->path));
}

/* A socket file left behind by a killed agent is replaced. */
TEST_F(status, stale_socket_replaced)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char dir[160];
	int fd;

	snprintf(dir, sizeof(dir), "%s/run", self->dir);
	ASSERT_EQ(0, mkdir(dir, 0700));
	strcpy(a.sun_path, self->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	close(fd);
	/* nobody listens there: like no agent */
	EXPECT_EQ(1, ask(self, self->path));
	log_start();
	ASSERT_EQ(0, status_srv_new(self->path, &self->s));
	status_srv_set(self->s, "fresh\n");
	ASSERT_EQ(0, ask(self, self->path));
	EXPECT_STREQ("fresh\n", self->out);
}

TEST_F(status, no_agent_one_line_naming_the_path)
{
	EXPECT_EQ(1, ask(self, self->path));
	EXPECT_EQ(0, self->len);
	EXPECT_EQ(1, log_lines);
	EXPECT_EQ(1, log_count(self->path)) TH_LOG("%s", log_text);
	EXPECT_EQ(1, log_count("is swctl agent running?"));
}

TEST_F(status, path_too_long)
{
	char path[200];

	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	EXPECT_EQ(1, ask(self, path));
	EXPECT_EQ(1, log_lines);
	EXPECT_EQ(1, log_count("too long"));
	log_start();
	EXPECT_EQ(-ENAMETOOLONG, status_srv_new(path, &self->s));
	EXPECT_EQ(NULL, self->s);
	EXPECT_EQ(1, log_lines);
	EXPECT_EQ(1, log_count(path));
}

/* A path the agent cannot create: said, with the path. */
TEST_F(status, cannot_bind)
{
	EXPECT_GT(0, status_srv_new("/dev/null/agent.sock", &self->s));
	EXPECT_EQ(NULL, self->s);
	EXPECT_EQ(1, log_lines);
	EXPECT_EQ(1, log_count("agent.status_socket /dev/null/agent.sock: "));
}

TEST_HARNESS_MAIN
