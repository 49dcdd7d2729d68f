// A host program that can never finish ends with a report of what waits on what.
#include <boost/test/unit_test.hpp>

#include "tests/sw/runtime_fixture.h"

using namespace npusim;
using namespace npusim::runtime;
using models::kernel_kind;
using test::contains;

BOOST_AUTO_TEST_SUITE(runtime_deadlock)

// With one host thread and no callback left, a wait on an event nobody recorded can never end:
// the wait returns at once with the chain that leads to it.
BOOST_AUTO_TEST_CASE(stream_waiting_on_event_never_recorded) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream* s = nullptr;
        event* e = nullptr;
        BOOST_CHECK(ctx.create_stream(s, {"consumer"}) == status::success);
        BOOST_CHECK(ctx.create_event(e, "weights_ready") == status::success);
        BOOST_CHECK(ctx.stream_wait_event(s, e) == status::success);  // a record may follow
        BOOST_CHECK(ctx.launch(s, "k", 1, kernel_kind::vector, test::spin(5)) == status::success);
        BOOST_CHECK(ctx.synchronize(s) == status::deadlock);
        const std::string err = ctx.get_last_error().message;
        BOOST_CHECK_MESSAGE(
            contains(err,
                     "synchronize: deadlock: this wait can never end:\n"
                     "  host thread 'host' waits in synchronize(stream 'consumer')\n"
                     "  stream 'consumer' task #0 waits for event 'weights_ready' record #1\n"
                     "  event 'weights_ready' has never been recorded, and no other host thread "
                     "or pending callback is left to record it\n"
                     "record the event"),
            err);
        BOOST_CHECK(ctx.record_event(e, nullptr) == status::success);  // the fix
        BOOST_CHECK(ctx.synchronize(s) == status::success);
    });
}

BOOST_AUTO_TEST_CASE(host_waiting_on_event_never_recorded) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        event* e = nullptr;
        BOOST_CHECK(ctx.create_event(e, "never") == status::success);
        BOOST_CHECK(ctx.synchronize_event(e) == status::deadlock);
        const std::string err = ctx.get_last_error().message;
        BOOST_CHECK_MESSAGE(contains(err,
                                     "host thread 'host' waits in synchronize_event(event "
                                     "'never')\n  event 'never' has never been recorded"),
                            err);
    });
}

// Two streams each waiting for the other's record: the record that closes the cycle is refused
// (and not queued), naming every member; without it the streams still run.
BOOST_AUTO_TEST_CASE(event_cycle_is_refused_at_the_record_that_closes_it) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream *a = nullptr, *b = nullptr;
        event *ea = nullptr, *eb = nullptr;
        BOOST_CHECK(ctx.create_stream(a, {"A"}) == status::success);
        BOOST_CHECK(ctx.create_stream(b, {"B"}) == status::success);
        BOOST_CHECK(ctx.create_event(ea, "a_done") == status::success);
        BOOST_CHECK(ctx.create_event(eb, "b_done") == status::success);
        BOOST_CHECK(ctx.stream_wait_event(a, eb) == status::success);  // A#0: not yet recorded
        BOOST_CHECK(ctx.record_event(ea, a) == status::success);       // A#1
        BOOST_CHECK(ctx.stream_wait_event(b, ea) == status::success);  // B#0 waits for A#1
        BOOST_CHECK(ctx.record_event(eb, b) == status::deadlock);      // B#1 would free A#0
        const std::string err = ctx.get_last_error().message;
        BOOST_CHECK_MESSAGE(contains(err,
                                     "record_event: deadlock: this wait can never end:\n"
                                     "  stream 'A' task #0 waits for event 'b_done' record #1\n"
                                     "  event 'b_done' record #1 is task #1 of stream 'B'\n"
                                     "  stream 'B' task #0 waits for event 'a_done' record #1\n"
                                     "  event 'a_done' record #1 is task #1 of stream 'A'\n"
                                     "  which is where the wait started: stream 'A' task #0\n"
                                     "break the cycle"),
                            err);
        BOOST_CHECK(ctx.record_event(eb, nullptr) == status::success);  // recorded elsewhere
        BOOST_CHECK(ctx.synchronize_device() == status::success);
    });
}

