/* Unit tests of lib/ct/cfgvalidate.c: vzcfgvalidate's checks, severities,
 * VSwap and pre-VSwap modes, and repairs, on configs given as buffers and
 * a host given as numbers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/cfgvalidate.h"
#include "nvz/config.h"

#define GIB (1024.0 * 1024 * 1024)

/* OpenVZ's ve-vps.basic sample: consistent in every formula. */
static const char basic[] = "KMEMSIZE=\"14372700:14790164\"\n"
			    "LOCKEDPAGES=\"256:256\"\n"
			    "PRIVVMPAGES=\"65536:69632\"\n"
			    "SHMPAGES=\"21504:21504\"\n"
			    "NUMPROC=\"240:240\"\n"
			    "PHYSPAGES=\"0:unlimited\"\n"
			    "VMGUARPAGES=\"33792:unlimited\"\n"
			    "OOMGUARPAGES=\"26112:unlimited\"\n"
			    "NUMTCPSOCK=\"360:360\"\n"
			    "NUMFLOCK=\"188:206\"\n"
			    "NUMPTY=\"16:16\"\n"
			    "NUMSIGINFO=\"256:256\"\n"
			    "TCPSNDBUF=\"1720320:2703360\"\n"
			    "TCPRCVBUF=\"1720320:2703360\"\n"
			    "OTHERSOCKBUF=\"1126080:2097152\"\n"
			    "DGRAMRCVBUF=\"262144:262144\"\n"
			    "NUMOTHERSOCK=\"360:360\"\n"
			    "DCACHESIZE=\"3409920:3624960\"\n"
			    "NUMFILE=\"9312:9312\"\n"
			    "AVNUMPROC=\"180:180\"\n"
			    "NUMIPTENT=\"128:128\"\n";

/* What the checks reported, one "Severity: text" line each, the repair
 * offered on the next line; answer is what the callback says to repairs. */
struct seen {
	char text[8192];
	bool answer;
};

static bool record(void *data, const struct nvz_cfgv_finding *f)
{
	struct seen *s = data;
	size_t n = strlen(s->text);
	snprintf(s->text + n, sizeof(s->text) - n, "%s: %s\n%s%s", nvz_cfgv_severity_name(f->severity),
		 f->text, f->repair ? f->repair : "", f->repair ? "\n" : "");
	return s->answer;
}

static struct nvz_conf *conf(const char *text)
{
	struct nvz_conf *c = nvz_conf_new();
	cr_assert_not_null(c);
	cr_assert_eq(nvz_conf_parse(c, text, strlen(text), "t.conf", NULL), 0);
	return c;
}

/* Validate text (with line appended, replacing earlier lines of its key as
 * a later assignment does); host 1 GiB of RAM and swap of swap_gib. */
static struct nvz_cfgv_result run(struct nvz_conf *c, int vswap, bool repair, double swap_gib,
				  struct seen *s)
{
	struct nvz_mem_host h = { .ram = GIB, .swap = swap_gib * GIB, .page = 4096 };
	struct nvz_cfgv_opts o = { .vswap = vswap, .repair = repair, .host = &h, .report = record,
				   .data = s };
	struct nvz_cfgv_result res;
	cr_assert_eq(nvz_cfg_validate(c, &o, &res, NULL), 0);
	return res;
}

/* basic with a few lines appended (a later line wins). */
static struct nvz_cfgv_result check_basic(const char *extra, bool repair, struct seen *s,
					  struct nvz_conf **out)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s%s", basic, extra);
	struct nvz_conf *c = conf(buf);
	struct nvz_cfgv_result r = run(c, -1, repair, 1, s);
	if (out)
		*out = c;
	else
		nvz_conf_free(c);
	return r;
}

Test(cfgvalidate, is_vswap)
{
	struct nvz_conf *c = conf("PHYSPAGES=\"0:256M\"\n");
	cr_assert(nvz_cfgv_is_vswap(c));
	nvz_conf_free(c);
	c = conf("PHYSPAGES=\"0:unlimited\"\n");
	cr_assert_not(nvz_cfgv_is_vswap(c));
	nvz_conf_free(c);
	c = conf("NUMPROC=\"100:100\"\n");
	cr_assert_not(nvz_cfgv_is_vswap(c));
	nvz_conf_free(c);
}

