/* Shared by bench/execwait.c and bench/sdwait.c: is a host pid the init of
 * the container whose cgroup path contains a given string? The same test
 * for every manager (nvz, crun, LXC): pid 1 of its own pid namespace. */
#ifndef BENCH_CTINIT_H
#define BENCH_CTINIT_H
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

static bool read_proc_file(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return true;
}

static bool is_ct_init(pid_t pid, const char *match)
{
	char buf[8192];
	if (!read_proc_file(pid, "status", buf, sizeof(buf)))
		return false;
	char *ns = strstr(buf, "\nNSpid:");
	if (!ns)
		return false;
	char *eol = strchr(ns + 1, '\n');
	if (eol)
		*eol = '\0';
	char *last = strrchr(ns, '\t');
	if (!last || strcmp(last + 1, "1") != 0 || last == strchr(ns, '\t'))
		return false;
	return read_proc_file(pid, "cgroup", buf, sizeof(buf)) && strstr(buf, match);
}
#endif
