/* Unit tests of lib/ct/ubcview.c (the /proc/user_beancounters text, its
 * parser, vzubc's rendering) against exact expected text, and of
 * lib/ct/bcfs.c on the real kernel: a FUSE mount in a temp directory, read
 * by a child while the test serves it, as the CT monitor will. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct/bcfs.h"
#include "nvz/config.h"
#include "nvz/ct.h"
#include "nvz/ctx.h"
#include "nvz/fs.h"
#include "nvz/ubcview.h"

#define U NVZ_UNLIMITED

static struct nvz_conf *conf_of(const char *text)
{
	struct nvz_conf *c = nvz_conf_new();
	struct nvz_error *err = NULL;
	cr_assert_not_null(c);
	cr_assert_eq(nvz_conf_parse(c, text, strlen(text), "test", &err), 0);
	return c;
}

static const char applied_text[] = "KMEMSIZE=\"14372700:14790164\"\n"
				   "LOCKEDPAGES=\"256:256\"\n"
				   "NUMPROC=\"240:240\"\n"
				   "PHYSPAGES=\"0:65536\"\n"
				   "TCPSNDBUF=\"1720320:2703360\"\n"
				   "SWAPPAGES=\"0:unlimited\"\n"
				   "NUMFILE=\"bogus\"\n";

static void sample_counters(struct nvz_cgroup_counter c[UBC_COUNT])
{
	memset(c, 0, sizeof(*c) * UBC_COUNT);
	c[UBC_KMEMSIZE] = (struct nvz_cgroup_counter){ 2225488, 2760704, 99999, 0, true };
	c[UBC_NUMPROC] = (struct nvz_cgroup_counter){ 16, 20, 240, 3, true };
	c[UBC_PHYSPAGES] = (struct nvz_cgroup_counter){ 2226, 2877, 65536, 0, true };
}

/* The kernel's 64-bit format (kernel/bc/proc.c), header and first row as
 * in the OpenVZ wiki's sample. */
static const char expected_table[] =
	"Version: 2.5\n"
	"       uid  resource                     held              maxheld              barrier                limit              failcnt\n"
	"      101:  kmemsize                  2225488              2760704             14372700             14790164                    0\n"
	"            lockedpages                     0                    0                  256                  256                    0\n"
	"            privvmpages                     0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            shmpages                        0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            dummy                           0                    0                    0                    0                    0\n"
	"            numproc                        16                   20                  240                  240                    3\n"
	"            physpages                    2226                 2877                    0                65536                    0\n"
	"            vmguarpages                     0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            oomguarpages                    0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            numtcpsock                      0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            numflock                        0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            numpty                          0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            numsiginfo                      0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            tcpsndbuf                       0                    0              1720320              2703360                    0\n"
	"            tcprcvbuf                       0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            othersockbuf                    0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            dgramrcvbuf                     0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            numothersock                    0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            dcachesize                      0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            numfile                         0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            dummy                           0                    0                    0                    0                    0\n"
	"            dummy                           0                    0                    0                    0                    0\n"
	"            dummy                           0                    0                    0                    0                    0\n"
	"            numiptent                       0                    0  9223372036854775807  9223372036854775807                    0\n"
	"            swappages                       0                    0                    0  9223372036854775807                    0\n"
	;

Test(table, exact_text)
{
	struct nvz_conf *applied = conf_of(applied_text);
	struct nvz_cgroup_counter c[UBC_COUNT];
	sample_counters(c);
	char *text = NULL;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ubc_table("101", applied, c, &text, &err), 0);
	cr_assert_str_eq(text, expected_table);
	free(text);
	nvz_conf_free(applied);
}

Test(table, block_without_header_and_clamped_values)
{
	struct nvz_ubc_row rows[UBC_COUNT];
	nvz_ubc_rows(NULL, NULL, rows);
	rows[UBC_KMEMSIZE].held = U;
	char *text = NULL;
	cr_assert_eq(nvz_ubc_table_rows("7", rows, false, &text, NULL), 0);
	cr_assert_eq(strncmp(text,
			     "        7:  kmemsize      9223372036854775807                    0  "
			     "9223372036854775807  9223372036854775807                    0\n"
			     "            lockedpages",
			     153),
		     0, "%s", text);
	size_t lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 25);
	free(text);
}

