// sys/lazylib.cc — dlopen of the optional libraries and the registry of forwarding tables
// (sys/lazylib.h). Called at start-up, --check and reload; never on a per-packet path.
#include "sys/lazylib.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace nw::sys::lazy {
namespace {

struct Entry {
    const char* soname;
    Table table{};
    void* handle = nullptr;
    std::atomic<bool> ok{false};
};

// Constant-initialized: register_table() runs from other files' static initializers.
constinit Entry g_libs[kLibs] = {{"libcrypto.so.3"}, {"libpcap.so.0.8"}, {"libmosquitto.so.1"}};
constinit std::mutex g_mu;

Entry& entry(Lib lib) { return g_libs[static_cast<size_t>(lib)]; }

}  // namespace

const char* soname(Lib lib) { return entry(lib).soname; }

void register_table(Lib lib, Table table) { entry(lib).table = table; }

bool require(Lib lib, std::string* err) {
    Entry& e = entry(lib);
    if (e.ok.load(std::memory_order_acquire)) return true;
    std::lock_guard<std::mutex> lock(g_mu);
    if (e.ok.load(std::memory_order_relaxed)) return true;
    if (!e.handle) {
        // RTLD_NOW: a library whose own dependencies are missing fails here, not at a first call.
        e.handle = ::dlopen(e.soname, RTLD_NOW | RTLD_LOCAL);
        if (!e.handle) {
            const char* why = ::dlerror();
            *err = std::string("cannot load ") + e.soname + ": " + (why ? why : "unknown dlopen error");
            return false;
        }
    }
    for (size_t i = 0; i < e.table.size; ++i) {
        ::dlerror();
        void* p = ::dlsym(e.handle, e.table.names[i]);
        if (!p) {
            *err = std::string(e.soname) + " has no function " + e.table.names[i] + " (an incompatible version?)";
            return false;
        }
        e.table.slots[i].store(p, std::memory_order_release);
    }
    e.ok.store(true, std::memory_order_release);
    return true;
}

bool loaded(Lib lib) { return entry(lib).ok.load(std::memory_order_acquire); }

void* try_resolve(Lib lib, const std::atomic<void*>& slot, std::string* err) {
    if (void* p = slot.load(std::memory_order_acquire)) return p;
    if (!require(lib, err)) return nullptr;
    return slot.load(std::memory_order_acquire);
}

void* resolve(Lib lib, const std::atomic<void*>& slot) {
    std::string err;
    if (void* p = try_resolve(lib, slot, &err)) return p;
    std::fprintf(stderr, "netwaked: %s\n", err.c_str());
    std::abort();
}

}  // namespace nw::sys::lazy
