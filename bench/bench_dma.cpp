// DMA simulation speed: simulated bytes, bursts and TLM transactions per wall second on the
// ascend910 preset, one core streaming and all 32 streaming, timing-only and functional side by
// side. Prints figures; never fails on time. Each case runs in its own process (SystemC
// elaborates once per process).
#include <systemc>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "bench/bench_util.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"

using namespace npusim;
using models::mem_space;

static int run_case(unsigned active_cores, uint64_t bytes_per_core, bool functional,
                    const std::vector<std::string>& sets) {
    auto cfg = platform::load_platform("ascend910", sets);
    if (!functional) cfg.set_timing_only();
    platform::simulation sim(cfg);
    const auto wall0 = std::chrono::steady_clock::now();
    const bool ok = sim.run([&](platform::chip& c, auto&) {
        sc_core::sc_event done;
        unsigned left = active_cores;
        for (unsigned i = 0; i < active_cores; ++i)
            sc_core::sc_spawn([&, i] {
                auto& core = c.core(i);
                const uint64_t chunk = 64 * 1024, base = uint64_t(i) * bytes_per_core;
                for (uint64_t off = 0; off < bytes_per_core; off += chunk) {
                    models::dma_request in;
                    in.src_space = mem_space::gm;
                    in.src = base + off;
                    in.dst_space = mem_space::ub;
                    in.dst = (off / chunk % 2) * chunk;
                    in.row_bytes = chunk;
                    core.issue_copy(in);
                    models::dma_request out = in;
                    out.src_space = mem_space::ub;
                    out.src = in.dst;
                    out.dst_space = mem_space::gm;
                    out.dst = (1ull << 34) + base + off;
                    core.issue_copy(out);
                }
                core.wait_idle();
                if (--left == 0) done.notify();
            });
        sc_core::wait(done);
    });
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    if (!ok) {
        std::fprintf(stderr, "run failed: %s\n", sim.error().c_str());
        return 1;
    }
    const auto s = sim.stats();
    const double bursts = bench::engines_total(s, "bursts");
    const double bytes = bench::engines_total(s, "bytes");
    const double noc = s["memory"]["noc"]["transactions"].get<double>();
    const double l2_miss = s["memory"]["l2"]["misses"].get<double>();
    std::printf(
        "%-6s %-11s cores=%-3u bytes=%7.1f MiB  sim=%9.2f us  wall=%6.3f s  %6.2f M bursts/s  "
        "%6.2f M NoC transactions/s  %7.1f GiB simulated/s  (L2 misses %.0f)\n",
        active_cores == 1 ? "single" : "all", functional ? "functional" : "timing-only",
        active_cores, bytes / 1048576, s["sim_time_ns"].get<double>() / 1000, wall,
        bursts / wall / 1e6, noc / wall / 1e6, bytes / wall / 1073741824.0, l2_miss);
    return 0;
}

int sc_main(int argc, char* argv[]) {
    // One case in this process: --case single|all timing-only|functional [key=value ...]
    // (platform settings such as dma.max_outstanding=32, to see what they cost).
    if (argc >= 4 && std::string(argv[1]) == "--case") {
        const bool all = std::string(argv[2]) == "all";
        return run_case(all ? 32 : 1, all ? 8ull << 20 : 64ull << 20,
                        std::string(argv[3]) == "functional",
                        std::vector<std::string>(argv + 4, argv + argc));
    }
    std::printf(
        "bench_dma: DMA traffic on ascend910 (targets: timing-only >= 8 M bursts/s, functional "
        ">= 3 M bursts/s)\n");
    std::fflush(stdout);
    // Wall-clock rates on a shared machine vary: each figure is the best of three processes.
    int rc = 0;
    struct row {
        std::string name;
        double rate[2] = {0, 0};
    };
    std::vector<row> rows;
    for (const char* c : {"single", "all"}) {
        row r{c};
        for (int functional = 0; functional < 2; ++functional) {
            const auto rates = bench::child_rates(
                {"--case", c, functional ? "functional" : "timing-only"}, 3, "M bursts/s", rc);
            if (!rates.empty()) r.rate[functional] = rates.back();
        }
        rows.push_back(r);
    }
    std::printf("\nM bursts per wall second (best of 3)   timing-only   functional\n");
    for (const auto& r : rows)
        std::printf("  %-36s %11.2f   %10.2f\n", r.name.c_str(), r.rate[0], r.rate[1]);
    return rc != 0;
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
