// Callbacks as CANN runs them: a callback may launch the next step, record, wait and allocate.
#include <boost/test/unit_test.hpp>

#include <any>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "tests/sw/runtime_fixture.h"

using namespace npusim;
using namespace npusim::runtime;
using models::kernel_kind;
using models::ps_t;
using test::contains;

namespace {
constexpr ps_t us = 1000000;

/// When the stream executor handed the first callback to its report thread: the callback
/// tasks are submitted 1 callback_launch apart and the executor posts each as it reaches it.
ps_t of_stream_first_callback(const context& ctx) {
    for (const auto& r : ctx.timeline())
        if (r.kind == std::string("callback")) return r.submitted;
    return 0;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(runtime_callbacks)

// Inside a callback the host API works, except a wait on the callback's own stream (a
// deadlock, named) and a nested process_report.
BOOST_AUTO_TEST_CASE(callback_may_launch_record_and_allocate) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream* other = nullptr;
        event* e = nullptr;
        BOOST_REQUIRE(ctx.create_stream(other, {"other"}) == status::success);
        BOOST_REQUIRE(ctx.create_event(e, "from_callback") == status::success);
        BOOST_CHECK(ctx.launch(other, "other_k", 1, kernel_kind::vector, test::spin(5)) ==
                    status::success);
        std::vector<status> got;
        std::string own_sync, pageable;
        BOOST_CHECK(ctx.launch_host_func(
                        nullptr,
                        [&](status) {
                            got.push_back(
                                ctx.launch(nullptr, "next", 1, kernel_kind::vector, test::spin(3)));
                            uint64_t addr = 0;
                            got.push_back(ctx.malloc(addr, 4096));
                            got.push_back(ctx.record_event(e, nullptr));
                            got.push_back(ctx.synchronize(other));  // another stream: fine
                            got.push_back(ctx.synchronize());       // its own stream: deadlock
                            own_sync = ctx.get_last_error().message;
                            std::vector<uint8_t> b(64);
                            got.push_back(ctx.memcpy_to_device(nullptr, addr, b.data(), b.size()));
                            pageable = ctx.get_last_error().message;
                            got.push_back(ctx.free(addr));
                            got.push_back(ctx.process_report(us));
                        },
                        "stage") == status::success);
        BOOST_CHECK(ctx.synchronize() == status::success);
        const std::vector<status> want{
            status::success,  status::success,  status::success, status::success,
            status::deadlock, status::deadlock, status::success, status::not_permitted_in_callback};
        BOOST_REQUIRE_EQUAL(got.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i)
            BOOST_CHECK_MESSAGE(got[i] == want[i], "call " << i << ": " << to_string(got[i])
                                                           << ", expected " << to_string(want[i]));
        BOOST_CHECK_MESSAGE(
            contains(own_sync,
                     "synchronize: deadlock: this wait can never end:\n"
                     "  host thread 'runtime callbacks' waits in synchronize(stream 'default')\n"
                     "  stream 'default' task #0 is callback 'stage', running on host thread "
                     "'runtime callbacks'\n"
                     "  which is where the wait started: host thread 'runtime callbacks'") &&
                contains(own_sync, "a callback can launch the next step instead of waiting"),
            own_sync);
        BOOST_CHECK_MESSAGE(contains(pageable, "memcpy_to_device: deadlock") &&
                                contains(pageable, "pageable host memory: waits for the copy"),
                            pageable);
        // The kernel the callback launched ran after it, on the same stream.
        BOOST_CHECK_GE(test::entry(ctx, "next").start, test::entry(ctx, "stage").end);
        bool recorded = false;
        BOOST_CHECK(ctx.query_event(e, recorded) == status::success);
        BOOST_CHECK(recorded);
    });
}

