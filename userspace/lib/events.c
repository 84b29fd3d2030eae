// SPDX-License-Identifier: GPL-2.0-only
/*
 * Events: a subscriber to swprof.ko's generic netlink multicast group.
 *
 * libnl resolves the family and the group, joins them and parses the
 * attributes.  Datagrams are read with recvmsg() on libnl's socket rather
 * than nl_recvmsgs(), so that an overrun stays ENOBUFS (libnl folds it into
 * NLE_NOMEM) and the sender can be checked to be the kernel.  The socket
 * also joins nlctrl's "notify" group to see the family go away on rmmod.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "swprof_internal.h"

#define EVENTS_RCVBUF_DEFAULT	(1 << 20)
#define EVENTS_BUF_SIZE		(32 << 10)	/* one datagram; ours are < 1 KiB */
#define EVENTS_READ_MAX		1024		/* datagrams per swprof_events_read() */

struct swprof_events {
	struct nl_sock *sk;
	int family;		/* the family's message type */
	bool gone;		/* the family was unregistered */
	unsigned char buf[EVENTS_BUF_SIZE];
};

static int errno_from_nl(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	case NLE_AF_NOSUPPORT:
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_INVAL:
	case NLE_RANGE:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/*
 * No family: the module is not loaded (-ENOENT), or it is and has no events
 * (-EOPNOTSUPP), which the device node tells apart.
 */
static int no_family(void)
{
	return access(SWPROF_DEVICE, F_OK) == 0 ? -EOPNOTSUPP : -ENOENT;
}

int swprof_events_open(const struct swprof_events_opts *opts, struct swprof_events **out)
{
	struct swprof_events *ev;
	int err, grp, notify, rcvbuf;

	*out = NULL;
	err = SWPROF_OPTS_CHECK(opts, swprof_events_opts);
	if (err)
		return err;
	rcvbuf = SWPROF_OPTS_GET(opts, rcvbuf, 0);
	if (rcvbuf < 0)
		return -EINVAL;
	if (!rcvbuf)
		rcvbuf = EVENTS_RCVBUF_DEFAULT;

	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->sk = nl_socket_alloc();
	if (!ev->sk) {
		err = -ENOMEM;
		goto fail;
	}
	err = nl_connect(ev->sk, NETLINK_GENERIC);
	if (err < 0)
		goto fail_nl;
	/* resolve before joining: no multicast may come between a request and its answer */
	ev->family = genl_ctrl_resolve(ev->sk, SWPROF_GENL_NAME);
	if (ev->family < 0) {
		err = ev->family == -NLE_OBJ_NOTFOUND ? no_family() : errno_from_nl(ev->family);
		goto fail;
	}
	grp = genl_ctrl_resolve_grp(ev->sk, SWPROF_GENL_NAME, SWPROF_GENL_MCGRP);
	if (grp < 0) {
		err = grp == -NLE_OBJ_NOTFOUND ? -EOPNOTSUPP : errno_from_nl(grp);
		goto fail;
	}
	notify = genl_ctrl_resolve_grp(ev->sk, "nlctrl", "notify");
	if (notify < 0) {
		err = notify;
		goto fail_nl;
	}
	nl_socket_disable_seq_check(ev->sk);
	/* SO_RCVBUFFORCE goes past rmem_max; it needs CAP_NET_ADMIN, which joining needs too */
	if (setsockopt(nl_socket_get_fd(ev->sk), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		setsockopt(nl_socket_get_fd(ev->sk), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof(rcvbuf));
	err = nl_socket_add_memberships(ev->sk, grp, notify, 0);
	if (err < 0)
		goto fail_nl;
	err = nl_socket_set_nonblocking(ev->sk);
	if (err < 0)
		goto fail_nl;
	*out = ev;
	return 0;

fail_nl:
	err = errno_from_nl(err);
fail:
	nl_socket_free(ev->sk);	/* closes; NULL is fine */
	free(ev);
	return err;
}

void swprof_events_close(struct swprof_events *ev)
{
	if (!ev)
		return;
	nl_socket_free(ev->sk);
	free(ev);
}

int swprof_events_fd(const struct swprof_events *ev)
{
	return nl_socket_get_fd(ev->sk);
}

/* Copy a string attribute, cut at its first NUL, at its end, or at @size - 1. */
static void copy_string(char *dst, size_t size, const struct nlattr *a)
{
	const char *s = nla_data(a);
	size_t n = strnlen(s, (size_t)nla_len(a));

	if (n > size - 1)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static const struct nla_policy event_policy[SWPROF_ATTR_MAX + 1] = {
	[SWPROF_ATTR_PID] = { .type = NLA_U32 },
	[SWPROF_ATTR_TID] = { .type = NLA_U32 },
	[SWPROF_ATTR_LOST] = { .type = NLA_U64 },
	[SWPROF_ATTR_UNREAD] = { .type = NLA_U64 },
	[SWPROF_ATTR_RING_SIZE] = { .type = NLA_U64 },
	[SWPROF_ATTR_TASK] = { .type = NLA_U32 },
	/* any length, NUL or not: copy_string() cuts */
	[SWPROF_ATTR_SEGMENT_ID] = { .type = NLA_UNSPEC },
	[SWPROF_ATTR_ENDPOINT] = { .type = NLA_UNSPEC },
	[SWPROF_ATTR_ADMITTED] = { .type = NLA_U32 },
};

/* Attributes must fill the message exactly: a cut one is not ignored. */
static bool attrs_whole(struct nlmsghdr *h)
{
	struct genlmsghdr *gh = genlmsg_hdr(h);
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), rem)
		;
	return rem == 0;
}

int swprof_event_parse(const struct nlmsghdr *nlh, struct swprof_event *ev)
{
	/* libnl's parsers take no const; they do not write */
	struct nlmsghdr *h = (struct nlmsghdr *)nlh;
	struct nlattr *tb[SWPROF_ATTR_MAX + 1];
	int i;

	memset(ev, 0, sizeof(*ev));
	if (!genlmsg_valid_hdr(h, 0) || !attrs_whole(h) ||
	    genlmsg_parse(h, 0, tb, SWPROF_ATTR_MAX, event_policy) < 0)
		return -EBADMSG;
	ev->cmd = genlmsg_hdr(h)->cmd;
	for (i = 1; i <= SWPROF_ATTR_MAX; i++)
		if (tb[i])
			ev->attrs |= 1U << i;
	if (tb[SWPROF_ATTR_PID])
		ev->pid = nla_get_u32(tb[SWPROF_ATTR_PID]);
	if (tb[SWPROF_ATTR_TID])
		ev->tid = nla_get_u32(tb[SWPROF_ATTR_TID]);
	if (tb[SWPROF_ATTR_LOST])
		ev->lost = nla_get_u64(tb[SWPROF_ATTR_LOST]);
	if (tb[SWPROF_ATTR_UNREAD])
		ev->unread = nla_get_u64(tb[SWPROF_ATTR_UNREAD]);
	if (tb[SWPROF_ATTR_RING_SIZE])
		ev->ring_size = nla_get_u64(tb[SWPROF_ATTR_RING_SIZE]);
	if (tb[SWPROF_ATTR_TASK])
		ev->task = nla_get_u32(tb[SWPROF_ATTR_TASK]);
	if (tb[SWPROF_ATTR_ADMITTED])
		ev->admitted = nla_get_u32(tb[SWPROF_ATTR_ADMITTED]);
	if (tb[SWPROF_ATTR_SEGMENT_ID])
		copy_string(ev->segment_id, sizeof(ev->segment_id), tb[SWPROF_ATTR_SEGMENT_ID]);
	if (tb[SWPROF_ATTR_ENDPOINT])
		copy_string(ev->endpoint, sizeof(ev->endpoint), tb[SWPROF_ATTR_ENDPOINT]);
	return 0;
}

/* An nlctrl notification that our family was unregistered (rmmod). */
static bool family_deleted(const struct swprof_events *ev, struct nlmsghdr *nlh)
{
	struct nlattr *tb[CTRL_ATTR_MAX + 1];

	if (!genlmsg_valid_hdr(nlh, 0) || genlmsg_hdr(nlh)->cmd != CTRL_CMD_DELFAMILY)
		return false;
	if (genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, NULL) < 0 || !tb[CTRL_ATTR_FAMILY_ID] ||
	    nla_len(tb[CTRL_ATTR_FAMILY_ID]) < (int)sizeof(__u16))
		return false;
	return nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]) == ev->family;
}

