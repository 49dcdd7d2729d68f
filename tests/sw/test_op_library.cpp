// Every elementwise op against its CPU reference through a workload, fp16 and fp32 where the op
// has both, on a coupled chip (tiny) and a split one (ascend910b1), and the broadcasting binary
// ops on every preset, on sizes that are not multiples of the tile or fractal sizes. Matmul has
// its own file, test_ops_matmul.cpp.
#include <boost/test/unit_test.hpp>

#include "tests/sw/op_fixture.h"

using namespace npusim;
using test::check_workload;

namespace {

/// y = op(x) in fp16 and fp32 on 3 x 1001 elements.
void check_unary(const std::string& op, const std::string& preset) {
    check_workload(preset,
                   "schema: npusim.workload/1\ntensors:\n"
                   "  x16: {shape: [3, 1001], dtype: fp16, init: random, seed: 7}\n"
                   "  x32: {shape: [3, 1001], dtype: fp32, init: random, seed: 8}\n"
                   "  y16: {shape: [3, 1001], dtype: fp16}\n"
                   "  y32: {shape: [3, 1001], dtype: fp32}\n"
                   "ops:\n  - {op: " +
                       op + ", inputs: [x16], outputs: [y16]}\n  - {op: " + op +
                       ", inputs: [x32], outputs: [y32], stream: other}\n");
}

/// z = op(x, y) in fp16 (odd 2-D shape) and fp32 (odd 1-D shape, on another stream).
void check_binary(const std::string& op, const std::string& preset) {
    check_workload(preset,
                   "schema: npusim.workload/1\ntensors:\n"
                   "  a: {shape: [5, 333], dtype: fp16, init: random, seed: 1}\n"
                   "  b: {shape: [5, 333], dtype: fp16, init: random, seed: 2}\n"
                   "  c: {shape: [5, 333], dtype: fp16}\n"
                   "  d: {shape: [77], dtype: fp32, init: random, seed: 3}\n"
                   "  e: {shape: [77], dtype: fp32, init: ones}\n"
                   "  f: {shape: [77], dtype: fp32}\n"
                   "ops:\n  - {op: " +
                       op + ", inputs: [a, b], outputs: [c]}\n  - {op: " + op +
                       ", inputs: [d, e], outputs: [f], stream: other}\n");
}

/// z = op(x, y) with broadcasting: a row vector ([5,333] op [333]), a per-row
/// value on the x side ([37,1] op [37,20]), both sides broadcast in 3-D ([3,1,7] op [4,1]), a
/// single value against a 3-D tensor, and per-row values whose rows split into several tiles
/// on tiny ([7,300] op [2,7,1]).
std::string broadcast_yaml(const std::string& op) {
    return "schema: npusim.workload/1\ntensors:\n"
           "  a: {shape: [5, 333], dtype: fp16, init: random, seed: 1}\n"
           "  r: {shape: [333], dtype: fp16, init: random, seed: 2}\n"
           "  c: {shape: [5, 333], dtype: fp16}\n"
           "  s: {shape: [37, 1], dtype: fp16, init: random, seed: 3}\n"
           "  m: {shape: [37, 20], dtype: fp16, init: random, seed: 4}\n"
           "  n: {shape: [37, 20], dtype: fp16}\n"
           "  p: {shape: [3, 1, 7], dtype: fp32, init: random, seed: 5}\n"
           "  q: {shape: [4, 1], dtype: fp32, init: random, seed: 6}\n"
           "  o: {shape: [3, 4, 7], dtype: fp32}\n"
           "  u: {shape: [1], dtype: fp32, init: random, seed: 7}\n"
           "  v: {shape: [2, 3, 70], dtype: fp32, init: random, seed: 8}\n"
           "  w: {shape: [2, 3, 70], dtype: fp32}\n"
           "  g: {shape: [7, 300], dtype: fp32, init: random, seed: 9}\n"
           "  h: {shape: [2, 7, 1], dtype: fp32, init: random, seed: 10}\n"
           "  k: {shape: [2, 7, 300], dtype: fp32}\n"
           "ops:\n"
           "  - {op: " +
           op +
           ", inputs: [a, r], outputs: [c]}\n"
           "  - {op: " +
           op +
           ", inputs: [s, m], outputs: [n]}\n"
           "  - {op: " +
           op +
           ", inputs: [p, q], outputs: [o]}\n"
           "  - {op: " +
           op +
           ", inputs: [u, v], outputs: [w]}\n"
           "  - {op: " +
           op + ", inputs: [g, h], outputs: [k]}\n";
}

const std::string cast_yaml =
    "schema: npusim.workload/1\ntensors:\n"
    "  h: {shape: [3, 999], dtype: fp16, init: random}\n"
    "  f: {shape: [3, 999], dtype: fp32}\n"
    "  g: {shape: [3, 999], dtype: fp32, init: random}\n"
    "  k: {shape: [3, 999], dtype: fp16}\n"
    "ops:\n  - {op: cast, inputs: [h], outputs: [f], attrs: {dtype: "
    "fp32}}\n"
    "  - {op: cast, inputs: [g], outputs: [k], attrs: {dtype: fp16}}\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(op_library)

BOOST_AUTO_TEST_CASE(cast_coupled) {
    check_workload("tiny", cast_yaml);
}
BOOST_AUTO_TEST_CASE(cast_split) {
    check_workload("ascend910b1", cast_yaml);
}

BOOST_AUTO_TEST_CASE(add_coupled) {
    check_binary("add", "tiny");
}
BOOST_AUTO_TEST_CASE(add_split) {
    check_binary("add", "ascend910b1");
}
BOOST_AUTO_TEST_CASE(sub_coupled) {
    check_binary("sub", "tiny");
}
BOOST_AUTO_TEST_CASE(sub_split) {
    check_binary("sub", "ascend910b1");
}
BOOST_AUTO_TEST_CASE(mul_coupled) {
    check_binary("mul", "tiny");
}
BOOST_AUTO_TEST_CASE(mul_split) {
    check_binary("mul", "ascend910b1");
}
BOOST_AUTO_TEST_CASE(div_coupled) {
    check_binary("div", "tiny");
}
BOOST_AUTO_TEST_CASE(div_split) {
    check_binary("div", "ascend910b1");
}
BOOST_AUTO_TEST_CASE(maximum_coupled) {
    check_binary("maximum", "tiny");
}
BOOST_AUTO_TEST_CASE(maximum_split) {
    check_binary("maximum", "ascend910b1");
}
BOOST_AUTO_TEST_CASE(minimum_coupled) {
    check_binary("minimum", "tiny");
}
BOOST_AUTO_TEST_CASE(minimum_split) {
    check_binary("minimum", "ascend910b1");
}
NPUSIM_PRESET_CASES(add_broadcast, broadcast_yaml("add"))
NPUSIM_PRESET_CASES(sub_broadcast, broadcast_yaml("sub"))
NPUSIM_PRESET_CASES(mul_broadcast, broadcast_yaml("mul"))
NPUSIM_PRESET_CASES(div_broadcast, broadcast_yaml("div"))
NPUSIM_PRESET_CASES(maximum_broadcast, broadcast_yaml("maximum"))
NPUSIM_PRESET_CASES(minimum_broadcast, broadcast_yaml("minimum"))

// bf16 and int8 broadcast through the converting kernel (bf16 computed in fp32, int8 in fp16,
// saturating): a row vector, a per-row column, size-1 middle dims and a single scalar.
const std::string converted_broadcast_yaml =
    "schema: npusim.workload/1\ntensors:\n"
    "  x: {shape: [3, 37, 50], dtype: bf16, init: random, seed: 1}\n"
    "  y: {shape: [50], dtype: bf16, init: random, seed: 2}\n"
    "  c: {shape: [37, 1], dtype: bf16, init: random, seed: 3}\n"
    "  z: {shape: [3, 37, 50], dtype: bf16}\n"
    "  w: {shape: [3, 37, 50], dtype: bf16}\n"
    "  a: {shape: [7, 1, 33], dtype: int8, init: random, seed: 4, scale: 100}\n"
    "  b: {shape: [5, 33], dtype: int8, init: random, seed: 5, scale: 100}\n"
    "  d: {shape: [7, 5, 33], dtype: int8}\n"
    "  e: {shape: [7, 5, 33], dtype: int8}\n"
    "  s: {shape: [1], dtype: int8, init: constant, value: 3}\n"
    "ops:\n"
    "  - {op: add, inputs: [x, y], outputs: [z]}\n"
    "  - {op: div, inputs: [z, c], outputs: [w]}\n"
    "  - {op: sub, inputs: [a, b], outputs: [d]}\n"
    "  - {op: mul, inputs: [d, s], outputs: [e]}\n";
NPUSIM_PRESET_CASES(converted_broadcast, converted_broadcast_yaml)

// Shapes that do not broadcast name both shapes and the dimension; the output is inferred.
BOOST_AUTO_TEST_CASE(broadcast_shapes_and_errors) {
    using memory::tensor_desc;
    using models::dtype;
    BOOST_CHECK_EQUAL(
        test::plan_error("mul", {tensor_desc("x", dtype::fp16, {2, 5, 3}),
                                 tensor_desc("y", dtype::fp16, {4, 1})}),
        "op 'mul' inputs 'x' [2,5,3] and 'y' [4,1] do not broadcast: dimension -2 (counting "
        "from the last as -1) is 5 in 'x' and 4 in 'y'; sizes must be equal or 1");
    const auto p = ops::library().plan(
        "add", {tensor_desc("x", dtype::fp32, {3, 1, 7}), tensor_desc("y", dtype::fp32, {4, 1})},
        {}, platform::load_platform("tiny"));
    BOOST_CHECK(p.call.outputs[0].shape() == (std::vector<int64_t>{3, 4, 7}));
    BOOST_CHECK_EQUAL(p.kernel->name, "add_broadcast_fp32");
    // Same elements after dropping size-1 dims: the plain elementwise kernel.
    const auto flat = ops::library().plan(
        "add", {tensor_desc("x", dtype::fp16, {1, 6, 5}), tensor_desc("y", dtype::fp16, {6, 5})},
        {}, platform::load_platform("tiny"));
    BOOST_CHECK_EQUAL(flat.kernel->name, "add_fp16");
}

BOOST_AUTO_TEST_CASE(relu_coupled) {
    check_unary("relu", "tiny");
}
BOOST_AUTO_TEST_CASE(relu_split) {
    check_unary("relu", "ascend910b1");
}
BOOST_AUTO_TEST_CASE(exp_coupled) {
    check_unary("exp", "tiny");
}
BOOST_AUTO_TEST_CASE(exp_split) {
    check_unary("exp", "ascend910b1");
}
BOOST_AUTO_TEST_CASE(sigmoid_coupled) {
    check_unary("sigmoid", "tiny");
}
BOOST_AUTO_TEST_CASE(sigmoid_split) {
    check_unary("sigmoid", "ascend910b1");
}
BOOST_AUTO_TEST_CASE(tanh_coupled) {
    check_unary("tanh", "tiny");
}
BOOST_AUTO_TEST_CASE(tanh_split) {
    check_unary("tanh", "ascend910b1");
}
BOOST_AUTO_TEST_CASE(gelu_coupled) {
    check_unary("gelu", "tiny");
}
BOOST_AUTO_TEST_CASE(gelu_split) {
    check_unary("gelu", "ascend910b1");
}
BOOST_AUTO_TEST_CASE(silu_coupled) {
    check_unary("silu", "tiny");
}
BOOST_AUTO_TEST_CASE(silu_split) {
    check_unary("silu", "ascend910b1");
}

BOOST_AUTO_TEST_SUITE_END()
