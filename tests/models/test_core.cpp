// The AI core: cube arithmetic against a plain CPU matmul, closed-form instruction cycle counts,
// set_flag/wait_flag/barrier semantics on hand-built programs, cross-core flags on a split chip,
// fault reports from kernels, issue stalls on full queues and the task scheduler's placement.
//
// Every expected number is computed here: fractal layouts are written out from their
// definitions (ascend-facts §1.5) rather than taken from models/core/fractal_layout.h, fp16 and
// bf16 values are encoded by hand, and cycle counts come from the config values.
//
// Tolerances for mmad (the cube accumulates in fp32 or int32; the reference is double):
// - fp16/bf16 -> fp32: |got - ref| <= 1e-5 * (sum over k of |a*b| + |c0|), i.e. fp32
//   accumulation error relative to the magnitude of the terms summed (products of fp16 or
//   bf16 inputs are exact in fp32, so only the additions round).
// - int8 -> int32: exact.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <boost/test/unit_test.hpp>
#include <systemc>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sw/kernel/kernel_api.h"
#include "sw/kernel/launch.h"
#include "tests/test_util.h"

using namespace npusim;
using models::dtype;
using models::kernel_kind;
using models::mem_space;
using models::pipe_id;
using models::ps_t;

namespace {

// ---- small helpers ----

using block_body = std::function<void(models::ai_core&)>;

/// One block of `kind` on the chip running `body` on the scalar unit of each of its cores.
models::launch_record run_block(platform::chip& c, const block_body& body,
                                kernel_kind kind = kernel_kind::cube) {
    return c.scheduler().launch("t", 1, kind,
                                [&](models::ai_core& core, unsigned, unsigned) { body(core); });
}

ps_t block_time(const models::launch_record& r) {
    return r.blocks.at(0).end - r.blocks.at(0).start;
}

ps_t period_of(double hz) {
    return static_cast<ps_t>(std::llround(1e12 / hz));
}

uint64_t ceil_div(uint64_t a, uint64_t b) {
    return (a + b - 1) / b;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

void put_f32(uint8_t* p, float v) {
    std::memcpy(p, &v, 4);
}
float get_f32(const uint8_t* p) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
}

/// dst = src + scalar on fp32, `repeats` x 64 contiguous elements.
models::vector_op vadds_f32(uint64_t dst, uint64_t src, float scalar, uint32_t repeats = 1) {
    models::vector_op v;
    v.op = models::vec_opcode::adds;
    v.type = v.dst_type = dtype::fp32;
    v.dst = dst;
    v.src0 = v.src1 = src;
    v.scalar = scalar;
    v.repeats = repeats;
    return v;
}

models::dma_request gm_to_ub(uint64_t gm, uint64_t ub, uint64_t bytes) {
    return test::copy(mem_space::gm, gm, mem_space::ub, ub, bytes);
}

// ---- hand-written number encodings (exact values only) ----

/// fp16 bits of v = n / 1024 with 0 < |n| < 2048 (always a normal fp16).
uint16_t encode_half_exact(double v) {
    if (v == 0) return 0;
    const uint16_t sign = v < 0 ? 0x8000 : 0;
    const double a = std::fabs(v);
    int e = 0;
    while (std::ldexp(1.0, e + 1) <= a) ++e;
    while (std::ldexp(1.0, e) > a) --e;
    const double mant = std::ldexp(a, 10 - e) - 1024;  // 10 fraction bits
    BOOST_CHECK_EQUAL(mant, std::floor(mant));
    return static_cast<uint16_t>(sign | ((e + 15) << 10) | static_cast<uint16_t>(mant));
}

/// bf16 bits of a value with at most 8 significant bits: the top half of its fp32 bits.
uint16_t encode_bf16_exact(double v) {
    const float f = static_cast<float>(v);
    uint32_t u;
    std::memcpy(&u, &f, 4);
    BOOST_CHECK_EQUAL(u & 0xffffu, 0u);
    return static_cast<uint16_t>(u >> 16);
}

// ---- fractal layouts, written from their definitions ----
// ZZ (L0A, m x k): 16 x k0 fractals, fractal rows laid out one after the other (row-block
// major), each fractal row-major. ZN (L0B, k x n): k0 x 16 fractals, row-block major, each
// fractal column-major. NZ (L0C, m x n, fp32/int32): 16 x 16 fractals, column-block major,
// each fractal row-major. k0 = 32 bytes / element size.

uint64_t zz_offset(uint64_t r, uint64_t c, uint64_t kp, uint64_t k0) {
    const uint64_t frac = (r / 16) * (kp / k0) + c / k0;
    return frac * 16 * k0 + (r % 16) * k0 + (c % k0);
}
uint64_t zn_offset(uint64_t r, uint64_t c, uint64_t np, uint64_t k0) {
    const uint64_t frac = (r / k0) * (np / 16) + c / 16;
    return frac * k0 * 16 + (c % 16) * k0 + (r % k0);
}
uint64_t nz_offset(uint64_t r, uint64_t c, uint64_t mp) {
    return ((c / 16) * mp + r) * 16 + (c % 16);
}

// ---- mmad against a CPU matmul ----

struct mmad_shape {
    uint32_t m, k, n;
};

/// L0 buffers large enough for a 128x64x256 tile on the tiny chip.
std::vector<std::string> big_l0() {
    return {"buffers.l0a.size=64KiB", "buffers.l0b.size=64KiB", "buffers.l0c.size=256KiB"};
}

void check_mmad(dtype t) {
    auto cfg = test::tiny(big_l0());
    platform::simulation sim(cfg);
    const bool is_int = t == dtype::int8;
    const uint64_t e = is_int ? 1 : 2, k0 = 32 / e;
    const std::vector<mmad_shape> shapes = {
        {1, 1, 1}, {16, 16, 16}, {33, 47, 18}, {17, 65, 40}, {128, 64, 256}};
    // Operands away from offset 0 (L0A/L0B need 512 B alignment, L0C 64 B).
    const uint64_t a_at = 512, b_at = 1024, c_at = 2048 + 64;
    std::mt19937 rng(42 + unsigned(t));
    std::uniform_int_distribution<int> small_int(-128, 127);
    std::uniform_int_distribution<int> fp16_n(-2047, 2047), bf16_n(-255, 255);
    unsigned checked = 0;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        models::ai_core& core = c.core(0);
        uint8_t* l0a = core.buffer(mem_space::l0a)->data();
        uint8_t* l0b = core.buffer(mem_space::l0b)->data();
        uint8_t* l0c = core.buffer(mem_space::l0c)->data();
        const uint64_t l0a_size = core.buffer(mem_space::l0a)->size();
        const uint64_t l0b_size = core.buffer(mem_space::l0b)->size();
        const uint64_t l0c_size = core.buffer(mem_space::l0c)->size();
        for (const mmad_shape& s : shapes)
            for (bool acc : {false, true}) {
                const uint64_t mp = ceil_div(s.m, 16) * 16, kp = ceil_div(s.k, k0) * k0,
                               np = ceil_div(s.n, 16) * 16;
                // Values: exact in the input type, so the reference sees what the cube sees.
                std::vector<double> a(uint64_t(s.m) * s.k), b(uint64_t(s.k) * s.n),
                    c0(uint64_t(s.m) * s.n);
                auto draw = [&]() -> double {
                    if (t == dtype::int8) return small_int(rng);
                    if (t == dtype::fp16) return fp16_n(rng) / 1024.0;
                    return bf16_n(rng) / 128.0;
                };
                for (auto& v : a) v = draw();
                for (auto& v : b) v = draw();
                for (auto& v : c0)
                    v = is_int ? std::uniform_int_distribution<int>(-100000, 100000)(rng)
                               : std::uniform_int_distribution<int>(-4096, 4096)(rng) / 64.0;
                // Garbage everywhere first: padding must be written explicitly as zero, and the
                // cube must not read outside its operands.
                std::memset(l0a, 0x5a, l0a_size);
                std::memset(l0b, 0xa5, l0b_size);
                std::memset(l0c, 0xff, l0c_size);  // NaN in fp32: overwrite must ignore it
                std::memset(l0a + a_at, 0, mp * kp * e);
                std::memset(l0b + b_at, 0, kp * np * e);
                auto store = [&](uint8_t* base, uint64_t idx, double v) {
                    if (t == dtype::int8) {
                        base[idx] = static_cast<uint8_t>(static_cast<int8_t>(v));
                        return;
                    }
                    const uint16_t bits =
                        t == dtype::fp16 ? encode_half_exact(v) : encode_bf16_exact(v);
                    std::memcpy(base + 2 * idx, &bits, 2);
                };
                for (uint32_t i = 0; i < s.m; ++i)
                    for (uint32_t p = 0; p < s.k; ++p)
                        store(l0a + a_at, zz_offset(i, p, kp, k0), a[uint64_t(i) * s.k + p]);
                for (uint32_t p = 0; p < s.k; ++p)
                    for (uint32_t j = 0; j < s.n; ++j)
                        store(l0b + b_at, zn_offset(p, j, np, k0), b[uint64_t(p) * s.n + j]);
                if (acc) {
                    std::memset(l0c + c_at, 0, mp * np * 4);
                    for (uint32_t i = 0; i < s.m; ++i)
                        for (uint32_t j = 0; j < s.n; ++j) {
                            uint8_t* p = l0c + c_at + 4 * nz_offset(i, j, mp);
                            const double v = c0[uint64_t(i) * s.n + j];
                            if (is_int) {
                                const int32_t iv = static_cast<int32_t>(v);
                                std::memcpy(p, &iv, 4);
                            } else {
                                put_f32(p, static_cast<float>(v));
                            }
                        }
                }
                models::mmad_op op;
                op.a = a_at;
                op.b = b_at;
                op.c = c_at;
                op.m = s.m;
                op.k = s.k;
                op.n = s.n;
                op.in_type = t;
                op.accumulate = acc;
                const auto rec = run_block(c, [&](models::ai_core& k) { k.issue(pipe_id::M, op); });
                BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
                double worst = 0;
                for (uint32_t i = 0; i < s.m; ++i)
                    for (uint32_t j = 0; j < s.n; ++j) {
                        double ref = acc ? c0[uint64_t(i) * s.n + j] : 0.0;
                        double mag = std::fabs(ref);
                        for (uint32_t p = 0; p < s.k; ++p) {
                            const double prod = a[uint64_t(i) * s.k + p] * b[uint64_t(p) * s.n + j];
                            ref += prod;
                            mag += std::fabs(prod);
                        }
                        const uint8_t* p = l0c + c_at + 4 * nz_offset(i, j, mp);
                        if (is_int) {
                            int32_t got;
                            std::memcpy(&got, p, 4);
                            if (got != static_cast<int64_t>(ref)) {
                                BOOST_CHECK_MESSAGE(
                                    false, "int8 " << s.m << "x" << s.k << "x" << s.n
                                                   << (acc ? " acc" : "") << " C[" << i << "][" << j
                                                   << "] = " << got << ", want " << ref);
                                return;
                            }
                        } else {
                            const double got = get_f32(p);
                            const double err = std::fabs(got - ref);
                            worst = std::max(worst, mag > 0 ? err / mag : err);
                            if (!(err <= 1e-5 * mag)) {
                                BOOST_CHECK_MESSAGE(false, models::to_string(t)
                                                               << " " << s.m << "x" << s.k << "x"
                                                               << s.n << (acc ? " acc" : "")
                                                               << " C[" << i << "][" << j
                                                               << "] = " << got << ", want " << ref
                                                               << " (|terms| " << mag << ")");
                                return;
                            }
                        }
                        ++checked;
                    }
                BOOST_TEST_MESSAGE(models::to_string(t)
                                   << " " << s.m << "x" << s.k << "x" << s.n << (acc ? " acc" : "")
                                   << ": worst relative error " << worst);
            }
    }),
                          sim.error());
    uint64_t expected = 0;
    for (const auto& s : shapes) expected += 2 * uint64_t(s.m) * s.n;
    BOOST_CHECK_EQUAL(checked, expected);
}

