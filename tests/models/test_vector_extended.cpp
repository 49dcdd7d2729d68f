// Vector unit, the instructions and dtypes added after tests/models/test_vector.cpp: the int16,
// uint16, uint32, uint8 and int64 dtypes; int16 arithmetic; bitwise ops and shifts; copy; the
// multiply-adds; group and pair reductions; gather; the new conversions (cast pairs, deq, vdeq,
// fused relu-converts); their cost rows and footprints; and a property test on random shapes.
// Every result is compared with a CPU reference written here from the instruction semantics
// (element idx of repeat r at base + r*rep*32 + (idx/B)*blk*32 + (idx%B)*size, B = 32/size),
// and every other UB byte must stay unchanged.
//
// Tolerances:
// - integer arithmetic (wrapping), bitwise ops, shifts, moves (copy, dup, brcb, gather,
//   gather_mask), casts, deq/vdeq and the fused relu-converts: exact.
// - multiply-adds: exact against the float computation (product rounded to float, then the sum
//   rounded to float, then rounded once more to fp16 for an fp16 destination).
// - reductions: fp32 exact (the data are small integers), fp16 within 1 ulp of the exact sum
//   rounded to fp16; max/min and int16 sums (saturating) exact.
#include <boost/test/unit_test.hpp>

#include <algorithm>
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

using ub_t = std::vector<uint8_t>;
using rng_t = std::mt19937;
using o = vec_opcode;
constexpr dtype fp32 = dtype::fp32, fp16 = dtype::fp16, int32 = dtype::int32, int16 = dtype::int16,
                uint16 = dtype::uint16, uint32 = dtype::uint32, int8 = dtype::int8,
                uint8 = dtype::uint8, int64 = dtype::int64;
constexpr uint64_t ub_size = 256 * 1024;
constexpr uint64_t at_src0 = 0x0, at_src1 = 0x10000, at_dst = 0x20000;

vector_unit unit() {
    return vector_unit("vec0", vector_costs{}, ub_size);
}

vector_op make(vec_opcode op, dtype t, dtype d) {
    vector_op v;
    v.op = op;
    v.type = t;
    v.dst_type = d;
    v.src0 = at_src0;
    v.src1 = at_src1;
    v.dst = at_dst;
    return v;
}
vector_op make(vec_opcode op, dtype t) {
    return make(op, t, t);
}

std::string hex(uint64_t v) {
    std::ostringstream s;
    s << "0x" << std::hex << v;
    return s.str();
}

// ---- numbers, independent of the model's conversions ----

double decode_half(uint16_t h) {
    const int e = (h >> 10) & 31, m = h & 1023;
    const double v = e == 0    ? std::ldexp(m, -24)
                     : e == 31 ? (m ? std::numeric_limits<double>::quiet_NaN() : INFINITY)
                               : std::ldexp(1024 + m, e - 25);
    return (h & 0x8000) ? -v : v;
}

/// x rounded once to fp16 (nearest even, subnormals, overflow to inf).
uint16_t half(double x) {
    if (std::isnan(x)) return 0x7e00;
    const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    x = std::fabs(x);
    if (std::isinf(x)) return sign | 0x7c00;
    int e;
    std::frexp(x, &e);  // x in [2^(e-1), 2^e)
    const double r = std::nearbyint(std::ldexp(x, 10 - std::max(e - 1, -14)));  // in quanta
    const double v = std::ldexp(r, std::max(e - 1, -14) - 10);
    if (v > 65504) return sign | 0x7c00;
    if (v < std::ldexp(1.0, -14)) return sign | uint16_t(std::ldexp(v, 24));
    std::frexp(v, &e);
    return sign | uint16_t((e + 14) << 10) | uint16_t(std::ldexp(v, 11 - e) - 1024);
}

uint64_t f32_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

/// Range of an integer dtype.
std::pair<int64_t, int64_t> range_of(dtype t) {
    const int bits = 8 * int(dtype_size(t));
    if (is_unsigned(t)) return {0, int64_t((uint64_t(1) << bits) - 1)};
    if (bits == 64) return {INT64_MIN, INT64_MAX};
    return {-(int64_t(1) << (bits - 1)), (int64_t(1) << (bits - 1)) - 1};
}
/// v reduced to the width of t, two's complement (the integer ALU's store).
int64_t wrap(int64_t v, dtype t) {
    const int bits = 8 * int(dtype_size(t));
    if (bits == 64) return v;
    const uint64_t m = uint64_t(v) & ((uint64_t(1) << bits) - 1);
    const bool negative = !is_unsigned(t) && m >> (bits - 1);
    return negative ? int64_t(m) - (int64_t(1) << bits) : int64_t(m);
}
int64_t saturate(int64_t v, dtype t) {
    const auto [lo, hi] = range_of(t);
    return std::clamp(v, lo, hi);
}
/// Round half to even and saturate; NaN gives 0.
int64_t round_sat(double v, dtype t) {
    if (std::isnan(v)) return 0;
    const auto [lo, hi] = range_of(t);
    const double r = std::nearbyint(v);
    return r <= double(lo) ? lo : r >= double(hi) ? hi : int64_t(r);
}
/// Raw bits of v rounded once to a float type.
uint64_t enc_float(dtype t, double v) {
    return t == fp32 ? f32_bits(float(v)) : half(v);
}
uint64_t convert_float(double v, dtype to) {
    return is_float(to) ? enc_float(to, v) : uint64_t(round_sat(v, to));
}
uint64_t convert_int(int64_t v, dtype to) {
    if (to == fp32) return f32_bits(float(v));  // one correctly rounded conversion
    if (to == fp16) return half(double(v));     // |v| < 2^53 here: exact in double
    return uint64_t(saturate(v, to));
}
/// x * y rounded to float (volatile: never fused into a multiply-add with what follows).
float mul(float x, float y) {
    volatile float p = x * y;
    return p;
}
template <class T>
T relu(T v) {
    return v > 0 ? v : T(0);
}

// ---- UB access and instruction geometry ----

