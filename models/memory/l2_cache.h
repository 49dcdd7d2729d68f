#pragma once
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <memory>
#include <vector>

#include "models/common/divisor.h"
#include "models/common/host_buffer.h"
#include "models/common/lt_target.h"
#include "models/common/model_base.h"
#include "models/common/timing.h"
#include "models/common/traffic.h"
#include "models/params.h"

namespace npusim::models {

/// @brief Shared set-associative L2 in front of GM, LRU replacement, write-through with
/// allocate. It keeps tags only: data always lives in GM, so a hit is fetched from GM through
/// the debug interface and costs only L2 time.
///
/// As a target it answers what GM answers (the checks of tlm_checks.h against `capacity`)
/// before it looks a line up, so a hit and a miss get the same response status and a rejected
/// access allocates nothing; a write GM rejects after the lookup is rolled back. An IGNORE
/// access (timing only) passes through to GM without a lookup.
class l2_cache : public model_base, public lt_target {
  public:
    tlm::tlm_target_socket<> target_socket;  ///< bound to this model (lt_target)
    tlm_utils::simple_initiator_socket<l2_cache> gm_socket;

    /// `capacity`: bytes of GM behind the cache (the addresses it accepts).
    l2_cache(const sc_core::sc_module_name& nm, const l2_params& p, uint64_t capacity);

    /// @brief Drops every line (the next access to any address misses).
    void flush() { m_sets_state = std::make_unique<host_buffer>(m_sets_state->size()); }
    uint64_t hits() const { return m_hits; }
    uint64_t misses() const { return m_misses; }
    void visit_stats(const stats_fn& fn) const override;

  private:
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) override;
    /// GM as the blocking interface, looked up once: see router::out().
    tlm::tlm_blocking_transport_if<>& gm() {
        if (!m_gm) m_gm = gm_socket.operator->();
        return *m_gm;
    }
    unsigned int transport_dbg(tlm::tlm_generic_payload& trans) override;
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) override;
    void invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end);
    /// A lookup moved way `way` of the set at `tags` to the front (a miss first replaced its
    /// tag, `old_tag`): what undoes the lookups of a rejected access.
    struct undo_entry {
        void* tags;  // uint16_t or uint32_t (m_narrow)
        uint32_t way;
        uint32_t old_tag;
    };
    /// Looks a line up, allocating it on a miss (LRU victim); records what it changed in
    /// m_undo. Returns true on a hit.
    bool touch(uint64_t line) {
        return m_narrow ? touch_as<uint16_t>(line) : touch_as<uint32_t>(line);
    }
    template <class Tag>
    bool touch_as(uint64_t line);
    void on_trace_attached() override;
    /// Reads the whole lines [from, to) from GM for an access that asked for
    /// [asked_from, asked_to); returns when done.
    ps_t fill(uint64_t from, uint64_t to, ps_t arrival, traffic* account, uint64_t asked_from,
              uint64_t asked_to);
    /// Undoes the lookups of a rejected access (m_undo).
    void rollback();

    /// Per set, its ways' tags (line / sets + 1; 0: never used; 16 bits when m_narrow, else
    /// 32), most recently used first: zero until touched, so memory follows the sets used, not
    /// the configured size.
    std::unique_ptr<host_buffer> m_sets_state;
    tlm::tlm_blocking_transport_if<>* m_gm = nullptr;
    l2_params m_p;
    uint64_t m_capacity;
    uint64_t m_sets;
    int m_set_shift;        // log2(m_sets) when it is a power of two, else -1
    bool m_narrow = false;  // every tag fits in 16 bits
    divisor m_line;         // line_bytes: every access divides by it
    std::vector<undo_entry> m_undo;
    calendar m_port;
    byte_rate m_rate;
    uint64_t m_hits = 0, m_misses = 0, m_read_bytes = 0, m_write_bytes = 0;
    uint64_t m_write_hits = 0, m_write_misses = 0;  // of m_hits, m_misses
    traced_signal m_hit_count, m_miss_count, m_byte_count;
    // Line fills: the payload (owning its two extensions) and a scratch buffer for the data.
    tlm::tlm_generic_payload m_fill;
    traffic_tag* m_fill_account = nullptr;
    line_fill* m_fill_part = nullptr;
    std::vector<uint8_t> m_line_hit;  ///< per line of the current access: 1 on a hit
    std::vector<uint8_t> m_fill_data;
    uint64_t m_fill_bytes = 0;
};

}  // namespace npusim::models
