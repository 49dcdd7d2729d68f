// A host program that can never finish ends with a report of what waits on what.
#include <boost/test/unit_test.hpp>

#include "tests/sw/runtime_fixture.h"

using namespace npusim;
using namespace npusim::runtime;
using models::kernel_kind;
using test::contains;

BOOST_AUTO_TEST_SUITE(runtime_deadlock)

BOOST_AUTO_TEST_CASE(stream_waiting_on_event_never_recorded) {
    const std::string err = test::run_runtime(
        test::tiny(),
        [&](platform::chip&, context& ctx) {
            stream* s = nullptr;
            event* e = nullptr;
            BOOST_CHECK(ctx.create_stream(s, {"consumer"}) == status::success);
            BOOST_CHECK(ctx.create_event(e, "weights_ready") == status::success);
            BOOST_CHECK(ctx.stream_wait_event(s, e) == status::success);
            BOOST_CHECK(ctx.launch(s, "k", 1, kernel_kind::vector, test::spin(5)) ==
                        status::success);
            (void)ctx.synchronize(s);  // the record_event that would free it never comes
            BOOST_ERROR("synchronize returned");
        },
        false);
    BOOST_CHECK_MESSAGE(
        contains(err, "deadlock") &&
            contains(err,
                     "host thread 'host' waits in synchronize(stream 'consumer'), which "
                     "has 2 unfinished tasks") &&
            contains(err,
                     "stream 'consumer' waits for event 'weights_ready' record #1: event "
                     "'weights_ready' has never been recorded") &&
            contains(err, "(1 tasks queued behind it)"),
        err);
}

BOOST_AUTO_TEST_CASE(host_waiting_on_event_never_recorded) {
    const std::string err = test::run_runtime(
        test::tiny(),
        [&](platform::chip&, context& ctx) {
            event* e = nullptr;
            BOOST_CHECK(ctx.create_event(e, "never") == status::success);
            (void)ctx.synchronize_event(e);
        },
        false);
    BOOST_CHECK_MESSAGE(contains(err,
                                 "host thread 'host' waits in synchronize_event(event "
                                 "'never'): event 'never' has never been recorded"),
                        err);
}

// A graph whose kernel waits for a flag nobody sets can never complete.
BOOST_AUTO_TEST_CASE(graph_that_can_never_complete) {
    const std::string err = test::run_runtime(
        test::tiny(),
        [&](platform::chip&, context& ctx) {
            task_graph g("stuck");
            const auto k =
                g.add_kernel("waits", 1, kernel_kind::vector, [](kernel::kernel_context& c) {
                    c.wait_flag(models::pipe_id::MTE2, models::pipe_id::V, 0);
                });
            g.add_host("never_runs", [](status) { BOOST_ERROR("ran"); }, {k});
            graph_exec* exec = nullptr;
            BOOST_REQUIRE(ctx.instantiate(exec, g) == status::success);
            BOOST_CHECK(ctx.launch_graph(exec, nullptr) == status::success);
            (void)ctx.synchronize();
        },
        false);
    BOOST_CHECK_MESSAGE(contains(err,
                                 "host thread 'host' waits in synchronize(stream "
                                 "'default')") &&
                            contains(err, "stream 'default' waits for graph 'stuck' to finish") &&
                            contains(err, "pipe V waits for flag MTE2->V id 0"),
                        err);
}

BOOST_AUTO_TEST_SUITE_END()
