#!/usr/bin/env python3
"""Where the memory of N running CTs went, by kernel counter, side by side.

Reads the snapshots that `BENCH_MEMSNAP=DIR bench/run.sh` leaves at each
memory reading of the N-sequential-starts block (DIR/WHO.ROUND.{0,1}.*) and
prints, per CT and per tool, the change of each /proc/meminfo field, each
slab cache (active objects x object size) and each vmalloc caller, with the
median over rounds; sorted by how much the first two tools differ.

usage: memdiff.py DIR N [WHO...]   (WHO: nvz crun crunfn lxc; default nvz crun)
"""
import glob
import os
import re
import signal
import statistics
import sys


def meminfo(path):
    out = {}
    for line in open(path):
        key, val = line.split(':', 1)
        out['meminfo ' + key] = int(val.split()[0])
    return out


def slabinfo(path):
    out = {}
    for line in open(path):
        if line.startswith(('slabinfo', '#')):
            continue
        f = line.split()
        out['slab ' + f[0]] = int(f[1]) * int(f[3]) / 1024
    return out


def vmallocinfo(path):
    out = {}
    for line in open(path):
        f = line.split()
        m = re.match(r'([\w.]+)\+', f[2]) if len(f) > 2 else None
        if not m or 'pages=' not in line:
            continue
        pages = int(re.search(r'pages=(\d+)', line).group(1))
        key = 'vmalloc ' + m.group(1)
        out[key] = out.get(key, 0) + pages * 4
    return out


def pcp_kb(path):
    return sum(int(l.split()[1]) for l in open(path) if l.split()[:1] == ['count:']) * 4


def snapshot(prefix):
    out = {}
    out.update(meminfo(prefix + '.meminfo'))
    out.update(slabinfo(prefix + '.slabinfo'))
    out.update(vmallocinfo(prefix + '.vmallocinfo'))
    # The figure bench/lib.sh reports (mem_avail_kb): MemAvailable plus
    # the free pages on the per-CPU lists.
    out['= available'] = out['meminfo MemAvailable'] + pcp_kb(prefix + '.zoneinfo')
    return out


def per_ct(d, who, n):
    rounds = sorted({os.path.basename(p).split('.')[1] for p in glob.glob(f'{d}/{who}.*.0.meminfo')})
    deltas = []
    for r in rounds:
        a, b = snapshot(f'{d}/{who}.{r}.0'), snapshot(f'{d}/{who}.{r}.1')
        deltas.append({k: (b[k] - a.get(k, 0)) / n for k in b})
    keys = set().union(*deltas) if deltas else set()
    return {k: statistics.median(x.get(k, 0) for x in deltas) for k in keys}


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # | head
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    d, n = sys.argv[1], int(sys.argv[2])
    tools = sys.argv[3:] or ['nvz', 'crun']
    res = {w: per_ct(d, w, n) for w in tools}
    keys = set().union(*res.values())
    first, second = tools[0], tools[1] if len(tools) > 1 else tools[0]
    keys = sorted(keys, key=lambda k: -abs(res[first].get(k, 0) - res[second].get(k, 0)))
    print('kB per CT'.ljust(40) + ''.join(w.rjust(10) for w in tools) + 'diff'.rjust(10))
    for k in keys[:45]:
        vals = ''.join(f'{res[w].get(k, 0):10.1f}' for w in tools)
        print(k[:40].ljust(40) + vals + f'{res[first].get(k, 0) - res[second].get(k, 0):10.1f}')


if __name__ == '__main__':
    main()