/* bcfs reports the length as the file size once; it must not vary. */
Test(table, length_depends_on_the_uid_only)
{
	struct nvz_ubc_row a[UBC_COUNT], b[UBC_COUNT];
	nvz_ubc_rows(NULL, NULL, a);
	memcpy(b, a, sizeof(a));
	for (int i = 0; i < UBC_COUNT; i++)
		a[i].held = a[i].maxheld = a[i].barrier = a[i].limit = a[i].failcnt = 0;
	char *ta = NULL, *tb = NULL;
	cr_assert_eq(nvz_ubc_table_rows("2147483644", a, true, &ta, NULL), 0);
	cr_assert_eq(nvz_ubc_table_rows("2147483644", b, true, &tb, NULL), 0);
	cr_assert_eq(strlen(ta), strlen(tb));
	free(ta);
	free(tb);
}

Test(rows, counters_fill_what_applied_lacks)
{
	struct nvz_cgroup_counter c[UBC_COUNT];
	memset(c, 0, sizeof(c));
	c[UBC_NUMPROC] = (struct nvz_cgroup_counter){ 5, 9, 100, 2, true };
	c[UBC_NUMFILE] = (struct nvz_cgroup_counter){ 1, 1, 50, 0, true };
	c[UBC_KMEMSIZE] = (struct nvz_cgroup_counter){ 7, 7, 7, 7, false };
	struct nvz_conf *applied = conf_of(applied_text);
	struct nvz_ubc_row r[UBC_COUNT];

	nvz_ubc_rows(NULL, c, r);
	cr_assert_str_eq(r[UBC_NUMPROC].name, "numproc");
	cr_assert_eq(r[UBC_NUMPROC].held, 5);
	cr_assert_eq(r[UBC_NUMPROC].maxheld, 9);
	cr_assert_eq(r[UBC_NUMPROC].failcnt, 2);
	cr_assert_eq(r[UBC_NUMPROC].barrier, 100);
	cr_assert_eq(r[UBC_NUMPROC].limit, 100);
	/* Not valid on this kernel: zeros and unlimited, whatever it holds. */
	cr_assert_eq(r[UBC_KMEMSIZE].held, 0);
	cr_assert_eq(r[UBC_KMEMSIZE].failcnt, 0);
	cr_assert_eq(r[UBC_KMEMSIZE].barrier, U);

	nvz_ubc_rows(applied, c, r);
	cr_assert_eq(r[UBC_NUMPROC].barrier, 240);
	cr_assert_eq(r[UBC_NUMPROC].held, 5);
	/* A malformed applied value falls back to the kernel's limit. */
	cr_assert_eq(r[UBC_NUMFILE].barrier, 50);
	cr_assert_eq(r[UBC_SWAPPAGES].barrier, 0);
	cr_assert_eq(r[UBC_SWAPPAGES].limit, U);
	cr_assert_str_eq(r[UBC_SWAPPAGES].name, "swappages");
	nvz_conf_free(applied);
}

/* The guide's pre-VSwap config (all three at 512M): privvmpages sets the
 * memory limit, so its row counts RAM and swap and the memory failcnt; a
 * VSwap config (PHYSPAGES limit) leaves those rows to their own counters;
 * with guarantees only, each set one counts it (the larger is the limit). */
