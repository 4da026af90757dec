/* Beancounter (UBC) table and the vzctl value syntax: "B[:L]", numbers with
 * K/M/G/T/P/B suffixes, "unlimited". */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "nvz/res.h"
#include "res/internal.h"

static const struct nvz_ubc_info ubc_table[UBC_COUNT] = {
	[UBC_KMEMSIZE] = {"kmemsize", "KMEMSIZE", NVZ_UNIT_BYTES, false},
	[UBC_LOCKEDPAGES] = {"lockedpages", "LOCKEDPAGES", NVZ_UNIT_PAGES, false},
	[UBC_PRIVVMPAGES] = {"privvmpages", "PRIVVMPAGES", NVZ_UNIT_PAGES, false},
	[UBC_SHMPAGES] = {"shmpages", "SHMPAGES", NVZ_UNIT_PAGES, true},
	[UBC_NUMPROC] = {"numproc", "NUMPROC", NVZ_UNIT_ITEMS, true},
	[UBC_PHYSPAGES] = {"physpages", "PHYSPAGES", NVZ_UNIT_PAGES, false},
	[UBC_VMGUARPAGES] = {"vmguarpages", "VMGUARPAGES", NVZ_UNIT_PAGES, false},
	[UBC_OOMGUARPAGES] = {"oomguarpages", "OOMGUARPAGES", NVZ_UNIT_PAGES, false},
	[UBC_NUMTCPSOCK] = {"numtcpsock", "NUMTCPSOCK", NVZ_UNIT_ITEMS, true},
	[UBC_NUMFLOCK] = {"numflock", "NUMFLOCK", NVZ_UNIT_ITEMS, false},
	[UBC_NUMPTY] = {"numpty", "NUMPTY", NVZ_UNIT_ITEMS, true},
	[UBC_NUMSIGINFO] = {"numsiginfo", "NUMSIGINFO", NVZ_UNIT_ITEMS, true},
	[UBC_TCPSNDBUF] = {"tcpsndbuf", "TCPSNDBUF", NVZ_UNIT_BYTES, false},
	[UBC_TCPRCVBUF] = {"tcprcvbuf", "TCPRCVBUF", NVZ_UNIT_BYTES, false},
	[UBC_OTHERSOCKBUF] = {"othersockbuf", "OTHERSOCKBUF", NVZ_UNIT_BYTES, false},
	[UBC_DGRAMRCVBUF] = {"dgramrcvbuf", "DGRAMRCVBUF", NVZ_UNIT_BYTES, false},
	[UBC_NUMOTHERSOCK] = {"numothersock", "NUMOTHERSOCK", NVZ_UNIT_ITEMS, true},
	[UBC_DCACHESIZE] = {"dcachesize", "DCACHESIZE", NVZ_UNIT_BYTES, false},
	[UBC_NUMFILE] = {"numfile", "NUMFILE", NVZ_UNIT_ITEMS, true},
	[UBC_NUMIPTENT] = {"numiptent", "NUMIPTENT", NVZ_UNIT_ITEMS, true},
	[UBC_SWAPPAGES] = {"swappages", "SWAPPAGES", NVZ_UNIT_PAGES, false},
};

/* Old config names vzctl still reads (config.c aliases). */
static const struct {
	const char *alias;
	enum nvz_ubc_id id;
} ubc_aliases[] = {
	{"DCACHE", UBC_DCACHESIZE},
	{"IPTENTRIES", UBC_NUMIPTENT},
};

/* OpenVZ stores and prints "unlimited" as LONG_MAX: that value and anything
 * above it read back as unlimited. */
#define UBC_MAX ((uint64_t)LONG_MAX)

const struct nvz_ubc_info *nvz_ubc_info(enum nvz_ubc_id id)
{
	if ((unsigned)id >= UBC_COUNT)
		return NULL;
	return &ubc_table[id];
}

