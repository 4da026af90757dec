/* exec, exec2, exec3 and enter: commands run inside a running CT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "vzctl.h"

int cmd_exec(struct cmd_ctx *c)
{
	if (c->argc < 1)
		return cmd_bad_args("%s", "No command line given for exec");
	bool from_stdin = c->argc == 1 && !strcmp(c->argv[0], "-");
	char *const no_args[] = { NULL };
	struct nvz_exec_opts o = {
		.argv = from_stdin ? no_args : c->argv,
		/* exec and exec2 take a command line (`vzctl exec 101 'ps | wc -l'`)
		 * or, with -, read the commands from stdin; exec3 runs argv as it is. */
		.shell = from_stdin || strcmp(c->name, "exec3"),
		.stdin_fd = 0,
		.stdout_fd = 1,
		.stderr_fd = 2,
	};
	struct nvz_error *err = NULL;
	int code = nvz_ct_exec(c->ct, &o, &err);
	if (code < 0) {
		int status = cli_fail(err);
		/* exec reports every failure as 8; exec2 passes vzctl's own code. */
		return strcmp(c->name, "exec") ? status : NVZ_E_EXEC;
	}
	if (!strcmp(c->name, "exec"))
		return code ? NVZ_E_EXEC : 0;
	return code;
}

int cmd_enter(struct cmd_ctx *c)
{
	/* The CT's own bash if it has one, else its sh (decided inside the CT). */
	char *const login[] = { "/bin/sh", "-c",
				"if [ -x /bin/bash ]; then exec /bin/bash -l; fi; exec /bin/sh -l", NULL };
	/* vzctl's messages, status 20. */
	if (c->argc && strcmp(c->argv[0], "--exec"))
		return cmd_bad_args("Invalid option '%s'", c->argv[0]);
	if (c->argc == 1 || (c->argc && !*c->argv[1]))
		return cmd_bad_args("%s", "No command line given for --exec");
	/* --exec types the command line into the shell, as vzctl did: the
	 * shell stays (`--exec "apt-get install vim && logout"` leaves it). */
	cleanup_free char *typed = NULL;
	for (int i = 1; i < c->argc; i++) {
		char *t = NULL;
		if (asprintf(&t, "%s%s%s", typed ? typed : "", c->argv[i], i + 1 < c->argc ? " " : "\n") < 0)
			return 3;
		free(typed);
		typed = t;
	}
	const char *term = getenv("TERM");
	char termvar[128];
	snprintf(termvar, sizeof(termvar), "TERM=%s", term && *term ? term : "xterm");
	char *const envp[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "USER=root", "LOGNAME=root", "container=nvz", termvar,
		/* As vzctl's: the host admin's commands stay out of the CT's history. */
		"HISTFILE=/dev/null", NULL,
	};
	struct nvz_exec_opts o = {
		.argv = login, .pty = true, .pty_input = typed, .stdin_fd = 0, .stdout_fd = 1,
		.stderr_fd = 2, .envp = envp,
	};
	struct nvz_error *err = NULL;
	struct nvz_ct_state st;
	nvz_ct_get_state(c->ct, &st, NULL);
	if (!st.running) {
		fprintf(stderr, "Container is not running\n");
		return NVZ_E_NOT_RUNNING;
	}
	printf("entered into CT %s\n", c->ct->id);
	fflush(stdout);
	int code = nvz_ct_exec(c->ct, &o, &err);
	if (code < 0) {
		fprintf(stderr, "enter into CT %s failed\n", c->ct->id);
		return cli_fail(err);
	}
	printf("exited from CT %s\n", c->ct->id);
	return 0;
}

/* As vzctl, the console's own words go to stderr: stdout carries only
 * what the CT writes (vzctl console 101 >boot.log). */
static void say_attached(void *id)
{
	fflush(stdout);
	fprintf(stderr, "Attached to CT %s (ESC . to detach)\n", (const char *)id);
}

int cmd_console(struct cmd_ctx *c)
{
	if (c->argc > 1)
		return cmd_bad_args("%s", "Invalid syntax: too many parameters!");
	/* vzctl: a tty number that is not one is a bad value (21); of the
	 * numbers, only the console, tty 1, is served here. */
	if (c->argc == 1 && (!*c->argv[0] || c->argv[0][strspn(c->argv[0], "0123456789")])) {
		fprintf(stderr, "Invalid tty number: %s\n", c->argv[0]);
		return NVZ_E_VALUE;
	}
	if (c->argc == 1 && strcmp(c->argv[0], "1"))
		return cmd_bad_args("Invalid extra arguments: %s (only tty 1, the console, is available)",
				    c->argv[0]);
	struct nvz_error *err = NULL;
	if (nvz_ct_console_attach(c->ct, 0, 1, say_attached, c->ct->id, &err) < 0)
		return cli_fail(err);
	fflush(stdout);
	fprintf(stderr, "\r\nDetached from CT %s\n", c->ct->id);
	return 0;
}

int cmd_runscript(struct cmd_ctx *c)
{
	if (c->argc != 1)
		return cmd_bad_args("%s", c->argc ? "Invalid extra arguments" : "Script not specified");
	struct nvz_error *err = NULL;
	int code = nvz_ct_runscript(c->ct, c->argv[0], &err);
	if (code < 0)
		return cli_fail(err);
	return code;
}