// ---- flag programs ----

/// Layout of the DMA + vector programs: 8 KiB GM -> UB[0, 8K); the vector op reads the last
/// 256 B of the copy (written by the DMA's last burst) and writes UB[0x4000].
constexpr uint64_t k_gm_src = 0x10000, k_copy_bytes = 8192, k_vec_src = k_copy_bytes - 256,
                   k_vec_dst = 0x4000;

/// One GM channel, no L2: the last burst of the copy lands in UB long after the DMA starts.
std::vector<std::string> flag_sets() {
    return {"l2.enabled=false", "gm.channels=1"};
}

float gm_value(unsigned i) {
    return 1000.0f + 0.5f * float(i);
}
float stale_value(unsigned i) {
    return -1.0f - float(i);
}

void fill_gm_and_stale_ub(platform::chip& c) {
    std::vector<float> src(k_copy_bytes / 4);
    for (unsigned i = 0; i < src.size(); ++i) src[i] = gm_value(i);
    c.gm().write(k_gm_src, src.data(), k_copy_bytes);
    uint8_t* ub = c.core(0).buffer(mem_space::ub)->data();
    for (unsigned i = 0; i < k_copy_bytes / 4; ++i) put_f32(ub + 4 * i, stale_value(i));
    for (unsigned i = 0; i < 64; ++i) put_f32(ub + k_vec_dst + 4 * i, 0.0f);
}

/// Whether UB[k_vec_dst] holds (copied or stale data of the vector's source) + 1.
bool vec_result_is(platform::chip& c, bool from_copy) {
    const uint8_t* ub = c.core(0).buffer(mem_space::ub)->data();
    for (unsigned i = 0; i < 64; ++i) {
        const unsigned src = unsigned(k_vec_src / 4) + i;
        const float want = (from_copy ? gm_value(src) : stale_value(src)) + 1.0f;
        if (get_f32(ub + k_vec_dst + 4 * i) != want) return false;
    }
    return true;
}

