// The precision policy (`precision:` in workload files, docs/precision.md): which dtype each op
// gets by the documented rules, the casts and int8 quantizations it inserts, clear errors, and
// the lowered workloads' results against an independent fp32 CPU computation.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "platform/config/config_error.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "sw/graph/precision.h"
#include "sw/graph/workload_runner.h"
#include "tests/test_util.h"

using namespace npusim;
using models::dtype;
using test::contains;

namespace {

// rmsnorm -> weight matmul with bias -> gelu -> weight matmul -> softmax, and exp; `rows` x
// `hidden` activations (the small default runs in tests, the large one only plans).
std::string net(const std::string& precision, const std::string& op_override = "", int rows = 32,
                int hidden = 64) {
    const std::string r = std::to_string(rows), h = std::to_string(hidden),
                      f = std::to_string(hidden * 3 / 2);
    return "schema: npusim.workload/1\nname: p\nprecision: " + precision +
           "\ntensors:\n"
           "  x: {shape: [" +
           r + ", " + h +
           "], dtype: fp16, init: random, seed: 1}\n"
           "  g: {shape: [" +
           h +
           "], dtype: fp16, init: ones}\n"
           "  w1: {shape: [" +
           h + ", " + f +
           "], dtype: fp16, init: random, seed: 2, scale: 0.25}\n"
           "  b1: {shape: [" +
           f +
           "], dtype: fp16, init: random, seed: 3, scale: 0.1}\n"
           "  w2: {shape: [" +
           f + ", " + h +
           "], dtype: fp16, init: random, seed: 4, scale: 0.2}\n"
           "  n: {shape: [" +
           r + ", " + h +
           "], dtype: fp16}\n"
           "  h: {shape: [" +
           r + ", " + f +
           "], dtype: fp16}\n"
           "  a: {shape: [" +
           r + ", " + f +
           "], dtype: fp16}\n"
           "  o: {shape: [" +
           r + ", " + h +
           "], dtype: fp16}\n"
           "  p: {shape: [" +
           r + ", " + h +
           "], dtype: fp16}\n"
           "  e: {shape: [" +
           r + ", " + h +
           "], dtype: fp16}\n"
           "ops:\n"
           "  - {op: rmsnorm, inputs: [x, g], outputs: [n]}\n"
           "  - {op: matmul_bias, inputs: [n, w1, b1], outputs: [h]}\n"
           "  - {op: gelu, inputs: [h], outputs: [a]}\n"
           "  - {op: matmul, inputs: [a, w2], outputs: [o]" +
           op_override +
           "}\n"
           "  - {op: softmax, inputs: [o], outputs: [p]}\n"
           "  - {op: exp, inputs: [o], outputs: [e]}\n";
}

graph::precision_plan lower(const std::string& yaml, const platform::platform_config& cfg,
                            bool calibrate = false) {
    const graph::workload w = graph::load_workload_text(yaml, "p.yaml");
    return graph::apply_precision(w, cfg, calibrate);
}

std::string dtypes_of(const graph::precision_plan& p) {
    std::string s;
    for (const auto& o : p.ops)
        s += (s.empty() ? "" : " ") + std::string(models::to_string(o.dtype));
    return s;
}

std::string ops_of(const graph::workload& w) {
    std::string s;
    for (const auto& o : w.ops) s += (s.empty() ? "" : " ") + o.op;
    return s;
}

std::string error_of(const std::string& yaml, const platform::platform_config& cfg) {
    try {
        lower(yaml, cfg);
    } catch (const platform::config_error& e) {
        return e.what();
    }
    return "";
}

/// The values an init tensor draws, as fp32 (independently of the loader: the same generator
/// and distribution the file format documents).
std::vector<float> drawn(uint64_t seed, double scale, size_t n) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> d(float(-scale), float(scale));
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(precision)

// The documented rules, per policy: which dtype each op computes in.
BOOST_AUTO_TEST_CASE(rules_choose_each_ops_dtype) {
    const auto cfg = platform::load_platform("ascend910b1");
    BOOST_CHECK_EQUAL(dtypes_of(lower(net("declared"), cfg)), "fp16 fp16 fp16 fp16 fp16 fp16");
    BOOST_CHECK_EQUAL(dtypes_of(lower(net("fp16"), cfg)), "fp16 fp16 fp16 fp16 fp16 fp16");
    BOOST_CHECK_EQUAL(dtypes_of(lower(net("fp32"), cfg)), "fp32 fp32 fp32 fp32 fp32 fp32");
    // bf16: the norms and softmax have no bf16 kernel, so fp32.
    BOOST_CHECK_EQUAL(dtypes_of(lower(net("bf16"), cfg)), "fp32 bf16 bf16 bf16 fp32 bf16");
    // int8: weight matmuls only; the rest fp16.
    BOOST_CHECK_EQUAL(dtypes_of(lower(net("int8"), cfg)), "fp16 int8 fp16 int8 fp16 fp16");
    // auto: exp can overflow fp16, so fp32; the rest follow their inputs or take fp16; the
    // weight matmul of a normalised input stays fp16 when int8 does not pay (32 rows: the
    // quantization and the bias add cost more launches than the cube saves) ...
    const auto small = lower(net("auto"), cfg);
    BOOST_CHECK_EQUAL(dtypes_of(small), "fp16 fp16 fp16 fp16 fp16 fp32");
    BOOST_CHECK_EQUAL(small.ops[0].rule, "follows its input");
    BOOST_CHECK_MESSAGE(contains(small.ops[1].rule,
                                 "weight matmul of a normalised input, int8 "
                                 "does not pay"),
                        small.ops[1].rule);
    BOOST_CHECK_EQUAL(small.ops[3].rule, "matmul: fp16");
    BOOST_CHECK_EQUAL(small.ops[5].rule, "can overflow fp16: fp32");
    // ... and takes int8 when it pays (512 x 4096 x 6144); w2's input (gelu's output) is not
    // normalised, so it stays fp16.
    const auto large = lower(net("auto", "", 512, 4096), cfg);
    BOOST_CHECK_EQUAL(dtypes_of(large), "fp16 int8 fp16 fp16 fp16 fp32");
    BOOST_CHECK_MESSAGE(contains(large.ops[1].rule,
                                 "weight matmul of a normalised input, int8 "
                                 "pays"),
                        large.ops[1].rule);
    // A per-op override wins over the policy.
    BOOST_CHECK_EQUAL(dtypes_of(lower(net("auto", ", precision: bf16"), cfg)),
                      "fp16 fp16 fp16 bf16 fp32 fp32");  // softmax: no bf16 kernel
}

// What the policy inserts: inits converted offline (no kernel), casts where a tensor is read in
// another dtype than it was written in, quantize + matmul_dequant (+ add for the bias) for int8.
BOOST_AUTO_TEST_CASE(inserts_casts_and_quantizations) {
    const auto cfg = platform::load_platform("ascend910b1");
    const auto b = lower(net("bf16"), cfg);
    BOOST_CHECK_EQUAL(ops_of(b.lowered), "rmsnorm cast matmul_bias gelu matmul cast softmax exp");
    // rmsnorm reads x and g converted offline to fp32: new init tensors, no cast kernel.
    BOOST_CHECK_EQUAL(b.lowered.ops[0].inputs[0], "x.fp32");
    BOOST_CHECK(b.lowered.tensor("x.fp32").init == graph::tensor_init::random);
    BOOST_CHECK(b.lowered.tensor("x.fp32").type == dtype::fp32);
    BOOST_CHECK(b.lowered.tensor("w1.bf16").type == dtype::bf16);
    BOOST_CHECK(b.lowered.tensor("p").type == dtype::fp32);
    BOOST_CHECK(b.lowered.tensor("e").type == dtype::bf16);
    const auto i = lower(net("int8"), cfg);
    BOOST_CHECK_EQUAL(ops_of(i.lowered),
                      "rmsnorm quantize matmul_dequant add gelu quantize "
                      "matmul_dequant softmax exp");
    // The first matmul's launches: n's quantization, the matmul, the bias.
    BOOST_CHECK_EQUAL(i.ops[1].launches.size(), 3u);
    BOOST_CHECK(i.lowered.tensor("h").type == dtype::fp16);
    // declared: the file as written.
    const auto d = lower(net("declared"), cfg);
    BOOST_CHECK_EQUAL(ops_of(d.lowered), "rmsnorm matmul_bias gelu matmul softmax exp");
}

// Weights are quantized offline from the values their init draws, per tensor (step = the
// init's bound / 127); the dequantization scale is the activation's calibrated scale (its fp32
// reference's max |x| / 127) times the weight's step.
BOOST_AUTO_TEST_CASE(int8_weights_and_scales_follow_the_fp32_values) {
    const auto cfg = platform::load_platform("ascend910b1");
    const auto p = lower(net("int8"), cfg, true);
    const auto& w8 = p.lowered.tensor("w1.int8");
    BOOST_CHECK(w8.type == dtype::int8);
    BOOST_CHECK_CLOSE(w8.quant_step, 0.25 / 127, 1e-9);
    const auto bytes = graph::initial_bytes(w8);
    const auto v = drawn(2, 0.25, 64 * 96);
    for (size_t i = 0; i < v.size(); ++i) {
        const double want = std::clamp(std::nearbyint(double(v[i]) / (0.25 / 127)), -128.0, 127.0);
        BOOST_REQUIRE_EQUAL(double(int8_t(bytes[i])), want);
    }
    // n = rmsnorm(x) * 1: its largest |value| from a plain CPU computation.
    const auto x = drawn(1, 1.0, 32 * 64);
    double range = 0;
    for (int r = 0; r < 32; ++r) {
        double ss = 0;
        for (int c = 0; c < 64; ++c) ss += double(x[r * 64 + c]) * x[r * 64 + c];
        const double inv = 1 / std::sqrt(ss / 64 + 1e-6);
        for (int c = 0; c < 64; ++c) range = std::max(range, std::fabs(x[r * 64 + c] * inv));
    }
    BOOST_CHECK_CLOSE(p.lowered.tensor("n.qscale").value, range / 127, 1e-3);
    BOOST_CHECK_CLOSE(p.lowered.tensor("h.dqscale").value, range / 127 * (0.25 / 127), 1e-3);
}

// The fp32 reference against a plain CPU product of the drawn values.
BOOST_AUTO_TEST_CASE(fp32_reference_is_the_plain_cpu_result) {
    const auto w = graph::load_workload_text(R"(schema: npusim.workload/1
tensors:
  a: {shape: [5, 7], dtype: fp16, init: random, seed: 11}
  b: {shape: [7, 3], dtype: bf16, init: random, seed: 12, scale: 0.5}
  c: {shape: [5, 3], dtype: fp16}
ops:
  - {op: matmul, inputs: [a, b], outputs: [c]}
)",
                                             "r.yaml");
    const auto ref = graph::fp32_reference(w);
    const auto a = drawn(11, 1, 35), b = drawn(12, 0.5, 21);
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 3; ++j) {
            double s = 0;
            for (int k = 0; k < 7; ++k) s += double(a[i * 7 + k]) * b[k * 3 + j];
            BOOST_CHECK_CLOSE(ref.at("c").values[size_t(i * 3 + j)], s, 1e-9);
        }
}

