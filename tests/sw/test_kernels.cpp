// The reference kernels on every preset, checked against plain CPU references.
#include <boost/test/unit_test.hpp>
#include <systemc>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "tests/sw/kernel_fixture.h"

using namespace npusim;

namespace {

// fp16 inputs in [-1, 1], fp32 accumulation, fp16 output: the output rounding (2^-11
// relative) dominates; 2e-3 of (|ref| + 1) leaves room for accumulation order.
constexpr double k_matmul_tol = 2e-3;

void check_matmul_on(const std::string& preset, std::vector<std::string> sets, uint32_t m,
                     uint32_t k, uint32_t n) {
    auto cfg = platform::load_platform(preset, sets);
    platform::simulation sim(cfg);
    const auto a = test::random_half(uint64_t(m) * k, 1), b = test::random_half(uint64_t(k) * n, 2);
    std::vector<uint16_t> c;
    models::launch_record rec;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& chip, auto&) {
        rec = test::run_matmul(chip, m, k, n, a, b, c);
    }),
                          sim.error());
    BOOST_REQUIRE_MESSAGE(rec.fault.empty(), rec.fault);
    const double err = test::matmul_error(m, k, n, a, b, c);
    BOOST_TEST_MESSAGE(preset << " " << m << "x" << k << "x" << n << ": max error " << err << ", "
                              << rec.blocks.size() << " blocks, " << (rec.end - rec.start) / 1e6
                              << " us");
    BOOST_CHECK_LE(err, k_matmul_tol);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(kernels)

BOOST_AUTO_TEST_CASE(matmul_tiny_odd_shape) {
    check_matmul_on("tiny", {}, 77, 50, 93);
}
BOOST_AUTO_TEST_CASE(matmul_ascend910) {
    check_matmul_on("ascend910", {}, 300, 200, 520);
}
BOOST_AUTO_TEST_CASE(matmul_ascend910b1) {
    check_matmul_on("ascend910b1", {}, 300, 200, 520);
}
BOOST_AUTO_TEST_CASE(matmul_ascend310p3) {
    check_matmul_on("ascend310p3", {}, 129, 257, 100);
}

namespace {

struct add_run {
    models::launch_record rec;
    bool exact = true;
};

add_run run_add(platform::chip& chip, uint64_t n, unsigned depth) {
    const auto x = test::random_half(n, 5), y = test::random_half(n, 6);
    const uint64_t xa = 0, ya = models::round_up(n * 2, 4096), za = 2 * ya;
    chip.gm().write(xa, x.data(), n * 2);
    chip.gm().write(ya, y.data(), n * 2);
    const auto& cfg = chip.config();
    const auto& core = cfg.split ? cfg.aiv : cfg.aicore;
    const auto t = kernel::tile_elementwise(
        core, chip.scheduler().units(models::kernel_kind::vector), n, 2, depth);
    add_run r;
    r.rec = kernel::launch(
        chip, "add", t.block_dim, models::kernel_kind::vector, [&](kernel::kernel_context& ctx) {
            kernel::elementwise_add_kernel<kernel::half>(ctx, {xa, n}, {ya, n}, {za, n}, t);
        });
    std::vector<uint16_t> z(n);
    chip.gm().read(za, z.data(), n * 2);
    for (uint64_t i = 0; i < n; ++i)  // one fp16 rounding of the exact sum: bit-exact
        r.exact &= z[i] ==
                   models::float_to_half(models::half_to_float(x[i]) + models::half_to_float(y[i]));
    return r;
}

void check_add_on(const std::string& preset, uint64_t n) {
    auto cfg = platform::load_platform(preset);
    platform::simulation sim(cfg);
    add_run r;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& chip, auto&) { r = run_add(chip, n, 2); }),
                          sim.error());
    BOOST_CHECK_MESSAGE(r.rec.fault.empty(), r.rec.fault);
    BOOST_CHECK(r.exact);
    // Every vector unit of the chip took part.
    BOOST_CHECK_EQUAL(r.rec.blocks.size(),
                      sim.get_chip().scheduler().units(models::kernel_kind::vector));
}

}  // namespace

