// The data-movement ops (transpose, gather, rope) against their CPU references on every preset,
// fp16 and fp32, on shapes that are not multiples of the block, fractal or repeat sizes; their
// error texts; and gather's index checks.
#include <boost/test/unit_test.hpp>

#include "sw/kernel/launch.h"
#include "tests/sw/op_fixture.h"

using namespace npusim;
using memory::tensor_desc;
using models::dtype;

BOOST_AUTO_TEST_SUITE(ops_layout)

// The last two dims swapped (2-D default perm and 3-D), a general 4-D permutation, one that
// keeps the innermost dim (row copies), and one with size-1 dims.
const std::string transpose_yaml =
    "schema: npusim.workload/1\ntensors:\n"
    "  a: {shape: [37, 53], dtype: fp16, init: random, seed: 1}\n"
    "  at: {shape: [53, 37], dtype: fp16}\n"
    "  b: {shape: [3, 19, 45], dtype: fp32, init: random, seed: 2}\n"
    "  bt: {shape: [3, 45, 19], dtype: fp32}\n"
    "  c: {shape: [2, 3, 4, 5], dtype: fp16, init: random, seed: 3}\n"
    "  ct: {shape: [4, 2, 5, 3], dtype: fp16}\n"
    "  d: {shape: [6, 7, 9], dtype: fp32, init: random, seed: 4}\n"
    "  dt: {shape: [7, 6, 9], dtype: fp32}\n"
    "  e: {shape: [1, 21, 1, 10], dtype: fp16, init: random, seed: 5}\n"
    "  et: {shape: [10, 1, 21, 1], dtype: fp16}\n"
    "ops:\n"
    "  - {op: transpose, inputs: [a], outputs: [at]}\n"
    "  - {op: transpose, inputs: [b], outputs: [bt], attrs: {perm: [0, 2, 1]}}\n"
    "  - {op: transpose, inputs: [c], outputs: [ct], attrs: {perm: [2, 0, 3, 1]}}\n"
    "  - {op: transpose, inputs: [d], outputs: [dt], attrs: {perm: [1, 0, 2]}}\n"
    "  - {op: transpose, inputs: [e], outputs: [et]}\n";
NPUSIM_PRESET_CASES(transpose, transpose_yaml)

// bf16 moves as 16-bit elements: a 2-D transpose, a 4-D permutation, one that keeps the
// innermost dim (row copies, an int16 multiply by 1), and an embedding lookup; the bits must
// arrive unchanged (tolerance 0), wide values (scale 1e30) included.
const std::string bf16_moves_yaml =
    "schema: npusim.workload/1\ntensors:\n"
    "  a: {shape: [37, 53], dtype: bf16, init: random, seed: 1, scale: 1e30}\n"
    "  at: {shape: [53, 37], dtype: bf16}\n"
    "  c: {shape: [2, 3, 4, 5], dtype: bf16, init: random, seed: 3}\n"
    "  ct: {shape: [4, 2, 5, 3], dtype: bf16}\n"
    "  d: {shape: [6, 7, 9], dtype: bf16, init: random, seed: 4, scale: 1e-20}\n"
    "  dt: {shape: [7, 6, 9], dtype: bf16}\n"
    "  emb: {shape: [50, 37], dtype: bf16, init: random, seed: 5}\n"
    "  ids: {shape: [3, 7], dtype: int32, init: randint, high: 50, seed: 6}\n"
    "  rows: {shape: [3, 7, 37], dtype: bf16}\n"
    "ops:\n"
    "  - {op: transpose, inputs: [a], outputs: [at]}\n"
    "  - {op: transpose, inputs: [c], outputs: [ct], attrs: {perm: [2, 0, 3, 1]}}\n"
    "  - {op: transpose, inputs: [d], outputs: [dt], attrs: {perm: [1, 0, 2]}}\n"
    "  - {op: gather, inputs: [emb, ids], outputs: [rows]}\n";
NPUSIM_PRESET_CASES(bf16_moves, bf16_moves_yaml)

