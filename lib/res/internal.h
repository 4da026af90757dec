/* Helpers shared by the lib/res files; not part of the public API. */
#ifndef NVZ_RES_INTERNAL_H
#define NVZ_RES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvz/error.h"

/* Size of the "pages" unit: the host's page size (4096 on x86_64). */
uint64_t nvz_res_page_size(void);

/* Numeric forms of the option parsers in values.c, for config values. */
int nvz_res_uint_value(const char *key, const char *text, unsigned long min, unsigned long max,
		       unsigned long *out, struct nvz_error **err);
int nvz_res_cpulimit_value(const char *text, unsigned long *out, struct nvz_error **err);
/* def_mul: unit of a number without suffix (1 MiB on the command line,
 * 1 byte in config files, where IOLIMIT is stored in bytes/s); strict:
 * above INT_MAX is refused (command line), else truncated (config). */
int nvz_res_iolimit_value(const char *text, uint64_t def_mul, bool strict, uint64_t *out,
			  struct nvz_error **err);
/* Normalised cpu list ("0-2,7") into buf, or "all", or "auto". */
int nvz_res_cpumask_value(const char *text, char *buf, size_t size, struct nvz_error **err);
/* Normalised NUMA node list into buf, or "all". */
int nvz_res_nodemask_value(const char *text, char *buf, size_t size, struct nvz_error **err);
/* The online CPUs of the NUMA nodes in the list nodes ("0-1"), as a list. */
int nvz_res_node_cpus(const char *nodes, char *buf, size_t size, struct nvz_error **err);

#endif
