// Deadlocks caught as they form: a walk of the wait-for graph of streams, event records, host
// threads and callbacks from a new wait, looking for the waiter itself (a cycle) or an event
// that nothing left can record.
#include <map>
#include <set>

#include "sw/runtime/runtime_state.h"

namespace npusim::runtime {

namespace {

/// Who waits: a host thread, or task `seq` of stream `s`.
struct waiter {
    int thread = -1;
    const stream* s = nullptr;
    uint64_t seq = 0;
};

class walk {
  public:
    walk(const runtime_state& st, waiter who) : m_st(st), m_who(who) {}

    /// The cycle or dead end found, each step on its own line; empty if the wait can end.
    std::string result() const { return m_found; }

    bool stream_until(const stream& s, uint64_t upto) {
        if (m_who.s == &s && upto > m_who.seq)
            return close("stream '" + s.name + "' task #" + std::to_string(m_who.seq));
        auto [it, fresh] = m_streams.emplace(&s, upto);
        if (!fresh) {
            if (it->second >= upto) return false;
            it->second = upto;
        }
        auto task_needs = [&](const task& t) {
            if (t.seq >= upto) return false;
            auto at = [&] { return "stream '" + s.name + "' task #" + std::to_string(t.seq); };
            switch (t.w.kind) {
                case work_kind::event_wait:
                    return step(at() + " waits for event '" + t.ev->name + "' record #" +
                                    std::to_string(t.gen),
                                [&] { return event_record_done(*t.ev, t.gen); });
                case work_kind::callback:  // once running, it is in a report queue
                    return &t != s.current &&
                           callback_thread(at() + " is callback '" + t.w.name + "'",
                                           t.report_thread);
                case work_kind::graph:
                    for (unsigned n = 0; n < t.graph->graph.size(); ++n)
                        if (t.graph->graph.at(n).kind == work_kind::callback)
                            return callback_thread(at() + " is graph '" + t.graph->graph.name() +
                                                       "' with host node '" +
                                                       t.graph->graph.at(n).name + "'",
                                                   -1);
                    return false;
                default:
                    return false;
            }
        };
        if (s.current && task_needs(*s.current)) return true;
        for (const task& t : s.queue)
            if (task_needs(t)) return true;
        // Non-blocking callbacks are still pending once posted to their thread.
        for (const auto& [thread, q] : m_st.report_queues)
            for (const auto& r : q->items)
                if (r->s == &s && r->seq < upto &&
                    step("stream '" + s.name + "' task #" + std::to_string(r->seq) +
                             " is callback '" + r->w.name + "', queued for host thread '" +
                             m_st.api.thread_name(thread) + "'",
                         [&, t = thread] { return host_thread(int(t)); }))
                    return true;
        for (const auto& [thread, r] : m_st.in_callback)
            if (r->s == &s && r->seq < upto &&
                step("stream '" + s.name + "' task #" + std::to_string(r->seq) + " is callback '" +
                         r->w.name + "', running on host thread '" +
                         m_st.api.thread_name(unsigned(thread)) + "'",
                     [&, t = thread] { return host_thread(t); }))
                return true;
        return false;
    }

    bool event_record_done(const event& e, uint64_t gen) {
        if (gen > e.recorded) {
            if (m_who.thread < 0 || !nothing_can_record()) return false;
            m_found = lines() + "event '" + e.name +
                      "' has never been recorded, and no other host thread or pending callback "
                      "is left to record it";
            m_dead_end = true;
            return true;
        }
        const event_record& r = e.records[gen - 1];
        if (r.done || !r.on) return false;
        return step("event '" + e.name + "' record #" + std::to_string(gen) + " is task #" +
                        std::to_string(r.seq) + " of stream '" + r.on->name + "'",
                    [&] { return stream_until(*r.on, r.seq); });
    }

    bool host_thread(int thread) {
        if (thread == m_who.thread)
            return close("host thread '" + m_st.api.thread_name(unsigned(thread)) + "'");
        if (!m_threads.insert(thread).second) return false;
        auto it = m_st.host_waits.find(thread);
        if (it == m_st.host_waits.end()) return false;  // it is free to make progress
        return step("host thread '" + m_st.api.thread_name(unsigned(thread)) + "' waits in " +
                        it->second.call,
                    [&] { return wait(it->second); });
    }

    bool wait(const runtime_state::host_wait& w) {
        if (w.s) return stream_until(*w.s, w.upto);
        if (w.ev) return event_record_done(*w.ev, w.gen);
        if (w.thread >= 0) return host_thread(w.thread);
        return false;
    }

