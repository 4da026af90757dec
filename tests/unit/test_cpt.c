/* Unit tests of lib/cpt: what a dump directory must hold before criu is
 * run on it, and the cgroup list that comes with a dump (it must never
 * name a cgroup outside the CT's own). criu itself runs in the
 * integration tests (tests/integration/test_cpt.sh). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "cpt/taskfd.h"
#include "nvz/config.h"
#include "nvz/error.h"
#include "nvz/fs.h"

static char dir[] = "/tmp/nvz-test-cpt-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	nvz_rm_rf(dir, NULL);
}

static void put(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(nvz_write_file_atomic(path, text, strlen(text), 0600, NULL), 0);
}

TestSuite(cpt, .init = setup, .fini = teardown);

Test(cpt, incomplete_dump_refused)
{
	struct nvz_error *err = NULL;
	put("inventory.img", "x");
	cr_assert_lt(nvz_cpt_dump_check(dir, 0, &err), 0);
	cr_assert_eq(err->status, NVZ_E_RESTORE);
	cr_assert_not_null(strstr(err->msg, "not a complete nvz dump"), "%s", err->msg);
	nvz_error_free(err);
	err = NULL;
	cr_assert_null(nvz_cpt_dump_ips(dir));
	put(NVZ_CPT_META, "TTY=\"\"\nEXTERNAL_MOUNTS=\"nvz-bcfs\"\nIP_ADDRESS=\"10.0.0.1 ::2\"\n");
	/* An older nvz's dump: no cgroup version said, restored anywhere. */
	cr_assert_eq(nvz_cpt_dump_check(dir, 2, &err), 0);
	char *ips = nvz_cpt_dump_ips(dir);
	cr_assert_str_eq(ips, "10.0.0.1 ::2");
	free(ips);
}

/* criu cannot restore a tree into the other cgroup version: refused, with
 * what the admin can do. */
Test(cpt, dump_of_other_cgroup_version_refused)
{
	struct nvz_error *err = NULL;
	put(NVZ_CPT_META, "TTY=\"\"\nCGROUP_VERSION=\"1\"\n");
	cr_assert_eq(nvz_cpt_dump_check(dir, 1, &err), 0);
	cr_assert_eq(nvz_cpt_dump_check(dir, 0, &err), 0, "this host's version not known");
	cr_assert_lt(nvz_cpt_dump_check(dir, 2, &err), 0);
	cr_assert_eq(err->status, NVZ_E_RESTORE);
	cr_assert_not_null(strstr(err->msg, "made under cgroup v1 and this server's controllers are on "
					    "cgroup v2"),
			   "%s", err->msg);
	cr_assert_not_null(strstr(err->msg, "remove the dump"), "%s", err->msg);
	nvz_error_free(err);
}

/* A hostile list is refused before anything is created. */
Test(cpt, cgroup_list_stays_inside)
{
	static const char *const bad[] = {
		"pids\t../../escape\n", "pids\t/abs\n", "../pids\tx\n", "pids\ta/../../b\n",
	};
	char path[256];
	snprintf(path, sizeof(path), "%s/" NVZ_CPT_CGROUPS, dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nvz_error *err = NULL;
		put(NVZ_CPT_CGROUPS, bad[i]);
		cr_assert_lt(nvz_cpt_cgroups_restore("/nvz-unit-no-such-ct", path, &err), 0, "%s", bad[i]);
		cr_assert_eq(err->code, EINVAL);
		nvz_error_free(err);
	}
	/* Hierarchies the CT has no cgroup in are skipped; no list is fine. */
	put(NVZ_CPT_CGROUPS, "pids\tsystem.slice\n");
	cr_assert_eq(nvz_cpt_cgroups_restore("/nvz-unit-no-such-ct", path, NULL), 0);
	unlink(path);
	cr_assert_eq(nvz_cpt_cgroups_restore("/nvz-unit-no-such-ct", path, NULL), 0);
}

static void write_pid(const char *cgdir, pid_t pid)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/cgroup.procs", cgdir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%d", (int)pid);
	fclose(f);
}

/* The list covers every directory below the CT's cgroup, depth first, and
 * where each process was; moved back from the root by those lists. */
