// The reference kernels on every preset, checked against plain CPU references.
#include <boost/test/unit_test.hpp>
#include <systemc>

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

BOOST_AUTO_TEST_SUITE_END()
