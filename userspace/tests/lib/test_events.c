// SPDX-License-Identifier: GPL-2.0-only
/*
 * libswprof events: parsing of the messages swprof.ko multicasts, built
 * here with libnl the way the module builds them (the family itself only
 * exists in the VM; selftests/swprof_events.c covers the socket side).
 */
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

/* The 6.1 harness defines global functions and compares with the literal's type. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "swprof_internal.h"

#define FAMILY 0x1f	/* any id: the parser does not look at it */

static struct nl_msg *new_msg(__u8 cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	if (m && !genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, FAMILY, 0, 0, cmd,
			      SWPROF_GENL_VERSION)) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

static int parse(struct nl_msg *m, struct swprof_event *ev)
{
	memset(ev, 0xcc, sizeof(*ev));
	return swprof_event_parse(nlmsg_hdr(m), ev);
}

static const char *repeat(char c, size_t n)
{
	static char buf[4096];

	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

#define BIT_OF(attr) (1U << (attr))

TEST(every_attribute_is_read)
{
	struct swprof_event ev;
	struct nl_msg *m = new_msg(SWPROF_CMD_RING_WATERMARK);

	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, nla_put_u32(m, SWPROF_ATTR_PID, 4001));
	ASSERT_EQ(0, nla_put_u32(m, SWPROF_ATTR_TID, 4002));
	ASSERT_EQ(0, nla_put_u64(m, SWPROF_ATTR_LOST, 0x100000003ULL));
	ASSERT_EQ(0, nla_put_u64(m, SWPROF_ATTR_UNREAD, 0x200000004ULL));
	ASSERT_EQ(0, nla_put_u64(m, SWPROF_ATTR_RING_SIZE, 0x400000000ULL));
	ASSERT_EQ(0, nla_put_u32(m, SWPROF_ATTR_TASK, 77));
	ASSERT_EQ(0, nla_put_string(m, SWPROF_ATTR_SEGMENT_ID, "seg-1.2.3"));
	ASSERT_EQ(0, nla_put_string(m, SWPROF_ATTR_ENDPOINT, "GET:/api/orders"));
	ASSERT_EQ(0, nla_put_u32(m, SWPROF_ATTR_ADMITTED, 12));

	ASSERT_EQ(0, parse(m, &ev));
	EXPECT_EQ(SWPROF_CMD_RING_WATERMARK, ev.cmd);
	EXPECT_EQ(BIT_OF(SWPROF_ATTR_PID) | BIT_OF(SWPROF_ATTR_TID) | BIT_OF(SWPROF_ATTR_LOST) |
		  BIT_OF(SWPROF_ATTR_UNREAD) | BIT_OF(SWPROF_ATTR_RING_SIZE) |
		  BIT_OF(SWPROF_ATTR_TASK) | BIT_OF(SWPROF_ATTR_SEGMENT_ID) |
		  BIT_OF(SWPROF_ATTR_ENDPOINT) | BIT_OF(SWPROF_ATTR_ADMITTED), ev.attrs);
	EXPECT_EQ(4001, ev.pid);
	EXPECT_EQ(4002, ev.tid);
	EXPECT_EQ(0x100000003ULL, ev.lost);
	EXPECT_EQ(0x200000004ULL, ev.unread);
	EXPECT_EQ(0x400000000ULL, ev.ring_size);
	EXPECT_EQ(77, ev.task);
	EXPECT_EQ(12, ev.admitted);
	EXPECT_STREQ("seg-1.2.3", ev.segment_id);
	EXPECT_STREQ("GET:/api/orders", ev.endpoint);
	nlmsg_free(m);
}

TEST(absent_attributes_read_as_zero)
{
	struct swprof_event ev;
	struct nl_msg *m = new_msg(SWPROF_CMD_TARGET_EXITED);

	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, nla_put_u32(m, SWPROF_ATTR_TID, 99));
	ASSERT_EQ(0, parse(m, &ev));
	EXPECT_EQ(SWPROF_CMD_TARGET_EXITED, ev.cmd);
	EXPECT_EQ(BIT_OF(SWPROF_ATTR_TID), ev.attrs);
	EXPECT_EQ(99, ev.tid);
	EXPECT_EQ(0, ev.pid);
	EXPECT_EQ(0, ev.lost);
	EXPECT_EQ(0, ev.unread);
	EXPECT_EQ(0, ev.ring_size);
	EXPECT_EQ(0, ev.task);
	EXPECT_EQ(0, ev.admitted);
	EXPECT_STREQ("", ev.segment_id);
	EXPECT_STREQ("", ev.endpoint);
	nlmsg_free(m);
}

