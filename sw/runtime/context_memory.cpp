// The context's device and host memory calls, on the caching allocator.
#include <fmt/format.h>

#include "sw/runtime/api_call.h"
#include "sw/runtime/context.h"

namespace npusim::runtime {

namespace {

/// Host cost of an allocator call: driver calls at their price, otherwise a cache hit.
models::ps_t allocator_cost(const runtime_state& st, uint64_t allocs0, uint64_t frees0) {
    const uint64_t allocs = st.memory.device_allocs() - allocs0;
    const uint64_t frees = st.memory.device_frees() - frees0;
    if (allocs + frees == 0) return st.costs.cached_malloc_ps;
    return allocs * st.costs.malloc_ps + frees * st.costs.free_ps;
}

}  // namespace

void runtime_state::record_memory_event(const char* action, uint64_t addr, uint64_t bytes,
                                        const std::string& stream, const std::string& tag) {
    constexpr size_t kept = 100000;
    if (memory_history.size() == kept) memory_history.pop_front();
    memory_history.push_back(
        {api.now(), action, addr, bytes, stream, tag, memory.allocated_bytes()});
}

bool runtime_state::free_block(uint64_t addr) {
    const uint64_t allocs0 = memory.device_allocs(), frees0 = memory.device_frees();
    const uint64_t size = memory.block_size(addr);
    const bool ok = memory.free(addr);
    if (ok) record_memory_event("free", addr, size);
    record_memory_in_use();
    if (api.current_thread() >= 0 && !api.unwinding())
        api.delay(allocator_cost(*this, allocs0, frees0));
    return ok;
}

status context::malloc(uint64_t& addr, int64_t bytes, stream* handle, const std::string& tag) {
    runtime_state& st = *m_state;
    call c(st, "malloc");
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out)) return out;
    const std::string what = tag.empty() ? "" : " for '" + tag + "'";
    if (bytes <= 0)
        return c.fail(status::invalid_argument,
                      fmt::format("a size of {} bytes{}; ask for at least 1 byte", bytes, what));
    const uint64_t allocs0 = st.memory.device_allocs(), frees0 = st.memory.device_frees();
    const bool ok = st.memory.allocate(uint64_t(bytes), s->id, addr, tag);
    if (ok) st.record_memory_event("alloc", addr, st.memory.block_size(addr), s->name, tag);
    st.record_memory_in_use();
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
        if (auto state = weak.lock()) state->free_block(block);
    });
    return status::success;
}

status context::free(uint64_t addr) {
    runtime_state& st = *m_state;
    call c(st, "free");
    status out = status::success;
    if (!c.host_thread(out)) return out;
    if (!st.free_block(addr)) return c.fail(status::invalid_argument, st.memory.error());
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
    if (!c.host_thread(out)) return out;
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

memory_state context::memory_snapshot() const {
    return {m_state->memory.snapshot(), m_state->memory_history};
}

status context::malloc_host(void*& ptr, int64_t bytes) {
    runtime_state& st = *m_state;
    call c(st, "malloc_host");
    status out = status::success;
    if (!c.host_thread(out)) return out;
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
    if (!c.host_thread(out)) return out;
    auto it = st.pinned.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == st.pinned.end())
        return c.fail(status::invalid_argument,
                      fmt::format("{} is not a buffer from malloc_host (freed twice?)", ptr));
    st.pinned.erase(it);
    ::operator delete(ptr);
    st.api.delay(st.costs.free_ps);
    return status::success;
}

}  // namespace npusim::runtime
