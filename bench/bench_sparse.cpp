// Sparse matmul crossover: c = a x b with a 512x512 stored sparse (CSR, or 16x16 blocks), b
// 512x512, fp16, timing-only, on ascend910b1, ascend910 and ascend310p3. For each density
// the time of each strategy forced (direct on the vector unit, block on the cube, dense:
// densify then the cube matmul), the one `auto` picks with its default thresholds (10 % and
// 30 %, or the preset's sparse.* keys), the fastest, and where the fastest changes. Then
// uneven rows (skew): 1024x1024 by 1024x512, tasks in turn against stolen from a queue, with
// the load imbalance (the busiest core's busy time over the mean). Prints figures;
// never fails on time. Each case runs in its own process (SystemC elaborates once per process).
#include <systemc>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/bench_util.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "platform/stats.h"
#include "sw/graph/workload.h"
#include "sw/graph/workload_runner.h"

using namespace npusim;

namespace {

struct shape {
    int64_t m = 512, k = 512, n = 512;
};
const double k_densities[] = {0.003, 0.005, 0.01, 0.02, 0.035, 0.05, 0.08,
                              0.1,   0.2,   0.3,  0.5,  0.75,  1.0};

// One case: a sparse_matmul of a shape, a's density, block and skew, a strategy and partition.
struct sparse_case {
    std::string preset;
    double density = 0;
    int block = 1;
    std::string strategy, partition = "uniform";
    double skew = 0;
    shape s;
};

std::string workload_text(const sparse_case& c) {
    char text[1024];
    std::snprintf(text, sizeof text,
                  "schema: npusim.workload/1\nname: sparse\ntensors:\n"
                  "  a: {shape: [%lld, %lld], dtype: fp16, init: random, sparse: {density: %g, "
                  "block: [%d, %d], skew: %g}}\n"
                  "  b: {shape: [%lld, %lld], dtype: fp16, init: random}\n"
                  "  c: {shape: [%lld, %lld], dtype: fp16}\n"
                  "ops:\n  - {op: sparse_matmul, inputs: [a, b], outputs: [c], attrs: "
                  "{strategy: %s, partition: %s}}\n",
                  (long long)c.s.m, (long long)c.s.k, c.density, c.block, c.block, c.skew,
                  (long long)c.s.k, (long long)c.s.n, (long long)c.s.m, (long long)c.s.n,
                  c.strategy.c_str(), c.partition.c_str());
    return text;
}

// Prints "<us> <kernel> <imbalance>" for one case: the op's span, from its first launch to its
// last, and the imbalance of its main launch.
int run_case(const sparse_case& c) {
    auto cfg = platform::load_platform(c.preset, {});
    cfg.set_timing_only();
    const graph::workload w = graph::load_workload_text(workload_text(c), "bench_sparse");
    const graph::workload_plan plan = graph::plan_workload(w, cfg);
    platform::simulation sim(cfg);
    std::string failure;
    std::vector<platform::op_record> records;
    const bool ok = sim.run([&](platform::chip& chip, std::vector<platform::op_record>& ops) {
        failure = graph::run_workload(chip, plan, false, ops).failure;
        records = ops;
    });
    if (!ok || !failure.empty()) {
        std::fprintf(stderr, "%s: %s\n", c.preset.c_str(), (sim.error() + failure).c_str());
        return 1;
    }
    models::ps_t first = 0, last = 0;
    double imbalance = 1;
    bool any = false;
    for (const auto& r : records)
        if (r.op == "sparse_matmul" && r.type == "kernel") {
            first = any ? std::min(first, r.start_ps) : r.start_ps;
            last = std::max(last, r.end_ps);
            imbalance = platform::imbalance(r);  // the last launch: the product itself
            any = true;
        }
    std::printf("%.2f %s %.3f\n", double(last - first) / 1e6, plan.ops[0].kernel->name.c_str(),
                imbalance);
    return 0;
}

// What a case gave.
struct outcome {
    double us = 0, imbalance = 1;
    std::string kernel;
};

// Runs a case in a child process and reads its line.
bool child(const sparse_case& c, outcome& o) {
    char num[3][32];
    std::snprintf(num[0], sizeof num[0], "%g", c.density);
    std::snprintf(num[1], sizeof num[1], "%g", c.skew);
    std::string out;
    const int rc = npusim::bench::run_self(
        {c.preset, num[0], std::to_string(c.block), c.strategy, c.partition, num[1],
         std::to_string(c.s.m), std::to_string(c.s.k), std::to_string(c.s.n)},
        &out);
    char name[128] = {0};
    const bool got = std::sscanf(out.c_str(), "%lf %127s %lf", &o.us, name, &o.imbalance) == 3;
    o.kernel = name;
    return rc == 0 && got;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    if (argc == 10) {
        sparse_case c;
        c.preset = argv[1];
        c.density = std::atof(argv[2]);
        c.block = std::atoi(argv[3]);
        c.strategy = argv[4];
        c.partition = argv[5];
        c.skew = std::atof(argv[6]);
        c.s = {std::atoll(argv[7]), std::atoll(argv[8]), std::atoll(argv[9])};
        return run_case(c);
    }
    std::printf("bench_sparse: sparse_matmul 512x512 by 512x512 fp16, timing only; time in us\n");
    int rc = 0;
    for (const char* preset : {"ascend910b1", "ascend910", "ascend310p3"})
        for (int block : {1, 16}) {
            std::printf("\n%s, %s:\n%8s %10s %10s %10s   %-22s %s\n", preset,
                        block == 1 ? "CSR (1x1 blocks)" : "16x16 blocks", "density", "direct",
                        "block", "dense", "auto picks", "fastest");
            std::string prev, changes;
            for (double d : k_densities) {
                double best = 0;
                std::string best_name, picked;
                std::printf("%7.1f%%", 100 * d);
                for (const char* s : {"direct", "block", "dense"}) {
                    outcome o;
                    if (block == 1 && std::string(s) == "block") {
                        std::printf(" %10s", "-");
                        continue;
                    }
                    if (!child({preset, d, block, s, "uniform", 0, {}}, o)) {
                        std::printf(" %10s", "failed");
                        rc = 1;
                        continue;
                    }
                    std::printf(" %10.2f", o.us);
                    if (best_name.empty() || o.us < best) {
                        best = o.us;
                        best_name = s;
                    }
                }
                outcome o;
                picked =
                    child({preset, d, block, "auto", "uniform", 0, {}}, o) ? o.kernel : "failed";
                std::printf("   %-22s %s\n", picked.c_str(), best_name.c_str());
                if (best_name != prev) {
                    char at[64];
                    std::snprintf(at, sizeof at, "%s%s from %g%%", changes.empty() ? "" : ", ",
                                  best_name.c_str(), 100 * d);
                    changes += at;
                    prev = best_name;
                }
                std::fflush(stdout);
            }
            std::printf("fastest: %s\n", changes.c_str());
        }
    std::printf(
        "\nuneven rows (skew s: row block r has a share ~ (r+1)^-s), 1024x1024 by "
        "1024x512 on ascend910b1:\n%-28s %5s %-8s %10s %10s\n",
        "case", "skew", "tasks", "time us", "imbalance");
    const struct {
        const char* label;
        double density;
        int block;
        const char* strategy;
    } skewed[] = {{"CSR 0.5%, direct", 0.005, 1, "direct"},
                  {"16x16 blocks 5%, block", 0.05, 16, "block"}};
    for (const auto& k : skewed)
        for (double skew : {0.5, 1.5})
            for (const char* part : {"uniform", "steal"}) {
                outcome o;
                sparse_case c{"ascend910b1", k.density, k.block,          k.strategy,
                              part,          skew,      {1024, 1024, 512}};
                if (!child(c, o)) {
                    std::printf("%-28s %5g %-8s failed\n", k.label, skew, part);
                    rc = 1;
                    continue;
                }
                std::printf("%-28s %5g %-8s %10.2f %10.3f\n", k.label, skew, part, o.us,
                            o.imbalance);
                std::fflush(stdout);
            }
    return rc;
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
