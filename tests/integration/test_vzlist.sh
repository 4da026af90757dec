# vzlist integration tests: functions t_vzlist_* for tests/run.sh.
# The runner provides $VZLIST, $VZCTL, an exported $VZ_CONF and $T, the
# test's own server root (vz.conf, conf/, names/, private/, root/), and
# fail "msg". Containers here are config files plus a private directory:
# nothing is started, so every CT is stopped.

# _vzl_ct ID [KEY=VALUE ...]: a stopped CT with these config values.
_vzl_ct()
{
	local id=$1 kv
	shift
	mkdir -p "$T/conf" "$T/private/$id" "$T/root/$id"
	{
		# Paths in the CT's own file: independent of the runner's vz.conf.
		printf 'VE_PRIVATE="%s"\nVE_ROOT="%s"\n' "$T/private/$id" "$T/root/$id"
		for kv in "$@"; do
			printf '%s="%s"\n' "${kv%%=*}" "${kv#*=}"
		done
	} >"$T/conf/$id.conf"
}

# _vzl_name NAME ID: what vzctl set --name --save leaves behind.
_vzl_name()
{
	mkdir -p "$T/names"
	ln -sfn "$T/conf/$2.conf" "$T/names/$1"
	printf 'NAME="%s"\n' "$1" >>"$T/conf/$2.conf"
}

# _vzl_run ARGS...: run vzlist; stdout in $T/out, stderr in $T/err, status in $rc.
_vzl_run()
{
	"$VZLIST" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

_vzl_expect_out()
{
	local want=$1
	if [ "$(cat "$T/out")" != "$want" ]; then
		fail "vzlist output:
$(cat "$T/out")
expected:
$want"
		return 1
	fi
}

_vzl_json_check()
{
	# $1: python expression over d (the parsed output); must be true.
	# The VM lane's guest has no python: the JSON is checked on the host.
	command -v python3 >/dev/null || { echo "note: no python3, JSON not checked: $1"; return 0; }
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out" "$1" || {
		fail "JSON check failed: $1
$(cat "$T/out")"
		return 1
	}
}

HDR='      CTID      NPROC STATUS    IP_ADDR         HOSTNAME'

t_vzlist_default_header()
{
	_vzl_ct 101 HOSTNAME=ct101.example.com "IP_ADDRESS=10.0.0.1 10.0.0.2"
	_vzl_run -a
	[ $rc -eq 0 ] || fail "exit $rc"
	_vzl_expect_out "$HDR
       101          - stopped   10.0.0.1        ct101.example.com"
}

t_vzlist_missing_values_dash()
{
	_vzl_ct 7
	_vzl_run -a
	_vzl_expect_out "$HDR
         7          - stopped   -               -"
}

t_vzlist_running_only_by_default()
{
	_vzl_ct 101 HOSTNAME=a
	_vzl_run
	[ $rc -eq 0 ] || fail "no running CT is not an error without CTIDs (exit $rc)"
	[ -s "$T/out" ] && fail "stdout should be empty: $(cat "$T/out")"
	grep -qx 'Container(s) not found' "$T/err" || fail "stderr: $(cat "$T/err")"
}

t_vzlist_not_found_exit()
{
	_vzl_ct 101
	_vzl_run 999
	[ $rc -eq 1 ] || fail "unknown CTID: exit $rc, want 1"
	grep -qx 'Container(s) not found' "$T/err" || fail "stderr: $(cat "$T/err")"
	_vzl_run -j 999
	[ $rc -eq 1 ] || fail "JSON: exit $rc, want 1"
	_vzl_expect_out "[]"
	# An empty server: nothing to list, still not an error.
	rm -f "$T/conf/101.conf"
	_vzl_run -a
	[ $rc -eq 0 ] || fail "empty server: exit $rc"
}

t_vzlist_invalid_ctid()
{
	_vzl_run no-such-name
	[ $rc -eq 1 ] || fail "exit $rc"
	grep -qx 'CT ID no-such-name is invalid.' "$T/err" || fail "stderr: $(cat "$T/err")"
}

