/* Unit tests of lib/ct/registry.c: CT IDs, and CT names and their
 * resolution, against a throwaway server root (ct-fixture.h). */
#include "ct-fixture.h"

TestSuite(ct, .init = setup, .fini = teardown);

/* ---- nvz_ct_parse_id -------------------------------------------------- */

Test(parse_id, valid)
{
	static const struct {
		const char *s;
		unsigned long v;
	} ok[] = {{"0", 0}, {"101", 101}, {"2147483644", 2147483644UL}, {"1", 1}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		unsigned long v = 999;
		struct nvz_error *err = NULL;
		cr_assert_eq(nvz_ct_parse_id(ok[i].s, &v, &err), 0, "%s: %s", ok[i].s,
			     err ? err->msg : "");
		cr_assert_eq(v, ok[i].v, "%s -> %lu", ok[i].s, v);
		cr_assert_null(err);
	}
	cr_assert_eq(NVZ_VEID_MAX, 2147483644UL);
}

Test(parse_id, invalid)
{
	static const char *const bad[] = {"",           "-1",          "12a",
					  "2147483645", "99999999999", " 1",
					  "1 ",         "+1",          "4294967397",
					  "0x10",       "1e3",         "18446744073709551717",
					  "abc",        "1\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		unsigned long v = 999;
		struct nvz_error *err = NULL;
		cr_assert_lt(nvz_ct_parse_id(bad[i], &v, &err), 0, "'%s' accepted", bad[i]);
		cr_assert_not_null(err);
		cr_assert_eq(err->status, NVZ_E_VALUE, "'%s': status %d", bad[i], err->status);
		if (*bad[i])
			cr_assert_str_eq(err->msg, P("Bad CT ID %s", bad[i]));
		else
			cr_assert_eq(strncmp(err->msg, "Bad CT ID", 9), 0, "%s", err->msg);
		cr_assert_eq(v, 999, "'%s': output written on failure", bad[i]);
		nvz_error_free(err);
		/* No error object wanted: still refused, no crash. */
		cr_assert_lt(nvz_ct_parse_id(bad[i], &v, NULL), 0);
	}
}

/* ---- names and nvz_ct_resolve ----------------------------------------- */

Test(ct, resolve_numeric_and_bad_args)
{
	open_ctx("");
	cr_assert_eq(resolve_ok("101"), 101);
	cr_assert_eq(resolve_ok("2147483644"), 2147483644UL);
	resolve_fails("2147483645", "Bad CT ID 2147483645");
	resolve_fails(" 101", NULL);
	/* A link outside names/ that a path-like name would reach. */
	cr_assert_eq(mkdir(P("%s/names", base), 0755), 0);
	cr_assert_eq(symlink(P("%s/conf/101.conf", base), P("%s/evil", base)), 0);
	resolve_fails("../evil", NULL);
	resolve_fails(P("%s/evil", base), NULL);
	resolve_fails("/", NULL);
	resolve_fails("..", NULL);
	resolve_fails(".", NULL);
	resolve_fails("../vz", NULL);
	resolve_fails("a/b", NULL);
	resolve_fails("a\nb", NULL);
	resolve_fails("", NULL);
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	resolve_fails(longname, NULL);
	resolve_fails("nosuch", "Unable to find container by name nosuch");
}

Test(ct, name_set_save_resolve)
{
	open_ctx("");
	name_ct(101, "web");
	cr_assert_eq(resolve_ok("web"), 101);
	const char *t = link_target(P("%s/names/web", base));
	cr_assert_not_null(t, "names/web is not a symlink");
	cr_assert_str_eq(t, P("%s/conf/101.conf", base));

	struct nvz_ct *ct = open_ct(101);
	cr_assert(ct->conf_exists);
	cr_assert_str_eq(nvz_ct_get(ct, "NAME", ""), "web");
	/* Same name again on the same CT is no clash. */
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_set_name(ct, "web", &err), 0, "%s", err ? err->msg : "");
	nvz_ct_free(ct);
	cr_assert_eq(resolve_ok("web"), 101);

	/* Names with dots, dashes, plus and underscores are fine. */
	name_ct(102, "db.internal-1_a+b");
	cr_assert_eq(resolve_ok("db.internal-1_a+b"), 102);
	char n64[65];
	memset(n64, 'x', 64);
	n64[64] = '\0';
	name_ct(103, n64);
	cr_assert_eq(resolve_ok(n64), 103);
}

