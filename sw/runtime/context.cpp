#include "sw/runtime/context.h"

#include <fmt/format.h>

#include <exception>

#include "sw/runtime/api_call.h"

namespace npusim::runtime {

context::context(platform::chip& chip, std::vector<platform::op_record>* ops)
    : m_state(std::make_shared<runtime_state>(chip, ops)) {
    runtime_state& st = *m_state;
    auto def = std::make_unique<stream>();
    def->name = "default";
    st.streams.push_back(std::move(def));
    st.start_executor(m_state, *st.streams.front());
    std::weak_ptr<runtime_state> weak = m_state;
    st.reporter = st.api.add_reporter([weak] {
        auto s = weak.lock();
        return s ? s->blocked_report() : std::string();
    });
}

context::~context() {
    runtime_state& st = *m_state;
    // Like destroying a device: outstanding work finishes first, unless this thread is being
    // unwound (after a deadlock) or an exception is on its way, when waiting is not possible.
    if (!st.api.unwinding() && std::uncaught_exceptions() == 0 && st.api.current_thread() >= 0) {
        st.host_waits[st.api.current_thread()] = {"context shutdown (waiting for all streams)"};
        st.wait_all_idle();
        st.host_waits.erase(st.api.current_thread());
    }
    for (auto& p : st.pinned) ::operator delete(reinterpret_cast<void*>(p.first));
    st.pinned.clear();
    st.shutdown = true;
    for (auto& s : st.streams) s->work.notify();
    for (auto& q : st.report_queues) q.second->arrived.notify();
    st.copy_arrived.notify();
    st.api.remove_reporter(st.reporter);
}

// --- streams ---

status context::create_stream(stream*& out, const stream_options& opt) {
    runtime_state& st = *m_state;
    call c(st, "create_stream");
    status bad = status::success;
    if (!c.host_thread(bad) || !c.priority_arg(opt.priority, false, bad)) return bad;
    auto s = std::make_unique<stream>();
    s->name = opt.name.empty() ? "stream" + std::to_string(st.streams.size()) : opt.name;
    s->id = st.streams.size();
    s->priority = s->base_priority = opt.priority;
    s->adaptive = opt.adaptive;
    s->mode = opt.mode;
    s->mode_set = opt.mode != failure_mode::continue_on_failure;
    out = s.get();
    st.streams.push_back(std::move(s));
    st.start_executor(m_state, *out);
    return status::success;
}

status context::destroy_stream(stream* handle) {
    runtime_state& st = *m_state;
    call c(st, "destroy_stream");
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out)) return out;
    if (!handle) return c.fail(status::invalid_argument, "the default stream cannot be destroyed");
    if (!c.begin_wait({"destroy_stream(stream '" + s->name + "')", s}, out)) return out;
    wait_idle(st, *s, 0, forever);
    c.end_wait();
    if (s->report_thread >= 0) --st.report_queues.at(s->report_thread)->streams;
    s->destroyed = true;
    s->work.notify();
    return status::success;
}

status context::set_failure_mode(stream* handle, failure_mode mode) {
    runtime_state& st = *m_state;
    call c(st, "set_failure_mode");
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out)) return out;
    if (s->mode_set)
        return c.fail(status::failure_mode_already_set,
                      "stream '" + s->name +
                          "' already has its failure mode; it can be chosen once, at "
                          "create_stream or with one set_failure_mode call");
    s->mode = mode;
    s->mode_set = true;
    return status::success;
}

status context::synchronize(stream* handle, models::ps_t timeout) {
    runtime_state& st = *m_state;
    call c(st, "synchronize");
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out)) return out;
    auto keep = m_state;  // the context may go while this thread waits
    const models::ps_t t0 = st.api.now();
    if (!c.begin_wait({"synchronize(stream '" + s->name + "')", s}, out, timeout)) return out;
    const bool idle = wait_idle(st, *s, t0, timeout);
    c.end_wait();
    if (!idle)
        return c.fail(status::stream_sync_timeout,
                      fmt::format("stream '{}' still had {} unfinished tasks after {}; give a "
                                  "longer timeout or look for work that cannot finish",
                                  s->name, s->pending, format_us(timeout)));
    st.api.delay(st.costs.sync_wakeup_ps);
    if (!s->error.failed()) return status::success;
    const error_info e = s->error;
    s->error = {};
    return c.fail(e);
}

