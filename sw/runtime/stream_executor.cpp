// Stream execution: one simulated thread per stream runs its tasks in order.
#include <fmt/format.h>

#include <algorithm>

#include "models/common/model_fault.h"
#include "sw/runtime/runtime_state.h"

namespace npusim::runtime {

namespace {

std::string where(const stream& s, uint64_t seq) {
    return "stream '" + s.name + "' task #" + std::to_string(seq);
}

/// Waits for an adaptive stream's kernel, promoting the stream each time the kernel is still
/// running at another 1.5x its expected time; demotes it (down to its base + 2) if the kernel
/// took under 0.5x.
void adapt(runtime_state& st, stream& s, const work& w, models::ps_t dispatched, const bool& done) {
    auto best = s.fastest.find(w.name);
    const models::ps_t expected = w.expected_ps             ? w.expected_ps
                                  : best == s.fastest.end() ? 0
                                                            : best->second;
    models::ps_t next = dispatched + expected * 3 / 2;
    while (!done) {
        if (expected == 0) {
            s.step.wait();
            continue;
        }
        if (st.api.now() < next && s.step.wait_for(next - st.api.now())) continue;
        if (done) break;
        if (s.priority > 0) st.set_priority(s, s.priority - 1);
        next += expected * 3 / 2;
    }
    const models::ps_t took = st.api.now() - dispatched;
    if (expected && took * 2 < expected && s.priority < std::min(7, s.base_priority + 2))
        st.set_priority(s, s.priority + 1);
    if (best == s.fastest.end() || took < best->second) s.fastest[w.name] = took;
}

void execute(const std::shared_ptr<runtime_state>& self, stream& s, task& t) {
    runtime_state& st = *self;
    const models::ps_t start = st.api.now();
    const work& w = t.w;
    switch (w.kind) {
        case work_kind::kernel: {
            bool done = false;
            models::launch_record rec;
            s.launch = st.api.submit_kernel({w.name, w.block_dim, w.cores, s.priority,
                                             kernel::block_body(w.kernel),
                                             [&](const models::launch_record& r) {
                                                 rec = r;
                                                 done = true;
                                                 s.step.notify();
                                             }});
            if (s.adaptive)
                adapt(st, s, w, start, done);
            else
                while (!done) s.step.wait();
            s.launch = ~uint64_t(0);
            const models::ps_t first = st.record_kernel(w, rec);
            const error_info e = rec.fault.empty() && !st.poisoning
                                     ? error_info{}
                                     : st.kernel_error(w, where(s, t.seq), rec);
            if (e.failed()) st.fail(s, e);
            st.finish(s, t, first, e.code);
            return;
        }
        case work_kind::memcpy_h2d:
        case work_kind::memcpy_d2h:
        case work_kind::memcpy_d2d:
        case work_kind::memset: {
            error_info e = st.run_copy(w);
            if (e.failed()) {
                e.message = where(s, t.seq) + ": " + e.message;
                st.fail(s, e);
            }
            st.finish(s, t, start, e.code);
            return;
        }
        case work_kind::event_record: {
            event_record& r = t.ev->records[t.gen - 1];
            r.done = true;
            r.time = start;
            r.result = s.error;
            t.ev->changed.notify();
            st.finish(s, t, start, status::success);
            return;
        }
        case work_kind::event_wait: {
            while (!t.ev->done(t.gen)) t.ev->changed.wait();
            const error_info& r = t.ev->records[t.gen - 1].result;
            if (r.code == status::task_cancelled) {  // its producer stopped: so do we
                const error_info e{status::task_cancelled, where(s, t.seq) + " waited on event '" +
                                                               t.ev->name + "': " + r.message};
                if (!s.error.failed()) s.error = e;
                st.finish(s, t, start, e.code);
                st.stop(s, e);
            } else {
                if (r.failed())
                    st.fail(s, {r.code, where(s, t.seq) + " waited on event '" + t.ev->name +
                                            "' recorded after a failure: " + r.message});
                st.finish(s, t, start, r.code);
            }
            return;
        }
        case work_kind::callback: {
            auto rep = std::make_shared<report>();
            rep->w = w;
            rep->before = s.error.code;
            rep->s = &s;
            rep->seq = t.seq;
            rep->priority = t.priority >= 0 ? t.priority : s.priority;
            report_queue& q = t.report_thread >= 0 ? *st.report_queues.at(t.report_thread)
                                                   : st.runtime_queue(self);
            if (w.blocking) {
                bool done = false;
                rep->on_done = [&done, &s](report&) {
                    done = true;
                    s.step.notify();
                };
                st.post(q, rep);
                while (!done) s.step.wait();
                if (rep->error.failed()) st.fail(s, rep->error);
                st.finish(s, t, rep->start, rep->error.code);
            } else {  // later work goes on; the callback finishes the task when it has run
                stream* sp = &s;
                const uint64_t seq = t.seq;
                const models::ps_t submitted = t.submitted;
                const uint64_t flow = t.flow;
                rep->on_done = [self, sp, seq, submitted, flow](report& r) {
                    if (r.error.failed()) self->fail(*sp, r.error);
                    self->record_timeline(sp->name, seq, r.w, submitted, r.start, r.error.code,
                                          flow);
                    self->end_task(*sp, seq);
                };
                st.post(q, rep);
            }
            return;
        }
        case work_kind::graph: {
            const error_info e = st.run_graph(self, s, *t.graph, t.seq);
            if (e.failed()) st.fail(s, e);
            st.finish(s, t, start, e.code);
            return;
        }
    }
}

}  // namespace

void runtime_state::start_executor(const std::shared_ptr<runtime_state>& self, stream& s) {
    stream* sp = &s;
    spawn_own("stream " + s.name, [self, sp] {
        stream& s = *sp;
        for (;;) {
            while (s.queue.empty() && !self->shutdown && !s.destroyed) s.work.wait();
            if (s.queue.empty()) return;
            task t = std::move(s.queue.front());
            s.queue.pop_front();
            s.current = &t;
            execute(self, s, t);
            s.current = nullptr;
        }
    });
}

void runtime_state::fail(stream& s, const error_info& e) {
    if (!s.error.failed()) s.error = e;
    if (s.mode == failure_mode::stop_on_failure && !s.stopped) stop(s, e);
}

void runtime_state::stop(stream& s, const error_info& cause) {
    s.stopped = true;
    s.stop_cause = cause;
    const error_info cancelled{status::task_cancelled,
                               "stream '" + s.name + "' stopped after: " + cause.message};
    std::deque<task> queued;
    queued.swap(s.queue);
    for (task& t : queued) {
        if (t.w.kind == work_kind::event_record) {  // so its waiters learn of it and stop too
            event_record& r = t.ev->records[t.gen - 1];
            r.done = true;
            r.time = api.now();
            r.result = cancelled;
            t.ev->changed.notify();
        }
        finish(s, t, api.now(), status::task_cancelled);
    }
}

void runtime_state::finish(stream& s, const task& t, models::ps_t start, status result) {
    record_timeline(s.name, t.seq, t.w, t.submitted, start, result, t.flow);
    end_task(s, t.seq);
}

void runtime_state::end_task(stream& s, uint64_t seq) {
    // Tasks end in order except non-blocking callbacks: keep the finished prefix exact.
    if (seq == s.done_prefix) {
        ++s.done_prefix;
        while (!s.done_ahead.empty() && *s.done_ahead.begin() == s.done_prefix) {
            s.done_ahead.erase(s.done_ahead.begin());
            ++s.done_prefix;
        }
    } else {
        s.done_ahead.insert(seq);
    }
    --s.pending;
    record_queue_depth(s);
    s.changed.notify();
}

void runtime_state::record_timeline(const std::string& stream, uint64_t seq, const work& w,
                                    models::ps_t submitted, models::ps_t start, status result,
                                    uint64_t flow) {
    timeline.push_back({stream, seq, to_string(w.kind), w.name, submitted, start, api.now(), result,
                        memory.allocated_bytes()});
    if (!api.spans_on()) return;
    platform::activity_span sp{"streams", stream, w.name, start, api.now(), 0, flow};
    sp.args = {{"kind", to_string(w.kind)},
               {"seq", std::to_string(seq)},
               {"status", to_string(result)},
               {"queued_us", fmt::format("{:.3f}", (start - submitted) / 1e6)}};
    if (w.kind == work_kind::kernel) {
        if (!w.op.empty()) sp.args.emplace_back("op", w.op);
        if (!w.kernel_name.empty()) sp.args.emplace_back("kernel", w.kernel_name);
        if (!w.tiling.empty()) sp.args.emplace_back("tiling", w.tiling);
        sp.args.emplace_back("blocks", std::to_string(w.block_dim));
        sp.args.emplace_back("flops", fmt::format("{:.6g}", w.flops));
    }
    if (w.bytes) sp.args.emplace_back("bytes", std::to_string(w.bytes));
    api.record_span(std::move(sp));
}

void runtime_state::set_priority(stream& s, int priority) {
    s.priority = priority;
    if (s.launch != ~uint64_t(0)) api.set_kernel_priority(s.launch, priority);
    if (api.spans_on()) api.record_counter("priority " + s.name, double(priority));
}

void runtime_state::record_queue_depth(const stream& s) const {
    if (api.spans_on()) api.record_counter("queue depth " + s.name, double(s.pending));
}

void runtime_state::record_memory_in_use() const {
    if (!api.spans_on()) return;
    const auto st = memory.stats();
    api.record_counter("device memory allocated MiB",
                       double(st.at("allocated_bytes.all.current")) / 1048576);
    api.record_counter("device memory reserved MiB",
                       double(st.at("reserved_bytes.all.current")) / 1048576);
}

error_info runtime_state::run_copy(const work& w) {
    const models::ps_t start = api.now();
    try {
        switch (w.kind) {
            case work_kind::memcpy_h2d:
                api.copy_to_device(w.dst, w.host_src, w.bytes);
                break;
            case work_kind::memcpy_d2h:
                api.copy_to_host(w.host_dst, w.src, w.bytes);
                break;
            case work_kind::memcpy_d2d:
                api.copy_on_device(w.dst, w.src, w.bytes);
                break;
            default:
                api.fill_device(w.dst, w.value, w.bytes);
                break;
        }
    } catch (const models::model_fault& f) {
        return {status::copy_exception,
                std::string(to_string(w.kind)) + " '" + w.name + "' failed: " + f.what()};
    }
    if (ops)
        ops->push_back({w.name, w.kind == work_kind::memset ? "memset" : "memcpy", start, api.now(),
                        0, w.bytes});
    return {};
}

models::ps_t runtime_state::record_kernel(const work& w, const models::launch_record& rec) {
    models::ps_t first = rec.end;
    for (const auto& b : rec.blocks) first = std::min(first, b.start);
    if (ops) {
        platform::op_record o;
        o.name = w.name;
        o.type = "kernel";
        o.op = w.op;
        o.kernel = w.kernel_name;
        o.tiling = w.tiling;
        o.start_ps = first;
        o.end_ps = rec.end;
        o.flops = w.flops;
        o.bytes = w.bytes;
        platform::add_launch(o, rec);
        ops->push_back(std::move(o));
    }
    return first;
}

error_info runtime_state::kernel_error(const work& w, const std::string& at,
                                       const models::launch_record& rec) const {
    if (rec.fault.empty()) {
        if (!poisoning) return {};
        models::ps_t first = rec.end;
        for (const auto& b : rec.blocks) first = std::min(first, b.start);
        const auto reads = api.freed_reads(first, rec.end);
        if (reads.empty()) return {};
        std::string list;
        for (size_t i = 0; i < reads.size() && i < 4; ++i) list += (i ? ", " : "") + reads[i];
        return {status::freed_memory_read,
                at + ": kernel '" + w.name + "' read freed device memory: " + list +
                    (reads.size() > 4 ? ", ..." : "") +
                    " (memory.poison_freed is on; free the block only after its last use)"};
    }
    const bool vector_core = chip.config().split && w.cores == models::kernel_kind::vector;
    return {vector_core ? status::vector_core_exception : status::aicore_exception,
            at + ": kernel '" + w.name + "' faulted in " + rec.fault};
}

}  // namespace npusim::runtime
