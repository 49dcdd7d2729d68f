#pragma once
#include <systemc>
#include <tlm>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "models/common/timing.h"
#include "models/common/traffic.h"
#include "models/params.h"

namespace npusim::models {

/// @brief The pacing every DMA-like initiator shares (core DMA engines, the system DMA, the
/// host link): its own port, a bounded number of outstanding bursts, a bounded write buffer for
/// posted writes, and the look-ahead that bounds how far ahead of simulated time it books.
///
/// A burst's start is found without waiting: after the caller's earliest time, after the burst
/// `max_outstanding` back has completed, and at a free slot of the port. Only when that start
/// lies more than the look-ahead beyond simulated time does the calling thread wait (until the
/// start), so an engine waits about once per look-ahead of simulated time, not per burst.
class burst_mover {
  public:
    struct limits {
        uint32_t max_outstanding = 64;    ///< bursts in flight (hardware request slots)
        uint64_t write_buffer = 0;        ///< bytes of posted writes in flight (0: not posted)
        ps_t lookahead = k_lookahead_ps;  ///< how far ahead of simulated time bursts are booked
    };

    burst_mover(std::string owner, const limits& l);

    /// @brief Books the port for `occ` from `arrival` on; returns the start.
    ps_t port(ps_t arrival, ps_t occ) { return m_port.reserve(arrival, occ); }
    /// @brief The end of the port's last booking.
    ps_t port_booked_until() const { return m_port.booked_until(); }
    /// @brief Takes the next slot and books the port for `occ` at the earliest time after
    /// both; while that start is more than look-ahead + `lag` ahead, first waits in SystemC
    /// until `lag` before it. `lag`: how far before this start the issuer's next work may
    /// begin (the part of a DMA instruction's start-up its remaining bursts do not cover), so
    /// a wait never delays that work; the look-ahead then applies from that moment.
    ps_t start(ps_t earliest, ps_t occ, ps_t lag = 0);
    /// @brief The burst that took the last slot is complete (its slot frees) at `end`.
    void complete(ps_t end);
    /// @brief A posted write of `bytes` whose bytes left the port at `leave` drains at `drain`;
    /// returns when the write buffer accepted it (the issuer is done then).
    ps_t post(uint64_t bytes, ps_t leave, ps_t drain);
    /// @brief When every posted write has drained.
    ps_t drained() const { return m_drained; }

    /// @brief One access of `len` bytes through `target` that may start at `start`; returns
    /// when it is complete. Prepares the payload fully (no attribute of the previous access
    /// survives). @throws model_fault naming `describe()` (the instruction; built only on an
    /// error, as formatting it per burst would cost more than the burst) on an error response.
    template <class Describe>
    ps_t transport(tlm::tlm_fw_transport_if<>& target, tlm::tlm_command cmd, uint64_t addr,
                   uint8_t* data, uint64_t len, ps_t start, Describe&& describe,
                   const char* space) {
        const ps_t end = send(target, cmd, addr, data, len, start);
        if (m_trans.is_response_error()) fail(cmd, addr, len, space, describe());
        return end;
    }

    ps_t busy_ps() const { return m_port.busy_ps(); }
    /// @brief The L2 and GM traffic this mover's accesses caused.
    const traffic& traffic_caused() const { return m_traffic; }

  private:
    ps_t send(tlm::tlm_fw_transport_if<>& target, tlm::tlm_command cmd, uint64_t addr,
              uint8_t* data, uint64_t len, ps_t start);
    [[noreturn]] void fail(tlm::tlm_command cmd, uint64_t addr, uint64_t len, const char* space,
                           const std::string& instruction) const;

    std::string m_owner;
    limits m_limits;
    calendar m_port;
    std::vector<ps_t> m_slots;  // completion of the last max_outstanding bursts, a ring
    size_t m_next = 0;
    std::deque<std::pair<ps_t, uint64_t>> m_posted;  // (drain time, bytes), in post order
    uint64_t m_posted_bytes = 0;
    ps_t m_drained = 0;
    traffic m_traffic;
    tlm::tlm_generic_payload m_trans;  // carries a traffic_tag on m_traffic
};

}  // namespace npusim::models
