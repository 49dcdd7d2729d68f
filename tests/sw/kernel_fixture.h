#pragma once
// Running the reference kernels on a chip with random inputs and plain CPU references.
#include <cmath>
#include <random>
#include <vector>

#include "models/core/dtype.h"
#include "models/core/fractal_layout.h"
#include "platform/chip.h"
#include "sw/kernel/launch.h"
#include "sw/kernel/reference_kernels.h"

namespace npusim::test {

inline std::vector<uint16_t> random_half(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::vector<uint16_t> v(n);
    for (auto& x : v) x = models::float_to_half(d(rng));
    return v;
}

/// @brief C = A x B on the chip; returns the launch record and fills `c` (fp16 bits).
inline models::launch_record run_matmul(platform::chip& chip, uint32_t m, uint32_t k, uint32_t n,
                                        const std::vector<uint16_t>& a,
                                        const std::vector<uint16_t>& b, std::vector<uint16_t>& c,
                                        unsigned depth = 2, bool copy_data = true) {
    const uint64_t a_addr = 0, b_addr = models::round_up(uint64_t(m) * k * 2, 4096);
    const uint64_t c_addr = b_addr + models::round_up(uint64_t(k) * n * 2, 4096);
    if (copy_data) {
        chip.gm().write(a_addr, a.data(), a.size() * 2);
        chip.gm().write(b_addr, b.data(), b.size() * 2);
    }
    const auto& cfg = chip.config();
    const kernel::matmul_tiling t =
        kernel::tile_matmul(kernel::matmul_chip_of(cfg), kernel::matmul_problem{1, m, k, n}, depth);
    auto rec = kernel::launch(
        chip, "matmul", t.block_dim, models::kernel_kind::cube, [&](kernel::kernel_context& ctx) {
            kernel::matmul_kernel(ctx, {a_addr, uint64_t(m) * k}, {b_addr, uint64_t(k) * n},
                                  {c_addr, uint64_t(m) * n}, t);
        });
    c.assign(uint64_t(m) * n, 0);
    if (copy_data) chip.gm().read(c_addr, c.data(), c.size() * 2);
    return rec;
}

/// @brief Largest |got - ref| / (|ref| + 1) over C, with the reference computed in double.
inline double matmul_error(uint32_t m, uint32_t k, uint32_t n, const std::vector<uint16_t>& a,
                           const std::vector<uint16_t>& b, const std::vector<uint16_t>& c) {
    double worst = 0;
    for (uint32_t i = 0; i < m; ++i)
        for (uint32_t j = 0; j < n; ++j) {
            double ref = 0;
            for (uint32_t p = 0; p < k; ++p)
                ref += double(models::half_to_float(a[uint64_t(i) * k + p])) *
                       models::half_to_float(b[uint64_t(p) * n + j]);
            const double got = models::half_to_float(c[uint64_t(i) * n + j]);
            worst = std::max(worst, std::fabs(got - ref) / (std::fabs(ref) + 1));
        }
    return worst;
}

}  // namespace npusim::test
