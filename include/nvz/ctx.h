/* The library's context: the global configuration (vz.conf or $VZ_CONF),
 * the directories derived from it, and where messages go. */
#ifndef NVZ_CTX_H
#define NVZ_CTX_H

#include <stdbool.h>

#include "nvz/config.h"
#include "nvz/error.h"

enum nvz_log_level {
	NVZ_LOG_ERROR = -1,
	NVZ_LOG_WARN = 0, /* printed unless --quiet */
	NVZ_LOG_INFO = 0, /* the usual vzctl progress lines */
	NVZ_LOG_VERBOSE = 1,
	NVZ_LOG_DEBUG = 2,
};

/* The library never prints: it hands every message to this callback. */
typedef void (*nvz_log_fn)(void *userdata, int level, const char *msg);

struct nvz_ctx {
	char *conf_path;    /* vz.conf */
	char *conf_dir;     /* its directory: conf/ and names/ live here */
	char *ct_conf_dir;  /* <conf_dir>/conf */
	char *names_dir;    /* <conf_dir>/names */
	struct nvz_conf *global;
	nvz_log_fn log;
	void *log_data;
	int logfd;          /* LOGFILE, or -1 */
	int log_level;      /* LOG_LEVEL: what reaches LOGFILE (-1 errors only) */
	const char *log_tag; /* CT ID for log lines */
	bool skiplock;
};

#define NVZ_DEFAULT_VZ_CONF "/etc/vz/vz.conf"

/* Load vz.conf (from $VZ_CONF if set, else /etc/vz/vz.conf). Status 10 if missing. */
int nvz_ctx_open(struct nvz_ctx **out, nvz_log_fn log, void *log_data, struct nvz_error **err);
void nvz_ctx_free(struct nvz_ctx *ctx);
/* Global value, or def if unset/empty. */
const char *nvz_ctx_get(const struct nvz_ctx *ctx, const char *key, const char *def);

__attribute__((format(printf, 3, 4)))
void nvz_log(const struct nvz_ctx *ctx, int level, const char *fmt, ...);
/* msg to LOGFILE only (for what the caller prints itself), by LOG_LEVEL. */
void nvz_log_file(const struct nvz_ctx *ctx, int level, const char *msg);

#endif
