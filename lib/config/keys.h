/* Key table of OpenVZ-format configs (internal to libnvz). */
#ifndef NVZ_CONFIG_KEYS_H
#define NVZ_CONFIG_KEYS_H

#include <stdbool.h>

/* Where a key may appear. */
enum nvz_key_flags {
	NVZ_KEY_GLOBAL = 1 << 0,     /* vz.conf (global defaults) */
	NVZ_KEY_CT = 1 << 1,         /* <CTID>.conf */
	NVZ_KEY_DEPRECATED = 1 << 2, /* accepted for compatibility, ignored or warned */
};

/* True if key is one of the OpenVZ (or nvz) keys in the table. */
bool nvz_conf_key_known(const char *key);
/* The row's flags (enum nvz_key_flags), 0 for an unknown key. */
unsigned nvz_conf_key_flags(const char *key);

#endif
