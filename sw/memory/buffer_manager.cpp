#include "sw/memory/buffer_manager.h"

#include <fmt/format.h>

namespace npusim::memory {

buffer_manager::buffer_manager(std::vector<buffer> buffers)
    : m_buffers(std::move(buffers)), m_used(m_buffers.size(), 0) {}

uint64_t buffer_manager::next_start(size_t index) const {
    const uint64_t a = std::max<uint64_t>(m_buffers.at(index).alignment, 1);
    return (m_used[index] + a - 1) / a * a;
}

uint64_t buffer_manager::free_bytes(size_t index) const {
    const uint64_t start = next_start(index), size = m_buffers.at(index).size;
    return size > start ? size - start : 0;
}

uint64_t buffer_manager::alloc(size_t index, uint64_t bytes, const std::string& what) {
    return alloc_queue(index, 1, bytes, what).front();
}

std::vector<uint64_t> buffer_manager::alloc_queue(size_t index, unsigned count, uint64_t bytes,
                                                  const std::string& what) {
    const buffer& b = m_buffers.at(index);
    const std::string request = count == 1 ? fmt::format("{} bytes", bytes)
                                           : fmt::format("a queue of {} x {} bytes", count, bytes);
    if (bytes == 0 || count == 0)
        throw std::invalid_argument(
            fmt::format("cannot allocate {} at {} in {}: ask for at least "
                        "1 buffer of 1 byte",
                        request, what, b.name));
    std::vector<uint64_t> out;
    uint64_t at = m_used[index];
    for (unsigned i = 0; i < count; ++i) {
        const uint64_t a = std::max<uint64_t>(b.alignment, 1);
        const uint64_t start = (at + a - 1) / a * a;
        if (start + bytes > b.size)
            throw buffer_error(
                fmt::format("cannot allocate {} at {} in {}: {} of {} bytes left (alignment {})",
                            request, what, b.name, free_bytes(index), b.size, b.alignment));
        out.push_back(start);
        at = start + bytes;
    }
    m_used[index] = at;
    return out;
}

}  // namespace npusim::memory
