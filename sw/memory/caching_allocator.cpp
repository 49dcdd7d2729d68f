#include "sw/memory/caching_allocator.h"

#include <fmt/format.h>

#include <stdexcept>

#include "models/core/fractal_layout.h"

namespace npusim::memory {

namespace {

// PyTorch's (and torch_npu's) constants.
constexpr uint64_t small_size = 1 << 20;        // largest request served by the small pool
constexpr uint64_t small_buffer = 2 << 20;      // segment for small requests
constexpr uint64_t min_large_alloc = 10 << 20;  // below this, large requests get...
constexpr uint64_t large_buffer = 20 << 20;     // ...a segment of this size
constexpr uint64_t round_large = 2 << 20;       // larger requests are rounded to this
constexpr unsigned max_scan = 64;  // cached blocks looked at per request before a new segment

std::string format_size(int64_t bytes) {
    const double v = double(bytes < 0 ? -bytes : bytes);
    const char* sign = bytes < 0 ? "-" : "";
    if (v < 1024) return fmt::format("{}{:.0f} B", sign, v);
    if (v < 1024.0 * 1024) return fmt::format("{}{:.1f} KiB", sign, v / 1024);
    if (v < 1024.0 * 1024 * 1024) return fmt::format("{}{:.1f} MiB", sign, v / 1024 / 1024);
    return fmt::format("{}{:.2f} GiB", sign, v / 1024 / 1024 / 1024);
}

}  // namespace

caching_allocator::caching_allocator(device_driver& driver, stream_clock& clock,
                                     allocator_config cfg)
    : m_driver(driver), m_clock(clock), m_cfg(cfg) {
    if (cfg.alignment == 0 || (cfg.alignment & (cfg.alignment - 1)) != 0)
        throw std::invalid_argument(fmt::format(
            "allocator alignment {} is not a power of two; use 32, 64, 512, ...", cfg.alignment));
}

caching_allocator::~caching_allocator() {
    // The pools link blocks that live in m_storage, which is destroyed first.
    m_small.clear();
    m_large.clear();
}

caching_allocator::block* caching_allocator::new_block() {
    if (m_spare.empty()) {
        constexpr size_t chunk = 256;
        m_storage.emplace_back(new block[chunk]);
        for (size_t i = 0; i < chunk; ++i) m_spare.push_back(&m_storage.back()[i]);
    }
    block* b = m_spare.back();
    m_spare.pop_back();
    return b;
}

void caching_allocator::delete_block(block* b) {
    b->uses.clear();
    b->tag.clear();
    b->prev = b->next = nullptr;
    b->allocated = false;
    m_spare.push_back(b);
}

bool caching_allocator::is_small(uint64_t size) const {
    return size <= small_size;
}

uint64_t caching_allocator::round_size(uint64_t bytes) const {
    return (std::max<uint64_t>(bytes, 1) + m_cfg.alignment - 1) & ~(m_cfg.alignment - 1);
}

caching_allocator::block* caching_allocator::new_segment(uint64_t addr, uint64_t size, bool small,
                                                         stream_id stream) {
    ++m_device_allocs;
    block* b = new_block();
    b->addr = addr;
    b->size = size;
    b->small = small;
    b->stream = stream;
    b->mark = 0;
    m_segments[addr] = b;
    count(m_segment, small, 1);
    count(m_reserved_bytes, small, int64_t(size));
    return b;
}

void caching_allocator::drop_segment(block* b) {
    m_segments.erase(b->addr);
    m_driver.release(b->addr);
    ++m_device_frees;
    count(m_segment, b->small, -1);
    count(m_reserved_bytes, b->small, -int64_t(b->size));
    delete_block(b);
}

uint64_t caching_allocator::segment_size(uint64_t size) const {
    if (size <= small_size) return std::max(small_buffer, size);
    if (size < min_large_alloc) return std::max(large_buffer, size);
    return models::round_up(size, std::max(round_large, m_cfg.alignment));
}

caching_allocator::block* caching_allocator::find_free(uint64_t size, stream_id stream,
                                                       bool small) {
    pool_set& pool = small ? m_small : m_large;
    const bool under_limit = size < m_cfg.max_split_size;
    block* best = nullptr;
    unsigned scanned = 0;
    // Best fit among the blocks this stream may use: its own, and other streams' once the work
    // they had submitted before the free has completed.
    for (unsigned c = pool.next(pool_set::class_of(size)); c < pool_set::classes && !best;
         c = pool.next(c + 1)) {
        // Oversize rule: a request below the split limit never takes a block above it, and a
        // request above it takes only a block less than 20 MiB larger.
        const uint64_t smallest = pool_set::class_min(c);
        if (under_limit ? smallest >= m_cfg.max_split_size : smallest >= size + large_buffer) break;
        for (block& b : pool.at(c)) {
            if (++scanned > max_scan) break;
            if (b.size < size ||
                (best && (b.size > best->size || (b.size == best->size && b.addr > best->addr))))
                continue;
            if (under_limit ? b.size >= m_cfg.max_split_size : b.size >= size + large_buffer)
                continue;
            if (b.stream != stream && !m_clock.passed(b.stream, b.mark)) continue;
            best = &b;
        }
        if (scanned > max_scan) break;
    }
    if (!best) return nullptr;
    uncache(best);
    best->stream = stream;
    return best;
}

bool caching_allocator::should_split(const block& b, uint64_t size) const {
    const uint64_t rest = b.size - size;
    if (b.small) return rest >= m_cfg.alignment;
    return size < m_cfg.max_split_size && rest > small_size;
}

caching_allocator::block* caching_allocator::split(block* b, uint64_t size) {
    block* rest = new_block();
    rest->addr = b->addr + size;
    rest->size = b->size - size;
    rest->stream = b->stream;
    rest->mark = b->mark;
    rest->small = b->small;
    rest->cached_at = m_clock_ticks;
    rest->prev = b;
    rest->next = b->next;
    if (b->next) b->next->prev = rest;
    b->next = rest;
    b->size = size;
    cache(rest);
    return rest;
}

bool caching_allocator::allocate(uint64_t bytes, stream_id stream, uint64_t& addr,
                                 const std::string& tag) {
    if (bytes == 0)
        throw std::invalid_argument("allocate" + (tag.empty() ? "" : " '" + tag + "'") +
                                    ": a size of 0 bytes; ask for at least 1 byte");
    m_error.clear();
    ++m_clock_ticks;
    if (!m_pending.empty()) process_pending();
    const uint64_t size = round_size(bytes);
    const bool small = is_small(size);
    block* b = find_free(size, stream, small);
    if (b) {
        ++m_cache_hits;
    } else {
        if (m_cfg.gc_threshold > 0) collect_garbage();
        const uint64_t seg = segment_size(size);
        uint64_t at = 0;
        bool ok = m_driver.allocate(seg, at);
        if (!ok && release_cached(true, seg)) ok = m_driver.allocate(seg, at);
        if (!ok) {  // release the whole cache and retry once
            release_cached(false, seg);
            ++m_alloc_retries;
            ok = m_driver.allocate(seg, at);
        }
        if (!ok) {
            ++m_ooms;
            m_error = oom_message(bytes, size);
            return false;
        }
        b = new_segment(at, seg, small, stream);
    }
    const bool was_split = b->is_split();
    if (should_split(*b, size)) {
        block* rest = split(b, size);
        if (was_split) {  // the part taken was counted as inactive split
            count(m_inactive_split_bytes, small, -int64_t(size));
        } else {
            count(m_inactive_split, small, 1);
            count(m_inactive_split_bytes, small, int64_t(rest->size));
        }
    } else if (was_split) {
        count(m_inactive_split, small, -1);
        count(m_inactive_split_bytes, small, -int64_t(b->size));
    }
    b->allocated = true;
    b->requested = bytes;
    if (!tag.empty() || !b->tag.empty()) b->tag = tag;
    m_live.insert(b->addr, b);
    count(m_allocation, small, 1);
    count(m_allocated_bytes, small, int64_t(b->size));
    count(m_requested_bytes, small, int64_t(bytes));
    count(m_active, small, 1);
    count(m_active_bytes, small, int64_t(b->size));
    if (on_block_state) on_block_state(b->addr, b->size, false);
    addr = b->addr;
    return true;
}

caching_allocator::block* caching_allocator::containing(uint64_t addr) const {
    auto it = m_segments.upper_bound(addr);  // only for error messages: walking is fine
    if (it == m_segments.begin()) return nullptr;
    for (block* b = std::prev(it)->second; b; b = b->next)
        if (addr >= b->addr && addr < b->addr + b->size) return b;
    return nullptr;
}

bool caching_allocator::free(uint64_t addr) {
    m_error.clear();
    block* b = m_live.find(addr);
    if (!b) {
        const block* c = containing(addr);
        if (!c)
            m_error = fmt::format(
                "0x{:x} was not allocated by this allocator (no device segment holds it)", addr);
        else if (c->allocated)
            m_error = fmt::format(
                "0x{:x} is inside block [0x{:x}, +{}){}; free the address the allocation "
                "returned",
                addr, c->addr, c->size, c->tag.empty() ? "" : " ('" + c->tag + "')");
        else
            m_error =
                fmt::format("0x{:x} is not allocated: it was already freed (double free)", addr);
        return false;
    }
    m_live.erase(addr);
    b->allocated = false;
    count(m_allocation, b->small, -1);
    count(m_allocated_bytes, b->small, -int64_t(b->size));
    count(m_requested_bytes, b->small, -int64_t(b->requested));
    b->mark = m_clock.position(b->stream);
    if (!b->uses.empty()) {  // other streams may still read it: wait for their work
        for (auto& u : b->uses) u.second = m_clock.position(u.first);
        m_pending.push_back(b);
        return true;
    }
    release_block(b);
    return true;
}

bool caching_allocator::record_stream(uint64_t addr, stream_id stream) {
    block* it = m_live.find(addr);
    if (!it) {
        m_error = fmt::format("0x{:x} is not the start of a live block", addr);
        return false;
    }
    if (stream == it->stream) return true;
    for (auto& u : it->uses)
        if (u.first == stream) return true;
    it->uses.emplace_back(stream, 0);
    return true;
}

void caching_allocator::process_pending() {
    size_t keep = 0;
    for (block* b : m_pending) {
        bool done = true;
        for (const auto& u : b->uses) done &= m_clock.passed(u.first, u.second);
        if (done) {
            b->uses.clear();
            release_block(b);
        } else {
            m_pending[keep++] = b;
        }
    }
    m_pending.resize(keep);
}

void caching_allocator::release_block(block* b) {
    const uint64_t freed_addr = b->addr, freed_size = b->size;
    int64_t inactive = 0, inactive_bytes = 0;
    auto mergeable = [&](const block* n) {
        if (!n || !n->cached) return false;
        return n->stream == b->stream ||
               (m_clock.passed(n->stream, n->mark) && m_clock.passed(b->stream, b->mark));
    };
    for (block* n : {b->prev, b->next}) {
        if (!mergeable(n)) continue;
        --inactive;  // a free neighbour is always a split block
        inactive_bytes -= int64_t(n->size);
        if (n->stream == b->stream) b->mark = std::max(b->mark, n->mark);
        uncache(n);
        if (n == b->prev) {
            b->addr = n->addr;
            b->prev = n->prev;
            if (b->prev) b->prev->next = b;
            if (!b->prev) m_segments[b->addr] = b;  // b now starts the segment
        } else {
            b->next = n->next;
            if (b->next) b->next->prev = b;
        }
        b->size += n->size;
        delete_block(n);
    }
    count(m_active, b->small, -1);
    count(m_active_bytes, b->small, -int64_t(freed_size));
    if (b->is_split()) {
        ++inactive;
        inactive_bytes += int64_t(b->size);
    }
    count(m_inactive_split, b->small, inactive);
    count(m_inactive_split_bytes, b->small, inactive_bytes);
    b->tag.clear();
    b->cached_at = m_clock_ticks;
    if (on_block_state) on_block_state(freed_addr, freed_size, true);
    if (!m_cfg.caching && !b->is_split()) {  // whole segment free: straight back
        drop_segment(b);
        return;
    }
    cache(b);
}

bool caching_allocator::release_cached(bool oversize_only, uint64_t need) {
    if (oversize_only && m_cfg.max_split_size == ~uint64_t(0)) return false;
    if (!oversize_only) {
        m_clock.synchronize_all();
        ++m_sync_all;
        process_pending();
    }
    // Whole cached segments only (split ones still hold live blocks), largest first, so the
    // fewest go.
    std::vector<block*> whole;
    for (pool_set* pool : {&m_large, &m_small}) {
        if (oversize_only && pool == &m_small) continue;
        for (unsigned c = pool->next(0); c < pool_set::classes; c = pool->next(c + 1))
            for (block& b : pool->at(c))
                if (!b.is_split() && m_clock.passed(b.stream, b.mark) &&
                    (!oversize_only || b.size >= m_cfg.max_split_size))
                    whole.push_back(&b);
    }
    std::stable_sort(whole.begin(), whole.end(),
                     [](const block* x, const block* y) { return x->size > y->size; });
    uint64_t freed = 0;
    for (block* b : whole) {
        if (oversize_only && freed >= need) break;
        uncache(b);
        freed += b->size;
        drop_segment(b);
    }
    return freed > 0;
}

void caching_allocator::collect_garbage() {
    const double limit = m_cfg.gc_threshold * double(m_driver.capacity());
    if (double(m_reserved_bytes[all_pools].current) <= limit) return;
    // Free unsplit cached large blocks at least as old as the average.
    std::vector<block*> whole;
    for (unsigned c = m_large.next(0); c < pool_set::classes; c = m_large.next(c + 1))
        for (block& b : m_large.at(c))
            if (!b.is_split() && m_clock.passed(b.stream, b.mark)) whole.push_back(&b);
    if (whole.empty()) return;
    uint64_t total_age = 0;
    for (const block* b : whole) total_age += m_clock_ticks - b->cached_at;
    const uint64_t average = total_age / whole.size();
    for (block* b : whole)
        if (m_clock_ticks - b->cached_at >= average) {
            uncache(b);
            drop_segment(b);
        }
}

void caching_allocator::empty_cache() {
    release_cached(false, 0);
}

uint64_t caching_allocator::block_size(uint64_t addr) const {
    const block* b = m_live.find(addr);
    return b ? b->size : 0;
}

std::vector<segment_snapshot> caching_allocator::snapshot() const {
    std::vector<segment_snapshot> out;
    for (const auto& [addr, first] : m_segments) {
        segment_snapshot seg;
        seg.addr = addr;
        seg.stream = first->stream;
        seg.small = first->small;
        for (const block* b = first; b; b = b->next) {
            const bool pending =
                std::find(m_pending.begin(), m_pending.end(), b) != m_pending.end();
            const char* state = b->allocated ? "active_allocated"
                                : pending    ? "active_pending_free"
                                             : "inactive";
            seg.blocks.push_back({b->addr, b->size, b->allocated ? b->requested : 0, state,
                                  b->allocated ? b->tag : ""});
            seg.size += b->size;
            if (b->allocated) seg.allocated += b->size;
        }
        out.push_back(std::move(seg));
    }
    return out;
}

std::string caching_allocator::oom_message(uint64_t bytes, uint64_t rounded) const {
    const int64_t reserved = m_reserved_bytes[all_pools].current;
    const int64_t allocated = m_allocated_bytes[all_pools].current;
    return fmt::format(
        "out of device memory: tried to allocate {} ({} bytes, rounded to {}); the device has "
        "{} in total, {} reserved by the cache of which {} is allocated, {} not reserved; the "
        "cache was released and the request retried once\n{}",
        format_size(int64_t(bytes)), bytes, rounded, format_size(int64_t(m_driver.capacity())),
        format_size(reserved), format_size(allocated),
        format_size(int64_t(m_driver.capacity()) - reserved), memory_summary());
}

std::map<std::string, int64_t> caching_allocator::stats() const {
    std::map<std::string, int64_t> out;
    const char* pools[] = {"all", "large_pool", "small_pool"};
    auto add = [&](const char* name, const stat(&s)[3]) {
        for (int p = 0; p < 3; ++p) {
            const std::string k = std::string(name) + "." + pools[p] + ".";
            out[k + "current"] = s[p].current;
            out[k + "peak"] = s[p].peak;
            out[k + "allocated"] = s[p].allocated;
            out[k + "freed"] = s[p].freed;
        }
    };
    add("allocation", m_allocation);
    add("segment", m_segment);
    add("active", m_active);
    add("inactive_split", m_inactive_split);
    add("allocated_bytes", m_allocated_bytes);
    add("reserved_bytes", m_reserved_bytes);
    add("active_bytes", m_active_bytes);
    add("inactive_split_bytes", m_inactive_split_bytes);
    add("requested_bytes", m_requested_bytes);
    out["num_alloc_retries"] = int64_t(m_alloc_retries);
    out["num_ooms"] = int64_t(m_ooms);
    out["num_sync_all_streams"] = int64_t(m_sync_all);
    out["num_device_alloc"] = int64_t(m_device_allocs);
    out["num_device_free"] = int64_t(m_device_frees);
    out["max_split_size"] =
        m_cfg.max_split_size == ~uint64_t(0) ? -1 : int64_t(m_cfg.max_split_size);
    out["cache_hits"] = int64_t(m_cache_hits);
    return out;
}

void caching_allocator::reset_peak() {
    for (stat* s : {m_allocation, m_segment, m_active, m_inactive_split, m_allocated_bytes,
                    m_reserved_bytes, m_active_bytes, m_inactive_split_bytes, m_requested_bytes})
        for (int p = 0; p < 3; ++p) s[p].peak = s[p].current;
}

std::string caching_allocator::memory_summary() const {
    const std::string rule(75, '=');
    const std::string thin(75, '-');
    std::string out = "|" + rule + "|\n";
    out += fmt::format("|{:^75}|\n", "npusim caching allocator memory summary");
    out += "|" + thin + "|\n";
    out += fmt::format("|{:^37}|{:^37}|\n", fmt::format("device OOMs: {}", m_ooms),
                       fmt::format("driver retries: {}", m_alloc_retries));
    out += "|" + rule + "|\n";
    out += fmt::format("| {:<21} | {:>10} | {:>10} | {:>10} | {:>10} |\n", "Metric", "Cur Usage",
                       "Peak Usage", "Tot Alloc", "Tot Freed");
    auto rows = [&](const char* title, const stat(&s)[3], bool bytes) {
        out += "|" + thin + "|\n";
        const char* names[] = {title, "      from large pool", "      from small pool"};
        for (int p = 0; p < 3; ++p) {
            auto v = [&](int64_t x) { return bytes ? format_size(x) : std::to_string(x); };
            out += fmt::format("| {:<21} | {:>10} | {:>10} | {:>10} | {:>10} |\n", names[p],
                               v(s[p].current), v(s[p].peak), v(s[p].allocated), v(s[p].freed));
        }
    };
    rows("Allocated memory", m_allocated_bytes, true);
    rows("Active memory", m_active_bytes, true);
    rows("Requested memory", m_requested_bytes, true);
    rows("Reserved memory", m_reserved_bytes, true);
    rows("Non-releasable memory", m_inactive_split_bytes, true);
    rows("Allocations", m_allocation, false);
    rows("Active allocs", m_active, false);
    rows("Reserved segments", m_segment, false);
    rows("Non-releasable allocs", m_inactive_split, false);
    out += "|" + rule + "|\n";
    return out;
}

}  // namespace npusim::memory