Test(cpt, cgroup_list_saved)
{
	char path[256], procs[256], cg[256], a[300], b[300];
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/pids/nvz-unit-cpt-%d", (int)getpid());
	if (mkdir(cg, 0755) < 0)
		cr_skip_test("no writable pids cgroup v1 hierarchy: %s", strerror(errno));
	snprintf(a, sizeof(a), "%s/a", cg);
	snprintf(b, sizeof(b), "%s/a/b", cg);
	mkdir(a, 0755);
	mkdir(b, 0755);
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	write_pid(b, child);
	snprintf(path, sizeof(path), "%s/" NVZ_CPT_CGROUPS, dir);
	snprintf(procs, sizeof(procs), "%s/" NVZ_CPT_CGROUP_PROCS, dir);
	const char *root = cg + strlen("/sys/fs/cgroup/pids");
	int r = nvz_cpt_cgroups_save(root, path, procs, NULL);
	char *text = NULL, *ptext = NULL, want[400];
	nvz_read_file(path, 4096, &text, NULL, NULL);
	nvz_read_file(procs, 4096, &ptext, NULL, NULL);
	/* As criu leaves it under a moved root: everything at the top. */
	write_pid(cg, child);
	rmdir(b);
	rmdir(a);
	int r2 = nvz_cpt_cgroups_restore(root, path, NULL);
	int moved = nvz_cpt_cgroups_move(root, procs);
	char self[256], *mine = NULL;
	snprintf(self, sizeof(self), "/proc/%d/cgroup", (int)child);
	nvz_read_file(self, 4096, &mine, NULL, NULL);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	rmdir(b);
	rmdir(a);
	rmdir(cg);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(text, "pids\ta\npids\ta/b\n");
	snprintf(want, sizeof(want), "pids\ta/b\t%d\n", (int)child);
	cr_assert_str_eq(ptext, want);
	cr_assert_eq(r2, 0);
	cr_assert_eq(moved, 1);
	snprintf(want, sizeof(want), "pids:%s/a/b\n", root);
	cr_assert_not_null(strstr(mine, want), "%s", mine);
	free(text);
	free(ptext);
	free(mine);
}

static void put_in(const char *sub, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	cr_assert_eq(nvz_mkdir_p(path, 0755, NULL), 0);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	cr_assert_eq(nvz_write_file_atomic(path, text, strlen(text), 0600, NULL), 0);
}

static char *got(const char *sub, const char *name)
{
	char path[512];
	char *text = NULL;
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	return nvz_read_file(path, 4096, &text, NULL, NULL) < 0 ? strdup("(none)") : text;
}

/* cgroup v2 below the CT's cgroup: controllers of every cgroup (its own
 * too) and the limits that differ from the kernel's defaults are saved,
 * parents first, and written back one controller at a time. */
Test(cpt, cgroup_props_saved_and_written_back)
{
	put_in("ct", "cgroup.subtree_control", "memory pids\n");
	put_in("ct", "pids.max", "40\n"); /* the CT's own: nvz's to set */
	put_in("ct/init.scope", "cgroup.subtree_control", "\n");
	put_in("ct/init.scope", "pids.max", "max\n");
	put_in("ct/system.slice", "cgroup.subtree_control", "memory pids\n");
	put_in("ct/system.slice/a.service", "pids.max", "4915\n");
	put_in("ct/system.slice/a.service", "memory.max", "max\n");
	put_in("ct/system.slice/a.service", "cpu.max", "50000 100000\n");
	char ct[512], list[512];
	snprintf(ct, sizeof(ct), "%s/ct", dir);
	snprintf(list, sizeof(list), "%s/props.list", dir);
	cr_assert_eq(nvz_cpt_cgprops_save(ct, list, NULL), 0);
	char *text = got(".", "props.list");
	cr_assert_str_eq(text, ".\tcgroup.subtree_control\tmemory pids\n"
			       "system.slice\tcgroup.subtree_control\tmemory pids\n"
			       "system.slice/a.service\tpids.max\t4915\n"
			       "system.slice/a.service\tcpu.max\t50000 100000\n");
	free(text);
	/* Written back into a tree where the files exist but are empty. */
	put_in("new", "cgroup.subtree_control", "");
	put_in("new/system.slice", "cgroup.subtree_control", "");
	put_in("new/system.slice/a.service", "pids.max", "");
	put_in("new/system.slice/a.service", "cpu.max", "");
	snprintf(ct, sizeof(ct), "%s/new", dir);
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_cpt_cgprops_apply(ct, list, &err), 0, "%s", err ? err->msg : "");
	const char *want[][3] = {
		{ "new", "cgroup.subtree_control", "+memory+pids" },
		{ "new/system.slice", "cgroup.subtree_control", "+memory+pids" },
		{ "new/system.slice/a.service", "pids.max", "4915" },
		{ "new/system.slice/a.service", "cpu.max", "50000 100000" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		text = got(want[i][0], want[i][1]);
		cr_assert_str_eq(text, want[i][2], "%s/%s", want[i][0], want[i][1]);
		free(text);
	}
}

