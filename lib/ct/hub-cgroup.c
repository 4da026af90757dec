/* The hub's own cgroup, CGROUP_PREFIX/hub, beside the CTs'. The hub is
 * started by the first vzctl start, in that command's cgroup: an ssh
 * session's scope, a service's, a cron job's. When systemd stops that unit
 * it kills what is left in its cgroup, and with the hub every running CT
 * would lose its console, its beancounter file and the work after init's
 * exit (LXC moves its monitor into lxc.monitor.NAME for the same reason).
 * On its way out the hub moves back to the hierarchies' roots and removes
 * the cgroup. Best effort: a hub that cannot move serves where it is. */
#include <unistd.h>

#include "ct/hub.h"
#include "nvz/cgroup.h"
#include "nvz/ctx.h"

struct nvz_cgroup *nvz_hub_cgroup_enter(void)
{
	struct nvz_ctx *ctx = NULL;
	struct nvz_cgroup *cg = NULL;
	if (nvz_ctx_open(&ctx, NULL, NULL, NULL) < 0)
		return NULL;
	int r = nvz_cgroup_open(&cg, nvz_ctx_get(ctx, "CGROUP_PREFIX", "nvz"), NVZ_HUB_CGROUP, NULL);
	nvz_ctx_free(ctx);
	if (r < 0 || nvz_cgroup_create(cg, NULL) < 0 || nvz_cgroup_attach(cg, getpid(), NULL) < 0) {
		nvz_cgroup_free(cg);
		return NULL;
	}
	return cg;
}

void nvz_hub_cgroup_leave(struct nvz_cgroup *cg)
{
	if (cg && nvz_cgroup_leave(cg, getpid(), NULL) == 0)
		nvz_cgroup_destroy(cg, NULL);
	nvz_cgroup_free(cg);
}
