#include "models/memory/host_link.h"

#include <cstdio>

#include "models/common/model_fault.h"

namespace npusim::models {

host_link::host_link(const sc_core::sc_module_name& nm, const host_link_params& p, ps_t lookahead)
    : model_base(nm),
      socket("socket"),
      m_p(p),
      m_mover(name(), {p.max_outstanding, 0, lookahead}),
      m_rate(p.bandwidth) {}

void host_link::to_device(uint64_t gm_addr, const void* src, uint64_t len) {
    copy(true, gm_addr, static_cast<uint8_t*>(const_cast<void*>(src)), len);
    m_h2d += len;
}

void host_link::to_host(void* dst, uint64_t gm_addr, uint64_t len) {
    copy(false, gm_addr, static_cast<uint8_t*>(dst), len);
    m_d2h += len;
}

void host_link::copy(bool write, uint64_t gm_addr, uint8_t* host, uint64_t len) {
    const std::string what = write ? "memcpy H2D" : "memcpy D2H";
    tlm::tlm_blocking_transport_if<>& noc =
        *socket.operator->();  // once: see dma_engine::target_of()
    ps_t done = now_ps();
    for (uint64_t off = 0; off < len;) {
        const uint64_t n = std::min<uint64_t>(m_p.burst_bytes, len - off);
        const ps_t occ = m_rate.occupancy(n);
        const ps_t start = m_mover.start(now_ps(), occ);
        const ps_t chip = m_mover.transport(
            noc, write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, gm_addr + off, host + off,
            n, start, [&] { return what; }, "GM");
        // Done when both the link and everything behind it are done, then the link's latency.
        const ps_t end = std::max(chip, start + occ) + m_p.latency_ps;
        m_mover.complete(end);
        m_inflight.add(start, static_cast<int64_t>(n));
        m_inflight.add(end, -static_cast<int64_t>(n));
        done = std::max(done, end);
        off += n;
    }
    sc_core::wait(ps_to_time(done - now_ps()));
}

void host_link::on_trace_attached() {
    m_inflight.bind(m_trace, signal_path("bytes_in_flight"), 32, true);
}

void host_link::visit_stats(const stats_fn& fn) const {
    fn("h2d_bytes", static_cast<double>(m_h2d));
    fn("d2h_bytes", static_cast<double>(m_d2h));
    fn("busy_ns", m_mover.busy_ps() / 1000.0);
}

}  // namespace npusim::models
