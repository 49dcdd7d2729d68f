// sparse_matmul: each strategy against the CPU reference on every preset (CSR and block
// shapes, empty and skewed rows), the auto choice by the preset's thresholds, timing-only
// against functional, and bad input: shapes, attributes, workload keys and indices that are
// out of range or unsorted.
#include <boost/test/unit_test.hpp>

#include <cstring>

#include "platform/config/config_error.h"
#include "sw/graph/sparse_structure.h"
#include "tests/sw/op_fixture.h"

using namespace npusim;
using memory::tensor_desc;
using models::dtype;

BOOST_AUTO_TEST_SUITE(ops_sparse)

namespace {

// One sparse a times b for each case: format, density, skew and strategy.
std::string sparse_case(const std::string& name, int64_t m, int64_t k, int64_t n, int bm, int bk,
                        double density, double skew, const std::string& strategy,
                        const std::string& partition = "uniform") {
    return "  " + name + "_a: {shape: [" + std::to_string(m) + ", " + std::to_string(k) +
           "], dtype: fp16, init: random, sparse: {density: " + std::to_string(density) +
           ", block: [" + std::to_string(bm) + ", " + std::to_string(bk) +
           "], skew: " + std::to_string(skew) + "}}\n  " + name + "_b: {shape: [" +
           std::to_string(k) + ", " + std::to_string(n) + "], dtype: fp16, init: random}\n  " +
           name + "_c: {shape: [" + std::to_string(m) + ", " + std::to_string(n) +
           "], dtype: fp16}\n|  - {op: sparse_matmul, inputs: [" + name + "_a, " + name +
           "_b], outputs: [" + name + "_c], attrs: {strategy: " + strategy +
           ", partition: " + partition + "}}\n";
}

// The workload of several cases: tensors first, then ops ('|' separates a case's two parts).
std::string workload(const std::vector<std::string>& cases) {
    std::string tensors, ops;
    for (const auto& c : cases) {
        const size_t bar = c.find('|');
        tensors += c.substr(0, bar);
        ops += c.substr(bar + 1);
    }
    return "schema: npusim.workload/1\ntensors:\n" + tensors + "ops:\n" + ops;
}

const std::string strategies_yaml = workload({
    sparse_case("csr_direct", 40, 96, 70, 1, 1, 0.05, 0, "direct"),
    sparse_case("csr_dense", 40, 96, 70, 1, 1, 0.3, 0, "dense"),
    sparse_case("rect_direct", 42, 100, 33, 2, 4, 0.2, 0, "direct"),
    sparse_case("blk_block", 96, 160, 48, 16, 16, 0.25, 0, "block"),
    sparse_case("tall_block", 64, 96, 200, 32, 16, 0.3, 0, "block"),
    sparse_case("wide_block", 48, 128, 40, 16, 32, 0.4, 0, "block"),
    sparse_case("skew_block", 128, 128, 64, 16, 16, 0.1, 3, "block"),  // later rows empty
    sparse_case("blk_direct", 48, 64, 40, 16, 16, 0.3, 0, "direct"),
    sparse_case("blk_dense", 48, 64, 40, 16, 16, 0.6, 0, "dense"),
    sparse_case("empty_auto", 32, 64, 24, 16, 16, 0, 0, "auto"),
    sparse_case("full_auto", 32, 32, 24, 1, 1, 1, 0, "auto"),
    sparse_case("steal_direct", 64, 96, 40, 1, 1, 0.1, 2, "direct", "steal"),
    sparse_case("steal_block", 128, 96, 40, 16, 16, 0.3, 2, "block", "steal"),
    sparse_case("steal_dense", 64, 96, 40, 16, 16, 0.5, 0, "dense", "steal"),
});

}  // namespace

// Every kernel, every format, against the CPU on each preset.
NPUSIM_PRESET_CASES(strategies_match_the_cpu, strategies_yaml)