t_vzlist_ctid_args_restrict()
{
	_vzl_ct 101
	_vzl_ct 102
	_vzl_ct 103
	_vzl_run -1 103 101
	_vzl_expect_out "       101
       103"
	# A stopped CT named on the command line is listed without -a.
	_vzl_run -H -o ctid,status 102
	_vzl_expect_out "       102 stopped"
}

t_vzlist_names()
{
	_vzl_ct 101 HOSTNAME=h1
	_vzl_ct 102 HOSTNAME=h2
	_vzl_name web 101
	_vzl_run -1 web
	_vzl_expect_out "       101" || return
	_vzl_run -a -n -H
	_vzl_expect_out "       web          - stopped   -               h1
       102          - stopped   -               h2" || return
	# A NAME whose link points elsewhere is not this CT's name.
	printf 'NAME="web"\n' >>"$T/conf/102.conf"
	_vzl_run -a -H -o ctid,name
	_vzl_expect_out "       101 web
       102 -"
}

t_vzlist_no_header_and_one()
{
	_vzl_ct 101
	_vzl_ct 102
	_vzl_run -a -H
	[ "$(head -n1 "$T/out")" = "$HDR" ] && fail "-H printed the header"
	[ "$(wc -l <"$T/out")" -eq 2 ] || fail "want 2 lines: $(cat "$T/out")"
	_vzl_run -a -1
	_vzl_expect_out "       101
       102"
}

t_vzlist_output_fields()
{
	_vzl_ct 101 HOSTNAME=h OSTEMPLATE=debian-12-x86_64 DESCRIPTION=desc ONBOOT=yes \
		BOOTORDER=3 CPUUNITS=1000 CPULIMIT=50 CPUS=2 VE_LAYOUT=simfs
	_vzl_run -a -o ctid,ostemplate,description,onboot,bootorder,cpuunits,cpulimit,cpus,layout,disabled,private
	_vzl_expect_out "      CTID OSTEMPLATE                       DESCRIPTION                      ONBOOT  BOOTORDER  CPUUNI  CPULIM  CPUS LAYOUT DISABL PRIVATE
       101 debian-12-x86_64                 desc                                yes          3    1000      50     2 simfs      no $T/private/101"
}

t_vzlist_trim()
{
	local long=a-very-long-hostname-over-thirty-two-chars.example.com
	_vzl_ct 101 HOSTNAME=$long "IP_ADDRESS=10.0.0.1 10.0.0.2"
	_vzl_run -a -H -o hostname,ip,ctid
	_vzl_expect_out "a-very-long-hostname-over-thirty 10.0.0.1               101" || return
	_vzl_run -a -H -t -o hostname,ip,ctid
	_vzl_expect_out "$long 10.0.0.1 10.0.0.2        101" || return
	# The last column is never cut.
	_vzl_run -a -H -o ctid,hostname
	_vzl_expect_out "       101 $long"
}

t_vzlist_ubc_from_config()
{
	local pages=$(( (256 << 20) / $(getconf PAGESIZE) ))
	_vzl_ct 101 KMEMSIZE=14372700:14790164 PHYSPAGES=0:256M NUMPROC=unlimited \
		DISKSPACE=10G:11G DISKINODES=200000:220000
	_vzl_run -a -H -o kmemsize,kmemsize.b,kmemsize.l,kmemsize.f,physpages.l,diskspace.s,diskinodes.h,vswap
	_vzl_expect_out "$(printf '%10s %10s %10s %10s %10s %10s %10s %5s' - 14372700 14790164 - \
		"$pages" 10485760 220000 yes)" || return
	_vzl_run -a -H -o numproc.b
	_vzl_expect_out "9223372036854775807"
}