/// Duration of the DMA alone, as one block (the second of two identical runs).
ps_t dma_only_time(platform::chip& c) {
    const auto body = [](models::ai_core& k) {
        k.issue(pipe_id::MTE2, gm_to_ub(k_gm_src, 0, k_copy_bytes));
    };
    const ps_t first = block_time(run_block(c, body));
    const ps_t second = block_time(run_block(c, body));
    BOOST_CHECK_EQUAL(first, second);  // no cache: the same copy takes the same time
    return second;
}

/// Vector op issue occupancy: max(issue floor, ceil(repeats x cycles per repeat of its class)),
/// in ps.
ps_t vec_time(const platform::platform_config& cfg, const char* cls, uint32_t repeats) {
    const double per = cfg.numbers.at(std::string("vector.cycles_per_repeat.") + cls);
    const uint64_t cycles = std::max(uint64_t(cfg.numbers.at("vector.issue_cycles")),
                                     uint64_t(std::ceil(repeats * per - 1e-9)));
    return cycles * period_of(cfg.numbers.at("chip.clock.cube"));
}

/// Vector op latency (issue end to completion), in ps.
ps_t vec_latency(const platform::platform_config& cfg) {
    return uint64_t(cfg.numbers.at("vector.latency")) *
           period_of(cfg.numbers.at("chip.clock.cube"));
}

/// A chip that deadlocks: runs `body` in one block and returns the simulation's error.
std::string deadlock_report(const platform::platform_config& cfg, const block_body& body,
                            kernel_kind kind = kernel_kind::cube) {
    platform::simulation sim(cfg);
    bool returned = false;
    const bool ok = sim.run([&](platform::chip& c, auto&) {
        run_block(c, body, kind);
        returned = true;
    });
    BOOST_CHECK(!ok);
    BOOST_CHECK(!returned);
    BOOST_TEST_MESSAGE("report: " << sim.error());
    return sim.error();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core)

// ---- 1. mmad arithmetic ----

BOOST_AUTO_TEST_CASE(mmad_fp16_matches_cpu_matmul) {
    check_mmad(dtype::fp16);
}

BOOST_AUTO_TEST_CASE(mmad_bf16_matches_cpu_matmul) {
    check_mmad(dtype::bf16);
}

BOOST_AUTO_TEST_CASE(mmad_int8_matches_cpu_matmul) {
    check_mmad(dtype::int8);
}

// ---- 2. single-instruction cycle counts ----

// mmad: it holds the M pipe for max(issue, fractals) cycles, fractals = ceil(m/16) *
// ceil(k/K0) * ceil(n/16), K0 = 16 (fp16, bf16) or 32 (int8), and completes latency cycles
// later: the M pipe's busy time is the first, the block's duration (which waits for
// completion) the sum. Was fractals + a fixed overhead for both before issue and latency split.
BOOST_AUTO_TEST_CASE(mmad_cycles_match_closed_form) {
    auto sets = big_l0();
    sets.push_back("cube.issue_cycles=13");
    sets.push_back("cube.latency=5");
    sets.push_back("chip.clock.cube=1.25GHz");
    auto cfg = test::tiny(sets);
    const ps_t period = period_of(cfg.numbers.at("chip.clock.cube"));
    BOOST_REQUIRE_EQUAL(period, 800u);
    const uint64_t issue = uint64_t(cfg.numbers.at("cube.issue_cycles"));
    const uint64_t latency = uint64_t(cfg.numbers.at("cube.latency"));
    BOOST_REQUIRE_EQUAL(issue, 13u);
    BOOST_REQUIRE_EQUAL(latency, 5u);
    platform::simulation sim(cfg);
    struct row {
        dtype t;
        mmad_shape s;
    };
    const std::vector<row> rows = {{dtype::fp16, {1, 1, 1}},      {dtype::fp16, {33, 47, 18}},
                                   {dtype::fp16, {128, 64, 256}}, {dtype::bf16, {33, 47, 18}},
                                   {dtype::int8, {1, 1, 1}},      {dtype::int8, {33, 47, 18}},
                                   {dtype::int8, {128, 64, 256}}, {dtype::int8, {16, 33, 16}}};
    std::vector<std::pair<ps_t, ps_t>> measured;  // (M busy, block duration)
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        models::pipe* m = c.core(0).get_pipe(pipe_id::M);
        for (const row& r : rows) {
            models::mmad_op op;
            op.m = r.s.m;
            op.k = r.s.k;
            op.n = r.s.n;
            op.in_type = r.t;
            const ps_t busy0 = m->busy_ps();
            const auto rec = run_block(c, [&](models::ai_core& k) { k.issue(pipe_id::M, op); });
            BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
            measured.emplace_back(m->busy_ps() - busy0, block_time(rec));
        }
    }),
                          sim.error());
    BOOST_REQUIRE_EQUAL(measured.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto& s = rows[i].s;
        const uint64_t k0 = rows[i].t == dtype::int8 ? 32 : 16;
        const uint64_t fractals = ceil_div(s.m, 16) * ceil_div(s.k, k0) * ceil_div(s.n, 16);
        const ps_t want = std::max(issue, fractals) * period;
        BOOST_TEST_MESSAGE(models::to_string(rows[i].t)
                           << " " << s.m << "x" << s.k << "x" << s.n << ": " << want << " ps");
        BOOST_CHECK_EQUAL(measured[i].first, want);
        BOOST_CHECK_EQUAL(measured[i].second, want + latency * period);
    }
    // Spot values: fp16 33x47x18 = 3*3*2 = 18 fractals > 13; int8 = 3*2*2 = 12 < 13 (issue
    // bound); fp16 128x64x256 = 8*4*16 = 512.
    BOOST_CHECK_EQUAL(measured[1].first, 18u * 800u);
    BOOST_CHECK_EQUAL(measured[5].first, 13u * 800u);
    BOOST_CHECK_EQUAL(measured[2].second, (512u + 5u) * 800u);
}