// A chain built by callbacks: each stage's callback, on a subscribed report thread, launches
// the next stage's kernel and callback. z ends as x + N*y, as the CPU computes it.
BOOST_AUTO_TEST_CASE(report_thread_callbacks_launch_the_next_stage) {
    const auto cfg = test::tiny();
    constexpr unsigned stages = 5;
    constexpr uint64_t n = 1024;
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        stream* s = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"chain"}) == status::success);
        uint64_t buf[2] = {}, y = 0;
        for (uint64_t* a : {&buf[0], &buf[1], &y})
            BOOST_REQUIRE(ctx.malloc(*a, n * 4, s) == status::success);
        std::vector<float> x(n), yv(n), out(n);
        for (uint64_t i = 0; i < n; ++i) {
            x[i] = float(i % 97) * 0.5f;
            yv[i] = float(i % 13) - 6.f;
        }
        BOOST_CHECK(ctx.memcpy_to_device(s, buf[0], x.data(), n * 4) == status::success);
        BOOST_CHECK(ctx.memcpy_to_device(s, y, yv.data(), n * 4) == status::success);
        bool stop = false;
        const unsigned reporter = ctx.spawn_host_thread("reports", [&] {
            while (!stop) (void)ctx.process_report(20 * us);
        });
        BOOST_REQUIRE(ctx.subscribe_report(reporter, s) == status::success);
        std::vector<int> threads;
        std::function<void(unsigned)> stage = [&](unsigned i) {
            unsigned block_dim = 0;
            auto k = test::add_floats(cfg, 2, buf[i % 2], y, buf[(i + 1) % 2], n, block_dim);
            BOOST_CHECK(ctx.launch(s, "stage" + std::to_string(i), block_dim, kernel_kind::vector,
                                   k) == status::success);
            if (i + 1 == stages) return;
            BOOST_CHECK(ctx.launch_callback(
                            s,
                            [&, i](status before) {
                                BOOST_CHECK(before == status::success);
                                threads.push_back(ctx.current_thread());
                                stage(i + 1);
                            },
                            callback_block::block, "after" + std::to_string(i)) == status::success);
        };
        stage(0);
        BOOST_CHECK(ctx.synchronize(s) == status::success);  // waits for the whole chain
        BOOST_CHECK(ctx.memcpy_to_host(s, out.data(), buf[stages % 2], n * 4) == status::success);
        BOOST_CHECK(ctx.synchronize(s) == status::success);
        for (uint64_t i = 0; i < n; ++i) BOOST_CHECK_EQUAL(out[i], x[i] + float(stages) * yv[i]);
        BOOST_CHECK_EQUAL(threads.size(), size_t(stages - 1));
        for (int t : threads) BOOST_CHECK_EQUAL(t, int(reporter));
        for (unsigned i = 1; i < stages; ++i)
            BOOST_CHECK_GE(test::entry(ctx, "stage" + std::to_string(i)).start,
                           test::entry(ctx, "after" + std::to_string(i - 1)).end);
        stop = true;
        BOOST_CHECK(ctx.join_host_thread(reporter) == status::success);
    });
}

// A chain with fan-in: stages get their predecessors' results (kernels hand on nothing) and
// their own user data; the final callback sees every result; dependency counts print.
BOOST_AUTO_TEST_CASE(chain_passes_results_and_user_data_with_fan_in) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        callback_chain ch("request");
        auto times = [](chain_call& c) {
            c.result = std::any_cast<int>(c.user_data) * 10;
            return chain_action::proceed;
        };
        const auto a = ch.add_stage("a", times, 2);
        const auto b = ch.add_stage("b", times, 3);
        const auto k = ch.add_kernel("k", 1, kernel_kind::vector, test::spin(20), {a});
        std::vector<size_t> sizes;
        const auto c = ch.add_stage("c",
                                    [&](chain_call& call) {
                                        sizes.push_back(call.inputs.size());
                                        int sum = 0;
                                        for (const auto& in : call.inputs)
                                            if (in.has_value()) sum += std::any_cast<int>(in);
                                        BOOST_CHECK(!call.inputs[2].has_value());  // the kernel's
                                        call.result = sum;
                                        return chain_action::proceed;
                                    },
                                    {}, {a, b, k});
        (void)c;
        chain_outcome got;
        bool final_ran = false;
        ch.on_final([&](const chain_outcome& o) {
            got = o;
            final_ran = true;
        });
        BOOST_CHECK_MESSAGE(contains(ch.describe(),
                                     "graph 'request': 4 nodes\n"
                                     "  'a' (callback): 0 dependencies; 2 successors\n"
                                     "  'b' (callback): 0 dependencies; 1 successor\n"
                                     "  'k' (kernel): 1 dependency ('a'); 1 successor\n"
                                     "  'c' (callback): 3 dependencies ('a', 'b', 'k'); 0 "
                                     "successors\n"),
                            ch.describe());
        BOOST_CHECK(ctx.launch_chain(ch, nullptr) == status::success);
        BOOST_CHECK(ctx.synchronize() == status::success);
        BOOST_REQUIRE(final_ran);
        BOOST_CHECK(got.result == status::success);
        BOOST_CHECK(got.broken_at.empty());
        BOOST_CHECK_EQUAL(std::any_cast<int>(got.results.at("c")), 20 + 30);
        BOOST_CHECK(got.ended.at("k") == status::success);
        BOOST_CHECK_EQUAL(got.attempts.at("c"), 1u);
        BOOST_CHECK_GE(test::entry(ctx, "request/c").start, test::entry(ctx, "request/k").end);
        BOOST_CHECK_GE(test::entry(ctx, "request/final").start, test::entry(ctx, "request/c").end);
        // A second launch has its own results and user-data copies.
        BOOST_CHECK(ctx.launch_chain(ch, nullptr) == status::success);
        BOOST_CHECK(ctx.synchronize() == status::success);
        BOOST_CHECK_EQUAL(std::any_cast<int>(got.results.at("c")), 50);
        BOOST_CHECK_EQUAL(sizes.size(), 2u);
    });
}