// auto follows the preset's keys: fractal blocks on the cube below sparse.dense_from, other
// blocks on the vector unit below sparse.direct_below, dense otherwise.
BOOST_AUTO_TEST_CASE(auto_picks_by_density_and_the_preset_thresholds) {
    auto cfg =
        platform::load_platform("tiny", {"sparse.direct_below=0.02", "sparse.dense_from=0.4"});
    auto kernel = [&](int bm, double density) {
        const uint64_t rows = 64 / bm, cols = 64 / bm;
        const auto s = graph::make_sparse_structure(rows, cols, density, 0, 1);
        const std::vector<tensor_desc> in = {
            tensor_desc("v", dtype::fp16, {int64_t(s.columns.size()), bm, bm}),
            tensor_desc("c", dtype::int32, {int64_t(s.columns.size())}),
            tensor_desc("o", dtype::int32, {int64_t(rows + 1)}),
            tensor_desc("b", dtype::fp16, {64, 8})};
        return ops::library().plan("sparse_matmul", in, {}, cfg).kernel->name;
    };
    BOOST_CHECK_EQUAL(kernel(1, 0.01), "sparse_matmul_direct");
    BOOST_CHECK_EQUAL(kernel(1, 0.03), "sparse_matmul_dense");
    BOOST_CHECK_EQUAL(kernel(16, 0.01), "sparse_matmul_block");
    BOOST_CHECK_EQUAL(kernel(16, 0.375), "sparse_matmul_block");
    BOOST_CHECK_EQUAL(kernel(16, 0.5), "sparse_matmul_dense");
}

BOOST_AUTO_TEST_CASE(planning_errors_name_the_argument) {
    const tensor_desc v("v", dtype::fp16, {3, 1, 1}), c("c", dtype::int32, {3}),
        o("o", dtype::int32, {5}), b("b", dtype::fp16, {8, 4});
    BOOST_CHECK_EQUAL(
        test::plan_error("sparse_matmul", {tensor_desc("v", dtype::fp16, {3}), c, o, b}),
        "op 'sparse_matmul' input 'values' has shape [3]; expected [blocks, bm, bk] "
        "with bm, bk >= 1 (CSR: [nonzeros, 1, 1])");
    BOOST_CHECK_EQUAL(
        test::plan_error("sparse_matmul", {v, tensor_desc("c", dtype::int32, {2}), o, b}),
        "op 'sparse_matmul' input 'columns' has shape [2]; expected [3], one block "
        "column per block of 'values' [3,1,1]");
    BOOST_CHECK_EQUAL(
        test::plan_error("sparse_matmul", {tensor_desc("v", dtype::fp16, {3, 1, 3}), c, o, b}),
        "op 'sparse_matmul' input 'b' has 8 rows, not a multiple of the blocks' 3 columns; a's "
        "columns (b's rows) must be whole blocks");
    BOOST_CHECK_EQUAL(
        test::plan_error("sparse_matmul", {v, c, o, b}, {{"strategy", std::string("block")}}),
        "op 'sparse_matmul' attribute 'strategy' is block but the blocks are 1x1; "
        "the block kernel needs blocks of whole 16x16 fractals (e.g. [16,16] or "
        "[32,32]); use direct or dense");
    BOOST_CHECK_EQUAL(
        test::plan_error("sparse_matmul", {v, c, o, b}, {{"strategy", std::string("fast")}}),
        "op 'sparse_matmul' attribute 'strategy' is 'fast'; use auto, direct, block "
        "or dense");
    // Blocks too large for the buffers: the cube's and the vector unit's.
    const tensor_desc huge("v", dtype::fp16, {1, 4096, 16}), one("c", dtype::int32, {1}),
        two("o", dtype::int32, {2}), b16("b", dtype::fp16, {16, 8});
    BOOST_CHECK_EQUAL(
        test::plan_error("sparse_matmul", {huge, one, two, b16},
                         {{"strategy", std::string("block")}}),
        "op 'sparse_matmul' input 'values' has blocks of 4096x16: they do not fit the cube's L0A, "
        "L0B and L0C with room for 16 columns; use smaller blocks");
    BOOST_CHECK_EQUAL(
        test::plan_error("sparse_matmul", {huge, one, two, b16},
                         {{"strategy", std::string("direct")}}),
        "op 'sparse_matmul' input 'values' has blocks of 4096x16: they leave no room in UB for 16 "
        "columns of a row block; use smaller blocks");
    BOOST_CHECK_EQUAL(
        test::plan_error("sparse_matmul", {v, c, o, b}, {{"partition", std::string("cost")}}),
        "op 'sparse_matmul' attribute 'partition' is 'cost'; use uniform or steal (the work of a "
        "row is known only when its indices are read, so there is no cost partition)");
    BOOST_CHECK_EQUAL(
        test::plan_error("sparse_matmul", {tensor_desc("v", dtype::fp16, {40, 1, 1}),
                                           tensor_desc("c", dtype::int32, {40}), o, b}),
        "op 'sparse_matmul' input 'values' holds 40 blocks of 1x1, more than the 32 an a of 4x8 "
        "has");
    BOOST_CHECK_EQUAL(
        test::plan_error("sparse_matmul", {v, c, o, tensor_desc("b", dtype::fp32, {8, 4})}),
        "op 'sparse_matmul' input 'b' ('b' fp32[8,4] ND) is fp32; expected fp16");
}

