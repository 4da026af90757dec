/* Unit tests of lib/res: CPU, memory-node and IO option values, and device
 * rules (DEVNODES, DEVICES). */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nvz/error.h"
#include "nvz/res.h"
#include "expect_err.h"

/* ---- option values ---- */

static void value_ok(char *got, const char *want)
{
	cr_assert_not_null(got, "want %s", want);
	cr_assert_str_eq(got, want);
	free(got);
}

static void value_bad(char *got, struct nvz_error **err, const char *msg, const char *what)
{
	cr_assert_null(got, "%s: accepted as %s", what, got);
	expect_err(-1, err, NVZ_E_VALUE, msg, what);
}

Test(values, uint)
{
	struct nvz_error *err = NULL;
	value_ok(nvz_res_parse_uint("CPUUNITS", "1000", 8, 500000, &err), "1000");
	value_ok(nvz_res_parse_uint("CPUUNITS", "8", 8, 500000, &err), "8");
	value_ok(nvz_res_parse_uint("CPUUNITS", "500000", 8, 500000, &err), "500000");
	value_ok(nvz_res_parse_uint("IOPRIO", "007", 0, 7, &err), "7");
	cr_assert_null(err);
	static const char *const bad[] = {"7", "500001", "-1", "", "1x", " 5", "5 ", "+5", "0x10",
					  "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[80];
		snprintf(want, sizeof(want), "Bad parameter for --cpuunits: %s", bad[i]);
		err = NULL;
		value_bad(nvz_res_parse_uint("CPUUNITS", bad[i], 8, 500000, &err), &err, want, bad[i]);
	}
	err = NULL;
	value_bad(nvz_res_parse_uint("IOPRIO", "8", 0, 7, &err), &err, "Bad parameter for --ioprio: 8",
		  "ioprio");
	err = NULL;
	value_bad(nvz_res_parse_uint("IOPSLIMIT", NULL, 0, 10, &err), &err,
		  "Bad parameter for --iopslimit: ", "NULL");
}

Test(values, cpulimit)
{
	struct nvz_error *err = NULL;
	value_ok(nvz_res_parse_cpulimit("25", &err), "25");
	value_ok(nvz_res_parse_cpulimit("0", &err), "0");
	value_ok(nvz_res_parse_cpulimit("250", &err), "250");
	value_ok(nvz_res_parse_cpulimit("102400", &err), "102400");
	/* N%: per cent of the whole host, N times the online CPUs (vzctl) */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char want_pct[32];
	snprintf(want_pct, sizeof(want_pct), "%ld", 25 * ncpu);
	value_ok(nvz_res_parse_cpulimit("25%", &err), want_pct);
	snprintf(want_pct, sizeof(want_pct), "%ld", 100 * ncpu);
	value_ok(nvz_res_parse_cpulimit("100%", &err), want_pct);
	value_ok(nvz_res_parse_cpulimit("0%", &err), "0");
	static const char *const bad[] = {"102401", "-5", "abc", "5%%", "%", "", "5 %", "2.5",
					  "101%", "250%"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "Bad parameter for --cpulimit: %s", bad[i]);
		err = NULL;
		value_bad(nvz_res_parse_cpulimit(bad[i], &err), &err, want, bad[i]);
	}
}

/* The highest number in a sysfs list ("0-3,7") the parsers read too; the
 * file's absence (no NUMA) reads as "0". */
static int max_in_list(const char *path)
{
	char line[256] = "0";
	FILE *f = fopen(path, "r");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			strcpy(line, "0");
		fclose(f);
	}
	char *last = strrchr(line, ',');
	last = last ? last + 1 : line;
	char *dash = strchr(last, '-');
	return atoi(dash ? dash + 1 : last);
}

static int max_online_cpu(void)
{
	return max_in_list("/sys/devices/system/cpu/online");
}