// Vector: the V pipe is busy max(issue, ceil(repeats x cycles_per_repeat[class])) cycles and
// the instruction completes latency cycles later (the block waits for it). Was overhead +
// work for both before issue and latency split.
BOOST_AUTO_TEST_CASE(vector_cycles_match_closed_form) {
    auto cfg = test::tiny({"vector.issue_cycles=6", "vector.latency=3",
                           "vector.cycles_per_repeat.simple=1.5",
                           "vector.cycles_per_repeat.transcendental=3.25"});
    platform::simulation sim(cfg);
    struct row {
        models::vec_opcode op;
        const char* cls;
        uint32_t repeats;
    };
    const std::vector<row> rows = {{models::vec_opcode::add, "simple", 1},
                                   {models::vec_opcode::add, "simple", 7},
                                   {models::vec_opcode::add, "simple", 255},
                                   {models::vec_opcode::exp, "transcendental", 1},
                                   {models::vec_opcode::exp, "transcendental", 5}};
    std::vector<std::pair<ps_t, ps_t>> measured;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        models::pipe* v = c.core(0).get_pipe(pipe_id::V);
        for (const row& r : rows) {
            models::vector_op op;
            op.op = r.op;
            op.type = op.dst_type = dtype::fp16;
            op.repeats = r.repeats;
            // tiny's UB has 4 KiB banks: the sources in banks 0 and 2, so they do not conflict
            op.dst = 0x1000;
            op.src0 = 0;
            op.src1 = 0x2000;
            op.dst_rep_stride = op.src0_rep_stride = op.src1_rep_stride = 0;  // stay in 256 B
            const ps_t busy0 = v->busy_ps();
            const auto rec = run_block(
                c, [&](models::ai_core& k) { k.issue(pipe_id::V, op); }, kernel_kind::vector);
            BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
            measured.emplace_back(v->busy_ps() - busy0, block_time(rec));
        }
    }),
                          sim.error());
    BOOST_REQUIRE_EQUAL(measured.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
        const ps_t want = vec_time(cfg, rows[i].cls, rows[i].repeats);
        BOOST_CHECK_EQUAL(measured[i].first, want);
        BOOST_CHECK_EQUAL(measured[i].second, want + vec_latency(cfg));
    }
    // Spot values at 1 GHz: add x1 = max(6, ceil(1.5)) = 6; add x7 = max(6, ceil(10.5)) = 11;
    // exp x5 = ceil(16.25) = 17; each block 3 cycles longer.
    BOOST_CHECK_EQUAL(measured[0].first, 6000u);
    BOOST_CHECK_EQUAL(measured[1].first, 11000u);
    BOOST_CHECK_EQUAL(measured[4].first, 17000u);
    BOOST_CHECK_EQUAL(measured[4].second, 20000u);
}

// ---- 3. flags and barriers within one core ----

// (a) DMA; set_flag(MTE2, V, 0) | wait_flag(MTE2, V, 0); vector op: the vector op runs after
// the DMA ends and computes on the copied data.
BOOST_AUTO_TEST_CASE(flag_orders_vector_after_dma) {
    auto cfg = test::tiny(flag_sets());
    platform::simulation sim(cfg);
    ps_t dma = 0, total = 0, v_busy = 0, issued_at = 0;
    bool copied = false;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        fill_gm_and_stale_ub(c);
        dma = dma_only_time(c);
        fill_gm_and_stale_ub(c);
        const ps_t busy0 = c.core(0).get_pipe(pipe_id::V)->busy_ps();
        const auto rec = run_block(c, [&](models::ai_core& k) {
            const ps_t t0 = models::now_ps();
            k.issue(pipe_id::MTE2, gm_to_ub(k_gm_src, 0, k_copy_bytes));
            k.issue(pipe_id::MTE2, models::flag_op{pipe_id::MTE2, pipe_id::V, 0, true});
            k.issue(pipe_id::V, models::flag_op{pipe_id::MTE2, pipe_id::V, 0, false});
            k.issue(pipe_id::V, vadds_f32(k_vec_dst, k_vec_src, 1.0f));
            issued_at = models::now_ps() - t0;  // the scalar unit does not wait for flags
        });
        BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
        total = block_time(rec);
        v_busy = c.core(0).get_pipe(pipe_id::V)->busy_ps() - busy0;
        copied = vec_result_is(c, true);
    }),
                          sim.error());
    const ps_t vec = vec_time(cfg, "simple", 1);
    BOOST_TEST_MESSAGE("dma " << dma << " ps, vector " << vec << " ps, block " << total << " ps");
    BOOST_CHECK_GT(dma, 4 * vec);  // the DMA is long enough for the difference to show
    BOOST_CHECK(copied);
    BOOST_CHECK_EQUAL(issued_at, 0u);
    BOOST_CHECK_EQUAL(v_busy, vec);  // the wait is not busy time
    // Serial: the vector op starts when the DMA ends; the block ends when it completes (its
    // issue plus the vector latency; before issue and latency split: dma + vec).
    BOOST_CHECK_EQUAL(total, dma + vec + vec_latency(cfg));
}

// (b) The same program without the flags: the vector op runs at once, concurrently with the
// DMA, and reads UB before the copy reached it.
BOOST_AUTO_TEST_CASE(without_flags_vector_reads_stale_data) {
    auto cfg = test::tiny(flag_sets());
    platform::simulation sim(cfg);
    ps_t dma = 0, total = 0;
    bool stale = false, copy_landed = false;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        fill_gm_and_stale_ub(c);
        dma = dma_only_time(c);
        fill_gm_and_stale_ub(c);
        const auto rec = run_block(c, [&](models::ai_core& k) {
            k.issue(pipe_id::MTE2, gm_to_ub(k_gm_src, 0, k_copy_bytes));
            k.issue(pipe_id::V, vadds_f32(k_vec_dst, k_vec_src, 1.0f));
        });
        BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
        total = block_time(rec);
        stale = vec_result_is(c, false);
        const uint8_t* ub = c.core(0).buffer(mem_space::ub)->data();
        copy_landed = get_f32(ub + k_vec_src) == gm_value(unsigned(k_vec_src / 4));
    }),
                          sim.error());
    const ps_t vec = vec_time(cfg, "simple", 1);
    BOOST_CHECK(stale);
    BOOST_CHECK(copy_landed);  // the copy itself completed, just too late for the vector op
    // Concurrent: the block takes as long as the longer of the two (the vector op until it
    // completes, latency included).
    BOOST_CHECK_EQUAL(total, std::max(dma, vec + vec_latency(cfg)));
    BOOST_CHECK_LT(total, dma + vec);
}

// (c) wait_flag clears the flag: one set satisfies one wait; the second wait blocks forever.
BOOST_AUTO_TEST_CASE(wait_flag_clears_so_second_wait_deadlocks) {
    const std::string report = deadlock_report(test::tiny(), [](models::ai_core& k) {
        k.issue(pipe_id::MTE2, models::flag_op{pipe_id::MTE2, pipe_id::V, 0, true});
        k.issue(pipe_id::V, models::flag_op{pipe_id::MTE2, pipe_id::V, 0, false});
        k.issue(pipe_id::V, vadds_f32(k_vec_dst, 0, 1.0f));
        k.issue(pipe_id::V, models::flag_op{pipe_id::MTE2, pipe_id::V, 0, false});
    });
    BOOST_CHECK(contains(report, "deadlock"));
    BOOST_CHECK(contains(report, "chip.core0 pipe V waits for flag MTE2->V id 0"));
}

// (d) A set with another id does not satisfy the wait.
BOOST_AUTO_TEST_CASE(set_with_other_id_does_not_satisfy_wait) {
    const std::string report = deadlock_report(test::tiny(), [](models::ai_core& k) {
        k.issue(pipe_id::MTE2, models::flag_op{pipe_id::MTE2, pipe_id::V, 1, true});
        k.issue(pipe_id::MTE3, models::flag_op{pipe_id::MTE3, pipe_id::V, 0, true});
        k.issue(pipe_id::V, models::flag_op{pipe_id::MTE2, pipe_id::V, 0, false});
    });
    BOOST_CHECK(contains(report, "chip.core0 pipe V waits for flag MTE2->V id 0"));
}