// A stage breaks its chain: what has not started is cancelled, the stream has no error, and the
// final callback still runs and names the stage.
BOOST_AUTO_TEST_CASE(stage_breaks_its_chain) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        callback_chain ch("filter");
        auto pass = [](chain_call&) { return chain_action::proceed; };
        const auto a = ch.add_stage("decode", pass);
        const auto b =
            ch.add_stage("check", [](chain_call&) { return chain_action::break_chain; }, {}, {a});
        const auto k = ch.add_kernel("model", 1, kernel_kind::vector, test::spin(5), {b});
        ch.add_stage("reply", pass, {}, {k});
        chain_outcome got;
        ch.on_final([&](const chain_outcome& o) { got = o; });
        BOOST_CHECK(ctx.launch_chain(ch, nullptr) == status::success);
        BOOST_CHECK(ctx.synchronize() == status::success);
        BOOST_CHECK_EQUAL(got.broken_at, "check");
        BOOST_CHECK(got.result == status::success);
        BOOST_CHECK(got.ended.at("model") == status::task_cancelled);
        BOOST_CHECK(got.ended.at("reply") == status::task_cancelled);
        BOOST_CHECK(got.results.count("decode") == 1 && got.results.count("check") == 0);
        BOOST_CHECK(test::entry(ctx, "filter/model").result == status::task_cancelled);
    });
}

