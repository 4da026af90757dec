/* libFuzzer target for the network value parsers (lib/net): IP addresses
 * with prefixes (IP_ADDRESS, --ipadd), MACs, interface names and the NETIF
 * value with --netif_add specs. Input: a selector byte, then the text.
 * Properties: an accepted address or MAC formats to text that parses back
 * to the same value; an accepted NETIF formats to a value that parses back
 * and formats identically (what --save writes is what start reads). */
#include <sys/socket.h>

#include "fuzz.h"
#include "nvz/net.h"
#include "nvz/netif.h"

static void fuzz_addr(const char *text)
{
	struct nvz_addr a, b;
	char buf[64];
	if (nvz_addr_parse(text, &a, NULL) < 0)
		return;
	CHECK(a.family == AF_INET || a.family == AF_INET6);
	CHECK(a.prefix <= (a.family == AF_INET ? 32u : 128u));
	CHECK(nvz_addr_format(&a, buf, sizeof(buf)) == 0);
	CHECK(nvz_addr_parse(buf, &b, NULL) == 0);
	CHECK(a.family == b.family && a.prefix == b.prefix &&
	      memcmp(a.bytes, b.bytes, nvz_addr_len(a.family)) == 0);
}

static void fuzz_mac(const char *text)
{
	uint8_t m[NVZ_MAC_LEN], m2[NVZ_MAC_LEN];
	char buf[NVZ_MAC_STRLEN];
	if (nvz_mac_parse(text, m, NULL) < 0)
		return;
	CHECK(!(m[0] & 1)); /* unicast only */
	nvz_mac_format(m, buf);
	CHECK(nvz_mac_parse(buf, m2, NULL) == 0 && memcmp(m, m2, sizeof(m)) == 0);
}

/* NETIF round trip; with spec != NULL, a --netif_add on top first. */
static void fuzz_netif(const char *text, const char *spec)
{
	struct nvz_netifs *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	CHECK(a && b);
	struct nvz_error *err = NULL;
	if (nvz_netif_parse(text, a, &err) < 0) {
		CHECK(err && err->status == NVZ_E_VALUE);
		nvz_error_free(err);
		goto out;
	}
	if (spec && nvz_netif_add_spec(a, 101, spec, "br0", "fuzz", NULL) < 0)
		goto out;
	CHECK(a->n <= NVZ_NETIF_MAX);
	for (size_t i = 0; i < a->n; i++)
		CHECK(nvz_ifname_valid(a->v[i].ifname));
	char *f1 = nvz_netif_format(a);
	CHECK(f1);
	CHECK(nvz_netif_parse(f1, b, NULL) == 0);
	CHECK(b->n == a->n);
	char *f2 = nvz_netif_format(b);
	CHECK(f2 && strcmp(f1, f2) == 0);
	free(f2);
	free(f1);
out:
	free(b);
	free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1, *end = data + size;
	char *text = fuzz_field(&p, end), *spec = NULL;
	switch (data[0] % 5) {
	case 0: fuzz_addr(text); break;
	case 1: fuzz_mac(text); break;
	case 2: CHECK(!nvz_ifname_valid(text) || (strlen(text) < 16 && !strchr(text, '/')));
		break;
	case 3: fuzz_netif(text, NULL); break;
	case 4:
		spec = fuzz_field(&p, end);
		fuzz_netif(text, spec);
		break;
	}
	free(spec);
	free(text);
	return 0;
}
