#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/ctx.h"

#define DEFAULT_VZ_CONF NVZ_DEFAULT_VZ_CONF

static char *path_join(const char *a, const char *b)
{
	char *s = NULL;
	if (asprintf(&s, "%s/%s", a, b) < 0)
		return NULL;
	return s;
}

int nvz_ctx_open(struct nvz_ctx **out, nvz_log_fn log, void *log_data, struct nvz_error **err)
{
	struct nvz_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	ctx->logfd = -1;
	ctx->log = log;
	ctx->log_data = log_data;
	const char *env = getenv("VZ_CONF");
	if (env && *env && *env != '/') {
		/* What runs in another directory (the hub, in /) reads the same
		 * file: the path made absolute, here and in our environment. */
		char cwd[PATH_MAX];
		ctx->conf_path = getcwd(cwd, sizeof(cwd)) ? path_join(cwd, env) : NULL;
		if (!ctx->conf_path || setenv("VZ_CONF", ctx->conf_path, 1) < 0) {
			int e = errno;
			nvz_ctx_free(ctx);
			return nvz_err_sys(err, NVZ_E_SYSTEM, e, "make VZ_CONF=%s absolute", env);
		}
	} else {
		ctx->conf_path = strdup(env && *env ? env : DEFAULT_VZ_CONF);
	}
	cleanup_free char *copy = ctx->conf_path ? strdup(ctx->conf_path) : NULL;
	if (!copy) {
		nvz_ctx_free(ctx);
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	}
	ctx->conf_dir = strdup(dirname(copy));
	ctx->ct_conf_dir = ctx->conf_dir ? path_join(ctx->conf_dir, "conf") : NULL;
	ctx->names_dir = ctx->conf_dir ? path_join(ctx->conf_dir, "names") : NULL;
	if (!ctx->names_dir || !ctx->ct_conf_dir) {
		nvz_ctx_free(ctx);
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	}
	if (nvz_conf_load(&ctx->global, ctx->conf_path, NVZ_E_NOCONFIG, err) < 0) {
		nvz_ctx_free(ctx);
		return nvz_err_wrap(err, "global configuration");
	}
	for (const char *const *w = nvz_conf_warnings(ctx->global); w && *w; w++)
		nvz_log(ctx, NVZ_LOG_WARN, "Warning: %s", *w);
	const char *logging = nvz_ctx_get(ctx, "LOGGING", "yes");
	const char *logfile = nvz_ctx_get(ctx, "LOGFILE", "/var/log/vzctl.log");
	if (!strcmp(logging, "yes"))
		ctx->logfd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	ctx->log_level = atoi(nvz_ctx_get(ctx, "LOG_LEVEL", "0"));
	*out = ctx;
	return 0;
}

void nvz_ctx_free(struct nvz_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->logfd >= 0)
		close(ctx->logfd);
	nvz_conf_free(ctx->global);
	free(ctx->conf_path);
	free(ctx->conf_dir);
	free(ctx->ct_conf_dir);
	free(ctx->names_dir);
	free(ctx);
}

const char *nvz_ctx_get(const struct nvz_ctx *ctx, const char *key, const char *def)
{
	const char *v = ctx->global ? nvz_conf_get(ctx->global, key) : NULL;
	return v && *v ? v : def;
}
