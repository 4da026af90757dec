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
#include <time.h>

#include "nvz/ct.h"
#include "ct/internal.h"

#define SMALL_ROUND (64ULL * 4096)

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
