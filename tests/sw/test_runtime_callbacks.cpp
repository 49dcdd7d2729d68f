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
}

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
    });
}

BOOST_AUTO_TEST_SUITE_END()
