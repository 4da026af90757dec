/* nvz-criu-action: criu's --action-script at an nvz dump or restore. Not
 * for people. At a restore's post-setup-namespaces it writes back what
 * cgroup v2 held below the CT's own cgroup, controllers and limits
 * (lib/cpt/cgprops.c says why then). What it cannot write goes to
 * NVZ_CPT_ACTION_LOG, and the restore goes on: criu fails later if the CT
 * cannot do without it, and vzctl quotes it. At the post-dump of a
 * snapshot's or a live migration's dump, it hands over to vzctl while the
 * CT is still frozen (lib/cpt/hook.c); its failure fails the dump, and
 * criu lets the CT run on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpt/criu.h"
#include "nvz/cleanup.h"

int main(void)
{
	const char *action = getenv("CRTOOLS_SCRIPT_ACTION");
	const char *cgdir = getenv("NVZ_CPT_CGDIR"), *list = getenv("NVZ_CPT_CGPROPS");
	const char *log = getenv("NVZ_CPT_ACTION_LOG"), *hook = getenv(NVZ_CPT_HOOK_ENV);
	const char *waiter = getenv(NVZ_CPT_HOOK_WAITER_ENV);
	if (action && hook && !strcmp(action, "post-dump"))
		return nvz_cpt_hook_post_dump(hook, waiter ? atoi(waiter) : 0) < 0 ? 1 : 0;
	if (!action || strcmp(action, "post-setup-namespaces") || !cgdir || !list)
		return 0;
	struct nvz_error *err = NULL;
	if (nvz_cpt_cgprops_apply(cgdir, list, &err) < 0) {
		cleanup_fclose FILE *f = log ? fopen(log, "we") : NULL;
		fprintf(f ? f : stderr, "%s\n", err ? err->msg : "out of memory");
		nvz_error_free(err);
	}
	return 0;
}
