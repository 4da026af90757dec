/* Unit tests of lib/config: parser, writer, atomic save, key table. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/keys.h"
#include "nvz/config.h"
#include "nvz/error.h"

static char tmpdir[] = "/tmp/nvz-test-config-XXXXXX";
static char *rodir;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
	if (rodir) {
		umount2(rodir, MNT_DETACH);
		free(rodir);
	}
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(config, .init = setup, .fini = teardown);

static struct nvz_conf *parse_str(const char *s)
{
	struct nvz_conf *c = nvz_conf_new();
	struct nvz_error *err = NULL;
	cr_assert_not_null(c);
	int r = nvz_conf_parse(c, s, strlen(s), "test.conf", &err);
	cr_assert_eq(r, 0, "parse failed: %s", err ? err->msg : "?");
	return c;
}

static void assert_format(const struct nvz_conf *c, const char *want)
{
	char *got = nvz_conf_format(c);
	cr_assert_not_null(got);
	cr_assert_str_eq(got, want);
	free(got);
}

static void set_ok(struct nvz_conf *c, const char *key, const char *value)
{
	struct nvz_error *err = NULL;
	int r = nvz_conf_set(c, key, value, &err);
	cr_assert_eq(r, 0, "set %s failed: %s", key, err ? err->msg : "?");
}

static char *path_in(const char *name)
{
	char *p = NULL;
	cr_assert_geq(asprintf(&p, "%s/%s", tmpdir, name), 0);
	return p;
}

static void write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(s, f);
	cr_assert_eq(fclose(f), 0);
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_read_file(path, 1 << 20, &buf, &len, &err), 0);
	return buf;
}

static size_t count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

Test(config, values_quoted_unquoted_escaped)
{
	struct nvz_conf *c = parse_str("A=\"hello world\"\n"
				       "B=plain\n"
				       "C='single $x \\\"'\n"
				       "D=\"a\\\"b\\\\c\\$d\\`e\"\n"
				       "E=\n"
				       "F=\"\"\n"
				       "G=\"x\\ny\"\n"
				       "H=  spaced value  \n"
				       "I=\"  inner  \"\n"
				       "   J=\"indented\"\t\n");
	cr_assert_str_eq(nvz_conf_get(c, "A"), "hello world");
	cr_assert_str_eq(nvz_conf_get(c, "B"), "plain");
	cr_assert_str_eq(nvz_conf_get(c, "C"), "single $x \\\"");
	cr_assert_str_eq(nvz_conf_get(c, "D"), "a\"b\\c$d`e");
	cr_assert_str_eq(nvz_conf_get(c, "E"), "");
	cr_assert_str_eq(nvz_conf_get(c, "F"), "");
	cr_assert_str_eq(nvz_conf_get(c, "G"), "x\\ny"); /* \n is not an escape in sh */
	cr_assert_str_eq(nvz_conf_get(c, "H"), "  spaced value");
	cr_assert_str_eq(nvz_conf_get(c, "I"), "  inner  ");
	cr_assert_str_eq(nvz_conf_get(c, "J"), "indented");
	cr_assert_null(nvz_conf_get(c, "K"));
	cr_assert_null(nvz_conf_warnings(c)[0]);
	nvz_conf_free(c);
}

Test(config, last_quote_rule)
{
	struct nvz_conf *c = parse_str("A=\"a\"b\"\n"
				       "B=\"v\" trailing\n"
				       "C=v # not a comment\n"
				       "D='it's'\n");
	cr_assert_str_eq(nvz_conf_get(c, "A"), "a\"b");
	cr_assert_str_eq(nvz_conf_get(c, "B"), "v");
	cr_assert_str_eq(nvz_conf_get(c, "C"), "v # not a comment");
	cr_assert_str_eq(nvz_conf_get(c, "D"), "it's");
	nvz_conf_free(c);
}

