#pragma once
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>

namespace npusim::models {

/// @brief Bytes that read as zero and cost nothing until touched: an anonymous mapping,
/// which the OS backs with zeroed frames only where it is written. A timing-only run uses one
/// as the source or destination of copies whose bytes nobody looks at, so they cost neither a
/// memset nor page faults (a std::vector would clear every byte up front).
class host_buffer {
  public:
    explicit host_buffer(uint64_t bytes) : m_bytes(bytes) {
        if (bytes == 0) return;
        void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        m_data = static_cast<uint8_t*>(p);
    }
    ~host_buffer() {
        if (m_data) munmap(m_data, m_bytes);
    }
    host_buffer(const host_buffer&) = delete;
    host_buffer& operator=(const host_buffer&) = delete;

    /// @brief The bytes; never null (an empty buffer gives a valid one-byte address).
    uint8_t* data() { return m_data ? m_data : &m_empty; }
    const uint8_t* data() const { return m_data ? m_data : &m_empty; }
    uint64_t size() const { return m_bytes; }

  private:
    uint8_t* m_data = nullptr;
    uint64_t m_bytes = 0;
    uint8_t m_empty = 0;
};

/// @brief Scratch bytes that only grow, backed like host_buffer (a timing-only run that never
/// touches them faults none in). What they held is lost when they grow.
class scratch_buffer {
  public:
    /// @brief At least `bytes` bytes.
    uint8_t* at_least(uint64_t bytes) {
        if (!m_buf || m_buf->size() < bytes)
            m_buf = std::make_unique<host_buffer>(std::max(bytes, m_buf ? 2 * m_buf->size() : 0));
        return m_buf->data();
    }

  private:
    std::unique_ptr<host_buffer> m_buf;
};

}  // namespace npusim::models
