#include "models/core/vector_unit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "models/common/divisor.h"
#include "models/common/model_fault.h"

namespace npusim::models {

namespace {

constexpr uint64_t block_bytes = 32;
constexpr uint64_t repeat_bytes = 256;

/// Rows (and columns) of the square matrix one transpose repeat moves.
unsigned transpose_rows(dtype t) {
    return unsigned(block_bytes / dtype_size(t));
}

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

bool is_int(dtype t) {
    return !is_float(t);
}
bool raw_16_32(dtype t) {
    const unsigned s = dtype_size(t);
    return s == 2 || s == 4;
}
/// Integer types the integer ALU computes in (the narrower ones only convert).
bool alu_int(dtype t) {
    return t == dtype::int16 || t == dtype::int32;
}

/// The dtype rule of each opcode: "" when (src, dst) is supported, else what to use instead.
std::string type_rule(vec_opcode o, dtype s, dtype d) {
    const bool same = s == d;
    // Runs for every vector instruction: the message is built only for an unsupported pair.
    auto want = [&](bool ok, const char* which) {
        if (ok) return std::string();
        const std::string types = has_dst_type(o) ? std::string(to_string(s)) + "->" + to_string(d)
                                                  : std::string(to_string(s));
        return std::string(to_string(o)) + " is not supported for " + types + " (" + which + ")";
    };
    switch (o) {
        case vec_opcode::div:
        case vec_opcode::exp:
        case vec_opcode::ln:
        case vec_opcode::sqrt:
        case vec_opcode::rsqrt:
        case vec_opcode::rec:
        case vec_opcode::lrelu:
        case vec_opcode::tanh:
        case vec_opcode::sigmoid:
            return want(same && is_float(s), "floating point only: cast to fp32 first");
        case vec_opcode::and_:
        case vec_opcode::or_:
        case vec_opcode::not_:
            return want(same && (s == dtype::int16 || s == dtype::uint16), "int16 or uint16");
        case vec_opcode::shl:
        case vec_opcode::shr:
            return want(same && is_int(s) && raw_16_32(s), "int16, uint16, int32 or uint32");
        case vec_opcode::copy:
        case vec_opcode::select:
        case vec_opcode::brcb:
        case vec_opcode::gather_mask:
        case vec_opcode::gather:
        case vec_opcode::transpose:
        case vec_opcode::dup:
            return want(same && raw_16_32(s), "a 16- or 32-bit type");
        case vec_opcode::mla:
        case vec_opcode::axpy:
            return want((same && (s == dtype::fp16 || s == dtype::fp32)) ||
                            (s == dtype::fp16 && d == dtype::fp32),
                        "fp16, fp32, or fp16 sources into fp32");
        case vec_opcode::madd:
        case vec_opcode::madd_relu:
            return want(same && (s == dtype::fp16 || s == dtype::fp32), "fp16 or fp32");
        case vec_opcode::group_sum:
        case vec_opcode::group_max:
        case vec_opcode::group_min:
        case vec_opcode::pair_sum:
        case vec_opcode::merge_sort:
            return want(same && (s == dtype::fp16 || s == dtype::fp32), "fp16 or fp32");
        case vec_opcode::cast: {
            // int8 -> int8 would need 256 elements per repeat, more than the 128-bit mask covers.
            const bool first_five = s <= dtype::int8 && d <= dtype::int8;
            const bool int4 = s == dtype::int4 || d == dtype::int4;
            const bool int4_pair =
                (s == dtype::fp16 && d == dtype::int4) || (s == dtype::int4 && d == dtype::fp16);
            const bool with_float = !same && !int4 && (is_float(s) || is_float(d));
            const bool narrowing = (s == dtype::int32 && d == dtype::int16) ||
                                   (s == dtype::int16 && (d == dtype::int8 || d == dtype::uint8));
            return want((first_five && !(s == dtype::int8 && d == dtype::int8)) || with_float ||
                            narrowing || int4_pair,
                        "see vconv in docs/kernel-api.md for the pairs");
        }
        case vec_opcode::conv_deq:
        case vec_opcode::conv_vdeq:
            return want(
                (s == dtype::int32 && d == dtype::fp16) || (s == dtype::int16 && d == dtype::int8),
                "int32 to fp16 or int16 to int8");
        case vec_opcode::add_relu_conv:
        case vec_opcode::sub_relu_conv:
            return want((s == dtype::fp16 && d == dtype::int8) ||
                            (s == dtype::fp32 && d == dtype::fp16) ||
                            (s == dtype::int16 && d == dtype::int8),
                        "fp16 to int8, fp32 to fp16 or int16 to int8");
        default:  // add, sub, mul, max, min, the relu forms, scalar forms, abs, cmp, reduces
            return want(same && (is_float(s) || alu_int(s)), "a float type, int16 or int32");
    }
}

}  // namespace

std::vector<std::pair<dtype, dtype>> vector_dtypes(vec_opcode op) {
    std::vector<std::pair<dtype, dtype>> out;
    for (const dtype* s = all_dtypes_begin(); s != all_dtypes_end(); ++s)
        for (const dtype* d = all_dtypes_begin(); d != all_dtypes_end(); ++d) {
            if (!has_dst_type(op) && *d != *s) continue;
            if (type_rule(op, *s, *d).empty()) out.emplace_back(*s, *d);
        }
    return out;
}

std::string why_unsupported(const vector_op& op) {
    if (op.op == vec_opcode::cast && op.round == round_mode::odd &&
        !(is_float(op.type) && is_float(op.dst_type) &&
          dtype_size(op.dst_type) < dtype_size(op.type)))
        return std::string("cast rounding 'odd' is for fp32 -> fp16 or bf16 only, not ") +
               to_string(op.type) + "->" + to_string(op.dst_type);
    return type_rule(op.op, op.type, has_dst_type(op.op) ? op.dst_type : op.type);
}

namespace {

// ---- element access, one struct per dtype so the hot loops are templates without switches ----

/// Rounds an integer to `bits` significant bits, half to even, and returns it as a double (exact):
/// converting that to the float type then avoids a double rounding (int32 -> float -> bf16).
double round_significant(int64_t v, int bits) {
    const uint64_t m = v < 0 ? 0 - uint64_t(v) : uint64_t(v);
    int width = 0;
    while (width < 64 && (m >> width) != 0) ++width;
    if (width <= bits) return double(v);
    const int shift = width - bits;
    uint64_t keep = m >> shift;
    const uint64_t rem = m & ((uint64_t(1) << shift) - 1);
    const uint64_t half = uint64_t(1) << (shift - 1);
    if (rem > half || (rem == half && (keep & 1))) ++keep;
    const double r = std::ldexp(double(keep), shift);
    return v < 0 ? -r : r;
}

struct io_fp32 {
    using value = float;
    static constexpr dtype type = dtype::fp32;
    static constexpr unsigned size = 4;
    static constexpr int precision = 24;
    static float load(const uint8_t* p) {
        float f;
        std::memcpy(&f, p, 4);
        return f;
    }
    static void store(uint8_t* p, float v) { std::memcpy(p, &v, 4); }
    static float scalar(float s) { return s; }
};

struct io_fp16 {
    using value = float;
    static constexpr dtype type = dtype::fp16;
    static constexpr unsigned size = 2;
    static constexpr int precision = 11;
    static float load(const uint8_t* p) {
        uint16_t h;
        std::memcpy(&h, p, 2);
        return half_to_float(h);
    }
    static void store(uint8_t* p, float v) {
        const uint16_t h = float_to_half(v);
        std::memcpy(p, &h, 2);
    }
    static float scalar(float s) { return half_to_float(float_to_half(s)); }
};

struct io_bf16 {
    using value = float;
    static constexpr dtype type = dtype::bf16;
    static constexpr unsigned size = 2;
    static constexpr int precision = 8;
    static float load(const uint8_t* p) {
        uint16_t h;
        std::memcpy(&h, p, 2);
        return bf16_to_float(h);
    }
    static void store(uint8_t* p, float v) {
        const uint16_t h = float_to_bf16(v);
        std::memcpy(p, &h, 2);
    }
    static float scalar(float s) { return bf16_to_float(float_to_bf16(s)); }
};

/// Integer types compute in int64_t; a store keeps the low bits (two's complement wrap-around,
/// like the integer ALU), saturate() clamps into the type instead.
template <class T>
struct io_int {
    using value = int64_t;
    using type = T;
    static constexpr unsigned size = sizeof(T);
    static constexpr unsigned bits = 8 * sizeof(T);
    static int64_t load(const uint8_t* p) {
        T v;
        std::memcpy(&v, p, sizeof(T));
        return int64_t(v);
    }
    static void store(uint8_t* p, int64_t v) {
        const T x = static_cast<T>(static_cast<uint64_t>(v));
        std::memcpy(p, &x, sizeof(T));
    }
    static int64_t wrap(int64_t v) { return int64_t(static_cast<T>(static_cast<uint64_t>(v))); }
    static int64_t saturate(int64_t v) {
        return std::clamp<int64_t>(v, int64_t(std::numeric_limits<T>::min()),
                                   int64_t(std::numeric_limits<T>::max()));
    }
    /// A float rounded by m (half to even by default) and clamped into the type (NaN gives 0).
    static int64_t from_float(float f, round_mode m = round_mode::rint) {
        if (std::isnan(f)) return 0;
        const double r = round_to_integer(double(f), m);
        constexpr double hi = double(std::numeric_limits<T>::max());  // 2^63 for int64
        if (r >= hi) return int64_t(std::numeric_limits<T>::max());
        if (r <= double(std::numeric_limits<T>::min()))
            return int64_t(std::numeric_limits<T>::min());
        return int64_t(r);
    }
    static int64_t scalar(float s) { return from_float(s); }
};

template <class IO>
constexpr bool is_float_io = std::is_same_v<typename IO::value, float>;

/// Calls f with the access struct of t.
template <class F>
void with_io(dtype t, F&& f) {
    switch (t) {
        case dtype::fp32:
            return f(io_fp32{});
        case dtype::fp16:
            return f(io_fp16{});
        case dtype::bf16:
            return f(io_bf16{});
        case dtype::int32:
            return f(io_int<int32_t>{});
        case dtype::int8:
            return f(io_int<int8_t>{});
        case dtype::int16:
            return f(io_int<int16_t>{});
        case dtype::uint16:
            return f(io_int<uint16_t>{});
        case dtype::uint32:
            return f(io_int<uint32_t>{});
        case dtype::uint8:
            return f(io_int<uint8_t>{});
        case dtype::int64:
            return f(io_int<int64_t>{});
        case dtype::int4:  // sub-byte: vconv runs exec_convert_int4
            return;
    }
}

/// Calls f with the access struct of a float t (the multiply-adds).
template <class F>
void with_float_io(dtype t, F&& f) {
    if (t == dtype::fp32) return f(io_fp32{});
    if (t == dtype::bf16) return f(io_bf16{});
    f(io_fp16{});
}

// Integer element arithmetic on the int64 values; the store wraps to the type's width.
int64_t wrap_add(int64_t a, int64_t b) {
    return int64_t(uint64_t(a) + uint64_t(b));
}
int64_t wrap_sub(int64_t a, int64_t b) {
    return int64_t(uint64_t(a) - uint64_t(b));
}
int64_t wrap_mul(int64_t a, int64_t b) {
    return int64_t(uint64_t(a) * uint64_t(b));
}

// ---- execution ----

/// Transpose: raw element moves, so only the element size matters.
template <unsigned S>
void exec_transpose(const vector_op& op, uint8_t* ub) {
    constexpr unsigned n = unsigned(block_bytes / S);
    for (uint32_t r = 0; r < op.repeats; ++r) {
        const uint8_t* src = ub + op.src0 + uint64_t(r) * op.src0_rep_stride * block_bytes;
        uint8_t* dst = ub + op.dst + uint64_t(r) * op.dst_rep_stride * block_bytes;
        uint8_t m[n][n][S];  // read all first: src and dst may be the same matrix
        for (unsigned i = 0; i < n; ++i)
            std::memcpy(m[i], src + uint64_t(i) * op.src0_blk_stride * block_bytes, block_bytes);
        for (unsigned j = 0; j < n; ++j)
            for (unsigned i = 0; i < n; ++i)
                std::memcpy(dst + uint64_t(j) * op.dst_blk_stride * block_bytes + i * S, m[i][j],
                            S);
    }
}

/// The mask and strides of one instruction resolved to per-repeat byte offsets of its enabled
/// elements, so the hot loops only add a repeat base.
struct exec_plan {
    exec_plan(const vector_op& o, uint8_t* u) : op(o), ub(u) {}
    const vector_op& op;
    uint8_t* ub;
    unsigned elems = 0;            ///< per repeat
    unsigned per_block = 0;        ///< elements per 32-byte block
    std::vector<uint32_t> active;  ///< enabled element indices of a repeat, ascending
    std::vector<uint32_t> dst_off, src0_off, src1_off;
    /// dst and src0 (and src1: `dense_src1`) hold a repeat's active elements back to back from
    /// its start: the loops then step pointers instead of reading offsets.
    bool dense = false, dense_src1 = false;