uint64_t load(const ub_t& ub, uint64_t addr, dtype t) {
    uint64_t v = 0;
    std::memcpy(&v, &ub[addr], dtype_size(t));
    return v;
}
void store(ub_t& ub, uint64_t addr, dtype t, uint64_t raw) {
    std::memcpy(&ub[addr], &raw, dtype_size(t));
}
int64_t ival(const ub_t& ub, uint64_t addr, dtype t) {
    return wrap(int64_t(load(ub, addr, t)), t);
}
double fval(const ub_t& ub, uint64_t addr, dtype t) {
    if (t != fp32) return decode_half(uint16_t(load(ub, addr, t)));
    float f;
    std::memcpy(&f, &ub[addr], 4);
    return f;
}

enum class operand { dst, src0, src1 };

unsigned elems_of(const vector_op& op) {
    return 256 / std::max(dtype_size(op.type), dtype_size(op.dst_type));
}
bool enabled(const vector_op& op, unsigned idx) {
    return idx < 64 ? (op.mask_lo >> idx) & 1 : (op.mask_hi >> (idx - 64)) & 1;
}
uint64_t addr_of(const vector_op& op, operand which, uint32_t r, unsigned idx) {
    const bool d = which == operand::dst, s0 = which == operand::src0;
    const unsigned size = dtype_size(d ? op.dst_type : op.type), per_block = 32 / size;
    const uint64_t base = d ? op.dst : s0 ? op.src0 : op.src1;
    const uint64_t blk = d ? op.dst_blk_stride : s0 ? op.src0_blk_stride : op.src1_blk_stride;
    const uint64_t rep = d ? op.dst_rep_stride : s0 ? op.src0_rep_stride : op.src1_rep_stride;
    return base + (r * rep + idx / per_block * blk) * 32 + idx % per_block * size;
}

// ---- test data ----

using gen_fn = std::function<uint64_t(rng_t&)>;
using filler = std::function<void(ub_t&, const vector_op&, rng_t&)>;

/// Values lo, lo + step, ..., hi (step 0: any real in [lo, hi]), as raw bits of t.
gen_fn values(dtype t, double lo, double hi, double step = 0) {
    return [=](rng_t& rng) -> uint64_t {
        const double v = step > 0 ? lo + step * std::uniform_int_distribution<int64_t>(
                                                    0, int64_t((hi - lo) / step))(rng)
                                  : std::uniform_real_distribution<double>(lo, hi)(rng);
        return is_float(t) ? enc_float(t, v) : uint64_t(int64_t(v));
    };
}
gen_fn any_bits() {
    return [](rng_t& rng) { return uint64_t(rng()) | uint64_t(rng()) << 32; };
}

ub_t random_ub(rng_t& rng) {
    ub_t ub(ub_size);
    for (auto& b : ub) b = uint8_t(rng());
    return ub;
}

/// Writes gen's values into every element (enabled or not) of every repeat of an operand.
void fill(ub_t& ub, const vector_op& op, operand which, const gen_fn& gen, rng_t& rng) {
    const dtype t = which == operand::dst ? op.dst_type : op.type;
    for (uint32_t r = 0; r < op.repeats; ++r)
        for (unsigned i = 0; i < elems_of(op); ++i)
            store(ub, addr_of(op, which, r, i), t, gen(rng));
}
/// src0 and src1 from src; dst (read by the multiply-adds) from dst when given.
filler sources(gen_fn src, gen_fn dst = nullptr) {
    return [=](ub_t& ub, const vector_op& op, rng_t& rng) {
        fill(ub, op, operand::src0, src, rng);
        fill(ub, op, operand::src1, src, rng);
        if (dst) fill(ub, op, operand::dst, dst, rng);
    };
}
/// A gather's offsets at src1: one aligned offset into [src0, src0 + 64 KiB) per element.
filler gather_offsets() {
    return [](ub_t& ub, const vector_op& op, rng_t& rng) {
        const unsigned size = dtype_size(op.type);
        for (uint64_t j = 0; j < uint64_t(op.repeats) * elems_of(op); ++j)
            store(ub, op.src1 + 4 * j, uint32, size * (rng() % (0x10000 / size)));
    };
}

// ---- references ----

struct want_elem {
    uint64_t addr;
    dtype t;
    uint64_t raw;
};

/// The integer ALU: computed in int64, stored wrapping to the type by the caller.
int64_t int_alu(const vector_op& op, int64_t a, int64_t b) {
    const int64_t s = round_sat(op.scalar, op.type);
    const int64_t bits = 8 * dtype_size(op.type), n = int64_t(std::nearbyint(op.scalar));
    switch (op.op) {
        case o::add:
            return a + b;
        case o::sub:
            return a - b;
        case o::mul:
            return int64_t(uint64_t(a) * uint64_t(b));
        case o::max:
            return std::max(a, b);
        case o::min:
            return std::min(a, b);
        case o::add_relu:
            return relu(wrap(a + b, op.type));
        case o::sub_relu:
            return relu(wrap(a - b, op.type));
        case o::and_:
            return a & b;
        case o::or_:
            return a | b;
        case o::not_:
            return ~a;
        case o::adds:
            return a + s;
        case o::muls:
            return int64_t(uint64_t(a) * uint64_t(s));
        case o::maxs:
            return std::max(a, s);
        case o::mins:
            return std::min(a, s);
        case o::relu:
            return relu(a);
        case o::abs:
            return a < 0 ? -a : a;
        case o::shl:
            return n >= bits ? 0 : int64_t(uint64_t(a) << n);
        case o::shr:
            return n >= bits ? (a < 0 ? -1 : 0) : a >> n;
        default:
            BOOST_FAIL("no reference for " << to_string(op.op));
            return 0;
    }
}