/* The VSwap sample on a host with room for it: nothing to say. */
Test(cfgvalidate, vswap_ok)
{
	struct seen s = { 0 };
	struct nvz_conf *c = conf("PHYSPAGES=\"0:256M\"\nSWAPPAGES=\"0:512M\"\nONBOOT=\"yes\"\n");
	struct nvz_cfgv_result r = run(c, -1, false, 1, &s);
	cr_assert(r.vswap);
	cr_assert_eq(r.failed, 0);
	cr_assert_str_empty(s.text);
	nvz_conf_free(c);
}

/* VSwap: barriers 0 (Error), limits within the host (Warning), both
 * parameters required; the other beancounters are not checked. */
Test(cfgvalidate, vswap_checks)
{
	struct seen s = { 0 };
	struct nvz_conf *c = conf("PHYSPAGES=\"10:2G\"\nNUMPROC=\"10:20\"\n");
	struct nvz_cfgv_result r = run(c, -1, false, 0, &s);
	cr_assert(r.vswap);
	cr_assert_str_eq(s.text, "Error: physpages.bar should be = 0 (currently, 10)\n"
				 "Warning: physpages.lim should be <= 262144 (currently, 524288)\n"
				 "Error: parameter swappages not found\n");
	cr_assert_eq(r.failed, 3);
	nvz_conf_free(c);
	/* no swap on the host: any swap limit is more than it has */
	memset(&s, 0, sizeof(s));
	c = conf("PHYSPAGES=\"0:256M\"\nSWAPPAGES=\"0:512M\"\n");
	r = run(c, -1, false, 0, &s);
	cr_assert_str_eq(s.text, "Warning: swappages.lim should be <= 0 (currently, 131072)\n");
	cr_assert_eq(r.failed, 1);
	nvz_conf_free(c);
}

/* -v no on a VSwap config: physpages must then be 0:unlimited; -v yes on
 * an old-style one: RAM and swap are missing. */
Test(cfgvalidate, vswap_forced)
{
	struct seen s = { 0 };
	struct nvz_conf *c = conf("PHYSPAGES=\"0:65536\"\nSWAPPAGES=\"0:1024\"\n");
	struct nvz_cfgv_result r = run(c, 0, false, 1, &s);
	cr_assert_not(r.vswap);
	cr_assert_str_eq(s.text, "Error: limit should be = 9223372036854775807 for physpages (currently, 65536)\n");
	nvz_conf_free(c);
	memset(&s, 0, sizeof(s));
	c = conf("NUMPROC=\"100:100\"\n");
	r = run(c, 1, false, 1, &s);
	cr_assert(r.vswap);
	cr_assert_str_eq(s.text, "Error: parameter physpages not found\nError: parameter swappages not found\n");
	nvz_conf_free(c);
}

Test(cfgvalidate, old_style_ok)
{
	struct seen s = { 0 };
	struct nvz_cfgv_result r = check_basic("", false, &s, NULL);
	cr_assert_not(r.vswap);
	cr_assert_eq(r.failed, 0);
	cr_assert_str_empty(s.text);
}

/* nvz: an unset beancounter is unlimited, so a config without any (the
 * basic sample) or with a few has nothing to check between them. */
Test(cfgvalidate, unset_is_not_an_error)
{
	struct seen s = { 0 };
	struct nvz_conf *c = conf("# no limits\nCPUUNITS=\"1000\"\nNUMFILE=\"100:100\"\nKMEMSIZE=\"1:1\"\n");
	struct nvz_cfgv_result r = run(c, -1, false, 1, &s);
	cr_assert_eq(r.failed, 0);
	cr_assert_str_empty(s.text);
	nvz_conf_free(c);
}

/* A requirement computed from an unlimited value is not checked. */
Test(cfgvalidate, unlimited_requirement)
{
	struct seen s = { 0 };
	check_basic("NUMFILE=\"unlimited\"\nNUMTCPSOCK=\"unlimited\"\n", false, &s, NULL);
	cr_assert_str_empty(s.text);
}

