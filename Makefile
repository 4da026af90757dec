# nvz: OpenVZ's vzctl/vzlist rebuilt on namespaces, cgroups and CRIU.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/nvz
SHAREDIR ?= $(PREFIX)/share/nvz
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= /etc/systemd/system
MANDIR ?= $(PREFIX)/share/man
# Every man page in doc/, installed under the section its suffix names.
MAN_PAGES := $(wildcard doc/*.[1-8])
DESTDIR ?=
VERSION := 0.1.0

CC ?= gcc
PKGS := libarchive libcap libseccomp libnl-3.0 fuse3
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wno-format-nonliteral
XCFLAGS := -std=gnu17 $(WARN) -Iinclude -Ilib -D_GNU_SOURCE -DNVZ_VERSION='"$(VERSION)"' \
	-DNVZ_LIBEXECDIR='"$(LIBEXECDIR)"' -fstack-clash-protection -D_FORTIFY_SOURCE=2 \
	$(shell pkg-config --cflags $(PKGS))
# One section per function: vzmon (below) links with --gc-sections and keeps
# only what its loop calls from libnvz.a.
XCFLAGS += -ffunction-sections -fdata-sections
# The commands are static PIEs (their libraries' .a files come with
# Debian's -dev packages, libnl-3's too, which is why netlink goes through
# libnl): no dynamic loader, so no ld.so page faults and relocations
# (~0.7 ms per command here; exec loads vzctl twice, the second time from the
# sealed copy) and no shared library's private pages in nvz's long-lived
# processes. PIE keeps ASLR. libarchive brings only its tar reader and
# decompression filters (no libxml2, ICU, libstdc++). ld warns about dlopen
# (libfuse's module loader) and getaddrinfo/getprotobyname/getprotobynumber
# (libnl's address and protocol name helpers, pulled in with its attribute
# code): none of them is ever called here. The sanitizer builds keep
# everything dynamic.
STATIC_LIBS := -larchive -lfuse3 -lseccomp -lcap -lnl-3 -llzma -lzstd -llz4 -lbz2 -lz -lcrypt
ifeq ($(SAN),)
# --gc-sections: the functions nothing calls go, and with them their
# relocated data (each relocated page is a copy-on-write fault at every
# start of a command).
CMD_LD := -static-pie -Wl,--gc-sections
LIBS := $(STATIC_LIBS)
else
LIBS := $(shell pkg-config --libs $(PKGS)) -lcrypt
endif
# Unit tests also write archives (hostile templates): the whole shared library.
UNIT_LIBS := $(shell pkg-config --libs $(PKGS)) -lcrypt
SAN ?=
ifneq ($(SAN),)
XCFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer
LDSAN := -fsanitize=$(SAN)
endif

B := build
LIB_SRC := $(sort $(wildcard lib/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CMDS := vzctl vzlist vzubc vzquota vzmigrate vzpid vzcpucheck vzsplit vzmemcheck vzcalc vzcfgvalidate
CMD_BIN := $(CMDS:%=$(B)/%)
HELPERS := $(patsubst tests/helpers/%.c,$(B)/tests/%,$(wildcard tests/helpers/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)

all: $(CMD_BIN) $(B)/vzmon $(B)/vzhub $(B)/nvz-criu-action $(HELPERS)

$(B)/%.o: %.c $(wildcard include/nvz/*.h) $(wildcard lib/*/*.h) $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libnvz.a: $(LIB_OBJ) $(B)/stub/exec-stub-blob.o
	@rm -f $@
	ar rcs $@ $^

