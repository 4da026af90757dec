/* OpenVZ's action scripts: programs the admin puts in the CT config
 * directory to act around a CT's mount and unmount (the usual one:
 * CTID.mount binds a host directory into VE_ROOT) and after a create.
 * For each event the server's vps.EVENT runs first, then CTID.EVENT, each
 * if it exists, with the caller's environment plus VEID and VE_CONFFILE
 * (the scripts source vz.conf and the CT's config, as OpenVZ's did), and
 * VE_ROOT and VE_PRIVATE. A script that fails fails the command (79).
 * CTID.start and CTID.stop run inside the CT instead, once it runs and
 * before it is stopped. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/child.h"
#include "ct/internal.h"
#include "nvz/cleanup.h"

static bool path_has(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	for (const char *at = path; (at = strstr(at, dir)); at++)
		if ((at == path || at[-1] == ':') && (at[n] == ':' || at[n] == '\0'))
			return true;
	return false;
}

/* The caller's PATH with the directories vzctl's PATH had
 * (/bin:/sbin:/usr/bin:/usr/sbin) added where missing: a script that
 * calls iptables or ip ran so from cron too, whose PATH lacks the sbins. */
static char *script_path_env(void)
{
	static const char *const need[] = { "/bin", "/sbin", "/usr/bin", "/usr/sbin" };
	const char *cur = getenv("PATH");
	char *p = strdup(cur && *cur ? cur : "");
	for (size_t i = 0; p && i < sizeof(need) / sizeof(need[0]); i++) {
		if (path_has(p, need[i]))
			continue;
		char *grown = NULL;
		if (asprintf(&grown, "%s%s%s", p, *p ? ":" : "", need[i]) < 0)
			grown = NULL;
		free(p);
		p = grown;
	}
	return p;
}

static int run_script(const struct nvz_ct *ct, const char *path, const char *event,
		      struct nvz_error **err)
{
	cleanup_free char *search = script_path_env();
	if (!search)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	pid_t pid = fork();
	if (pid < 0)
		return nvz_err_sys(err, NVZ_E_ACTIONSCRIPT, errno, "fork for %s", path);
	if (pid == 0) {
		nvz_signals_default();
		int null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, 0) < 0 || setenv("VEID", ct->id, 1) < 0 ||
		    setenv("VE_CONFFILE", ct->conf_path, 1) < 0 || setenv("VE_ROOT", ct->root, 1) < 0 ||
		    setenv("VE_PRIVATE", ct->private, 1) < 0 || setenv("PATH", search, 1) < 0)
			_exit(127);
		char *const argv[] = { (char *)path, NULL };
		execv(path, argv);
		dprintf(2, "cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return nvz_err_sys(err, NVZ_E_ACTIONSCRIPT, errno, "wait for %s", path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return nvz_err(err, NVZ_E_ACTIONSCRIPT, EIO, "Error executing %s script %s: exit status %d",
		       event, path, code);
}

int nvz_ct_action_script(const struct nvz_ct *ct, const char *event, struct nvz_error **err)
{
	const char *dir = ct->ctx->ct_conf_dir;
	const char *owners[] = { "vps", ct->id };
	for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
		cleanup_free char *path = NULL;
		if (asprintf(&path, "%s/%s.%s", dir, owners[i], event) < 0)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		if (access(path, F_OK) < 0)
			continue;
		nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "Running %s script %s", event, path);
		if (run_script(ct, path, event, err) < 0)
			return -1;
	}
	return 0;
}

int nvz_ct_inside_script(struct nvz_ct *ct, const char *event, struct nvz_error **err)
{
	cleanup_free char *path = NULL;
	if (asprintf(&path, "%s/%s.%s", ct->ctx->ct_conf_dir, ct->id, event) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (access(path, F_OK) < 0)
		return 0;
	nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "Running %s script %s inside the container", event, path);
	int code = nvz_ct_runscript(ct, path, err);
	if (code < 0)
		return -1;
	if (code != 0)
		return nvz_err(err, NVZ_E_ACTIONSCRIPT, EIO, "Error executing %s script %s: exit status %d",
			       event, path, code);
	return 0;
}

const char *const nvz_ct_script_events[NVZ_CT_SCRIPT_EVENTS] = { "premount", "mount",	"umount",
								  "postumount", "start", "stop" };

void nvz_ct_scripts_rename(const struct nvz_ct *ct, const char *suffix)
{
	for (size_t i = 0; i < NVZ_CT_SCRIPT_EVENTS; i++) {
		cleanup_free char *script = NULL, *kept = NULL;
		if (asprintf(&script, "%s/%s.%s", ct->ctx->ct_conf_dir, ct->id, nvz_ct_script_events[i]) >= 0 &&
		    asprintf(&kept, "%s%s", script, suffix) >= 0)
			rename(script, kept);
	}
}

void nvz_ct_scripts_unlink(const struct nvz_ct *ct, const char *suffix)
{
	for (size_t i = 0; i < NVZ_CT_SCRIPT_EVENTS; i++) {
		cleanup_free char *kept = NULL;
		if (asprintf(&kept, "%s/%s.%s%s", ct->ctx->ct_conf_dir, ct->id, nvz_ct_script_events[i],
			     suffix) >= 0)
			unlink(kept);
	}
}
