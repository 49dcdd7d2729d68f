#include "models/memory/host_link.h"

#include <cstdio>

#include "models/common/model_fault.h"
#include "models/common/payload.h"

namespace npusim::models {

host_link::host_link(const sc_core::sc_module_name& nm, const host_link_params& p,
                     uint32_t window_bursts)
    : model_base(nm),
      socket("socket"),
      m_p(p),
      m_window(window_bursts ? window_bursts : 1),
      m_rate(p.bandwidth) {
    m_trans.set_byte_enable_ptr(nullptr);
    m_trans.set_extension(&m_timing);
}

void host_link::to_device(uint64_t gm_addr, const void* src, uint64_t len) {
    copy(true, gm_addr, static_cast<uint8_t*>(const_cast<void*>(src)), len);
    m_h2d += len;
}

void host_link::to_host(void* dst, uint64_t gm_addr, uint64_t len) {
    copy(false, gm_addr, static_cast<uint8_t*>(dst), len);
    m_d2h += len;
}

void host_link::copy(bool write, uint64_t gm_addr, uint8_t* host, uint64_t len) {
    burst_window window(m_window);
    for (uint64_t off = 0; off < len;) {
        const uint64_t n = std::min<uint64_t>(m_p.burst_bytes, len - off);
        const ps_t occ = m_rate.occupancy(n);
        const ps_t start = m_link.reserve(window.arrival(), occ);
        m_timing.release = start + occ;
        prepare_payload(m_trans, write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND,
                        gm_addr + off, host + off, static_cast<unsigned int>(n));
        const ps_t now = now_ps();
        sc_core::sc_time delay = ps_to_time(start - now);
        socket->b_transport(m_trans, delay);
        if (m_trans.is_response_error()) {
            char what[160];
            std::snprintf(what, sizeof what, "host copy to GM[0x%llx] of %llu bytes rejected: %s",
                          static_cast<unsigned long long>(gm_addr + off),
                          static_cast<unsigned long long>(n),
                          m_trans.get_response_string().c_str());
            throw model_fault(name(), gm_addr + off, write ? "memcpy H2D" : "memcpy D2H", what);
        }
        // Done when both the link and everything behind it are done, then the link's latency.
        const ps_t end = std::max(now + time_to_ps(delay), start + occ) + m_p.latency_ps;
        m_inflight.add(start, static_cast<int64_t>(n));
        m_inflight.add(end, -static_cast<int64_t>(n));
        off += n;
        window.issued(m_timing.release, end);
    }
    window.finish();
}

void host_link::on_trace_attached() {
    m_inflight.bind(m_trace, signal_path("bytes_in_flight"), 32, true);
}

void host_link::visit_stats(const stats_fn& fn) const {
    fn("h2d_bytes", static_cast<double>(m_h2d));
    fn("d2h_bytes", static_cast<double>(m_d2h));
    fn("busy_ns", m_link.busy_ps() / 1000.0);
}

}  // namespace npusim::models
