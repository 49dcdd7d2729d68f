// Operator library performance on the 910 and 910B1 presets, timing-only: matmul 4096^3 fp16
// as a fraction of peak cube throughput (target >= 85%) with its L2 hit rate and GM reads,
// elementwise add of 64M fp16 elements as a fraction of GM bandwidth (target >= 80%), softmax and
// layernorm on [8192, 4096] fp16 as a fraction of GM bandwidth (target >= 60%), and each
// simulation's wall time (target: the 4096^3 matmul on the 910 in under 5 s). Prints figures;
// never fails on time. Each case runs in its own process (SystemC elaborates once per process).
#include <systemc>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/bench_util.h"
#include "bench/op_runner.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "sw/ops/registry.h"
#include "sw/runtime/context.h"

using namespace npusim;

namespace {

int run_case(const std::string& preset, const std::string& op) {
    auto cfg = platform::load_platform(preset);
    cfg.set_timing_only();
    using memory::tensor_desc;
    const auto fp16 = models::dtype::fp16;
    std::vector<tensor_desc> in;
    if (op == "matmul")
        in = {tensor_desc("a", fp16, {4096, 4096}), tensor_desc("b", fp16, {4096, 4096})};
    else if (op == "add")
        in = {tensor_desc("x", fp16, {64 << 20}), tensor_desc("y", fp16, {64 << 20})};
    else {
        in = {tensor_desc("x", fp16, {8192, 4096})};
        if (op == "layernorm")
            in.insert(in.end(),
                      {tensor_desc("gamma", fp16, {4096}), tensor_desc("beta", fp16, {4096})});
    }
    const ops::op_plan plan = ops::library().plan(op, in, {}, cfg);
    platform::simulation sim(cfg);
    const auto w0 = std::chrono::steady_clock::now();
    const bench::op_run run = bench::run_one_op(sim, plan, in);
    const double kernel_us = run.kernel_ps / 1e6;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    if (!run.failure.empty()) {
        std::fprintf(stderr, "%s %s failed: %s\n", preset.c_str(), op.c_str(), run.failure.c_str());
        return 1;
    }
    if (op == "matmul") {
        const auto& l2 = *sim.get_chip().l2();
        std::printf(
            "%-12s matmul 4096x4096x4096 fp16   %9.1f us  %5.1f%% of peak cube (target >= "
            "85%%)        wall %6.2f s (910 target < 5 s)\n"
            "%-12s   L2 hit rate %.1f%%, GM read %.0f MiB (A and B hold 64 MiB)\n",
            preset.c_str(), kernel_us,
            100 * plan.tiling.flops / (kernel_us * 1e-6) / cfg.peak_fp16_flops(), wall, "",
            100.0 * double(l2.hits()) / double(l2.hits() + l2.misses()),
            double(sim.get_chip().gm().read_bytes()) / (1 << 20));
    } else
        std::printf(
            "%-12s %-28s %9.1f us  %5.1f%% of GM bandwidth (target >= %d%%)     wall %6.2f s\n",
            preset.c_str(), (op == "add" ? "add 64M fp16" : op + " [8192, 4096] fp16").c_str(),
            kernel_us, 100 * double(plan.tiling.bytes) / (kernel_us * 1e-6) / cfg.gm.bandwidth,
            op == "add" ? 80 : 60, wall);
    return 0;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    if (argc == 3) return run_case(argv[1], argv[2]);
    std::printf("bench_ops: operator library on the 910 and 910B1 presets (timing only)\n");
    std::fflush(stdout);
    int rc = 0;
    for (const char* preset : {"ascend910", "ascend910b1"})
        for (const char* op : {"matmul", "add", "softmax", "layernorm"})
            rc |= npusim::bench::run_self({preset, op}) != 0;
    return rc != 0;
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
