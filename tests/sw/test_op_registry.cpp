// The operator registry: two-phase launch of library ops checked against CPU references,
// kernel choice by dtype, priority and applicability, and every error text.
#include <boost/test/unit_test.hpp>

#include <random>

#include "models/core/dtype.h"
#include "sw/ops/registry.h"
#include "tests/sw/kernel_fixture.h"
#include "tests/sw/runtime_fixture.h"

using namespace npusim;
using memory::tensor_desc;
using models::dtype;
using ops::attr_map;
using ops::op_error;

namespace {

/// Expects `fn` to throw op_error with exactly `text`.
template <class F>
void expect_error(F fn, const std::string& text) {
    try {
        fn();
    } catch (const op_error& e) {
        BOOST_CHECK_EQUAL(e.what(), text);
        return;
    }
    BOOST_ERROR("no op_error for: " << text);
}

/// An op with attributes and two kernels, for selection and error tests (never executed).
ops::registry test_registry() {
    ops::registry r;
    ops::op_schema s;
    s.name = "scale";
    s.doc = "y = x * factor";
    s.inputs = {{"x", {dtype::fp32}}};
    s.outputs = {{"y", {dtype::fp32}}};
    s.attrs = {{"factor", 1.0, false}, {"axis", int64_t(0), true}};
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map&) {
        return std::vector<tensor_desc>{tensor_desc("y", dtype::fp32, in[0].shape())};
    };
    r.add_op(s, "test:1");
    auto kernel = [](const std::string& name, int priority, unsigned dim) {
        ops::op_kernel k;
        k.op = "scale";
        k.name = name;
        k.dtypes = {dtype::fp32, dtype::fp32};
        k.priority = priority;
        k.tile = [dim](const ops::op_call&, const platform::platform_config&) {
            ops::tiling_plan t;
            t.block_dim = dim;
            return t;
        };
        return k;
    };
    auto small = kernel("small", 1, 1);
    small.applies = [](const ops::op_call& c, const platform::platform_config&) {
        return c.inputs[0].elements() <= 1024;
    };
    r.add_kernel(small, "test:2");
    r.add_kernel(kernel("large", 0, 8), "test:3");
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(op_registry)

BOOST_AUTO_TEST_CASE(add_runs_through_plan_and_execute) {
    const auto cfg = test::tiny();
    const uint64_t n = 1001;
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> d(-8, 8);
    std::vector<float> x(n), y(n), z(n);
    for (uint64_t i = 0; i < n; ++i) x[i] = d(rng), y[i] = d(rng);
    test::run_runtime(cfg, [&](platform::chip& chip, runtime::context& ctx) {
        const ops::op_plan p = ops::library().plan(
            "add",
            {tensor_desc("x", dtype::fp32, {7, 143}), tensor_desc("y", dtype::fp32, {7, 143})}, {},
            chip.config());
        BOOST_CHECK_EQUAL(p.kernel->name, "add_fp32");
        BOOST_CHECK((p.call.outputs[0].shape() == std::vector<int64_t>{7, 143}));
        uint64_t bx = 0, by = 0, bz = 0;
        BOOST_REQUIRE(ctx.malloc(bx, n * 4) == runtime::status::success);
        BOOST_REQUIRE(ctx.malloc(by, n * 4) == runtime::status::success);
        BOOST_REQUIRE(ctx.malloc(bz, n * 4) == runtime::status::success);
        BOOST_CHECK(ctx.memcpy_to_device(nullptr, bx, x.data(), n * 4) == runtime::status::success);
        BOOST_CHECK(ctx.memcpy_to_device(nullptr, by, y.data(), n * 4) == runtime::status::success);
        BOOST_CHECK(ops::library().execute(ctx, nullptr, p, {{bx, by}, {bz}, 0}) ==
                    runtime::status::success);
        BOOST_CHECK(ctx.memcpy_to_host(nullptr, z.data(), bz, n * 4) == runtime::status::success);
        BOOST_CHECK(ctx.synchronize() == runtime::status::success);
        BOOST_CHECK_EQUAL(test::entry(ctx, "add").kind, "kernel");
    });
    for (uint64_t i = 0; i < n; ++i) BOOST_CHECK_EQUAL(z[i], x[i] + y[i]);
}

BOOST_AUTO_TEST_CASE(matmul_runs_through_plan_and_execute_on_a_split_chip) {
    const auto cfg = platform::load_platform("ascend910b1");
    const uint32_t m = 33, k = 47, n = 18;
    const auto a = test::random_half(m * k, 1), b = test::random_half(k * n, 2);
    std::vector<uint16_t> c(m * n);
    test::run_runtime(cfg, [&](platform::chip& chip, runtime::context& ctx) {
        const ops::op_plan p = ops::library().plan(
            "matmul",
            {tensor_desc("a", dtype::fp16, {m, k}), tensor_desc("b", dtype::fp16, {k, n})}, {},
            chip.config());
        BOOST_CHECK_EQUAL(p.tiling.flops, 2.0 * m * n * k);
        uint64_t ba = 0, bb = 0, bc = 0;
        BOOST_REQUIRE(ctx.malloc(ba, a.size() * 2) == runtime::status::success);
        BOOST_REQUIRE(ctx.malloc(bb, b.size() * 2) == runtime::status::success);
        BOOST_REQUIRE(ctx.malloc(bc, c.size() * 2) == runtime::status::success);
        BOOST_CHECK(ctx.memcpy_to_device(nullptr, ba, a.data(), a.size() * 2) ==
                    runtime::status::success);
        BOOST_CHECK(ctx.memcpy_to_device(nullptr, bb, b.data(), b.size() * 2) ==
                    runtime::status::success);
        BOOST_CHECK(ops::library().execute(ctx, nullptr, p, {{ba, bb}, {bc}, 0}) ==
                    runtime::status::success);
        BOOST_CHECK(ctx.memcpy_to_host(nullptr, c.data(), bc, c.size() * 2) ==
                    runtime::status::success);
        BOOST_CHECK(ctx.synchronize() == runtime::status::success);
    });
    BOOST_CHECK_LT(test::matmul_error(m, k, n, a, b, c), 2e-3);
}

BOOST_AUTO_TEST_CASE(kernel_choice_by_priority_and_applicability) {
    const auto r = test_registry();
    const auto cfg = test::tiny();
    const attr_map axis{{"axis", int64_t(1)}};
    auto p = r.plan("scale", {tensor_desc("x", dtype::fp32, {512})}, axis, cfg);
    BOOST_CHECK_EQUAL(p.kernel->name, "small");  // applies and has the higher priority
    BOOST_CHECK_EQUAL(std::get<double>(p.call.attrs.at("factor")), 1.0);  // the default
    p = r.plan("scale", {tensor_desc("x", dtype::fp32, {4096})}, axis, cfg);
    BOOST_CHECK_EQUAL(p.kernel->name, "large");
    BOOST_CHECK_EQUAL(p.tiling.block_dim, 8u);
}

BOOST_AUTO_TEST_CASE(misuse_names_the_argument_and_what_was_expected) {
    const auto& lib = ops::library();
    const auto cfg = test::tiny();
    const tensor_desc x16("x", dtype::fp16, {4, 8}), y16("y", dtype::fp16, {4, 8});
    std::string all_ops;  // the list grows with the library
    for (const auto& n : lib.names()) all_ops += (all_ops.empty() ? "" : ", ") + n;
    BOOST_CHECK(test::contains(all_ops, "add, ") && test::contains(all_ops, ", matmul"));
    expect_error(
        [&] {
            lib.plan("matmu", {x16, y16}, {}, cfg);
        },
        "unknown op 'matmu' (did you mean 'matmul'?); the registered ops are: " + all_ops);
    expect_error([&] { lib.plan("add", {x16}, {}, cfg); },
                 "op 'add' takes 2 inputs (x, y) but was given 1");
    expect_error(
        [&] {
            lib.plan("div", {tensor_desc("x", dtype::int8, {4}), y16}, {}, cfg);
        },
        "op 'div' input 'x' ('x' int8[4] ND) is int8; expected fp16, fp32 or bf16");
    // A dtype the chip lacks: fp32 on a cube without fp32 mmad (910, not 910B).
    expect_error(
        [&] {
            const auto f32 = tensor_desc("a", dtype::fp32, {16, 16});
            lib.plan("matmul", {f32, f32}, {{"out_dtype", std::string("fp32")}},
                     platform::load_platform("ascend910"));
        },
        "op 'matmul' input 'a' is fp32, which the cube of ascend910 does not multiply (its "
        "cube.fp32 is false; the 910B family's does); cast 'a' and 'b' to fp16 or bf16");
    expect_error(
        [&] {
            const auto a = tensor_desc("a", dtype::int8, {16, 32});
            lib.plan(
                "matmul_dequant",
                {a, tensor_desc("b", dtype::int8, {32, 8}), tensor_desc("scale", dtype::fp32, {4})},
                {}, cfg);
        },
        "op 'matmul_dequant' input 'scale' has shape [4]; expected [1] (per tensor) or [8] (one "
        "scale per output column)");
    expect_error(
        [&] {
            lib.plan("cast", {x16}, {{"dtype", std::string("int8")}, {"round", std::string("odd")}},
                     cfg);
        },
        "op 'cast' attribute 'round' is 'odd', which is for fp32 -> fp16 or bf16 only, not fp16 "
        "-> int8; use rint");
    expect_error(
        [&] {
            lib.plan("cast", {x16}, {{"dtype", std::string("int8")}, {"round", std::string("up")}},
                     cfg);
        },
        "op 'cast' attribute 'round' is 'up'; expected rint, floor, ceil, round, trunc or odd");
    expect_error(
        [&] {
            lib.plan("quantize",
                     {x16, tensor_desc("scale", dtype::fp32, {3}),
                      tensor_desc("offset", dtype::fp32, {3})},
                     {}, cfg);
        },
        "op 'quantize' input 'scale' is [3]; expected [1] (per tensor) or [8] (per channel: one "
        "scale for each element of the last dimension of 'x' [4,8])");
    expect_error(
        [&] {
            lib.plan("add", {x16, tensor_desc("y", dtype::fp16, {4, 9})}, {}, cfg);
        },
        "op 'add' inputs 'x' [4,8] and 'y' [4,9] do not broadcast: dimension -1 (counting from "
        "the last as -1) is 8 in 'x' and 9 in 'y'; sizes must be equal or 1");
    expect_error(
        [&] {
            lib.plan("matmul",
                     {tensor_desc("a", dtype::fp16, {4, 8}), tensor_desc("b", dtype::fp16, {9, 2})},
                     {}, cfg);
        },
        "op 'matmul' input 'b' has 9 rows but 'a' has 8 columns; they must match (a[m,k] x "
        "b[k,n])");
    const auto r = test_registry();
    const tensor_desc x("x", dtype::fp32, {16});
    expect_error(
        [&] {
            r.plan("scale", {x}, {{"axis", int64_t(0)}, {"factr", 2.0}}, cfg);
        },
        "op 'scale' has no attribute 'factr'; did you mean 'factor'?");
    expect_error(
        [&] {
            r.plan("scale", {x}, {{"axis", 0.5}}, cfg);
        },
        "op 'scale' attribute 'axis' has type real; expected integer");
    expect_error([&] { r.plan("scale", {x}, {}, cfg); },
                 "op 'scale' needs attribute 'axis' (integer)");
}

BOOST_AUTO_TEST_CASE(bad_registrations_name_both_places) {
    auto r = test_registry();
    ops::op_schema dup;
    dup.name = "scale";
    expect_error([&] { r.add_op(dup, "other.cpp:9"); },
                 "op 'scale' registered at other.cpp:9 is already registered at test:1; give the "
                 "new op another name");
    ops::op_kernel k;
    k.op = "scale";
    k.name = "small";
    k.dtypes = {dtype::fp32, dtype::fp32};
    expect_error([&] { r.add_kernel(k, "other.cpp:12"); },
                 "kernel 'small' (fp32 -> fp32) of op 'scale' registered at other.cpp:12 is "
                 "already registered at test:2");
    k.op = "scal";
    expect_error([&] { r.add_kernel(k, "x.cpp:1"); },
                 "kernel 'small' at x.cpp:1 is for op 'scal', which is not registered; register "
                 "the op first");
    k.op = "scale";
    k.name = "third";
    k.dtypes = {dtype::fp32};
    expect_error([&] { r.add_kernel(k, "x.cpp:2"); },
                 "kernel 'third' at x.cpp:2 lists 1 dtypes; op 'scale' has 2 inputs and outputs");
    // A dtype combination no kernel has.
    auto lib_like = test_registry();
    expect_error(
        [&] {
            ops::registry only;
            ops::op_schema s = lib_like.schema("scale");
            s.inputs[0].dtypes.push_back(dtype::fp16);
            s.infer = [](const std::vector<tensor_desc>& in, const attr_map&) {
                return std::vector<tensor_desc>{tensor_desc("y", in[0].type(), in[0].shape())};
            };
            only.add_op(s, "t:1");
            only.plan("scale", {tensor_desc("x", dtype::fp16, {4})}, {{"axis", int64_t(0)}},
                      test::tiny());
        },
        "op 'scale' has no kernel for (fp16 -> fp16) with these shapes on tiny; its kernels "
        "are: none");
}

BOOST_AUTO_TEST_SUITE_END()
