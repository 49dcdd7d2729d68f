#include "models/dma/burst_dispatcher.h"

#include <cassert>

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
    push({start, client});
    const ps_t t = window_of(start);
    if (t < m_scheduled) {
        const ps_t now = now_ps();
        m_wake.notify(ps_to_time(t > now ? t - now : 0));
        m_scheduled = t;
    }
}

void burst_dispatcher::run() {
    for (;;) {
        if (m_heads.empty() || window_of(m_heads[0].start) > now_ps()) {
            if (!m_heads.empty()) {
                m_scheduled = window_of(m_heads[0].start);
                m_wake.notify(ps_to_time(m_scheduled - now_ps()));
            }
            sc_core::wait(m_wake);
            m_scheduled = ~ps_t{0};
            continue;
        }
        const ps_t t = window_of(m_heads[0].start);
        // Every burst of the window is registered by now (see the class comment): book them
        // in order of start. A burst starts at or after now, as it was registered before.
        const ps_t until = t + m_window;
        while (!m_heads.empty() && m_heads[0].start < until) {
            const unsigned c = m_heads[0].client;
            const ps_t next = m_clients[c]->commit_next();
            assert(m_heads[0].client == c);  // a booking registers no burst
            if (--m_registered[c] > 0)
                replace_top({next, c});
            else
                pop();
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

void burst_dispatcher::push(head h) {
    size_t i = m_heads.size();
    m_heads.emplace_back();
    while (i > 0 && h < m_heads[(i - 1) / 2]) {
        m_heads[i] = m_heads[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    m_heads[i] = h;
}

void burst_dispatcher::replace_top(head h) {
    const size_t n = m_heads.size();
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && m_heads[child + 1] < m_heads[child]) ++child;
        if (!(m_heads[child] < h)) break;
        m_heads[i] = m_heads[child];
        i = child;
    }
    m_heads[i] = h;
}

void burst_dispatcher::pop() {
    const head last = m_heads.back();
    m_heads.pop_back();
    if (!m_heads.empty()) replace_top(last);
}

}  // namespace npusim::models
