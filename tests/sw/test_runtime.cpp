// The async runtime: stream order, events, callbacks, priorities, overlap, graphs, errors.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <random>
#include <stdexcept>

#include "tests/sw/runtime_fixture.h"

using namespace npusim;
using namespace npusim::runtime;
using models::kernel_kind;
using models::ps_t;
using test::contains;

namespace {

constexpr ps_t us = 1000000;

std::vector<float> random_floats(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-10.f, 10.f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(runtime)

// Copies and a kernel on one stream run in order and compute what a CPU computes.
BOOST_AUTO_TEST_CASE(stream_runs_copies_and_kernel_in_order_with_correct_result) {
    const auto cfg = test::tiny();
    const uint64_t n = 3000, x = 0, y = 1 << 20, z = 2 << 20;
    const auto hx = random_floats(n, 1), hy = random_floats(n, 2);
    std::vector<float> hz(n, 0.f);
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        stream* s = nullptr;
        BOOST_CHECK(ctx.create_stream(s, {"work"}) == status::success);
        unsigned dim = 0;
        auto k = test::add_floats(cfg, 2, x, y, z, n, dim);
        void* pinned = nullptr;  // pinned host memory: the copies are truly asynchronous
        BOOST_REQUIRE(ctx.malloc_host(pinned, 3 * n * 4) == status::success);
        float* px = static_cast<float*>(pinned);
        std::copy(hx.begin(), hx.end(), px);
        std::copy(hy.begin(), hy.end(), px + n);
        BOOST_CHECK(ctx.memcpy_to_device(s, x, px, n * 4) == status::success);
        BOOST_CHECK(ctx.memcpy_to_device(s, y, px + n, n * 4) == status::success);
        BOOST_CHECK(ctx.launch(s, "add", dim, kernel_kind::vector, k) == status::success);
        BOOST_CHECK(ctx.memcpy_to_host(s, px + 2 * n, z, n * 4) == status::success);
        bool done = true;
        BOOST_CHECK(ctx.query(s, done) == status::success);
        BOOST_CHECK(!done);
        BOOST_CHECK(ctx.synchronize(s) == status::success);
        BOOST_CHECK(ctx.query(s, done) == status::success);
        BOOST_CHECK(done);
        const auto tl = test::of_stream(ctx, "work");
        BOOST_REQUIRE_EQUAL(tl.size(), 4u);
        for (size_t i = 0; i < tl.size(); ++i) {
            BOOST_CHECK_EQUAL(tl[i].seq, i);
            if (i) BOOST_CHECK_GE(tl[i].start, tl[i - 1].end);
        }
        std::copy(px + 2 * n, px + 3 * n, hz.begin());
        BOOST_CHECK(ctx.free_host(pinned) == status::success);
        BOOST_CHECK(ctx.free_host(pinned) == status::invalid_argument);
        BOOST_CHECK(contains(ctx.get_last_error().message, "is not a buffer from malloc_host"));
    });
    for (uint64_t i = 0; i < n; ++i) BOOST_CHECK_EQUAL(hz[i], hx[i] + hy[i]);
}

// memset and a device-to-device copy move real bytes through the system DMA.
BOOST_AUTO_TEST_CASE(memset_and_device_copy_move_bytes) {
    std::vector<uint8_t> out(10000, 0);
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        BOOST_CHECK(ctx.memset(nullptr, 4096, 0x5a, 10000) == status::success);
        BOOST_CHECK(ctx.memcpy_on_device(nullptr, 65536, 4096, 10000) == status::success);
        BOOST_CHECK(ctx.memcpy_to_host(nullptr, out.data(), 65536, 10000) == status::success);
        BOOST_CHECK(ctx.synchronize() == status::success);
        const auto set = test::entry(ctx, "memset");
        // 10000 bytes at the 200 GB/s system DMA take at least 50 ns.
        BOOST_CHECK_GE(set.end - set.start, 50000u);
    });
    for (uint8_t b : out) BOOST_CHECK_EQUAL(b, 0x5a);
}