Test(values, cpumask)
{
	struct nvz_error *err = NULL;
	value_ok(nvz_res_parse_cpumask("all", &err), "all");
	value_ok(nvz_res_parse_cpumask("auto", &err), "auto");
	value_ok(nvz_res_parse_cpumask("0", &err), "0");
	value_ok(nvz_res_parse_cpumask("0-0", &err), "0");
	value_ok(nvz_res_parse_cpumask("0,0", &err), "0");
	int max = max_online_cpu();
	if (max >= 1) {
		value_ok(nvz_res_parse_cpumask("1,0", &err), "0-1");
		value_ok(nvz_res_parse_cpumask("0-1,1", &err), "0-1");
	}
	if (max >= 3)
		value_ok(nvz_res_parse_cpumask("3,0-1", &err), "0-1,3");
	cr_assert_null(err);
	static const char *const bad[] = {"", "1-0", "a", "1,", ",1", "1--2", "Auto", "0 ", "-1",
					  "99999", "0-99999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "Bad parameter for --cpumask: %s", bad[i]);
		err = NULL;
		value_bad(nvz_res_parse_cpumask(bad[i], &err), &err, want, bad[i]);
	}
	err = NULL;
	value_bad(nvz_res_parse_cpumask("8191", &err), &err,
		  "Bad parameter for --cpumask: 8191 (CPU 8191 is not online)", "absent cpu");
	char text[32], want[96];
	snprintf(text, sizeof(text), "0-%d", max + 1);
	snprintf(want, sizeof(want), "Bad parameter for --cpumask: %s (CPU %d is not online)", text,
		 max + 1);
	err = NULL;
	value_bad(nvz_res_parse_cpumask(text, &err), &err, want, text);
}

Test(values, nodemask)
{
	struct nvz_error *err = NULL;
	value_ok(nvz_res_parse_nodemask("all", &err), "all");
	value_ok(nvz_res_parse_nodemask("0", &err), "0");
	value_ok(nvz_res_parse_nodemask("0-0,0", &err), "0");
	cr_assert_null(err);
	static const char *const bad[] = {"", "auto", "x", "1-0", "0,", "-1", "99999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "Bad parameter for --nodemask: %s", bad[i]);
		err = NULL;
		value_bad(nvz_res_parse_nodemask(bad[i], &err), &err, want, bad[i]);
	}
	int max = max_in_list("/sys/devices/system/node/online");
	char text[32], want[96];
	snprintf(text, sizeof(text), "%d", max + 1);
	snprintf(want, sizeof(want), "Bad parameter for --nodemask: %s (node %d is not online)", text,
		 max + 1);
	err = NULL;
	value_bad(nvz_res_parse_nodemask(text, &err), &err, want, text);
}

Test(values, iolimit)
{
	struct nvz_error *err = NULL;
	value_ok(nvz_res_parse_iolimit("10", &err), "10485760");
	value_ok(nvz_res_parse_iolimit("5M", &err), "5242880");
	value_ok(nvz_res_parse_iolimit("5m", &err), "5242880");
	value_ok(nvz_res_parse_iolimit("512K", &err), "524288");
	value_ok(nvz_res_parse_iolimit("100B", &err), "100");
	value_ok(nvz_res_parse_iolimit("1G", &err), "1073741824");
	value_ok(nvz_res_parse_iolimit("0", &err), "0");
	value_ok(nvz_res_parse_iolimit("unlimited", &err), "0");
	/* vzctl's ceiling is INT_MAX bytes/s: above it, its command line says
	 * "Bad parameter" (a config's value is truncated, see compute) */
	value_ok(nvz_res_parse_iolimit("2147483647B", &err), "2147483647");
	value_ok(nvz_res_parse_iolimit("2047", &err), "2146435072");
	cr_assert_null(err);
	static const char *const bad[] = {"abc", "-1", "10X", "10MB", "", "1.5M", " 1", "M",
					  "2G", "2048", "3000", "99999999999T", "2147483648B"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "Bad parameter for --iolimit: %s", bad[i]);
		err = NULL;
		value_bad(nvz_res_parse_iolimit(bad[i], &err), &err, want, bad[i]);
	}
}

/* ---- devices ---- */

static struct nvz_dev_rule devnode_ok(const char *text)
{
	struct nvz_dev_rule r;
	struct nvz_error *err = NULL;
	memset(&r, 0x5a, sizeof(r));
	int ret = nvz_res_parse_devnode(text, &r, &err);
	cr_assert_eq(ret, 0, "%s: %s", text, err ? err->msg : "?");
	return r;
}

static void devnode_bad(const char *text, int status, const char *msg)
{
	struct nvz_dev_rule r;
	struct nvz_error *err = NULL;
	expect_err(nvz_res_parse_devnode(text, &r, &err), &err, status, msg, text);
}

