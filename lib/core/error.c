#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/error.h"

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

static int set_error(struct nvz_error **err, int status, int code, char *msg)
{
	if (code <= 0)
		code = EINVAL;
	if (!err || *err) {
		/* Never overwrite the first error: it is the diagnosis. */
		free(msg);
		return -code;
	}
	struct nvz_error *e = calloc(1, sizeof(*e));
	if (!e) {
		free(msg);
		return -code;
	}
	e->code = code;
	e->status = status ? status : NVZ_E_SYSTEM;
	e->msg = msg ? msg : strdup("out of memory");
	*err = e;
	return -code;
}

int nvz_err(struct nvz_error **err, int status, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = vformat(fmt, ap);
	va_end(ap);
	return set_error(err, status, code, msg);
}

int nvz_err_sys(struct nvz_error **err, int status, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = vformat(fmt, ap);
	va_end(ap);
	char *full = NULL;
	if (msg && asprintf(&full, "%s: %s", msg, strerror(code > 0 ? code : EINVAL)) < 0)
		full = NULL;
	free(msg);
	return set_error(err, status, code, full);
}

int nvz_err_wrap(struct nvz_error **err, const char *fmt, ...)
{
	if (!err || !*err)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	char *ctx = vformat(fmt, ap);
	va_end(ap);
	char *full = NULL;
	if (ctx && asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = full;
	}
	free(ctx);
	return -(*err)->code;
}

void nvz_error_free(struct nvz_error *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}

void nvz_error_clear(struct nvz_error **err)
{
	if (err) {
		nvz_error_free(*err);
		*err = NULL;
	}
}