// A host thread that waits for a stream whose callbacks it must run itself.
BOOST_AUTO_TEST_CASE(thread_waiting_for_its_own_callbacks) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream* s = nullptr;
        BOOST_CHECK(ctx.create_stream(s, {"s"}) == status::success);
        const unsigned me = unsigned(ctx.current_thread());
        BOOST_CHECK(ctx.subscribe_report(me, s) == status::success);
        bool ran = false;
        BOOST_CHECK(ctx.launch_callback(
                        s, [&](status) { ran = true; }, callback_block::block, "cb") ==
                    status::success);
        BOOST_CHECK(ctx.synchronize(s) == status::deadlock);
        const std::string err = ctx.get_last_error().message;
        BOOST_CHECK_MESSAGE(contains(err,
                                     "  host thread 'host' waits in synchronize(stream 's')\n"
                                     "  stream 's' task #0 is callback 'cb', which runs on "
                                     "host thread 'host'\n"
                                     "  which is where the wait started: host thread 'host'"),
                            err);
        BOOST_CHECK(ctx.process_report() == status::success);  // the fix: run it first
        BOOST_CHECK(ran);
        BOOST_CHECK(ctx.synchronize(s) == status::success);
    });
}

// Three parties: a report thread waits for an event; the record that would make that event
// wait behind a stream that needs a callback the same report thread must run is refused.
BOOST_AUTO_TEST_CASE(cycle_through_streams_events_and_a_report_thread) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream *a = nullptr, *b = nullptr;
        event *ea = nullptr, *eb = nullptr;
        BOOST_CHECK(ctx.create_stream(a, {"A"}) == status::success);
        BOOST_CHECK(ctx.create_stream(b, {"B"}) == status::success);
        BOOST_CHECK(ctx.create_event(ea, "ea") == status::success);
        BOOST_CHECK(ctx.create_event(eb, "eb") == status::success);
        status waited = status::internal;
        const unsigned reporter = ctx.spawn_host_thread("reporter", [&] {
            waited = ctx.synchronize_event(eb);  // eb is not recorded yet: a record may follow
            BOOST_CHECK(ctx.process_report() == status::success);
        });
        BOOST_CHECK(ctx.subscribe_report(reporter, a) == status::success);
        BOOST_CHECK(ctx.launch_callback(
                        a, [](status) {}, callback_block::block, "a_cb") == status::success);
        BOOST_CHECK(ctx.record_event(ea, a) == status::success);
        BOOST_CHECK(ctx.stream_wait_event(b, ea) == status::success);
        BOOST_CHECK(ctx.record_event(eb, b) == status::deadlock);
        const std::string err = ctx.get_last_error().message;
        BOOST_CHECK_MESSAGE(
            contains(err,
                     "record_event: deadlock: this wait can never end:\n"
                     "  host thread 'reporter' waits in synchronize_event(event 'eb')\n"
                     "  event 'eb' record #1 is task #1 of stream 'B'\n"
                     "  stream 'B' task #0 waits for event 'ea' record #1\n"
                     "  event 'ea' record #1 is task #1 of stream 'A'\n"
                     "  stream 'A' task #0 is callback 'a_cb', queued for host thread "
                     "'reporter'\n"
                     "  which is where the wait started: host thread 'reporter'"),
            err);
        BOOST_CHECK(ctx.record_event(eb, nullptr) == status::success);  // no cycle this way
        BOOST_CHECK(ctx.join_host_thread(reporter) == status::success);
        BOOST_CHECK(waited == status::success);
        BOOST_CHECK(ctx.synchronize_device() == status::success);
    });
}

BOOST_AUTO_TEST_SUITE_END()
