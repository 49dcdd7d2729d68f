#pragma once
// Timing primitives shared by every model. Time is kept as integer picoseconds so results are
// bit-identical across runs; SystemC only sees it at the single wait per instruction or window.
#include <systemc>
#include <tlm>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <type_traits>
#include <vector>

namespace npusim::models {

using ps_t = uint64_t;

/// @brief Simulated time in ps (resolution is 1 ps). Read through the inline accessors:
/// sc_time_stamp() is a library call, and every booking asks for the time.
inline ps_t now_ps() {
    return sc_core::sc_get_curr_simcontext()->time_stamp().value();
}
/// @brief ps -> sc_time (the resolution is 1 ps: the value is the count of ps). Written into
/// the value directly, which a standard-layout class shares its address with: from_value() is
/// a library call on every burst's path, and scaling a cached 1 ps goes through a volatile
/// double (a store and a reload on every conversion).
inline sc_core::sc_time ps_to_time(ps_t ps) {
    using value_type = sc_core::sc_time::value_type;
    static_assert(std::is_standard_layout_v<sc_core::sc_time> &&
                  sizeof(sc_core::sc_time) == sizeof(value_type));
    sc_core::sc_time t;
    *reinterpret_cast<value_type*>(&t) = ps;
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

/// @brief The first index i of a[0, n) with t < key(a[i]) (keys non-decreasing): as
/// std::upper_bound, with conditional moves instead of branches, as a calendar's searches land
/// anywhere and a mispredicted step costs more than the compare.
template <class T, class Key>
size_t upper_index(const T* a, size_t n, ps_t t, Key key) {
    if (n == 0) return 0;
    const T* base = a;
    while (n > 1) {
        const size_t half = n / 2;
        base = key(base[half]) <= t ? base + half : base;
        n -= half;
    }
    return size_t(base - a) + (key(*base) <= t);
}

/// @brief A shared resource that serves requests in order of their arrival *time*: a calendar
/// of booked intervals where a request takes the earliest free slot at or after its arrival.
///
/// Bookings are not made in time order (the dispatcher books a window of GM bursts at once, and
/// a burst reaches each stage a path latency after its start, latencies differing by path): a
/// burst booked for the future must not block one that arrives earlier, which a single "next
/// free" time would do. Nobody waits in SystemC; the start of the granted interval
/// is returned and the caller adds it to the annotated delay. Intervals that ended before the
/// current simulation time are dropped (no request can arrive in the past).
///
/// A busy resource booked ahead by many initiators holds thousands of intervals
/// with small gaps between them. They are kept in chunks of up to 2 * k_chunk, each knowing its
/// largest inner gap, so a booking moves one chunk's entries and a search skips every chunk
/// whose gaps are all too small for it (a sorted list would walk and move them all).
///
/// The last interval lives in the calendar itself, not in a chunk: most bookings extend it or
/// replace it once it has ended, and then touch no other memory (with thousands of calendars,
/// a chunk's storage is rarely in the host's cache).
class calendar {
  public:
    /// @brief Earliest start >= arrival of a free interval of length occ.
    ps_t earliest(ps_t arrival, ps_t occ) const {
        size_t c, i;
        return find(arrival, occ, c, i);
    }
    /// @brief Books [start, start + occ); the interval must be free (see earliest()).
    void book(ps_t start, ps_t occ) {
        m_busy_ps += occ;
        if (occ == 0) return;
        const ps_t end = start + occ;
        if (start >= m_last_end) {  // the common case: after everything booked
            if (start == m_last_end) {
                m_last_end = end;
                return;
            }
            // The old last interval joins the chunks unless it has ended: then every interval
            // has, and the chunks are dropped.
            if (m_last_end <= now_ps())
                drop_chunks(m_chunks.size());
            else
                append(m_tail_start, m_last_end);
            m_tail_start = start;
            m_last_end = end;
            return;
        }
        if (!in_chunks(start)) {
            // Between the chunks and the last interval (it must end by the latter's start).
            if (end == m_tail_start) {
                m_tail_start = start;
                if (!m_chunks.empty() && m_chunks.back().end == start) {
                    chunk& k = m_chunks.back();
                    m_tail_start = k.iv.back().start;
                    k.iv.pop_back();  // the chunk's largest gap stays a bound
                    if (k.iv.empty()) {
                        m_chunks.pop_back();
                    } else {
                        k.end = k.iv.back().end;
                    }
                }
            } else {
                append(start, end);
            }
            return;
        }
        const size_t c = first_chunk_ending_after(start);
        const interval_list& iv = m_chunks[c].iv;
        // The first interval after the new one (there is one: chunk c ends after start).
        insert(c,
               upper_index(iv.data(), iv.size(), start, [](const interval& v) { return v.start; }),
               start, end);
    }
    /// @brief Books the earliest free interval at or after arrival; returns its start. One
    /// search finds both the slot and where it goes among the booked intervals.
    ps_t reserve(ps_t arrival, ps_t occ) {
        size_t c, i;
        const ps_t start = find(arrival, occ, c, i);
        if (c == no_chunk || occ == 0) {
            book(start, occ);  // after the chunks: book() needs no search there
        } else {
            m_busy_ps += occ;
            insert(c, i, start, start + occ);
        }
        return start;
    }
    /// @brief The start of the first booked interval that ends after t: t itself when t is
    /// inside a booking, the end of time when nothing is booked from t on.
    ps_t next_busy(ps_t t) const {
        if (t >= m_last_end) return ~ps_t{0};
        if (!in_chunks(t)) return std::max(t, m_tail_start);
        size_t k, j;
        locate(t, k, j);
        return std::max(t, m_chunks[k].iv[j].start);
    }
    ps_t busy_ps() const { return m_busy_ps; }
    /// @brief The end of the last booked interval (every arrival at or after it is free).
    ps_t booked_until() const { return m_last_end; }

  private:
    struct interval {
        ps_t start, end;
    };
    static constexpr size_t k_chunk = 16;
    /// A chunk's intervals, in place: chunks come and go all the time (a resource booked with
    /// gaps starts one, and drops them all once they have ended), so they own no heap memory.
    class interval_list {
      public:
        interval_list() {}  // the entries stay uninitialised: only [0, n) is ever read
        interval_list(const interval_list& o) : m_n(o.m_n) { std::copy(o.begin(), o.end(), m_v); }
        interval_list& operator=(const interval_list& o) {
            if (this != &o) m_n = static_cast<uint32_t>(std::copy(o.begin(), o.end(), m_v) - m_v);
            return *this;
        }
        const interval* begin() const { return m_v; }
        const interval* end() const { return m_v + m_n; }
        interval* begin() { return m_v; }
        interval* end() { return m_v + m_n; }
        const interval* data() const { return m_v; }
        size_t size() const { return m_n; }
        bool empty() const { return m_n == 0; }
        interval& back() { return m_v[m_n - 1]; }
        const interval& back() const { return m_v[m_n - 1]; }
        interval& operator[](size_t i) { return m_v[i]; }
        const interval& operator[](size_t i) const { return m_v[i]; }
        void push_back(interval v) { m_v[m_n++] = v; }
        void pop_back() { --m_n; }
        void truncate(size_t n) { m_n = static_cast<uint32_t>(n); }
        void insert(interval* p, interval v) {
            std::copy_backward(p, end(), end() + 1);
            *p = v;
            ++m_n;
        }
        void erase(interval* p) {
            std::copy(p + 1, end(), p);
            --m_n;
        }
        void assign(const interval* first, const interval* last) {
            m_n = static_cast<uint32_t>(std::copy(first, last, m_v) - m_v);
        }

      private:
        interval m_v[2 * k_chunk + 1];  // a chunk splits once it holds more than 2 * k_chunk
        uint32_t m_n = 0;
    };
    struct chunk {
        explicit chunk(ps_t e) : max_gap(0), end(e) {}
        interval_list iv;  // sorted, disjoint, touching intervals merged
        ps_t max_gap;      // largest gap between two of them (or more: a bound)
        ps_t end;          // iv.back().end, kept here so a search reads no iv
    };
    static ps_t end_of(const interval& v) { return v.end; }
    static constexpr size_t no_chunk = ~size_t{0};

    /// The earliest start >= arrival of a free interval of length occ, and where it goes:
    /// before interval i of chunk c, or after every chunk (c == no_chunk).
    ps_t find(ps_t arrival, ps_t occ, size_t& c, size_t& i) const {
        c = no_chunk;
        if (arrival >= m_last_end) return arrival;
        ps_t t = arrival;
        if (in_chunks(arrival)) {
            size_t k, j;
            locate(arrival, k, j);
            for (; k < m_chunks.size(); ++k, j = 0) {
                const chunk& ch = m_chunks[k];
                // t lies before ch.iv[j] ends: the gap up to ch.iv[j], then the chunk's inner gaps.
                if (ch.iv[j].start >= t + occ) {
                    c = k;
                    i = j;
                    return t;
                }
                if (ch.max_gap < occ) {
                    t = ch.end;
                    continue;
                }
                t = std::max(t, ch.iv[j].end);
                for (++j; j < ch.iv.size(); ++j) {
                    if (ch.iv[j].start >= t + occ) {
                        c = k;
                        i = j;
                        return t;
                    }
                    t = ch.iv[j].end;
                }
            }
        }
        // t is past every chunk: the gap before the last interval, or its end.
        return m_tail_start >= t + occ ? t : m_last_end;
    }
    /// Books [start, end) before interval i of chunk c (it must fit in the gap there).
    void insert(size_t c, size_t i, ps_t start, ps_t end) {
        interval_list& iv = m_chunks[c].iv;
        const auto p = iv.begin() + ptrdiff_t(i);
        const bool prev_in_before = p == iv.begin() && c > 0;  // the last of chunk c - 1
        interval* prev = p != iv.begin()  ? &*std::prev(p)
                         : prev_in_before ? &m_chunks[c - 1].iv.back()
                                          : nullptr;
        const bool join_prev = prev && prev->end == start;
        const bool join_next = p->start == end;
        // Filling part of a gap inside the chunk can only lower its largest gap: look again
        // only when the gap filled was the largest (an interval put first opens a gap, below).
        const bool recount = p != iv.begin() && p->start - prev->end == m_chunks[c].max_gap;
        if (join_prev && join_next) {
            prev->end = p->end;
            iv.erase(p);
        } else if (join_prev) {
            prev->end = end;
        } else if (join_next) {
            p->start = start;
        } else {
            // Before the chunk's first interval the new one opens an inner gap.
            if (p == iv.begin())
                m_chunks[c].max_gap = std::max(m_chunks[c].max_gap, p->start - end);
            iv.insert(p, {start, end});
        }
        if (prev_in_before) m_chunks[c - 1].end = prev->end;
        if (iv.empty()) {
            m_chunks.erase(m_chunks.begin() + ptrdiff_t(c));
            return;
        }
        m_chunks[c].end = iv.back().end;
        if (iv.size() > 2 * k_chunk)
            split(c);
        else if (recount)
            update_gap(c);
    }

    /// Some interval of the chunks ends after t.
    bool in_chunks(ps_t t) const { return !m_chunks.empty() && t < m_chunks.back().end; }
    /// The first interval that ends after t: interval j of chunk k (t must be in_chunks).
    void locate(ps_t t, size_t& k, size_t& j) const {
        k = first_chunk_ending_after(t);
        const interval_list& iv = m_chunks[k].iv;
        j = upper_index(iv.data(), iv.size(), t, end_of);
    }
    /// The first chunk whose last interval ends after t (t must be before the last chunk's end).
    size_t first_chunk_ending_after(ps_t t) const {
        return upper_index(m_chunks.data(), m_chunks.size(), t,
                           [](const chunk& k) { return k.end; });
    }
    /// Puts [start, end) after every interval of the chunks.
    void append(ps_t start, ps_t end) {
        if (!m_chunks.empty()) {
            chunk& k = m_chunks.back();
            if (k.end == start) {
                k.iv.back().end = k.end = end;
                return;
            }
            if (k.iv.size() < 2 * k_chunk) {
                k.max_gap = std::max(k.max_gap, start - k.end);
                k.iv.push_back({start, end});
                k.end = end;
                return;
            }
        }
        prune();
        m_chunks.emplace_back(end);
        m_chunks.back().iv.push_back({start, end});
    }
    void update_gap(size_t c) {
        chunk& k = m_chunks[c];
        k.max_gap = 0;
        for (size_t i = 1; i < k.iv.size(); ++i)
            k.max_gap = std::max(k.max_gap, k.iv[i].start - k.iv[i - 1].end);
    }
    void split(size_t c) {
        chunk tail(m_chunks[c].end);
        tail.iv.assign(m_chunks[c].iv.begin() + ptrdiff_t(k_chunk), m_chunks[c].iv.end());
        m_chunks[c].iv.truncate(k_chunk);
        m_chunks[c].end = m_chunks[c].iv.back().end;
        m_chunks.insert(m_chunks.begin() + ptrdiff_t(c) + 1, tail);
        update_gap(c);
        update_gap(c + 1);
        prune();
    }
    /// Drops the chunks that ended before the current time.
    void prune() {
        const ps_t now = now_ps();
        size_t dead = 0;
        while (dead < m_chunks.size() && m_chunks[dead].end <= now) ++dead;
        drop_chunks(dead);
    }
    /// Drops the first n chunks.
    void drop_chunks(size_t n) {
        m_chunks.erase(m_chunks.begin(), m_chunks.begin() + ptrdiff_t(n));
    }

    std::vector<chunk> m_chunks;  // in time order, all before the last interval
    ps_t m_tail_start = 0;  // the last interval, [m_tail_start, m_last_end); empty when both 0
    ps_t m_last_end = 0;    // arrivals at or after it are free at once
    ps_t m_busy_ps = 0;
};

/// @brief The earliest start at or after arrival of an interval of length occ that is free in
/// every calendar of [first, last).
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

/// @brief Books the earliest interval of length occ at or after arrival that is free in every
/// calendar of [first, last); returns its start.
template <class It>
ps_t reserve_common(It first, It last, ps_t arrival, ps_t occ) {
    // One calendar: one search finds the slot and books it.
    if (first != last && std::next(first) == last) return first->reserve(arrival, occ);
    arrival = earliest_common(first, last, arrival, occ);
    for (It c = first; c != last; ++c) c->book(arrival, occ);
    return arrival;
}

/// @brief Books occ of time that is free in every calendar of [first, last), from arrival on,
/// in as many pieces as the bookings already there leave gaps for; returns when the last
/// piece ends. A long access so slips between short ones instead of waiting for a gap of its
/// whole length, and one booked before it delays it by its own length only.
template <class It>
ps_t reserve_pieces(It first, It last, ps_t arrival, ps_t occ) {
    // The common case, nothing booked from arrival on: one piece, no search.
    if (std::all_of(first, last, [&](const calendar& c) { return arrival >= c.booked_until(); })) {
        for (It c = first; c != last; ++c) c->book(arrival, occ);
        return arrival + occ;
    }
    ps_t t = arrival;
    while (occ > 0) {
        const ps_t s = earliest_common(first, last, t, 1);
        ps_t e = ~ps_t{0};
        for (It c = first; c != last; ++c) e = std::min(e, c->next_busy(s));
        const ps_t piece = std::min(occ, e - s);
        for (It c = first; c != last; ++c) c->book(s, piece);
        occ -= piece;
        t = s + piece;
    }
    return t;
}

}  // namespace npusim::models
