/* libFuzzer target for the criu image mend (lib/cpt/exefix.c): the input's
 * first two bytes (little-endian) are the length of files.img, the rest of
 * it is files.img and then mm-1.img, written into a scratch dump directory.
 * Properties: whatever the bytes, no crash and no leak; and a mend is done
 * once: a second pass over what the first left changes nothing. */
#include <stdio.h>
#include <unistd.h>

#include "fuzz.h"
#include "cpt/criu.h"
#include "nvz/error.h"
#include "nvz/fs.h"

static char dir[] = "/tmp/nvz-fuzz-exefix-XXXXXX";

static void put(const char *name, const uint8_t *p, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CHECK(f);
	CHECK(fwrite(p, 1, n, f) == n);
	fclose(f);
}

/* The file's bytes, malloc'd (*n set). */
static uint8_t *get(const char *name, size_t *n)
{
	char path[64];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	CHECK(f);
	CHECK(fseek(f, 0, SEEK_END) == 0);
	long size = ftell(f);
	CHECK(size >= 0);
	rewind(f);
	uint8_t *b = malloc((size_t)size + 1);
	CHECK(b);
	*n = fread(b, 1, (size_t)size, f);
	fclose(f);
	return b;
}

/* libFuzzer ends with exit(): the scratch directory goes then. */
static void drop_dir(void)
{
	nvz_rm_rf(dir, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool made;
	if (!made) {
		CHECK(mkdtemp(dir));
		CHECK(atexit(drop_dir) == 0);
		made = true;
	}
	if (size < 2)
		return 0;
	size_t k = (size_t)data[0] | (size_t)data[1] << 8;
	if (k > size - 2)
		k = size - 2;
	put("files.img", data + 2, k);
	put("mm-1.img", data + 2 + k, size - 2 - k);
	struct nvz_error *err = NULL;
	if (nvz_cpt_exe_fix(dir, &err) < 0) {
		nvz_error_free(err);
		return 0;
	}
	size_t nf, nm, nf2, nm2;
	uint8_t *f1 = get("files.img", &nf), *m1 = get("mm-1.img", &nm);
	CHECK(nvz_cpt_exe_fix(dir, NULL) == 0);
	uint8_t *f2 = get("files.img", &nf2), *m2 = get("mm-1.img", &nm2);
	CHECK(nf == nf2 && !memcmp(f1, f2, nf));
	CHECK(nm == nm2 && !memcmp(m1, m2, nm));
	free(f1);
	free(m1);
	free(f2);
	free(m2);
	return 0;
}