# The exec stub (stub/exec-stub.c): freestanding, a static PIE with no
# relocations (a few pages), embedded in libnvz; lib/ct/exec-stub.c runs it
# from a sealed memfd. Never sanitized: it has no libc.
STUB_CFLAGS := -std=gnu17 $(WARN) -Ilib -Os -ffreestanding -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fpie -fcf-protection=none
STUB_LDFLAGS := -static-pie -nostdlib -Wl,--no-dynamic-linker -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,norelro -s
$(B)/stub/exec-stub: stub/exec-stub.c lib/ct/exec-stub.h
	@mkdir -p $(dir $@)
	$(CC) $(STUB_CFLAGS) $(STUB_LDFLAGS) -o $@ $<
	@# Nothing relocates it (no libc, no loader): it must need no relocation.
	@if readelf -rW $@ | grep -q 'R_'; then echo "$@: has relocations"; rm -f $@; exit 1; fi
$(B)/stub/exec-stub-blob.o: $(B)/stub/exec-stub
	printf '\t.section .rodata\n\t.balign 16\n\t.globl nvz_exec_stub, nvz_exec_stub_end\nnvz_exec_stub:\n\t.incbin "%s"\nnvz_exec_stub_end:\n\t.section .note.GNU-stack,"",@progbits\n' $< | \
		$(CC) -c -x assembler -o $@ -

# Each command: src/<cmd>.c plus the shared src/cli-*.c and src/cmd-*.c pieces.
CLI_COMMON_SRC := $(sort $(wildcard src/cli-*.c))
VZCTL_SRC := src/vzctl.c $(sort $(wildcard src/cmd-*.c)) $(CLI_COMMON_SRC)
VZLIST_SRC := src/vzlist.c $(CLI_COMMON_SRC)
VZUBC_SRC := src/vzubc.c $(CLI_COMMON_SRC)
VZQUOTA_SRC := src/vzquota.c $(CLI_COMMON_SRC)
VZMIGRATE_SRC := src/vzmigrate.c $(CLI_COMMON_SRC)
VZPID_SRC := src/vzpid.c $(CLI_COMMON_SRC)
VZCPUCHECK_SRC := src/vzcpucheck.c $(CLI_COMMON_SRC)
VZSPLIT_SRC := src/vzsplit.c $(CLI_COMMON_SRC)
VZMEMCHECK_SRC := src/vzmemcheck.c $(CLI_COMMON_SRC)
VZCALC_SRC := src/vzcalc.c $(CLI_COMMON_SRC)
VZCFGVALIDATE_SRC := src/vzcfgvalidate.c $(CLI_COMMON_SRC)
# One link rule per command, from its <CMD>_SRC list.
define CMD_RULE
$$(B)/$(1): $$($(2)_SRC:%.c=$$(B)/%.o) $$(B)/libnvz.a
	$$(CC) $$(LDSAN) $$(CMD_LD) -o $$@ $$^ $$(LIBS)
endef
$(foreach c,$(CMDS),$(eval $(call CMD_RULE,$(c),$(shell echo $(c) | tr a-z A-Z))))

# vzmon, a running CT's small monitor (lib/ct/monwait.h): static and
# non-PIE, so that each running CT keeps no relocated data and no shared
# library's private pages; it needs no library but libc. Dynamic in the
# sanitizer builds.
ifeq ($(SAN),)
VZMON_LD := -static -no-pie -Wl,--gc-sections
VZMON_LIBS :=
else
VZMON_LIBS := $(LIBS)
endif
$(B)/vzmon: $(B)/src/vzmon.o $(B)/libnvz.a
	$(CC) $(LDSAN) $(VZMON_LD) -o $@ $^ $(VZMON_LIBS)

# vzhub, the server's monitor hub (lib/ct/hub.h): a static PIE like the
# commands (it serves FUSE requests from inside the CTs: ASLR stays), with
# only what the hub calls (--gc-sections). The one process that lives as
# long as the CTs then maps a third of vzctl's code and relocated data.
ifeq ($(SAN),)
VZHUB_LD := -static-pie -Wl,--gc-sections
endif
$(B)/vzhub: $(B)/src/vzhub.o $(B)/libnvz.a
	$(CC) $(LDSAN) $(VZHUB_LD) -o $@ $^ $(LIBS)

