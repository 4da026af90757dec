/* Children for ssh and rsync: forked, stdio wired, everything else closed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/spawn.h"
#include "nvz/cleanup.h"
#include "nvz/migrate.h"

void nvz_argv_add(struct nvz_argv *a, const char *s)
{
	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		char **v = realloc(a->v, cap * sizeof(*v));
		if (!v) {
			a->oom = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	if (!(a->v[a->n] = strdup(s))) {
		a->oom = true;
		return;
	}
	a->v[++a->n] = NULL;
}

void nvz_argv_add_words(struct nvz_argv *a, const char *opts)
{
	cleanup_free char *copy = opts ? strdup(opts) : NULL;
	char *save = NULL;
	if (opts && !copy)
		a->oom = true;
	for (char *w = copy ? strtok_r(copy, " \t\n", &save) : NULL; w; w = strtok_r(NULL, " \t\n", &save))
		nvz_argv_add(a, w);
}

void nvz_argv_free(struct nvz_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	*a = (struct nvz_argv){ 0 };
}

char *nvz_shell_quote(const char *s)
{
	size_t len = 3;
	for (const char *p = s; *p; p++)
		len += *p == '\'' ? 4 : 1;
	char *out = malloc(len), *o = out;
	if (!out)
		return NULL;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

int nvz_spawn(char *const argv[], pid_t *pid, int *in_w, int *out_r, struct nvz_error **err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	if ((in_w && pipe2(in, O_CLOEXEC) < 0) || (out_r && pipe2(out, O_CLOEXEC) < 0)) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0)
				close(in[i]);
		}
		return nvz_err_sys(err, NVZ_E_SYSTEM, e, "pipe");
	}
	pid_t parent = getpid();
	pid_t p = fork();
	if (p < 0) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0)
				close(in[i]);
			if (out[i] >= 0)
				close(out[i]);
		}
		return nvz_err_sys(err, NVZ_E_SYSTEM, e, "fork %s", argv[0]);
	}
	if (p == 0) {
		/* The tool must not die with a SIGPIPE we ignore, nor inherit our
		 * lock or other descriptors (a held CT lock must end with us). */
		signal(SIGPIPE, SIG_DFL);
		/* vzmigrate killed: its copy must stop too, not write on into a
		 * target that is cleaning up. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		int nul = open("/dev/null", O_RDWR);
		dup2(in_w ? in[0] : nul, 0);
		if (out_r)
			dup2(out[1], 1);
		syscall(SYS_close_range, 3, ~0U, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (in_w) {
		close(in[0]);
		*in_w = in[1];
	}
	if (out_r) {
		close(out[1]);
		*out_r = out[0];
	}
	*pid = p;
	return 0;
}

int nvz_wait(pid_t pid, const volatile sig_atomic_t *stop)
{
	int st;
	bool sent = false;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
		if (stop && *stop && !sent)
			sent = kill(pid, SIGTERM) == 0;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int nvz_run(char *const argv[], const volatile sig_atomic_t *stop, struct nvz_error **err)
{
	pid_t pid;
	if (nvz_spawn(argv, &pid, NULL, NULL, err) < 0)
		return -1;
	return nvz_wait(pid, stop);
}
