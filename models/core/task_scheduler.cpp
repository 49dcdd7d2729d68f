#include "models/core/task_scheduler.h"

#include <memory>
#include <stdexcept>

namespace npusim::models {

const char* to_string(kernel_kind k) {
    switch (k) {
        case kernel_kind::cube:
            return "cube";
        case kernel_kind::vector:
            return "vector";
        case kernel_kind::mix:
            return "mix";
    }
    return "?";
}

task_scheduler::task_scheduler(const sc_core::sc_module_name& nm, std::vector<ai_core*> cores,
                               bool split)
    : model_base(nm), m_cores(std::move(cores)), m_split(split) {}

std::vector<std::vector<ai_core*>> task_scheduler::units_of(kernel_kind kind) const {
    std::vector<ai_core*> aic, aiv, aicore;
    for (ai_core* c : m_cores) {
        if (c->core_type() == core_kind::aic) aic.push_back(c);
        if (c->core_type() == core_kind::aiv) aiv.push_back(c);
        if (c->core_type() == core_kind::aicore) aicore.push_back(c);
    }
    std::vector<std::vector<ai_core*>> units;
    if (!m_split) {
        for (ai_core* c : aicore) units.push_back({c});
        return units;
    }
    if (kind == kernel_kind::cube)
        for (ai_core* c : aic) units.push_back({c});
    else if (kind == kernel_kind::vector)
        for (ai_core* c : aiv) units.push_back({c});
    else
        for (size_t i = 0; i < aic.size() && 2 * i + 1 < aiv.size(); ++i)
            units.push_back({aic[i], aiv[2 * i], aiv[2 * i + 1]});
    return units;
}

launch_record task_scheduler::launch(const std::string& name, unsigned block_dim, kernel_kind kind,
                                     const block_fn& body) {
    const auto units = units_of(kind);
    if (units.empty())
        throw std::invalid_argument(std::string("no cores for a ") + to_string(kind) + " kernel");
    if (block_dim == 0) throw std::invalid_argument("block_dim must be at least 1");
    launch_record rec;
    rec.name = name;
    rec.start = now_ps();
    rec.blocks.resize(block_dim);
    std::vector<bool> busy(units.size(), false);
    unsigned running = 0;
    for (unsigned blk = 0; blk < block_dim; ++blk) {
        size_t u = 0;
        for (;;) {
            while (u < units.size() && busy[u]) ++u;
            if (u < units.size()) break;
            sc_core::wait(m_unit_done);
            u = 0;
        }
        busy[u] = true;
        ++running;
        auto left = std::make_shared<unsigned>(static_cast<unsigned>(units[u].size()));
        block_record& br = rec.blocks[blk];
        br.block = blk;
        br.core = units[u].front()->id();
        br.start = now_ps();
        for (ai_core* core : units[u]) {
            core->start_block([&body, core, blk, block_dim] { body(*core, blk, block_dim); },
                              [&, u, left](const block_result& r) {
                                  if (!r.fault.empty() && br.fault.empty()) br.fault = r.fault;
                                  br.end = std::max(br.end, r.end);
                                  if (--*left == 0) {
                                      busy[u] = false;
                                      --running;
                                      m_unit_done.notify(sc_core::SC_ZERO_TIME);
                                  }
                              });
        }
    }
    while (running > 0) sc_core::wait(m_unit_done);
    rec.end = now_ps();
    for (auto& b : rec.blocks)
        if (!b.fault.empty()) {
            rec.fault = "block " + std::to_string(b.block) + ": " + b.fault;
            break;
        }
    return rec;
}

}  // namespace npusim::models
