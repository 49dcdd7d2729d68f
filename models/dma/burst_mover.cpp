#include "models/dma/burst_mover.h"

#include <cstdio>

#include "models/common/model_fault.h"
#include "models/common/payload.h"

namespace npusim::models {

burst_mover::burst_mover(std::string owner, const limits& l)
    : m_owner(std::move(owner)),
      m_limits(l),
      m_slots(l.max_outstanding ? l.max_outstanding : 1, 0) {
    m_trans.set_extension(new traffic_tag(&m_traffic));  // the payload owns and frees it
}

ps_t burst_mover::start(ps_t earliest, ps_t occ, ps_t lag) {
    const ps_t ahead = m_limits.lookahead + lag;
    for (;;) {
        const ps_t now = now_ps();
        const ps_t s = m_port.earliest(std::max({earliest, m_slots[m_next], now}), occ);
        if (s <= now + ahead) {
            m_port.book(s, occ);
            return s;
        }
        // Wake `lag` before the start, not at it: the issuer's next work may begin that early,
        // and simulated time must not have passed it (its times would then depend on waits).
        sc_core::wait(ps_to_time(s - lag - now));
    }
}

void burst_mover::complete(ps_t end) {
    m_slots[m_next] = end;
    if (++m_next == m_slots.size()) m_next = 0;
}

ps_t burst_mover::post(uint64_t bytes, ps_t leave, ps_t drain) {
    ps_t accept = leave;
    // Entries that drained by the time this one arrives have left the buffer; then wait for
    // the oldest ones until this one fits.
    while (!m_posted.empty() && m_posted.front().first <= accept) {
        m_posted_bytes -= m_posted.front().second;
        m_posted.pop_front();
    }
    while (!m_posted.empty() && m_posted_bytes + bytes > m_limits.write_buffer) {
        accept = std::max(accept, m_posted.front().first);
        m_posted_bytes -= m_posted.front().second;
        m_posted.pop_front();
    }
    m_posted.emplace_back(drain, bytes);
    m_posted_bytes += bytes;
    m_drained = std::max(m_drained, drain);
    return accept;
}

ps_t burst_mover::send(tlm::tlm_fw_transport_if<>& target, tlm::tlm_command cmd, uint64_t addr,
                       uint8_t* data, uint64_t len, ps_t start) {
    prepare_payload(m_trans, cmd, addr, data, static_cast<unsigned>(len));
    const ps_t now = now_ps();
    sc_core::sc_time delay = ps_to_time(start - now);
    target.b_transport(m_trans, delay);
    return now + time_to_ps(delay);
}

void burst_mover::fail(tlm::tlm_command cmd, uint64_t addr, uint64_t len, const char* space,
                       const std::string& instruction) const {
    char what[200];
    std::snprintf(what, sizeof what, "%s of %llu bytes at %s[0x%llx] rejected: %s",
                  cmd == tlm::TLM_WRITE_COMMAND ? "write" : "read",
                  static_cast<unsigned long long>(len), space,
                  static_cast<unsigned long long>(addr), m_trans.get_response_string().c_str());
    throw model_fault(m_owner, addr, instruction, what);
}

}  // namespace npusim::models
