#include "sw/memory/tensor.h"

#include <fmt/format.h>

#include <stdexcept>

#include "models/core/fractal_layout.h"

namespace npusim::memory {

const char* to_string(tensor_format f) {
    switch (f) {
        case tensor_format::nd:
            return "ND";
        case tensor_format::nz:
            return "NZ";
        case tensor_format::nc1hwc0:
            return "NC1HWC0";
    }
    return "?";
}

namespace {

/// a * b, or throws naming the tensor if it does not fit in 64 bits.
uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& name) {
    if (b != 0 && a > ~uint64_t(0) / b)
        throw std::invalid_argument("tensor '" + name +
                                    "': its size overflows 64 bits; use a smaller shape");
    return a * b;
}

}  // namespace

tensor_desc::tensor_desc(std::string name, models::dtype type, std::vector<int64_t> shape,
                         tensor_format format, std::vector<int64_t> strides, uint64_t alignment)
    : m_name(std::move(name)),
      m_type(type),
      m_shape(std::move(shape)),
      m_strides(std::move(strides)),
      m_format(format),
      m_alignment(alignment) {
    const std::string who = "tensor '" + m_name + "'";
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        throw std::invalid_argument(fmt::format(
            "{}: alignment {} is not a power of two; use e.g. 32 or 512", who, alignment));
    for (size_t i = 0; i < m_shape.size(); ++i)
        if (m_shape[i] < 0)
            throw std::invalid_argument(fmt::format(
                "{}: dimension {} is {}; dimensions must be 0 or more", who, i, m_shape[i]));
    const uint64_t esize = models::dtype_size(type);
    m_elements = 1;
    for (int64_t d : m_shape) m_elements = checked_mul(m_elements, uint64_t(d), m_name);
    const uint64_t c0 = 32 / esize;  // elements in 32 bytes: 16 fp16, 32 int8, 8 fp32
    switch (format) {
        case tensor_format::nd: {
            if (!m_strides.empty() && m_strides.size() != m_shape.size())
                throw std::invalid_argument(
                    fmt::format("{}: {} strides for a {}-D shape; give one per dimension", who,
                                m_strides.size(), m_shape.size()));
            if (m_strides.empty()) {
                m_strides.assign(m_shape.size(), 1);
                for (size_t i = m_shape.size(); i-- > 1;)
                    m_strides[i - 1] =
                        int64_t(checked_mul(uint64_t(m_strides[i]),
                                            uint64_t(std::max<int64_t>(m_shape[i], 1)), m_name));
            }
            // The last element's offset + 1: strides may leave gaps (padding) between rows.
            uint64_t last = 0;
            for (size_t i = 0; i < m_shape.size(); ++i) {
                if (m_strides[i] < 0)
                    throw std::invalid_argument(
                        fmt::format("{}: stride {} is negative", who, m_strides[i]));
                if (m_shape[i] > 0)
                    last += checked_mul(uint64_t(m_shape[i] - 1), uint64_t(m_strides[i]), m_name);
            }
            m_bytes = m_elements == 0 ? 0 : checked_mul(last + 1, esize, m_name);
            break;
        }
        case tensor_format::nz: {
            if (m_shape.size() < 2)
                throw std::invalid_argument(who + ": NZ needs at least 2 dimensions (rows, cols)");
            uint64_t batch = 1;
            for (size_t i = 0; i + 2 < m_shape.size(); ++i)
                batch = checked_mul(batch, uint64_t(m_shape[i]), m_name);
            const uint64_t rows = models::round_up(uint64_t(m_shape[m_shape.size() - 2]), 16);
            const uint64_t cols = models::round_up(uint64_t(m_shape.back()), c0);
            m_bytes = checked_mul(checked_mul(checked_mul(batch, rows, m_name), cols, m_name),
                                  esize, m_name);
            break;
        }
        case tensor_format::nc1hwc0: {
            if (m_shape.size() != 4)
                throw std::invalid_argument(who + ": NC1HWC0 needs a 4-D NCHW shape");
            const uint64_t c1 = (uint64_t(m_shape[1]) + c0 - 1) / c0;
            uint64_t n = checked_mul(uint64_t(m_shape[0]), c1, m_name);
            n = checked_mul(n, uint64_t(m_shape[2]), m_name);
            n = checked_mul(n, uint64_t(m_shape[3]), m_name);
            m_bytes = checked_mul(checked_mul(n, c0, m_name), esize, m_name);
            break;
        }
    }
    if (format != tensor_format::nd) m_strides.clear();
}

std::string tensor_desc::describe() const {
    std::string dims;
    for (size_t i = 0; i < m_shape.size(); ++i) dims += (i ? "," : "") + std::to_string(m_shape[i]);
    return fmt::format("'{}' {}[{}] {}", m_name, models::to_string(m_type), dims,
                       to_string(m_format));
}

device_tensor& device_tensor::operator=(device_tensor&& o) noexcept {
    if (this != &o) {
        reset();
        m_desc = std::move(o.m_desc);
        m_addr = o.m_addr;
        m_release = std::move(o.m_release);
        o.m_release = nullptr;
    }
    return *this;
}

void device_tensor::reset() {
    if (!m_release) return;
    auto release = std::move(m_release);
    m_release = nullptr;
    release(m_addr);
}

}  // namespace npusim::memory
