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
    double kernel_ps = 0, imbalance = 1, mean_busy = 0;
    std::string failure;
    const bool ok = sim.run([&](platform::chip& chip, std::vector<platform::op_record>& ops) {
        runtime::context ctx(chip, &ops);
        ops::op_buffers b;
        for (const auto& d : in) {
            uint64_t addr = 0;
            if (ctx.malloc(addr, int64_t(d.storage_bytes())) != runtime::status::success)
                failure = ctx.get_last_error().message;
            b.inputs.push_back(addr);
        }
        uint64_t out = 0;
        if (ctx.malloc(out, int64_t(plan.call.outputs[0].storage_bytes())) !=
            runtime::status::success)
            failure = ctx.get_last_error().message;
        b.outputs.push_back(out);
        if (ops::library().execute(ctx, nullptr, plan, b) != runtime::status::success ||
            ctx.synchronize() != runtime::status::success)
            failure = ctx.get_last_error().message;
        for (const auto& r : ctx.timeline())
            if (r.kind == "kernel") kernel_ps = double(r.end - r.start);
        for (const auto& o : ops) {
            imbalance = platform::imbalance(o);
            double sum = 0;
            for (const auto& [unit, busy] : o.unit_busy_ps) sum += double(busy);
            if (!o.unit_busy_ps.empty()) mean_busy = sum / double(o.unit_busy_ps.size());
        }
    });
    if (!ok || !failure.empty()) {
        std::fprintf(stderr, "%d cores %s failed: %s%s\n", cores, partition.c_str(),
                     sim.error().c_str(), failure.c_str());
        return 1;
    }
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
            rc |= std::system(
                ("\"" + std::string(argv[0]) + "\" " + std::to_string(cores) + " " + p + " 2048")
                    .c_str());
    return rc != 0;
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
