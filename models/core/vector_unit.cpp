#include "models/core/vector_unit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "models/common/model_fault.h"

namespace npusim::models {

static_assert(size_t(vec_opcode::transpose) < k_vec_opcode_slots, "opcode table too small");

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

bool is_binary(vec_opcode o) {
    return o >= vec_opcode::add && o <= vec_opcode::sub_relu;
}
bool is_scalar_op(vec_opcode o) {
    return o >= vec_opcode::adds && o <= vec_opcode::lrelu;
}
bool is_unary(vec_opcode o) {
    return o >= vec_opcode::relu && o <= vec_opcode::abs;
}
bool is_reduce(vec_opcode o) {
    return o == vec_opcode::reduce_sum || o == vec_opcode::reduce_max;
}

}  // namespace

std::vector<std::pair<dtype, dtype>> vector_dtypes(vec_opcode op) {
    static const dtype all[] = {dtype::fp32, dtype::fp16, dtype::bf16, dtype::int32, dtype::int8};
    std::vector<std::pair<dtype, dtype>> out;
    for (dtype s : all)
        for (dtype d : all) {
            if (op != vec_opcode::cast && d != s) continue;
            vector_op v;
            v.op = op;
            v.type = s;
            v.dst_type = d;
            if (why_unsupported(v).empty()) out.emplace_back(s, d);
        }
    return out;
}

std::string why_unsupported(const vector_op& op) {
    if (op.op == vec_opcode::cast) {
        // int8 -> int8 would need 256 elements per repeat, more than the 128-bit mask covers.
        if (op.type == dtype::int8 && op.dst_type == dtype::int8)
            return "cast int8->int8 is not supported (no conversion; copy the data instead)";
        return {};
    }
    if (op.type == dtype::int8)
        return std::string(to_string(op.op)) +
               " is not supported for int8 (int8 is only a cast source or destination)";
    if (op.type == dtype::int32) {
        switch (op.op) {
            case vec_opcode::div:
            case vec_opcode::exp:
            case vec_opcode::ln:
            case vec_opcode::sqrt:
            case vec_opcode::rsqrt:
            case vec_opcode::rec:
            case vec_opcode::lrelu:
            case vec_opcode::tanh:
            case vec_opcode::sigmoid:
                return std::string(to_string(op.op)) +
                       " is not supported for int32 (cast to fp32 first)";
            default:
                return {};
        }
    }
    return {};
}

