// Runtime overheads on the ascend910 preset: chains of small dependent kernels run
// synchronously (launch and synchronize, one op at a time) and asynchronously (one stream, a
// completion callback after each op, one synchronize at the end), in simulated time; and how
// many host callbacks the runtime completes per wall second. Prints figures; never fails on
// time, only on a runtime call that does not succeed or a wrong result. Each measurement runs in
// its own process (SystemC elaborates once per process). An optional argument sets the number of
// callbacks per wall-clock run (default 2,000,000).
#include <systemc>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "models/common/timing.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "sw/runtime/context.h"

using namespace npusim;
using models::pipe_id;
using runtime::status;

namespace {

constexpr uint64_t elems = 64;   // floats per op: small, so the runtime's costs dominate
constexpr uint64_t gm = 0x1000;  // the chain's tensor in device memory

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_runtime: %s\n", what.c_str());
    std::fflush(stderr);
    // Not exit(): this may run on a SystemC thread, where static destructors must not run.
    std::_Exit(1);
}

void check(runtime::context& ctx, status st, const char* call) {
    if (st != status::success)
        die(std::string(call) + " returned " + runtime::to_string(st) + ": " +
            ctx.get_last_error().message);
}

/// One op of a chain: x += 1 over `elems` floats, GM -> UB -> GM. Each op reads what the
/// previous one wrote, so the ops form a true dependency chain and the result counts them.
kernel::kernel_fn add_one() {
    return [](kernel::kernel_context& k) {
        auto in = k.alloc<float>(kernel::position::VECIN, elems);
        auto out = k.alloc<float>(kernel::position::VECOUT, elems);
        k.data_copy(in, kernel::global_tensor<float>{gm, elems}, elems);
        k.set_flag(pipe_id::MTE2, pipe_id::V, 0);
        k.wait_flag(pipe_id::MTE2, pipe_id::V, 0);
        k.unary(models::vec_opcode::adds, out, in, elems, 1.0f);
        k.set_flag(pipe_id::V, pipe_id::MTE3, 0);
        k.wait_flag(pipe_id::V, pipe_id::MTE3, 0);
        k.data_copy(kernel::global_tensor<float>{gm, elems}, out, elems);
    };
}

/// How a chain is run.
enum class chain_mode { sync, host_func, report };

/// Runs `n` ops on `s` and returns the simulated time from the first launch until the host
/// has seen the last op (and its callback) complete. Checks the result and the callback count.
double run_chain(runtime::context& ctx, runtime::stream* s, chain_mode mode, unsigned n) {
    check(ctx, ctx.memset(s, gm, 0, elems * sizeof(float)), "memset");
    check(ctx, ctx.synchronize(s), "synchronize");
    unsigned callbacks = 0;
    const runtime::callback_fn on_done = [&callbacks](status before) {
        if (before != status::success)
            die(std::string("a chain op failed before its callback: ") +
                runtime::to_string(before));
        ++callbacks;
    };
    if (mode == chain_mode::report)  // serves exactly this chain's callbacks, then ends
        check(ctx,
              ctx.subscribe_report(ctx.spawn_host_thread("reporter",
                                                         [&ctx, n] {
                                                             for (unsigned i = 0; i < n; ++i)
                                                                 check(ctx, ctx.process_report(),
                                                                       "process_report");
                                                         }),
                                   s),
              "subscribe_report");
    const models::ps_t t0 = models::now_ps();
    for (unsigned i = 0; i < n; ++i) {
        check(ctx, ctx.launch(s, "add_one", 1, models::kernel_kind::vector, add_one()), "launch");
        if (mode == chain_mode::sync)
            check(ctx, ctx.synchronize(s), "synchronize");
        else if (mode == chain_mode::host_func)
            check(ctx, ctx.launch_host_func(s, on_done), "launch_host_func");
        else
            check(ctx, ctx.launch_callback(s, on_done, runtime::callback_block::no_block),
                  "launch_callback");
    }
    if (mode != chain_mode::sync) check(ctx, ctx.synchronize(s), "synchronize");
    const models::ps_t t1 = models::now_ps();

    std::vector<float> out(elems);
    check(ctx, ctx.memcpy_to_host(s, out.data(), gm, elems * sizeof(float)), "memcpy_to_host");
    check(ctx, ctx.synchronize(s), "synchronize");
    for (float v : out)
        if (v != float(n)) die("chain of " + std::to_string(n) + " ops left " + std::to_string(v));
    if (mode != chain_mode::sync && callbacks != n)
        die(std::to_string(callbacks) + " callbacks completed, expected " + std::to_string(n));
    return (t1 - t0) / 1e6;
}

