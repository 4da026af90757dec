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
