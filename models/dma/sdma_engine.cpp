#include "models/dma/sdma_engine.h"

#include <cstdio>
#include <vector>

#include "models/common/model_fault.h"
#include "models/common/payload.h"

namespace npusim::models {

sdma_engine::sdma_engine(const sc_core::sc_module_name& nm, const sdma_params& p,
                         uint32_t window_bursts)
    : model_base(nm),
      socket("socket"),
      m_p(p),
      m_window(window_bursts ? window_bursts : 1),
      m_rate(p.bandwidth) {}

void sdma_engine::copy(uint64_t dst, uint64_t src, uint64_t len) {
    run(dst, &src, 0, len);
    m_copied += len;
}

void sdma_engine::fill(uint64_t dst, uint8_t value, uint64_t len) {
    run(dst, nullptr, value, len);
    m_filled += len;
}

ps_t sdma_engine::access(bool write, uint64_t addr, uint8_t* data, uint64_t n, ps_t start,
                         const char* what, ps_t& release) {
    // A payload per access: other threads may be copying through the engine at the same time.
    tlm::tlm_generic_payload trans;
    burst_timing timing;
    trans.set_extension(&timing);
    prepare_payload(trans, write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, addr, data,
                    static_cast<unsigned int>(n));
    const ps_t now = now_ps();
    sc_core::sc_time delay = ps_to_time(start - now);
    timing.release = start;
    socket->b_transport(trans, delay);
    trans.clear_extension(&timing);
    if (trans.is_response_error()) {
        char text[160];
        std::snprintf(text, sizeof text, "%s GM[0x%llx] of %llu bytes rejected: %s",
                      write ? "write to" : "read of", static_cast<unsigned long long>(addr),
                      static_cast<unsigned long long>(n), trans.get_response_string().c_str());
        throw model_fault(name(), addr, what, text);
    }
    release = std::max(release, timing.release);
    return now + time_to_ps(delay);
}

void sdma_engine::run(uint64_t dst, const uint64_t* src, uint8_t value, uint64_t len) {
    const char* what = src ? "memcpy D2D" : "memset";
    std::vector<uint8_t> staging(std::min<uint64_t>(m_p.burst_bytes, len), value);
    burst_window window(m_window);
    for (uint64_t off = 0; off < len;) {
        const uint64_t n = std::min<uint64_t>(m_p.burst_bytes, len - off);
        const ps_t occ = m_rate.occupancy(n);
        const ps_t start = m_engine.reserve(window.arrival(), occ);
        ps_t burst_release = start + occ;
        // A copy reads a burst, then writes it once the data is back; a fill only writes.
        ps_t ready = start;
        if (src) ready = access(false, *src + off, staging.data(), n, start, what, burst_release);
        const ps_t end = access(true, dst + off, staging.data(), n, std::max(ready, start + occ),
                                what, burst_release);
        off += n;
        window.issued(burst_release, end);
    }
    window.finish();
}

void sdma_engine::visit_stats(const stats_fn& fn) const {
    fn("copied_bytes", static_cast<double>(m_copied));
    fn("filled_bytes", static_cast<double>(m_filled));
    fn("busy_ns", m_engine.busy_ps() / 1000.0);
}

}  // namespace npusim::models