// The reference refuses what the kernels fault on (under --check), naming the element.
BOOST_AUTO_TEST_CASE(reference_refuses_bad_indices) {
    const auto& s = ops::library().schema("sparse_matmul");
    auto run = [&](std::vector<double> cols, std::vector<double> offs) {
        std::vector<ops::host_tensor> in = {
            {tensor_desc("v", dtype::fp16, {int64_t(cols.size()), 1, 1}),
             std::vector<double>(cols.size(), 1)},
            {tensor_desc("c", dtype::int32, {int64_t(cols.size())}), cols},
            {tensor_desc("o", dtype::int32, {int64_t(offs.size())}), offs},
            {tensor_desc("b", dtype::fp16, {4, 2}), std::vector<double>(8, 1)}};
        std::vector<ops::host_tensor> out = {
            {tensor_desc("y", dtype::fp16, {int64_t(offs.size() - 1), 2}),
             std::vector<double>((offs.size() - 1) * 2)}};
        try {
            s.reference(in, out, {{"strategy", std::string("auto")}});
        } catch (const ops::op_error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    BOOST_CHECK_EQUAL(run({0, 2, 1}, {0, 3}),
                      "op 'sparse_matmul' input 'columns' has columns[2] = 1 after 2 in row block "
                      "0; the columns of a row block must rise (sorted, no repeats)");
    BOOST_CHECK_EQUAL(run({0, 4}, {0, 1, 2}),
                      "op 'sparse_matmul' input 'columns' has columns[1] = 4, outside 0..3 (the "
                      "block columns)");
    BOOST_CHECK_EQUAL(run({0, 1}, {0, 1, 1}),
                      "op 'sparse_matmul' input 'offsets' runs from 0 to 1; it must run from 0 "
                      "to 2 (the stored blocks)");
    BOOST_CHECK_EQUAL(run({0, 1}, {0, 2, 1, 2}),
                      "op 'sparse_matmul' input 'offsets' falls from offsets[1] = 2 to "
                      "offsets[2] = 1; offsets must not fall");
    BOOST_CHECK_EQUAL(run({0, 1, 3}, {0, 2, 3}), "");
}

namespace {

// Runs sparse_matmul (a 4x4 CSR, b 4x2) on tiny with these indices; the runtime's error text.
std::string run_with_indices(const std::vector<int32_t>& cols, const std::vector<int32_t>& offs,
                             bool timing_only, const std::string& strategy) {
    auto cfg = platform::load_platform("tiny");
    if (timing_only) cfg.set_timing_only();
    const std::vector<tensor_desc> in = {
        tensor_desc("v", dtype::fp16, {int64_t(cols.size()), 1, 1}),
        tensor_desc("c", dtype::int32, {int64_t(cols.size())}),
        tensor_desc("o", dtype::int32, {int64_t(offs.size())}),
        tensor_desc("b", dtype::fp16, {4, 2})};
    const auto plan = ops::library().plan("sparse_matmul", in, {{"strategy", strategy}}, cfg);
    std::string error;
    test::run_runtime(cfg, [&](platform::chip& chip, runtime::context& ctx) {
        ops::op_buffers b;
        for (const auto& d : in) {
            uint64_t a = 0;
            BOOST_REQUIRE(ctx.malloc(a, int64_t(d.storage_bytes())) == runtime::status::success);
            b.inputs.push_back(a);
        }
        // The indices go in through the backdoor, kept as a timing-only chip keeps them.
        chip.gm().keep(b.inputs[1], cols.size() * 4, true);
        chip.gm().keep(b.inputs[2], offs.size() * 4, true);
        chip.gm().write(b.inputs[1], cols.data(), cols.size() * 4);
        chip.gm().write(b.inputs[2], offs.data(), offs.size() * 4);
        uint64_t out = 0;
        BOOST_REQUIRE(ctx.malloc(out, 64) == runtime::status::success);
        b.outputs.push_back(out);
        BOOST_REQUIRE(ctx.malloc(b.workspace, int64_t(plan.tiling.workspace_bytes + 64)) ==
                      runtime::status::success);
        if (ops::library().execute(ctx, nullptr, plan, b) != runtime::status::success ||
            ctx.synchronize() != runtime::status::success)
            error = ctx.get_last_error().message;
    });
    return error;
}

}  // namespace

// A bad index faults the kernel, naming the input, the element and the rule: both vector
// kernels that read indices, functional and timing-only (one simulation per test process).
const char* const k_unsorted =
    "sparse_matmul: input 'columns' has columns[2] = 1 after 2 in row block 0; the columns of a "
    "row block must rise (sorted, no repeats)";
const char* const k_outside =
    "sparse_matmul: input 'columns' has columns[1] = 9, outside 0..3 (the block columns of a "
    "4-column A)";
const char* const k_falling =
    "sparse_matmul: input 'offsets' has offsets[1] = 2 and offsets[2] = 1; offsets must rise "
    "from 0 to 2 (the stored blocks)";
void check_fault(const std::vector<int32_t>& cols, const std::vector<int32_t>& offs,
                 bool timing_only, const std::string& strategy, const char* text) {
    const std::string e = run_with_indices(cols, offs, timing_only, strategy);
    BOOST_CHECK_MESSAGE(test::contains(e, text), e);
}

BOOST_AUTO_TEST_CASE(direct_faults_on_unsorted_columns) {
    check_fault({0, 2, 1}, {0, 3, 3, 3, 3}, false, "direct", k_unsorted);
}
BOOST_AUTO_TEST_CASE(dense_faults_on_unsorted_columns_timing_only) {
    check_fault({0, 2, 1}, {0, 3, 3, 3, 3}, true, "dense", k_unsorted);
}
BOOST_AUTO_TEST_CASE(dense_faults_on_a_column_outside_a) {
    check_fault({0, 9}, {0, 1, 2, 2, 2}, false, "dense", k_outside);
}
BOOST_AUTO_TEST_CASE(direct_faults_on_a_column_outside_a_timing_only) {
    check_fault({0, 9}, {0, 1, 2, 2, 2}, true, "direct", k_outside);
}
BOOST_AUTO_TEST_CASE(direct_faults_on_falling_offsets) {
    check_fault({0, 1}, {0, 2, 1, 2, 2}, false, "direct", k_falling);
}
BOOST_AUTO_TEST_CASE(dense_faults_on_falling_offsets_timing_only) {
    check_fault({0, 1}, {0, 2, 1, 2, 2}, true, "dense", k_falling);
}

BOOST_AUTO_TEST_CASE(good_indices_run) {
    BOOST_CHECK_EQUAL(run_with_indices({0, 1, 3}, {0, 2, 2, 3, 3}, false, "direct"), "");
}

namespace {

std::string load_error(const std::string& tensors, const std::string& ops) {
    try {
        graph::load_workload_text(
            "schema: npusim.workload/1\ntensors:\n" + tensors + "ops:\n" + ops, "w.yaml");
    } catch (const platform::config_error& e) {
        return e.what();
    }
    return "";
}

const std::string k_op = "  - {op: sparse_matmul, inputs: [a, b], outputs: [c]}\n";
const std::string k_bc =
    "  b: {shape: [8, 4], dtype: fp16, init: random}\n  c: {shape: [8, 4], dtype: fp16}\n";

}  // namespace

BOOST_AUTO_TEST_CASE(workload_keys_are_checked) {
    BOOST_CHECK_EQUAL(
        load_error(
            "  a: {shape: [8, 8], dtype: fp16, init: random, sparse: {block: [1, 1]}}\n" + k_bc,
            k_op),
        "w.yaml:3:57: error: tensors.a.sparse.density: missing: the fraction of the "
        "blocks that are stored\n  hint: add e.g. 'density: 0.05'");
    BOOST_CHECK(test::contains(
        load_error(
            "  a: {shape: [8, 8], dtype: fp16, init: random, sparse: {density: 1.5}}\n" + k_bc,
            k_op),
        "tensors.a.sparse.density"));
    BOOST_CHECK_EQUAL(load_error("  a: {shape: [8, 8], dtype: fp16, init: random, sparse: "
                                 "{density: 0.5, block: [3, 3]}}\n" +
                                     k_bc,
                                 k_op),
                      "w.yaml:3:57: error: tensors.a.sparse.block: blocks of 3x3 do not tile a 8x8 "
                      "matrix\n  hint: pick a block whose sides divide the shape's");
    BOOST_CHECK_EQUAL(
        load_error(
            "  a: {shape: [8, 8], dtype: fp32, init: random, sparse: {density: 0.5}}\n" + k_bc,
            k_op),
        "w.yaml:3:3: error: tensors.a.dtype: a sparse tensor's values are fp16 "
        "(sparse_matmul's dtype)\n  hint: write 'dtype: fp16'");
    BOOST_CHECK_EQUAL(
        load_error("  a: {shape: [8, 8], dtype: fp16, sparse: {density: 0.5}}\n" + k_bc, k_op),
        "w.yaml:3:3: error: tensors.a.init: a sparse tensor's stored values need an "
        "init (random, ones, constant or zeros)\n  hint: add e.g. 'init: random'");
    BOOST_CHECK_EQUAL(
        load_error(
            "  a: {shape: [8, 8, 2], dtype: fp16, init: random, sparse: {density: 0.5}}\n" + k_bc,
            k_op),
        "w.yaml:3:3: error: tensors.a.shape: a sparse tensor is a matrix; its shape "
        "has 2 dimensions\n  hint: write e.g. 'shape: [1024, 1024]'");
    BOOST_CHECK(test::contains(
        load_error(
            "  a: {shape: [8, 8], dtype: fp16, init: random, sparse: {density: 0.5, fast: 1}}\n" +
                k_bc,
            k_op),
        "tensors.a.sparse.fast"));
    BOOST_CHECK_EQUAL(
        load_error(
            "  a: {shape: [8, 8], dtype: fp16, init: random, sparse: {density: 0.5}}\n" + k_bc,
            "  - {op: add, inputs: [b, b], outputs: [a]}\n"),
        "w.yaml:7:41: error: ops[0].outputs: tensor 'a' is sparse; a sparse tensor is an "
        "input\n  hint: write the op's result to a dense tensor");
    // An op input naming a sparse tensor names its three parts.
    const auto w = graph::load_workload_text(
        "schema: npusim.workload/1\ntensors:\n  a: {shape: [8, 8], dtype: fp16, init: random, "
        "sparse: {density: 0.5, block: [2, 4]}}\n" +
            k_bc + "ops:\n" + k_op,
        "w.yaml");
    BOOST_CHECK_EQUAL(w.ops[0].inputs.size(), 4u);
    BOOST_CHECK_EQUAL(w.ops[0].inputs[0], "a.values");
    BOOST_CHECK(w.tensor("a.values").shape == (std::vector<int64_t>{4, 2, 4}));
    BOOST_CHECK(w.tensor("a.offsets").shape == (std::vector<int64_t>{5}));
}

// The drawn pattern: exactly round(density x grid) blocks, rising columns, skew favouring the
// first rows, the same for the same seed.
BOOST_AUTO_TEST_CASE(sparse_structure_is_exact_and_deterministic) {
    const auto s = graph::make_sparse_structure(10, 20, 0.3, 0, 7);
    BOOST_CHECK_EQUAL(s.columns.size(), 60u);
    BOOST_CHECK_EQUAL(s.offsets.front(), 0);
    BOOST_CHECK_EQUAL(s.offsets.back(), 60);
    for (size_t r = 0; r + 1 < s.offsets.size(); ++r)
        for (int32_t j = s.offsets[r] + 1; j < s.offsets[r + 1]; ++j)
            BOOST_CHECK_LT(s.columns[size_t(j - 1)], s.columns[size_t(j)]);
    const auto again = graph::make_sparse_structure(10, 20, 0.3, 0, 7);
    BOOST_CHECK(again.columns == s.columns && again.offsets == s.offsets);
    const auto skewed = graph::make_sparse_structure(10, 20, 0.3, 2, 7);
    BOOST_CHECK_EQUAL(skewed.offsets.back(), 60);
    BOOST_CHECK_EQUAL(skewed.offsets[1], 20);  // row 0 is full: its share was 39 of 60
    BOOST_CHECK_LT(skewed.offsets[10] - skewed.offsets[9], 3);
}

BOOST_AUTO_TEST_SUITE_END()