Test(config, round_trip_byte_for_byte)
{
	const char *text = "# OpenVZ config\n"
			   "\n"
			   "  # indented comment  \n"
			   "ONBOOT=\"yes\"\n"
			   "\t\n"
			   "UNKNOWN_KEY=whatever   \n"
			   "KMEMSIZE='1:2'\n"
			   "this is not an assignment\n"
			   "CRLF=\"x\"\r\n"
			   "LAST=\"no newline\"";
	struct nvz_conf *c = parse_str(text);
	assert_format(c, text);
	cr_assert_eq(nvz_conf_count(c), 5);
	nvz_conf_free(c);

	c = parse_str("");
	assert_format(c, "");
	cr_assert_eq(nvz_conf_count(c), 0);
	nvz_conf_free(c);
}

Test(config, set_in_place_keeps_order)
{
	struct nvz_conf *c = parse_str("A=1\n# comment\nB=2\nC=3\n");
	set_ok(c, "B", "new");
	assert_format(c, "A=1\n# comment\nB=\"new\"\nC=3\n");
	cr_assert_str_eq(nvz_conf_get(c, "B"), "new");
	const char *k, *v;
	cr_assert(nvz_conf_entry(c, 1, &k, &v));
	cr_assert_str_eq(k, "B");
	cr_assert_str_eq(v, "new");
	cr_assert_not(nvz_conf_entry(c, 3, &k, &v));
	nvz_conf_free(c);
}

Test(config, unchanged_value_keeps_text)
{
	struct nvz_conf *c = parse_str("A='1'   \n");
	set_ok(c, "A", "1");
	assert_format(c, "A='1'   \n");
	nvz_conf_free(c);
}

Test(config, append)
{
	struct nvz_conf *c = parse_str("A=1\n");
	set_ok(c, "D", "4");
	assert_format(c, "A=1\nD=\"4\"\n");
	nvz_conf_free(c);

	c = parse_str("A=1"); /* the last line had no newline: one is added */
	set_ok(c, "B", "2");
	assert_format(c, "A=1\nB=\"2\"\n");
	nvz_conf_free(c);

	c = nvz_conf_new();
	set_ok(c, "X", "");
	assert_format(c, "X=\"\"\n");
	cr_assert_str_eq(nvz_conf_get(c, "X"), "");
	nvz_conf_free(c);
}

Test(config, duplicates_and_remove)
{
	struct nvz_conf *c = parse_str("A=1\nB=2\nA=3\n");
	cr_assert_str_eq(nvz_conf_get(c, "A"), "3");
	cr_assert_eq(nvz_conf_count(c), 3);
	set_ok(c, "A", "9");
	assert_format(c, "A=\"9\"\nB=2\n");
	cr_assert_eq(nvz_conf_count(c), 2);

	c = (nvz_conf_free(c), parse_str("A=1\nB=2\nA=3\n"));
	set_ok(c, "A", NULL);
	assert_format(c, "B=2\n");
	cr_assert_null(nvz_conf_get(c, "A"));
	cr_assert_eq(nvz_conf_count(c), 1);
	set_ok(c, "NOPE", NULL); /* removing a missing key is fine */
	nvz_conf_free(c);
}

Test(config, malformed_lines_kept_and_warned)
{
	const char *text = "A=1\nfoo bar\n1A=b\nK=\"unterminated\nexport X=1\nL='x\n =v\nB=2\n";
	struct nvz_conf *c = parse_str(text);
	const char *const *w = nvz_conf_warnings(c);
	const char *want[] = {"test.conf:2: malformed line, ignored",
			      "test.conf:3: malformed line, ignored",
			      "test.conf:4: malformed line, ignored",
			      "test.conf:5: malformed line, ignored",
			      "test.conf:6: malformed line, ignored",
			      "test.conf:7: malformed line, ignored"};
	for (size_t i = 0; i < 6; i++) {
		cr_assert_not_null(w[i]);
		cr_assert_str_eq(w[i], want[i]);
	}
	cr_assert_null(w[6]);
	cr_assert_eq(nvz_conf_count(c), 2);
	cr_assert_null(nvz_conf_get(c, "K"));
	assert_format(c, text);
	set_ok(c, "B", "3");
	assert_format(c, "A=1\nfoo bar\n1A=b\nK=\"unterminated\nexport X=1\nL='x\n =v\nB=\"3\"\n");
	nvz_conf_free(c);
}

