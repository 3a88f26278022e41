# Makefile — builds, tests, benchmarks and packages netwaked. Plain GNU make + pkg-config.
#   make                 build/netwaked, build/netwakectl
#   sudo make test       install missing packages, build, run unit + fuzz-corpus + netns tests
#   sudo make demo       install missing packages, build, run the namespace lab demo
#   make bench | fuzz FUZZ_SECONDS=N | deb | install [PREFIX=/usr/local DESTDIR=]
#   Options: V=1 (show commands), SANITIZE=address,undefined (separate build dir), BUILD=dir,
#            WERROR=1 (warnings are errors; CI builds so with g++ and with CXX=clang++)
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/netwaked
HOOKDIR  ?= $(PREFIX)/lib/netwaked/hooks
SYSCONFDIR ?= /etc
DESTDIR  ?=
SANITIZE ?=
WERROR   ?=
BUILD    ?= build$(if $(SANITIZE),-san)

CXX      ?= g++
PKGS     := libpcap libnetfilter_log libnfnetlink yaml-cpp fmt libcrypto nlohmann_json libcap libmosquitto
PKG_CONFIG ?= pkg-config
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CPPFLAGS += -Isrc -I. $(PKG_CFLAGS) -D_FILE_OFFSET_BITS=64 -DNETWAKED_VERSION='"$(VERSION)"' -MMD -MP
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++20 -Wall -Wextra -Wno-unused-parameter -fno-plt $(if $(WERROR),-Werror)
LDFLAGS  += -Wl,--as-needed -pthread
LDLIBS   += $(PKG_LIBS)
# netwaked dlopens these only when its configuration needs them (src/sys/lazylib.h: issue 16,
# private memory); netwakectl, unit tests and fuzz replays link them as usual.
LAZY_LIBS   := $(filter -l%,$(shell $(PKG_CONFIG) --libs libpcap libcrypto libmosquitto 2>/dev/null))
DAEMON_LIBS := $(filter-out $(LAZY_LIBS),$(LDLIBS)) -ldl
ifneq ($(SANITIZE),)
CXXFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

