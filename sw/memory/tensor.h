#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/core/dtype.h"

namespace npusim::memory {

/// @brief How a tensor's elements are laid out in device memory.
enum class tensor_format : uint8_t {
    nd,       ///< row-major, optionally with explicit strides
    nz,       ///< FRACTAL_NZ: the last two dims in 16 x C0 fractals (C0 = 32 bytes of elements)
    nc1hwc0,  ///< 4-D NCHW with C split into C1 blocks of C0 = 32 bytes of elements
};
const char* to_string(tensor_format f);

/// @brief A tensor's description: dtype, shape, format, strides (ND) and alignment. The size
/// follows the format's padding rules.
class tensor_desc {
  public:
    /// @throws std::invalid_argument naming the tensor for a negative dimension, a size that
    /// overflows, a format the shape does not fit, strides of the wrong rank, or an alignment
    /// that is not a power of two.
    tensor_desc(std::string name, models::dtype type, std::vector<int64_t> shape,
                tensor_format format = tensor_format::nd, std::vector<int64_t> strides = {},
                uint64_t alignment = 512);

    const std::string& name() const { return m_name; }
    models::dtype type() const { return m_type; }
    const std::vector<int64_t>& shape() const { return m_shape; }
    tensor_format format() const { return m_format; }
    /// @brief Element strides (ND; row-major unless given).
    const std::vector<int64_t>& strides() const { return m_strides; }
    uint64_t alignment() const { return m_alignment; }
    /// @brief Logical elements (the product of the shape).
    uint64_t elements() const { return m_elements; }
    /// @brief Bytes the layout occupies, padding included (before allocation alignment).
    uint64_t storage_bytes() const { return m_bytes; }
    /// @brief "x fp16[2,3] NZ".
    std::string describe() const;

  private:
    std::string m_name;
    models::dtype m_type;
    std::vector<int64_t> m_shape, m_strides;
    tensor_format m_format;
    uint64_t m_alignment;
    uint64_t m_elements = 0, m_bytes = 0;
};

/// @brief A tensor in device memory that frees its block when it goes (move-only). Made by
/// runtime::context::alloc_tensor.
class device_tensor {
  public:
    device_tensor() = default;
    device_tensor(tensor_desc desc, uint64_t addr, std::function<void(uint64_t)> release)
        : m_desc(std::move(desc)), m_addr(addr), m_release(std::move(release)) {}
    ~device_tensor() { reset(); }
    device_tensor(device_tensor&& o) noexcept { *this = std::move(o); }
    device_tensor& operator=(device_tensor&& o) noexcept;
    device_tensor(const device_tensor&) = delete;
    device_tensor& operator=(const device_tensor&) = delete;

    bool valid() const { return bool(m_release); }
    uint64_t addr() const { return m_addr; }
    const tensor_desc& desc() const { return m_desc; }
    /// @brief Frees the block now.
    void reset();

  private:
    tensor_desc m_desc{"", models::dtype::fp16, {}};
    uint64_t m_addr = 0;
    std::function<void(uint64_t)> m_release;
};

}  // namespace npusim::memory