// Host API costs come from the platform config and appear in simulated time.
BOOST_AUTO_TEST_CASE(host_api_costs_come_from_config) {
    const auto cfg = test::tiny({"host_api.launch=20us", "host_api.sync_wakeup=7us",
                                 "host_api.event_record=3us", "host_api.memcpy_setup=4us"});
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        event* e = nullptr;
        BOOST_CHECK(ctx.create_event(e, "e") == status::success);
        const ps_t t0 = models::now_ps();
        BOOST_CHECK(ctx.launch(nullptr, "k", 1, kernel_kind::vector, test::spin(4)) ==
                    status::success);
        BOOST_CHECK_EQUAL(models::now_ps() - t0, 20 * us);
        BOOST_CHECK(ctx.record_event(e, nullptr) == status::success);
        BOOST_CHECK_EQUAL(models::now_ps() - t0, 23 * us);
        void* buf = nullptr;
        BOOST_CHECK(ctx.malloc_host(buf, 64) == status::success);  // costs host_api.malloc
        const ps_t t1 = models::now_ps();
        BOOST_CHECK(ctx.memcpy_to_device(nullptr, 0, buf, 64) == status::success);
        BOOST_CHECK_EQUAL(models::now_ps() - t1, 4 * us);
        BOOST_CHECK(ctx.synchronize() == status::success);
        const auto copy = test::entry(ctx, "memcpy_h2d");
        BOOST_CHECK_EQUAL(models::now_ps(), copy.end + 7 * us);
        const auto k = test::entry(ctx, "k");
        BOOST_CHECK_EQUAL(k.submitted, t0 + 20 * us);
        BOOST_CHECK_GE(k.start, k.submitted);
    });
}

// Work after stream_wait_event waits for the recorded work of the other stream; without the
// wait the two streams overlap.
BOOST_AUTO_TEST_CASE(cross_stream_event_orders_work) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream *a = nullptr, *b = nullptr;
        event* e = nullptr;
        BOOST_CHECK(ctx.create_stream(a, {"a"}) == status::success);
        BOOST_CHECK(ctx.create_stream(b, {"b"}) == status::success);
        BOOST_CHECK(ctx.create_event(e, "a_done") == status::success);
        BOOST_CHECK(ctx.launch(a, "a1", 1, kernel_kind::vector, test::spin(2000)) ==
                    status::success);
        BOOST_CHECK(ctx.record_event(e, a) == status::success);
        BOOST_CHECK(ctx.launch(a, "a2", 1, kernel_kind::vector, test::spin(5000)) ==
                    status::success);
        BOOST_CHECK(ctx.stream_wait_event(b, e) == status::success);
        BOOST_CHECK(ctx.launch(b, "b1", 1, kernel_kind::vector, test::spin(10)) == status::success);
        BOOST_CHECK(ctx.synchronize_device() == status::success);
        const auto a1 = test::entry(ctx, "a1"), a2 = test::entry(ctx, "a2"),
                   b1 = test::entry(ctx, "b1");
        BOOST_CHECK_GE(b1.start, a1.end);  // waited for what the event captured...
        BOOST_CHECK_LT(b1.start, a2.end);  // ...and not for what came after the record
        bool complete = false;
        BOOST_CHECK(ctx.query_event(e, complete) == status::success);
        BOOST_CHECK(complete);
    });
}

// Elapsed time between two records equals the simulated time between them.
BOOST_AUTO_TEST_CASE(event_elapsed_time_and_its_errors) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        event *e0 = nullptr, *e1 = nullptr, *never = nullptr;
        BOOST_CHECK(ctx.create_event(e0, "start") == status::success);
        BOOST_CHECK(ctx.create_event(e1, "end") == status::success);
        BOOST_CHECK(ctx.create_event(never, "never") == status::success);
        bool complete = true;
        BOOST_CHECK(ctx.query_event(never, complete) == status::success);
        BOOST_CHECK(!complete);
        BOOST_CHECK(ctx.record_event(e0, nullptr) == status::success);
        BOOST_CHECK(ctx.launch(nullptr, "k", 1, kernel_kind::vector, test::spin(300)) ==
                    status::success);
        BOOST_CHECK(ctx.record_event(e1, nullptr) == status::success);
        double ms = -1;
        BOOST_CHECK(ctx.event_elapsed_time(ms, e0, e1) == status::not_ready);
        BOOST_CHECK(contains(ctx.get_last_error().message, "has not completed"));
        BOOST_CHECK(ctx.synchronize_event(e1) == status::success);
        BOOST_CHECK(ctx.event_elapsed_time(ms, e0, e1) == status::success);
        const auto k = test::entry(ctx, "k");
        const auto r0 = test::entry(ctx, "start"), r1 = test::entry(ctx, "end");
        BOOST_CHECK_CLOSE(ms, (r1.start - r0.start) / 1e9, 1e-9);
        BOOST_CHECK_GE(r1.start - r0.start, k.end - k.start);
        BOOST_CHECK(ctx.event_elapsed_time(ms, e0, never) == status::invalid_argument);
        BOOST_CHECK(contains(ctx.get_last_error().message, "event 'never' was never recorded"));
        BOOST_CHECK(ctx.destroy_event(e0) == status::success);
        BOOST_CHECK(ctx.record_event(e0, nullptr) == status::invalid_handle);
        BOOST_CHECK(contains(ctx.get_last_error().message, "record_event: the event is not"));
    });
}

