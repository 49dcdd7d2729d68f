#include "models/memory/host_link.h"

namespace npusim::models {

host_link::host_link(const sc_core::sc_module_name& nm, const host_link_params& p,
                     burst_dispatcher& d)
    : model_base(nm),
      copy_client(name(), p.max_outstanding, d),
      socket("socket"),
      m_p(p),
      m_rate(p.bandwidth) {}

void host_link::to_device(uint64_t gm_addr, const void* src, uint64_t len) {
    run(true, gm_addr, static_cast<uint8_t*>(const_cast<void*>(src)), len);
    m_h2d += len;
}

void host_link::to_host(void* dst, uint64_t gm_addr, uint64_t len) {
    run(false, gm_addr, static_cast<uint8_t*>(dst), len);
    m_d2h += len;
}

void host_link::run(bool write, uint64_t gm_addr, uint8_t* host, uint64_t len) {
    const ps_t begin = now_ps();
    copy c{write ? "memcpy H2D" : "memcpy D2H", !write, 0, begin};
    const ps_t arrival = begin + m_p.latency_ps;  // at the chip end; the port paces the rest
    for (uint64_t off = 0; off < len;) {
        const uint64_t n = std::min<uint64_t>(m_p.burst_bytes, len - off);
        add(c, gm_addr + off, 0, host + off, n, m_rate.occupancy(n), arrival);
        off += n;
    }
    finish(c);
}

ps_t host_link::book(const burst& b) {
    // Done when both the link and everything behind it are done.
    const ps_t chip = m_mover.transport(
        target(socket), b.c->reads ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND, b.addr, b.data,
        b.len, b.start, [&] { return std::string(b.c->what); }, "GM");
    const ps_t end = std::max(chip, b.start + b.occ);
    m_inflight.add(b.start, static_cast<int64_t>(b.len));
    m_inflight.add(end, -static_cast<int64_t>(b.len));
    return end;
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
