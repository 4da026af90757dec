/* Iterative pre-copy: rounds of `criu pre-dump --track-mem` while the CT
 * runs, each (but the first) writing only the pages dirtied since the one
 * before, each handed to a copy step (vzmigrate: rsync to the target) while
 * the CT goes on; then the checkpoint dumps only the last dirty pages
 * inside the freeze (nvz_ct_chkpnt_after). Needs the kernel's soft-dirty
 * tracking (criu's mem_dirty_track): where it is missing nothing of this
 * runs and the checkpoint is the plain one.
 *
 * When to stop (as P.Haul / go-criu's phaul, see
 * shared/reference/migration-security.md): after NVZ_PREDUMP_MAX rounds,
 * or once a round is small (under 64 pages: the freeze would not get
 * shorter), or once a round no longer shrinks (the CT dirties memory at
 * least as fast as it is copied: more rounds only add copies). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cpt/criu.h"
#include "ct/internal.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/ct.h"

#define SMALL_ROUND (64ULL * 4096)

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* criu's probe is a criu run (40-150 ms here) before every online
 * migration; its answer holds until a reboot or another criu binary:
 * RUNDIR/criu-mem-track keeps "<boot id> <criu> <mtime> yes|no". */
bool nvz_ct_predump_supported(const struct nvz_ct *ct)
{
	const char *criu = nvz_ct_get(ct, "CRIU", NVZ_CRIU_DEFAULT);
	cleanup_free char *boot = NULL, *path = NULL, *key = NULL, *text = NULL;
	struct stat st;
	if (stat(criu, &st) < 0 ||
	    nvz_read_file("/proc/sys/kernel/random/boot_id", 64, &boot, NULL, NULL) < 0 ||
	    asprintf(&path, "%s/criu-mem-track", nvz_ctx_get(ct->ctx, "RUNDIR", "/run/nvz")) < 0)
		return nvz_cpt_mem_track(criu);
	boot[strcspn(boot, "\n")] = '\0';
	if (asprintf(&key, "%s %s %lld ", boot, criu, (long long)st.st_mtime) < 0)
		return nvz_cpt_mem_track(criu);
	if (nvz_read_file(path, 4096, &text, NULL, NULL) == 0 && !strncmp(text, key, strlen(key)))
		return !strncmp(text + strlen(key), "yes", 3);
	bool yes = nvz_cpt_mem_track(criu);
	cleanup_free char *line = NULL;
	if (asprintf(&line, "%s%s\n", key, yes ? "yes" : "no") >= 0)
		nvz_write_runtime_atomic(path, line, strlen(line), 0644, NULL);
	return yes;
}

int nvz_ct_predump_rounds(struct nvz_ct *ct, const char *dumpfile, int max,
			  int (*copy)(void *data, struct nvz_error **err), void *data,
			  struct nvz_predump_stats *st)
{
	*st = (struct nvz_predump_stats){ 0 };
	if (max > NVZ_PREDUMP_MAX)
		max = NVZ_PREDUMP_MAX;
	if (max <= 0)
		return 0;
	if (!nvz_ct_predump_supported(ct)) {
		nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "No iterative memory copy: the kernel does not track "
			"dirty pages (criu check --feature mem_dirty_track)");
		return 0;
	}
	struct nvz_error *e = NULL;
	for (int n = 1; n <= max; n++) {
		double t0 = mono();
		unsigned long long bytes = 0;
		if (nvz_ct_predump(ct, dumpfile, n, &bytes, &e) < 0 || (copy && copy(data, &e) < 0)) {
			nvz_log(ct->ctx, NVZ_LOG_INFO, "Iterative memory copy failed in round %d: %s; "
				"all memory is dumped while the container is frozen", n, e->msg);
			nvz_error_free(e);
			nvz_ct_predump_drop(ct, dumpfile);
			*st = (struct nvz_predump_stats){ 0 };
			return 0;
		}
		st->rounds = n;
		st->secs[n - 1] = mono() - t0;
		st->bytes[n - 1] = bytes;
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Iterative memory copy, round %d: %.1f MB", n,
			(double)bytes / (1 << 20));
		if (bytes < SMALL_ROUND || (n > 1 && bytes >= st->bytes[n - 2]))
			break;
	}
	return st->rounds;
}
