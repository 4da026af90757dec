/* vzctl console: the monitor lends the console pty master to one client at
 * a time over a unix socket in the CT's runtime directory. */
#ifndef NVZ_CT_CONSOLE_H
#define NVZ_CT_CONSOLE_H

#include <sys/types.h>

#include "nvz/ct.h"

/* Monitor side. The console's pty pair (-1 on failure, with what was
 * opened in *master and *slave, or -1 there), its log in RUNDIR/<id>, and
 * the socket `vzctl console` connects to. */
int nvz_console_pty(int *master, int *slave, char *name, size_t namelen);
int nvz_console_open_log(const struct nvz_ct *ct);
int nvz_console_listen(const struct nvz_ct *ct);
/* After a failed start: close the listening socket and remove its file. */
void nvz_console_unlisten(const struct nvz_ct *ct, int fd);
/* Accept a client and hand it the master; returns the client fd (the
 * monitor stops reading the console until it closes) or -1. */
int nvz_console_accept(int listen_fd, int master);

/* fd passing, shared with enter and the monitor hub. A message of len
 * bytes with nfds descriptors (at most NVZ_RECV_FDS_MAX); recv returns the
 * bytes read (fds filled, close-on-exec, *nfds set) or -1, close frees
 * what a recv gave that is not wanted. */
#define NVZ_RECV_FDS_MAX 8
int nvz_send_msg(int sock, const void *buf, size_t len, const int *fds, size_t nfds);
ssize_t nvz_recv_msg(int sock, void *buf, size_t len, int *fds, size_t *nfds, int flags);
void nvz_close_fds(int *fds, size_t *nfds);
int nvz_send_fd(int sock, int fd);
int nvz_recv_fd(int sock);
/* Exactly want descriptors (at most NVZ_RECV_FDS_MAX) in one message into
 * fds; -1 (and none left open) otherwise. */
int nvz_recv_fds(int sock, int *fds, size_t want);
/* Relay a pty master to the caller's terminal until the master closes, or,
 * with escape, until Esc . is typed at the start of a line (or the input
 * ends): true in that case. */
bool nvz_relay_pty(int master, int in, int out, bool escape);

#endif
