#include "sw/runtime/context.h"

#include <fmt/format.h>

#include <exception>

#include "sw/runtime/runtime_state.h"

namespace npusim::runtime {

namespace {

std::string us(models::ps_t ps) {
    return fmt::format("{:g} us", ps / 1e6);
}

/// The checks and bookkeeping every API call shares: the calling thread, the last error.
class call {
  public:
    call(runtime_state& st, const char* what)
        : m_st(st), m_what(what), m_me(st.api.current_thread()) {}

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
    /// The call is one a callback may not make: it would wait on the callback itself.
    bool outside_callback(status& out) {
        if (!host_thread(out)) return false;
        auto it = m_st.in_callback.find(m_me);
        if (it == m_st.in_callback.end()) return true;
        out = fail(status::not_permitted_in_callback,
                   "not permitted inside callback '" + it->second->w.name + "' (" +
                       it->second->origin() +
                       "): a callback may not launch work, synchronize or allocate, since the "
                       "stream may be waiting for the callback itself; do it on the host thread "
                       "after the stream synchronizes");
        return false;
    }
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
    int me() const { return m_me; }

  private:
    runtime_state& m_st;
    const char* m_what;
    int m_me;
};

/// Waits until the stream has no unfinished work or the deadline passes; false on timeout.
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

std::string range_error(uint64_t addr, uint64_t bytes, uint64_t capacity) {
    return fmt::format(
        "device range [0x{:x}, +{}) is outside device memory ({} bytes); use addresses from "
        "device allocations",
        addr, bytes, capacity);
}

bool in_device(uint64_t addr, uint64_t bytes, uint64_t capacity) {
    return addr <= capacity && bytes <= capacity - addr;
}

/// Checks a work item before it is queued; returns "" or what is wrong.
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

/// Queues a task on a stream after the host-side cost; refuses stopped streams.
status submit(runtime_state& st, const char* what, stream* handle, task t, models::ps_t cost) {
    call c(st, what);
    status out = status::success;
    stream* s = nullptr;
    if (!c.outside_callback(out) || !c.stream_arg(handle, s, out)) return out;
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
    if (t.w.kind == work_kind::event_record) {
        t.ev->records.push_back({});
        t.ev->records.back().stream = s->name;
        t.gen = ++t.ev->recorded;
    }
    t.seq = s->next_seq++;
    t.submitted = st.api.now();
    ++s->pending;
    s->queue.push_back(std::move(t));
    s->work.notify();
    return status::success;
}

memory::allocator_config allocator_settings(const platform::memory_params& m) {
    memory::allocator_config a;
    a.alignment = m.alignment;
    a.max_split_size = m.max_split_size ? m.max_split_size : ~uint64_t(0);
    a.gc_threshold = m.gc_threshold;
    a.caching = m.caching;
    return a;
}

/// True if [p, p + bytes) lies in one pinned host buffer.
bool pinned(const runtime_state& st, const void* p, uint64_t bytes) {
    const auto at = reinterpret_cast<uintptr_t>(p);
    auto it = st.pinned.upper_bound(at);
    if (it == st.pinned.begin()) return false;
    --it;
    return at + bytes <= it->first + it->second;
}

/// A copy from or to pageable host memory returns only once it has run, as on the real runtime.
status finish_if_pageable(runtime_state& st, stream* handle, status submitted, const void* host,
                          uint64_t bytes) {
    if (submitted != status::success || pinned(st, host, bytes)) return submitted;
    stream& s = handle ? *handle : *st.streams.front();
    const uint64_t seq = s.next_seq - 1;
    while (s.done_prefix <= seq) s.changed.wait();
    return status::success;
}

}  // namespace

runtime_state::runtime_state(platform::chip& c, std::vector<platform::op_record>* o)
    : chip(c),
      api(c.host_api()),
      costs(c.config().host_api),
      ops(o),
      driver(c.config().gm.capacity, c.config().memory.alignment),
      memory(driver, clock, allocator_settings(c.config().memory)) {
    poisoning = c.config().memory.poison_freed;
    if (poisoning)
        memory.on_block_state = [this](uint64_t addr, uint64_t size, bool freed) {
            api.poison(addr, size, freed);
        };
}

uint64_t runtime_clock::position(stream_id s) const {
    return st.streams[s]->next_seq;
}

bool runtime_clock::passed(stream_id s, uint64_t mark) const {
    return st.streams[s]->done_prefix >= mark;
}

void runtime_clock::synchronize_all() {
    st.wait_all_idle();
}

void runtime_state::wait_all_idle() {
    for (auto& s : streams)
        while (s->pending > 0) s->changed.wait();
}

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
    if (!c.outside_callback(bad)) return bad;
    if (opt.priority < 0 || opt.priority > 7)
        return c.fail(status::invalid_argument,
                      fmt::format("priority {} is out of range; use 0 (highest) to 7 (lowest)",
                                  opt.priority));
    auto s = std::make_unique<stream>();
    s->name = opt.name.empty() ? "stream" + std::to_string(st.streams.size()) : opt.name;
    s->id = st.streams.size();
    s->priority = opt.priority;
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
    if (!c.outside_callback(out) || !c.stream_arg(handle, s, out)) return out;
    if (!handle) return c.fail(status::invalid_argument, "the default stream cannot be destroyed");
    st.host_waits[c.me()] = {"destroy_stream(stream '" + s->name + "')", s};
    wait_idle(st, *s, 0, forever);
    st.host_waits.erase(c.me());
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
    if (!c.outside_callback(out) || !c.stream_arg(handle, s, out)) return out;
    auto keep = m_state;  // the context may go while this thread waits
    const models::ps_t t0 = st.api.now();
    st.host_waits[c.me()] = {"synchronize(stream '" + s->name + "')", s};
    const bool idle = wait_idle(st, *s, t0, timeout);
    st.host_waits.erase(c.me());
    if (!idle)
        return c.fail(status::stream_sync_timeout,
                      fmt::format("stream '{}' still had {} unfinished tasks after {}; give a "
                                  "longer timeout or look for work that cannot finish",
                                  s->name, s->pending, us(timeout)));
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
    if (!c.outside_callback(out)) return out;
    auto keep = m_state;
    const models::ps_t t0 = st.api.now();
    for (auto& s : st.streams) {
        st.host_waits[c.me()] = {"synchronize_device (stream '" + s->name + "')", s.get()};
        const bool idle = wait_idle(st, *s, t0, timeout);
        st.host_waits.erase(c.me());
        if (!idle)
            return c.fail(status::stream_sync_timeout,
                          fmt::format("stream '{}' still had {} unfinished tasks after {}", s->name,
                                      s->pending, us(timeout)));
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

// --- device memory ---

namespace {

/// Host cost of an allocator call: driver calls at their price, otherwise a cache hit.
models::ps_t allocator_cost(const runtime_state& st, uint64_t allocs0, uint64_t frees0) {
    const uint64_t allocs = st.memory.device_allocs() - allocs0;
    const uint64_t frees = st.memory.device_frees() - frees0;
    if (allocs + frees == 0) return st.costs.cached_malloc_ps;
    return allocs * st.costs.malloc_ps + frees * st.costs.free_ps;
}

}  // namespace

status context::malloc(uint64_t& addr, int64_t bytes, stream* handle, const std::string& tag) {
    runtime_state& st = *m_state;
    call c(st, "malloc");
    status out = status::success;
    stream* s = nullptr;
    if (!c.outside_callback(out) || !c.stream_arg(handle, s, out)) return out;
    const std::string what = tag.empty() ? "" : " for '" + tag + "'";
    if (bytes <= 0)
        return c.fail(status::invalid_argument,
                      fmt::format("a size of {} bytes{}; ask for at least 1 byte", bytes, what));
    const uint64_t allocs0 = st.memory.device_allocs(), frees0 = st.memory.device_frees();
    const bool ok = st.memory.allocate(uint64_t(bytes), s->id, addr, tag);
    st.api.delay(allocator_cost(st, allocs0, frees0));
    if (!ok) return c.fail(status::device_oom, st.memory.error());
    return status::success;
}

status context::alloc_tensor(memory::device_tensor& out, const memory::tensor_desc& desc,
                             stream* s) {
    runtime_state& st = *m_state;
    const uint64_t align = st.memory.config().alignment;
    // A stricter alignment than the allocator's is met by asking for enough to round up.
    const uint64_t extra = desc.alignment() > align ? desc.alignment() - align : 0;
    uint64_t block = 0;
    const status r =
        malloc(block, int64_t(std::max<uint64_t>(desc.storage_bytes(), 1) + extra), s, desc.name());
    if (r != status::success) return r;
    const uint64_t addr = (block + desc.alignment() - 1) / desc.alignment() * desc.alignment();
    std::weak_ptr<runtime_state> weak = m_state;
    out = memory::device_tensor(desc, addr, [weak, block](uint64_t) {
        if (auto state = weak.lock()) state->memory.free(block);
    });
    return status::success;
}

status context::free(uint64_t addr) {
    runtime_state& st = *m_state;
    call c(st, "free");
    status out = status::success;
    if (!c.outside_callback(out)) return out;
    const uint64_t allocs0 = st.memory.device_allocs(), frees0 = st.memory.device_frees();
    const bool ok = st.memory.free(addr);
    st.api.delay(allocator_cost(st, allocs0, frees0));
    if (!ok) return c.fail(status::invalid_argument, st.memory.error());
    return status::success;
}

status context::record_stream(uint64_t addr, stream* handle) {
    runtime_state& st = *m_state;
    call c(st, "record_stream");
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out)) return out;
    if (!st.memory.record_stream(addr, s->id))
        return c.fail(status::invalid_argument, st.memory.error());
    return status::success;
}

