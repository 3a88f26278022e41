// config/boxed.h — Boxed<T>: an optional value kept on the heap, for large sections most targets
// leave out (wol, sleep_proxy): an empty one costs a pointer instead of sizeof(T) (issue 16).
// Copies are deep; the interface is std::optional's subset the code base uses.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

namespace nw::config {

template <class T>
class Boxed {
public:
    Boxed() = default;
    Boxed(std::nullopt_t) {}
    Boxed(const T& v) : p_(std::make_unique<T>(v)) {}
    Boxed(T&& v) : p_(std::make_unique<T>(std::move(v))) {}
    Boxed(const Boxed& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
    Boxed(Boxed&&) noexcept = default;
    Boxed& operator=(const Boxed& o) {
        if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
        return *this;
    }
    Boxed& operator=(Boxed&&) noexcept = default;
    Boxed& operator=(std::nullopt_t) {
        p_.reset();
        return *this;
    }
    Boxed& operator=(const T& v) { return *this = Boxed(v); }
    Boxed& operator=(T&& v) { return *this = Boxed(std::move(v)); }

    template <class... A>
    T& emplace(A&&... a) {
        p_ = std::make_unique<T>(std::forward<A>(a)...);
        return *p_;
    }
    void reset() { p_.reset(); }
    bool has_value() const { return p_ != nullptr; }
    explicit operator bool() const { return p_ != nullptr; }
    T* operator->() { return p_.get(); }
    const T* operator->() const { return p_.get(); }
    T& operator*() { return *p_; }
    const T& operator*() const { return *p_; }
    const T& value() const {
        if (!p_) throw std::bad_optional_access();
        return *p_;
    }
    T value_or(T d) const { return p_ ? *p_ : std::move(d); }

    bool operator==(const Boxed& o) const { return p_ && o.p_ ? *p_ == *o.p_ : !p_ && !o.p_; }
    bool operator==(std::nullopt_t) const { return !p_; }

private:
    std::unique_ptr<T> p_;
};

}  // namespace nw::config
