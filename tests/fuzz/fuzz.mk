# tests/fuzz/fuzz.mk — `make fuzz`: builds every tests/fuzz/fuzz_*.cc as a real libFuzzer binary
# (clang++, -fsanitize=fuzzer,address,undefined; src/ also built with clang into build-fuzz/) and runs each.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="packet config"] [FUZZ_ARGS="-max_len=4096"] [-j2]
#   make -f tests/fuzz/fuzz.mk build-fuzz/fuzz_packet        just build one harness
#
# Each harness runs FUZZ_SECONDS on build-fuzz/corpus-<name>/, seeded from tests/fuzz/corpus/<name>/
# (new inputs stay in build-fuzz/; the repository corpus stays small). Crashes, leaks, timeouts and
# UBSan reports are saved as build-fuzz/crash-<name>-*; move a reproducer to
# tests/fuzz/corpus/<name>/regress-<desc> so `make test` replays it. The runs are independent
# targets: `make -j2 fuzz` runs two at a time. Last lines: execs per harness, then PASS/FAIL.
FUZZ_SECONDS ?= 60
FUZZ_ARGS    ?=
FUZZ_BUILD   ?= build-fuzz
FUZZ_CXX     ?= clang++
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

PKGS       := libpcap libnetfilter_log libnfnetlink yaml-cpp fmt libcrypto nlohmann_json libcap libmosquitto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
VERSION    := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
F_CPPFLAGS := -Isrc $(PKG_CFLAGS) -DNETWAKED_VERSION='"$(VERSION)"' -MMD -MP
F_CXXFLAGS := -std=c++20 -O1 -g -Wno-unused-parameter $(FUZZ_SAN)

ifeq ($(V),1)
Q :=
else
Q := @
endif

F_LIB_SRCS := $(filter-out src/sys/lazy_%.cc,$(sort $(wildcard src/*/*.cc)))  # lazy_*: netwaked only (Makefile)
F_LIB_OBJS := $(F_LIB_SRCS:%.cc=$(FUZZ_BUILD)/obj/%.o)
F_ALL_HARN := $(patsubst tests/fuzz/fuzz_%.cc,%,$(sort $(wildcard tests/fuzz/fuzz_*.cc)))
FUZZ_TARGETS ?= $(F_ALL_HARN)
F_BINS     := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
F_RUNS     := $(FUZZ_TARGETS:%=fuzz-run-%)

.PHONY: fuzz fuzz-build $(F_RUNS)
.SECONDARY:
.DEFAULT_GOAL := fuzz

# Summary after every run: execs per harness from its log, FAIL if any run found something.
fuzz: $(F_RUNS)
	@echo "== fuzz summary ($(FUZZ_SECONDS) s each) =="
	@bad=0; for n in $(FUZZ_TARGETS); do \
	  r=$$(cat $(FUZZ_BUILD)/result-$$n 2>/dev/null || echo "? 0 0"); set -- $$r; \
	  printf '  %-10s %-4s execs=%-12s corpus=%s\n' "$$n" "$$1" "$$2" "$$3"; \
	  [ "$$1" = PASS ] || bad=1; done; \
	if [ $$bad -ne 0 ]; then echo "fuzz: FAIL (see $(FUZZ_BUILD)/log-<name>, $(FUZZ_BUILD)/crash-*)"; exit 1; fi; \
	echo "fuzz: PASS"

fuzz-build: $(F_BINS)

$(FUZZ_BUILD)/obj/%.o: %.cc
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CLANG $<")
	$(Q)$(FUZZ_CXX) $(F_CPPFLAGS) $(F_CXXFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/libnetwaked.a: $(F_LIB_OBJS)
	@$(if $(Q),echo "  AR    $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/libnetwaked.a
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(FUZZ_CXX) $(F_CXXFLAGS) -fsanitize=fuzzer $^ $(PKG_LIBS) -pthread -o $@

# One run: seed the working corpus, fuzz, record "PASS|FAIL execs corpus-size" in result-<name>.
# A run that finds something still exits 0 here, so the other runs go on; the summary fails.
$(F_RUNS): fuzz-run-%: $(FUZZ_BUILD)/fuzz_%
	@mkdir -p $(FUZZ_BUILD)/corpus-$*
	@if [ -d tests/fuzz/corpus/$* ]; then cp -n tests/fuzz/corpus/$*/* $(FUZZ_BUILD)/corpus-$*/ 2>/dev/null; fi; true
	@echo "  FUZZ  $* for $(FUZZ_SECONDS) s (log: $(FUZZ_BUILD)/log-$*)"
	@ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	 UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	 $(FUZZ_BUILD)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -timeout=10 \
	   -rss_limit_mb=2048 -artifact_prefix=$(FUZZ_BUILD)/crash-$*- $(FUZZ_ARGS) \
	   $(FUZZ_BUILD)/corpus-$* >$(FUZZ_BUILD)/log-$* 2>&1; rc=$$?; \
	 execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_BUILD)/log-$* | tail -n 1); \
	 files=$$(ls $(FUZZ_BUILD)/corpus-$* | wc -l); \
	 if [ $$rc -eq 0 ]; then st=PASS; else st=FAIL; fi; \
	 echo "$$st $${execs:-0} $$files" >$(FUZZ_BUILD)/result-$*; \
	 echo "  DONE  $* $$st execs=$${execs:-0} corpus=$$files (exit $$rc)"; \
	 if [ $$rc -ne 0 ]; then \
	   grep -E -m1 -A25 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|==ERROR|deadly signal' \
	     $(FUZZ_BUILD)/log-$* | sed 's/^/    | /'; \
	   ls $(FUZZ_BUILD)/crash-$*-* 2>/dev/null | sed 's/^/    artifact: /'; fi

-include $(F_LIB_OBJS:.o=.d) $(F_ALL_HARN:%=$(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.d)