Test(config, nul_refused)
{
	struct nvz_conf *c = parse_str("A=1\n");
	struct nvz_error *err = NULL;
	const char buf[] = "B=2\nC=x\0y\n";
	int r = nvz_conf_parse(c, buf, sizeof(buf) - 1, "bad.conf", &err);
	cr_assert_eq(r, -EINVAL);
	cr_assert_not_null(err);
	cr_assert_eq(err->code, EINVAL);
	cr_assert_str_eq(err->msg, "bad.conf: contains a NUL byte");
	cr_assert_null(nvz_conf_get(c, "B"), "a failed parse must not change the object");
	assert_format(c, "A=1\n");
	nvz_error_free(err);
	nvz_conf_free(c);
}

Test(config, long_line_refused)
{
	size_t n = 70 * 1024;
	char *buf = malloc(n + 16);
	cr_assert_not_null(buf);
	memcpy(buf, "A=1\nB=", 6);
	memset(buf + 6, 'x', n);
	struct nvz_conf *c = nvz_conf_new();
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_conf_parse(c, buf, n + 6, "big.conf", &err), -EINVAL);
	cr_assert_not_null(strstr(err->msg, "big.conf:2: line longer than"));
	cr_assert_eq(nvz_conf_count(c), 0);
	nvz_error_free(err);
	nvz_conf_free(c);
	free(buf);
}

Test(config, crlf)
{
	const char *text = "A=\"x\"\r\nB=y\r\n# c\r\n";
	struct nvz_conf *c = parse_str(text);
	cr_assert_str_eq(nvz_conf_get(c, "A"), "x");
	cr_assert_str_eq(nvz_conf_get(c, "B"), "y");
	assert_format(c, text);
	nvz_conf_free(c);
}

Test(config, set_refuses_bad_input)
{
	struct nvz_conf *c = nvz_conf_new();
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_conf_set(c, "A", "two\nlines", &err), -EINVAL);
	cr_assert_eq(err->code, EINVAL);
	nvz_error_clear(&err);
	cr_assert_eq(nvz_conf_set(c, "1A", "x", &err), -EINVAL);
	nvz_error_clear(&err);
	cr_assert_eq(nvz_conf_set(c, "A B", "x", &err), -EINVAL);
	nvz_error_clear(&err);
	cr_assert_eq(nvz_conf_set(c, "", "x", &err), -EINVAL);
	nvz_error_clear(&err);
	cr_assert_eq(nvz_conf_count(c), 0);
	nvz_conf_free(c);
}

/* What `. file` in sh makes of KEY. */
static char *sh_value(const char *path, const char *key)
{
	char *cmd = NULL;
	cr_assert_geq(asprintf(&cmd, "sh -c '. %s; printf %%s \"$%s\"'", path, key), 0);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	char *out = calloc(1, 4096);
	size_t n = fread(out, 1, 4095, p);
	out[n] = '\0';
	cr_assert_eq(pclose(p), 0);
	free(cmd);
	return out;
}

Test(config, writer_is_sh_compatible)
{
	const char *values[] = {
		"a\"b",	      "$HOME",	   "back\\slash", "`id`",     "a\\\"b",  "trailing\\",
		"'single'",   "$(echo x)", "a b  c",	  " lead",    "tab\there", "!bang",
		"50%;echo x", "\\$\\`",	   "",		  "x\"y\"z\"",
	};
	char *path = path_in("sh.conf");
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct nvz_conf *c = nvz_conf_new();
		struct nvz_error *err = NULL;
		set_ok(c, "KEY", values[i]);
		cr_assert_eq(nvz_conf_save(c, path, &err), 0);
		nvz_conf_free(c);
		char *got = sh_value(path, "KEY");
		cr_assert_str_eq(got, values[i], "sh read [%s] back as [%s]", values[i], got);
		free(got);
		/* ...and our own parser agrees with sh. */
		struct nvz_conf *back = NULL;
		cr_assert_eq(nvz_conf_load(&back, path, NVZ_E_NOVECONFIG, &err), 0);
		cr_assert_str_eq(nvz_conf_get(back, "KEY"), values[i]);
		nvz_conf_free(back);
	}
	free(path);
}

