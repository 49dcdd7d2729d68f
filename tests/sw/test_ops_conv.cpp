// conv2d, max_pool2d and avg_pool2d against their CPU references through workloads on every
// preset, on sizes that are not multiples of the fractal or repeat sizes, and their error texts.
#include <boost/test/unit_test.hpp>

#include "platform/config/config_loader.h"
#include "sw/ops/registry.h"
#include "tests/sw/op_fixture.h"

using namespace npusim;
using test::check_workload;
using test::plan_error;

namespace {

// Padding, stride 2, dilation 2 and 1x1 on C=3, 13x13, Cout 5 or 7.
const std::string conv_basic =
    "schema: npusim.workload/1\ntensors:\n"
    "  x: {shape: [2, 3, 13, 13], dtype: fp16, init: random, seed: 1}\n"
    "  w: {shape: [5, 3, 3, 3], dtype: fp16, init: random, seed: 2}\n"
    "  w1: {shape: [7, 3, 1, 1], dtype: fp16, init: random, seed: 3}\n"
    "  y_pad: {shape: [2, 5, 13, 13], dtype: fp16}\n"
    "  y_s2: {shape: [2, 5, 7, 7], dtype: fp16}\n"
    "  y_dil: {shape: [2, 5, 13, 13], dtype: fp16}\n"
    "  y_1x1: {shape: [2, 7, 13, 13], dtype: fp16}\n"
    "ops:\n"
    "  - {op: conv2d, inputs: [x, w], outputs: [y_pad], attrs: {padding: [1, 1]}}\n"
    "  - {op: conv2d, inputs: [x, w], outputs: [y_s2], attrs: {stride: [2, 2], padding: [1, 1]}}\n"
    "  - {op: conv2d, inputs: [x, w], outputs: [y_dil], attrs: {dilation: [2, 2], padding: [2, "
    "2]}}\n"
    "  - {op: conv2d, inputs: [x, w1], outputs: [y_1x1]}\n";

// Groups of 3 channels with an asymmetric stride and kernel, and a depthwise 3x3.
const std::string conv_groups =
    "schema: npusim.workload/1\ntensors:\n"
    "  x: {shape: [1, 6, 9, 11], dtype: fp16, init: random, seed: 4}\n"
    "  wg: {shape: [4, 3, 3, 2], dtype: fp16, init: random, seed: 5}\n"
    "  wd: {shape: [6, 1, 3, 3], dtype: fp16, init: random, seed: 6}\n"
    "  y_g: {shape: [1, 4, 4, 10], dtype: fp16}\n"
    "  y_dw: {shape: [1, 6, 9, 11], dtype: fp16}\n"
    "ops:\n"
    "  - {op: conv2d, inputs: [x, wg], outputs: [y_g], attrs: {stride: [2, 1], groups: 2}}\n"
    "  - {op: conv2d, inputs: [x, wd], outputs: [y_dw], attrs: {padding: [1, 1], groups: 6}}\n";

// Windows wholly in the padding (1x1 kernel, padding 2), a stride above the kernel with
// dilation and groups, an asymmetric padding and dilation; pooling with a stride above the
// kernel and a one-column window.
const std::string edges =
    "schema: npusim.workload/1\ntensors:\n"
    "  x: {shape: [3, 8, 5, 7], dtype: fp16, init: random, seed: 3}\n"
    "  xf: {shape: [3, 8, 5, 7], dtype: fp32, init: random, seed: 9}\n"
    "  w1: {shape: [4, 8, 1, 1], dtype: fp16, init: random, seed: 4}\n"
    "  w2: {shape: [36, 2, 2, 3], dtype: fp16, init: random, seed: 5}\n"
    "  w3: {shape: [8, 8, 5, 5], dtype: fp16, init: random, seed: 6}\n"
    "  y1: {shape: [3, 4, 9, 11], dtype: fp16}\n"
    "  y2: {shape: [3, 36, 1, 2], dtype: fp16}\n"
    "  y3: {shape: [3, 8, 3, 3], dtype: fp16}\n"
    "  p1: {shape: [3, 8, 2, 3], dtype: fp32}\n"
    "  p2: {shape: [3, 8, 5, 7], dtype: fp16}\n"
    "ops:\n"
    "  - {op: conv2d, inputs: [x, w1], outputs: [y1], attrs: {padding: [2, 2]}}\n"
    "  - {op: conv2d, inputs: [x, w2], outputs: [y2], attrs: {stride: [3, 3], dilation: [2, 1], "
    "groups: 4}}\n"
    "  - {op: conv2d, inputs: [x, w3], outputs: [y3], attrs: {stride: [2, 2], padding: [2, 3], "
    "dilation: [1, 2]}}\n"
    "  - {op: avg_pool2d, inputs: [xf], outputs: [p1], attrs: {kernel: [2, 2], stride: [3, 3], "
    "padding: [1, 1]}}\n"
    "  - {op: max_pool2d, inputs: [x], outputs: [p2], attrs: {kernel: [3, 1], stride: [1, 1], "
    "padding: [1, 0]}}\n";

// More channels than one L1 load holds on tiny, and several output tiles.
const std::string conv_chunks =
    "schema: npusim.workload/1\ntensors:\n"
    "  x: {shape: [1, 40, 20, 21], dtype: fp16, init: random, seed: 7}\n"
    "  w: {shape: [70, 40, 3, 3], dtype: fp16, init: random, seed: 8}\n"
    "  y: {shape: [1, 70, 20, 21], dtype: fp16}\n"
    "ops:\n"
    "  - {op: conv2d, inputs: [x, w], outputs: [y], attrs: {padding: [1, 1]}}\n";

/// Max and average pooling, fp16 and fp32: 3x3 stride 2 padding 1, 2x2 default stride, an
/// asymmetric window, and a 9-row window that takes two reduce passes.
std::string pool_yaml(const std::string& op) {
    std::string t =
        "schema: npusim.workload/1\ntensors:\n"
        "  a16: {shape: [2, 3, 13, 13], dtype: fp16, init: random, seed: 1}\n"
        "  a32: {shape: [2, 3, 13, 13], dtype: fp32, init: random, seed: 2}\n"
        "  b16: {shape: [1, 2, 20, 17], dtype: fp16, init: random, seed: 3}\n"
        "  p16: {shape: [2, 3, 7, 7], dtype: fp16}\n"
        "  p32: {shape: [2, 3, 7, 7], dtype: fp32}\n"
        "  q32: {shape: [2, 3, 6, 6], dtype: fp32}\n"
        "  r16: {shape: [2, 3, 13, 7], dtype: fp16}\n"
        "  s16: {shape: [1, 2, 5, 6], dtype: fp16}\n"
        "ops:\n";
    auto op_line = [&](const std::string& in, const std::string& out, const std::string& attrs) {
        t += "  - {op: " + op + ", inputs: [" + in + "], outputs: [" + out + "], attrs: {" + attrs +
             "}}\n";
    };
    op_line("a16", "p16", "kernel: [3, 3], stride: [2, 2], padding: [1, 1]");
    op_line("a32", "p32", "kernel: [3, 3], stride: [2, 2], padding: [1, 1]");
    op_line("a32", "q32", "kernel: [2, 2]");
    op_line("a16", "r16", "kernel: [3, 2], stride: [1, 2], padding: [1, 1]");
    op_line("b16", "s16", "kernel: [9, 5], stride: [4, 3], padding: [4, 2]");
    return t;
}

// ResNet-50's layer shapes (batch 1): every kernel must tile within every preset's buffers.
const std::string resnet50_layers =
    "schema: npusim.workload/1\ntensors:\n"
    "  img: {shape: [1, 3, 224, 224], dtype: fp16, init: random}\n"
    "  w_stem: {shape: [64, 3, 7, 7], dtype: fp16, init: random}\n"
    "  stem: {shape: [1, 64, 112, 112], dtype: fp16}\n"
    "  pooled: {shape: [1, 64, 56, 56], dtype: fp16}\n"
    "  w_3x3: {shape: [64, 64, 3, 3], dtype: fp16, init: random}\n"
    "  c2: {shape: [1, 64, 56, 56], dtype: fp16}\n"
    "  w_1x1: {shape: [256, 64, 1, 1], dtype: fp16, init: random}\n"
    "  c3: {shape: [1, 256, 56, 56], dtype: fp16}\n"
    "  w_down: {shape: [512, 256, 3, 3], dtype: fp16, init: random}\n"
    "  c4: {shape: [1, 512, 28, 28], dtype: fp16}\n"
    "  late: {shape: [1, 2048, 7, 7], dtype: fp16, init: random}\n"
    "  gap: {shape: [1, 2048, 1, 1], dtype: fp16}\n"
    "ops:\n"
    "  - {op: conv2d, inputs: [img, w_stem], outputs: [stem], attrs: {stride: [2, 2], padding: "
    "[3, 3]}}\n"
    "  - {op: max_pool2d, inputs: [stem], outputs: [pooled], attrs: {kernel: [3, 3], stride: [2, "
    "2], padding: [1, 1]}}\n"
    "  - {op: conv2d, inputs: [pooled, w_3x3], outputs: [c2], attrs: {padding: [1, 1]}}\n"
    "  - {op: conv2d, inputs: [c2, w_1x1], outputs: [c3]}\n"
    "  - {op: conv2d, inputs: [c3, w_down], outputs: [c4], attrs: {stride: [2, 2], padding: [1, "
    "1]}}\n"
    "  - {op: avg_pool2d, inputs: [late], outputs: [gap], attrs: {kernel: [7, 7]}}\n";

/// Runs ResNet-50's layers timing-only on a preset: no fault, every op timed.
void check_resnet50_fits(const std::string& preset) {
    test::check_runs_timing_only(preset, resnet50_layers, "resnet50.yaml");
}

memory::tensor_desc fp16(const std::string& name, std::vector<int64_t> shape) {
    return memory::tensor_desc(name, models::dtype::fp16, std::move(shape));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_conv)

BOOST_AUTO_TEST_CASE(conv2d_tiny) {
    check_workload("tiny", conv_basic);
}
BOOST_AUTO_TEST_CASE(conv2d_ascend910) {
    check_workload("ascend910", conv_basic);
}
BOOST_AUTO_TEST_CASE(conv2d_ascend910b1) {
    check_workload("ascend910b1", conv_basic);
}
BOOST_AUTO_TEST_CASE(conv2d_ascend310p3) {
    check_workload("ascend310p3", conv_basic);
}
BOOST_AUTO_TEST_CASE(conv2d_groups_tiny) {
    check_workload("tiny", conv_groups);
}
BOOST_AUTO_TEST_CASE(conv2d_groups_ascend910) {
    check_workload("ascend910", conv_groups);
}
BOOST_AUTO_TEST_CASE(conv2d_groups_ascend910b1) {
    check_workload("ascend910b1", conv_groups);
}
BOOST_AUTO_TEST_CASE(conv2d_groups_ascend310p3) {
    check_workload("ascend310p3", conv_groups);
}
BOOST_AUTO_TEST_CASE(edges_tiny) {
    check_workload("tiny", edges);
}
BOOST_AUTO_TEST_CASE(edges_ascend910) {
    check_workload("ascend910", edges);
}
BOOST_AUTO_TEST_CASE(edges_ascend910b1) {
    check_workload("ascend910b1", edges);
}
BOOST_AUTO_TEST_CASE(edges_ascend310p3) {
    check_workload("ascend310p3", edges);
}
BOOST_AUTO_TEST_CASE(conv2d_channel_chunks_tiny) {
    check_workload("tiny", conv_chunks);
}
BOOST_AUTO_TEST_CASE(conv2d_channel_chunks_ascend910b1) {
    check_workload("ascend910b1", conv_chunks);
}

BOOST_AUTO_TEST_CASE(max_pool2d_tiny) {
    check_workload("tiny", pool_yaml("max_pool2d"));
}
BOOST_AUTO_TEST_CASE(max_pool2d_ascend910) {
    check_workload("ascend910", pool_yaml("max_pool2d"));
}
BOOST_AUTO_TEST_CASE(max_pool2d_ascend910b1) {
    check_workload("ascend910b1", pool_yaml("max_pool2d"));
}
BOOST_AUTO_TEST_CASE(max_pool2d_ascend310p3) {
    check_workload("ascend310p3", pool_yaml("max_pool2d"));
}
BOOST_AUTO_TEST_CASE(avg_pool2d_tiny) {
    check_workload("tiny", pool_yaml("avg_pool2d"));
}
BOOST_AUTO_TEST_CASE(avg_pool2d_ascend910) {
    check_workload("ascend910", pool_yaml("avg_pool2d"));
}
BOOST_AUTO_TEST_CASE(avg_pool2d_ascend910b1) {
    check_workload("ascend910b1", pool_yaml("avg_pool2d"));
}
BOOST_AUTO_TEST_CASE(avg_pool2d_ascend310p3) {
    check_workload("ascend310p3", pool_yaml("avg_pool2d"));
}

BOOST_AUTO_TEST_CASE(resnet50_layers_fit_tiny) {
    check_resnet50_fits("tiny");
}
BOOST_AUTO_TEST_CASE(resnet50_layers_fit_ascend910) {
    check_resnet50_fits("ascend910");
}
BOOST_AUTO_TEST_CASE(resnet50_layers_fit_ascend910b1) {
    check_resnet50_fits("ascend910b1");
}
BOOST_AUTO_TEST_CASE(resnet50_layers_fit_ascend310p3) {
    check_resnet50_fits("ascend310p3");
}

BOOST_AUTO_TEST_CASE(conv2d_error_texts) {
    const auto x = fp16("x", {1, 6, 8, 8});
    BOOST_CHECK_EQUAL(plan_error("conv2d", {fp16("x", {6, 8, 8}), fp16("w", {4, 6, 3, 3})}, {}),
                      "op 'conv2d' input 'x' has shape [6,8,8]; expected 4 dimensions [n, c, h, "
                      "w]");
    BOOST_CHECK_EQUAL(plan_error("conv2d", {x, fp16("w", {4, 3, 3, 3})}, {{"groups", int64_t{4}}}),
                      "op 'conv2d' input 'x' has 6 channels, which groups 4 does not divide");
    BOOST_CHECK_EQUAL(plan_error("conv2d", {x, fp16("w", {5, 3, 3, 3})}, {{"groups", int64_t{2}}}),
                      "op 'conv2d' input 'weight' has 5 output channels, which groups 2 does not "
                      "divide");
    BOOST_CHECK_EQUAL(plan_error("conv2d", {x, fp16("w", {4, 6, 3, 3})}, {{"groups", int64_t{2}}}),
                      "op 'conv2d' input 'weight' has 6 input channels per group (dimension 1); "
                      "expected 3 (6 channels of 'x' / groups 2)");
    BOOST_CHECK_EQUAL(plan_error("conv2d", {x, fp16("w", {4, 6, 5, 5})},
                                 {{"dilation", std::vector<int64_t>{2, 2}}}),
                      "op 'conv2d' kernel height 9 (dilated) is larger than the padded input "
                      "height 8");
    BOOST_CHECK_EQUAL(plan_error("conv2d", {x, fp16("w", {4, 6, 3, 3})},
                                 {{"stride", std::vector<int64_t>{0, 1}}}),
                      "op 'conv2d' attribute 'stride' is [0,1]; expected two positive integers");
    BOOST_CHECK_EQUAL(
        plan_error("conv2d", {x, fp16("w", {4, 6, 3, 3})}, {{"padding", std::vector<int64_t>{1}}}),
        "op 'conv2d' attribute 'padding' is [1]; expected two non-negative "
        "integers");
    BOOST_CHECK_EQUAL(
        plan_error("conv2d", {fp16("x", {1, 1, 2, 9000}), fp16("w", {1, 1, 1, 1})}, {}),
        "op 'conv2d' with input 'x' [1,1,2,9000] cannot be tiled on tiny: the "
        "input rows of one channel that a 16-pixel tile reads do not fit L1");
}

BOOST_AUTO_TEST_CASE(pool2d_error_texts) {
    const auto x = fp16("x", {1, 2, 5, 5});
    BOOST_CHECK_EQUAL(plan_error("max_pool2d", {x}, {}),
                      "op 'max_pool2d' needs attribute 'kernel' (list of integers)");
    BOOST_CHECK_EQUAL(plan_error("avg_pool2d", {x},
                                 {{"kernel", std::vector<int64_t>{3, 3}},
                                  {"padding", std::vector<int64_t>{2, 0}}}),
                      "op 'avg_pool2d' attribute 'padding' is [2,0]; each side must be at most "
                      "half the kernel [3,3]");
    BOOST_CHECK_EQUAL(plan_error("max_pool2d", {x}, {{"kernel", std::vector<int64_t>{6, 2}}}),
                      "op 'max_pool2d' kernel height 6 is larger than the padded input height 5");
    BOOST_CHECK_EQUAL(
        plan_error("max_pool2d", {fp16("x", {5, 5})}, {{"kernel", std::vector<int64_t>{2, 2}}}),
        "op 'max_pool2d' input 'x' has shape [5,5]; expected 4 dimensions [n, c, "
        "h, w]");
    BOOST_CHECK_EQUAL(plan_error("max_pool2d", {fp16("x", {1, 1, 2, 30})},
                                 {{"kernel", std::vector<int64_t>{1, 8}}}),
                      "op 'max_pool2d' with input 'x' [1,1,2,30] cannot be tiled on tiny: a "
                      "column stride above 7 is not supported (gather_mask takes 16 windows from "
                      "8 blocks)");
}

BOOST_AUTO_TEST_SUITE_END()