status context::synchronize_device(models::ps_t timeout) {
    runtime_state& st = *m_state;
    call c(st, "synchronize_device");
    status out = status::success;
    if (!c.host_thread(out)) return out;
    auto keep = m_state;
    const models::ps_t t0 = st.api.now();
    for (auto& s : st.streams) {
        if (!c.begin_wait({"synchronize_device (stream '" + s->name + "')", s.get()}, out, timeout))
            return out;
        const bool idle = wait_idle(st, *s, t0, timeout);
        c.end_wait();
        if (!idle)
            return c.fail(status::stream_sync_timeout,
                          fmt::format("stream '{}' still had {} unfinished tasks after {}", s->name,
                                      s->pending, format_us(timeout)));
    }
    st.api.delay(st.costs.sync_wakeup_ps);
    error_info first;
    for (auto& s : st.streams) {
        if (!first.failed()) first = s->error;
        s->error = {};
    }
    return first.failed() ? c.fail(first) : status::success;
}

status context::query(stream* handle, bool& complete) {
    runtime_state& st = *m_state;
    call c(st, "query");
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out)) return out;
    complete = s->pending == 0;
    return status::success;
}
status context::set_stream_priority(stream* handle, int priority) {
    runtime_state& st = *m_state;
    call c(st, "set_stream_priority");
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out) ||
        !c.priority_arg(priority, false, out))
        return out;
    st.set_priority(*s, priority);
    return status::success;
}

status context::stream_priority(stream* handle, int& priority) const {
    runtime_state& st = *m_state;
    call c(st, "stream_priority");
    status out = status::success;
    stream* s = nullptr;
    if (!c.stream_arg(handle, s, out)) return out;
    priority = s->priority;
    return status::success;
}

// --- work ---

status context::launch(stream* s, const std::string& name, unsigned block_dim,
                       models::kernel_kind kind, kernel::kernel_fn fn, double flops,
                       uint64_t bytes) {
    kernel_info info;
    info.flops = flops;
    info.bytes = bytes;
    return launch(s, name, block_dim, kind, std::move(fn), info);
}

status context::launch(stream* s, const std::string& name, unsigned block_dim,
                       models::kernel_kind kind, kernel::kernel_fn fn, const kernel_info& info) {
    task t;
    t.w = kernel_work(name, block_dim, kind, std::move(fn), info);
    return submit(*m_state, "launch", s, std::move(t), m_state->costs.launch_ps);
}

status context::memcpy_to_device(stream* s, uint64_t dst, const void* src, uint64_t bytes) {
    task t;
    t.w = to_device_work("memcpy_h2d", dst, src, bytes);
    if (status d = pageable_copy_can_wait(*m_state, "memcpy_to_device", s, src, bytes);
        d != status::success)
        return d;
    const status r =
        submit(*m_state, "memcpy_to_device", s, std::move(t), m_state->costs.memcpy_setup_ps);
    return finish_if_pageable(*m_state, s, r, src, bytes);
}

status context::memcpy_to_host(stream* s, void* dst, uint64_t src, uint64_t bytes) {
    task t;
    t.w = to_host_work("memcpy_d2h", dst, src, bytes);
    if (status d = pageable_copy_can_wait(*m_state, "memcpy_to_host", s, dst, bytes);
        d != status::success)
        return d;
    const status r =
        submit(*m_state, "memcpy_to_host", s, std::move(t), m_state->costs.memcpy_setup_ps);
    return finish_if_pageable(*m_state, s, r, dst, bytes);
}

