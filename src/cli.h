/* Shared by the commands: how messages reach the terminal, and exits. */
#ifndef NVZ_CLI_H
#define NVZ_CLI_H

#include <stdbool.h>

#include "nvz/ctx.h"
#include "nvz/error.h"

struct cli_out {
	int verbose; /* --verbose count + VERBOSE from vz.conf */
	bool quiet;  /* --quiet: errors only */
};

/* nvz_log_fn: progress on stdout, errors and warnings on stderr. */
void cli_log(void *userdata, int level, const char *msg);
/* Print an error chain and return its exit status. */
int cli_fail(struct nvz_error *err);
/* vzctl's line for an option value it cannot take, "Bad parameter for
 * --OPTION: ARG", as an error line; returns its status, 21. why: the key
 * table's refusal of a value vzctl took, whose "(reason)" follows (NULL:
 * the line alone). */
int cli_bad_parameter(const char *option, const char *arg, const struct nvz_error *why);
/* The same line with reason (e.g. "(not in NETDEV)") after it, or alone. */
int cli_bad_value(const char *option, const char *arg, const char *reason);
/* One more error line, on stderr and in LOGFILE as cli_fail's. */
void cli_error_line(const char *msg);
/* cli_fail's messages also go to ctx's LOGFILE (NULL: no more). */
void cli_log_errors_to(const struct nvz_ctx *ctx);
/* Check that stdout was written fully (vzlist > /full/disk must fail). */
int cli_close_stdout(int status);
bool cli_is_root(void);

#endif
