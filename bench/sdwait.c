/* sdwait: the finish line of a systemd boot, the same for every manager.
 * Usage: sdwait MATCH EXEC-PREFIX...; exit 0 when the container's systemd
 * says "running" or "degraded" (multi-user reached), 1 otherwise.
 *
 * Why not poll `EXEC-PREFIX systemctl is-system-running --wait` until it
 * stops saying "offline": the boot is CPU-bound on this 2-core machine, each
 * poll is a process in the container competing with the boot it measures, and
 * a manager with a faster exec polls more often, so the probe taxed the faster
 * manager more. Here the wait before systemd listens is on the host and costs
 * the container nothing: find the container's init the way bench/execwait does
 * (pid 1 of its own pid namespace, cgroup path containing MATCH: the
 * manager's tools are not asked, so no manager pays for its own tool), then
 * stat its /run/systemd/private every 2 ms until the socket exists. Then ONE
 * `EXEC-PREFIX systemctl is-system-running --wait`, which blocks inside until
 * the boot finished. If systemd bound the socket but does not listen yet
 * (a window of microseconds), systemctl says "offline": ask again. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctinit.h"

static long find_init(const char *match)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	long found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && is_ct_init((pid_t)strtol(e->d_name, NULL, 10), match))
			found = strtol(e->d_name, NULL, 10);
	closedir(d);
	return found;
}

static void nap(long ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };
	nanosleep(&ts, NULL);
}

/* Runs argv, returns its first line of output ("" on none or failure). */
static void run_probe(char **argv, char *out, size_t len)
{
	int p[2];
	out[0] = '\0';
	if (pipe(p) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n < len - 1 && (r = read(p[0], out + n, len - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	close(p[0]);
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: sdwait MATCH EXEC-PREFIX...\n");
		return 2;
	}
	/* 60 s at most, in 2 ms steps, for the socket to appear. */
	long pid = 0;
	char path[96];
	struct stat st;
	int i;
	for (i = 0; i < 30000; i++, nap(2)) {
		if (!pid && !(pid = find_init(argv[1])))
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/root/run/systemd/private", pid);
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			break;
		snprintf(path, sizeof(path), "/proc/%ld", pid);
		if (stat(path, &st) < 0)
			pid = 0; /* init gone (a restart): look again */
	}
	if (i == 30000) {
		fprintf(stderr, "sdwait: no systemd socket in %s's init (pid %ld)\n", argv[1], pid);
		return 1;
	}
	char **cmd = calloc((size_t)argc + 2, sizeof(*cmd));
	if (!cmd)
		return 2;
	for (int k = 2; k < argc; k++)
		cmd[k - 2] = argv[k];
	cmd[argc - 2] = "systemctl";
	cmd[argc - 1] = "is-system-running";
	cmd[argc] = "--wait";
	char state[64];
	for (i = 0; i < 500; i++, nap(2)) {
		run_probe(cmd, state, sizeof(state));
		if (!strcmp(state, "running") || !strcmp(state, "degraded"))
			return 0;
		if (strcmp(state, "offline") && strcmp(state, "starting") && strcmp(state, "initializing") &&
		    state[0])
			break;
	}
	fprintf(stderr, "sdwait: systemd state: %s\n", state);
	return 1;
}
