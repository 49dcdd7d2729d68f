#pragma once
// Vector instructions as the AI core's V pipe executes them, in the Ascend style: each repeat
// processes 256 bytes as 8 blocks of 32 bytes, a mask picks the elements of a repeat, and block
// and repeat strides (in 32-byte blocks) place the operands in UB.
#include <cstdint>
#include <string>
#include <vector>

#include "models/core/dtype.h"

namespace npusim::models {

enum class vec_opcode : uint8_t {
    // binary, elementwise: dst = src0 op src1
    add,
    sub,
    mul,
    div,
    max,
    min,
    add_relu,  // relu(src0 + src1), Ascend vaddrelu
    sub_relu,  // relu(src0 - src1), Ascend vsubrelu
    // with a scalar: dst = src0 op scalar
    adds,
    muls,
    maxs,
    mins,
    lrelu,  // leaky relu: src0 >= 0 ? src0 : src0 * scalar (Ascend vlrelu)
    // unary
    relu,
    exp,
    ln,
    sqrt,
    rsqrt,
    rec,  // 1 / src0 (Ascend vrec)
    tanh,
    sigmoid,
    abs,
    // compare src0 with src1 into a bit mask at dst (1 bit per element, LSB first), and select:
    // dst = bit(mask at src1_mask) ? src0 : src1
    cmp,
    select,
    // dst (dst_type) = src0 (type) converted; element count per repeat = 256 / larger size
    cast,
    // dst = scalar
    dup,
    // per repeat: dst[r] = sum or max of the repeat's masked elements of src0
    reduce_sum,
    reduce_max,
    // per repeat: 8 consecutive src0 elements, each filled into one 32-byte dst block (Ascend
    // Brcb); no mask, dst blocks placed by the dst strides, src0 advances 8 elements a repeat
    brcb,
    // GatherMask: the masked elements of each repeat of src0, packed one after another at dst
    // (all repeats in order); with a periodic mask it selects every n-th element
    gather_mask,
    // per repeat: transposes one square matrix of 32-byte rows (16x16 fp16, 8x8 fp32/int32):
    // row i of src0 is the block at src0 + i * src0_blk_stride, row j of dst the block at
    // dst + j * dst_blk_stride; the mask is ignored (Ascend's Transpose / TransDataTo5HD)
    transpose,
};

enum class cmp_mode : uint8_t { lt, gt, le, ge, eq, ne };

/// @brief Throughput class of an opcode; its cycles per repeat come from the platform config.
enum class vec_class : uint8_t { simple, activation, transcendental, reduction, cast };
vec_class class_of(vec_opcode op);
/// @brief The Ascend instruction an opcode is (vadd, vconv, vcadd, ...), or nullptr when it is
/// not one instruction on the chip (tanh, sigmoid: CANN builds them from several).
const char* ascend_name(vec_opcode op);
/// @brief Every opcode, in enum order.
const std::vector<vec_opcode>& all_vec_opcodes();
/// @brief Operands an opcode's Ascend dtype list names: 3 (src0_src1_dst) or 2 (src_dst).
unsigned dtype_list_parts(vec_opcode op);
/// @brief Key of the operand widths in the platform's instruction table: "b16" (all operands
/// 16-bit), or "b16_b32" for a conversion from 16 to 32 bits.
std::string width_key(unsigned src_bytes, unsigned dst_bytes);
const char* to_string(vec_opcode op);
const char* to_string(vec_class c);

/// @brief One vector instruction. Addresses are byte offsets in UB.
struct vector_op {
    vec_opcode op = vec_opcode::add;
    dtype type = dtype::fp16;      ///< element type of the sources (and of dst, except cast/cmp)
    dtype dst_type = dtype::fp16;  ///< cast only
    cmp_mode cmp = cmp_mode::lt;
    uint64_t dst = 0, src0 = 0, src1 = 0, mask_addr = 0;  ///< mask_addr: select's bit mask
    float scalar = 0;
    /// Elements enabled in each repeat: bit i of the 128-bit mask enables element i of the
    /// repeat. Elements per repeat = 256 / element size (128 fp16, 64 fp32).
    uint64_t mask_lo = ~0ull, mask_hi = ~0ull;
    uint32_t repeats = 1;  ///< 1..255
    /// Strides in 32-byte blocks: between the 8 blocks of one repeat, and between repeats.
    uint16_t dst_blk_stride = 1, src0_blk_stride = 1, src1_blk_stride = 1;
    uint16_t dst_rep_stride = 8, src0_rep_stride = 8, src1_rep_stride = 8;

    std::string describe() const;
};

}  // namespace npusim::models