status context::empty_cache() {
    runtime_state& st = *m_state;
    call c(st, "empty_cache");
    status out = status::success;
    if (!c.outside_callback(out)) return out;
    const uint64_t frees0 = st.memory.device_frees();
    st.memory.empty_cache();
    st.api.delay((st.memory.device_frees() - frees0) * st.costs.free_ps);
    return status::success;
}

std::map<std::string, int64_t> context::memory_stats() const {
    return m_state->memory.stats();
}

void context::reset_peak_memory_stats() {
    m_state->memory.reset_peak();
}

std::string context::memory_summary() const {
    return m_state->memory.memory_summary();
}

status context::malloc_host(void*& ptr, int64_t bytes) {
    runtime_state& st = *m_state;
    call c(st, "malloc_host");
    status out = status::success;
    if (!c.outside_callback(out)) return out;
    if (bytes <= 0)
        return c.fail(status::invalid_argument,
                      fmt::format("a size of {} bytes; ask for at least 1 byte", bytes));
    st.api.delay(st.costs.malloc_ps);
    ptr = ::operator new(size_t(bytes));
    st.pinned[reinterpret_cast<uintptr_t>(ptr)] = uint64_t(bytes);
    return status::success;
}

status context::free_host(void* ptr) {
    runtime_state& st = *m_state;
    call c(st, "free_host");
    status out = status::success;
    if (!c.outside_callback(out)) return out;
    auto it = st.pinned.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == st.pinned.end())
        return c.fail(status::invalid_argument,
                      fmt::format("{} is not a buffer from malloc_host (freed twice?)", ptr));
    st.pinned.erase(it);
    ::operator delete(ptr);
    st.api.delay(st.costs.free_ps);
    return status::success;
}

