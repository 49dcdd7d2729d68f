// Kernel simulation speed on the ascend910 preset, in timing-only and functional mode:
// - the reference matmul, 2048x2048x2048 fp16 (about 24 DMA bursts per instruction, so its rate
//   is bound by the burst model; bench_dma measures that alone);
// - a vector chain: every core runs adds on data already in its unified buffer (no DMA), the
//   rate of the pipes, queues and bank bookings alone.
// Prints simulated instructions per wall second, wall time and the host arithmetic rate of the
// cube model. Never fails on time. Each case runs in its own process (SystemC elaborates once per
// process).
#include <systemc>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "models/core/fractal_layout.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "sw/kernel/launch.h"
#include "sw/kernel/reference_kernels.h"

using namespace npusim;

struct launch_figures {
    double wall = 0, sim_us = 0, instructions = 0, bursts = 0, cube_flops = 0, cube_seconds = 0;
};

// Times one kernel launch on a fresh chip of `cfg`; prints the failure and returns false on one.
template <class Body>
static bool timed_launch(platform::platform_config cfg, bool functional, const char* name,
                         unsigned block_dim, models::kernel_kind kind, Body&& body,
                         launch_figures& out) {
    if (!functional) cfg.set_timing_only();
    platform::simulation sim(cfg);
    std::string fault;
    const bool ok = sim.run([&](platform::chip& c, auto&) {
        const auto w0 = std::chrono::steady_clock::now();
        const auto rec = kernel::launch(c, name, block_dim, kind, body);
        out.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
        out.sim_us = (rec.end - rec.start) / 1e6;
        fault = rec.fault;
    });
    if (!ok || !fault.empty()) {
        std::fprintf(stderr, "run failed: %s%s\n", sim.error().c_str(), fault.c_str());
        return false;
    }
    for (auto& core : sim.get_chip().cores()) {
        for (auto& p : core->pipes()) out.instructions += double(p->instructions());
        out.cube_flops += core->cube().host_flops();
        out.cube_seconds += core->cube().host_seconds();
    }
    out.bursts = bench::engines_total(sim.stats(), "bursts");
    return true;
}

static int run_case(bool functional, uint32_t size) {
    const auto cfg = platform::load_platform("ascend910");
    const uint32_t m = size, k = size, n = size;
    const uint64_t a = 0, b = models::round_up(uint64_t(m) * k * 2, 4096), out = 2 * b;
    const auto t =
        kernel::tile_matmul(kernel::matmul_chip_of(cfg), kernel::matmul_problem{1, m, k, n});
    launch_figures f;
    if (!timed_launch(
            cfg, functional, "matmul", t.block_dim, models::kernel_kind::cube,
            [&](kernel::kernel_context& ctx) {
                kernel::matmul_kernel(ctx, {a, uint64_t(m) * k}, {b, uint64_t(k) * n},
                                      {out, uint64_t(m) * n}, t);
            },
            f))
        return 1;
    const double flops = 2.0 * size * double(size) * size;
    std::printf(
        "%-11s matmul %ux%ux%u: sim %8.2f us (%5.1f%% of fp16 peak)  wall %6.3f s  %7.0f "
        "instructions  %6.3f M instructions/s  %.0f DMA bursts  %5.2f M bursts/s",
        functional ? "functional" : "timing-only", size, size, size, f.sim_us,
        100 * flops / (f.sim_us * 1e-6) / cfg.peak_fp16_flops(), f.wall, f.instructions,
        f.instructions / f.wall / 1e6, f.bursts, f.bursts / f.wall / 1e6);
    if (functional)
        std::printf("  cube host arithmetic %.1f GFLOP/s (%.2f s)",
                    f.cube_flops / f.cube_seconds / 1e9, f.cube_seconds);
    std::printf("\n");
    return 0;
}

// Each of the 32 cores issues `ops` vector adds of 8192 fp16 values (64 repeats) on its unified
// buffer, cycling over four destinations so neighbouring adds are independent.
static int run_vector_chain(bool functional, uint32_t ops) {
    launch_figures f;
    if (!timed_launch(
            platform::load_platform("ascend910"), functional, "vector_chain", 32,
            models::kernel_kind::vector,
            [&](kernel::kernel_context& ctx) {
                constexpr uint64_t n = 8192;
                const auto a = ctx.alloc<kernel::half>(kernel::position::VECCALC, n);
                const auto b = ctx.alloc<kernel::half>(kernel::position::VECCALC, n);
                const auto d = ctx.alloc_queue<kernel::half>(kernel::position::VECCALC, 4, n);
                for (uint32_t i = 0; i < ops; ++i) ctx.add(d[i % 4], a, b, n);
            },
            f))
        return 1;
    std::printf(
        "%-11s vector chain %u adds x 32 cores: sim %8.2f us  wall %6.3f s  %7.0f "
        "instructions  %6.3f M instructions/s\n",
        functional ? "functional" : "timing-only", ops, f.sim_us, f.wall, f.instructions,
        f.instructions / f.wall / 1e6);
    return 0;
}

int sc_main(int argc, char* argv[]) {
    const uint32_t size = argc >= 3 ? uint32_t(std::atoi(argv[2])) : 2048;
    if (argc >= 2 && std::string(argv[1]) == "--timing-only") return run_case(false, size);
    if (argc >= 2 && std::string(argv[1]) == "--functional") return run_case(true, size);
    if (argc >= 2 && std::string(argv[1]) == "--vector-timing-only")
        return run_vector_chain(false, 20000);
    if (argc >= 2 && std::string(argv[1]) == "--vector-functional")
        return run_vector_chain(true, 2000);
    std::printf(
        "bench_kernels: ascend910 (targets: >= 2 M instructions/s timing-only, >= 10 GFLOP/s cube "
        "host arithmetic)\n");
    std::fflush(stdout);
    // Wall-clock rates on a shared 2-core machine vary from run to run: run each case several
    // times, each in its own process, and report the best and the median side by side.
    int rc = 0;
    struct row {
        const char* name;
        std::vector<std::string> timing, functional;
    };
    const row rows[] = {{"matmul 2048^3",
                         {"--timing-only", std::to_string(size)},
                         {"--functional", std::to_string(size)}},
                        {"vector chain", {"--vector-timing-only"}, {"--vector-functional"}}};
    double best[2][2] = {}, median[2][2] = {};
    for (int r = 0; r < 2; ++r)
        for (int functional = 0; functional < 2; ++functional) {
            const auto rates = bench::child_rates(functional ? rows[r].functional : rows[r].timing,
                                                  functional ? 3 : 7, "M instructions/s", rc);
            if (!rates.empty()) {
                best[r][functional] = rates.back();
                median[r][functional] = rates[rates.size() / 2];
            }
        }
    std::printf("\nM core instructions per wall second   timing-only   functional\n");
    for (int r = 0; r < 2; ++r) {
        std::printf("  %-14s best                %11.3f   %10.3f\n", rows[r].name, best[r][0],
                    best[r][1]);
        std::printf("  %-14s median              %11.3f   %10.3f\n", rows[r].name, median[r][0],
                    median[r][1]);
    }
    return rc != 0;
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
