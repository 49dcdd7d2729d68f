// Vector unit: every opcode and dtype against plain CPU references written here from the
// instruction semantics (element idx of repeat r lives at
// base + r*rep_stride*32 + (idx/B)*blk_stride*32 + (idx%B)*size), conversions against an
// independent rounding, closed-form cycle counts and the fault messages.
//
// Tolerances:
// - fp32 add/sub/mul/div/max/min, scalar ops, relu/abs/sqrt: bitwise equal to the float result.
// - fp16/bf16 arithmetic (same ops): bitwise equal to the float result rounded with
//   float_to_half / float_to_bf16.
// - exp/ln/rsqrt/tanh/sigmoid: fp32 within relative 1e-6 of the double result; fp16/bf16 within
//   1 ulp of the double result rounded to the type.
// - reduce_sum: float types within 1e-5 * sum|x| (fp32 accumulation of up to 128 terms) plus
//   1 ulp of the type; int32 exact (saturating). reduce_max, cmp, select, dup, cast: exact.
// - int32 everything exact (two's complement wrap-around for add/sub/mul/abs).
// - gather_mask: exact (a copy).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "models/common/model_fault.h"
#include "models/core/dtype.h"
#include "models/core/vector_unit.h"

using namespace npusim::models;

namespace {

constexpr uint64_t ub_size = 256 * 1024;
constexpr uint64_t at_src0 = 0x0, at_src1 = 0x10000, at_dst = 0x20000, at_mask = 0x30000;
const dtype all_types[] = {dtype::fp32, dtype::fp16, dtype::bf16, dtype::int32, dtype::int8};

unsigned size_of(dtype t) {
    return t == dtype::fp32 || t == dtype::int32 ? 4 : t == dtype::int8 ? 1 : 2;
}
bool floating(dtype t) {
    return t == dtype::fp32 || t == dtype::fp16 || t == dtype::bf16;
}

// ---- independent number formats ----

double decode_half(uint16_t h) {
    const int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0    ? std::ldexp(m, -24)
               : e == 31 ? (m ? std::numeric_limits<double>::quiet_NaN() : INFINITY)
                         : std::ldexp(1024 + m, e - 25);
    return (h & 0x8000) ? -v : v;
}

double decode_bf16(uint16_t b) {
    const uint32_t u = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

/// A binary float format: p significant bits, smallest normal exponent, largest finite value.
struct format {
    int p;
    int emin;
    double max_finite;
};
const format fmt_fp32{24, -126, FLT_MAX};
const format fmt_fp16{11, -14, 65504.0};
const format fmt_bf16{8, -126, std::ldexp(255.0, 120)};
const format& format_of(dtype t) {
    return t == dtype::fp32 ? fmt_fp32 : t == dtype::fp16 ? fmt_fp16 : fmt_bf16;
}

/// Rounds an exact double to the format, nearest even, with subnormals and overflow to inf.
double round_to(const format& f, double x) {
    if (x == 0 || !std::isfinite(x)) return x;
    int e;
    std::frexp(std::fabs(x), &e);  // |x| = m * 2^e, m in [0.5, 1)
    const double q = std::ldexp(1.0, std::max(e - 1, f.emin) - (f.p - 1));
    const double r = std::nearbyint(x / q) * q;
    return std::fabs(r) > f.max_finite ? std::copysign(INFINITY, x) : r;
}

double ulp_at(dtype t, double v) {
    const format& f = format_of(t);
    int e;
    std::frexp(std::fabs(v), &e);
    return std::ldexp(1.0, std::max(e - 1, f.emin) - (f.p - 1));
}

// ---- raw element access in the UB image ----

uint32_t get_raw(const std::vector<uint8_t>& ub, uint64_t addr, dtype t) {
    uint32_t v = 0;
    std::memcpy(&v, ub.data() + addr, size_of(t));
    return v;
}
void put_raw(std::vector<uint8_t>& ub, uint64_t addr, dtype t, uint32_t v) {
    std::memcpy(ub.data() + addr, &v, size_of(t));
}

/// Exact value of a raw element.
double value_of(dtype t, uint32_t raw) {
    switch (t) {
        case dtype::fp32: {
            float f;
            std::memcpy(&f, &raw, 4);
            return f;
        }
        case dtype::fp16:
            return decode_half(uint16_t(raw));
        case dtype::bf16:
            return decode_bf16(uint16_t(raw));
        case dtype::int32:
            return int32_t(raw);
        case dtype::int8:
            return int8_t(uint8_t(raw));
        default:  // the later dtypes: tests/models/test_vector_extended.cpp
            BOOST_FAIL("value_of: not one of the first five dtypes");
    }
    return 0;
}

/// A float result rounded to a float type, as the reference for "compute in float, round on
/// store".
uint32_t encode(dtype t, float v) {
    switch (t) {
        case dtype::fp32: {
            uint32_t u;
            std::memcpy(&u, &v, 4);
            return u;
        }
        case dtype::fp16:
            return float_to_half(v);
        case dtype::bf16:
            return float_to_bf16(v);
        default:
            BOOST_FAIL("encode: not a float type");
    }
    return 0;
}

/// Round half to even and saturate, the integer conversion rule.
int64_t to_int(double v, int64_t lo, int64_t hi) {
    if (std::isnan(v)) return 0;
    const double r = std::nearbyint(v);
    return r < double(lo) ? lo : r > double(hi) ? hi : int64_t(r);
}

/// Raw bits of v converted exactly as a cast to t would (independent reference).
uint32_t convert_ref(dtype t, double v) {
    switch (t) {
        case dtype::fp32:
            return encode(t, float(round_to(fmt_fp32, v)));
        case dtype::fp16:
            return encode(t, float(round_to(fmt_fp16, v)));
        case dtype::bf16:
            return encode(t, float(round_to(fmt_bf16, v)));
        case dtype::int32:
            return uint32_t(int32_t(to_int(v, INT32_MIN, INT32_MAX)));
        case dtype::int8:
            return uint8_t(int8_t(to_int(v, -128, 127)));
        default:  // the later dtypes: tests/models/test_vector_extended.cpp
            BOOST_FAIL("convert_ref: not one of the first five dtypes");
    }
    return 0;
}

// ---- instruction geometry, straight from the semantics ----

uint64_t addr_of(uint64_t base, uint32_t r, unsigned idx, unsigned per_block, uint16_t blk,
                 uint16_t rep, unsigned size) {
    return base + uint64_t(r) * rep * 32 + uint64_t(idx / per_block) * blk * 32 +
           (idx % per_block) * size;
}

bool bit_of(uint64_t lo, uint64_t hi, unsigned idx) {
    return idx < 64 ? (lo >> idx) & 1 : (hi >> (idx - 64)) & 1;
}

std::pair<uint64_t, uint64_t> first_n(unsigned n) {
    const uint64_t lo = n >= 64 ? ~0ull : (1ull << n) - 1;
    const uint64_t hi = n >= 128 ? ~0ull : n > 64 ? (1ull << (n - 64)) - 1 : 0;
    return {lo, hi};
}

/// Repeats, mask and strides of one test run.
struct layout {
    const char* name;
    uint32_t repeats;
    uint64_t lo, hi;
    uint16_t blk_d, blk_0, blk_1, rep_d, rep_0, rep_1;
};

std::vector<layout> layouts() {
    const auto m77 = first_n(77), m45 = first_n(45);
    return {
        {"rep3_first77", 3, m77.first, m77.second, 1, 1, 1, 8, 8, 8},
        {"rep255_full", 255, ~0ull, ~0ull, 1, 1, 1, 8, 8, 8},
        {"rep3_sparse_strided", 3, 0xF0F0F0F0F0F0F0F3ull, 0x00FF00FF00FF00FFull, 2, 3, 1, 17, 25,
         9},
        {"rep5_first45", 5, m45.first, m45.second, 1, 1, 1, 8, 8, 8},
    };
}

void apply(vector_op& op, const layout& l) {
    op.repeats = l.repeats;
    op.mask_lo = l.lo;
    op.mask_hi = l.hi;
    op.dst_blk_stride = l.blk_d;
    op.src0_blk_stride = l.blk_0;
    op.src1_blk_stride = l.blk_1;
    op.dst_rep_stride = l.rep_d;
    op.src0_rep_stride = l.rep_0;
    op.src1_rep_stride = l.rep_1;
    op.dst = at_dst;
    op.src0 = at_src0;
    op.src1 = at_src1;
    op.mask_addr = at_mask;
}

std::vector<uint8_t> random_ub(std::mt19937& rng) {
    std::vector<uint8_t> ub(ub_size);
    for (auto& b : ub) b = uint8_t(rng());
    return ub;
}

vector_unit make_unit() {
    return vector_unit("vec0", vector_costs{}, ub_size);
}

/// Counts mismatches and keeps the first few descriptions, to fail once per run, readably.
struct mismatches {
    int count = 0;
    std::string first;
    template <class F>
    void check(bool ok, F describe) {
        if (ok) return;
        if (++count <= 3) first += describe() + "; ";
    }
};

std::string hex(uint64_t v) {
    std::ostringstream s;
    s << "0x" << std::hex << v;
    return s.str();
}

/// Random source value of a type, returned as raw bits.
using gen_fn = std::function<uint32_t(std::mt19937&)>;

gen_fn uniform(dtype t, double lo, double hi) {
    return [=](std::mt19937& rng) -> uint32_t {
        const double v = std::uniform_real_distribution<double>(lo, hi)(rng);
        if (t == dtype::int32) return uint32_t(int32_t(std::llround(v)));
        return encode(t, float(v));
    };
}

gen_fn any_int32() {
    return [](std::mt19937& rng) -> uint32_t { return uint32_t(rng()); };
}

enum class tol { exact, approx };

/// approx: fp32 relative 1e-6, fp16/bf16 1 ulp.
bool close(dtype t, uint32_t got, uint32_t want, tol k) {
    if (got == want) return true;
    if (k == tol::exact) return false;
    const double g = value_of(t, got), w = value_of(t, want);
    if (std::isnan(g) || std::isnan(w)) return std::isnan(g) && std::isnan(w);
    if (t == dtype::fp32) return std::fabs(g - w) <= 1e-6 * std::fabs(w);
    return std::fabs(g - w) <= ulp_at(t, std::max(std::fabs(g), std::fabs(w)));
}

/// Runs one elementwise op (dst from src0 and, for nsrc 2, src1) over every layout and checks
/// each enabled element against `expect(a, b)` and that nothing else in UB changed.
void check_elementwise(vector_op op, int nsrc, gen_fn gen0, gen_fn gen1,
                       std::function<uint32_t(uint32_t, uint32_t)> expect, tol k,
                       uint32_t seed = 1) {
    const vector_unit vu = make_unit();
    const unsigned s = size_of(op.type), E = 256 / s, B = 32 / s;
    for (const layout& l : layouts()) {
        std::mt19937 rng(seed);
        std::vector<uint8_t> ub = random_ub(rng);
        apply(op, l);
        for (uint32_t r = 0; r < l.repeats; ++r)
            for (unsigned i = 0; i < E; ++i) {
                put_raw(ub, addr_of(at_src0, r, i, B, l.blk_0, l.rep_0, s), op.type, gen0(rng));
                if (nsrc == 2)
                    put_raw(ub, addr_of(at_src1, r, i, B, l.blk_1, l.rep_1, s), op.type, gen1(rng));
            }
        std::vector<uint8_t> want = ub;
        vu.execute(op, ub.data(), true);
        mismatches bad;
        for (uint32_t r = 0; r < l.repeats; ++r)
            for (unsigned i = 0; i < E; ++i) {
                if (!bit_of(l.lo, l.hi, i)) continue;
                const uint64_t d = addr_of(at_dst, r, i, B, l.blk_d, l.rep_d, s);
                const uint32_t a =
                    get_raw(want, addr_of(at_src0, r, i, B, l.blk_0, l.rep_0, s), op.type);
                const uint32_t b =
                    nsrc == 2
                        ? get_raw(want, addr_of(at_src1, r, i, B, l.blk_1, l.rep_1, s), op.type)
                        : 0;
                const uint32_t got = get_raw(ub, d, op.type), exp = expect(a, b);
                bad.check(close(op.type, got, exp, k), [&] {
                    return "r" + std::to_string(r) + " i" + std::to_string(i) + " a=" + hex(a) +
                           " b=" + hex(b) + " got " + hex(got) + " want " + hex(exp);
                });
                put_raw(want, d, op.type, got);
            }
        BOOST_CHECK_MESSAGE(bad.count == 0, op.describe() << " [" << l.name << "]: " << bad.count
                                                          << " wrong elements: " << bad.first);
        BOOST_CHECK_MESSAGE(want == ub, op.describe() << " [" << l.name
                                                      << "]: bytes outside enabled dst elements "
                                                         "changed");
    }
}

float fval(dtype t, uint32_t raw) {
    return float(value_of(t, raw));
}

vector_op make(vec_opcode o, dtype t) {
    vector_op op;
    op.op = o;
    op.type = t;
    op.dst_type = t;
    return op;
}

// ---- per-dtype suites ----

void binary_suite(dtype t) {
    const std::pair<vec_opcode, std::function<float(float, float)>> float_ops[] = {
        {vec_opcode::add, [](float a, float b) { return a + b; }},
        {vec_opcode::sub, [](float a, float b) { return a - b; }},
        {vec_opcode::mul, [](float a, float b) { return a * b; }},
        {vec_opcode::div, [](float a, float b) { return a / b; }},
        {vec_opcode::max, [](float a, float b) { return a > b ? a : b; }},
        {vec_opcode::min, [](float a, float b) { return a < b ? a : b; }},
        {vec_opcode::add_relu, [](float a, float b) { return std::max(a + b, 0.f); }},
        {vec_opcode::sub_relu, [](float a, float b) { return std::max(a - b, 0.f); }},
    };
    if (floating(t)) {
        for (const auto& [o, f] : float_ops) {
            // Divisors away from zero; a random sign.
            gen_fn g1 = o == vec_opcode::div ? gen_fn([t](std::mt19937& rng) {
                const double m = std::uniform_real_distribution<>(0.5, 50)(rng);
                return encode(t, float(rng() & 1 ? m : -m));
            })
                                             : uniform(t, -100, 100);
            check_elementwise(
                make(o, t), 2, uniform(t, -100, 100), g1,
                [t, f = f](uint32_t a, uint32_t b) { return encode(t, f(fval(t, a), fval(t, b))); },
                tol::exact);
        }
        return;
    }
    // int32: two's complement wrap-around, computed in 64 bits and truncated.
    const std::pair<vec_opcode, std::function<int64_t(int64_t, int64_t)>> int_ops[] = {
        {vec_opcode::add, [](int64_t a, int64_t b) { return a + b; }},
        {vec_opcode::sub, [](int64_t a, int64_t b) { return a - b; }},
        {vec_opcode::mul, [](int64_t a, int64_t b) { return a * b; }},
        {vec_opcode::max, [](int64_t a, int64_t b) { return a > b ? a : b; }},
        {vec_opcode::min, [](int64_t a, int64_t b) { return a < b ? a : b; }},
        // The fused relu clamps the wrapped result.
        {vec_opcode::add_relu,
         [](int64_t a, int64_t b) { return std::max<int64_t>(int32_t(uint32_t(a + b)), 0); }},
        {vec_opcode::sub_relu,
         [](int64_t a, int64_t b) { return std::max<int64_t>(int32_t(uint32_t(a - b)), 0); }},
    };
    for (const auto& [o, f] : int_ops)
        check_elementwise(
            make(o, t), 2, any_int32(), any_int32(),
            [f = f](uint32_t a, uint32_t b) { return uint32_t(f(int32_t(a), int32_t(b))); },
            tol::exact);
}

void scalar_suite(dtype t) {
    if (floating(t)) {
        // 3.3 is not exact in any of the types: the scalar is rounded to the type first.
        const float sc = 3.3f;
        const float sr = float(value_of(t, encode(t, sc)));
        const std::pair<vec_opcode, std::function<float(float)>> ops[] = {
            {vec_opcode::adds, [sr](float a) { return a + sr; }},
            {vec_opcode::muls, [sr](float a) { return a * sr; }},
            {vec_opcode::maxs, [sr](float a) { return a > sr ? a : sr; }},
            {vec_opcode::mins, [sr](float a) { return a < sr ? a : sr; }},
            {vec_opcode::lrelu, [sr](float a) { return a >= 0 ? a : a * sr; }},
        };
        for (const auto& [o, f] : ops) {
            vector_op op = make(o, t);
            op.scalar = sc;
            check_elementwise(
                op, 1, uniform(t, -10, 10), nullptr,
                [t, f = f](uint32_t a, uint32_t) { return encode(t, f(fval(t, a))); }, tol::exact);
        }
        return;
    }
    // int32: the scalar converts half to even (-7.5 -> -8).
    const int64_t sr = -8;
    const std::pair<vec_opcode, std::function<int64_t(int64_t)>> ops[] = {
        {vec_opcode::adds, [](int64_t a) { return a + sr; }},
        {vec_opcode::muls, [](int64_t a) { return a * sr; }},
        {vec_opcode::maxs, [](int64_t a) { return a > sr ? a : sr; }},
        {vec_opcode::mins, [](int64_t a) { return a < sr ? a : sr; }},
    };
    for (const auto& [o, f] : ops) {
        vector_op op = make(o, t);
        op.scalar = -7.5f;
        // Mostly small values so max/min pick both sides; some full-range ones for wrap-around.
        gen_fn g = [](std::mt19937& rng) {
            return rng() % 4 == 0 ? uint32_t(rng()) : uint32_t(int32_t(rng() % 41) - 20);
        };
        check_elementwise(
            op, 1, g, nullptr, [f = f](uint32_t a, uint32_t) { return uint32_t(f(int32_t(a))); },
            tol::exact);
    }
}

void unary_suite(dtype t) {
    if (!floating(t)) {
        check_elementwise(
            make(vec_opcode::relu, t), 1, any_int32(), nullptr,
            [](uint32_t a, uint32_t) { return int32_t(a) > 0 ? a : 0u; }, tol::exact);
        check_elementwise(
            make(vec_opcode::abs, t), 1, any_int32(), nullptr,
            [](uint32_t a, uint32_t) { return uint32_t(std::llabs(int64_t(int32_t(a)))); },
            tol::exact);
        return;
    }
    struct unary {
        vec_opcode op;
        double lo, hi;
        std::function<double(double)> f;
        tol k;
    };
    const unary ops[] = {
        {vec_opcode::relu, -10, 10, [](double x) { return x > 0 ? x : 0; }, tol::exact},
        {vec_opcode::abs, -10, 10, [](double x) { return std::fabs(x); }, tol::exact},
        // Double-rounding through double is innocuous for sqrt (53 >= 2*24+2): exact.
        {vec_opcode::sqrt, 0.001, 1000, [](double x) { return std::sqrt(x); }, tol::exact},
        {vec_opcode::exp, -8, 8, [](double x) { return std::exp(x); }, tol::approx},
        {vec_opcode::ln, 0.001, 1000, [](double x) { return std::log(x); }, tol::approx},
        {vec_opcode::rsqrt, 0.001, 1000, [](double x) { return 1 / std::sqrt(x); }, tol::approx},
        // Correctly rounded in float, then rounded once more to 16 bits: exact (24 >= 2*11+2).
        {vec_opcode::rec, -100, 100, [](double x) { return 1 / x; }, tol::exact},
        {vec_opcode::tanh, -5, 5, [](double x) { return std::tanh(x); }, tol::approx},
        {vec_opcode::sigmoid, -10, 10, [](double x) { return 1 / (1 + std::exp(-x)); },
         tol::approx},
    };
    for (const unary& u : ops)
        check_elementwise(
            make(u.op, t), 1, uniform(t, u.lo, u.hi), nullptr,
            [t, f = u.f](uint32_t a, uint32_t) { return encode(t, float(f(value_of(t, a)))); },
            u.k);
}

void cmp_suite(dtype t) {
    const vector_unit vu = make_unit();
    const unsigned s = size_of(t), E = 256 / s, B = 32 / s;
    const std::pair<cmp_mode, std::function<bool(double, double)>> modes[] = {
        {cmp_mode::lt, [](double a, double b) { return a < b; }},
        {cmp_mode::gt, [](double a, double b) { return a > b; }},
        {cmp_mode::le, [](double a, double b) { return a <= b; }},
        {cmp_mode::ge, [](double a, double b) { return a >= b; }},
        {cmp_mode::eq, [](double a, double b) { return a == b; }},
        {cmp_mode::ne, [](double a, double b) { return a != b; }},
    };
    const gen_fn g = t == dtype::int32 ? any_int32() : uniform(t, -100, 100);
    for (const auto& [mode, f] : modes)
        for (const layout& l : layouts()) {
            std::mt19937 rng(7);
            std::vector<uint8_t> ub = random_ub(rng);
            vector_op op = make(vec_opcode::cmp, t);
            op.cmp = mode;
            apply(op, l);
            for (uint32_t r = 0; r < l.repeats; ++r)
                for (unsigned i = 0; i < E; ++i) {
                    const uint32_t a = g(rng), b = rng() % 4 == 0 ? a : g(rng);  // some equal
                    put_raw(ub, addr_of(at_src0, r, i, B, l.blk_0, l.rep_0, s), t, a);
                    put_raw(ub, addr_of(at_src1, r, i, B, l.blk_1, l.rep_1, s), t, b);
                }
            std::vector<uint8_t> want = ub;
            vu.execute(op, ub.data(), true);
            mismatches bad;
            for (uint32_t r = 0; r < l.repeats; ++r) {
                const uint64_t bits = at_dst + uint64_t(r) * (E / 8);
                for (unsigned i = 0; i < E; ++i) {
                    const double a = value_of(
                        t, get_raw(want, addr_of(at_src0, r, i, B, l.blk_0, l.rep_0, s), t));
                    const double b = value_of(
                        t, get_raw(want, addr_of(at_src1, r, i, B, l.blk_1, l.rep_1, s), t));
                    const bool exp = bit_of(l.lo, l.hi, i) && f(a, b);
                    const bool got = (ub[bits + i / 8] >> (i % 8)) & 1;
                    bad.check(got == exp, [&] {
                        return "r" + std::to_string(r) + " i" + std::to_string(i) + " got " +
                               std::to_string(got);
                    });
                }
                std::memcpy(want.data() + bits, ub.data() + bits, E / 8);
            }
            BOOST_CHECK_MESSAGE(bad.count == 0, op.describe()
                                                    << " [" << l.name << "]: " << bad.count
                                                    << " wrong bits: " << bad.first);
            BOOST_CHECK_MESSAGE(
                want == ub, op.describe() << " [" << l.name << "]: bytes outside the mask changed");
        }
}

void select_suite(dtype t) {
    const vector_unit vu = make_unit();
    const unsigned s = size_of(t), E = 256 / s, B = 32 / s;
    for (const layout& l : layouts()) {
        std::mt19937 rng(11);
        std::vector<uint8_t> ub = random_ub(rng);  // random bytes also make the select mask
        vector_op op = make(vec_opcode::select, t);
        apply(op, l);
        std::vector<uint8_t> want = ub;
        vu.execute(op, ub.data(), true);
        mismatches bad;
        for (uint32_t r = 0; r < l.repeats; ++r)
            for (unsigned i = 0; i < E; ++i) {
                if (!bit_of(l.lo, l.hi, i)) continue;
                const bool pick0 = (want[at_mask + r * (E / 8) + i / 8] >> (i % 8)) & 1;
                const uint32_t exp =
                    pick0 ? get_raw(want, addr_of(at_src0, r, i, B, l.blk_0, l.rep_0, s), t)
                          : get_raw(want, addr_of(at_src1, r, i, B, l.blk_1, l.rep_1, s), t);
                const uint64_t d = addr_of(at_dst, r, i, B, l.blk_d, l.rep_d, s);
                const uint32_t got = get_raw(ub, d, t);
                bad.check(got == exp, [&] {
                    return "r" + std::to_string(r) + " i" + std::to_string(i) + " got " + hex(got) +
                           " want " + hex(exp);
                });
                put_raw(want, d, t, got);
            }
        BOOST_CHECK_MESSAGE(bad.count == 0, op.describe() << " [" << l.name << "]: " << bad.count
                                                          << " " << bad.first);
        BOOST_CHECK_MESSAGE(want == ub, op.describe()
                                            << " [" << l.name << "]: other bytes changed");
    }
}

void reduce_suite(dtype t) {
    const vector_unit vu = make_unit();
    const unsigned s = size_of(t), E = 256 / s, B = 32 / s;
    const gen_fn g = t == dtype::int32 ? uniform(t, -1e6, 1e6) : uniform(t, -100, 100);
    for (vec_opcode o : {vec_opcode::reduce_sum, vec_opcode::reduce_max})
        for (const layout& l : layouts()) {
            std::mt19937 rng(5);
            std::vector<uint8_t> ub = random_ub(rng);
            vector_op op = make(o, t);
            apply(op, l);
            for (uint32_t r = 0; r < l.repeats; ++r)
                for (unsigned i = 0; i < E; ++i)
                    put_raw(ub, addr_of(at_src0, r, i, B, l.blk_0, l.rep_0, s), t, g(rng));
            std::vector<uint8_t> want = ub;
            vu.execute(op, ub.data(), true);
            mismatches bad;
            for (uint32_t r = 0; r < l.repeats; ++r) {
                double sum = 0, sum_abs = 0, mx = -INFINITY;
                for (unsigned i = 0; i < E; ++i) {
                    if (!bit_of(l.lo, l.hi, i)) continue;
                    const double v = value_of(
                        t, get_raw(want, addr_of(at_src0, r, i, B, l.blk_0, l.rep_0, s), t));
                    sum += v;
                    sum_abs += std::fabs(v);
                    mx = std::max(mx, v);
                }
                const uint64_t d = at_dst + uint64_t(r) * s;
                const uint32_t got_raw = get_raw(ub, d, t);
                const double got = value_of(t, got_raw);
                bool ok;
                if (o == vec_opcode::reduce_max)
                    ok = got == mx;
                else if (t == dtype::int32)
                    ok = got == sum;  // exact: |sum| < 2^31 here
                else
                    ok = std::fabs(got - sum) <= 1e-5 * sum_abs + ulp_at(t, sum);
                bad.check(ok, [&] {
                    return "r" + std::to_string(r) + " got " + std::to_string(got) + " sum " +
                           std::to_string(sum) + " max " + std::to_string(mx);
                });
                put_raw(want, d, t, got_raw);
            }
            BOOST_CHECK_MESSAGE(bad.count == 0, op.describe()
                                                    << " [" << l.name << "]: " << bad.first);
            BOOST_CHECK_MESSAGE(want == ub, op.describe() << " [" << l.name
                                                          << "]: bytes past dst[repeats] changed");
        }
}

/// Source values for casts: ties, out-of-range and large integers as well as ordinary ones.
uint32_t cast_source(dtype t, std::mt19937& rng) {
    const unsigned pick = rng() % 6;
    if (t == dtype::int8) return uint8_t(rng());
    if (t == dtype::int32) {
        switch (pick) {
            case 0:
                return uint32_t(rng());
            case 1:
                return uint32_t(int32_t(rng() % 601) - 300);
            case 2:  // large: rounding in fp32/bf16/fp16 (and avoid double rounding)
                return uint32_t(int32_t((rng() % (1u << 30)) + (1u << 24)) * (rng() & 1 ? 1 : -1));
            default:
                return uint32_t(int32_t(rng() % 200001) - 100000);
        }
    }
    double v;
    switch (pick) {
        case 0:
            v = int(rng() % 301) - 150 + 0.5;
            break;  // ties for the integer casts
        case 1:
            v = std::uniform_real_distribution<>(-3e9, 3e9)(rng);
            break;  // saturation
        case 2:
            v = std::uniform_real_distribution<>(-1e-5, 1e-5)(rng);
            break;  // fp16 subnormal
        case 3:
            v = std::uniform_real_distribution<>(-70000, 70000)(rng);
            break;  // fp16 overflow
        default:
            v = std::uniform_real_distribution<>(-300, 300)(rng);
            break;
    }
    return encode(t, float(v));
}

void cast_pair(dtype from, dtype to) {
    const vector_unit vu = make_unit();
    const unsigned ss = size_of(from), ds = size_of(to);
    // Each side packs its own 32-byte blocks: 32/ss source and 32/ds destination elements.
    const unsigned E = 256 / std::max(ss, ds), Bs = 32 / ss, Bd = 32 / ds;
    for (const layout& l : layouts()) {
        std::mt19937 rng(3);
        std::vector<uint8_t> ub = random_ub(rng);
        vector_op op = make(vec_opcode::cast, from);
        op.dst_type = to;
        apply(op, l);
        for (uint32_t r = 0; r < l.repeats; ++r)
            for (unsigned i = 0; i < E; ++i)
                put_raw(ub, addr_of(at_src0, r, i, Bs, l.blk_0, l.rep_0, ss), from,
                        cast_source(from, rng));
        std::vector<uint8_t> want = ub;
        vu.execute(op, ub.data(), true);
        mismatches bad;
        for (uint32_t r = 0; r < l.repeats; ++r)
            for (unsigned i = 0; i < E; ++i) {
                if (!bit_of(l.lo, l.hi, i)) continue;
                const uint32_t a =
                    get_raw(want, addr_of(at_src0, r, i, Bs, l.blk_0, l.rep_0, ss), from);
                const uint64_t d = addr_of(at_dst, r, i, Bd, l.blk_d, l.rep_d, ds);
                const uint32_t got = get_raw(ub, d, to), exp = convert_ref(to, value_of(from, a));
                bad.check(got == exp, [&] {
                    return "r" + std::to_string(r) + " i" + std::to_string(i) + " src " + hex(a) +
                           " got " + hex(got) + " want " + hex(exp);
                });
                put_raw(want, d, to, got);
            }
        BOOST_CHECK_MESSAGE(bad.count == 0, op.describe() << " [" << l.name << "]: " << bad.count
                                                          << " wrong: " << bad.first);
        BOOST_CHECK_MESSAGE(want == ub, op.describe()
                                            << " [" << l.name << "]: other bytes changed");
    }
}

/// Casts n values with one repeat and returns the raw results.
std::vector<uint32_t> cast_values(dtype from, dtype to, const std::vector<uint32_t>& src,
                                  round_mode mode = round_mode::rint) {
    const vector_unit vu = make_unit();
    std::vector<uint8_t> ub(ub_size);
    const unsigned ss = size_of(from), ds = size_of(to);
    vector_op op = make(vec_opcode::cast, from);
    op.dst_type = to;
    op.round = mode;
    apply(op, layouts()[0]);
    op.repeats = 1;
    const auto m = first_n(unsigned(src.size()));
    op.mask_lo = m.first;
    op.mask_hi = m.second;
    for (unsigned i = 0; i < src.size(); ++i)
        put_raw(ub, addr_of(at_src0, 0, i, 32 / ss, 1, 8, ss), from, src[i]);
    vu.execute(op, ub.data(), true);
    std::vector<uint32_t> out;
    for (unsigned i = 0; i < src.size(); ++i)
        out.push_back(get_raw(ub, addr_of(at_dst, 0, i, 32 / ds, 1, 8, ds), to));
    return out;
}

uint32_t f32(float f) {
    return encode(dtype::fp32, f);
}

/// Expects execute() to throw a model_fault with exactly this unit, address and text.
void expect_fault(const vector_op& op, uint64_t address, const std::string& what,
                  bool functional = true) {
    const vector_unit vu = make_unit();
    std::vector<uint8_t> ub(ub_size, 0x5a);
    const std::vector<uint8_t> before = ub;
    try {
        vu.execute(op, ub.data(), functional);
        BOOST_ERROR("no fault for " << op.describe() << ", expected: " << what);
    } catch (const model_fault& e) {
        BOOST_CHECK_EQUAL(e.unit(), "vec0");
        BOOST_CHECK_EQUAL(e.address(), address);
        BOOST_CHECK_EQUAL(e.instruction(), op.describe());
        BOOST_CHECK_EQUAL(std::string(e.what()),
                          "vec0: " + what + " (instruction: " + op.describe() + ")");
    }
    BOOST_CHECK_MESSAGE(before == ub, "a faulting instruction wrote UB");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(vector)

BOOST_AUTO_TEST_CASE(dtype_known_values) {
    BOOST_CHECK_EQUAL(float_to_half(1.0f), 0x3c00);
    BOOST_CHECK_EQUAL(float_to_half(-2.0f), 0xc000);
    BOOST_CHECK_EQUAL(float_to_half(65504.0f), 0x7bff);
    BOOST_CHECK_EQUAL(float_to_half(65519.996f), 0x7bff);             // just below the overflow tie
    BOOST_CHECK_EQUAL(float_to_half(65520.0f), 0x7c00);               // tie, rounds to even = inf
    BOOST_CHECK_EQUAL(float_to_half(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
    BOOST_CHECK_EQUAL(float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // tie to even: 0
    BOOST_CHECK_EQUAL(float_to_half(std::ldexp(1.5f, -25)), 0x0001);  // above the tie
    BOOST_CHECK_EQUAL(float_to_half(std::ldexp(3.0f, -25)), 0x0002);  // tie 1.5 -> 2
    BOOST_CHECK_EQUAL(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
    BOOST_CHECK_EQUAL(float_to_half(1.0f + std::ldexp(3.0f, -11)), 0x3c02);  // tie to even
    BOOST_CHECK_EQUAL(half_to_float(0x0001), std::ldexp(1.0f, -24));
    BOOST_CHECK_EQUAL(half_to_float(0x7bff), 65504.0f);
    BOOST_CHECK(std::isinf(half_to_float(0x7c00)));
    BOOST_CHECK_EQUAL(float_to_bf16(1.0f), 0x3f80);
    BOOST_CHECK_EQUAL(float_to_bf16(1.00390625f), 0x3f80);  // 1 + 2^-8: tie, to even
    BOOST_CHECK_EQUAL(float_to_bf16(1.01171875f), 0x3f82);  // 1 + 3*2^-8: tie, to even
    BOOST_CHECK_EQUAL(float_to_bf16(std::nextafter(1.00390625f, 2.f)),
                      0x3f81);  // just above the tie
    BOOST_CHECK_EQUAL(bf16_to_float(0x4049), 3.140625f);
}

BOOST_AUTO_TEST_CASE(conversions_match_independent_rounding) {
    // Every half decodes as the formula says.
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const double want = decode_half(uint16_t(h));
        const float got = half_to_float(uint16_t(h));
        uint32_t bits;
        std::memcpy(&bits, &got, 4);
        if (std::isnan(want)) {  // a NaN keeps its payload
            BOOST_CHECK(std::isnan(got));
            BOOST_CHECK_EQUAL((bits >> 13) & 0x3ff, h & 0x3ff);
        } else {
            BOOST_CHECK_EQUAL(got, want);
        }
        BOOST_CHECK_EQUAL(bits >> 31, h >> 15);  // the sign, also of zero
    }
    // Random floats across the fp16 range and beyond round like the reference.
    std::mt19937 rng(42);
    int bad16 = 0, bad_bf = 0;
    for (int n = 0; n < 200000; ++n) {
        const int e = int(rng() % 60) - 30;
        const float f =
            std::ldexp(std::uniform_real_distribution<float>(1, 2)(rng), e) * (rng() & 1 ? 1 : -1);
        if (decode_half(float_to_half(f)) != round_to(fmt_fp16, f)) ++bad16;
        uint32_t bits = rng();  // any finite float for bf16
        float g;
        std::memcpy(&g, &bits, 4);
        if (std::isfinite(g) && decode_bf16(float_to_bf16(g)) != round_to(fmt_bf16, g)) ++bad_bf;
    }
    BOOST_CHECK_EQUAL(bad16, 0);
    BOOST_CHECK_EQUAL(bad_bf, 0);
}

// The bulk conversions (F16C on a host that has it, else the scalar loop) give every element
// the bits of half_to_float / float_to_half, NaNs included, whatever the length.
BOOST_AUTO_TEST_CASE(bulk_half_conversions_equal_the_scalar_ones) {
    BOOST_TEST_MESSAGE("host F16C conversions: " << (host_converts_halves() ? "yes" : "no"));
    // Every half, in a shuffled order so NaN groups mix with ordinary values.
    std::vector<uint16_t> halves(0x10000);
    for (uint32_t h = 0; h < 0x10000; ++h) halves[h] = uint16_t(h);
    std::mt19937 rng(7);
    std::shuffle(halves.begin(), halves.end(), rng);
    // Floats around every rounding boundary: each half's value, the midpoints between
    // neighbours and one float either side of them, past the overflow and underflow ties,
    // infinities and NaNs with payloads, then random bit patterns.
    std::vector<float> floats;
    for (uint32_t h = 0; h < 0x7c00; ++h) {
        const float v = half_to_float(uint16_t(h)), w = half_to_float(uint16_t(h + 1));
        const float mid = v + (w - v) / 2;  // exact: one bit more than fp16 holds
        for (float f : {v, mid, std::nextafter(mid, 0.f), std::nextafter(mid, 1e9f)})
            floats.insert(floats.end(), {f, -f});
    }
    for (uint32_t bits : {0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u, 0xffbfffffu,
                          0x7fc12345u, 0x477ff000u, 0x477fefffu, 0x33000000u, 0x33000001u}) {
        float f;
        std::memcpy(&f, &bits, 4);
        floats.push_back(f);
    }
    for (int i = 0; i < 1 << 20; ++i) {
        const uint32_t bits = rng();
        float f;
        std::memcpy(&f, &bits, 4);
        floats.push_back(f);
    }
    std::shuffle(floats.begin(), floats.end(), rng);

    for (bool portable : {false, true}) {
        std::vector<float> got(halves.size());
        halves_to_floats(reinterpret_cast<const uint8_t*>(halves.data()), got.data(), halves.size(),
                         portable);
        int bad = 0;
        for (size_t i = 0; i < halves.size(); ++i) {
            const float want = half_to_float(halves[i]);
            bad += std::memcmp(&want, &got[i], 4) != 0;
        }
        BOOST_CHECK_MESSAGE(bad == 0, bad << " halves differ, portable=" << portable);

        std::vector<uint16_t> out(floats.size());
        floats_to_halves(floats.data(), reinterpret_cast<uint8_t*>(out.data()), floats.size(),
                         portable);
        bad = 0;
        for (size_t i = 0; i < floats.size(); ++i) bad += out[i] != float_to_half(floats[i]);
        BOOST_CHECK_MESSAGE(bad == 0, bad << " floats differ, portable=" << portable);

        // Lengths that end inside a group of eight, and no elements at all.
        for (size_t n : {0, 1, 7, 8, 9, 13, 131}) {
            std::vector<float> f(n + 1, 42.f);
            halves_to_floats(reinterpret_cast<const uint8_t*>(halves.data()), f.data(), n,
                             portable);
            BOOST_CHECK_EQUAL(f[n], 42.f);  // nothing past the end
            for (size_t i = 0; i < n; ++i) {
                const float want = half_to_float(halves[i]);
                BOOST_CHECK(std::memcmp(&want, &f[i], 4) == 0);
            }
            std::vector<uint16_t> h(n + 1, 0xabcd);
            floats_to_halves(floats.data(), reinterpret_cast<uint8_t*>(h.data()), n, portable);
            BOOST_CHECK_EQUAL(h[n], 0xabcd);
            for (size_t i = 0; i < n; ++i) BOOST_CHECK_EQUAL(h[i], float_to_half(floats[i]));
        }
    }
}

// Doubles round into fp16, bf16 and fp32 to nearest even as the independent reference says:
// doubles that are floats (one rounding by the float conversions) and doubles that are not
// (found from their exact neighbours), ties and overflow included.
BOOST_AUTO_TEST_CASE(doubles_round_to_nearest_even_into_float_types) {
    std::mt19937_64 rng(11);
    int bad = 0;
    std::string first;
    for (dtype t : {dtype::fp16, dtype::bf16, dtype::fp32}) {
        const format& f = format_of(t);
        for (int n = 0; n < 300000; ++n) {
            const int e = int(rng() % 70) - 35;
            double v = std::ldexp(std::uniform_real_distribution<double>(1, 2)(rng), e);
            if (n % 3 == 0) v = double(float(v));  // a float
            if (n % 5 == 0) {                      // a tie of the target type
                const double q = ulp_at(t, v);
                v = (std::floor(v / q) + 0.5) * q;
            }
            if (n & 1) v = -v;
            const double want = round_to(f, v);
            const float got = round_to_float(v, t, round_mode::rint);
            std::vector<uint8_t> bytes(4);
            store_from_double(bytes.data(), t, 0, v);
            const bool ok = double(got) == want && value_of(t, get_raw(bytes, 0, t)) == want;
            if (!ok && bad++ == 0) {
                std::ostringstream os;
                os << to_string(t) << ": " << std::hexfloat << v << " gave " << got << ", want "
                   << want;
                first = os.str();
            }
        }
    }
    BOOST_CHECK_MESSAGE(bad == 0, bad << " wrong, first: " << first);
}

// Each rounding mode on values with a known answer: ties, values just off a tie, exact values,
// overflow, negatives (Ascend RoundMode: CAST_RINT, FLOOR, CEIL, ROUND, TRUNC, ODD).
BOOST_AUTO_TEST_CASE(cast_rounding_modes_in_closed_form) {
    const round_mode modes[] = {round_mode::rint,  round_mode::floor, round_mode::ceil,
                                round_mode::round, round_mode::trunc, round_mode::odd};
    struct row {
        float v;
        uint32_t want[6];  // rint floor ceil round trunc odd
    };
    const float tie = 1.0f + std::ldexp(1.0f, -11), below = 1.0f + std::ldexp(1.0f, -12);
    const row fp16_rows[] = {
        {tie, {0x3c00, 0x3c00, 0x3c01, 0x3c01, 0x3c00, 0x3c01}},
        {-tie, {0xbc00, 0xbc01, 0xbc00, 0xbc01, 0xbc00, 0xbc01}},
        {below, {0x3c00, 0x3c00, 0x3c01, 0x3c00, 0x3c00, 0x3c01}},
        {1.0f, {0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x3c00}},
        {70000.0f, {0x7c00, 0x7bff, 0x7c00, 0x7c00, 0x7bff, 0x7bff}},
    };
    for (const row& r : fp16_rows)
        for (int m = 0; m < 6; ++m)
            BOOST_CHECK_MESSAGE(
                cast_values(dtype::fp32, dtype::fp16, {f32(r.v)}, modes[m])[0] == r.want[m],
                "fp32 " << r.v << " -> fp16 " << to_string(modes[m]));
    const row int8_rows[] = {
        {2.5f, {2, 2, 3, 3, 2, 0}},
        {-2.5f, {uint8_t(-2), uint8_t(-3), uint8_t(-2), uint8_t(-3), uint8_t(-2), 0}},
        {-1.7f, {uint8_t(-2), uint8_t(-2), uint8_t(-1), uint8_t(-2), uint8_t(-1), 0}},
        {300.0f, {127, 127, 127, 127, 127, 0}},
    };
    for (const row& r : int8_rows)
        for (int m = 0; m < 5; ++m)
            BOOST_CHECK_MESSAGE(
                cast_values(dtype::fp32, dtype::int8, {f32(r.v)}, modes[m])[0] == r.want[m],
                "fp32 " << r.v << " -> int8 " << to_string(modes[m]));
    // int32 257 lies halfway between bf16 256 (0x4380) and 258 (0x4381).
    const uint32_t bf_want[5] = {0x4380, 0x4380, 0x4381, 0x4381, 0x4380};
    for (int m = 0; m < 5; ++m)
        BOOST_CHECK_EQUAL(cast_values(dtype::int32, dtype::bf16, {257}, modes[m])[0], bf_want[m]);
    // Round to odd is a narrowing float mode only.
    vector_op op = make(vec_opcode::cast, dtype::fp16);
    op.dst_type = dtype::int8;
    op.round = round_mode::odd;
    expect_fault(op, op.dst,
                 "cast rounding 'odd' is for fp32 -> fp16 or bf16 only, not fp16->int8");
}

BOOST_AUTO_TEST_CASE(names_and_classes) {
    using o = vec_opcode;
    const std::pair<o, vec_class> table[] = {
        {o::add, vec_class::simple},
        {o::sub, vec_class::simple},
        {o::mul, vec_class::simple},
        {o::div, vec_class::transcendental},
        {o::max, vec_class::simple},
        {o::min, vec_class::simple},
        {o::adds, vec_class::simple},
        {o::muls, vec_class::simple},
        {o::maxs, vec_class::simple},
        {o::mins, vec_class::simple},
        {o::relu, vec_class::activation},
        {o::exp, vec_class::transcendental},
        {o::ln, vec_class::transcendental},
        {o::sqrt, vec_class::transcendental},
        {o::rsqrt, vec_class::transcendental},
        {o::tanh, vec_class::activation},
        {o::sigmoid, vec_class::activation},
        {o::abs, vec_class::simple},
        {o::cmp, vec_class::simple},
        {o::select, vec_class::simple},
        {o::cast, vec_class::cast},
        {o::dup, vec_class::simple},
        {o::reduce_sum, vec_class::reduction},
        {o::reduce_max, vec_class::reduction},
        {o::transpose, vec_class::simple},
    };
    for (const auto& [op, cls] : table)
        BOOST_CHECK_MESSAGE(class_of(op) == cls, to_string(op)
                                                     << " is " << to_string(class_of(op)));
    BOOST_CHECK_EQUAL(std::string(to_string(o::reduce_sum)), "reduce_sum");
    BOOST_CHECK_EQUAL(std::string(to_string(o::rsqrt)), "rsqrt");
    BOOST_CHECK_EQUAL(std::string(to_string(vec_class::transcendental)), "transcendental");

    vector_op op = make(o::add, dtype::fp16);
    op.dst = 0x100;
    op.src0 = 0;
    op.src1 = 0x200;
    op.repeats = 3;
    BOOST_CHECK_EQUAL(op.describe(), "vadd.fp16 dst=UB[0x100] src0=UB[0x0] src1=UB[0x200] rep=3");
    vector_op c = make(o::cast, dtype::fp32);
    c.dst_type = dtype::int8;
    c.mask_lo = 0xff;
    c.mask_hi = 0;
    c.src0_rep_stride = 16;
    const std::string d = c.describe();
    BOOST_CHECK_MESSAGE(d.find("vcast.fp32->int8") == 0, d);
    BOOST_CHECK_MESSAGE(d.find("0xff") != std::string::npos, d);  // a partial mask shows
    BOOST_CHECK_MESSAGE(d.find("16") != std::string::npos, d);    // so does a non-default stride
}

BOOST_AUTO_TEST_CASE(binary_fp32) {
    binary_suite(dtype::fp32);
}
BOOST_AUTO_TEST_CASE(binary_fp16) {
    binary_suite(dtype::fp16);
}
BOOST_AUTO_TEST_CASE(binary_bf16) {
    binary_suite(dtype::bf16);
}
BOOST_AUTO_TEST_CASE(binary_int32) {
    binary_suite(dtype::int32);
}

BOOST_AUTO_TEST_CASE(scalar_fp32) {
    scalar_suite(dtype::fp32);
}
BOOST_AUTO_TEST_CASE(scalar_fp16) {
    scalar_suite(dtype::fp16);
}
BOOST_AUTO_TEST_CASE(scalar_bf16) {
    scalar_suite(dtype::bf16);
}
BOOST_AUTO_TEST_CASE(scalar_int32) {
    scalar_suite(dtype::int32);
}

BOOST_AUTO_TEST_CASE(unary_fp32) {
    unary_suite(dtype::fp32);
}
BOOST_AUTO_TEST_CASE(unary_fp16) {
    unary_suite(dtype::fp16);
}
BOOST_AUTO_TEST_CASE(unary_bf16) {
    unary_suite(dtype::bf16);
}
BOOST_AUTO_TEST_CASE(unary_int32) {
    unary_suite(dtype::int32);
}

BOOST_AUTO_TEST_CASE(cmp_fp32) {
    cmp_suite(dtype::fp32);
}
BOOST_AUTO_TEST_CASE(cmp_fp16) {
    cmp_suite(dtype::fp16);
}
BOOST_AUTO_TEST_CASE(cmp_bf16) {
    cmp_suite(dtype::bf16);
}
BOOST_AUTO_TEST_CASE(cmp_int32) {
    cmp_suite(dtype::int32);
}

BOOST_AUTO_TEST_CASE(select_fp32) {
    select_suite(dtype::fp32);
}
BOOST_AUTO_TEST_CASE(select_fp16) {
    select_suite(dtype::fp16);
}
BOOST_AUTO_TEST_CASE(select_bf16) {
    select_suite(dtype::bf16);
}
BOOST_AUTO_TEST_CASE(select_int32) {
    select_suite(dtype::int32);
}

BOOST_AUTO_TEST_CASE(reduce_fp32) {
    reduce_suite(dtype::fp32);
}
BOOST_AUTO_TEST_CASE(reduce_fp16) {
    reduce_suite(dtype::fp16);
}
BOOST_AUTO_TEST_CASE(reduce_bf16) {
    reduce_suite(dtype::bf16);
}
BOOST_AUTO_TEST_CASE(reduce_int32) {
    reduce_suite(dtype::int32);
}

BOOST_AUTO_TEST_CASE(reduce_int32_saturates) {
    const vector_unit vu = make_unit();
    std::vector<uint8_t> ub(ub_size);
    vector_op op = make(vec_opcode::reduce_sum, dtype::int32);
    apply(op, layouts()[0]);
    op.repeats = 2;
    for (unsigned i = 0; i < 64; ++i) {
        put_raw(ub, at_src0 + 4 * i, dtype::int32, uint32_t(INT32_MAX - int32_t(i)));
        put_raw(ub, at_src0 + 256 + 4 * i, dtype::int32, uint32_t(INT32_MIN + int32_t(i)));
    }
    vu.execute(op, ub.data(), true);
    BOOST_CHECK_EQUAL(int32_t(get_raw(ub, at_dst, dtype::int32)), INT32_MAX);
    BOOST_CHECK_EQUAL(int32_t(get_raw(ub, at_dst + 4, dtype::int32)), INT32_MIN);
}

BOOST_AUTO_TEST_CASE(dup_all_dtypes) {
    const vector_unit vu = make_unit();
    for (dtype t : {dtype::fp32, dtype::fp16, dtype::bf16, dtype::int32}) {
        const unsigned s = size_of(t), E = 256 / s, B = 32 / s;
        const float sc = -1234.5f;  // int32: half to even -> -1234
        const uint32_t exp = t == dtype::int32 ? uint32_t(-1234) : encode(t, sc);
        for (const layout& l : layouts()) {
            std::mt19937 rng(9);
            std::vector<uint8_t> ub = random_ub(rng);
            vector_op op = make(vec_opcode::dup, t);
            op.scalar = sc;
            apply(op, l);
            std::vector<uint8_t> want = ub;
            for (uint32_t r = 0; r < l.repeats; ++r)
                for (unsigned i = 0; i < E; ++i)
                    if (bit_of(l.lo, l.hi, i))
                        put_raw(want, addr_of(at_dst, r, i, B, l.blk_d, l.rep_d, s), t, exp);
            vu.execute(op, ub.data(), true);
            BOOST_CHECK_MESSAGE(want == ub, op.describe() << " [" << l.name << "]");
        }
    }
}

BOOST_AUTO_TEST_CASE(cast_all_pairs) {
    for (dtype from : all_types)
        for (dtype to : all_types)
            if (!(from == dtype::int8 && to == dtype::int8)) cast_pair(from, to);
}

BOOST_AUTO_TEST_CASE(cast_known_values) {
    // fp32 -> int8: half to even, then saturate.
    const std::vector<float> in8 = {127.5f, 126.5f, -128.5f, -127.5f, 300.f,       -300.f,
                                    2.5f,   3.5f,   -0.5f,   -1.5f,   0.49999997f, NAN};
    const std::vector<int> out8 = {127, 126, -128, -128, 127, -128, 2, 4, 0, -2, 0, 0};
    std::vector<uint32_t> src;
    for (float f : in8) src.push_back(f32(f));
    const auto r8 = cast_values(dtype::fp32, dtype::int8, src);
    for (size_t i = 0; i < in8.size(); ++i)
        BOOST_CHECK_MESSAGE(int8_t(r8[i]) == out8[i], in8[i] << " -> " << int(int8_t(r8[i])));

    // fp32 -> int32.
    const std::vector<float> in32 = {2.5f, -2.5f, 3e9f, -3e9f, 2147483520.f, NAN, -2147483648.f};
    const std::vector<int32_t> out32 = {2, -2, INT32_MAX, INT32_MIN, 2147483520, 0, INT32_MIN};
    src.clear();
    for (float f : in32) src.push_back(f32(f));
    const auto r32 = cast_values(dtype::fp32, dtype::int32, src);
    for (size_t i = 0; i < in32.size(); ++i) BOOST_CHECK_EQUAL(int32_t(r32[i]), out32[i]);

    // int32 -> float types round once, never through a lossy float.
    const std::vector<uint32_t> big = {
        16777217u, 16777219u, (1u << 24) + (1u << 16) + 1, uint32_t(-16777217), 65519u,
        65520u,    1000u};
    const auto rf = cast_values(dtype::int32, dtype::fp32, big);
    BOOST_CHECK_EQUAL(value_of(dtype::fp32, rf[0]), 16777216.0);
    BOOST_CHECK_EQUAL(value_of(dtype::fp32, rf[1]), 16777220.0);
    const auto rb = cast_values(dtype::int32, dtype::bf16, big);
    BOOST_CHECK_EQUAL(value_of(dtype::bf16, rb[2]), 16777216.0 + 131072.0);  // not 2^24
    const auto rh = cast_values(dtype::int32, dtype::fp16, big);
    BOOST_CHECK_EQUAL(rh[4], 0x7bffu);  // 65519 -> 65504
    BOOST_CHECK_EQUAL(rh[5], 0x7c00u);  // 65520 -> inf
    BOOST_CHECK_EQUAL(rh[6], float_to_half(1000.f));

    // int32 -> int8 saturates; int8 -> fp16 exact.
    const auto ri = cast_values(dtype::int32, dtype::int8, {1000u, uint32_t(-1000), 5u});
    BOOST_CHECK_EQUAL(int(int8_t(ri[0])), 127);
    BOOST_CHECK_EQUAL(int(int8_t(ri[1])), -128);
    BOOST_CHECK_EQUAL(int(int8_t(ri[2])), 5);
    const auto rh8 = cast_values(dtype::int8, dtype::fp16, {0x80u, 0x7fu});
    BOOST_CHECK_EQUAL(rh8[0], 0xd800u);  // -128
    BOOST_CHECK_EQUAL(rh8[1], 0x57f0u);  // 127

    // fp32 -> fp16 and bf16 ties.
    const auto r16 =
        cast_values(dtype::fp32, dtype::fp16, {f32(65520.f), f32(1.0f + std::ldexp(1.f, -11))});
    BOOST_CHECK_EQUAL(r16[0], 0x7c00u);
    BOOST_CHECK_EQUAL(r16[1], 0x3c00u);
    const auto rbf = cast_values(dtype::fp32, dtype::bf16, {f32(1.00390625f), f32(1.01171875f)});
    BOOST_CHECK_EQUAL(rbf[0], 0x3f80u);
    BOOST_CHECK_EQUAL(rbf[1], 0x3f82u);
}

BOOST_AUTO_TEST_CASE(in_place_add) {
    const vector_unit vu = make_unit();
    std::vector<uint8_t> ub(ub_size);
    vector_op op = make(vec_opcode::add, dtype::fp32);
    apply(op, layouts()[1]);
    op.repeats = 4;
    op.dst = op.src0;
    for (unsigned i = 0; i < 256; ++i) {
        put_raw(ub, at_src0 + 4 * i, dtype::fp32, f32(float(i)));
        put_raw(ub, at_src1 + 4 * i, dtype::fp32, f32(0.5f));
    }
    vu.execute(op, ub.data(), true);
    for (unsigned i = 0; i < 256; ++i)
        BOOST_CHECK_EQUAL(value_of(dtype::fp32, get_raw(ub, at_src0 + 4 * i, dtype::fp32)),
                          i + 0.5);
}

// A dense fp16 add whose dst overlaps its source one block later reads what it stored (the
// element order of the instruction), one block earlier reads only originals: the grouped
// conversion path must not change either.
BOOST_AUTO_TEST_CASE(overlapping_fp16_add_keeps_element_order) {
    const vector_unit vu = make_unit();
    for (int shift : {32, -32}) {  // dst stays 32-byte aligned
        std::vector<uint8_t> ub(ub_size);
        vector_op op = make(vec_opcode::add, dtype::fp16);
        apply(op, layouts()[1]);
        op.repeats = 4;
        op.src0 = at_src0 + 0x100;
        op.dst = op.src0 + shift;
        for (unsigned i = 0; i < 512; ++i) {
            put_raw(ub, op.src0 + 2 * i, dtype::fp16, float_to_half(float(i % 7)));
            put_raw(ub, at_src1 + 2 * i, dtype::fp16, float_to_half(1.f));
        }
        vu.execute(op, ub.data(), true);
        int bad = 0;
        for (unsigned i = 0; i < 512; ++i) {
            // Later: element i adds one to the result 16 elements before it, which it reads.
            const double want = shift > 0 ? (i % 16) % 7 + i / 16 + 1.0 : i % 7 + 1.0;
            bad += value_of(dtype::fp16, get_raw(ub, op.dst + 2 * i, dtype::fp16)) != want;
        }
        BOOST_CHECK_MESSAGE(bad == 0, bad << " elements wrong with dst = src0 + " << shift);
    }
}

BOOST_AUTO_TEST_CASE(cycles_default_costs) {
    const vector_unit vu = make_unit();  // simple 1, activation 2, transcendental 4,
                                         // reduction 2, cast 1 per repeat
    vector_op op;
    op.repeats = 3;
    const std::pair<vec_opcode, uint64_t> want[] = {
        {vec_opcode::add, 3},  {vec_opcode::relu, 6},       {vec_opcode::exp, 12},
        {vec_opcode::div, 12}, {vec_opcode::reduce_sum, 6}, {vec_opcode::cast, 3},
    };
    for (const auto& [o, c] : want) {
        op.op = o;
        BOOST_CHECK_MESSAGE(vu.work_cycles(op) == c, to_string(o) << ": " << vu.work_cycles(op));
    }
    op.op = vec_opcode::sigmoid;
    op.repeats = 255;
    BOOST_CHECK_EQUAL(vu.work_cycles(op), 510u);
}

// A row of the per-instruction table: max(its issue floor, fixed + ceil(repeats x cycles per
// repeat)) for its dtypes only; other dtypes keep the class default and unit floor.
BOOST_AUTO_TEST_CASE(cycles_from_the_instruction_table) {
    vector_costs c;
    c.issue_cycles = 3;
    c.row(vec_opcode::add, dtype::fp16, dtype::fp16) = {6, 2, 1.5};
    const vector_unit vu("vu", c, 256 * 1024);
    vector_op op = make(vec_opcode::add, dtype::fp16);
    const std::pair<uint32_t, uint64_t> fp16[] = {{1, 6}, {3, 7}, {10, 17}};  // (repeats, cycles)
    for (auto [r, want] : fp16) {
        op.repeats = r;
        BOOST_CHECK_EQUAL(vu.issue_cycles(op), want);
    }
    op = make(vec_opcode::add, dtype::int16);  // same width, own row: the default here
    op.repeats = 10;
    BOOST_CHECK_EQUAL(vu.issue_cycles(op), 10u);
    op = make(vec_opcode::add, dtype::fp32);  // no row: simple class, 1 per repeat, floor 3
    op.repeats = 2;
    BOOST_CHECK_EQUAL(vu.issue_cycles(op), 3u);
    op.repeats = 7;
    BOOST_CHECK_EQUAL(vu.issue_cycles(op), 7u);
    // Conversions are keyed by both dtypes: fp16 -> fp32 is not fp32 -> fp16.
    c.row(vec_opcode::cast, dtype::fp16, dtype::fp32) = {0, 0, 4};
    const vector_unit vc("vc", c, 256 * 1024);
    op = make(vec_opcode::cast, dtype::fp16);
    op.dst_type = dtype::fp32;
    op.repeats = 5;
    BOOST_CHECK_EQUAL(vc.issue_cycles(op), 20u);
    op = make(vec_opcode::cast, dtype::fp32);
    op.dst_type = dtype::fp16;
    op.repeats = 5;
    BOOST_CHECK_EQUAL(vc.issue_cycles(op), 5u);
}

BOOST_AUTO_TEST_CASE(cycles_custom_costs) {
    vector_costs c;
    c.issue_cycles = 4;  // the issue floor is the pipe's, not part of an instruction's work
    c.cycles_per_repeat[unsigned(vec_class::transcendental)] = 4.0;
    c.cycles_per_repeat[unsigned(vec_class::simple)] = 0.5;
    c.cycles_per_repeat[unsigned(vec_class::cast)] = 0.7;
    c.cycles_per_repeat[unsigned(vec_class::reduction)] = 1.25;
    const vector_unit vu("vec0", c, ub_size);
    vector_op op;
    op.repeats = 3;
    op.op = vec_opcode::exp;
    BOOST_CHECK_EQUAL(vu.work_cycles(op), 12u);  // 3 * 4
    op.op = vec_opcode::add;
    BOOST_CHECK_EQUAL(vu.work_cycles(op), 2u);  // ceil(1.5)
    op.op = vec_opcode::cast;
    op.repeats = 10;
    BOOST_CHECK_EQUAL(vu.work_cycles(op), 7u);  // ceil(7.000000000000001) = 7
    op.op = vec_opcode::reduce_max;
    op.repeats = 255;
    BOOST_CHECK_EQUAL(vu.work_cycles(op), 319u);  // ceil(318.75)
}

// brcb: block b of repeat r (at dst + (r * rep + b * blk) * 32) is filled with element 8r + b
// of src0; bytes outside the blocks are untouched.
BOOST_AUTO_TEST_CASE(brcb_fills_blocks) {
    for (dtype t : {dtype::fp16, dtype::fp32, dtype::int32}) {
        std::mt19937 rng(5);
        std::vector<uint8_t> ub = random_ub(rng);
        const std::vector<uint8_t> before = ub;
        vector_op op = make(vec_opcode::brcb, t);
        op.src0 = 0x1000;
        op.dst = 0x4000;
        op.repeats = 3;
        op.dst_blk_stride = 2;
        op.dst_rep_stride = 16;
        make_unit().execute(op, ub.data(), true);
        const unsigned e = size_of(t);
        std::vector<bool> written(ub.size());
        for (uint32_t r = 0; r < 3; ++r)
            for (unsigned b = 0; b < 8; ++b) {
                const uint64_t blk = 0x4000 + (uint64_t(r) * 16 + b * 2) * 32;
                const uint32_t want = get_raw(before, 0x1000 + (r * 8 + b) * e, t);
                for (unsigned i = 0; i < 32 / e; ++i) {
                    BOOST_CHECK_EQUAL(get_raw(ub, blk + i * e, t), want);
                    for (unsigned k = 0; k < e; ++k) written[blk + i * e + k] = true;
                }
            }
        for (size_t i = 0; i < ub.size(); ++i)
            if (!written[i] && ub[i] != before[i]) {
                BOOST_ERROR("brcb wrote outside its blocks at " << i);
                break;
            }
    }
}

BOOST_AUTO_TEST_CASE(fault_misaligned) {
    vector_op op = make(vec_opcode::add, dtype::fp16);
    op.src1 = 0x13;
    expect_fault(op, 0x13, "src1 address 0x13 is not 32-byte aligned");
    op.src1 = 0x200;
    op.dst = 0x110;
    expect_fault(op, 0x110, "dst address 0x110 is not 32-byte aligned");
    vector_op s = make(vec_opcode::select, dtype::fp32);
    s.dst = 0x100;
    s.src1 = 0x200;
    s.mask_addr = 0x304;
    expect_fault(s, 0x304, "mask address 0x304 is not 32-byte aligned");
    // Validated in timing-only mode too.
    expect_fault(op, 0x110, "dst address 0x110 is not 32-byte aligned", false);
    // A reduction's results are written element by element: element alignment suffices.
    vector_op r = make(vec_opcode::reduce_sum, dtype::fp32);
    r.dst = 0x104;
    std::vector<uint8_t> ub(ub_size);
    BOOST_CHECK_NO_THROW(vector_unit("vec0", vector_costs{}, ub_size).execute(r, ub.data(), true));
    r.dst = 0x102;
    expect_fault(r, 0x102, "dst address 0x102 is not 4-byte aligned");
}

// The span the bank model books for an operand, worked out by hand from the layout: fp16 packs 16
// elements per 32-byte block, element e sits in block e / 16 at byte (e % 16) * 2.
BOOST_AUTO_TEST_CASE(footprint_ends_at_the_last_enabled_element) {
    const vector_unit vu = make_unit();
    std::vector<uint8_t> ub(ub_size);
    auto dst_span = [&](const vector_op& op) {
        vector_footprint fp;
        vu.execute(op, ub.data(), false, &fp);
        return fp.write.len;
    };
    vector_op op = make(vec_opcode::add, dtype::fp16);
    op.src1 = 0x8000;
    // Block stride 2, elements 0 and 40 enabled: 40 is in block 2 at byte 16 -> 2*64 + 16 + 2.
    op.dst_blk_stride = 2;
    op.mask_lo = 1 | (1ull << 40);
    op.mask_hi = 0;
    BOOST_CHECK_EQUAL(dst_span(op), 146u);
    // Block stride 0 overlays every block on the first: elements 5 and 17 (block 1, byte 2)
    // reach byte 5*2 + 2 = 12.
    op.dst_blk_stride = 0;
    op.mask_lo = (1ull << 5) | (1ull << 17);
    BOOST_CHECK_EQUAL(dst_span(op), 12u);
    // Element 127 (the high mask word) over 3 repeats 8 blocks apart: 2*256 + 7*32 + 32.
    op.dst_blk_stride = 1;
    op.dst_rep_stride = 8;
    op.repeats = 3;
    op.mask_lo = 0;
    op.mask_hi = 1ull << 63;
    BOOST_CHECK_EQUAL(dst_span(op), 768u);
    // An empty mask touches nothing.
    op.mask_hi = 0;
    BOOST_CHECK_EQUAL(dst_span(op), 0u);
    // fp32 has 64 lanes: the high word is ignored and element 63 ends block 7 (8*32).
    vector_op f = make(vec_opcode::add, dtype::fp32);
    f.src1 = 0x8000;
    f.mask_lo = 1 | (1ull << 63);
    f.mask_hi = ~0ull;
    BOOST_CHECK_EQUAL(dst_span(f), 256u);
    f.mask_lo = 1;
    BOOST_CHECK_EQUAL(dst_span(f), 4u);
}

BOOST_AUTO_TEST_CASE(fault_out_of_range) {
    // A UB of 0x40000 bytes; two full fp16 repeats at 0x3ff00 need 0x200 bytes.
    vector_op op = make(vec_opcode::add, dtype::fp16);
    op.dst = 0x3ff00;
    op.src1 = 0x200;
    op.repeats = 2;
    expect_fault(op, 0x3ff00, "dst range [0x3ff00, 0x40100) exceeds UB (0x40000 bytes)");
    expect_fault(op, 0x3ff00, "dst range [0x3ff00, 0x40100) exceeds UB (0x40000 bytes)", false);
    // The footprint follows strides and mask: the last enabled element decides.
    op.dst = 0;
    op.src0 = 0x3f000;
    op.src0_rep_stride = 200;  // 6400 bytes between repeats
    op.mask_lo = 1;
    op.mask_hi = 0;
    expect_fault(op, 0x3f000, "src0 range [0x3f000, 0x40902) exceeds UB (0x40000 bytes)");
    // A base far outside UB must not wrap around.
    vector_op far = make(vec_opcode::exp, dtype::fp32);
    far.src0 = ~0ull << 5;
    expect_fault(far, far.src0, "src0 address 0xffffffffffffffe0 is outside UB (0x40000 bytes)");
    // cmp writes E/8 bytes per repeat: 255 fp16 repeats = 0xff0 bytes.
    vector_op c = make(vec_opcode::cmp, dtype::fp16);
    c.dst = 0x3f020;
    c.src1 = 0x10000;
    c.src0 = 0x20000;
    c.repeats = 255;
    c.src0_rep_stride = c.src1_rep_stride = 0;
    expect_fault(c, 0x3f020, "dst range [0x3f020, 0x40010) exceeds UB (0x40000 bytes)");

    // In range when the mask or the strides keep it inside.
    const vector_unit vu = make_unit();
    std::vector<uint8_t> ub(ub_size);
    vector_op ok = make(vec_opcode::add, dtype::fp16);
    ok.dst = 0x3ffe0;
    ok.src1 = 0x200;
    ok.mask_lo = 0xffff;  // the first block only
    ok.mask_hi = 0;
    BOOST_CHECK_NO_THROW(vu.execute(ok, ub.data(), true));
    ok.mask_lo = ~0ull;
    ok.mask_hi = ~0ull;
    ok.dst = 0x3ff00;
    ok.repeats = 255;
    ok.dst_rep_stride = 0;  // every repeat writes the same 256 bytes
    BOOST_CHECK_NO_THROW(vu.execute(ok, ub.data(), true));
    c.dst = 0x3f000;  // exactly fits
    BOOST_CHECK_NO_THROW(vu.execute(c, ub.data(), true));
}

BOOST_AUTO_TEST_CASE(fault_repeats) {
    vector_op op = make(vec_opcode::add, dtype::fp32);
    op.src1 = 0x200;
    op.dst = 0x400;
    op.repeats = 0;
    expect_fault(op, 0x400, "repeats 0 outside 1..255");
    op.repeats = 256;
    expect_fault(op, 0x400, "repeats 256 outside 1..255", false);
}

BOOST_AUTO_TEST_CASE(fault_unsupported_dtype) {
    vector_op op = make(vec_opcode::div, dtype::int32);
    op.dst = 0x400;
    expect_fault(op, 0x400,
                 "div is not supported for int32 (floating point only: cast to fp32 first)");
    for (vec_opcode o :
         {vec_opcode::exp, vec_opcode::ln, vec_opcode::sqrt, vec_opcode::rsqrt, vec_opcode::rec,
          vec_opcode::lrelu, vec_opcode::tanh, vec_opcode::sigmoid}) {
        op.op = o;
        expect_fault(op, 0x400,
                     std::string(to_string(o)) +
                         " is not supported for int32 (floating point only: cast to fp32 first)");
    }
    op = make(vec_opcode::add, dtype::int8);
    expect_fault(op, 0, "add is not supported for int8 (a float type, int16 or int32)");
    op = make(vec_opcode::cast, dtype::int8);
    op.dst_type = dtype::int8;
    expect_fault(op, 0,
                 "cast is not supported for int8->int8 (see vconv in docs/kernel-api.md for the "
                 "pairs)");
}

BOOST_AUTO_TEST_CASE(timing_only_validates_without_writing) {
    const vector_unit vu = make_unit();
    std::mt19937 rng(1);
    std::vector<uint8_t> ub = random_ub(rng);
    const std::vector<uint8_t> before = ub;
    for (vec_opcode o : {vec_opcode::add, vec_opcode::exp, vec_opcode::cmp, vec_opcode::select,
                         vec_opcode::cast, vec_opcode::dup, vec_opcode::reduce_sum}) {
        vector_op op = make(o, dtype::fp16);
        apply(op, layouts()[1]);
        BOOST_CHECK_NO_THROW(vu.execute(op, ub.data(), false));
    }
    BOOST_CHECK(before == ub);
}

// gather_mask packs the masked elements of every repeat at dst, repeat after repeat: a mask of
// every third element from element 1 over repeats 3 blocks apart takes src[1 + 3 i].
BOOST_AUTO_TEST_CASE(gather_mask_packs_every_nth_element) {
    const vector_unit vu = make_unit();
    for (dtype t : {dtype::fp16, dtype::fp32}) {
        const unsigned size = size_of(t), per_block = 32 / size;
        std::vector<uint8_t> ub(ub_size, 0xab);
        for (unsigned i = 0; i < 4096; ++i) {
            const uint32_t v = 1000 + i;
            std::memcpy(&ub[at_src0 + i * size], &v, size);  // distinct bit patterns
        }
        vector_op op;
        op.op = vec_opcode::gather_mask;
        op.type = op.dst_type = t;
        op.src0 = at_src0;
        op.dst = at_dst;
        op.repeats = 5;
        op.src0_rep_stride = 3;  // 3 blocks: per_block windows of stride 3
        op.mask_lo = op.mask_hi = 0;
        for (unsigned j = 0; j < per_block; ++j) {
            const unsigned bit = 1 + 3 * j;
            (bit < 64 ? op.mask_lo : op.mask_hi) |= 1ull << (bit % 64);
        }
        vu.execute(op, ub.data(), true);
        const unsigned n = 5 * per_block;
        for (unsigned i = 0; i < n; ++i)
            BOOST_CHECK(
                std::memcmp(&ub[at_dst + i * size], &ub[at_src0 + (1 + 3 * i) * size], size) == 0);
        BOOST_CHECK_EQUAL(ub[at_dst + n * size], 0xab);  // nothing past the packed elements
    }
}

// Transpose: each repeat moves a square matrix of 32-byte rows (16x16 fp16, 8x8 fp32) with
// rows at the block strides and matrices at the repeat strides; nothing else in UB changes.
BOOST_AUTO_TEST_CASE(transpose_square_blocks) {
    const vector_unit vu = make_unit();
    for (dtype t : {dtype::fp16, dtype::fp32}) {
        const unsigned s = size_of(t), n = 32 / s;
        vector_op op = make(vec_opcode::transpose, t);
        op.repeats = 3;
        op.src0 = at_src0;
        op.src0_blk_stride = 5;  // rows 5 blocks apart
        op.src0_rep_stride = 1;  // the next matrix is one block to the right
        op.dst = at_dst;
        op.dst_blk_stride = 2;
        op.dst_rep_stride = uint16_t(2 * n);
        std::mt19937 rng(3);
        std::vector<uint8_t> ub = random_ub(rng);
        const std::vector<uint8_t> before = ub;
        vu.execute(op, ub.data(), true);
        std::vector<uint8_t> want = before;
        for (uint32_t r = 0; r < op.repeats; ++r)
            for (unsigned i = 0; i < n; ++i)
                for (unsigned j = 0; j < n; ++j) {
                    const uint64_t from = at_src0 + r * 32 + i * 5 * 32 + j * s;
                    const uint64_t to = at_dst + r * 2 * n * 32 + j * 2 * 32 + i * s;
                    std::memcpy(&want[to], &before[from], s);
                }
        BOOST_CHECK_MESSAGE(ub == want, to_string(t));
    }
    // In place: the matrix is read before it is written.
    vector_op in_place = make(vec_opcode::transpose, dtype::fp32);
    std::vector<uint8_t> ub(ub_size, 0);
    for (unsigned e = 0; e < 64; ++e) put_raw(ub, 4 * e, dtype::fp32, e);
    vu.execute(in_place, ub.data(), true);
    for (unsigned i = 0; i < 8; ++i)
        for (unsigned j = 0; j < 8; ++j)
            BOOST_CHECK_EQUAL(get_raw(ub, 4 * (i * 8 + j), dtype::fp32), j * 8 + i);
}

// A transpose repeat is paid per 256 bytes moved: 2 simple repeats for fp16, 1 for fp32.
BOOST_AUTO_TEST_CASE(transpose_cycles_and_faults) {
    const vector_unit vu = make_unit();
    vector_op op = make(vec_opcode::transpose, dtype::fp16);
    op.repeats = 3;
    BOOST_CHECK_EQUAL(vu.work_cycles(op), 6u);
    op.type = dtype::fp32;
    BOOST_CHECK_EQUAL(vu.work_cycles(op), 3u);
    op.type = dtype::int8;
    expect_fault(op, 0, "transpose is not supported for int8 (a 16- or 32-bit type)");
    op = make(vec_opcode::transpose, dtype::fp16);
    op.src0 = 0x40010;
    expect_fault(op, 0x40010, "src0 address 0x40010 is not 32-byte aligned");
    op.src0 = ub_size - 32;  // 16 rows of 32 bytes do not fit
    expect_fault(op, ub_size - 32, "src0 range [0x3ffe0, 0x401e0) exceeds UB (0x40000 bytes)");
}

BOOST_AUTO_TEST_SUITE_END()