// A blocking callback holds back later work on its stream; a non-blocking one does not.
BOOST_AUTO_TEST_CASE(blocking_and_non_blocking_callbacks) {
    const auto cfg = test::tiny({"host_api.callback=50us"});
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        stream *blk = nullptr, *nob = nullptr;
        BOOST_CHECK(ctx.create_stream(blk, {"blk"}) == status::success);
        BOOST_CHECK(ctx.create_stream(nob, {"nob"}) == status::success);
        bool stop = false;
        int ran = 0, thread_in_callback = -1;
        const unsigned reporter = ctx.spawn_host_thread("reporter", [&] {
            while (!stop) {
                const status s = ctx.process_report(10 * us);
                BOOST_CHECK_MESSAGE(s == status::success || s == status::report_timeout,
                                    to_string(s) << ": " << ctx.get_last_error().message);
            }
        });
        BOOST_CHECK(ctx.subscribe_report(reporter, blk) == status::success);
        BOOST_CHECK(ctx.subscribe_report(reporter, nob) == status::success);
        auto cb = [&](status st) {
            BOOST_CHECK(st == status::success);
            thread_in_callback = ctx.current_thread();
            ++ran;
        };
        for (stream* s : {blk, nob}) {
            const auto block = s == blk ? callback_block::block : callback_block::no_block;
            const std::string tag = s == blk ? "blk" : "nob";
            BOOST_CHECK(ctx.launch(s, tag + "_k1", 1, kernel_kind::vector, test::spin(10)) ==
                        status::success);
            BOOST_CHECK(ctx.launch_callback(s, cb, block, tag + "_cb") == status::success);
            BOOST_CHECK(ctx.launch(s, tag + "_k2", 1, kernel_kind::vector, test::spin(10)) ==
                        status::success);
        }
        BOOST_CHECK(ctx.synchronize_device() == status::success);
        BOOST_CHECK_EQUAL(ran, 2);  // synchronize waits for non-blocking callbacks too
        BOOST_CHECK_EQUAL(thread_in_callback, int(reporter));
        const auto bcb = test::entry(ctx, "blk_cb"), bk2 = test::entry(ctx, "blk_k2");
        const auto ncb = test::entry(ctx, "nob_cb"), nk2 = test::entry(ctx, "nob_k2");
        BOOST_CHECK_GE(bk2.start, bcb.end);
        BOOST_CHECK_LT(nk2.start, ncb.start);  // went ahead during the 50 us dispatch
        stop = true;
        BOOST_CHECK(ctx.join_host_thread(reporter) == status::success);
        BOOST_CHECK(ctx.unsubscribe_report(reporter, blk) == status::success);
        BOOST_CHECK(ctx.unsubscribe_report(reporter, nob) == status::success);
    });
}

// launch_host_func runs on the runtime's own thread and blocks later work.
BOOST_AUTO_TEST_CASE(host_func_runs_on_runtime_thread) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        int thread = -2;
        status seen = status::internal;
        BOOST_CHECK(ctx.launch(nullptr, "k1", 1, kernel_kind::vector, test::spin(10)) ==
                    status::success);
        BOOST_CHECK(ctx.launch_host_func(nullptr, [&](status s) {
            seen = s;
            thread = ctx.current_thread();
        }) == status::success);
        BOOST_CHECK(ctx.launch(nullptr, "k2", 1, kernel_kind::vector, test::spin(10)) ==
                    status::success);
        BOOST_CHECK(ctx.synchronize() == status::success);
        BOOST_CHECK(seen == status::success);
        BOOST_CHECK(thread >= 0 && thread != ctx.current_thread());
        BOOST_CHECK_GE(test::entry(ctx, "k2").start, test::entry(ctx, "host_func").end);
    });
}

