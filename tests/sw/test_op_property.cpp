// The property-based op tester (op_property.h) on a fixed-seed slice per preset, zero-sized
// tensors for every op family, and the bugs the tester found, each as a named case.
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include "tests/sw/op_fixture.h"
#include "tests/sw/op_property.h"

using namespace npusim;

namespace {

/// `count` random cases of the run with seed `seed` on `preset`: none may fail, and most must
/// run (a slice that only gets refused tests nothing).
void check_slice(const char* preset, uint64_t seed, unsigned count) {
    std::vector<uint64_t> seeds;
    for (unsigned i = 0; i < count; ++i) seeds.push_back(test::case_seed(seed, i));
    const auto r = test::run_cases(preset, seeds);
    for (const auto& f : r.failures) BOOST_ERROR(preset << ": " << f);
    for (const auto& f : r.refusals) BOOST_TEST_MESSAGE(preset << " refused " << f);
    BOOST_CHECK_EQUAL(r.cases, count);
    BOOST_CHECK_GE(r.run, count * 3 / 4);
}

/// Zero-sized tensors for every op family: each plans, runs and matches its reference.
std::string zero_sized_workload() {
    return R"(schema: npusim.workload/1
tensors:
  e0:  {shape: [0, 7], dtype: fp16, init: random}
  e1:  {shape: [7], dtype: fp16, init: random}
  add: {shape: [0, 7], dtype: fp16}
  relu: {shape: [0, 7], dtype: fp16}
  cast: {shape: [0, 7], dtype: fp32}
  r0:  {shape: [5, 0, 3], dtype: fp32, init: random}
  sum: {shape: [5, 3], dtype: fp32}
  mean: {shape: [5, 1, 3], dtype: fp32}
  max: {shape: [5, 0], dtype: fp32}
  soft: {shape: [0, 7], dtype: fp16}
  g0:  {shape: [0], dtype: fp16, init: random}
  z0:  {shape: [4, 0], dtype: fp16, init: random}
  ln:  {shape: [4, 0], dtype: fp16}
  rms: {shape: [4, 0], dtype: fp16}
  a:   {shape: [6, 0], dtype: fp16, init: random}
  b:   {shape: [0, 5], dtype: fp16, init: random}
  bias: {shape: [5], dtype: fp32, init: random}
  mm:  {shape: [6, 5], dtype: fp32}
  mmb: {shape: [6, 5], dtype: fp16}
  at:  {shape: [4, 0], dtype: fp16, init: random}
  bt:  {shape: [4, 3], dtype: fp16, init: random}
  mt:  {shape: [0, 3], dtype: fp16}
  bn:  {shape: [0, 0], dtype: fp16, init: random}
  mn:  {shape: [6, 0], dtype: fp16}
  x:   {shape: [1, 0, 6, 6], dtype: fp16, init: random}
  w:   {shape: [3, 0, 3, 3], dtype: fp16, init: random}
  conv: {shape: [1, 3, 4, 4], dtype: fp16}
  mp:  {shape: [1, 0, 3, 3], dtype: fp16}
  ap:  {shape: [1, 0, 3, 3], dtype: fp16}
  tr:  {shape: [7, 0], dtype: fp16}
  tab: {shape: [9, 4], dtype: fp16, init: random}
  idx: {shape: [0], dtype: int32, init: randint, high: 9}
  gat: {shape: [0, 4], dtype: fp16}
  rx:  {shape: [2, 0, 8], dtype: fp16, init: random}
  rc:  {shape: [0, 8], dtype: fp16, init: random}
  rope: {shape: [2, 0, 8], dtype: fp16}
  view: {shape: [7, 0], dtype: fp16}
ops:
  - {op: add, inputs: [e0, e1], outputs: [add]}
  - {op: relu, inputs: [e0], outputs: [relu]}
  - {op: cast, inputs: [e0], outputs: [cast], attrs: {dtype: fp32}}
  - {op: reduce_sum, inputs: [r0], outputs: [sum], attrs: {axis: 1}}
  - {op: reduce_mean, inputs: [r0], outputs: [mean], attrs: {axis: 1, keepdims: true}}
  - {op: reduce_max, inputs: [r0], outputs: [max], attrs: {axis: 2}}
  - {op: softmax, inputs: [e0], outputs: [soft]}
  - {op: layernorm, inputs: [z0, g0, g0], outputs: [ln]}
  - {op: rmsnorm, inputs: [z0, g0], outputs: [rms]}
  - {op: matmul, inputs: [a, b], outputs: [mm], attrs: {out_dtype: fp32}}
  - {op: matmul_bias, inputs: [a, b, bias], outputs: [mmb]}
  - {op: matmul, inputs: [at, bt], outputs: [mt], attrs: {transpose_a: true}}
  - {op: matmul, inputs: [a, bn], outputs: [mn], attrs: {transpose_b: true}}
  - {op: conv2d, inputs: [x, w], outputs: [conv], attrs: {padding: [0, 0]}}
  - {op: max_pool2d, inputs: [x], outputs: [mp], attrs: {kernel: [2, 2]}}
  - {op: avg_pool2d, inputs: [x], outputs: [ap], attrs: {kernel: [2, 2]}}
  - {op: transpose, inputs: [e0], outputs: [tr]}
  - {op: gather, inputs: [tab, idx], outputs: [gat]}
  - {op: rope, inputs: [rx, rc, rc], outputs: [rope]}
  - {op: reshape, inputs: [e0], outputs: [view], attrs: {shape: [7, 0]}}
)";
}