Test(rows, pre_vswap_limit_row_counts_memory)
{
	struct nvz_cgroup_counter c[UBC_COUNT];
	memset(c, 0, sizeof(c));
	c[UBC_PHYSPAGES] = (struct nvz_cgroup_counter){ 1000, 2000, U, 5, true };
	c[UBC_SWAPPAGES] = (struct nvz_cgroup_counter){ 10, 20, U, 1, true };
	struct nvz_ubc_row r[UBC_COUNT];

	struct nvz_conf *guide = conf_of("VMGUARPAGES=\"131072:unlimited\"\n"
					 "OOMGUARPAGES=\"131072:unlimited\"\n"
					 "PRIVVMPAGES=\"131072:131072\"\n");
	nvz_ubc_rows(guide, c, r);
	cr_assert_eq(r[UBC_PRIVVMPAGES].held, 1010);
	cr_assert_eq(r[UBC_PRIVVMPAGES].maxheld, 2020);
	cr_assert_eq(r[UBC_PRIVVMPAGES].failcnt, 5);
	cr_assert_eq(r[UBC_PRIVVMPAGES].barrier, 131072);
	cr_assert_eq(r[UBC_PRIVVMPAGES].limit, 131072);
	/* The guarantees do not set it here: their own counters (none). */
	cr_assert_eq(r[UBC_VMGUARPAGES].held, 0);
	cr_assert_eq(r[UBC_VMGUARPAGES].failcnt, 0);
	/* The counters given are not changed. */
	cr_assert_eq(c[UBC_PRIVVMPAGES].valid, false);
	nvz_conf_free(guide);

	struct nvz_conf *vswap = conf_of("PHYSPAGES=\"0:65536\"\nPRIVVMPAGES=\"131072:131072\"\n");
	nvz_ubc_rows(vswap, c, r);
	cr_assert_eq(r[UBC_PRIVVMPAGES].held, 0);
	cr_assert_eq(r[UBC_PRIVVMPAGES].failcnt, 0);
	cr_assert_eq(r[UBC_PHYSPAGES].held, 1000);
	cr_assert_eq(r[UBC_PHYSPAGES].failcnt, 5);
	nvz_conf_free(vswap);

	struct nvz_conf *guar = conf_of("VMGUARPAGES=\"65536:unlimited\"\n"
					"OOMGUARPAGES=\"131072:unlimited\"\n");
	nvz_ubc_rows(guar, c, r);
	cr_assert_eq(r[UBC_VMGUARPAGES].held, 1010);
	cr_assert_eq(r[UBC_OOMGUARPAGES].held, 1010);
	cr_assert_eq(r[UBC_OOMGUARPAGES].failcnt, 5);
	cr_assert_eq(r[UBC_PRIVVMPAGES].held, 0);
	nvz_conf_free(guar);

	/* Without a memory counter nothing is made up. */
	c[UBC_PHYSPAGES].valid = false;
	guide = conf_of("PRIVVMPAGES=\"131072:131072\"\n");
	nvz_ubc_rows(guide, c, r);
	cr_assert_eq(r[UBC_PRIVVMPAGES].held, 0);
	nvz_conf_free(guide);
}

/* Parser */

Test(parse, round_trip_drops_dummies)
{
	struct nvz_conf *applied = conf_of(applied_text);
	struct nvz_cgroup_counter c[UBC_COUNT];
	sample_counters(c);
	struct nvz_ubc_row rows[UBC_COUNT];
	nvz_ubc_rows(applied, c, rows);
	struct nvz_ubc_set *s = NULL;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ubc_parse_table(expected_table, strlen(expected_table), &s, &err), 0);
	cr_assert_eq(s->nblocks, 1);
	cr_assert_str_eq(s->blocks[0].uid, "101");
	cr_assert_eq(s->blocks[0].nrows, UBC_COUNT);
	for (int i = 0; i < UBC_COUNT; i++) {
		const struct nvz_ubc_row *a = &s->blocks[0].rows[i], *b = &rows[i];
		cr_assert_str_eq(a->name, b->name);
		cr_assert(a->held == b->held && a->maxheld == b->maxheld && a->barrier == b->barrier &&
			  a->limit == b->limit && a->failcnt == b->failcnt, "row %s", a->name);
	}
	nvz_ubc_set_free(s);
	nvz_conf_free(applied);
}

Test(parse, several_blocks_and_no_uid)
{
	const char *t = "Version: 2.5\n"
			"       uid  resource   held maxheld barrier limit failcnt\n"
			"      101:  numproc      1 2 3 4 5\n"
			"            numfile      6 7 8 9 10\n"
			"       102: numproc      11 12 13 14 15\n\n";
	struct nvz_ubc_set *s = NULL;
	cr_assert_eq(nvz_ubc_parse_table(t, strlen(t), &s, NULL), 0);
	cr_assert_eq(s->nblocks, 2);
	cr_assert_eq(s->blocks[0].nrows, 2);
	cr_assert_eq(s->blocks[0].rows[1].failcnt, 10);
	cr_assert_str_eq(s->blocks[1].uid, "102");
	cr_assert_eq(s->blocks[1].rows[0].held, 11);
	nvz_ubc_set_free(s);

	/* /proc/bc/<id>/resources has no uid column. */
	t = "\tkmemsize 1 2 3 4 0\n\tnumproc 1 2 3 4 0\n";
	cr_assert_eq(nvz_ubc_parse_table(t, strlen(t), &s, NULL), 0);
	cr_assert_eq(s->nblocks, 1);
	cr_assert_str_eq(s->blocks[0].uid, "");
	cr_assert_eq(s->blocks[0].nrows, 2);
	nvz_ubc_set_free(s);
}

static void parse_fails(const char *t, const char *msg)
{
	struct nvz_ubc_set *s = (void *)1;
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_ubc_parse_table(t, strlen(t), &s, &err), 0, "%s", t);
	cr_assert_null(s);
	cr_assert_str_eq(err->msg, msg);
	cr_assert_eq(err->status, 21);
	nvz_error_free(err);
}