// The exception policy decides per exception: retry (then the stage succeeds), proceed, or
// fail; a stage that keeps asking to retry fails once its limit is reached.
BOOST_AUTO_TEST_CASE(exception_policy_retries_proceeds_or_fails) {
    test::run_runtime(test::tiny({"host_api.callback=2us"}), [&](platform::chip&, context& ctx) {
        callback_chain ch("policy");
        ch.set_exception_policy([](const std::string&, const std::string& what) {
            if (what == "busy") return chain_action::retry;
            if (what == "optional") return chain_action::proceed;
            return chain_action::fail;
        });
        int tries = 0;
        const auto flaky = ch.add_stage("flaky", [&](chain_call& c) {
            if (++tries < 3) throw std::runtime_error("busy");
            c.result = c.attempt;
            return chain_action::proceed;
        });
        const auto opt = ch.add_stage(
            "optional", [](chain_call&) -> chain_action { throw std::runtime_error("optional"); },
            {}, {flaky});
        ch.add_stage("after",
                     [](chain_call& c) {
                         BOOST_CHECK(!c.inputs.at(0).has_value());  // proceeded without a result
                         return chain_action::proceed;
                     },
                     {}, {opt});
        chain_outcome got;
        ch.on_final([&](const chain_outcome& o) { got = o; });
        BOOST_CHECK(ctx.launch_chain(ch, nullptr) == status::success);
        BOOST_CHECK(ctx.synchronize() == status::success);
        BOOST_CHECK_EQUAL(got.attempts.at("flaky"), 3u);
        BOOST_CHECK_EQUAL(std::any_cast<unsigned>(got.results.at("flaky")), 2u);
        BOOST_CHECK(got.ended.at("after") == status::success);
        // Each retry is dispatched again: the flaky node spans two extra dispatches.
        const auto f = test::entry(ctx, "policy/flaky");
        BOOST_CHECK_GE(f.end - f.start, 2 * 2 * us);

        callback_chain bad("bad");
        bad.set_exception_policy(
            [](const std::string&, const std::string&) { return chain_action::fail; });
        const auto x = bad.add_stage(
            "x", [](chain_call&) -> chain_action { throw std::runtime_error("disk full"); });
        bad.add_stage("y", [](chain_call&) { return chain_action::proceed; }, {}, {x});
        bad.add_stage(
            "stubborn", [](chain_call&) { return chain_action::retry; }, {}, {}, 2);
        chain_outcome bo;
        bad.on_final([&](const chain_outcome& o) { bo = o; });
        BOOST_CHECK(ctx.launch_chain(bad, nullptr) == status::success);
        BOOST_CHECK(ctx.synchronize() == status::callback_exception);
        const std::string err = ctx.get_last_error().message;
        BOOST_CHECK_MESSAGE(contains(err, "callback 'x' threw: disk full"), err);
        BOOST_CHECK(bo.result == status::callback_exception);
        BOOST_CHECK(bo.ended.at("y") == status::task_cancelled);
        BOOST_CHECK(bo.ended.at("stubborn") == status::callback_exception);
        BOOST_CHECK_EQUAL(bo.attempts.at("stubborn"), 3u);
        bool found = false;
        for (const auto& r : ctx.timeline()) found |= r.name == "bad/stubborn";
        BOOST_CHECK(found);
    });
}

// Child chains compose into one: feature, model and post-processing chains; results flow
// across the seams; one graph launch for the whole request.
BOOST_AUTO_TEST_CASE(child_chains_compose) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        callback_chain feature("feature"), model("model"), post("post");
        const auto load = feature.add_stage("load", [](chain_call& c) {
            c.result = 7;
            return chain_action::proceed;
        });
        feature.add_stage("scale",
                          [](chain_call& c) {
                              c.result = std::any_cast<int>(c.inputs.at(0)) * 3;
                              return chain_action::proceed;
                          },
                          {}, {load});
        const auto run = model.add_stage("run", [](chain_call& c) {
            c.result = std::any_cast<int>(c.inputs.at(0)) + 1;
            return chain_action::proceed;
        });
        model.add_kernel("kernel", 1, kernel_kind::vector, test::spin(5), {run});
        model.add_stage("collect",
                        [](chain_call& c) {
                            c.result = c.inputs.at(0);
                            return chain_action::proceed;
                        },
                        {}, {run});
        post.add_stage("format", [](chain_call& c) {
            int sum = 0;
            for (const auto& in : c.inputs)
                if (in.has_value()) sum += std::any_cast<int>(in);
            c.result = "answer " + std::to_string(sum);
            return chain_action::proceed;
        });
        callback_chain request("request");
        const auto f = request.add_child("feature", feature);
        const auto m = request.add_child("model", model, f);
        request.add_child("post", post, m);
        std::string answer;
        request.on_final([&](const chain_outcome& o) {
            answer = std::any_cast<std::string>(o.results.at("post/format"));
        });
        const std::string d = request.describe();
        BOOST_CHECK_MESSAGE(contains(d, "'model/run' (callback): 1 dependency ('feature/scale')") &&
                                contains(d,
                                         "'post/format' (callback): 2 dependencies "
                                         "('model/kernel', 'model/collect')"),
                            d);
        BOOST_CHECK(ctx.launch_chain(request, nullptr) == status::success);
        BOOST_CHECK(ctx.synchronize() == status::success);
        BOOST_CHECK_EQUAL(answer, "answer 22");  // (7 * 3 + 1) through collect; kernel: none
        int graphs = 0;
        for (const auto& r : ctx.timeline()) graphs += r.kind == std::string("graph");
        BOOST_CHECK_EQUAL(graphs, 1);
    });
}