// A kernel fault surfaces at the next synchronize with op, core and address; in continue mode
// later work runs, callbacks see the error, and the error is reported once.
BOOST_AUTO_TEST_CASE(device_fault_surfaces_at_synchronize_continue_mode) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream* s = nullptr;
        BOOST_CHECK(ctx.create_stream(s, {"s"}) == status::success);
        status seen = status::success;
        BOOST_CHECK(ctx.launch(s, "bad", 1, kernel_kind::vector, test::bad_read(2ull << 30)) ==
                    status::success);  // async: submission succeeds
        BOOST_CHECK(ctx.launch_host_func(s, [&](status st) { seen = st; }) == status::success);
        BOOST_CHECK(ctx.launch(s, "after", 1, kernel_kind::vector, test::spin(5)) ==
                    status::success);
        BOOST_CHECK(ctx.synchronize(s) == status::aicore_exception);
        const error_info e = ctx.get_last_error();
        BOOST_CHECK(e.code == status::aicore_exception);
        BOOST_CHECK_MESSAGE(
            contains(e.message, "kernel 'bad' faulted") && contains(e.message, "chip.core0") &&
                contains(e.message, "0x80000000") && contains(e.message, "stream 's' task #0"),
            e.message);
        BOOST_TEST_MESSAGE(e.message);
        BOOST_CHECK(band(e.code) == status_band::execution);
        BOOST_CHECK(seen == status::aicore_exception);
        BOOST_CHECK(test::entry(ctx, "after").result == status::success);
        BOOST_CHECK(ctx.synchronize(s) == status::success);  // reported once
    });
}

// Stop on failure: the queue is cancelled (callbacks do not run), new launches are refused,
// and streams that wait on its events are cancelled too.
BOOST_AUTO_TEST_CASE(stop_on_failure_cancels_stream_and_dependents) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream *s = nullptr, *dep = nullptr, *other = nullptr;
        BOOST_CHECK(ctx.create_stream(s, {"s", 4, failure_mode::stop_on_failure}) ==
                    status::success);
        BOOST_CHECK(ctx.create_stream(dep, {"dep"}) == status::success);
        BOOST_CHECK(ctx.create_stream(other, {"other"}) == status::success);
        event* e = nullptr;
        BOOST_CHECK(ctx.create_event(e, "after_bad") == status::success);
        bool ran = false;
        // The long first kernel lets the host queue everything before the fault.
        BOOST_CHECK(ctx.launch(s, "first", 1, kernel_kind::vector, test::spin(5000)) ==
                    status::success);
        BOOST_CHECK(ctx.launch(s, "bad", 1, kernel_kind::vector, test::bad_read(2ull << 30)) ==
                    status::success);
        BOOST_CHECK(ctx.launch(s, "later", 1, kernel_kind::vector, test::spin(5)) ==
                    status::success);
        BOOST_CHECK(ctx.launch_host_func(
                        s, [&](status) { ran = true; }, "cb") == status::success);
        BOOST_CHECK(ctx.record_event(e, s) == status::success);
        BOOST_CHECK(ctx.stream_wait_event(dep, e) == status::success);
        BOOST_CHECK(ctx.launch(dep, "dependent", 1, kernel_kind::vector, test::spin(5)) ==
                    status::success);
        BOOST_CHECK(ctx.launch(other, "independent", 1, kernel_kind::vector, test::spin(5)) ==
                    status::success);
        BOOST_CHECK(ctx.synchronize(s) == status::aicore_exception);
        BOOST_CHECK(contains(ctx.get_last_error().message, "kernel 'bad' faulted"));
        BOOST_CHECK(!ran);
        BOOST_CHECK(test::entry(ctx, "later").result == status::task_cancelled);
        BOOST_CHECK(test::entry(ctx, "cb").result == status::task_cancelled);
        BOOST_CHECK(ctx.launch(s, "refused", 1, kernel_kind::vector, test::spin(1)) ==
                    status::stream_stopped);
        const auto refused = ctx.get_last_error();
        BOOST_CHECK_MESSAGE(contains(refused.message, "stream 's' stopped after a failure") &&
                                contains(refused.message, "kernel 'bad' faulted"),
                            refused.message);
        BOOST_CHECK(ctx.synchronize(dep) == status::task_cancelled);
        BOOST_CHECK(contains(ctx.get_last_error().message, "waited on event 'after_bad'"));
        BOOST_CHECK(test::entry(ctx, "dependent").result == status::task_cancelled);
        BOOST_CHECK(ctx.synchronize(other) == status::success);
        BOOST_CHECK(test::entry(ctx, "independent").result == status::success);
        BOOST_CHECK(ctx.set_failure_mode(s, failure_mode::continue_on_failure) ==
                    status::failure_mode_already_set);
    });
}

