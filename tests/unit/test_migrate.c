/* vzmigrate pieces: remote shell quoting (checked by a real /bin/sh), and
 * the target end's protocol against a real server root in a temp dir. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/ct.h"
#include "nvz/fs.h"
#include "nvz/migrate.h"

static char base[] = "/tmp/nvz-unit-migrate.XXXXXX";
static struct nvz_ctx *ctx;

static char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *P(const char *fmt, ...)
{
	static char bufs[8][4096];
	static int i;
	char *b = bufs[i++ % 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, 4096, fmt, ap);
	va_end(ap);
	return b;
}

static void put(const char *path, const char *s)
{
	cleanup_fclose FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "open %s", path);
	fputs(s, f);
}

static void nolog(void *d, int level, const char *msg)
{
	(void)d, (void)level, (void)msg;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(base));
	cr_assert_eq(mkdir(P("%s/conf", base), 0755), 0);
	put(P("%s/vz.conf", base),
	    P("LOCKDIR=%s/lock\nVE_ROOT=%s/root/$VEID\nVE_PRIVATE=%s/private/$VEID\n"
	      "RUNDIR=%s/run\nTEMPLATE=%s/template\nLOGGING=no\nCGROUP_PREFIX=nvz-unit-mig\n",
	      base, base, base, base, base));
	cr_assert_eq(setenv("VZ_CONF", P("%s/vz.conf", base), 1), 0);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ctx_open(&ctx, nolog, NULL, &err), 0, "%s", err ? err->msg : "");
}

static void teardown(void)
{
	nvz_ctx_free(ctx);
	nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

TestSuite(migrate, .init = setup, .fini = teardown);

Test(migrate, shell_quote_survives_sh)
{
	const char *cases[] = { "plain", "it's", "$(id) `id` ;rm -rf /", "a b\tc\nd", "''", "", "\\'\"" };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_free char *q = nvz_shell_quote(cases[i]);
		cleanup_free char *cmd = NULL;
		cr_assert_geq(asprintf(&cmd, "printf %%s %s", q), 0);
		FILE *p = popen(cmd, "r");
		char out[256] = "";
		size_t n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = '\0';
		cr_assert_eq(pclose(p), 0);
		cr_assert_str_eq(out, cases[i], "quoted %s", q);
	}
}

/* Run the target end with requests pre-written to its stdin; its replies. */
static int recv_run(unsigned long id, const struct nvz_migrate_recv_opts *tmpl, const char *requests,
		    char *replies, size_t len, struct nvz_error **err)
{
	int in[2], out[2];
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(write(in[1], requests, strlen(requests)), (ssize_t)strlen(requests));
	close(in[1]);
	struct nvz_ct *ct = NULL;
	cr_assert_eq(nvz_ct_open(ctx, id, &ct, err), 0);
	cr_assert_eq(nvz_ct_lock(ct, err), 0);
	struct nvz_migrate_recv_opts o = *tmpl;
	o.in = in[0];
	o.out = out[1];
	int r = nvz_migrate_recv(ct, &o, err);
	nvz_ct_free(ct);
	close(in[0]);
	close(out[1]);
	ssize_t n = read(out[0], replies, len - 1);
	replies[n > 0 ? n : 0] = '\0';
	close(out[0]);
	return r;
}

Test(migrate, recv_refuses_an_existing_ct)
{
	put(P("%s/conf/300.conf", base), "HOSTNAME=\"mine\"\n");
	struct nvz_error *err = NULL;
	char rep[512];
	struct nvz_migrate_recv_opts o = { 0 };
	cr_assert_lt(recv_run(300, &o, "commit\n", rep, sizeof(rep), &err), 0);
	cr_assert_eq(err->status, NVZ_MIG_EXISTS);
	/* Nothing offered: the reason, for the source to print as its error. */
	cr_assert_str_eq(rep, "REFUSED CT #300 already exists on destination node\n", "%s", rep);
	nvz_error_free(err);
	/* A name used by another CT here. */
	put(P("%s/conf/301.conf", base), "NAME=\"web\"\n");
	mkdir(P("%s/names", base), 0755);
	cr_assert_eq(symlink(P("%s/conf/301.conf", base), P("%s/names/web", base)), 0);
	err = NULL;
	o.name = "web";
	cr_assert_lt(recv_run(302, &o, "commit\n", rep, sizeof(rep), &err), 0);
	cr_assert_eq(err->status, NVZ_MIG_EXISTS);
	cr_assert_not_null(strstr(err->msg, "name web is already used by CT 301"), "%s", err->msg);
	cr_assert(!nvz_path_exists(P("%s/private/302", base)));
	nvz_error_free(err);
}