// Bad input: an unknown policy, an override the op cannot take.
BOOST_AUTO_TEST_CASE(errors_name_the_key_and_the_fix) {
    const auto cfg = platform::load_platform("ascend910b1");
    std::string e = error_of(net("fp8"), cfg);
    BOOST_CHECK_MESSAGE(contains(e, "p.yaml:3:12: error: precision: unknown precision 'fp8'"), e);
    BOOST_CHECK_MESSAGE(contains(e, "hint: use declared (the dtypes as written), fp32, bf16"), e);
    e = error_of(net("auto", ", precision: tf32"), cfg);
    BOOST_CHECK_MESSAGE(contains(e, "ops[3].precision: unknown precision 'tf32'"), e);
    // int8 on an op that is not a weight matmul.
    std::string y = net("auto");
    y.replace(y.find("outputs: [p]"), 12, "outputs: [p], precision: int8");
    e = error_of(y, cfg);
    BOOST_CHECK_MESSAGE(contains(e,
                                 "ops[4].precision: op 'softmax' cannot run in int8: only a "
                                 "matmul or matmul_bias whose 'b' is a weight"),
                        e);
    // bf16 on an op without a bf16 kernel.
    y = net("fp16");
    y.replace(y.find("outputs: [n]"), 12, "outputs: [n], precision: bf16");
    e = error_of(y, cfg);
    BOOST_CHECK_MESSAGE(
        contains(e,
                 "ops[0].precision: op 'rmsnorm' has no bf16 kernel for these inputs on "
                 "ascend910b1"),
        e);
}

