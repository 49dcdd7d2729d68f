#include "models/dma/sdma_engine.h"

#include <cstring>

namespace npusim::models {

sdma_engine::sdma_engine(const sc_core::sc_module_name& nm, const sdma_params& p,
                         burst_dispatcher& d)
    : model_base(nm),
      copy_client(name(), p.max_outstanding, d),
      socket("socket"),
      m_p(p),
      m_rate(p.bandwidth),
      m_staging(p.burst_bytes) {}

void sdma_engine::copy(uint64_t dst, uint64_t src, uint64_t len) {
    run(dst, &src, 0, len);
    m_copied += len;
}

void sdma_engine::fill(uint64_t dst, uint8_t value, uint64_t len) {
    run(dst, nullptr, value, len);
    m_filled += len;
}

void sdma_engine::run(uint64_t dst, const uint64_t* src, uint8_t value, uint64_t len) {
    // A fill only writes; a copy reads each burst from src first (below).
    const ps_t begin = now_ps();
    copy_client::copy c{src ? "memcpy D2D" : "memset", src != nullptr, value, begin};
    for (uint64_t off = 0; off < len;) {
        const uint64_t n = std::min<uint64_t>(m_p.burst_bytes, len - off);
        add(c, dst + off, src ? *src + off : 0, nullptr, n, m_rate.occupancy(n), begin);
        off += n;
    }
    finish(c);
}

ps_t sdma_engine::book(const burst& b) {
    // Reads and writes of different bursts overlap up to the outstanding limit.
    tlm::tlm_blocking_transport_if<>& noc = target(socket);
    const auto what = [&] { return std::string(b.c->what); };
    ps_t ready = b.start + b.occ;
    if (b.c->reads)
        ready = std::max(ready, m_mover.transport(noc, tlm::TLM_READ_COMMAND, b.src,
                                                  m_staging.data(), b.len, b.start, what, "GM"));
    else
        std::memset(m_staging.data(), b.c->value, b.len);
    return m_mover.transport(noc, tlm::TLM_WRITE_COMMAND, b.addr, m_staging.data(), b.len, ready,
                             what, "GM");
}

void sdma_engine::visit_stats(const stats_fn& fn) const {
    fn("copied_bytes", static_cast<double>(m_copied));
    fn("filled_bytes", static_cast<double>(m_filled));
    fn("busy_ns", m_mover.busy_ps() / 1000.0);
}

}  // namespace npusim::models
