/* Rolling back a post-copy checkpoint (nvz_ct_chkpnt_lazy_abort): criu was
 * killed while it held the CT frozen for its page server, so what its own
 * rollback would undo is undone here. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ct/internal.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/net.h"

static void thaw(struct nvz_ct *ct)
{
	cleanup_free char *p = NULL;
	if (asprintf(&p, "/sys/fs/cgroup/freezer/%s/%s/freezer.state",
		     nvz_ct_get(ct, "CGROUP_PREFIX", "nvz"), ct->id) < 0)
		return;
	cleanup_close int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, "THAWED", 6) < 0)
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: cannot thaw CT %s: %m", ct->id);
}

void nvz_ct_lazy_unlock(struct nvz_ct *ct, pid_t init_pid)
{
	thaw(ct);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init_pid);
	cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
	struct nvz_error *e = NULL;
	if (ns >= 0 && nvz_nft_drop_tables(ns, "CRIU-", &e) < 0) {
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: CT %s's network stays locked: %s", ct->id, e->msg);
		nvz_error_free(e);
	}
}
