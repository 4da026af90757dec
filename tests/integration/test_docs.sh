# What an admin reads: the man pages and `vzctl --help` must name every
# command, option, field, config key and exit status the code has, so that
# nothing added to the code goes undocumented.

# A page as text (ASCII, no overstrike) on stdout.
man_text() {
	groff -t -man -Tascii -P-c -P-b -P-u "$1" 2>/dev/null
}

# Long options of the C option tables in the given files.
c_long_options() {
	grep -ohE '\{ *"[a-z0-9_-]+", *(required|no|optional)_argument' "$@" |
		sed -E 's/^\{ *"([^"]+)".*/\1/' | sort -u
}

# vzctl set's options: its table's rows and the beancounters.
set_options() {
	grep -oE '^\s*\{ "[a-z0-9_-]+", ("[A-Z_]+"|NULL), K_' "$SRCDIR/src/cmd-set-opts.c" |
		sed -E 's/^\s*\{ "([^"]+)".*/\1/'
	grep -oE '\] = \{"[a-z]+", "[A-Z]+"' "$SRCDIR/lib/res/ubc.c" | sed -E 's/.*\{"([^"]+)".*/\1/'
}

# Each word on stdin must be in file $1 ("--" prepended with $2 = opt).
all_in() {
	local text=$1 kind=${2:-word} w missing=""
	while read -r w; do
		[ -n "$w" ] || continue
		if [ "$kind" = opt ]; then
			grep -qE -- "--$w([^a-z0-9_-]|\$)" "$text" || missing="$missing --$w"
		else
			grep -qw -- "$w" "$text" || missing="$missing $w"
		fi
	done
	[ -z "$missing" ] || { echo "missing:$missing"; return 1; }
}

t_man_pages() {
	command -v groff >/dev/null || fail "groff is not installed (groff-base)"
	local d=$SRCDIR/doc p cmd
	# Every command nvz installs has its page; every page renders cleanly.
	for cmd in $(sed -n 's/^CMDS := //p' "$SRCDIR/Makefile"); do
		[ -f "$d/$cmd.8" ] || fail "no man page for $cmd"
	done
	for p in vz.conf.5 ctid.conf.5; do [ -f "$d/$p" ] || fail "no $p"; done
	for p in "$d"/*.[1-8]; do
		[ -z "$(groff -t -man -ww -z "$p" 2>&1)" ] ||
			fail "$(basename "$p"): $(groff -t -man -ww -z "$p" 2>&1 | head -3)"
		man_text "$p" >"$T/$(basename "$p").txt"
	done
	# vzctl: its commands, their options, set's options, exit statuses.
	local v=$T/vzctl.8.txt
	grep -oE '^\s*\{ "[a-z0-9-]+", cmd_' "$SRCDIR/src/vzctl.c" | sed -E 's/.*"([^"]+)".*/\1/' |
		grep -vE '^(migrate-recv|monitor-exit)$' | all_in "$v" || fail "vzctl.8: commands"
	local files=()
	for p in "$SRCDIR"/src/vzctl.c "$SRCDIR"/src/cmd-*.c; do
		case $p in */cmd-migrate.c | */cmd-monitor.c) ;; *) files+=("$p") ;; esac
	done
	{ c_long_options "${files[@]}"; set_options; printf '%s\n' quiet verbose skiplock version help; } |
		all_in "$v" opt || fail "vzctl.8: options"
	sed -n '/^EXIT STATUS/,/^[A-Z]/p' "$v" >"$T/exit.txt"
	local n missing=""
	for n in $(grep -oE '= [0-9]+,' "$SRCDIR/include/nvz/error.h" | tr -dc '0-9\n'); do
		grep -qE "^ +$n( |\$)" "$T/exit.txt" || missing="$missing $n"
	done
	[ -z "$missing" ] || fail "vzctl.8: EXIT STATUS lacks$missing"
	# vzlist: fields and options; vzquota, vzmigrate: options.
	grep -oE 'ROW\("[a-z0-9._]+"' "$SRCDIR/src/cli-vzlist-fields.c" | sed -E 's/ROW\("([^"]+)"/\1/' |
		all_in "$T/vzlist.8.txt" || fail "vzlist.8: fields"
	for cmd in vzlist vzquota vzmigrate; do
		c_long_options "$SRCDIR/src/$cmd.c" | all_in "$T/$cmd.8.txt" opt || fail "$cmd.8: options"
	done
	# Every config key in vz.conf(5) or ctid.conf(5).
	cat "$T/vz.conf.5.txt" "$T/ctid.conf.5.txt" >"$T/conf.txt"
	grep -oE '^\s*\{"[A-Z0-9_]+",' "$SRCDIR/lib/config/keys.c" | tr -dc 'A-Z0-9_\n' |
		all_in "$T/conf.txt" || fail "vz.conf.5/ctid.conf.5: keys"
	return 0
}

# OpenVZ's `vzctl --help` lists every set option with its argument.
t_vzctl_help() {
	expect_rc 0 "$VZCTL" --help
	"$VZCTL" --help >"$T/help.txt" 2>&1
	set_options | all_in "$T/help.txt" opt || fail "vzctl --help: set options"
	grep -q '^UBC parameters' "$T/help.txt" || fail "no UBC parameters in --help"
	expect_rc 20 "$VZCTL" --nosuchoption
	return 0
}