// A callback that throws: its error reaches its stream per the failure mode, and the runtime
// keeps working.
BOOST_AUTO_TEST_CASE(throwing_callback_propagates_per_failure_mode) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream *cont = nullptr, *stop = nullptr;
        BOOST_CHECK(ctx.create_stream(cont, {"cont"}) == status::success);
        BOOST_CHECK(ctx.create_stream(stop, {"stop"}) == status::success);
        BOOST_CHECK(ctx.set_failure_mode(stop, failure_mode::stop_on_failure) == status::success);
        auto thrower = [](status) { throw std::runtime_error("bad input tensor"); };
        for (stream* s : {cont, stop}) {
            const std::string tag = s == cont ? "cont" : "stop";
            BOOST_CHECK(ctx.launch(s, tag + "_first", 1, kernel_kind::vector, test::spin(5000)) ==
                        status::success);
            BOOST_CHECK(ctx.launch_host_func(s, thrower, tag + "_cb") == status::success);
            BOOST_CHECK(ctx.launch(s, tag + "_k", 1, kernel_kind::vector, test::spin(5)) ==
                        status::success);
        }
        BOOST_CHECK(ctx.synchronize(cont) == status::callback_exception);
        const auto e = ctx.get_last_error();
        BOOST_CHECK_MESSAGE(contains(e.message, "callback 'cont_cb' threw: bad input tensor"),
                            e.message);
        BOOST_CHECK(test::entry(ctx, "cont_k").result == status::success);
        BOOST_CHECK(ctx.synchronize(stop) == status::callback_exception);
        BOOST_CHECK(test::entry(ctx, "stop_k").result == status::task_cancelled);
        // The runtime's callback thread survived: another callback still runs.
        bool ran = false;
        BOOST_CHECK(ctx.launch_host_func(cont, [&](status) { ran = true; }) == status::success);
        BOOST_CHECK(ctx.synchronize(cont) == status::success);
        BOOST_CHECK(ran);
    });
}

// Last error: get clears it, peek does not; each band has its codes.
BOOST_AUTO_TEST_CASE(last_error_get_clears_peek_does_not) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        BOOST_CHECK(ctx.get_last_error().code == status::success);
        BOOST_CHECK(ctx.launch(nullptr, "k", 0, kernel_kind::vector, test::spin(1)) ==
                    status::invalid_argument);
        BOOST_CHECK(ctx.peek_last_error().code == status::invalid_argument);
        BOOST_CHECK(ctx.peek_last_error().code == status::invalid_argument);
        const auto e = ctx.get_last_error();
        BOOST_CHECK_EQUAL(e.message,
                          "launch: 'k': block_dim is 0; a kernel needs at least 1 block");
        BOOST_CHECK(ctx.get_last_error().code == status::success);
        BOOST_CHECK(band(status::invalid_argument) == status_band::bad_argument);
        BOOST_CHECK(band(status::device_oom) == status_band::resource);
        BOOST_CHECK(band(status::stream_sync_timeout) == status_band::execution);
        BOOST_CHECK_EQUAL(static_cast<uint32_t>(status::aicore_exception), 507015u);
    });
}

