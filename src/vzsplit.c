/* vzsplit: a config sample splitting this server among N containers
 * (OpenVZ's vzsplit; lib/ct/split.c says how). -n N (asked for if not
 * given), -f NAME writes ve-NAME.conf-sample beside the CT configs (else
 * standard output), -s KB the swap to split instead of the host's.
 * Exit status 0, 1 on error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nvz/cleanup.h"
#include "nvz/ct.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: vzsplit [-f config_name] [-n num_CTs] [-s swap_size] [-v yes|no]\n"
		   "\t-f\t\tconfiguration sample name\n"
		   "\t-n\t\tnumber of containers\n"
		   "\t-s\t\tswap space, Kbytes\n"
		   "\t-v yes|no\tgenerate VSwap config (nvz: yes only)\n");
}

/* OpenVZ's strtol reading: a sign is taken (a count below 1 is refused
 * later, as there), trailing junk is not. */
static bool number(const char *s, long long *v)
{
	char *end;
	*v = strtoll(s, &end, 10);
	return !*end;
}

/* A bad option argument: OpenVZ said why, then how to call vzsplit. */
static int bad_arg(const char *msg, const char *arg)
{
	fprintf(stderr, "%s%s\n", msg, arg);
	usage(stderr);
	return 1;
}

int main(int argc, char **argv)
{
	const char *name = NULL;
	long long n = 0, swap_kb = 0;
	bool have_n = false, have_swap = false;
	int opt;
	while ((opt = getopt(argc, argv, "f:n:s:hv:")) != -1) {
		switch (opt) {
		case 'v':
			/* OpenVZ's -v chose VSwap or not; nvz writes VSwap samples only. */
			if (!strcmp(optarg, "yes"))
				break;
			if (!strcmp(optarg, "no")) {
				fprintf(stderr, "A non-VSwap config (-v no) is not supported: nvz "
						"enforces the VSwap limits only\n");
				return 1;
			}
			return bad_arg("Invalid argument for -v: ", optarg);
		case 'f': name = optarg; break;
		case 'n':
			if (!number(optarg, &n))
				return bad_arg("Invalid argument for -n: ", optarg);
			have_n = true;
			break;
		case 's':
			if (optarg[0] == '-')
				return bad_arg("Negative value for -s", "");
			if (!number(optarg, &swap_kb))
				return bad_arg("Invalid argument for -s: ", optarg);
			have_swap = true;
			break;
		case 'h': usage(stdout); return cli_close_stdout(0);
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 1;
	}
	if (!have_n) {
		printf("Enter the number of containers: ");
		fflush(stdout);
		if (scanf("%lld", &n) != 1) {
			fprintf(stderr, "Invalid value.\n");
			return 1;
		}
	}
	if (n < 1) {
		fprintf(stderr, "Incorrect value for number of containers.\n");
		return 1;
	}
	struct cli_out out = { 0 };
	struct nvz_ctx *ctx = NULL;
	struct nvz_error *err = NULL;
	struct nvz_split_host h;
	struct nvz_split s;
	if (nvz_ctx_open(&ctx, cli_log, &out, &err) < 0 || nvz_split_host(ctx, &h, &err) < 0) {
		nvz_ctx_free(ctx);
		cli_fail(err);
		return 1;
	}
	h.swap_set = have_swap;
	h.swap_given = (unsigned long long)swap_kb * 1024;
	int rc = 0;
	cleanup_free char *text = NULL, *path = NULL;
	if (nvz_split_compute(&h, (unsigned long)n, &s, &err) < 0 || !(text = nvz_split_format(&h, (unsigned long)n, &s))) {
		if (err)
			fprintf(stderr, "%s\n", err->msg);
		nvz_error_free(err);
		rc = 1;
	} else if (!name) {
		fputs(text, stdout);
	} else if (nvz_split_save(ctx, name, text, &path, &err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		nvz_error_free(err);
		rc = 1;
	} else {
		fprintf(stderr, "Config %s was created\n", path);
	}
	nvz_ctx_free(ctx);
	return cli_close_stdout(rc);
}