void check_zero_sized(const char* preset) {
    test::check_workload(preset, zero_sized_workload());
}

void check_zero_sized_launches(const char* preset) {
    // Only the ops with a non-empty output launch a kernel: the k = 0 matmuls, the sum and
    // mean over an empty axis and the conv2d without input channels (each a fill).
    const auto t = test::run_timing_only(preset, zero_sized_workload(), "zero.yaml");
    BOOST_CHECK_EQUAL(t.result.failure, "");
    std::vector<std::string> launched;
    for (const auto& o : t.ops)
        if (o.type == "kernel") launched.push_back(o.name.substr(0, o.name.find(' ')));
    BOOST_CHECK_EQUAL(fmt::format("{}", fmt::join(launched, ",")),
                      "reduce_sum,reduce_mean,matmul,matmul_bias,conv2d");
    for (const auto& p : t.plan.ops)
        if (!p.call.schema->view && p.call.outputs[0].elements() == 0) {
            BOOST_CHECK(!p.launches());
            BOOST_CHECK_EQUAL(p.tiling.block_dim, 0u);
        }
}

memory::tensor_desc desc(models::dtype t, std::vector<int64_t> shape) {
    return memory::tensor_desc("x", t, std::move(shape));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(op_property)

// 40 random cases per preset (about a second each, a few under ASan).
NPUSIM_PRESET_TESTS(fixed_seed_slice, [](const char* p) { check_slice(p, 20240601, 40); })

// The generator is a pure function of the seed: a failing case repeats from its one-liner.
BOOST_AUTO_TEST_CASE(cases_repeat_from_their_seed) {
    const auto cfg = platform::load_platform("tiny");
    for (uint64_t i = 0; i < 200; ++i) {
        const uint64_t s = test::case_seed(7, i);
        BOOST_CHECK_EQUAL(test::draw_case(s, cfg).describe(), test::draw_case(s, cfg).describe());
    }
    BOOST_CHECK_NE(test::case_seed(7, 0), test::case_seed(7, 1));
    BOOST_CHECK_NE(test::case_seed(7, 0), test::case_seed(8, 0));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(op_zero_sized)

NPUSIM_PRESET_TESTS(every_family, check_zero_sized)
NPUSIM_PRESET_TESTS(only_non_empty_outputs_launch, check_zero_sized_launches)

// Reductions with no identity, and windows with nothing to read, are planning errors that
// name the op and the argument (as PyTorch refuses them), never a fault.
BOOST_AUTO_TEST_CASE(refused_at_planning) {
    using models::dtype;
    BOOST_CHECK_EQUAL(test::plan_error("reduce_max", {desc(dtype::fp16, {8, 0})}, {{"axis", 1}}),
                      "op 'reduce_max' input 'x' [8,0] has no elements along attribute 'axis' "
                      "(1): the max of nothing is undefined (PyTorch raises too); reduce a "
                      "non-empty axis");
    BOOST_CHECK_EQUAL(test::plan_error("max_pool2d", {desc(dtype::fp16, {1, 2, 0, 4})},
                                       {{"kernel", std::vector<int64_t>{1, 1}}}),
                      "op 'max_pool2d' input 'x' has shape [1,2,0,4]; its height and width must "
                      "not be 0 (the batch and channels may be)");
    BOOST_CHECK_EQUAL(
        test::plan_error("conv2d",
                         {desc(dtype::fp16, {1, 2, 5, 5}), desc(dtype::fp16, {3, 2, 0, 3})}),
        "op 'conv2d' input 'weight' has shape [3,2,0,3]; its kernel (dimensions 2 and 3) must be "
        "at least 1 x 1");
    // A sum or mean over an empty axis is fine (0, NaN): only max is refused.
    BOOST_CHECK_EQUAL(test::plan_error("reduce_sum", {desc(dtype::fp16, {8, 0})}, {{"axis", 1}}),
                      "");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(op_regressions)

// Rows of one column reduced several rows per tile: the kernel took "one value per row" for
// "whole rows" when cols == 1 and wrote values at the row stride (off by 0.49 on tiny).
BOOST_AUTO_TEST_CASE(reduce_max_of_one_column_rows) {
    test::check_workload("tiny", R"(schema: npusim.workload/1
tensors:
  x: {shape: [8, 1], dtype: fp16, init: random}
  y: {shape: [8], dtype: fp16}
  x32: {shape: [37, 1], dtype: fp32, init: random}
  s: {shape: [37, 1], dtype: fp32}
ops:
  - {op: reduce_max, inputs: [x], outputs: [y], attrs: {axis: 1}}
  - {op: reduce_sum, inputs: [x32], outputs: [s], attrs: {axis: -1, keepdims: true}}
)");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(op_regressions_short_rows)

// Many short rows per UB tile: the row kernel sized its output queue as one row of values per
// row (tile_rows^2 values) and failed with "cannot allocate a queue ... at VECOUT in UB".
BOOST_AUTO_TEST_CASE(reduce_many_short_rows_ascend910) {
    test::check_workload("ascend910", R"(schema: npusim.workload/1
tensors:
  x: {shape: [12000, 5], dtype: fp16, init: random}
  y: {shape: [12000], dtype: fp16}
  z: {shape: [12000], dtype: fp16}
ops:
  - {op: reduce_max, inputs: [x], outputs: [y], attrs: {axis: 1}}
  - {op: reduce_mean, inputs: [x], outputs: [z], attrs: {axis: 1}}
)");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(op_regressions_fp32_statistics)

// fp16 layernorm of short rows: the fp16 mean rounded by 2^-11 of itself, as much as the
// deviations of a row of close values (errors 0.008-0.025 against 0.004, cases 73594596290696
// and 215858569027783); rmsnorm of one column likewise (0.005, case 54606956410564). The
// statistics are now fp32.
BOOST_AUTO_TEST_CASE(norms_of_short_fp16_rows) {
    test::check_workload("tiny", R"(schema: npusim.workload/1
tensors:
  x2: {shape: [5, 32, 2], dtype: fp16, init: random}
  g2: {shape: [2], dtype: fp16, init: random}
  b2: {shape: [2], dtype: fp16, init: random}
  y2: {shape: [5, 32, 2], dtype: fp16}
  x3: {shape: [148, 59, 3], dtype: fp16, init: random}
  g3: {shape: [3], dtype: fp16, init: random}
  b3: {shape: [3], dtype: fp16, init: random}
  y3: {shape: [148, 59, 3], dtype: fp16}
  x1: {shape: [128, 224, 1], dtype: fp16, init: random}
  g1: {shape: [1], dtype: fp16, init: random}
  y1: {shape: [128, 224, 1], dtype: fp16}
ops:
  - {op: layernorm, inputs: [x2, g2, b2], outputs: [y2]}
  - {op: layernorm, inputs: [x3, g3, b3], outputs: [y3]}
  - {op: rmsnorm, inputs: [x1, g1], outputs: [y1]}
)");
}

// fp16 reduce_sum over a long last axis summed in fp16 (0.0023-0.0041 against 0.002, case
// 99818427743854); in fp32 such rows no longer fit a UB tile, so they take the long-row
// reduction (chunks of a row folded into fp32 accumulators), as long fp16 norms do.
BOOST_AUTO_TEST_CASE(long_fp16_rows_in_fp32) {
    test::check_workload("tiny", R"(schema: npusim.workload/1
tensors:
  x: {shape: [2, 3279], dtype: fp16, init: random}
  s: {shape: [2, 1], dtype: fp16}
  m: {shape: [2], dtype: fp16}
  mx: {shape: [2], dtype: fp16}
  l: {shape: [11, 20001], dtype: fp16, init: random}
  ls: {shape: [11], dtype: fp16}
  f: {shape: [3, 9001], dtype: fp32, init: random}
  fm: {shape: [3], dtype: fp32}
  fx: {shape: [3], dtype: fp32}
  n: {shape: [3, 5000], dtype: fp16, init: random}
  ng: {shape: [5000], dtype: fp16, init: random}
  nb: {shape: [5000], dtype: fp16, init: random}
  ln: {shape: [3, 5000], dtype: fp16}
  rn: {shape: [3, 5000], dtype: fp16}
ops:
  - {op: reduce_sum, inputs: [x], outputs: [s], attrs: {axis: 1, keepdims: true}}
  - {op: reduce_mean, inputs: [x], outputs: [m], attrs: {axis: -1}}
  - {op: reduce_max, inputs: [x], outputs: [mx], attrs: {axis: 1}}
  - {op: reduce_sum, inputs: [l], outputs: [ls], attrs: {axis: 1}}
  - {op: reduce_mean, inputs: [f], outputs: [fm], attrs: {axis: 1}}
  - {op: reduce_max, inputs: [f], outputs: [fx], attrs: {axis: 1}}
  - {op: layernorm, inputs: [n, ng, nb], outputs: [ln]}
  - {op: rmsnorm, inputs: [n, ng], outputs: [rn]}
)");
}

// Which kernel each of those takes on tiny (so the test above covers the long-row paths).
BOOST_AUTO_TEST_CASE(long_rows_take_the_long_row_kernels) {
    using models::dtype;
    const auto cfg = platform::load_platform("tiny");
    const auto kernel = [&](const std::string& op, std::vector<memory::tensor_desc> in) {
        return ops::library().plan(op, in, {{"axis", int64_t(-1)}}, cfg).kernel->name;
    };
    const auto norm = [&](const std::string& op, dtype t, int64_t c) {
        std::vector<memory::tensor_desc> in = {desc(t, {3, c}),
                                               memory::tensor_desc("gamma", t, {c})};
        if (op == "layernorm") in.push_back(memory::tensor_desc("beta", t, {c}));
        return ops::library().plan(op, in, {}, cfg).kernel->name;
    };
    BOOST_CHECK_EQUAL(kernel("reduce_sum", {desc(dtype::fp16, {2, 3279})}),
                      "reduce_sum_long_rows_fp16");
    BOOST_CHECK_EQUAL(kernel("reduce_sum", {desc(dtype::fp16, {2, 300})}), "reduce_sum_fp16");
    BOOST_CHECK_EQUAL(kernel("reduce_max", {desc(dtype::fp16, {2, 3279})}), "reduce_max_fp16");
    BOOST_CHECK_EQUAL(kernel("reduce_mean", {desc(dtype::fp32, {3, 9001})}),
                      "reduce_mean_long_rows_fp32");
    BOOST_CHECK_EQUAL(norm("layernorm", dtype::fp16, 5000), "layernorm_long_rows_fp16");
    BOOST_CHECK_EQUAL(norm("rmsnorm", dtype::fp16, 5000), "rmsnorm_long_rows_fp16");
    BOOST_CHECK_EQUAL(norm("layernorm", dtype::fp16, 3), "layernorm_fp16");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(op_regressions_conv)

// conv2d with 17-22 output channels per group on tiny: the matmul's tile of such a problem is
// 17-22 rows, L0C was checked for that, but the kernel allocates 32-row tiles ("cannot
// allocate a queue of 2 x 20480 bytes at CO1 in L0C", cases 108368788417673, 105117945757189).
BOOST_AUTO_TEST_CASE(output_channels_just_over_a_fractal_tiny) {
    test::check_workload("tiny", R"(schema: npusim.workload/1
tensors:
  x: {shape: [1, 16, 32, 32], dtype: fp16, init: random}
  w: {shape: [17, 16, 3, 3], dtype: fp16, init: random}
  y: {shape: [1, 17, 32, 30], dtype: fp16}
  xg: {shape: [1, 244, 51, 51], dtype: fp16, init: random}
  wg: {shape: [76, 61, 1, 1], dtype: fp16, init: random}
  yg: {shape: [1, 76, 26, 26], dtype: fp16}
ops:
  - {op: conv2d, inputs: [x, w], outputs: [y], attrs: {padding: [1, 0]}}
  - {op: conv2d, inputs: [xg, wg], outputs: [yg], attrs: {stride: [2, 2], padding: [0, 0], groups: 4}}
)");
}

BOOST_AUTO_TEST_SUITE_END()
