#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "sw/memory/caching_allocator.h"

namespace npusim::memory {

/// @brief First-fit allocator over the device's global memory: blocks are carved from the
/// lowest free range that fits and merged with free neighbours when released.
class device_allocator : public device_driver {
  public:
    /// @param capacity bytes of device memory; @param alignment of every block (power of two)
    device_allocator(uint64_t capacity, uint64_t alignment);

    /// @brief A block of at least `bytes`; false if no free range is large enough.
    bool allocate(uint64_t bytes, uint64_t& addr) override;
    /// @brief Releases a block; false if `addr` is not the start of a live block.
    bool release(uint64_t addr) override;

    uint64_t capacity() const override { return m_capacity; }
    uint64_t allocated_bytes() const { return m_allocated; }
    uint64_t largest_free() const;
    /// @brief One line: allocated, free, blocks and the largest free range.
    std::string summary() const;

  private:
    uint64_t m_capacity, m_alignment;
    uint64_t m_allocated = 0;
    std::map<uint64_t, uint64_t> m_free;  ///< start -> size, non-adjacent
    std::map<uint64_t, uint64_t> m_used;  ///< start -> size
};

}  // namespace npusim::memory