// Every bad argument names the call, the argument and the fix.
BOOST_AUTO_TEST_CASE(bad_arguments_name_what_is_wrong) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        auto last = [&] { return ctx.get_last_error().message; };
        stream* s = nullptr;
        BOOST_CHECK(ctx.create_stream(s, {"x", 9}) == status::invalid_argument);
        BOOST_CHECK_EQUAL(last(),
                          "create_stream: priority 9 is out of range; use 0 (highest) "
                          "to 7 (lowest)");
        std::vector<uint8_t> b(64);
        BOOST_CHECK(ctx.memcpy_to_device(nullptr, (1ull << 30) - 32, b.data(), 64) ==
                    status::invalid_argument);
        BOOST_CHECK(contains(last(), "device range [0x3fffffe0, +64) is outside device memory"));
        BOOST_CHECK(ctx.memcpy_to_device(nullptr, 0, nullptr, 64) == status::invalid_argument);
        BOOST_CHECK(contains(last(), "the host source is null"));
        stream* bogus = reinterpret_cast<stream*>(&b);
        BOOST_CHECK(ctx.synchronize(bogus) == status::invalid_handle);
        BOOST_CHECK(contains(last(), "not one of this context's streams"));
        BOOST_CHECK(ctx.process_report(0) == status::invalid_argument);
        BOOST_CHECK(contains(last(), "a timeout of 0 is rejected"));
        BOOST_CHECK(ctx.process_report(us) == status::not_subscribed);
        BOOST_CHECK(contains(last(), "is subscribed to no stream"));
        BOOST_CHECK(ctx.launch_callback(
                        nullptr, [](status) {}, callback_block::block) == status::not_subscribed);
        BOOST_CHECK(contains(last(), "has no report thread; call subscribe_report"));
        const unsigned me = static_cast<unsigned>(ctx.current_thread());
        BOOST_CHECK(ctx.subscribe_report(me, nullptr) == status::success);
        BOOST_CHECK(ctx.subscribe_report(me, nullptr) == status::already_subscribed);
        BOOST_CHECK(ctx.launch_host_func(nullptr, [](status) {}) == status::invalid_argument);
        BOOST_CHECK(contains(last(), "must not be mixed"));
        BOOST_CHECK(ctx.subscribe_report(999, nullptr) == status::invalid_argument);
        BOOST_CHECK(ctx.unsubscribe_report(me, nullptr) == status::success);
        BOOST_CHECK(ctx.destroy_stream(nullptr) == status::invalid_argument);
        BOOST_CHECK(contains(last(), "the default stream cannot be destroyed"));
        BOOST_CHECK(ctx.launch(nullptr, "k", 1, kernel_kind::cube, {}) == status::invalid_argument);
        BOOST_CHECK(contains(last(), "the kernel function is empty"));
        BOOST_CHECK(ctx.join_host_thread(me) == status::invalid_argument);
        BOOST_CHECK_EQUAL(last(),
                          "join_host_thread: thread 0 is not another host thread of the "
                          "program; pass an id from spawn_host_thread");
        BOOST_CHECK(ctx.unsubscribe_report(me, nullptr) == status::not_subscribed);
        BOOST_CHECK_EQUAL(last(),
                          "unsubscribe_report: thread 0 is not the report thread of stream "
                          "'default'");
        BOOST_CHECK(ctx.record_stream(12345, nullptr) == status::invalid_argument);
        BOOST_CHECK_EQUAL(last(), "record_stream: 0x3039 is not the start of a live block");
        BOOST_CHECK(ctx.destroy_graph(nullptr) == status::invalid_handle);
        BOOST_CHECK_EQUAL(last(), "destroy_graph: the graph is not one of this context's graphs");
        BOOST_CHECK(ctx.launch_graph(nullptr, nullptr) == status::invalid_handle);
        BOOST_CHECK(contains(last(),
                             "launch_graph: the graph is not one of this context's "
                             "instantiated graphs or was destroyed"));
        void* p = nullptr;
        BOOST_CHECK(ctx.malloc_host(p, 0) == status::invalid_argument);
        BOOST_CHECK_EQUAL(last(), "malloc_host: a size of 0 bytes; ask for at least 1 byte");
        event* e = nullptr;
        BOOST_CHECK(ctx.create_event(e, "late") == status::success);
        BOOST_CHECK(ctx.synchronize_event(e, us) == status::event_sync_timeout);
        BOOST_CHECK_EQUAL(last(),
                          "synchronize_event: event 'late' did not complete within 1 us: "
                          "event 'late' has never been recorded (no record_event call "
                          "made it)");
    });
}