Test(parse, errors_name_the_line)
{
	parse_fails("Version: 3.0\n", "unknown version: 3.0");
	struct nvz_ubc_set *s = NULL;
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_ubc_parse_table("Version: 2.6\n", 13, &s, &err), 0);
	cr_assert_eq(err->code, EPROTONOSUPPORT, "vzubc tells a version apart by its code");
	nvz_error_free(err);
	parse_fails("Version: 2.5\n  101:  numproc 1 2 3\n", "line 2: malformed beancounter row");
	parse_fails("  101:  numproc 1 2 x 4 5\n", "line 1: bad number x");
	parse_fails("  101:  numproc 1 2 -3 4 5\n", "line 1: bad number -3");
	parse_fails("  Numproc 1 2 3 4 5\n", "line 1: malformed beancounter row");
	parse_fails("  numproc 1 2 3 4 5 6 7 8 9\n", "line 1: malformed beancounter row");
	parse_fails("  numproc 1 2 3 4 99999999999999999999\n", "line 1: bad number 99999999999999999999");
}

/* vzubc cells and blocks; the expected text is what bin/vzubc.in's awk
 * prints for the same input. */

static const char *hv(const char *name, uint64_t v)
{
	static char b[4][16];
	static int i;
	char *o = b[i++ % 4];
	nvz_ubc_human_value(name, v, o, 16);
	return o;
}

static const char *pc(uint64_t p, uint64_t w)
{
	static char b[4][16];
	static int i;
	char *o = b[i++ % 4];
	nvz_ubc_human_percent(p, w, o, 16);
	return o;
}

Test(human, values)
{
	cr_assert_str_eq(hv("kmemsize", 0), "- ");
	cr_assert_str_eq(hv("kmemsize", U), "- ");
	cr_assert_str_eq(hv("kmemsize", NVZ_UBC_LONG_MAX), "- ");
	cr_assert_str_eq(hv("numproc", 2147483647), "- ");
	cr_assert_str_eq(hv("numproc", 12), "12 ");
	cr_assert_str_eq(hv("numproc", 240), "240 ");
	cr_assert_str_eq(hv("numfile", 1999), "1.95K");
	cr_assert_str_eq(hv("kmemsize", 2225488), "2.12M");
	cr_assert_str_eq(hv("kmemsize", 14372700), "13.7M");
	cr_assert_str_eq(hv("tcpsndbuf", 4194304), "4M");
	cr_assert_str_eq(hv("tcprcvbuf", 1000000), "976K");
	cr_assert_str_eq(hv("physpages", 65536), "256M");
	cr_assert_str_eq(hv("physpages", 262144), "1G");
	cr_assert_str_eq(hv("privvmpages", 5968), "23.3M");
	cr_assert_str_eq(hv("lockedpages", 1), "4K");
}

Test(human, percents_with_vzubc_rounding)
{
	cr_assert_str_eq(pc(1, 0), "- ");
	cr_assert_str_eq(pc(1, U), "- ");
	cr_assert_str_eq(pc(0, 10), "- ");
	cr_assert_str_eq(pc(12, 240), "5%");
	cr_assert_str_eq(pc(240, 240), "100%");
	cr_assert_str_eq(pc(50, 40), "125%");
	cr_assert_str_eq(pc(3, 200), "2%");     /* 1.5: one significant digit */
	cr_assert_str_eq(pc(1, 1000), "0.1%");
	cr_assert_str_eq(pc(1, 100000), "- "); /* rounds to 0 */
	cr_assert_str_eq(pc(99, 1000), "9%");  /* 9.9 compares above "10" as text */
}

static struct nvz_ubc_row R(const char *name, uint64_t h, uint64_t m, uint64_t b, uint64_t l,
			    uint64_t f)
{
	struct nvz_ubc_row r = { .held = h, .maxheld = m, .barrier = b, .limit = l, .failcnt = f };
	snprintf(r.name, sizeof(r.name), "%s", name);
	return r;
}

static void sample_rows(struct nvz_ubc_row r[8])
{
	r[0] = R("kmemsize", 14201218, 17178624, U, U, 0);
	r[1] = R("numproc", 37, 50, 40, 40, 17);
	r[2] = R("physpages", 26183, 32051, 0, 262144, 0);
	r[3] = R("numfile", 1999, 2048, 2048, 2048, 3);
	r[4] = R("numothersock", 199, 200, 200, 200, 1);
	r[5] = R("tcprcvbuf", 163840, 753344, 1000000, 1720320, 0);
	r[6] = R("numpty", 0, 0, 16, 16, 0);
	r[7] = R("dummy", 0, 0, 0, 0, 0);
}