// A transposed matrix larger than one tile on the smallest UB, in both dtypes.
const std::string transpose_big_yaml =
    "schema: npusim.workload/1\ntensors:\n"
    "  a: {shape: [2, 150, 133], dtype: fp16, init: random, seed: 1}\n"
    "  at: {shape: [2, 133, 150], dtype: fp16}\n"
    "  b: {shape: [130, 70], dtype: fp32, init: random, seed: 2}\n"
    "  bt: {shape: [70, 130], dtype: fp32}\n"
    "ops:\n"
    "  - {op: transpose, inputs: [a], outputs: [at], attrs: {perm: [0, 2, 1]}}\n"
    "  - {op: transpose, inputs: [b], outputs: [bt]}\n";
BOOST_AUTO_TEST_CASE(transpose_multi_tile_tiny) {
    test::check_workload("tiny", transpose_big_yaml);
}
BOOST_AUTO_TEST_CASE(transpose_multi_tile_ascend910b1) {
    test::check_workload("ascend910b1", transpose_big_yaml);
}

BOOST_AUTO_TEST_CASE(transpose_errors) {
    const tensor_desc x("x", dtype::fp16, {2, 3, 4});
    BOOST_CHECK_EQUAL(test::plan_error("transpose", {x}, {{"perm", std::vector<int64_t>{0, 0, 1}}}),
                      "op 'transpose' attribute 'perm' [0,0,1] is not a permutation of 0..2 (x "
                      "has 3 dims)");
    BOOST_CHECK_EQUAL(test::plan_error("transpose", {x}, {{"perm", std::vector<int64_t>{1, 0}}}),
                      "op 'transpose' attribute 'perm' [1,0] is not a permutation of 0..2 (x has "
                      "3 dims)");
}

// Embedding rows (axis 0, 2-D indices), a middle axis, and the last axis (single elements).
const std::string gather_yaml =
    "schema: npusim.workload/1\ntensors:\n"
    "  emb: {shape: [50, 37], dtype: fp16, init: random, seed: 1}\n"
    "  ids: {shape: [3, 7], dtype: int32, init: randint, high: 50, seed: 2}\n"
    "  out: {shape: [3, 7, 37], dtype: fp16}\n"
    "  x: {shape: [4, 30, 9], dtype: fp32, init: random, seed: 3}\n"
    "  i2: {shape: [11], dtype: int32, init: randint, high: 30, seed: 4}\n"
    "  y: {shape: [4, 11, 9], dtype: fp32}\n"
    "  z: {shape: [5, 12], dtype: fp32, init: random, seed: 5}\n"
    "  i3: {shape: [4], dtype: int32, init: randint, high: 12, seed: 6}\n"
    "  w: {shape: [5, 4], dtype: fp32}\n"
    "ops:\n"
    "  - {op: gather, inputs: [emb, ids], outputs: [out]}\n"
    "  - {op: gather, inputs: [x, i2], outputs: [y], attrs: {axis: 1}}\n"
    "  - {op: gather, inputs: [z, i3], outputs: [w], attrs: {axis: -1}}\n";
NPUSIM_PRESET_CASES(gather, gather_yaml)

BOOST_AUTO_TEST_CASE(gather_errors) {
    const tensor_desc x("x", dtype::fp32, {10, 4}), idx("indices", dtype::int32, {3});
    BOOST_CHECK_EQUAL(test::plan_error("gather", {x, idx}, {{"axis", int64_t(2)}}),
                      "op 'gather' attribute 'axis' is 2 but input 'x' [10,4] has 2 dims; "
                      "expected -2..1");
    BOOST_CHECK_EQUAL(test::plan_error("gather", {x, tensor_desc("i", dtype::fp32, {3})}),
                      "op 'gather' input 'indices' ('i' fp32[3] ND) is fp32; expected int32");
    BOOST_CHECK_EQUAL(test::plan_error("gather", {tensor_desc("x", dtype::fp16, {0, 4}), idx}),
                      "op 'gather' input 'x' [0,4] is empty along axis 0; there is nothing to "
                      "gather");
}

