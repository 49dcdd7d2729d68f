#pragma once
#include <systemc>
#include <tlm>

#include <cstdint>
#include <string>
#include <vector>

#include "models/common/fifo.h"
#include "models/common/timing.h"
#include "models/common/traffic.h"
#include "models/params.h"

namespace npusim::models {

/// @brief The pacing every DMA-like initiator shares (core DMA engines, the system DMA, the
/// host link): its own port, a bounded number of outstanding bursts and a bounded write buffer
/// for posted writes.
///
/// A burst's start is found without waiting: after the caller's earliest time, after the burst
/// `max_outstanding` back has completed, and at a free slot of the port. An *immediate* burst
/// (start(); a core engine's local moves) is booked by its caller when simulated time reaches its
/// start (less the issuer's `lag`, below): the calling thread waits until then, so the core's
/// bank bookings are made in order of time whatever order the threads run in. A *deferred*
/// burst (start_deferred(); every burst with a GM side, the host link's and the system DMA's too)
/// is booked later by the chip's burst dispatcher, in order of start: its completion (or, for a
/// posted write, its drain) is reported with resolve() or drain(), and the caller waits only when
/// it needs a completion that is not known yet.
class burst_mover {
  public:
    struct limits {
        uint32_t max_outstanding = 64;  ///< bursts in flight (hardware request slots)
        uint64_t write_buffer = 0;      ///< bytes of posted writes in flight (0: not posted)
    };

    burst_mover(std::string owner, const limits& l);

    /// @brief Books the port for `occ` from `arrival` on; returns the start.
    ps_t port(ps_t arrival, ps_t occ) { return m_port.reserve(arrival, occ); }
    /// @brief The end of the port's last booking.
    ps_t port_booked_until() const { return m_port.booked_until(); }
    /// @brief Books the port for `occ` at the earliest time after `earliest` and the next slot's
    /// completion; while that start is more than `lag` ahead, first waits in SystemC until
    /// `lag` before it. `lag`: how far before this start the issuer's next work may begin (the
    /// part of a DMA instruction's start-up its remaining bursts do not cover), so a wait never
    /// delays that work. Take the slot with take_slot() next.
    ps_t start(ps_t earliest, ps_t occ, ps_t lag = 0);
    /// @brief As start() for a burst the dispatcher books: no wait, and not before
    /// the previous deferred burst (an engine sends its requests in order).
    ps_t start_deferred(ps_t earliest, ps_t occ);
    /// @brief Takes the next outstanding-burst slot; its completion is not known yet.
    size_t take_slot();
    /// @brief The burst that took the last slot is complete (its slot frees) at `end`.
    void complete(ps_t end) { resolve(take_slot(), end); }
    /// @brief The burst holding `slot` is complete at `end`.
    void resolve(size_t slot, ps_t end);
    /// @brief A posted write of `bytes` that starts at `start` and leaves the port at `leave`
    /// holds `slot` until the write buffer accepts it; returns its id for drain().
    uint64_t post(uint64_t bytes, ps_t start, ps_t leave, size_t slot);
    /// @brief Posted write `id` reached GM at `at`.
    void drain(uint64_t id, ps_t at);
    /// @brief Something this mover moved completes at `t` (counted in settle()'s answer).
    void note_complete(ps_t t) { m_latest = std::max(m_latest, t); }
    /// @brief When every posted write has drained (final once every deferred burst is booked).
    ps_t drained() const { return m_drained; }

    /// @brief The latest completion of anything this mover moved; call once every deferred
    /// burst is booked (the write buffer's acceptances are computed then, without waiting).
    ps_t latest();
    /// @brief The dispatcher books the bursts that start in a window of `w` at the window's
    /// start (set once, when deferred bursts are used).
    void set_window(ps_t w) { m_window = w ? w : 1; }
    /// @brief Notified once the last deferred burst registered so far is booked, for a waiter
    /// (call before each wait).
    const sc_core::sc_event& progress() {
        m_waiting = true;
        m_wake_at = m_last_deferred / m_window * m_window;
        return m_progress;
    }
    /// @brief Wakes a waiter once the window it waits for (starting at `window`) is booked.
    void bursts_booked(ps_t window) {
        if (!wakes_at(window)) return;
        m_waiting = false;
        m_progress.notify(sc_core::SC_ZERO_TIME);
    }
    bool wakes_at(ps_t window) const { return m_waiting && window >= m_wake_at; }

