// Shipped network workloads on the 910B1 preset in timing-only mode: wall time of each
// simulation (target: BERT-base at sequence 512 in under 10 s) and its simulated device time;
// then sweep throughput, points per wall second with --jobs 2 against --jobs 1 (target: at
// least 1.7x). Runs the npusim command beside this binary. Prints figures; never fails on time.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/bench_util.h"

namespace fs = std::filesystem;

namespace {

// Runs `program args...` without a shell, its output discarded; returns its wall time, or -1.
double run(const std::string& program, const std::vector<std::string>& args, bool quiet = false) {
    const auto t0 = std::chrono::steady_clock::now();
    std::string out;
    const int rc = npusim::bench::run_program(program, args, &out, quiet);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rc != 0) {
        std::string cmd = program;
        for (const auto& a : args) cmd += " " + a;
        std::fprintf(stderr, "failed (%d): %s\n", rc, cmd.c_str());
        return -1;
    }
    return wall;
}

}  // namespace

int main(int argc, char* argv[]) {
    const fs::path self = fs::canonical("/proc/self/exe");
    const std::string npusim = (self.parent_path() / "npusim").string();
    const std::string src = NPUSIM_SOURCE_DIR;
    const fs::path tmp = fs::temp_directory_path() / ("npusim_bench_" + std::to_string(getpid()));
    fs::create_directories(tmp);
    const bool quick = argc > 1 && std::string(argv[1]) == "--quick";

    std::printf("bench_workloads: shipped workloads on ascend910b1, timing only\n");
    std::printf("  %-24s %10s %12s %10s\n", "workload", "wall s", "device us", "TFLOP/s");
    const char* workloads[] = {
        "gemm_suite",           "bert_base_s128", "bert_base_s512", "llama7b_decode_kv2048",
        "llama7b_prefill_s512", "resnet50_b1",    "resnet50_b32"};
    int failures = 0;
    for (const char* w : workloads) {
        if (quick && std::string(w) == "resnet50_b32") continue;
        const std::string stats = (tmp / (std::string(w) + ".json")).string();
        const double wall = run(
            npusim, {"run", "--platform", "ascend910b1", "--timing-only", "--quiet", "--workload",
                     src + "/configs/workloads/" + w + ".yaml", "--stats", stats});
        if (wall < 0) {
            ++failures;
            continue;
        }
        nlohmann::json j;
        std::ifstream(stats) >> j;
        std::printf("  %-24s %10.2f %12.1f %10.2f%s\n", w, wall,
                    j["summary"]["device_span_ns"].get<double>() / 1000,
                    j["summary"]["achieved_tflops"].get<double>(),
                    std::string(w) == "bert_base_s512" ? "   (target < 10 s)" : "");
        std::fflush(stdout);
    }

    // Sweep throughput: the same 8 points with one and with two jobs.
    const std::string sweep = (tmp / "sweep.yaml").string();
    std::ofstream(sweep) << "schema: npusim.sweep/1\nname: bench\nplatform: ascend910b1\n"
                            "workloads: ['"
                         << src
                         << "/configs/workloads/bert_base_s128.yaml']\ntiming_only: true\n"
                            "parameters:\n  - list: {gm.bandwidth: [0.8TB/s, 1TB/s, 1.2TB/s, "
                            "1.4TB/s, 1.6TB/s, 1.8TB/s, 2TB/s, 2.4TB/s]}\n";
    double wall[3] = {0, 0, 0};
    for (int jobs : {1, 2}) {
        const std::string out = (tmp / ("sweep" + std::to_string(jobs))).string();
        wall[jobs] =
            run(npusim, {"sweep", sweep, "--jobs", std::to_string(jobs), "--out", out}, true);
        if (wall[jobs] < 0) ++failures;
    }
    if (wall[1] > 0 && wall[2] > 0)
        std::printf(
            "sweep of 8 points: --jobs 1 %.2f s (%.2f points/s), --jobs 2 %.2f s (%.2f "
            "points/s): x%.2f (target >= 1.7)\n",
            wall[1], 8 / wall[1], wall[2], 8 / wall[2], wall[1] / wall[2]);
    fs::remove_all(tmp);
    return failures != 0;
}
