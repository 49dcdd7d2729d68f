#include "models/dma/dma_request.h"

#include <cstdio>

namespace npusim::models {

uint64_t dma_request::nz_bytes() const {
    const uint64_t cols = row_bytes / elem_bytes;
    const uint64_t blocks = (cols + c0() - 1) / c0();
    return blocks * padded_rows() * uint64_t(c0()) * elem_bytes;
}

std::string dma_request::describe() const {
    char buf[160];
    const char* conv_text = conv == layout_conv::nd2nz   ? " nd2nz"
                            : conv == layout_conv::nz2nd ? " nz2nd"
                                                         : "";
    std::snprintf(buf, sizeof buf, "copy %s[0x%llx]->%s[0x%llx] %ux%lluB%s", to_string(src_space),
                  static_cast<unsigned long long>(src), to_string(dst_space),
                  static_cast<unsigned long long>(dst), rows,
                  static_cast<unsigned long long>(row_bytes), conv_text);
    return buf;
}

}  // namespace npusim::models
