/* The post-dump hook of a dump that leaves the CT running (a snapshot with
 * its memory, see criu.h). criu runs its action script (nvz-criu-action)
 * at post-dump, while the tree is still frozen and after every image is
 * written; the script tells the vzctl that runs criu and waits for its
 * answer, so what vzctl does then (sync the CT's file system, copy its
 * image) matches the memory in the images. Two FIFOs in the dump
 * directory carry it: criu closes every descriptor but 0-2 before it runs
 * a script, and a FIFO's path, unlike a socket's, has no length limit. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "nvz/cleanup.h"

#define HOOK_GO "nvz-hook.go"     /* the script writes: the tree is frozen, dumped */
#define HOOK_DONE "nvz-hook.done" /* vzctl answers: '0' done, '1' failed */
/* How long the script waits for vzctl before it fails the dump (the CT
 * then runs on): an image copy of a large CT without reflinks. A live
 * migration's waits as long as vzmigrate lives instead: once its restore
 * on the target may have begun, only its answer may let the CT here go
 * on, or two copies of it would run. */
#define HOOK_WAIT_MS (30 * 60 * 1000)

static char *hook_path(const char *dir, const char *name)
{
	char *p = NULL;
	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

int nvz_cpt_hook_open(struct nvz_cpt_hook *h, const char *dir, struct nvz_error **err)
{
	*h = (struct nvz_cpt_hook){ .go = -1 };
	h->dir = strdup(dir);
	cleanup_free char *go = hook_path(dir, HOOK_GO), *done = hook_path(dir, HOOK_DONE);
	if (!h->dir || !go || !done)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	if (mkfifo(go, 0600) < 0 || mkfifo(done, 0600) < 0)
		return nvz_err_sys(err, NVZ_E_CHKPNT, errno, "make the post-dump FIFOs in %s", dir);
	/* Open for reading without a writer yet: it does not block, and poll
	 * reports nothing until the script has written. */
	h->go = open(go, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (h->go < 0)
		return nvz_err_sys(err, NVZ_E_CHKPNT, errno, "open %s", go);
	return 0;
}

void nvz_cpt_hook_close(struct nvz_cpt_hook *h)
{
	if (h->go >= 0)
		close(h->go);
	h->go = -1;
	if (!h->dir)
		return;
	cleanup_free char *go = hook_path(h->dir, HOOK_GO), *done = hook_path(h->dir, HOOK_DONE);
	if (go)
		unlink(go);
	if (done)
		unlink(done);
	free(h->dir);
	h->dir = NULL;
}

static void answer(const char *dir, bool ok)
{
	cleanup_free char *done = hook_path(dir, HOOK_DONE);
	/* The script holds it open read-write, so this does not block. */
	cleanup_close int fd = done ? open(done, O_WRONLY | O_NONBLOCK | O_CLOEXEC) : -1;
	char c = ok ? '0' : '1';
	if (fd >= 0 && write(fd, &c, 1) != 1)
		return;
}

int nvz_cpt_hook_wait(struct nvz_cpt_hook *h, pid_t criu, nvz_cpt_post_dump_fn fn, void *arg, int *status,
		      struct nvz_error **err)
{
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, criu, 0);
	int r = 0;
	bool asked = false;
	while (pidfd >= 0 && !asked) {
		struct pollfd p[2] = { { .fd = h->go, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		char c;
		if ((p[0].revents & POLLIN) && read(h->go, &c, 1) == 1) {
			asked = true;
			r = fn(arg, err);
			answer(h->dir, r == 0);
		} else if (p[1].revents) {
			break; /* criu ended before post-dump: it failed */
		}
	}
	while (waitpid(criu, status, 0) < 0 && errno == EINTR)
		;
	return r;
}

int nvz_cpt_hook_post_dump(const char *dir, pid_t waiter)
{
	cleanup_free char *go = hook_path(dir, HOOK_GO), *done = hook_path(dir, HOOK_DONE);
	/* Read-write: a read then waits for vzctl's byte, not for a writer. */
	cleanup_close int dfd = done ? open(done, O_RDWR | O_CLOEXEC) : -1;
	cleanup_close int gfd = go ? open(go, O_WRONLY | O_NONBLOCK | O_CLOEXEC) : -1;
	/* A waiter named: no time limit, but its end is the answer "failed". */
	cleanup_close int pidfd = waiter > 0 ? (int)syscall(SYS_pidfd_open, waiter, 0) : -1;
	char c = '1';
	if (dfd < 0 || gfd < 0 || (waiter > 0 && pidfd < 0) || write(gfd, &c, 1) != 1)
		return -1;
	struct pollfd p[2] = { { .fd = dfd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
	int n;
	while ((n = poll(p, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : HOOK_WAIT_MS)) < 0 && errno == EINTR)
		;
	return n >= 1 && (p[0].revents & POLLIN) && read(dfd, &c, 1) == 1 && c == '0' ? 0 : -1;
}