// (e) barrier(V) in a pipe orders the pipe without stalling the scalar unit; barrier(ALL)
// stalls the scalar unit until every pipe drained.
BOOST_AUTO_TEST_CASE(barriers_wait_for_earlier_work) {
    auto cfg = test::tiny(flag_sets());
    platform::simulation sim(cfg);
    ps_t dma = 0, pipe_total = 0, pipe_issued = 0, all_total = 0, all_returned = 0;
    bool pipe_result = false, all_copied = false;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        fill_gm_and_stale_ub(c);
        dma = dma_only_time(c);
        uint8_t* ub = c.core(0).buffer(mem_space::ub)->data();

        // barrier in the V pipe between a producer and a consumer of UB[0x5000].
        for (unsigned i = 0; i < 64; ++i) put_f32(ub + 0x6000 + 4 * i, float(i));
        auto rec = kernel::launch(c, "pipe_barrier", 1, kernel_kind::vector,
                                  [&](kernel::kernel_context& ctx) {
                                      const ps_t t0 = models::now_ps();
                                      auto& k = ctx.core();
                                      k.issue(pipe_id::V, vadds_f32(0x5000, 0x6000, 1.0f, 1));
                                      ctx.pipe_barrier(pipe_id::V);
                                      k.issue(pipe_id::V, vadds_f32(0x7000, 0x5000, 1.0f, 1));
                                      pipe_issued = models::now_ps() - t0;
                                  });
        BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
        pipe_total = block_time(rec);
        pipe_result = true;
        for (unsigned i = 0; i < 64; ++i)
            pipe_result &= get_f32(ub + 0x7000 + 4 * i) == float(i) + 2.0f;

        // barrier(ALL) between a DMA and a vector op that reads its data.
        fill_gm_and_stale_ub(c);
        rec = kernel::launch(c, "barrier_all", 1, kernel_kind::vector,
                             [&](kernel::kernel_context& ctx) {
                                 const ps_t t0 = models::now_ps();
                                 auto& k = ctx.core();
                                 k.issue(pipe_id::MTE2, gm_to_ub(k_gm_src, 0, k_copy_bytes));
                                 ctx.pipe_barrier(pipe_id::ALL);
                                 all_returned = models::now_ps() - t0;
                                 k.issue(pipe_id::V, vadds_f32(k_vec_dst, k_vec_src, 1.0f));
                             });
        BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
        all_total = block_time(rec);
        all_copied = vec_result_is(c, true);
    }),
                          sim.error());
    const ps_t vec = vec_time(cfg, "simple", 1), lat = vec_latency(cfg);
    BOOST_CHECK(pipe_result);
    BOOST_CHECK_EQUAL(pipe_issued, 0u);
    // The barrier holds the second op until the first completed (issue + latency); without
    // it they would overlap. Before issue and latency split: 2 * vec.
    BOOST_CHECK_EQUAL(pipe_total, 2 * (vec + lat));
    BOOST_CHECK(all_copied);
    BOOST_CHECK_EQUAL(all_returned, dma);
    BOOST_CHECK_EQUAL(all_total, dma + vec + lat);
}

// (f) An event id beyond the chip's range is a fault naming core, pipe, instruction and range.
BOOST_AUTO_TEST_CASE(event_id_out_of_range_faults) {
    auto cfg = platform::load_platform("ascend910", {"chip.cores=1"});
    BOOST_REQUIRE_EQUAL(cfg.numbers.at("chip.event_ids"), 4.0);
    platform::simulation sim(cfg);
    models::launch_record rec, after;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        rec = run_block(c, [](models::ai_core& k) {
            k.issue(pipe_id::MTE2, models::flag_op{pipe_id::MTE2, pipe_id::V, 3, true});
            k.issue(pipe_id::V, models::flag_op{pipe_id::MTE2, pipe_id::V, 3, false});
            k.issue(pipe_id::MTE2, models::flag_op{pipe_id::MTE2, pipe_id::V, 4, true});
        });
        // id 3, the last valid one, works.
        after = run_block(c, [](models::ai_core& k) {
            k.issue(pipe_id::MTE2, models::flag_op{pipe_id::MTE2, pipe_id::V, 3, true});
            k.issue(pipe_id::V, models::flag_op{pipe_id::MTE2, pipe_id::V, 3, false});
        });
    }),
                          sim.error());
    BOOST_TEST_MESSAGE("fault: " << rec.fault);
    BOOST_CHECK(contains(rec.fault, "chip.core0"));
    BOOST_CHECK(contains(rec.fault, "MTE2") || contains(rec.fault, "chip.core0.mte2"));
    BOOST_CHECK(contains(rec.fault, "set_flag(MTE2, V, 4)"));
    BOOST_CHECK(contains(rec.fault, "event id 4 out of range 0..3"));
    BOOST_CHECK_MESSAGE(after.fault.empty(), after.fault);
}

// ---- 4. cross-core flags on a split chip ----

// The AIC does an mmad, hands over to FIX with a flag, and sets cross-core flag 3 from FIX;
// both AIVs wait for it in V before a vector op. Their work ends mmad + vector after the start.
BOOST_AUTO_TEST_CASE(cross_core_flag_orders_aiv_after_aic) {
    auto cfg = platform::load_platform("ascend910b1", {"chip.cores=1", "chip.vector_cores=2"});
    platform::simulation sim(cfg);
    models::mmad_op mm;
    mm.m = 64;
    mm.k = 128;
    mm.n = 64;
    std::vector<std::pair<unsigned, ps_t>> done;  // (core id, time its pipes drained)
    models::launch_record rec;
    std::vector<bool> results(2, false);
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        for (unsigned v = 1; v <= 2; ++v) {
            uint8_t* ub = c.core(v).buffer(mem_space::ub)->data();
            for (unsigned i = 0; i < 64; ++i) put_f32(ub + 4 * i, float(i * v));
        }
        rec = c.scheduler().launch(
            "mix", 1, kernel_kind::mix, [&](models::ai_core& k, unsigned, unsigned) {
                const ps_t t0 = models::now_ps();
                if (k.core_type() == models::core_kind::aic) {
                    k.issue(pipe_id::M, mm);
                    k.issue(pipe_id::M, models::flag_op{pipe_id::M, pipe_id::FIX, 0, true});
                    k.issue(pipe_id::FIX, models::flag_op{pipe_id::M, pipe_id::FIX, 0, false});
                    k.issue(pipe_id::FIX, models::cross_flag_op{3, true});
                } else {
                    k.issue(pipe_id::V, models::cross_flag_op{3, false});
                    k.issue(pipe_id::V, vadds_f32(0x1000, 0, 1.0f));
                }
                k.barrier_all();
                done.emplace_back(k.id(), models::now_ps() - t0);
            });
        for (unsigned v = 1; v <= 2; ++v) {
            const uint8_t* ub = c.core(v).buffer(mem_space::ub)->data();
            bool ok = true;
            for (unsigned i = 0; i < 64; ++i)
                ok &= get_f32(ub + 0x1000 + 4 * i) == float(i * v) + 1;
            results[v - 1] = ok;
        }
    }),
                          sim.error());
    BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
    BOOST_REQUIRE_EQUAL(done.size(), 3u);
    const ps_t aic_period = period_of(cfg.numbers.at("chip.clock.cube"));
    const ps_t aiv_period = period_of(cfg.numbers.at("chip.clock.vector"));
    // Until completion: max(issue, fixed + 4*8*4 fractals) + latency; set_flag waits for it. Before
    // issue and latency split: fractals + overhead.
    const ps_t mmad =
        (std::max<uint64_t>(uint64_t(cfg.numbers.at("cube.issue_cycles")),
                            uint64_t(cfg.numbers.at("cube.fixed_cycles")) +
                                ceil_div(64, 16) * ceil_div(128, 16) * ceil_div(64, 16)) +
         uint64_t(cfg.numbers.at("cube.latency"))) *
        aic_period;
    const ps_t vec =
        (std::max(uint64_t(cfg.numbers.at("vector.issue_cycles")),
                  uint64_t(std::ceil(cfg.numbers.at("vector.cycles_per_repeat.simple") - 1e-9))) +
         uint64_t(cfg.numbers.at("vector.latency"))) *
        aiv_period;
    std::set<unsigned> seen;
    for (auto [id, t] : done) {
        seen.insert(id);
        BOOST_TEST_MESSAGE("core " << id << " done at +" << t << " ps");
        if (id == 0) {
            BOOST_CHECK_EQUAL(t, mmad);
        } else {
            BOOST_CHECK_GE(t, mmad + vec);  // the vector op started after the AIC's work
            BOOST_CHECK_EQUAL(t, mmad + vec);
        }
    }
    BOOST_CHECK((seen == std::set<unsigned>{0, 1, 2}));
    BOOST_CHECK(results[0]);
    BOOST_CHECK(results[1]);
}