namespace {

// ---- element access, one struct per dtype so the hot loops are templates without switches ----

int32_t saturate_round_i32(float v) {
    if (std::isnan(v)) return 0;
    const float r = std::nearbyint(v);  // default rounding mode: half to even
    if (r >= 2147483648.f) return std::numeric_limits<int32_t>::max();
    if (r < -2147483648.f) return std::numeric_limits<int32_t>::min();
    return static_cast<int32_t>(r);
}

int32_t saturate_round_i8(float v) {
    if (std::isnan(v)) return 0;
    return static_cast<int32_t>(std::fmax(-128.f, std::fmin(127.f, std::nearbyint(v))));
}

/// Rounds an integer to `bits` significant bits, half to even, so that converting the result to
/// float is exact: avoids the double rounding of int32 -> float -> bf16.
int64_t round_significant(int64_t v, int bits) {
    const uint64_t m = v < 0 ? uint64_t(-v) : uint64_t(v);
    int width = 0;
    while (width < 64 && (m >> width) != 0) ++width;
    if (width <= bits) return v;
    const int shift = width - bits;
    uint64_t keep = m >> shift;
    const uint64_t rem = m & ((uint64_t(1) << shift) - 1);
    const uint64_t half = uint64_t(1) << (shift - 1);
    if (rem > half || (rem == half && (keep & 1))) ++keep;
    const int64_t r = static_cast<int64_t>(keep << shift);
    return v < 0 ? -r : r;
}

struct io_fp32 {
    using value = float;
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

struct io_int32 {
    using value = int32_t;
    static constexpr unsigned size = 4;
    static int32_t load(const uint8_t* p) {
        int32_t v;
        std::memcpy(&v, p, 4);
        return v;
    }
    static void store(uint8_t* p, int32_t v) { std::memcpy(p, &v, 4); }
    static int32_t scalar(float s) { return saturate_round_i32(s); }
};

struct io_int8 {
    using value = int32_t;
    static constexpr unsigned size = 1;
    static int32_t load(const uint8_t* p) { return static_cast<int8_t>(*p); }
    static void store(uint8_t* p, int32_t v) { *p = static_cast<uint8_t>(static_cast<int8_t>(v)); }
};

template <class IO>
constexpr bool is_float_io = std::is_same_v<typename IO::value, float>;

/// Calls f with the access struct of t (int8 only where the caller handles it).
template <class F>
void with_io(dtype t, F&& f) {
    switch (t) {
        case dtype::fp32:
            f(io_fp32{});
            return;
        case dtype::fp16:
            f(io_fp16{});
            return;
        case dtype::bf16:
            f(io_bf16{});
            return;
        case dtype::int32:
            f(io_int32{});
            return;
        case dtype::int8:
            f(io_int8{});
            return;
    }
}

// Two's complement wrap-around for int32 element arithmetic, like the integer ALU.
int32_t wrap_add(int32_t a, int32_t b) {
    return int32_t(uint32_t(a) + uint32_t(b));
}
int32_t wrap_sub(int32_t a, int32_t b) {
    return int32_t(uint32_t(a) - uint32_t(b));
}
int32_t wrap_mul(int32_t a, int32_t b) {
    return int32_t(uint32_t(a) * uint32_t(b));
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
    for (size_t k = 0; k < active.size(); ++k) {
        const uint32_t idx = active[k];
        o[k] = (idx / per_block) * uint32_t(blk_stride) * 32 + (idx % per_block) * elem_size;
    }
    return o;
}

template <class IO, class F>
void run_binary(const exec_plan& x, F f) {
    const size_t n = x.active.size();
    const uint32_t *od = x.dst_off.data(), *oa = x.src0_off.data(), *ob = x.src1_off.data();
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        uint8_t* d = x.dst(r);
        const uint8_t *a = x.src0(r), *b = x.src1(r);
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
        // The fused forms round the sum once, then clamp (relu of a rounded value is exact).
        case vec_opcode::add_relu:
            if constexpr (is_float_io<IO>)
                run_binary<IO>(x, [](V a, V b) { return relu_of(a + b); });
            else
                run_binary<IO>(x, [](V a, V b) { return relu_of(wrap_add(a, b)); });
            return;
        case vec_opcode::sub_relu:
            if constexpr (is_float_io<IO>)
                run_binary<IO>(x, [](V a, V b) { return relu_of(a - b); });
            else
                run_binary<IO>(x, [](V a, V b) { return relu_of(wrap_sub(a, b)); });
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
            default:
                return;
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

/// Select moves raw elements, so it only depends on the element size.
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

template <class IO>
void exec_gather_mask(const exec_plan& x) {
    const size_t n = x.active.size();
    const uint32_t* oa = x.src0_off.data();
    uint8_t* d = x.ub + x.op.dst;
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        const uint8_t* a = x.src0(r);
        for (size_t k = 0; k < n; ++k, d += IO::size) std::memcpy(d, a + oa[k], IO::size);
    }
}

template <class IO>
void exec_reduce(const exec_plan& x) {
    const size_t n = x.active.size();
    const uint32_t* oa = x.src0_off.data();
    const bool sum = x.op.op == vec_opcode::reduce_sum;
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        const uint8_t* a = x.src0(r);
        uint8_t* d = x.ub + x.op.dst + uint64_t(r) * IO::size;
        if constexpr (is_float_io<IO>) {
            // Accumulate in float in element order; fp16/bf16 round once, on the store. An
            // empty mask stores the identity (0, -inf; INT32_MIN for int32 max).
            float acc = sum ? 0.f : -std::numeric_limits<float>::infinity();
            if (sum)
                for (size_t k = 0; k < n; ++k) acc += IO::load(a + oa[k]);
            else
                for (size_t k = 0; k < n; ++k) acc = std::fmax(acc, IO::load(a + oa[k]));
            IO::store(d, acc);
        } else {
            if (sum) {
                int64_t acc = 0;  // 128 int32 values cannot overflow int64
                for (size_t k = 0; k < n; ++k) acc += IO::load(a + oa[k]);
                acc = std::clamp<int64_t>(acc, std::numeric_limits<int32_t>::min(),
                                          std::numeric_limits<int32_t>::max());
                IO::store(d, static_cast<int32_t>(acc));
            } else {
                int32_t acc = std::numeric_limits<int32_t>::min();
                for (size_t k = 0; k < n; ++k) acc = std::max(acc, IO::load(a + oa[k]));
                IO::store(d, acc);
            }
        }
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

/// One converted element. Floats round to nearest even; integers round half to even and
/// saturate; integer sources never pass through a lossy float.
template <class SI, class DI>
void cast_elem(const uint8_t* s, uint8_t* d) {
    if constexpr (is_float_io<SI>) {
        const float v = SI::load(s);
        if constexpr (is_float_io<DI>)
            DI::store(d, v);
        else if constexpr (std::is_same_v<DI, io_int32>)
            DI::store(d, saturate_round_i32(v));
        else
            DI::store(d, saturate_round_i8(v));
    } else {
        const int32_t v = SI::load(s);
        if constexpr (is_float_io<DI>)
            DI::store(d, static_cast<float>(round_significant(v, DI::precision)));
        else if constexpr (std::is_same_v<DI, io_int32>)
            DI::store(d, v);
        else
            DI::store(d, std::clamp(v, -128, 127));
    }
}

template <class SI, class DI>
void run_cast(const exec_plan& x) {
    const size_t n = x.active.size();
    const uint32_t *od = x.dst_off.data(), *oa = x.src0_off.data();
    for (uint32_t r = 0; r < x.op.repeats; ++r) {
        uint8_t* d = x.dst(r);
        const uint8_t* a = x.src0(r);
        for (size_t k = 0; k < n; ++k) cast_elem<SI, DI>(a + oa[k], d + od[k]);
    }
}

void exec_cast(const exec_plan& x) {
    with_io(x.op.type, [&](auto si) {
        with_io(x.op.dst_type, [&](auto di) { run_cast<decltype(si), decltype(di)>(x); });
    });
}

}  // namespace

vector_unit::vector_unit(std::string name, const vector_costs& costs, uint64_t ub_size)
    : m_name(std::move(name)), m_costs(costs), m_ub_size(ub_size) {}

namespace {

const vector_instr_cost& cost_row(const vector_costs& costs, const vector_op& op) {
    const unsigned src = dtype_size(op.type);
    const unsigned dst = op.op == vec_opcode::cast ? dtype_size(op.dst_type) : src;
    return costs.instr[static_cast<size_t>(op.op)][vector_costs::width_slot(src, dst)];
}

}  // namespace

uint64_t vector_unit::work_cycles(const vector_op& op) const {
    const vector_instr_cost& row = cost_row(m_costs, op);
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
    const uint32_t floor = cost_row(m_costs, op).issue_cycles;
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
    if (o == vec_opcode::transpose) {
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
    const bool cast = o == vec_opcode::cast;
    const unsigned src_size = dtype_size(op.type);
    const unsigned dst_size = cast ? dtype_size(op.dst_type) : src_size;
    // A cast covers as many elements per repeat as its wider side fits in 256 bytes.
    const unsigned elem = std::max(src_size, dst_size);
    exec_plan x(op, ub);
    x.elems = unsigned(repeat_bytes / elem);
    x.per_block = unsigned(block_bytes / elem);
    for (unsigned i = 0; i < x.elems; ++i)
        if (i < 64 ? (op.mask_lo >> i) & 1 : (op.mask_hi >> (i - 64)) & 1) x.active.push_back(i);

    // Bytes past the base an operand touches over all repeats (0 when the mask is empty).
    // Each operand packs its own 32-byte blocks (32/size elements), so a cast's narrow side
    // stays contiguous with a block stride of 1.
    auto strided_extent = [&](uint16_t blk, uint16_t rep, unsigned size) -> uint64_t {
        const unsigned per_block = unsigned(block_bytes / size);
        uint64_t last = 0;
        bool any = false;
        for (uint32_t idx : x.active) {
            const uint64_t off =
                uint64_t(idx / per_block) * blk * block_bytes + (idx % per_block) * size;
            last = std::max(last, off + size);
            any = true;
        }
        return any ? uint64_t(op.repeats - 1) * rep * block_bytes + last : 0;
    };
    auto check = [&](const char* name, uint64_t base, uint64_t extent) {
        if (base % block_bytes != 0)
            fault(base, std::string(name) + " address " + hex(base) + " is not 32-byte aligned");
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

    // dst
    const uint64_t brcb_src = uint64_t(op.repeats) * 8 * src_size;
    const uint64_t brcb_dst = uint64_t(op.repeats - 1) * op.dst_rep_stride * block_bytes +
                              uint64_t(7) * op.dst_blk_stride * block_bytes + block_bytes;
    if (o == vec_opcode::cmp)
        check("dst", op.dst, bit_bytes);
    else if (o == vec_opcode::brcb)
        check("dst", op.dst, brcb_dst);
    else if (is_reduce(o))
        check("dst", op.dst, uint64_t(op.repeats) * dst_size);
    else if (o == vec_opcode::gather_mask)
        check("dst", op.dst, uint64_t(op.repeats) * x.active.size() * dst_size);
    else
        check("dst", op.dst, strided_extent(op.dst_blk_stride, op.dst_rep_stride, dst_size));
    // src0
    if (o == vec_opcode::brcb)
        check("src0", op.src0, brcb_src);
    else if (o != vec_opcode::dup)
        check("src0", op.src0, strided_extent(op.src0_blk_stride, op.src0_rep_stride, src_size));
    // src1 and the select mask
    if (is_binary(o) || o == vec_opcode::cmp || o == vec_opcode::select)
        check("src1", op.src1, strided_extent(op.src1_blk_stride, op.src1_rep_stride, src_size));
    if (o == vec_opcode::select) check("mask", op.mask_addr, bit_bytes);

    if (!functional) return;

    x.dst_off = offsets(x.active, unsigned(block_bytes / dst_size), op.dst_blk_stride, dst_size);
    x.src0_off = offsets(x.active, unsigned(block_bytes / src_size), op.src0_blk_stride, src_size);
    x.src1_off = offsets(x.active, unsigned(block_bytes / src_size), op.src1_blk_stride, src_size);

    if (cast) {
        exec_cast(x);
        return;
    }
    if (o == vec_opcode::select || o == vec_opcode::brcb) {
        const bool sel = o == vec_opcode::select;
        if (src_size == 4)
            sel ? exec_select<4>(x) : exec_brcb<4>(x);
        else
            sel ? exec_select<2>(x) : exec_brcb<2>(x);
        return;
    }
    with_io(op.type, [&](auto io) {
        using IO = decltype(io);
        if constexpr (!std::is_same_v<IO, io_int8>) {
            if (is_binary(o))
                exec_binary<IO>(x);
            else if (is_scalar_op(o))
                exec_scalar<IO>(x);
            else if (is_unary(o))
                exec_unary<IO>(x);
            else if (o == vec_opcode::cmp)
                exec_cmp<IO>(x);
            else if (o == vec_opcode::dup)
                exec_dup<IO>(x);
            else if (is_reduce(o))
                exec_reduce<IO>(x);
            else if (o == vec_opcode::gather_mask)
                exec_gather_mask<IO>(x);
        }
    });
}

}  // namespace npusim::models
