// Reductions, softmax, layernorm and rmsnorm against their CPU references on every preset, on
// row lengths that are not multiples of a vector repeat, and their error texts.
#include <boost/test/unit_test.hpp>

#include "sw/ops/registry.h"
#include "tests/sw/op_fixture.h"

using namespace npusim;
using memory::tensor_desc;
using models::dtype;

namespace {

const std::string head = "schema: npusim.workload/1\ntensors:\n";

std::string reduction_yaml(const std::string& op) {
    return head +
           "  a: {shape: [7, 1001], dtype: fp16, init: random, seed: 1}\n"
           "  a_r: {shape: [7], dtype: fp16}\n"
           "  b: {shape: [5, 33], dtype: fp32, init: random, seed: 2}\n"
           "  b_r: {shape: [5, 1], dtype: fp32}\n"
           "  c: {shape: [3, 50, 37], dtype: fp16, init: random, seed: 3}\n"
           "  c_r: {shape: [3, 37], dtype: fp16}\n"
           "  d: {shape: [9, 130], dtype: fp32, init: random, seed: 4}\n"
           "  d_r: {shape: [130], dtype: fp32}\n"
           "  e: {shape: [4, 300], dtype: fp16, init: random, seed: 5}\n"
           "  e_r: {shape: [4], dtype: fp16}\n"
           "ops:\n"
           "  - {op: " +
           op +
           ", inputs: [a], outputs: [a_r]}\n"
           "  - {op: " +
           op +
           ", inputs: [b], outputs: [b_r], attrs: {axis: 1, keepdims: true}}\n"
           "  - {op: " +
           op +
           ", inputs: [c], outputs: [c_r], attrs: {axis: 1}, stream: s2}\n"
           "  - {op: " +
           op +
           ", inputs: [d], outputs: [d_r], attrs: {axis: -2}}\n"
           "  - {op: " +
           op + ", inputs: [e], outputs: [e_r], attrs: {axis: 1}}\n";
}

/// Expects planning `op` on tiny to fail with exactly `text`.
void expect_plan_error(const std::string& op, std::vector<tensor_desc> in, ops::attr_map attrs,
                       const std::string& text) {
    BOOST_CHECK_EQUAL(test::plan_error(op, std::move(in), std::move(attrs)), text);
}

const std::string softmax_yaml =
    head +
    "  a: {shape: [7, 1001], dtype: fp16, init: random, seed: 1}\n"
    "  a_y: {shape: [7, 1001], dtype: fp16}\n"
    "  b: {shape: [5, 70], dtype: fp32, init: random, seed: 2}\n"
    "  b_y: {shape: [5, 70], dtype: fp32}\n"
    "  c: {shape: [2, 3, 256], dtype: fp16, init: random, seed: 3}\n"
    "  c_y: {shape: [2, 3, 256], dtype: fp16}\n"
    "ops:\n"
    "  - {op: softmax, inputs: [a], outputs: [a_y]}\n"
    "  - {op: softmax, inputs: [b], outputs: [b_y], stream: s2}\n"
    "  - {op: softmax, inputs: [c], outputs: [c_y], attrs: {axis: 2}}\n";

const std::string layernorm_yaml = head +
                                   "  a: {shape: [6, 777], dtype: fp16, init: random, seed: 1}\n"
                                   "  g: {shape: [777], dtype: fp16, init: random, seed: 2}\n"
                                   "  bt: {shape: [777], dtype: fp16, init: random, seed: 3}\n"
                                   "  a_y: {shape: [6, 777], dtype: fp16}\n"
                                   "  b: {shape: [2, 2, 130], dtype: fp32, init: random, seed: 4}\n"
                                   "  g2: {shape: [130], dtype: fp32, init: ones}\n"
                                   "  bt2: {shape: [130], dtype: fp32, init: random, seed: 5}\n"
                                   "  b_y: {shape: [2, 2, 130], dtype: fp32}\n"
                                   "ops:\n"
                                   "  - {op: layernorm, inputs: [a, g, bt], outputs: [a_y]}\n"
                                   "  - {op: layernorm, inputs: [b, g2, bt2], outputs: [b_y], "
                                   "attrs: {epsilon: 0.001}, stream: s2}\n";

const std::string rmsnorm_yaml = head +
                                 "  a: {shape: [6, 777], dtype: fp16, init: random, seed: 1}\n"
                                 "  g: {shape: [777], dtype: fp16, init: random, seed: 2}\n"
                                 "  a_y: {shape: [6, 777], dtype: fp16}\n"
                                 "  b: {shape: [3, 64], dtype: fp32, init: random, seed: 4}\n"
                                 "  g2: {shape: [64], dtype: fp32, init: random, seed: 5}\n"
                                 "  b_y: {shape: [3, 64], dtype: fp32}\n"
                                 "ops:\n"
                                 "  - {op: rmsnorm, inputs: [a, g], outputs: [a_y]}\n"
                                 "  - {op: rmsnorm, inputs: [b, g2], outputs: [b_y], stream: s2}\n";

// Rows longer than any preset's UB holds with its queues: the long-row kernels, in chunks with
// a tail.
const std::string long_rows_yaml =
    head +
    "  a: {shape: [2, 40000], dtype: fp16, init: random, seed: 1}\n"
    "  g: {shape: [40000], dtype: fp16, init: random, seed: 2}\n"
    "  bt: {shape: [40000], dtype: fp16, init: random, seed: 3}\n"
    "  s16: {shape: [2, 40000], dtype: fp16}\n"
    "  l16: {shape: [2, 40000], dtype: fp16}\n"
    "  r16: {shape: [2, 40000], dtype: fp16}\n"
    "  b: {shape: [3, 20003], dtype: fp32, init: random, seed: 4}\n"
    "  g2: {shape: [20003], dtype: fp32, init: random, seed: 5}\n"
    "  bt2: {shape: [20003], dtype: fp32, init: random, seed: 6}\n"
    "  s32: {shape: [3, 20003], dtype: fp32}\n"
    "  l32: {shape: [3, 20003], dtype: fp32}\n"
    "  r32: {shape: [3, 20003], dtype: fp32}\n"
    "ops:\n"
    "  - {op: softmax, inputs: [a], outputs: [s16]}\n"
    "  - {op: layernorm, inputs: [a, g, bt], outputs: [l16], stream: s2}\n"
    "  - {op: rmsnorm, inputs: [a, g], outputs: [r16]}\n"
    "  - {op: softmax, inputs: [b], outputs: [s32], stream: s2}\n"
    "  - {op: layernorm, inputs: [b, g2, bt2], outputs: [l32]}\n"
    "  - {op: rmsnorm, inputs: [b, g2], outputs: [r32], stream: s2}\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_norm)

NPUSIM_PRESET_CASES(reduce_sum, reduction_yaml("reduce_sum"))
NPUSIM_PRESET_CASES(reduce_mean, reduction_yaml("reduce_mean"))
NPUSIM_PRESET_CASES(reduce_max, reduction_yaml("reduce_max"))

NPUSIM_PRESET_CASES(softmax, softmax_yaml)
NPUSIM_PRESET_CASES(layernorm, layernorm_yaml)
NPUSIM_PRESET_CASES(rmsnorm, rmsnorm_yaml)
NPUSIM_PRESET_CASES(long_rows, long_rows_yaml)

// The row kernel while a row fits UB with its queues, the long-row kernel past that.
BOOST_AUTO_TEST_CASE(kernel_choice_by_row_length) {
    const auto tiny = platform::load_platform("tiny");
    auto kernel_for = [&](int64_t cols) {
        return ops::library()
            .plan("rmsnorm",
                  {tensor_desc("x", dtype::fp16, {3, cols}), tensor_desc("g", dtype::fp16, {cols})},
                  {}, tiny)
            .kernel->name;
    };
    BOOST_CHECK_EQUAL(kernel_for(1000), "rmsnorm_fp16");
    BOOST_CHECK_EQUAL(kernel_for(9000), "rmsnorm_long_rows_fp16");
}

BOOST_AUTO_TEST_CASE(error_texts) {
    const tensor_desc x("x", dtype::fp16, {4, 10});
    expect_plan_error("reduce_sum", {x}, {{"axis", int64_t(2)}},
                      "op 'reduce_sum' attribute 'axis' is 2 but input 'x' has 2 dimensions; "
                      "expected -2..1");
    expect_plan_error("softmax", {x}, {{"axis", int64_t(0)}},
                      "op 'softmax' attribute 'axis' is 0; only the last axis (1 or -1) is "
                      "supported, transpose first");
    expect_plan_error("layernorm",
                      {x, tensor_desc("g", dtype::fp16, {4}), tensor_desc("b", dtype::fp16, {10})},
                      {},
                      "op 'layernorm' input 'gamma' has shape [4]; expected [10], the last "
                      "dimension of 'x' [4,10]");
    expect_plan_error("rmsnorm", {x, tensor_desc("g", dtype::fp32, {10})}, {},
                      "op 'rmsnorm' input 'gamma' is fp32 but 'x' is fp16; both must have the "
                      "same dtype");
    // Rows longer than UB holds are no error: the long-row reduction reads them in chunks.
    expect_plan_error("reduce_max", {tensor_desc("x", dtype::fp16, {3, 1000000})}, {}, "");
}

BOOST_AUTO_TEST_SUITE_END()