// Every policy's lowered workload runs, each op passes its own --check, and the error against
// the fp32 reference grows as the precision drops: fp32 < fp16 < int8.
BOOST_AUTO_TEST_CASE(every_policy_runs_and_its_error_is_ordered) {
    const auto cfg = platform::load_platform("ascend910b1");
    const std::vector<std::string> levels = {"fp32", "bf16", "fp16", "int8", "auto"};
    std::vector<graph::precision_plan> plans;
    std::vector<graph::workload_plan> wplans;
    for (const auto& l : levels) plans.push_back(lower(net(l), cfg, true));
    for (auto& p : plans) {
        wplans.push_back(graph::plan_workload(p.lowered, cfg));
        wplans.back().fp32_reference = &p.reference;
    }
    std::vector<graph::workload_result> results;
    platform::simulation sim(cfg);
    BOOST_REQUIRE(sim.run([&](platform::chip& chip, std::vector<platform::op_record>& ops) {
        for (const auto& wp : wplans) results.push_back(graph::run_workload(chip, wp, true, ops));
    }));
    std::map<std::string, double> err;
    for (size_t i = 0; i < levels.size(); ++i) {
        BOOST_CHECK_EQUAL(results[i].failure, "");
        for (const auto& c : results[i].checks)
            BOOST_CHECK_MESSAGE(c.ok, levels[i] << ": " << c.label << " " << c.max_error);
        err[levels[i]] = results[i].fp32_error.at("o").first;
        BOOST_TEST_MESSAGE(levels[i] << ": h max error " << results[i].fp32_error.at("h").first
                                     << ", o " << err[levels[i]] << ", p "
                                     << results[i].fp32_error.at("p").first);
    }
    // fp32 on the 910B1's fp32 cube: h = n x w1 + b1 carries the sums' rounding only; o
    // inherits gelu's approximation (within its tolerance, 2e-3).
    BOOST_CHECK_LT(results[0].fp32_error.at("h").first, 1e-5);
    BOOST_CHECK_LT(err["fp32"], 2e-3);
    BOOST_CHECK_LT(err["fp32"], err["fp16"]);
    BOOST_CHECK_LT(err["fp16"], err["bf16"]);  // bf16 keeps 8 bits of mantissa, fp16 11
    BOOST_CHECK_LT(err["fp16"], err["int8"]);
    BOOST_CHECK_LT(err["int8"], 0.1);
}

