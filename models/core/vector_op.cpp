#include "models/core/vector_op.h"

#include <cstdio>
#include <utility>

namespace npusim::models {

/// @brief Throughput class of an opcode (which cycles_per_repeat entry it pays).
vec_class class_of(vec_opcode op) {
    switch (op) {
        case vec_opcode::add:
        case vec_opcode::sub:
        case vec_opcode::mul:
        case vec_opcode::max:
        case vec_opcode::min:
        case vec_opcode::add_relu:
        case vec_opcode::sub_relu:
        case vec_opcode::adds:
        case vec_opcode::muls:
        case vec_opcode::maxs:
        case vec_opcode::mins:
        case vec_opcode::lrelu:
        case vec_opcode::abs:
        case vec_opcode::cmp:
        case vec_opcode::select:
        case vec_opcode::dup:
        case vec_opcode::brcb:
        case vec_opcode::gather_mask:
        case vec_opcode::transpose:  // charged per 256 bytes moved, see vector_unit::cycles
            return vec_class::simple;
        // Activations are evaluated by short fixed sequences on the hardware, cheaper than the
        // iterative transcendental functions but not single-pass.
        case vec_opcode::relu:
        case vec_opcode::tanh:
        case vec_opcode::sigmoid:
            return vec_class::activation;
        // Division and roots are iterative like exp/ln (ascend-facts §1.2).
        case vec_opcode::div:
        case vec_opcode::exp:
        case vec_opcode::ln:
        case vec_opcode::sqrt:
        case vec_opcode::rsqrt:
        case vec_opcode::rec:
            return vec_class::transcendental;
        case vec_opcode::reduce_sum:
        case vec_opcode::reduce_max:
            return vec_class::reduction;
        case vec_opcode::cast:
            return vec_class::cast;
    }
    return vec_class::simple;
}

/// @brief Mnemonic without the leading "v", e.g. "reduce_sum".
const char* to_string(vec_opcode op) {
    switch (op) {
        case vec_opcode::add:
            return "add";
        case vec_opcode::sub:
            return "sub";
        case vec_opcode::mul:
            return "mul";
        case vec_opcode::div:
            return "div";
        case vec_opcode::max:
            return "max";
        case vec_opcode::min:
            return "min";
        case vec_opcode::add_relu:
            return "add_relu";
        case vec_opcode::sub_relu:
            return "sub_relu";
        case vec_opcode::lrelu:
            return "lrelu";
        case vec_opcode::rec:
            return "rec";
        case vec_opcode::adds:
            return "adds";
        case vec_opcode::muls:
            return "muls";
        case vec_opcode::maxs:
            return "maxs";
        case vec_opcode::mins:
            return "mins";
        case vec_opcode::relu:
            return "relu";
        case vec_opcode::exp:
            return "exp";
        case vec_opcode::ln:
            return "ln";
        case vec_opcode::sqrt:
            return "sqrt";
        case vec_opcode::rsqrt:
            return "rsqrt";
        case vec_opcode::tanh:
            return "tanh";
        case vec_opcode::sigmoid:
            return "sigmoid";
        case vec_opcode::abs:
            return "abs";
        case vec_opcode::cmp:
            return "cmp";
        case vec_opcode::select:
            return "select";
        case vec_opcode::cast:
            return "cast";
        case vec_opcode::dup:
            return "dup";
        case vec_opcode::reduce_sum:
            return "reduce_sum";
        case vec_opcode::reduce_max:
            return "reduce_max";
        case vec_opcode::brcb:
            return "brcb";
        case vec_opcode::gather_mask:
            return "gather_mask";
        case vec_opcode::transpose:
            return "transpose";
    }
    return "?";
}

const char* ascend_name(vec_opcode op) {
    using o = vec_opcode;
    static const std::pair<vec_opcode, const char*> names[] = {{o::add, "vadd"},
                                                               {o::sub, "vsub"},
                                                               {o::mul, "vmul"},
                                                               {o::div, "vdiv"},
                                                               {o::max, "vmax"},
                                                               {o::min, "vmin"},
                                                               {o::adds, "vadds"},
                                                               {o::muls, "vmuls"},
                                                               {o::maxs, "vmaxs"},
                                                               {o::mins, "vmins"},
                                                               {o::relu, "vrelu"},
                                                               {o::exp, "vexp"},
                                                               {o::ln, "vln"},
                                                               {o::sqrt, "vsqrt"},
                                                               {o::rsqrt, "vrsqrt"},
                                                               {o::abs, "vabs"},
                                                               {o::cmp, "vcmpv"},
                                                               {o::select, "vsel"},
                                                               {o::cast, "vconv"},
                                                               {o::dup, "vectordup"},
                                                               {o::reduce_sum, "vcadd"},
                                                               {o::reduce_max, "vcmax"},
                                                               {o::brcb, "vbrcb"},
                                                               {o::gather_mask, "vreducev2"},
                                                               {o::transpose, "vtranspose"},
                                                               {o::add_relu, "vaddrelu"},
                                                               {o::sub_relu, "vsubrelu"},
                                                               {o::lrelu, "vlrelu"},
                                                               {o::rec, "vrec"}};
    for (const auto& [code, name] : names)
        if (code == op) return name;
    return nullptr;  // tanh, sigmoid
}

const std::vector<vec_opcode>& all_vec_opcodes() {
    static const std::vector<vec_opcode> all = [] {
        std::vector<vec_opcode> v;
        for (unsigned i = 0; i <= unsigned(vec_opcode::transpose); ++i) v.push_back(vec_opcode(i));
        return v;
    }();
    return all;
}

unsigned dtype_list_parts(vec_opcode op) {
    switch (op) {
        case vec_opcode::add:
        case vec_opcode::sub:
        case vec_opcode::mul:
        case vec_opcode::div:
        case vec_opcode::max:
        case vec_opcode::min:
        case vec_opcode::add_relu:
        case vec_opcode::sub_relu:
        case vec_opcode::adds:
        case vec_opcode::muls:
        case vec_opcode::maxs:
        case vec_opcode::mins:
        case vec_opcode::lrelu:
        case vec_opcode::cmp:
        case vec_opcode::select:
        case vec_opcode::gather_mask:
            return 3;
        default:
            return 2;
    }
}

std::string width_key(unsigned src_bytes, unsigned dst_bytes) {
    std::string k = "b" + std::to_string(8 * src_bytes);
    if (dst_bytes != src_bytes) k += "_b" + std::to_string(8 * dst_bytes);
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
    const vec_opcode o = op;
    const bool has_src1 = (o >= vec_opcode::add && o <= vec_opcode::min) || o == vec_opcode::cmp ||
                          o == vec_opcode::select;
    const bool has_src0 = o != vec_opcode::dup;
    const bool has_scalar =
        (o >= vec_opcode::adds && o <= vec_opcode::mins) || o == vec_opcode::dup;

    std::string s = std::string("v") + to_string(o);
    if (o == vec_opcode::cmp) s += std::string(".") + to_string(cmp);
    s += std::string(".") + to_string(type);
    if (o == vec_opcode::cast) s += std::string("->") + to_string(dst_type);
    s += " dst=UB[" + hex(dst) + "]";
    if (has_src0) s += " src0=UB[" + hex(src0) + "]";
    if (has_src1) s += " src1=UB[" + hex(src1) + "]";
    if (o == vec_opcode::select) s += " mask=UB[" + hex(mask_addr) + "]";
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
