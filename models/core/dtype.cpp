#include "models/core/dtype.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define NPUSIM_HAS_F16C_PATH 1
#endif

namespace npusim::models {

namespace {

uint16_t load_half(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return h;
}

void halves_to_floats_portable(const uint8_t* src, float* dst, size_t n) {
    for (size_t i = 0; i < n; ++i) dst[i] = half_to_float(load_half(src + 2 * i));
}

void floats_to_halves_portable(const float* src, uint8_t* dst, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const uint16_t h = float_to_half(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
    }
}

#ifdef NPUSIM_HAS_F16C_PATH
// The build targets baseline x86-64, so the F16C code is compiled for it alone and chosen at
// run time. F16C converts exactly and rounds to nearest even, as the scalar functions do; only
// NaNs differ (it quiets a signalling NaN and keeps a payload the scalar float_to_half drops),
// so a group of eight holding a NaN is converted by the scalar functions instead.
bool host_has_f16c() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    const unsigned osxsave = 1u << 27, avx = 1u << 28, f16c = 1u << 29;
    if ((c & (osxsave | avx | f16c)) != (osxsave | avx | f16c)) return false;
    unsigned lo = 0, hi = 0;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6u) == 6u;  // the OS saves the YMM state
}

__attribute__((target("avx,f16c"))) void halves_to_floats_f16c(const uint8_t* src, float* dst,
                                                               size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 f =
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i)));
        if (_mm256_movemask_ps(_mm256_cmp_ps(f, f, _CMP_UNORD_Q)) != 0)
            halves_to_floats_portable(src + 2 * i, dst + i, 8);
        else
            _mm256_storeu_ps(dst + i, f);
    }
    halves_to_floats_portable(src + 2 * i, dst + i, n - i);
}

__attribute__((target("avx,f16c"))) void floats_to_halves_f16c(const float* src, uint8_t* dst,
                                                               size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 f = _mm256_loadu_ps(src + i);
        if (_mm256_movemask_ps(_mm256_cmp_ps(f, f, _CMP_UNORD_Q)) != 0)
            floats_to_halves_portable(src + i, dst + 2 * i, 8);
        else
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * i),
                             _mm256_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    floats_to_halves_portable(src + i, dst + 2 * i, n - i);
}

const bool k_f16c = host_has_f16c();
#else
constexpr bool k_f16c = false;
#endif

}  // namespace

bool host_converts_halves() {
    return k_f16c;
}

void halves_to_floats(const uint8_t* src, float* dst, size_t n, bool portable) {
#ifdef NPUSIM_HAS_F16C_PATH
    if (k_f16c && !portable) return halves_to_floats_f16c(src, dst, n);
#endif
    halves_to_floats_portable(src, dst, n);
}

void floats_to_halves(const float* src, uint8_t* dst, size_t n, bool portable) {
#ifdef NPUSIM_HAS_F16C_PATH
    if (k_f16c && !portable) return floats_to_halves_f16c(src, dst, n);
#endif
    floats_to_halves_portable(src, dst, n);
}

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
        case dtype::int16:
            return "int16";
        case dtype::uint16:
            return "uint16";
        case dtype::uint32:
            return "uint32";
        case dtype::uint8:
            return "uint8";
        case dtype::int64:
            return "int64";
        case dtype::int4:
            return "int4";
    }
    return "?";
}

const dtype* all_dtypes_begin() {
    static const dtype all[k_dtype_count] = {
        dtype::fp32,   dtype::fp16,   dtype::bf16,  dtype::int32, dtype::int8, dtype::int16,
        dtype::uint16, dtype::uint32, dtype::uint8, dtype::int64, dtype::int4};
    return all;
}

bool dtype_from_string(const std::string& name, dtype& out) {
    for (const dtype* t = all_dtypes_begin(); t != all_dtypes_end(); ++t)
        if (name == to_string(*t)) {
            out = *t;
            return true;
        }
    return false;
}

const char* to_string(round_mode m) {
    switch (m) {
        case round_mode::rint:
            return "rint";
        case round_mode::floor:
            return "floor";
        case round_mode::ceil:
            return "ceil";
        case round_mode::round:
            return "round";
        case round_mode::trunc:
            return "trunc";
        case round_mode::odd:
            return "odd";
    }
    return "?";
}

bool round_mode_from_string(const std::string& name, round_mode& out) {
    for (unsigned i = 0; i < k_round_mode_count; ++i)
        if (name == to_string(round_mode(i))) {
            out = round_mode(i);
            return true;
        }
    return false;
}

double round_to_integer(double v, round_mode m) {
    switch (m) {
        case round_mode::floor:
            return std::floor(v);
        case round_mode::ceil:
            return std::ceil(v);
        case round_mode::round:
            return std::round(v);
        case round_mode::trunc:
            return std::trunc(v);
        case round_mode::rint:
        case round_mode::odd:
            break;
    }
    return std::nearbyint(v);
}

