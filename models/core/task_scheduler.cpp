#include "models/core/task_scheduler.h"

#include <algorithm>
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
                               bool split, ps_t dispatch_ps)
    : model_base(nm), m_cores(std::move(cores)), m_split(split), m_dispatch_ps(dispatch_ps) {
    unsigned top = 0;
    for (ai_core* c : m_cores) top = std::max(top, c->id() + 1);
    m_busy.assign(top, false);
    SC_HAS_PROCESS(task_scheduler);
    SC_METHOD(dispatch);
    sensitive << m_wake;
    dont_initialize();
}

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

uint64_t task_scheduler::submit(request r) {
    auto units = units_of(r.kind);
    if (units.empty())
        throw std::invalid_argument(std::string("no cores for a ") + to_string(r.kind) + " kernel");
    if (r.block_dim == 0) throw std::invalid_argument("block_dim must be at least 1");
    active& a = m_active.emplace_back();
    a.seq = m_seq++;
    a.units = std::move(units);
    a.rec.name = r.name;
    a.rec.start = now_ps();
    a.ready_at = a.rec.start + m_dispatch_ps;
    a.rec.blocks.resize(r.block_dim);
    a.req = std::move(r);
    m_wake.notify(ps_to_time(m_dispatch_ps));
    return a.seq;
}

void task_scheduler::set_priority(uint64_t id, int priority) {
    for (active& a : m_active)
        if (a.seq == id && a.req.priority != priority) {
            a.req.priority = priority;
            m_wake.notify(sc_core::SC_ZERO_TIME);
        }
}

launch_record task_scheduler::launch(const std::string& name, unsigned block_dim, kernel_kind kind,
                                     const block_fn& body, int priority) {
    launch_record out;
    bool finished = false;
    sc_core::sc_event done;
    submit({name, block_dim, kind, priority, body, [&](const launch_record& rec) {
                out = rec;
                finished = true;
                done.notify(sc_core::SC_ZERO_TIME);
            }});
    while (!finished) sc_core::wait(done);
    return out;
}

// Runs whenever a launch arrives or a unit frees. Cores wanted by a waiting launch are held
// back from launches behind it, so a lower priority never overtakes a higher one on the cores
// both can use, yet still fills cores the higher one cannot use (cube vs vector on split chips).
void task_scheduler::dispatch() {
    std::vector<active*> order;
    const ps_t now = now_ps();
    ps_t next_ready = ~ps_t(0);
    for (active& a : m_active) {
        if (a.next_block == a.req.block_dim) continue;
        if (a.ready_at > now)  // still being dispatched: comes back when it is ready
            next_ready = std::min(next_ready, a.ready_at);
        else
            order.push_back(&a);
    }
    if (next_ready != ~ps_t(0)) m_wake.notify(ps_to_time(next_ready - now));
    std::stable_sort(order.begin(), order.end(), [](const active* x, const active* y) {
        return x->req.priority != y->req.priority ? x->req.priority < y->req.priority
                                                  : x->seq < y->seq;
    });
    std::vector<bool> held(m_busy.size(), false);
    for (active* a : order) {
        while (a->next_block < a->req.block_dim) {
            const std::vector<ai_core*>* free_unit = nullptr;
            for (const auto& u : a->units) {
                const bool ok = std::none_of(u.begin(), u.end(), [&](ai_core* c) {
                    return m_busy[c->id()] || held[c->id()];
                });
                if (ok) {
                    free_unit = &u;
                    break;
                }
            }
            if (!free_unit) break;
            start(*a, *free_unit);
        }
        if (a->next_block < a->req.block_dim)
            for (const auto& u : a->units)
                for (ai_core* c : u) held[c->id()] = true;
    }
}

void task_scheduler::start(active& a, const std::vector<ai_core*>& unit) {
    const unsigned blk = a.next_block++;
    if (blk == 0 && m_on_launch_start) m_on_launch_start();
    ++a.running;
    block_record& br = a.rec.blocks[blk];
    br.block = blk;
    br.core = unit.front()->id();
    for (ai_core* c : unit) br.cores.push_back(c->id());
    br.start = now_ps();
    auto left = std::make_shared<unsigned>(static_cast<unsigned>(unit.size()));
    for (ai_core* c : unit) m_busy[c->id()] = true;
    const unsigned dim = a.req.block_dim;
    for (ai_core* core : unit) {
        // Each pipe's busy time now; what it adds by the block's end is the block's.
        for (const auto& p : core->pipes()) br.pipe_busy[p->id()] -= p->busy_ps();
        br.mem -= core->traffic_caused();
        core->start_block([&a, core, blk, dim] { a.req.body(*core, blk, dim); },
                          [this, &a, &br, unit, left, core](const block_result& r) {
                              for (const auto& p : core->pipes())
                                  br.pipe_busy[p->id()] += p->busy_ps();
                              br.mem += core->traffic_caused();
                              if (!r.fault.empty() && br.fault.empty()) br.fault = r.fault;
                              br.end = std::max(br.end, r.end);
                              if (--*left != 0) return;
                              for (ai_core* c : unit) m_busy[c->id()] = false;
                              --a.running;
                              m_wake.notify(sc_core::SC_ZERO_TIME);
                              if (a.running > 0 || a.next_block < a.req.block_dim) return;
                              a.rec.end = now_ps();
                              for (const auto& b : a.rec.blocks)
                                  if (!b.fault.empty()) {
                                      a.rec.fault =
                                          "block " + std::to_string(b.block) + ": " + b.fault;
                                      break;
                                  }
                              auto done = std::move(a.req.done);
                              const launch_record rec = std::move(a.rec);
                              m_active.remove_if([&a](const active& x) { return &x == &a; });
                              for (const auto& observer : m_observers) observer(rec);
                              if (done) done(rec);
                          });
    }
}

std::string task_scheduler::blocked_report() const {
    std::string s;
    for (const active& a : m_active) {
        s += std::string(name()) + ": kernel '" + a.req.name + "' has " +
             std::to_string(a.req.block_dim - a.next_block) + " blocks waiting for cores and " +
             std::to_string(a.running) + " running\n";
    }
    return s;
}

}  // namespace npusim::models
