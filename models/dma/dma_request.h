#pragma once
#include <cstdint>
#include <string>

#include "models/params.h"

namespace npusim::models {

/// @brief On-the-fly layout conversion done by the engines that support it in hardware.
enum class layout_conv : uint8_t {
    none,
    nd2nz,  ///< ND rows in, FRACTAL_NZ out (MTE2 GM->L1); padding is zero-filled
    nz2nd,  ///< FRACTAL_NZ in, ND rows out (FixPipe L0C->GM)
};

/// @brief One DMA instruction: a 2-D strided copy between two memories, optionally converting
/// between ND and the NZ fractal layout.
///
/// The ND side is `rows` x `row_bytes` with its stride. The NZ side holds fractals of 16 rows x
/// c0 elements laid out column-block-major: element (r, c) sits at
/// ((c / c0) * ceil16(rows) + r) * c0 * elem + (c % c0) * elem.
struct dma_request {
    mem_space src_space = mem_space::gm;
    mem_space dst_space = mem_space::gm;
    uint64_t src = 0;  ///< byte address in src_space (GM: global address; local: offset)
    uint64_t dst = 0;
    uint32_t rows = 1;
    uint64_t row_bytes = 0;
    uint64_t src_stride = 0;  ///< bytes between row starts; 0 = packed
    uint64_t dst_stride = 0;
    layout_conv conv = layout_conv::none;
    uint32_t elem_bytes = 2;
    uint32_t c0_elems = 0;  ///< fractal row length in elements; 0 = 32 B / elem_bytes

    uint64_t bytes() const { return uint64_t(rows) * row_bytes; }
    uint64_t src_pitch() const { return src_stride ? src_stride : row_bytes; }
    uint64_t dst_pitch() const { return dst_stride ? dst_stride : row_bytes; }
    uint32_t c0() const { return c0_elems ? c0_elems : 32 / elem_bytes; }
    uint32_t padded_rows() const { return (rows + 15) / 16 * 16; }
    /// @brief Bytes the NZ side spans: column blocks x padded rows x fractal row.
    uint64_t nz_bytes() const;
    /// @brief Short text for errors and traces, e.g. "copy GM[0x0]->L1[0x40] 4x512B nd2nz".
    std::string describe() const;
};

}  // namespace npusim::models
