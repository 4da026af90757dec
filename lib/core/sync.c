#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/sync.h"

static int send_msg(int fd, const struct nvz_sync_msg *m)
{
	ssize_t n;
	do
		n = send(fd, m, sizeof(*m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*m) ? 0 : -1;
}

int nvz_sync_send(int fd, int step)
{
	struct nvz_sync_msg m = { .step = step };
	return send_msg(fd, &m);
}

void nvz_sync_send_error(int fd, const struct nvz_error *err)
{
	struct nvz_sync_msg m = { .step = SYNC_ERROR, .code = EIO, .status = NVZ_E_SYSTEM };
	if (err) {
		m.code = err->code;
		m.status = err->status;
		snprintf(m.msg, sizeof(m.msg), "%s", err->msg);
	}
	send_msg(fd, &m);
}

int nvz_sync_wait(int fd, int step, const char *what, struct nvz_error **err)
{
	struct nvz_sync_msg m;
	ssize_t n;
	/* A peer that exited with messages of ours unread makes the kernel
	 * report ECONNRESET once, before what it sent us (its error) is
	 * read: read on. */
	do
		n = recv(fd, &m, sizeof(m), 0);
	while (n < 0 && (errno == EINTR || errno == ECONNRESET));
	if (n == 0)
		return nvz_err(err, NVZ_E_SYSTEM, EPIPE, "%s: the other side exited", what);
	if (n != (ssize_t)sizeof(m))
		return nvz_err_sys(err, NVZ_E_SYSTEM, n < 0 ? errno : EPROTO, "%s", what);
	if (m.step == SYNC_ERROR) {
		m.msg[sizeof(m.msg) - 1] = '\0';
		return nvz_err(err, m.status, m.code, "%s", m.msg);
	}
	if (m.step != step)
		return nvz_err(err, NVZ_E_SYSTEM, EPROTO, "%s: unexpected step %d", what, m.step);
	return 0;
}
