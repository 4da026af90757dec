#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void cli_log(void *userdata, int level, const char *msg)
{
	const struct cli_out *out = userdata;
	if (level == NVZ_LOG_ERROR) {
		fprintf(stderr, "%s\n", msg);
		return;
	}
	if (out && (out->quiet || level > out->verbose))
		return;
	/* Warnings go where scripts look for them. */
	FILE *f = !strncmp(msg, "WARNING", 7) || !strncmp(msg, "Warning", 7) ? stderr : stdout;
	fprintf(f, "%s\n", msg);
	fflush(f);
}

/* The command's context, whose LOGFILE the final error goes to as well. */
static const struct nvz_ctx *log_ctx;

void cli_log_errors_to(const struct nvz_ctx *ctx)
{
	log_ctx = ctx;
}

void cli_error_line(const char *msg)
{
	fprintf(stderr, "%s\n", msg);
	nvz_log_file(log_ctx, NVZ_LOG_ERROR, msg);
}

int cli_fail(struct nvz_error *err)
{
	if (!err)
		return 3;
	int status = err->status ? err->status : 3;
	cli_error_line(err->msg);
	nvz_error_free(err);
	return status;
}

int cli_close_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("write error");
		return status ? status : 1;
	}
	return status;
}

bool cli_is_root(void)
{
	return geteuid() == 0;
}

int cli_bad_value(const char *option, const char *arg, const char *reason)
{
	char *line = NULL;
	if (asprintf(&line, "Bad parameter for --%s: %s%s%s", option, arg, reason ? " " : "",
		     reason ? reason : "") < 0)
		line = NULL;
	cli_error_line(line ? line : "Bad parameter");
	free(line);
	return NVZ_E_VALUE;
}

int cli_bad_parameter(const char *option, const char *arg, const struct nvz_error *why)
{
	const char *reason = why && why->msg ? strstr(why->msg, "' (") : NULL;
	return cli_bad_value(option, arg, reason ? reason + 2 : NULL);
}
