# Networking, always inside network namespaces the test makes: a "server"
# (where vzctl runs) and a "LAN" peer joined by a veth. Never the real network.
# shellcheck shell=bash

net_setup() {
	SRV=nvzsrv$$
	LAN=nvzlan$$
	ip netns add "$SRV" || fail "netns add"
	ip netns add "$LAN" || fail "netns add"
	trap net_teardown EXIT
	ip -n "$SRV" link add s0 type veth peer name l0 netns "$LAN" || fail "veth"
	ip -n "$SRV" addr add 10.77.0.1/24 dev s0
	ip -n "$SRV" addr add 2001:db8:77::1/64 dev s0 nodad
	ip -n "$LAN" addr add 10.77.0.50/24 dev l0
	ip -n "$LAN" addr add 2001:db8:77::50/64 dev l0 nodad
	ip -n "$SRV" link set lo up
	ip -n "$SRV" link set s0 up
	ip -n "$LAN" link set lo up
	ip -n "$LAN" link set l0 up
	ip -n "$LAN" route add default via 10.77.0.1
}

net_teardown() {
	local f
	for f in "$T"/conf/[0-9]*.conf; do
		[ -e "$f" ] && srv "$VZCTL" --quiet stop "$(basename "$f" .conf)" --fast >/dev/null 2>&1
	done
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$LAN" 2>/dev/null
}

# net_setup, with the server's br0 holding its LAN port, as in the guide
# (bridge_ports eth0), and BRIDGE="br0" in vz.conf.
net_bridge_setup() {
	net_setup
	ip -n "$SRV" addr flush dev s0
	ip -n "$SRV" link add br0 type bridge
	ip -n "$SRV" link set s0 master br0
	ip -n "$SRV" addr add 10.77.0.1/24 dev br0
	ip -n "$SRV" link set br0 up
	echo 'BRIDGE="br0"' >>"$T/vz.conf"
}

# vzctl on the "server" (nsenter, not `ip netns exec`: that remounts /sys).
srv() { nsenter --net=/run/netns/"$SRV" "$@"; }
lan() { nsenter --net=/run/netns/"$LAN" "$@"; }
lan_ping() { lan busybox ping -c 1 -W 2 "$1" >/dev/null 2>&1; }

t_net_routed_ipadd() {
	net_setup
	local before
	before=$(ls /sys/class/net)
	srv "$VZCTL" --quiet create 1301 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1301 --ipadd 10.77.0.10 --save
	grep -q '^IP_ADDRESS="10.77.0.10"$' "$T/conf/1301.conf" || fail "IP not saved"
	expect_rc 0 srv "$VZCTL" start 1301
	expect_out 'Adding IP address\(es\): 10.77.0.10'
	wait_for 100 srv "$VZCTL" exec 1301 'test -e /run/nvz-boot.done' || fail "no boot"
	expect_rc 0 srv "$VZCTL" exec 1301 'ip addr show venet0 2>/dev/null || ifconfig venet0'
	expect_out '10.77.0.10'
	# The LAN peer reaches the CT through the server's proxy ARP.
	lan_ping 10.77.0.10 || fail "LAN cannot reach the CT"
	srv "$VZCTL" exec 1301 'ping -c 1 -W 2 10.77.0.50' >/dev/null 2>&1 || fail "CT cannot reach the LAN"
	# IPv6: proxy NDP on the server, a default route via fe80::1 in the CT.
	expect_rc 0 srv "$VZCTL" set 1301 --ipadd 2001:db8:77::10 --save
	wait_for 30 lan busybox ping -6 -c 1 -W 2 2001:db8:77::10 || fail "LAN cannot reach the CT over IPv6"
	# Live: a second address, then removal.
	expect_rc 0 srv "$VZCTL" set 1301 --ipadd 10.77.0.11
	lan_ping 10.77.0.11 || fail "live --ipadd not reachable"
	expect_rc 0 srv "$VZCTL" set 1301 --ipdel 10.77.0.10 --save
	lan_ping 10.77.0.10 && fail "reachable after --ipdel"
	lan_ping 10.77.0.11 || fail "remaining address lost"
	# Bad input and clashes: a clear message, nothing changed.
	srv "$VZCTL" --quiet create 1302 --ostemplate busybox-x86_64 || fail create
	expect_rc 21 srv "$VZCTL" set 1302 --ipadd 10.77.0.999 --save
	expect_rc 78 srv "$VZCTL" set 1302 --ipadd 10.77.0.11 --save
	grep -q IP_ADDRESS "$T/conf/1302.conf" && fail "refused address saved"
	# Stop removes routes and proxy entries from the server.
	expect_rc 0 srv "$VZCTL" stop 1301
	ip -n "$SRV" neigh show proxy | grep -q 10.77.0 && fail "proxy entry left: $(ip -n "$SRV" neigh show proxy)"
	ip -n "$SRV" route | grep -q 10.77.0.11 && fail "route left"
	ip -n "$SRV" link | grep -q venet1301 && fail "host side link left"
	[ "$(ls /sys/class/net)" = "$before" ] || fail "the host's interfaces changed"
	return 0
}

# Bridged (veth): the guide's reader's case — two CTs on br0 reach each
# other, the server and the LAN; MACs generated; messages as OpenVZ printed.
t_net_bridged_veth() {
	net_bridge_setup
	local id
	for id in 1311 1312; do
		srv "$VZCTL" --quiet create $id --ostemplate busybox-x86_64 || fail create
		expect_rc 0 srv "$VZCTL" set $id --netif_add eth0 --save
		expect_rc 0 srv "$VZCTL" set $id --ifname eth0 --ipadd 10.77.0.$((id - 1300))/24 --gw 10.77.0.1 --save
	done
	grep -Eq '^NETIF="ifname=eth0,bridge=br0,mac=00:18:51:[0-9A-Fa-f:]{8},host_ifname=veth1311.0,host_mac=00:18:51:[0-9A-Fa-f:]{8},ip=10.77.0.11/24,gw=10.77.0.1"$' \
		"$T/conf/1311.conf" || fail "NETIF: $(grep NETIF "$T/conf/1311.conf")"
	lan_stale_entry 10.77.0.11
	sleep 1.1
	expect_rc 0 srv "$VZCTL" start 1311
	expect_out '^Configure veth devices: veth1311.0$'
	expect_out '^Adding interface veth1311.0 to the bridge br0.$'
	expect_out '^Adding an IP 10.77.0.11/24 to the eth0 for CT1311.$'
	expect_out '^Setting 10.77.0.1 as a default gateway for CT1311.$'
	# The CT announced its address with its own MAC; its files agree.
	local ctmac
	ctmac=$(sed -n 's/^NETIF=.*,mac=\([0-9A-Fa-f:]*\),.*/\1/p' "$T/conf/1311.conf" | tr A-F a-f)
	[ "$(lan_mac_for 10.77.0.11)" = "$ctmac" ] || fail "no gratuitous ARP from the CT: $(ip -n "$LAN" neigh)"
	expect_rc 0 srv "$VZCTL" start 1312
	wait_for 100 srv "$VZCTL" exec 1312 'test -e /run/nvz-boot.done' || fail "no boot"
	srv "$VZCTL" exec 1311 'ping -c1 -W2 10.77.0.12' >/dev/null 2>&1 || fail "CT to CT"
	srv "$VZCTL" exec 1311 'ping -c1 -W2 10.77.0.1' >/dev/null 2>&1 || fail "CT to server"
	srv "$VZCTL" exec 1311 'ping -c1 -W2 10.77.0.50' >/dev/null 2>&1 || fail "CT to LAN"
	lan_ping 10.77.0.12 || fail "LAN to CT"
	expect_rc 0 srv "$VZCTL" exec 1311 cat /etc/network/interfaces
	expect_out 'up ip addr replace 10.77.0.11/24 dev eth0'
	expect_out 'up ip route replace default via 10.77.0.1 dev eth0 onlink'
	# Mixed: a routed CT beside the bridged ones on the same server.
	srv "$VZCTL" --quiet create 1313 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1313 --ipadd 10.77.0.13 --save
	expect_rc 0 srv "$VZCTL" start 1313
	lan_ping 10.77.0.13 || fail "LAN to routed CT next to bridged ones"
	srv "$VZCTL" exec 1313 'ping -c1 -W2 10.77.0.11' >/dev/null 2>&1 || fail "routed CT to bridged CT"
	# Live: a second interface on a running CT, then removed.
	expect_rc 0 srv "$VZCTL" set 1312 --netif_add eth1 --save
	expect_rc 0 srv "$VZCTL" exec 1312 'cat /sys/class/net/eth1/address'
	expect_out '^00:18:51:'
	expect_rc 0 srv "$VZCTL" set 1312 --netif_del eth1 --save
	srv "$VZCTL" exec 1312 'test -e /sys/class/net/eth1' && fail "eth1 still there"
	# Bad input: nothing half-configured.
	expect_rc 21 srv "$VZCTL" set 1312 --netif_add eth2,zz:zz --save
	expect_rc 21 srv "$VZCTL" set 1312 --ifname eth0 --mac 01:00:00:00:00:01 --save
	grep -q eth2 "$T/conf/1312.conf" && fail "refused interface saved"
	srv "$VZCTL" --quiet create 1314 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1314 --netif_add eth0,,,,nosuchbr --save
	srv "$VZCTL" start 1314 >"$T/out" 2>&1 && fail "started with an unknown bridge"
	grep -q "unknown bridge 'nosuchbr'" "$T/out" || fail "unclear: $(cat "$T/out")"
	srv "$VZCTL" status 1314 | grep -q down || fail "half-started CT"
	ip -n "$SRV" link | grep -q veth1314 && fail "link left after refused start"
	return 0
}

