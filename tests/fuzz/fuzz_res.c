/* libFuzzer target for the resource value parsers (lib/res): beancounter
 * barrier:limit values with suffixes, --ram/--swap sizes, CPU and IO values,
 * device rules, and nvz_res_compute over a whole config.
 * Input: a selector byte, then the text. Properties:
 *  - an accepted UBC value has barrier <= limit, and its config form parses
 *    back to the same pair;
 *  - a normalised CPU value is a fixed point (parse(parse(x)) == parse(x));
 *  - --iolimit's config form (bytes/s; the option's bare unit is MB/s) is
 *    read back by start as the same number of bytes. */
#include <stdio.h>

#include "fuzz.h"
#include "nvz/config.h"
#include "nvz/res.h"
#include "res/internal.h"

static void fuzz_ubc(unsigned sel, const char *text)
{
	enum nvz_ubc_id id = (enum nvz_ubc_id)(sel % UBC_COUNT);
	struct nvz_ubc_value v = { 0 }, again = { 0 };
	struct nvz_error *err = NULL;
	if (nvz_ubc_parse(id, text, &v, &err) < 0) {
		CHECK(err && err->status == NVZ_E_VALUE);
		nvz_error_free(err);
		return;
	}
	CHECK(v.set && v.barrier <= v.limit);
	char *form = nvz_ubc_format(&v);
	CHECK(form);
	CHECK(nvz_ubc_parse(id, form, &again, NULL) == 0);
	CHECK(again.barrier == v.barrier && again.limit == v.limit);
	free(form);
	/* The command line's form takes less, never something else. */
	struct nvz_ubc_value opt = { 0 };
	if (nvz_ubc_parse_option(id, text, &opt, NULL) == 0)
		CHECK(opt.barrier == v.barrier && opt.limit == v.limit);
}

typedef char *(*norm_fn)(const char *text, struct nvz_error **err);

static char *parse_ioprio(const char *text, struct nvz_error **err)
{
	return nvz_res_parse_uint("IOPRIO", text, 0, 7, err);
}

static char *parse_cpuunits(const char *text, struct nvz_error **err)
{
	return nvz_res_parse_uint("CPUUNITS", text, 8, 500000, err);
}

static void fuzz_normalised(norm_fn fn, const char *text)
{
	struct nvz_error *err = NULL;
	char *a = fn(text, &err);
	if (!a) {
		CHECK(err && err->status == NVZ_E_VALUE);
		nvz_error_free(err);
		return;
	}
	char *b = fn(a, NULL);
	CHECK(b && strcmp(a, b) == 0);
	free(b);
	free(a);
}

static void fuzz_iolimit(const char *text)
{
	struct nvz_error *err = NULL;
	char *form = nvz_res_parse_iolimit(text, &err);
	if (!form) {
		CHECK(err && err->status == NVZ_E_VALUE);
		nvz_error_free(err);
		return;
	}
	uint64_t bytes;
	CHECK(nvz_res_iolimit_value(form, 1, false, &bytes, NULL) == 0);
	CHECK(bytes == strtoull(form, NULL, 10));
	free(form);
}

static const char *conf_get(void *data, const char *key)
{
	return nvz_conf_get(data, key);
}

/* A whole config through nvz_res_compute, as start and set do. */
static void fuzz_compute(const uint8_t *data, size_t size)
{
	struct nvz_conf *c = nvz_conf_new();
	CHECK(c);
	if (nvz_conf_parse(c, (const char *)data, size, "fuzz", NULL) == 0) {
		struct nvz_res_limits lim;
		struct nvz_error *err = NULL;
		if (nvz_res_compute(conf_get, c, &lim, &err) < 0) {
			CHECK(err);
			nvz_error_free(err);
		} else {
			CHECK(lim.cpumask[sizeof(lim.cpumask) - 1] == '\0' || !lim.cpumask[0]);
			CHECK(lim.io_prio <= 7);
		}
	}
	nvz_conf_free(c);
}

static void fuzz_dev(bool devnode, const char *text)
{
	struct nvz_dev_rule r;
	struct nvz_error *err = NULL;
	int rc = devnode ? nvz_res_parse_devnode(text, &r, &err) : nvz_res_parse_device(text, &r, &err);
	if (rc < 0) {
		CHECK(err);
		nvz_error_free(err);
		return;
	}
	CHECK(r.type == 'c' || r.type == 'b' || r.type == 'a' || (r.type == 0 && !r.node[0]));
	CHECK(memchr(r.node, '\0', sizeof(r.node)));
	/* A node name must never leave /dev: relative, no ".." component. */
	CHECK(r.node[0] != '/');
	char copy[sizeof(r.node)], *save = NULL;
	memcpy(copy, r.node, sizeof(copy));
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
		CHECK(strcmp(c, "..") != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	if (sel % 8 == 7) {
		fuzz_compute(data + 1, size - 1);
		return 0;
	}
	char *text = strndup((const char *)data + 1, size - 1);
	CHECK(text);
	uint64_t bytes;
	switch (sel % 8) {
	case 0: fuzz_ubc(sel / 8, text); break;
	case 1: (void)nvz_parse_bytes(text, &bytes, NULL); break;
	case 2: fuzz_normalised(nvz_res_parse_cpulimit, text); break;
	case 3: fuzz_normalised(nvz_res_parse_cpumask, text); break;
	case 4: fuzz_iolimit(text); break;
	case 5: fuzz_normalised(sel & 8 ? parse_ioprio : parse_cpuunits, text); break;
	case 6: fuzz_dev(sel & 8, text); break;
	}
	free(text);
	return 0;
}
