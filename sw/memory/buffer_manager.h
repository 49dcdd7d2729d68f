#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace npusim::memory {

/// @brief An on-chip buffer request that cannot be met; the text names the buffer, the request
/// and what is left.
struct buffer_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// @brief Lays out one core's on-chip buffers (L1, L0A, L0B, L0C, UB, ...) for a kernel: queues
/// of N buffers x length and scratch tensors, placed one after another at each buffer's
/// alignment (as TPipe::InitBuffer does). Everything is released when the kernel ends.
class buffer_manager {
  public:
    struct buffer {
        std::string name;  ///< "UB"
        uint64_t size = 0, alignment = 1;
    };
    explicit buffer_manager(std::vector<buffer> buffers);

    /// @brief A scratch area of `bytes` in buffer `index`; returns its offset.
    /// @throws buffer_error if it does not fit; std::invalid_argument for 0 bytes.
    uint64_t alloc(size_t index, uint64_t bytes, const std::string& what);
    /// @brief `count` buffers of `bytes` each (a queue); returns their offsets.
    std::vector<uint64_t> alloc_queue(size_t index, unsigned count, uint64_t bytes,
                                      const std::string& what);
    /// @brief Bytes left in a buffer at its alignment.
    uint64_t free_bytes(size_t index) const;
    uint64_t used_bytes(size_t index) const { return m_used.at(index); }

  private:
    uint64_t next_start(size_t index) const;

    std::vector<buffer> m_buffers;
    std::vector<uint64_t> m_used;
};

}  // namespace npusim::memory
