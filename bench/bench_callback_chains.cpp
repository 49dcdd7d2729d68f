// The callback-chain scenario on the ascend910 preset: a request is preprocess -> model (a chain
// of `ops` kernels) -> postprocess, with a host callback after each stage; 8 requests. Run
// five ways, in simulated time:
//   sync       one op at a time: launch, synchronize; the stage's host work runs inline
//   callbacks  one stream; each stage's callback (on a report thread) launches the next stage
//   chain      one callback_chain per request (one graph launch each), all queued at once
//   4 streams  callbacks as above, four requests in flight on four streams, one report thread
//   4 batched  the same with batched report delivery (up to 4 callbacks per dispatch)
// for 10 / 50 / 200 ops and three kernel sizes. Prints a table; fails only on a runtime call
// that does not succeed. Each row runs in its own process (SystemC elaborates once).
#include <systemc>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "models/common/timing.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "sw/runtime/context.h"

using namespace npusim;
using runtime::status;

namespace {

constexpr unsigned requests = 8;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_callback_chains: %s\n", what.c_str());
    std::fflush(stderr);
    std::_Exit(1);  // may run on a SystemC thread: no static destructors
}

void check(runtime::context& ctx, status st, const char* call) {
    if (st != status::success)
        die(std::string(call) + " returned " + runtime::to_string(st) + ": " +
            ctx.get_last_error().message);
}

/// One block keeping a vector core busy: `reps` duplicates of 16K floats (one of 512 floats
/// for the tiny size, reps = 0).
kernel::kernel_fn spin(unsigned reps) {
    return [reps](kernel::kernel_context& c) {
        const uint32_t n = reps ? 16384 : 512;
        auto t = c.alloc<float>(kernel::position::VECCALC, n);
        for (unsigned i = 0; i < std::max(reps, 1u); ++i) c.duplicate(t, 1.f, n);
    };
}

struct row {
    unsigned ops = 0, reps = 0;
};

/// One request pipeline driven by callbacks on stream `s`: each stage's callback launches the
/// next stage; the last callback starts the pipeline's next request. The callbacks do not
/// block the stream: while the callback thread launches op k + 1, the device runs op k. (A
/// blocking callback that launches onto its own stream holds the stream until every launch
/// is made, which serialises host and device again.)
struct pipeline {
    runtime::context* ctx = nullptr;
    runtime::stream* s = nullptr;
    row r;
    unsigned left = 0;  ///< requests still to start
    unsigned* callbacks = nullptr;

    void stage(unsigned which) {
        runtime::context& c = *ctx;
        const unsigned kernels = which == 1 ? r.ops : 1;
        for (unsigned k = 0; k < kernels; ++k)
            check(c,
                  c.launch(s,
                           which == 1   ? "op"
                           : which == 0 ? "pre"
                                        : "post",
                           1, models::kernel_kind::vector, spin(r.reps)),
                  "launch");
        check(c,
              c.launch_callback(
                  s,
                  [this, which](status st) {
                      if (st != status::success) die("a stage failed");
                      ++*callbacks;
                      if (which < 2)
                          stage(which + 1);
                      else if (left > 0) {
                          --left;
                          stage(0);
                      }
                  },
                  runtime::callback_block::no_block),
              "launch_callback");
    }
};

double now_us() {
    return models::now_ps() / 1e6;
}

double run_sync(runtime::context& ctx, const row& r) {
    runtime::stream* s = nullptr;
    check(ctx, ctx.create_stream(s, {"sync"}), "create_stream");
    const double t0 = now_us();
    for (unsigned q = 0; q < requests; ++q)
        for (unsigned stage = 0; stage < 3; ++stage)
            for (unsigned k = 0; k < (stage == 1 ? r.ops : 1); ++k) {
                check(ctx, ctx.launch(s, "op", 1, models::kernel_kind::vector, spin(r.reps)),
                      "launch");
                check(ctx, ctx.synchronize(s), "synchronize");
            }
    return now_us() - t0;
}

