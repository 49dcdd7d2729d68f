#include "models/dma/copy_client.h"

namespace npusim::models {

copy_client::copy_client(const std::string& owner, uint32_t max_outstanding, burst_dispatcher& d)
    : m_mover(owner, {max_outstanding, 0}), m_dispatcher(d), m_client(d.add_client(*this)) {
    m_mover.set_window(d.window());
}

ps_t copy_client::add(copy& c, uint64_t addr, uint64_t src, uint8_t* data, uint64_t len, ps_t occ,
                      ps_t earliest) {
    const ps_t start = m_mover.start_deferred(earliest, occ);
    m_pending.push_back({&c, addr, src, data, len, start, occ, m_mover.take_slot()});
    ++c.left;
    m_dispatcher.post(start, m_client);
    return start;
}

void copy_client::finish(copy& c) {
    while (c.left > 0) sc_core::wait(m_mover.progress());
    if (c.fault) throw *c.fault;
    sc_core::wait(ps_to_time(c.done - now_ps()));
}

ps_t copy_client::commit_next() {
    const burst& b = m_pending.front();
    copy& c = *b.c;
    ps_t end = b.start + b.occ;
    if (!c.fault) {  // a copy stops at its first rejected burst
        try {
            end = book(b);
        } catch (const model_fault& f) {
            c.fault = f;
        }
    }
    m_mover.resolve(b.slot, end);
    c.done = std::max(c.done, end);
    --c.left;
    m_pending.pop_front();
    return m_pending.empty() ? 0 : m_pending.front().start;
}

}  // namespace npusim::models