Test(cfgvalidate, barrier_limit)
{
	struct seen s = { 0 };
	struct nvz_cfgv_result r = check_basic("NUMPROC=\"240:300\"\nNUMFLOCK=\"300:206\"\n"
					       "VMGUARPAGES=\"33792:40000\"\nPHYSPAGES=\"5:unlimited\"\n",
					       false, &s, NULL);
	cr_assert_str_eq(s.text,
			 "Error: barrier should be equal to limit for numproc (currently, 240:300)\n"
			 "Error: limit should be = 9223372036854775807 for vmguarpages (currently, 40000)\n"
			 "Error: barrier should be = 0 for physpages (currently, 5)\n"
			 "Error: barrier should be <= limit for numflock (currently, 300:206)\n");
	cr_assert_eq(r.failed, 4);
}

/* Each formula, with its severity; a recommendation does not fail. */
Test(cfgvalidate, formulas)
{
	struct seen s = { 0 };
	struct nvz_cfgv_result r = check_basic("DCACHESIZE=\"3409920:3409920\"\n"
					       "KMEMSIZE=\"1000000:2000000\"\n"
					       "PRIVVMPAGES=\"30000:69632\"\n"
					       "TCPSNDBUF=\"1720320:2000000\"\n"
					       "OTHERSOCKBUF=\"100000:1100000\"\n"
					       "TCPRCVBUF=\"60000:1000000\"\n"
					       "DGRAMRCVBUF=\"100000:100000\"\n"
					       "NUMFILE=\"1000:1000\"\n",
					       false, &s, NULL);
	cr_assert_str_eq(s.text,
			 "Error: kmemsize.bar should be > 10782720 (currently, 1000000)\n"
			 "Warning: privvmpages.bar should be > 33792 (currently, 30000)\n"
			 "Error: tcpsndbuf.lim-tcpsndbuf.bar should be > 921600 (currently, 2000000-1720320=279680)\n"
			 "Warning: tcprcvbuf.bar should be > 65536 (currently, 60000)\n"
			 "Recommendation: dgramrcvbuf.bar should be > 132096 (currently, 100000)\n"
			 "Recommendation: othersockbuf.bar should be > 132096 (currently, 100000)\n"
			 "Warning: numfile should be > 5760 (currently, 1000)\n");
	cr_assert_eq(r.failed, 5);
	/* dcachesize against numfile, and the 32 KB floors as warnings */
	memset(&s, 0, sizeof(s));
	r = check_basic("DCACHESIZE=\"1000:1000\"\nDGRAMRCVBUF=\"1000:1000\"\nTCPRCVBUF=\"1720320:1720320\"\n",
			false, &s, NULL);
	cr_assert_str_eq(s.text,
			 "Warning: dcachesize.lim should be > 3575808 (currently, 1000)\n"
			 "Warning: tcprcvbuf.lim-tcprcvbuf.bar should be > 921600 (currently, 1720320-1720320=0)\n"
			 "Warning: dgramrcvbuf.bar should be > 32768 (currently, 1000)\n");
	cr_assert_eq(r.failed, 3);
}

/* -r: every repair applied in order (later checks see the earlier ones),
 * the config changed only on the lines repaired. */
Test(cfgvalidate, repair)
{
	struct seen s = { .answer = true };
	struct nvz_conf *c = NULL;
	struct nvz_cfgv_result r = check_basic("LOCKEDPAGES=\"512:256\"\nTCPSNDBUF=\"1720320:2000000\"\n"
					       "DGRAMRCVBUF=\"100000:100000\"\nDCACHESIZE=\"1000:1000\"\n",
					       true, &s, &c);
	cr_assert_str_eq(s.text,
			 "Error: barrier should be <= limit for lockedpages (currently, 512:256)\n"
			 "set to 512:512\n"
			 "Warning: dcachesize.lim should be > 3575808 (currently, 1000)\n"
			 "set to 3575808\n"
			 "Error: tcpsndbuf.lim-tcpsndbuf.bar should be > 921600 (currently, 2000000-1720320=279680)\n"
			 "set to 1720320:2641920\n"
			 "Recommendation: dgramrcvbuf.bar should be > 132096 (currently, 100000)\n"
			 "set to 132096:132096\n");
	cr_assert_eq(r.failed, 0);
	cr_assert_eq(r.repaired, 4);
	cr_assert_str_eq(nvz_conf_get(c, "LOCKEDPAGES"), "512:512");
	cr_assert_str_eq(nvz_conf_get(c, "DCACHESIZE"), "1000:3575808");
	cr_assert_str_eq(nvz_conf_get(c, "TCPSNDBUF"), "1720320:2641920");
	cr_assert_str_eq(nvz_conf_get(c, "DGRAMRCVBUF"), "132096:132096");
	/* A second run finds nothing more. */
	memset(&s, 0, sizeof(s));
	r = run(c, -1, false, 1, &s);
	cr_assert_str_empty(s.text);
	nvz_conf_free(c);
}

