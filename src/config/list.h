// config/list.h — List<T>: a compact list of plain values for a rule's address, port and MAC
// lists: one pointer (8 bytes; empty: no heap) where a std::vector costs 24, its count stored in
// front of the items (issue 16: memory per target). Built by the loader, read-only afterwards;
// the read interface is std::vector's (iteration, size, [], span), copies are deep.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>
#include <span>
#include <type_traits>
#include <vector>

namespace nw::config {

template <class T>
class List {
    static_assert(std::is_trivially_copyable_v<T> && alignof(T) <= 8, "List holds plain values");

public:
    List() = default;
    List(std::initializer_list<T> v) { assign(v.begin(), v.size()); }
    List(const std::vector<T>& v) { assign(v.data(), v.size()); }
    List(const List& o) { assign(o.begin(), o.size()); }
    List(List&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
    List& operator=(List o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~List() { std::free(p_); }

    size_t size() const { return p_ ? *reinterpret_cast<const uint32_t*>(p_) : 0; }
    bool empty() const { return p_ == nullptr; }
    const T* begin() const { return p_ ? reinterpret_cast<const T*>(p_ + kHead) : nullptr; }
    const T* end() const { return begin() + size(); }
    const T* data() const { return begin(); }
    const T& operator[](size_t i) const { return begin()[i]; }
    const T& front() const { return *begin(); }
    operator std::span<const T>() const { return {begin(), size()}; }

    // Loading only: one reallocation per item (rules hold a handful).
    void push_back(const T& v) {
        const size_t n = size();
        auto* q = static_cast<unsigned char*>(std::realloc(p_, kHead + (n + 1) * sizeof(T)));
        if (!q) throw std::bad_alloc();
        p_ = q;
        std::memcpy(p_ + kHead + n * sizeof(T), &v, sizeof(T));
        *reinterpret_cast<uint32_t*>(p_) = uint32_t(n + 1);
    }
    void clear() { *this = List(); }

    bool operator==(const List& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }

private:
    static constexpr size_t kHead = 8;  // the count, padded to the items' alignment
    void assign(const T* v, size_t n) {
        if (n == 0) return;
        p_ = static_cast<unsigned char*>(std::malloc(kHead + n * sizeof(T)));
        if (!p_) throw std::bad_alloc();
        *reinterpret_cast<uint32_t*>(p_) = uint32_t(n);
        std::memcpy(p_ + kHead, v, n * sizeof(T));
    }
    unsigned char* p_ = nullptr;
};

}  // namespace nw::config
