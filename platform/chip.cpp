#include "platform/chip.h"

#include <algorithm>
#include <string>

namespace npusim::platform {

namespace {

// The dispatcher's window: no GM burst may be registered less than this before its start. An
// instruction's first burst comes a path's start-up after the instruction begins; a burst that
// waited for an earlier one's completion comes at least a round trip through the NoC, the L2
// and GM after that one's start.
models::ps_t gm_burst_window(const platform_config& cfg) {
    models::ps_t w =
        cfg.noc.latency_ps + (cfg.l2.enabled ? std::min(cfg.l2.hit_latency_ps,
                                                        cfg.l2.miss_latency_ps + cfg.gm.latency_ps)
                                             : cfg.gm.latency_ps);
    using models::mem_space;
    for (const models::core_params& c : cfg.core_list())
        for (size_t s = 0; s < size_t(mem_space::count); ++s)
            for (size_t d = 0; d < size_t(mem_space::count); ++d) {
                const models::path_params& p = c.paths[s][d];
                if (p.present() && (mem_space(s) == mem_space::gm || mem_space(d) == mem_space::gm))
                    w = std::min(w, models::ps_t(p.latency_cycles) * models::period_ps(c.clock_hz));
            }
    return std::max<models::ps_t>(w, 1);
}

}  // namespace

chip::chip(const sc_core::sc_module_name& nm, const platform_config& cfg, const chip_options& opts)
    : sc_core::sc_module(nm), m_cfg(cfg) {
    // Binds an initiator to a target, through a checker on the hop when asked for.
    auto hop = [&](auto& initiator, auto& target, const std::string& check_name,
                   const sc_core::sc_object& from, const sc_core::sc_object& to) {
        if (!opts.protocol_check) {
            initiator.bind(target);
            return;
        }
        m_checkers.push_back(std::make_unique<models::protocol_checker>(
            check_name.c_str(), std::string(from.name()) + " -> " + to.name()));
        initiator.bind(m_checkers.back()->target_socket);
        m_checkers.back()->initiator_socket.bind(target);
    };
    m_gm = std::make_unique<models::gm_memory>("gm", cfg.gm);
    m_noc = std::make_unique<models::router>("noc", cfg.noc.bandwidth, cfg.noc.latency_ps);
    if (cfg.l2.enabled) {
        m_l2 = std::make_unique<models::l2_cache>("l2", cfg.l2, cfg.gm.capacity);
        m_noc->map(0, cfg.gm.capacity, "l2");
        hop(m_noc->initiator_socket, m_l2->target_socket, "check_noc_l2", *m_noc, *m_l2);
        hop(m_l2->gm_socket, m_gm->target_socket, "check_l2_gm", *m_l2, *m_gm);
    } else {
        m_noc->map(0, cfg.gm.capacity, "gm");
        hop(m_noc->initiator_socket, m_gm->target_socket, "check_noc_gm", *m_noc, *m_gm);
    }
    m_dispatcher = std::make_unique<models::burst_dispatcher>("dispatcher", gm_burst_window(cfg));
    const auto list = cfg.core_list();
    for (unsigned i = 0; i < list.size(); ++i) {
        const std::string core_name = "core" + std::to_string(i);
        m_cores.push_back(std::make_unique<models::ai_core>(core_name.c_str(), i, list[i],
                                                            *m_dispatcher, opts.protocol_check));
        for (auto& e : m_cores.back()->engines())
            hop(e->global_socket, m_noc->target_socket,
                "check_" + core_name + "_" + e->basename() + "_noc", *e, *m_noc);
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
    m_scheduler = std::make_unique<models::task_scheduler>("scheduler", all, cfg.split,
                                                           cfg.kernel_dispatch_ps);
    if (m_l2 && cfg.l2.cold_kernels)
        m_scheduler->on_launch_start([l2 = m_l2.get()] { l2->flush(); });
    m_host = std::make_unique<models::host_link>("host_link", cfg.host_link, *m_dispatcher);
    hop(m_host->socket, m_noc->target_socket, "check_host_link_noc", *m_host, *m_noc);
    m_sdma = std::make_unique<models::sdma_engine>("sdma", cfg.sdma, *m_dispatcher);
    hop(m_sdma->socket, m_noc->target_socket, "check_sdma_noc", *m_sdma, *m_noc);
    m_host_api = std::make_unique<host_interface>(*this);
}

std::vector<const models::protocol_checker*> chip::protocol_checkers() const {
    std::vector<const models::protocol_checker*> all;
    for (auto& c : m_checkers) all.push_back(c.get());
    for (auto& core : m_cores)
        for (auto& c : core->checkers()) all.push_back(c.get());
    return all;
}

uint64_t chip::protocol_violations() const {
    uint64_t n = 0;
    for (const auto* c : protocol_checkers()) n += c->violation_count();
    return n;
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