    bool dead_end() const { return m_dead_end; }

  private:
    template <class F>
    bool step(const std::string& what, F&& next) {
        m_path.push_back(what);
        const bool found = next();
        m_path.pop_back();
        return found;
    }

    bool callback_thread(const std::string& what, int report_thread) {
        if (report_thread < 0 && !m_st.runtime_callbacks) return false;
        const int thread = report_thread >= 0 ? report_thread : int(m_st.runtime_callbacks->thread);
        return step(
            what + ", which runs on host thread '" + m_st.api.thread_name(unsigned(thread)) + "'",
            [&] { return host_thread(thread); });
    }

    bool close(const std::string& back_to) {
        m_found = lines() + "which is where the wait started: " + back_to;
        return true;
    }

    std::string lines() const {
        std::string out;
        for (const auto& p : m_path) out += "  " + p + "\n";
        return out + "  ";
    }

    /// No other program thread is alive, and no callback is queued or running elsewhere.
    bool nothing_can_record() const {
        for (unsigned t = 0; t < m_st.api.thread_count(); ++t)
            if (int(t) != m_who.thread && !m_st.own_threads.count(t) && m_st.api.alive(t))
                return false;
        for (const auto& [thread, q] : m_st.report_queues)
            if (!q->items.empty()) return false;
        for (const auto& [thread, r] : m_st.in_callback)
            if (thread != m_who.thread) return false;
        for (const auto& s : m_st.streams) {
            auto has_callback = [](const task& t) {
                return t.w.kind == work_kind::callback || t.w.kind == work_kind::graph;
            };
            if (s->current && has_callback(*s->current)) return false;
            for (const task& t : s->queue)
                if (has_callback(t)) return false;
        }
        return true;
    }

    const runtime_state& m_st;
    waiter m_who;
    std::map<const stream*, uint64_t> m_streams;  ///< tasks below this walked already
    std::set<int> m_threads;
    std::vector<std::string> m_path;
    std::string m_found;
    bool m_dead_end = false;
};

std::string with_fix(const std::string& chain, bool dead_end) {
    return "deadlock: this wait can never end:\n" + chain +
           (dead_end ? "\nrecord the event (or launch the work that records it) before waiting "
                       "on it"
                     : "\nbreak the cycle: record each event before work waits on it, and do "
                       "not wait in a host thread (or callback) for a stream whose callbacks "
                       "that thread must run; a callback can launch the next step instead of "
                       "waiting for it");
}

}  // namespace

std::string runtime_state::closes_cycle(int me, const host_wait& w) const {
    walk k(*this, {me, nullptr, 0});
    if (!k.wait(w)) return "";
    return with_fix("  host thread '" + api.thread_name(unsigned(me)) + "' waits in " + w.call +
                        "\n" + k.result(),
                    k.dead_end());
}

std::string runtime_state::closes_cycle(const stream& s, const task& t) const {
    auto stream_wait = [&](const stream& ws, const task& wt) -> std::string {
        walk k(*this, {-1, &ws, wt.seq});
        if (!k.event_record_done(*wt.ev, wt.gen)) return "";
        return with_fix("  stream '" + ws.name + "' task #" + std::to_string(wt.seq) +
                            " waits for event '" + wt.ev->name + "' record #" +
                            std::to_string(wt.gen) + "\n" + k.result(),
                        false);
    };
    if (t.w.kind == work_kind::event_wait) {
        if (auto c = stream_wait(s, t); !c.empty()) return c;
    } else if (t.w.kind == work_kind::event_record) {
        for (const auto& o : streams) {  // streams already waiting for this very record
            if (o->current && o->current->w.kind == work_kind::event_wait &&
                o->current->ev == t.ev && o->current->gen == t.gen)
                if (auto c = stream_wait(*o, *o->current); !c.empty()) return c;
            for (const task& q : o->queue)
                if (q.w.kind == work_kind::event_wait && q.ev == t.ev && q.gen == t.gen)
                    if (auto c = stream_wait(*o, q); !c.empty()) return c;
        }
    } else if (t.w.kind != work_kind::callback && t.w.kind != work_kind::graph) {
        return "";
    }
    for (const auto& [thread, w] : host_waits)
        if (auto c = closes_cycle(thread, w); !c.empty()) return c;
    return "";
}

}  // namespace npusim::runtime