/// Callback-driven pipelines on `streams` streams, one report thread, optional batching.
double run_callbacks(runtime::context& ctx, const row& r, unsigned streams, unsigned batch) {
    unsigned callbacks = 0;
    const unsigned total = requests * 3;
    const unsigned reporter = ctx.spawn_host_thread("reports", [&] {
        while (callbacks < total) check(ctx, ctx.process_report(), "process_report");
    });
    if (batch > 1)
        check(ctx, ctx.set_report_options(reporter, {batch, 5000000}), "set_report_options");
    std::vector<pipeline> p(streams);
    for (unsigned i = 0; i < streams; ++i) {
        check(ctx, ctx.create_stream(p[i].s, {"cb" + std::to_string(i)}), "create_stream");
        check(ctx, ctx.subscribe_report(reporter, p[i].s), "subscribe_report");
        p[i].ctx = &ctx;
        p[i].r = r;
        p[i].left = requests / streams - 1;
        p[i].callbacks = &callbacks;
    }
    const double t0 = now_us();
    for (auto& x : p) x.stage(0);
    check(ctx, ctx.join_host_thread(reporter), "join_host_thread");
    check(ctx, ctx.synchronize_device(), "synchronize_device");
    return now_us() - t0;
}

/// One callback_chain per request: pre -> cb -> ops... -> cb -> post -> cb.
double run_chain(runtime::context& ctx, const row& r) {
    runtime::stream* s = nullptr;
    check(ctx, ctx.create_stream(s, {"chain"}), "create_stream");
    runtime::callback_chain ch("request");
    auto note = [](runtime::chain_call&) { return runtime::chain_action::proceed; };
    auto last = ch.add_kernel("pre", 1, models::kernel_kind::vector, spin(r.reps));
    last = ch.add_stage("pre_cb", note, {}, {last});
    for (unsigned k = 0; k < r.ops; ++k)
        last = ch.add_kernel("op" + std::to_string(k), 1, models::kernel_kind::vector, spin(r.reps),
                             {last});
    last = ch.add_stage("model_cb", note, {}, {last});
    last = ch.add_kernel("post", 1, models::kernel_kind::vector, spin(r.reps), {last});
    ch.add_stage("post_cb", note, {}, {last});
    const double t0 = now_us();
    for (unsigned q = 0; q < requests; ++q) check(ctx, ctx.launch_chain(ch, s), "launch_chain");
    check(ctx, ctx.synchronize(s), "synchronize");
    return now_us() - t0;
}

int row_case(const row& r) {
    platform::simulation sim(platform::load_platform("ascend910"));
    double t[5] = {};
    double kernel_us = 0;
    const bool ok = sim.run([&](platform::chip& chip, auto&) {
        runtime::context ctx(chip);
        t[0] = run_sync(ctx, r);
        for (const auto& rec : ctx.timeline())
            if (rec.name == "op") {
                kernel_us = (rec.end - rec.start) / 1e6;
                break;
            }
        t[1] = run_callbacks(ctx, r, 1, 1);
        t[2] = run_chain(ctx, r);
        t[3] = run_callbacks(ctx, r, 4, 1);
        t[4] = run_callbacks(ctx, r, 4, 4);
    });
    if (!ok) die("run failed: " + sim.error());
    auto gain = [&](double x) { return 100.0 * (t[0] - x) / t[0]; };
    std::printf(
        "| %3u | %7.2f | %9.1f | %9.1f (%3.0f%%) | %9.1f (%3.0f%%) | %9.1f (%3.0f%%) | "
        "%9.1f (%3.0f%%) |\n",
        r.ops, kernel_us, t[0], t[1], gain(t[1]), t[2], gain(t[2]), t[3], gain(t[3]), t[4],
        gain(t[4]));
    std::fflush(stdout);
    return 0;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    if (argc == 4 && std::string(argv[1]) == "--row")
        return row_case({unsigned(std::atoi(argv[2])), unsigned(std::atoi(argv[3]))});
    std::printf(
        "bench_callback_chains: %u requests of preprocess -> model (N ops) -> "
        "postprocess, a callback per stage, ascend910; simulated us (gain over sync)\n\n",
        requests);
    std::printf(
        "| ops | kernel us | sync | callbacks | chain | 4 streams | 4 streams batched |\n"
        "|---|---|---|---|---|---|---|\n");
    std::fflush(stdout);
    int rc = 0;
    for (unsigned reps : {0u, 20u, 200u})
        for (unsigned ops : {10u, 50u, 200u})
            rc |=
                npusim::bench::run_self({"--row", std::to_string(ops), std::to_string(reps)}) != 0;
    return rc != 0;
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
