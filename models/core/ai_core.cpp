#include "models/core/ai_core.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>

#include "models/common/model_fault.h"

namespace npusim::models {

namespace {

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

constexpr size_t k_pipe_slots = 11;  // pipe_id values 0..10

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

bool kind_has_buffer(core_kind kind, mem_space s) {
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

ai_core::ai_core(const sc_core::sc_module_name& nm, unsigned id, const core_params& p,
                 burst_dispatcher& dispatcher, bool protocol_check)
    : model_base(nm),
      m_id(id),
      m_p(p),
      m_period(period_ps(p.clock_hz)),
      m_cube(std::string(name()) + ".cube", p.cube),
      m_vector(std::string(name()) + ".vector", p.vector,
               kind_has_buffer(p.kind, mem_space::ub) ? p.buffer(mem_space::ub).size : 0),
      m_flags(k_pipe_slots * k_pipe_slots * std::max<uint32_t>(1, p.event_ids), 0),
      m_cross_flags(cross_flag_ids, 0) {
    for (size_t s = 1; s < size_t(mem_space::count); ++s) {
        const auto space = mem_space(s);
        if (!kind_has_buffer(p.kind, space) || p.buffer(space).size == 0) {
            m_p.buffers[s].size = 0;  // so engines see the buffer as absent
            continue;
        }
        const std::string nm_s = lower(to_string(space));
        buffer_params bp = p.buffer(space);
        m_buffers[s] =
            std::make_unique<local_buffer>(nm_s.c_str(), space, bp, m_period, p.functional);
    }
    for (pipe_id pid : pipes_of(p.kind)) {
        const std::string nm_p = lower(to_string(pid));
        m_pipes.push_back(std::make_unique<pipe>(nm_p.c_str(), pid, p.dma.queue_depth, *this));
        // An engine exists for a pipe that owns at least one path present on this core.
        auto engine = std::make_unique<dma_engine>((nm_p + "_dma").c_str(), pid, m_p);
        bool any = false;
        for (size_t s = 0; s < size_t(mem_space::count); ++s)
            for (size_t d = 0; d < size_t(mem_space::count); ++d)
                any |= engine->has_path(mem_space(s), mem_space(d));
        if (!any) continue;
        engine->join(dispatcher);
        for (size_t b = 1; b < size_t(mem_space::count); ++b) {
            if (!m_buffers[b]) continue;
            if (!protocol_check) {
                engine->connect_local(*m_buffers[b]);
                continue;
            }
            local_buffer& buf = *m_buffers[b];
            const std::string nm_c = "check_" + nm_p + "_" + lower(to_string(buf.space()));
            m_checkers.push_back(std::make_unique<protocol_checker>(
                nm_c.c_str(), std::string(engine->name()) + " -> " + buf.name()));
            engine->connect_local(buf, m_checkers.back()->target_socket);
            m_checkers.back()->initiator_socket.bind(buf.target_socket);
        }
        m_engines.push_back(std::move(engine));
    }
    // Every instruction looks its pipe up: an index, not a walk over the pipes' objects.
    for (auto& q : m_pipes) m_pipe_of[size_t(q->id())] = q.get();
    for (auto& e : m_engines) m_engine_of[size_t(e->pipe())] = e.get();
    SC_HAS_PROCESS(ai_core);
    SC_THREAD(scalar_thread);
    m_scalar = sc_core::sc_get_last_created_process_handle();
}

void ai_core::kill_stuck_block() {
    if (m_block_active) m_scalar.kill();
}

pipe* ai_core::get_pipe(pipe_id id) {
    return size_t(id) < m_pipe_of.size() ? m_pipe_of[size_t(id)] : nullptr;
}

dma_engine* ai_core::engine(pipe_id id) {
    return size_t(id) < m_engine_of.size() ? m_engine_of[size_t(id)] : nullptr;
}

// --- scalar unit ---

void ai_core::start_block(std::function<void()> body,
                          std::function<void(const block_result&)> done) {
    m_body = std::move(body);
    m_done = std::move(done);
    m_block_active = true;
    m_block_start.notify(sc_core::SC_ZERO_TIME);
}

void ai_core::scalar_thread() {
    for (;;) {
        sc_core::wait(m_block_start);
        block_result r;
        r.start = now_ps();
        m_aborted = false;
        m_fault.clear();
        std::fill(m_flags.begin(), m_flags.end(), 0);
        std::fill(m_cross_flags.begin(), m_cross_flags.end(), 0);
        try {
            m_body();
            barrier_all();
            wait_drained();
        } catch (const kernel_aborted&) {
        } catch (const model_fault& f) {  // raised by the kernel API on the scalar unit
            if (!m_aborted) m_fault = f.what();
            m_aborted = true;
        }
        if (m_aborted) {
            for (auto& p : m_pipes) p->drop_queue();
            m_flag_changed.notify(sc_core::SC_ZERO_TIME);
            m_cross_changed.notify(sc_core::SC_ZERO_TIME);
            wait_idle();
        }
        r.end = now_ps();
        r.fault = m_fault;
        m_block_active = false;
        m_body = nullptr;
        auto done = std::move(m_done);
        m_done = nullptr;
        if (done) done(r);
    }
}

void ai_core::issue(pipe_id pid, instruction ins) {
    if (m_aborted) throw kernel_aborted{};
    pipe* p = get_pipe(pid);
    if (!p)
        raise(name(), ins, pid,
              std::string("this ") + to_string(m_p.kind) + " core has no " + to_string(pid) +
                  " pipe");
    if (p->full())
        m_scalar_waiting = [pid] {
            return std::string("a free slot in the ") + to_string(pid) + " queue";
        };
    p->push(std::move(ins));
    m_scalar_waiting = nullptr;
    if (m_aborted) throw kernel_aborted{};
}

void ai_core::barrier_all() {
    m_scalar_waiting = [] { return std::string("all pipes to drain (barrier)"); };
    wait_idle();
    m_scalar_waiting = nullptr;
    if (m_aborted) throw kernel_aborted{};
}

void ai_core::read_global(uint64_t addr, void* data, unsigned bytes) {
    // Their writes must have completed (not only issued) before GM is read.
    m_scalar_waiting = [] { return std::string("MTE3/FIX to drain before a scalar GM read"); };
    for (pipe_id id : {pipe_id::MTE3, pipe_id::FIX})
        if (pipe* p = get_pipe(id)) p->wait_idle();
    m_scalar_waiting = nullptr;
    if (m_aborted) throw kernel_aborted{};
    dma_engine* e = engine(pipe_id::MTE2);
    std::memset(data, 0, bytes);
    if (e->debug_read(addr, static_cast<uint8_t*>(data), bytes) != bytes) {
        char what[96];
        std::snprintf(what, sizeof what, "scalar read of %u bytes at GM[0x%llx] is outside GM",
                      bytes, static_cast<unsigned long long>(addr));
        throw model_fault(name(), addr, "scalar GM read", what);
    }
    // A run longer than one 64-byte line: the further lines follow one a cycle.
    const uint64_t lines = (uint64_t(bytes) + 63) / 64;
    sc_core::wait(ps_to_time((scalar_gm_latency() + lines - 1) * m_period));
    if (m_aborted) throw kernel_aborted{};
}

void ai_core::write_local(mem_space space, const std::vector<scalar_store>& stores,
                          unsigned bytes) {
    local_buffer* b = buffer(space);
    for (const scalar_store& st : stores)
        if (!b || bytes > 8 || st.offset + bytes > b->size()) {
            char what[128];
            std::snprintf(what, sizeof what, "scalar store of %u bytes at %s[0x%llx] is outside %s",
                          bytes, to_string(space), static_cast<unsigned long long>(st.offset),
                          b ? "the buffer" : "this core");
            throw model_fault(name(), st.offset, "scalar store", what);
        }
    // The pipes that read or write the buffer finish first (the kernel's S flags).
    m_scalar_waiting = [] { return std::string("the pipes to drain before scalar stores"); };
    wait_idle();
    m_scalar_waiting = nullptr;
    if (m_aborted) throw kernel_aborted{};
    if (m_p.functional)
        for (const scalar_store& st : stores) std::memcpy(b->data() + st.offset, &st.bits, bytes);
    sc_core::wait(ps_to_time(stores.size() * m_period));
    if (m_aborted) throw kernel_aborted{};
}

uint32_t ai_core::scalar_gm_latency() const {
    // MTE2 exists on every kind of core and reaches GM; its path into the core's first local
    // buffer gives the latency (the params have no scalar data cache).
    for (mem_space s : {mem_space::ub, mem_space::l1})
        if (m_p.path(mem_space::gm, s).present()) return m_p.path(mem_space::gm, s).latency_cycles;
    return 0;
}

uint64_t ai_core::atomic_add(uint64_t& word, uint64_t add) {
    if (m_aborted) throw kernel_aborted{};
    const uint64_t old = word;
    word += add;
    sc_core::wait(ps_to_time(scalar_gm_latency() * m_period));
    if (m_aborted) throw kernel_aborted{};
    return old;
}

void ai_core::issue_copy(const dma_request& r) {
    const pipe_id owner = engine_for_path(r.src_space, r.dst_space);
    dma_engine* e = engine(owner);
    pipe* p = get_pipe(owner);
    if (!e || !p || !e->has_path(r.src_space, r.dst_space))
        throw model_fault(name(), 0, r.describe(),
                          std::string("no engine for path ") + to_string(r.src_space) + "->" +
                              to_string(r.dst_space) + " on a " + to_string(m_p.kind) + " core");
    p->push(r);
}

void ai_core::wait_drained() {
    // Posted writes still on their way to GM belong to the block: it ends when they land.
    ps_t drained = now_ps();
    for (auto& e : m_engines) drained = std::max(drained, e->drained());
    sc_core::wait(ps_to_time(drained - now_ps()));
}

void ai_core::wait_idle() {
    for (bool again = true; again;) {
        again = false;
        for (auto& p : m_pipes) {
            if (!p->idle()) again = true;
            p->wait_idle();
        }
    }
}

std::string ai_core::blocked_report() const {
    std::string s;
    for (auto& p : m_pipes)
        if (!p->waiting().empty())
            s += std::string(name()) + " pipe " + to_string(p->id()) + " waits for " +
                 p->waiting() + "\n";
    if (m_scalar_waiting)
        s += std::string(name()) + " scalar unit waits for " + m_scalar_waiting() + "\n";
    return s;
}

// --- execution ---

void ai_core::raise(const std::string& unit, const instruction& ins, pipe_id p,
                    const std::string& what) const {
    throw model_fault(unit, 0, describe(ins, p), what);
}

uint8_t& ai_core::flag(pipe_id src, pipe_id dst, uint32_t id) {
    return m_flags[(size_t(src) * k_pipe_slots + size_t(dst)) * m_p.event_ids + id];
}

exec_result ai_core::flag_op_exec(pipe& p, const flag_op& f, ps_t start) {
    const pipe_id here = f.set ? f.src : f.dst;
    if (here != p.id())
        raise(p.name(), f, p.id(),
              std::string(f.set ? "set_flag" : "wait_flag") + " must run in the " +
                  to_string(here) + " pipe");
    if (f.id >= m_p.event_ids)
        raise(p.name(), f, p.id(),
              "event id " + std::to_string(f.id) + " out of range 0.." +
                  std::to_string(m_p.event_ids - 1) + " on this chip");
    if (!get_pipe(f.src) || !get_pipe(f.dst))
        raise(p.name(), f, p.id(),
              std::string("no ") + (get_pipe(f.src) ? to_string(f.dst) : to_string(f.src)) +
                  " pipe on this core");
    uint8_t& bit = flag(f.src, f.dst, f.id);
    if (f.set) {
        // Sets once the pipe's earlier work has completed; the pipe holds until then.
        const ps_t t = std::max(start, p.settle());
        p.sync_to(t);  // another pipe observes the flag: simulation time must be there
        bit = 1;       // one bit: a second set before the wait is lost, as in hardware
        m_flag_changed.notify(sc_core::SC_ZERO_TIME);
        return {false, t, t};
    }
    p.sync_to(start);
    if (!bit) {
        p.set_waiting([src = f.src, dst = f.dst, id = f.id] {
            return std::string("flag ") + to_string(src) + "->" + to_string(dst) + " id " +
                   std::to_string(id);
        });
        while (!bit && !m_aborted) sc_core::wait(m_flag_changed);
        p.set_waiting(nullptr);
    }
    bit = 0;
    return {false, now_ps(), now_ps()};
}

exec_result ai_core::cross_flag_exec(pipe& p, const cross_flag_op& f, ps_t start) {
    if (f.id >= cross_flag_ids)
        raise(p.name(), f, p.id(),
              "cross-core flag id " + std::to_string(f.id) + " out of range 0.." +
                  std::to_string(cross_flag_ids - 1));
    if (m_partners.empty())
        raise(p.name(), f, p.id(), "cross-core flags need a split chip (no partner cores)");
    if (f.set) {
        const ps_t t = std::max(start, p.settle());
        p.sync_to(t);
        for (ai_core* c : m_partners) {
            if (c->m_cross_flags[f.id] >= cross_flag_max)
                raise(p.name(), f, p.id(),
                      "cross-core flag " + std::to_string(f.id) + " set more than " +
                          std::to_string(cross_flag_max) + " times without a wait on " + c->name());
            ++c->m_cross_flags[f.id];
            c->m_cross_changed.notify(sc_core::SC_ZERO_TIME);
        }
        return {false, t, t};
    }
    p.sync_to(start);
    if (m_cross_flags[f.id] == 0) {
        p.set_waiting([id = f.id] { return "cross-core flag id " + std::to_string(id); });
        while (m_cross_flags[f.id] == 0 && !m_aborted) sc_core::wait(m_cross_changed);
        p.set_waiting(nullptr);
    }
    if (m_cross_flags[f.id] > 0) --m_cross_flags[f.id];
    return {false, now_ps(), now_ps()};
}

// Bank timing of the core's own units: every operand books the banks it touches at the
// instruction's ready time, for the banks' time for its bytes but at most the instruction's
// issue occupancy (the buffers feed their unit at its rate; a DMA sees the banks busy). The
// sources must have their banks before the instruction starts: start = the latest grant of a
// read, later than ready on a bank conflict. Destination writes are booked and counted but
// delay nothing (results stream out as the instruction runs), so an in-place instruction does
// not conflict with itself; an accumulating mmad's L0C read-modify-write is one booking.
exec_result ai_core::mmad_exec(pipe& p, const mmad_op& op, ps_t ready) {
    if (p.id() != pipe_id::M) raise(p.name(), op, p.id(), "mmad runs in the M pipe");
    auto* a = buffer(mem_space::l0a);
    auto* b = buffer(mem_space::l0b);
    auto* c = buffer(mem_space::l0c);
    if (!a || !b || !c) raise(p.name(), op, p.id(), "this core has no cube buffers");
    auto* bt = buffer(mem_space::bt);
    m_cube.execute(op, a->data(), a->size(), b->data(), b->size(), c->data(), c->size(),
                   m_p.functional, bt ? bt->data() : nullptr, bt ? bt->size() : 0);
    const mmad_footprint fp = m_cube.footprint(op);
    const ps_t occ = std::max<uint64_t>(m_p.cube.issue_cycles, m_cube.work_cycles(op)) * m_period;
    ps_t start = ready;
    start = std::max(start, a->book_unit(op.a, fp.a, fp.a, 0, ready, occ));
    start = std::max(start, b->book_unit(op.b, fp.b, fp.b, 0, ready, occ));
    if (op.accumulate)
        start = std::max(start, c->book_unit(op.c, fp.c, fp.c, fp.c, ready, occ));
    else
        c->book_unit(op.c, fp.c, 0, fp.c, ready, occ);
    if (op.bias_table && bt)
        start = std::max(start, bt->book_unit(op.bt, fp.bias, fp.bias, 0, ready, occ));
    const ps_t issue_end = start + occ;
    return {true, issue_end, issue_end + m_p.cube.latency_cycles * m_period};
}

exec_result ai_core::vector_exec(pipe& p, const vector_op& op, ps_t ready) {
    if (p.id() != pipe_id::V) raise(p.name(), op, p.id(), "vector instructions run in the V pipe");
    auto* ub = buffer(mem_space::ub);
    if (!ub) raise(p.name(), op, p.id(), "this core has no UB");
    vector_footprint fp;
    m_vector.execute(op, ub->data(), m_p.functional, &fp);
    const ps_t occ = m_vector.issue_cycles(op) * m_period;
    ps_t start = ready;
    for (unsigned i = 0; i < fp.n_reads; ++i) {
        const auto& r = fp.reads[i];
        start = std::max(start, ub->book_unit(r.addr, r.len, r.len, 0, ready, occ));
    }
    ub->book_unit(fp.write.addr, fp.write.len, 0, fp.write.len, ready, occ);
    const ps_t issue_end = start + occ;
    return {true, issue_end, issue_end + m_p.vector.latency_cycles * m_period};
}

exec_result ai_core::execute(pipe& p, const instruction& ins, ps_t start) {
    if (m_aborted) return {false, start, start};
    return std::visit(overloaded{
                          [&](const dma_request& r) -> exec_result {
                              dma_engine* e = engine(p.id());
                              if (!e) raise(p.name(), ins, p.id(), "this pipe has no DMA engine");
                              // The engine books its local bursts at their start and hands
                              // its GM bursts to the burst dispatcher.
                              const dma_engine::timing t = e->execute(r, std::max(start, now_ps()));
                              return {true, t.issue_end, t.complete};
                          },
                          [&](const mmad_op& op) { return mmad_exec(p, op, start); },
                          [&](const vector_op& op) { return vector_exec(p, op, start); },
                          [&](const flag_op& f) { return flag_op_exec(p, f, start); },
                          [&](const cross_flag_op& f) { return cross_flag_exec(p, f, start); },
                          [&](const barrier_op&) -> exec_result {
                              // PipeBarrier<pipe>: the pipe's earlier work completes before
                              // anything later.
                              const ps_t t = std::max(start, p.settle());
                              return {false, t, t};
                          },
                      },
                      ins);
}

bool ai_core::settled(pipe& p, ps_t& complete) {
    complete = 0;
    dma_engine* e = engine(p.id());
    if (!e) return true;
    if (!e->settled()) return false;
    try {
        complete = e->settle();  // no wait: every burst is booked
    } catch (const model_fault& f) {
        on_fault(p, f.what());
    }
    return true;
}

const sc_core::sc_event& ai_core::progress(pipe& p) {
    return engine(p.id())->progress();  // asked only while not settled: there is an engine
}

void ai_core::on_fault(pipe& p, const std::string& what) {
    if (m_block_active && m_aborted) return;  // the block already stopped at its first fault
    m_fault = std::string("pipe ") + to_string(p.id()) + ": " + what;
    // The kernel stops: nothing queued runs, waits are released.
    for (auto& q : m_pipes) q->drop_queue();
    if (m_block_active) {
        m_aborted = true;
        m_flag_changed.notify(sc_core::SC_ZERO_TIME);
        m_cross_changed.notify(sc_core::SC_ZERO_TIME);
    }
}

void ai_core::attach_trace_all(trace_sink* sink) {
    for (auto& p : m_pipes) p->attach_trace(sink);
    for (auto& e : m_engines) e->attach_trace(sink);
}

traffic ai_core::traffic_caused() const {
    traffic t;
    for (const auto& e : m_engines) t += e->traffic_caused();
    return t;
}

}  // namespace npusim::models
