/* A process whose executable another descriptor of the dump names with
 * O_PATH (systemd >= 255: each "(sd-pam)" runs systemd-executor, which PID 1
 * and every user manager hold an O_PATH descriptor of) is dumped by criu
 * 4.x with its exe pointing at that O_PATH file: its file-id cache matches
 * by device and inode, not by open flags. The restore then opens the exe
 * O_PATH, the kernel refuses such a descriptor for PR_SET_MM_MAP (EBADF) and
 * the CT, already killed by the dump, cannot come back. nvz_cpt_exe_fix
 * gives each such exe a read-only file entry of its own in the images.
 *
 * The images are protobuf messages (the .proto files of criu's images/): FileEntry
 * {type = 1, id = 2, reg = 3 (RegFileEntry {id = 1, flags = 2, ...})} in
 * files.img, MmEntry {exe_file_id = 12, ...} in mm-PID.img, each file two
 * magic words, then messages each after its 32-bit length. Only the fields
 * named are decoded; every other one is copied as it was. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpt/criu.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/fs.h"

#define IMG_HEAD 8 /* two magic words */
#define IMG_MAX (64u << 20)
#define FD_TYPE_REG 1
#define OPATH_MAX 64

struct pb_field {
	uint32_t no;
	int type;	  /* 0 varint, 1 fixed64, 2 bytes, 5 fixed32 */
	uint64_t v;	  /* a varint's value, or a length */
	size_t start, at; /* the field's first byte; its value's */
	size_t end;
};

