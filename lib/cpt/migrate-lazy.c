/* vzmigrate --online --lazy (post-copy): the target's side of the restore.
 *
 * The dump came without the memory. criu lazy-pages starts first (it must
 * listen in the CT's RUNDIR, criu restore's work directory, before the
 * restore hands it the tasks' userfaultfds), then the CT is restored as
 * usual; the moment the restore returns the CT runs here, and every page it
 * touches is fetched from the source on demand while the rest streams in the
 * background. Until the daemon exits with all pages, the CT depends on the
 * source: if the daemon fails, the CT's memory has holes the kernel would
 * fill with zeros, so the CT is killed rather than left to run on. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/migrate.h"

void nvz_migrate_lazy_stop(pid_t *daemon)
{
	if (*daemon <= 0)
		return;
	kill(*daemon, SIGKILL);
	while (waitpid(*daemon, NULL, 0) < 0 && errno == EINTR)
		;
	*daemon = 0;
}

static void drop_socket(const struct nvz_ct *ct)
{
	cleanup_free char *sock = NULL;
	if (asprintf(&sock, "%s/lazy-pages.socket", ct->rundir) >= 0)
		unlink(sock);
}

int nvz_migrate_lazy_restore(struct nvz_ct *ct, int port, pid_t *daemon, struct nvz_error **err)
{
	cleanup_free char *dump = nvz_ct_dump_path(ct);
	if (!dump)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_cpt_dump_check(dump, err) < 0 || nvz_mkdir_p(ct->rundir, 0700, err) < 0)
		return nvz_err_wrap(err, "Restore error");
	if (!nvz_cpt_dump_lazy(dump))
		return nvz_err(err, NVZ_E_RESTORE, EINVAL, "Restore error: %s was not dumped for post-copy",
			       dump);
	drop_socket(ct);
	pid_t pid = nvz_cpt_lazy_daemon(nvz_ct_get(ct, "CRIU", NVZ_CRIU_DEFAULT), dump, ct->rundir,
					port, err);
	if (pid < 0)
		return nvz_err_wrap(err, "Restore error");
	*daemon = pid;
	if (nvz_ct_restore(ct, NULL, err) < 0) {
		nvz_migrate_lazy_stop(daemon);
		drop_socket(ct);
		return -1;
	}
	return 0;
}

int nvz_migrate_lazy_wait(struct nvz_ct *ct, pid_t *daemon, struct nvz_error **err)
{
	if (*daemon <= 0)
		return nvz_err(err, NVZ_E_SYNTAX, EINVAL, "no post-copy restore of CT %s", ct->id);
	int status = 0;
	while (waitpid(*daemon, &status, 0) < 0 && errno == EINTR)
		;
	*daemon = 0;
	drop_socket(ct);
	if (status == 0)
		return 0;
	nvz_ct_stop(ct, &(struct nvz_stop_opts){ .fast = true }, NULL);
	return nvz_err(err, NVZ_E_RESTORE, EIO,
		       "the memory of CT %s did not all arrive (criu lazy-pages: status %d, log: "
		       "%s/lazy-pages.log): the CT was killed on the destination",
		       ct->id, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		       ct->rundir);
}