status context::memcpy_on_device(stream* s, uint64_t dst, uint64_t src, uint64_t bytes) {
    task t;
    t.w = on_device_work("memcpy_d2d", dst, src, bytes);
    return submit(*m_state, "memcpy_on_device", s, std::move(t), m_state->costs.memcpy_setup_ps);
}

status context::memset(stream* s, uint64_t dst, uint8_t value, uint64_t bytes) {
    task t;
    t.w = memset_work("memset", dst, value, bytes);
    return submit(*m_state, "memset", s, std::move(t), m_state->costs.memcpy_setup_ps);
}

// --- events ---

status context::create_event(event*& out, const std::string& name) {
    runtime_state& st = *m_state;
    call c(st, "create_event");
    status bad = status::success;
    if (!c.host_thread(bad)) return bad;
    auto e = std::make_unique<event>();
    e->name = name.empty() ? "event" + std::to_string(st.events.size()) : name;
    out = e.get();
    st.events.push_back(std::move(e));
    return status::success;
}

status context::destroy_event(event* e) {
    call c(*m_state, "destroy_event");
    status out = status::success;
    if (!c.host_thread(out) || !c.event_arg(e, "the event", out)) return out;
    e->destroyed = true;  // kept in memory: queued records and waits still refer to it
    return status::success;
}

status context::record_event(event* e, stream* s) {
    call c(*m_state, "record_event");
    status out = status::success;
    if (!c.event_arg(e, "the event", out)) return out;
    task t;
    t.w.kind = work_kind::event_record;
    t.w.name = e->name;
    t.ev = e;
    return submit(*m_state, "record_event", s, std::move(t), m_state->costs.event_record_ps);
}

status context::stream_wait_event(stream* s, event* e) {
    call c(*m_state, "stream_wait_event");
    status out = status::success;
    if (!c.event_arg(e, "the event", out)) return out;
    task t;
    t.w.kind = work_kind::event_wait;
    t.w.name = e->name;
    t.ev = e;
    t.gen = e->recorded ? e->recorded : 1;
    return submit(*m_state, "stream_wait_event", s, std::move(t), m_state->costs.event_record_ps);
}

status context::synchronize_event(event* e, models::ps_t timeout) {
    runtime_state& st = *m_state;
    call c(st, "synchronize_event");
    status out = status::success;
    if (!c.host_thread(out) || !c.event_arg(e, "the event", out)) return out;
    auto keep = m_state;
    const uint64_t gen = e->recorded ? e->recorded : 1;
    const models::ps_t t0 = st.api.now();
    if (!c.begin_wait({"synchronize_event(event '" + e->name + "')", nullptr, e, gen}, out,
                      timeout))
        return out;
    bool timed_out = false;
    while (!e->done(gen) && !timed_out) {
        if (timeout == forever) {
            e->changed.wait();
            continue;
        }
        const models::ps_t spent = st.api.now() - t0;
        timed_out = spent >= timeout || !e->changed.wait_for(timeout - spent);
    }
    c.end_wait();
    if (!e->done(gen))
        return c.fail(status::event_sync_timeout,
                      "event '" + e->name + "' did not complete within " + format_us(timeout) +
                          ": " + runtime_state::event_detail(*e, gen));
    st.api.delay(st.costs.sync_wakeup_ps);
    const error_info& r = e->records[gen - 1].result;
    if (r.code == status::task_cancelled) return c.fail(r);
    return status::success;
}

status context::query_event(event* e, bool& complete) {
    call c(*m_state, "query_event");
    status out = status::success;
    if (!c.host_thread(out) || !c.event_arg(e, "the event", out)) return out;
    complete = e->recorded > 0 && e->done(e->recorded);
    return status::success;
}

