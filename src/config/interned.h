// config/interned.h — Interned: an immutable string whose storage equal values share, for the
// strings many targets repeat (hook paths, sensor and interface names in rules): 8 bytes instead
// of a std::string's 32 plus its heap (issue 16: memory per target). The loader interns through
// an Interner, so every target of one load points at one copy; a copy shares (reference count).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace nw::config {

class Interned {
public:
    Interned() = default;
    Interned(std::string s) : rep_(s.empty() ? nullptr : new Rep{{1}, std::move(s)}) {}
    Interned(const char* s) : Interned(std::string(s)) {}
    Interned(const Interned& o) : rep_(o.rep_) { ref(); }
    Interned(Interned&& o) noexcept : rep_(o.rep_) { o.rep_ = nullptr; }
    Interned& operator=(Interned o) noexcept {
        std::swap(rep_, o.rep_);
        return *this;
    }
    ~Interned() { unref(); }

    const std::string& str() const { return rep_ ? rep_->s : empty_string(); }
    operator const std::string&() const { return str(); }
    operator std::string_view() const { return str(); }
    std::string_view view() const { return str(); }
    const char* c_str() const { return str().c_str(); }
    bool empty() const { return rep_ == nullptr; }
    size_t size() const { return str().size(); }
    // The same storage (tests: interning worked).
    bool shares(const Interned& o) const { return rep_ == o.rep_; }

    bool operator==(const Interned& o) const { return rep_ == o.rep_ || str() == o.str(); }
    bool operator==(const std::string& s) const { return str() == s; }
    bool operator==(std::string_view s) const { return str() == s; }
    bool operator==(const char* s) const { return str() == s; }

private:
    struct Rep {
        std::atomic<uint32_t> refs;
        const std::string s;
    };
    static const std::string& empty_string() {
        static const std::string e;
        return e;
    }
    void ref() const {
        if (rep_) rep_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    void unref() {
        if (rep_ && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete rep_;
        rep_ = nullptr;
    }
    Rep* rep_ = nullptr;
};

inline std::string operator+(const std::string& a, const Interned& b) { return a + b.str(); }
inline std::string operator+(const Interned& a, const std::string& b) { return a.str() + b; }
inline std::string operator+(const char* a, const Interned& b) { return a + b.str(); }

// One load's table: equal strings come back as one shared Interned.
class Interner {
public:
    Interned get(std::string s) {
        if (s.empty()) return {};
        auto it = seen_.find(s);
        if (it != seen_.end()) return it->second;
        Interned v(s);
        seen_.emplace(std::move(s), v);
        return v;
    }

private:
    std::unordered_map<std::string, Interned> seen_;
};

}  // namespace nw::config