Test(config, save_is_atomic_and_clean)
{
	char *path = path_in("101.conf");
	write_str(path, "# keep me\nONBOOT=\"no\"\n");
	cr_assert_eq(chmod(path, 0600), 0);
	struct nvz_conf *c = NULL;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_conf_load(&c, path, NVZ_E_NOVECONFIG, &err), 0);
	set_ok(c, "ONBOOT", "yes");
	cr_assert_eq(nvz_conf_save(c, path, &err), 0);
	char *text = slurp(path);
	cr_assert_str_eq(text, "# keep me\nONBOOT=\"yes\"\n");
	free(text);
	cr_assert_eq(count_dir(tmpdir), 1, "a temporary file was left behind");
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "the mode of the replaced file is kept");

	char *fresh = path_in("new.conf");
	cr_assert_eq(nvz_conf_save(c, fresh, &err), 0);
	cr_assert_eq(stat(fresh, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
	nvz_conf_free(c);
	free(fresh);
	free(path);
}

/* vzctl wrote a config that is a symlink where it points: the link stays. */
Test(config, save_follows_symlink)
{
	char *target = path_in("shared.conf"), *link = path_in("101.conf");
	write_str(target, "# on shared storage\nONBOOT=\"no\"\n");
	cr_assert_eq(symlink(target, link), 0);
	struct nvz_conf *c = NULL;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_conf_load(&c, link, NVZ_E_NOVECONFIG, &err), 0);
	set_ok(c, "ONBOOT", "yes");
	cr_assert_eq(nvz_conf_save(c, link, &err), 0);
	struct stat st;
	cr_assert_eq(lstat(link, &st), 0);
	cr_assert(S_ISLNK(st.st_mode), "the link was replaced by a file");
	char *text = slurp(target);
	cr_assert_str_eq(text, "# on shared storage\nONBOOT=\"yes\"\n");
	free(text);
	nvz_conf_free(c);
	free(target);
	free(link);
}

Test(config, write_file_atomic_mode)
{
	char *path = path_in("state");
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_write_file_atomic(path, "abc", 3, 0640, &err), 0);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640);
	cr_assert_eq(st.st_size, 3);
	free(path);
}

Test(config, save_into_missing_dir_fails)
{
	char *path = path_in("nodir/101.conf");
	struct nvz_conf *c = parse_str("A=1\n");
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_conf_save(c, path, &err), 0);
	cr_assert_not_null(err);
	cr_assert_eq(err->code, ENOENT);
	cr_assert_eq(err->status, NVZ_E_CONFIG_SAVE);
	nvz_error_free(err);
	nvz_conf_free(c);
	free(path);
}

Test(config, failed_rename_leaves_no_temp)
{
	char *path = path_in("adir");
	cr_assert_eq(mkdir(path, 0755), 0);
	char *inner = path_in("adir/x");
	write_str(inner, "x");
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_write_file_atomic(path, "data", 4, 0644, &err), 0);
	cr_assert_not_null(err);
	cr_assert_eq(count_dir(tmpdir), 1, "the temporary file must be unlinked");
	nvz_error_free(err);
	free(inner);
	free(path);
}

/* Root ignores directory permissions, so a read-only directory is a
 * read-only tmpfs, mounted in a private mount namespace of this test
 * process: the mount disappears with the process. */