    uint8_t* dst(uint32_t r) const { return ub + op.dst + r * uint64_t(op.dst_rep_stride) * 32; }
    const uint8_t* src0(uint32_t r) const {
        return ub + op.src0 + r * uint64_t(op.src0_rep_stride) * 32;
    }
    const uint8_t* src1(uint32_t r) const {
        return ub + op.src1 + r * uint64_t(op.src1_rep_stride) * 32;
    }
};

std::vector<uint32_t> offsets(const std::vector<uint32_t>& active, unsigned per_block,
                              uint16_t blk_stride, unsigned elem_size) {
    std::vector<uint32_t> o(active.size());
    const divisor block(per_block);
    for (size_t k = 0; k < active.size(); ++k) {
        const uint32_t idx = active[k];
        o[k] = uint32_t(block.div(idx)) * uint32_t(blk_stride) * 32 +
               uint32_t(block.mod(idx)) * elem_size;
    }
    return o;
}

// fp16 operands back to back: converted a group at a time (with the host's F16C where it has
// it, an order of magnitude faster than element by element), the op applied on the floats, the
// results converted back. Same values as the element loop, unless dst starts inside a source
// (the element loop would then read results it already stored).
bool groupable(const uint8_t* dst, const uint8_t* src, size_t bytes) {
    return dst <= src || dst >= src + bytes;
}

template <class F>
void run_fp16_groups(uint8_t* d, const uint8_t* a, const uint8_t* b, size_t n, F f) {
    constexpr size_t group = 128;
    float fa[group], fb[group];
    for (size_t k = 0; k < n; k += group) {
        const size_t m = std::min(group, n - k);
        halves_to_floats(a + 2 * k, fa, m);
        if (b) {
            halves_to_floats(b + 2 * k, fb, m);
            for (size_t i = 0; i < m; ++i) fa[i] = f(fa[i], fb[i]);
        } else {  // unary: f ignores its second operand
            for (size_t i = 0; i < m; ++i) fa[i] = f(fa[i], 0.0f);
        }
        floats_to_halves(fa, d + 2 * k, m);
    }
}

template <class IO, class F>
void run_binary(const exec_plan& x, F f) {
    const size_t n = x.active.size();
    const uint32_t *od = x.dst_off.data(), *oa = x.src0_off.data(), *ob = x.src1_off.data();
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        uint8_t* d = x.dst(r);
        const uint8_t *a = x.src0(r), *b = x.src1(r);
        if (x.dense && x.dense_src1) {
            if constexpr (std::is_same_v<IO, io_fp16>) {
                if (groupable(d, a, 2 * n) && groupable(d, b, 2 * n)) {
                    run_fp16_groups(d, a, b, n, f);
                    continue;
                }
            }
            for (size_t k = 0; k < n; ++k, d += IO::size, a += IO::size, b += IO::size)
                IO::store(d, f(IO::load(a), IO::load(b)));
            continue;
        }
        for (size_t k = 0; k < n; ++k)
            IO::store(d + od[k], f(IO::load(a + oa[k]), IO::load(b + ob[k])));
    }
}

template <class IO, class F>
void run_unary(const exec_plan& x, F f) {
    const size_t n = x.active.size();
    const uint32_t *od = x.dst_off.data(), *oa = x.src0_off.data();
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        uint8_t* d = x.dst(r);
        const uint8_t* a = x.src0(r);
        if (x.dense) {
            if constexpr (std::is_same_v<IO, io_fp16>) {
                if (groupable(d, a, 2 * n)) {
                    run_fp16_groups(d, a, nullptr, n, [&f](float v, float) { return f(v); });
                    continue;
                }
            }
            for (size_t k = 0; k < n; ++k, d += IO::size, a += IO::size)
                IO::store(d, f(IO::load(a)));
            continue;
        }
        for (size_t k = 0; k < n; ++k) IO::store(d + od[k], f(IO::load(a + oa[k])));
    }
}

