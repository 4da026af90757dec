/* vzpid: which container each host process belongs to (OpenVZ's
 * bin/vzpid.in): "Pid CTID Name", CTID 0 for the host's own; -p adds the
 * pid the process has inside its CT. "-" reads the pids from stdin. Exit
 * status 0, 1 on bad usage or when a pid does not exist. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nvz/cleanup.h"
#include "nvz/ct.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: vzpid [-p] [pid ...] [-h]\n"
		   "       vzpid [-p] -   (pids read from stdin)\n");
}

static int show(struct nvz_ctx *ctx, const char *arg, bool ct_pid)
{
	char *end;
	errno = 0;
	long pid = strtol(arg, &end, 10);
	if (errno || end == arg || *end || pid <= 0) {
		fprintf(stderr, "vzpid: invalid pid: %s\n", arg);
		return 1;
	}
	struct nvz_pid_info pi;
	struct nvz_error *err = NULL;
	if (nvz_pid_info(ctx, (pid_t)pid, &pi, &err) < 0) {
		fprintf(stderr, "vzpid: %s\n", err->msg);
		nvz_error_free(err);
		return 1;
	}
	if (ct_pid)
		printf("%d\t%d\t%s\t%s\n", (int)pi.pid, (int)pi.ct_pid, pi.ctid, pi.name);
	else
		printf("%d\t%s\t%s\n", (int)pi.pid, pi.ctid, pi.name);
	return 0;
}

int main(int argc, char **argv)
{
	bool ct_pid = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return cli_close_stdout(0);
		}
		if (strcmp(argv[i], "-p")) {
			usage(stderr);
			return 1;
		}
		ct_pid = true;
	}
	if (i == argc) {
		usage(stderr);
		return 1;
	}
	struct cli_out out = { 0 };
	struct nvz_ctx *ctx = NULL;
	struct nvz_error *err = NULL;
	/* Without vz.conf, the default CGROUP_PREFIX. */
	if (nvz_ctx_open(&ctx, cli_log, &out, &err) < 0)
		nvz_error_clear(&err);
	if (ct_pid)
		printf("Pid\tCT/Pid\tCTID\tName\n");
	else
		printf("Pid\tCTID\tName\n");
	int rc = 0;
	if (argc - i == 1 && !strcmp(argv[i], "-")) {
		char word[64];
		while (scanf("%63s", word) == 1)
			rc |= show(ctx, word, ct_pid);
	} else {
		for (; i < argc; i++)
			rc |= show(ctx, argv[i], ct_pid);
	}
	nvz_ctx_free(ctx);
	return cli_close_stdout(rc);
}
