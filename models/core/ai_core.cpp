#include "models/core/ai_core.h"

#include <string>

#include "models/common/model_fault.h"

namespace npusim::models {

std::vector<pipe_id> pipes_of(core_kind kind) {
    switch (kind) {
        case core_kind::aicore:
            return {pipe_id::MTE1, pipe_id::MTE2, pipe_id::MTE3, pipe_id::M, pipe_id::V};
        case core_kind::aic:
            return {pipe_id::MTE1, pipe_id::MTE2, pipe_id::MTE3, pipe_id::M, pipe_id::FIX};
        case core_kind::aiv:
            return {pipe_id::MTE2, pipe_id::MTE3, pipe_id::V};
    }
    return {};
}

static bool kind_has_buffer(core_kind kind, mem_space s) {
    switch (kind) {
        case core_kind::aicore:
            return s != mem_space::bt && s != mem_space::fb;
        case core_kind::aic:
            return s != mem_space::ub;
        case core_kind::aiv:
            return s == mem_space::ub;
    }
    return false;
}

ai_core::ai_core(const sc_core::sc_module_name& nm, unsigned id, const core_params& p)
    : model_base(nm), m_id(id), m_p(p), m_local_bus("local_bus") {
    const ps_t period = period_ps(p.clock_hz);
    for (size_t s = 1; s < size_t(mem_space::count); ++s) {
        const auto space = mem_space(s);
        if (!kind_has_buffer(p.kind, space) || p.buffer(space).size == 0) {
            m_p.buffers[s].size = 0;  // so engines see the buffer as absent
            continue;
        }
        std::string nm_s = to_string(space);
        for (auto& c : nm_s) c = static_cast<char>(std::tolower(c));
        m_buffers[s] = std::make_unique<local_buffer>(nm_s.c_str(), space, p.buffer(space), period);
        m_local_bus.map(local_base(space), p.buffer(space).size, nm_s);
        m_local_bus.initiator_socket.bind(m_buffers[s]->target_socket);
    }
    for (pipe_id id_ : pipes_of(p.kind)) {
        std::string nm_p = to_string(id_);
        for (auto& c : nm_p) c = static_cast<char>(std::tolower(c));
        m_pipes.push_back(std::make_unique<pipe>(nm_p.c_str(), id_, p.dma.queue_depth));
        // Engines exist for pipes that own at least one path present on this core.
        auto engine = std::make_unique<dma_engine>((nm_p + "_dma").c_str(), id_, m_p);
        bool any = false;
        for (size_t s = 0; s < size_t(mem_space::count); ++s)
            for (size_t d = 0; d < size_t(mem_space::count); ++d)
                any |= engine->has_path(mem_space(s), mem_space(d));
        if (!any) continue;
        engine->local_socket.bind(m_local_bus.target_socket);
        m_engines.push_back(std::move(engine));
    }
}

pipe* ai_core::get_pipe(pipe_id id) {
    for (auto& p : m_pipes)
        if (p->id() == id) return p.get();
    return nullptr;
}

dma_engine* ai_core::engine(pipe_id id) {
    for (auto& e : m_engines)
        if (e->pipe() == id) return e.get();
    return nullptr;
}

void ai_core::issue_copy(const dma_request& r) {
    const pipe_id owner = engine_for_path(r.src_space, r.dst_space);
    dma_engine* e = engine(owner);
    pipe* p = get_pipe(owner);
    if (!e || !p || !e->has_path(r.src_space, r.dst_space))
        throw model_fault(name(), 0, r.describe(),
                          std::string("no engine for path ") + to_string(r.src_space) + "->" +
                              to_string(r.dst_space) + " on a " + to_string(m_p.kind) + " core");
    p->push({r.describe(), [e, r] { e->execute(r); }});
}

void ai_core::wait_idle() {
    for (auto& p : m_pipes) p->wait_idle();
}

std::string ai_core::fault() const {
    for (auto& p : m_pipes)
        if (!p->fault().empty()) return p->fault();
    return {};
}

void ai_core::attach_trace_all(trace_sink* sink) {
    for (auto& p : m_pipes) p->attach_trace(sink);
    for (auto& e : m_engines) e->attach_trace(sink);
}

}  // namespace npusim::models
