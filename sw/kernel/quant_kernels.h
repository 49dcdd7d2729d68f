#pragma once
// Quantization kernels written in the kernel API: quantize (float -> int8) and dequantize
// (int8 or int32 -> float) with a scale and an offset per tensor or per channel (the last
// dimension), computed in fp32 on the vector unit.
#include <cstdint>

#include "models/params.h"
#include "sw/kernel/kernel_api.h"

namespace npusim::kernel {

/// @brief The input viewed as rows x cols (per channel: cols = channels; per tensor: one row),
/// cut into tiles of tile_rows x tile_cols with a row pitch of whole 32-byte blocks of every
/// dtype involved.
struct quant_tiling {
    uint64_t rows = 1, cols = 0;
    uint64_t tile_rows = 1, tile_cols = 0, pitch = 0;
    bool per_channel = false;
    unsigned block_dim = 1;
    uint64_t row_tiles() const { return (rows + tile_rows - 1) / tile_rows; }
    uint64_t col_tiles() const { return (cols + tile_cols - 1) / tile_cols; }
    uint64_t tiles() const { return row_tiles() * col_tiles(); }
};

/// @brief Sizes the tiles for n elements with `channels` scales (1: per tensor), input and
/// output element sizes in bytes.
quant_tiling tile_quant(const models::core_params& core, unsigned cores, uint64_t n,
                        uint64_t channels, unsigned in_bytes, unsigned out_bytes);

/// @brief dequant false: y = saturate(rint(x / scale + offset)) into int8 (x fp16, bf16 or
/// fp32); dequant true: y = (x - offset) * scale (x int8 or int32) into yt. scale and offset
/// are fp32 in GM, one value (per tensor, read by the scalar unit) or one per column.
void quant_kernel(kernel_context& ctx, bool dequant, dtype xt, uint64_t x, uint64_t scale,
                  uint64_t offset, dtype yt, uint64_t y, const quant_tiling& t);

}  // namespace npusim::kernel