template <class V>
V relu_of(V v) {
    return v > 0 ? v : V(0);
}

template <class IO>
void exec_binary(const exec_plan& x) {
    using V = typename IO::value;
    switch (x.op.op) {
        case vec_opcode::add:
            if constexpr (is_float_io<IO>)
                run_binary<IO>(x, [](V a, V b) { return a + b; });
            else
                run_binary<IO>(x, wrap_add);
            return;
        case vec_opcode::sub:
            if constexpr (is_float_io<IO>)
                run_binary<IO>(x, [](V a, V b) { return a - b; });
            else
                run_binary<IO>(x, wrap_sub);
            return;
        case vec_opcode::mul:
            if constexpr (is_float_io<IO>)
                run_binary<IO>(x, [](V a, V b) { return a * b; });
            else
                run_binary<IO>(x, wrap_mul);
            return;
        case vec_opcode::div:
            if constexpr (is_float_io<IO>) run_binary<IO>(x, [](V a, V b) { return a / b; });
            return;
        // fmax/fmin: a NaN operand yields the other one.
        case vec_opcode::max:
            if constexpr (is_float_io<IO>)
                run_binary<IO>(x, [](V a, V b) { return std::fmax(a, b); });
            else
                run_binary<IO>(x, [](V a, V b) { return std::max(a, b); });
            return;
        case vec_opcode::min:
            if constexpr (is_float_io<IO>)
                run_binary<IO>(x, [](V a, V b) { return std::fmin(a, b); });
            else
                run_binary<IO>(x, [](V a, V b) { return std::min(a, b); });
            return;
        // The fused forms round the sum once, then clamp (relu of a rounded value is exact). An
        // integer sum wraps to the type first, as a separate add would.
        case vec_opcode::add_relu:
            if constexpr (is_float_io<IO>)
                run_binary<IO>(x, [](V a, V b) { return relu_of(a + b); });
            else
                run_binary<IO>(x, [](V a, V b) { return relu_of(IO::wrap(wrap_add(a, b))); });
            return;
        case vec_opcode::sub_relu:
            if constexpr (is_float_io<IO>)
                run_binary<IO>(x, [](V a, V b) { return relu_of(a - b); });
            else
                run_binary<IO>(x, [](V a, V b) { return relu_of(IO::wrap(wrap_sub(a, b))); });
            return;
        case vec_opcode::and_:
            if constexpr (!is_float_io<IO>) run_binary<IO>(x, [](V a, V b) { return a & b; });
            return;
        case vec_opcode::or_:
            if constexpr (!is_float_io<IO>) run_binary<IO>(x, [](V a, V b) { return a | b; });
            return;
        default:
            return;
    }
}