mac_of() { ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
lan_mac_for() { ip -n "$LAN" neigh show "$1" dev l0 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p'; }
lan_stale_entry() { ip -n "$LAN" neigh replace "$1" lladdr 02:00:00:00:00:99 dev l0 nud stale; }

# Routed CT: the LAN peer's stale cache entries (as after a migration from
# another server) are corrected by the start's announcements; the CT's own
# ifupdown config and /etc/hosts agree with what nvz set up, so ifdown/ifup
# inside brings the same network back; live changes rewrite them.
t_net_routed_announce_and_files() {
	net_setup
	srv "$VZCTL" --quiet create 1321 --ostemplate busybox-x86_64 --hostname ct21.example.com || fail create
	expect_rc 0 srv "$VZCTL" set 1321 --ipadd 10.77.0.21 --ipadd 2001:db8:77::21 --save
	lan_stale_entry 10.77.0.21
	lan_stale_entry 2001:db8:77::21
	sleep 1.1
	expect_rc 0 srv "$VZCTL" start 1321
	wait_for 100 srv "$VZCTL" exec 1321 'test -e /run/nvz-boot.done' || fail "no boot"
	local smac
	smac=$(mac_of "$SRV" s0)
	[ "$(lan_mac_for 10.77.0.21)" = "$smac" ] || fail "no gratuitous ARP: $(ip -n "$LAN" neigh)"
	[ "$(lan_mac_for 2001:db8:77::21)" = "$smac" ] || fail "no unsolicited NA: $(ip -n "$LAN" neigh)"
	expect_rc 0 srv "$VZCTL" exec 1321 cat /etc/network/interfaces
	expect_out 'up ip addr replace 10.77.0.21/32 dev venet0'
	expect_out 'up ip addr replace 2001:db8:77::21/128 dev venet0'
	expect_rc 0 srv "$VZCTL" exec 1321 cat /etc/hosts
	expect_out '^10.77.0.21 ct21.example.com ct21$'
	# The CT's own network service takes the interface down and up again.
	expect_rc 0 srv "$VZCTL" exec 1321 'ifdown venet0'
	lan_ping 10.77.0.21 && fail "reachable after ifdown inside"
	expect_rc 0 srv "$VZCTL" exec 1321 'ifup venet0'
	wait_for 30 lan_ping 10.77.0.21 || fail "not reachable after ifup inside"
	srv "$VZCTL" exec 1321 'ping -c1 -W2 10.77.0.50' >/dev/null 2>&1 || fail "no default route after ifup"
	# Live changes rewrite the files.
	expect_rc 0 srv "$VZCTL" set 1321 --ipadd 10.77.0.22 --hostname ct22.example.com --save
	expect_rc 0 srv "$VZCTL" exec 1321 'cat /etc/network/interfaces /etc/hosts'
	expect_out 'up ip addr replace 10.77.0.22/32 dev venet0'
	expect_out '^10.77.0.21 ct22.example.com ct22$'
	[[ "$OUT" == *ct21* ]] && fail "old hostname left in /etc/hosts: $OUT"
	expect_rc 0 srv "$VZCTL" set 1321 --ipdel all --save
	expect_rc 0 srv "$VZCTL" exec 1321 'cat /etc/network/interfaces; cat /etc/hosts'
	[[ "$OUT" == *venet0* ]] && fail "venet0 stanza left after --ipdel all: $OUT"
	expect_out '^127.0.1.1 ct22.example.com ct22$'
	return 0
}

# Debian 12 with systemd: ifupdown's networking.service runs `ifup -a` over
# nvz's stanzas at boot without failing and can restart them; switched to
# systemd-networkd, networkd configures the same addresses and keeps them.
t_net_debian_ifupdown_networkd() {
	need_debian
	net_setup
	srv "$VZCTL" --quiet create 1331 --ostemplate "$DEBIAN_TMPL" --hostname deb31.example.com || fail create
	expect_rc 0 srv "$VZCTL" set 1331 --ipadd 10.77.0.31 --ipadd 2001:db8:77::31/64 --save
	expect_rc 0 srv "$VZCTL" start 1331 --wait
	expect_rc 0 srv "$VZCTL" exec 1331 'systemctl is-active networking'
	expect_out '^active$'
	lan_ping 10.77.0.31 || fail "LAN cannot reach the Debian CT"
	wait_for 30 lan busybox ping -6 -c 1 -W 2 2001:db8:77::31 || fail "LAN cannot reach the Debian CT over IPv6"
	expect_rc 0 srv "$VZCTL" exec 1331 'getent hosts deb31.example.com'
	expect_out '^10.77.0.31 +deb31.example.com'
	expect_rc 0 srv "$VZCTL" exec 1331 'ifdown venet0'
	lan_ping 10.77.0.31 && fail "reachable after ifdown inside"
	expect_rc 0 srv "$VZCTL" exec 1331 'systemctl restart networking'
	wait_for 30 lan_ping 10.77.0.31 || fail "not reachable after restarting networking"
	expect_rc 0 srv "$VZCTL" exec 1331 'ip route; ip -6 route'
	expect_out '^default via 169.254.0.1 dev venet0 onlink'
	expect_out '^2001:db8:77::/64 via fe80::1 dev venet0 .*metric 1 '
	# The admin switches the CT to systemd-networkd.
	expect_rc 0 srv "$VZCTL" exec 1331 'systemctl -q disable networking; systemctl -q enable systemd-networkd'
	expect_rc 0 srv "$VZCTL" restart 1331 --wait
	# networkctl needs D-Bus, which minbase lacks: read networkd's own state file.
	wait_for 100 eval 'srv "$VZCTL" exec 1331 "cat /run/systemd/netif/links/\$(cat /sys/class/net/venet0/ifindex)" | grep -q "^ADMIN_STATE=configured"' ||
		fail "networkd does not manage venet0: $(srv "$VZCTL" exec 1331 'systemctl status systemd-networkd' 2>&1)"
	expect_rc 0 srv "$VZCTL" exec 1331 'systemctl restart systemd-networkd; sleep 1; ip -o addr show dev venet0; ip route; ip -6 route'
	expect_out '10.77.0.31/32'
	expect_out '^default via 169.254.0.1 dev venet0'
	expect_out '^2001:db8:77::/64 via fe80::1 dev venet0 .*metric 1 '
	# (minbase has no ping: the route the CT takes to its prefix's LAN peer.)
	expect_rc 0 srv "$VZCTL" exec 1331 'ip -6 route get 2001:db8:77::50'
	expect_out ' via fe80::1 dev venet0 '
	lan_ping 10.77.0.31 || fail "networkd lost the address"
	return 0
}

# OpenVZ's --netdev_add/--netdev_del: a host device (one end of a veth to
# the LAN, standing in for a NIC) moves into the CT at start and live, works
# there, and comes back to the host at vzctl stop and --netdev_del. A
# missing device fails the start (104) and leaves nothing; a checkpoint is
# refused (the device is this server's).
t_net_netdev() {
	net_setup
	ip -n "$SRV" link add nd0 type veth peer name ndp0 netns "$LAN" || fail "veth nd0"
	ip -n "$LAN" addr add 10.78.0.50/24 dev ndp0
	ip -n "$LAN" link set ndp0 up
	srv "$VZCTL" --quiet create 1305 --ostemplate busybox-x86_64 || fail create
	expect_rc 21 srv "$VZCTL" set 1305 --netdev_add 'a/b' --save
	expect_out '^Bad parameter for --netdev_add: a/b \(not an interface name\)$'
	expect_rc 21 srv "$VZCTL" set 1305 --netdev_del nd0 --save
	expect_out '^Bad parameter for --netdev_del: nd0 \(not in NETDEV\)$'
	expect_rc 0 srv "$VZCTL" set 1305 --netdev_add nd0 --netdev_add nd0 --save
	grep -q '^NETDEV="nd0"$' "$T/conf/1305.conf" || fail "NETDEV $(grep NETDEV "$T/conf/1305.conf")"
	expect_rc 0 srv "$VZCTL" start 1305
	wait_for 100 srv "$VZCTL" exec 1305 'test -e /run/nvz-boot.done' || fail "no boot"
	ip -n "$SRV" link show nd0 >/dev/null 2>&1 && fail "nd0 still on the host"
	expect_rc 0 srv "$VZCTL" exec 1305 'ip addr add 10.78.0.10/24 dev nd0 && ip link set nd0 up'
	wait_for 50 lan busybox ping -c 1 -W 1 10.78.0.10 || fail "LAN cannot reach the CT through nd0"
	expect_rc 16 srv "$VZCTL" chkpnt 1305
	expect_out 'network devices \(NETDEV="nd0"\)'
	srv "$VZCTL" status 1305 | grep -q " running" || fail "CT harmed by the refused checkpoint"
	expect_rc 0 srv "$VZCTL" stop 1305
	ip -n "$SRV" link show nd0 >/dev/null 2>&1 || fail "nd0 not back on the host after stop"
	# The CT powers itself off: its after-exit work gives nd0 back from the
	# pinned namespace (left to the kernel, a veth dies with it).
	expect_rc 0 srv "$VZCTL" start 1305
	wait_for 100 srv "$VZCTL" exec 1305 'test -e /run/nvz-boot.done' || fail "no boot"
	grep -q " $T/run/1305/netdev.ns " /proc/self/mountinfo || fail "namespace not pinned"
	srv "$VZCTL" exec 1305 poweroff >/dev/null 2>&1
	wait_for 100 ip -n "$SRV" link show nd0 || fail "nd0 not back after the CT powered itself off"
	ip -n "$LAN" link show ndp0 >/dev/null 2>&1 || fail "nd0's peer is gone"
	wait_for 50 sh -c "! grep -q ' $T/run/1305/netdev.ns ' /proc/self/mountinfo" || fail "pin left"
	wait_for 50 sh -c "! nsenter --net=/run/netns/$SRV '$VZCTL' status 1305 | grep -q ' running'" ||
		fail "still running"
	# Live: out with --netdev_del, in again without --save (twice: the
	# second finds it there), then a device the host does not have.
	expect_rc 0 srv "$VZCTL" start 1305
	wait_for 100 srv "$VZCTL" exec 1305 'test -e /run/nvz-boot.done' || fail "no boot"
	expect_rc 0 srv "$VZCTL" set 1305 --netdev_del nd0 --save
	ip -n "$SRV" link show nd0 >/dev/null 2>&1 || fail "nd0 not back after --netdev_del"
	grep -q '^NETDEV=""$' "$T/conf/1305.conf" || fail "NETDEV after del: $(grep NETDEV "$T/conf/1305.conf")"
	expect_rc 0 srv "$VZCTL" set 1305 --netdev_add nd0
	srv "$VZCTL" exec 1305 'ip link show nd0' >/dev/null 2>&1 || fail "live --netdev_add: nd0 not in the CT"
	# Out again unsaved: the base is what the CT holds, not the config
	# (where nd0 is not: "nd0 is not in NETDEV", and it stayed in the CT).
	expect_rc 0 srv "$VZCTL" set 1305 --netdev_del nd0
	ip -n "$SRV" link show nd0 >/dev/null 2>&1 || fail "nd0 not back after an unsaved --netdev_del"
	expect_rc 0 srv "$VZCTL" set 1305 --netdev_add nd0
	expect_rc 0 srv "$VZCTL" set 1305 --netdev_add nd0 --save
	cp "$T/conf/1305.conf" "$T/before"
	expect_rc 104 srv "$VZCTL" set 1305 --netdev_add nosuch0 --save
	expect_out 'Unable to add netdev nosuch0: No such device'
	cmp -s "$T/conf/1305.conf" "$T/before" || fail "config changed by a failed --netdev_add"
	expect_rc 0 srv "$VZCTL" stop 1305
	ip -n "$SRV" link show nd0 >/dev/null 2>&1 || fail "nd0 not back on the host after the second stop"
	# The CT's root renames nd0 and makes a veth of that name whose peer
	# stays inside (a link into the host's namespace, were it moved out):
	# stop gives back the real device, by what it is, under its name.
	local ctns idx
	expect_rc 0 srv "$VZCTL" start 1305
	wait_for 100 srv "$VZCTL" exec 1305 'test -e /run/nvz-boot.done' || fail "no boot"
	ctns=/proc/$(sed -n 's/^INIT_PID="\(.*\)"$/\1/p' "$T/run/1305/state")/ns/net
	nsenter --net="$ctns" ip link set nd0 name nd9 || fail "rename inside"
	nsenter --net="$ctns" ip link add nd0 type veth peer name fakep0 || fail "fake nd0"
	expect_rc 0 srv "$VZCTL" stop 1305
	idx=$(ip -n "$SRV" -o link show nd0 | cut -d: -f1)
	[ -n "$idx" ] && ip -n "$LAN" -o link show ndp0 | grep -q "@if$idx:" ||
		fail "nd0 on the host is not the device given: $(ip -n "$SRV" -o link show nd0)"
	ip -n "$SRV" -o link show | grep -Eq ' (nd9|fakep0)[@:]' && fail "a device made inside reached the host"
	# Now it deletes nd0 and makes its own at nd0's index: stop refuses it.
	expect_rc 0 srv "$VZCTL" start 1305
	wait_for 100 srv "$VZCTL" exec 1305 'test -e /run/nvz-boot.done' || fail "no boot"
	ctns=/proc/$(sed -n 's/^INIT_PID="\(.*\)"$/\1/p' "$T/run/1305/state")/ns/net
	idx=$(nsenter --net="$ctns" ip -o link show nd0 | cut -d: -f1)
	nsenter --net="$ctns" ip link del nd0 || fail "delete inside"
	nsenter --net="$ctns" ip link add nd0 index "$idx" type veth peer name fakep0 || fail "forged nd0"
	expect_rc 0 srv "$VZCTL" stop 1305
	expect_out "Warning: netdev nd0: the container's device nd0 is not the one it was given"
	ip -n "$SRV" link show nd0 >/dev/null 2>&1 && fail "the CT's own nd0 was moved to the host"
	# The device gone from the host: the start fails and leaves nothing.
	expect_rc 104 srv "$VZCTL" start 1305
	expect_out 'Unable to add netdev nd0: No such device'
	srv "$VZCTL" status 1305 | grep -q ' running' && fail "running without its netdev"
	return 0
}

# OpenVZ's mac_filter on a bridged interface: with it on, frames the CT
# sends from any MAC but its own do not pass the bridge (the host side is a
# locked port holding only the CT's MAC); off, a changed MAC works. It
# survives a restart and is saved in NETIF.
t_net_mac_filter() {
	net_bridge_setup
	srv "$VZCTL" --quiet create 1315 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1315 --netif_add eth0 --save
	expect_rc 20 srv "$VZCTL" set 1315 --mac_filter on --save
	expect_rc 21 srv "$VZCTL" set 1315 --ifname eth0 --mac_filter maybe --save
	expect_rc 0 srv "$VZCTL" set 1315 --ifname eth0 --ipadd 10.77.0.15/24 --mac_filter on --save
	grep -q '^NETIF=.*,mac_filter=on"$' "$T/conf/1315.conf" || fail "NETIF: $(grep NETIF "$T/conf/1315.conf")"
	expect_rc 0 srv "$VZCTL" start 1315
	wait_for 100 srv "$VZCTL" exec 1315 'test -e /run/nvz-boot.done' || fail "no boot"
	lan_ping 10.77.0.15 || fail "LAN cannot reach the CT with its own MAC"
	ip -n "$SRV" -d link show veth1315.0 | grep -q 'locked on' || fail "port not locked: $(ip -n "$SRV" -d link show veth1315.0)"
	# A forged MAC inside: nothing passes.
	expect_rc 0 srv "$VZCTL" exec 1315 'ip link set eth0 down; ip link set eth0 address 02:00:00:00:15:15; ip link set eth0 up; ip addr replace 10.77.0.15/24 dev eth0'
	ip -n "$LAN" neigh flush dev l0
	srv "$VZCTL" exec 1315 'ping -c 2 -W 1 10.77.0.50' >/dev/null 2>&1 && fail "a forged MAC passed the filter"
	# Off (the interface is recreated with its configured MAC): a changed MAC passes.
	expect_rc 0 srv "$VZCTL" set 1315 --ifname eth0 --mac_filter off --save
	grep -q 'mac_filter' "$T/conf/1315.conf" && fail "mac_filter=off kept in NETIF"
	ip -n "$SRV" -d link show veth1315.0 | grep -q 'locked off' || fail "port still locked"
	expect_rc 0 srv "$VZCTL" exec 1315 'ip link set eth0 down; ip link set eth0 address 02:00:00:00:15:16; ip link set eth0 up; ip addr replace 10.77.0.15/24 dev eth0'
	ip -n "$LAN" neigh flush dev l0
	wait_for 30 srv "$VZCTL" exec 1315 'ping -c 1 -W 1 10.77.0.50' || fail "a changed MAC is blocked without the filter"
	# On again, across a restart.
	expect_rc 0 srv "$VZCTL" set 1315 --ifname eth0 --mac_filter on --save
	expect_rc 0 srv "$VZCTL" restart 1315
	wait_for 100 srv "$VZCTL" exec 1315 'test -e /run/nvz-boot.done' || fail "no boot after restart"
	ip -n "$SRV" -d link show veth1315.0 | grep -q 'locked on' || fail "not locked after restart"
	lan_ping 10.77.0.15 || fail "LAN cannot reach the CT after restart"
	return 0
}

# A live --hostname rewrites the CT's network files from the addresses it
# has, an unsaved live --ipadd included (they were written from the
# config, so the CT's ifupdown lost that address at its next ifdown/ifup).
t_net_hostname_keeps_live_ip() {
	net_setup
	srv "$VZCTL" --quiet create 1306 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1306 --ipadd 10.77.0.16 --hostname a.example.com --save
	expect_rc 0 srv "$VZCTL" start 1306
	wait_for 100 srv "$VZCTL" exec 1306 'test -e /run/nvz-boot.done' || fail "no boot"
	expect_rc 0 srv "$VZCTL" set 1306 --ipadd 10.77.0.17
	expect_rc 0 srv "$VZCTL" set 1306 --hostname b.example.com
	expect_rc 0 srv "$VZCTL" exec 1306 'cat /etc/network/interfaces'
	expect_out 'up ip addr replace 10.77.0.17/32 dev venet0'
	expect_out 'up ip addr replace 10.77.0.16/32 dev venet0'
	expect_rc 0 srv "$VZCTL" exec 1306 'hostname; cat /etc/hostname'
	[ "$OUT" = "b.example.com
b.example.com" ] || fail "hostname: $OUT"
	lan_ping 10.77.0.17 || fail "live address lost"
	# And a later --ipadd keeps the CT's unsaved name in /etc/hosts (the
	# config's name came back beside it).
	expect_rc 0 srv "$VZCTL" set 1306 --ipadd 10.77.0.18
	expect_rc 0 srv "$VZCTL" exec 1306 'cat /etc/hosts'
	expect_out '^10\.77\.0\.16 b\.example\.com b$'
	printf '%s' "$OUT" | grep -q 'a\.example\.com' && fail "the config's name is back in /etc/hosts: $OUT"
	# A second unsaved --hostname replaces the first's line.
	expect_rc 0 srv "$VZCTL" set 1306 --hostname c.example.com
	expect_rc 0 srv "$VZCTL" exec 1306 'cat /etc/hosts'
	expect_out '^10\.77\.0\.16 c\.example\.com c$'
	printf '%s' "$OUT" | grep -q 'b\.example\.com' && fail "the previous name stayed in /etc/hosts: $OUT"
	return 0
}

# Live veth changes without --save start from the interfaces the CT has:
# an unsaved --netif_add can be changed (--ifname ... --mac) and removed
# (--netif_del) live, as in OpenVZ (the base was the config, where it is
# not: "no interface eth1 in NETIF", and --netif_del left it running).
t_net_netif_live_unsaved() {
	net_bridge_setup
	srv "$VZCTL" --quiet create 1315 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" start 1315
	wait_for 100 srv "$VZCTL" exec 1315 'test -e /run/nvz-boot.done' || fail "no boot"
	# No interface, no record (a page of a tmpfs /run per CT).
	[ -e "$T/run/1315/netif" ] && fail "a record of no interface: $(cat "$T/run/1315/netif")"
	expect_rc 0 srv "$VZCTL" set 1315 --netif_add eth1
	ip -n "$SRV" link show veth1315.1 >/dev/null 2>&1 || fail "no host side after a live --netif_add"
	grep -q '^NETIF=".*ifname=eth1' "$T/run/1315/netif" || fail "no record of eth1"
	expect_rc 0 srv "$VZCTL" set 1315 --ifname eth1 --mac 00:18:51:AA:BB:CC
	expect_rc 0 srv "$VZCTL" exec 1315 'cat /sys/class/net/eth1/address'
	[ "$OUT" = 00:18:51:aa:bb:cc ] || fail "eth1's MAC: $OUT"
	expect_rc 0 srv "$VZCTL" set 1315 --hostname c.example.com
	expect_rc 0 srv "$VZCTL" exec 1315 'ls /sys/class/net'
	expect_out eth1
	expect_rc 0 srv "$VZCTL" set 1315 --netif_del eth1
	ip -n "$SRV" link show veth1315.1 >/dev/null 2>&1 && fail "host side left after a live --netif_del"
	expect_rc 0 srv "$VZCTL" exec 1315 'ls /sys/class/net'
	printf '%s' "$OUT" | grep -q eth1 && fail "eth1 still in the CT: $OUT"
	grep -q NETIF "$T/conf/1315.conf" && fail "an unsaved NETIF was saved"
	[ -e "$T/run/1315/netif" ] && fail "a record of no interface after --netif_del"
	# The running CT has none, whatever its config now says (an edit by
	# hand, not applied): a live --netif_add starts from none.
	echo 'NETIF="ifname=eth0,mac=00:18:51:AA:BB:C0,host_ifname=veth1315.0,host_mac=00:18:51:AA:BB:C1"' \
		>>"$T/conf/1315.conf"
	expect_rc 0 srv "$VZCTL" set 1315 --netif_add eth2
	grep -q 'ifname=eth0' "$T/run/1315/netif" && fail "the config's eth0 taken as live: $(cat "$T/run/1315/netif")"
	expect_rc 0 srv "$VZCTL" exec 1315 'ls /sys/class/net'
	printf '%s' "$OUT" | grep -q eth2 || fail "no eth2 in the CT: $OUT"
	return 0
}

# --ipadd/--ipdel take addresses as vzctl did: several in one argument
# (space separated), stored in their canonical form (an IPv6 address
# spelled otherwise is the same address, for --ipdel and for the clash
# with another CT), 0.0.0.0 and :: ignored; --ipdel ADDR removes ADDR/MASK.
t_net_ipadd_forms() {
	"$VZCTL" --quiet create 1341 --ostemplate busybox-x86_64 || fail create
	"$VZCTL" --quiet create 1342 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 "$VZCTL" set 1341 --ipadd '10.79.0.1 10.79.0.2/24' --ipadd 2001:DB8:0:0::0010 --ipadd 0.0.0.0 --ipadd :: --save
	grep -q '^IP_ADDRESS="10.79.0.1 10.79.0.2/24 2001:db8::10"$' "$T/conf/1341.conf" ||
		fail "IP_ADDRESS: $(grep IP_ADDRESS "$T/conf/1341.conf")"
	expect_rc 78 "$VZCTL" set 1342 --ipadd 2001:db8::0:10 --save
	expect_out 'IP address 2001:db8::10 is already used by CT 1341'
	expect_rc 0 "$VZCTL" set 1341 --ipdel 2001:0DB8::10 --ipdel 10.79.0.2 --save
	grep -q '^IP_ADDRESS="10.79.0.1"$' "$T/conf/1341.conf" || fail "after --ipdel: $(grep IP_ADDRESS "$T/conf/1341.conf")"
	expect_rc 21 "$VZCTL" set 1341 --ipadd '10.79.0.3 10.79.0.999' --save
	expect_out 'Bad parameter for --ipadd: 10.79.0.3 10.79.0.999'
	grep -q '^IP_ADDRESS="10.79.0.1"$' "$T/conf/1341.conf" || fail "changed by a refused --ipadd"
	return 0
}

# Edge addresses at --ipadd: vzctl's (127.0.0.1, ADDR/0; :: and ::/0
# ignored; a prefix past 32 or 128 refused) except what nvz cannot give a
# CT without harm: a multicast or link-local address, ::1 (the kernel
# refuses the last two on venet0, so the CT did not start; the server
# routed 224.0.0.1 to the CT and answered NDP on the LAN for fe80::1).
# --ipdel still removes one written by hand.
t_net_ipadd_edge() {
	local a
	"$VZCTL" --quiet create 1345 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 "$VZCTL" set 1345 --ipadd '127.0.0.1 10.79.0.5/0' --ipadd 2001:db8::5/0 --ipadd ::/0 --save
	grep -q '^IP_ADDRESS="127.0.0.1 10.79.0.5/0 2001:db8::5/0"$' "$T/conf/1345.conf" ||
		fail "IP_ADDRESS: $(grep IP_ADDRESS "$T/conf/1345.conf")"
	cp "$T/conf/1345.conf" "$T/before"
	for a in "fe80::1 link-local" "FE80::5/64 link-local" "ff02::1 multicast" "224.0.0.1 multicast" \
		"::1 loopback"; do
		expect_rc 21 "$VZCTL" set 1345 --ipadd "${a% *}" --save
		[ "$OUT" = "Bad parameter for --ipadd: ${a% *} (${a#* } address)" ] || fail "${a% *}: $OUT"
	done
	expect_rc 21 "$VZCTL" set 1345 --ipadd 169.254.0.1 --save
	[ "$OUT" = "Bad parameter for --ipadd: 169.254.0.1 (the containers' venet gateway)" ] || fail "169.254.0.1: $OUT"
	for a in 2001:db8::6/129 10.79.0.6/33; do
		expect_rc 21 "$VZCTL" set 1345 --ipadd "$a" --save
		[ "$OUT" = "Bad parameter for --ipadd: $a" ] || fail "$a: $OUT"
	done
	cmp -s "$T/conf/1345.conf" "$T/before" || fail "changed by a refused --ipadd: $(grep IP_ADDRESS "$T/conf/1345.conf")"
	sed -i 's/^IP_ADDRESS=.*/IP_ADDRESS="10.79.0.5 fe80::1"/' "$T/conf/1345.conf"
	expect_rc 0 "$VZCTL" set 1345 --ipdel fe80::1 --save
	grep -q '^IP_ADDRESS="10.79.0.5"$' "$T/conf/1345.conf" || fail "--ipdel: $(grep IP_ADDRESS "$T/conf/1345.conf")"
	expect_rc 21 "$VZCTL" create 1346 --ostemplate busybox-x86_64 --ipadd ff02::1
	[ "$OUT" = "Bad parameter for --ipadd: ff02::1 (multicast address)" ] || fail "create: $OUT"
	[ -e "$T/conf/1346.conf" ] && fail "create went on"
	return 0
}

# As vzctl, one set changes one interface: a second --ifname (or --bridge)
# is refused with vzctl's words, and nothing is saved.
t_net_ifname_once() {
	"$VZCTL" --quiet create 1343 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 "$VZCTL" set 1343 --netif_add eth0 --netif_add eth1 --save
	cp "$T/conf/1343.conf" "$T/before"
	expect_rc 21 "$VZCTL" set 1343 --ifname eth0 --mac 00:18:51:00:00:01 --ifname eth1 --mac 00:18:51:00:00:02 --save
	expect_out '^Multiple use of --ifname option not allowed$'
	expect_out '^Bad parameter for --ifname: eth1$'
	expect_rc 21 "$VZCTL" set 1343 --ifname eth0 --bridge br1 --bridge br2 --save
	expect_out '^Multiple use of --bridge option not allowed$'
	cmp -s "$T/conf/1343.conf" "$T/before" || fail "config changed by a refused set"
	expect_rc 0 "$VZCTL" set 1343 --ifname eth1 --bridge br1 --save
	grep -q 'ifname=eth1,bridge=br1,' "$T/conf/1343.conf" || fail "NETIF: $(grep NETIF "$T/conf/1343.conf")"
	return 0
}

# vzctl takes --ifname anywhere in the set (the interface's options may
# come first), and says its words when it is missing or names no interface.
t_net_ifname_anywhere() {
	"$VZCTL" --quiet create 1343 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 "$VZCTL" set 1343 --netif_add eth0 --save
	expect_rc 0 "$VZCTL" set 1343 --bridge br2 --mac 00:18:51:00:00:03 --ifname eth0 --save
	grep -q 'ifname=eth0,bridge=br2,mac=00:18:51:00:00:03,' "$T/conf/1343.conf" ||
		fail "NETIF: $(grep NETIF "$T/conf/1343.conf")"
	expect_rc 20 "$VZCTL" set 1343 --bridge br3 --save
	expect_out '^Invalid usage\.  Option --ifname not specified$'
	expect_rc 21 "$VZCTL" set 1343 --ifname eth7 --bridge br3 --save
	expect_out '^Invalid usage: veth device eth7 is not configured, use --netif_add option first$'
	return 0
}

# A live --ipadd/--ipdel says what it does, as vzctl: "Deleting IP
# address(es): ..." for those going, then "Adding IP address(es): ..."
# for those coming (nvz said nothing).
t_net_live_ip_messages() {
	net_setup
	srv "$VZCTL" --quiet create 1344 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1344 --ipadd 10.77.0.44 --save
	expect_rc 0 srv "$VZCTL" start 1344
	expect_rc 0 srv "$VZCTL" set 1344 --ipadd 10.77.0.45 --ipadd 10.77.0.46
	expect_out '^Adding IP address\(es\): 10.77.0.45 10.77.0.46$'
	printf '%s\n' "$OUT" | grep -q Deleting && fail "nothing was deleted: $OUT"
	expect_rc 0 srv "$VZCTL" set 1344 --ipdel 10.77.0.45
	expect_out '^Deleting IP address\(es\): 10.77.0.45$'
	printf '%s\n' "$OUT" | grep -q Adding && fail "nothing was added: $OUT"
	expect_rc 0 srv "$VZCTL" set 1344 --ipdel all --ipadd 10.77.0.47 --save
	[ "$(printf '%s\n' "$OUT" | grep -E 'IP address')" = "Deleting IP address(es): 10.77.0.44 10.77.0.46
Adding IP address(es): 10.77.0.47" ] || fail "--ipdel all --ipadd: $OUT"
	lan_ping 10.77.0.47 || fail "LAN cannot reach the new address"
	return 0
}

# vznet.conf's EXTERNAL_SCRIPT (OpenVZ's vznetcfg hook) runs for each
# interface, at start and live, as `SCRIPT init veth HOST_IF` with VEID
# (and VE_CONFFILE) set. A failing hook fails the change with vzctl's
# VZ_VETH_ERROR (130) and leaves no interface behind.
t_net_vznet_hook() {
	net_bridge_setup
	cat >"$T/hook.sh" <<HOOK
#!/bin/sh
echo "\$* VEID=\$VEID VE_CONFFILE=\$VE_CONFFILE" >>$T/hook.log
[ ! -e $T/hook.fail ]
HOOK
	chmod +x "$T/hook.sh"
	echo "EXTERNAL_SCRIPT=\"$T/hook.sh\"" >"$T/vznet.conf"
	srv "$VZCTL" --quiet create 1345 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1345 --netif_add eth0 --save
	expect_rc 0 srv "$VZCTL" start 1345
	grep -qx "init veth veth1345.0 VEID=1345 VE_CONFFILE=$T/conf/1345.conf" "$T/hook.log" ||
		fail "hook at start: $(cat "$T/hook.log")"
	expect_rc 0 srv "$VZCTL" set 1345 --netif_add eth1 --save
	grep -qx "init veth veth1345.1 VEID=1345 VE_CONFFILE=$T/conf/1345.conf" "$T/hook.log" ||
		fail "hook at a live --netif_add: $(cat "$T/hook.log")"
	touch "$T/hook.fail"
	cp "$T/conf/1345.conf" "$T/before"
	expect_rc 130 srv "$VZCTL" set 1345 --netif_add eth2 --save
	expect_out "$T/hook.sh exited with error"
	ip -n "$SRV" link show veth1345.2 >/dev/null 2>&1 && fail "host side left after a failed hook"
	cmp -s "$T/conf/1345.conf" "$T/before" || fail "config changed by a failed --netif_add"
	# At start (run by the monitor hub): the start fails, nothing is left.
	expect_rc 0 srv "$VZCTL" stop 1345
	expect_rc 130 srv "$VZCTL" start 1345
	expect_out "$T/hook.sh exited with error"
	srv "$VZCTL" status 1345 | grep -q ' running' && fail "running after a failed hook"
	ip -n "$SRV" -o link | grep -q veth1345 && fail "interfaces left: $(ip -n "$SRV" -o link)"
	rm "$T/hook.fail"
	expect_rc 0 srv "$VZCTL" start 1345
	return 0
}

# Live veth changes say what they do, as vzctl's veth_ctl: "Configure
# veth devices: ..." for an interface made or remade, "Deleting veth
# devices: ..." for one removed (nvz said nothing).
t_net_live_veth_messages() {
	net_bridge_setup
	srv "$VZCTL" --quiet create 1346 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" start 1346
	expect_rc 0 srv "$VZCTL" set 1346 --netif_add eth1 --save
	expect_out '^Configure veth devices: veth1346.1$'
	expect_out '^Adding interface veth1346.1 to the bridge br0.$'
	expect_rc 0 srv "$VZCTL" set 1346 --ifname eth1 --mac 00:18:51:AA:BB:46 --save
	expect_out '^Configure veth devices: veth1346.1$'
	expect_rc 0 srv "$VZCTL" set 1346 --netif_del eth1 --save
	expect_out '^Deleting veth devices: veth1346.1$'
	printf '%s\n' "$OUT" | grep -q Configure && fail "nothing was configured: $OUT"
	ip -n "$SRV" link show veth1346.1 >/dev/null 2>&1 && fail "host side left"
	return 0
}

# As vzctl's vps_dns_configure: the CT's resolv.conf written (at start
# with NAMESERVER/SEARCHDOMAIN, or live) says "File resolv.conf was
# modified" (nvz said it only with --verbose).
t_net_resolv_message() {
	"$VZCTL" --quiet create 1347 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 "$VZCTL" set 1347 --hostname h47.example.com --nameserver 192.0.2.53 --save
	printf '%s\n' "$OUT" | grep -q resolv && fail "a stopped CT's files are not written: $OUT"
	expect_rc 0 "$VZCTL" start 1347
	expect_out '^Set hostname: h47.example.com$'
	expect_out '^File resolv.conf was modified$'
	expect_rc 0 "$VZCTL" set 1347 --searchdomain example.com --save
	expect_out '^File resolv.conf was modified$'
	expect_rc 0 "$VZCTL" exec 1347 cat /etc/resolv.conf
	expect_out '^search example.com$'
	expect_out '^nameserver 192.0.2.53$'
	return 0
}

# VE_ROUTE_SRC_DEV (vz.conf), as OpenVZ's vzaddrouting4: the server's route
# to a routed CT's IPv4 address takes that device's address as its source
# (nvz ignored the key: the server spoke to the CT from 169.254.0.1); a
# device without an address fails the start with "Unable to get source ip"
# (VZ_CANT_ADDIP, 34).
t_net_route_src_dev() {
	net_setup
	echo 'VE_ROUTE_SRC_DEV="s0"' >>"$T/vz.conf"
	srv "$VZCTL" --quiet create 1348 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1348 --ipadd 10.77.0.48 --ipadd 2001:db8:77::48 --save
	expect_rc 0 srv "$VZCTL" start 1348
	ip -n "$SRV" route get 10.77.0.48 | grep -q ' src 10.77.0.1 ' ||
		fail "route source: $(ip -n "$SRV" route get 10.77.0.48)"
	wait_for 100 srv "$VZCTL" exec 1348 'test -e /run/nvz-boot.done' || fail "no boot"
	srv busybox ping -c 1 -W 2 10.77.0.48 >/dev/null 2>&1 || fail "server cannot reach the CT"
	lan_ping 10.77.0.48 || fail "LAN cannot reach the CT"
	expect_rc 0 srv "$VZCTL" stop 1348
	sed -i 's/^VE_ROUTE_SRC_DEV=.*/VE_ROUTE_SRC_DEV="lo"/' "$T/vz.conf"
	expect_rc 34 srv "$VZCTL" start 1348
	expect_out 'Unable to get source ip \[lo\]'
	srv "$VZCTL" status 1348 | grep -q ' running' && fail "running without its routes"
	ip -n "$SRV" -o link | grep -q venet1348 && fail "pair left: $(ip -n "$SRV" -o link)"
	return 0
}

# NEIGHBOUR_DEVS=detect (OpenVZ's shipped vz.conf), as its
# vz_get_neighbour_devs: a routed CT's address is answered for (proxy ARP)
# only on the interface the server reaches it through directly, not on
# every interface (nvz took "detect" for "all"); an address the server
# has no direct route to gets no entry.
t_net_neighbour_detect() {
	net_setup
	ip -n "$SRV" link add s1 type veth peer name s1p || fail "veth s1"
	ip -n "$SRV" addr add 10.88.0.1/24 dev s1
	ip -n "$SRV" link set s1 up
	ip -n "$SRV" link set s1p up
	echo 'NEIGHBOUR_DEVS=detect' >>"$T/vz.conf"
	srv "$VZCTL" --quiet create 1349 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1349 --ipadd 10.77.0.49 --ipadd 10.99.0.49 --save
	expect_rc 0 srv "$VZCTL" start 1349
	local proxies
	proxies=$(ip -n "$SRV" neigh show proxy)
	printf '%s\n' "$proxies" | grep -q '^10.77.0.49 dev s0 ' || fail "no proxy entry on s0: $proxies"
	printf '%s\n' "$proxies" | grep -q ' dev s1 ' && fail "proxy entry on s1: $proxies"
	printf '%s\n' "$proxies" | grep -q '10.99.0.49' && fail "proxy entry for an unrouted address: $proxies"
	wait_for 100 srv "$VZCTL" exec 1349 'test -e /run/nvz-boot.done' || fail "no boot"
	lan_ping 10.77.0.49 || fail "LAN cannot reach the CT"
	expect_rc 0 srv "$VZCTL" stop 1349
	[ -z "$(ip -n "$SRV" neigh show proxy)" ] || fail "proxy entries left: $(ip -n "$SRV" neigh show proxy)"
	return 0
}

# --ipadd IP/MASK on a routed CT: the mask makes the subnet on-link on the
# CT's venet0, as OpenVZ's add_ip scripts did; there (NOARP) everything
# still went to the host, so the CT reached the rest of its subnet. Here
# the host side answers ARP for it (nvz's CT could reach only the server).
t_net_ipadd_mask_reach() {
	net_setup
	srv "$VZCTL" --quiet create 1350 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1350 --ipadd 10.77.0.60/24 --save
	expect_rc 0 srv "$VZCTL" start 1350
	wait_for 100 srv "$VZCTL" exec 1350 'test -e /run/nvz-boot.done' || fail "no boot"
	expect_rc 0 srv "$VZCTL" exec 1350 'ip -4 addr show dev venet0'
	expect_out '10.77.0.60/24'
	srv "$VZCTL" exec 1350 'ping -c 1 -W 2 10.77.0.50' >/dev/null 2>&1 || fail "CT cannot reach its subnet's LAN peer"
	lan_ping 10.77.0.60 || fail "LAN cannot reach the CT"
	return 0
}

# As vzctl's parse_netif_cmd, one --netif_add may name several interfaces,
# space separated (nvz refused it: "Invalid interface name").
t_net_netif_add_list() {
	"$VZCTL" --quiet create 1351 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 "$VZCTL" set 1351 --netif_add 'eth0 eth1,00:18:51:00:51:01' --save
	grep -Eq '^NETIF="ifname=eth0,mac=[^;]*,host_ifname=veth1351.0,[^;]*;ifname=eth1,mac=00:18:51:00:51:01,host_ifname=veth1351.1,' \
		"$T/conf/1351.conf" || fail "NETIF: $(grep NETIF "$T/conf/1351.conf")"
	return 0
}

# A NETIF written by hand with only ifname= (and bridge=): vzctl's
# parse_netif_str gave the host side its default name, vethCTID.N, and
# generated the MAC; nvz's start failed ("invalid interface name ''").
t_net_netif_minimal_entry() {
	net_bridge_setup
	srv "$VZCTL" --quiet create 1352 --ostemplate busybox-x86_64 || fail create
	echo 'NETIF="ifname=eth0,bridge=br0"' >>"$T/conf/1352.conf"
	expect_rc 0 srv "$VZCTL" start 1352
	expect_out '^Configure veth devices: veth1352.0$'
	expect_out '^Adding interface veth1352.0 to the bridge br0.$'
	ip -n "$SRV" link show veth1352.0 | grep -q 'master br0' || fail "host side: $(ip -n "$SRV" -o link)"
	expect_rc 0 srv "$VZCTL" exec 1352 'ip addr add 10.77.0.52/24 dev eth0'
	wait_for 30 lan_ping 10.77.0.52 || fail "LAN cannot reach the CT"
	# Live changes and stop find the host side by the same name.
	expect_rc 0 srv "$VZCTL" set 1352 --ifname eth0 --mac 00:18:51:00:52:01
	expect_rc 0 srv "$VZCTL" exec 1352 'cat /sys/class/net/eth0/address'
	[ "$OUT" = 00:18:51:00:52:01 ] || fail "eth0's MAC: $OUT"
	expect_rc 0 srv "$VZCTL" stop 1352
	ip -n "$SRV" link show veth1352.0 >/dev/null 2>&1 && fail "host side left after stop"
	return 0
}

# A bad value for a veth option ends as vzctl's parse_opt: "Bad parameter
# for --OPTION: VALUE", status 21 (nvz: its own line only, and 20 for a
# bad --host_ifname or --bridge, whose ',' or ';' also broke NETIF).
t_net_netif_bad_values() {
	"$VZCTL" --quiet create 1353 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 "$VZCTL" set 1353 --netif_add eth0 --save
	cp "$T/conf/1353.conf" "$T/before"
	expect_rc 21 "$VZCTL" set 1353 --netif_add eth1,00:18:51:zz:00:01 --save
	expect_out '^Bad parameter for --netif_add: eth1,00:18:51:zz:00:01$'
	expect_rc 21 "$VZCTL" set 1353 --ifname eth0 --mac 00:18:51 --save
	expect_out '^Bad parameter for --mac: 00:18:51$'
	expect_rc 21 "$VZCTL" set 1353 --ifname eth0 --host_ifname 'veth1,x' --save
	expect_out '^Bad parameter for --host_ifname: veth1,x$'
	expect_rc 21 "$VZCTL" set 1353 --ifname eth0 --bridge 'br;0' --save
	expect_out '^Bad parameter for --bridge: br;0$'
	expect_rc 21 "$VZCTL" set 1353 --ifname eth0 --mac_filter maybe --save
	expect_out '^Bad parameter for --mac_filter: maybe$'
	cmp -s "$T/conf/1353.conf" "$T/before" || fail "config changed: $(grep NETIF "$T/conf/1353.conf")"
	return 0
}

# A small Debian server (sshd, D-Bus, logind, cron, rsyslog, logrotate):
# what OpenVZ's users ran. The admin logs in over ssh from the LAN, with
# and without a pty (a logind session, utmp), and an ssh session with a pty
# goes on across a checkpoint and restore. Its services run as other users
# (messagebus, sshd) and ask systemd for namespaces of their own
# (logind's ProtectHostname=, hostnamed's PrivateNetwork=), which criu
# cannot take along: refused inside the CT (t_cpt_debian_sandboxed_units).
DEBIAN_SRV_TMPL=debian-12-x86_64-server
t_net_debian_server_ssh() {
	[ -e "$T/template/cache/$DEBIAN_SRV_TMPL.tar.gz" ] ||
		fail "$DEBIAN_SRV_TMPL template missing (see $TEMPLATE_CACHE/mk-debian-*-server.log)"
	net_setup
	srv "$VZCTL" --quiet create 1340 --ostemplate "$DEBIAN_SRV_TMPL" --hostname ssh40.example.com || fail create
	expect_rc 0 srv "$VZCTL" set 1340 --ipadd 10.77.0.40 --save
	expect_rc 0 srv "$VZCTL" start 1340 --wait
	ssh-keygen -q -t ed25519 -N '' -f "$T/key" || fail keygen
	expect_rc 0 srv "$VZCTL" exec 1340 'mkdir -p -m 700 /root/.ssh && cat >/root/.ssh/authorized_keys' <"$T/key.pub"
	expect_rc 0 srv "$VZCTL" exec 1340 'systemctl is-system-running; systemctl --failed --no-legend; systemctl is-active ssh dbus systemd-logind cron rsyslog'
	[ "$(printf '%s\n' "$OUT" | grep -c '^active$')" = 5 ] && printf '%s\n' "$OUT" | grep -qx running ||
		fail "services: $OUT"
	local -a o=(-i "$T/key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
		-o ConnectTimeout=5 -o LogLevel=ERROR)
	lan ssh "${o[@]}" root@10.77.0.40 'hostname; loginctl list-sessions --no-legend; hostnamectl hostname' >"$T/ssh" 2>&1 ||
		fail "ssh login: $(cat "$T/ssh")"
	grep -qx 'ssh40.example.com' "$T/ssh" || fail "hostname over ssh: $(cat "$T/ssh")"
	grep -Eq '^ *[[:alnum:]]+ +0 +root ' "$T/ssh" || fail "no logind session: $(cat "$T/ssh")"
	[ "$(grep -cx 'ssh40.example.com' "$T/ssh")" = 2 ] || fail "hostnamectl: $(cat "$T/ssh")"
	lan ssh -tt "${o[@]}" root@10.77.0.40 'tty; who' >"$T/ssh" 2>&1 </dev/null || fail "ssh -tt: $(cat "$T/ssh")"
	grep -q '^/dev/pts/[0-9]' "$T/ssh" || fail "no pty: $(cat "$T/ssh")"
	grep -Eq '^root .*pts/[0-9].*\(10\.77\.0\.50\)' "$T/ssh" || fail "login not in utmp: $(cat "$T/ssh")"
	# criu reads every process's limits with prlimit: for one of another
	# user (messagebus, sshd) that takes CAP_SYS_RESOURCE, which a stock
	# host's root has (the VM lane) and this sandbox's lacks.
	if ! have_cap_sys_resource; then
		expect_rc 16 srv "$VZCTL" chkpnt 1340
		expect_out 'for a process of another user that takes CAP_SYS_RESOURCE, which this host.s root lacks'
		expect_rc 0 srv "$VZCTL" exec 1340 'systemctl is-active ssh'
		lan ssh "${o[@]}" root@10.77.0.40 true || fail "ssh after a refused checkpoint"
		return 0
	fi
	# A session with a pty ticks on across the checkpoint and restore.
	lan ssh -tt "${o[@]}" root@10.77.0.40 'for i in $(seq 1 40); do echo tick $i; sleep 0.25; done; tty; exit 7' \
		>"$T/ticks" 2>&1 </dev/null &
	local sp=$!
	wait_for 100 grep -q 'tick 2' "$T/ticks" || fail "no ticks: $(cat "$T/ticks")"
	expect_rc 0 srv "$VZCTL" chkpnt 1340
	expect_rc 0 srv "$VZCTL" restore 1340
	wait "$sp"
	local rc=$?
	[ "$rc" = 7 ] && grep -q '^tick 40' "$T/ticks" && grep -q '^/dev/pts/' "$T/ticks" ||
		fail "the ssh session did not survive (rc $rc): $(tr '\r\n' '  ' <"$T/ticks" | tail -c 300)"
	lan ssh "${o[@]}" root@10.77.0.40 'loginctl list-sessions --no-legend; systemctl is-system-running' >"$T/ssh" 2>&1 ||
		fail "ssh after the restore: $(cat "$T/ssh")"
	grep -qx running "$T/ssh" || fail "after the restore: $(cat "$T/ssh")"
	expect_rc 0 srv "$VZCTL" stop 1340
}

# The same on Debian 13 (systemd 257): each login's user manager has a
# "(sd-pam)" that runs systemd-executor, of which PID 1 and the manager
# hold an O_PATH descriptor; criu gave its exe that descriptor's file and
# the restore failed ("PR_SET_MM_MAP failed with -9") after the dump had
# killed the CT (t_cpt_exe_held_opath has the bare case).
t_debian13_server_ssh() { DEBIAN_SRV_TMPL=debian-13-x86_64-server t_net_debian_server_ssh; }