/// Raw dst element idx of repeat r of an elementwise instruction, from UB before it ran.
uint64_t ref_element(const vector_op& op, const ub_t& ub, uint32_t r, unsigned idx) {
    const dtype t = op.type, d = op.dst_type;
    const uint64_t a0 = addr_of(op, operand::src0, r, idx), a1 = addr_of(op, operand::src1, r, idx);
    switch (op.op) {
        case o::copy:
            return load(ub, a0, t);
        case o::dup:
            return uint64_t(round_sat(op.scalar, t));
        case o::gather: {
            const uint64_t j = uint64_t(r) * elems_of(op) + idx;
            return load(ub, op.src0 + load(ub, op.src1 + 4 * j, uint32), t);
        }
        case o::cast:
            return is_float(t) ? convert_float(fval(ub, a0, t), d)
                               : convert_int(ival(ub, a0, t), d);
        case o::conv_deq:
        case o::conv_vdeq: {
            const float scale =
                op.op == o::conv_deq ? op.scalar : float(fval(ub, op.src1 + idx % 16 * 4, fp32));
            return convert_float(mul(float(ival(ub, a0, t)), scale), d);
        }
        case o::add_relu_conv:
        case o::sub_relu_conv: {  // relu(src0 +/- src1) in the source type, then converted
            const int sign = op.op == o::add_relu_conv ? 1 : -1;
            double sum;
            if (!is_float(t))
                sum = double(wrap(ival(ub, a0, t) + sign * ival(ub, a1, t), t));
            else if (t == fp16)  // exact in double, rounded once to fp16
                sum = decode_half(half(fval(ub, a0, t) + sign * fval(ub, a1, t)));
            else
                sum = double(float(fval(ub, a0, t)) + float(sign * fval(ub, a1, t)));
            return convert_float(relu(sum), d);
        }
        case o::mla:
        case o::madd:
        case o::madd_relu:
        case o::axpy: {  // the test scalars are exact in fp16
            const float x = float(fval(ub, a0, t)),
                        acc = float(fval(ub, addr_of(op, operand::dst, r, idx), d));
            const float y = op.op == o::axpy ? op.scalar : float(fval(ub, a1, t));
            float v = op.op == o::mla || op.op == o::axpy ? mul(x, y) + acc : mul(x, acc) + y;
            if (op.op == o::madd_relu) v = relu(v);
            return enc_float(d, v);
        }
        default:
            return uint64_t(int_alu(op, ival(ub, a0, t), ival(ub, a1, t)));
    }
}

/// Reductions: one result per repeat, per 32-byte block or per pair of src0, over the enabled
/// elements, packed at dst; a group without enabled elements writes nothing.
std::vector<want_elem> ref_reduce(const vector_op& op, const ub_t& ub) {
    const dtype t = op.type;
    const unsigned n = elems_of(op), size = dtype_size(t);
    const bool whole = op.op == o::reduce_sum || op.op == o::reduce_max || op.op == o::reduce_min;
    const unsigned group = whole ? n : op.op == o::pair_sum ? 2 : 32 / size, groups = n / group;
    const bool sum = op.op == o::reduce_sum || op.op == o::group_sum || op.op == o::pair_sum;
    const bool max = op.op == o::reduce_max || op.op == o::group_max;
    std::vector<want_elem> want;
    for (uint32_t r = 0; r < op.repeats; ++r)
        for (unsigned g = 0; g < groups; ++g) {
            bool any = false;
            double acc = 0;  // exact for these data: integers, or up to 128 fp16 values
            for (unsigned i = g * group; i < (g + 1) * group; ++i) {
                if (!enabled(op, i)) continue;
                const uint64_t a = addr_of(op, operand::src0, r, i);
                const double v = is_float(t) ? fval(ub, a, t) : double(ival(ub, a, t));
                acc = !any ? v : sum ? acc + v : max ? std::max(acc, v) : std::min(acc, v);
                any = true;
            }
            if (!any) continue;
            const uint64_t raw =
                is_float(t) ? enc_float(t, acc) : uint64_t(saturate(int64_t(acc), t));
            want.push_back({op.dst + (uint64_t(r) * groups + g) * size, t, raw});
        }
    return want;
}

/// Every result the instruction writes, with its expected raw value.
std::vector<want_elem> reference(const vector_op& op, const ub_t& ub) {
    const unsigned size = dtype_size(op.type);
    std::vector<want_elem> want;
    switch (op.op) {
        case o::reduce_sum:
        case o::reduce_max:
        case o::reduce_min:
        case o::group_sum:
        case o::group_max:
        case o::group_min:
        case o::pair_sum:
            return ref_reduce(op, ub);
        case o::brcb:  // block b of repeat r filled with src0 element 8r + b
            for (uint32_t r = 0; r < op.repeats; ++r)
                for (unsigned b = 0; b < 8; ++b)
                    for (unsigned i = 0; i < 32 / size; ++i)
                        want.push_back(
                            {op.dst +
                                 (uint64_t(r) * op.dst_rep_stride + b * op.dst_blk_stride) * 32 +
                                 i * size,
                             op.type, load(ub, op.src0 + (uint64_t(r) * 8 + b) * size, op.type)});
            return want;
        case o::gather_mask: {  // the enabled elements, packed repeat after repeat
            uint64_t at = op.dst;
            for (uint32_t r = 0; r < op.repeats; ++r)
                for (unsigned i = 0; i < elems_of(op); ++i)
                    if (enabled(op, i)) {
                        want.push_back(
                            {at, op.type, load(ub, addr_of(op, operand::src0, r, i), op.type)});
                        at += size;
                    }
            return want;
        }
        default:
            for (uint32_t r = 0; r < op.repeats; ++r)
                for (unsigned i = 0; i < elems_of(op); ++i)
                    if (enabled(op, i))
                        want.push_back({addr_of(op, operand::dst, r, i), op.dst_type,
                                        ref_element(op, ub, r, i)});
            return want;
    }
}

// ---- running and checking ----

/// Position of a float's raw bits on a line where neighbours differ by one ulp.
int64_t ordered(dtype t, uint64_t raw) {
    const uint64_t sign = t == fp32 ? uint64_t(1) << 31 : 0x8000;
    const int64_t mag = int64_t(raw & (sign - 1));
    return raw & sign ? -mag : mag;
}
bool close(dtype t, uint64_t got, uint64_t want, unsigned ulps) {
    if (got == want) return true;
    return ulps > 0 && is_float(t) &&
           std::llabs(ordered(t, got) - ordered(t, want)) <= int64_t(ulps);
}

