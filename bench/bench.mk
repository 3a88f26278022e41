# bench/bench.mk — builds the benchmark tools (packet generator, latency probe, reference
# receivers) into $(BUILD)/bench/ with the project's flags. Used by `make bench`.
BUILD    ?= build
CXX      ?= g++
PKGS     := libpcap libnetfilter_log libnfnetlink fmt
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CPPFLAGS += $(PKG_CFLAGS) -MMD -MP
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++20 -Wall -Wextra -Wno-unused-parameter -fno-plt
LDFLAGS  += -Wl,--as-needed -pthread
LDLIBS   += $(PKG_LIBS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

TOOLS := pktgen lat ref_nflog ref_pcap
BINS  := $(TOOLS:%=$(BUILD)/bench/%)

.PHONY: all
all: $(BINS)

$(BUILD)/bench/%.o: bench/%.cc
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CXX   $<")
	$(Q)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(BUILD)/bench/%: $(BUILD)/bench/%.o
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CXX) $(LDFLAGS) $(CXXFLAGS) $^ $(LDLIBS) -o $@

.SECONDARY: $(TOOLS:%=$(BUILD)/bench/%.o)

-include $(TOOLS:%=$(BUILD)/bench/%.d)
