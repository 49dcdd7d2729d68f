// The context's host callback calls: host threads, report subscriptions and callback launches.
#include <fmt/format.h>

#include <algorithm>

#include "sw/runtime/api_call.h"
#include "sw/runtime/context.h"

namespace npusim::runtime {

unsigned context::spawn_host_thread(const std::string& name, std::function<void()> fn) {
    return m_state->api.spawn(name, std::move(fn));
}

status context::join_host_thread(unsigned thread) {
    runtime_state& st = *m_state;
    call c(st, "join_host_thread");
    status out = status::success;
    if (!c.host_thread(out)) return out;
    if (thread >= st.api.thread_count() || st.own_threads.count(thread) ||
        static_cast<int>(thread) == c.me())
        return c.fail(status::invalid_argument,
                      fmt::format("thread {} is not another host thread of the program; pass an "
                                  "id from spawn_host_thread",
                                  thread));
    runtime_state::host_wait w{"join_host_thread('" + st.api.thread_name(thread) + "')"};
    w.thread = int(thread);
    if (!c.begin_wait(std::move(w), out)) return out;
    st.api.join(thread);
    c.end_wait();
    return status::success;
}

int context::current_thread() const {
    return m_state->api.current_thread();
}

status context::subscribe_report(unsigned thread, stream* handle) {
    runtime_state& st = *m_state;
    call c(st, "subscribe_report");
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out)) return out;
    if (thread >= st.api.thread_count() || st.own_threads.count(thread))
        return c.fail(status::invalid_argument,
                      fmt::format("thread {} is not a host thread of the program; pass an id "
                                  "from spawn_host_thread or current_thread",
                                  thread));
    if (s->report_thread >= 0)
        return c.fail(status::already_subscribed,
                      "stream '" + s->name + "' already has report thread '" +
                          st.api.thread_name(s->report_thread) +
                          "'; a stream has one report thread (unsubscribe it first)");
    ++st.report_queue_of(thread).streams;
    s->report_thread = static_cast<int>(thread);
    return status::success;
}

status context::unsubscribe_report(unsigned thread, stream* handle) {
    runtime_state& st = *m_state;
    call c(st, "unsubscribe_report");
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out)) return out;
    if (s->report_thread != static_cast<int>(thread))
        return c.fail(status::not_subscribed, fmt::format("thread {} is not the report thread of "
                                                          "stream '{}'",
                                                          thread, s->name));
    --st.report_queues.at(thread)->streams;
    s->report_thread = -1;
    return status::success;
}

status context::process_report(models::ps_t timeout) {
    runtime_state& st = *m_state;
    call c(st, "process_report");
    status out = status::success;
    if (!c.outside_callback(out)) return out;
    if (timeout == 0)
        return c.fail(status::invalid_argument,
                      "a timeout of 0 is rejected (as in CANN); give a positive time or forever");
    auto keep = m_state;  // the context may be destroyed while this thread waits
    auto it = st.report_queues.find(static_cast<unsigned>(c.me()));
    if (it == st.report_queues.end() || (it->second->streams == 0 && it->second->items.empty()))
        return c.fail(status::not_subscribed,
                      "host thread '" + st.api.thread_name(c.me()) +
                          "' is subscribed to no stream; call subscribe_report(thread, stream) "
                          "first");
    report_queue& q = *it->second;
    const models::ps_t t0 = st.api.now();
    const bool slept = q.items.empty();
    while (q.items.empty()) {
        if (st.shutdown)
            return c.fail(status::context_destroyed, "the runtime context was destroyed");
        if (timeout == forever) {
            q.arrived.wait();
            continue;
        }
        const models::ps_t spent = st.api.now() - t0;
        if (spent >= timeout || !q.arrived.wait_for(timeout - spent)) {
            if (!q.items.empty()) break;
            return c.fail(status::report_timeout,
                          "no callback arrived within " + format_us(timeout));
        }
    }
    if (slept) st.api.delay(st.costs.thread_wakeup_ps);
    // A batch: wait up to the window after the first arrival for more, then run up to
    // opt.batch callbacks for one dispatch; the others pay only callback_batch_item.
    if (q.opt.batch > 1 && q.opt.window > 0) {
        const models::ps_t first = (*q.oldest())->posted;
        while (q.items.size() < q.opt.batch && st.api.now() < first + q.opt.window && !st.shutdown)
            q.arrived.wait_for(first + q.opt.window - st.api.now());
    }
    const size_t n = std::min<size_t>(q.items.size(), q.opt.batch);
    const models::ps_t start = st.api.now();
    for (size_t i = 0; i < n && !q.items.empty(); ++i) {
        const std::shared_ptr<report> r = q.take(st.api.now());
        st.run_report(*r, i == 0 ? st.costs.callback_ps : st.costs.callback_batch_item_ps);
    }
    ++q.stats.dispatches;
    q.stats.callbacks += n;
    if (n > 1 && st.api.spans_on()) {
        platform::activity_span sp{"host", st.api.thread_name(unsigned(c.me())),
                                   fmt::format("report batch ({} callbacks)", n), start,
                                   st.api.now()};
        sp.args = {{"callbacks", std::to_string(n)}};
        st.api.record_span(std::move(sp));
    }
    return status::success;
}

status context::set_report_options(unsigned thread, const report_options& opt) {
    runtime_state& st = *m_state;
    call c(st, "set_report_options");
    status out = status::success;
    if (!c.host_thread(out)) return out;
    if (thread >= st.api.thread_count() || st.own_threads.count(thread))
        return c.fail(status::invalid_argument,
                      fmt::format("thread {} is not a host thread of the program; pass an id "
                                  "from spawn_host_thread or current_thread",
                                  thread));
    if (opt.batch == 0)
        return c.fail(status::invalid_argument,
                      "batch is 0; deliver at least 1 callback per dispatch");
    st.report_queue_of(thread).opt = opt;
    return status::success;
}

report_stats context::report_statistics(unsigned thread) const {
    auto it = m_state->report_queues.find(thread);
    return it == m_state->report_queues.end() ? report_stats{} : it->second->stats;
}

status context::launch_callback(stream* handle, callback_fn fn, callback_block block,
                                const std::string& name, int priority) {
    runtime_state& st = *m_state;
    call c(st, "launch_callback");
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out)) return out;
    if (s->report_thread < 0)
        return c.fail(status::not_subscribed,
                      "stream '" + s->name +
                          "' has no report thread; call subscribe_report(thread, stream) "
                          "first, or use launch_host_func to run on the runtime's thread");
    if (!c.priority_arg(priority, true, out)) return out;
    task t;
    t.w = callback_work(name, std::move(fn), block == callback_block::block);
    t.report_thread = s->report_thread;
    t.priority = priority;
    return submit(st, "launch_callback", handle, std::move(t), st.costs.callback_launch_ps);
}

status context::launch_host_func(stream* handle, callback_fn fn, const std::string& name) {
    runtime_state& st = *m_state;
    call c(st, "launch_host_func");
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out)) return out;
    if (s->report_thread >= 0)
        return c.fail(status::invalid_argument,
                      "stream '" + s->name +
                          "' has a report thread; the two callback models must not be mixed on "
                          "one stream (use launch_callback, or unsubscribe first)");
    task t;
    t.w = callback_work(name, std::move(fn));
    return submit(st, "launch_host_func", handle, std::move(t), st.costs.callback_launch_ps);
}

}  // namespace npusim::runtime
