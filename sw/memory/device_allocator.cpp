#include "sw/memory/device_allocator.h"

#include <fmt/format.h>

namespace npusim::memory {

device_allocator::device_allocator(uint64_t capacity, uint64_t alignment)
    : m_capacity(capacity), m_alignment(alignment ? alignment : 1) {
    if (capacity) m_free[0] = capacity;
}

bool device_allocator::allocate(uint64_t bytes, uint64_t& addr) {
    const uint64_t size = ((bytes ? bytes : 1) + m_alignment - 1) / m_alignment * m_alignment;
    for (auto it = m_free.begin(); it != m_free.end(); ++it) {
        if (it->second < size) continue;
        addr = it->first;
        const uint64_t rest = it->second - size;
        m_free.erase(it);
        if (rest) m_free[addr + size] = rest;
        m_used[addr] = size;
        m_allocated += size;
        return true;
    }
    return false;
}

bool device_allocator::release(uint64_t addr) {
    auto used = m_used.find(addr);
    if (used == m_used.end()) return false;
    uint64_t start = addr, size = used->second;
    m_allocated -= size;
    m_used.erase(used);
    auto next = m_free.lower_bound(start);
    if (next != m_free.end() && next->first == start + size) {  // merge with the range after
        size += next->second;
        next = m_free.erase(next);
    }
    if (next != m_free.begin()) {  // and with the one before
        auto prev = std::prev(next);
        if (prev->first + prev->second == start) {
            start = prev->first;
            size += prev->second;
            m_free.erase(prev);
        }
    }
    m_free[start] = size;
    return true;
}

uint64_t device_allocator::largest_free() const {
    uint64_t best = 0;
    for (const auto& f : m_free) best = std::max(best, f.second);
    return best;
}

std::string device_allocator::summary() const {
    return fmt::format("{} of {} bytes allocated in {} blocks, {} free in {} ranges (largest {})",
                       m_allocated, m_capacity, m_used.size(), m_capacity - m_allocated,
                       m_free.size(), largest_free());
}

}  // namespace npusim::memory
