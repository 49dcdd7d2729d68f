#include "models/core/vector_op.h"

#include <cstdio>
#include <iterator>
#include <utility>

namespace npusim::models {

namespace {

/// One row per opcode: its mnemonic, Ascend instruction, throughput class, operand form and
/// the number of dtypes its Ascend dtype list names.
struct opcode_info {
    vec_opcode op;
    const char* name;
    const char* ascend;  // nullptr: not one instruction on the chip
    vec_class cls;
    vec_form form;
    unsigned parts;
};

using o = vec_opcode;
using c = vec_class;
using f = vec_form;
// Activations are short fixed sequences on the hardware, cheaper than the iterative
// transcendental functions (division, roots, exp, ln; ascend-facts §1.2) but not single-pass.
constexpr opcode_info k_opcodes[] = {
    {o::add, "add", "vadd", c::simple, f::binary, 3},
    {o::sub, "sub", "vsub", c::simple, f::binary, 3},
    {o::mul, "mul", "vmul", c::simple, f::binary, 3},
    {o::div, "div", "vdiv", c::transcendental, f::binary, 3},
    {o::max, "max", "vmax", c::simple, f::binary, 3},
    {o::min, "min", "vmin", c::simple, f::binary, 3},
    {o::add_relu, "add_relu", "vaddrelu", c::simple, f::binary, 3},
    {o::sub_relu, "sub_relu", "vsubrelu", c::simple, f::binary, 3},
    {o::and_, "and", "vand", c::simple, f::binary, 3},
    {o::or_, "or", "vor", c::simple, f::binary, 3},
    {o::adds, "adds", "vadds", c::simple, f::scalar, 3},
    {o::muls, "muls", "vmuls", c::simple, f::scalar, 3},
    {o::maxs, "maxs", "vmaxs", c::simple, f::scalar, 3},
    {o::mins, "mins", "vmins", c::simple, f::scalar, 3},
    {o::lrelu, "lrelu", "vlrelu", c::simple, f::scalar, 3},
    {o::shl, "shl", "vshl", c::simple, f::scalar, 2},
    {o::shr, "shr", "vshr", c::simple, f::scalar, 2},
    {o::relu, "relu", "vrelu", c::activation, f::unary, 2},
    {o::exp, "exp", "vexp", c::transcendental, f::unary, 2},
    {o::ln, "ln", "vln", c::transcendental, f::unary, 2},
    {o::sqrt, "sqrt", "vsqrt", c::transcendental, f::unary, 2},
    {o::rsqrt, "rsqrt", "vrsqrt", c::transcendental, f::unary, 2},
    {o::rec, "rec", "vrec", c::transcendental, f::unary, 2},
    {o::tanh, "tanh", nullptr, c::activation, f::unary, 2},
    {o::sigmoid, "sigmoid", nullptr, c::activation, f::unary, 2},
    {o::abs, "abs", "vabs", c::simple, f::unary, 2},
    {o::not_, "not", "vnot", c::simple, f::unary, 2},
    {o::copy, "copy", "vcopy", c::simple, f::unary, 2},
    {o::mla, "mla", "vmla", c::simple, f::multiply_add, 3},
    {o::madd, "madd", "vmadd", c::simple, f::multiply_add, 3},
    {o::madd_relu, "madd_relu", "vmaddrelu", c::simple, f::multiply_add, 3},
    {o::axpy, "axpy", "vaxpy", c::simple, f::multiply_add, 3},
    {o::cmp, "cmp", "vcmpv", c::simple, f::cmp, 3},
    {o::select, "select", "vsel", c::simple, f::select, 3},
    {o::cast, "cast", "vconv", c::cast, f::convert, 2},
    {o::conv_deq, "conv_deq", "vconvdeq", c::cast, f::convert, 2},
    {o::conv_vdeq, "conv_vdeq", "vconvvdeq", c::cast, f::convert, 2},
    {o::add_relu_conv, "add_relu_conv", "vaddreluconv", c::cast, f::convert, 3},
    {o::sub_relu_conv, "sub_relu_conv", "vsubreluconv", c::cast, f::convert, 3},
    {o::dup, "dup", "vectordup", c::simple, f::dup, 2},
    {o::reduce_sum, "reduce_sum", "vcadd", c::reduction, f::reduce, 2},
    {o::reduce_max, "reduce_max", "vcmax", c::reduction, f::reduce, 2},
    {o::reduce_min, "reduce_min", "vcmin", c::reduction, f::reduce, 2},
    {o::group_sum, "group_sum", "vcgadd", c::reduction, f::group_reduce, 2},
    {o::group_max, "group_max", "vcgmax", c::reduction, f::group_reduce, 2},
    {o::group_min, "group_min", "vcgmin", c::reduction, f::group_reduce, 2},
    {o::pair_sum, "pair_sum", "vcpadd", c::reduction, f::pair_reduce, 2},
    {o::brcb, "brcb", "vbrcb", c::simple, f::brcb, 2},
    {o::gather_mask, "gather_mask", "vreducev2", c::simple, f::gather_mask, 3},
    {o::gather, "gather", "vgather", c::simple, f::gather, 2},
    {o::merge_sort, "merge_sort", "vmrgsort", c::reduction, f::merge_sort, 3},
    // charged per 256 bytes moved, see vector_unit::work_cycles
    {o::transpose, "transpose", "vtranspose", c::simple, f::transpose, 2},
};
static_assert(std::size(k_opcodes) == k_vec_opcode_count, "one row per opcode");

constexpr bool rows_in_enum_order() {
    for (unsigned i = 0; i < k_vec_opcode_count; ++i)
        if (unsigned(k_opcodes[i].op) != i) return false;
    return true;
}
static_assert(rows_in_enum_order(), "k_opcodes rows follow the enum");

const opcode_info& info(vec_opcode op) {
    return k_opcodes[unsigned(op) < k_vec_opcode_count ? unsigned(op) : 0];
}

}  // namespace

vec_class class_of(vec_opcode op) {
    return info(op).cls;
}
vec_form form_of(vec_opcode op) {
    return info(op).form;
}
bool has_dst_type(vec_opcode op) {
    return form_of(op) == vec_form::convert || op == vec_opcode::mla || op == vec_opcode::axpy;
}
bool uses_src1(vec_opcode op) {
    switch (form_of(op)) {
        case vec_form::binary:
        case vec_form::cmp:
        case vec_form::select:
        case vec_form::gather:
            return true;
        default:
            return op == vec_opcode::mla || op == vec_opcode::madd || op == vec_opcode::madd_relu ||
                   op == vec_opcode::conv_vdeq || op == vec_opcode::add_relu_conv ||
                   op == vec_opcode::sub_relu_conv;
    }
}
/// @brief Mnemonic without the leading "v", e.g. "reduce_sum".
const char* to_string(vec_opcode op) {
    return info(op).name;
}
const char* ascend_name(vec_opcode op) {
    return info(op).ascend;
}
unsigned dtype_list_parts(vec_opcode op) {
    return info(op).parts;
}

const std::vector<vec_opcode>& all_vec_opcodes() {
    static const std::vector<vec_opcode> all = [] {
        std::vector<vec_opcode> v;
        for (const opcode_info& i : k_opcodes) v.push_back(i.op);
        return v;
    }();
    return all;
}

std::string cost_key(dtype src, dtype dst) {
    std::string k = to_string(src);
    if (dst != src) k += std::string("_") + to_string(dst);
    return k;
}

/// @brief Class name as used in the config keys vector.cycles_per_repeat.<class>.
const char* to_string(vec_class c) {
    switch (c) {
        case vec_class::simple:
            return "simple";
        case vec_class::activation:
            return "activation";
        case vec_class::transcendental:
            return "transcendental";
        case vec_class::reduction:
            return "reduction";
        case vec_class::cast:
            return "cast";
    }
    return "?";
}

namespace {

const char* to_string(cmp_mode m) {
    switch (m) {
        case cmp_mode::lt:
            return "lt";
        case cmp_mode::gt:
            return "gt";
        case cmp_mode::le:
            return "le";
        case cmp_mode::ge:
            return "ge";
        case cmp_mode::eq:
            return "eq";
        case cmp_mode::ne:
            return "ne";
    }
    return "?";
}

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace

/// @brief Short text for error messages, e.g.
/// "vadd.fp16 dst=UB[0x100] src0=UB[0x0] src1=UB[0x200] rep=3".
std::string vector_op::describe() const {
    const vec_form f = form_of(op);
    const bool has_src1 = uses_src1(op);
    const bool has_src0 = f != vec_form::dup;
    const bool has_scalar = f == vec_form::scalar || f == vec_form::dup || op == vec_opcode::axpy ||
                            op == vec_opcode::conv_deq;

    std::string s = std::string("v") + to_string(op);
    if (op == vec_opcode::cmp) s += std::string(".") + to_string(cmp);
    s += std::string(".") + to_string(type);
    if (has_dst_type(op) && (op == vec_opcode::cast || dst_type != type))
        s += std::string("->") + to_string(dst_type);
    if (op == vec_opcode::cast && round != round_mode::rint)
        s += std::string(".") + to_string(round);
    s += " dst=UB[" + hex(dst) + "]";
    if (has_src0) s += " src0=UB[" + hex(src0) + "]";
    if (has_src1) s += " src1=UB[" + hex(src1) + "]";
    if (op == vec_opcode::select) s += " mask=UB[" + hex(mask_addr) + "]";
    if (has_scalar) {
        char buf[32];
        std::snprintf(buf, sizeof buf, " scalar=%g", static_cast<double>(scalar));
        s += buf;
    }
    s += " rep=" + std::to_string(repeats);
    // Only the non-default parts, so the common case stays short.
    if (mask_lo != ~0ull || mask_hi != ~0ull)
        s += " mask_bits=" + hex(mask_hi) + ":" + hex(mask_lo);
    if (dst_blk_stride != 1 || src0_blk_stride != 1 || src1_blk_stride != 1)
        s += " blk=" + std::to_string(dst_blk_stride) + "," + std::to_string(src0_blk_stride) +
             "," + std::to_string(src1_blk_stride);
    if (dst_rep_stride != 8 || src0_rep_stride != 8 || src1_rep_stride != 8)
        s += " rep_stride=" + std::to_string(dst_rep_stride) + "," +
             std::to_string(src0_rep_stride) + "," + std::to_string(src1_rep_stride);
    return s;
}

}  // namespace npusim::models
