#include "models/dma/burst_dispatcher.h"

namespace npusim::models {

burst_dispatcher::burst_dispatcher(const sc_core::sc_module_name& nm, ps_t window)
    : sc_core::sc_module(nm), m_window(window ? window : 1) {
    SC_HAS_PROCESS(burst_dispatcher);
    // A thread, not a method: a booking may raise a model fault, and an exception thrown on
    // SystemC's own stack (where methods run) upsets AddressSanitizer's view of that stack.
    SC_THREAD(run);
}

unsigned burst_dispatcher::add_client(burst_client& c) {
    m_clients.push_back(&c);
    m_registered.push_back(0);
    m_touched.push_back(0);
    return static_cast<unsigned>(m_clients.size() - 1);
}

void burst_dispatcher::post(ps_t start, unsigned client) {
    if (start < m_horizon) ++m_late;
    if (m_registered[client]++ > 0) return;  // behind the client's earlier bursts
    m_heads.push({start, client});
    const ps_t t = window_of(start);
    if (t < m_scheduled) {
        const ps_t now = now_ps();
        m_wake.notify(ps_to_time(t > now ? t - now : 0));
        m_scheduled = t;
    }
}

void burst_dispatcher::run() {
    for (;;) {
        if (m_heads.empty() || window_of(m_heads.top().start) > now_ps()) {
            if (!m_heads.empty()) {
                m_scheduled = window_of(m_heads.top().start);
                m_wake.notify(ps_to_time(m_scheduled - now_ps()));
            }
            sc_core::wait(m_wake);
            m_scheduled = ~ps_t{0};
            continue;
        }
        const ps_t t = window_of(m_heads.top().start);
        // Every burst of the window is registered by now (see the class comment): book them
        // in order of start. A burst starts at or after now, as it was registered before.
        const ps_t until = t + m_window;
        while (!m_heads.empty() && m_heads.top().start < until) {
            const unsigned c = m_heads.top().client;
            m_heads.pop();
            const ps_t next = m_clients[c]->commit_next();
            if (--m_registered[c] > 0) m_heads.push({next, c});
            if (!m_touched[c]) {
                m_touched[c] = 1;
                m_touched_list.push_back(c);
            }
        }
        m_horizon = std::max(m_horizon, until);
        for (unsigned c : m_touched_list) {
            m_touched[c] = 0;
            m_clients[c]->bursts_committed();
        }
        m_touched_list.clear();
    }
}

}  // namespace npusim::models