// A held block is freed when its last holder ends, not when the chain ends; bad holds are
// refused with the index and the fix.
BOOST_AUTO_TEST_CASE(held_block_freed_when_its_last_holder_ends) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        uint64_t block = 0;
        BOOST_REQUIRE(ctx.malloc(block, 1 << 20) == status::success);
        auto in_use = [&] { return ctx.memory_stats().at("allocated_bytes.all.current"); };
        const int64_t before = in_use();
        callback_chain ch("hold");
        const auto k = ch.add_kernel("use", 1, kernel_kind::vector, test::spin(5));
        int64_t during = -1, later = -1;
        const auto b = ch.add_stage("last_user",
                                    [&](chain_call&) {
                                        during = in_use();
                                        return chain_action::proceed;
                                    },
                                    {}, {k});
        ch.add_stage("tail",
                     [&](chain_call&) {
                         later = in_use();
                         return chain_action::proceed;
                     },
                     {}, {b});
        BOOST_CHECK(ctx.launch_chain(ch, nullptr, {{block, {k, b}}}) == status::success);
        BOOST_CHECK(ctx.synchronize() == status::success);
        BOOST_CHECK_EQUAL(during, before);
        BOOST_CHECK_EQUAL(later, before - (1 << 20));
        BOOST_CHECK(ctx.launch_chain(ch, nullptr, {{block, {k}}}) == status::invalid_argument);
        const std::string freed = ctx.get_last_error().message;
        BOOST_CHECK_MESSAGE(contains(freed, "launch_chain: holds[0]: 0x") &&
                                contains(freed,
                                         "is not a live device block; pass an address from "
                                         "malloc"),
                            freed);
        uint64_t other = 0;
        BOOST_REQUIRE(ctx.malloc(other, 4096) == status::success);
        BOOST_CHECK(ctx.launch_chain(ch, nullptr, {{other, {9}}}) == status::invalid_argument);
        BOOST_CHECK_EQUAL(ctx.get_last_error().message,
                          "launch_chain: holds[0]: node 9 does not exist (the chain has 3 nodes)");
        BOOST_CHECK(ctx.launch_chain(callback_chain("empty"), nullptr) == status::invalid_argument);
        BOOST_CHECK_EQUAL(ctx.get_last_error().message,
                          "launch_chain: chain 'empty' has no stages; add one with add_stage or "
                          "add_kernel");
    });
}

// Batching: up to 4 callbacks per dispatch after a 20 us window. Within a batch the callbacks
// are callback_batch_item apart, between batches one full callback dispatch.
BOOST_AUTO_TEST_CASE(batched_reports_pay_one_dispatch_per_batch) {
    const auto cfg = test::tiny({"host_api.callback=3us", "host_api.callback_batch_item=500ns",
                                 "host_api.thread_wakeup=5us"});
    std::vector<std::string> batches;  // the timeline's batch spans on the thread's track
    platform::simulation sim(cfg);
    sim.get_chip().host_api().set_span_sink([&](platform::activity_span sp) {
        if (sp.track == "reports" && sp.name.rfind("report batch", 0) == 0)
            batches.push_back(sp.name);
    });
    const bool ok = sim.run([&](platform::chip&, std::vector<platform::op_record>& ops) {
        context ctx(sim.get_chip(), &ops);
        stream* s = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"s"}) == status::success);
        std::vector<ps_t> ran;
        const unsigned reporter = ctx.spawn_host_thread("reports", [&] {
            while (ran.size() < 10) BOOST_CHECK(ctx.process_report() == status::success);
        });
        BOOST_REQUIRE(ctx.subscribe_report(reporter, s) == status::success);
        BOOST_CHECK(ctx.set_report_options(reporter, {4, 20 * us}) == status::success);
        for (int i = 0; i < 10; ++i)
            BOOST_CHECK(ctx.launch_callback(
                            s, [&](status) { ran.push_back(models::now_ps()); },
                            callback_block::no_block) == status::success);
        BOOST_CHECK(ctx.join_host_thread(reporter) == status::success);
        BOOST_CHECK(ctx.synchronize(s) == status::success);
        const report_stats st = ctx.report_statistics(reporter);
        BOOST_CHECK_EQUAL(st.dispatches, 3u);
        BOOST_CHECK_EQUAL(st.callbacks, 10u);
        BOOST_REQUIRE_EQUAL(ran.size(), 10u);
        // Full batches go at once; the last (2 callbacks) waits out the window after its first
        // arrived (callbacks arrive 1 callback_launch = 1 us apart).
        const ps_t first = of_stream_first_callback(ctx);
        const std::vector<ps_t> gaps{
            500000, 500000, 500000, 3 * us,
            500000, 500000, 500000, first + 8 * us + 20 * us + 3 * us - ran[7],
            500000};
        for (size_t i = 0; i < gaps.size(); ++i)
            BOOST_CHECK_MESSAGE(ran[i + 1] - ran[i] == gaps[i],
                                "gap " << i << ": " << ran[i + 1] - ran[i] << " ps");
        // The sleeping thread wakes (5 us; by then the 4th has arrived), one dispatch.
        BOOST_CHECK_EQUAL(ran[0], first + 5 * us + 3 * us);
        BOOST_CHECK_EQUAL(ran[8], first + 8 * us + 20 * us + 3 * us);
        BOOST_CHECK(ctx.set_report_options(reporter, {0}) == status::invalid_argument);
        BOOST_CHECK_EQUAL(ctx.get_last_error().message,
                          "set_report_options: batch is 0; deliver at least 1 callback per "
                          "dispatch");
    });
    BOOST_CHECK_MESSAGE(ok, sim.error());
    const std::vector<std::string> want{"report batch (4 callbacks)", "report batch (4 callbacks)",
                                        "report batch (2 callbacks)"};
    BOOST_CHECK_EQUAL_COLLECTIONS(batches.begin(), batches.end(), want.begin(), want.end());
}

