/* The table-independent half of vzlist's output: a growable text buffer,
 * fixed-width columns, JSON values, value comparison, glob filters and
 * resource value parsing. Nothing here does I/O, so unit tests feed it
 * directly; the field table itself lives with the command. */
#ifndef NVZ_LISTFMT_H
#define NVZ_LISTFMT_H

#include <stdbool.h>
#include <stddef.h>

/* Appends never fail loudly: an allocation failure sets oom and later
 * appends are dropped, so the caller checks once at the end. */
struct nvz_list_buf {
	char *data; /* NUL-terminated when len > 0 */
	size_t len, cap;
	bool oom;
};

void nvz_list_buf_free(struct nvz_list_buf *b);
void nvz_list_buf_clear(struct nvz_list_buf *b);
void nvz_list_buf_add(struct nvz_list_buf *b, const char *s, size_t n);
void nvz_list_buf_puts(struct nvz_list_buf *b, const char *s);
__attribute__((format(printf, 2, 3)))
void nvz_list_buf_printf(struct nvz_list_buf *b, const char *fmt, ...);
/* Drop trailing blanks (the last column is padded like the others). */
void nvz_list_buf_rtrim(struct nvz_list_buf *b);
/* The text so far ("" when empty). */
const char *nvz_list_buf_str(const struct nvz_list_buf *b);

/* One cell. kind says how to print, compare and encode it. */
enum nvz_list_kind {
	NVZ_LIST_STR,   /* text */
	NVZ_LIST_NUM,   /* unsigned integer */
	NVZ_LIST_BOOL,  /* yes/no, JSON true/false */
	NVZ_LIST_WORDS, /* blank-separated list: first word in a trimmed column, JSON array */
};

struct nvz_list_val {
	bool set; /* false: "-" in text, null in JSON */
	enum nvz_list_kind kind;
	const char *str;
	unsigned long long num; /* NUM, BOOL (0/1) */
	char text[128];         /* room for a getter that formats str itself */
};

/* Text of a value as vzlist prints it; tmp holds numbers (>= 24 bytes). */
const char *nvz_list_val_text(const struct nvz_list_val *v, char *tmp, size_t tmpsz);

enum nvz_list_align { NVZ_LIST_LEFT, NVZ_LIST_RIGHT };

/* Append n bytes of s as a column of width characters (UTF-8 code points,
 * so non-ASCII text keeps the columns straight). cut: truncate to width
 * (vzlist trims every text column but the last). Wider text that is not
 * cut overflows, as OpenVZ's printf("%10s") did. */
void nvz_list_column(struct nvz_list_buf *b, const char *s, size_t n, size_t width,
		     enum nvz_list_align align, bool cut);
/* Number of UTF-8 characters in s[0..n). */
size_t nvz_list_utf8_width(const char *s, size_t n);
/* Length of the first blank-separated word of s (after leading blanks: *start). */
size_t nvz_list_first_word(const char *s, size_t *start);

/* JSON: a string literal with escapes (quotes, backslash, control
 * characters); valid UTF-8 passes through, invalid bytes become U+FFFD.
 * NULL writes null. */
void nvz_list_json_str(struct nvz_list_buf *b, const char *s);
/* A blank-separated list as an array of strings; NULL or blank is []. */
void nvz_list_json_words(struct nvz_list_buf *b, const char *list);
/* Any value: null when unset. */
void nvz_list_json_val(struct nvz_list_buf *b, const struct nvz_list_val *v);
/* A number, or null when !set. */
void nvz_list_json_num(struct nvz_list_buf *b, bool set, unsigned long long n);

/* Sort order of two values: unset first, numbers (and booleans) by value
 * and before text, text bytewise. <0, 0, >0 like strcmp. */
int nvz_list_val_cmp(const struct nvz_list_val *a, const struct nvz_list_val *b);

/* Shell glob match (fnmatch, no flags). A NULL pattern matches anything;
 * an unset value (NULL) matches no pattern. */
bool nvz_list_glob(const char *pattern, const char *s);

/* "unlimited", as OpenVZ prints it on 64-bit hosts (LONG_MAX). */
#define NVZ_LIST_UNLIMITED 9223372036854775807ULL

/* A resource number from a config file: digits, optionally followed by
 * K, M, G or T (binary, and then the number is in bytes and is divided by
 * div: the page size for *pages resources, 1024 for DISKSPACE, 1 for
 * bytes), or "unlimited". Values above LONG_MAX are clamped to it.
 * Returns 0, or -1 if s is not such a number. */
int nvz_list_parse_num(const char *s, size_t n, unsigned long long div, unsigned long long *out);
/* "BARRIER:LIMIT" or a single value (both equal). */
int nvz_list_parse_2num(const char *s, unsigned long long div, unsigned long long out[2]);

#endif
