#pragma once
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>

#include "models/common/model_base.h"
#include "models/common/timing.h"
#include "models/dma/copy_client.h"
#include "models/params.h"

namespace npusim::models {

/// @brief PCIe-like link for host<->device copies: an initiator into the interconnect with its
/// own bandwidth and latency. Copies block the calling (simulated host) thread; the chip's
/// burst dispatcher books their bursts (copy_client).
///
/// The link is modelled at its chip end: a burst the host issues at `t` enters the chip when it
/// crosses the link's port, from `t + latency` on, and is done when the chip is.
class host_link : public model_base, public copy_client {
  public:
    tlm_utils::simple_initiator_socket<host_link> socket;

    host_link(const sc_core::sc_module_name& nm, const host_link_params& p, burst_dispatcher& d);

    /// @brief Copies host memory to GM; call from a SystemC thread.
    /// @throws model_fault if GM rejects an access.
    void to_device(uint64_t gm_addr, const void* src, uint64_t len);
    /// @brief Copies GM to host memory; call from a SystemC thread.
    void to_host(void* dst, uint64_t gm_addr, uint64_t len);

    uint64_t h2d_bytes() const { return m_h2d; }
    uint64_t d2h_bytes() const { return m_d2h; }
    void visit_stats(const stats_fn& fn) const override;

  private:
    void run(bool write, uint64_t gm_addr, uint8_t* host, uint64_t len);
    ps_t book(const burst& b) override;
    void on_trace_attached() override;

    host_link_params m_p;
    byte_rate m_rate;
    uint64_t m_h2d = 0, m_d2h = 0;
    traced_signal m_inflight;
};

}  // namespace npusim::models
