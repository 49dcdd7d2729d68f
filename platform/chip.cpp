#include "platform/chip.h"

#include <string>

namespace npusim::platform {

chip::chip(const sc_core::sc_module_name& nm, const platform_config& cfg)
    : sc_core::sc_module(nm), m_cfg(cfg) {
    m_gm = std::make_unique<models::gm_memory>("gm", cfg.gm);
    m_noc = std::make_unique<models::router>("noc", cfg.noc.bandwidth, cfg.noc.latency_ps);
    if (cfg.l2.enabled) {
        m_l2 = std::make_unique<models::l2_cache>("l2", cfg.l2);
        m_noc->map(0, cfg.gm.capacity, "l2");
        m_noc->initiator_socket.bind(m_l2->target_socket);
        m_l2->gm_socket.bind(m_gm->target_socket);
    } else {
        m_noc->map(0, cfg.gm.capacity, "gm");
        m_noc->initiator_socket.bind(m_gm->target_socket);
    }
    const auto list = cfg.core_list();
    for (unsigned i = 0; i < list.size(); ++i) {
        m_cores.push_back(
            std::make_unique<models::ai_core>(("core" + std::to_string(i)).c_str(), i, list[i]));
        for (auto& e : m_cores.back()->engines()) e->global_socket.bind(m_noc->target_socket);
    }
    // Split chips: cube core i works with vector cores 2i and 2i+1 (cross-core flags).
    if (cfg.split)
        for (unsigned i = 0; i < cfg.cores; ++i) {
            std::vector<models::ai_core*> aivs;
            for (unsigned s : {2 * i, 2 * i + 1})
                if (cfg.cores + s < m_cores.size()) {
                    aivs.push_back(m_cores[cfg.cores + s].get());
                    m_cores[cfg.cores + s]->set_partners({m_cores[i].get()});
                }
            m_cores[i]->set_partners(aivs);
        }
    std::vector<models::ai_core*> all;
    for (auto& c : m_cores) all.push_back(c.get());
    m_scheduler = std::make_unique<models::task_scheduler>("scheduler", all, cfg.split);
    m_host =
        std::make_unique<models::host_link>("host_link", cfg.host_link, cfg.aicore.lookahead_ps);
    m_host->socket.bind(m_noc->target_socket);
    m_sdma = std::make_unique<models::sdma_engine>("sdma", cfg.sdma, cfg.aicore.lookahead_ps);
    m_sdma->socket.bind(m_noc->target_socket);
    m_host_api = std::make_unique<host_interface>(*this);
}

void chip::attach_trace(models::trace_sink* sink) {
    m_gm->attach_trace(sink);
    if (m_l2) m_l2->attach_trace(sink);
    m_host->attach_trace(sink);
    for (auto& c : m_cores) c->attach_trace_all(sink);
}

}  // namespace npusim::platform

namespace npusim::platform {

std::string chip::blocked_report() const {
    std::string s;
    for (auto& c : m_cores) s += c->blocked_report();
    s += m_scheduler->blocked_report();
    return s;
}

}  // namespace npusim::platform