int swprof_events_read(struct swprof_events *ev, swprof_event_fn fn, void *ctx)
{
	int fd = nl_socket_get_fd(ev->sk), n = 0, i, rc;
	struct swprof_event e;
	struct nlmsghdr *nlh;
	ssize_t len;

	if (ev->gone)
		return -ENODEV;
	for (i = 0; i < EVENTS_READ_MAX; i++) {
		struct sockaddr_nl from = { 0 };
		struct iovec iov = { .iov_base = ev->buf, .iov_len = sizeof(ev->buf) };
		struct msghdr msg = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};

		len = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		/* from the kernel only; a cut datagram is not ours (ours are small) */
		if (from.nl_family != AF_NETLINK || from.nl_pid != 0 || (msg.msg_flags & MSG_TRUNC))
			continue;
		for (nlh = (struct nlmsghdr *)ev->buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == GENL_ID_CTRL && family_deleted(ev, nlh)) {
				ev->gone = true;
				return n ? n : -ENODEV;
			}
			if (nlh->nlmsg_type != ev->family || swprof_event_parse(nlh, &e))
				continue;
			n++;
			rc = fn(ctx, &e);
			if (rc < 0)
				return rc;
			if (rc > 0)
				return n;
		}
	}
	return n;
}

const char *swprof_event_name(unsigned int cmd)
{
	static const char *const names[] = {
		[SWPROF_CMD_TARGET_ADDED] = "target_added",
		[SWPROF_CMD_TARGET_EXITED] = "target_exited",
		[SWPROF_CMD_RING_WATERMARK] = "ring_watermark",
		[SWPROF_CMD_SAMPLES_LOST] = "samples_lost",
		[SWPROF_CMD_TRACE_TASK_ENDED] = "trace_task_ended",
	};

	if (cmd < sizeof(names) / sizeof(names[0]) && names[cmd])
		return names[cmd];
	return "unknown";
}
