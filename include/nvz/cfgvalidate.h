/* vzcfgvalidate (lib/ct/cfgvalidate.c): OpenVZ 4.x's consistency checks of
 * a container config's beancounters, with their repairs, plus nvz's own key
 * table. The library never prints: each finding goes to a callback, which
 * decides whether its repair is applied (vzcfgvalidate -r / -i). */
#ifndef NVZ_CFGVALIDATE_H
#define NVZ_CFGVALIDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "nvz/config.h"
#include "nvz/error.h"
#include "nvz/memcheck.h"

/* OpenVZ's three levels. Errors and warnings fail the validation (exit 2)
 * unless repaired; a recommendation never does. */
enum nvz_cfgv_severity { NVZ_CFGV_ERROR, NVZ_CFGV_WARNING, NVZ_CFGV_RECOMMENDATION };

struct nvz_cfgv_finding {
	enum nvz_cfgv_severity severity;
	const char *text;   /* OpenVZ's message without "Error: " */
	const char *repair; /* "set to B:L" or "set to N"; NULL: nothing to repair */
};

/* Called for each finding, in order. Returns true to apply its repair
 * (ignored without one, or when repairs are not offered). Later checks see
 * the values repaired so far, as in OpenVZ. */
typedef bool (*nvz_cfgv_fn)(void *data, const struct nvz_cfgv_finding *f);

struct nvz_cfgv_opts {
	int vswap;                   /* -1: a PHYSPAGES limit decides; 0 no; 1 yes */
	bool repair;                 /* -r or -i: repairs are offered */
	const struct nvz_mem_host *host; /* RAM and swap a VSwap CT may be given */
	nvz_cfgv_fn report;
	void *data;
};

struct nvz_cfgv_result {
	bool vswap;        /* the mode the config was checked in */
	unsigned failed;   /* errors and warnings left unrepaired */
	unsigned repaired; /* repairs applied to the config */
};

/* "Error", "Warning", "Recommendation". */
const char *nvz_cfgv_severity_name(enum nvz_cfgv_severity s);
/* OpenVZ's is_vswap_config(): PHYSPAGES is set and its limit is not
 * unlimited. */
bool nvz_cfgv_is_vswap(const struct nvz_conf *c);
/* Check c; repairs change c in place (the caller saves it). < 0 only when
 * out of memory. */
int nvz_cfg_validate(struct nvz_conf *c, const struct nvz_cfgv_opts *o, struct nvz_cfgv_result *res,
		     struct nvz_error **err);

#endif
