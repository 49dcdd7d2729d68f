// The on-chip buffer manager: queue and scratch layout with alignment, and its errors, both on
// its own and through a kernel's queues.
#include <boost/test/unit_test.hpp>

#include "sw/memory/buffer_manager.h"
#include "tests/sw/runtime_fixture.h"

using npusim::memory::buffer_error;
using npusim::memory::buffer_manager;

BOOST_AUTO_TEST_SUITE(buffer_manager_suite)

BOOST_AUTO_TEST_CASE(queues_and_scratch_are_laid_out_at_the_alignment) {
    buffer_manager m({{"L1", 1024, 32}, {"UB", 4096, 256}});
    BOOST_CHECK((m.alloc_queue(1, 2, 1000, "VECIN") == std::vector<uint64_t>{0, 1024}));
    BOOST_CHECK_EQUAL(m.used_bytes(1), 2024u);
    BOOST_CHECK_EQUAL(m.free_bytes(1), 4096u - 2048);
    BOOST_CHECK_EQUAL(m.alloc(1, 10, "VECCALC"), 2048u);
    BOOST_CHECK_EQUAL(m.alloc(0, 33, "A1"), 0u);
    BOOST_CHECK_EQUAL(m.alloc(0, 1, "A1"), 64u);
}

BOOST_AUTO_TEST_CASE(errors_name_the_buffer_the_request_and_what_is_left) {
    buffer_manager m({{"UB", 4096, 256}});
    m.alloc(0, 1000, "VECIN");
    BOOST_CHECK_EXCEPTION(m.alloc_queue(0, 2, 1600, "VECOUT"), buffer_error,
                          [](const buffer_error& e) {
                              return std::string(e.what()) ==
                                     "cannot allocate a queue of 2 x 1600 bytes at VECOUT in UB: "
                                     "3072 of 4096 bytes left (alignment 256)";
                          });
    BOOST_CHECK_EQUAL(m.used_bytes(0), 1000u);  // a failed request takes nothing
    BOOST_CHECK_EXCEPTION(m.alloc(0, 0, "VECCALC"), std::invalid_argument,
                          [](const std::invalid_argument& e) {
                              return std::string(e.what()) ==
                                     "cannot allocate 0 bytes at VECCALC in UB: ask for at least "
                                     "1 buffer of 1 byte";
                          });
}

// A kernel's double-buffered queue that does not fit the UB faults with the buffer manager's
// text, and the fault surfaces at synchronize.
BOOST_AUTO_TEST_CASE(kernel_queue_too_large_for_ub) {
    using namespace npusim;
    test::run_runtime(test::tiny(), [&](platform::chip&, runtime::context& ctx) {
        BOOST_CHECK(ctx.launch(nullptr, "big_queue", 1, models::kernel_kind::vector,
                               [](kernel::kernel_context& c) {
                                   kernel::tque<float> q(c, kernel::position::VECIN, 2, 5000);
                               }) == runtime::status::success);
        BOOST_CHECK(ctx.synchronize() == runtime::status::aicore_exception);
        const auto e = ctx.get_last_error();
        BOOST_CHECK_MESSAGE(test::contains(e.message,
                                           "cannot allocate a queue of 2 x 20000 "
                                           "bytes at VECIN in UB: 32768 of 32768 "
                                           "bytes left (alignment 32)"),
                            e.message);
    });
}

BOOST_AUTO_TEST_SUITE_END()