BOOST_AUTO_TEST_CASE(elementwise_tiny_odd_length) {
    check_add_on("tiny", 100003);
}
BOOST_AUTO_TEST_CASE(elementwise_ascend910) {
    check_add_on("ascend910", 1000001);
}
BOOST_AUTO_TEST_CASE(elementwise_ascend910b1) {
    check_add_on("ascend910b1", 1000001);
}
BOOST_AUTO_TEST_CASE(elementwise_ascend310p3) {
    check_add_on("ascend310p3", 333333);
}

// Depth 2 lets MTE2 load tile t+1 while V adds tile t and MTE3 stores tile t-1. At depth 1
// MTE3 already overlaps the next load, so what double buffering hides here is the add: MTE2's
// two loads per tile set the pace. GM is made fast enough not to.
BOOST_AUTO_TEST_CASE(double_buffering_shortens_elementwise) {
    auto cfg = platform::load_platform("tiny", {"gm.bandwidth=1TB/s", "l2.bandwidth=2TB/s"});
    platform::simulation sim(cfg);
    add_run one, two;
    BOOST_REQUIRE(sim.run([&](platform::chip& chip, auto&) {
        one = run_add(chip, 200000, 1);
        two = run_add(chip, 200000, 2);
    }));
    const double t1 = double(one.rec.end - one.rec.start), t2 = double(two.rec.end - two.rec.start);
    BOOST_TEST_MESSAGE("depth 1: " << t1 / 1e6 << " us, depth 2: " << t2 / 1e6 << " us");
    BOOST_CHECK(one.exact && two.exact);
    BOOST_CHECK_LT(t2, 0.95 * t1);
}

BOOST_AUTO_TEST_CASE(double_buffering_shortens_matmul) {
    auto cfg = platform::load_platform("ascend910b1", {"chip.cores=1", "chip.vector_cores=2"});
    platform::simulation sim(cfg);
    const uint32_t m = 256, k = 1024, n = 256;
    const auto a = test::random_half(uint64_t(m) * k, 7), b = test::random_half(uint64_t(k) * n, 8);
    std::vector<uint16_t> c1, c2;
    models::launch_record r1, r2;
    BOOST_REQUIRE(sim.run([&](platform::chip& chip, auto&) {
        r1 = test::run_matmul(chip, m, k, n, a, b, c1, 1);
        r2 = test::run_matmul(chip, m, k, n, a, b, c2, 2);
    }));
    const double t1 = double(r1.end - r1.start), t2 = double(r2.end - r2.start);
    BOOST_TEST_MESSAGE("depth 1: " << t1 / 1e6 << " us, depth 2: " << t2 / 1e6 << " us");
    // The tilings differ (depth changes the tile sizes), so only the accuracy is compared.
    BOOST_CHECK_LE(test::matmul_error(m, k, n, a, b, c1), k_matmul_tol);
    BOOST_CHECK_LE(test::matmul_error(m, k, n, a, b, c2), k_matmul_tol);
    BOOST_CHECK_LT(t2, 0.7 * t1);  // loads hide behind the cube
}