static char *human(const struct nvz_ubc_human_opts *o, const uint64_t *prev)
{
	struct nvz_ubc_row r[8];
	sample_rows(r);
	char *text = NULL;
	cr_assert_eq(nvz_ubc_human(o, "102", r, 8, prev, &text, NULL), 0);
	return text;
}

Test(human, block_default_hides_unlimited)
{
	struct nvz_ubc_human_opts o = { .qheld = 0.5, .qmaxheld = 0.8 };
	char *t = human(&o, NULL);
	cr_assert_str_eq(t,
		"----------------------------------------------------------------\n"
		"CT 102       | HELD Bar% Lim%| MAXH Bar% Lim%| BAR | LIM | FAIL\n"
		"-------------+---------------+---------------+-----+-----+------\n"
		"      numproc|  37   92%  92%|  50  125% 125%|  40 |  40 |   17 \n"
		"    physpages| 102M   -   10%| 125M   -   12%|   - |   1G|    - \n"
		"      numfile|1.95K  97%  97%|   2K 100% 100%|   2K|   2K|    3 \n"
		" numothersock| 199   99%  99%| 200  100% 100%| 200 | 200 |    1 \n"
		"    tcprcvbuf| 160K  16%   9%| 735K  75%  43%| 976K|1.64M|    - \n"
		"       numpty|   -    -    - |   -    -    - |  16 |  16 |    - \n");
	free(t);
	o.verbose = true;
	t = human(&o, NULL);
	cr_assert_not_null(strstr(t, "\n     kmemsize|13.5M   -    - |16.4M   -    - |   - |   - |    - \n"));
	free(t);
}

Test(human, quiet_and_thresholds)
{
	struct nvz_ubc_human_opts o = { .quiet = true, .qheld = 0.5, .qmaxheld = 0.8 };
	char *t = human(&o, NULL);
	cr_assert_str_eq(t,
		"----------------------------------------------------------------\n"
		"CT 102       | HELD Bar% Lim%| MAXH Bar% Lim%| BAR | LIM | FAIL\n"
		"-------------+---------------+---------------+-----+-----+------\n"
		"      numproc|  37   92%  92%|  50  125% 125%|  40 |  40 |   17 \n"
		"      numfile|1.95K  97%  97%|   2K 100% 100%|   2K|   2K|    3 \n"
		" numothersock| 199   99%  99%| 200  100% 100%| 200 | 200 |    1 \n");
	free(t);
	/* Percent thresholds (> 1), and qheld capped by qmaxheld. */
	o.qheld = 90;
	o.qmaxheld = 70;
	t = human(&o, NULL);
	cr_assert_not_null(strstr(t, "    tcprcvbuf| 160K"));
	cr_assert_null(strstr(t, "physpages"));
	free(t);
	/* Nothing important: an empty block, no header. */
	struct nvz_ubc_row calm = R("numproc", 1, 1, 100, 100, 0);
	cr_assert_eq(nvz_ubc_human(&(struct nvz_ubc_human_opts){ .quiet = true, .qheld = 0.5,
								   .qmaxheld = 0.8 },
				   "1", &calm, 1, NULL, &t, NULL),
		     0);
	cr_assert_str_eq(t, "");
	free(t);
}

Test(human, relative_failcnt)
{
	struct nvz_ubc_human_opts o = { .relative = true, .quiet = true, .qheld = 0.5, .qmaxheld = 0.8 };
	uint64_t prev[8] = { 0, 10, 0, 3, 5 };
	char *t = human(&o, prev);
	cr_assert_str_eq(t,
		"----------------------------------------------------------------\n"
		"CT 102       | HELD Bar% Lim%| MAXH Bar% Lim%| BAR | LIM |+FAIL\n"
		"-------------+---------------+---------------+-----+-----+------\n"
		"      numproc|  37   92%  92%|  50  125% 125%|  40 |  40 |    7 \n"
		"      numfile|1.95K  97%  97%|   2K 100% 100%|   2K|   2K|    - \n"
		" numothersock| 199   99%  99%| 200  100% 100%| 200 | 200 |    1 \n");
	free(t);
}

