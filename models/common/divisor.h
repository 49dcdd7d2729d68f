#pragma once
#include <cstdint>

namespace npusim::models {

/// @brief Division by a per-instruction constant: a shift when it is a power of two (element
/// sizes and c0 are), a cycle where a 64-bit divide takes tens, on every burst or element.
struct divisor {
    uint64_t d = 1;
    int shift = 0;
    divisor() = default;
    explicit divisor(uint64_t v)
        : d(v), shift(v != 0 && (v & (v - 1)) == 0 ? __builtin_ctzll(v) : -1) {}
    uint64_t div(uint64_t x) const { return shift >= 0 ? x >> shift : x / d; }
    uint64_t mod(uint64_t x) const { return shift >= 0 ? x & (d - 1) : x % d; }
};

}  // namespace npusim::models
