#include "models/core/dtype.h"

#include <cmath>
#include <limits>

namespace npusim::models {

const char* to_string(dtype t) {
    switch (t) {
        case dtype::fp32:
            return "fp32";
        case dtype::fp16:
            return "fp16";
        case dtype::bf16:
            return "bf16";
        case dtype::int32:
            return "int32";
        case dtype::int8:
            return "int8";
    }
    return "?";
}

float half_to_float(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) {
                man <<= 1;
                --exp;
            }
            man &= 0x3ff;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000 | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

uint16_t float_to_half(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
    const uint32_t absx = x & 0x7fffffff;
    if (absx >= 0x7f800000) return sign | 0x7c00 | (absx > 0x7f800000 ? 0x200 : 0);  // inf/nan
    if (absx >= 0x477ff000) return sign | 0x7c00;  // rounds to >= 65520: overflow to inf
    if (absx < 0x38800000) {                       // below the smallest normal: subnormal or 0
        if (absx < 0x33000000) return sign;        // < 2^-25 rounds to zero
        const uint32_t e = absx >> 23;
        const uint32_t m = (absx & 0x7fffff) | 0x800000;
        const uint32_t shift = 126 - e;  // 14 - (e - 127) + 13 - 1 ... bits to drop
        const uint32_t half_m = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1);
        const uint32_t halfway = 1u << (shift - 1);
        uint32_t r = half_m;
        if (rem > halfway || (rem == halfway && (half_m & 1))) ++r;
        return static_cast<uint16_t>(sign | r);
    }
    uint32_t r = ((absx >> 13) - ((127 - 15) << 10));
    const uint32_t rem = absx & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) ++r;
    return static_cast<uint16_t>(sign | r);
}

uint16_t float_to_bf16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((x >> 16) | 0x40);  // nan
    const uint32_t rounding = 0x7fff + ((x >> 16) & 1);
    return static_cast<uint16_t>((x + rounding) >> 16);
}

float load_as_float(const uint8_t* base, dtype t, uint64_t i) {
    switch (t) {
        case dtype::fp32: {
            float f;
            std::memcpy(&f, base + 4 * i, 4);
            return f;
        }
        case dtype::fp16: {
            uint16_t h;
            std::memcpy(&h, base + 2 * i, 2);
            return half_to_float(h);
        }
        case dtype::bf16: {
            uint16_t h;
            std::memcpy(&h, base + 2 * i, 2);
            return bf16_to_float(h);
        }
        case dtype::int32: {
            int32_t v;
            std::memcpy(&v, base + 4 * i, 4);
            return static_cast<float>(v);
        }
        case dtype::int8:
            return static_cast<float>(static_cast<int8_t>(base[i]));
    }
    return 0;
}

void store_from_float(uint8_t* base, dtype t, uint64_t i, float v) {
    switch (t) {
        case dtype::fp32:
            std::memcpy(base + 4 * i, &v, 4);
            return;
        case dtype::fp16: {
            const uint16_t h = float_to_half(v);
            std::memcpy(base + 2 * i, &h, 2);
            return;
        }
        case dtype::bf16: {
            const uint16_t h = float_to_bf16(v);
            std::memcpy(base + 2 * i, &h, 2);
            return;
        }
        case dtype::int32: {
            const float r = std::nearbyint(v);
            const int32_t x = std::isnan(r)        ? 0
                              : r >= 2147483520.f  ? std::numeric_limits<int32_t>::max()
                              : r <= -2147483648.f ? std::numeric_limits<int32_t>::min()
                                                   : static_cast<int32_t>(r);
            std::memcpy(base + 4 * i, &x, 4);
            return;
        }
        case dtype::int8: {
            const float r = std::nearbyint(v);
            const int8_t x =
                std::isnan(r) ? 0 : static_cast<int8_t>(std::fmax(-128.f, std::fmin(127.f, r)));
            base[i] = static_cast<uint8_t>(x);
            return;
        }
    }
}

}  // namespace npusim::models