template <class IO>
void exec_scalar(const exec_plan& x) {
    using V = typename IO::value;
    // The scalar register holds a value of the operand type, so it is rounded first.
    const V s = IO::scalar(x.op.scalar);
    switch (x.op.op) {
        case vec_opcode::adds:
            if constexpr (is_float_io<IO>)
                run_unary<IO>(x, [s](V a) { return a + s; });
            else
                run_unary<IO>(x, [s](V a) { return wrap_add(a, s); });
            return;
        case vec_opcode::muls:
            if constexpr (is_float_io<IO>)
                run_unary<IO>(x, [s](V a) { return a * s; });
            else
                run_unary<IO>(x, [s](V a) { return wrap_mul(a, s); });
            return;
        case vec_opcode::maxs:
            if constexpr (is_float_io<IO>)
                run_unary<IO>(x, [s](V a) { return std::fmax(a, s); });
            else
                run_unary<IO>(x, [s](V a) { return std::max(a, s); });
            return;
        case vec_opcode::mins:
            if constexpr (is_float_io<IO>)
                run_unary<IO>(x, [s](V a) { return std::fmin(a, s); });
            else
                run_unary<IO>(x, [s](V a) { return std::min(a, s); });
            return;
        case vec_opcode::lrelu:
            if constexpr (is_float_io<IO>)
                run_unary<IO>(x, [s](V a) { return a >= 0 ? a : a * s; });
            return;
        // A shift count past the width shifts everything out (shr of a negative value: -1).
        case vec_opcode::shl:
            if constexpr (!is_float_io<IO>) {
                const int64_t n = std::clamp<int64_t>(s, 0, IO::bits);
                run_unary<IO>(x, [n](V a) { return n >= 64 ? 0 : int64_t(uint64_t(a) << n); });
            }
            return;
        case vec_opcode::shr:
            if constexpr (!is_float_io<IO>) {
                const int64_t n = std::clamp<int64_t>(s, 0, 63);
                run_unary<IO>(x, [n](V a) { return a >> n; });  // values are sign- or zero-extended
            }
            return;
        default:
            return;
    }
}

template <class IO>
void exec_unary(const exec_plan& x) {
    using V = typename IO::value;
    if constexpr (is_float_io<IO>) {
        switch (x.op.op) {
            case vec_opcode::relu:
                run_unary<IO>(x, [](V a) { return a > 0 ? a : 0.f; });
                return;
            case vec_opcode::abs:
                run_unary<IO>(x, [](V a) { return std::fabs(a); });
                return;
            case vec_opcode::exp:
                run_unary<IO>(x, [](V a) { return std::exp(a); });
                return;
            case vec_opcode::ln:
                run_unary<IO>(x, [](V a) { return std::log(a); });
                return;
            case vec_opcode::sqrt:
                run_unary<IO>(x, [](V a) { return std::sqrt(a); });
                return;
            case vec_opcode::rsqrt:
                run_unary<IO>(x, [](V a) { return 1.f / std::sqrt(a); });
                return;
            case vec_opcode::rec:
                run_unary<IO>(x, [](V a) { return 1.f / a; });
                return;
            case vec_opcode::tanh:
                run_unary<IO>(x, [](V a) { return std::tanh(a); });
                return;
            case vec_opcode::sigmoid:
                run_unary<IO>(x, [](V a) { return 1.f / (1.f + std::exp(-a)); });
                return;
            default:
                return;
        }
    } else {
        switch (x.op.op) {
            case vec_opcode::relu:
                run_unary<IO>(x, [](V a) { return a > 0 ? a : 0; });
                return;
            case vec_opcode::abs:
                run_unary<IO>(x, [](V a) { return a < 0 ? wrap_sub(0, a) : a; });
                return;
            case vec_opcode::not_:
                run_unary<IO>(x, [](V a) { return ~a; });
                return;
            default:
                return;
        }
    }
}

/// Copy and select move raw elements, so they only depend on the element size.
template <unsigned S>
void exec_copy(const exec_plan& x) {
    const size_t n = x.active.size();
    const uint32_t *od = x.dst_off.data(), *oa = x.src0_off.data();
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        uint8_t* d = x.dst(r);
        const uint8_t* a = x.src0(r);
        for (size_t k = 0; k < n; ++k) std::memcpy(d + od[k], a + oa[k], S);
    }
}

/// Multiply-adds compute in float and round once into the destination type.
template <class SI, class DI>
void exec_multiply_add(const exec_plan& x) {
    const size_t n = x.active.size();
    const uint32_t *od = x.dst_off.data(), *oa = x.src0_off.data(), *ob = x.src1_off.data();
    const float s = SI::scalar(x.op.scalar);
    const vec_opcode o = x.op.op;
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        uint8_t* d = x.dst(r);
        const uint8_t *a = x.src0(r), *b = x.src1(r);
        for (size_t k = 0; k < n; ++k) {
            const float va = SI::load(a + oa[k]), vd = DI::load(d + od[k]);
            float v;
            if (o == vec_opcode::axpy)
                v = va * s + vd;
            else if (o == vec_opcode::mla)
                v = va * SI::load(b + ob[k]) + vd;
            else
                v = va * vd + SI::load(b + ob[k]);
            DI::store(d + od[k], o == vec_opcode::madd_relu ? relu_of(v) : v);
        }
    }
}