static bool pb_varint(const uint8_t *b, size_t n, size_t *i, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; *i < n && shift < 64; shift += 7) {
		uint8_t c = b[(*i)++];
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

/* The field at *i of the message b[0..n), *i moved past it. */
static bool pb_next(const uint8_t *b, size_t n, size_t *i, struct pb_field *f)
{
	uint64_t key;
	f->start = *i;
	if (!pb_varint(b, n, i, &key))
		return false;
	f->no = (uint32_t)(key >> 3);
	f->type = (int)(key & 7);
	f->at = *i;
	switch (f->type) {
	case 0:
		if (!pb_varint(b, n, i, &f->v))
			return false;
		break;
	case 1:
	case 5:
		f->v = f->type == 1 ? 8 : 4;
		*i += f->v;
		break;
	case 2:
		if (!pb_varint(b, n, i, &f->v) || f->v > n - *i)
			return false;
		f->at = *i;
		*i += f->v;
		break;
	default:
		return false;
	}
	f->end = *i;
	return *i <= n;
}

/* A growing output buffer. */
struct pb_out {
	uint8_t *b;
	size_t n, cap;
	bool oom;
};

static void out_bytes(struct pb_out *o, const void *p, size_t n)
{
	if (!n)
		return;
	if (o->oom || n > SIZE_MAX / 2 - o->n)
		return (void)(o->oom = true);
	if (o->n + n > o->cap) {
		size_t cap = (o->n + n) * 2;
		uint8_t *nb = realloc(o->b, cap);
		if (!nb)
			return (void)(o->oom = true);
		o->b = nb;
		o->cap = cap;
	}
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void out_varint(struct pb_out *o, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;
	do {
		t[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	out_bytes(o, t, n);
}

static void out_u32le(struct pb_out *o, uint32_t v)
{
	uint8_t t[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	out_bytes(o, t, 4);
}

/* Message b[0..n) with each varint field no (in nos) set to vals[k]. */
static void out_message(struct pb_out *o, const uint8_t *b, size_t n, const uint32_t *nos,
			const uint64_t *vals, size_t count)
{
	struct pb_field f;
	size_t i = 0;
	while (i < n && pb_next(b, n, &i, &f)) {
		size_t k = 0;
		while (k < count && (nos[k] != f.no || f.type != 0))
			k++;
		if (k == count) {
			out_bytes(o, b + f.start, f.end - f.start);
			continue;
		}
		out_varint(o, (uint64_t)f.no << 3);
		out_varint(o, vals[k]);
	}
}

/* The messages of an image: *at set to each one's offset in turn. */
static bool img_next(const uint8_t *b, size_t n, size_t *i, size_t *at, size_t *len)
{
	if (*i + 4 > n)
		return false;
	uint32_t l = (uint32_t)b[*i] | (uint32_t)b[*i + 1] << 8 | (uint32_t)b[*i + 2] << 16 |
		     (uint32_t)b[*i + 3] << 24;
	if (l > n - *i - 4)
		return false;
	*at = *i + 4;
	*len = l;
	*i += 4 + l;
	return true;
}

/* The first varint field no of b[0..n), or def. */
static uint64_t pb_get(const uint8_t *b, size_t n, uint32_t no, uint64_t def)
{
	struct pb_field f;
	size_t i = 0;
	while (i < n && pb_next(b, n, &i, &f))
		if (f.no == no && f.type == 0)
			return f.v;
	return def;
}

struct opath_file {
	uint32_t id, new_id;
	size_t at, len; /* its FileEntry in files.img */
};

/* The FileEntry at f->at as a new read-only one with f->new_id. */
static void out_readonly_copy(struct pb_out *o, const uint8_t *b, const struct opath_file *f)
{
	const uint8_t *m = b + f->at;
	struct pb_out msg = { 0 };
	struct pb_field fl;
	size_t i = 0;
	while (i < f->len && pb_next(m, f->len, &i, &fl)) {
		if (fl.no == 2 && fl.type == 0) {
			out_varint(&msg, 2 << 3);
			out_varint(&msg, f->new_id);
		} else if (fl.no == 3 && fl.type == 2) {
			uint64_t flags = pb_get(m + fl.at, fl.v, 2, 0);
			flags &= ~(uint64_t)(O_PATH | O_ACCMODE | O_CREAT | O_TRUNC | O_EXCL);
			struct pb_out reg = { 0 };
			out_message(&reg, m + fl.at, fl.v, (uint32_t[]){ 1, 2 },
				    (uint64_t[]){ f->new_id, flags | O_RDONLY }, 2);
			out_varint(&msg, 3 << 3 | 2);
			out_varint(&msg, reg.n);
			out_bytes(&msg, reg.b, reg.n);
			msg.oom |= reg.oom;
			free(reg.b);
		} else {
			out_bytes(&msg, m + fl.start, fl.end - fl.start);
		}
	}
	out_u32le(o, (uint32_t)msg.n);
	out_bytes(o, msg.b, msg.n);
	o->oom |= msg.oom;
	free(msg.b);
}

static int write_image(const char *dir, const char *name, const struct pb_out *o, struct nvz_error **err)
{
	cleanup_free char *path = NULL;
	if (o->oom || asprintf(&path, "%s/%s", dir, name) < 0)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	return nvz_write_runtime_atomic(path, o->b, o->n, 0600, err);
}

/* A mm-PID.img read whole; its MmEntry at [at, at + len). */
struct mm_image {
	char *name, *text;
	size_t n, at, len;
	size_t op; /* the O_PATH file its exe was */
};

static void mm_images_free(struct mm_image *mm, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		free(mm[k].name);
		free(mm[k].text);
	}
	free(mm);
}

/* The mm images whose exe is one of op, each such file given a new id. */
static int mm_to_fix(const char *dir, struct opath_file *op, size_t nop, uint32_t *next_id,
		     struct mm_image **out, size_t *nout, struct nvz_error **err)
{
	cleanup_dir DIR *d = opendir(dir);
	if (!d)
		return nvz_err_sys(err, NVZ_E_CHKPNT, errno, "open %s", dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "mm-", 3) || !strstr(e->d_name, ".img"))
			continue;
		struct mm_image m = { 0 };
		cleanup_free char *path = NULL;
		size_t i = IMG_HEAD;
		if (asprintf(&path, "%s/%s", dir, e->d_name) < 0 || !(m.name = strdup(e->d_name)))
			return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
		if (nvz_read_file(path, IMG_MAX, &m.text, &m.n, err) < 0) {
			free(m.name);
			return -1;
		}
		const uint8_t *b = (const uint8_t *)m.text;
		/* criu's MmEntry always has exe_file_id: an image without it is left alone. */
		uint64_t exe = m.n >= IMG_HEAD && img_next(b, m.n, &i, &m.at, &m.len)
				       ? pb_get(b + m.at, m.len, 12, UINT64_MAX)
				       : UINT64_MAX;
		while (m.op < nop && op[m.op].id != exe)
			m.op++;
		struct mm_image *grown = m.op < nop ? realloc(*out, (*nout + 1) * sizeof(**out)) : NULL;
		if (!grown) {
			free(m.name);
			free(m.text);
			if (m.op < nop)
				return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
			continue;
		}
		if (!op[m.op].new_id)
			op[m.op].new_id = (*next_id)++;
		*out = grown;
		(*out)[(*nout)++] = m;
	}
	return 0;
}

/* The image with its exe onto the O_PATH file's read-only copy. */
static int mm_write(const char *dir, const struct mm_image *m, uint32_t exe, struct nvz_error **err)
{
	const uint8_t *b = (const uint8_t *)m->text;
	struct pb_out o = { 0 }, msg = { 0 };
	out_bytes(&o, b, IMG_HEAD);
	out_message(&msg, b + m->at, m->len, (uint32_t[]){ 12 }, (uint64_t[]){ exe }, 1);
	out_u32le(&o, (uint32_t)msg.n);
	out_bytes(&o, msg.b, msg.n);
	o.oom |= msg.oom;
	/* Nothing follows the MmEntry in criu's; kept if anything does. */
	out_bytes(&o, b + m->at + m->len, m->n - m->at - m->len);
	int r = write_image(dir, m->name, &o, err);
	free(msg.b);
	free(o.b);
	return r;
}

int nvz_cpt_exe_fix(const char *dir, struct nvz_error **err)
{
	cleanup_free char *path = NULL, *text = NULL;
	size_t n = 0;
	if (asprintf(&path, "%s/files.img", dir) < 0)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	if (!nvz_path_exists(path))
		return 0;
	if (nvz_read_file(path, IMG_MAX, &text, &n, err) < 0)
		return -1;
	const uint8_t *b = (const uint8_t *)text;
	struct opath_file op[OPATH_MAX];
	size_t nop = 0, i = IMG_HEAD, at, len;
	uint32_t max_id = 0;
	while (n >= IMG_HEAD && img_next(b, n, &i, &at, &len)) {
		struct pb_field f;
		size_t j = 0;
		uint64_t type = 0, id = UINT64_MAX, flags = 0;
		bool reg = false;
		while (j < len && pb_next(b + at, len, &j, &f)) {
			if (f.no == 1 && f.type == 0)
				type = f.v;
			else if (f.no == 2 && f.type == 0)
				id = f.v;
			else if (f.no == 3 && f.type == 2) {
				reg = true;
				flags = pb_get(b + at + f.at, f.v, 2, 0);
			}
		}
		/* criu's ids are 32-bit and required, and a new one must fit
		 * above them all: anything else is not criu's, and left alone. */
		if (id >= UINT32_MAX - OPATH_MAX)
			return 0;
		if (id > max_id)
			max_id = (uint32_t)id;
		if (type == FD_TYPE_REG && reg && (flags & O_PATH) && nop < OPATH_MAX)
			op[nop++] = (struct opath_file){ .id = (uint32_t)id, .at = at, .len = len };
	}
	if (!nop)
		return 0;
	uint32_t next_id = max_id + 1;
	struct mm_image *mm = NULL;
	size_t nmm = 0;
	int r = mm_to_fix(dir, op, nop, &next_id, &mm, &nmm, err);
	if (r == 0 && nmm) {
		/* The new entries first: no image may name a file not there. */
		struct pb_out o = { 0 };
		out_bytes(&o, b, n);
		for (size_t k = 0; k < nop; k++)
			if (op[k].new_id)
				out_readonly_copy(&o, b, &op[k]);
		r = write_image(dir, "files.img", &o, err);
		free(o.b);
		for (size_t k = 0; r == 0 && k < nmm; k++)
			r = mm_write(dir, &mm[k], op[mm[k].op].new_id, err);
	}
	mm_images_free(mm, nmm);
	return r;
}
