#pragma once
// Element types of the AI core and their conversions (IEEE fp16, bfloat16), round to nearest
// even as the hardware's default rounding mode.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace npusim::models {

/// @brief Element type of a local tensor or an instruction operand.
/// The integer types past int8 are vector-unit types (operands of integer, bitwise and move
/// instructions and conversions); tensors of a workload use the first five. int4 packs two
/// elements a byte, element 2i in the low nibble (Ascend C int4b_t); only vconv reads and writes
/// it.
enum class dtype : uint8_t {
    fp32,
    fp16,
    bf16,
    int32,
    int8,
    int16,
    uint16,
    uint32,
    uint8,
    int64,
    int4
};
inline constexpr unsigned k_dtype_count = 11;

const char* to_string(dtype t);
/// @brief Every dtype, in enum order.
const dtype* all_dtypes_begin();
inline const dtype* all_dtypes_end() {
    return all_dtypes_begin() + k_dtype_count;
}
/// @brief The dtype named `name` ("fp16", "uint32", ...), or false.
bool dtype_from_string(const std::string& name, dtype& out);
/// @brief Bytes an element occupies, rounded up (int4: 1); footprints of int4 operands need
/// dtype_bits.
inline unsigned dtype_size(dtype t) {
    switch (t) {
        case dtype::int64:
            return 8;
        case dtype::fp32:
        case dtype::int32:
        case dtype::uint32:
            return 4;
        case dtype::fp16:
        case dtype::bf16:
        case dtype::int16:
        case dtype::uint16:
            return 2;
        case dtype::int8:
        case dtype::uint8:
        case dtype::int4:
            return 1;
    }
    return 1;
}
/// @brief Bits an element occupies.
inline unsigned dtype_bits(dtype t) {
    return t == dtype::int4 ? 4 : 8 * dtype_size(t);
}
/// @brief int4 element i of a packed buffer (-8..7).
inline int int4_at(const uint8_t* base, uint64_t i) {
    const unsigned nibble = (base[i / 2] >> (4 * (i % 2))) & 0xf;
    return nibble >= 8 ? int(nibble) - 16 : int(nibble);
}
/// @brief Sets int4 element i of a packed buffer to v (-8..7), leaving its neighbour.
inline void set_int4(uint8_t* base, uint64_t i, int v) {
    const unsigned shift = 4 * (i % 2);
    base[i / 2] = uint8_t((base[i / 2] & ~(0xfu << shift)) | ((unsigned(v) & 0xfu) << shift));
}
inline bool is_float(dtype t) {
    return t == dtype::fp32 || t == dtype::fp16 || t == dtype::bf16;
}
inline bool is_unsigned(dtype t) {
    return t == dtype::uint8 || t == dtype::uint16 || t == dtype::uint32;
}

// The fp16 conversions are inline: the functional vector and cube units convert every element.

/// @brief fp16 bits -> float, exact for every input (NaN payloads kept).
inline float half_to_float(uint16_t h) {
    // Exponent and mantissa move into place and the exponent is rebased; a subnormal (or zero)
    // is read as 2^-14 * (1 + m/1024), and one exact subtraction of 2^-14 leaves m * 2^-24.
    constexpr uint32_t exp_mask = 0x7c00u << 13;
    uint32_t bits = uint32_t(h & 0x7fff) << 13;
    const uint32_t exp = bits & exp_mask;
    bits += uint32_t(127 - 15) << 23;
    float f;
    if (exp == exp_mask) {  // inf or NaN
        bits += uint32_t(128 - 16) << 23;
        std::memcpy(&f, &bits, 4);
    } else if (exp == 0) {
        bits += 1u << 23;
        std::memcpy(&f, &bits, 4);
        f -= 6.103515625e-05f;  // 2^-14
    } else {
        std::memcpy(&f, &bits, 4);
    }
    std::memcpy(&bits, &f, 4);
    bits |= uint32_t(h & 0x8000) << 16;
    std::memcpy(&f, &bits, 4);
    return f;
}

/// @brief float -> fp16 bits, to nearest with ties to even; overflow gives inf, NaN stays NaN.
inline uint16_t float_to_half(float f) {
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
        const uint32_t shift = 126 - e;  // the bits of m below the subnormal's last one
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
/// @brief n fp16 values (little-endian bytes at `src`) -> floats, each exactly as
/// half_to_float. Uses the host's F16C conversions where it has them (the functional vector unit
/// converts every element of every instruction); `portable` forces the scalar loop (tests).
void halves_to_floats(const uint8_t* src, float* dst, size_t n, bool portable = false);
/// @brief n floats -> fp16 bytes at `dst`, each exactly as float_to_half.
void floats_to_halves(const float* src, uint8_t* dst, size_t n, bool portable = false);
/// @brief Whether the bulk conversions above use the host's F16C instructions.
bool host_converts_halves();
inline float bf16_to_float(uint16_t b) {
    const uint32_t u = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
uint16_t float_to_bf16(float f);
/// @brief f rounded to HF32, the cube's reduced fp32 (fp32's range, 11 significand bits after
/// the point instead of 23): to nearest, ties to even. NaN and infinities pass unchanged.
inline float round_to_hf32(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) {
        u += 0x7ffu + ((u >> 12) & 1u);  // carries into the exponent round up to the next binade
        u &= ~0xfffu;
    }
    std::memcpy(&f, &u, 4);
    return f;
}

/// @brief Rounding of a conversion (Ascend C RoundMode): to nearest, ties to even (CAST_RINT, the
/// default), toward -inf, toward +inf, to nearest with ties away from zero (CAST_ROUND),
/// toward zero, and to odd (CAST_ODD: an inexact result takes the neighbour whose last
/// significand bit is 1, so a second rounding cannot double-round; float narrowing only).
enum class round_mode : uint8_t { rint, floor, ceil, round, trunc, odd };
inline constexpr unsigned k_round_mode_count = 6;
const char* to_string(round_mode m);
/// @brief The mode named `name` ("rint", "floor", ...), or false.
bool round_mode_from_string(const std::string& name, round_mode& out);
/// @brief v rounded to an integer by m (odd rounds like rint).
double round_to_integer(double v, round_mode m);
/// @brief v rounded into the float type t (fp32, fp16 or bf16) by m, as a float (every value
/// of the three types is one). Past the largest finite value, floor/ceil/trunc stop at it
/// where IEEE rounding does; NaN stays NaN.
float round_to_float(double v, dtype t, round_mode m);

/// @brief Reads element i of a buffer of type t as float (ints converted exactly where possible).
float load_as_float(const uint8_t* base, dtype t, uint64_t i);
/// @brief Writes a float into element i of a buffer of type t (rounding; ints saturate).
void store_from_float(uint8_t* base, dtype t, uint64_t i, float v);
/// @brief Element i as a double: exact for every type but int64 past 2^53 (host checks, where
/// int32 values past 2^24 must not pass through a float).
double load_as_double(const uint8_t* base, dtype t, uint64_t i);
/// @brief v rounded once into element i of type t (to nearest even; ints saturate).
void store_from_double(uint8_t* base, dtype t, uint64_t i, double v);

}  // namespace npusim::models
