// Fused prefill attention (kernel::attention_kernel) on one LLaMA-7B layer's shape, 32 heads of
// 128, for prompts of 128, 512 and 2048 tokens and a ragged batch of eight prompts (1900 down
// to 10 tokens, packed in one launch) on the ascend910b1 preset, timing-only. Prints
// the simulated kernel time, the cube's lower bound (the mmad fractal cycles of the causal tiles
// spread evenly over the cube cores, at the cube clock), their ratio, the load imbalance of its
// blocks (causal tiles are uneven work) and the wall time, with the tasks dealt out in turn
// (uniform), assigned by cost (kernel::set_cost_partition) and stolen from a shared queue (steal).
// Never fails on time.
#include <systemc>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "models/core/fractal_layout.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "platform/stats.h"
#include "sw/kernel/attention_kernel.h"
#include "sw/kernel/launch.h"
#include "sw/kernel/partition.h"

using namespace npusim;

int sc_main(int, char*[]) {
    // Cold L2 per launch: each case reads its data from GM, whatever ran before it.
    auto cfg = platform::load_platform("ascend910b1", {"l2.cold_kernels=true"});
    cfg.set_timing_only();
    platform::simulation sim(cfg);
    const uint32_t heads = 32, hd = 128;
    std::printf("(3140r: the ragged batch, 3140 tokens in eight prompts)\n");
    std::printf("%-8s %-8s %6s %12s %14s %8s %9s %8s  %s\n", "tokens", "tasks", "tile", "kernel_us",
                "cube_bound_us", "ratio", "imbalance", "wall_s",
                "pipe busy (over the blocks; V and MTE of two vector cores)");
    const bool ok = sim.run([&](platform::chip& c, auto&) {
        const std::vector<std::vector<uint32_t>> batches = {
            {128}, {512}, {2048}, {1900, 700, 300, 120, 60, 30, 20, 10}};
        for (const auto& lengths : batches)
            for (const auto part : {kernel::partition_kind::uniform, kernel::partition_kind::cost,
                                    kernel::partition_kind::steal}) {
                uint32_t n = 0;
                for (uint32_t l : lengths) n += l;
                kernel::attention_problem prob;
                prob.heads = prob.kv_heads = heads;
                prob.tokens = n;
                prob.head_dim = hd;
                if (lengths.size() > 1) prob.lengths = lengths;
                auto t = kernel::tile_attention(cfg, prob);
                if (part == kernel::partition_kind::cost) kernel::set_cost_partition(t);
                const uint64_t bytes = models::round_up(uint64_t(heads) * n * hd * 2, 4096);
                kernel::attention_args args{0, bytes, 2 * bytes, 3 * bytes, 4 * bytes};
                kernel::attention_steal steal(t.block_dim);
                if (part == kernel::partition_kind::steal) args.steal = &steal;
                // S = Q K^T and P V per key tile, each m/16 x k/16 x n/16 fractals.
                double fractals = 0;
                for (uint32_t len : lengths)
                    for (uint32_t qt = 0; qt < (len + t.tile - 1) / t.tile; ++qt) {
                        const uint64_t mr = std::min(t.tile, len - qt * t.tile);
                        for (uint32_t j = 0; j <= qt; ++j) {
                            const uint64_t nr = std::min(t.tile, len - j * t.tile);
                            fractals +=
                                2.0 * double((mr + 15) / 16) * double((nr + 15) / 16) * (hd / 16);
                        }
                    }
                const double bound_us =
                    fractals * heads / cfg.cores / cfg.numbers.at("chip.clock.cube") * 1e6;
                const auto w0 = std::chrono::steady_clock::now();
                const auto rec = kernel::launch(
                    c, "flash_attention", t.block_dim, models::kernel_kind::mix,
                    [&](kernel::kernel_context& k) { kernel::attention_kernel(k, args, t); });
                const double wall =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
                if (!rec.fault.empty()) {
                    std::printf("fault: %s\n", rec.fault.c_str());
                    return;
                }
                const double us = double(rec.end - rec.start) / 1e6;
                // Busy share of each pipe over the blocks' time (the vector pipes are two cores').
                std::map<models::pipe_id, double> busy;
                double span = 0;
                for (const auto& b : rec.blocks) {
                    span += double(b.end - b.start);
                    for (const auto& [pid, ps] : b.pipe_busy) busy[pid] += double(ps);
                }
                platform::op_record op{"flash_attention", "kernel", rec.start, rec.end, 0, 0};
                platform::add_launch(op, rec);
                const double imbalance = platform::op_json(op)["imbalance"].get<double>();
                std::string pipes;
                for (const auto& [pid, ps] : busy)
                    pipes += fmt::format(" {} {:.0f}%", models::to_string(pid), 100 * ps / span);
                const std::string what =
                    lengths.size() > 1 ? fmt::format("{}r", n) : std::to_string(n);
                std::printf("%-8s %-8s %6u %12.1f %14.1f %8.2f %9.2f %8.2f %s\n", what.c_str(),
                            kernel::to_string(part), t.tile, us, bound_us, us / bound_us, imbalance,
                            wall, pipes.c_str());
            }
    });
    if (!ok) std::printf("simulation failed: %s\n", sim.error().c_str());
    return ok ? 0 : 1;
}
