/* vzctl set: the option table and the request it builds. */
#ifndef NVZ_SET_H
#define NVZ_SET_H

#include <stdbool.h>

#include "nvz/config.h"
#include "nvz/ct.h"

enum set_kind {
	K_PLAIN,    /* validated by the config key table, saved */
	K_HOSTNAME, /* applied live: sethostname + /etc files */
	K_DNS,      /* applied live: resolv.conf; repeatable, values join */
	K_NAME,     /* names/ link, always saved */
	K_PASSWD,   /* --userpasswd: the CT's own files, never saved */
	K_SAMPLE,   /* --applyconfig: a sample merged, needs --save */
	K_UBC,      /* --<beancounter> barrier[:limit] */
	K_RAM,      /* --ram/--swap: bytes -> PHYSPAGES/SWAPPAGES "0:pages" */
	K_RES,      /* CPU and IO values */
	K_DEVLIST,  /* --devnodes/--devices: cumulative lists */
	K_IP,       /* --ipadd/--ipdel: IP_ADDRESS (or, after --ifname, that NETIF entry) */
	K_NETIF,    /* --netif_add/--netif_del/--ifname and the per-interface options */
	K_NETDEV,   /* --netdev_add/--netdev_del: host devices given to the CT */
	K_DISK,     /* --diskspace/--diskinodes/--quotatime: the layout applies them */
	K_CAP,      /* --capability: needs a restart */
	K_SETMODE,  /* --setmode restart|ignore */
	K_MAP,      /* --applyconfig_map name: names/ link from the config's NAME */
	K_FLAG,     /* --save, --reset_ub, --force; OpenVZ's no-ops */
	K_STORED,   /* saved, but no per-CT switch on mainline Linux: said why */
};

struct set_opt {
	const char *option;
	const char *key;
	enum set_kind kind;
	int ubc; /* enum nvz_ubc_id for K_UBC; P_WHY or 0 for K_PLAIN */
};

/* A K_PLAIN value vzctl took and nvz refuses: its message says why. */
#define P_WHY 1

#define SET_MAX_OPTS 96

/* The table of every option (static rows + one per beancounter). */
const struct set_opt *set_opt_table(size_t *n);

struct set_req {
	struct nvz_conf *changes; /* KEY=value, normalised, to apply and save */
	char *userpasswd;
	char *sample;
	char ifname[16]; /* --ifname: the NETIF entry later options change */
	bool bridge_given; /* --bridge: once per set, as vzctl */
	/* Per-interface options given before --ifname: vzctl takes them in
	 * any order, so they wait for it. */
	struct netif_pending {
		int op;
		const char *arg;
	} pending[16];
	size_t npending;
	const char *stored[16]; /* K_STORED options given, for their notes */
	size_t nstored;
	bool save, reset_ub, restart, ignore, map_name;
	bool live_hostname, live_dns, live_res, live_devnodes, needs_restart, disk, ips, netif,
	     netdev;
	/* What needs_restart is for, each said on a running CT (vzctl's words). */
	bool restart_caps, restart_features;
};

/* Turn one option and its argument into changes (validated); prints the
 * error and returns an exit status on bad input. */
int set_opt_apply(struct nvz_ct *ct, const struct set_opt *o, const char *arg,
		  struct set_req *r);
/* FEATURES becomes features: a change of nesting needs a restart. */
void set_features_nesting(const struct nvz_ct *ct, const char *features, struct set_req *r);
/* Why a K_STORED option changes nothing on this kernel. */
const char *set_stored_reason(const char *option);

#endif