/* The list comes with a dump: a line that would leave the CT's cgroup or
 * write anything but the files carried is refused, the rest still done,
 * and the first failure said. */
Test(cpt, cgroup_props_stay_inside)
{
	put_in("ct/a", "pids.max", "");
	put_in("outside", "pids.max", "");
	put_in("ct/a", "cgroup.procs", "");
	put("props.list", "../outside\tpids.max\t1\n"
			  "/abs\tpids.max\t1\n"
			  "a\tcgroup.procs\t1\n"
			  "a\tpids.max\t7\n"
			  "missing\tpids.max\t9\n");
	char ct[512], list[512];
	snprintf(ct, sizeof(ct), "%s/ct", dir);
	snprintf(list, sizeof(list), "%s/props.list", dir);
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_cpt_cgprops_apply(ct, list, &err), 0);
	cr_assert_not_null(strstr(err->msg, "bad line"), "%s", err->msg);
	cr_assert_not_null(strstr(err->msg, "../outside"), "%s", err->msg);
	nvz_error_free(err);
	char *text = got("outside", "pids.max");
	cr_assert_str_eq(text, "");
	free(text);
	text = got("ct/a", "cgroup.procs");
	cr_assert_str_eq(text, "");
	free(text);
	text = got("ct/a", "pids.max");
	cr_assert_str_eq(text, "7");
	free(text);
}

/* The post-dump handshake (hook.c), with a child standing in for criu and
 * its action script: vzctl's part runs once, while the "script" waits,
 * and its result is the script's; a criu that ends before post-dump never
 * runs it; the FIFOs are gone afterwards. */
static int hook_calls;
static int hook_ok(void *arg, struct nvz_error **err)
{
	(void)err;
	hook_calls++;
	return *(int *)arg;
}

static int run_hook(int result, bool script_runs, pid_t waiter, int *status)
{
	struct nvz_cpt_hook h;
	cr_assert_eq(nvz_cpt_hook_open(&h, dir, NULL), 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(script_runs ? (nvz_cpt_hook_post_dump(dir, waiter) == 0 ? 0 : 3) : 5);
	struct nvz_error *err = NULL;
	int r = nvz_cpt_hook_wait(&h, pid, hook_ok, &result, status, &err);
	nvz_error_free(err);
	nvz_cpt_hook_close(&h);
	return r;
}

Test(cpt, post_dump_hook)
{
	int status = -1;
	hook_calls = 0;
	cr_assert_eq(run_hook(0, true, 0, &status), 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "script saw a failure: %x", status);
	cr_assert_eq(hook_calls, 1);
	cr_assert_eq(run_hook(-1, true, 0, &status), -1);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3, "script saw success: %x", status);
	cr_assert_eq(hook_calls, 2);
	cr_assert_eq(run_hook(0, false, 0, &status), 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 5);
	cr_assert_eq(hook_calls, 2, "ran without being asked");
	/* With its waiter named (a live migration's): the answer, as before. */
	cr_assert_eq(run_hook(0, true, getpid(), &status), 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "script saw a failure: %x", status);
	cr_assert_eq(run_hook(-1, true, getpid(), &status), -1);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3, "script saw success: %x", status);
	char path[256];
	snprintf(path, sizeof(path), "%s/nvz-hook.go", dir);
	cr_assert(!nvz_path_exists(path), "FIFO left");
	/* Its waiter gone before any answer: the script fails, not waits on. */
	struct nvz_cpt_hook h;
	cr_assert_eq(nvz_cpt_hook_open(&h, dir, NULL), 0);
	pid_t gone = fork();
	if (gone == 0) {
		usleep(100 * 1000);
		_exit(0);
	}
	cr_assert_eq(nvz_cpt_hook_post_dump(dir, gone), -1);
	waitpid(gone, NULL, 0);
	nvz_cpt_hook_close(&h);
	/* No vzctl listening: the script fails at once, it does not hang. */
	cr_assert_eq(nvz_cpt_hook_post_dump(dir, 0), -1);
	cr_assert_eq(nvz_cpt_hook_post_dump(dir, getpid()), -1);
}