int nvz_ubc_lookup(const char *name)
{
	if (!name)
		return -1;
	/* key is name upper-cased, so one case-insensitive compare covers both */
	for (int i = 0; i < UBC_COUNT; i++)
		if (strcasecmp(name, ubc_table[i].name) == 0)
			return i;
	for (size_t i = 0; i < sizeof(ubc_aliases) / sizeof(ubc_aliases[0]); i++)
		if (strcasecmp(name, ubc_aliases[i].alias) == 0)
			return ubc_aliases[i].id;
	return -1;
}

uint64_t nvz_res_page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (uint64_t)p : 4096;
}

/* Multiplier of a size suffix, in bytes; 0 if c is not one. */
static uint64_t suffix_bytes(char c)
{
	switch (c) {
	case 'T': case 't': return 1ULL << 40;
	case 'G': case 'g': return 1ULL << 30;
	case 'M': case 'm': return 1ULL << 20;
	case 'K': case 'k': return 1ULL << 10;
	case 'P': case 'p': return nvz_res_page_size();
	case 'B': case 'b': return 1;
	}
	return 0;
}

/* Decimal integer part, saturating at UINT64_MAX. */
static uint64_t digits_value(const char *s, const char *end)
{
	uint64_t n = 0;
	for (; s < end; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return UINT64_MAX;
		n = n * 10 + d;
	}
	return n;
}

/* Fraction digits by hand rather than strtold(): a caller's LC_NUMERIC
 * might not use '.' and the config format always does. */
static long double number_value(const char *s, const char *dot, const char *end)
{
	long double v = 0, scale = 1;
	for (const char *p = s; p < dot; p++)
		v = v * 10 + (*p - '0');
	for (const char *p = dot + 1; p < end; p++) {
		scale /= 10;
		v += (*p - '0') * scale;
	}
	return v;
}

/* One number of a "B:L" pair, in the unit of the parameter: digits, an
 * optional ".digits" and an optional suffix (not for item counts). Stops
 * at ':' or the end; *end is left there. Results >= LONG_MAX saturate to
 * NVZ_UNLIMITED, as vzctl truncates them to LONG_MAX; *over tells a number
 * above LONG_MAX (not "unlimited" nor LONG_MAX itself), which vzctl takes
 * from a config file with a warning but refuses on its command line. */
static int parse_one(const char *s, enum nvz_ubc_unit unit, const char **end, uint64_t *out,
		     bool *over)
{
	if (strncasecmp(s, "unlimited", 9) == 0) {
		*end = s + 9;
		*out = NVZ_UNLIMITED;
		return 0;
	}
	const char *p = s, *dot = NULL;
	while (isdigit((unsigned char)*p))
		p++;
	if (p == s)
		return -1;
	if (*p == '.') {
		dot = p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	const char *num_end = p;
	uint64_t mul = 1, div = 1;
	if (*p != '\0' && *p != ':') {
		mul = unit == NVZ_UNIT_ITEMS ? 0 : suffix_bytes(*p);
		if (!mul)
			return -1;
		div = unit == NVZ_UNIT_PAGES ? nvz_res_page_size() : 1;
		p++;
	}
	*end = p;
	if (dot) {
		long double v = number_value(s, dot, num_end) * mul / div;
		*over |= v > (long double)UBC_MAX;
		*out = v >= (long double)UBC_MAX ? NVZ_UNLIMITED : (uint64_t)v;
		return 0;
	}
	uint64_t n = digits_value(s, num_end);
	unsigned __int128 v = (unsigned __int128)n * mul / div;
	*over |= n == UINT64_MAX || v > UBC_MAX;
	*out = v >= UBC_MAX ? NVZ_UNLIMITED : (uint64_t)v;
	return 0;
}

static void format_one(char *buf, size_t size, uint64_t v)
{
	if (v >= UBC_MAX)
		snprintf(buf, size, "unlimited");
	else
		snprintf(buf, size, "%llu", (unsigned long long)v);
}

/* "B[:L]" into *out; *over as in parse_one. Nothing is checked of the
 * pair itself. -1 on bad syntax. */
static int parse_pair(enum nvz_ubc_unit unit, const char *text, struct nvz_ubc_value *out,
		      bool *over)
{
	const char *end = text;
	uint64_t barrier, limit;
	if (parse_one(text, unit, &end, &barrier, over) < 0)
		return -1;
	limit = barrier;
	if (*end == ':' && parse_one(end + 1, unit, &end, &limit, over) < 0)
		return -1;
	if (*end != '\0')
		return -1;
	*out = (struct nvz_ubc_value){.barrier = barrier, .limit = limit, .set = true};
	return 0;
}

/* vzctl's words for any value it cannot take from its command line. */
static int bad_parameter(struct nvz_error **err, const char *option, const char *text)
{
	return nvz_err(err, NVZ_E_VALUE, EINVAL, "Bad parameter for --%s: %s", option, text);
}

int nvz_ubc_parse_pair(enum nvz_ubc_id id, const char *text, struct nvz_ubc_value *out,
		       struct nvz_error **err)
{
	const struct nvz_ubc_info *info = nvz_ubc_info(id);
	bool over = false;
	if (!info)
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "unknown beancounter %d", (int)id);
	if (!text)
		text = "";
	if (parse_pair(info->unit, text, out, &over) < 0)
		return bad_parameter(err, info->name, text);
	return 0;
}

