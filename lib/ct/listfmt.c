/* Table-independent helpers of list output: see include/nvz/listfmt.h. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/listfmt.h"

static bool reserve(struct nvz_list_buf *b, size_t more)
{
	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1) {
		if (cap > ((size_t)-1) / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	char *p = realloc(b->data, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void nvz_list_buf_free(struct nvz_list_buf *b)
{
	free(b->data);
	*b = (struct nvz_list_buf){0};
}

void nvz_list_buf_clear(struct nvz_list_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void nvz_list_buf_add(struct nvz_list_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void nvz_list_buf_puts(struct nvz_list_buf *b, const char *s)
{
	nvz_list_buf_add(b, s, strlen(s));
}

void nvz_list_buf_printf(struct nvz_list_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	nvz_list_buf_add(b, s, (size_t)n);
	free(s);
}

void nvz_list_buf_rtrim(struct nvz_list_buf *b)
{
	while (b->len && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t'))
		b->data[--b->len] = '\0';
}

const char *nvz_list_buf_str(const struct nvz_list_buf *b)
{
	return b->data && !b->oom ? b->data : "";
}

const char *nvz_list_val_text(const struct nvz_list_val *v, char *tmp, size_t tmpsz)
{
	if (!v->set)
		return "-";
	switch (v->kind) {
	case NVZ_LIST_NUM:
		snprintf(tmp, tmpsz, "%llu", v->num);
		return tmp;
	case NVZ_LIST_BOOL:
		return v->num ? "yes" : "no";
	case NVZ_LIST_STR:
	case NVZ_LIST_WORDS:
		break;
	}
	return v->str ? v->str : "-";
}

static bool is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

size_t nvz_list_utf8_width(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (!is_cont((unsigned char)s[i]))
			w++;
	return w;
}

/* Bytes of s[0..n) that hold the first width characters. */
static size_t utf8_prefix(const char *s, size_t n, size_t width)
{
	size_t chars = 0, i = 0;
	for (; i < n; i++) {
		if (!is_cont((unsigned char)s[i])) {
			if (chars == width)
				break;
			chars++;
		}
	}
	return i;
}

static void pad(struct nvz_list_buf *b, size_t n)
{
	static const char spaces[] = "                                ";
	while (n) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		nvz_list_buf_add(b, spaces, k);
		n -= k;
	}
}

void nvz_list_column(struct nvz_list_buf *b, const char *s, size_t n, size_t width,
		     enum nvz_list_align align, bool cut)
{
	if (cut)
		n = utf8_prefix(s, n, width);
	size_t w = nvz_list_utf8_width(s, n);
	size_t fill = w < width ? width - w : 0;
	if (align == NVZ_LIST_RIGHT)
		pad(b, fill);
	/* A tab or an escape sequence in a description must not reach the
	 * terminal: control characters print as '?', like ls does. */
	for (size_t i = 0; i < n;) {
		size_t run = i;
		while (run < n && (unsigned char)s[run] >= 0x20 && s[run] != 0x7f)
			run++;
		nvz_list_buf_add(b, s + i, run - i);
		if (run < n)
			nvz_list_buf_add(b, "?", 1);
		i = run + 1;
	}
	if (align == NVZ_LIST_LEFT)
		pad(b, fill);
}

size_t nvz_list_first_word(const char *s, size_t *start)
{
	size_t i = strspn(s, " \t");
	*start = i;
	return strcspn(s + i, " \t");
}

/* Length of the valid UTF-8 sequence at p (at most avail bytes), 0 if
 * invalid: overlong forms, surrogates and code points past U+10FFFF are
 * rejected so the output is always valid JSON text. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (avail < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (!is_cont(p[i]))
			return 0;
	return len;
}

static void json_str_n(struct nvz_list_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	nvz_list_buf_add(b, "\"", 1);
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		size_t run = i;
		/* Copy plain printable ASCII in one go. */
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			nvz_list_buf_add(b, s + i, run - i);
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			nvz_list_buf_add(b, esc, 2);
			i++;
		} else if (c == '\n') {
			nvz_list_buf_puts(b, "\\n");
			i++;
		} else if (c == '\t') {
			nvz_list_buf_puts(b, "\\t");
			i++;
		} else if (c == '\r') {
			nvz_list_buf_puts(b, "\\r");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			nvz_list_buf_printf(b, "\\u%04x", c);
			i++;
		} else {
			size_t len = utf8_seq(p + i, n - i);
			if (len) {
				nvz_list_buf_add(b, s + i, len);
				i += len;
			} else {
				nvz_list_buf_puts(b, "\\ufffd");
				i++;
			}
		}
	}
	nvz_list_buf_add(b, "\"", 1);
}

