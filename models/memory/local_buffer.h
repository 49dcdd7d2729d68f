#pragma once
#include <systemc>
#include <tlm>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "models/common/divisor.h"
#include "models/common/host_buffer.h"
#include "models/common/lt_target.h"
#include "models/common/model_base.h"
#include "models/common/timing.h"
#include "models/params.h"

namespace npusim::models {

/// @brief An on-core buffer (L1, L0A, L0B, L0C, UB, BT, FB): a byte array with capacity and
/// banks. Each bank is a serial resource; a burst occupies every bank it touches, so two engines
/// touching the same bank at once serialise (a bank conflict) while disjoint banks proceed.
class local_buffer : public model_base, public lt_target {
  public:
    /// Every engine of the core binds here directly (no bus in between).
    tlm::tlm_target_socket<32, tlm::tlm_base_protocol_types, 0, sc_core::SC_ZERO_OR_MORE_BOUND>
        target_socket;  ///< any number of initiators; bound to this model (lt_target)

    local_buffer(const sc_core::sc_module_name& nm, mem_space space, const buffer_params& p,
                 ps_t clock_period_ps, bool functional = true);

    mem_space space() const { return m_space; }
    const buffer_params& params() const { return m_p; }
    uint8_t* data() { return m_data.data(); }
    uint64_t size() const { return m_p.size; }
    uint64_t bank_conflicts() const { return m_conflicts; }
    /// @brief Books the banks an access of len bytes at addr touches, from `arrival` on, and
    /// counts its bytes; returns when it is done. For the core's own units (cube, vector) and
    /// for engines that move the data through DMI. `count` false: time only (bytes counted
    /// elsewhere). `granted`, if given, receives when the access got its banks (>= arrival).
    ps_t book(bool write, uint64_t addr, uint64_t len, ps_t arrival, bool count = true,
              ps_t* granted = nullptr) {
        if (granted) *granted = arrival;
        if (len == 0) return arrival;
        ps_t occ = 0;
        const ps_t start = book_banks(addr, len, arrival, occ);
        if (granted) *granted = start;
        if (count) (write ? m_write_bytes : m_read_bytes) += len;
        return start + occ;
    }
    /// @brief An access of the core's own units (cube, vector), which stream their operands
    /// while they run: books the banks of [addr, addr + len) from `arrival` for the bank time of
    /// len but at most `span` (the buffer feeds its unit at the unit's rate; the bank figure is
    /// what other users see), in pieces around what is booked there already, counts read_bytes
    /// and write_bytes (a read-modify-write is one booking) and returns the end of the last
    /// piece minus the bank time: when the access would have begun had it run in one piece
    /// (later than arrival by the time it lost to other bookings).
    ps_t book_unit(uint64_t addr, uint64_t len, uint64_t read_bytes, uint64_t write_bytes,
                   ps_t arrival, ps_t span);
    void visit_stats(const stats_fn& fn) const override;

  private:
    /// The first and last bank [addr, addr + len) touches.
    std::pair<uint64_t, uint64_t> banks_of(uint64_t addr, uint64_t len) const;
    /// The banks' time to move len bytes spread over `touched` banks.
    ps_t bank_time(uint64_t len, uint64_t touched) const;
    /// Books the banks [addr, addr + len) touches for their time for len (occ) in one piece;
    /// returns the granted start.
    ps_t book_banks(uint64_t addr, uint64_t len, ps_t arrival, ps_t& occ);
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) override;
    unsigned int transport_dbg(tlm::tlm_generic_payload& trans) override;
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) override;

    mem_space m_space;
    buffer_params m_p;
    ps_t m_period;
    bool m_functional;
    uint64_t m_bank_bytes;
    unsigned m_bank_shift = 0;    // log2(bank bytes) when a power of two (shift 0: divide)
    uint64_t m_bank_bpc_int = 0;  // bank bytes per cycle when whole (0: use floating point)
    divisor m_bank_bpc;           // the same, to divide by
    host_buffer m_data;           ///< zero until touched: a timing-only run never faults it in
    std::vector<calendar> m_banks;
    uint64_t m_read_bytes = 0, m_write_bytes = 0, m_conflicts = 0;
};

}  // namespace npusim::models
