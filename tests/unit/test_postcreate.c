/* Unit tests of lib/ct/postcreate.c: OpenVZ's postcreate actions on a new
 * CT's tree (cron times made random, an empty root password locked, the
 * localhost lines and resolv.conf seeded), on a throwaway tree. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ct/postcreate.h"
#include "nvz/cleanup.h"

static char tree[] = "/tmp/nvz-test-postcreate-XXXXXX";
static int treefd = -1;

static const char *at(const char *rel)
{
	static char ring[8][PATH_MAX];
	static unsigned next;
	char *b = ring[next++ % 8];
	snprintf(b, PATH_MAX, "%s/%s", tree, rel);
	return b;
}

static void put(const char *rel, const char *text)
{
	FILE *f = fopen(at(rel), "w");
	cr_assert(f, "create %s", rel);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *rel)
{
	FILE *f = fopen(at(rel), "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void setup(void)
{
	cr_assert(mkdtemp(tree));
	cr_assert_eq(mkdir(at("etc"), 0755), 0);
	cr_assert_eq(mkdir(at("etc/cron.d"), 0755), 0);
	treefd = open(tree, O_RDONLY | O_DIRECTORY);
	cr_assert(treefd >= 0);
}

static int rm_entry(const char *p, const struct stat *s, int flag, struct FTW *f)
{
	(void)s, (void)flag, (void)f;
	return remove(p);
}

static void teardown(void)
{
	close(treefd);
	nftw(tree, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The three fields of a shuffled line, the rest compared as text. */
static void fields(const char *line, int *min, int *hour, int *day, const char **rest)
{
	char m[16], h[16], d[16];
	int n = 0;
	cr_assert_eq(sscanf(line, "%15s %15s %15s %n", m, h, d, &n), 3, "line: %s", line);
	*min = strcmp(m, "*") ? atoi(m) : -1;
	*hour = strcmp(h, "*") ? atoi(h) : -1;
	*day = strcmp(d, "*") ? atoi(d) : -1;
	*rest = line + n;
}

Test(cron_line, fixed_times_made_random_rest_kept)
{
	for (int round = 0; round < 50; round++) {
		const char *daily = "25 6\t* * *\troot\ttest -x /usr/sbin/anacron || run-parts /etc/cron.daily";
		cleanup_free char *s = nvz_cron_line_shuffle(daily, strlen(daily));
		cr_assert(s);
		int m, h, d;
		const char *rest;
		fields(s, &m, &h, &d, &rest);
		cr_assert(m >= 0 && m <= 59, "minute %d", m);
		cr_assert(h >= 0 && h <= 5, "hour %d", h);
		cr_assert_eq(d, -1);
		cr_assert_str_eq(strchr(s, '\t'), "\t* * *\troot\ttest -x /usr/sbin/anacron || run-parts /etc/cron.daily");

		const char *monthly = "52 6 1 * * root cmd a";
		cleanup_free char *t = nvz_cron_line_shuffle(monthly, strlen(monthly));
		cr_assert(t);
		fields(t, &m, &h, &d, &rest);
		cr_assert(d >= 1 && d <= 28, "day %d", d);
		cr_assert_str_eq(rest, "* * root cmd a");
	}
	/* Only the minute of an hourly job; the line's length bound is kept. */
	const char *hourly = "17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly\nnext";
	cleanup_free char *s = nvz_cron_line_shuffle(hourly, strchr(hourly, '\n') - hourly);
	cr_assert(s);
	cr_assert_str_eq(strchr(s, ' '), " *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly");
	cleanup_free char *q = nvz_cron_line_shuffle("-*/10 * * * * root cmd", 22);
	cr_assert(q);
	int period = atoi(q + 3);
	cr_assert(!strncmp(q, "-*/", 3) && period >= 15 && period <= 54, "%s", q);
}

Test(cron_line, lines_without_fixed_times_untouched)
{
	const char *keep[] = {
		"# 25 6 * * * root comment",
		"   # indented comment 1 2 3 4 5 6",
		"SHELL=/bin/sh",
		"",
		"\t ",
		"@daily root cmd a b c d",
		"*/5 * * * * root cmd",
		"0,30 * * * * root cmd",
		"25 6 * * * cmd-without-user",
	};
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		cr_assert_null(nvz_cron_line_shuffle(keep[i], strlen(keep[i])), "changed: '%s'", keep[i]);
}