/// Runs op on ub and checks every result against the reference (floats within `ulps`), and
/// that no other UB byte changed.
void verify(const vector_op& op, ub_t ub, unsigned ulps = 0) {
    const std::vector<want_elem> want = reference(op, ub);
    ub_t expect = ub;
    unit().execute(op, ub.data(), true);
    size_t bad = 0;
    std::string first;
    for (const want_elem& w : want) {
        const uint64_t mask =
            dtype_size(w.t) == 8 ? ~0ull : (uint64_t(1) << 8 * dtype_size(w.t)) - 1;
        const uint64_t got = load(ub, w.addr, w.t), exp = w.raw & mask;
        if (!close(w.t, got, exp, ulps) && ++bad <= 3)
            first += " at " + hex(w.addr) + " got " + hex(got) + " want " + hex(exp) + ";";
        store(expect, w.addr, w.t, got);
    }
    BOOST_CHECK_MESSAGE(bad == 0, op.describe() << ": " << bad << " of " << want.size()
                                                << " results wrong:" << first);
    const size_t at =
        std::mismatch(expect.begin(), expect.end(), ub.begin()).first - expect.begin();
    BOOST_CHECK_MESSAGE(at == expect.size(), op.describe()
                                                 << ": wrote outside its results at " << hex(at));
}

/// The targeted tests' layouts: 2 contiguous full repeats, and 3 repeats with odd strides and a
/// mask that leaves whole blocks and pairs empty.
std::vector<vector_op> shapes(const vector_op& base) {
    vector_op full = base, sparse = base;
    full.repeats = 2;
    sparse.repeats = 3;
    sparse.mask_lo = 0xF0F00000F0F000F3ull;
    sparse.mask_hi = 0x00FF0000000000FFull;
    sparse.dst_blk_stride = 2, sparse.src0_blk_stride = 3, sparse.src1_blk_stride = 1;
    sparse.dst_rep_stride = 17, sparse.src0_rep_stride = 25, sparse.src1_rep_stride = 9;
    return {full, sparse};
}

/// Verifies op in every layout of shapes() on random UB with the operands filled by `in`.
void run(const vector_op& op, const filler& in, unsigned ulps = 0) {
    for (const vector_op& s : shapes(op)) {
        rng_t rng(7);
        ub_t ub = random_ub(rng);
        if (in) in(ub, s, rng);
        verify(s, ub, ulps);
    }
}

/// One element: src0[0] = a, src1[0] = b, mask 1; returns dst[0] raw.
uint64_t one(vector_op op, uint64_t a, uint64_t b = 0) {
    ub_t ub(ub_size);
    op.mask_lo = 1, op.mask_hi = 0;
    store(ub, op.src0, op.type, a);
    store(ub, op.src1, op.type, b);
    unit().execute(op, ub.data(), true);
    return load(ub, op.dst, op.dst_type);
}

void expect_fault(const vector_op& op, const std::string& text, ub_t ub = ub_t(ub_size)) {
    try {
        unit().execute(op, ub.data(), true);
        BOOST_ERROR("no fault for " << op.describe() << ", expected one with: " << text);
    } catch (const model_fault& e) {
        BOOST_CHECK_MESSAGE(std::string(e.what()).find(text) != std::string::npos, e.what());
    }
}

const gen_fn int16_any = values(int16, -32768, 32767, 1);

}  // namespace

BOOST_AUTO_TEST_SUITE(vector_extended)

BOOST_AUTO_TEST_CASE(new_dtypes_names_and_sizes) {
    const std::pair<dtype, unsigned> sizes[] = {
        {int16, 2}, {uint16, 2}, {uint32, 4}, {uint8, 1}, {int64, 8}};
    for (auto [t, s] : sizes) BOOST_CHECK_EQUAL(dtype_size(t), s);
    BOOST_CHECK_EQUAL(all_dtypes_end() - all_dtypes_begin(), 11);
    std::vector<std::string> names;
    for (const dtype* t = all_dtypes_begin(); t != all_dtypes_end(); ++t) {
        dtype back = fp32;
        BOOST_CHECK_MESSAGE(dtype_from_string(to_string(*t), back) && back == *t, to_string(*t));
        names.push_back(to_string(*t));
    }
    for (const char* n : {"int16", "uint16", "uint32", "uint8", "int64"})
        BOOST_CHECK_MESSAGE(std::count(names.begin(), names.end(), n) == 1, n);
    dtype out;
    BOOST_CHECK(!dtype_from_string("uint64", out));
    BOOST_CHECK(!dtype_from_string("INT16", out));
    BOOST_CHECK(is_unsigned(uint8) && is_unsigned(uint16) && is_unsigned(uint32));
    BOOST_CHECK(!is_unsigned(int16) && !is_unsigned(int64) && !is_float(int64));
}

BOOST_AUTO_TEST_CASE(int16_arithmetic_wraps) {
    for (vec_opcode op :
         {o::add, o::sub, o::mul, o::max, o::min, o::add_relu, o::sub_relu, o::relu, o::abs})
        run(make(op, int16), sources(int16_any));
    for (vec_opcode op : {o::adds, o::muls, o::maxs, o::mins})
        for (float s : {2.5f, -3.5f, 7.f, 1e6f, -1e6f}) {  // rounds to 2, -4, 7, 32767, -32768
            vector_op v = make(op, int16);
            v.scalar = s;
            run(v, sources(int16_any));
        }
    const vector_op add = make(o::add, int16);
    BOOST_CHECK_EQUAL(one(add, 32767, 1), 0x8000u);                  // -32768
    BOOST_CHECK_EQUAL(one(make(o::add_relu, int16), 32767, 1), 0u);  // relu(-32768)
    BOOST_CHECK_EQUAL(one(make(o::sub, int16), 0x8000, 1), 0x7fffu);
    BOOST_CHECK_EQUAL(one(make(o::mul, int16), 300, 300), 24464u);  // 90000 - 65536
    BOOST_CHECK_EQUAL(one(make(o::abs, int16), 0x8000), 0x8000u);
    vector_op adds = make(o::adds, int16);
    adds.scalar = 2.5f;
    BOOST_CHECK_EQUAL(one(adds, 1), 3u);
}