status context::event_elapsed_time(double& ms, event* start, event* end) {
    call c(*m_state, "event_elapsed_time");
    status out = status::success;
    if (!c.host_thread(out) || !c.event_arg(start, "the start event", out) ||
        !c.event_arg(end, "the end event", out))
        return out;
    for (const event* e : {start, end}) {
        if (e->recorded == 0)
            return c.fail(status::invalid_argument,
                          "event '" + e->name + "' was never recorded; record it first");
        if (!e->done(e->recorded))
            return c.fail(status::not_ready, "the latest record of event '" + e->name +
                                                 "' has not completed; synchronize_event first");
    }
    const double t0 = double(start->records[start->recorded - 1].time);
    const double t1 = double(end->records[end->recorded - 1].time);
    ms = (t1 - t0) / 1e9;
    return status::success;
}
// --- task graphs ---

status context::instantiate(graph_exec*& out, const task_graph& g) {
    runtime_state& st = *m_state;
    call c(st, "instantiate");
    status bad = status::success;
    if (!c.host_thread(bad)) return bad;
    const auto cycle = g.find_cycle();
    if (!cycle.empty()) {
        std::string path;
        for (auto n : cycle) path += (path.empty() ? "'" : " -> '") + g.at(n).name + "'";
        return c.fail(status::graph_cycle, "graph '" + g.name() + "' has a cycle: " + path +
                                               "; remove one of these dependencies");
    }
    auto ge = std::make_unique<graph_exec>();
    ge->graph = g;
    ge->indegree.assign(g.size(), 0);
    for (unsigned n = 0; n < g.size(); ++n) {
        if (const std::string why = check_work(st, g.at(n)); !why.empty())
            return c.fail(status::invalid_argument,
                          "graph '" + g.name() + "' node '" + g.at(n).name + "': " + why);
        for (unsigned s : g.successors(n)) ++ge->indegree[s];
    }
    out = ge.get();
    st.graphs.push_back(std::move(ge));
    return status::success;
}

status context::launch_graph(graph_exec* g, stream* s) {
    runtime_state& st = *m_state;
    call c(st, "launch_graph");
    bool known = false;
    for (auto& p : st.graphs) known |= p.get() == g && !g->destroyed;
    if (!known)
        return c.fail(status::invalid_handle,
                      "the graph is not one of this context's instantiated graphs or was "
                      "destroyed; use one from instantiate");
    task t;
    t.w.kind = work_kind::graph;
    t.w.name = g->graph.name();
    t.graph = g;
    return submit(st, "launch_graph", s, std::move(t), st.costs.launch_ps);
}

status context::destroy_graph(graph_exec* g) {
    runtime_state& st = *m_state;
    call c(st, "destroy_graph");
    for (auto& p : st.graphs)
        if (p.get() == g && !g->destroyed) {
            g->destroyed = true;  // kept in memory: queued launches still run it
            return status::success;
        }
    return c.fail(status::invalid_handle, "the graph is not one of this context's graphs");
}

// --- errors and introspection ---

error_info context::get_last_error() {
    auto& errors = m_state->last_error;
    auto it = errors.find(m_state->api.current_thread());
    if (it == errors.end()) return {};
    error_info e = std::move(it->second);
    errors.erase(it);
    return e;
}

error_info context::peek_last_error() const {
    auto& errors = m_state->last_error;
    auto it = errors.find(m_state->api.current_thread());
    return it == errors.end() ? error_info{} : it->second;
}

uint64_t context::submitted(stream* handle) const {
    for (const auto& p : m_state->streams)
        if ((handle ? p.get() == handle : p == m_state->streams.front()) && !p->destroyed)
            return p->next_seq;
    return 0;
}

const std::deque<task_record>& context::timeline() const {
    return m_state->timeline;
}

std::string context::timeline_text() const {
    std::string s;
    for (const task_record& r : m_state->timeline)
        s += fmt::format("{} #{} {} '{}' submitted {} start {} end {} ps: {}\n", r.stream, r.seq,
                         r.kind, r.name, r.submitted, r.start, r.end, to_string(r.result));
    return s;
}

}  // namespace npusim::runtime