// An index past the table faults the kernel, naming the index, its value and the bound.
BOOST_AUTO_TEST_CASE(gather_index_out_of_range_faults) {
    const auto r = test::run_checked(platform::load_platform("tiny"),
                                     "schema: npusim.workload/1\ntensors:\n"
                                     "  t: {shape: [1, 8], dtype: fp16, init: random}\n"
                                     "  i: {shape: [3], dtype: int32, init: ones}\n"
                                     "  o: {shape: [3, 8], dtype: fp16}\n"
                                     "ops:\n  - {op: gather, inputs: [t, i], outputs: [o]}\n");
    BOOST_CHECK_MESSAGE(test::contains(r.failure,
                                       "gather: indices[0] = 1 is outside 0..0 (the "
                                       "size of x along the gather axis is 1)"),
                        r.failure);
}

// Timing-only chips keep the indices (a control input), nothing else: the kernel runs, and an
// index out of range faults as in functional mode (zeros in its place would not; next case).
BOOST_AUTO_TEST_CASE(gather_timing_only) {
    auto cfg = platform::load_platform("ascend910b1");
    cfg.set_timing_only();
    const auto r =
        test::run_checked(cfg,
                          "schema: npusim.workload/1\ntensors:\n"
                          "  t: {shape: [1000, 64], dtype: fp16, init: random}\n"
                          "  i: {shape: [300], dtype: int32, init: randint, high: 1000}\n"
                          "  o: {shape: [300, 64], dtype: fp16}\n"
                          "ops:\n  - {op: gather, inputs: [t, i], outputs: [o]}\n");
    BOOST_CHECK_EQUAL(r.failure, "");
}

BOOST_AUTO_TEST_CASE(gather_timing_only_faults_on_a_bad_index) {
    auto cfg = platform::load_platform("tiny");
    cfg.set_timing_only();
    const auto bad = test::run_checked(cfg,
                                       "schema: npusim.workload/1\ntensors:\n"
                                       "  t: {shape: [1, 8], dtype: fp16, init: random}\n"
                                       "  i: {shape: [3], dtype: int32, init: ones}\n"
                                       "  o: {shape: [3, 8], dtype: fp16}\n"
                                       "ops:\n  - {op: gather, inputs: [t, i], outputs: [o]}\n");
    BOOST_CHECK_MESSAGE(test::contains(bad.failure, "gather: indices[0] = 1 is outside 0..0"),
                        bad.failure);
}

// Full [S, D] tables (fp16, and D/2 = 65 over a repeat) and half [S, D/2] tables (fp32).
const std::string rope_yaml =
    "schema: npusim.workload/1\ntensors:\n"
    "  x: {shape: [2, 9, 40], dtype: fp16, init: random, seed: 1}\n"
    "  c: {shape: [9, 40], dtype: fp16, init: random, seed: 2}\n"
    "  s: {shape: [9, 40], dtype: fp16, init: random, seed: 3}\n"
    "  y: {shape: [2, 9, 40], dtype: fp16}\n"
    "  x2: {shape: [13, 6], dtype: fp32, init: random, seed: 4}\n"
    "  c2: {shape: [13, 3], dtype: fp32, init: random, seed: 5}\n"
    "  s2: {shape: [13, 3], dtype: fp32, init: random, seed: 6}\n"
    "  y2: {shape: [13, 6], dtype: fp32}\n"
    "  x3: {shape: [3, 5, 130], dtype: fp16, init: random, seed: 7}\n"
    "  c3: {shape: [5, 130], dtype: fp16, init: random, seed: 8}\n"
    "  s3: {shape: [5, 130], dtype: fp16, init: random, seed: 9}\n"
    "  y3: {shape: [3, 5, 130], dtype: fp16}\n"
    "ops:\n"
    "  - {op: rope, inputs: [x, c, s], outputs: [y]}\n"
    "  - {op: rope, inputs: [x2, c2, s2], outputs: [y2]}\n"
    "  - {op: rope, inputs: [x3, c3, s3], outputs: [y3]}\n";
NPUSIM_PRESET_CASES(rope, rope_yaml)

