// Data movement correctness: 2-D strided copies and the ND<->NZ fractal conversions, checked
// against layouts computed here element by element.
#include <boost/test/unit_test.hpp>
#include <systemc>

#include <cstring>

#include "tests/test_util.h"

using namespace npusim;
using models::mem_space;

BOOST_AUTO_TEST_SUITE(layout)

BOOST_AUTO_TEST_CASE(strided_2d_copy_moves_each_row) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    const uint32_t rows = 5;
    const uint64_t row_bytes = 96, src_stride = 1000, dst_stride = 128;
    std::vector<uint8_t> src(rows * src_stride), ub(rows * dst_stride);
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 13 + 1);
    std::vector<uint8_t> back(rows * src_stride);
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        c.gm().write(4096, src.data(), src.size());
        models::dma_request r = test::copy(mem_space::gm, 4096, mem_space::ub, 0, row_bytes);
        r.rows = rows;
        r.src_stride = src_stride;
        r.dst_stride = dst_stride;
        test::timed_copy(c.core(0), r);
        std::memcpy(ub.data(), c.core(0).buffer(mem_space::ub)->data(), ub.size());
        // And back out to a different place with the original stride.
        std::swap(r.src_space, r.dst_space);
        r.src = 0;
        r.dst = 65536;
        std::swap(r.src_stride, r.dst_stride);
        test::timed_copy(c.core(0), r);
        c.gm().read(65536, back.data(), back.size());
        BOOST_CHECK_MESSAGE(c.core(0).fault().empty(), c.core(0).fault());
    }));
    for (uint32_t r = 0; r < rows; ++r) {
        BOOST_CHECK(std::memcmp(&ub[r * dst_stride], &src[r * src_stride], row_bytes) == 0);
        BOOST_CHECK(std::memcmp(&back[r * src_stride], &src[r * src_stride], row_bytes) == 0);
    }
}

// GM (ND, 20 x 40 fp16, odd sizes) -> L1 in NZ: fractals of 16 rows x 16 elements, column
// blocks one after another, zero padding to 32 x 48. L1 counts the whole NZ footprint as
// written (data and padding) and nothing as read.
BOOST_AUTO_TEST_CASE(nd2nz_on_gm_to_l1) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    const uint32_t m = 20, n = 40, c0 = 16, mp = 32, n1 = 3;
    std::vector<uint16_t> nd(m * n);
    for (size_t i = 0; i < nd.size(); ++i) nd[i] = static_cast<uint16_t>(1000 + i);
    std::vector<uint16_t> l1(n1 * mp * c0, 0xffff);
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        c.gm().write(0, nd.data(), nd.size() * 2);
        auto* buf = c.core(0).buffer(mem_space::l1);
        std::memset(buf->data(), 0xff, buf->size());  // padding must be written, not left
        models::dma_request r = test::copy(mem_space::gm, 0, mem_space::l1, 0, n * 2);
        r.rows = m;
        r.conv = models::layout_conv::nd2nz;
        r.src_type = r.dst_type = models::dtype::fp16;
        const auto s0 = test::stats_of(*buf);
        test::timed_copy(c.core(0), r);
        BOOST_CHECK_MESSAGE(c.core(0).fault().empty(), c.core(0).fault());
        const auto s1 = test::stats_of(*buf);
        BOOST_CHECK_EQUAL(s1.at("write_bytes") - s0.at("write_bytes"), double(n1 * mp * c0 * 2));
        BOOST_CHECK_EQUAL(s1.at("read_bytes") - s0.at("read_bytes"), 0.0);
        std::memcpy(l1.data(), buf->data(), l1.size() * 2);
    }));
    for (uint32_t b = 0; b < n1; ++b)
        for (uint32_t r = 0; r < mp; ++r)
            for (uint32_t k = 0; k < c0; ++k) {
                const uint32_t col = b * c0 + k;
                const uint16_t want = (r < m && col < n) ? nd[r * n + col] : 0;
                BOOST_CHECK_EQUAL(l1[(b * mp + r) * c0 + k], want);
            }
}

// L0C (NZ, fp32, 16x16 fractals) -> GM in ND through FixPipe on a split chip's cube core. L0C
// counts the data bytes as read and nothing as written.
BOOST_AUTO_TEST_CASE(nz2nd_on_fixpipe_l0c_to_gm) {
    auto cfg = platform::load_platform("ascend910b1", {"chip.cores=1", "chip.vector_cores=2"});
    platform::simulation sim(cfg);
    const uint32_t m = 18, n = 21, c0 = 16, mp = 32;
    const uint32_t n1 = (n + c0 - 1) / c0;
    std::vector<float> nz(n1 * mp * c0);
    for (size_t i = 0; i < nz.size(); ++i) nz[i] = static_cast<float>(i) * 0.5f;
    const uint64_t dst_stride = 128 * 4;  // ND rows land with a larger pitch
    std::vector<float> gm(m * 128, -1.0f);
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        auto& aic = c.core(0);
        BOOST_REQUIRE(aic.core_type() == models::core_kind::aic);
        std::memcpy(aic.buffer(mem_space::l0c)->data(), nz.data(), nz.size() * 4);
        c.gm().write(0, gm.data(), gm.size() * 4);
        models::dma_request r = test::copy(mem_space::l0c, 0, mem_space::gm, 0, n * 4);
        r.rows = m;
        r.dst_stride = dst_stride;
        r.conv = models::layout_conv::nz2nd;
        r.src_type = r.dst_type = models::dtype::fp32;
        r.c0_elems = c0;
        const auto& l0c = *aic.buffer(mem_space::l0c);
        const auto s0 = test::stats_of(l0c);
        test::timed_copy(aic, r);
        BOOST_CHECK_MESSAGE(aic.fault().empty(), aic.fault());
        BOOST_CHECK_GT(aic.get_pipe(models::pipe_id::FIX)->instructions(), 0u);
        const auto s1 = test::stats_of(l0c);
        BOOST_CHECK_EQUAL(s1.at("read_bytes") - s0.at("read_bytes"), double(m * n * 4));
        BOOST_CHECK_EQUAL(s1.at("write_bytes") - s0.at("write_bytes"), 0.0);
        c.gm().read(0, gm.data(), gm.size() * 4);
    }));
    for (uint32_t r = 0; r < m; ++r) {
        for (uint32_t col = 0; col < n; ++col)
            BOOST_CHECK_EQUAL(gm[r * 128 + col], nz[((col / c0) * mp + r) * c0 + col % c0]);
        BOOST_CHECK_EQUAL(gm[r * 128 + n], -1.0f);  // nothing written past the row
    }
}

BOOST_AUTO_TEST_SUITE_END()