BOOST_AUTO_TEST_CASE(bitwise_int16_uint16) {
    for (dtype t : {int16, uint16})
        for (vec_opcode op : {o::and_, o::or_, o::not_}) run(make(op, t), sources(any_bits()));
    BOOST_CHECK_EQUAL(one(make(o::not_, uint16), 0x00f0), 0xff0fu);
    for (dtype t : {fp16, int32})
        for (vec_opcode op : {o::and_, o::or_, o::not_})
            expect_fault(make(op, t), "is not supported");
}

BOOST_AUTO_TEST_CASE(shifts_by_scalar) {
    for (dtype t : {int16, uint16, int32, uint32})
        for (vec_opcode op : {o::shl, o::shr})
            for (float n : {0.f, 1.f, 5.f, 15.f, 16.f, 31.f, 40.f}) {
                vector_op v = make(op, t);
                v.scalar = n;
                run(v, sources(any_bits()));
            }
    auto shift = [](vec_opcode op, dtype t, float n, uint64_t a) {
        vector_op v = make(op, t);
        v.scalar = n;
        return one(v, a);
    };
    BOOST_CHECK_EQUAL(shift(o::shr, int16, 15, 0x8000), 0xffffu);  // arithmetic: -1
    BOOST_CHECK_EQUAL(shift(o::shr, int16, 40, 0x8000), 0xffffu);
    BOOST_CHECK_EQUAL(shift(o::shr, int16, 40, 0x7fff), 0u);
    BOOST_CHECK_EQUAL(shift(o::shr, uint16, 15, 0x8000), 1u);  // logical
    BOOST_CHECK_EQUAL(shift(o::shr, uint32, 31, 0xffffffff), 1u);
    BOOST_CHECK_EQUAL(shift(o::shr, int32, 31, 0x80000000), 0xffffffffu);
    BOOST_CHECK_EQUAL(shift(o::shl, int16, 15, 1), 0x8000u);
    BOOST_CHECK_EQUAL(shift(o::shl, int16, 16, 1), 0u);
    BOOST_CHECK_EQUAL(shift(o::shl, uint32, 31, 3), 0x80000000u);
    BOOST_CHECK_EQUAL(shift(o::shl, uint16, 2.5f, 1), 4u);  // count 2.5 rounds to 2
}

BOOST_AUTO_TEST_CASE(copy_raw_with_strides) {
    for (dtype t : {int16, uint16, int32, uint32, fp16, fp32})
        run(make(o::copy, t), sources(any_bits()));
}

BOOST_AUTO_TEST_CASE(multiply_adds) {
    for (vec_opcode op : {o::mla, o::madd, o::madd_relu, o::axpy}) {
        vector_op v = make(op, fp32);
        v.scalar = -1.5f;
        run(v, sources(values(fp32, -100, 100), values(fp32, -100, 100)));
        v = make(op, fp16);
        v.scalar = 0.75f;
        run(v, sources(values(fp16, -8, 8), values(fp16, -100, 100)));
    }
    for (vec_opcode op : {o::mla, o::axpy}) {  // 64 elements a repeat: fp16 16 a block, fp32 8
        vector_op v = make(op, fp16, fp32);
        v.scalar = 0.75f;
        run(v, sources(values(fp16, -8, 8), values(fp32, -100, 100)));
    }
    BOOST_CHECK_EQUAL(one(make(o::madd_relu, fp16), half(2), half(-1)), 0u);  // relu(2 * 0 - 1)
    // madd has no destination type of its own: dst_type is ignored (only conversions, mla and
    // axpy read it), as for every other same-type instruction.
    BOOST_CHECK_EQUAL(make(o::madd, fp16, fp32).describe().rfind("vmadd.fp16 ", 0), 0u);
    expect_fault(make(o::madd, int16), "is not supported");
}

BOOST_AUTO_TEST_CASE(reductions_int16_and_fp32) {
    for (vec_opcode op : {o::reduce_sum, o::reduce_max, o::reduce_min}) {
        run(make(op, int16), sources(int16_any));  // sums saturate
        run(make(op, int16), sources(values(int16, -200, 200, 1)));
    }
    for (vec_opcode op : {o::reduce_max, o::reduce_min})
        run(make(op, fp32), sources(values(fp32, -1e6, 1e6)));
}

BOOST_AUTO_TEST_CASE(group_and_pair_reductions) {
    for (vec_opcode op : {o::reduce_min, o::group_sum, o::group_max, o::group_min, o::pair_sum}) {
        run(make(op, fp32), sources(values(fp32, -100, 100, 1)));
        run(make(op, fp16), sources(values(fp16, -8, 8)), 1);
    }
}

BOOST_AUTO_TEST_CASE(gather_by_offsets) {
    for (dtype t : {uint16, uint32, fp16, fp32}) run(make(o::gather, t), gather_offsets());
    for (auto [t, off] : {std::pair{uint32, 2ull}, {uint16, 1ull}, {uint32, ub_size}}) {
        vector_op v = make(o::gather, t);
        v.mask_lo = 1, v.mask_hi = 0;
        ub_t ub(ub_size);
        store(ub, v.src1, uint32, off);
        expect_fault(v, "gather offset", ub);
    }
}

