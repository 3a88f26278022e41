// sys/lazylib.h — libraries netwaked loads with dlopen only when the configuration needs them
// (libcrypto, libpcap, libmosquitto: issue 16, private memory in tuninetd mode). No policy here.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>

namespace nw::sys::lazy {

enum class Lib : unsigned char { Crypto, Pcap, Mosquitto };
constexpr size_t kLibs = 3;

// The soname dlopen is given: "libcrypto.so.3", "libpcap.so.0.8", "libmosquitto.so.1".
const char* soname(Lib lib);

// The functions a forwarding file (sys/lazy_*.cc, linked into netwaked only) calls through: their
// names, and the slots that receive their addresses, in the same order. Registered by a static
// initializer; require() fills the slots. Binaries without forwarders (netwakectl, unit tests)
// link the libraries normally and register nothing: require() then only opens the library.
struct Table {
    const char* const* names;
    std::atomic<void*>* slots;
    size_t size;
};
void register_table(Lib lib, Table table);

// Opens `lib` (once; thread-safe) and resolves every registered function. False with a message
// naming the soname and dlerror()'s reason (or the missing function) when it cannot.
[[nodiscard]] bool require(Lib lib, std::string* err);
// True once require(lib) has succeeded.
bool loaded(Lib lib);

// For forwarders: `*slot` once `lib` is loaded. A forwarder called before require() loads it
// here; when that fails it prints the reason and aborts (a caller forgot require(): a bug).
void* resolve(Lib lib, const std::atomic<void*>& slot);
// As resolve(), but nullptr instead of aborting (for functions with a documented failure return).
void* try_resolve(Lib lib, const std::atomic<void*>& slot, std::string* err);

}  // namespace nw::sys::lazy
