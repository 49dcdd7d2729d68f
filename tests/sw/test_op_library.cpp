// Every elementwise op against its CPU reference through a workload, fp16 and fp32 where the op
// has both, on a coupled chip (tiny) and a split one (ascend910b1), on sizes that are not
// multiples of the tile or fractal sizes. Matmul has its own file, test_ops_matmul.cpp.
#include <boost/test/unit_test.hpp>

#include "tests/sw/workload_check.h"

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