BOOST_AUTO_TEST_CASE(rope_errors) {
    const tensor_desc t("t", dtype::fp16, {4, 8});
    BOOST_CHECK_EQUAL(test::plan_error("rope", {tensor_desc("x", dtype::fp16, {4, 7}), t, t}),
                      "op 'rope' input 'x' [4,7] must have at least 2 dims [..., S, D] with D "
                      "even");
    BOOST_CHECK_EQUAL(test::plan_error("rope", {tensor_desc("x", dtype::fp16, {2, 4, 8}),
                                                tensor_desc("c", dtype::fp16, {4, 6}), t}),
                      "op 'rope' input 'cos' has shape [4,6]; for x [2,4,8] it must be [4,8] or "
                      "[4,4]");
    BOOST_CHECK_EQUAL(test::plan_error("rope", {tensor_desc("x", dtype::fp16, {2, 4, 8}), t,
                                                tensor_desc("s", dtype::fp32, {4, 8})}),
                      "op 'rope' input 'sin' is fp32 but 'x' is fp16; all must have the same "
                      "dtype");
}

// Empty tensors plan and run (no tiles) for every op of this family and a broadcast.
BOOST_AUTO_TEST_CASE(empty_tensors) {
    test::check_workload("tiny",
                         "schema: npusim.workload/1\ntensors:\n"
                         "  a: {shape: [0, 5], dtype: fp16, init: random}\n"
                         "  r: {shape: [5], dtype: fp16, init: random}\n"
                         "  c: {shape: [0, 5], dtype: fp16}\n"
                         "  t: {shape: [5, 0], dtype: fp16}\n"
                         "  e: {shape: [4, 5], dtype: fp16, init: random}\n"
                         "  i: {shape: [0], dtype: int32, init: zeros}\n"
                         "  g: {shape: [0, 5], dtype: fp16}\n"
                         "  x: {shape: [0, 4, 8], dtype: fp32, init: random}\n"
                         "  cs: {shape: [4, 8], dtype: fp32, init: random}\n"
                         "  y: {shape: [0, 4, 8], dtype: fp32}\n"
                         "ops:\n"
                         "  - {op: add, inputs: [a, r], outputs: [c]}\n"
                         "  - {op: transpose, inputs: [a], outputs: [t]}\n"
                         "  - {op: gather, inputs: [e, i], outputs: [g]}\n"
                         "  - {op: rope, inputs: [x, cs, cs], outputs: [y]}\n");
}

// The scalar unit's GM read waits for the MTE3 write issued before it, and a read past GM
// faults the block with the address.
BOOST_AUTO_TEST_CASE(get_value_after_mte3_write_and_outside_gm) {
    const auto cfg = platform::load_platform("tiny");
    platform::simulation sim(cfg);
    float got = 0;
    models::launch_record ok, bad;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& chip, auto&) {
        ok = kernel::launch(chip, "write_then_read", 1, models::kernel_kind::vector,
                            [&](kernel::kernel_context& c) {
                                auto t = c.alloc<float>(kernel::position::VECOUT, 64);
                                c.duplicate(t, 42.f, 64);
                                c.set_flag(models::pipe_id::V, models::pipe_id::MTE3, 0);
                                c.wait_flag(models::pipe_id::V, models::pipe_id::MTE3, 0);
                                c.data_copy(kernel::global_tensor<float>{4096, 64}, t, 64);
                                got = c.get_value(kernel::global_tensor<float>{4096, 64}, 63);
                            });
        bad = kernel::launch(chip, "read_outside", 1, models::kernel_kind::vector,
                             [&](kernel::kernel_context& c) {
                                 c.get_value(kernel::global_tensor<int32_t>{1ull << 30, 1}, 0);
                             });
    }),
                          sim.error());
    BOOST_CHECK_MESSAGE(ok.fault.empty(), ok.fault);
    BOOST_CHECK_EQUAL(got, 42.f);
    BOOST_CHECK_MESSAGE(test::contains(bad.fault,
                                       "scalar read of 4 bytes at GM[0x40000000] is "
                                       "outside GM"),
                        bad.fault);
}

BOOST_AUTO_TEST_SUITE_END()