Test(postcreate, template_that_needs_it, .init = setup, .fini = teardown)
{
	const char *crontab = "SHELL=/bin/sh\n# m h dom mon dow user\tcommand\n"
			      "25 6\t* * *\troot\trun-parts /etc/cron.daily\n";
	put("etc/crontab", crontab);
	put("etc/cron.d/job", "30 3 * * 0 root e2scrub_all_cron\n");
	put("etc/cron.d/mine", "# VZCTL_POSTCREATE_SKIP\n30 3 * * 0 root keep\n");
	put("etc/cron.d/.hidden", "30 3 * * 0 root keep\n");
	put("etc/passwd", "root::0:0:root:/root:/bin/sh\nbin:x:1:1::/:/bin/false\n");
	put("etc/shadow", "root::19000:0:99999:7:::\n");
	cr_assert_eq(chmod(at("etc/shadow"), 0640), 0);

	cr_assert_eq(nvz_ct_postcreate(treefd, false, NULL), 1);
	cleanup_free char *same = get("etc/crontab");
	cr_assert_str_eq(same, crontab, "a dry run wrote");
	cr_assert_eq(access(at("etc/hosts"), F_OK), -1);

	cr_assert_eq(nvz_ct_postcreate(treefd, true, NULL), 1);
	cleanup_free char *ct = get("etc/crontab");
	cr_assert(!strncmp(ct, "SHELL=/bin/sh\n# m h dom mon dow user\tcommand\n", 45), "%s", ct);
	int m, h, d;
	const char *rest;
	fields(ct + 45, &m, &h, &d, &rest);
	cr_assert(h >= 0 && h <= 5, "hour %d: %s", h, ct);
	cleanup_free char *job = get("etc/cron.d/job");
	fields(job, &m, &h, &d, &rest);
	cr_assert(h >= 0 && h <= 5, "cron.d hour %d", h);
	cleanup_free char *mine = get("etc/cron.d/mine");
	cr_assert_str_eq(mine, "# VZCTL_POSTCREATE_SKIP\n30 3 * * 0 root keep\n");
	cleanup_free char *hidden = get("etc/cron.d/.hidden");
	cr_assert_str_eq(hidden, "30 3 * * 0 root keep\n");
	cleanup_free char *pw = get("etc/passwd");
	cr_assert_str_eq(pw, "root:!!:0:0:root:/root:/bin/sh\nbin:x:1:1::/:/bin/false\n");
	cleanup_free char *sh = get("etc/shadow");
	cr_assert_str_eq(sh, "root:!:19000:0:99999:7:::\n");
	struct stat st;
	cr_assert_eq(stat(at("etc/shadow"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640, "shadow's mode changed");
	cleanup_free char *hosts = get("etc/hosts");
	cr_assert_str_eq(hosts, "127.0.0.1 localhost.localdomain localhost\n"
				"::1 localhost.localdomain localhost\n");
	cleanup_free char *resolv = get("etc/resolv.conf");
	cr_assert_str_eq(resolv, "");
}

Test(postcreate, template_that_has_it_all, .init = setup, .fini = teardown)
{
	put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
	put("etc/shadow", "root:*:19000:0:99999:7:::\nrootless::1:::::\n");
	put("etc/hosts", "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost");
	put("etc/resolv.conf", "nameserver 192.0.2.1\n");
	put("etc/cron.d/vars", "MAILTO=root\n@reboot root cmd 1 2 3 4\n");
	cr_assert_eq(nvz_ct_postcreate(treefd, true, NULL), 0);
	cleanup_free char *hosts = get("etc/hosts");
	cr_assert_str_eq(hosts, "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost");
}

Test(postcreate, partial_hosts_and_links_left_alone, .init = setup, .fini = teardown)
{
	/* 127.0.0.10 is not 127.0.0.1 (grep -w, as the script). */
	put("etc/hosts", "127.0.0.10 other");
	cr_assert_eq(symlink("/run/systemd/resolve/stub-resolv.conf", at("etc/resolv.conf")), 0);
	cr_assert_eq(symlink("/nonexistent/shadow", at("etc/shadow")), 0);
	cr_assert_eq(nvz_ct_postcreate(treefd, true, NULL), 1);
	cleanup_free char *hosts = get("etc/hosts");
	cr_assert_str_eq(hosts, "127.0.0.10 other\n127.0.0.1 localhost.localdomain localhost\n"
				"::1 localhost.localdomain localhost\n");
	struct stat st;
	cr_assert_eq(lstat(at("etc/resolv.conf"), &st), 0);
	cr_assert(S_ISLNK(st.st_mode), "a dangling resolv.conf link was replaced");
	cr_assert_eq(lstat(at("etc/shadow"), &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
}
