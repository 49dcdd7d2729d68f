// Time per dtype on the 910B1 and 910 presets, timing-only: the 2048^3 matmul in fp16, bf16,
// fp32, int8 (int32 out) and int8 with per-channel dequantization (FixPipe on the 910B1), as
// a fraction of the dtype's peak cube rate; add and gelu on 16M elements and casts and
// quantization on [4096, 4096] in every dtype they take, as GB/s of the bytes they move.
// Prints figures; never fails on time. Each case runs in its own process (SystemC elaborates
// once per process).
#include <systemc>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/op_runner.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "sw/ops/registry.h"
#include "sw/runtime/context.h"

using namespace npusim;
using memory::tensor_desc;
using models::dtype;

namespace {

dtype named(const std::string& s) {
    dtype t{};
    if (!models::dtype_from_string(s, t)) std::abort();
    return t;
}

struct bench_case {
    std::string op, label;
    std::vector<tensor_desc> in;
    ops::attr_map attrs;
};

// "mm fp16", "mm dequant", "add int8", "gelu bf16", "cast fp32 fp16", "quantize", "dequantize".
bench_case make(const std::vector<std::string>& a) {
    bench_case c;
    const int64_t n = 2048, flat = 16 << 20;
    if (a[0] == "mm") {
        const bool deq = a[1] == "dequant";
        const dtype t = deq ? dtype::int8 : named(a[1]);
        c.op = deq ? "matmul_dequant" : "matmul";
        c.in = {tensor_desc("a", t, {n, n}), tensor_desc("b", t, {n, n})};
        if (deq) c.in.push_back(tensor_desc("scale", dtype::fp32, {n}));
        c.attrs["out_dtype"] = std::string(t == dtype::int8 && !deq ? "int32"
                                           : t == dtype::fp32       ? "fp32"
                                                                    : "fp16");
        c.label = "matmul 2048^3 " + a[1];
    } else if (a[0] == "add" || a[0] == "gelu") {
        const dtype t = named(a[1]);
        c.op = a[0];
        c.in = {tensor_desc("x", t, {flat})};
        if (a[0] == "add") c.in.push_back(tensor_desc("y", t, {flat}));
        c.label = a[0] + " 16M " + a[1];
    } else if (a[0] == "cast") {
        c.op = "cast";
        c.in = {tensor_desc("x", named(a[1]), {4096, 4096})};
        c.attrs["dtype"] = a[2];
        c.label = "cast [4096,4096] " + a[1] + "->" + a[2];
    } else {  // quantize fp16 -> int8, dequantize int8 -> fp16, per channel
        const bool q = a[0] == "quantize";
        c.op = a[0];
        c.in = {tensor_desc("x", q ? dtype::fp16 : dtype::int8, {4096, 4096}),
                tensor_desc("scale", dtype::fp32, {4096}),
                tensor_desc("offset", dtype::fp32, {4096})};
        c.label = a[0] + " [4096,4096] per channel";
    }
    return c;
}

int run_case(const std::string& preset, const std::vector<std::string>& args) {
    auto cfg = platform::load_platform(preset);
    cfg.set_timing_only();
    const bench_case c = make(args);
    ops::op_plan plan;
    try {
        plan = ops::library().plan(c.op, c.in, c.attrs, cfg);
    } catch (const ops::op_error& e) {
        std::printf("%-12s %-34s refused: %s\n", preset.c_str(), c.label.c_str(), e.what());
        return 0;
    }
    platform::simulation sim(cfg);
    const bench::op_run run = bench::run_one_op(sim, plan, c.in);
    if (!run.failure.empty()) {
        std::fprintf(stderr, "%s %s failed: %s\n", preset.c_str(), c.label.c_str(),
                     run.failure.c_str());
        return 1;
    }
    const double kernel_us = run.kernel_ps / 1e6;
    if (args[0] == "mm") {
        const dtype t = c.in[0].type();
        // Peak: cores x fractal MACs x 2 x clock, for this dtype's fractal.
        const auto& core = cfg.split ? cfg.aic : cfg.aicore;
        const auto& f = core.cube.of(t);
        const double peak = double(cfg.cores) * f.m * f.k * f.n * 2 * cfg.cube_clock_hz;
        const double rate = plan.tiling.flops / (kernel_us * 1e-6);
        std::printf("%-12s %-34s %9.1f us  %7.1f T%s/s  %5.1f%% of the %s peak\n", preset.c_str(),
                    c.label.c_str(), kernel_us, rate / 1e12, t == dtype::int8 ? "OP" : "FLOP",
                    100 * rate / peak, models::to_string(t));
    } else {
        std::printf("%-12s %-34s %9.1f us  %7.1f GB/s moved\n", preset.c_str(), c.label.c_str(),
                    kernel_us, double(plan.tiling.bytes) / (kernel_us * 1e-6) / 1e9);
    }
    return 0;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    if (argc >= 3) return run_case(argv[1], std::vector<std::string>(argv + 2, argv + argc));
    std::printf("bench_precision: time per dtype (timing only)\n");
    std::fflush(stdout);
    // Each case's words are its arguments.
    const std::vector<std::vector<std::string>> cases = {{"mm", "fp16"},
                                                         {"mm", "bf16"},
                                                         {"mm", "fp32"},
                                                         {"mm", "int8"},
                                                         {"mm", "dequant"},
                                                         {"add", "fp16"},
                                                         {"add", "fp32"},
                                                         {"add", "bf16"},
                                                         {"add", "int8"},
                                                         {"add", "int16"},
                                                         {"add", "int32"},
                                                         {"gelu", "fp16"},
                                                         {"gelu", "fp32"},
                                                         {"gelu", "bf16"},
                                                         {"cast", "fp32", "fp16"},
                                                         {"cast", "fp32", "bf16"},
                                                         {"cast", "fp16", "int8"},
                                                         {"cast", "int8", "int16"},
                                                         {"quantize"},
                                                         {"dequantize"}};
    int rc = 0;
    for (const char* preset : {"ascend910b1", "ascend910"})
        for (const auto& c : cases) {
            std::vector<std::string> args{preset};
            args.insert(args.end(), c.begin(), c.end());
            rc |= npusim::bench::run_self(args) != 0;
        }
    return rc != 0;
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
