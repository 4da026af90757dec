#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/ctx.h"

/* Each message goes to the caller's callback (the console) and, like
 * vzctl's LOGFILE, to the log with a timestamp and the CT ID. */
void nvz_log(const struct nvz_ctx *ctx, int level, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0 || !ctx)
		return;
	if (ctx->log)
		ctx->log(ctx->log_data, level, msg);
	nvz_log_file(ctx, level, msg);
}

/* As vzctl's logger: a message reaches the file if its level is at most
 * LOG_LEVEL (errors -1, the usual lines 0, detail 1 and up). */
void nvz_log_file(const struct nvz_ctx *ctx, int level, const char *msg)
{
	if (!ctx || ctx->logfd < 0 || level > ctx->log_level)
		return;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", &tm);
	cleanup_free char *line = NULL;
	int n = asprintf(&line, "%s vzctl[%d]: %s%s%s%s\n", stamp, (int)getpid(),
			 ctx->log_tag ? "CT " : "", ctx->log_tag ? ctx->log_tag : "",
			 ctx->log_tag ? ": " : "", msg);
	/* One write per line so concurrent commands do not interleave lines. */
	if (n > 0 && write(ctx->logfd, line, (size_t)n) < 0)
		return;
}
