/* vzcfgvalidate [-r] [-i] [-v yes|no] FILE: OpenVZ's consistency check of a
 * container config (the checks are lib/ct/cfgvalidate.c). As OpenVZ's
 * logger put them, findings go to stderr ("Error: ...", "Warning: ...",
 * "Recommendation: ..."), a repair's "set to ..." to stdout, and -i asks
 * " (y/n) [y] " on stderr. Exit 0 valid, 1 execution error, 2 validation
 * failed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nvz/cfgvalidate.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/ctx.h"

struct run {
	bool repair, ask;
};

static int usage(FILE *f, int rc)
{
	fprintf(f, "Usage: vzcfgvalidate [-r|-i] [-v yes|no] <configfile>\n"
		   "\t-r\t\trepair mode\n"
		   "\t-i\t\tinteractive repair mode\n"
		   "\t-v yes|no\tforce VSwap/non-VSwap mode (auto-detect by default)\n");
	return rc;
}

/* OpenVZ's read_yn: an empty answer is yes, end of input is no. */
static bool read_yn(void)
{
	char buf[1024];
	fprintf(stderr, " (y/n) [y] ");
	while (fgets(buf, sizeof(buf), stdin)) {
		if (buf[0] == 'y' || buf[0] == '\n')
			return true;
		if (buf[0] == 'n')
			return false;
		fprintf(stderr, " (y/n) [y] ");
	}
	fputc('\n', stderr);
	return false;
}

static bool on_finding(void *data, const struct nvz_cfgv_finding *f)
{
	const struct run *r = data;
	fprintf(stderr, "%s: %s\n", nvz_cfgv_severity_name(f->severity), f->text);
	if (!f->repair)
		return false;
	/* stdout is a pipe in scripts: flush so the lines keep their order. */
	printf("%s\n", f->repair);
	fflush(stdout);
	return r->ask ? read_yn() : r->repair;
}

/* OpenVZ read vz.conf before the container's config and only warned when
 * it could not open it: nothing here needs it, but scripts saw the lines. */
static void warn_no_global(void)
{
	const char *path = getenv("VZ_CONF");
	if (!path || !*path)
		path = NVZ_DEFAULT_VZ_CONF;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0)
		return;
	fprintf(stderr, "Unable to open %s: %s\n", path, strerror(errno));
	fprintf(stderr, "WARNING: Global configuration file %s not found\n", path);
}

/* Check (and repair) the file; the exit status. */
static int validate(const char *path, const struct run *run, int vswap)
{
	struct nvz_error *err = NULL;
	struct nvz_mem_host host;
	struct nvz_conf *c = NULL;
	if (nvz_conf_load(&c, path, 1, &err) < 0) {
		if (err->code == ENOENT) {
			fprintf(stderr, "Container configuration file %s not found\n", path);
			nvz_error_free(err);
			return 1;
		}
		cli_fail(err);
		return 1;
	}
	struct nvz_cfgv_opts o = { .vswap = vswap, .repair = run->repair || run->ask,
				   .host = &host, .report = on_finding, .data = (void *)run };
	struct nvz_cfgv_result res;
	int rc = nvz_mem_host_read(&host, &err) < 0 || nvz_cfg_validate(c, &o, &res, &err) < 0 ||
			 (res.repaired && nvz_conf_save(c, path, &err) < 0)
		 ? 1
		 : res.failed ? 2 : 0;
	nvz_conf_free(c);
	if (rc == 1)
		cli_fail(err);
	if (rc == 0)
		fprintf(stderr, "Validation completed: success\n");
	return rc;
}

int main(int argc, char **argv)
{
	struct run run = { 0 };
	int vswap = -1, opt;
	while ((opt = getopt(argc, argv, "rihv:")) != -1) {
		switch (opt) {
		case 'r': run.repair = true; break;
		case 'i': run.ask = true; break;
		case 'h': return cli_close_stdout(usage(stdout, 0));
		case 'v':
			if (!strcmp(optarg, "yes") || !strcmp(optarg, "no")) {
				vswap = !strcmp(optarg, "yes");
				break;
			}
			fprintf(stderr, "Invalid argument for -v: %s\n", optarg);
			return usage(stderr, 1);
		default: return usage(stderr, 1);
		}
	}
	if (optind != argc - 1)
		return usage(stderr, 1);
	warn_no_global();
	int rc = validate(argv[optind], &run, vswap);
	return cli_close_stdout(rc);
}
