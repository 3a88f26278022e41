// sys/lazy_forward.h — the shared part of a forwarding file (sys/lazy_*.cc): each C function netwaked
// calls in a dlopen'd library is defined once in netwaked, with the header's own signature, and
// jumps through a slot typed from that declaration (decltype). Include only from those files.
#pragma once

#include <atomic>
#include <cstddef>

#include "sys/lazylib.h"

// LIST(X) names the functions: X(pcap_close) X(pcap_create) ... Defines, in an anonymous namespace,
// their slots, registers them for LIB, and nw_lazy_fn<decltype(&::f)>(k_f) for the forwarders.
#define NW_LAZY_INDEX(f) k_##f,
#define NW_LAZY_NAME(f) #f,
#define NW_LAZY_FORWARDERS(LIB, LIST)                                                                     \
    namespace {                                                                                           \
    enum : size_t { LIST(NW_LAZY_INDEX) k_count };                                                       \
    constexpr const char* kNames[] = {LIST(NW_LAZY_NAME)};                                                \
    std::atomic<void*> g_slots[k_count];                                                                  \
    [[maybe_unused]] const bool g_registered =                                                            \
        (nw::sys::lazy::register_table(LIB, nw::sys::lazy::Table{kNames, g_slots, k_count}), true);       \
    template <class F>                                                                                    \
    F nw_lazy_fn(size_t i) {                                                                              \
        return reinterpret_cast<F>(nw::sys::lazy::resolve(LIB, g_slots[i]));                             \
    }                                                                                                     \
    }

// The slot of function f, typed from f's declaration in the library's header.
#define NW_LAZY(f) nw_lazy_fn<decltype(&::f)>(k_##f)
