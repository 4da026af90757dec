/* vzmigrate's ssh: one connection for the whole migration, and the target
 * session (vzctl migrate-recv) spoken over it. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "cpt/migrate-src.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

/* One ssh connection carries the whole migration: the target session is
 * the ControlMaster and every rsync runs over it, so the final sync (the
 * CT is down) pays no key exchange. The socket lives in a private 0700
 * directory; without it (or if the master is gone) ssh just connects. */
static int make_mux(struct mig *m, struct nvz_error **err)
{
	if (m->o->no_ssh_mux)
		return 0;
	/* In RUNDIR (root's, emptied at boot) unless the socket path would be
	 * too long for sun_path once ssh adds its temporary suffix. */
	const char *rundir = nvz_ctx_get(m->ct->ctx, "RUNDIR", "/run/nvz");
	cleanup_free char *dir = NULL;
	if (asprintf(&dir, "%s/migrate-%s.XXXXXX", strlen(rundir) < 48 ? rundir : "/tmp", m->ct->id) < 0)
		return nvz_mig_oom(err);
	if (nvz_mkdir_p(rundir, 0700, NULL) < 0 || !mkdtemp(dir))
		return nvz_err_sys(err, NVZ_MIG_USAGE, errno, "cannot make a directory for ssh's socket");
	if (asprintf(&m->mux, "%s/ctl", dir) < 0) {
		m->mux = NULL;
		rmdir(dir);
		return nvz_mig_oom(err);
	}
	return 0;
}

void nvz_mig_drop_mux(struct mig *m)
{
	if (!m->mux)
		return;
	unlink(m->mux); /* the master removes it; not if it was killed */
	*strrchr(m->mux, '/') = '\0';
	rmdir(m->mux);
	free(m->mux);
	m->mux = NULL;
}

/* ssh with the user's options first (ssh takes the first value of an
 * option), then what migration needs: keys only, never a prompt. */
int nvz_mig_build_ssh(struct mig *m, struct nvz_error **err)
{
	if (nvz_migrate_parse_dest(m->o->dest, &m->dest, err) < 0 || make_mux(m, err) < 0)
		return -1;
	cleanup_free char *ctl = NULL;
	if (m->mux && asprintf(&ctl, "ControlPath=%s", m->mux) < 0)
		return nvz_mig_oom(err);
	struct nvz_argv rsh = { 0 };
	struct nvz_argv *both[] = { &m->ssh, &rsh };
	for (size_t i = 0; i < 2; i++) {
		nvz_argv_add(both[i], "ssh");
		nvz_argv_add_words(both[i], m->o->ssh_opts);
		nvz_argv_add_words(both[i], "-o BatchMode=yes -o ConnectTimeout=15 -o ServerAliveInterval=15");
		/* OpenVZ's vzmigrate ran its connection check with ssh's stderr
		 * thrown away unless -v: only its own two lines said why. The
		 * copies' ssh (rsync's) speak as they did there; -vvvv: ssh -v. */
		if (!i && m->o->verbose == 0)
			nvz_argv_add_words(both[i], "-o LogLevel=QUIET");
		if (m->o->verbose > 3)
			nvz_argv_add(both[i], "-v");
		if (m->mux) {
			nvz_argv_add_words(both[i], i ? "-o ControlMaster=no" : "-o ControlMaster=yes");
			nvz_argv_add(both[i], "-o");
			nvz_argv_add(both[i], ctl);
		}
	}
	nvz_argv_add(&m->ssh, m->dest.ssh);
	FILE *f = rsh.oom ? NULL : open_memstream(&m->rsh, &(size_t){ 0 });
	for (size_t i = 0; f && i < rsh.n; i++)
		fprintf(f, "%s%s", i ? " " : "", rsh.v[i]);
	nvz_argv_free(&rsh);
	if (!f || fclose(f) != 0 || m->ssh.oom)
		return nvz_mig_oom(err);
	return 0;
}

/* The remote command line: every argument quoted for the remote shell. */
static int add_remote_arg(FILE *f, const char *opt, const char *val)
{
	cleanup_free char *q = val ? nvz_shell_quote(val) : NULL;
	if (val && !q)
		return -1;
	fprintf(f, " %s%s%s", opt, q ? " " : "", q ? q : "");
	return 0;
}

