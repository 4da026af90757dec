/* vzctl's command table and the handlers in src/cmd-*.c. */
#ifndef NVZ_VZCTL_H
#define NVZ_VZCTL_H

#include "cli.h"
#include "nvz/ct.h"

enum cmd_flags {
	CMD_LOCK = 1 << 0,        /* take the CT lock */
	CMD_NEEDS_CONFIG = 1 << 1, /* the CT config must exist (status 14) */
	CMD_JOINS_CT = 1 << 2,    /* joins a running CT: run from a sealed copy */
	CMD_ADOPTS = 1 << 3,      /* a running CT whose monitor is gone: the hub takes it first */
};

struct cmd_ctx {
	struct nvz_ct *ct;
	int argc;     /* arguments after the CT ID */
	char **argv;
	const char *name; /* the command as typed */
	struct cli_out *out;
};

struct cmd {
	const char *name;
	int (*run)(struct cmd_ctx *c);
	unsigned flags;
	const char *usage;
};

int cmd_create(struct cmd_ctx *c);
int cmd_destroy(struct cmd_ctx *c);
int cmd_start(struct cmd_ctx *c);
int cmd_stop(struct cmd_ctx *c);
int cmd_restart(struct cmd_ctx *c);
int cmd_status(struct cmd_ctx *c);
int cmd_mount(struct cmd_ctx *c);
int cmd_umount(struct cmd_ctx *c);
int cmd_exec(struct cmd_ctx *c);
int cmd_enter(struct cmd_ctx *c);
int cmd_set(struct cmd_ctx *c);
int cmd_console(struct cmd_ctx *c);
int cmd_compact(struct cmd_ctx *c);
int cmd_convert(struct cmd_ctx *c);
int cmd_snapshot(struct cmd_ctx *c);
int cmd_runscript(struct cmd_ctx *c);
int cmd_migrate_recv(struct cmd_ctx *c);
int cmd_chkpnt(struct cmd_ctx *c);
int cmd_restore(struct cmd_ctx *c);
int cmd_monitor_exit(struct cmd_ctx *c);

/* Print "Invalid extra arguments" style errors: status 20. */
int cmd_bad_args(const char *fmt, const char *arg);
/* The arguments after the CT ID behind the program's name, for
 * getopt_long with opterr on: as vzctl, which put argv[0] back there, an
 * unknown option or a missing argument is glibc's own line ("vzctl:
 * unrecognized option '--x'"). NULL when out of memory; free() it. */
char **cmd_getopt_argv(const struct cmd_ctx *c);
/* After vzctl's parse_opt (set, create, convert), whose getopt moved the
 * arguments that are no options behind them, from optind in av: on
 * stdout "non-option ARGV-elements: A B ", status 20. */
int cmd_non_options(char **av, int argc);
/* vzctl's check of a command that takes no options (destroy, mount,
 * umount, status, compact): any argument is "Invalid options: A B ", 20. */
int cmd_no_options(const struct cmd_ctx *c);

#endif