// A copy from pageable host memory returns only once it has run; from pinned memory at once.
BOOST_AUTO_TEST_CASE(pageable_copies_are_synchronous) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        std::vector<uint8_t> pageable(1 << 20, 1);
        void* pinned = nullptr;
        BOOST_REQUIRE(ctx.malloc_host(pinned, 1 << 20) == status::success);
        ps_t t0 = models::now_ps();
        BOOST_CHECK(ctx.memcpy_to_device(nullptr, 0, pinned, 1 << 20) == status::success);
        const ps_t async_call = models::now_ps() - t0;
        BOOST_CHECK(ctx.synchronize() == status::success);
        t0 = models::now_ps();
        BOOST_CHECK(ctx.memcpy_to_device(nullptr, 0, pageable.data(), 1 << 20) == status::success);
        const ps_t sync_call = models::now_ps() - t0;
        bool complete = false;
        BOOST_CHECK(ctx.query(nullptr, complete) == status::success);
        BOOST_CHECK(complete);
        BOOST_CHECK_EQUAL(async_call, 2 * us);  // host_api.memcpy_setup only
        // 1 MiB over the 16 GB/s link: the pageable call lasted the whole copy.
        BOOST_CHECK_GE(sync_call, 60 * us);
        BOOST_CHECK(ctx.free_host(pinned) == status::success);
    });
}

// Synchronize with a timeout returns stream_sync_timeout; the work still completes.
BOOST_AUTO_TEST_CASE(synchronize_with_timeout) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        BOOST_CHECK(ctx.launch(nullptr, "long", 1, kernel_kind::vector, test::spin(2000)) ==
                    status::success);
        const ps_t t0 = models::now_ps();
        BOOST_CHECK(ctx.synchronize(nullptr, 2 * us) == status::stream_sync_timeout);
        BOOST_CHECK_EQUAL(models::now_ps() - t0, 2 * us);
        BOOST_CHECK(contains(ctx.get_last_error().message, "still had 1 unfinished tasks"));
        event* e = nullptr;
        BOOST_CHECK(ctx.create_event(e) == status::success);
        BOOST_CHECK(ctx.record_event(e, nullptr) == status::success);
        BOOST_CHECK(ctx.synchronize_event(e, us) == status::event_sync_timeout);
        BOOST_CHECK(ctx.synchronize() == status::success);
        BOOST_CHECK(ctx.synchronize_event(e, us) == status::success);
    });
}

// When cores are contended, blocks of the higher-priority stream go first.
BOOST_AUTO_TEST_CASE(higher_priority_stream_overtakes_queued_blocks) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream *low = nullptr, *high = nullptr;
        BOOST_CHECK(ctx.create_stream(low, {"low", 7}) == status::success);
        BOOST_CHECK(ctx.create_stream(high, {"high", 0}) == status::success);
        // 6 blocks on 2 cores: 3 waves. The high kernel arrives during the first wave.
        BOOST_CHECK(ctx.launch(low, "low_k", 6, kernel_kind::vector, test::spin(2000)) ==
                    status::success);
        BOOST_CHECK(ctx.launch(high, "high_k", 2, kernel_kind::vector, test::spin(2000)) ==
                    status::success);
        BOOST_CHECK(ctx.synchronize_device() == status::success);
        const auto lo = test::entry(ctx, "low_k"), hi = test::entry(ctx, "high_k");
        BOOST_CHECK_LT(hi.start, lo.end);
        BOOST_CHECK_LT(hi.end, lo.end);  // took the second wave ahead of low's blocks 2..5
    });
}

// At equal priority the earlier launch keeps its place in the queue.
BOOST_AUTO_TEST_CASE(equal_priority_keeps_launch_order) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream *first = nullptr, *second = nullptr;
        BOOST_CHECK(ctx.create_stream(first, {"first", 4}) == status::success);
        BOOST_CHECK(ctx.create_stream(second, {"second", 4}) == status::success);
        BOOST_CHECK(ctx.launch(first, "first_k", 6, kernel_kind::vector, test::spin(2000)) ==
                    status::success);
        BOOST_CHECK(ctx.launch(second, "second_k", 2, kernel_kind::vector, test::spin(2000)) ==
                    status::success);
        BOOST_CHECK(ctx.synchronize_device() == status::success);
        BOOST_CHECK_GE(test::entry(ctx, "second_k").start, test::entry(ctx, "first_k").end);
    });
}