// An AIV waiting on a cross-core flag nobody sets: a deadlock report naming the flag.
BOOST_AUTO_TEST_CASE(cross_core_wait_without_set_deadlocks) {
    auto cfg = platform::load_platform("ascend910b1", {"chip.cores=1", "chip.vector_cores=2"});
    const std::string report = deadlock_report(
        cfg,
        [](models::ai_core& k) {
            k.issue(pipe_id::V, models::cross_flag_op{5, false});
        },
        kernel_kind::vector);
    BOOST_CHECK(contains(report, "cross-core flag id 5"));
    BOOST_CHECK(contains(report, "chip.core1 pipe V waits for cross-core flag id 5"));
}

// ---- 5. bad accesses from kernels ----

// A vector operand off the 32 B grid: the fault names core, unit, instruction and address; the
// block stops (a later vector op and a DMA behind a flag do not run); the chip runs on.
BOOST_AUTO_TEST_CASE(misaligned_vector_operand_faults_and_stops_block) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    models::launch_record rec, next;
    bool dst_untouched = false, dma_target_untouched = false, next_ok = false;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        uint8_t* ub = c.core(0).buffer(mem_space::ub)->data();
        std::vector<float> src(64);
        for (unsigned i = 0; i < 64; ++i) src[i] = 3.0f * float(i);
        c.gm().write(0x1000, src.data(), 256);
        std::memset(ub, 0x11, 0x8000);
        rec = kernel::launch(c, "bad", 1, kernel_kind::vector, [&](kernel::kernel_context& ctx) {
            using kernel::half;
            auto x = ctx.alloc<half>(kernel::position::VECIN, 256);    // UB[0x0]
            auto y = ctx.alloc<half>(kernel::position::VECOUT, 256);   // UB[0x200]
            auto z = ctx.alloc<float>(kernel::position::VECCALC, 64);  // UB[0x400]
            ctx.add(y, x[8], x, 128);                                  // src0 at UB[0x10]
            ctx.duplicate(y, 7.0f, 128);
            ctx.set_flag(pipe_id::V, pipe_id::MTE2, 0);
            ctx.wait_flag(pipe_id::V, pipe_id::MTE2, 0);
            ctx.data_copy(z, kernel::global_tensor<float>{0x1000, 64}, 64);
        });
        dst_untouched = dma_target_untouched = true;
        for (unsigned i = 0x200; i < 0x400; ++i) dst_untouched &= ub[i] == 0x11;
        for (unsigned i = 0x400; i < 0x500; ++i) dma_target_untouched &= ub[i] == 0x11;
        next = kernel::launch(c, "good", 1, kernel_kind::vector, [&](kernel::kernel_context& ctx) {
            auto z = ctx.alloc<float>(kernel::position::VECIN, 64);
            auto w = ctx.alloc<float>(kernel::position::VECOUT, 64);
            ctx.data_copy(z, kernel::global_tensor<float>{0x1000, 64}, 64);
            ctx.set_flag(pipe_id::MTE2, pipe_id::V, 0);
            ctx.wait_flag(pipe_id::MTE2, pipe_id::V, 0);
            ctx.unary(models::vec_opcode::adds, w, z, 64, 1.0f);
        });
        next_ok = true;
        for (unsigned i = 0; i < 64; ++i) next_ok &= get_f32(ub + 0x100 + 4 * i) == src[i] + 1;
    }),
                          sim.error());
    BOOST_TEST_MESSAGE("fault: " << rec.fault);
    BOOST_CHECK(contains(rec.fault, "chip.core0"));
    BOOST_CHECK(contains(rec.fault, "vector"));
    BOOST_CHECK(contains(rec.fault, "vadd.fp16"));
    BOOST_CHECK(contains(rec.fault, "0x10"));
    BOOST_CHECK(contains(rec.fault, "32-byte aligned"));
    BOOST_CHECK(dst_untouched);
    BOOST_CHECK(dma_target_untouched);
    BOOST_CHECK_MESSAGE(next.fault.empty(), next.fault);
    BOOST_CHECK(next_ok);
}

// A GM -> UB copy running past UB's end: the fault names the address; nothing after it runs.
BOOST_AUTO_TEST_CASE(dma_past_ub_end_faults) {
    auto cfg = test::tiny();
    const uint64_t ub_size = uint64_t(cfg.numbers.at("buffers.ub.size"));
    platform::simulation sim(cfg);
    models::launch_record rec, next;
    bool later_untouched = false, next_ok = false;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        uint8_t* ub = c.core(0).buffer(mem_space::ub)->data();
        std::memset(ub, 0x22, ub_size);
        rec = kernel::launch(c, "bad", 1, kernel_kind::vector, [&](kernel::kernel_context& ctx) {
            const kernel::local_tensor<float> tail{kernel::position::VECIN, ub_size - 256, 128};
            ctx.data_copy(tail, kernel::global_tensor<float>{0, 128}, 128);  // 512 B
            ctx.data_copy(kernel::local_tensor<float>{kernel::position::VECIN, 0, 64},
                          kernel::global_tensor<float>{0, 64}, 64);
        });
        later_untouched = true;
        for (unsigned i = 0; i < 256; ++i) later_untouched &= ub[i] == 0x22;
        next =
            run_block(c, [](models::ai_core& k) { k.issue(pipe_id::MTE2, gm_to_ub(0, 0, 256)); });
        next_ok = true;
        for (unsigned i = 0; i < 256; ++i) next_ok &= ub[i] == 0;  // GM starts zeroed
    }),
                          sim.error());
    char addr[32];
    std::snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)(ub_size - 256));
    BOOST_TEST_MESSAGE("fault: " << rec.fault);
    BOOST_CHECK(contains(rec.fault, "chip.core0"));
    BOOST_CHECK(contains(rec.fault, addr));
    BOOST_CHECK(contains(rec.fault, "UB"));
    BOOST_CHECK(later_untouched);
    BOOST_CHECK_MESSAGE(next.fault.empty(), next.fault);
    BOOST_CHECK(next_ok);
}

