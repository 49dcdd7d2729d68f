#include "models/core/pipe.h"

#include "models/common/model_fault.h"

namespace npusim::models {

pipe::pipe(const sc_core::sc_module_name& nm, pipe_id id, unsigned depth, pipe_executor& exec)
    : model_base(nm), m_id(id), m_depth(depth ? depth : 1), m_exec(exec) {
    SC_HAS_PROCESS(pipe);
    SC_THREAD(run);
}

bool pipe::full() const {
    return m_queue.size() >= m_depth;
}

void pipe::push(instruction ins) {
    while (full()) {
        // A slot frees when a queued instruction is popped, which is when it starts.
        m_pusher_waits = true;
        sc_core::wait(m_popped);
    }
    m_pusher_waits = false;
    m_queue.push_back({std::move(ins), now_ps()});
    if (m_run_waits) m_pushed.notify(sc_core::SC_ZERO_TIME);
}

void pipe::wait_idle() {
    while (!idle()) sc_core::wait(m_went_idle);
}

void pipe::drop_queue() {
    m_queue.clear();
    m_popped.notify(sc_core::SC_ZERO_TIME);
    if (!m_running) m_went_idle.notify(sc_core::SC_ZERO_TIME);
}

ps_t pipe::settle() {
    ps_t c = 0;
    while (!m_exec.settled(*this, c)) sc_core::wait(m_exec.progress(*this));
    m_complete = std::max(m_complete, c);
    return m_complete;
}

void pipe::sync_to(ps_t t) {
    const ps_t now = now_ps();
    if (t > now) sc_core::wait(ps_to_time(t - now));
}

void pipe::run() {
    for (;;) {
        if (m_queue.empty()) {
            while (m_queue.empty()) {
                const ps_t now = now_ps();
                m_run_waits = true;
                ps_t c = 0;
                if (!m_exec.settled(*this, c)) {
                    // Idle only once every completion is known; a push ends the wait.
                    sc_core::wait(m_pushed | m_exec.progress(*this));
                } else {
                    m_complete = std::max(m_complete, c);
                    m_running = false;
                    if (m_complete > now) {
                        sc_core::wait(ps_to_time(m_complete - now), m_pushed);
                    } else {
                        m_went_idle.notify(sc_core::SC_ZERO_TIME);
                        sc_core::wait(m_pushed);
                    }
                }
                m_run_waits = false;
            }
            m_running = true;
        }
        entry e = std::move(m_queue.front());
        m_queue.pop_front();
        // Not before the pipe is free, nor before the instruction existed: simulation time is
        // past both here (the pipe waits until its issue_free after each instruction), so an
        // instruction is popped, and frees its queue slot, when it starts.
        const ps_t start = std::max(m_issue_free, e.pushed);
        if (m_pusher_waits) m_popped.notify(sc_core::SC_ZERO_TIME);
        m_busy.hold(start);  // an instruction that waits reports its span when it returns
        exec_result r{false, start, start};
        try {
            r = m_exec.execute(*this, e.ins, start);
        } catch (const model_fault& f) {
            sync_to(start);  // the fault is seen when the instruction would start
            m_exec.on_fault(*this, f.what());
            r = {false, start, start};
        }
        if (r.work && r.issue_end > start) {
            m_busy.set(start, 1);
            m_busy.set(r.issue_end, 0);
            m_busy_ps += r.issue_end - start;
        }
        m_busy.hold(trace_sink::no_hold);
        m_issue_free = std::max(start, r.issue_end);
        m_complete = std::max(m_complete, r.complete);
        ++m_instructions;
        // The next instruction books the core's banks (and its engine's port) at its own start,
        // so bookings of the core's pipes happen in order of time whatever their threads do.
        if (m_issue_free > now_ps()) sync_to(m_issue_free);
    }
}

void pipe::on_trace_attached() {
    m_busy.bind(m_trace, signal_path("busy"), 1, false);
}

void pipe::visit_stats(const stats_fn& fn) const {
    fn("busy_ns", m_busy_ps / 1000.0);
    fn("instructions", static_cast<double>(m_instructions));
}

}  // namespace npusim::models