t_vzlist_json()
{
	command -v python3 >/dev/null || { echo "skip: no python3"; return 0; }
	_vzl_ct 101 HOSTNAME=ct101 'DESCRIPTION=say \"hi\" back\\slash ünï' "IP_ADDRESS=10.0.0.1 10.0.0.2" \
		KMEMSIZE=1:2 ONBOOT=yes BOOTORDER=4
	_vzl_ct 102
	_vzl_name web 101
	_vzl_run -a -j
	[ $rc -eq 0 ] || fail "exit $rc"
	_vzl_json_check 'len(d) == 2 and d[0]["ctid"] == 101 and d[1]["ctid"] == 102' || return
	_vzl_json_check 'd[0]["description"] == "say \"hi\" back\\slash ünï"' || return
	_vzl_json_check 'd[0]["ip"] == ["10.0.0.1", "10.0.0.2"] and d[1]["ip"] == []' || return
	_vzl_json_check 'd[0]["name"] == "web" and d[0]["smart_name"] == "web" and d[1]["smart_name"] == 102' || return
	_vzl_json_check 'd[0]["onboot"] is True and d[1]["onboot"] is None and d[0]["bootorder"] == 4' || return
	_vzl_json_check 'd[1]["hostname"] is None and d[1]["bootorder"] is None' || return
	_vzl_json_check 'd[0]["kmemsize"] == {"held": 0, "maxheld": 0, "barrier": 1, "limit": 2, "failcnt": 0}' || return
	_vzl_json_check 'd[0]["status"] == "stopped" and "kmemsize.b" not in d[0]' || return
	_vzl_run -a -j -o ctid,hostname
	_vzl_json_check 'd == [{"ctid": 101, "hostname": "ct101"}, {"ctid": 102, "hostname": None}]'
}

t_vzlist_json_suffix_refused()
{
	_vzl_ct 101
	_vzl_run -a -j -o kmemsize.b
	[ $rc -eq 1 ] || fail "exit $rc"
	grep -qx "Field \`kmemsize.b' is not available in JSON output" "$T/err" || fail "stderr: $(cat "$T/err")"
}

t_vzlist_unknown_field()
{
	_vzl_run -a -o ctid,bogus
	[ $rc -eq 1 ] || fail "exit $rc"
	grep -qx 'Unknown field: bogus' "$T/err" || fail "stderr: $(cat "$T/err")"
	_vzl_run -a -s bogus
	[ $rc -eq 1 ] || fail "sort: exit $rc"
	grep -qx 'Invalid sort field name: bogus' "$T/err" || fail "stderr: $(cat "$T/err")"
}

t_vzlist_sort_hostname()
{
	_vzl_ct 101 HOSTNAME=charlie
	_vzl_ct 102 HOSTNAME=alpha
	_vzl_ct 103 HOSTNAME=bravo
	_vzl_ct 104
	_vzl_run -a -H -s hostname -o ctid
	_vzl_expect_out "       104
       102
       103
       101" || return
	_vzl_run -a -H -s -hostname -o ctid
	_vzl_expect_out "       101
       103
       102
       104"
}

t_vzlist_sort_numeric()
{
	_vzl_ct 101 BOOTORDER=10
	_vzl_ct 102 BOOTORDER=9
	_vzl_ct 103
	_vzl_ct 104 BOOTORDER=100
	# The initscript's order: highest first, unset last.
	_vzl_run -a -H -s-bootorder -o ctid
	_vzl_expect_out "       104
       101
       102
       103" || return
	_vzl_run -a -H -s -ctid -o ctid
	_vzl_expect_out "       104
       103
       102
       101"
}

t_vzlist_filters()
{
	_vzl_ct 101 HOSTNAME=web1.example.com DESCRIPTION="front end"
	_vzl_ct 102 HOSTNAME=db1.example.com DESCRIPTION="database"
	_vzl_ct 103
	_vzl_name www 101
	_vzl_run -a -1 -h 'web*'
	_vzl_expect_out "       101" || return
	_vzl_run -a -1 -h '*.example.com'
	_vzl_expect_out "       101
       102" || return
	_vzl_run -a -1 -N 'w?w'
	_vzl_expect_out "       101" || return
	_vzl_run -a -1 -d 'data*'
	_vzl_expect_out "       102" || return
	_vzl_run -a -1 -d 'nomatch*'
	[ $rc -eq 0 ] || fail "a filter matching nothing is not an error (exit $rc)"
	[ -s "$T/out" ] && fail "output: $(cat "$T/out")"
	return 0
}

t_vzlist_stopped_flag()
{
	_vzl_ct 101
	_vzl_ct 102
	_vzl_run -S -1
	_vzl_expect_out "       101
       102"
}