namespace {

/// The encoding of a value of float type t (exact: f is one of t's values).
uint32_t encode(float f, dtype t) {
    if (t == dtype::fp16) return float_to_half(f);
    if (t == dtype::bf16) return float_to_bf16(f);
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
float decode(uint32_t u, dtype t) {
    if (t == dtype::fp16) return half_to_float(uint16_t(u));
    if (t == dtype::bf16) return bf16_to_float(uint16_t(u));
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
/// The next value of t above (up) or below f; infinities stay.
float step(float f, dtype t, bool up) {
    if (std::isinf(f) && (f > 0) == up) return f;
    if (f == 0) {
        const uint32_t sign = t == dtype::fp32 ? 0x80000000u : 0x8000u;
        return decode(up ? 1u : sign | 1u, t);
    }
    const uint32_t u = encode(f, t);
    return decode((f > 0) == up ? u + 1 : u - 1, t);
}

}  // namespace

float round_to_float(double v, dtype t, round_mode m) {
    if (std::isnan(v)) return float(v);
    // A first guess by the float conversions; the exact neighbours are found from it, so a
    // double rounding of the guess does no harm.
    const bool is_a_float = double(float(v)) == v;
    float c = float(v);
    if (t == dtype::fp16) c = half_to_float(float_to_half(c));
    if (t == dtype::bf16) c = bf16_to_float(float_to_bf16(c));
    if (double(c) == v) return c;
    // A float was rounded once, to nearest even: the guess is the answer. The common case
    // (host tensors filled with random floats, every element).
    if (m == round_mode::rint && is_a_float) return c;
    float lo = c, hi = c;
    if (double(c) > v)
        lo = step(c, t, false);
    else
        hi = step(c, t, true);
    const bool overflow = std::isinf(lo) || std::isinf(hi);
    const bool lo_odd = encode(lo, t) & 1;
    const double dlo = v - double(lo), dhi = double(hi) - v;
    switch (m) {
        case round_mode::floor:
            return lo;
        case round_mode::ceil:
            return hi;
        case round_mode::trunc:
            return v > 0 ? lo : hi;
        case round_mode::odd:
            return lo_odd || std::isinf(hi) ? lo : hi;
        case round_mode::rint:
            if (overflow) return c;
            return dlo < dhi || (dlo == dhi && !lo_odd) ? lo : hi;
        case round_mode::round:
            if (overflow) return c;
            if (dlo != dhi) return dlo < dhi ? lo : hi;
            return v > 0 ? hi : lo;
    }
    return c;
}

namespace {

template <class T>
T load_int(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

/// Rounds half to even and saturates into [lo, hi]; NaN gives 0.
double saturate(float v, double lo, double hi) {
    if (std::isnan(v)) return 0;
    return std::fmax(lo, std::fmin(hi, std::nearbyint(double(v))));
}

template <class T>
void store_int(uint8_t* p, float v) {
    constexpr double hi = double(std::numeric_limits<T>::max());  // 2^63 for int64: not a T
    const double r = saturate(v, double(std::numeric_limits<T>::min()), hi);
    const T x = r >= hi ? std::numeric_limits<T>::max() : static_cast<T>(r);
    std::memcpy(p, &x, sizeof(T));
}

}  // namespace

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
        case dtype::int16:
            return static_cast<float>(load_int<int16_t>(base + 2 * i));
        case dtype::uint16:
            return static_cast<float>(load_int<uint16_t>(base + 2 * i));
        case dtype::uint32:
            return static_cast<float>(load_int<uint32_t>(base + 4 * i));
        case dtype::uint8:
            return static_cast<float>(base[i]);
        case dtype::int64:
            return static_cast<float>(load_int<int64_t>(base + 8 * i));
        case dtype::int4:
            return static_cast<float>(int4_at(base, i));
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
        case dtype::int16:
            return store_int<int16_t>(base + 2 * i, v);
        case dtype::uint16:
            return store_int<uint16_t>(base + 2 * i, v);
        case dtype::uint32:
            return store_int<uint32_t>(base + 4 * i, v);
        case dtype::uint8:
            return store_int<uint8_t>(base + i, v);
        case dtype::int64:
            return store_int<int64_t>(base + 8 * i, v);
        case dtype::int4:
            return set_int4(base, i, int(saturate(v, -8, 7)));
    }
}

double load_as_double(const uint8_t* base, dtype t, uint64_t i) {
    if (t == dtype::int32) return double(load_int<int32_t>(base + 4 * i));
    if (t == dtype::uint32) return double(load_int<uint32_t>(base + 4 * i));
    if (t == dtype::int64) return double(load_int<int64_t>(base + 8 * i));
    return double(load_as_float(base, t, i));  // exact: every other value is a float
}

void store_from_double(uint8_t* base, dtype t, uint64_t i, double v) {
    if (is_float(t)) return store_from_float(base, t, i, round_to_float(v, t, round_mode::rint));
    const int bits = int(dtype_bits(t));
    const double lo = is_unsigned(t) ? 0 : -std::ldexp(1.0, bits - 1),
                 hi = is_unsigned(t) ? std::ldexp(1.0, bits) - 1 : std::ldexp(1.0, bits - 1) - 1;
    const double r = std::isnan(v) ? 0 : std::clamp(std::nearbyint(v), lo, hi);
    switch (t) {
        case dtype::int32: {
            const int32_t x = int32_t(r);
            std::memcpy(base + 4 * i, &x, 4);
            return;
        }
        case dtype::uint32: {
            const uint32_t x = uint32_t(r);
            std::memcpy(base + 4 * i, &x, 4);
            return;
        }
        case dtype::int64: {
            const int64_t x = r >= hi ? std::numeric_limits<int64_t>::max() : int64_t(r);
            std::memcpy(base + 8 * i, &x, 8);
            return;
        }
        default:  // 16 bits and narrower: a float holds them exactly
            return store_from_float(base, t, i, float(r));
    }
}

}  // namespace npusim::models