// The relu-fused, leaky-relu and reciprocal instructions through the kernel API, end to end
// (GM -> UB, V, UB -> GM) on an odd length, against a plain CPU computation in float rounded
// once to fp16.
BOOST_AUTO_TEST_CASE(fused_relu_lrelu_rec_through_the_kernel_api) {
    auto cfg = platform::load_platform("tiny");
    platform::simulation sim(cfg);
    const uint64_t n = 1000, xa = 0, ya = 4096, out = 8192;
    const auto x = test::random_half(n, 11), y = test::random_half(n, 12);
    std::vector<uint16_t> add_relu(n), lrelu(n), rec(n);
    models::launch_record rec_launch;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& chip, auto&) {
        chip.gm().write(xa, x.data(), n * 2);
        chip.gm().write(ya, y.data(), n * 2);
        using kernel::half;
        using kernel::position;
        using models::pipe_id;
        rec_launch = kernel::launch(
            chip, "fused", 1, models::kernel_kind::vector, [&](kernel::kernel_context& ctx) {
                auto a = ctx.alloc<half>(position::VECIN, n);
                auto b = ctx.alloc<half>(position::VECIN, n);
                auto r1 = ctx.alloc<half>(position::VECOUT, n);
                auto r2 = ctx.alloc<half>(position::VECOUT, n);
                auto r3 = ctx.alloc<half>(position::VECOUT, n);
                ctx.data_copy(a, kernel::global_tensor<half>{xa, n}, n);
                ctx.data_copy(b, kernel::global_tensor<half>{ya, n}, n);
                ctx.set_flag(pipe_id::MTE2, pipe_id::V, 0);
                ctx.wait_flag(pipe_id::MTE2, pipe_id::V, 0);
                ctx.vector_binary(models::vec_opcode::add_relu, r1, a, b, n);
                ctx.unary(models::vec_opcode::lrelu, r2, a, n, 0.25f);
                ctx.unary(models::vec_opcode::rec, r3, b, n);
                ctx.set_flag(pipe_id::V, pipe_id::MTE3, 0);
                ctx.wait_flag(pipe_id::V, pipe_id::MTE3, 0);
                ctx.data_copy(kernel::global_tensor<half>{out, n}, r1, n);
                ctx.data_copy(kernel::global_tensor<half>{out + 4096, n}, r2, n);
                ctx.data_copy(kernel::global_tensor<half>{out + 8192, n}, r3, n);
            });
        chip.gm().read(out, add_relu.data(), n * 2);
        chip.gm().read(out + 4096, lrelu.data(), n * 2);
        chip.gm().read(out + 8192, rec.data(), n * 2);
    }),
                          sim.error());
    BOOST_REQUIRE_MESSAGE(rec_launch.fault.empty(), rec_launch.fault);
    size_t wrong = 0;
    for (uint64_t i = 0; i < n; ++i) {
        const float a = models::half_to_float(x[i]), b = models::half_to_float(y[i]);
        wrong += add_relu[i] != models::float_to_half(std::max(a + b, 0.f));
        wrong += lrelu[i] != models::float_to_half(a >= 0 ? a : a * 0.25f);
        wrong += rec[i] != models::float_to_half(1.f / b);
    }
    BOOST_CHECK_EQUAL(wrong, 0u);
}