// Overlap is real: two streams on half the cores each finish sooner than one stream.
BOOST_AUTO_TEST_CASE(two_streams_on_half_the_cores_beat_one_stream) {
    auto cfg = platform::load_platform("ascend910");
    const unsigned half = cfg.cores / 2;
    ps_t one = 0, two = 0;
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        stream *a = nullptr, *b = nullptr;
        BOOST_CHECK(ctx.create_stream(a, {"a"}) == status::success);
        BOOST_CHECK(ctx.create_stream(b, {"b"}) == status::success);
        ps_t t0 = models::now_ps();
        BOOST_CHECK(ctx.launch(a, "k1", half, kernel_kind::vector, test::spin(3000)) ==
                    status::success);
        BOOST_CHECK(ctx.launch(a, "k2", half, kernel_kind::vector, test::spin(3000)) ==
                    status::success);
        BOOST_CHECK(ctx.synchronize(a) == status::success);
        one = models::now_ps() - t0;
        t0 = models::now_ps();
        BOOST_CHECK(ctx.launch(a, "k3", half, kernel_kind::vector, test::spin(3000)) ==
                    status::success);
        BOOST_CHECK(ctx.launch(b, "k4", half, kernel_kind::vector, test::spin(3000)) ==
                    status::success);
        BOOST_CHECK(ctx.synchronize_device() == status::success);
        two = models::now_ps() - t0;
        const auto k3 = test::entry(ctx, "k3"), k4 = test::entry(ctx, "k4");
        BOOST_CHECK_LT(k4.start, k3.end);  // they ran at the same time
        // Closed form: one stream takes launch + 2 (device dispatch + kernel) + wake-up; two
        // streams take two launches + 1 dispatch + 1 kernel + wake-up (the second launch is
        // issued while k3 runs).
        const ps_t kernel = k3.end - k3.start, d = cfg.kernel_dispatch_ps;
        BOOST_CHECK_EQUAL(one,
                          cfg.host_api.launch_ps + 2 * (d + kernel) + cfg.host_api.sync_wakeup_ps);
        BOOST_CHECK_EQUAL(two,
                          2 * cfg.host_api.launch_ps + d + kernel + cfg.host_api.sync_wakeup_ps);
        BOOST_CHECK_LT(two, one);
    });
    BOOST_TEST_MESSAGE("one stream " << one / 1e6 << " us, two streams " << two / 1e6 << " us");
}

// A host->device copy on one stream overlaps a kernel on another.
BOOST_AUTO_TEST_CASE(copy_overlaps_kernel_on_another_stream) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream *cp = nullptr, *k = nullptr;
        BOOST_CHECK(ctx.create_stream(cp, {"copy"}) == status::success);
        BOOST_CHECK(ctx.create_stream(k, {"kernel"}) == status::success);
        std::vector<uint8_t> buf(1 << 20, 1);
        BOOST_CHECK(ctx.launch(k, "k", 2, kernel_kind::vector, test::spin(2000)) ==
                    status::success);
        BOOST_CHECK(ctx.memcpy_to_device(cp, 1 << 24, buf.data(), buf.size()) == status::success);
        BOOST_CHECK(ctx.synchronize_device() == status::success);
        const auto c = test::entry(ctx, "memcpy_h2d"), kk = test::entry(ctx, "k");
        BOOST_CHECK_LT(c.start, kk.end);
        BOOST_CHECK_LT(kk.start, c.end);
        // 1 MiB over the 16 GB/s link takes ~65 us; it did not wait for the kernel.
        BOOST_CHECK_GE(c.end - c.start, 60 * us);
    });
}

// destroy_stream waits for the stream's work.
BOOST_AUTO_TEST_CASE(destroy_stream_waits_for_its_work) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream* s = nullptr;
        BOOST_CHECK(ctx.create_stream(s, {"s"}) == status::success);
        BOOST_CHECK(ctx.launch(s, "k", 1, kernel_kind::vector, test::spin(500)) == status::success);
        BOOST_CHECK(ctx.destroy_stream(s) == status::success);
        BOOST_CHECK_GE(models::now_ps(), test::entry(ctx, "k").end);
        BOOST_CHECK(ctx.launch(s, "k2", 1, kernel_kind::vector, test::spin(1)) ==
                    status::invalid_handle);
    });
}

BOOST_AUTO_TEST_SUITE_END()
