#pragma once
// The checks and bookkeeping every runtime API call shares: the calling thread, argument
// checks, the last error, and queueing a task on a stream. Internal to sw/runtime.
#include <string>

#include "sw/runtime/runtime_state.h"

namespace npusim::runtime {

/// @brief "12.5 us", for messages.
std::string format_us(models::ps_t ps);

/// @brief One API call: who calls, what may fail, and the last error it leaves.
class call {
  public:
    call(runtime_state& st, const char* what)
        : m_st(st), m_what(what), m_me(st.api.current_thread()), m_start(st.api.now()) {}
    /// The call's span on its host thread's timeline track (when it took simulated time).
    ~call() {
        if (m_me >= 0 && m_st.api.spans_on() && m_st.api.now() > m_start)
            m_st.api.record_span({"host", m_st.api.thread_name(unsigned(m_me)), m_what, m_start,
                                  m_st.api.now(), m_flow});
    }
    /// The call's span starts a flow to the work it queued.
    void set_flow(uint64_t flow) { m_flow = flow; }
    call(const call&) = delete;
    call& operator=(const call&) = delete;

    /// Records the error for the calling thread and returns its code.
    status fail(status code, const std::string& why) {
        m_st.last_error[m_me] = {code, std::string(m_what) + ": " + why};
        return code;
    }
    status fail(const error_info& e) {
        m_st.last_error[m_me] = e;
        return e.code;
    }
    /// The caller must be a host thread.
    bool host_thread(status& out) {
        if (m_me >= 0) return true;
        out = fail(status::invalid_argument,
                   "called outside a simulated host thread (from a kernel or before the "
                   "simulation started); call the runtime from the host program or a thread "
                   "from spawn_host_thread");
        return false;
    }
    /// The call is one a callback may not make (processing reports from inside a report).
    bool outside_callback(status& out) {
        if (!host_thread(out)) return false;
        auto it = m_st.in_callback.find(m_me);
        if (it == m_st.in_callback.end()) return true;
        out = fail(status::not_permitted_in_callback,
                   "not permitted inside callback '" + it->second->w.name + "' (" +
                       it->second->origin() +
                       "): reports are processed one at a time; return from the callback and "
                       "let the report loop call process_report again");
        return false;
    }
    /// Starts host wait `w` on the calling thread, unless a wait without a timeout would close
    /// a wait-for cycle (or wait on an event nothing can record): then it fails with the cycle.
    bool begin_wait(runtime_state::host_wait w, status& out, models::ps_t timeout = forever) {
        if (const std::string cycle = timeout == forever ? m_st.closes_cycle(m_me, w) : "";
            !cycle.empty()) {
            out = fail(status::deadlock, cycle);
            return false;
        }
        m_st.host_waits[m_me] = std::move(w);
        return true;
    }
    void end_wait() { m_st.host_waits.erase(m_me); }
    bool stream_arg(stream* handle, stream*& s, status& out) {
        if (!handle) {
            s = m_st.streams.front().get();
            return true;
        }
        for (auto& p : m_st.streams)
            if (p.get() == handle && !p->destroyed) {
                s = handle;
                return true;
            }
        out = fail(status::invalid_handle,
                   "the stream is not one of this context's streams or was destroyed; use a "
                   "stream from create_stream, or nullptr for the default stream");
        return false;
    }
    bool event_arg(event* e, const char* role, status& out) {
        for (auto& p : m_st.events)
            if (p.get() == e && e && !e->destroyed) return true;
        out = fail(status::invalid_handle,
                   std::string(role) +
                       " is not one of this context's events or was destroyed; use an event "
                       "from create_event");
        return false;
    }
    /// A priority 0 (highest) to 7; -1 (the stream's) too if `stream_default`.
    bool priority_arg(int priority, bool stream_default, status& out) {
        if (priority >= (stream_default ? -1 : 0) && priority <= 7) return true;
        out =
            fail(status::invalid_argument, "priority " + std::to_string(priority) +
                                               " is out of range; use 0 (highest) to 7 (lowest)" +
                                               (stream_default ? ", or -1 for the stream's" : ""));
        return false;
    }
    int me() const { return m_me; }

  private:
    runtime_state& m_st;
    const char* m_what;
    int m_me;
    models::ps_t m_start;
    uint64_t m_flow = 0;
};

/// @brief Waits until the stream has no unfinished work or the deadline passes; false on
/// timeout.
bool wait_idle(runtime_state& st, stream& s, models::ps_t t0, models::ps_t timeout);

/// @brief What is wrong with a work item before it is queued, or "".
std::string check_work(const runtime_state& st, const work& w);

/// @brief Queues a task on a stream after the host-side cost; refuses stopped streams.
status submit(runtime_state& st, const char* what, stream* handle, task t, models::ps_t cost);

/// @brief A copy from or to pageable host memory returns only once it has run, as on the real
/// runtime. Checked before the copy is queued: waiting for it must not close a cycle.
status pageable_copy_can_wait(runtime_state& st, const char* what, stream* handle, const void* host,
                              uint64_t bytes);
status finish_if_pageable(runtime_state& st, stream* handle, status submitted, const void* host,
                          uint64_t bytes);

}  // namespace npusim::runtime
