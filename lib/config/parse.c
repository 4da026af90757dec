/* OpenVZ-format config files in memory: an ordered array of lines.
 *
 * Every line is kept: entries remember the text they were read from so an
 * untouched line is written back byte for byte; comments, blank lines,
 * unknown keys and malformed lines survive a --save. Only entries changed
 * through nvz_conf_set() are re-serialised, as KEY="value". */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/error.h"

/* Longest accepted line: no OpenVZ key comes anywhere near it, and a bound
 * keeps a hostile file from making us allocate per-line garbage. */
#define CONF_LINE_MAX (64 * 1024)

struct conf_line {
	char *key;   /* NULL for a raw line (comment, blank, malformed) */
	char *value; /* unescaped value of an entry */
	char *raw;   /* text as read (without '\n'); NULL once the entry changed */
	bool nl;     /* the line ended with '\n' when read */
};

struct nvz_conf {
	struct conf_line *lines;
	size_t n, cap;
	size_t *ent; /* indexes of entry lines in file order, capacity cap */
	size_t nent;
	char **warn; /* NULL-terminated */
	size_t nwarn, warn_cap;
};

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static bool key_start(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static bool key_char(char ch)
{
	return key_start(ch) || (ch >= '0' && ch <= '9');
}

/* Length of the [A-Za-z_][A-Za-z0-9_]* prefix of s[0..n). */
static size_t key_span(const char *s, size_t n)
{
	if (n == 0 || !key_start(s[0]))
		return 0;
	size_t i = 1;
	while (i < n && key_char(s[i]))
		i++;
	return i;
}

static bool valid_key(const char *key)
{
	size_t n = strlen(key);
	return n > 0 && key_span(key, n) == n;
}

/* The characters sh still interprets inside double quotes. */
static bool dq_special(char ch)
{
	return ch == '"' || ch == '\\' || ch == '$' || ch == '`';
}

/* Undo the writer's escaping the way sh does inside double quotes:
 * a backslash is dropped only before one of the special characters. */
static char *dq_unescape(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && dq_special(s[i + 1]))
			i++;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

struct nvz_conf *nvz_conf_new(void)
{
	return calloc(1, sizeof(struct nvz_conf));
}

static void line_clear(struct conf_line *l)
{
	free(l->key);
	free(l->value);
	free(l->raw);
	*l = (struct conf_line){0};
}

void nvz_conf_free(struct nvz_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		line_clear(&c->lines[i]);
	for (size_t i = 0; i < c->nwarn; i++)
		free(c->warn[i]);
	free(c->lines);
	free(c->ent);
	free(c->warn);
	free(c);
}

/* Make room for one more line (and its slot in the entry index). */
static int reserve_line(struct nvz_conf *c)
{
	if (c->n < c->cap)
		return 0;
	size_t cap = c->cap ? c->cap * 2 : 32;
	struct conf_line *lines = reallocarray(c->lines, cap, sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	c->lines = lines;
	size_t *ent = reallocarray(c->ent, cap, sizeof(*ent));
	if (!ent)
		return -ENOMEM;
	c->ent = ent;
	c->cap = cap;
	return 0;
}

/* Rebuild the entry index; cannot fail since ent has capacity cap >= n. */
static void reindex(struct nvz_conf *c)
{
	c->nent = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->lines[i].key)
			c->ent[c->nent++] = i;
}

static int add_warning(struct nvz_conf *c, const char *origin, size_t lineno, const char *what)
{
	if (c->nwarn + 1 >= c->warn_cap) {
		size_t cap = c->warn_cap ? c->warn_cap * 2 : 8;
		char **w = reallocarray(c->warn, cap, sizeof(*w));
		if (!w)
			return -ENOMEM;
		c->warn = w;
		c->warn_cap = cap;
	}
	char *msg = NULL;
	if (asprintf(&msg, "%s:%zu: %s", origin, lineno, what) < 0)
		return -ENOMEM;
	c->warn[c->nwarn++] = msg;
	c->warn[c->nwarn] = NULL;
	return 0;
}

/* Split a trimmed "KEY=value" into its parts. Returns -EINVAL for a line
 * that is not an assignment (or has an unterminated quote), -ENOMEM. */
static int parse_assignment(const char *p, size_t n, char **key, char **value)
{
	size_t k = key_span(p, n);
	if (k == 0 || k >= n || p[k] != '=')
		return -EINVAL;
	const char *v = p + k + 1;
	size_t vn = n - k - 1;
	cleanup_free char *val = NULL;
	if (vn > 0 && (v[0] == '"' || v[0] == '\'')) {
		/* OpenVZ's parse_line: the value ends at the LAST quote of the
		 * line, so an embedded quote needs no escaping to be read back. */
		const char *close = memrchr(v + 1, v[0], vn - 1);
		if (!close)
			return -EINVAL;
		size_t in = (size_t)(close - (v + 1));
		val = v[0] == '"' ? dq_unescape(v + 1, in) : strndup(v + 1, in);
	} else {
		val = strndup(v, vn);
	}
	if (!val)
		return -ENOMEM;
	char *kk = strndup(p, k);
	if (!kk)
		return -ENOMEM;
	*key = kk;
	*value = steal_ptr(&val);
	return 0;
}

/* Classify and append one line s[0..len) of the buffer. */
static int add_parsed_line(struct nvz_conf *c, const char *s, size_t len, bool nl,
			   const char *origin, size_t lineno)
{
	if (reserve_line(c) < 0)
		return -ENOMEM;
	cleanup_free char *raw = strndup(s, len);
	if (!raw)
		return -ENOMEM;
	const char *p = s, *end = s + len;
	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	char *key = NULL, *value = NULL;
	if (p < end && *p != '#') {
		int r = parse_assignment(p, (size_t)(end - p), &key, &value);
		if (r == -ENOMEM)
			return r;
		if (r < 0 && add_warning(c, origin, lineno, "malformed line, ignored") < 0)
			return -ENOMEM;
	}
	c->lines[c->n++] = (struct conf_line){
		.key = key, .value = value, .raw = steal_ptr(&raw), .nl = nl};
	return 0;
}

/* Drop what a failed parse appended, so the object stays as it was. */
static void rollback(struct nvz_conf *c, size_t n, size_t nwarn)
{
	while (c->n > n)
		line_clear(&c->lines[--c->n]);
	while (c->nwarn > nwarn) {
		free(c->warn[--c->nwarn]);
		c->warn[c->nwarn] = NULL;
	}
	reindex(c);
}

int nvz_conf_parse(struct nvz_conf *c, const char *buf, size_t len, const char *origin,
		   struct nvz_error **err)
{
	if (!origin)
		origin = "(buffer)";
	if (!c || (!buf && len))
		return nvz_err(err, NVZ_E_SYSTEM, EINVAL, "%s: invalid arguments", origin);
	/* A NUL cannot come from a text config, and C strings would silently
	 * cut the value short: refuse the whole file. */
	if (len && memchr(buf, '\0', len))
		return nvz_err(err, NVZ_E_INVALID_CONFIG, EINVAL, "%s: contains a NUL byte", origin);
	size_t n0 = c->n, w0 = c->nwarn, lineno = 0;
	for (size_t off = 0; off < len;) {
		const char *s = buf + off;
		const char *eol = memchr(s, '\n', len - off);
		size_t l = eol ? (size_t)(eol - s) : len - off;
		lineno++;
		if (l > CONF_LINE_MAX) {
			rollback(c, n0, w0);
			return nvz_err(err, NVZ_E_INVALID_CONFIG, EINVAL,
				       "%s:%zu: line longer than %d bytes", origin, lineno,
				       CONF_LINE_MAX);
		}
		if (add_parsed_line(c, s, l, eol != NULL, origin, lineno) < 0) {
			rollback(c, n0, w0);
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "%s: out of memory", origin);
		}
		off += l + (eol ? 1 : 0);
	}
	reindex(c);
	return 0;
}

