/* The throwaway server root of the CT unit tests (test_ct.c,
 * test_ct_names.c): its own vz.conf through $VZ_CONF, the library's log
 * recorded, helpers to open, save, name and resolve CTs. */
#ifndef NVZ_TEST_CT_FIXTURE_H
#define NVZ_TEST_CT_FIXTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct/state.h"
#include "nvz/config.h"
#include "nvz/ct.h"
#include "nvz/ctx.h"
#include "nvz/error.h"
#include "pathfmt.h"

static char base[] = "/tmp/nvz-test-ct-XXXXXX";
static struct nvz_ctx *ctx;

/* Everything the library logged, for the tests to inspect. */
struct log_record {
	size_t n;
	int level[64];
	char *msg[64];
};
static struct log_record logs;

static inline void record_log(void *data, int level, const char *msg)
{
	struct log_record *r = data;
	if (r->n < 64) {
		r->level[r->n] = level;
		r->msg[r->n++] = strdup(msg);
	}
}

static inline void put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "open %s: %m", path);
	cr_assert_geq(fputs(s, f), 0);
	cr_assert_eq(fclose(f), 0);
}

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static inline void setup(void)
{
	cr_assert_not_null(mkdtemp(base));
	cr_assert_eq(mkdir(P("%s/conf", base), 0755), 0);
}

static inline void teardown(void)
{
	nvz_ctx_free(ctx);
	ctx = NULL;
	for (size_t i = 0; i < logs.n; i++)
		free(logs.msg[i]);
	logs.n = 0;
	nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* vz.conf of the temp server, plus extra lines (a later line wins). */
static inline void write_vzconf(const char *extra)
{
	put(P("%s/vz.conf", base),
	    P("LOCKDIR=%s/lock\nVE_ROOT=%s/root/$VEID\nVE_PRIVATE=%s/private/${VEID}\n"
	      "RUNDIR=%s/run\nLOGGING=no\n%s",
	      base, base, base, base, extra));
	cr_assert_eq(setenv("VZ_CONF", P("%s/vz.conf", base), 1), 0);
}

static inline void open_ctx(const char *extra)
{
	write_vzconf(extra);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ctx_open(&ctx, record_log, &logs, &err), 0, "%s", err ? err->msg : "");
	cr_assert_str_eq(ctx->ct_conf_dir, P("%s/conf", base));
	cr_assert_str_eq(ctx->names_dir, P("%s/names", base));
}

static inline struct nvz_ct *open_ct(unsigned long veid)
{
	struct nvz_ct *ct = NULL;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_open(ctx, veid, &ct, &err), 0, "open %lu: %s", veid,
		     err ? err->msg : "");
	cr_assert_not_null(ct);
	return ct;
}

static inline void save_ct(struct nvz_ct *ct)
{
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_save(ct, &err), 0, "save %s: %s", ct->id, err ? err->msg : "");
}

static inline void name_ct(unsigned long veid, const char *name)
{
	struct nvz_ct *ct = open_ct(veid);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_set_name(ct, name, &err), 0, "name %lu %s: %s", veid, name,
		     err ? err->msg : "");
	save_ct(ct);
	nvz_ct_free(ct);
}

static inline unsigned long resolve_ok(const char *arg)
{
	unsigned long id = 0;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_resolve(ctx, arg, &id, &err), 0, "resolve %s: %s", arg,
		     err ? err->msg : "");
	return id;
}

static inline void resolve_fails(const char *arg, const char *msg)
{
	unsigned long id = 12345;
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_ct_resolve(ctx, arg, &id, &err), 0, "resolved '%s' to %lu", arg, id);
	cr_assert_not_null(err);
	cr_assert_eq(err->status, NVZ_E_VALUE, "'%s': status %d", arg, err->status);
	if (msg)
		cr_assert_str_eq(err->msg, msg);
	cr_assert_eq(id, 12345, "output written on failure");
	nvz_error_free(err);
}

static inline char *link_target(const char *path)
{
	static char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

#endif