template <class IO, class C>
void run_cmp(const exec_plan& x, C c) {
    const size_t n = x.active.size();
    const unsigned bytes = x.elems / 8;
    const uint32_t *oa = x.src0_off.data(), *ob = x.src1_off.data();
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        const uint8_t *a = x.src0(r), *b = x.src1(r);
        uint8_t bits[16] = {};  // masked-off elements give 0
        for (size_t k = 0; k < n; ++k) {
            const uint32_t idx = x.active[k];
            if (c(IO::load(a + oa[k]), IO::load(b + ob[k]))) bits[idx >> 3] |= 1u << (idx & 7);
        }
        std::memcpy(x.ub + x.op.dst + uint64_t(r) * bytes, bits, bytes);
    }
}

template <class IO>
void exec_cmp(const exec_plan& x) {
    using V = typename IO::value;
    switch (x.op.cmp) {
        case cmp_mode::lt:
            run_cmp<IO>(x, [](V a, V b) { return a < b; });
            return;
        case cmp_mode::gt:
            run_cmp<IO>(x, [](V a, V b) { return a > b; });
            return;
        case cmp_mode::le:
            run_cmp<IO>(x, [](V a, V b) { return a <= b; });
            return;
        case cmp_mode::ge:
            run_cmp<IO>(x, [](V a, V b) { return a >= b; });
            return;
        case cmp_mode::eq:
            run_cmp<IO>(x, [](V a, V b) { return a == b; });
            return;
        case cmp_mode::ne:
            run_cmp<IO>(x, [](V a, V b) { return a != b; });
            return;
    }
}

template <unsigned S>
void exec_select(const exec_plan& x) {
    const size_t n = x.active.size();
    const unsigned bytes = x.elems / 8;
    const uint32_t *od = x.dst_off.data(), *oa = x.src0_off.data(), *ob = x.src1_off.data();
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        uint8_t* d = x.dst(r);
        const uint8_t *a = x.src0(r), *b = x.src1(r);
        uint8_t bits[16];
        std::memcpy(bits, x.ub + x.op.mask_addr + uint64_t(r) * bytes, bytes);
        for (size_t k = 0; k < n; ++k) {
            const uint32_t idx = x.active[k];
            const bool pick0 = (bits[idx >> 3] >> (idx & 7)) & 1;
            std::memcpy(d + od[k], pick0 ? a + oa[k] : b + ob[k], S);
        }
    }
}

template <class IO>
void exec_dup(const exec_plan& x) {
    uint8_t v[IO::size];
    IO::store(v, IO::scalar(x.op.scalar));
    const size_t n = x.active.size();
    const uint32_t* od = x.dst_off.data();
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        uint8_t* d = x.dst(r);
        for (size_t k = 0; k < n; ++k) std::memcpy(d + od[k], v, IO::size);
    }
}

template <unsigned S>
void exec_gather_mask(const exec_plan& x) {
    const size_t n = x.active.size();
    const uint32_t* oa = x.src0_off.data();
    uint8_t* d = x.ub + x.op.dst;
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        const uint8_t* a = x.src0(r);
        for (size_t k = 0; k < n; ++k, d += S) std::memcpy(d, a + oa[k], S);
    }
}

/// Sum, max or min of a run of elements; an empty run gives the identity (0, -inf / +inf, the
/// type's limits for integers). Floats accumulate in float in element order and round once.
enum class combine { sum, max, min };
template <class IO>
struct accumulator {
    using V = std::conditional_t<is_float_io<IO>, float, int64_t>;
    explicit accumulator(combine c) : how(c) {
        if constexpr (is_float_io<IO>)
            acc = c == combine::sum   ? 0.f
                  : c == combine::max ? -std::numeric_limits<float>::infinity()
                                      : std::numeric_limits<float>::infinity();
        else
            acc = c == combine::sum   ? 0
                  : c == combine::max ? int64_t(std::numeric_limits<typename IO::type>::min())
                                      : int64_t(std::numeric_limits<typename IO::type>::max());
    }
    void add(V v) {
        if constexpr (is_float_io<IO>)
            acc = how == combine::sum   ? acc + v
                  : how == combine::max ? std::fmax(acc, v)
                                        : std::fmin(acc, v);
        else  // 255 x 128 values of 32 bits cannot overflow int64
            acc = how == combine::sum   ? acc + v
                  : how == combine::max ? std::max(acc, v)
                                        : std::min(acc, v);
    }
    void store(uint8_t* d) const {
        if constexpr (is_float_io<IO>)
            IO::store(d, acc);
        else
            IO::store(d, IO::saturate(acc));
    }
    combine how;
    V acc;
};

combine combine_of(vec_opcode o) {
    switch (o) {
        case vec_opcode::reduce_max:
        case vec_opcode::group_max:
            return combine::max;
        case vec_opcode::reduce_min:
        case vec_opcode::group_min:
            return combine::min;
        default:
            return combine::sum;
    }
}

/// One result per `group` consecutive elements of a repeat (the whole repeat, a 32-byte block
/// or a pair), over the enabled ones; results are packed at dst, repeat after repeat. A group
/// with no enabled element writes nothing, except a whole-repeat reduce (its identity).
template <class IO>
void exec_reduce(const exec_plan& x, unsigned group) {
    const size_t n = x.active.size();
    const uint32_t* oa = x.src0_off.data();
    const combine how = combine_of(x.op.op);
    const unsigned per_repeat = x.elems / group;
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        const uint8_t* a = x.src0(r);
        uint8_t* d = x.ub + x.op.dst + uint64_t(r) * per_repeat * IO::size;
        if (group == x.elems) {
            accumulator<IO> acc(how);
            for (size_t k = 0; k < n; ++k) acc.add(IO::load(a + oa[k]));
            acc.store(d);
            continue;
        }
        for (size_t k = 0; k < n;) {
            const unsigned g = x.active[k] / group;
            accumulator<IO> acc(how);
            for (; k < n && x.active[k] / group == g; ++k) acc.add(IO::load(a + oa[k]));
            acc.store(d + uint64_t(g) * IO::size);
        }
    }
}