const char *nvz_conf_get(const struct nvz_conf *c, const char *key)
{
	if (!c || !key)
		return NULL;
	for (size_t i = c->nent; i-- > 0;) {
		const struct conf_line *l = &c->lines[c->ent[i]];
		if (strcmp(l->key, key) == 0)
			return l->value;
	}
	return NULL;
}

/* Remove every line of key after index from (all of them for from = 0). */
static void remove_key_from(struct nvz_conf *c, const char *key, size_t from)
{
	size_t o = from;
	for (size_t i = from; i < c->n; i++) {
		struct conf_line *l = &c->lines[i];
		if (l->key && strcmp(l->key, key) == 0) {
			line_clear(l);
			continue;
		}
		c->lines[o++] = *l;
	}
	c->n = o;
}

static ssize_t find_first(const struct nvz_conf *c, const char *key)
{
	for (size_t i = 0; i < c->nent; i++)
		if (strcmp(c->lines[c->ent[i]].key, key) == 0)
			return (ssize_t)c->ent[i];
	return -1;
}

int nvz_conf_set(struct nvz_conf *c, const char *key, const char *value, struct nvz_error **err)
{
	if (!c || !key || !valid_key(key))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid config key '%s'", key ? key : "");
	if (value && strchr(value, '\n'))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid value for %s: contains a newline",
			       key);
	if (!value) {
		remove_key_from(c, key, 0);
		reindex(c);
		return 0;
	}
	/* Allocate everything first: a failure must leave c untouched. */
	if (reserve_line(c) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "set %s: out of memory", key);
	cleanup_free char *v = strdup(value);
	cleanup_free char *k = strdup(key);
	if (!v || !k)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "set %s: out of memory", key);
	ssize_t f = find_first(c, key);
	if (f < 0) {
		c->lines[c->n++] = (struct conf_line){
			.key = steal_ptr(&k), .value = steal_ptr(&v), .raw = NULL, .nl = true};
	} else {
		struct conf_line *l = &c->lines[f];
		/* An unchanged value keeps its original text (quotes, spacing). */
		if (strcmp(l->value, value) != 0) {
			free(l->value);
			free(l->raw);
			l->value = steal_ptr(&v);
			l->raw = NULL;
			l->nl = true;
		}
		/* All assignments collapse into the first one. */
		remove_key_from(c, key, (size_t)f + 1);
	}
	reindex(c);
	return 0;
}

