// Callbacks as CANN runs them: a callback may launch the next step, record, wait and allocate.
#include <boost/test/unit_test.hpp>

#include <cstring>
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

BOOST_AUTO_TEST_SUITE_END()
