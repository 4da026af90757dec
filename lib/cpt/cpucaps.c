/* What a live migration checks on the target before anything is copied
 * (OpenVZ's `vzcptcheck caps` and its ipv6 module check; vzmigrate -f
 * skips them):
 * - CPU: every CPU feature the source has, as criu records it
 *   (`criu cpuinfo dump`), is on the target (`criu cpuinfo check
 *   --cpu-cap=cpu`). A program that found AVX-512 at start would die of
 *   SIGILL on a CPU without it; criu's restore checks only the FPU state.
 * - IPv6: a CT with IPv6 addresses needs IPv6 enabled on the target.
 * The image (~100 bytes) travels hex-encoded on migrate-recv's command line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "cpt/spawn.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/migrate.h"

#define CPUINFO_IMG "cpuinfo.img"
#define CPUINFO_MAX 4096

/* A private scratch directory for criu's image and log. */
static char *scratch_dir(const char *rundir)
{
	char *dir = NULL;
	if (nvz_mkdir_p(rundir, 0700, NULL) < 0 || asprintf(&dir, "%s/cpuinfo.XXXXXX", rundir) < 0)
		return NULL;
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

static void drop_scratch(char **dir)
{
	if (*dir)
		nvz_rm_rf(*dir, NULL);
	free(*dir);
}
#define cleanup_scratch __attribute__((cleanup(drop_scratch)))

/* criu's last error line in its log (the scratch directory goes away). */
static void last_error(const char *dir, char *out, size_t len)
{
	cleanup_free char *path = NULL;
	snprintf(out, len, "see criu's log");
	if (asprintf(&path, "%s/cpuinfo.log", dir) < 0)
		return;
	cleanup_fclose FILE *f = fopen(path, "re");
	char line[512];
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "Error")) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%s", line);
		}
}

/* `criu cpuinfo VERB`: on the source "dump", on the target "check". */
static int run_criu(const char *criu, const char *verb, const char *dir, struct nvz_error **err)
{
	char *argv[] = { (char *)criu, "cpuinfo", (char *)verb, "--cpu-cap=cpu", "-D", (char *)dir,
			 "-o", "cpuinfo.log", NULL };
	bool on_target = !strcmp(verb, "check");
	int st = nvz_run(argv, NULL, err);
	if (st <= 0)
		return st;
	if (st == 127) /* what the exec of a missing binary exits with */
		return nvz_err(err, on_target ? NVZ_MIG_NOT_RUNNING : NVZ_MIG_USAGE, ENOENT,
			       "cannot run criu on the %s (CRIU=%s)", on_target ? "destination" : "source",
			       criu);
	char why[512];
	last_error(dir, why, sizeof(why));
	if (!on_target)
		return nvz_err(err, NVZ_MIG_USAGE, EIO, "criu cpuinfo dump failed (status %d): %s", st, why);
	return nvz_err(err, NVZ_MIG_UNSUP_CPU, ENOTSUP,
		       "the destination's CPU lacks features of the source's (vzmigrate --nodeps=cpu "
		       "migrates anyway): %s", why);
}

char *nvz_cpu_caps_dump(const char *criu, const char *rundir, struct nvz_error **err)
{
	cleanup_scratch char *dir = scratch_dir(rundir);
	if (!dir) {
		nvz_err_sys(err, NVZ_MIG_UNSUP_CPU, errno, "cannot make a directory in %s", rundir);
		return NULL;
	}
	if (run_criu(criu, "dump", dir, err) < 0)
		return NULL;
	cleanup_free char *img = NULL;
	if (asprintf(&img, "%s/" CPUINFO_IMG, dir) < 0)
		return NULL;
	cleanup_close int fd = open(img, O_RDONLY | O_CLOEXEC);
	unsigned char buf[CPUINFO_MAX];
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
	if (n <= 0 || n == CPUINFO_MAX) {
		nvz_err_sys(err, NVZ_MIG_UNSUP_CPU, n < 0 ? errno : EINVAL, "cannot read %s", img);
		return NULL;
	}
	char *hex = malloc(2 * (size_t)n + 1);
	for (ssize_t i = 0; hex && i < n; i++)
		sprintf(hex + 2 * i, "%02x", buf[i]);
	if (!hex)
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	return hex;
}

static int unhex(const char *hex, unsigned char *out, size_t max, size_t *len)
{
	size_t n = strlen(hex);
	if (n == 0 || n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdef", hex[2 * i]) ||
		    !strchr("0123456789abcdef", hex[2 * i + 1]))
			return -1;
		out[i] = (unsigned char)v;
	}
	*len = n / 2;
	return 0;
}

int nvz_cpu_caps_check(const char *criu, const char *rundir, const char *hex,
		       struct nvz_error **err)
{
	unsigned char buf[CPUINFO_MAX];
	size_t len;
	if (unhex(hex, buf, sizeof(buf), &len) < 0)
		return nvz_err(err, NVZ_E_SYNTAX, EINVAL, "bad CPU description from the source");
	cleanup_scratch char *dir = scratch_dir(rundir);
	cleanup_free char *img = NULL;
	if (!dir || asprintf(&img, "%s/" CPUINFO_IMG, dir) < 0)
		return nvz_err_sys(err, NVZ_MIG_UNSUP_CPU, errno, "cannot make a directory in %s", rundir);
	cleanup_close int fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return nvz_err_sys(err, NVZ_MIG_UNSUP_CPU, errno, "cannot write %s", img);
	return run_criu(criu, "check", dir, err);
}

bool nvz_ipv6_enabled(void)
{
	char v = '1';
	cleanup_close int fd = open("/proc/sys/net/ipv6/conf/all/disable_ipv6", O_RDONLY | O_CLOEXEC);
	return fd >= 0 && read(fd, &v, 1) == 1 && v == '0';
}

bool nvz_ips_have_ipv6(const char *ips)
{
	return ips && strchr(ips, ':');
}
