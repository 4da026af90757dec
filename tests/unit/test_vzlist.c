/* Unit tests of vzlist's output: lib/ct/listfmt.c (columns, JSON, compare,
 * globs, resource numbers) and the field table in src/cli-vzlist-fields.c.
 * Unit tests link only libnvz.a, so the table's source is included here;
 * it needs nothing from src/ but its own header. No container is needed:
 * CTs are built from config text. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/cli-vzlist-fields.c"
#include "nvz/config.h"
#include "nvz/listfmt.h"

/* Buffer */

Test(listfmt, buf_appends_and_trims)
{
	struct nvz_list_buf b = {0};
	cr_assert_str_eq(nvz_list_buf_str(&b), "");
	nvz_list_buf_puts(&b, "ab");
	nvz_list_buf_printf(&b, "%d-%s", 42, "x");
	nvz_list_buf_add(&b, "   \t", 4);
	nvz_list_buf_rtrim(&b);
	cr_assert_str_eq(nvz_list_buf_str(&b), "ab42-x");
	nvz_list_buf_clear(&b);
	cr_assert_str_eq(nvz_list_buf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		nvz_list_buf_puts(&b, "0123456789");
	cr_assert_eq(b.len, 10000);
	cr_assert_not(b.oom);
	nvz_list_buf_free(&b);
	cr_assert_null(b.data);
}

/* Columns */

static char *column(const char *s, size_t width, enum nvz_list_align al, bool cut)
{
	struct nvz_list_buf b = {0};
	nvz_list_column(&b, s, strlen(s), width, al, cut);
	char *r = strdup(nvz_list_buf_str(&b));
	nvz_list_buf_free(&b);
	return r;
}

static void check_column(const char *s, size_t w, enum nvz_list_align al, bool cut,
			 const char *want)
{
	char *got = column(s, w, al, cut);
	cr_assert_str_eq(got, want, "column('%s', %zu) = '%s', want '%s'", s, w, got, want);
	free(got);
}

Test(listfmt, column_pads_left_and_right)
{
	check_column("101", 10, NVZ_LIST_RIGHT, false, "       101");
	check_column("running", 9, NVZ_LIST_LEFT, false, "running  ");
	check_column("", 3, NVZ_LIST_LEFT, true, "   ");
}

Test(listfmt, column_cuts_only_when_asked)
{
	check_column("abcdefghij", 4, NVZ_LIST_LEFT, true, "abcd");
	check_column("abcdefghij", 4, NVZ_LIST_LEFT, false, "abcdefghij");
	check_column("abcdefghij", 4, NVZ_LIST_RIGHT, true, "abcd");
	check_column("abcd", 4, NVZ_LIST_LEFT, true, "abcd");
}

Test(listfmt, column_counts_utf8_characters)
{
	/* "ünï" is 3 characters in 5 bytes: padded to 5 characters. */
	check_column("\xc3\xbcn\xc3\xaf", 5, NVZ_LIST_LEFT, false, "\xc3\xbcn\xc3\xaf  ");
	check_column("\xc3\xbcn\xc3\xaf", 5, NVZ_LIST_RIGHT, false, "  \xc3\xbcn\xc3\xaf");
	/* A cut never splits a character. */
	check_column("\xc3\xbc\xc3\xbc\xc3\xbc", 2, NVZ_LIST_LEFT, true, "\xc3\xbc\xc3\xbc");
	cr_assert_eq(nvz_list_utf8_width("\xe2\x82\xac", 3), 1);
}

Test(listfmt, column_hides_control_characters)
{
	check_column("a\tb\x1b[31m", 8, NVZ_LIST_LEFT, false, "a?b?[31m");
	check_column("x\x7fy", 3, NVZ_LIST_LEFT, false, "x?y");
}

Test(listfmt, first_word)
{
	size_t start;
	cr_assert_eq(nvz_list_first_word("10.0.0.1 10.0.0.2", &start), 8);
	cr_assert_eq(start, 0);
	cr_assert_eq(nvz_list_first_word("  a\tb", &start), 1);
	cr_assert_eq(start, 2);
	cr_assert_eq(nvz_list_first_word("   ", &start), 0);
}

/* Values */

Test(listfmt, value_text)
{
	char tmp[32];
	struct nvz_list_val v = {.kind = NVZ_LIST_NUM};
	cr_assert_str_eq(nvz_list_val_text(&v, tmp, sizeof(tmp)), "-");
	v.set = true;
	v.num = 18446744073709551615ULL;
	cr_assert_str_eq(nvz_list_val_text(&v, tmp, sizeof(tmp)), "18446744073709551615");
	v = (struct nvz_list_val){.set = true, .kind = NVZ_LIST_BOOL, .num = 1};
	cr_assert_str_eq(nvz_list_val_text(&v, tmp, sizeof(tmp)), "yes");
	v.num = 0;
	cr_assert_str_eq(nvz_list_val_text(&v, tmp, sizeof(tmp)), "no");
	v = (struct nvz_list_val){.set = true, .kind = NVZ_LIST_STR, .str = "x"};
	cr_assert_str_eq(nvz_list_val_text(&v, tmp, sizeof(tmp)), "x");
}

/* JSON */

static void check_json_str(const char *in, const char *want)
{
	struct nvz_list_buf b = {0};
	nvz_list_json_str(&b, in);
	cr_assert_str_eq(nvz_list_buf_str(&b), want, "json(%s) = %s, want %s", in ? in : "NULL",
			 nvz_list_buf_str(&b), want);
	nvz_list_buf_free(&b);
}

Test(listfmt, json_escapes)
{
	check_json_str(NULL, "null");
	check_json_str("", "\"\"");
	check_json_str("plain", "\"plain\"");
	check_json_str("a\"b\\c", "\"a\\\"b\\\\c\"");
	check_json_str("l1\nl2\tt\rr", "\"l1\\nl2\\tt\\rr\"");
	check_json_str("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	check_json_str("/", "\"/\"");
}

Test(listfmt, json_passes_utf8_and_replaces_bad_bytes)
{
	check_json_str("\xc3\xbc \xe2\x82\xac \xf0\x9f\x98\x80", "\"\xc3\xbc \xe2\x82\xac \xf0\x9f\x98\x80\"");
	check_json_str("a\xff" "b", "\"a\\ufffdb\"");
	/* Truncated sequence, overlong NUL, UTF-16 surrogate, past U+10FFFF. */
	check_json_str("\xe2\x82", "\"\\ufffd\\ufffd\"");
	check_json_str("\xc0\x80", "\"\\ufffd\\ufffd\"");
	check_json_str("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	check_json_str("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

Test(listfmt, json_words_and_values)
{
	struct nvz_list_buf b = {0};
	nvz_list_json_words(&b, " 10.0.0.1  10.0.0.2\tfe80::1 ");
	cr_assert_str_eq(nvz_list_buf_str(&b), "[\"10.0.0.1\", \"10.0.0.2\", \"fe80::1\"]");
	nvz_list_buf_clear(&b);
	nvz_list_json_words(&b, NULL);
	nvz_list_json_words(&b, "  ");
	cr_assert_str_eq(nvz_list_buf_str(&b), "[][]");
	nvz_list_buf_clear(&b);
	struct nvz_list_val v[] = {
		{.kind = NVZ_LIST_STR},
		{.kind = NVZ_LIST_NUM},
		{.set = true, .kind = NVZ_LIST_NUM, .num = 7},
		{.set = true, .kind = NVZ_LIST_BOOL, .num = 1},
		{.set = true, .kind = NVZ_LIST_BOOL},
		{.set = true, .kind = NVZ_LIST_STR, .str = "q\""},
		{.kind = NVZ_LIST_WORDS},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		nvz_list_json_val(&b, &v[i]);
		nvz_list_buf_puts(&b, " ");
	}
	cr_assert_str_eq(nvz_list_buf_str(&b), "null null 7 true false \"q\\\"\" [] ");
	nvz_list_buf_free(&b);
}

/* Compare and filters */

Test(listfmt, compare)
{
	struct nvz_list_val unset = {.kind = NVZ_LIST_NUM};
	struct nvz_list_val two = {.set = true, .kind = NVZ_LIST_NUM, .num = 2};
	struct nvz_list_val ten = {.set = true, .kind = NVZ_LIST_NUM, .num = 10};
	struct nvz_list_val s10 = {.set = true, .kind = NVZ_LIST_STR, .str = "10"};
	struct nvz_list_val s2 = {.set = true, .kind = NVZ_LIST_STR, .str = "2"};
	cr_assert_lt(nvz_list_val_cmp(&unset, &two), 0);
	cr_assert_gt(nvz_list_val_cmp(&two, &unset), 0);
	cr_assert_eq(nvz_list_val_cmp(&unset, &unset), 0);
	cr_assert_lt(nvz_list_val_cmp(&two, &ten), 0, "numbers compare by value");
	cr_assert_lt(nvz_list_val_cmp(&s10, &s2), 0, "text compares bytewise");
	cr_assert_lt(nvz_list_val_cmp(&ten, &s2), 0, "numbers before text");
	cr_assert_eq(nvz_list_val_cmp(&ten, &ten), 0);
}

Test(listfmt, glob)
{
	cr_assert(nvz_list_glob(NULL, NULL));
	cr_assert(nvz_list_glob(NULL, "x"));
	cr_assert_not(nvz_list_glob("*", NULL));
	cr_assert(nvz_list_glob("ct1*", "ct101.example.com"));
	cr_assert_not(nvz_list_glob("ct1*", "a.ct101"));
	cr_assert(nvz_list_glob("w?b", "web"));
	cr_assert(nvz_list_glob("[a-c]*", "box"));
	cr_assert_not(nvz_list_glob("[a-c]*", "dog"));
}

/* Resource numbers */

Test(listfmt, parse_num)
{
	unsigned long long v;
	cr_assert_eq(nvz_list_parse_num("123", 3, 4096, &v), 0);
	cr_assert_eq(v, 123, "a plain number is already in units");
	cr_assert_eq(nvz_list_parse_num("256M", 4, 4096, &v), 0);
	cr_assert_eq(v, 65536, "suffixed bytes become pages");
	cr_assert_eq(nvz_list_parse_num("10G", 3, 1024, &v), 0);
	cr_assert_eq(v, 10485760);
	cr_assert_eq(nvz_list_parse_num("2k", 2, 1, &v), 0);
	cr_assert_eq(v, 2048);
	cr_assert_eq(nvz_list_parse_num("unlimited", 9, 4096, &v), 0);
	cr_assert_eq(v, NVZ_LIST_UNLIMITED);
	cr_assert_eq(nvz_list_parse_num("99999999999999999999999", 23, 1, &v), 0);
	cr_assert_eq(v, NVZ_LIST_UNLIMITED, "clamped to LONG_MAX");
	cr_assert_eq(nvz_list_parse_num("9999999999T", 11, 1, &v), 0);
	cr_assert_eq(v, NVZ_LIST_UNLIMITED);
	cr_assert_lt(nvz_list_parse_num("", 0, 1, &v), 0);
	cr_assert_lt(nvz_list_parse_num("x", 1, 1, &v), 0);
	cr_assert_lt(nvz_list_parse_num("12Q", 3, 1, &v), 0);
	cr_assert_lt(nvz_list_parse_num("12MB", 4, 1, &v), 0);
	cr_assert_lt(nvz_list_parse_num("-1", 2, 1, &v), 0);
}

Test(listfmt, parse_2num)
{
	unsigned long long v[2];
	cr_assert_eq(nvz_list_parse_2num("14372700:14790164", 1, v), 0);
	cr_assert_eq(v[0], 14372700);
	cr_assert_eq(v[1], 14790164);
	cr_assert_eq(nvz_list_parse_2num(" 5 ", 1, v), 0);
	cr_assert(v[0] == 5 && v[1] == 5, "a single value is both");
	cr_assert_eq(nvz_list_parse_2num("0:256M", 4096, v), 0);
	cr_assert(v[0] == 0 && v[1] == 65536);
	cr_assert_eq(nvz_list_parse_2num("unlimited:unlimited", 4096, v), 0);
	cr_assert_eq(v[1], NVZ_LIST_UNLIMITED);
	cr_assert_lt(nvz_list_parse_2num(NULL, 1, v), 0);
	cr_assert_lt(nvz_list_parse_2num("1:", 1, v), 0);
	cr_assert_lt(nvz_list_parse_2num(":1", 1, v), 0);
	cr_assert_lt(nvz_list_parse_2num("1:2:3", 1, v), 0);
}

/* The field table, on CTs made from config text. */

struct fake {
	struct nvz_ctx ctx;
	struct nvz_ct ct;
	struct vzl_ct c;
};

static struct fake *fake_ct(unsigned long veid, enum vzl_status st, const char *conf)
{
	struct fake *f = calloc(1, sizeof(*f));
	cr_assert_not_null(f);
	f->ct.ctx = &f->ctx;
	f->ct.veid = veid;
	snprintf(f->ct.id, sizeof(f->ct.id), "%lu", veid);
	f->ct.conf = nvz_conf_new();
	cr_assert_eq(nvz_conf_parse(f->ct.conf, conf, strlen(conf), "t.conf", NULL), 0);
	cr_assert(asprintf(&f->ct.private, "/vz/private/%lu", veid) > 0);
	cr_assert(asprintf(&f->ct.root, "/vz/root/%lu", veid) > 0);
	f->c.ct = &f->ct;
	f->c.status = st;
	f->c.name = nvz_conf_get(f->ct.conf, "NAME");
	vzl_load_resources(&f->c);
	return f;
}

static void fake_free(struct fake *f)
{
	nvz_conf_free(f->ct.conf);
	free(f->ct.private);
	free(f->ct.root);
	free(f);
}

static size_t parse_order(const char *spec, const struct vzl_field **order)
{
	char *copy = strdup(spec), *save = NULL;
	size_t n = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		order[n] = vzl_field_find(t);
		cr_assert_not_null(order[n], "field %s", t);
		n++;
	}
	free(copy);
	return n;
}

static char *row(const struct fake *f, const char *spec, bool trim)
{
	const struct vzl_field *order[32];
	size_t n = parse_order(spec, order);
	struct nvz_list_buf b = {0};
	if (f)
		vzl_format_row(&b, &f->c, order, n, trim);
	else
		vzl_format_header(&b, order, n);
	char *r = strdup(nvz_list_buf_str(&b));
	nvz_list_buf_free(&b);
	return r;
}

#define DEFAULT "ctid,numproc,status,ip,hostname"
#define CT101 "HOSTNAME=\"ct101.example.com\"\nIP_ADDRESS=\"10.0.0.1 10.0.0.2\"\n"

Test(fields, default_header_is_openvz_s)
{
	char *h = row(NULL, DEFAULT, true);
	cr_assert_str_eq(h, "      CTID      NPROC STATUS    IP_ADDR         HOSTNAME");
	free(h);
	h = row(NULL, "smart_name,numproc,status,ip,hostname", true);
	cr_assert_str_eq(h, " SMARTNAME      NPROC STATUS    IP_ADDR         HOSTNAME");
	free(h);
}

Test(fields, default_row)
{
	struct fake *f = fake_ct(101, VZL_RUNNING, CT101);
	vzl_set_nproc(&f->c, 12);
	char *r = row(f, DEFAULT, true);
	cr_assert_str_eq(r, "       101         12 running   10.0.0.1        ct101.example.com");
	free(r);
	f->c.status = VZL_STOPPED;
	r = row(f, DEFAULT, true);
	cr_assert_str_eq(r, "       101          - stopped   10.0.0.1        ct101.example.com");
	free(r);
	fake_free(f);
}

Test(fields, missing_values_are_dashes)
{
	struct fake *f = fake_ct(7, VZL_STOPPED, "");
	char *r = row(f, DEFAULT, true);
	cr_assert_str_eq(r, "         7          - stopped   -               -");
	free(r);
	fake_free(f);
}

Test(fields, trimming)
{
	struct fake *f = fake_ct(101, VZL_STOPPED,
				 "HOSTNAME=\"a-very-long-hostname-over-thirty-two-chars.example.com\"\n"
				 "IP_ADDRESS=\"10.0.0.1 10.0.0.2\"\n");
	char *r = row(f, "hostname,ctid", true);
	cr_assert_str_eq(r, "a-very-long-hostname-over-thirty        101");
	free(r);
	r = row(f, "ctid,hostname", true);
	cr_assert_str_eq(r, "       101 a-very-long-hostname-over-thirty-two-chars.example.com",
			 "the last column is never cut");
	free(r);
	r = row(f, "ip,ctid", true);
	cr_assert_str_eq(r, "10.0.0.1               101", "a trimmed list shows its first item");
	free(r);
	r = row(f, "ctid,ip", true);
	cr_assert_str_eq(r, "       101 10.0.0.1 10.0.0.2");
	free(r);
	r = row(f, "ip,hostname,ctid", false);
	cr_assert_str_eq(r, "10.0.0.1 10.0.0.2 a-very-long-hostname-over-thirty-two-chars.example.com "
			    "       101", "-t cuts nothing");
	free(r);
	fake_free(f);
}

Test(fields, smart_name)
{
	struct fake *f = fake_ct(101, VZL_STOPPED, "NAME=\"averyverylongname\"\n");
	char *r = row(f, "smart_name,ctid", true);
	cr_assert_str_eq(r, "averyveryl        101");
	free(r);
	f->c.name = NULL;
	r = row(f, "smart_name", true);
	cr_assert_str_eq(r, "       101");
	free(r);
	fake_free(f);
}

Test(fields, resources_from_config)
{
	struct fake *f = fake_ct(101, VZL_STOPPED,
				 "KMEMSIZE=\"14372700:14790164\"\nPHYSPAGES=\"0:256M\"\n"
				 "NUMPROC=\"unlimited\"\nDISKSPACE=\"10G:11G\"\nDISKINODES=\"200000\"\n"
				 "CPUUNITS=\"1000\"\nCPULIMIT=\"25%\"\nONBOOT=\"yes\"\nBOOTORDER=\"5\"\n");
	long page = sysconf(_SC_PAGESIZE);
	char want[256];
	snprintf(want, sizeof(want), "%10s %10s %10s %10ld %10s %10s %10s %10s", "-", "14372700",
		 "14790164", (long)(256L << 20) / page, "-", "10485760", "11534336", "200000");
	char *r = row(f, "kmemsize,kmemsize.b,kmemsize.l,physpages.l,diskspace,diskspace.s,"
			 "diskspace.h,diskinodes.h",
		      true);
	cr_assert_str_eq(r, want);
	free(r);
	r = row(f, "numproc.l,cpuunits,cpulimit,cpus,onboot,bootorder,vswap,disabled,layout", true);
	/* 25% is per cent of the whole host: 25 per CPU. */
	snprintf(want, sizeof(want), "9223372036854775807    1000 %7ld     -    yes          5   yes     no simfs",
		 25 * sysconf(_SC_NPROCESSORS_ONLN));
	cr_assert_str_eq(r, want);
	free(r);
	fake_free(f);
}

static char *json(const struct fake *f, const char *spec)
{
	const struct vzl_field *order[32];
	size_t n = spec ? parse_order(spec, order) : 0;
	struct nvz_list_buf b = {0};
	vzl_format_json(&b, &f->c, spec ? order : NULL, n);
	char *r = strdup(nvz_list_buf_str(&b));
	nvz_list_buf_free(&b);
	return r;
}

Test(fields, json_object)
{
	struct fake *f = fake_ct(101, VZL_STOPPED,
				 "NAME=\"web\"\nDESCRIPTION=\"say \\\"hi\\\"\"\nONBOOT=\"no\"\n"
				 "IP_ADDRESS=\"10.0.0.1\"\nKMEMSIZE=\"1:2\"\n");
	char *j = json(f, "ctid,smart_name,description,hostname,ip,onboot,bootorder,kmemsize,"
			  "diskspace,status");
	cr_assert_str_eq(j, "  {\n"
			    "    \"ctid\": 101,\n"
			    "    \"smart_name\": \"web\",\n"
			    "    \"description\": \"say \\\"hi\\\"\",\n"
			    "    \"hostname\": null,\n"
			    "    \"ip\": [\"10.0.0.1\"],\n"
			    "    \"onboot\": false,\n"
			    "    \"bootorder\": null,\n"
			    "    \"kmemsize\": {\n"
			    "      \"held\": 0,\n"
			    "      \"maxheld\": 0,\n"
			    "      \"barrier\": 1,\n"
			    "      \"limit\": 2,\n"
			    "      \"failcnt\": 0\n"
			    "    },\n"
			    "    \"diskspace\": null,\n"
			    "    \"status\": \"stopped\"\n"
			    "  }");
	free(j);
	/* A running CT with no beancounter source yet: unknown usage is null. */
	f->c.status = VZL_RUNNING;
	vzl_set_nproc(&f->c, 3);
	j = json(f, "numproc");
	cr_assert_str_eq(j, "  {\n    \"numproc\": {\n      \"held\": 3,\n      \"maxheld\": null,\n"
			    "      \"barrier\": null,\n      \"limit\": null,\n"
			    "      \"failcnt\": null\n    }\n  }");
	free(j);
	fake_free(f);
}

Test(fields, json_default_has_every_unsuffixed_field)
{
	struct fake *f = fake_ct(5, VZL_STOPPED, "");
	char *j = json(f, NULL);
	size_t n;
	const struct vzl_field *all = vzl_fields(&n);
	for (size_t i = 0; i < n; i++) {
		char key[64];
		snprintf(key, sizeof(key), "\"%s\": ", all[i].name);
		if (all[i].index)
			cr_assert_null(strstr(j, key), "%s must not be in JSON", all[i].name);
		else
			cr_assert_not_null(strstr(j, key), "%s missing from JSON", all[i].name);
	}
	cr_assert_not_null(strstr(j, "\"smart_name\": 5,"), "an unnamed CT's smart_name is its ID");
	free(j);
	fake_free(f);
}

Test(fields, table_is_consistent)
{
	size_t n;
	const struct vzl_field *all = vzl_fields(&n);
	cr_assert_geq(n, 21 * 5 + 20);
	for (size_t i = 0; i < n; i++) {
		cr_assert(all[i].name && *all[i].name && all[i].header && *all[i].header);
		cr_assert_gt(all[i].width, 0, "%s", all[i].name);
		cr_assert_not_null(all[i].get, "%s", all[i].name);
		cr_assert_eq(vzl_field_find(all[i].name), &all[i], "duplicate name %s", all[i].name);
	}
	cr_assert_str_eq(vzl_field_find("veid")->header, "CTID");
	cr_assert_str_eq(vzl_field_find("vpsid")->header, "CTID");
	cr_assert_str_eq(vzl_field_find("numproc.f")->header, "NPROC.F");
	cr_assert_str_eq(vzl_field_find("diskinodes.s")->header, "DINODES.S");
	cr_assert_null(vzl_field_find("kmemsize.x"));
	cr_assert_null(vzl_field_find(""));
}

Test(fields, sorting)
{
	struct fake *a = fake_ct(101, VZL_STOPPED, "BOOTORDER=\"5\"\nHOSTNAME=\"b\"\n");
	struct fake *b = fake_ct(102, VZL_RUNNING, "HOSTNAME=\"a\"\n");
	struct fake *c = fake_ct(103, VZL_SUSPENDED, "BOOTORDER=\"10\"\n");
	struct fake *d = fake_ct(104, VZL_STOPPED, "");
	const struct vzl_field *bo = vzl_field_find("bootorder");
	cr_assert_lt(vzl_compare(&a->c, &c->c, bo, false), 0, "5 < 10 numerically");
	cr_assert_lt(vzl_compare(&b->c, &a->c, bo, false), 0, "unset first");
	cr_assert_gt(vzl_compare(&b->c, &a->c, bo, true), 0, "reversed: unset last");
	cr_assert_lt(vzl_compare(&b->c, &d->c, bo, true), 0, "ties by ascending ID even reversed");
	const struct vzl_field *st = vzl_field_find("status");
	cr_assert_lt(vzl_compare(&b->c, &a->c, st, false), 0, "running before stopped");
	cr_assert_lt(vzl_compare(&a->c, &c->c, st, false), 0, "stopped before suspended");
	const struct vzl_field *hn = vzl_field_find("hostname");
	cr_assert_lt(vzl_compare(&b->c, &a->c, hn, false), 0);
	cr_assert_lt(vzl_compare(&c->c, &b->c, hn, false), 0, "no hostname first");
	const struct vzl_field *id = vzl_field_find("ctid");
	cr_assert_gt(vzl_compare(&a->c, &b->c, id, true), 0);
	fake_free(a);
	fake_free(b);
	fake_free(c);
	fake_free(d);
}