// mmad through the kernel API with a UB tensor as the left operand.
BOOST_AUTO_TEST_CASE(mmad_operand_at_wrong_position_faults) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    models::launch_record rec, next;
    bool later_untouched = false;
    uint64_t m_before = 0, m_after = 0;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        uint8_t* ub = c.core(0).buffer(mem_space::ub)->data();
        std::memset(ub, 0x33, 256);
        m_before = c.core(0).get_pipe(pipe_id::M)->instructions();
        rec = kernel::launch(c, "bad", 1, kernel_kind::cube, [&](kernel::kernel_context& ctx) {
            using kernel::half;
            auto a = ctx.alloc<half>(kernel::position::VECIN, 256);
            auto b = ctx.alloc<half>(kernel::position::B2, 256);
            auto cc = ctx.alloc<float>(kernel::position::CO1, 256);
            ctx.mmad(cc, a, b, 16, 16, 16, false);
            ctx.data_copy(kernel::local_tensor<float>{kernel::position::VECIN, 0, 64},
                          kernel::global_tensor<float>{0, 64}, 64);
        });
        m_after = c.core(0).get_pipe(pipe_id::M)->instructions();
        later_untouched = true;
        for (unsigned i = 0; i < 256; ++i) later_untouched &= ub[i] == 0x33;
        next = kernel::launch(c, "good", 1, kernel_kind::cube, [&](kernel::kernel_context& ctx) {
            using kernel::half;
            auto a = ctx.alloc<half>(kernel::position::A2, 256);
            auto b = ctx.alloc<half>(kernel::position::B2, 256);
            auto cc = ctx.alloc<float>(kernel::position::CO1, 256);
            ctx.mmad(cc, a, b, 16, 16, 16, false);
        });
    }),
                          sim.error());
    BOOST_TEST_MESSAGE("fault: " << rec.fault);
    BOOST_CHECK(contains(rec.fault, "chip.core0"));
    BOOST_CHECK(contains(rec.fault, "mmad: operand a is at VECIN (UB); it must be at A2 (L0A)"));
    BOOST_CHECK_EQUAL(m_after, m_before);  // nothing reached the cube
    BOOST_CHECK(later_untouched);
    BOOST_CHECK_MESSAGE(next.fault.empty(), next.fault);
}

// Two faults in one block: the launch reports the first (the cause), not a later one from an
// instruction that was already running when the block stopped.
BOOST_AUTO_TEST_CASE(first_fault_of_a_block_is_reported) {
    auto cfg = test::tiny();
    const uint64_t ub_size = uint64_t(cfg.numbers.at("buffers.ub.size"));
    platform::simulation sim(cfg);
    models::launch_record rec;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        rec = run_block(c, [&](models::ai_core& k) {
            // The vector ops go first, so they hold the UB banks before the copy books them;
            // the copy's first 64 bursts are in UB and its 65th runs past the end. The vector fault
            // comes first, while the copy is running.
            k.issue(pipe_id::V, vadds_f32(0x100, 0x0, 1.0f));
            k.issue(pipe_id::V, vadds_f32(0x100, 0x10, 1.0f));  // src0 off the 32 B grid
            k.issue(pipe_id::MTE2, gm_to_ub(0, ub_size - 32768, 36864));
        });
    }),
                          sim.error());
    BOOST_TEST_MESSAGE("fault: " << rec.fault << " end " << rec.end);
    BOOST_CHECK(contains(rec.fault, "vadds.fp32"));
    BOOST_CHECK(contains(rec.fault, "src0 address 0x10 is not 32-byte aligned"));
}

// ---- 6. issue stalls on a full queue ----

// Queue depth 2: a pipe holds the running instruction plus 2 queued ones, so issues 1..3
// return at once and issue n > 3 returns when instruction n - 3 finished.
BOOST_AUTO_TEST_CASE(scalar_stalls_while_queue_full) {
    auto cfg = test::tiny({"dma.queue_depth=2", "l2.enabled=false", "gm.channels=1"});
    platform::simulation sim(cfg);
    std::vector<ps_t> v_issue, dma_issue;
    ps_t dma = 0;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        // Vector ops: closed-form durations.
        run_block(c, [&](models::ai_core& k) {
            const ps_t t0 = models::now_ps();
            for (unsigned i = 0; i < 5; ++i) {
                k.issue(pipe_id::V, vadds_f32(0x1000, 0, 1.0f, 10));
                v_issue.push_back(models::now_ps() - t0);
            }
        });
        // DMAs: each the same copy, timed on its own first.
        const auto one = [](models::ai_core& k) {
            k.issue(pipe_id::MTE2, gm_to_ub(0, 0x4000, 4096));
        };
        run_block(c, one);
        dma = block_time(run_block(c, one));
        run_block(c, [&](models::ai_core& k) {
            const ps_t t0 = models::now_ps();
            for (unsigned i = 0; i < 5; ++i) {
                k.issue(pipe_id::MTE2, gm_to_ub(0, 0x4000, 4096));
                dma_issue.push_back(models::now_ps() - t0);
            }
        });
    }),
                          sim.error());
    const ps_t vec = vec_time(cfg, "simple", 10);
    BOOST_REQUIRE_EQUAL(v_issue.size(), 5u);
    BOOST_REQUIRE_EQUAL(dma_issue.size(), 5u);
    const std::vector<ps_t> v_want = {0, 0, 0, vec, 2 * vec};
    BOOST_CHECK_EQUAL_COLLECTIONS(v_issue.begin(), v_issue.end(), v_want.begin(), v_want.end());
    BOOST_TEST_MESSAGE("one DMA " << dma << " ps; issues returned at " << dma_issue[0] << ", "
                                  << dma_issue[1] << ", " << dma_issue[2] << ", " << dma_issue[3]
                                  << ", " << dma_issue[4]);
    BOOST_CHECK_EQUAL(dma_issue[2], 0u);
    BOOST_CHECK_GT(dma_issue[3], 0u);
    // A slot frees when its instruction starts, and back-to-back DMAs start one issue interval
    // apart: max(issue floor, start-up, the bursts' port time) (docs/timing-model.md), shorter
    // than a whole DMA (whose GM latency overlaps the next one).
    const auto& p = cfg.aicore.path(models::mem_space::gm, models::mem_space::ub);
    BOOST_REQUIRE_EQUAL(p.issue_bytes_per_cycle, 0.0);  // requests as fast as the port takes them
    const ps_t period = ps_t(1e12 / cfg.cube_clock_hz);
    const ps_t port = 4096 / p.burst_bytes *
                      (ps_t(std::ceil(p.burst_bytes * double(period) / p.bytes_per_cycle)) +
                       p.burst_overhead_cycles * period);
    // The last burst leaves the port at start-up + port; the next DMA's start-up overlaps it.
    const ps_t interval = std::max({p.issue_cycles * period, p.latency_cycles * period, port});
    BOOST_CHECK_EQUAL(dma_issue[3], interval);
    BOOST_CHECK_EQUAL(dma_issue[4], 2 * interval);
    BOOST_CHECK_LT(interval, dma);
}

