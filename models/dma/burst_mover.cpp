#include "models/dma/burst_mover.h"

#include <cstdio>

#include "models/common/model_fault.h"
#include "models/common/payload.h"

namespace npusim::models {

burst_mover::burst_mover(std::string owner, const limits& l)
    : m_slots(l.max_outstanding ? l.max_outstanding : 1), m_owner(std::move(owner)), m_limits(l) {}

ps_t burst_mover::start(ps_t earliest, ps_t occ, ps_t lag) {
    for (;;) {
        const ps_t slot = slot_time(m_next);
        const ps_t now = now_ps();
        const ps_t s = m_port.earliest(std::max({earliest, slot, now}), occ);
        if (s <= now + lag) {
            m_port.book(s, occ);
            return m_last_start = s;
        }
        // Wake `lag` before the start, not at it: the issuer's next work may begin that early,
        // and simulated time must not have passed it (its times would then depend on waits).
        sc_core::wait(ps_to_time(s - lag - now));
    }
}

ps_t burst_mover::start_deferred(ps_t earliest, ps_t occ) {
    const ps_t slot = slot_time(m_next);
    const ps_t s = m_port.reserve(std::max({earliest, slot, m_last_deferred, now_ps()}), occ);
    return m_last_start = m_last_deferred = s;
}

size_t burst_mover::take_slot() {
    const size_t s = m_next;
    m_slots[s].end = unknown;
    m_slots[s].start = m_last_start;
    if (++m_next == m_slots.size()) m_next = 0;
    return s;
}

void burst_mover::resolve(size_t slot, ps_t end) {
    m_slots[slot].end = end;
    m_latest = std::max(m_latest, end);
}

ps_t burst_mover::slot_time(size_t slot) {
    for (;;) {
        const slot_state& s = m_slots[slot];
        if (s.end != unknown) return s.end;
        if (s.post)
            accept_through(s.post - 1);
        else
            wait_booked(s.start);  // a read the dispatcher has not booked yet
    }
}

void burst_mover::wait_booked(ps_t start) {
    // The window of `start` is booked at its beginning. Any burst registered later starts at or
    // after the last one registered, so waiting until one window before that one's is still
    // in time for it, and lets the bursts in between be booked first: one wait, not one per
    // window.
    const ps_t now = now_ps(), w = m_window;
    const ps_t own = start / w * w;
    const ps_t later = m_last_deferred >= w ? (m_last_deferred - w) / w * w : 0;
    if (later > own && later > now) {
        sc_core::wait(ps_to_time(later - now));
        return;
    }
    progress();
    m_wake_at = own;
    sc_core::wait(m_progress);
}

uint64_t burst_mover::post(uint64_t bytes, ps_t start, ps_t leave, size_t slot) {
    const uint64_t id = m_post_base + m_posts.size();
    m_posts.push_back({bytes, start, leave, unknown, slot});
    m_slots[slot].post = id + 1;
    return id;
}

void burst_mover::drain(uint64_t id, ps_t at) {
    m_posts[id - m_post_base].drain = at;  // a write leaves the deque only once drained
    m_drained = std::max(m_drained, at);
}

void burst_mover::accept_through(uint64_t id) {
    auto leave_buffer = [&] {
        m_buffered_bytes -= m_posts.front().bytes;
        m_posts.pop_front();
        ++m_post_base;
    };
    while (m_accepted <= id) {
        posted& p = m_posts[m_accepted - m_post_base];
        ps_t accept = p.leave;
        // Writes that drained by the time this one arrives have left the buffer; then it waits
        // for the oldest ones until it fits. A write whose drain is not known yet stays: if
        // this one fits anyway, it does not matter when it drains.
        while (m_post_base < m_accepted && m_posts.front().drain != unknown &&
               m_posts.front().drain <= accept)
            leave_buffer();
        while (m_post_base < m_accepted && m_buffered_bytes + p.bytes > m_limits.write_buffer) {
            if (m_posts.front().drain == unknown) {
                wait_booked(m_posts.front().start);
                continue;
            }
            accept = std::max(accept, m_posts.front().drain);
            leave_buffer();
        }
        m_buffered_bytes += p.bytes;
        m_slots[p.slot].end = accept;
        m_slots[p.slot].post = 0;
        m_latest = std::max(m_latest, accept);
        ++m_accepted;
    }
}

ps_t burst_mover::latest() {
    if (m_accepted < m_post_base + m_posts.size()) accept_through(m_post_base + m_posts.size() - 1);
    return m_latest;
}

ps_t burst_mover::send(tlm::tlm_blocking_transport_if<>& target, tlm::tlm_command cmd,
                       uint64_t addr, uint8_t* data, uint64_t len, ps_t start) {
    shared_payload& p = payload();
    prepare_payload(p.trans, cmd, addr, data, static_cast<unsigned>(len));
    p.tag->account = &m_traffic;
    const ps_t now = now_ps();
    sc_core::sc_time delay = ps_to_time(start - now);
    target.b_transport(p.trans, delay);
    return now + time_to_ps(delay);
}

void burst_mover::fail(tlm::tlm_command cmd, uint64_t addr, uint64_t len, const char* space,
                       const std::string& instruction) const {
    char what[200];
    std::snprintf(what, sizeof what, "%s of %llu bytes at %s[0x%llx] rejected: %s",
                  cmd == tlm::TLM_WRITE_COMMAND ? "write" : "read",
                  static_cast<unsigned long long>(len), space,
                  static_cast<unsigned long long>(addr),
                  payload().trans.get_response_string().c_str());
    throw model_fault(m_owner, addr, instruction, what);
}

}  // namespace npusim::models
