// The arbitration calendar against a brute-force reference: every booked interval kept in a
// plain list, the earliest free start found by trying each candidate start in turn.
#include <boost/test/unit_test.hpp>
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include <algorithm>
#include <random>
#include <vector>

#include "models/common/timing.h"

using npusim::models::calendar;
using npusim::models::ps_t;

namespace {

struct reference {
    std::vector<std::pair<ps_t, ps_t>> booked;  // [start, end)
    bool free(ps_t t, ps_t occ) const {
        for (auto& [s, e] : booked)
            if (s < t + occ && t < e) return false;
        return true;
    }
    ps_t earliest(ps_t arrival, ps_t occ) const {
        // The earliest free start is the arrival or the end of some booking.
        std::vector<ps_t> candidates{arrival};
        for (auto& b : booked)
            if (b.second > arrival) candidates.push_back(b.second);
        std::sort(candidates.begin(), candidates.end());
        for (ps_t c : candidates)
            if (free(c, occ)) return c;
        return ~ps_t{0};
    }
    // The start of the first booking that ends after t (t itself inside one; none: ~0).
    ps_t next_busy(ps_t t) const {
        ps_t best = ~ps_t{0};
        for (auto& [s, e] : booked)
            if (e > t) best = std::min(best, std::max(s, t));
        return best;
    }
    // occ of free time from arrival on, piece by piece through the gaps; returns the end.
    ps_t book_pieces(ps_t arrival, ps_t occ) {
        ps_t t = arrival;
        while (occ > 0) {
            const ps_t s = earliest(t, 1);
            const ps_t piece = std::min(occ, next_busy(s) - s);
            booked.push_back({s, s + piece});
            occ -= piece;
            t = s + piece;
        }
        return t;
    }
};

// `count` bookings from a SystemC thread, simulated time advancing by `step` every 50:
// body(i, now) books one.
template <class Body>
void drive(int count, ps_t step, Body&& body) {
    sc_core::sc_spawn([&] {
        for (int i = 0; i < count; ++i) {
            if (i % 50 == 49) sc_core::wait(sc_core::sc_time::from_value(step));
            body(i, ps_t(sc_core::sc_time_stamp().value()));
        }
    });
    sc_core::sc_start();
}

// One booking in one piece, checked against the reference and recorded there.
void book_one(calendar& cal, reference& ref, int i, ps_t arrival, ps_t occ, bool reserve) {
    const ps_t expect = ref.earliest(arrival, occ);
    ps_t got = 0;
    if (reserve) {
        got = cal.reserve(arrival, occ);
    } else {
        got = cal.earliest(arrival, occ);
        cal.book(got, occ);
    }
    BOOST_REQUIRE_MESSAGE(got == expect, "booking " << i << " arrival " << arrival << " occ " << occ
                                                    << ": calendar " << got << ", reference "
                                                    << expect);
    ref.booked.push_back({got, got + occ});
}

// Random arrivals up to `horizon` ahead of simulated time, booked either way at random, lengths
// from `short_occ` to some far longer.
void compare(unsigned seed, ps_t horizon, ps_t short_occ, ps_t long_occ, ps_t step) {
    std::mt19937_64 rng(seed);
    calendar cal;
    reference ref;
    drive(3000, step, [&](int i, ps_t now) {
        const ps_t arrival = now + rng() % horizon;
        const ps_t occ = rng() % 8 == 0 ? 1 + rng() % long_occ : 1 + rng() % short_occ;
        // Both ways to book: reserve() (one search), and earliest() then book() (as the
        // engine ports and buffer banks do).
        book_one(cal, ref, i, arrival, occ, rng() % 2 != 0);
    });
}

// Short bursts booked in one piece and long accesses booked in pieces around them, in random
// order: the pieces, next_busy and the later one-piece grants match the plain list.
void compare_pieces(unsigned seed, ps_t horizon, ps_t short_occ, ps_t long_occ, ps_t step) {
    std::mt19937_64 rng(seed);
    calendar cal;
    reference ref;
    drive(2000, step, [&](int i, ps_t now) {
        const ps_t arrival = now + rng() % horizon;
        const ps_t probe = now + rng() % horizon;
        BOOST_REQUIRE_EQUAL(cal.next_busy(probe), ref.next_busy(probe));
        if (rng() % 4 == 0) {
            const ps_t occ = 1 + rng() % long_occ;
            const ps_t got = npusim::models::reserve_pieces(&cal, &cal + 1, arrival, occ);
            const ps_t expect = ref.book_pieces(arrival, occ);
            BOOST_REQUIRE_MESSAGE(got == expect, "pieces " << i << " arrival " << arrival << " occ "
                                                           << occ << ": " << got << " against "
                                                           << expect);
        } else {
            book_one(cal, ref, i, arrival, 1 + rng() % short_occ, true);
        }
    });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(calendar_model)

BOOST_AUTO_TEST_CASE(books_pieces_in_the_gaps_like_a_plain_list) {
    compare_pieces(11, 20000, 600, 8000, 3000);      // dense: many pieces per long access
    compare_pieces(12, 200000, 2000, 50000, 40000);  // sparse: most fit in one gap
}

// Small bursts from many requesters, a few long ones, bookings far ahead while time advances,
// same-size bursts (whole chunks skipped), and a resource that falls idle between steps.
BOOST_AUTO_TEST_CASE(grants_the_earliest_free_interval_like_a_plain_list) {
    compare(1, 20000, 600, 40000, 3000);              // within a few pages, heavy contention
    compare(2, 2000000, 5000, 300000, 70000);         // microseconds ahead, long bookings
    compare(3, 900000000, 1000, 700000000, 5000000);  // long bookings, far ahead
    compare(4, 50000, 500, 501, 2000);                // bursts of one size: chunks skipped whole
    compare(5, 1000, 300, 301, 100000);               // idle between steps: the list restarts
}

// The calendar's branch-free search gives std::upper_bound's index on sorted arrays with
// repeated keys, for every length from 0 to 67 and every probe from below the first key to
// above the last.
BOOST_AUTO_TEST_CASE(upper_index_matches_upper_bound) {
    std::mt19937_64 rng(7);
    for (size_t n = 0; n <= 67; ++n) {
        std::vector<ps_t> keys(n);
        for (auto& k : keys) k = rng() % (n / 2 + 1) * 10;  // duplicates and gaps
        std::sort(keys.begin(), keys.end());
        for (ps_t t = 0; t <= (n / 2 + 2) * 10; ++t) {
            const size_t want =
                size_t(std::upper_bound(keys.begin(), keys.end(), t) - keys.begin());
            const size_t got =
                npusim::models::upper_index(keys.data(), keys.size(), t, [](ps_t k) { return k; });
            BOOST_REQUIRE_MESSAGE(got == want,
                                  "n " << n << " t " << t << ": " << got << " against " << want);
        }
    }
}

// ps_to_time writes the count of ps into the sc_time: the same time as the library's
// from_value, beyond the 2^53 ps a double holds exactly, and back through time_to_ps.
BOOST_AUTO_TEST_CASE(ps_to_time_matches_from_value) {
    for (ps_t ps : {ps_t{0}, ps_t{1}, ps_t{999}, ps_t{30'000}, ps_t{1} << 40, (ps_t{1} << 53) + 1,
                    (ps_t{1} << 62) + 3}) {
        BOOST_CHECK(npusim::models::ps_to_time(ps) == sc_core::sc_time::from_value(ps));
        BOOST_CHECK_EQUAL(npusim::models::time_to_ps(npusim::models::ps_to_time(ps)), ps);
    }
    BOOST_CHECK(npusim::models::ps_to_time(1500) == sc_core::sc_time(1.5, sc_core::SC_NS));
}

BOOST_AUTO_TEST_SUITE_END()