TEST(message_without_attributes)
{
	struct swprof_event ev;
	struct nl_msg *m = new_msg(SWPROF_CMD_TARGET_ADDED);

	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, parse(m, &ev));
	EXPECT_EQ(SWPROF_CMD_TARGET_ADDED, ev.cmd);
	EXPECT_EQ(0, ev.attrs);
	nlmsg_free(m);
}

TEST(strings_at_the_maximum_are_kept_whole)
{
	struct swprof_event ev;
	struct nl_msg *m = new_msg(SWPROF_CMD_TARGET_ADDED);

	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, nla_put_string(m, SWPROF_ATTR_SEGMENT_ID,
				    repeat('s', SWPROF_SEGMENT_ID_MAX - 1)));
	ASSERT_EQ(0, nla_put_string(m, SWPROF_ATTR_ENDPOINT, repeat('e', SWPROF_ENDPOINT_MAX - 1)));
	ASSERT_EQ(0, parse(m, &ev));
	EXPECT_EQ(SWPROF_SEGMENT_ID_MAX - 1, strlen(ev.segment_id));
	EXPECT_EQ(SWPROF_ENDPOINT_MAX - 1, strlen(ev.endpoint));
	EXPECT_STREQ(repeat('e', SWPROF_ENDPOINT_MAX - 1), ev.endpoint);
	nlmsg_free(m);
}

TEST(over_long_strings_are_cut)
{
	struct swprof_event ev;
	struct nl_msg *m = new_msg(SWPROF_CMD_TRACE_TASK_ENDED);

	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, nla_put_string(m, SWPROF_ATTR_SEGMENT_ID, repeat('s', 1000)));
	ASSERT_EQ(0, nla_put_string(m, SWPROF_ATTR_ENDPOINT, repeat('e', 3000)));
	ASSERT_EQ(0, nla_put_u32(m, SWPROF_ATTR_TASK, 5));
	ASSERT_EQ(0, parse(m, &ev));
	EXPECT_EQ(SWPROF_SEGMENT_ID_MAX - 1, strlen(ev.segment_id));
	EXPECT_EQ(SWPROF_ENDPOINT_MAX - 1, strlen(ev.endpoint));
	EXPECT_EQ('s', ev.segment_id[SWPROF_SEGMENT_ID_MAX - 2]);
	EXPECT_EQ('e', ev.endpoint[SWPROF_ENDPOINT_MAX - 2]);
	/* the fields after the strings are intact */
	EXPECT_EQ(5, ev.task);
	nlmsg_free(m);
}

TEST(strings_without_nul_or_empty)
{
	struct swprof_event ev;
	struct nl_msg *m = new_msg(SWPROF_CMD_TARGET_ADDED);

	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, nla_put(m, SWPROF_ATTR_SEGMENT_ID, 3, "abc"));	/* no NUL */
	ASSERT_EQ(0, nla_put(m, SWPROF_ATTR_ENDPOINT, 0, NULL));	/* empty */
	ASSERT_EQ(0, parse(m, &ev));
	EXPECT_STREQ("abc", ev.segment_id);
	EXPECT_STREQ("", ev.endpoint);
	EXPECT_EQ(BIT_OF(SWPROF_ATTR_SEGMENT_ID) | BIT_OF(SWPROF_ATTR_ENDPOINT), ev.attrs);
	nlmsg_free(m);
}

TEST(string_cut_at_its_first_nul)
{
	struct swprof_event ev;
	struct nl_msg *m = new_msg(SWPROF_CMD_TARGET_ADDED);

	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, nla_put(m, SWPROF_ATTR_ENDPOINT, 8, "ab\0cdefg"));
	ASSERT_EQ(0, parse(m, &ev));
	EXPECT_STREQ("ab", ev.endpoint);
	nlmsg_free(m);
}

TEST(unknown_attributes_and_commands_pass)
{
	struct swprof_event ev;
	struct nl_msg *m = new_msg(200);

	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, nla_put_u32(m, SWPROF_ATTR_MAX + 1, 1));	/* from a newer module */
	ASSERT_EQ(0, nla_put_u64(m, SWPROF_ATTR_MAX + 7, 2));
	ASSERT_EQ(0, nla_put(m, SWPROF_ATTR_UNSPEC, 0, NULL));	/* u64 alignment padding */
	ASSERT_EQ(0, nla_put_u32(m, SWPROF_ATTR_PID, 3));
	ASSERT_EQ(0, parse(m, &ev));
	EXPECT_EQ(200, ev.cmd);
	EXPECT_EQ(BIT_OF(SWPROF_ATTR_PID), ev.attrs);
	EXPECT_EQ(3, ev.pid);
	EXPECT_STREQ("unknown", swprof_event_name(ev.cmd));
	nlmsg_free(m);
}