/* The barrier above the limit: refused, where vzctl left it to the kernel
 * (setublimit failed, status 1); cgroups would take it silently. */
static int check_order(enum nvz_ubc_id id, const char *text, const struct nvz_ubc_value *v,
		       struct nvz_error **err)
{
	if (v->barrier <= v->limit)
		return 0;
	char b[24], l[24];
	format_one(b, sizeof(b), v->barrier);
	format_one(l, sizeof(l), v->limit);
	return nvz_err(err, NVZ_E_VALUE, EINVAL,
		       "Bad parameter for --%s: %s (barrier %s is greater than limit %s)",
		       nvz_ubc_info(id)->name, text, b, l);
}

int nvz_ubc_parse(enum nvz_ubc_id id, const char *text, struct nvz_ubc_value *out,
		  struct nvz_error **err)
{
	struct nvz_ubc_value v;
	if (nvz_ubc_parse_pair(id, text, &v, err) < 0 || check_order(id, text, &v, err) < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int nvz_ubc_parse_option(enum nvz_ubc_id id, const char *text, struct nvz_ubc_value *out,
			 struct nvz_error **err)
{
	const struct nvz_ubc_info *info = nvz_ubc_info(id);
	struct nvz_ubc_value v;
	bool over = false;
	if (!info)
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "unknown beancounter %d", (int)id);
	if (!text || parse_pair(info->unit, text, &v, &over) < 0 || over)
		return bad_parameter(err, info->name, text ? text : "");
	if (check_order(id, text, &v, err) < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

char *nvz_ubc_format(const struct nvz_ubc_value *v)
{
	char b[24], l[24], *s = NULL;
	if (!v)
		return NULL;
	format_one(b, sizeof(b), v->barrier);
	format_one(l, sizeof(l), v->limit);
	if (asprintf(&s, "%s:%s", b, l) < 0)
		return NULL;
	return s;
}

int nvz_parse_bytes(const char *text, uint64_t *bytes, struct nvz_error **err)
{
	const char *end = NULL;
	bool over = false;
	uint64_t v;
	/* Same number syntax as byte beancounters; a pair is not allowed. */
	if (!text || parse_one(text, NVZ_UNIT_BYTES, &end, &v, &over) < 0 || *end != '\0')
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid size: %s", text ? text : "");
	*bytes = v;
	return 0;
}

int nvz_vswap_pages(const char *option, const char *text, uint64_t *pages, struct nvz_error **err)
{
	const char *end = NULL;
	bool over = false;
	uint64_t v;
	if (!text || parse_one(text, NVZ_UNIT_BYTES, &end, &v, &over) < 0 || *end != '\0' || over)
		return bad_parameter(err, option, text ? text : "");
	/* A part of a page is a page, as vzctl rounds --ram and --swap. */
	uint64_t ps = nvz_res_page_size();
	*pages = v == NVZ_UNLIMITED ? NVZ_UNLIMITED : v / ps + (v % ps != 0);
	return 0;
}