// Multiply-add into a wider accumulator, a group reduction and a gather, through the kernel
// API on a whole launch (issue, repeats, tails and the copies around them).
BOOST_AUTO_TEST_CASE(mla_group_sum_and_gather_through_the_kernel_api) {
    auto cfg = platform::load_platform("tiny");
    platform::simulation sim(cfg);
    const uint64_t n = 1000, groups = 992 / 16, xa = 0, ya = 4096, oa = 8192, out = 16384;
    const auto x = test::random_half(n, 21), y = test::random_half(n, 22);
    std::vector<uint32_t> offsets(n);
    for (uint64_t i = 0; i < n; ++i) offsets[i] = uint32_t((n - 1 - i) * 2);  // reversed
    std::vector<float> mla(n);
    std::vector<uint16_t> sums(groups), gathered(n);
    models::launch_record rec;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& chip, auto&) {
        chip.gm().write(xa, x.data(), n * 2);
        chip.gm().write(ya, y.data(), n * 2);
        chip.gm().write(oa, offsets.data(), n * 4);
        using kernel::half;
        using kernel::position;
        using models::pipe_id;
        using models::vec_opcode;
        rec = kernel::launch(
            chip, "mla_reduce_gather", 1, models::kernel_kind::vector,
            [&](kernel::kernel_context& ctx) {
                auto a = ctx.alloc<half>(position::VECIN, n);
                auto b = ctx.alloc<half>(position::VECIN, n);
                auto off = ctx.alloc<uint32_t>(position::VECIN, n);
                auto acc = ctx.alloc<float>(position::VECOUT, n);
                auto sum = ctx.alloc<half>(position::VECOUT, groups);
                auto g = ctx.alloc<half>(position::VECOUT, n);
                ctx.data_copy(a, kernel::global_tensor<half>{xa, n}, n);
                ctx.data_copy(b, kernel::global_tensor<half>{ya, n}, n);
                ctx.data_copy(off, kernel::global_tensor<uint32_t>{oa, n}, n);
                ctx.set_flag(pipe_id::MTE2, pipe_id::V, 0);
                ctx.wait_flag(pipe_id::MTE2, pipe_id::V, 0);
                ctx.duplicate(acc, 0.5f, n);
                ctx.multiply_add(vec_opcode::mla, acc, a, b, n);
                ctx.reduce(vec_opcode::group_sum, sum, a, groups * 16);
                ctx.gather(g, a, off, n);
                ctx.set_flag(pipe_id::V, pipe_id::MTE3, 0);
                ctx.wait_flag(pipe_id::V, pipe_id::MTE3, 0);
                ctx.data_copy(kernel::global_tensor<float>{out, n}, acc, n);
                ctx.data_copy(kernel::global_tensor<half>{out + 8192, groups}, sum, groups);
                ctx.data_copy(kernel::global_tensor<half>{out + 12288, n}, g, n);
            });
        chip.gm().read(out, mla.data(), n * 4);
        chip.gm().read(out + 8192, sums.data(), groups * 2);
        chip.gm().read(out + 12288, gathered.data(), n * 2);
    }),
                          sim.error());
    BOOST_REQUIRE_MESSAGE(rec.fault.empty(), rec.fault);
    size_t wrong_mla = 0, wrong_gather = 0, wrong_sum = 0;
    for (uint64_t i = 0; i < n; ++i) {
        const float a = models::half_to_float(x[i]), b = models::half_to_float(y[i]);
        wrong_mla += mla[i] != a * b + 0.5f;
        wrong_gather += gathered[i] != x[n - 1 - i];
    }
    for (uint64_t k = 0; k < groups; ++k) {
        float s = 0;
        for (uint64_t i = 0; i < 16; ++i) s += models::half_to_float(x[16 * k + i]);
        wrong_sum += sums[k] != models::float_to_half(s);
    }
    BOOST_CHECK_EQUAL(wrong_mla, 0u);
    BOOST_CHECK_EQUAL(wrong_gather, 0u);
    BOOST_CHECK_EQUAL(wrong_sum, 0u);
}