    /// @brief One access of `len` bytes through `target` that may start at `start`; returns
    /// when it is complete. Prepares the payload fully (no attribute of the previous access
    /// survives). @throws model_fault naming `describe()` (the instruction; built only on an
    /// error, as formatting it per burst would cost more than the burst) on an error response.
    template <class Describe>
    ps_t transport(tlm::tlm_blocking_transport_if<>& target, tlm::tlm_command cmd, uint64_t addr,
                   uint8_t* data, uint64_t len, ps_t start, Describe&& describe,
                   const char* space) {
        const ps_t end = send(target, cmd, addr, data, len, start);
        if (payload().trans.is_response_error()) fail(cmd, addr, len, space, describe());
        return end;
    }

    /// @brief Asks the host to cache what a booking's resolve() or drain() updates (a hint).
    void prefetch() const { __builtin_prefetch(this); }

    ps_t busy_ps() const { return m_port.busy_ps(); }
    /// @brief The L2 and GM traffic this mover's accesses caused.
    const traffic& traffic_caused() const { return m_traffic; }

  private:
    static constexpr ps_t unknown = ~ps_t{0};
    /// The completion of `slot`, waiting for bookings (or computing write-buffer acceptances)
    /// until it is known.
    ps_t slot_time(size_t slot);
    /// Computes when the write buffer accepts every posted write up to `id`.
    void accept_through(uint64_t id);
    /// Waits until the deferred burst that starts at `start` is booked, or longer: as long as
    /// every burst registered after the wait still starts after the windows booked by then.
    void wait_booked(ps_t start);
    ps_t send(tlm::tlm_blocking_transport_if<>& target, tlm::tlm_command cmd, uint64_t addr,
              uint8_t* data, uint64_t len, ps_t start);
    [[noreturn]] void fail(tlm::tlm_command cmd, uint64_t addr, uint64_t len, const char* space,
                           const std::string& instruction) const;

    struct posted {
        uint64_t bytes;
        ps_t start, leave, drain;
        size_t slot;
    };
    struct slot_state {     // of the last max_outstanding bursts, a ring
        ps_t end = 0;       // its completion (unknown: not booked, or a write not accepted yet)
        ps_t start = 0;     // the start of the burst holding it
        uint64_t post = 0;  // the posted write holding it, + 1 (0: none)
    };
    // What a booking by the dispatcher updates first (resolve(), drain()), in two host cache
    // lines: see dma_engine's member order.
    std::vector<slot_state> m_slots;
    ps_t m_drained = 0, m_latest = 0;
    // Posted writes in post order: [m_post_base, m_accepted) are in the write buffer, the rest
    // wait for their acceptance to be computed.
    fifo<posted> m_posts;
    uint64_t m_post_base = 0, m_accepted = 0, m_buffered_bytes = 0;
    std::string m_owner;
    limits m_limits;
    calendar m_port;
    size_t m_next = 0;
    ps_t m_last_start = 0, m_last_deferred = 0;
    ps_t m_window = 1, m_wake_at = 0;
    bool m_waiting = false;
    sc_core::sc_event m_progress;
    traffic m_traffic;
    /// One payload for every mover's accesses, prepared afresh for each (transport is
    /// blocking, so no two are in flight): the dispatcher books the chip's bursts one after
    /// another from different engines, and one payload stays in the host's cache where one
    /// per engine would not.
    struct shared_payload {
        shared_payload() { trans.set_extension(tag); }  // the payload owns and frees it
        tlm::tlm_generic_payload trans;
        traffic_tag* tag = new traffic_tag(nullptr);
    };
    static shared_payload& payload() {
        static shared_payload p;
        return p;
    }
};

}  // namespace npusim::models