t_vzlist_without_private_hidden()
{
	_vzl_ct 101
	_vzl_ct 102
	rmdir "$T/private/102"
	_vzl_run -a -1
	_vzl_expect_out "       101" || return
	_vzl_run 102
	[ $rc -eq 1 ] || fail "a config without a private area is not a CT (exit $rc)"
}

t_vzlist_list_fields()
{
	_vzl_run -L
	[ $rc -eq 0 ] || fail "exit $rc"
	grep -q '^ctid  *CTID *$' "$T/out" || fail "no ctid in -L"
	grep -q '^numproc\.b  *NPROC\.B *$' "$T/out" || fail "no numproc.b in -L"
	grep -q '^diskspace\.h  *DSPACE\.H *$' "$T/out" || fail "no diskspace.h in -L"
}

t_vzlist_non_root()
{
	command -v setpriv >/dev/null || { echo "skip: no setpriv"; return 0; }
	setpriv --reuid=65534 --regid=65534 --clear-groups "$VZLIST" -a >"$T/out" 2>"$T/err"
	rc=$?
	# Unreachable binary for nobody: nothing to check.
	grep -q 'Permission denied' "$T/err" && { echo "skip: $VZLIST not executable by nobody"; return 0; }
	[ $rc -eq 1 ] || fail "exit $rc"
	grep -qx 'This program can only be run under root.' "$T/err" || fail "stderr: $(cat "$T/err")"
}

# vzctl status and vzlist agree on a CT's state, as OpenVZ's did: a dump
# in DUMPDIR makes a stopped CT "suspended", but only one that exists; a
# dump left behind by a CT whose private area is gone is no CT at all.
t_vzlist_status_suspended_only_if_exists()
{
	_vzl_ct 101
	expect_rc 0 "$VZCTL" status 101
	[ "$OUT" = "CTID 101 exist unmounted down" ] || fail "stopped: $OUT"
	mkdir -p "$T/dump/Dump.101"
	expect_rc 0 "$VZCTL" status 101
	[ "$OUT" = "CTID 101 exist unmounted down suspended" ] || fail "with a dump: $OUT"
	_vzl_run -S -H -o ctid,status
	_vzl_expect_out "       101 suspended" || return
	mv "$T/private/101" "$T/private/101.gone"
	expect_rc 0 "$VZCTL" status 101
	[ "$OUT" = "CTID 101 deleted unmounted down" ] || fail "private area gone: $OUT"
	_vzl_run -a -H -o ctid,status
	[ -s "$T/out" ] && fail "listed without a private area: $(cat "$T/out")"
	# No config either (a dump left by a CT that went away).
	rm "$T/conf/101.conf"
	mv "$T/private/101.gone" "$T/private/101"
	expect_rc 0 "$VZCTL" status 101
	[ "$OUT" = "CTID 101 deleted unmounted down" ] || fail "no config: $OUT"
	return 0
}

# OpenVZ's later fields: laverage, uptime, iolimit, iopslimit, features,
# vm_overcommit, netfilter (a script asking for one must not get "Unknown
# field"), with OpenVZ's widths, "-" for unknown and JSON types.
t_vzlist_io_features_fields()
{
	_vzl_ct 101 "FEATURES=nfs:on sysfs:off bridge:on" IOLIMIT=1048576 IOPSLIMIT=0 \
		VM_OVERCOMMIT=1.5 NETFILTER=stateless
	_vzl_ct 102
	_vzl_run -a -o ctid,laverage,uptime,iolimit,iopslimit,vm_overcommit,netfilter,features
	[ $rc -eq 0 ] || fail "exit $rc: $(cat "$T/err")"
	_vzl_expect_out "      CTID       LAVERAGE          UPTIME    IOLIMIT IOPS VM_OVC NETFILTER       FEATURES
       101              -               -    1048576    -    1.5 stateless sysfs:off,nfs:on,bridge:on
       102              -               -          -    -      - -      -" || return
	# Trimmed unless last.
	_vzl_run -a -H -o features,ctid 101
	_vzl_expect_out "sysfs:off,nfs:o        101" || return
	_vzl_run -a -j 101 102
	_vzl_json_check '(d[0]["laverage"] is None and d[0]["uptime"] == 0 and d[0]["iolimit"] == 1048576
		and d[0]["iopslimit"] == 0 and d[0]["vm_overcommit"] == 1.5 and d[0]["netfilter"] == "stateless"
		and d[0]["features"] == {"sysfs": False, "nfs": True, "bridge": True}
		and d[1]["features"] is None and d[1]["iolimit"] == 0 and d[1]["cpus"] == 0
		and d[1]["ioprio"] == 0 and d[1]["vm_overcommit"] == 0 and d[1]["netfilter"] is None
		and list(d[0])[list(d[0]).index("diskinodes") + 1:] == ["laverage", "uptime", "cpulimit",
			"cpuunits", "cpus", "ioprio", "iolimit", "iopslimit", "onboot", "bootorder", "layout",
			"features", "vswap", "disabled", "vm_overcommit", "netfilter"])' || return
	"$VZLIST" -L | grep -q '^uptime  *UPTIME *$' || fail "-L lacks uptime"
}