void nvz_list_json_str(struct nvz_list_buf *b, const char *s)
{
	if (!s)
		nvz_list_buf_puts(b, "null");
	else
		json_str_n(b, s, strlen(s));
}

void nvz_list_json_words(struct nvz_list_buf *b, const char *list)
{
	nvz_list_buf_add(b, "[", 1);
	bool first = true;
	while (list && *list) {
		size_t start, n = nvz_list_first_word(list, &start);
		if (!n)
			break;
		if (!first)
			nvz_list_buf_puts(b, ", ");
		json_str_n(b, list + start, n);
		first = false;
		list += start + n;
	}
	nvz_list_buf_add(b, "]", 1);
}

void nvz_list_json_num(struct nvz_list_buf *b, bool set, unsigned long long n)
{
	if (set)
		nvz_list_buf_printf(b, "%llu", n);
	else
		nvz_list_buf_puts(b, "null");
}

void nvz_list_json_val(struct nvz_list_buf *b, const struct nvz_list_val *v)
{
	switch (v->kind) {
	case NVZ_LIST_WORDS:
		nvz_list_json_words(b, v->set ? v->str : NULL);
		return;
	case NVZ_LIST_NUM:
		nvz_list_json_num(b, v->set, v->num);
		return;
	case NVZ_LIST_BOOL:
		nvz_list_buf_puts(b, !v->set ? "null" : v->num ? "true" : "false");
		return;
	case NVZ_LIST_STR:
		break;
	}
	nvz_list_json_str(b, v->set ? v->str : NULL);
}

static bool numeric(const struct nvz_list_val *v)
{
	return v->kind == NVZ_LIST_NUM || v->kind == NVZ_LIST_BOOL;
}

int nvz_list_val_cmp(const struct nvz_list_val *a, const struct nvz_list_val *b)
{
	if (!a->set || !b->set)
		return (int)a->set - (int)b->set;
	if (numeric(a) != numeric(b))
		return numeric(a) ? -1 : 1;
	if (numeric(a))
		return a->num < b->num ? -1 : a->num > b->num;
	return strcmp(a->str ? a->str : "", b->str ? b->str : "");
}

bool nvz_list_glob(const char *pattern, const char *s)
{
	if (!pattern)
		return true;
	if (!s)
		return false;
	return fnmatch(pattern, s, 0) == 0;
}

int nvz_list_parse_num(const char *s, size_t n, unsigned long long div, unsigned long long *out)
{
	if (n == 9 && !memcmp(s, "unlimited", 9)) {
		*out = NVZ_LIST_UNLIMITED;
		return 0;
	}
	unsigned long long v = 0;
	size_t i = 0;
	for (; i < n && isdigit((unsigned char)s[i]); i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (NVZ_LIST_UNLIMITED - d) / 10)
			v = NVZ_LIST_UNLIMITED; /* clamp, keep consuming digits */
		else
			v = v * 10 + d;
	}
	if (i == 0)
		return -1;
	if (i == n) {
		*out = v;
		return 0;
	}
	static const char suffixes[] = "KMGT";
	const char *suf = strchr(suffixes, toupper((unsigned char)s[i]));
	if (!suf || !s[i] || i + 1 != n)
		return -1;
	for (int shift = (int)(suf - suffixes) + 1; shift > 0; shift--)
		v = v > NVZ_LIST_UNLIMITED / 1024 ? NVZ_LIST_UNLIMITED : v * 1024;
	/* A suffixed number is in bytes; "unlimited" stays unlimited. */
	if (v != NVZ_LIST_UNLIMITED && div > 1)
		v /= div;
	*out = v;
	return 0;
}

int nvz_list_parse_2num(const char *s, unsigned long long div, unsigned long long out[2])
{
	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	const char *colon = memchr(s, ':', n);
	if (!colon) {
		if (nvz_list_parse_num(s, n, div, &out[0]) < 0)
			return -1;
		out[1] = out[0];
		return 0;
	}
	size_t first = (size_t)(colon - s);
	if (nvz_list_parse_num(s, first, div, &out[0]) < 0 ||
	    nvz_list_parse_num(colon + 1, n - first - 1, div, &out[1]) < 0)
		return -1;
	return 0;
}
