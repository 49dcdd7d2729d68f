#pragma once
#include <systemc>

#include <cstdint>
#include <vector>

#include "models/common/timing.h"

namespace npusim::models {

/// @brief What the dispatcher calls back: an engine whose GM bursts it books.
class burst_client {
  public:
    virtual ~burst_client() = default;
    /// @brief Books the earliest of this client's registered bursts (its stages, its data)
    /// now, at or before its start; returns the start of the next one (if any is left).
    virtual ps_t commit_next() = 0;
    /// @brief Some of this client's bursts were booked, those of the window that starts at
    /// `window` the last (called once per window).
    virtual void bursts_committed(ps_t window) = 0;
    /// @brief Whether bursts_committed(window) would wake a thread of this client.
    virtual bool wakes_at(ps_t window) const = 0;
    /// @brief Asks the host to bring what the next commit_next() reads into its cache (only a
    /// hint: no effect on any result).
    virtual void prefetch() const {}
};

/// @brief Books the chip's GM bursts in the order of their start on their engine's port, so the
/// order at the shared resources (NoC, L2, GM) is a property of the hardware, not of how far
/// ahead the engines' threads ran.
///
/// Engines register a burst when they know its port start, each engine in order of start; the
/// dispatcher books every burst that starts in the window [T, T + window) at time T, sorted by
/// (start, client), or at once when no other process is due before or at T (nothing can then
/// register a burst of the window; a waiter its bookings release still wakes at T). That is the
/// order of starts as long as no burst is registered after its window was booked: a burst is
/// registered at least `window` before its start, because the window is at most the shortest
/// start-up of a GM path (an instruction's first burst) and at most the shortest round trip through
/// the memory system (a burst that waited for an earlier one's completion). docs/timing-model.md,
/// Arbitration.
class burst_dispatcher : public sc_core::sc_module {
  public:
    burst_dispatcher(const sc_core::sc_module_name& nm, ps_t window);

    /// @brief Adds a client before simulation; returns its index (the tie-break between equal
    /// starts).
    unsigned add_client(burst_client& c);
    /// @brief Registers the next burst of client `client`, which starts on its port at `start`
    /// (not before the client's previous one).
    void post(ps_t start, unsigned client);
    ps_t window() const { return m_window; }
    /// @brief Bursts registered after their window was booked (booked at once, out of order);
    /// zero while every burst is registered a window ahead (the class comment).
    uint64_t late() const { return m_late; }

  private:
    /// A client's earliest registered burst as one number, start * 2^m_shift + client: the
    /// heap compares keys, not pairs.
    using key = uint64_t;
    key key_of(ps_t start, unsigned client) const { return start << m_shift | client; }
    ps_t start_of(key k) const { return k >> m_shift; }
    unsigned client_of(key k) const { return unsigned(k & ((key{1} << m_shift) - 1)); }
    void run();
    /// Whether nothing but this thread is due from `now` up to and including `t` (so the window
    /// starting at `t` may be booked now, without a SystemC wait).
    bool quiet_until(ps_t now, ps_t t) const;
    /// The heap of heads, earliest first. Booking a client's burst replaces its head by its
    /// next burst's: one sift down instead of a pop and a push.
    void push(key k);
    void replace_top(key k);
    void pop();
    /// Prefetches for the booking likely to come after the one at the heap's top: see run().
    void prefetch_ahead() const;
    ps_t window_of(ps_t t) const { return t / m_window * m_window; }

    ps_t m_window;
    std::vector<burst_client*> m_clients;
    std::vector<uint64_t> m_registered;  // per client, bursts not booked yet
    std::vector<uint8_t> m_touched;
    std::vector<unsigned> m_touched_list;
    // One entry per client with bursts to book: a heap of a few dozen, not of every burst.
    std::vector<key> m_heads;  // m_size keys, then the largest key
    size_t m_size = 0;
    unsigned m_shift = 1;  // bits of a client index
    ps_t m_limit = 0;      // the first start a key cannot hold
    uint64_t m_late = 0;
    ps_t m_horizon = 0;
    ps_t m_scheduled = ~ps_t{0};  // when m_wake is due (none: max)
    sc_core::sc_event m_wake;
};

}  // namespace npusim::models