Test(human, color_codes)
{
	struct nvz_ubc_row r = R("numproc", 37, 50, 40, 40, 17);
	struct nvz_ubc_human_opts o = { .color = true, .qheld = 0.5, .qmaxheld = 0.8 };
	char *t = NULL;
	cr_assert_eq(nvz_ubc_human(&o, "5", &r, 1, NULL, &t, NULL), 0);
	cr_assert_str_eq(t,
		"\033[1;32m----------------------------------------------------------------\n"
		"CT 5         | HELD Bar% Lim%| MAXH Bar% Lim%| BAR | LIM | FAIL\n"
		"-------------+---------------+---------------+-----+-----+------\033[0;39m\n"
		"\033[1;31m      numproc|  37   92%  92%|  50  125% 125%|  40 |  40 |   17 \n"
		"\033[0;39m");
	free(t);
}

/* -i: held's change (pages shown as bytes), blank when unchanged; a
 * changed row is shown even where quiet or an unlimited barrier hides it. */
Test(human, incremental_column)
{
	struct nvz_ubc_row r[3] = {
		R("numproc", 15, 27, 240, 240, 0),
		R("privvmpages", 1000, 2000, 65536, 69632, 0),
		R("physpages", 5000, 6000, NVZ_UNLIMITED, NVZ_UNLIMITED, 0),
	};
	uint64_t prev[3] = { 12, 1000, 5256 };
	bool shown[3] = { false, true, false };
	struct nvz_ubc_human_opts o = { .quiet = true, .qheld = 0.5, .qmaxheld = 0.8, .prev_held = prev,
					.shown = shown };
	char *t = NULL;
	cr_assert_eq(nvz_ubc_human(&o, "101", r, 3, NULL, &t, NULL), 0);
	cr_assert(shown[0] && !shown[1] && shown[2], "shown tells the printed rows");
	cr_assert_str_eq(t,
		"-----------------------------------------------------------------------\n"
		"CT 101       | HELD  +/-   Bar% Lim%| MAXH Bar% Lim%| BAR | LIM | FAIL\n"
		"-------------+----------------------+---------------+-----+-----+------\n"
		"      numproc|  15     +3    6%   6%|  27   11%  11%| 240 | 240 |    - \n"
		"    physpages|19.5M    -1M   -    - |23.4M   -    - |   - |   - |    - \n");
	free(t);
}

/* ---- bcfs on the real kernel ----------------------------------------- */

#include <glob.h>

#include "nvz/cgroup.h"
#include "pathfmt.h"

static char g_base[64];
static char g_prefix[64];
static struct nvz_ctx *g_ctx;
static struct nvz_ct *g_ct;
static struct nvz_cgroup *g_cg;
static struct nvz_bcfs *g_bc;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "open %s: %m", path);
	cr_assert_geq(fputs(s, f), 0);
	cr_assert_eq(fclose(f), 0);
}

