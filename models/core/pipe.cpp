#include "models/core/pipe.h"

#include "models/common/model_fault.h"

namespace npusim::models {

pipe::pipe(const sc_core::sc_module_name& nm, pipe_id id, unsigned depth, pipe_executor& exec)
    : model_base(nm), m_id(id), m_depth(depth ? depth : 1), m_exec(exec) {
    SC_HAS_PROCESS(pipe);
    SC_THREAD(run);
}

void pipe::push(instruction ins) {
    while (full()) sc_core::wait(m_popped);
    m_queue.push_back(std::move(ins));
    m_pushed.notify(sc_core::SC_ZERO_TIME);
}

void pipe::wait_idle() {
    while (!idle()) sc_core::wait(m_went_idle);
}

void pipe::drop_queue() {
    m_queue.clear();
    m_popped.notify(sc_core::SC_ZERO_TIME);
    if (!m_running) m_went_idle.notify(sc_core::SC_ZERO_TIME);
}

void pipe::run() {
    for (;;) {
        while (m_queue.empty()) sc_core::wait(m_pushed);
        const instruction ins = std::move(m_queue.front());
        m_queue.pop_front();
        m_popped.notify(sc_core::SC_ZERO_TIME);
        m_running = true;
        const ps_t t0 = now_ps();
        m_busy.hold(t0);  // the busy span is reported when the instruction ends
        bool work = true;
        try {
            work = m_exec.execute(*this, ins);
        } catch (const model_fault& f) {
            m_exec.on_fault(*this, f.what());
        }
        const ps_t t1 = now_ps();
        if (work && t1 > t0) {
            m_busy.set(t0, 1);
            m_busy.set(t1, 0);
            m_busy_ps += t1 - t0;
        }
        m_busy.hold(trace_sink::no_hold);
        ++m_instructions;
        m_running = false;
        if (m_queue.empty()) m_went_idle.notify(sc_core::SC_ZERO_TIME);
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