/* The trigger written again into a restored PSI file (lib/cpt/psi.c):
 * systemd's MEMORY_PRESSURE_WRITE for a memory file, else sd-event's. */
#define ENV_OF(s) s, sizeof(s) - 1
Test(cpt, psi_trigger_from_environment)
{
	char out[64];
	/* base64 of "some 150000 2000000\0", as PID 1 encodes it. */
	static const char env[] = "PATH=/bin\0MEMORY_PRESSURE_WATCH=/sys/fs/cgroup/x/memory.pressure\0"
				  "MEMORY_PRESSURE_WRITE=c29tZSAxNTAwMDAgMjAwMDAwMAA=\0HOME=/\0";
	ssize_t n = nvz_cpt_psi_trigger(ENV_OF(env), true, out, sizeof(out));
	cr_assert_eq(n, 20);
	cr_assert_eq(memcmp(out, "some 150000 2000000", 20), 0);
	/* Not systemd's kind of file: its default, not the variable. */
	n = nvz_cpt_psi_trigger(ENV_OF(env), false, out, sizeof(out));
	cr_assert_eq(n, 20);
	cr_assert_str_eq(out, "some 200000 2000000");
	/* Without padding it decodes too. */
	static const char nopad[] = "MEMORY_PRESSURE_WRITE=c29tZSA5OTAwMCAyMDAwMDAwAA\0";
	n = nvz_cpt_psi_trigger(ENV_OF(nopad), true, out, sizeof(out));
	cr_assert_eq(n, 19);
	cr_assert_eq(memcmp(out, "some 99000 2000000", 19), 0);
}

Test(cpt, psi_trigger_default)
{
	char out[64];
	static const char none[] = "PATH=/bin\0XMEMORY_PRESSURE_WRITE=c29tZQ==\0";
	static const char bad[] = "MEMORY_PRESSURE_WRITE=not*base64\0";
	static const char empty[] = "MEMORY_PRESSURE_WRITE=\0";
	const struct {
		const char *env;
		size_t len;
	} cases[] = { { ENV_OF(none) }, { ENV_OF(bad) }, { ENV_OF(empty) }, { "", 0 } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'x', sizeof(out));
		ssize_t n = nvz_cpt_psi_trigger(cases[i].env, cases[i].len, true, out, sizeof(out));
		cr_assert_eq(n, 20, "case %zu", i);
		cr_assert_str_eq(out, "some 200000 2000000", "case %zu", i);
	}
	/* A variable cut short (no NUL before the end) is not the process's
	 * value: the default, not a trigger decoded from half of it. */
	static const char cut[] = "MEMORY_PRESSURE_WRITE=c29tZSAxNTAwMDAgMjAwMDAwMAA=";
	cr_assert_eq(nvz_cpt_psi_trigger(cut, 30, true, out, sizeof(out)), 20);
	cr_assert_str_eq(out, "some 200000 2000000");
	/* No room for the trigger: refused. */
	static const char full[] = "MEMORY_PRESSURE_WRITE=c29tZSAxNTAwMDAgMjAwMDAwMAA=\0";
	cr_assert_eq(nvz_cpt_psi_trigger("", 0, true, out, 10), -1);
	cr_assert_eq(nvz_cpt_psi_trigger(ENV_OF(full), true, out, 4), -1);
}
