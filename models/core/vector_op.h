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
    and_,      // bitwise, integer types (Ascend vand, vor)
    or_,
    // with a scalar: dst = src0 op scalar
    adds,
    muls,
    maxs,
    mins,
    lrelu,  // leaky relu: src0 >= 0 ? src0 : src0 * scalar (Ascend vlrelu)
    shl,    // src0 << scalar; shr is arithmetic for signed types, logical for unsigned
    shr,
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
    not_,  // bitwise not (Ascend vnot)
    copy,  // dst = src0, raw elements with the strides (Ascend vcopy)
    // multiply-add, reading dst too; dst may be wider than the sources (fp16 -> fp32)
    mla,        // dst = src0 * src1 + dst (Ascend vmla)
    madd,       // dst = src0 * dst + src1 (Ascend vmadd)
    madd_relu,  // relu(src0 * dst + src1) (Ascend vmaddrelu)
    axpy,       // dst = src0 * scalar + dst (Ascend vaxpy)
    // compare src0 with src1 into a bit mask at dst (1 bit per element, LSB first), and select:
    // dst = bit(mask at src1_mask) ? src0 : src1
    cmp,
    select,
    // conversions: dst (dst_type) = src0 (type) converted; elements per repeat = 256 / larger
    // size. conv_deq scales by the scalar first, conv_vdeq by 16 fp32 scales at src1 (element i
    // takes scale i % 16); the fused forms convert relu(src0 +/- src1).
    cast,
    conv_deq,
    conv_vdeq,
    add_relu_conv,
    sub_relu_conv,
    // dst = scalar
    dup,
    // per repeat: dst[r] = sum, max or min of the repeat's masked elements of src0
    reduce_sum,
    reduce_max,
    reduce_min,
    // per repeat: one result per 32-byte block of src0 (8 a repeat), packed at dst (Ascend
    // vcgadd, vcgmax, vcgmin)
    group_sum,
    group_max,
    group_min,
    // per repeat: sums of adjacent pairs of src0, packed at dst (Ascend vcpadd)
    pair_sum,
    // per repeat: 8 consecutive src0 elements, each filled into one 32-byte dst block (Ascend
    // Brcb); no mask, dst blocks placed by the dst strides, src0 advances 8 elements a repeat
    brcb,
    // GatherMask: the masked elements of each repeat of src0, packed one after another at dst
    // (all repeats in order); with a periodic mask it selects every n-th element
    gather_mask,
    // Gather: dst element i of a repeat = the element at byte offset src1[i] from src0, with
    // src1 a uint32 offset per element (contiguous across repeats)
    gather,
    // per repeat: merges 4 sorted lists of 8-byte proposals (score in the low bytes, a uint32
    // index at byte 4), 256 / score size proposals in all (4 lists of 32 fp16 or 16 fp32), into
    // one list by descending score, ties in list order (Ascend vmrgsort4, equal list lengths);
    // src0 and dst advance one repeat's proposals per repeat, the mask is ignored
    merge_sort,
    // per repeat: transposes one square matrix of 32-byte rows (16x16 fp16, 8x8 fp32/int32):
    // row i of src0 is the block at src0 + i * src0_blk_stride, row j of dst the block at
    // dst + j * dst_blk_stride; the mask is ignored (Ascend's Transpose / TransDataTo5HD)
    transpose,
};
inline constexpr unsigned k_vec_opcode_count = unsigned(vec_opcode::transpose) + 1;

enum class cmp_mode : uint8_t { lt, gt, le, ge, eq, ne };

/// @brief Throughput class of an opcode; its cycles per repeat come from the platform config.
enum class vec_class : uint8_t { simple, activation, transcendental, reduction, cast };
/// @brief Operand shape of an opcode: which operands it reads and writes and how.
enum class vec_form : uint8_t {
    binary,        // dst = f(src0, src1)
    scalar,        // dst = f(src0, scalar)
    unary,         // dst = f(src0)
    multiply_add,  // dst = f(src0, src1 or scalar, dst)
    cmp,
    select,
    convert,  // dst_type differs from type
    dup,
    reduce,        // one result per repeat
    group_reduce,  // one result per 32-byte block
    pair_reduce,   // one result per pair of elements
    brcb,
    gather_mask,
    gather,
    merge_sort,
    transpose,
};
vec_class class_of(vec_opcode op);
vec_form form_of(vec_opcode op);
/// @brief Whether the opcode's destination has its own dtype (vector_op::dst_type): the
/// conversions and the multiply-adds (fp16 sources into fp32).
bool has_dst_type(vec_opcode op);
/// @brief Whether the opcode reads src1 (a second vector, a select's other operand, a gather's
/// offsets or a vdeq's scales).
bool uses_src1(vec_opcode op);
/// @brief The Ascend instruction an opcode is (vadd, vconv, vcadd, ...), or nullptr when it is
/// not one instruction on the chip (tanh, sigmoid: CANN builds them from several).
const char* ascend_name(vec_opcode op);
/// @brief Every opcode, in enum order.
const std::vector<vec_opcode>& all_vec_opcodes();
/// @brief Operands an opcode's Ascend dtype list names: 3 (src0_src1_dst) or 2 (src_dst).
unsigned dtype_list_parts(vec_opcode op);
/// @brief Key of an instruction's dtypes in the platform's instruction table: "fp16" (all
/// operands fp16), or "fp16_fp32" when the destination differs.
std::string cost_key(dtype src, dtype dst);
const char* to_string(vec_opcode op);
const char* to_string(vec_class c);

/// @brief One vector instruction. Addresses are byte offsets in UB.
struct vector_op {
    vec_opcode op = vec_opcode::add;
    dtype type = dtype::fp16;      ///< element type of the sources (and of dst, except cast/cmp)
    dtype dst_type = dtype::fp16;  ///< opcodes with has_dst_type only
    cmp_mode cmp = cmp_mode::lt;
    round_mode round = round_mode::rint;                  ///< cast only
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
