#pragma once
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <string>
#include <vector>

#include "models/common/lt_target.h"
#include "models/common/model_base.h"
#include "models/common/timing.h"

namespace npusim::models {

/// @brief Address-map router used as the chip interconnect and as each core's local bus.
///
/// Initiators bind to `target_socket`, targets to `initiator_socket` in the order of
/// `map()` calls. Addresses are translated to target-relative offsets. An optional bandwidth
/// makes the router a shared serial resource (the NoC); 0 = free (a core's local bus).
class router : public model_base, public lt_target {
  public:
    tlm::tlm_target_socket<32, tlm::tlm_base_protocol_types, 0, sc_core::SC_ZERO_OR_MORE_BOUND>
        target_socket;  ///< any number of initiators; bound to this model (lt_target)
    tlm_utils::multi_passthrough_initiator_socket<router> initiator_socket;

    router(const sc_core::sc_module_name& nm, double bandwidth = 0, ps_t latency_ps = 0);

    /// @brief Maps [base, base+size) to the next bound target, which sees offsets from base.
    void map(uint64_t base, uint64_t size, const std::string& target_name);

    uint64_t bytes() const { return m_bytes; }
    void visit_stats(const stats_fn& fn) const override;

  private:
    struct region {
        uint64_t base, size;
        std::string name;
    };
    const region* decode(uint64_t addr, unsigned& port) const;
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) override;
    /// Looked up once (bindings are fixed once simulation runs), as the blocking interface: a
    /// burst's call then adjusts no pointer through the target's vtable first.
    tlm::tlm_blocking_transport_if<>& out(unsigned port) {
        if (port >= m_out.size()) m_out.resize(initiator_socket.size(), nullptr);
        tlm::tlm_blocking_transport_if<>*& target = m_out[port];
        if (!target) target = initiator_socket[port];
        return *target;
    }
    unsigned int transport_dbg(tlm::tlm_generic_payload& trans) override;
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) override;
    void invalidate_dmi(int id, sc_dt::uint64 start, sc_dt::uint64 end);

    std::vector<region> m_map;
    std::vector<tlm::tlm_blocking_transport_if<>*> m_out;  // per port, once looked up
    /// The region b_transport sent to last and its target (addr - base >= size: none yet).
    struct route {
        uint64_t base = 0, size = 0;
        tlm::tlm_blocking_transport_if<>* out = nullptr;
    } m_hot;
    double m_bandwidth;
    ps_t m_latency_ps;
    byte_rate m_rate;
    calendar m_link;
    uint64_t m_bytes = 0, m_transactions = 0;
};

}  // namespace npusim::models