// --- work ---

status context::launch(stream* s, const std::string& name, unsigned block_dim,
                       models::kernel_kind kind, kernel::kernel_fn fn, double flops,
                       uint64_t bytes) {
    task t;
    t.w.kind = work_kind::kernel;
    t.w.name = name;
    t.w.block_dim = block_dim;
    t.w.cores = kind;
    t.w.kernel = std::move(fn);
    t.w.flops = flops;
    t.w.bytes = bytes;
    return submit(*m_state, "launch", s, std::move(t), m_state->costs.launch_ps);
}

status context::memcpy_to_device(stream* s, uint64_t dst, const void* src, uint64_t bytes) {
    task t;
    t.w.kind = work_kind::memcpy_h2d;
    t.w.name = "memcpy_h2d";
    t.w.dst = dst;
    t.w.host_src = src;
    t.w.bytes = bytes;
    return finish_if_pageable(
        *m_state, s,
        submit(*m_state, "memcpy_to_device", s, std::move(t), m_state->costs.memcpy_setup_ps), src,
        bytes);
}

status context::memcpy_to_host(stream* s, void* dst, uint64_t src, uint64_t bytes) {
    task t;
    t.w.kind = work_kind::memcpy_d2h;
    t.w.name = "memcpy_d2h";
    t.w.host_dst = dst;
    t.w.src = src;
    t.w.bytes = bytes;
    return finish_if_pageable(
        *m_state, s,
        submit(*m_state, "memcpy_to_host", s, std::move(t), m_state->costs.memcpy_setup_ps), dst,
        bytes);
}

status context::memcpy_on_device(stream* s, uint64_t dst, uint64_t src, uint64_t bytes) {
    task t;
    t.w.kind = work_kind::memcpy_d2d;
    t.w.name = "memcpy_d2d";
    t.w.dst = dst;
    t.w.src = src;
    t.w.bytes = bytes;
    return submit(*m_state, "memcpy_on_device", s, std::move(t), m_state->costs.memcpy_setup_ps);
}