# uptime of a running CT: time since its init started, OpenVZ's format.
t_vzlist_uptime_running()
{
	start_busybox 201
	sleep 2
	_vzl_run -H -o uptime 201
	grep -Eq '^000d00h:0[0-9]m:[0-9]{2}s$' "$T/out" || fail "uptime: $(cat "$T/out") $(cat "$T/err")"
	[ "$(cat "$T/out")" != "000d00h:00m:00s" ] || fail "uptime is 0"
	_vzl_run -j -o uptime 201
	_vzl_json_check 'd[0]["uptime"] >= 1.5 and d[0]["uptime"] < 600' || return
	# A running CT's CPU pair is always known: the default units it runs with.
	sed -i -e '/^CPUUNITS=/d' -e '/^CPULIMIT=/d' "$T/conf/201.conf"
	_vzl_run -H -o cpulimit,cpuunits 201
	_vzl_expect_out "      0    1000"
}

# onboot: "-" (null) when ONBOOT is not in the config, as OpenVZ 4.x.
t_vzlist_onboot_unset()
{
	_vzl_ct 101 ONBOOT=yes
	_vzl_ct 102 ONBOOT=no
	_vzl_ct 103
	_vzl_run -a -H -o ctid,onboot
	_vzl_expect_out "       101    yes
       102     no
       103      -" || return
	_vzl_run -a -j -o onboot
	_vzl_json_check '[x["onboot"] for x in d] == [True, False, None]'
}

# -s -field prints the sorted list backwards, ties included (OpenVZ
# reverses the whole array); equal bootorders tie the other way round.
t_vzlist_sort_reverse_ties()
{
	_vzl_ct 101 HOSTNAME=same BOOTORDER=5
	_vzl_ct 102 HOSTNAME=same BOOTORDER=5
	_vzl_ct 103 HOSTNAME=alpha
	_vzl_run -a -H -s -hostname -o ctid
	_vzl_expect_out "       102
       101
       103" || return
	_vzl_run -a -H -s bootorder -o ctid
	_vzl_expect_out "       103
       102
       101" || return
	_vzl_run -a -H -s -bootorder -o ctid
	_vzl_expect_out "       101
       102
       103"
}

# -j with nothing to list: an empty array and a quiet stderr (OpenVZ's
# vzlist prints "Container(s) not found" only for text output).
t_vzlist_json_empty_quiet()
{
	_vzl_ct 101
	_vzl_run -j 999
	[ $rc -eq 1 ] || fail "exit $rc, want 1"
	_vzl_expect_out "[]" || return
	[ ! -s "$T/err" ] || fail "stderr: $(cat "$T/err")"
	_vzl_run -j
	[ $rc -eq 0 ] && [ ! -s "$T/err" ] || fail "no running CT: exit $rc, stderr $(cat "$T/err")"
	_vzl_expect_out "[]" || return
	# CTs found but all filtered out: OpenVZ's "[", "]".
	_vzl_run -a -j -h nomatch
	_vzl_expect_out "[
]"
}

