// The matmul ops on every preset (one case each: SystemC elaborates once per process) against
// their CPU references (every dtype combination, transposes, bias, batches, shapes off the
// fractal sizes), their error texts, and the L2 reuse the swizzled tile order buys.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>

#include "models/core/fractal_layout.h"
#include "sw/kernel/launch.h"
#include "sw/kernel/matmul_kernel.h"
#include "sw/ops/registry.h"
#include "tests/sw/op_fixture.h"

using namespace npusim;
using test::plan_error;

namespace {

/// A workload of matmul ops: `tensors` and `ops` are YAML lines (indented by the caller).
std::string workload(const std::string& tensors, const std::string& ops) {
    return "schema: npusim.workload/1\ntensors:\n" + tensors + "ops:\n" + ops;
}

// fp16 and bf16 inputs to fp16 and fp32, int8 to fp16, fp32 and int32, on 45x70x33 and a
// one-row 1x17x300.
const std::string dtypes_yaml = workload(
    "  a16: {shape: [45, 70], dtype: fp16, init: random, seed: 1}\n"
    "  b16: {shape: [70, 33], dtype: fp16, init: random, seed: 2}\n"
    "  ab:  {shape: [45, 70], dtype: bf16, init: random, seed: 3}\n"
    "  bb:  {shape: [70, 33], dtype: bf16, init: random, seed: 4}\n"
    "  a8:  {shape: [45, 70], dtype: int8, init: random, seed: 5}\n"
    "  b8:  {shape: [70, 33], dtype: int8, init: random, seed: 6}\n"
    "  r:   {shape: [1, 17], dtype: fp16, init: random, seed: 7}\n"
    "  w:   {shape: [17, 300], dtype: fp16, init: random, seed: 8}\n"
    "  c1: {shape: [45, 33], dtype: fp16}\n"
    "  c2: {shape: [45, 33], dtype: fp32}\n"
    "  c3: {shape: [45, 33], dtype: fp16}\n"
    "  c4: {shape: [45, 33], dtype: fp32}\n"
    "  c5: {shape: [45, 33], dtype: fp16}\n"
    "  c6: {shape: [45, 33], dtype: fp32}\n"
    "  c7: {shape: [45, 33], dtype: int32}\n"
    "  c8: {shape: [1, 300], dtype: fp16}\n",
    "  - {op: matmul, inputs: [a16, b16], outputs: [c1]}\n"
    "  - {op: matmul, inputs: [a16, b16], outputs: [c2], attrs: {out_dtype: fp32}}\n"
    "  - {op: matmul, inputs: [ab, bb], outputs: [c3]}\n"
    "  - {op: matmul, inputs: [ab, bb], outputs: [c4], attrs: {out_dtype: fp32}}\n"
    "  - {op: matmul, inputs: [a8, b8], outputs: [c5]}\n"
    "  - {op: matmul, inputs: [a8, b8], outputs: [c6], attrs: {out_dtype: fp32}}\n"
    "  - {op: matmul, inputs: [a8, b8], outputs: [c7], attrs: {out_dtype: int32}}\n"
    "  - {op: matmul, inputs: [r, w], outputs: [c8]}\n");

// Transposed a, b and both, in fp16 and int8 (whose fractals are 16 x 32).
const std::string transpose_yaml = workload(
    "  at: {shape: [70, 45], dtype: fp16, init: random, seed: 1}\n"
    "  a:  {shape: [45, 70], dtype: fp16, init: random, seed: 2}\n"
    "  bt: {shape: [33, 70], dtype: fp16, init: random, seed: 3}\n"
    "  b:  {shape: [70, 33], dtype: fp16, init: random, seed: 4}\n"
    "  at8: {shape: [70, 45], dtype: int8, init: random, seed: 5}\n"
    "  bt8: {shape: [33, 70], dtype: int8, init: random, seed: 6}\n"
    "  c1: {shape: [45, 33], dtype: fp16}\n"
    "  c2: {shape: [45, 33], dtype: fp16}\n"
    "  c3: {shape: [45, 33], dtype: fp32}\n"
    "  c4: {shape: [45, 33], dtype: int32}\n",
    "  - {op: matmul, inputs: [at, b], outputs: [c1], attrs: {transpose_a: true}}\n"
    "  - {op: matmul, inputs: [a, bt], outputs: [c2], attrs: {transpose_b: true}}\n"
    "  - {op: matmul, inputs: [at, bt], outputs: [c3], attrs: {transpose_a: true, "
    "transpose_b: true, out_dtype: fp32}}\n"
    "  - {op: matmul, inputs: [at8, bt8], outputs: [c4], attrs: {transpose_a: true, "
    "transpose_b: true, out_dtype: int32}}\n");

// A bias in the input dtype and in fp32 (int32 for int8), with and without a transpose.
const std::string bias_yaml = workload(
    "  a:  {shape: [45, 70], dtype: fp16, init: random, seed: 1}\n"
    "  b:  {shape: [70, 33], dtype: fp16, init: random, seed: 2}\n"
    "  h:  {shape: [33], dtype: fp16, init: random, seed: 3}\n"
    "  f:  {shape: [33], dtype: fp32, init: random, seed: 4}\n"
    "  ab: {shape: [45, 70], dtype: bf16, init: random, seed: 5}\n"
    "  bb: {shape: [33, 70], dtype: bf16, init: random, seed: 6}\n"
    "  hb: {shape: [33], dtype: bf16, init: random, seed: 7}\n"
    "  a8: {shape: [45, 70], dtype: int8, init: random, seed: 8}\n"
    "  b8: {shape: [70, 33], dtype: int8, init: random, seed: 9}\n"
    "  i:  {shape: [33], dtype: int32, init: ones}\n"
    "  c1: {shape: [45, 33], dtype: fp16}\n"
    "  c2: {shape: [45, 33], dtype: fp32}\n"
    "  c3: {shape: [45, 33], dtype: fp16}\n"
    "  c4: {shape: [45, 33], dtype: int32}\n"
    "  c5: {shape: [45, 33], dtype: fp16}\n",
    "  - {op: matmul_bias, inputs: [a, b, h], outputs: [c1]}\n"
    "  - {op: matmul_bias, inputs: [a, b, f], outputs: [c2], attrs: {out_dtype: fp32}}\n"
    "  - {op: matmul_bias, inputs: [ab, bb, hb], outputs: [c3], attrs: {transpose_b: true}}\n"
    "  - {op: matmul_bias, inputs: [a8, b8, i], outputs: [c4], attrs: {out_dtype: int32}}\n"
    "  - {op: matmul_bias, inputs: [a8, b8, i], outputs: [c5]}\n");

// Batches: both 3-D, a 3-D with a shared b (folded into m), a shared a, a transposed 3-D a
// with a shared b (not foldable), and a batched bias op.
const std::string batch_yaml = workload(
    "  a:  {shape: [3, 21, 40], dtype: fp16, init: random, seed: 1}\n"
    "  b:  {shape: [3, 40, 19], dtype: fp16, init: random, seed: 2}\n"
    "  a2: {shape: [21, 40], dtype: fp16, init: random, seed: 3}\n"
    "  b2: {shape: [40, 19], dtype: fp16, init: random, seed: 4}\n"
    "  at: {shape: [3, 40, 21], dtype: fp16, init: random, seed: 5}\n"
    "  bias: {shape: [19], dtype: fp32, init: random, seed: 6}\n"
    "  c1: {shape: [3, 21, 19], dtype: fp16}\n"
    "  c2: {shape: [3, 21, 19], dtype: fp16}\n"
    "  c3: {shape: [3, 21, 19], dtype: fp32}\n"
    "  c4: {shape: [3, 21, 19], dtype: fp16}\n"
    "  c5: {shape: [3, 21, 19], dtype: fp16}\n",
    "  - {op: matmul, inputs: [a, b], outputs: [c1]}\n"
    "  - {op: matmul, inputs: [a, b2], outputs: [c2]}\n"
    "  - {op: matmul, inputs: [a2, b], outputs: [c3], attrs: {out_dtype: fp32}}\n"
    "  - {op: matmul, inputs: [at, b2], outputs: [c4], attrs: {transpose_a: true}}\n"
    "  - {op: matmul_bias, inputs: [a, b, bias], outputs: [c5]}\n");

// Quantized products dequantized by one scale (fp16 out) and one per column (fp32, bf16),
// the tiles dealt by cost and stolen from a queue; quantize and dequantize around them.
const std::string quant_yaml = workload(
    "  a8: {shape: [45, 70], dtype: int8, init: random, seed: 1, scale: 100}\n"
    "  b8: {shape: [70, 33], dtype: int8, init: random, seed: 2, scale: 100}\n"
    "  s1: {shape: [1], dtype: fp32, init: constant, value: 0.003}\n"
    "  sn: {shape: [33], dtype: fp32, init: random, seed: 3, mean: 0.01, scale: 0.005}\n"
    "  x:  {shape: [45, 70], dtype: fp16, init: random, seed: 4, scale: 3}\n"
    "  qs: {shape: [70], dtype: fp32, init: random, seed: 5, mean: 0.05, scale: 0.02}\n"
    "  qo: {shape: [70], dtype: fp32, init: random, seed: 6, scale: 5}\n"
    "  c1: {shape: [45, 33], dtype: fp16}\n"
    "  c2: {shape: [45, 33], dtype: fp32}\n"
    "  c3: {shape: [45, 33], dtype: bf16}\n"
    "  c4: {shape: [45, 33], dtype: fp16}\n"
    "  q:  {shape: [45, 70], dtype: int8}\n"
    "  d:  {shape: [45, 70], dtype: fp16}\n",
    "  - {op: matmul_dequant, inputs: [a8, b8, s1], outputs: [c1]}\n"
    "  - {op: matmul_dequant, inputs: [a8, b8, sn], outputs: [c2], attrs: {out_dtype: fp32, "
    "partition: cost}}\n"
    "  - {op: matmul_dequant, inputs: [a8, b8, sn], outputs: [c3], attrs: {out_dtype: bf16, "
    "partition: steal}}\n"
    "  - {op: matmul_dequant, inputs: [a8, b8, s1], outputs: [c4], attrs: {partition: steal}}\n"
    "  - {op: quantize, inputs: [x, qs, qo], outputs: [q]}\n"
    "  - {op: dequantize, inputs: [q, qs, qo], outputs: [d]}\n");

// fp32 operands on the cube (chips with cube.fp32), with and without a transpose.
const std::string fp32_yaml = workload(
    "  a: {shape: [45, 70], dtype: fp32, init: random, seed: 1}\n"
    "  b: {shape: [70, 33], dtype: fp32, init: random, seed: 2}\n"
    "  bt: {shape: [33, 70], dtype: fp32, init: random, seed: 3}\n"
    "  c1: {shape: [45, 33], dtype: fp32}\n"
    "  c2: {shape: [45, 33], dtype: fp16}\n",
    "  - {op: matmul, inputs: [a, b], outputs: [c1], attrs: {out_dtype: fp32}}\n"
    "  - {op: matmul, inputs: [a, bt], outputs: [c2], attrs: {transpose_b: true, partition: "
    "steal}}\n");

memory::tensor_desc t(const char* name, models::dtype d, std::vector<int64_t> shape) {
    return memory::tensor_desc(name, d, std::move(shape));
}

/// int8 over the full range, b transposed and shared by a batch of 2, an int32 bias and int32
/// out: the result must equal a plain integer matmul exactly.
void check_int8_exact(const std::string& preset) {
    using models::dtype;
    const int64_t batch = 2, m = 37, k = 300, n = 41;
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> byte(-128, 127), wide(-1000000, 1000000);
    std::vector<int8_t> a(batch * m * k), b(n * k);
    std::vector<int32_t> bias(n), c(batch * m * n);
    for (auto& v : a) v = int8_t(byte(rng));
    for (auto& v : b) v = int8_t(byte(rng));
    for (auto& v : bias) v = wide(rng);
    test::run_runtime(
        platform::load_platform(preset), [&](platform::chip& chip, runtime::context& ctx) {
            const ops::op_plan p = ops::library().plan(
                "matmul_bias",
                {t("a", dtype::int8, {batch, m, k}), t("b", dtype::int8, {n, k}),
                 t("bias", dtype::int32, {n})},
                {{"transpose_b", true}, {"out_dtype", std::string("int32")}}, chip.config());
            uint64_t ba = 0, bb = 0, bbias = 0, bc = 0;
            BOOST_REQUIRE(ctx.malloc(ba, a.size()) == runtime::status::success);
            BOOST_REQUIRE(ctx.malloc(bb, b.size()) == runtime::status::success);
            BOOST_REQUIRE(ctx.malloc(bbias, bias.size() * 4) == runtime::status::success);
            BOOST_REQUIRE(ctx.malloc(bc, c.size() * 4) == runtime::status::success);
            BOOST_CHECK(ctx.memcpy_to_device(nullptr, ba, a.data(), a.size()) ==
                        runtime::status::success);
            BOOST_CHECK(ctx.memcpy_to_device(nullptr, bb, b.data(), b.size()) ==
                        runtime::status::success);
            BOOST_CHECK(ctx.memcpy_to_device(nullptr, bbias, bias.data(), bias.size() * 4) ==
                        runtime::status::success);
            BOOST_CHECK(ops::library().execute(ctx, nullptr, p, {{ba, bb, bbias}, {bc}, 0}) ==
                        runtime::status::success);
            BOOST_CHECK(ctx.memcpy_to_host(nullptr, c.data(), bc, c.size() * 4) ==
                        runtime::status::success);
            BOOST_CHECK(ctx.synchronize() == runtime::status::success);
        });
    int64_t wrong = 0;
    for (int64_t bi = 0; bi < batch; ++bi)
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
                int64_t want = bias[j];
                for (int64_t q = 0; q < k; ++q) want += a[(bi * m + i) * k + q] * b[j * k + q];
                wrong += c[(bi * m + i) * n + j] != want;
            }
    BOOST_CHECK_EQUAL(wrong, 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_matmul)

BOOST_AUTO_TEST_CASE(dtypes_tiny) {
    test::check_workload("tiny", dtypes_yaml);
}
BOOST_AUTO_TEST_CASE(dtypes_ascend910) {
    test::check_workload("ascend910", dtypes_yaml);
}
BOOST_AUTO_TEST_CASE(dtypes_ascend910b1) {
    test::check_workload("ascend910b1", dtypes_yaml);
}
BOOST_AUTO_TEST_CASE(dtypes_ascend310p3) {
    test::check_workload("ascend310p3", dtypes_yaml);
}
BOOST_AUTO_TEST_CASE(transposes_tiny) {
    test::check_workload("tiny", transpose_yaml);
}
BOOST_AUTO_TEST_CASE(transposes_ascend910) {
    test::check_workload("ascend910", transpose_yaml);
}
BOOST_AUTO_TEST_CASE(transposes_ascend910b1) {
    test::check_workload("ascend910b1", transpose_yaml);
}
BOOST_AUTO_TEST_CASE(transposes_ascend310p3) {
    test::check_workload("ascend310p3", transpose_yaml);
}
BOOST_AUTO_TEST_CASE(bias_tiny) {
    test::check_workload("tiny", bias_yaml);
}
BOOST_AUTO_TEST_CASE(bias_ascend910) {
    test::check_workload("ascend910", bias_yaml);
}
BOOST_AUTO_TEST_CASE(bias_ascend910b1) {
    test::check_workload("ascend910b1", bias_yaml);
}
BOOST_AUTO_TEST_CASE(bias_ascend310p3) {
    test::check_workload("ascend310p3", bias_yaml);
}
BOOST_AUTO_TEST_CASE(batches_tiny) {
    test::check_workload("tiny", batch_yaml);
}
BOOST_AUTO_TEST_CASE(batches_ascend910) {
    test::check_workload("ascend910", batch_yaml);
}
BOOST_AUTO_TEST_CASE(batches_ascend910b1) {
    test::check_workload("ascend910b1", batch_yaml);
}
BOOST_AUTO_TEST_CASE(batches_ascend310p3) {
    test::check_workload("ascend310p3", batch_yaml);
}

BOOST_AUTO_TEST_CASE(quantized_tiny) {
    test::check_workload("tiny", quant_yaml);
}
BOOST_AUTO_TEST_CASE(quantized_ascend910) {
    test::check_workload("ascend910", quant_yaml);
}
BOOST_AUTO_TEST_CASE(quantized_ascend910b1) {
    test::check_workload("ascend910b1", quant_yaml);
}
BOOST_AUTO_TEST_CASE(quantized_ascend310p3) {
    test::check_workload("ascend310p3", quant_yaml);
}
BOOST_AUTO_TEST_CASE(fp32_ascend910b1) {
    test::check_workload("ascend910b1", fp32_yaml);
}

// k = 0 into bf16: the fill kernel writes 2-byte zeros, and nothing past the output (a guard
// allocated right after it keeps its bytes; it once took 4-byte zeros and ran over).
BOOST_AUTO_TEST_CASE(empty_k_fills_bf16_within_the_output) {
    using models::dtype;
    const int64_t m = 45, n = 33;
    std::vector<uint16_t> c(m * n, 0xffff);
    std::vector<uint8_t> guard(4096, 0x5a), after(4096, 0);
    test::run_runtime(
        platform::load_platform("ascend910b1"), [&](platform::chip& chip, runtime::context& ctx) {
            const ops::op_plan p = ops::library().plan(
                "matmul", {t("a", dtype::fp16, {m, 0}), t("b", dtype::fp16, {0, n})},
                {{"out_dtype", std::string("bf16")}}, chip.config());
            uint64_t ba = 0, bb = 0, bc = 0, bg = 0;
            BOOST_REQUIRE(ctx.malloc(ba, 32) == runtime::status::success);
            BOOST_REQUIRE(ctx.malloc(bb, 32) == runtime::status::success);
            BOOST_REQUIRE(ctx.malloc(bc, c.size() * 2) == runtime::status::success);
            BOOST_REQUIRE(ctx.malloc(bg, guard.size()) == runtime::status::success);
            BOOST_CHECK(ctx.memcpy_to_device(nullptr, bc, c.data(), c.size() * 2) ==
                        runtime::status::success);
            BOOST_CHECK(ctx.memcpy_to_device(nullptr, bg, guard.data(), guard.size()) ==
                        runtime::status::success);
            BOOST_CHECK(ops::library().execute(ctx, nullptr, p, {{ba, bb}, {bc}, 0}) ==
                        runtime::status::success);
            BOOST_CHECK(ctx.memcpy_to_host(nullptr, c.data(), bc, c.size() * 2) ==
                        runtime::status::success);
            BOOST_CHECK(ctx.memcpy_to_host(nullptr, after.data(), bg, after.size()) ==
                        runtime::status::success);
            BOOST_CHECK(ctx.synchronize() == runtime::status::success);
        });
    BOOST_CHECK(std::all_of(c.begin(), c.end(), [](uint16_t v) { return v == 0; }));
    BOOST_CHECK(after == guard);
}

// A scale computed at run time as NaN (0 / 0): a per-tensor scale stops the kernel that reads
// it, naming the input; per channel, the check names the op, the input and the value.
const std::string nan_tensors =
    "  x:  {shape: [8, 4], dtype: fp16, init: random, seed: 1}\n"
    "  a8: {shape: [8, 16], dtype: int8, init: random, seed: 2, scale: 50}\n"
    "  b8: {shape: [16, 4], dtype: int8, init: random, seed: 3, scale: 50}\n"
    "  z:  {shape: [1], dtype: fp32, init: zeros}\n"
    "  zc: {shape: [4], dtype: fp32, init: zeros}\n"
    "  o:  {shape: [1], dtype: fp32, init: zeros}\n"
    "  s:  {shape: [1], dtype: fp32}\n"
    "  sc: {shape: [4], dtype: fp32}\n"
    "  q:  {shape: [8, 4], dtype: int8}\n"
    "  c:  {shape: [8, 4], dtype: fp16}\n";

BOOST_AUTO_TEST_CASE(nan_scale_per_tensor_stops_the_kernel) {
    const auto r =
        test::run_checked(platform::load_platform("ascend910b1"),
                          workload(nan_tensors,
                                   "  - {op: div, inputs: [z, z], outputs: [s]}\n"
                                   "  - {op: quantize, inputs: [x, s, o], outputs: [q]}\n"));
    BOOST_CHECK_MESSAGE(
        r.failure.find("input 'scale' is ") != std::string::npos &&
            r.failure.find("nan; a scale must be a nonzero finite number") != std::string::npos,
        r.failure);
}

BOOST_AUTO_TEST_CASE(nan_scale_per_channel_fails_the_check) {
    const auto r = test::run_checked(
        platform::load_platform("ascend910b1"),
        workload(nan_tensors,
                 "  - {op: div, inputs: [zc, zc], outputs: [sc]}\n"
                 "  - {op: matmul_dequant, inputs: [a8, b8, sc], outputs: [c]}\n"));
    BOOST_CHECK_MESSAGE(
        r.failure.find("ops[1]: op 'matmul_dequant' input 'scale' holds ") != std::string::npos &&
            r.failure.find("nan; a scale must be a nonzero finite number") != std::string::npos,
        r.failure);
}

// Longest first to the least-loaded block: 5 and 4 open the blocks, 3 joins 4, the other 3
// joins 5, 2 joins 7, 1 joins 8.
BOOST_AUTO_TEST_CASE(cost_partition_assigns_longest_first) {
    const auto got = kernel::assign_by_cost({5, 4, 3, 3, 2, 1}, 2);
    BOOST_REQUIRE_EQUAL(got.size(), 2u);
    BOOST_CHECK((got[0] == std::vector<uint32_t>{0, 3, 5}));
    BOOST_CHECK((got[1] == std::vector<uint32_t>{1, 2, 4}));
    // More blocks than tiles: the extra blocks get none.
    const auto few = kernel::assign_by_cost({1, 1}, 3);
    BOOST_CHECK(few[2].empty());
}

BOOST_AUTO_TEST_CASE(int8_exact_coupled) {
    check_int8_exact("tiny");
}
BOOST_AUTO_TEST_CASE(int8_exact_split) {
    check_int8_exact("ascend910b1");
}

BOOST_AUTO_TEST_CASE(error_texts) {
    using models::dtype;
    const auto fp16 = dtype::fp16;
    BOOST_CHECK_EQUAL(plan_error("matmul", {t("a", fp16, {8, 8}), t("b", fp16, {9, 4})}),
                      "op 'matmul' input 'b' has 9 rows but 'a' has 8 columns; they must match "
                      "(a[m,k] x b[k,n])");
    BOOST_CHECK_EQUAL(plan_error("matmul", {t("a", fp16, {6, 8}), t("b", fp16, {4, 7})},
                                 {{"transpose_a", true}, {"transpose_b", true}}),
                      "op 'matmul' input 'b' has 7 columns but 'a' has 6 rows; they must match "
                      "(a[k,m] x b[n,k])");
    BOOST_CHECK_EQUAL(plan_error("matmul", {t("a", fp16, {2, 3, 4, 5}), t("b", fp16, {5, 4})}),
                      "op 'matmul' input 'a' has shape [2,3,4,5]; expected 2 dimensions, or 3 "
                      "for a batch");
    BOOST_CHECK_EQUAL(plan_error("matmul", {t("a", fp16, {4, 8}), t("b", dtype::bf16, {8, 4})}),
                      "op 'matmul' input 'b' is bf16 but 'a' is fp16; both must have the same "
                      "dtype");
    BOOST_CHECK_EQUAL(plan_error("matmul", {t("a", fp16, {2, 4, 8}), t("b", fp16, {3, 8, 5})}),
                      "op 'matmul' input 'b' has a batch of 3 but 'a' has 2; they must match, or "
                      "one of them must be 2-D to be shared");
    BOOST_CHECK_EQUAL(plan_error("matmul", {t("a", fp16, {4, 8}), t("b", fp16, {8, 4})},
                                 {{"out_dtype", std::string("int32")}}),
                      "op 'matmul' attribute 'out_dtype' is 'int32'; expected fp16, fp32 or bf16 "
                      "for fp16 inputs");
    BOOST_CHECK_EQUAL(
        plan_error("matmul_bias", {t("a", dtype::int8, {4, 8}), t("b", dtype::int8, {8, 4}),
                                   t("bias", fp16, {4})}),
        "op 'matmul_bias' input 'bias' is fp16 but 'a' is int8; expected int32");
    BOOST_CHECK_EQUAL(plan_error("matmul_bias", {t("a", fp16, {4, 8}), t("b", fp16, {8, 4}),
                                                 t("bias", fp16, {5})}),
                      "op 'matmul_bias' input 'bias' has shape [5]; expected [4], one value per "
                      "output column");
    BOOST_CHECK_EQUAL(plan_error("matmul", {t("a", fp16, {4, 8}), t("b", fp16, {8, 4})},
                                 {{"partition", std::string("greedy")}}),
                      "op 'matmul' attribute 'partition' is 'greedy'; expected uniform, cost or "
                      "steal");
    BOOST_CHECK_EQUAL(
        plan_error("matmul", {t("a", dtype::int16, {4, 8}), t("b", dtype::int16, {8, 4})}),
        "op 'matmul' input 'a' ('a' int16[4,8] ND) is int16; expected fp16, bf16, fp32 or int8");
}

// 8 cores and a 4 MiB L2 against 16 MiB of A and B: row by row, each wave of 8 tiles reads a
// whole B; in groups of tile rows the cores running together share A rows and B columns.
BOOST_AUTO_TEST_CASE(swizzle_raises_l2_hit_rate) {
    auto cfg = platform::load_platform("ascend910", {"chip.cores=8", "l2.size=4MiB"});
    cfg.set_timing_only();
    kernel::matmul_problem p;
    p.m = p.k = p.n = 2048;
    const auto plain = kernel::tile_matmul(kernel::matmul_chip_of(cfg), p, 2, 1);
    const auto grouped = kernel::tile_matmul(kernel::matmul_chip_of(cfg), p);
    BOOST_REQUIRE_GT(grouped.swizzle, 1u);
    platform::simulation sim(cfg);
    double rate[2] = {0, 0};
    BOOST_REQUIRE(sim.run([&](platform::chip& chip, auto&) {
        const uint64_t bytes = uint64_t(p.m) * p.k * 2;
        for (int i = 0; i < 2; ++i) {
            const auto& tiling = i == 0 ? plain : grouped;
            const uint64_t base = uint64_t(i) * 3 * bytes;  // data the L2 has not seen
            const auto& l2 = *chip.l2();
            const double h0 = double(l2.hits()), m0 = double(l2.misses());
            const auto rec = kernel::launch(
                chip, "matmul", tiling.block_dim, models::kernel_kind::cube,
                [&](kernel::kernel_context& ctx) {
                    kernel::matmul_kernel(
                        ctx, kernel::matmul_args{base, base + bytes, base + 2 * bytes}, tiling);
                });
            BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
            const double hits = double(l2.hits()) - h0, misses = double(l2.misses()) - m0;
            rate[i] = hits / (hits + misses);
        }
    }));
    BOOST_TEST_MESSAGE("L2 hit rate row by row " << rate[0] << ", in groups of " << grouped.swizzle
                                                 << " rows " << rate[1]);
    BOOST_CHECK_GT(rate[1], rate[0] + 0.1);
}

// A GEMV (the LLaMA decode FFN) keeps B's tile rows at least 256 bytes wide at every cube clock:
// narrower tiles load B in short strided bursts (at 0.9 GHz the cost model once picked 16
// columns and the op ran 6x slower).
BOOST_AUTO_TEST_CASE(gemv_tiles_keep_rows_wide) {
    for (const char* clock : {"chip.clock.cube=0.9GHz", "chip.clock.cube=1.8GHz"}) {
        const auto cfg = platform::load_platform("ascend910b1", {clock});
        kernel::matmul_problem p;
        p.m = 1;
        p.k = 4096;
        p.n = 11008;
        const auto t = kernel::tile_matmul(kernel::matmul_chip_of(cfg), p);
        BOOST_CHECK_MESSAGE(t.base_n >= 128, clock << ": base_n " << t.base_n);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(matmul_hf32)

// HF32 keeps 11 significand bits: between 1 and 2 its step is 2^-11, so 1 + 2^-12 is a tie that
// rounds to even (1) and 1 + 3 x 2^-12 one that rounds up to 1 + 2^-10. With k = 1 and b = 1
// the products are the rounded a's; without hf32 they are a itself. The reference rounds the
// same way, so --check passes with no error.
BOOST_AUTO_TEST_CASE(hf32_rounds_fp32_inputs_to_11_significand_bits) {
    const std::string yaml =
        "schema: npusim.workload/1\ntensors:\n"
        "  a1: {shape: [20, 1], dtype: fp32, init: constant, value: 1.000244140625}\n"
        "  a3: {shape: [20, 1], dtype: fp32, init: constant, value: 1.000732421875}\n"
        "  b: {shape: [1, 24], dtype: fp32, init: ones}\n"
        "  c1: {shape: [20, 24], dtype: fp32}\n"
        "  c3: {shape: [20, 24], dtype: fp32}\n"
        "  e1: {shape: [20, 24], dtype: fp32}\n"
        "ops:\n"
        "  - {op: matmul, inputs: [a1, b], outputs: [c1], attrs: {out_dtype: fp32, hf32: true}}\n"
        "  - {op: matmul, inputs: [a3, b], outputs: [c3], attrs: {out_dtype: fp32, hf32: true}}\n"
        "  - {op: matmul, inputs: [a1, b], outputs: [e1], attrs: {out_dtype: fp32}}\n";
    const auto r = test::run_checked(platform::load_platform("ascend910b1"), yaml);
    BOOST_REQUIRE_EQUAL(r.failure, "");
    BOOST_REQUIRE_EQUAL(r.checks.size(), 3u);
    for (const auto& c : r.checks)
        BOOST_CHECK_MESSAGE(c.max_error == 0, c.label << " " << c.max_error);
    // Every element of each output is the same; the first is reported as the worst.
    BOOST_CHECK_EQUAL(r.checks[0].worst_got, 1.0);
    BOOST_CHECK_EQUAL(r.checks[1].worst_got, 1.0009765625);
    BOOST_CHECK_EQUAL(r.checks[2].worst_got, 1.000244140625);
    BOOST_CHECK_EQUAL(models::round_to_hf32(1.000244140625f), 1.0f);
    BOOST_CHECK_EQUAL(models::round_to_hf32(1.000732421875f), 1.0009765625f);
}

BOOST_AUTO_TEST_CASE(hf32_needs_fp32_inputs) {
    const std::string e = test::plan_error("matmul",
                                           {memory::tensor_desc("a", models::dtype::fp16, {4, 8}),
                                            memory::tensor_desc("b", models::dtype::fp16, {8, 4})},
                                           {{"hf32", true}});
    BOOST_CHECK_MESSAGE(e == "op 'matmul' attribute 'hf32' rounds fp32 inputs to HF32, but 'a' is "
                             "fp16; drop it or give fp32 inputs",
                        e);
}

BOOST_AUTO_TEST_SUITE_END()