// Waiting callbacks are taken by priority, then in order; past the starvation limit, the oldest
// goes first whatever its priority.
BOOST_AUTO_TEST_CASE(report_queue_priorities_and_starvation_guard) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream *s = nullptr, *other = nullptr;
        event* go = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"s", 4}) == status::success);
        BOOST_REQUIRE(ctx.create_stream(other, {"other"}) == status::success);
        BOOST_REQUIRE(ctx.create_event(go, "go") == status::success);
        std::vector<std::string> order;
        unsigned rounds = 0;
        const unsigned reporter = ctx.spawn_host_thread("reports", [&] {
            for (; rounds < 2; ++rounds) {
                BOOST_CHECK(ctx.synchronize_event(go) == status::success);
                for (int i = 0; i < 5; ++i) BOOST_CHECK(ctx.process_report() == status::success);
            }
        });
        BOOST_REQUIRE(ctx.subscribe_report(reporter, s) == status::success);
        auto post_all = [&] {
            const std::vector<std::pair<std::string, int>> cbs{
                {"p5", 5}, {"p1a", 1}, {"p7", 7}, {"p1b", 1}, {"default", -1}};
            for (const auto& [name, prio] : cbs)
                BOOST_CHECK(ctx.launch_callback(
                                s, [&, n = name](status) { order.push_back(n); },
                                callback_block::no_block, name, prio) == status::success);
            BOOST_CHECK(ctx.record_event(go, other) == status::success);
            BOOST_CHECK(ctx.synchronize(s) == status::success);
        };
        post_all();
        const std::vector<std::string> by_priority{"p1a", "p1b", "default", "p5", "p7"};
        BOOST_CHECK_EQUAL_COLLECTIONS(order.begin(), order.end(), by_priority.begin(),
                                      by_priority.end());
        order.clear();
        report_options guard;
        guard.starvation = 1;  // every waiting callback is starved: oldest first
        BOOST_CHECK(ctx.set_report_options(reporter, guard) == status::success);
        post_all();
        const std::vector<std::string> in_order{"p5", "p1a", "p7", "p1b", "default"};
        BOOST_CHECK_EQUAL_COLLECTIONS(order.begin(), order.end(), in_order.begin(), in_order.end());
        BOOST_CHECK(ctx.join_host_thread(reporter) == status::success);
        BOOST_CHECK(ctx.launch_callback(
                        s, [](status) {}, callback_block::block, "x", 8) ==
                    status::invalid_argument);
        BOOST_CHECK_EQUAL(ctx.get_last_error().message,
                          "launch_callback: priority 8 is out of range; use 0 (highest) to 7 "
                          "(lowest), or -1 for the stream's");
    });
}