Test(migrate, recv_abort_and_eof_leave_nothing)
{
	const char *ends[] = { "abort\n", "" };
	for (int i = 0; i < 2; i++) {
		struct nvz_error *err = NULL;
		char rep[512];
		struct nvz_migrate_recv_opts o = { .name = "x" };
		cr_assert_lt(recv_run(310, &o, ends[i], rep, sizeof(rep), &err), 0);
		cr_assert_not_null(strstr(rep, P("PRIVATE %s/private/310\n", base)), "%s", rep);
		cr_assert_not_null(strstr(rep, P("CONF %s/conf/310.conf.migrating\n", base)), "%s", rep);
		cr_assert_not_null(strstr(rep, P("SCRIPTS %s/conf/.310.scripts.migrating\nREADY\n", base)), "%s",
				   rep);
		cr_assert(!nvz_path_exists(P("%s/private/310", base)), "private left");
		cr_assert(!nvz_path_exists(P("%s/conf/.310.scripts.migrating", base)), "staged scripts left");
		cr_assert(!nvz_path_exists(P("%s/conf/310.conf", base)));
		nvz_error_free(err);
	}
}

/* install + commit: the received config becomes the CT's with this
 * server's paths and its name link. */
Test(migrate, recv_install_commit)
{
	put(P("%s/conf/320.conf.migrating", base),
	    "VE_PRIVATE=\"/elsewhere/320\"\nNAME=\"db\"\nHOSTNAME=\"db.example.com\"\n");
	struct nvz_error *err = NULL;
	char rep[512];
	struct nvz_migrate_recv_opts o = { .name = "db" };
	cr_assert_eq(recv_run(320, &o, "bogus\ninstall\ncommit\n", rep, sizeof(rep), &err), 0, "%s",
		     err ? err->msg : "");
	cr_assert_not_null(strstr(rep, "READY\nERR bad request 'bogus'\nOK\nOK\n"), "%s", rep);
	struct nvz_ct *ct = NULL;
	cr_assert_eq(nvz_ct_open(ctx, 320, &ct, &err), 0);
	cr_assert(ct->conf_exists);
	cr_assert_str_eq(ct->private, P("%s/private/320", base), "this server's VE_PRIVATE");
	cr_assert_str_eq(nvz_ct_get(ct, "HOSTNAME", ""), "db.example.com");
	nvz_ct_free(ct);
	char link[4096];
	ssize_t n = readlink(P("%s/names/db", base), link, sizeof(link) - 1);
	cr_assert_gt(n, 0);
	link[n] = '\0';
	cr_assert_str_eq(link, P("%s/conf/320.conf", base));
	cr_assert(nvz_path_exists(P("%s/private/320", base)), "private kept after commit");
}

/* The destination as ssh and rsync get it. */
static void dest_is(const char *arg, const char *ssh, const char *rsync)
{
	struct nvz_migrate_dest d;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_migrate_parse_dest(arg, &d, &err), 0, "%s refused: %s", arg, err ? err->msg : "");
	cr_expect_str_eq(d.ssh, ssh, "%s", arg);
	cr_expect_str_eq(d.rsync, rsync, "%s", arg);
	nvz_migrate_dest_free(&d);
}

static void dest_refused(const char *arg)
{
	struct nvz_migrate_dest d;
	struct nvz_error *err = NULL;
	cr_expect_lt(nvz_migrate_parse_dest(arg, &d, &err), 0, "%s accepted", arg);
	if (err)
		cr_expect_eq(err->status, NVZ_MIG_USAGE);
	nvz_error_free(err);
}

Test(dest, names_ipv4_ipv6)
{
	dest_is("orthanc.example.net", "root@orthanc.example.net", "root@orthanc.example.net");
	dest_is("10.0.0.2", "root@10.0.0.2", "root@10.0.0.2");
	dest_is("admin@gondor", "admin@gondor", "admin@gondor");
	dest_is("2001:db8::2", "root@2001:db8::2", "root@[2001:db8::2]");
	dest_is("[2001:db8::2]", "root@2001:db8::2", "root@[2001:db8::2]");
	dest_is("ops@[fd00::1]", "ops@fd00::1", "ops@[fd00::1]");
}

Test(dest, refuses_what_is_not_a_host)
{
	const char *bad[] = { "", "-oProxyCommand=x", "host:path", "a b", "h;rm", "h'", "[10.0.0.2]",
			      "[2001:db8::2", "2001:db8::zz", "@host", "-u@host", "root@", "a@b@c:d",
			      "$(id)", ".host" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		dest_refused(bad[i]);
}

Test(dest, nodeps_words)
{
	cr_expect_eq(nvz_migrate_parse_nodeps(NULL), (int)NVZ_MIG_NODEPS_ALL);
	cr_expect_eq(nvz_migrate_parse_nodeps("all"), (int)NVZ_MIG_NODEPS_ALL);
	cr_expect_eq(nvz_migrate_parse_nodeps("cpu"), (int)NVZ_MIG_NODEPS_CPU);
	cr_expect_eq(nvz_migrate_parse_nodeps("ipv6"), (int)NVZ_MIG_NODEPS_IPV6);
	cr_expect_eq(nvz_migrate_parse_nodeps("cpu,ipv6"), (int)NVZ_MIG_NODEPS_ALL);
	const char *bad[] = { "cpus", "cpu,", ",", "ipv6,x", "CPU", "cpu ipv6" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_lt(nvz_migrate_parse_nodeps(bad[i]), 0, "%s accepted", bad[i]);
}
