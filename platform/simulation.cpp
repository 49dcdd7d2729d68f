#include "platform/simulation.h"

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

namespace npusim::platform {

simulation::simulation(const platform_config& cfg, std::optional<vcd_options> vcd,
                       std::optional<timeline_options> timeline, const chip_options& opts) {
    m_chip = std::make_unique<chip>("chip", cfg, opts);
    if (vcd) m_vcd = std::make_unique<vcd_writer>(*vcd);
    if (timeline) {
        m_timeline = std::make_unique<timeline_writer>(*timeline);
        timeline_writer* t = m_timeline.get();
        m_chip->host_api().set_span_sink([t](activity_span s) { t->add_span(s); });
        m_chip->host_api().set_counter_sink([t](const std::string& name, models::ps_t at,
                                                double v) { t->add_sample(name, at, v); });
        m_chip->scheduler().observe([t](const models::launch_record& r) { t->add_launch(r); });
    }
    if (m_vcd && m_timeline) {
        m_fanout = std::make_unique<trace_fanout>(
            std::vector<models::trace_sink*>{m_vcd.get(), m_timeline.get()});
        m_chip->attach_trace(m_fanout.get());
    } else if (m_vcd || m_timeline) {
        m_chip->attach_trace(m_vcd ? static_cast<models::trace_sink*>(m_vcd.get())
                                   : m_timeline.get());
    }
}

simulation::~simulation() = default;

bool simulation::run(const host_program& program) {
    bool finished = false;
    host_interface& api = m_chip->host_api();
    api.spawn("host", [&] {
        try {
            program(*m_chip, m_ops);
        } catch (const sc_core::sc_unwind_exception&) {
            throw;  // being killed after a deadlock: let SystemC unwind the stack
        } catch (const std::exception& e) {
            m_error = e.what();
        }
        finished = true;  // the run ends when no event remains
    });
    sc_core::sc_start();
    if (!finished && m_error.empty()) {
        m_error = "deadlock: the host program is still waiting but no simulation event is pending";
        const std::string blocked = api.blocked_report();
        if (!blocked.empty()) m_error += "\n" + blocked;
    }
    // Threads stuck for good are unwound, so what their stacks hold is released.
    if (!finished || api.threads_alive()) {  // kill() must come from a process
        sc_core::sc_spawn(
            [&] {
                api.kill_threads();
                for (auto& c : m_chip->cores()) c->kill_stuck_block();
            },
            "reaper");
        sc_core::sc_start();
    }
    try {
        if (m_vcd) m_vcd->close();
        if (m_timeline) m_timeline->close();
    } catch (const std::exception& e) {
        m_trace_error = e.what();
    }
    return m_error.empty() && m_trace_error.empty();
}

nlohmann::json simulation::stats() {
    return collect_stats(*m_chip, m_ops);
}

}  // namespace npusim::platform
