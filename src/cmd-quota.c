/* quotaon, quotaoff, quotainit: vzctl's wrappers of vzquota on, off and init
 * with the CT's own DISKSPACE, DISKINODES and QUOTATIME. On nvz a simfs CT's
 * disk quota is the kernel's project quota (lib/storage/quota.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nvz/fs.h"
#include "nvz/storage.h"
#include "quota.h"
#include "storage/quota.h"

enum which { Q_ON, Q_OFF, Q_INIT };

/* vzctl's logger(0, ...): stdout, unless --quiet. */
__attribute__((format(printf, 2, 3)))
static void say(const struct cmd_ctx *c, const char *fmt, ...)
{
	if (c->out->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int quota_on(struct cmd_ctx *c, enum which w, int status)
{
	struct nvz_ct *ct = c->ct;
	const char *space = nvz_ct_get(ct, "DISKSPACE", NULL);
	const char *inodes = nvz_ct_get(ct, "DISKINODES", NULL);
	if (!space || !*space) {
		fprintf(stderr, "Error: Not enough parameters, diskspace quota not set\n");
		return NVZ_QS_DISKSPACE_NOTSET;
	}
	if (!inodes || !*inodes) {
		fprintf(stderr, "Error: Not enough parameters, diskinodes quota not set\n");
		return NVZ_QS_DISKINODES_NOTSET;
	}
	struct nvz_disk_limits l;
	struct nvz_error *err = NULL;
	if (nvz_disk_limits_parse(space, inodes, nvz_ct_get(ct, "QUOTATIME", NULL), &l, &err) < 0)
		return cli_fail(err);
	/* quotainit recounts: every file is tagged again (vzquota init scanned). */
	if (nvz_quota_apply(ct->private, (uint32_t)ct->veid, &l, w == Q_INIT, status, &err) < 0)
		return cli_fail(err);
	nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "Disk quota of CT %s is on (project id %lu)", ct->id,
		ct->veid);
	return 0;
}

int cmd_quota(struct cmd_ctx *c)
{
	if (c->argc > 0)
		return cmd_bad_args("Invalid extra arguments: %s", c->argv[0]);
	struct nvz_ct *ct = c->ct;
	enum which w = !strcmp(c->name, "quotaoff") ? Q_OFF : !strcmp(c->name, "quotainit") ? Q_INIT : Q_ON;
	static const int status[] = { [Q_ON] = NVZ_QS_ON, [Q_OFF] = NVZ_QS_OFF, [Q_INIT] = NVZ_QS_INIT };
	if (!strcasecmp(nvz_ct_get(ct, "DISK_QUOTA", "yes"), "no")) {
		say(c, "Disk quota is not enabled, skipping operation");
		return status[w];
	}
	const char *layout = nvz_ct_get(ct, "VE_LAYOUT", "simfs");
	if (!strncmp(layout, "ploop", 5)) {
		say(c, "CT is on ploop, disk quota is obsoleted, skipping operation");
		return 0;
	}
	if (strcmp(layout, "simfs")) {
		say(c, "Disk quota is not supported by the %s layout, skipping operation", layout);
		return 0;
	}
	if (!nvz_path_exists(ct->private)) {
		fprintf(stderr, "Container private area %s does not exist\n", ct->private);
		return NVZ_E_NOPRIVATE;
	}
	if (w != Q_OFF)
		return quota_on(c, w, status[w]);
	struct nvz_error *err = NULL;
	bool done;
	/* Not running (no project quota here) is no failure, as in vzctl. */
	if (nvz_quota_clear(ct->private, (uint32_t)ct->veid, &done, &err) < 0)
		return cli_fail(err);
	return 0;
}