static void make_readonly_dir(const char *dir, const char *file, const char *content)
{
	cr_assert_eq(mkdir(dir, 0755), 0);
	if (geteuid() != 0) {
		write_str(file, content);
		cr_assert_eq(chmod(dir, 0555), 0);
		return;
	}
	if (unshare(CLONE_NEWNS) < 0)
		cr_skip_test("unshare(CLONE_NEWNS): %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cr_assert_eq(mount("nvz-test", dir, "tmpfs", 0, "size=64k"), 0);
	rodir = strdup(dir);
	write_str(file, content);
	cr_assert_eq(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);
}

Test(config, save_into_readonly_dir_keeps_old_file)
{
	char *dir = path_in("ro");
	char *path = path_in("ro/101.conf");
	make_readonly_dir(dir, path, "ONBOOT=\"no\"\n");
	struct nvz_conf *c = NULL;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_conf_load(&c, path, NVZ_E_NOVECONFIG, &err), 0);
	set_ok(c, "ONBOOT", "yes");
	cr_assert_lt(nvz_conf_save(c, path, &err), 0);
	cr_assert_not_null(err);
	cr_assert(err->code == EROFS || err->code == EACCES, "code %d", err->code);
	char *text = slurp(path);
	cr_assert_str_eq(text, "ONBOOT=\"no\"\n");
	cr_assert_eq(count_dir(dir), 1);
	if (geteuid() != 0)
		chmod(dir, 0755);
	free(text);
	nvz_error_free(err);
	nvz_conf_free(c);
	free(path);
	free(dir);
}

Test(config, load_errors)
{
	char *path = path_in("missing.conf");
	struct nvz_conf *c = NULL;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_conf_load(&c, path, NVZ_E_NOVECONFIG, &err), -ENOENT);
	cr_assert_eq(err->status, NVZ_E_NOVECONFIG);
	cr_assert_eq(err->code, ENOENT);
	cr_assert_not_null(strstr(err->msg, "missing.conf: no such file"));
	nvz_error_clear(&err);
	cr_assert_null(c);
	/* A file that may be missing: none, and no error. */
	c = (struct nvz_conf *)path;
	cr_assert_eq(nvz_conf_load_optional(&c, path, NVZ_E_SYSTEM, &err), 0);
	cr_assert_null(c);
	cr_assert_null(err);

	/* Over 1 MiB is not a config. */
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < (1 << 20) / 8 + 1; i++)
		fputs("#234567\n", f);
	fclose(f);
	cr_assert_lt(nvz_conf_load(&c, path, NVZ_E_NOCONFIG, &err), 0);
	cr_assert_eq(err->code, EFBIG);
	nvz_error_clear(&err);
	/* Other errors are errors still. */
	cr_assert_lt(nvz_conf_load_optional(&c, path, NVZ_E_SYSTEM, &err), 0);
	cr_assert_eq(err->code, EFBIG);
	nvz_error_clear(&err);

	char *buf = NULL;
	size_t len = 0;
	cr_assert_eq(nvz_read_file(path, 16, &buf, &len, &err), -EFBIG);
	nvz_error_clear(&err);
	write_str(path, "0123456789abcdef");
	cr_assert_eq(nvz_read_file(path, 16, &buf, &len, &err), 0);
	cr_assert_eq(len, 16);
	cr_assert_str_eq(buf, "0123456789abcdef");
	free(buf);
	free(path);
}

static void valid(const char *key, const char *value)
{
	struct nvz_error *err = NULL;
	int r = nvz_conf_validate(key, value, &err);
	cr_assert_eq(r, 0, "%s=%s rejected: %s", key, value, err ? err->msg : "?");
}

static void invalid(const char *key, const char *value, int status)
{
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_conf_validate(key, value, &err), -EINVAL, "%s=[%s] accepted", key, value);
	cr_assert_eq(err->status, status, "%s=[%s]: status %d", key, value, err->status);
	nvz_error_free(err);
}

