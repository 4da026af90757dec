/* nvz_cpt_exe_fix (lib/cpt/exefix.c): a process's exe that criu gave the
 * file entry of an O_PATH descriptor gets a read-only entry of its own;
 * everything else in the images stays as it was. The images are made here
 * in criu's format: two magic words, then length-prefixed protobuf. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "nvz/fs.h"

struct buf {
	uint8_t b[4096];
	size_t n;
};

static void put(struct buf *o, const void *p, size_t n)
{
	cr_assert(o->n + n <= sizeof(o->b));
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void varint(struct buf *o, uint64_t v)
{
	do {
		uint8_t c = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		put(o, &c, 1);
		v >>= 7;
	} while (v);
}

static void field_u(struct buf *o, uint32_t no, uint64_t v)
{
	varint(o, (uint64_t)no << 3);
	varint(o, v);
}

static void field_b(struct buf *o, uint32_t no, const void *p, size_t n)
{
	varint(o, (uint64_t)no << 3 | 2);
	varint(o, n);
	put(o, p, n);
}

static void entry(struct buf *img, const struct buf *msg)
{
	uint32_t l = (uint32_t)msg->n;
	uint8_t le[4] = { (uint8_t)l, (uint8_t)(l >> 8), (uint8_t)(l >> 16), (uint8_t)(l >> 24) };
	put(img, le, 4);
	put(img, msg->b, msg->n);
}

static void reg_file(struct buf *img, uint32_t id, uint32_t flags, const char *name)
{
	struct buf reg = { 0 }, fown = { 0 }, fe = { 0 };
	field_u(&fown, 1, 0);
	field_u(&reg, 1, id);
	field_u(&reg, 2, flags);
	field_u(&reg, 3, 0);
	field_b(&reg, 5, fown.b, fown.n);
	field_b(&reg, 6, name, strlen(name));
	field_u(&reg, 10, 0100755);
	field_u(&fe, 1, 1); /* REG */
	field_u(&fe, 2, id);
	field_b(&fe, 3, reg.b, reg.n);
	entry(img, &fe);
}

static void mm_image(struct buf *img, uint32_t exe)
{
	struct buf mm = { 0 };
	uint8_t vma[] = { 0x08, 0x80, 0x20 };
	put(img, "\x19\x43\x56\x54\x20\x28\x49\x57", 8);
	field_u(&mm, 1, 0x400000);
	field_u(&mm, 12, exe);
	field_b(&mm, 14, vma, sizeof(vma));
	entry(img, &mm);
}

static char dir[] = "/tmp/nvz-exefix-XXXXXX";

static void write_img(const char *name, const struct buf *b)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	cr_assert_eq(fwrite(b->b, 1, b->n, f), b->n);
	fclose(f);
}

static struct buf read_img(const char *name)
{
	char path[256];
	struct buf b = { 0 };
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	cr_assert(f);
	b.n = fread(b.b, 1, sizeof(b.b), f);
	fclose(f);
	return b;
}

/* The image name holds exactly want. */
static void assert_img(const char *name, const struct buf *want)
{
	struct buf out = read_img(name);
	cr_assert_eq(out.n, want->n, "%s: %zu bytes, want %zu", name, out.n, want->n);
	cr_assert_arr_eq(out.b, want->b, want->n, "%s differs", name);
}

/* files.img and mm-5.img (whose exe is exe5) written, then fixed. */
static void fix_dump(const struct buf *files, uint32_t exe5)
{
	struct buf mm5 = { 0 };
	mm_image(&mm5, exe5);
	write_img("files.img", files);
	write_img("mm-5.img", &mm5);
	cr_assert_eq(nvz_cpt_exe_fix(dir, NULL), 0);
}

static void setup(void)
{
	cr_assert(mkdtemp(dir));
}

static void teardown(void)
{
	nvz_rm_rf(dir, NULL);
}

TestSuite(exefix, .init = setup, .fini = teardown);

static struct buf files_with_opath(void)
{
	struct buf files = { 0 };
	put(&files, "\x19\x43\x56\x54\x38\x31\x30\x56", 8);
	reg_file(&files, 1, 0, "/bin/busybox");
	reg_file(&files, 7, O_PATH, "/usr/lib/systemd/systemd-executor");
	struct buf pipe = { 0 };
	field_u(&pipe, 1, 6); /* another type: its id counts too */
	field_u(&pipe, 2, 9);
	entry(&files, &pipe);
	return files;
}

Test(exefix, exe_on_an_opath_entry_gets_a_readonly_one)
{
	struct buf files = files_with_opath(), mm6 = { 0 };
	mm_image(&mm6, 1);
	write_img("mm-6.img", &mm6);
	fix_dump(&files, 7);
	/* files.img: as it was, then a copy of entry 7 as id 10, read-only. */
	struct buf want = files, mm5 = { 0 };
	reg_file(&want, 10, O_RDONLY, "/usr/lib/systemd/systemd-executor");
	assert_img("files.img", &want);
	/* mm-5.img: exe 10, its other fields as they were. */
	mm_image(&mm5, 10);
	assert_img("mm-5.img", &mm5);
	/* mm-6.img, whose exe is not an O_PATH entry: untouched. */
	assert_img("mm-6.img", &mm6);
}

Test(exefix, two_processes_share_one_copy)
{
	struct buf files = files_with_opath(), mm6 = { 0 }, want = files;
	mm_image(&mm6, 7);
	write_img("mm-6.img", &mm6);
	fix_dump(&files, 7);
	reg_file(&want, 10, O_RDONLY, "/usr/lib/systemd/systemd-executor");
	assert_img("files.img", &want);
	struct buf mm = { 0 };
	mm_image(&mm, 10);
	assert_img("mm-6.img", &mm);
	assert_img("mm-5.img", &mm);
}

Test(exefix, no_opath_exe_changes_nothing)
{
	struct buf files = files_with_opath();
	fix_dump(&files, 1);
	assert_img("files.img", &files);
}

Test(exefix, truncated_images_are_left_alone)
{
	struct buf files = files_with_opath(), mm5 = { 0 };
	mm_image(&mm5, 7);
	files.n -= 3; /* the last entry's length now runs past the end */
	mm5.n -= 2;
	write_img("files.img", &files);
	write_img("mm-5.img", &mm5);
	cr_assert_eq(nvz_cpt_exe_fix(dir, NULL), 0);
	assert_img("mm-5.img", &mm5);
	assert_img("files.img", &files);
}

Test(exefix, a_dump_without_files_img_is_fine)
{
	cr_assert_eq(nvz_cpt_exe_fix(dir, NULL), 0);
}
