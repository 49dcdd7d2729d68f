// The ring queue of the per-burst paths against std::deque: random pushes and pops, so the
// ring wraps and grows while wrapped.
#include <boost/test/unit_test.hpp>

#include <deque>
#include <memory>
#include <random>

#include "models/common/fifo.h"

using npusim::models::fifo;

BOOST_AUTO_TEST_SUITE(fifo_queue)

BOOST_AUTO_TEST_CASE(keeps_order_like_a_deque) {
    std::mt19937_64 rng(7);
    fifo<uint64_t> q;
    std::deque<uint64_t> ref;
    for (int step = 0; step < 200000; ++step) {
        // Phases that mostly push, then mostly pop: the ring fills while wrapped.
        const bool push = (step / 5000) % 2 == 0 ? rng() % 4 != 0 : rng() % 4 == 0;
        if (push || ref.empty()) {
            const uint64_t v = rng();
            q.push_back(v);
            ref.push_back(v);
        } else {
            BOOST_REQUIRE_EQUAL(q.front(), ref.front());
            q.pop_front();
            ref.pop_front();
        }
        BOOST_REQUIRE_EQUAL(q.size(), ref.size());
        if (!ref.empty()) {
            BOOST_REQUIRE_EQUAL(q.back(), ref.back());
            const size_t i = rng() % ref.size();
            BOOST_REQUIRE_EQUAL(q[i], ref[i]);
        }
    }
    q.clear();
    BOOST_CHECK(q.empty());
    q.push_back(5);
    BOOST_CHECK_EQUAL(q.front(), 5u);
}

BOOST_AUTO_TEST_CASE(moves_what_it_holds) {
    fifo<std::unique_ptr<int>> q;
    for (int i = 0; i < 100; ++i) q.push_back(std::make_unique<int>(i));  // grows with them
    for (int i = 0; i < 100; ++i) {
        BOOST_REQUIRE(q.front());
        BOOST_CHECK_EQUAL(*q.front(), i);
        q.pop_front();
    }
    BOOST_CHECK(q.empty());
}

BOOST_AUTO_TEST_SUITE_END()