// Two hog streams keep every core wanted. A low-priority stream with the adaptive policy is
// promoted while its kernels wait, and finishes long before an equal stream without it; a
// stream whose kernels beat their expected time is demoted, but never past base + 2.
BOOST_AUTO_TEST_CASE(starved_stream_recovers_under_adaptive_priority) {
    const auto cfg = test::tiny();
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        stream *h1 = nullptr, *h2 = nullptr, *fixed = nullptr, *adapt = nullptr, *fast = nullptr;
        BOOST_REQUIRE(ctx.create_stream(h1, {"hog1", 2}) == status::success);
        BOOST_REQUIRE(ctx.create_stream(h2, {"hog2", 2}) == status::success);
        BOOST_REQUIRE(ctx.create_stream(fixed, {"fixed", 6}) == status::success);
        stream_options ao{"adaptive", 6};
        ao.adaptive = true;
        BOOST_REQUIRE(ctx.create_stream(adapt, ao) == status::success);
        stream_options fo{"fast", 1};
        fo.adaptive = true;
        BOOST_REQUIRE(ctx.create_stream(fast, fo) == status::success);
        // Uncontended, to learn the expected time.
        for (stream* s : {fixed, adapt}) {
            BOOST_CHECK(ctx.launch(s, "lk", 1, kernel_kind::vector, test::spin(20)) ==
                        status::success);
            BOOST_CHECK(ctx.synchronize(s) == status::success);
        }
        for (int i = 0; i < 8; ++i)
            for (stream* h : {h1, h2})
                BOOST_CHECK(ctx.launch(h, "hog", 2 * cfg.cores, kernel_kind::vector,
                                       test::spin(2000)) == status::success);
        for (int i = 0; i < 3; ++i)
            for (stream* s : {fixed, adapt})
                BOOST_CHECK(ctx.launch(s, "lk", 1, kernel_kind::vector, test::spin(20)) ==
                            status::success);
        BOOST_CHECK(ctx.synchronize_device() == status::success);
        int p_fixed = -1, p_adapt = -1;
        BOOST_CHECK(ctx.stream_priority(fixed, p_fixed) == status::success);
        BOOST_CHECK(ctx.stream_priority(adapt, p_adapt) == status::success);
        BOOST_CHECK_EQUAL(p_fixed, 6);
        BOOST_CHECK_LE(p_adapt, 2);  // promoted to the hogs' level or above
        const auto f = test::of_stream(ctx, "fixed"), a = test::of_stream(ctx, "adaptive");
        BOOST_REQUIRE(f.size() == 4 && a.size() == 4);
        ps_t last_hog = 0;
        for (const auto& r : ctx.timeline())
            if (r.name == "hog") last_hog = std::max(last_hog, r.end);
        BOOST_CHECK_LT(a[3].end, f[1].end);  // all three before the fixed stream's first
        BOOST_CHECK_LT(a[3].end, last_hog);  // it did not wait for the hogs to finish
        BOOST_CHECK_GE(f[1].end, last_hog - 1);
        // Demotion: expected 100x what it takes; the guard stops at base + 2.
        kernel_info slow;
        slow.expected_ps = 100 * (a[0].end - a[0].start);
        for (int i = 0; i < 5; ++i)
            BOOST_CHECK(ctx.launch(fast, "fk", 1, kernel_kind::vector, test::spin(20), slow) ==
                        status::success);
        BOOST_CHECK(ctx.synchronize(fast) == status::success);
        int p_fast = -1;
        BOOST_CHECK(ctx.stream_priority(fast, p_fast) == status::success);
        BOOST_CHECK_EQUAL(p_fast, 3);
        BOOST_CHECK(ctx.set_stream_priority(fast, 0) == status::success);
        BOOST_CHECK(ctx.stream_priority(fast, p_fast) == status::success && p_fast == 0);
        BOOST_CHECK(ctx.set_stream_priority(fast, 9) == status::invalid_argument);
        BOOST_CHECK_EQUAL(ctx.get_last_error().message,
                          "set_stream_priority: priority 9 is out of range; use 0 (highest) to 7 "
                          "(lowest)");
    });
}

BOOST_AUTO_TEST_SUITE_END()