Test(ct, name_clash)
{
	open_ctx("");
	name_ct(101, "web");
	name_ct(102, "db");
	struct nvz_ct *ct = open_ct(102);
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_ct_set_name(ct, "web", &err), 0);
	cr_assert_not_null(err);
	cr_assert_eq(err->status, NVZ_E_NAME);
	cr_assert_str_eq(err->msg, "Conflict: name web already used by container 101");
	nvz_error_free(err);
	/* Nothing changed: web is 101's, 102 keeps db. */
	cr_assert_str_eq(nvz_ct_get(ct, "NAME", ""), "db");
	nvz_ct_free(ct);
	cr_assert_eq(resolve_ok("web"), 101);
	cr_assert_eq(resolve_ok("db"), 102);
	cr_assert_str_eq(link_target(P("%s/names/web", base)), P("%s/conf/101.conf", base));
}

Test(ct, dangling_name_of_destroyed_ct_is_not_a_clash)
{
	open_ctx("");
	name_ct(102, "old");
	cr_assert_eq(unlink(P("%s/conf/102.conf", base)), 0);
	name_ct(103, "old");
	cr_assert_eq(resolve_ok("old"), 103);
	cr_assert_str_eq(link_target(P("%s/names/old", base)), P("%s/conf/103.conf", base));
}

Test(ct, invalid_names_refused)
{
	open_ctx("");
	char toolong[300];
	memset(toolong, 'n', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	char n65[66];
	memset(n65, 'n', 65);
	n65[65] = '\0';
	const char *bad[] = {"/", "..", ".", "a/b", "../../etc/x", "a\nb", "web\n", toolong, n65,
			     "12345", "101", ".hidden", "-x", "a b", "a$b"};
	struct nvz_ct *ct = open_ct(101);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct nvz_error *err = NULL;
		cr_assert_lt(nvz_ct_set_name(ct, bad[i], &err), 0, "name '%s' accepted", bad[i]);
		cr_assert_not_null(err);
		/* A character vzctl refused too (a newline, '/', '$') is a bad
		 * value (21); the rest only nvz refuses (131). */
		int want = strpbrk(bad[i], "\n/$") ? NVZ_E_VALUE : NVZ_E_NAME;
		cr_assert_eq(err->status, want, "'%s': status %d", bad[i], err->status);
		nvz_error_free(err);
	}
	cr_assert_null(nvz_conf_get(ct->conf, "NAME"));
	nvz_ct_free(ct);
	struct stat st;
	if (stat(P("%s/names", base), &st) == 0) {
		char cmd[PATH_MAX + 32];
		snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s/names)\"", base);
		cr_assert_eq(system(cmd), 0, "a link was created for an invalid name");
	}
	cr_assert_not(stat(P("%s/etc/x", base), &st) == 0);
}

Test(ct, rename_removes_old_link)
{
	open_ctx("");
	name_ct(101, "alpha");
	struct nvz_ct *ct = open_ct(101);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_set_name(ct, "beta", &err), 0, "%s", err ? err->msg : "");
	save_ct(ct);
	nvz_ct_free(ct);
	struct stat st;
	cr_assert_neq(lstat(P("%s/names/alpha", base), &st), 0, "old name link left behind");
	resolve_fails("alpha", "Unable to find container by name alpha");
	cr_assert_eq(resolve_ok("beta"), 101);
	ct = open_ct(101);
	cr_assert_str_eq(nvz_ct_get(ct, "NAME", ""), "beta");
	nvz_ct_free(ct);
}

/* vzctl's --name '': the name goes (its link too), NAME="" stays. */
Test(ct, empty_name_removes_the_name)
{
	open_ctx("");
	name_ct(101, "alpha");
	struct nvz_ct *ct = open_ct(101);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_set_name(ct, "", &err), 0, "%s", err ? err->msg : "");
	save_ct(ct);
	nvz_ct_free(ct);
	struct stat st;
	cr_assert_neq(lstat(P("%s/names/alpha", base), &st), 0, "name link left behind");
	resolve_fails("alpha", "Unable to find container by name alpha");
	ct = open_ct(101);
	const char *name = nvz_conf_get(ct->conf, "NAME");
	cr_assert(name && !*name, "NAME: %s", name ? name : "(none)");
	nvz_ct_free(ct);
}

Test(ct, rename_keeps_a_name_taken_over_by_another_ct)
{
	open_ctx("");
	name_ct(102, "shared");
	cr_assert_eq(unlink(P("%s/conf/102.conf", base)), 0);
	name_ct(103, "shared");
	/* 102 comes back with its old NAME; renaming it must not drop 103's link. */
	put(P("%s/conf/102.conf", base), "NAME=\"shared\"\n");
	struct nvz_ct *ct = open_ct(102);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ct_set_name(ct, "other", &err), 0, "%s", err ? err->msg : "");
	nvz_ct_free(ct);
	cr_assert_eq(resolve_ok("shared"), 103);
	cr_assert_eq(resolve_ok("other"), 102);
}