static void bcfs_fini(void)
{
	nvz_bcfs_unmount(g_bc);
	g_bc = NULL;
	if (g_cg) {
		nvz_cgroup_kill(g_cg, NULL);
		nvz_cgroup_destroy(g_cg, NULL);
		nvz_cgroup_free(g_cg);
		glob_t g;
		if (glob(P("/sys/fs/cgroup/*/%s", g_prefix), 0, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++)
				rmdir(g.gl_pathv[i]);
			globfree(&g);
		}
		rmdir(P("/sys/fs/cgroup/%s", g_prefix));
	}
	nvz_ct_free(g_ct);
	nvz_ctx_free(g_ctx);
	if (g_base[0]) {
		umount2(P("%s/target", g_base), MNT_DETACH);
		nftw(g_base, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	}
}

TestSuite(bcfs, .fini = bcfs_fini, .timeout = 30);

/* The detached file system a start makes, or one mounted on the host at
 * run/101/bc, as a restore's. */
static void bcfs_setup_at(bool on_host)
{
	if (geteuid() != 0 || access("/dev/fuse", R_OK | W_OK) != 0)
		cr_skip_test("needs root and /dev/fuse");
	snprintf(g_base, sizeof(g_base), "/tmp/nvz-test-bcfs-XXXXXX");
	snprintf(g_prefix, sizeof(g_prefix), "nvz-unit-bc-%d", (int)getpid());
	cr_assert_not_null(mkdtemp(g_base));
	cr_assert_eq(mkdir(P("%s/conf", g_base), 0755), 0);
	put(P("%s/vz.conf", g_base),
	    P("LOCKDIR=%s/lock\nVE_ROOT=%s/root/$VEID\nVE_PRIVATE=%s/private/$VEID\n"
	      "RUNDIR=%s/run\nLOGGING=no\nCGROUP_PREFIX=%s\n",
	      g_base, g_base, g_base, g_base, g_prefix));
	put(P("%s/conf/101.conf", g_base), "NUMPROC=\"50:50\"\n");
	cr_assert_eq(setenv("VZ_CONF", P("%s/vz.conf", g_base), 1), 0);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_ctx_open(&g_ctx, NULL, NULL, &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(nvz_ct_open(g_ctx, 101, &g_ct, &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(nvz_cgroup_open(&g_cg, g_prefix, "101", &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(nvz_cgroup_create(g_cg, &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(mkdir(P("%s/run", g_base), 0755), 0);
	cr_assert_eq(mkdir(P("%s/run/101", g_base), 0755), 0);
	put(P("%s/run/101/state", g_base),
	    "INIT_PID=\"0\"\nNUMPROC=\"50:50\"\nTCPSNDBUF=\"4194304:5242880\"\nCPUUNITS=\"1000\"\n");
	char path_buf[PATH_MAX];
	snprintf(path_buf, sizeof(path_buf), "%s/run/101/bc", g_base);
	const char *path = on_host ? path_buf : NULL;
	g_bc = nvz_bcfs_new(g_ct, path, &err);
	cr_assert_not_null(g_bc, "%s", err ? err->msg : "");
	cr_assert_geq(nvz_bcfs_fd(g_bc), 0);
	if (path)
		cr_assert_lt(nvz_bcfs_file_tree(g_bc), 0);
	else
		cr_assert_geq(nvz_bcfs_file_tree(g_bc), 0);
}

static void bcfs_setup(void)
{
	bcfs_setup_at(true);
}

/* Beancounter views of CT 101 mounted at or under path (NULL: anywhere), from
 * mountinfo, not stat: a stat of the file would wait for an answer from
 * the file system, which this thread serves. Tests run side by side. */
static int mounts_named(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	cr_assert_not_null(f);
	char line[4096];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		const char *dash = strstr(line, " - ");
		char type[64], src[256], at[PATH_MAX];
		if (dash && sscanf(dash + 3, "%63s %255s", type, src) == 2 &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", at) == 1 && !strcmp(type, "fuse.nvz-bc") &&
		    !strcmp(src, "nvz-bc-101") && (!path || !strncmp(at, path, strlen(path))))
			n++;
	}
	fclose(f);
	return n;
}

/* Serve the filesystem until the child exits; returns what it wrote. */
static char *serve_child(pid_t pid, int rfd, int *status)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	cr_assert_not_null(m);
	for (int spins = 0; spins < 1000; spins++) {
		struct pollfd p[2] = { { .fd = nvz_bcfs_fd(g_bc), .events = POLLIN },
				       { .fd = rfd, .events = POLLIN } };
		cr_assert_geq(poll(p, 2, 100), 0);
		if (p[0].revents & POLLIN)
			cr_assert_eq(nvz_bcfs_process(g_bc), 0);
		if (p[1].revents & (POLLIN | POLLHUP)) {
			char buf[4096];
			ssize_t n = read(rfd, buf, sizeof(buf));
			if (n <= 0)
				break;
			fwrite(buf, 1, (size_t)n, m);
		}
	}
	fclose(m);
	close(rfd);
	cr_assert_eq(waitpid(pid, status, 0), pid);
	return out;
}

/* Fork a reader: child_fn writes its findings to fd and returns an exit code. */
static char *run_child(int (*child_fn)(int fd), int *status)
{
	int pfd[2];
	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		_exit(child_fn(pfd[1]));
	}
	close(pfd[1]);
	return serve_child(pid, pfd[0], status);
}

/* What a child that must succeed read. */
static char *child_text(int (*child_fn)(int fd))
{
	int status;
	char *text = run_child(child_fn, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	return text;
}

/* Copy path to fd in 7-byte reads: one snapshot across many requests. */
static int copy_small_reads(const char *path, int fd)
{
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return 10;
	char buf[7];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			return 11;
	close(in);
	return n < 0 ? 12 : 0;
}

static int read_mounted(int fd)
{
	struct stat st;
	const char *path = P("%s/run/101/bc", g_base);
	if (stat(path, &st) < 0 || st.st_mode != (S_IFREG | 0444) || st.st_uid != 0 ||
	    st.st_size < 1000)
		return 20;
	if (open(path, O_WRONLY) >= 0 || (errno != EROFS && errno != EACCES))
		return 21;
	return copy_small_reads(path, fd);
}

/* busybox cat copies with sendfile(), which reads through the page cache
 * up to i_size: the reported size must cover the text. */
static int read_sendfile(int fd)
{
	const char *path = P("%s/run/101/bc", g_base);
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return 40;
	ssize_t n, total = 0;
	while ((n = sendfile(fd, in, NULL, 65536)) > 0)
		total += n;
	close(in);
	return n < 0 ? 41 : total > 0 ? 0 : 42;
}

/* What the CT's init does: a new mount namespace, then the detached file
 * system attached onto a file; it reads as a read-only file of the
 * table's size. */
static int read_attached(int fd)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 30;
	const char *target = P("%s/target", g_base);
	if (nvz_bcfs_attach(nvz_bcfs_file_tree(g_bc), target, NULL) < 0)
		return 31;
	struct stat st;
	if (stat(target, &st) < 0 || st.st_mode != (S_IFREG | 0444) || st.st_size < 1000)
		return 32;
	if (open(target, O_RDONLY | O_DIRECTORY) >= 0 || errno != ENOTDIR)
		return 33;
	if (open(target, O_WRONLY) >= 0 || (errno != EROFS && errno != EACCES))
		return 34;
	return copy_small_reads(target, fd);
}

Test(bcfs, serves_the_table_from_cgroup_and_resources)
{
	bcfs_setup();
	char *text = child_text(read_mounted);
	cr_assert_eq(strncmp(text, expected_table, strlen("Version: 2.5\n") + 130), 0, "%s", text);
	cr_assert_not_null(strstr(text, "\n      101:  kmemsize "), "%s", text);
	cr_assert_not_null(strstr(text, "\n            numproc "), "%s", text);
	cr_assert_not_null(strstr(text, "                   50                   50"), "%s", text);
	cr_assert_not_null(strstr(text, "              4194304              5242880"), "%s", text);
	struct nvz_ubc_set *s = NULL;
	cr_assert_eq(nvz_ubc_parse_table(text, strlen(text), &s, NULL), 0);
	cr_assert_eq(s->blocks[0].nrows, UBC_COUNT);
	nvz_ubc_set_free(s);
	free(text);
}

/* A CT started by an nvz that kept what it applied in a file of its own. */
Test(bcfs, serves_an_older_nvz_resources_file)
{
	bcfs_setup();
	put(P("%s/run/101/state", g_base), "INIT_PID=\"0\"\n");
	put(P("%s/run/101/resources", g_base), "NUMPROC=\"60:70\"\nCPUUNITS=\"1000\"\n");
	char *text = child_text(read_mounted);
	cr_assert_not_null(strstr(text, "                   60                   70"), "%s", text);
	free(text);
}

Test(bcfs, sendfile_reads_the_whole_text)
{
	bcfs_setup();
	char *text = child_text(read_sendfile);
	cr_assert_eq(strncmp(text, "Version: 2.5\n", 13), 0, "%s", text);
	cr_assert_not_null(strstr(text, "\n            swappages "), "%s", text);
	free(text);
}

Test(bcfs, detached_clone_attaches_in_another_namespace)
{
	bcfs_setup_at(false);
	/* Made without a mount on the host. */
	cr_assert_eq(mounts_named(g_base), 0); /* under it: none */
	put(P("%s/target", g_base), "");
	char *text = child_text(read_attached);
	cr_assert_not_null(strstr(text, "\n      101:  kmemsize "), "%s", text);
	free(text);
}

Test(bcfs, unmount_leaves_nothing)
{
	bcfs_setup();
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/run/101/bc", g_base);
	cr_assert_eq(mounts_named(path), 1);
	nvz_bcfs_unmount(g_bc);
	g_bc = NULL;
	cr_assert_eq(mounts_named(path), 0);
	cr_assert_neq(access(path, F_OK), 0);
	/* A second mount on the same place works (the monitor restarts), and
	 * so does one where an older nvz left its directory. */
	cr_assert_eq(mkdir(path, 0755), 0);
	struct nvz_error *err = NULL;
	g_bc = nvz_bcfs_new(g_ct, path, &err);
	cr_assert_not_null(g_bc, "%s", err ? err->msg : "");
	cr_assert_eq(mounts_named(path), 1);
	nvz_bcfs_unmount(g_bc);
	g_bc = NULL;
	cr_assert_eq(mounts_named(path), 0);
	cr_assert_neq(access(path, F_OK), 0);
}
