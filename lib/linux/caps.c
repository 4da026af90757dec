#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "linux/security.h"
#include "nvz/cleanup.h"

/* OpenVZ never gave a CT these: they act on the whole host (modules, raw
 * I/O, the clock, the kernel log, MAC policy, audit, suspend). */
static const int default_off[] = {
	CAP_SYS_MODULE, CAP_SYS_RAWIO,	  CAP_SYS_TIME,	     CAP_SYSLOG,
	CAP_MAC_ADMIN,	CAP_MAC_OVERRIDE, CAP_AUDIT_CONTROL, CAP_WAKE_ALARM,
	CAP_BLOCK_SUSPEND, CAP_BPF,	  CAP_PERFMON,
};

static uint64_t default_keep(void)
{
	uint64_t keep = 0;
	for (int c = 0; c <= CAP_LAST_CAP && c < 64; c++)
		keep |= 1ULL << c;
	for (size_t i = 0; i < sizeof(default_off) / sizeof(default_off[0]); i++)
		keep &= ~(1ULL << default_off[i]);
	return keep;
}

/* One "name:on|off" (tok is cut at its ':'), in vzctl's words when bad:
 * status 21 for an option's value, 13 for a config a start reads. */
static int parse_token(char *tok, int status, cap_value_t *cap, bool *on, struct nvz_error **err)
{
	char *colon = strrchr(tok, ':');
	if (!colon || (strcmp(colon + 1, "on") && strcmp(colon + 1, "off")))
		return nvz_err(err, status, EINVAL, "Can't parse capability %s (expecting capname:on|off)",
			       tok);
	*on = !strcmp(colon + 1, "on");
	*colon = '\0';
	cleanup_free char *full = NULL;
	if (asprintf(&full, "cap_%s", tok) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	/* libcap's names are case-insensitive, as vzctl's were. */
	if (cap_from_name(full, cap) < 0 || *cap > 63)
		return nvz_err(err, status, EINVAL, "Capability %s is unknown", tok);
	return 0;
}

int nvz_caps_parse(const char *capability, uint64_t *keep, struct nvz_error **err)
{
	*keep = default_keep();
	if (!capability || !*capability)
		return 0;
	cleanup_free char *copy = strdup(capability);
	if (!copy)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	char *save = NULL;
	for (char *tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		cap_value_t cap;
		bool on;
		if (parse_token(tok, NVZ_E_SETCAP, &cap, &on, err) < 0)
			return -EINVAL;
		if (on)
			*keep |= 1ULL << cap;
		else
			*keep &= ~(1ULL << cap);
	}
	return 0;
}

/* The entries of a CAPABILITY value by capability: -1 none, 0 off, 1 on;
 * entries that do not parse (another tool's) are left in *rest. */
static int caps_collect(const char *text, signed char state[64], FILE *rest, struct nvz_error **err)
{
	cleanup_free char *copy = strdup(text);
	if (!copy)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	char *save = NULL;
	for (char *tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		cleanup_free char *orig = strdup(tok);
		cap_value_t cap;
		bool on;
		if (!orig)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		if (parse_token(tok, NVZ_E_VALUE, &cap, &on, rest ? NULL : err) < 0) {
			if (!rest)
				return -EINVAL;
			fprintf(rest, "%s ", orig);
			continue;
		}
		state[cap] = on;
	}
	return 0;
}

char *nvz_caps_merge(const char *cur, const char *arg, struct nvz_error **err)
{
	signed char state[64], given[64];
	memset(state, -1, sizeof(state));
	memset(given, -1, sizeof(given));
	if (caps_collect(arg, given, NULL, err) < 0)
		return NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f || caps_collect(cur ? cur : "", state, f, err) < 0) {
		if (f)
			fclose(f);
		free(out);
		return f ? NULL : (nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory"), NULL);
	}
	/* As vzctl wrote it: one entry a capability, upper case, by number. */
	for (int c = 0; c < 64; c++) {
		int v = given[c] >= 0 ? given[c] : state[c];
		if (v < 0)
			continue;
		char *name = cap_to_name(c);
		const char *bare = name && !strncmp(name, "cap_", 4) ? name + 4 : name;
		for (const char *p = bare; p && *p; p++)
			fputc(toupper((unsigned char)*p), f);
		fprintf(f, ":%s ", v ? "on" : "off");
		cap_free(name);
	}
	fclose(f);
	if (len)
		out[len - 1] = '\0';
	return out;
}

int nvz_caps_apply(uint64_t keep, struct nvz_error **err)
{
	/* Root keeps all capabilities across execve up to the bounding set;
	 * the inheritable and ambient sets must lose them too, or they would
	 * come back through (P_inheritable & F_inheritable). */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return nvz_err_sys(err, NVZ_E_SETCAP, errno, "clear ambient capabilities");
	cap_t caps = cap_get_proc();
	if (!caps)
		return nvz_err_sys(err, NVZ_E_SETCAP, errno, "read capabilities");
	int last = (int)cap_max_bits() - 1;
	for (int c = 0; c <= last && c < 64; c++) {
		if (keep & (1ULL << c))
			continue;
		cap_value_t v = c;
		if (cap_drop_bound(v) < 0 && errno != EINVAL) {
			int e = errno;
			cap_free(caps);
			return nvz_err_sys(err, NVZ_E_SETCAP, e, "drop capability %d", c);
		}
		cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_CLEAR);
		cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_CLEAR);
		cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
	}
	int r = cap_set_proc(caps);
	int e = errno;
	cap_free(caps);
	if (r < 0)
		return nvz_err_sys(err, NVZ_E_SETCAP, e, "set capabilities");
	return 0;
}