# cpulimit/cpuunits: OpenVZ knows the pair when the config sets either (or
# the CT runs); the unset one is then 0, not "-". The samples set only
# CPUUNITS, so most CTs show CPULIM 0.
t_vzlist_cpu_pair()
{
	_vzl_ct 101 CPUUNITS=1000
	_vzl_ct 102 CPULIMIT=25
	_vzl_ct 103
	_vzl_run -a -o ctid,cpulimit,cpuunits
	_vzl_expect_out "      CTID  CPULIM  CPUUNI
       101       0    1000
       102      25       0
       103       -       -" || return
	_vzl_run -a -j -o cpulimit,cpuunits
	_vzl_json_check 'd == [{"cpulimit": 0, "cpuunits": 1000}, {"cpulimit": 25, "cpuunits": 0},
		{"cpulimit": None, "cpuunits": None}]'
}

# CPULIMIT="N%" is N per cent of the whole host (vzctl's parse_cpulimit):
# listed as the per-CPU figure the CT is limited to.
t_vzlist_cpulimit_percent()
{
	_vzl_ct 104 CPULIMIT=25%
	_vzl_run -H -o cpulimit 104
	[ "$rc" -eq 0 ] && [ "$(tr -d ' ' <"$T/out")" = "$((25 * $(nproc)))" ] ||
		fail "cpulimit of 25%: $(cat "$T/out" "$T/err")"
}

# A running CT's ip is what it has now (OpenVZ asks the kernel): a live
# --ipadd without --save is listed; stopped, the config again.
t_vzlist_ip_live()
{
	net_setup
	srv "$VZCTL" --quiet create 1401 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1401 --ipadd 10.77.0.40 --save
	expect_rc 0 srv "$VZCTL" start 1401
	wait_for 100 srv "$VZCTL" exec 1401 'test -e /run/nvz-boot.done' || fail "no boot"
	expect_rc 0 srv "$VZCTL" set 1401 --ipadd 10.77.0.41
	_vzl_run -H -o ip 1401
	_vzl_expect_out "10.77.0.40 10.77.0.41" || return
	_vzl_run -j -o ip 1401
	_vzl_json_check 'd[0]["ip"] == ["10.77.0.40", "10.77.0.41"]' || return
	expect_rc 0 srv "$VZCTL" stop 1401 --fast
	_vzl_run -a -H -o ip 1401
	_vzl_expect_out "10.77.0.40"
}

# A running CT's addresses as OpenVZ's kernel list had them: without the
# /prefix they were added with (nvz listed "2001:db8:77::42/64").
t_vzlist_ip_live_no_prefix()
{
	net_setup
	srv "$VZCTL" --quiet create 1402 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1402 --ipadd 10.77.0.42/24 --ipadd 2001:db8:77::42/64 --ipadd 2001:db8:77::43 --save
	expect_rc 0 srv "$VZCTL" start 1402
	_vzl_run -H -o ip 1402
	_vzl_expect_out "10.77.0.42 2001:db8:77::42 2001:db8:77::43" || return
	_vzl_run -j -o ip 1402
	_vzl_json_check 'd[0]["ip"] == ["10.77.0.42", "2001:db8:77::42", "2001:db8:77::43"]'
}

# layout is never trimmed (OpenVZ prints it with %-6s, uncut).
t_vzlist_layout_untrimmed()
{
	_vzl_ct 101 VE_LAYOUT=ploop:shared
	_vzl_run -a -H -o layout,ctid
	_vzl_expect_out "ploop:shared        101"
}

# -o is split as OpenVZ did: an empty name is an unknown field, a trailing
# comma is allowed.
t_vzlist_output_empty_name()
{
	_vzl_ct 101
	_vzl_run -a -o ctid,,status
	[ $rc -eq 1 ] || fail "exit $rc"
	grep -qx 'Unknown field: ' "$T/err" || fail "stderr: $(cat "$T/err")"
	_vzl_run -a -H -o ctid,
	[ $rc -eq 0 ] || fail "trailing comma: exit $rc"
	_vzl_expect_out "       101"
}

# -1 is OpenVZ's -H -o veid: with -j the key is "veid".
t_vzlist_one_json_key()
{
	_vzl_ct 101
	_vzl_run -a -1 -j
	_vzl_json_check 'd == [{"veid": 101}]'
}