static char *remote_cmd(const struct mig *m)
{
	const struct nvz_ct *ct = m->ct;
	char *s = NULL;
	FILE *f = open_memstream(&s, &(size_t){ 0 });
	if (!f)
		return NULL;
	cleanup_free char *vz = nvz_shell_quote(m->o->remote_vzctl ? m->o->remote_vzctl : "vzctl");
	/* OpenVZ's -v showed what vzctl printed there (the start...), and each
	 * -v after the first made it more --verbose. */
	fputs(vz ? vz : "vzctl", f);
	for (int i = 0; i < m->o->verbose && i < 4; i++)
		fputs(" --verbose", f);
	fprintf(f, " migrate-recv %s", ct->id);
	const char *name = nvz_conf_get(ct->conf, "NAME");
	const char *ips = nvz_conf_get(ct->conf, "IP_ADDRESS");
	const char *tree = nvz_conf_get(ct->conf, "TEMPLATE_TREE");
	int r = 0;
	if (name && *name)
		r |= add_remote_arg(f, "--name", name);
	if (ips && *ips)
		r |= add_remote_arg(f, "--ips", ips);
	if (tree && *tree)
		r |= add_remote_arg(f, "--tree", tree);
	/* The layout may come from this server's vz.conf, not the CT's file:
	 * the target's default may differ, so it is named. */
	r |= add_remote_arg(f, "--layout", nvz_ct_get(ct, "VE_LAYOUT", "simfs"));
	if (m->o->keep_dst)
		r |= add_remote_arg(f, "--keep-dst", NULL);
	if (m->o->online)
		r |= add_remote_arg(f, "--online", NULL);
	if (m->cpuinfo)
		r |= add_remote_arg(f, "--cpuinfo", m->cpuinfo);
	if (m->cgroup_version > 0)
		r |= add_remote_arg(f, "--cgroup", m->cgroup_version == 1 ? "1" : "2");
	if (!(m->o->nodeps & NVZ_MIG_NODEPS_IPV6))
		r |= add_remote_arg(f, "--check-ipv6", NULL);
	if (fclose(f) != 0 || r) {
		free(s);
		return NULL;
	}
	return s;
}

/* Why the session ended before READY, from ssh's or vzctl's exit status
 * and the target's REFUSED line (why; NULL from an older nvz). */
static int session_failed(struct mig *m, int st, const char *why, struct nvz_error **err)
{
	switch (st) {
	case 255:
		return nvz_err(err, NVZ_MIG_CONNECT, ECONNREFUSED,
			       "Can't connect to destination address using public key");
	case 127:
		/* OpenVZ's words first: admins and their scripts look for them. */
		return nvz_err(err, NVZ_MIG_NOT_RUNNING, ENOENT,
			       "OpenVZ is not running on the target machine: nvz (vzctl) is not "
			       "installed on the destination %s", m->o->dest);
	case NVZ_MIG_EXISTS:
	case NVZ_MIG_IP_INUSE:
	case NVZ_MIG_LOCKED:
		if (why)
			return nvz_err(err, st, EEXIST, "%s", why);
		return nvz_err(err, st, EEXIST, "the destination refused CT %s", m->ct->id);
	case NVZ_MIG_UNSUP_CPU:
	case NVZ_MIG_UNSUP_CPT:
	case NVZ_MIG_APPLY_CONFIG:
	case NVZ_MIG_NOT_RUNNING:
		if (why)
			return nvz_err(err, st, ENOTSUP, "%s", why);
		return nvz_err(err, st, ENOTSUP, "the destination cannot run CT %s", m->ct->id);
	default:
		return nvz_err(err, NVZ_MIG_NOT_RUNNING, EPROTO,
			       "the destination's vzctl failed (status %d)%s%s", st, why ? ": " : "",
			       why ? why : "");
	}
}

static char *read_line(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	if (n <= 0) {
		free(line);
		return NULL;
	}
	if (line[n - 1] == '\n')
		line[n - 1] = '\0';
	return line;
}

void nvz_mig_end_session(struct mig *m, const char *last_word)
{
	if (m->sess_pid <= 0)
		return;
	if (m->sess_in >= 0) {
		if (last_word)
			(void)!write(m->sess_in, last_word, strlen(last_word));
		close(m->sess_in);
		m->sess_in = -1;
	}
	/* The target cleans up before it exits: wait for it, so a retry finds it clean. */
	/* Bounded: a target silent for a minute is cut off (its ssh killed). */
	if (m->sess_out) {
		struct pollfd p = { .fd = fileno(m->sess_out), .events = POLLIN };
		for (char *l; poll(&p, 1, 60000) != 0 && (l = read_line(m->sess_out));)
			free(l);
		fclose(m->sess_out);
		m->sess_out = NULL;
	}
	kill(m->sess_pid, SIGTERM); /* gone already, unless cut off */
	nvz_wait(m->sess_pid, NULL);
	m->sess_pid = 0;
}