# nvz-criu-action, criu's action script at restore (src/nvz-criu-action.c):
# run once per restore, static like vzhub, with only what it calls.
$(B)/nvz-criu-action: $(B)/src/nvz-criu-action.o $(B)/libnvz.a
	$(CC) $(LDSAN) $(VZHUB_LD) -o $@ $^ $(LIBS)

$(B)/tests/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(CFLAGS) $(LDSAN) -o $@ $<

# memfill, psiwatch, clone3ns and opathexe run inside busybox CTs (no libc there): static, and
# without the sanitizers even in their builds (the CT's load, not nvz's code).
$(B)/tests/memfill $(B)/tests/psiwatch $(B)/tests/clone3ns $(B)/tests/opathexe: $(B)/tests/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu17 -O2 -Wall -Wextra -Werror -static -o $@ $<

$(B)/unit/%: tests/unit/%.c $(B)/libnvz.a $(wildcard src/cli-*.c src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(CFLAGS) $(LDSAN) -o $@ $< $(B)/libnvz.a $(UNIT_LIBS) -lcriterion

unit: $(UNIT_BIN)

# libFuzzer targets (tests/fuzz, clang): `make fuzz` rebuilds the library in
# build-fuzz with coverage and ASan/UBSan; tests/fuzz/run.sh runs them.
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(B)/libnvz.a
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(B)/libnvz.a $(LIBS)
fuzz-bins: $(FUZZ_BIN)
fuzz:
	$(MAKE) B=build-fuzz CC=clang SAN=address,undefined,fuzzer-no-link fuzz-bins

# Unit tests print Criterion's synthesis line; scripts/summary.sh adds them up.
check-unit: $(UNIT_BIN)
	@rc=0; for t in $(UNIT_BIN); do $$t --jobs 2 || rc=1; done; exit $$rc

check: all unit
	bash tests/run.sh

# Side by side with crun and LXC; writes bench/RESULTS.md (not part of check).
bench: all
	bash bench/run.sh

# Freeze time of chkpnt + restore against lxc-checkpoint and plain criu
# (bench/cpt.sh; a section of bench/RESULTS.md).
bench-cpt: all
	bash bench/cpt.sh

# VM lane: Debian stock kernel under qemu, cgroup v2 only, prjquota /tmp (tests/vm/README.md)
check-vm: all
	scripts/vm-lane/run.sh $(VM_PATTERN)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(CMD_BIN) $(DESTDIR)$(SBINDIR)/
	install -m 0755 scripts/mk-busybox-template scripts/mk-debian-template scripts/nvz-onboot \
		$(B)/vzmon $(B)/vzhub $(B)/nvz-criu-action $(DESTDIR)$(LIBEXECDIR)/
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' etc/nvz.service.in \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/nvz.service
	install -d $(DESTDIR)$(SHAREDIR)/conf
	install -m 0644 etc/vz.conf etc/ve-*.conf-sample $(DESTDIR)$(SHAREDIR)/conf/
	install -d $(DESTDIR)$(SYSCONFDIR)/vz/conf $(DESTDIR)$(SYSCONFDIR)/vz/names
	@# An existing vz.conf is the admin's: never overwritten.
	@if [ ! -e $(DESTDIR)$(SYSCONFDIR)/vz/vz.conf ]; then \
		install -m 0644 etc/vz.conf $(DESTDIR)$(SYSCONFDIR)/vz/vz.conf; \
	fi
	install -m 0644 etc/ve-*.conf-sample $(DESTDIR)$(SYSCONFDIR)/vz/conf/
	@for p in $(MAN_PAGES); do s=$${p##*.}; \
		install -d $(DESTDIR)$(MANDIR)/man$$s && install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/ || exit; \
	done

clean:
	rm -rf $(B)

.PHONY: all unit check check-unit check-vm bench bench-cpt install clean fuzz fuzz-bins
