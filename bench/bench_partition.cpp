// Multi-core partitioning of the 2048^3 fp16 matmul on the 910B1 preset at 8 to 64 cube cores
// (chip.cores, with two vector cores each), timing-only: for each partition (uniform, cost,
// steal) the kernel time, the cube utilisation (achieved FLOP/s over the peak of the cores
// used) and the load imbalance (the busiest core's busy time over the mean). Prints figures;
// never fails on time. Each case runs in its own process (SystemC elaborates once per process).
#include <systemc>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/bench_util.h"
#include "bench/op_runner.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "platform/stats.h"
#include "sw/ops/registry.h"
#include "sw/runtime/context.h"

using namespace npusim;
using memory::tensor_desc;

namespace {

int run_case(int cores, const std::string& partition, int64_t n) {
    auto cfg = platform::load_platform(
        "ascend910b1",
        {"chip.cores=" + std::to_string(cores), "chip.vector_cores=" + std::to_string(2 * cores)});
    cfg.set_timing_only();
    const auto fp16 = models::dtype::fp16;
    const std::vector<tensor_desc> in = {tensor_desc("a", fp16, {n, n}),
                                         tensor_desc("b", fp16, {n, n})};
    const ops::op_plan plan = ops::library().plan("matmul", in, {{"partition", partition}}, cfg);
    platform::simulation sim(cfg);
    const bench::op_run run = bench::run_one_op(sim, plan, in);
    if (!run.failure.empty()) {
        std::fprintf(stderr, "%d cores %s failed: %s\n", cores, partition.c_str(),
                     run.failure.c_str());
        return 1;
    }
    const double kernel_ps = run.kernel_ps, imbalance = platform::imbalance(run.record);
    double busy = 0;
    for (const auto& [unit, ps] : run.record.unit_busy_ps) busy += double(ps);
    const double mean_busy =
        run.record.unit_busy_ps.empty() ? 0 : busy / double(run.record.unit_busy_ps.size());
    const double peak = cfg.peak_fp16_flops();
    std::printf(
        "%3d cores  %-8s %9.1f us  cube utilisation %5.1f%%  core busy %5.1f%%  "
        "imbalance %.3f  (%s)\n",
        cores, partition.c_str(), kernel_ps / 1e6,
        100 * plan.tiling.flops / (kernel_ps * 1e-12) / peak, 100 * mean_busy / kernel_ps,
        imbalance, plan.tiling.summary.c_str());
    return 0;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    if (argc == 4) return run_case(std::atoi(argv[1]), argv[2], std::atoll(argv[3]));
    std::printf("bench_partition: matmul 2048x2048x2048 fp16 on ascend910b1 (timing only)\n");
    std::fflush(stdout);
    int rc = 0;
    for (int cores : {8, 16, 24, 32, 48, 64})
        for (const char* p : {"uniform", "cost", "steal"})
            rc |= npusim::bench::run_self({std::to_string(cores), p, "2048"}) != 0;
    return rc != 0;
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
