#include "sw/runtime/api_call.h"

#include <fmt/format.h>

namespace npusim::runtime {

namespace {

std::string range_error(uint64_t addr, uint64_t bytes, uint64_t capacity) {
    return fmt::format(
        "device range [0x{:x}, +{}) is outside device memory ({} bytes); use addresses from "
        "device allocations",
        addr, bytes, capacity);
}

bool in_device(uint64_t addr, uint64_t bytes, uint64_t capacity) {
    return addr <= capacity && bytes <= capacity - addr;
}

/// True if [p, p + bytes) lies in one pinned host buffer.
bool pinned(const runtime_state& st, const void* p, uint64_t bytes) {
    const auto at = reinterpret_cast<uintptr_t>(p);
    auto it = st.pinned.upper_bound(at);
    if (it == st.pinned.begin()) return false;
    --it;
    return at + bytes <= it->first + it->second;
}

}  // namespace

std::string format_us(models::ps_t ps) {
    return fmt::format("{:g} us", ps / 1e6);
}

bool wait_idle(runtime_state& st, stream& s, models::ps_t t0, models::ps_t timeout) {
    while (s.pending > 0) {
        if (timeout == forever) {
            s.changed.wait();
            continue;
        }
        const models::ps_t spent = st.api.now() - t0;
        if (spent >= timeout || !s.changed.wait_for(timeout - spent)) return s.pending == 0;
    }
    return true;
}

std::string check_work(const runtime_state& st, const work& w) {
    const uint64_t cap = st.api.device_capacity();
    switch (w.kind) {
        case work_kind::kernel:
            if (w.block_dim == 0) return "block_dim is 0; a kernel needs at least 1 block";
            if (!w.kernel) return "the kernel function is empty";
            if (st.api.units(w.cores) == 0)
                return std::string("this chip has no cores for a ") + models::to_string(w.cores) +
                       " kernel; launch it as a kind the chip has";
            return "";
        case work_kind::memcpy_h2d:
            if (!w.host_src && w.bytes) return "the host source is null";
            return in_device(w.dst, w.bytes, cap) ? "" : range_error(w.dst, w.bytes, cap);
        case work_kind::memcpy_d2h:
            if (!w.host_dst && w.bytes) return "the host destination is null";
            return in_device(w.src, w.bytes, cap) ? "" : range_error(w.src, w.bytes, cap);
        case work_kind::memcpy_d2d:
            if (!in_device(w.src, w.bytes, cap)) return range_error(w.src, w.bytes, cap);
            return in_device(w.dst, w.bytes, cap) ? "" : range_error(w.dst, w.bytes, cap);
        case work_kind::memset:
            return in_device(w.dst, w.bytes, cap) ? "" : range_error(w.dst, w.bytes, cap);
        case work_kind::callback:
            return w.fn ? "" : "the callback function is empty";
        default:
            return "";
    }
}

status submit(runtime_state& st, const char* what, stream* handle, task t, models::ps_t cost) {
    call c(st, what);
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out)) return out;
    if (const std::string bad = check_work(st, t.w); !bad.empty())
        return c.fail(status::invalid_argument, "'" + t.w.name + "': " + bad);
    auto refuse = [&] {
        return c.fail(status::stream_stopped,
                      "stream '" + s->name + "' stopped after a failure (" + s->stop_cause.message +
                          ") and refuses new work; synchronize it to read the error and submit "
                          "to another stream");
    };
    if (s->stopped) return refuse();
    st.api.delay(cost);
    if (s->stopped) return refuse();  // it may have stopped while the host was busy
    t.seq = s->next_seq++;
    if (t.w.kind == work_kind::event_record) {
        t.ev->records.push_back({});
        t.ev->records.back().stream = s->name;
        t.ev->records.back().on = s;
        t.ev->records.back().seq = t.seq;
        t.gen = ++t.ev->recorded;
    }
    t.submitted = st.api.now();
    s->queue.push_back(std::move(t));
    // Nothing runs between here and the return, so a task that closes a cycle is taken back.
    if (const std::string cycle = st.closes_cycle(*s, s->queue.back()); !cycle.empty()) {
        if (s->queue.back().w.kind == work_kind::event_record) {
            s->queue.back().ev->records.pop_back();
            --s->queue.back().ev->recorded;
        }
        s->queue.pop_back();
        --s->next_seq;
        return c.fail(status::deadlock, cycle);
    }
    task& queued = s->queue.back();
    if (st.api.spans_on()) c.set_flow(queued.flow = ++st.flows);
    ++s->pending;
    st.record_queue_depth(*s);
    s->work.notify();
    return status::success;
}

status pageable_copy_can_wait(runtime_state& st, const char* what, stream* handle, const void* host,
                              uint64_t bytes) {
    call c(st, what);
    status out = status::success;
    stream* s = nullptr;
    if (pinned(st, host, bytes) || !c.host_thread(out) || !c.stream_arg(handle, s, out))
        return status::success;  // argument errors are reported by the submission
    runtime_state::host_wait w{std::string(what) + " (pageable host memory: waits for the copy)",
                               s};
    w.upto = s->next_seq + 1;
    if (!c.begin_wait(std::move(w), out)) return out;
    c.end_wait();
    return status::success;
}

status finish_if_pageable(runtime_state& st, stream* handle, status submitted, const void* host,
                          uint64_t bytes) {
    if (submitted != status::success || pinned(st, host, bytes)) return submitted;
    stream& s = handle ? *handle : *st.streams.front();
    const uint64_t seq = s.next_seq - 1;
    const int me = st.api.current_thread();
    runtime_state::host_wait w{"a copy with pageable host memory (stream '" + s.name + "')", &s};
    w.upto = seq + 1;
    st.host_waits[me] = std::move(w);
    while (s.done_prefix <= seq) s.changed.wait();
    st.host_waits.erase(me);
    return status::success;
}

}  // namespace npusim::runtime