int nvz_mig_open_session(struct mig *m, struct nvz_error **err)
{
	cleanup_free char *cmd = remote_cmd(m);
	struct nvz_argv a = { 0 };
	for (size_t i = 0; i < m->ssh.n; i++)
		nvz_argv_add(&a, m->ssh.v[i]);
	if (cmd)
		nvz_argv_add(&a, cmd);
	int out = -1;
	int r = !cmd || a.oom ? nvz_mig_oom(err) : nvz_spawn(a.v, &m->sess_pid, &m->sess_in, &out, err);
	nvz_argv_free(&a);
	if (r < 0)
		return -1;
	if (!(m->sess_out = fdopen(out, "r"))) {
		close(out);
		return nvz_mig_oom(err);
	}
	cleanup_free char *why = NULL;
	for (char *l; (l = read_line(m->sess_out)); free(l)) {
		char **slot = !strncmp(l, "REFUSED ", 8) ? &why
			      : !strncmp(l, "PRIVATE ", 8) ? &m->rpriv
			      : !strncmp(l, "CONF ", 5)  ? &m->rconf
			      : !strncmp(l, "TREE ", 5)  ? &m->rtree
			      : !strncmp(l, "DUMP ", 5)  ? &m->rdump
			      : !strncmp(l, "SCRIPTS ", 8) ? &m->rscripts
							 : NULL;
		if (slot) {
			free(*slot);
			*slot = strdup(strchr(l, ' ') + 1);
		} else if (!strcmp(l, "READY")) {
			free(l);
			if (!m->rpriv || !m->rconf || (m->o->online && !m->rdump))
				return nvz_err(err, NVZ_MIG_NOT_RUNNING, EPROTO,
					       "the destination did not say where to copy CT %s", m->ct->id);
			return 0;
		}
	}
	close(m->sess_in);
	m->sess_in = -1;
	fclose(m->sess_out);
	m->sess_out = NULL;
	int st = nvz_wait(m->sess_pid, NULL);
	m->sess_pid = 0;
	return session_failed(m, st, why, err);
}

/* A command on the session; the target answers OK or ERR <why>. */
int nvz_mig_session_do(struct mig *m, const char *what, int status, struct nvz_error **err)
{
	char line[32];
	snprintf(line, sizeof(line), "%s\n", what);
	if (write(m->sess_in, line, strlen(line)) != (ssize_t)strlen(line))
		return nvz_err_sys(err, status, errno, "lost the connection to the destination");
	/* Post-copy, until the restore there returns: if the page server
	 * dies, the restore waits for pages that will never come. */
	int st = -1;
	if (m->lazy.criu > 0 && !m->ran_there &&
	    nvz_cpt_lazy_watch(fileno(m->sess_out), m->lazy.criu, -1, &st) == 0)
		return nvz_err(err, status, EPIPE, "criu's page server on the source died (status %d) "
			       "before the destination's restore returned", st);
	cleanup_free char *reply = read_line(m->sess_out);
	if (!reply)
		return nvz_err(err, status, EPIPE, "lost the connection to the destination");
	if (!strcmp(reply, "OK"))
		return 0;
	return nvz_err(err, status, EIO, "destination: %s",
		       !strncmp(reply, "ERR ", 4) ? reply + 4 : reply);
}

int nvz_mig_spawn_out(struct nvz_argv *a, pid_t *pid, int *out, struct nvz_error **err)
{
	int r = a->oom ? nvz_mig_oom(err) : nvz_spawn(a->v, pid, NULL, out, err);
	nvz_argv_free(a);
	return r;
}

int nvz_mig_ask_target_kept(struct mig *m, struct nvz_error **err)
{
	cleanup_free char *vz = nvz_shell_quote(m->o->remote_vzctl ? m->o->remote_vzctl : "vzctl");
	cleanup_free char *id = nvz_shell_quote(m->ct->id), *cmd = NULL;
	if (!vz || !id || asprintf(&cmd, "%s migrate-recv %s --query", vz, id) < 0)
		return nvz_mig_oom(err);
	struct nvz_argv a = { 0 };
	for (size_t i = 0; i < m->ssh.n; i++)
		nvz_argv_add(&a, m->ssh.v[i]);
	nvz_argv_add(&a, cmd);
	pid_t pid;
	int out = -1;
	if (nvz_mig_spawn_out(&a, &pid, &out, err) < 0)
		return -1;
	/* Bounded: the target waits up to 30 s for its session to end. */
	char buf[64] = "";
	size_t n = 0;
	bool silent = false;
	struct pollfd p = { .fd = out, .events = POLLIN };
	while (n < sizeof(buf) - 1) {
		if (poll(&p, 1, 60000) != 1) {
			silent = true;
			break;
		}
		ssize_t got = read(out, buf + n, sizeof(buf) - 1 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
		buf[n] = '\0';
	}
	close(out);
	if (silent)
		kill(pid, SIGTERM);
	int st = nvz_wait(pid, NULL);
	if (!strcmp(buf, "KEPT\n"))
		return 1;
	if (!strcmp(buf, "NONE\n"))
		return 0;
	if (silent)
		return nvz_err(err, NVZ_MIG_VE_START, ETIMEDOUT, "%s did not answer within a minute", m->o->dest);
	return nvz_err(err, NVZ_MIG_VE_START, EPROTO, "%s cannot be asked (ssh exit status %d)",
		       m->o->dest, st);
}
