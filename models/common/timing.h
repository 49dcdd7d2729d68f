#pragma once
// Timing primitives shared by every model. Time is kept as integer picoseconds so results are
// bit-identical across runs; SystemC only sees it at the single wait per instruction or window.
#include <systemc>
#include <tlm>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <vector>

namespace npusim::models {

using ps_t = uint64_t;

inline ps_t now_ps() {
    return sc_core::sc_time_stamp().value();
}  // resolution is 1 ps
/// @brief ps -> sc_time. Multiplying a cached 1 ps is inline; from_value() is a library call
/// on every burst's path.
inline sc_core::sc_time ps_to_time(ps_t ps) {
    static const sc_core::sc_time one_ps = sc_core::sc_time::from_value(1);
    sc_core::sc_time t = one_ps;
    t *= static_cast<double>(ps);  // exact below 2^53 ps (about 2.5 hours)
    return t;
}
inline ps_t time_to_ps(const sc_core::sc_time& t) {
    return t.value();
}

/// @brief Clock period in ps for a frequency in Hz (rounded to the nearest ps).
inline ps_t period_ps(double hz) {
    return static_cast<ps_t>(std::llround(1e12 / hz));
}

/// @brief A transfer rate turned into ps per byte once, so the occupancy of every burst is an
/// integer multiply (32.32 fixed point) rather than a floating-point division.
class byte_rate {
  public:
    byte_rate() = default;
    explicit byte_rate(double bytes_per_s)
        : m_ps_per_byte_q32(
              static_cast<uint64_t>(std::llround(1e12 / bytes_per_s * 4294967296.0))) {}
    /// @brief ceil(bytes / rate) in ps.
    ps_t occupancy(uint64_t bytes) const {
        return static_cast<ps_t>(
            (static_cast<unsigned __int128>(bytes) * m_ps_per_byte_q32 + 0xffffffffu) >> 32);
    }

  private:
    uint64_t m_ps_per_byte_q32 = 0;
};

/// @brief A shared resource that serves requests in order of their arrival *time*: a calendar
/// of booked intervals where a request takes the earliest free slot at or after its arrival.
///
/// Initiators book ahead of simulated time (up to the look-ahead), so requests are not made in
/// time order: a burst booked for the future must not block one that arrives earlier, which a
/// single "next free" time would do. Nobody waits in SystemC; the start of the granted interval
/// is returned and the caller adds it to the annotated delay. Intervals that ended before the
/// current simulation time are dropped (no request can arrive in the past).
class calendar {
  public:
    /// @brief Earliest start >= arrival of a free interval of length occ.
    ps_t earliest(ps_t arrival, ps_t occ) const {
        if (m_iv.size() == m_head || arrival >= m_iv.back().end) return arrival;
        // First interval ending after the arrival; ends are sorted as intervals are disjoint.
        auto it = std::upper_bound(m_iv.begin() + ptrdiff_t(m_head), m_iv.end(), arrival,
                                   [](ps_t a, const interval& v) { return a < v.end; });
        ps_t t = arrival;
        for (; it != m_iv.end(); ++it) {
            if (it->start >= t + occ) return t;
            t = std::max(t, it->end);
        }
        return t;
    }
    /// @brief Books [start, start + occ); the interval must be free (see earliest()).
    void book(ps_t start, ps_t occ) {
        m_busy_ps += occ;
        if (occ == 0) return;
        const ps_t end = start + occ;
        if (m_iv.size() == m_head || start >= m_iv.back().end) {  // the common case: append
            if (m_iv.size() > m_head && m_iv.back().end == start)
                m_iv.back().end = end;
            else
                m_iv.push_back({start, end});
            if (m_iv.size() - m_head > k_prune_at) prune();
            return;
        }
        auto it = std::upper_bound(m_iv.begin() + ptrdiff_t(m_head), m_iv.end(), start,
                                   [](ps_t a, const interval& v) { return a < v.start; });
        // it: first interval starting after `start`; the one before (if any) ends <= start.
        const bool join_prev =
            it != m_iv.begin() + ptrdiff_t(m_head) && std::prev(it)->end == start;
        const bool join_next = it != m_iv.end() && it->start == end;
        if (join_prev && join_next) {
            std::prev(it)->end = it->end;
            m_iv.erase(it);
        } else if (join_prev) {
            std::prev(it)->end = end;
        } else if (join_next) {
            it->start = start;
        } else {
            m_iv.insert(it, {start, end});
        }
    }
    /// @brief Books the earliest free interval at or after arrival; returns its start.
    ps_t reserve(ps_t arrival, ps_t occ) {
        const ps_t start = earliest(arrival, occ);
        book(start, occ);
        return start;
    }
    ps_t busy_ps() const { return m_busy_ps; }

  private:
    struct interval {
        ps_t start, end;
    };
    static constexpr size_t k_prune_at = 64;
    void prune() {
        const ps_t now = now_ps();
        while (m_head < m_iv.size() && m_iv[m_head].end <= now) ++m_head;
        if (m_head > m_iv.size() / 2) {
            m_iv.erase(m_iv.begin(), m_iv.begin() + ptrdiff_t(m_head));
            m_head = 0;
        }
    }
    std::vector<interval> m_iv;  // sorted, disjoint, touching intervals merged
    size_t m_head = 0;           // intervals before this one are over
    ps_t m_busy_ps = 0;
};

/// @brief Earliest start >= arrival at which every calendar in [first, last) is free for occ.
template <class It>
ps_t earliest_common(It first, It last, ps_t arrival, ps_t occ) {
    for (bool moved = true; moved;) {
        moved = false;
        for (It c = first; c != last; ++c) {
            const ps_t t = c->earliest(arrival, occ);
            if (t != arrival) {
                arrival = t;
                moved = true;
            }
        }
    }
    return arrival;
}

}  // namespace npusim::models
