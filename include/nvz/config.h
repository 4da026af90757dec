/* OpenVZ-format configuration files: sh-compatible KEY="value" lines.
 * A parsed file keeps every line (comments, blank lines, unknown keys,
 * malformed lines) so that --save rewrites it without losing anything. */
#ifndef NVZ_CONFIG_H
#define NVZ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "nvz/error.h"

struct nvz_conf;

struct nvz_conf *nvz_conf_new(void);
void nvz_conf_free(struct nvz_conf *c);

/* Parse a buffer (not a path: unit tests and fuzzers feed it directly).
 * origin names the source in warnings ("FILE:LINE"). Malformed lines are
 * kept verbatim and reported through nvz_conf_warnings(). Errors (status
 * 85): a NUL byte, a line over 64 KiB, or no memory; c is then unchanged. */
int nvz_conf_parse(struct nvz_conf *c, const char *buf, size_t len, const char *origin,
		   struct nvz_error **err);
/* Read and parse a file. A missing file fails with code ENOENT and the
 * given status (callers pick 10 for vz.conf, 14 for a CT config). */
int nvz_conf_load(struct nvz_conf **out, const char *path, int missing_status,
		  struct nvz_error **err);
/* The same for a file that may not exist: then 0, and *out NULL. */
int nvz_conf_load_optional(struct nvz_conf **out, const char *path, int status,
			   struct nvz_error **err);

/* Value of the last assignment of key, or NULL. */
const char *nvz_conf_get(const struct nvz_conf *c, const char *key);
/* Replace the value of key in place (all assignments collapse into the first),
 * or append KEY="value" at the end; value NULL removes the key. */
int nvz_conf_set(struct nvz_conf *c, const char *key, const char *value, struct nvz_error **err);

/* Serialise to KEY="value" lines, malloc'd, NUL-terminated. */
char *nvz_conf_format(const struct nvz_conf *c);
/* Write atomically: temp file in the same directory, fsync, rename, fsync dir. */
int nvz_conf_save(const struct nvz_conf *c, const char *path, struct nvz_error **err);

/* Iterate over key/value entries in file order (last value wins in get). */
size_t nvz_conf_count(const struct nvz_conf *c);
bool nvz_conf_entry(const struct nvz_conf *c, size_t i, const char **key, const char **value);

/* Warnings collected while parsing ("FILE:LINE: ..."), NULL-terminated. */
const char *const *nvz_conf_warnings(const struct nvz_conf *c);

/* Generic atomic file write used by the config and state writers. */
int nvz_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
			  struct nvz_error **err);
/* The same without fsync, for runtime state under RUNDIR (gone at reboot). */
int nvz_write_runtime_atomic(const char *path, const void *data, size_t len, unsigned mode,
			     struct nvz_error **err);
/* Read a whole file into a malloc'd NUL-terminated buffer (refuses > max bytes). */
int nvz_read_file(const char *path, size_t max, char **out, size_t *len, struct nvz_error **err);

/* Key table: validation of a value for a key (hostname, yes/no, numbers...).
 * Returns 0 if valid or the key is not in the table; < 0 with a message in
 * OpenVZ's words and status otherwise. */
int nvz_conf_validate(const char *key, const char *value, struct nvz_error **err);
/* --iptables: the modules of cur (this set's list so far) and arg, space,
 * tab or comma separated, as IPTABLES holds them (vzctl's order, each
 * once). An unknown one: NULL, NVZ_E_VALUE in vzctl's words. */
char *nvz_iptables_merge(const char *cur, const char *arg, struct nvz_error **err);
/* --features: cur's entries with arg's ("name:on|off", space or comma
 * separated) replacing those of the same feature, written in vzctl's
 * order. A bad arg: NULL, NVZ_E_VALUE. */
char *nvz_features_merge(const char *cur, const char *arg, struct nvz_error **err);
/* FEATURES' names in the order vzctl wrote them (nvz's own "nesting"
 * last); NULL-terminated. */
extern const char *const nvz_feature_names[];
/* FEATURES (features) has NAME:on, the last of NAME's entries. */
bool nvz_feature_on(const char *features, const char *name);

#endif
