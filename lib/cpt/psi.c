/* PSI triggers after a restore. A process that wants to hear of memory
 * pressure opens a PSI file (/proc/pressure/memory, or its cgroup's
 * memory.pressure on cgroup v2), writes a trigger into it ("some 200000
 * 2000000": 200 ms stalled in 2 s) and polls it. The kernel keeps the
 * trigger in that open file, and criu restores the file as a new open of
 * the same path, without it. A PSI file without a trigger polls as
 * POLLPRI|POLLERR at once, every time: every sd-event daemon of systemd
 * >= 254 (PID 1, journald, networkd, logind...) then spins at 100% CPU
 * ("Under memory pressure, flushing caches") after a restore or a live
 * migration. So the trigger is written again into the process's own open
 * file: the one systemd told it to write (its environment), else the one
 * sd-event writes by default. Neither the kernel nor criu can say what
 * the process wrote; a trigger on another resource than memory is not
 * systemd's, and is said to be a guess. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cpt/taskfd.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"

/* sd-event's fallback and PID 1's default (MEMORY_PRESSURE_DEFAULT_*). */
#define SD_DEFAULT_TRIGGER "some 200000 2000000"
#define ENVIRON_MAX (128 * 1024)

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Standard base64, '=' padding optional; -1 on a bad character or no room. */
static ssize_t b64_decode(const char *in, size_t in_len, char *out, size_t size)
{
	size_t n = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < in_len && in[i] != '='; i++) {
		int v = b64_value(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == size)
				return -1;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	return (ssize_t)n;
}

ssize_t nvz_cpt_psi_trigger(const char *envp, size_t len, bool memory, char *out, size_t size)
{
	static const char key[] = "MEMORY_PRESSURE_WRITE=";
	for (size_t i = 0; memory && i < len;) {
		const char *var = envp + i;
		size_t n = strnlen(var, len - i);
		if (i + n == len)
			break; /* cut short: not the value the process has */
		if (n > sizeof(key) - 1 && !memcmp(var, key, sizeof(key) - 1)) {
			ssize_t r = b64_decode(var + sizeof(key) - 1, n - (sizeof(key) - 1), out, size);
			if (r > 0)
				return r;
			break; /* unreadable: sd-event would have failed too; use its default */
		}
		i += n + 1;
	}
	if (sizeof(SD_DEFAULT_TRIGGER) > size)
		return -1;
	memcpy(out, SD_DEFAULT_TRIGGER, sizeof(SD_DEFAULT_TRIGGER));
	return (ssize_t)sizeof(SD_DEFAULT_TRIGGER);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

static bool psi_name(const char *target)
{
	return strstr(target, "/pressure/") || ends_with(target, ".pressure");
}

/* A PSI file for real (not a file of that name elsewhere): procfs's
 * pressure/ directory, or a cgroup's *.pressure. memory: its resource. */
static bool psi_file(int fd, const char *target, bool *memory)
{
	struct statfs fs;
	if (fstatfs(fd, &fs) < 0)
		return false;
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (fs.f_type == PROC_SUPER_MAGIC && strstr(target, "/pressure/")) {
		*memory = !strcmp(base, "memory");
		return true;
	}
	if ((fs.f_type == CGROUP2_SUPER_MAGIC || fs.f_type == CGROUP_SUPER_MAGIC) &&
	    ends_with(base, ".pressure") && strcmp(base, "cgroup.pressure")) {
		*memory = !strcmp(base, "memory.pressure");
		return true;
	}
	return false;
}

struct rearm {
	char *note;
	size_t len;
	int noted;
};

static void add_note(struct rearm *r, pid_t pid, const char *target, const char *why)
{
	r->noted++;
	if (!r->note || !r->len)
		return;
	char comm[32] = "?", path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	cleanup_fclose FILE *f = fopen(path, "re");
	if (f && fgets(comm, sizeof(comm), f))
		comm[strcspn(comm, "\n")] = '\0';
	size_t used = strlen(r->note);
	if (used + 1 < r->len)
		snprintf(r->note + used, r->len - used, "%s%s[%d] %s: %s", used ? "; " : "", comm,
			 (int)pid, target, why);
}

static void rearm_one(pid_t pid, int fd, const char *target, void *arg)
{
	struct rearm *r = arg;
	bool memory = false;
	if (fd < 0) {
		/* Only its name is known: a PSI file that may hold a trigger. */
		if (!ends_with(target, "/cgroup.pressure"))
			add_note(r, pid, target, strerror(errno));
		return;
	}
	int flags = fcntl(fd, F_GETFL);
	/* A trigger needs a file open for writing; one open read-only is read. */
	if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY || !psi_file(fd, target, &memory))
		return;
	char path[64], trigger[256];
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	/* Unreadable (or larger than any systemd hands out): the default. */
	cleanup_free char *env = NULL;
	size_t got = 0;
	if (nvz_read_file(path, ENVIRON_MAX, &env, &got, NULL) < 0)
		got = 0;
	ssize_t len = nvz_cpt_psi_trigger(env ? env : "", got, memory, trigger, sizeof(trigger));
	/* EBUSY: a trigger is there already (a criu that carries them). */
	if (len > 0 && write(fd, trigger, (size_t)len) < 0 && errno != EBUSY) {
		add_note(r, pid, target, strerror(errno));
		return;
	}
	if (!memory)
		add_note(r, pid, target, "its trigger is unknown; set to " SD_DEFAULT_TRIGGER);
}

int nvz_cpt_psi_rearm(pid_t init_pid, char *note, size_t note_len)
{
	struct rearm r = { .note = note, .len = note_len };
	if (note && note_len)
		*note = '\0';
	nvz_cpt_each_task_fd(init_pid, psi_name, rearm_one, &r);
	return r.noted;
}
