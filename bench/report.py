#!/usr/bin/env python3
"""Turn one bench run's raw data (hyperfine JSON files in OUT) into RESULTS.md.
Usage: report.py OUT > RESULTS.md. Every ratio compares figures of the same run."""
import json
import os
import statistics
import sys

OUT = sys.argv[-1]


def load(name):
    try:
        with open(os.path.join(OUT, name + ".json")) as f:
            times = json.load(f)["results"][0]["times"]
        return [float(t) for t in times] if times else None
    except (OSError, ValueError, KeyError, IndexError):
        return None


def med(name):
    t = load(name)
    return statistics.median(t) if t else None


def meta():
    d = {}
    try:
        with open(os.path.join(OUT, "meta")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                d[k] = v
    except OSError:
        pass
    return d


def fmt_ms(name):
    t = load(name)
    if not t:
        return "failed"
    m = statistics.median(t) * 1000
    lo, hi = min(t) * 1000, max(t) * 1000
    p = 1 if m < 100 else 0
    return f"{m:.{p}f} ({lo:.{p}f}–{hi:.{p}f})"


def ratio(a, b):
    x, y = med(a), med(b)
    if x is None or y is None or y == 0:
        return "–"
    return f"{x / y:.2f}"


# (label, nvz key, {column: key}) per row; columns are the other managers.
COLS = ["crun", "LXC lean", "LXC default", "floor"]
TIMES = [
    ("start busybox until init runs (simfs:shared)", "nvz-start-101",
     {"crun": "crun-start", "LXC lean": "lxclean-start", "LXC default": "lxcdefault-start", "floor": "floor-start"}),
    ("start busybox until init runs (ploop:shared)", "nvz-start-102",
     {"crun": "crun-start", "LXC lean": "lxclean-start", "LXC default": "lxcdefault-start", "floor": "floor-start"}),
    ("exec /bin/true (nvz: exec3)", "nvz-exec",
     {"crun": "crun-exec", "LXC lean": "lxclean-exec", "LXC default": "lxcdefault-exec"}),
    ("exec /bin/true via sh -c (nvz: exec)", "nvz-exec-sh",
     {"crun": "crun-exec", "LXC lean": "lxclean-exec", "LXC default": "lxcdefault-exec"}),
    ("stop (kill)", "nvz-kill", {"crun": "crun-kill", "LXC lean": "lxclean-kill", "LXC default": "lxcdefault-kill"}),
    ("stop (clean halt, busybox)", "nvz-halt",
     {"crun": "crun-halt", "LXC lean": "lxclean-halt", "LXC default": "lxcdefault-halt"}),
]
for t, what in (("bb", "busybox"), ("deb", "Debian 12")):
    for l in ("simfs-shared", "ploop-shared", "simfs", "ploop"):
        TIMES.append((f"create {what} ({l.replace('-', ':')})", f"nvz-create-{t}-{l}",
                      {"crun": f"crun-create-{t}", "LXC default": f"lxc-create-{t}"}))
    for l in ("simfs-shared", "ploop-shared", "simfs", "ploop"):
        TIMES.append((f"destroy {what} ({l.replace('-', ':')})", f"nvz-destroy-{t}-{l}",
                      {"crun": f"crun-destroy-{t}", "LXC default": f"lxc-destroy-{t}"}))
TIMES += [
    ("Debian 12 systemd to multi-user", "nvz-systemd", {"LXC default": "lxc-systemd"}),
    ("Debian 12 systemd to multi-user (nvz simfs: a plain directory, as LXC's)", "nvz-systemd-simfs",
     {"LXC default": "lxc-systemd"}),
    ("Debian 12 clean stop", "nvz-systemd-halt", {"LXC default": "lxc-systemd-halt"}),
]

# Goals: (text, value, limit); value and limit in the same unit.
def goals(n):
    def r(a, b, k=1.0):
        x, y = med(a), med(b)
        return (x, y * k) if x is not None and y is not None else (x, None)
    g = [
        ("start busybox <= 2x floor", *r("nvz-start-101", "floor-start", 2)),
        ("start busybox <= 0.5x crun run -d", *r("nvz-start-101", "crun-start", 0.5)),
        ("exec /bin/true <= 0.7x crun exec", *r("nvz-exec", "crun-exec", 0.7)),
        ("Debian systemd to multi-user <= 0.8x LXC", *r("nvz-systemd", "lxc-systemd", 0.8)),
        ("Debian clean stop <= 0.5x LXC", *r("nvz-systemd-halt", "lxc-systemd-halt", 0.5)),
        ("create busybox (simfs:shared) <= 20 ms", med("nvz-create-bb-simfs-shared"), 0.020),
        ("create busybox (ploop:shared) <= 20 ms", med("nvz-create-bb-ploop-shared"), 0.020),
        ("create Debian (simfs:shared) <= 0.1x LXC", *r("nvz-create-deb-simfs-shared", "lxc-create-deb", 0.1)),
        ("create Debian (ploop:shared) <= 0.1x LXC", *r("nvz-create-deb-ploop-shared", "lxc-create-deb", 0.1)),
        ("destroy busybox (simfs:shared) <= LXC", *r("nvz-destroy-bb-simfs-shared", "lxc-destroy-bb")),
        ("destroy Debian (simfs:shared) <= LXC", *r("nvz-destroy-deb-simfs-shared", "lxc-destroy-deb")),
        ("destroy Debian (ploop:shared) <= LXC", *r("nvz-destroy-deb-ploop-shared", "lxc-destroy-deb")),
        ("stop (kill) <= LXC lean", *r("nvz-kill", "lxclean-kill")),
        (f"memory per CT, whole system (MemAvailable drop over {n}) <= crun", *r("nvz-memavail", "crun-memavail")),
        ("manager's own processes <= 150 kB PSS per CT", med("nvz-pss"), 150),
        (f"{n} sequential starts <= 0.5x LXC", *r("nvz-many", "lxc-many", 0.5)),
    ]
    return g


def main():
    m = meta()
    n = m.get("nct", "50")
    w = print
    w("# nvz benchmarks: side by side with crun and LXC\n")
    w("Written by `bench/run.sh` (do not edit by hand; re-run it). One run, one machine: every ratio")
    w("compares figures measured in the same run.\n")
    w(f"- Run: {m.get('date', '?')}, kernel {m.get('kernel', '?')}, {m.get('cpus', '?')} CPUs, "
      f"load average at start {m.get('loadavg_start', '?')}, at end {m.get('loadavg_end', '?')}")
    w(f"- nvz {m.get('nvz', '?')}; {m.get('crun', '?')}; LXC {m.get('lxc', '?')}; {m.get('hyperfine', '?')}")
    w(f"- {m.get('runs', '?')} runs per busybox figure (fewer for halts, creates, Debian), "
      f"{n} containers for the density run{'; QUICK mode' if m.get('quick', '0') not in ('0', '') else ''}")
    w("- Other engineers run test suites on this 2-core machine at the same time: expect noise; "
      "min–max shows it.\n")
    w("## Goals\n")
    w("| goal | nvz | limit | met |")
    w("|---|---|---|---|")
    for text, v, lim in goals(n):
        unit_ms = "memory" not in text and "PSS" not in text
        def f(x):
            if x is None:
                return "–"
            return f"{x * 1000:.1f} ms" if unit_ms else f"{x:.0f} kB"
        met = "–" if v is None or lim is None else ("yes" if v <= lim else "**no**")
        if not unit_ms and "MemAvailable" in text and v is not None and lim is not None and min(v, lim) <= 0:
            met = "noise (a drop <= 0: other processes freed memory meanwhile)"
        w(f"| {text} | {f(v)} | {f(lim)} | {met} |")
    w("\n## Times (ms: median (min–max))\n")
    w("| operation | nvz | " + " | ".join(COLS) + " | nvz/crun | nvz/LXC lean | nvz/LXC default | nvz/floor |")
    w("|---|---|" + "---|" * len(COLS) + "---|---|---|---|")
    for label, nk, others in TIMES:
        if load(nk) is None and not any(load(k) for k in others.values()):
            continue
        cells = [fmt_ms(others[c]) if c in others else "" for c in COLS]
        rats = [ratio(nk, others[c]) if c in others else "" for c in ("crun", "LXC lean", "LXC default", "floor")]
        w(f"| {label} | {fmt_ms(nk)} | " + " | ".join(cells) + " | " + " | ".join(rats) + " |")
    w(f"\n## {n} containers (busybox) started one after another, and memory per running CT\n")
    w("| | nvz (simfs:shared) | crun | crun + nvz's functions | LXC default | nvz/crun | "
      "nvz/(crun + nvz's functions) | nvz/LXC |")
    w("|---|---|---|---|---|---|---|---|")
    def sec(k):
        v = med(k)
        return "failed" if v is None else f"{v:.2f} s"
    def kb(k):
        v = med(k)
        return "failed" if v is None else f"{v:.0f} kB"
    for label, key, fmt in ((f"{n} sequential starts (total)", "many", sec),
                            ("MemAvailable drop per CT (+ per-CPU free pages, caches dropped; METHOD.md)",
                             "memavail", kb),
                            ("memory charged per CT (memcg: anon + tmpfs + kernel objects; exact)", "memcg", kb),
                            ("manager's per-CT processes, PSS per CT", "pss", kb)):
        cells = [fmt(f"{who}-{key}") for who in ("nvz", "crun", "crunfn", "lxc")]
        # crun keeps no process per CT: no ratio to its 0.
        rats = ["" if key == "pss" and who == "crun" else ratio(f"nvz-{key}", f"{who}-{key}")
                for who in ("crun", "crunfn", "lxc")]
        w(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(rats) + " |")
    if load("ba-after-start") or load("ba-before-start"):
        w(f"\n## Before and after the fixes (same run; each build on a server of its own, the two taking turns round by round; before = {m.get('before', '?')})\n")
        w("| operation (ms) | before | after | after/before |")
        w("|---|---|---|---|")
        for k, label in (("status", "`vzctl status` (command start-up)"), ("start", "start until init runs"),
                         ("exec", "exec3 /bin/true"), ("kill", "stop --fast")):
            w(f"| {label} | {fmt_ms('ba-before-' + k)} | {fmt_ms('ba-after-' + k)} | "
              f"{ratio('ba-after-' + k, 'ba-before-' + k)} |")
    # Hand-written notes kept beside the scripts: what was profiled and
    # fixed (PROFILE.md), how each figure is taken (METHOD.md).
    for name in ("PROFILE.md", "METHOD.md"):
        notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
        if os.path.exists(notes):
            w("")
            with open(notes) as f:
                w(f.read().rstrip("\n"))


# --- bench/cpt.sh: freeze time of checkpoint + restore ---------------------

def varints(buf):
    """Top-level (field, value) pairs of a protobuf message of varints, and
    the bytes of embedded messages (wire type 2)."""
    i, out = 0, []
    def varint():
        nonlocal i
        v = sh = 0
        while True:
            b = buf[i]
            i += 1
            v |= (b & 0x7f) << sh
            sh += 7
            if not b & 0x80:
                return v
    while i < len(buf):
        key = varint()
        f, wt = key >> 3, key & 7
        if wt == 0:
            out.append((f, varint()))
        elif wt == 2:
            n = varint()
            out.append((f, buf[i:i + n]))
            i += n
        else:
            break
    return out


def criu_stats(path):
    """criu's stats-dump / stats-restore (8 bytes of magic, a u32 size, a
    StatsEntry: dump = 1 {freezing_time = 1, frozen_time = 2, memdump_time
    = 3, memwrite_time = 4, pages_written = 7}, restore = 2 {forking_time =
    3, restore_time = 4}; times in us) as a dict of field -> seconds."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        n = int.from_bytes(data[8:12], "little")
        top = dict(varints(data[12:12 + n]))
        sub = top.get(1) or top.get(2)
        return {k: v / 1e6 for k, v in varints(sub)} if sub else None
    except (OSError, IndexError, ValueError):
        return None


def cpt_stat(who, mb, kind, field):
    vals = []
    d = os.path.join(OUT, "stats")
    try:
        names = os.listdir(d)
    except OSError:
        return None
    for nm in names:
        if nm.startswith(f"{who}-{mb}-") and nm.endswith("." + kind):
            st = criu_stats(os.path.join(d, nm))
            if st and field in st:
                vals.append(st[field])
    return statistics.median(vals) if vals else None


def cpt_report():
    m = meta()
    w = print
    who = [("nvz", "nvz (`vzctl chkpnt` + `restore --no-lazy`)"),
           ("nvzlazy", "nvz, post-copy (`vzctl chkpnt` + `restore --lazy`)"),
           ("lxc", "LXC (`lxc-checkpoint -s` + `-r`)"),
           ("nvzcriu", "plain criu, nvz's CT tree (`dump` + `restore -d`)"),
           ("plain", "plain criu, processes only (pid ns + chroot)")]
    if m.get("before"):
        who.append(("nvzbefore", f"nvz before ({m['before']})"))
    w("<!-- cpt: written by bench/cpt.sh (bench/CPT.md); do not edit by hand -->")
    w("## Checkpoint + restore: freeze time (bench/cpt.sh)\n")
    w(f"- Run: {m.get('date', '?')}, kernel {m.get('kernel', '?')}, {m.get('cpus', '?')} CPUs, load "
      f"{m.get('loadavg_start', '?')} at start, {m.get('loadavg_end', '?')} at end; {m.get('criu', '?')} "
      f"for all; LXC {m.get('lxc', '?')}; nvz {m.get('nvz', '?')}; {m.get('runs', '?')} runs per figure")
    w("- **freeze** = the longest step of `CLOCK_REALTIME` that a probe process inside the container "
      "saw (`bench/gap.c`, 1 ms ticks): from its last instruction before the freeze to its first after "
      "the restore. criu's figures are from its stats files (`frozen_time`: frozen until the dump "
      "ended; `restore_time`); the command figures are wall times of the whole commands.\n")
    for mb in m.get("sizes", "0 256").split():
        what = "busybox CT" if mb == "0" else f"busybox CT + {mb} MB of touched anonymous memory"
        w(f"### {what}\n")
        w("| ms, median (min–max) | freeze (probe) | dump command | restore command | criu frozen | "
          "criu memdump | criu restore |")
        w("|---|---|---|---|---|---|---|")
        for k, label in who:
            def st(kind, field):
                v = cpt_stat(k, mb, kind, field)
                return "–" if v is None else f"{v * 1000:.0f}"
            w(f"| {label} | {fmt_ms(f'{k}-{mb}-gap')} | {fmt_ms(f'{k}-{mb}-dumpcmd')} | "
              f"{fmt_ms(f'{k}-{mb}-restorecmd')} | {st('dump', 2)} | {st('dump', 3)} | "
              f"{st('restore', 4)} |")
        # The goal row is what `vzctl restore` does by default (LAZY_RESTORE=auto:
        # post-copy from 128 MB of pages in the dump); the other one is shown too.
        for k, dflt in (("nvz", int(mb) < 128), ("nvzlazy", int(mb) >= 128)):
            lx, pl = ratio(f"{k}-{mb}-gap", f"lxc-{mb}-gap"), ratio(f"{k}-{mb}-gap", f"nvzcriu-{mb}-gap")
            po = ratio(f"{k}-{mb}-gap", f"plain-{mb}-gap")
            def met(r, lim):
                return "–" if r == "–" else ("met" if float(r) <= lim else "**not met**")
            name = "nvz `--lazy`" if k == "nvzlazy" else "nvz `--no-lazy`"
            tag = ("**goal row** (what `vzctl restore` does by default for this dump: LAZY_RESTORE=auto, "
                   "post-copy from 128 MB of pages)" if dflt else "not the default for this dump")
            w(f"\n{name}, {tag}: / LXC = {lx} (goal <= 0.5: {met(lx, 0.5)}); / plain criu on the same "
              f"tree = {pl} (goal <= 1.2: {met(pl, 1.2)}); / plain criu, processes only = {po}")
        w("")
    mig = os.path.join(OUT, "migrate.md")
    if os.path.exists(mig):
        w("### Online migration (bench/migrate.sh)\n")
        w("Two servers on this machine (network namespaces with their own sshd, as in "
          "tests/integration/test_migrate.sh), the disk copied by rsync over ssh. ms, medians:\n")
        w("| | freeze (probe) | vzmigrate: CT down | checkpoint | final sync (disk + dump) | restore there |")
        w("|---|---|---|---|---|---|")
        with open(mig) as f:
            w(f.read().rstrip("\n"))
        w("")
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "CPT-NOTES.md")
    if os.path.exists(notes):
        with open(notes) as f:
            w(f.read().rstrip("\n"))
    w("<!-- /cpt -->")


def splice(results, section):
    """Put SECTION (a file) into RESULTS between the cpt markers, or at the
    end; everything else in RESULTS is kept."""
    with open(section) as f:
        sec = f.read().rstrip("\n") + "\n"
    try:
        with open(results) as f:
            text = f.read()
    except OSError:
        text = ""
    a = text.find("<!-- cpt:")
    b = text.find("<!-- /cpt -->")
    if a >= 0 and b > a:
        text = text[:a] + sec + text[b + len("<!-- /cpt -->\n"):]
    else:
        text = text.rstrip("\n") + "\n\n" + sec
    with open(results + ".tmp", "w") as f:
        f.write(text)
    os.replace(results + ".tmp", results)


if sys.argv[1] == "--cpt":
    cpt_report()
elif sys.argv[1] == "--splice":
    splice(sys.argv[2], sys.argv[3])
else:
    main()
    # The freeze-time section of bench/cpt.sh, kept when run.sh rewrites.
    cpt = os.path.join(os.path.dirname(os.path.abspath(__file__)), "CPT.md")
    if os.path.exists(cpt):
        print("")
        with open(cpt) as f:
            print(f.read().rstrip("\n"))