/// Merges the 4 lists of each repeat, one proposal (8 bytes) at a time, by descending score.
template <class IO>
void exec_merge_sort(const vector_op& op, uint8_t* ub) {
    constexpr unsigned n = 256 / IO::size, per_list = n / 4, bytes = 8;
    std::vector<uint8_t> out(n * bytes);  // src0 and dst may overlap
    for (uint32_t r = 0; r < op.repeats; ++r) {
        const uint8_t* src = ub + op.src0 + uint64_t(r) * n * bytes;
        unsigned next[4] = {0, 0, 0, 0};
        for (unsigned k = 0; k < n; ++k) {
            int best = -1;
            float best_score = 0;
            for (int l = 0; l < 4; ++l) {
                if (next[l] == per_list) continue;
                const float v = IO::load(src + (l * per_list + next[l]) * bytes);
                if (best < 0 || v > best_score) best = l, best_score = v;
            }
            std::memcpy(out.data() + k * bytes, src + (best * per_list + next[best]) * bytes,
                        bytes);
            ++next[best];
        }
        std::memcpy(ub + op.dst + uint64_t(r) * n * bytes, out.data(), out.size());
    }
}

/// Brcb copies raw elements, so it only depends on the element size.
template <unsigned S>
void exec_brcb(const exec_plan& x) {
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        const uint8_t* a = x.ub + x.op.src0 + uint64_t(r) * 8 * S;
        uint8_t* d = x.dst(r);
        for (unsigned b = 0; b < 8; ++b) {
            uint8_t* blk = d + uint64_t(b) * x.op.dst_blk_stride * block_bytes;
            for (unsigned i = 0; i < block_bytes / S; ++i) std::memcpy(blk + i * S, a + b * S, S);
        }
    }
}

/// One converted element, rounded by m (to nearest even by default); integers saturate;
/// integer sources never pass through a lossy float.
template <class SI, class DI>
void convert_elem(typename SI::value v, uint8_t* d, round_mode m = round_mode::rint) {
    if constexpr (is_float_io<SI>) {
        if constexpr (is_float_io<DI>)
            DI::store(d, m == round_mode::rint ? v : round_to_float(v, DI::type, m));
        else
            DI::store(d, DI::from_float(v, m));
    } else {
        if constexpr (is_float_io<DI>)
            DI::store(d, m == round_mode::rint
                             ? static_cast<float>(round_significant(v, DI::precision))
                             : round_to_float(double(v), DI::type, m));
        else
            DI::store(d, DI::saturate(v));
    }
}

/// Converts src0 into dst: a plain cast, scaled by the scalar (deq) or by 16 fp32 scales at src1
/// (vdeq), or the relu of src0 +/- src1 (computed in the source type, then converted).
template <class SI, class DI>
void run_convert(const exec_plan& x) {
    const size_t n = x.active.size();
    const uint32_t *od = x.dst_off.data(), *oa = x.src0_off.data(), *ob = x.src1_off.data();
    const vec_opcode o = x.op.op;
    float scales[16];
    std::memcpy(scales, x.ub + x.op.src1, o == vec_opcode::conv_vdeq ? sizeof scales : 0);
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        uint8_t* d = x.dst(r);
        const uint8_t *a = x.src0(r), *b = x.src1(r);
        for (size_t k = 0; k < n; ++k) {
            const auto v = SI::load(a + oa[k]);
            if (o == vec_opcode::cast) {
                convert_elem<SI, DI>(v, d + od[k], x.op.round);
            } else if (o == vec_opcode::conv_deq || o == vec_opcode::conv_vdeq) {
                const float scale =
                    o == vec_opcode::conv_deq ? x.op.scalar : scales[x.active[k] % 16];
                convert_elem<io_fp32, DI>(float(v) * scale, d + od[k]);
            } else {
                const auto w = SI::load(b + ob[k]);
                uint8_t sum[SI::size];  // the sum in the source type, as vadd would store it
                if constexpr (is_float_io<SI>)
                    SI::store(sum, o == vec_opcode::add_relu_conv ? v + w : v - w);
                else
                    SI::store(sum,
                              o == vec_opcode::add_relu_conv ? wrap_add(v, w) : wrap_sub(v, w));
                convert_elem<SI, DI>(relu_of(SI::load(sum)), d + od[k]);
            }
        }
    }
}

/// vconv with an int4 side (fp16 <-> int4). Element idx of a repeat sits at nibble
/// (idx / 64) * blk_stride * 64 + idx % 64 of the int4 operand; fp16 -> int4 rounds half to even
/// and saturates to -8..7.
void exec_convert_int4(const exec_plan& x) {
    const bool to_int4 = x.op.dst_type == dtype::int4;
    const uint64_t blk = to_int4 ? x.op.dst_blk_stride : x.op.src0_blk_stride;
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        uint8_t* d = x.dst(r);
        const uint8_t* a = x.src0(r);
        for (size_t k = 0; k < x.active.size(); ++k) {
            const uint32_t idx = x.active[k];
            const uint64_t nibble = uint64_t(idx / 64) * blk * 64 + idx % 64;
            if (to_int4)
                set_int4(d, nibble,
                         int(std::clamp<int64_t>(
                             io_int<int8_t>::from_float(io_fp16::load(a + x.src0_off[k])), -8, 7)));
            else
                io_fp16::store(d + x.dst_off[k], float(int4_at(a, nibble)));
        }
    }
}

void exec_convert(const exec_plan& x) {
    if (x.op.type == dtype::int4 || x.op.dst_type == dtype::int4) return exec_convert_int4(x);
    with_io(x.op.type, [&](auto si) {
        with_io(x.op.dst_type, [&](auto di) { run_convert<decltype(si), decltype(di)>(x); });
    });
}

}  // namespace

vector_unit::vector_unit(std::string name, const vector_costs& costs, uint64_t ub_size)
    : m_name(std::move(name)), m_costs(costs), m_ub_size(ub_size) {}

namespace {

dtype dst_type_of(const vector_op& op) {
    return has_dst_type(op.op) ? op.dst_type : op.type;
}

}  // namespace