// ---- 7. task scheduler ----

// Five vector blocks of one fixed-length vector op on two cores: 0,1 at t0; 2,3 when those
// end; 4 after that, always on the lowest free core.
BOOST_AUTO_TEST_CASE(scheduler_runs_blocks_in_waves_on_free_cores) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    models::launch_record rec;
    std::vector<std::pair<unsigned, unsigned>> ran;  // (block, core)
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        sc_core::wait(sc_core::sc_time(3, sc_core::SC_NS));  // a non-zero t0
        rec = c.scheduler().launch("five", 5, kernel_kind::vector,
                                   [&](models::ai_core& k, unsigned blk, unsigned dim) {
                                       BOOST_CHECK_EQUAL(dim, 5u);
                                       ran.emplace_back(blk, k.id());
                                       k.issue(pipe_id::V, vadds_f32(0x1000, 0, 1.0f, 3));
                                   });
    }),
                          sim.error());
    // A block lasts until its op completed: issue occupancy + latency (was the occupancy alone).
    // The first wave starts one device-side dispatch after the launch.
    const ps_t t = vec_time(cfg, "simple", 3) + vec_latency(cfg), t0 = 3000,
               d = cfg.kernel_dispatch_ps;
    BOOST_CHECK_GT(d, 0u);
    BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
    BOOST_CHECK_EQUAL(rec.start, t0);
    BOOST_CHECK_EQUAL(rec.end, t0 + d + 3 * t);
    BOOST_REQUIRE_EQUAL(rec.blocks.size(), 5u);
    for (unsigned b = 0; b < 5; ++b) {
        const auto& br = rec.blocks[b];
        BOOST_TEST_MESSAGE("block " << b << " core " << br.core << " [" << br.start << ", "
                                    << br.end << ")");
        BOOST_CHECK_EQUAL(br.block, b);
        BOOST_CHECK_EQUAL(br.core, b % 2);
        BOOST_CHECK_EQUAL(br.start, t0 + d + (b / 2) * t);
        BOOST_CHECK_EQUAL(br.end, br.start + t);
        BOOST_CHECK(br.fault.empty());
    }
    const std::vector<std::pair<unsigned, unsigned>> want = {
        {0, 0}, {1, 1}, {2, 0}, {3, 1}, {4, 0}};
    std::sort(ran.begin(), ran.end());  // blocks started in the same delta run in any order
    BOOST_CHECK(ran == want);
}

// On a split chip cube kernels use only AIC cores, vector kernels only AIV cores, and a mix
// block takes an AIC and its two AIVs.
BOOST_AUTO_TEST_CASE(scheduler_places_kernel_kinds_on_split_chip) {
    auto cfg = platform::load_platform("ascend910b1", {"chip.cores=2", "chip.vector_cores=4"});
    platform::simulation sim(cfg);
    models::launch_record cube, vec, mix;
    std::vector<std::pair<unsigned, unsigned>> cube_ran, vec_ran, mix_ran;
    std::vector<models::core_kind> cube_kinds, vec_kinds;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        models::mmad_op mm;
        mm.m = mm.k = mm.n = 32;
        cube = c.scheduler().launch("cube", 4, kernel_kind::cube,
                                    [&](models::ai_core& k, unsigned blk, unsigned) {
                                        cube_ran.emplace_back(blk, k.id());
                                        cube_kinds.push_back(k.core_type());
                                        k.issue(pipe_id::M, mm);
                                    });
        vec = c.scheduler().launch("vector", 6, kernel_kind::vector,
                                   [&](models::ai_core& k, unsigned blk, unsigned) {
                                       vec_ran.emplace_back(blk, k.id());
                                       vec_kinds.push_back(k.core_type());
                                       k.issue(pipe_id::V, vadds_f32(0x1000, 0, 1.0f, 2));
                                   });
        mix = c.scheduler().launch(
            "mix", 2, kernel_kind::mix,
            [&](models::ai_core& k, unsigned blk, unsigned) { mix_ran.emplace_back(blk, k.id()); });
    }),
                          sim.error());
    BOOST_CHECK_MESSAGE(cube.fault.empty(), cube.fault);
    BOOST_CHECK_MESSAGE(vec.fault.empty(), vec.fault);
    BOOST_CHECK_MESSAGE(mix.fault.empty(), mix.fault);

    BOOST_REQUIRE_EQUAL(cube_ran.size(), 4u);
    for (auto [blk, id] : cube_ran)
        BOOST_CHECK_MESSAGE(id <= 1, "cube block " << blk << " on core " << id);
    for (auto k : cube_kinds) BOOST_CHECK(k == models::core_kind::aic);
    for (unsigned b = 0; b < 4; ++b) BOOST_CHECK_EQUAL(cube.blocks[b].core, b % 2);
    // Two waves of equal mmads: blocks 2, 3 start when 0, 1 complete, max(issue, fixed + 2*2*2
    // fractals) + latency after they start (was fractals + overhead).
    const ps_t mm_t =
        (std::max<uint64_t>(uint64_t(cfg.numbers.at("cube.issue_cycles")),
                            uint64_t(cfg.numbers.at("cube.fixed_cycles")) + 2 * 2 * 2) +
         uint64_t(cfg.numbers.at("cube.latency"))) *
        period_of(cfg.numbers.at("chip.clock.cube"));
    BOOST_CHECK_EQUAL(cube.blocks[2].start - cube.blocks[0].start, mm_t);
    BOOST_CHECK_EQUAL(cube.end - cube.start, cfg.kernel_dispatch_ps + 2 * mm_t);

    BOOST_REQUIRE_EQUAL(vec_ran.size(), 6u);
    for (auto [blk, id] : vec_ran)
        BOOST_CHECK_MESSAGE(id >= 2 && id <= 5, "vector block " << blk << " on core " << id);
    for (auto k : vec_kinds) BOOST_CHECK(k == models::core_kind::aiv);
    for (unsigned b = 0; b < 6; ++b) BOOST_CHECK_EQUAL(vec.blocks[b].core, 2 + b % 4);

    const std::set<std::pair<unsigned, unsigned>> mix_want = {{0, 0}, {0, 2}, {0, 3},
                                                              {1, 1}, {1, 4}, {1, 5}};
    BOOST_CHECK_EQUAL(mix_ran.size(), 6u);
    BOOST_CHECK(
        (std::set<std::pair<unsigned, unsigned>>(mix_ran.begin(), mix_ran.end()) == mix_want));
    BOOST_CHECK_EQUAL(mix.blocks.at(0).core, 0u);
    BOOST_CHECK_EQUAL(mix.blocks.at(1).core, 1u);
}

BOOST_AUTO_TEST_SUITE_END()