BOOST_AUTO_TEST_CASE(cast_new_pairs) {
    const std::pair<dtype, dtype> pairs[] = {
        {fp16, int16}, {int16, fp16}, {int16, fp32},  {fp16, uint8}, {uint8, fp16},
        {fp32, int64}, {int64, fp32}, {int32, int16}, {int16, int8}, {int16, uint8}};
    for (auto [from, to] : pairs) {
        const gen_fn small = values(from, -300, 300, is_float(from) ? 0.5 : 1);  // ties too
        const gen_fn wide = is_float(from) ? values(from, -6e4, 6e4) : any_bits();
        const gen_fn big = from == fp32 ? values(from, -2e19, 2e19) : wide;
        run(make(o::cast, from, to),
            sources([=](rng_t& rng) { return (rng() % 2 ? small : big)(rng); }));
    }
    const uint64_t nan16 = 0x7e00, ninf16 = 0xfc00;
    const struct {
        dtype from, to;
        std::vector<std::pair<uint64_t, uint64_t>> in_out;
    } known[] = {
        {fp16,
         int16,
         {{half(2.5), 2}, {half(3.5), 4}, {half(-2.5), 0xfffe}, {half(65504), 0x7fff}}},
        {fp16, int16, {{ninf16, 0x8000}, {nan16, 0}}},
        {int16, fp16, {{0x7fff, half(32768)}, {2049, half(2048)}, {2051, half(2052)}}},
        {int16, fp32, {{0x8000, f32_bits(-32768)}}},
        {uint8, fp16, {{255, half(255)}}},
        {fp16, uint8, {{half(-3), 0}, {half(300), 255}, {half(2.5), 2}}},
        {fp32,
         int64,
         {{f32_bits(70000), 70000}, {f32_bits(-2.5), uint64_t(-2)}, {f32_bits(NAN), 0}}},
        {fp32, int64, {{f32_bits(1e19f), INT64_MAX}, {f32_bits(-1e19f), uint64_t(INT64_MIN)}}},
        {int64,
         fp32,
         {{(1ull << 40) + 1, f32_bits(0x1p40f)}, {(1ull << 24) + 3, f32_bits(16777220)}}},
        {int32, int16, {{70000, 0x7fff}, {uint32_t(-70000), 0x8000}, {1234, 1234}}},
        {int16, int8, {{200, 0x7f}, {uint16_t(-200), 0x80}, {uint16_t(-5), 0xfb}}},
        {int16, uint8, {{0xffff, 0}, {300, 255}, {77, 77}}}};
    for (const auto& k : known)
        for (auto [in, out] : k.in_out) {
            const uint64_t got = one(make(o::cast, k.from, k.to), in);
            BOOST_CHECK_MESSAGE(got == out, to_string(k.from)
                                                << "->" << to_string(k.to) << " of " << hex(in)
                                                << ": got " << hex(got) << " want " << hex(out));
        }
}

BOOST_AUTO_TEST_CASE(deq_and_vdeq) {
    vector_op v = make(o::conv_deq, int32, fp16);
    v.scalar = 0.001f;
    run(v, sources(values(int32, -1e6, 1e6, 1)));
    v = make(o::conv_deq, int16, int8);
    v.scalar = 0.25f;  // x.5 ties round to even, |x| > 510 saturates
    run(v, sources(values(int16, -1000, 1000, 1)));
    BOOST_CHECK_EQUAL(one(v, 10), 2u);
    BOOST_CHECK_EQUAL(one(v, 14), 4u);
    BOOST_CHECK_EQUAL(one(v, 1000), 0x7fu);
    const float scales[16] = {0.5f, 0.25f,  -1.5f, 0.1f, 2,    1,     0.75f, -0.25f,
                              3,    0.125f, 1.5f,  -2,   0.3f, 0.01f, 4,     -0.5f};
    for (auto [from, to] : {std::pair{int32, fp16}, {int16, int8}}) {
        const gen_fn src = values(from, -300, 300, 1);
        run(make(o::conv_vdeq, from, to), [&](ub_t& ub, const vector_op& op, rng_t& rng) {
            fill(ub, op, operand::src0, src, rng);
            for (unsigned i = 0; i < 16; ++i) store(ub, op.src1 + 4 * i, fp32, f32_bits(scales[i]));
        });
    }
}

BOOST_AUTO_TEST_CASE(relu_convert_fused) {
    const std::pair<dtype, dtype> pairs[] = {{fp16, int8}, {fp32, fp16}, {int16, int8}};
    for (vec_opcode op : {o::add_relu_conv, o::sub_relu_conv})
        for (auto [from, to] : pairs) {
            const gen_fn src = from == fp16   ? values(from, -200, 200, 0.25)
                               : from == fp32 ? values(from, -7e4, 7e4)
                                              : int16_any;
            run(make(op, from, to), sources(src));
        }
    BOOST_CHECK_EQUAL(one(make(o::add_relu_conv, int16, int8), 32767, 1),
                      0u);  // wraps
    BOOST_CHECK_EQUAL(one(make(o::add_relu_conv, fp16, int8), half(100.25), half(0.25)), 100u);
    BOOST_CHECK_EQUAL(one(make(o::sub_relu_conv, fp32, fp16), f32_bits(7e4f), 0), 0x7c00u);
}

BOOST_AUTO_TEST_CASE(unsigned_moves) {
    for (dtype t : {uint16, uint32}) {
        for (float s : {0.f, 2.5f, 40000.f, 7e4f, 3e9f, -5.f}) {  // rounded, saturated to the type
            vector_op v = make(o::dup, t);
            v.scalar = s;
            run(v, nullptr);
        }
        run(make(o::brcb, t), sources(any_bits()));
        run(make(o::gather_mask, t), sources(any_bits()));
    }
}

// issue = max(issue floor, fixed + ceil(repeats x per repeat)), from the row of its dtypes.
BOOST_AUTO_TEST_CASE(cost_rows_of_new_instructions) {
    vector_costs c;
    c.row(o::group_sum, fp16, fp16) = {4, 2, 1.5};
    c.row(o::mla, fp16, fp32) = {0, 0, 4};
    c.row(o::mla, fp16, fp16) = {0, 0, 2};
    const vector_unit vu("vu", c, ub_size);
    vector_op v = make(o::group_sum, fp16);
    for (auto [r, want] : {std::pair{1u, 4u}, {3u, 7u}, {10u, 17u}}) {
        v.repeats = r;
        BOOST_CHECK_EQUAL(vu.issue_cycles(v), want);
    }
    v = make(o::mla, fp16, fp32);
    v.repeats = 5;
    BOOST_CHECK_EQUAL(vu.issue_cycles(v), 20u);
    v.dst_type = fp16;
    BOOST_CHECK_EQUAL(vu.issue_cycles(v), 10u);
}

