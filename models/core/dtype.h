#pragma once
// Element types of the AI core and their conversions (IEEE fp16, bfloat16), round to nearest
// even as the hardware's default rounding mode.
#include <cstdint>
#include <cstring>

namespace npusim::models {

/// @brief Element type of a local tensor or an instruction operand.
enum class dtype : uint8_t { fp32, fp16, bf16, int32, int8 };

const char* to_string(dtype t);
inline unsigned dtype_size(dtype t) {
    switch (t) {
        case dtype::fp32:
        case dtype::int32:
            return 4;
        case dtype::fp16:
        case dtype::bf16:
            return 2;
        case dtype::int8:
            return 1;
    }
    return 1;
}
inline bool is_float(dtype t) {
    return t == dtype::fp32 || t == dtype::fp16 || t == dtype::bf16;
}

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
inline float bf16_to_float(uint16_t b) {
    const uint32_t u = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
uint16_t float_to_bf16(float f);

/// @brief Reads element i of a buffer of type t as float (ints converted exactly where possible).
float load_as_float(const uint8_t* base, dtype t, uint64_t i);
/// @brief Writes a float into element i of a buffer of type t (rounding; ints saturate).
void store_from_float(uint8_t* base, dtype t, uint64_t i, float v);

}  // namespace npusim::models
