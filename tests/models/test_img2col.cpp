// The img2col (Load3D) transfer L1 -> L0A / L0B against an im2col computed here element by
// element: padding, stride, dilation, a block that starts mid-matrix, and its timing.
#include <boost/test/unit_test.hpp>
#include <systemc>

#include <cstring>

#include "models/core/fractal_layout.h"
#include "tests/test_util.h"

using namespace npusim;
using models::mem_space;

namespace {

// A 3-channel 7 x 9 patch with planes 80 elements apart; 3x2 kernel, stride (2, 1), dilation
// (1, 2), padding 1 on top and 2 on the left, output width 6.
models::img2col_geometry geometry() {
    models::img2col_geometry g;
    g.channels = 3;
    g.height = 7;
    g.width = 9;
    g.channel_stride = 80;
    g.kernel_h = 3;
    g.kernel_w = 2;
    g.stride_h = 2;
    g.stride_w = 1;
    g.dilation_h = 1;
    g.dilation_w = 2;
    g.pad_top = 1;
    g.pad_left = 2;
    g.out_w = 6;
    g.pixel0 = 5;  // the block starts inside output row 0
    g.k0 = 4;      // and at column 4 of K (channel 0, tap (2, 0))
    return g;
}

uint16_t patch_value(uint64_t c, uint64_t h, uint64_t w) {
    return static_cast<uint16_t>(1 + c * 1000 + h * 20 + w);
}

// The im2col matrix's element (pixel i, column j) of the block, computed directly.
uint16_t expected(const models::img2col_geometry& g, uint64_t i, uint64_t j) {
    const uint64_t p = g.pixel0 + i, k = g.k0 + j;
    const uint64_t c = k / (g.kernel_h * g.kernel_w), kh = k / g.kernel_w % g.kernel_h,
                   kw = k % g.kernel_w;
    const int64_t h = int64_t(p / g.out_w * g.stride_h + kh * g.dilation_h) - g.pad_top;
    const int64_t w = int64_t(p % g.out_w * g.stride_w + kw * g.dilation_w) - g.pad_left;
    if (h < 0 || h >= int64_t(g.height) || w < 0 || w >= int64_t(g.width)) return 0;
    return patch_value(c, uint64_t(h), uint64_t(w));
}

/// Runs the load into `dst` (L0A or L0B) for `pixels` x `ks`; returns the whole buffer and the
/// duration in ps.
std::pair<std::vector<uint16_t>, models::ps_t> run_load(mem_space dst, uint32_t pixels,
                                                        uint32_t ks) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    const auto g = geometry();
    std::vector<uint16_t> out;
    models::ps_t took = 0;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        auto& core = c.core(0);
        auto* l1 = core.buffer(mem_space::l1);
        std::vector<uint16_t> patch(g.channels * g.channel_stride, 0xdead);
        for (uint64_t ch = 0; ch < g.channels; ++ch)
            for (uint64_t h = 0; h < g.height; ++h)
                for (uint64_t w = 0; w < g.width; ++w)
                    patch[ch * g.channel_stride + h * g.width + w] = patch_value(ch, h, w);
        std::memcpy(l1->data() + 64, patch.data(), patch.size() * 2);
        auto* l0 = core.buffer(dst);
        std::memset(l0->data(), 0xff, l0->size());  // padding must be written as zeros
        models::dma_request r = test::copy(mem_space::l1, 64, dst, 512, 0);
        r.conv = models::layout_conv::img2col;
        const bool left = dst == mem_space::l0a;
        r.rows = left ? pixels : ks;
        r.row_bytes = uint64_t(left ? ks : pixels) * 2;
        r.fm = g;
        took = test::timed_copy(core, r);
        BOOST_CHECK_MESSAGE(core.fault().empty(), core.fault());
        out.resize(l0->size() / 2);
        std::memcpy(out.data(), l0->data(), l0->size());
    }));
    return {out, took};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(img2col)

// Left operand: [pixels x K] in ZZ, 16 x 16 fractals, row-block-major; 20 x 13 pads to 32 x 16.
BOOST_AUTO_TEST_CASE(left_operand_in_l0a) {
    const uint32_t pixels = 20, ks = 13;
    const auto [l0a, took] = run_load(mem_space::l0a, pixels, ks);
    const auto g = geometry();
    for (uint64_t i = 0; i < 32; ++i)
        for (uint64_t j = 0; j < 16; ++j) {
            const uint16_t want = i < pixels && j < ks ? expected(g, i, j) : 0;
            BOOST_CHECK_EQUAL(l0a[256 + models::zz_index(i, j, 16, 16)], want);
        }
    BOOST_CHECK_EQUAL(l0a[256 + 32 * 16], 0xffff);  // nothing past the padded block
    // tiny's L1->L0A moves 128 B/cycle at 1 GHz after 2 set-up cycles, plus 4 of latency:
    // 1 KiB of fractals take at least 8 + 6 cycles.
    BOOST_CHECK_GE(took, models::ps_t(14000));
}

// Right operand: [K x pixels] in ZN (k0 x 16 fractals, column-major inside); 13 x 20 pads to
// 16 x 32.
BOOST_AUTO_TEST_CASE(right_operand_in_l0b) {
    const uint32_t pixels = 20, ks = 13;
    const auto [l0b, took] = run_load(mem_space::l0b, pixels, ks);
    const auto g = geometry();
    for (uint64_t j = 0; j < 16; ++j)
        for (uint64_t i = 0; i < 32; ++i) {
            const uint16_t want = i < pixels && j < ks ? expected(g, i, j) : 0;
            BOOST_CHECK_EQUAL(l0b[256 + models::zn_index(j, i, 32, 16)], want);
        }
    // tiny's L1->L0B moves 64 B/cycle: 1 KiB takes at least 16 + 6 cycles.
    BOOST_CHECK_GE(took, models::ps_t(22000));
}

BOOST_AUTO_TEST_CASE(k_range_past_the_channels_faults) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        auto& core = c.core(0);
        models::dma_request r = test::copy(mem_space::l1, 0, mem_space::l0b, 0, 16 * 2);
        r.conv = models::layout_conv::img2col;
        r.rows = 16;  // K columns 12..27 of a 3-channel 3x2 window (18 columns)
        r.fm = geometry();
        r.fm.k0 = 12;
        core.issue_copy(r);
        core.wait_idle();
        BOOST_CHECK_MESSAGE(core.fault().find("img2col K range goes past the patch's channels "
                                              "x kernel taps") != std::string::npos,
                            core.fault());
    }));
}

BOOST_AUTO_TEST_CASE(only_from_l1_to_l0) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        auto& core = c.core(0);
        models::dma_request r = test::copy(mem_space::l1, 0, mem_space::ub, 0, 32);
        r.conv = models::layout_conv::img2col;
        r.fm = geometry();
        core.issue_copy(r);
        core.wait_idle();
        BOOST_CHECK_MESSAGE(core.fault().find("img2col loads are only done on the L1->L0A and "
                                              "L1->L0B paths") != std::string::npos,
                            core.fault());
    }));
}

BOOST_AUTO_TEST_SUITE_END()