size_t nvz_conf_count(const struct nvz_conf *c)
{
	return c ? c->nent : 0;
}

bool nvz_conf_entry(const struct nvz_conf *c, size_t i, const char **key, const char **value)
{
	if (!c || i >= c->nent)
		return false;
	const struct conf_line *l = &c->lines[c->ent[i]];
	if (key)
		*key = l->key;
	if (value)
		*value = l->value;
	return true;
}

const char *const *nvz_conf_warnings(const struct nvz_conf *c)
{
	static const char *const none[] = {NULL};
	if (!c || c->nwarn == 0)
		return none;
	return (const char *const *)c->warn;
}

/* A $VEID or ${VEID} of VE_ROOT/VE_PRIVATE at p stays unescaped, as vzctl
 * wrote it: a script that sources the file with VEID set (action scripts
 * are run so) gets the CT's path, as it gets it from vz.conf. */
static bool veid_ref(const struct conf_line *l, const char *p)
{
	if (*p != '$' || (strcmp(l->key, "VE_ROOT") && strcmp(l->key, "VE_PRIVATE")))
		return false;
	if (!strncmp(p, "${VEID}", 7))
		return true;
	return !strncmp(p, "$VEID", 5) && !(isalnum((unsigned char)p[5]) || p[5] == '_');
}

static bool escaped(const struct conf_line *l, const char *p)
{
	return dq_special(*p) && !veid_ref(l, p);
}

/* Bytes the line takes in the output, without its terminator. */
static size_t line_size(const struct conf_line *l)
{
	if (l->raw)
		return strlen(l->raw);
	size_t n = strlen(l->key) + 3; /* = and two quotes */
	for (const char *p = l->value; *p; p++)
		n += escaped(l, p) ? 2 : 1;
	return n;
}

/* KEY="value" with the characters sh interprets in double quotes escaped,
 * so `. file` in a shell script yields exactly the stored value (but for
 * the $VEID of the paths, see veid_ref). */
static char *write_entry(char *o, const struct conf_line *l)
{
	size_t kn = strlen(l->key);
	memcpy(o, l->key, kn);
	o += kn;
	*o++ = '=';
	*o++ = '"';
	for (const char *p = l->value; *p; p++) {
		if (escaped(l, p))
			*o++ = '\\';
		*o++ = *p;
	}
	*o++ = '"';
	return o;
}

char *nvz_conf_format(const struct nvz_conf *c)
{
	size_t total = 1;
	for (size_t i = 0; c && i < c->n; i++)
		total += line_size(&c->lines[i]) + 1;
	char *out = malloc(total);
	if (!out)
		return NULL;
	char *o = out;
	for (size_t i = 0; c && i < c->n; i++) {
		const struct conf_line *l = &c->lines[i];
		if (l->raw) {
			size_t rn = strlen(l->raw);
			memcpy(o, l->raw, rn);
			o += rn;
		} else {
			o = write_entry(o, l);
		}
		/* Only the file's original last line may lack its newline. */
		if (l->nl || i + 1 < c->n)
			*o++ = '\n';
	}
	*o = '\0';
	return out;
}
