#include "models/dma/burst_dispatcher.h"

#include <algorithm>
#include <cassert>
#include <string>

#include "models/common/model_fault.h"

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
    m_heads.assign(m_clients.size() + 1, ~key{0});
    while ((size_t{1} << m_shift) < m_clients.size()) ++m_shift;
    m_limit = ps_t{1} << (64 - m_shift);
    return static_cast<unsigned>(m_clients.size() - 1);
}

void burst_dispatcher::post(ps_t start, unsigned client) {
    if (start < m_horizon) ++m_late;
    if (start >= m_limit)
        throw model_fault(name(), 0, "",
                          "a burst starts after " + std::to_string(m_limit / 1000000000000) +
                              " s of simulated time, more than the dispatcher's keys hold");
    if (m_registered[client]++ > 0) return;  // behind the client's earlier bursts
    push(key_of(start, client));
    // m_scheduled is a window's start (or the maximum): comparing the start suffices.
    if (start < m_scheduled) {
        const ps_t t = window_of(start);
        const ps_t now = now_ps();
        m_wake.notify(ps_to_time(t > now ? t - now : 0));
        m_scheduled = t;
    }
}

void burst_dispatcher::run() {
    for (;;) {
        const ps_t now = now_ps();
        const ps_t t = m_size > 0 ? window_of(start_of(m_heads[0])) : 0;
        if (m_size == 0 || (t > now && !quiet_until(now, t))) {
            if (m_size > 0) {
                m_scheduled = t;
                m_wake.notify(ps_to_time(t - now));
            }
            sc_core::wait(m_wake);
            m_scheduled = ~ps_t{0};
            continue;
        }
        // Every burst of the window is registered by now (see the class comment): book them
        // in order of start. A burst starts at or after now, as it was registered before.
        const ps_t until = t + m_window;
        while (m_size > 0 && start_of(m_heads[0]) < until) {
            const unsigned c = client_of(m_heads[0]);
            prefetch_ahead();
            const ps_t next = m_clients[c]->commit_next();
            assert(client_of(m_heads[0]) == c);  // a booking registers no burst
            if (--m_registered[c] > 0)
                replace_top(key_of(next, c));
            else
                pop();
            if (!m_touched[c]) {
                m_touched[c] = 1;
                m_touched_list.push_back(c);
            }
        }
        m_horizon = std::max(m_horizon, until);
        if (t > now) {
            // Booked before its time: a thread these bookings wake runs at the window's start,
            // as it would have without booking ahead.
            if (std::any_of(m_touched_list.begin(), m_touched_list.end(),
                            [&](unsigned c) { return m_clients[c]->wakes_at(t); }))
                sc_core::wait(ps_to_time(t - now));
        }
        for (unsigned c : m_touched_list) {
            m_touched[c] = 0;
            m_clients[c]->bursts_committed(t);
        }
        m_touched_list.clear();
    }
}

bool burst_dispatcher::quiet_until(ps_t now, ps_t t) const {
    // No process runs before t, nor at t: every burst of the window that starts at t was
    // registered a window before its start, so by now, and booking it now books it in the
    // same order, among the same bookings, as waking at t would.
    return !sc_core::sc_pending_activity_at_current_time() &&
           sc_core::sc_time_to_pending_activity() > ps_to_time(t - now);
}

void burst_dispatcher::prefetch_ahead() const {
    // Consecutive bookings come from different engines, whose state is cold in the host's
    // caches by then (with 32 cores streaming, the state of all engines does not fit). The next
    // booking is most likely the top's smaller child: its client fetches its burst's state
    // while the top books. Its own object line was asked for one booking earlier, as one of
    // the grandchildren, which are asked for now. A few engines' state stays cached: then
    // this would only cost.
    if (m_size < 8) return;
    const key* const h = m_heads.data();
    m_clients[client_of(std::min(h[1], h[2]))]->prefetch();
    for (size_t i = 3; i < 7; ++i) __builtin_prefetch(m_clients[client_of(h[i])]);
}

void burst_dispatcher::push(key k) {
    size_t i = m_size++;
    key* const h = m_heads.data();
    h[m_size] = ~key{0};
    while (i > 0 && k < h[(i - 1) / 2]) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = k;
}

void burst_dispatcher::replace_top(key k) {
    // h[m_size] is the largest key: a last child without a sibling compares against it.
    key* const h = m_heads.data();
    const size_t n = m_size;
    size_t i = 0;
    for (size_t child = 1; child < n; child = 2 * i + 1) {
        child += h[child + 1] < h[child];
        if (h[child] >= k) break;
        h[i] = h[child];
        i = child;
    }
    h[i] = k;
}

void burst_dispatcher::pop() {
    const key last = m_heads[--m_size];
    m_heads[m_size] = ~key{0};
    if (m_size > 0) replace_top(last);
}

}  // namespace npusim::models