/* Repairs keep every other byte: comments, quoting, spacing. */
Test(cfgvalidate, repair_keeps_the_rest)
{
	struct seen s = { .answer = true };
	struct nvz_conf *c = conf("# comment\nNUMPROC='100:200'\n  NAME=\"web\"  # trailing\nX=y");
	run(c, -1, true, 1, &s);
	char *text = nvz_conf_format(c);
	cr_assert_str_eq(text, "# comment\nNUMPROC=\"200:200\"\n  NAME=\"web\"  # trailing\nX=y");
	free(text);
	nvz_conf_free(c);
}

/* -i answered no: reported, counted as failed, nothing changed. */
Test(cfgvalidate, repair_declined)
{
	struct seen s = { .answer = false };
	struct nvz_conf *c = conf("NUMPROC=\"100:200\"\n");
	struct nvz_cfgv_result r = run(c, -1, true, 1, &s);
	cr_assert_str_eq(s.text, "Error: barrier should be equal to limit for numproc (currently, 100:200)\n"
				 "set to 200:200\n");
	cr_assert_eq(r.failed, 1);
	cr_assert_eq(r.repaired, 0);
	cr_assert_str_eq(nvz_conf_get(c, "NUMPROC"), "100:200");
	nvz_conf_free(c);
}

/* What nvz itself refuses or ignores, in both modes, never repaired. */
Test(cfgvalidate, nvz_refusals)
{
	struct seen s = { .answer = true };
	struct nvz_conf *c = conf("ONBOOT=\"maybe\"\nONBOOT=\"yes\"\nDISABLED=\"perhaps\"\n"
				  "KMEMSIZE=\"lots\"\nDISKSPACE=\"2G:lots\"\nthis is not an assignment\n"
				  "PHYSPAGES=\"0:256M\"\nSWAPPAGES=\"0:256M\"\nNUMFLOCK=\"10:5\"\n");
	struct nvz_cfgv_result r = run(c, -1, true, 1, &s);
	cr_assert(r.vswap);
	cr_assert_str_eq(s.text,
			 "Warning: t.conf:6: malformed line, ignored\n"
			 "Error: invalid value for DISABLED: 'perhaps' (expected yes or no)\n"
			 "Error: invalid value for KMEMSIZE: 'lots' (expected barrier[:limit])\n"
			 "Error: barrier should be <= limit for numflock (currently, 10:5)\n"
			 "set to 10:10\n"
			 "Error: invalid DISKSPACE value '2G:lots'\n");
	cr_assert_eq(r.failed, 4);
	cr_assert_eq(r.repaired, 1);
	nvz_conf_free(c);
}

/* OpenVZ's diskspace/diskinodes barrier <= limit, after the beancounters'
 * pairs and before the formulas; repaired by raising the limit. */
Test(cfgvalidate, disk_order_repaired)
{
	struct seen s = { .answer = true };
	struct nvz_conf *c = conf("NUMPROC=\"100:200\"\nDISKSPACE=\"2G:1G\"\nDISKINODES=\"200:100\"\n");
	struct nvz_cfgv_result r = run(c, 0, true, 1, &s);
	cr_assert_str_eq(s.text, "Error: barrier should be equal to limit for numproc (currently, 100:200)\n"
				 "set to 200:200\n"
				 "Error: barrier should be <= limit for diskspace (currently, 2097152:1048576)\n"
				 "set to 2097152:2097152\n"
				 "Error: barrier should be <= limit for diskinodes (currently, 200:100)\n"
				 "set to 200:200\n");
	cr_assert_eq(r.failed, 0);
	cr_assert_eq(r.repaired, 3);
	cr_assert_str_eq(nvz_conf_get(c, "DISKSPACE"), "2097152:2097152");
	cr_assert_str_eq(nvz_conf_get(c, "DISKINODES"), "200:200");
	nvz_conf_free(c);
}
