#include "models/dma/dma_request.h"

#include <cstdio>

namespace npusim::models {

uint64_t dma_request::nz_bytes() const {
    const uint64_t blocks = (cols() + c0() - 1) / c0();
    return blocks * padded_rows() * uint64_t(c0()) * dst_elem();
}

std::string dma_request::describe() const {
    static const char* convs[] = {"", " nd2nz", " nz2nd", " nz2zz", " nz2zn", " img2col", " fill"};
    char buf[200];
    std::snprintf(buf, sizeof buf, "copy %s[0x%llx]->%s[0x%llx] %ux%lluB%s%s%s%s%s",
                  to_string(src_space), static_cast<unsigned long long>(src), to_string(dst_space),
                  static_cast<unsigned long long>(dst), rows,
                  static_cast<unsigned long long>(row_bytes), convs[size_t(conv)],
                  transpose ? " transposed" : "", cast() ? " cast " : "",
                  cast() ? to_string(src_type) : "",
                  cast() ? (std::string("->") + to_string(dst_type)).c_str() : "");
    if (deq == deq_mode::scalar) return buf + std::string(" deq x") + std::to_string(deq_scale);
    if (deq == deq_mode::vector)
        return buf + std::string(" deq FB[") + std::to_string(deq_fb) + "]";
    return buf;
}

}  // namespace npusim::models