// cast<int4b> and back through the kernel API on sizes around a repeat (128 elements): the
// int4 tensor packs two elements a byte, so an odd count ends in half a byte. Reference: round
// half to even and clamp to -8..7, then the small integer exactly in fp16.
BOOST_AUTO_TEST_CASE(int4_cast_round_trip_through_the_kernel_api) {
    auto cfg = platform::load_platform("tiny");
    platform::simulation sim(cfg);
    const uint64_t sizes[] = {1, 2, 127, 128, 129, 257, 1000};
    const uint64_t xa = 0, packed_at = 8192, back_at = 16384;
    std::vector<std::vector<uint16_t>> xs, backs;
    std::vector<std::vector<uint8_t>> packs;
    std::string fault;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& chip, auto&) {
        for (uint64_t n : sizes) {
            std::vector<uint16_t> x(n), back(n);
            std::vector<uint8_t> packed((n + 1) / 2);
            std::mt19937 rng{unsigned(n)};
            for (auto& h : x)
                h = models::float_to_half(float(int(rng() % 81) - 40) / 4);  // -10..10, ties too
            chip.gm().write(xa, x.data(), n * 2);
            using kernel::half;
            using kernel::int4b;
            using kernel::position;
            using models::pipe_id;
            const models::launch_record rec =
                kernel::launch(chip, "int4_round_trip", 1, models::kernel_kind::vector,
                               [&](kernel::kernel_context& ctx) {
                                   auto a = ctx.alloc<half>(position::VECIN, n);
                                   auto q = ctx.alloc<int4b>(position::VECOUT, n);
                                   auto b = ctx.alloc<half>(position::VECOUT, n);
                                   ctx.data_copy(a, kernel::global_tensor<half>{xa, n}, n);
                                   ctx.set_flag(pipe_id::MTE2, pipe_id::V, 0);
                                   ctx.wait_flag(pipe_id::MTE2, pipe_id::V, 0);
                                   ctx.cast(q, a, n);
                                   ctx.cast(b, q, n);
                                   ctx.set_flag(pipe_id::V, pipe_id::MTE3, 0);
                                   ctx.wait_flag(pipe_id::V, pipe_id::MTE3, 0);
                                   ctx.data_copy(kernel::global_tensor<int4b>{packed_at, n}, q, n);
                                   ctx.data_copy(kernel::global_tensor<half>{back_at, n}, b, n);
                               });
            if (!rec.fault.empty()) fault += rec.fault + "\n";
            chip.gm().read(packed_at, packed.data(), packed.size());
            chip.gm().read(back_at, back.data(), n * 2);
            xs.push_back(x), packs.push_back(packed), backs.push_back(back);
        }
    }),
                          sim.error());
    BOOST_REQUIRE_MESSAGE(fault.empty(), fault);
    for (size_t t = 0; t < xs.size(); ++t) {
        size_t wrong_packed = 0, wrong_back = 0;
        for (uint64_t i = 0; i < xs[t].size(); ++i) {
            const int want =
                int(std::clamp(std::nearbyint(models::half_to_float(xs[t][i])), -8.f, 7.f));
            const int nib = (packs[t][i / 2] >> (4 * (i % 2))) & 0xf;
            wrong_packed += (nib >= 8 ? nib - 16 : nib) != want;
            if ((nib >= 8 ? nib - 16 : nib) != want)
                BOOST_TEST_MESSAGE("DBG n " << sizes[t] << " i " << i << " nib " << nib << " want "
                                            << want << " x " << models::half_to_float(xs[t][i]));
            wrong_back += backs[t][i] != models::float_to_half(float(want));
        }
        BOOST_CHECK_MESSAGE(wrong_packed == 0 && wrong_back == 0,
                            "n=" << sizes[t] << ": " << wrong_packed << " packed and " << wrong_back
                                 << " round-tripped elements wrong");
    }
    try {
        (void)kernel::local_tensor<kernel::int4b>{}[3];
        BOOST_ERROR("an int4b tensor split at an odd element");
    } catch (const std::invalid_argument& e) {
        BOOST_CHECK_EQUAL(std::string(e.what()),
                          "an int4b tensor splits at even elements only, not at 3");
    }
}

// A plain copy moves bytes: an odd count (int8, int4 tensors) keeps its last byte both ways
// (it used to be rounded down to whole fp16 elements, the request's default type).
BOOST_AUTO_TEST_CASE(data_copy_of_an_odd_byte_count_keeps_every_byte) {
    auto cfg = platform::load_platform("tiny");
    platform::simulation sim(cfg);
    const uint64_t counts[] = {1, 3, 33, 65, 255};
    std::vector<std::vector<uint8_t>> got;
    std::vector<uint8_t> src(256);
    for (size_t i = 0; i < src.size(); ++i) src[i] = uint8_t(i * 7 + 1);
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& chip, auto&) {
        chip.gm().write(0, src.data(), src.size());
        for (uint64_t n : counts) {
            std::vector<uint8_t> out(n + 8, 0xaa);
            chip.gm().write(4096, out.data(), out.size());
            kernel::launch(chip, "odd_copy", 1, models::kernel_kind::vector,
                           [&](kernel::kernel_context& ctx) {
                               auto a = ctx.alloc<int8_t>(kernel::position::VECIN, n);
                               ctx.data_copy(a, kernel::global_tensor<int8_t>{0, n}, n);
                               ctx.set_flag(models::pipe_id::MTE2, models::pipe_id::MTE3, 0);
                               ctx.wait_flag(models::pipe_id::MTE2, models::pipe_id::MTE3, 0);
                               ctx.data_copy(kernel::global_tensor<int8_t>{4096, n}, a, n);
                           });
            chip.gm().read(4096, out.data(), out.size());
            got.push_back(out);
        }
    }),
                          sim.error());
    for (size_t t = 0; t < got.size(); ++t) {
        const uint64_t n = counts[t];
        std::vector<uint8_t> want(src.begin(), src.begin() + long(n));
        want.resize(n + 8, 0xaa);  // nothing past the copy is written
        BOOST_CHECK_MESSAGE(got[t] == want, n << " bytes: copy differs");
    }
}

BOOST_AUTO_TEST_SUITE_END()