int chain_case(unsigned n) {
    platform::simulation sim(platform::load_platform("ascend910"));
    double sync_us = 0, host_func_us = 0, report_us = 0;
    const bool ok = sim.run([&](platform::chip& chip, auto&) {
        runtime::context ctx(chip);
        // One stream per mode: a stream with a report thread refuses launch_host_func.
        runtime::stream *a = nullptr, *b = nullptr, *c = nullptr;
        check(ctx, ctx.create_stream(a, {"sync"}), "create_stream");
        check(ctx, ctx.create_stream(b, {"host_func"}), "create_stream");
        check(ctx, ctx.create_stream(c, {"report"}), "create_stream");
        sync_us = run_chain(ctx, a, chain_mode::sync, n);
        host_func_us = run_chain(ctx, b, chain_mode::host_func, n);
        report_us = run_chain(ctx, c, chain_mode::report, n);
    });
    if (!ok) die("run failed: " + sim.error());
    std::printf(
        "chain %3u ops: sync %8.1f us (%5.2f us/op)  async launch_host_func %8.1f us (%5.2f "
        "us/op, x%.2f)  async launch_callback no_block %8.1f us (%5.2f us/op, x%.2f)\n",
        n, sync_us, sync_us / n, host_func_us, host_func_us / n, sync_us / host_func_us, report_us,
        report_us / n, sync_us / report_us);
    return 0;
}

/// Completes `n` callbacks with no device work: `report` = launch_callback no_block served by
/// a report thread, `host_func` = launch_host_func on the runtime's callback thread.
int callbacks_case(const std::string& kind, uint64_t n) {
    if (kind != "report" && kind != "host_func")
        die("unknown callback kind '" + kind + "'; use report or host_func");
    platform::simulation sim(platform::load_platform("ascend910"));
    uint64_t done = 0;
    double sim_us = 0;
    const auto w0 = std::chrono::steady_clock::now();
    const bool ok = sim.run([&](platform::chip& chip, auto&) {
        runtime::context ctx(chip);
        runtime::stream* s = nullptr;
        check(ctx, ctx.create_stream(s, {"callbacks"}), "create_stream");
        const runtime::callback_fn count = [&done](status before) {
            if (before != status::success)
                die(std::string("callback saw status ") + runtime::to_string(before));
            ++done;
        };
        if (kind == "report") {
            const unsigned reporter = ctx.spawn_host_thread("reporter", [&ctx, n] {
                for (uint64_t i = 0; i < n; ++i) check(ctx, ctx.process_report(), "process_report");
            });
            check(ctx, ctx.subscribe_report(reporter, s), "subscribe_report");
        }
        // Synchronize every `batch` callbacks: the host enqueues one per 1 us of simulated time
        // and the callback thread runs one per 3 us, so without it the backlog (and memory)
        // would grow with n and the figure would measure the allocator, not the runtime.
        constexpr uint64_t batch = 10000;
        for (uint64_t i = 0; i < n; ++i) {
            if (kind == "report")
                check(ctx, ctx.launch_callback(s, count, runtime::callback_block::no_block),
                      "launch_callback");
            else
                check(ctx, ctx.launch_host_func(s, count), "launch_host_func");
            if (i % batch == batch - 1 || i == n - 1) check(ctx, ctx.synchronize(s), "synchronize");
        }
        sim_us = models::now_ps() / 1e6;
    });
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    if (!ok) die("run failed: " + sim.error());
    if (done != n)
        die(std::to_string(done) + " callbacks completed, expected " + std::to_string(n));
    std::printf("%-9s %llu callbacks: sim %10.1f us  wall %6.3f s  %9.0f callbacks/s\n",
                kind.c_str(), static_cast<unsigned long long>(n), sim_us, wall, n / wall);
    return 0;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    if (argc == 3 && std::string(argv[1]) == "--chain")
        return chain_case(unsigned(std::atoi(argv[2])));
    if (argc >= 3 && std::string(argv[1]) == "--callbacks")
        return callbacks_case(argv[2], argc >= 4 ? std::strtoull(argv[3], nullptr, 10) : 2000000);
    std::printf("bench_runtime: runtime overheads on ascend910\n");
    std::fflush(stdout);
    int rc = 0;
    for (unsigned n : {10u, 50u, 200u}) {
        std::string out;
        rc |= bench::run_self({"--chain", std::to_string(n)}, &out);
        std::printf("%s", out.c_str());
        std::fflush(stdout);
    }
    // Wall-clock rates on a shared 2-core machine vary from run to run: run each kind several
    // times, each in its own process, and report the best and the median.
    const uint64_t count = argc >= 2 ? std::strtoull(argv[1], nullptr, 10) : 0;
    for (const std::string kind : {"report", "host_func"}) {
        const int runs = 3;
        std::vector<std::string> args{"--callbacks", kind};
        if (count) args.push_back(std::to_string(count));
        const auto rates = bench::child_rates(args, runs, "callbacks/s", rc);
        if (!rates.empty())
            std::printf(
                "%s: %d runs, best %.0f callbacks/s, median %.0f callbacks/s (target >= "
                "200,000/s)\n",
                kind.c_str(), runs, rates.back(), rates[rates.size() / 2]);
        std::fflush(stdout);
    }
    return rc != 0;
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