BOOST_AUTO_TEST_CASE(footprints_of_mla_and_gather) {
    ub_t ub(ub_size);  // offsets 0: a valid gather
    vector_footprint fp;
    vector_op v = make(o::mla, fp16, fp32);
    v.repeats = 2;  // sources 4 blocks a repeat (extent 256 + 128), dst 8 (256 + 256)
    unit().execute(v, ub.data(), true, &fp);
    BOOST_REQUIRE_EQUAL(fp.n_reads, 3u);
    const std::pair<uint64_t, uint64_t> reads[] = {{at_src0, 384}, {at_src1, 384}, {at_dst, 512}};
    for (auto [addr, len] : reads)
        BOOST_CHECK_MESSAGE(std::any_of(fp.reads, fp.reads + 3,
                                        [&](auto r) { return r.addr == addr && r.len == len; }),
                            "mla reads " << hex(addr) << "+" << len);
    BOOST_CHECK(fp.write.addr == at_dst && fp.write.len == 512);

    v = make(o::gather, uint32);
    v.repeats = 2;  // 64 offsets a repeat
    unit().execute(v, ub.data(), true, &fp);
    BOOST_REQUIRE_EQUAL(fp.n_reads, 1u);
    BOOST_CHECK(fp.reads[0].addr == at_src1 && fp.reads[0].len == 512);
    BOOST_CHECK(fp.write.addr == at_dst && fp.write.len == 512);
}

// Random strides and masks (empty, one element, random, full) at repeats 1, 2, 7 and 255.
BOOST_AUTO_TEST_CASE(property_random_shapes) {
    struct property {
        vector_op op;
        filler in;
        unsigned ulps;
    };
    const property props[] = {
        {make(o::group_sum, fp32), sources(values(fp32, -100, 100, 1)), 0},
        {make(o::pair_sum, fp16), sources(values(fp16, -100, 100)), 1},
        {make(o::mla, fp16, fp32), sources(values(fp16, -8, 8), values(fp32, -100, 100)), 0},
        {make(o::gather, uint32), gather_offsets(), 0},
        {make(o::shl, int16), sources(int16_any), 0},
        {make(o::add_relu_conv, fp16, int8), sources(values(fp16, -200, 200, 0.25)), 0}};
    const float counts[] = {0, 1, 5, 15, 16, 31, 40};
    rng_t rng(2024);
    for (const property& p : props)
        for (uint32_t repeats : {1u, 2u, 7u, 255u})
            for (int mask_kind = 0; mask_kind < 4; ++mask_kind) {
                vector_op v = p.op;
                v.repeats = repeats;
                auto pick = [&](uint16_t& blk, uint16_t& rep) {  // repeats never overlap
                    blk = repeats == 255 ? 1 : uint16_t(1 + rng() % 2);
                    rep = repeats == 255 ? 8 : uint16_t(8 * blk + rng() % 4);
                };
                pick(v.dst_blk_stride, v.dst_rep_stride);
                pick(v.src0_blk_stride, v.src0_rep_stride);
                pick(v.src1_blk_stride, v.src1_rep_stride);
                const unsigned bit = rng() % elems_of(v);
                const double density = std::uniform_real_distribution<double>(0.05, 0.95)(rng);
                v.mask_lo = v.mask_hi = mask_kind == 3 ? ~0ull : 0;
                for (unsigned i = 0; i < 128 && mask_kind > 0 && mask_kind < 3; ++i)
                    if (mask_kind == 1 ? i == bit : std::bernoulli_distribution(density)(rng))
                        (i < 64 ? v.mask_lo : v.mask_hi) |= 1ull << (i % 64);
                if (v.op == o::shl) v.scalar = counts[rng() % 7];
                ub_t ub = random_ub(rng);
                p.in(ub, v, rng);
                verify(v, ub, p.ulps);
            }
}

// vmrgsort4: per repeat, 4 lists sorted by descending score merged into one; equal scores keep
// list order. Reference: a stable sort of the concatenated lists, descending.
BOOST_AUTO_TEST_CASE(merge_sort_four_lists) {
    rng_t g(41);
    for (dtype t : {fp32, fp16})
        for (uint32_t repeats : {1u, 3u}) {
            const unsigned n = 256 / dtype_size(t), per_list = n / 4;
            ub_t ub(ub_size);
            std::vector<std::pair<double, uint32_t>> want;  // (score, index) in output order
            for (uint32_t r = 0; r < repeats; ++r) {
                std::vector<std::pair<double, uint32_t>> all;
                for (unsigned l = 0; l < 4; ++l) {
                    std::vector<double> scores(per_list);
                    // few distinct values, so lists share scores and ties are exercised
                    for (double& v : scores) v = double(int(g() % 9) - 4);
                    std::sort(scores.rbegin(), scores.rend());
                    for (unsigned i = 0; i < per_list; ++i) {
                        const uint32_t index = r * 1000 + l * 100 + i;
                        uint8_t* p = ub.data() + at_src0 + (uint64_t(r) * n + l * per_list + i) * 8;
                        const uint64_t bits = enc_float(t, scores[i]);
                        std::memcpy(p, &bits, dtype_size(t));
                        std::memcpy(p + 4, &index, 4);
                        all.emplace_back(scores[i], index);
                    }
                }
                std::stable_sort(all.begin(), all.end(),
                                 [](auto& a, auto& b) { return a.first > b.first; });
                want.insert(want.end(), all.begin(), all.end());
            }
            vector_op op = make(o::merge_sort, t);
            op.repeats = repeats;
            unit().execute(op, ub.data(), true);
            size_t wrong = 0;
            for (size_t k = 0; k < want.size(); ++k) {
                const uint8_t* p = ub.data() + at_dst + k * 8;
                uint64_t bits = 0;
                uint32_t index;
                std::memcpy(&bits, p, dtype_size(t));
                std::memcpy(&index, p + 4, 4);
                wrong += bits != enc_float(t, want[k].first) || index != want[k].second;
            }
            BOOST_CHECK_MESSAGE(wrong == 0, to_string(t) << " x" << repeats << ": " << wrong
                                                         << " proposals out of place");
        }
    vector_op bad = make(o::merge_sort, int16);
    expect_fault(bad, "is not supported");
}

