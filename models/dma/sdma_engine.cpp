#include "models/dma/sdma_engine.h"

#include <cstdio>
#include <vector>

#include "models/common/model_fault.h"

namespace npusim::models {

sdma_engine::sdma_engine(const sc_core::sc_module_name& nm, const sdma_params& p, ps_t lookahead)
    : model_base(nm),
      socket("socket"),
      m_p(p),
      m_mover(name(), {p.max_outstanding, 0, lookahead}),
      m_rate(p.bandwidth) {}

void sdma_engine::copy(uint64_t dst, uint64_t src, uint64_t len) {
    run(dst, &src, 0, len);
    m_copied += len;
}

void sdma_engine::fill(uint64_t dst, uint8_t value, uint64_t len) {
    run(dst, nullptr, value, len);
    m_filled += len;
}

void sdma_engine::run(uint64_t dst, const uint64_t* src, uint8_t value, uint64_t len) {
    const std::string what = src ? "memcpy D2D" : "memset";
    // One staging burst per slot: a burst's data stays put until its write has been made.
    std::vector<uint8_t> staging(std::min<uint64_t>(m_p.burst_bytes, len), value);
    tlm::tlm_blocking_transport_if<>& noc =
        *socket.operator->();  // once: see dma_engine::target_of()
    ps_t done = now_ps();
    for (uint64_t off = 0; off < len;) {
        const uint64_t n = std::min<uint64_t>(m_p.burst_bytes, len - off);
        const ps_t occ = m_rate.occupancy(n);
        const ps_t start = m_mover.start(now_ps(), occ);
        // A copy reads a burst, then writes it once the data is back; a fill only writes.
        // Reads and writes of different bursts overlap up to the outstanding limit.
        ps_t ready = start + occ;
        if (src)
            ready = std::max(ready, m_mover.transport(
                                        noc, tlm::TLM_READ_COMMAND, *src + off, staging.data(), n,
                                        start, [&] { return what; }, "GM"));
        const ps_t end = m_mover.transport(
            noc, tlm::TLM_WRITE_COMMAND, dst + off, staging.data(), n, ready, [&] { return what; },
            "GM");
        m_mover.complete(end);
        done = std::max(done, end);
        off += n;
    }
    sc_core::wait(ps_to_time(done - now_ps()));
}

void sdma_engine::visit_stats(const stats_fn& fn) const {
    fn("copied_bytes", static_cast<double>(m_copied));
    fn("filled_bytes", static_cast<double>(m_filled));
    fn("busy_ns", m_mover.busy_ps() / 1000.0);
}

}  // namespace npusim::models