TEST(short_integer_attribute_is_refused)
{
	struct swprof_event ev;
	struct nl_msg *m = new_msg(SWPROF_CMD_SAMPLES_LOST);
	__u32 lost = 5;

	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, nla_put(m, SWPROF_ATTR_LOST, sizeof(lost), &lost));	/* u64 expected */
	EXPECT_EQ(-EBADMSG, parse(m, &ev));
	nlmsg_free(m);

	m = new_msg(SWPROF_CMD_SAMPLES_LOST);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, nla_put(m, SWPROF_ATTR_TID, 2, "\1\2"));
	EXPECT_EQ(-EBADMSG, parse(m, &ev));
	nlmsg_free(m);
}

TEST(truncated_messages_are_refused)
{
	struct swprof_event ev;
	struct nl_msg *m = new_msg(SWPROF_CMD_TARGET_EXITED);
	struct nlmsghdr *nlh;

	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, nla_put_u32(m, SWPROF_ATTR_TID, 1));
	nlh = nlmsg_hdr(m);
	nlh->nlmsg_len = NLMSG_HDRLEN + 2;	/* shorter than the genl header */
	EXPECT_EQ(-EBADMSG, swprof_event_parse(nlh, &ev));
	nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + 6;	/* the attribute cut */
	EXPECT_EQ(-EBADMSG, swprof_event_parse(nlh, &ev));
	nlmsg_free(m);
}

TEST(every_message_of_a_burst_parses_alone)
{
	static const __u8 cmds[] = {
		SWPROF_CMD_TARGET_ADDED, SWPROF_CMD_TARGET_EXITED, SWPROF_CMD_RING_WATERMARK,
		SWPROF_CMD_SAMPLES_LOST, SWPROF_CMD_TRACE_TASK_ENDED,
	};
	struct swprof_event ev;
	unsigned int i;

	for (i = 0; i < sizeof(cmds); i++) {
		struct nl_msg *m = new_msg(cmds[i]);

		ASSERT_NE(NULL, m);
		ASSERT_EQ(0, nla_put_u32(m, SWPROF_ATTR_TID, 1000 + i));
		ASSERT_EQ(0, parse(m, &ev));
		EXPECT_EQ(cmds[i], ev.cmd);
		EXPECT_EQ(1000 + i, ev.tid);
		EXPECT_STRNE("unknown", swprof_event_name(ev.cmd));
		nlmsg_free(m);
	}
}

TEST(event_names)
{
	EXPECT_STREQ("target_added", swprof_event_name(SWPROF_CMD_TARGET_ADDED));
	EXPECT_STREQ("target_exited", swprof_event_name(SWPROF_CMD_TARGET_EXITED));
	EXPECT_STREQ("ring_watermark", swprof_event_name(SWPROF_CMD_RING_WATERMARK));
	EXPECT_STREQ("samples_lost", swprof_event_name(SWPROF_CMD_SAMPLES_LOST));
	EXPECT_STREQ("trace_task_ended", swprof_event_name(SWPROF_CMD_TRACE_TASK_ENDED));
	EXPECT_STREQ("unknown", swprof_event_name(SWPROF_CMD_UNSPEC));
	EXPECT_STREQ("unknown", swprof_event_name(__SWPROF_CMD_MAX));
}

TEST(open_refuses_unknown_options)
{
	struct {
		struct swprof_events_opts o;
		long newer;
	} big = { .o.sz = sizeof(big), .newer = 1 };
	struct swprof_events *ev = (void *)1;

	EXPECT_EQ(-EINVAL, swprof_events_open(&big.o, &ev));
	EXPECT_EQ(NULL, ev);
	big.o.sz = 2;
	EXPECT_EQ(-EINVAL, swprof_events_open(&big.o, &ev));
	big.o.sz = sizeof(big.o);
	big.o.rcvbuf = -1;
	EXPECT_EQ(-EINVAL, swprof_events_open(&big.o, &ev));
}

/* No module here: the family is missing, and says so. */
TEST(open_without_the_module)
{
	struct swprof_events *ev = (void *)1;
	int err = swprof_events_open(NULL, &ev);

	if (err == 0) {
		swprof_events_close(ev);
		SKIP(return, "a swprof family is registered on this machine");
	}
	if (err == -EPROTONOSUPPORT || err == -EAFNOSUPPORT || err == -EIO)
		SKIP(return, "no generic netlink here (%d)", err);
	EXPECT_EQ(NULL, ev);
	EXPECT_TRUE(err == -ENOENT || err == -EOPNOTSUPP);
	TH_LOG("%s", swprof_strerror(err));
}

TEST_HARNESS_MAIN