status context::memset(stream* s, uint64_t dst, uint8_t value, uint64_t bytes) {
    task t;
    t.w.kind = work_kind::memset;
    t.w.name = "memset";
    t.w.dst = dst;
    t.w.value = value;
    t.w.bytes = bytes;
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
    if (!c.outside_callback(out) || !c.event_arg(e, "the event", out)) return out;
    auto keep = m_state;
    const uint64_t gen = e->recorded ? e->recorded : 1;
    const models::ps_t t0 = st.api.now();
    st.host_waits[c.me()] = {"synchronize_event(event '" + e->name + "')", nullptr, e, gen};
    bool timed_out = false;
    while (!e->done(gen) && !timed_out) {
        if (timeout == forever) {
            e->changed.wait();
            continue;
        }
        const models::ps_t spent = st.api.now() - t0;
        timed_out = spent >= timeout || !e->changed.wait_for(timeout - spent);
    }
    st.host_waits.erase(c.me());
    if (!e->done(gen))
        return c.fail(status::event_sync_timeout, "event '" + e->name +
                                                      "' did not complete within " + us(timeout) +
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

// --- host callbacks ---

unsigned context::spawn_host_thread(const std::string& name, std::function<void()> fn) {
    return m_state->api.spawn(name, std::move(fn));
}

status context::join_host_thread(unsigned thread) {
    runtime_state& st = *m_state;
    call c(st, "join_host_thread");
    status out = status::success;
    if (!c.outside_callback(out)) return out;
    if (thread >= st.api.thread_count() || st.own_threads.count(thread) ||
        static_cast<int>(thread) == c.me())
        return c.fail(status::invalid_argument,
                      fmt::format("thread {} is not another host thread of the program; pass an "
                                  "id from spawn_host_thread",
                                  thread));
    st.host_waits[c.me()] = {"join_host_thread('" + st.api.thread_name(thread) + "')"};
    st.api.join(thread);
    st.host_waits.erase(c.me());
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
    auto& q = st.report_queues[thread];
    if (!q) {
        q = std::make_unique<report_queue>();
        q->thread = thread;
    }
    ++q->streams;
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
            return c.fail(status::report_timeout, "no callback arrived within " + us(timeout));
        }
    }
    const std::shared_ptr<report> r = q.items.front();
    q.items.pop_front();
    st.run_report(*r);
    return status::success;
}

status context::launch_callback(stream* handle, callback_fn fn, callback_block block,
                                const std::string& name) {
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
    task t;
    t.w.kind = work_kind::callback;
    t.w.name = name;
    t.w.fn = std::move(fn);
    t.w.blocking = block == callback_block::block;
    t.report_thread = s->report_thread;
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
    t.w.kind = work_kind::callback;
    t.w.name = name;
    t.w.fn = std::move(fn);
    return submit(st, "launch_host_func", handle, std::move(t), st.costs.callback_launch_ps);
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

// --- diagnostics ---

std::string runtime_state::event_detail(const event& e, uint64_t gen) {
    if (gen > e.recorded)
        return "event '" + e.name + "' has never been recorded (no record_event call made it)";
    return "event '" + e.name + "' record #" + std::to_string(gen) + " is queued on stream '" +
           e.records[gen - 1].stream + "', which has not reached it";
}

std::string runtime_state::blocked_report() const {
    std::string out;
    for (const auto& [thread, w] : host_waits) {
        out += "host thread '" + api.thread_name(thread) + "' waits in " + w.call;
        if (w.ev) out += ": " + event_detail(*w.ev, w.gen);
        if (w.s) out += fmt::format(", which has {} unfinished tasks", w.s->pending);
        out += "\n";
    }
    for (const auto& s : streams) {
        if (s->pending == 0 || !s->current) continue;
        const task& t = *s->current;
        out += "stream '" + s->name + "' waits for ";
        switch (t.w.kind) {
            case work_kind::event_wait:
                out += "event '" + t.ev->name + "' record #" + std::to_string(t.gen) + ": " +
                       event_detail(*t.ev, t.gen);
                break;
            case work_kind::callback: {
                const unsigned thread =
                    t.report_thread >= 0 ? unsigned(t.report_thread) : runtime_callbacks->thread;
                out +=
                    "callback '" + t.w.name + "' on host thread '" + api.thread_name(thread) + "'";
                break;
            }
            default:
                out += std::string(to_string(t.w.kind)) + " '" + t.w.name + "' to finish";
        }
        out += fmt::format(" ({} tasks queued behind it)\n", s->queue.size());
    }
    return out;
}

std::string report::origin() const {
    if (!s) return graph_node;
    return "stream '" + s->name + "' task #" + std::to_string(seq);
}

}  // namespace npusim::runtime
