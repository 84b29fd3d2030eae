/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The status socket (agent.status_socket): a Unix stream socket; each
 * client that connects gets the latest status text (the daemon sets it
 * every second) and the connection is closed.  One thread serves it.
 */
#ifndef AGENTD_STATUS_H
#define AGENTD_STATUS_H

struct status_srv;

/* Bind @path (a stale socket file there is replaced; the directory is created). */
int status_srv_new(const char *path, struct status_srv **out);
void status_srv_free(struct status_srv *s);
/* Replace the text clients get (copied). */
void status_srv_set(struct status_srv *s, const char *text);

#endif
