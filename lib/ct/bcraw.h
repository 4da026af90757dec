/* The beancounter FUSE protocol without libfuse (bcfs-raw.c): one CT's
 * file, either the root of a file system of its own (vzmon, and the hub
 * for a CT it adopted or restored) or one node of the server's file system
 * (bcsrv.c). Internal to lib/ct. */
#ifndef NVZ_CT_BCRAW_H
#define NVZ_CT_BCRAW_H

#include <linux/fuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define BC_TIMEOUT 86400
#define BC_OPEN_MAX 64

struct nvz_bcraw {
	int fd;		 /* the FUSE device replies go to */
	uint64_t nodeid; /* FUSE_ROOT_ID in a file system of its own */
	unsigned long veid;
	char id[32];
	time_t mounted_at;
	off_t size;
	char *buf; /* the shared request buffer; NULL for a server's node */
	char *open[BC_OPEN_MAX]; /* the snapshot of each open file */
	size_t open_len[BC_OPEN_MAX];
};

/* A node of the server's file system: replies go to fd, reads are the
 * caller's. */
struct nvz_bcraw *nvz_bcraw_node(int fd, unsigned long veid, uint64_t nodeid, time_t at);
void nvz_bcraw_free(struct nvz_bcraw *b);
void nvz_bcraw_attr(const struct nvz_bcraw *b, struct fuse_attr *a);
/* Answer one request about b's file (getattr, open, read, release,
 * statfs; ENOSYS to the rest; none to forgets and interrupts). */
void nvz_bcraw_dispatch(struct nvz_bcraw *b, const struct fuse_in_header *h, const char *body,
			size_t len);
void nvz_bcraw_reply(int fd, uint64_t unique, int error, const void *data, size_t len);

/* The server's file system (bcsrv.c): is name (len bytes) a CT's file,
 * the id as vzctl writes it (decimal, no sign, no leading zero, below
 * 2^62)? Names come from lookups, which only the hub makes. */
bool nvz_bcsrv_name(const char *name, size_t len, unsigned long *veid);

#endif