// vconv fp16 <-> int4: two elements a byte, element 2i in the low nibble; element idx of a repeat
// at nibble (idx / 64) * blk * 64 + idx % 64 of the int4 operand. fp16 -> int4 rounds half to
// even and saturates to -8..7 (NaN gives 0). The nibbles it does not write (masked elements,
// the gaps a block stride of 2 leaves) and every other UB byte stay as they were.
BOOST_AUTO_TEST_CASE(cast_fp16_int4_packs_two_a_byte) {
    const dtype int4 = dtype::int4;
    BOOST_CHECK_EQUAL(dtype_bits(int4), 4u);
    BOOST_CHECK_EQUAL(why_unsupported(make(o::cast, fp32, int4)),
                      "cast is not supported for fp32->int4 (see vconv in docs/kernel-api.md for "
                      "the pairs)");
    BOOST_CHECK_EQUAL(why_unsupported(make(o::cast, int4, int8)),
                      "cast is not supported for int4->int8 (see vconv in docs/kernel-api.md for "
                      "the pairs)");
    BOOST_CHECK_EQUAL(why_unsupported(make(o::add, int4)),
                      "add is not supported for int4 (a float type, int16 or int32)");
    auto nibble_of = [](const ub_t& ub, uint64_t base, uint64_t i) {
        const int n = (ub[base + i / 2] >> (4 * (i % 2))) & 0xf;
        return n >= 8 ? n - 16 : n;
    };
    rng_t rng(44);
    const gen_fn ties = values(fp16, -10, 10, 0.25), wide = values(fp16, -300, 300);
    for (bool to_int4 : {true, false})
        for (uint32_t repeats : {1u, 3u})
            for (int mask_kind = 0; mask_kind < 3; ++mask_kind) {
                vector_op v = to_int4 ? make(o::cast, fp16, int4) : make(o::cast, int4, fp16);
                v.repeats = repeats;
                uint16_t& blk4 = to_int4 ? v.dst_blk_stride : v.src0_blk_stride;
                uint16_t& rep4 = to_int4 ? v.dst_rep_stride : v.src0_rep_stride;
                uint16_t& rep16 = to_int4 ? v.src0_rep_stride : v.dst_rep_stride;
                blk4 = 2, rep4 = 5, rep16 = 9;
                v.mask_lo = v.mask_hi = mask_kind == 0 ? ~0ull : 0;
                for (unsigned i = 0; i < 128 && mask_kind > 0; ++i)
                    if (mask_kind == 1 ? i == 127 : rng() % 2)
                        (i < 64 ? v.mask_lo : v.mask_hi) |= 1ull << (i % 64);
                ub_t ub = random_ub(rng);
                const uint64_t base16 = to_int4 ? v.src0 : v.dst, base4 = to_int4 ? v.dst : v.src0;
                for (uint32_t r = 0; r < repeats; ++r)
                    for (unsigned i = 0; i < 128; ++i)
                        store(ub, base16 + (r * rep16 * 32) + 2 * i, fp16,
                              to_int4 ? (rng() % 2 ? ties : wide)(rng) : 0);
                ub_t want = ub;
                for (uint32_t r = 0; r < repeats; ++r)
                    for (unsigned i = 0; i < 128; ++i) {
                        if (!enabled(v, i)) continue;
                        const uint64_t at16 = base16 + r * rep16 * 32 + 2 * i;
                        const uint64_t nib =
                            uint64_t(r) * rep4 * 64 + (i / 64) * blk4 * 64 + i % 64;
                        if (to_int4) {
                            const double x = decode_half(uint16_t(load(ub, at16, fp16)));
                            const int q = int(std::clamp<double>(std::nearbyint(x), -8, 7));
                            const unsigned shift = 4 * (nib % 2);
                            uint8_t& b = want[base4 + nib / 2];
                            b = uint8_t((b & ~(0xfu << shift)) | ((unsigned(q) & 0xfu) << shift));
                        } else {
                            store(want, at16, fp16, half(nibble_of(ub, base4, nib)));
                        }
                    }
                unit().execute(v, ub.data(), true);
                const auto diff = std::mismatch(ub.begin(), ub.end(), want.begin());
                BOOST_CHECK_MESSAGE(diff.first == ub.end(),
                                    (to_int4 ? "fp16->int4" : "int4->fp16")
                                        << " repeats " << repeats << " mask " << mask_kind
                                        << ": first wrong byte at "
                                        << hex(uint64_t(diff.first - ub.begin())));
            }
    const std::pair<uint64_t, int> known[] = {{half(2.5), 2}, {half(3.5), 4},   {half(-8.5), -8},
                                              {half(100), 7}, {half(-100), -8}, {0xfc00, -8},
                                              {0x7e00, 0},    {half(-0.5), 0},  {half(7.49), 7}};
    for (auto [in, out] : known) {
        vector_op v = make(o::cast, fp16, int4);
        v.mask_lo = 2, v.mask_hi = 0;  // element 1: the high nibble of byte 0
        ub_t ub(ub_size);
        store(ub, v.src0 + 2, fp16, in);
        unit().execute(v, ub.data(), true);
        BOOST_CHECK_MESSAGE(
            nibble_of(ub, v.dst, 1) == out && (ub[v.dst] & 0xf) == 0,
            "fp16 " << hex(in) << " -> int4 " << nibble_of(ub, v.dst, 1) << ", want " << out);
    }
    // footprint: 128 fp16 (256 bytes) in, 128 nibbles (64 bytes) out
    vector_footprint fp;
    ub_t ub(ub_size);
    unit().execute(make(o::cast, fp16, int4), ub.data(), true, &fp);
    BOOST_CHECK(fp.write.addr == at_dst && fp.write.len == 64);
    BOOST_CHECK(fp.n_reads == 1 && fp.reads[0].len == 256);
}

BOOST_AUTO_TEST_SUITE_END()
