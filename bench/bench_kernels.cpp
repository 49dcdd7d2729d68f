// Kernel simulation speed: the reference matmul, 2048x2048x2048 fp16, on the ascend910 preset in
// timing-only and functional mode. Prints simulated instructions per wall second, wall time and
// the host arithmetic rate of the cube model. Never fails on time. Each mode runs in its own
// process (SystemC elaborates once per process).
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

static int run_case(bool functional, uint32_t size) {
    auto cfg = platform::load_platform("ascend910");
    if (!functional) cfg.set_timing_only();
    platform::simulation sim(cfg);
    double wall = 0, sim_us = 0;
    std::string fault;
    const bool ok = sim.run([&](platform::chip& c, auto&) {
        const uint32_t m = size, k = size, n = size;
        const uint64_t a = 0, b = models::round_up(uint64_t(m) * k * 2, 4096), out = 2 * b;
        const auto t =
            kernel::tile_matmul(kernel::matmul_chip_of(cfg), kernel::matmul_problem{1, m, k, n});
        const auto w0 = std::chrono::steady_clock::now();
        const auto rec = kernel::launch(
            c, "matmul", t.block_dim, models::kernel_kind::cube, [&](kernel::kernel_context& ctx) {
                kernel::matmul_kernel(ctx, {a, uint64_t(m) * k}, {b, uint64_t(k) * n},
                                      {out, uint64_t(m) * n}, t);
            });
        wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
        sim_us = (rec.end - rec.start) / 1e6;
        fault = rec.fault;
    });
    if (!ok || !fault.empty()) {
        std::fprintf(stderr, "run failed: %s%s\n", sim.error().c_str(), fault.c_str());
        return 1;
    }
    double instructions = 0, cube_flops = 0, cube_seconds = 0;
    for (auto& core : sim.get_chip().cores()) {
        for (auto& p : core->pipes()) instructions += double(p->instructions());
        cube_flops += core->cube().host_flops();
        cube_seconds += core->cube().host_seconds();
    }
    const double flops = 2.0 * size * double(size) * size;
    std::printf(
        "%-11s matmul %ux%ux%u: sim %8.2f us (%5.1f%% of fp16 peak)  wall %6.3f s  %7.0f "
        "instructions  "
        "%6.3f M instructions/s",
        functional ? "functional" : "timing-only", size, size, size, sim_us,
        100 * flops / (sim_us * 1e-6) / cfg.peak_fp16_flops(), wall, instructions,
        instructions / wall / 1e6);
    if (functional)
        std::printf("  cube host arithmetic %.1f GFLOP/s (%.2f s)", cube_flops / cube_seconds / 1e9,
                    cube_seconds);
    std::printf("\n");
    return 0;
}

int sc_main(int argc, char* argv[]) {
    const uint32_t size = argc >= 3 ? uint32_t(std::atoi(argv[2])) : 2048;
    if (argc >= 2 && std::string(argv[1]) == "--timing-only") return run_case(false, size);
    if (argc >= 2 && std::string(argv[1]) == "--functional") return run_case(true, size);
    std::printf(
        "bench_kernels: reference matmul on ascend910 (targets: >= 2 M instructions/s timing-only, "
        ">= 10 GFLOP/s cube host arithmetic)\n");
    std::fflush(stdout);
    // Wall-clock rates on a shared 2-core machine vary from run to run: run each mode several
    // times, each in its own process, and report the best and the median side by side.
    int rc = 0;
    double best[2] = {0, 0}, median[2] = {0, 0};
    for (int functional = 0; functional < 2; ++functional) {
        const std::string mode = functional ? "--functional" : "--timing-only";
        const int runs = functional ? 3 : 7;
        const std::string cmd =
            "\"" + std::string(argv[0]) + "\" " + mode + " " + std::to_string(size);
        const auto rates = bench::child_rates(cmd, runs, "M instructions/s", rc);
        if (!rates.empty()) {
            best[functional] = rates.back();
            median[functional] = rates[rates.size() / 2];
        }
    }
    std::printf("\nM core instructions per wall second   timing-only   functional\n");
    std::printf("  best                                %11.3f   %10.3f\n", best[0], best[1]);
    std::printf("  median                              %11.3f   %10.3f\n", median[0], median[1]);
    return rc != 0;
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