// Time follows the cube's rates: the 910B1 multiplies fp32 at half and int8 at twice the fp16
// rate (16x8x16, 16x16x16 and 16x32x16 fractals), so a cube-bound weight matmul takes about 2x
// and 1/2 the fp16 time (int8 adds the activation's quantization).
BOOST_AUTO_TEST_CASE(time_follows_the_cube_rates) {
    auto cfg = platform::load_platform("ascend910b1");
    cfg.set_timing_only();
    const std::string yaml = R"(schema: npusim.workload/1
tensors:
  x: {shape: [2048, 2048], dtype: fp16, init: random, seed: 1}
  w: {shape: [2048, 2048], dtype: fp16, init: random, seed: 2}
  y: {shape: [2048, 2048], dtype: fp16}
ops:
  - {op: matmul, inputs: [x, w], outputs: [y]}
)";
    std::vector<graph::precision_plan> plans;
    std::vector<graph::workload_plan> wplans;
    for (const char* l : {"fp32", "fp16", "int8"}) {
        std::string y = yaml;
        y.replace(y.find("tensors:"), 0, std::string("precision: ") + l + "\n");
        plans.push_back(lower(y, cfg));
    }
    for (auto& p : plans) wplans.push_back(graph::plan_workload(p.lowered, cfg));
    std::vector<double> us;
    platform::simulation sim(cfg);
    BOOST_REQUIRE(sim.run([&](platform::chip& chip, std::vector<platform::op_record>& ops) {
        for (const auto& wp : wplans) {
            const size_t first = ops.size();
            BOOST_CHECK_EQUAL(graph::run_workload(chip, wp, false, ops).failure, "");
            double t = 0;
            for (size_t i = first; i < ops.size(); ++i)
                if (ops[i].blocks > 0) t += double(ops[i].end_ps - ops[i].start_ps) / 1e6;
            us.push_back(t);
        }
    }));
    BOOST_TEST_MESSAGE("fp32 " << us[0] << " us, fp16 " << us[1] << " us, int8 " << us[2] << " us");
    BOOST_CHECK_GT(us[0] / us[1], 1.6);
    BOOST_CHECK_LT(us[0] / us[1], 2.4);
    // 1.27x today; 1.31x while GM bursts were booked in the order the engines' threads ran.
    BOOST_CHECK_GT(us[1] / us[2], 1.2);
    BOOST_CHECK_LT(us[1] / us[2], 2.4);
}

BOOST_AUTO_TEST_SUITE_END()