uint64_t vector_unit::work_cycles(const vector_op& op) const {
    const vector_instr_cost& row = m_costs.row(op.op, op.type, dst_type_of(op));
    const double per = row.cycles_per_repeat > 0
                           ? row.cycles_per_repeat
                           : m_costs.cycles_per_repeat[static_cast<unsigned>(class_of(op.op))];
    // A transpose repeat moves a whole matrix of 32/size rows of 32 bytes: 512 bytes for fp16,
    // 256 for fp32, paid as that many 256-byte simple repeats.
    const double scale =
        op.op == vec_opcode::transpose ? double(transpose_rows(op.type)) * block_bytes / 256 : 1;
    // The small epsilon keeps e.g. 10 x 0.7 = 7.000000000000001 from rounding up to 8.
    const double busy = std::ceil(op.repeats * per * scale - 1e-9);
    return row.fixed_cycles + static_cast<uint64_t>(std::max(0.0, busy));
}

uint64_t vector_unit::issue_cycles(const vector_op& op) const {
    const uint32_t floor = m_costs.row(op.op, op.type, dst_type_of(op)).issue_cycles;
    return std::max<uint64_t>(floor ? floor : m_costs.issue_cycles, work_cycles(op));
}

void vector_unit::execute(const vector_op& op, uint8_t* ub, bool functional,
                          vector_footprint* fp) const {
    vector_footprint unused;
    if (!fp) fp = &unused;
    *fp = {};
    auto fault = [&](uint64_t address, const std::string& what) {
        throw model_fault(m_name, address, op.describe(), what);
    };

    if (op.repeats < 1 || op.repeats > 255)
        fault(op.dst, "repeats " + std::to_string(op.repeats) + " outside 1..255");
    if (const std::string why = why_unsupported(op); !why.empty()) fault(op.dst, why);

    const vec_opcode o = op.op;
    const vec_form form = form_of(o);
    if (form == vec_form::transpose) {
        const uint64_t rows = transpose_rows(op.type);
        auto check_matrix = [&](const char* name, uint64_t base, uint16_t blk, uint16_t rep) {
            const uint64_t extent = (uint64_t(op.repeats) - 1) * rep * block_bytes +
                                    (rows - 1) * blk * block_bytes + block_bytes;
            if (base % block_bytes != 0)
                fault(base,
                      std::string(name) + " address " + hex(base) + " is not 32-byte aligned");
            if (base >= m_ub_size || extent > m_ub_size - base)
                fault(base, std::string(name) + " range [" + hex(base) + ", " + hex(base + extent) +
                                ") exceeds UB (" + hex(m_ub_size) + " bytes)");
            return extent;
        };
        fp->write = {op.dst, check_matrix("dst", op.dst, op.dst_blk_stride, op.dst_rep_stride)};
        fp->reads[fp->n_reads++] = {
            op.src0, check_matrix("src0", op.src0, op.src0_blk_stride, op.src0_rep_stride)};
        if (!functional) return;
        if (dtype_size(op.type) == 4)
            exec_transpose<4>(op, ub);
        else
            exec_transpose<2>(op, ub);
        return;
    }
    const unsigned src_size = dtype_size(op.type);
    const unsigned dst_size = dtype_size(dst_type_of(op));
    const unsigned src_bits = dtype_bits(op.type);
    const unsigned dst_bits = dtype_bits(dst_type_of(op));
    // An instruction with a wider side covers as many elements per repeat as it fits in 256 bytes.
    const unsigned elem = std::max(src_size, dst_size);
    exec_plan x(op, ub);
    x.elems = unsigned(repeat_bytes / elem);
    x.per_block = unsigned(block_bytes / elem);
    // The enabled elements of a repeat are the mask bits below x.elems. Every instruction passes
    // here, timing-only ones too: count them from the mask words, list them only to execute.
    const unsigned lanes = std::min(x.elems, 128u);
    const uint64_t mask_lo = lanes >= 64 ? op.mask_lo : op.mask_lo & ((uint64_t(1) << lanes) - 1);
    const uint64_t mask_hi = lanes <= 64    ? 0
                             : lanes >= 128 ? op.mask_hi
                                            : op.mask_hi & ((uint64_t(1) << (lanes - 64)) - 1);
    const auto enabled = [&](unsigned i) {
        return i < 64 ? (mask_lo >> i) & 1 : (mask_hi >> (i - 64)) & 1;
    };
    const unsigned n_active =
        unsigned(__builtin_popcountll(mask_lo) + __builtin_popcountll(mask_hi));
    const unsigned last_active = mask_hi   ? 127u - unsigned(__builtin_clzll(mask_hi))
                                 : mask_lo ? 63u - unsigned(__builtin_clzll(mask_lo))
                                           : 0u;

    // Bytes past the base an operand touches over all repeats (0 when the mask is empty).
    // Each operand packs its own 32-byte blocks (256/bits elements), so a conversion's narrow
    // side stays contiguous with a block stride of 1. With a block stride of 1 or more an
    // element's offset grows with its index, so the last enabled element ends the extent; with
    // stride 0 every block overlays the first and the furthest in-block position does.
    auto strided_extent = [&](uint16_t blk, uint16_t rep, unsigned bits) -> uint64_t {
        if (n_active == 0) return 0;
        const unsigned per_block = unsigned(8 * block_bytes / bits);
        uint64_t last = 0;  // in bits
        if (blk > 0) {
            last = uint64_t(last_active / per_block) * blk * 8 * block_bytes +
                   (last_active % per_block + 1) * bits;
        } else {
            for (unsigned i = 0; i < lanes; ++i)
                if (enabled(i)) last = std::max<uint64_t>(last, (i % per_block + 1) * bits);
        }
        return uint64_t(op.repeats - 1) * rep * block_bytes + (last + 7) / 8;
    };
    // A reduction writes its results element by element: its dst needs element alignment only.
    const bool packed_results =
        form == vec_form::reduce || form == vec_form::group_reduce || form == vec_form::pair_reduce;
    auto check = [&](const char* name, uint64_t base, uint64_t extent) {
        const uint64_t align = packed_results && name[0] == 'd' ? dst_size : block_bytes;
        if (base % align != 0)
            fault(base, std::string(name) + " address " + hex(base) + " is not " +
                            std::to_string(align) + "-byte aligned");
        if (extent != 0 && base >= m_ub_size)
            fault(base, std::string(name) + " address " + hex(base) + " is outside UB (" +
                            hex(m_ub_size) + " bytes)");
        if (extent != 0 && extent > m_ub_size - base)
            fault(base, std::string(name) + " range [" + hex(base) + ", " + hex(base + extent) +
                            ") exceeds UB (" + hex(m_ub_size) + " bytes)");
        if (name[0] == 'd')
            fp->write = {base, extent};
        else
            fp->reads[fp->n_reads++] = {base, extent};
    };
    const uint64_t bit_bytes = uint64_t(op.repeats) * (x.elems / 8);  // cmp dst, select mask
    const uint64_t dst_strided = strided_extent(op.dst_blk_stride, op.dst_rep_stride, dst_bits);

    // dst
    const uint64_t brcb_src = uint64_t(op.repeats) * 8 * src_size;
    const uint64_t brcb_dst = uint64_t(op.repeats - 1) * op.dst_rep_stride * block_bytes +
                              uint64_t(7) * op.dst_blk_stride * block_bytes + block_bytes;
    const unsigned group = form == vec_form::reduce         ? x.elems
                           : form == vec_form::group_reduce ? unsigned(block_bytes / src_size)
                                                            : 2;
    const uint64_t proposals = uint64_t(op.repeats) * (repeat_bytes / src_size) * 8;
    if (form == vec_form::merge_sort) {
        check("dst", op.dst, proposals);
        check("src0", op.src0, proposals);
        if (!functional) return;
        return src_size == 4 ? exec_merge_sort<io_fp32>(op, ub) : exec_merge_sort<io_fp16>(op, ub);
    }
    if (form == vec_form::cmp)
        check("dst", op.dst, bit_bytes);
    else if (form == vec_form::brcb)
        check("dst", op.dst, brcb_dst);
    else if (packed_results)
        check("dst", op.dst, uint64_t(op.repeats) * (x.elems / group) * dst_size);
    else if (form == vec_form::gather_mask)
        check("dst", op.dst, uint64_t(op.repeats) * n_active * dst_size);
    else
        check("dst", op.dst, dst_strided);
    // src0: a gather's source reads are data (its offsets), so they are checked per element
    // and not booked
    if (form == vec_form::brcb)
        check("src0", op.src0, brcb_src);
    else if (form != vec_form::dup && form != vec_form::gather)
        check("src0", op.src0, strided_extent(op.src0_blk_stride, op.src0_rep_stride, src_bits));
    // src1, the select mask, the deq scales, the gather offsets, the multiply-add's dst
    const bool strided_src1 =
        uses_src1(o) && form != vec_form::gather && o != vec_opcode::conv_vdeq;
    if (strided_src1)
        check("src1", op.src1, strided_extent(op.src1_blk_stride, op.src1_rep_stride, src_bits));
    if (form == vec_form::select) check("mask", op.mask_addr, bit_bytes);
    if (o == vec_opcode::conv_vdeq) check("src1", op.src1, 16 * sizeof(float));
    if (form == vec_form::gather)
        check("src1", op.src1,
              n_active == 0 ? 0 : (uint64_t(op.repeats - 1) * x.elems + last_active + 1) * 4);
    if (form == vec_form::multiply_add) check("src2", op.dst, dst_strided);  // read as well

    if (!functional) return;

    x.active.reserve(n_active);
    for (unsigned i = 0; i < lanes; ++i)
        if (enabled(i)) x.active.push_back(i);
    x.dst_off = offsets(x.active, unsigned(block_bytes / dst_size), op.dst_blk_stride, dst_size);
    x.src0_off = offsets(x.active, unsigned(block_bytes / src_size), op.src0_blk_stride, src_size);
    x.src1_off = offsets(x.active, unsigned(block_bytes / src_size), op.src1_blk_stride, src_size);
    const auto packed = [&](const std::vector<uint32_t>& off, unsigned size) {
        for (size_t k = 0; k < off.size(); ++k)
            if (off[k] != k * size) return false;
        return true;
    };
    x.dense = dst_size == src_size && packed(x.dst_off, dst_size) && packed(x.src0_off, src_size);
    x.dense_src1 = packed(x.src1_off, src_size);

    auto by_size = [&](auto f4, auto f2) { src_size == 4 ? f4() : f2(); };
    switch (form) {
        case vec_form::convert:
            return exec_convert(x);
        case vec_form::multiply_add:
            return with_float_io(op.type, [&](auto si) {
                with_float_io(dst_type_of(op),
                              [&](auto di) { exec_multiply_add<decltype(si), decltype(di)>(x); });
            });
        case vec_form::select:
            return by_size([&] { exec_select<4>(x); }, [&] { exec_select<2>(x); });
        case vec_form::brcb:
            return by_size([&] { exec_brcb<4>(x); }, [&] { exec_brcb<2>(x); });
        case vec_form::gather_mask:
            return by_size([&] { exec_gather_mask<4>(x); }, [&] { exec_gather_mask<2>(x); });
        case vec_form::gather: {
            for (uint32_t r = 0; r < op.repeats; ++r) {
                uint8_t* d = x.dst(r);
                for (size_t k = 0; k < x.active.size(); ++k) {
                    uint32_t off;
                    std::memcpy(&off, ub + op.src1 + (uint64_t(r) * x.elems + x.active[k]) * 4, 4);
                    const uint64_t at = op.src0 + uint64_t(off);
                    if (off % src_size != 0 || at >= m_ub_size || src_size > m_ub_size - at)
                        fault(at, "gather offset " + hex(off) + " (element " +
                                      std::to_string(uint64_t(r) * x.elems + x.active[k]) +
                                      ") is misaligned or outside UB");
                    std::memcpy(d + x.dst_off[k], ub + at, src_size);
                }
            }
            return;
        }
        case vec_form::unary:
            if (o == vec_opcode::copy)
                return by_size([&] { exec_copy<4>(x); }, [&] { exec_copy<2>(x); });
            break;
        default:
            break;
    }
    with_io(op.type, [&](auto io) {
        using IO = decltype(io);
        switch (form) {
            case vec_form::binary:
                return exec_binary<IO>(x);
            case vec_form::scalar:
                return exec_scalar<IO>(x);
            case vec_form::unary:
                return exec_unary<IO>(x);
            case vec_form::cmp:
                return exec_cmp<IO>(x);
            case vec_form::dup:
                return exec_dup<IO>(x);
            case vec_form::reduce:
            case vec_form::group_reduce:
            case vec_form::pair_reduce:
                return exec_reduce<IO>(x, group);
            default:
                return;
        }
    });
}

}  // namespace npusim::models