# src/sys/lazy_*.cc define the dlopen'd libraries' functions: netwaked's link only, not the archive.
LAZY_SRCS := $(sort $(wildcard src/sys/lazy_*.cc))
LAZY_OBJS := $(LAZY_SRCS:%.cc=$(BUILD)/obj/%.o)
LIB_SRCS  := $(filter-out $(LAZY_SRCS),$(sort $(wildcard src/*/*.cc)))
LIB_OBJS  := $(LIB_SRCS:%.cc=$(BUILD)/obj/%.o)
UNIT_SRCS ?= $(sort $(wildcard tests/unit/*.cc))
UNIT_OBJS := $(UNIT_SRCS:%.cc=$(BUILD)/obj/%.o)
# netwakectl: every tools/*.cc (netwakectl-only code lives there, not in the daemon's folders).
TOOL_SRCS := $(sort $(wildcard tools/*.cc))
TOOL_OBJS := $(TOOL_SRCS:%.cc=$(BUILD)/obj/%.o)
TOOL_UNIT_OBJS := $(filter-out $(BUILD)/obj/tools/netwakectl.o,$(TOOL_OBJS))  # unit-tested parts
FUZZ_SRCS := $(sort $(filter-out tests/fuzz/replay_main.cc,$(wildcard tests/fuzz/fuzz_*.cc)))
FUZZ_REPLAY := $(FUZZ_SRCS:tests/fuzz/%.cc=$(BUILD)/replay/%)
# The harness objects are kept (not deleted as intermediates) and their .d files included, so a
# library change relinks the replay binaries without recompiling every harness.
FUZZ_OBJS := $(FUZZ_SRCS:%.cc=$(BUILD)/obj/%.o) $(BUILD)/obj/tests/fuzz/replay_main.o
.SECONDARY: $(FUZZ_OBJS)

.PHONY: all deps test unit fuzz-replay fuzz demo bench deb install clean
all: $(BUILD)/netwaked $(BUILD)/netwakectl

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CXX   $<")
	$(Q)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(BUILD)/libnetwaked.a: $(LIB_OBJS)
	@$(if $(Q),echo "  AR    $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/netwaked: $(BUILD)/obj/src/main.o $(LAZY_OBJS) $(BUILD)/libnetwaked.a
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CXX) $(LDFLAGS) $(CXXFLAGS) $^ $(DAEMON_LIBS) -o $@

$(BUILD)/netwakectl: $(TOOL_OBJS) $(BUILD)/libnetwaked.a
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CXX) $(LDFLAGS) $(CXXFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/unit_tests: $(UNIT_OBJS) $(TOOL_UNIT_OBJS) $(BUILD)/libnetwaked.a
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CXX) $(LDFLAGS) $(CXXFLAGS) $^ $(LDLIBS) -o $@

# Fuzz harnesses built with g++ and a replay main: `make test` replays the seed corpora.
$(BUILD)/replay/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay_main.o $(BUILD)/libnetwaked.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CXX) $(LDFLAGS) $(CXXFLAGS) $^ $(LDLIBS) -o $@

unit: $(BUILD)/unit_tests
fuzz-replay: $(FUZZ_REPLAY)

deps:
	@scripts/deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all unit fuzz-replay
	$(Q)BUILD=$(BUILD) tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/demo.sh

# Real libFuzzer builds with clang (separate build dir).
fuzz: deps
	$(Q)$(MAKE) --no-print-directory -f tests/fuzz/fuzz.mk FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60)

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory -f bench/bench.mk BUILD=$(BUILD)
	$(Q)BUILD=$(BUILD) bench/run.sh

# The .deb, built by dpkg-buildpackage (debian/rules builds in debian/build-deb); the
# artifacts it leaves in ../ are moved to $(BUILD)/. Tools: scripts/deb-deps.sh.
# ARCH=arm64|armhf cross-builds (dpkg-buildpackage --host-arch; tools: scripts/cross-deps.sh,
# which replaces dpkg-checkbuilddeps there: Debian 12's libyaml-cpp-dev is not Multi-Arch: same).
DEB_VERSION = $(shell dpkg-parsechangelog -S Version 2>/dev/null)
DEB_ARCH    = $(or $(ARCH),*)
# (a variable: a literal comma inside $(if ...) would end its "then" part)
DEB_CROSS_OPTS = --host-arch $(ARCH) -d -Pcross,nocheck -j2
deb:
	$(if $(ARCH),scripts/cross-deps.sh $(ARCH),scripts/deb-deps.sh)
	$(if $(ARCH),DEB_BUILD_OPTIONS="nocheck $(DEB_BUILD_OPTIONS)") dpkg-buildpackage -us -uc -b $(if $(ARCH),$(DEB_CROSS_OPTS),-j2)
	@mkdir -p $(BUILD)
	@for f in ../netwaked_$(DEB_VERSION)_*.deb ../netwaked-dbgsym_$(DEB_VERSION)_*.deb \
	          ../netwaked_$(DEB_VERSION)_*.buildinfo ../netwaked_$(DEB_VERSION)_*.changes; do \
	  if [ -e "$$f" ]; then mv -f "$$f" $(BUILD)/ || exit 1; fi; done
	@cp -f $(BUILD)/netwaked_$(DEB_VERSION)_$(DEB_ARCH).deb .   # so `sudo apt install ./netwaked_*.deb` works here
	@ls $(BUILD)/netwaked_$(DEB_VERSION)_$(DEB_ARCH).deb ./netwaked_$(DEB_VERSION)_$(DEB_ARCH).deb

# Binaries, the configuration (never overwriting an existing one; its and the examples' hook
# paths follow HOOKDIR), man pages, and the example configurations and hooks. Honours PREFIX and DESTDIR.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/netwaked $(DESTDIR)$(SBINDIR)/netwaked
	install -m 0755 $(BUILD)/netwakectl $(DESTDIR)$(BINDIR)/netwakectl
	install -d $(DESTDIR)$(SYSCONFDIR)/netwaked/hooks
	[ -e $(DESTDIR)$(SYSCONFDIR)/netwaked/netwaked.yaml ] || { \
	  sed 's|/usr/lib/netwaked/hooks/|$(HOOKDIR)/|g' conf/netwaked.yaml >$(DESTDIR)$(SYSCONFDIR)/netwaked/netwaked.yaml && \
	  chmod 0644 $(DESTDIR)$(SYSCONFDIR)/netwaked/netwaked.yaml; }
	install -d $(DESTDIR)$(HOOKDIR) $(DESTDIR)$(DOCDIR)/examples/hooks $(DESTDIR)$(DOCDIR)/examples/conf
	install -m 0755 hooks/log-event hooks/vpn-toggle $(DESTDIR)$(HOOKDIR)/
	for f in hooks/*; do if [ -f "$$f" ]; then install -m 0755 "$$f" $(DESTDIR)$(DOCDIR)/examples/hooks/ || exit 1; fi; done
	for f in conf/examples/*; do if [ -f "$$f" ]; then sed 's|/usr/lib/netwaked/hooks/|$(HOOKDIR)/|g' "$$f" \
	  >$(DESTDIR)$(DOCDIR)/examples/conf/$${f##*/} && chmod 0644 $(DESTDIR)$(DOCDIR)/examples/conf/$${f##*/} || exit 1; fi; done
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	for m in doc/*.5; do if [ -f "$$m" ]; then install -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man5/ || exit 1; fi; done
	for m in doc/*.8; do if [ -f "$$m" ]; then install -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man8/ || exit 1; fi; done

clean:
	rm -rf build build-san build-fuzz build-* netwaked_*.deb

-include $(LIB_OBJS:.o=.d) $(LAZY_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BUILD)/obj/src/main.d $(TOOL_OBJS:.o=.d) \
         $(FUZZ_OBJS:.o=.d)