Test(devices, devnodes)
{
	struct nvz_dev_rule r = devnode_ok("null:rw");
	cr_assert_eq(r.type, 'c');
	cr_assert(r.major == 1 && r.minor == 3);
	cr_assert(r.read && r.write && !r.mknod);
	cr_assert_str_eq(r.node, "null");
	r = devnode_ok("null:r");
	cr_assert(r.read && !r.write);
	r = devnode_ok("null:rwq");
	cr_assert(r.read && r.write, "q is accepted and ignored");
	r = devnode_ok("null:none");
	cr_assert(r.type == 'c' && !r.read && !r.write, "revokes access");
	r = devnode_ok("null:");
	cr_assert(!r.read && !r.write);
	r = devnode_ok("none");
	cr_assert_eq(r.type, 0, "none: no rule");

	struct stat st;
	if (stat("/dev/net/tun", &st) == 0 && S_ISCHR(st.st_mode)) {
		r = devnode_ok("net/tun:rw");
		cr_assert(r.type == 'c' && r.major == (long)major(st.st_rdev) &&
			  r.minor == (long)minor(st.st_rdev));
		cr_assert_str_eq(r.node, "net/tun");
	}
}

Test(devices, devnodes_bad)
{
	static const char *const names[] = {
		"../etc/passwd:rw", "/null:rw", "net//tun:rw", "net/:rw", "./null:rw", "net/./tun:rw",
		"null",             "null:x",   ":rw",         "nu ll:rw", "null:rwx", "a/../null:rw",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "Bad parameter for --devnodes: %s", names[i]);
		devnode_bad(names[i], NVZ_E_VALUE, want);
	}
	char longname[100];
	memset(longname, 'a', 70);
	memcpy(longname + 70, ":rw", 4);
	devnode_bad(longname, NVZ_E_VALUE, NULL);
	devnode_bad("nvz-no-such-device:rw", NVZ_E_DEVICES,
		    "Incorrect device name /dev/nvz-no-such-device: No such file or directory");
	struct stat st;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode))
		devnode_bad("shm:rw", NVZ_E_DEVICES, "The /dev/shm is not block or character device");
	if (stat("/dev/loop0", &st) == 0 && S_ISBLK(st.st_mode))
		devnode_bad("loop0:rw", NVZ_E_DEVICES,
			    "Device loop0 is not allowed to be assigned to a CT");
}

static struct nvz_dev_rule device_ok(const char *text)
{
	struct nvz_dev_rule r;
	struct nvz_error *err = NULL;
	memset(&r, 0x5a, sizeof(r));
	int ret = nvz_res_parse_device(text, &r, &err);
	cr_assert_eq(ret, 0, "%s: %s", text, err ? err->msg : "?");
	cr_assert_str_eq(r.node, "");
	return r;
}

Test(devices, devices)
{
	struct nvz_dev_rule r = device_ok("c:10:200:rw");
	cr_assert(r.type == 'c' && r.major == 10 && r.minor == 200 && r.read && r.write && !r.mknod);
	r = device_ok("b:8:all:r");
	cr_assert(r.type == 'b' && r.major == 8 && r.minor == -1 && r.read && !r.write);
	r = device_ok("c:136:*:rw");
	cr_assert(r.major == 136 && r.minor == -1);
	r = device_ok("c:1:3:none");
	cr_assert(r.type == 'c' && !r.read && !r.write);
	r = device_ok("c:1:3:rwq");
	cr_assert(r.read && r.write);
	r = device_ok("c:4095:1048575:w");
	cr_assert(r.major == 4095 && r.minor == 1048575 && !r.read && r.write);
	r = device_ok("none");
	cr_assert_eq(r.type, 0);

	static const char *const bad[] = {
		"x:1:3:rw", "c:1:3",    "c:1:3:",    "c:a:3:rw",   "c:*:3:rw", "c:1:3:rx",
		"c:1:3:rw:x", "c:-1:3:rw", "c:4096:0:rw", "c:1:1048576:rw", "cc:1:3:rw", "",
		"a:1:3:rw", "c:1:all", "c::3:rw", "c:1::rw", "C:1:3:rw",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nvz_dev_rule x;
		struct nvz_error *err = NULL;
		char want[64];
		snprintf(want, sizeof(want), "Bad parameter for --devices: %s", bad[i]);
		expect_err(nvz_res_parse_device(bad[i], &x, &err), &err, NVZ_E_VALUE, want, bad[i]);
	}
	struct nvz_dev_rule x;
	struct nvz_error *err = NULL;
	expect_err(nvz_res_parse_device("b:7:0:rw", &x, &err), &err, NVZ_E_DEVICES,
		   "Device b:7:0:rw is not allowed to be assigned to a CT", "loop");
	err = NULL;
	expect_err(nvz_res_parse_device(NULL, &x, &err), &err, NVZ_E_VALUE, NULL, "NULL");
}