Test(config, validate_hostname)
{
	valid("HOSTNAME", "ct101");
	valid("HOSTNAME", "web-1.example.com");
	valid("HOSTNAME", "1.2.3");
	char label[64];
	memset(label, 'a', 63);
	label[63] = '\0';
	valid("HOSTNAME", label);
	const char *bad[] = {"", "-lead", "trail-", "a..b", "a.-b.c", "a_b", "a b", ".a", "a.",
			     "host/x", "émoji"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		invalid("HOSTNAME", bad[i], NVZ_E_BAD_HOSTNAME);
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	invalid("HOSTNAME", big, NVZ_E_BAD_HOSTNAME); /* label > 63 */
	for (size_t i = 1; i < sizeof(big) - 1; i += 2)
		big[i] = '.';
	invalid("HOSTNAME", big, NVZ_E_BAD_HOSTNAME); /* total > 253 */
	struct nvz_error *err = NULL;
	nvz_conf_validate("HOSTNAME", "bad_host", &err);
	cr_assert_str_eq(err->msg, "invalid hostname 'bad_host'");
	nvz_error_free(err);
}

Test(config, validate_dns)
{
	valid("NAMESERVER", "inherit");
	valid("NAMESERVER", "8.8.8.8");
	valid("NAMESERVER", "8.8.8.8 2001:4860:4860::8888  1.1.1.1");
	valid("NAMESERVER", "");
	invalid("NAMESERVER", "8.8.8", NVZ_E_BAD_DNS);
	invalid("NAMESERVER", "dns.google", NVZ_E_BAD_DNS);
	invalid("NAMESERVER", "inherit 8.8.8.8", NVZ_E_BAD_DNS);
	invalid("NAMESERVER", "1.2.3.4,5.6.7.8", NVZ_E_BAD_DNS);
	valid("SEARCHDOMAIN", "inherit");
	valid("SEARCHDOMAIN", "example.com corp.example.org");
	invalid("SEARCHDOMAIN", "exa_mple.com", NVZ_E_BAD_SEARCHDOMAIN);
	invalid("SEARCHDOMAIN", "ok.com -bad.com", NVZ_E_BAD_SEARCHDOMAIN);
}

Test(config, validate_name_and_others)
{
	valid("NAME", "web");
	valid("NAME", "db_1.prod+x-y");
	valid("NAME", "101a");
	valid("NAME", ""); /* no name, as vzctl writes it after --name '' */
	/* What vzctl took but nvz does not: 131; what vzctl refused too: 21. */
	const char *bad[] = {"101", ".hidden", "-opt", "a b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		invalid("NAME", bad[i], NVZ_E_NAME);
	invalid("NAME", "a/b", NVZ_E_VALUE);
	invalid("NAME", "ä", NVZ_E_VALUE);
	char big[66];
	memset(big, 'n', 65);
	big[65] = '\0';
	invalid("NAME", big, NVZ_E_NAME);
	big[64] = '\0';
	valid("NAME", big);

	valid("ONBOOT", "yes");
	valid("DISABLED", "no");
	invalid("ONBOOT", "true", NVZ_E_VALUE);
	valid("STOP_TIMEOUT", "0");
	valid("STOP_TIMEOUT", "120");
	invalid("STOP_TIMEOUT", "-1", NVZ_E_VALUE);
	invalid("STOP_TIMEOUT", "1s", NVZ_E_VALUE);
	invalid("STOP_TIMEOUT", "99999999999", NVZ_E_VALUE);
	valid("DESCRIPTION", "any \"text\" $here");
	invalid("DESCRIPTION", "two\nlines", NVZ_E_VALUE);
	valid("VE_ROOT", "/var/lib/vz/root/$VEID");
	invalid("VE_PRIVATE", "relative/path", NVZ_E_VALUE);
	valid("OSTEMPLATE", "debian-12-x86_64");
	invalid("OSTEMPLATE", "../etc", NVZ_E_VALUE);
	invalid("OSTEMPLATE", "a/b", NVZ_E_VALUE);
	valid("KMEMSIZE", "14372700:14790164");
	valid("SOME_UNKNOWN_KEY", "anything");
}

Test(config, key_table)
{
	const char *known[] = {"HOSTNAME", "KMEMSIZE", "NETIF", "VE_ROOT", "LOCKDIR", "RUNDIR",
			       "CGROUP_PREFIX", "IP_ADDRESS", "FEATURES", "DCACHE"};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		cr_assert(nvz_conf_key_known(known[i]), "%s", known[i]);
	cr_assert_not(nvz_conf_key_known("hostname"));
	cr_assert_not(nvz_conf_key_known("FOO"));
	cr_assert_not(nvz_conf_key_known(NULL));
	cr_assert(nvz_conf_key_flags("NETFILTER") & NVZ_KEY_CT);
	cr_assert_not(nvz_conf_key_flags("NETFILTER") & NVZ_KEY_GLOBAL);
	cr_assert(nvz_conf_key_flags("HOSTNAME") & NVZ_KEY_GLOBAL);
	cr_assert_not(nvz_conf_key_flags("LOCKDIR") & NVZ_KEY_CT);
	cr_assert(nvz_conf_key_flags("VETH") & NVZ_KEY_DEPRECATED);
}

Test(config, sample_configs_parse_cleanly)
{
	const char *files[] = {"etc/vz.conf", "etc/ve-basic.conf-sample",
			       "etc/ve-vswap-256m.conf-sample"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (access(files[i], R_OK) < 0)
			continue; /* run from outside the source tree */
		struct nvz_conf *c = NULL;
		struct nvz_error *err = NULL;
		cr_assert_eq(nvz_conf_load(&c, files[i], NVZ_E_NOCONFIG, &err), 0);
		cr_assert_null(nvz_conf_warnings(c)[0], "%s: %s", files[i], nvz_conf_warnings(c)[0]);
		const char *k, *v;
		for (size_t j = 0; nvz_conf_entry(c, j, &k, &v); j++) {
			cr_assert(nvz_conf_key_known(k), "%s: unknown key %s", files[i], k);
			cr_assert_eq(nvz_conf_validate(k, v, &err), 0, "%s: %s", files[i],
				     err ? err->msg : "");
		}
		nvz_conf_free(c);
	}
}

/* OpenVZ keys nvz keeps without a per-CT switch: checked as vzctl did. */
Test(config, validate_kept_openvz_keys)
{
	valid("FEATURES", "nfs:on");
	valid("FEATURES", "nfs:on,sysfs:off ppp:on");
	valid("FEATURES", "");
	const char *bad_features[] = { "nfs", "nfs:yes", "foo:on", ":on", "nfs:on,,x:off", "nfs:" };
	for (size_t i = 0; i < sizeof(bad_features) / sizeof(bad_features[0]); i++)
		invalid("FEATURES", bad_features[i], NVZ_E_VALUE);
	valid("NETFILTER", "stateless");
	valid("NETFILTER", "full");
	invalid("NETFILTER", "all", NVZ_E_VALUE);
	invalid("NETFILTER", "", NVZ_E_VALUE);
	valid("IPTABLES", "ipt_REJECT ipt_tos iptable_filter");
	invalid("IPTABLES", "ipt;rm", NVZ_E_VALUE);
	valid("MEMINFO", "none");
	valid("MEMINFO", "pages:1000");
	valid("MEMINFO", "privvmpages:1");
	const char *bad_meminfo[] = { "pages", "pages:", "pages:x", "bytes:1", "none:1" };
	for (size_t i = 0; i < sizeof(bad_meminfo) / sizeof(bad_meminfo[0]); i++)
		invalid("MEMINFO", bad_meminfo[i], NVZ_E_VALUE);
	valid("VM_OVERCOMMIT", "1.5");
	valid("VM_OVERCOMMIT", "2");
	const char *bad_over[] = { "0", "-1", "1.5x", "", "nan", "inf" };
	for (size_t i = 0; i < sizeof(bad_over) / sizeof(bad_over[0]); i++)
		invalid("VM_OVERCOMMIT", bad_over[i], NVZ_E_VALUE);
	valid("AVNUMPROC", "40");
	valid("AVNUMPROC", "40:80");
	invalid("AVNUMPROC", "40:", NVZ_E_VALUE);
	invalid("AVNUMPROC", "x", NVZ_E_VALUE);
	invalid("AVNUMPROC", "1:2:3", NVZ_E_VALUE);
	valid("NETDEV", "eth1 enp3s0f1");
	valid("NETDEV", "");
	invalid("NETDEV", "eth1 a/b", NVZ_E_VALUE);
	invalid("NETDEV", "eth1:0", NVZ_E_VALUE);
	invalid("NETDEV", "abcdefghijklmnopq", NVZ_E_VALUE);
	valid("DISK_QUOTA", "no");
	invalid("DISK_QUOTA", "off", NVZ_E_VALUE);
	valid("QUOTAUGIDLIMIT", "100");
	invalid("QUOTAUGIDLIMIT", "-1", NVZ_E_VALUE);
}

/* VE_ROOT/VE_PRIVATE keep $VEID unescaped, as vzctl writes them (a script
 * sourcing the file with VEID set gets the path); any other $ is escaped. */
Test(config, writer_keeps_veid_of_paths)
{
	struct nvz_conf *c = nvz_conf_new();
	cr_assert_eq(nvz_conf_set(c, "VE_PRIVATE", "/vz/private/$VEID", NULL), 0);
	cr_assert_eq(nvz_conf_set(c, "VE_ROOT", "/vz/${VEID}/$VEIDX/$HOME", NULL), 0);
	cr_assert_eq(nvz_conf_set(c, "DESCRIPTION", "$VEID", NULL), 0);
	char *out = nvz_conf_format(c);
	cr_assert_str_eq(out, "VE_PRIVATE=\"/vz/private/$VEID\"\n"
			      "VE_ROOT=\"/vz/${VEID}/\\$VEIDX/\\$HOME\"\n"
			      "DESCRIPTION=\"\\$VEID\"\n");
	struct nvz_conf *back = parse_str(out);
	cr_assert_str_eq(nvz_conf_get(back, "VE_PRIVATE"), "/vz/private/$VEID");
	cr_assert_str_eq(nvz_conf_get(back, "VE_ROOT"), "/vz/${VEID}/$VEIDX/$HOME");
	cr_assert_str_eq(nvz_conf_get(back, "DESCRIPTION"), "$VEID");
	nvz_conf_free(back);
	free(out);
	nvz_conf_free(c);
}

/* --features and --iptables merge as vzctl wrote them: its order, one entry
 * each; what is not vzctl's in a hand-written FEATURES is kept, last. */
Test(config, features_and_iptables_merge)
{
	struct nvz_error *err = NULL;
	char *s = nvz_features_merge("nfs:on weird", "sysfs:off", &err);
	cr_assert_str_eq(s, "sysfs:off nfs:on weird");
	free(s);
	s = nvz_features_merge("", "nfs:on,nfs:off", &err);
	cr_assert_str_eq(s, "nfs:off");
	free(s);
	cr_assert_null(nvz_features_merge("nfs:on", "nfs", &err));
	cr_assert_eq(err->status, NVZ_E_VALUE);
	nvz_error_free(err);
	err = NULL;
	s = nvz_iptables_merge("ipt_state", "ipt_REJECT,iptable_filter", &err);
	cr_assert_str_eq(s, "iptable_filter ipt_REJECT ipt_state");
	free(s);
	s = nvz_iptables_merge(NULL, "", &err);
	cr_assert_str_eq(s, "");
	free(s);
	cr_assert_null(nvz_iptables_merge(NULL, "ipt_nosuch", &err));
	cr_assert_str_eq(err->msg, "Warning: Unknown iptable module: ipt_nosuch, skipped");
	nvz_error_free(err);
}

/* nvz's own feature, nesting, is written after vzctl's; whether a FEATURES
 * turns one on: its last entry, a name matched whole. */
Test(config, features_nesting)
{
	struct nvz_error *err = NULL;
	char *s = nvz_features_merge("nesting:on", "bridge:off", &err);
	cr_assert_str_eq(s, "bridge:off nesting:on");
	cr_assert(nvz_feature_on(s, "nesting"));
	cr_assert_not(nvz_feature_on(s, "bridge"));
	free(s);
	cr_assert_not(nvz_feature_on(NULL, "nesting"));
	cr_assert_not(nvz_feature_on("", "nesting"));
	cr_assert_not(nvz_feature_on("nesting:on nesting:off", "nesting"));
	cr_assert(nvz_feature_on("nfs:off,nesting:off,nesting:on", "nesting"));
	cr_assert_not(nvz_feature_on("nestingx:on nestin:on nesting:onx", "nesting"));
	cr_assert_not(nvz_feature_on("nesting", "nesting"));
	valid("FEATURES", "nfsd:on nesting:off");
}
