#pragma once
// Kernels that write an output without reading a (non-empty) input: what an op gives when an
// input has a zero-sized dimension but the output does not, e.g. a matmul with k = 0 (zeros,
// or the bias on every row) or a sum over an empty axis (zeros). Rows of the output are
// written from one UB chunk of columns that is filled (dup) or loaded and cast once.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "models/params.h"
#include "sw/kernel/kernel_api.h"

namespace npusim::kernel {

/// @brief Tiling of a fill: `rows` x `cols` output elements, `chunk` columns per UB pass,
/// `per_block` rows per block.
struct fill_tiling {
    uint64_t rows = 0, cols = 0, chunk = 0, per_block = 0;
    unsigned block_dim = 1;
};

/// @brief Splits rows over up to `cores` blocks; a chunk of columns in the output dtype
/// (`out_bytes`) and, for a broadcast row, in the row's dtype (`row_bytes`, 0: none) fits UB.
inline fill_tiling tile_fill(const models::core_params& core, unsigned cores, uint64_t rows,
                             uint64_t cols, unsigned out_bytes, unsigned row_bytes = 0) {
    fill_tiling t;
    t.rows = rows;
    t.cols = cols;
    const uint64_t ub = core.buffer(models::mem_space::ub).size;
    // Whole 256-byte repeats of each dtype, 1 KiB of slack for alignment.
    const uint64_t per = 256 / std::min(out_bytes, row_bytes ? row_bytes : out_bytes);
    const uint64_t fit = ub > 1024 ? (ub - 1024) / (out_bytes + row_bytes) / per * per : 0;
    t.chunk = std::min<uint64_t>(std::max<uint64_t>(fit, per), (cols + per - 1) / per * per);
    t.per_block = std::max<uint64_t>(1, (rows + cores - 1) / std::max(1u, cores));
    t.block_dim = unsigned(std::max<uint64_t>(1, (rows + t.per_block - 1) / t.per_block));
    return t;
}

/// @brief y (rows x cols) = `value` in every element. O: half, float or int32_t.
template <class O>
void fill_kernel(kernel_context& ctx, global_tensor<O> y, const fill_tiling& t, float value) {
    const auto buf = ctx.alloc<O>(position::VECCALC, t.chunk);
    ctx.duplicate(buf, value, t.chunk);
    const uint32_t id = ctx.alloc_event_id(pipe_id::V, pipe_id::MTE3);
    ctx.set_flag(pipe_id::V, pipe_id::MTE3, id);
    ctx.wait_flag(pipe_id::V, pipe_id::MTE3, id);
    const uint64_t begin = uint64_t(ctx.block_idx()) * t.per_block;
    const uint64_t end = std::min(t.rows, begin + t.per_block);
    for (uint64_t r = begin; r < end; ++r)
        for (uint64_t c0 = 0; c0 < t.cols; c0 += t.chunk)
            ctx.data_copy(y[r * t.cols + c0], buf, std::min(t.chunk, t.cols - c0));
}

/// @brief y[r][c] = row[c] converted to O, for every row r (a bias added to nothing).
template <class R, class O>
void broadcast_row_kernel(kernel_context& ctx, global_tensor<R> row, global_tensor<O> y,
                          const fill_tiling& t) {
    const auto in = ctx.alloc<R>(position::VECIN, t.chunk);
    local_tensor<O> out;
    if constexpr (!std::is_same_v<R, O>) out = ctx.alloc<O>(position::VECOUT, t.chunk);
    const uint64_t begin = uint64_t(ctx.block_idx()) * t.per_block;
    const uint64_t end = std::min(t.rows, begin + t.per_block);
    const uint32_t loaded = ctx.alloc_event_id(pipe_id::MTE2, pipe_id::V);
    const uint32_t ready = ctx.alloc_event_id(pipe_id::V, pipe_id::MTE3);
    for (uint64_t c0 = 0; c0 < t.cols && begin < end; c0 += t.chunk) {
        const uint64_t len = std::min(t.chunk, t.cols - c0);
        // The previous chunk's copies out must be done before its buffers are overwritten.
        ctx.pipe_barrier(pipe_id::ALL);
        ctx.data_copy(in, row[c0], len);
        ctx.set_flag(pipe_id::MTE2, pipe_id::V, loaded);
        ctx.wait_flag(pipe_id::MTE2, pipe_id::V, loaded);
        local_tensor<O> src;
        if constexpr (std::is_same_v<R, O>) {
            src = in;
        } else {
            ctx.cast(out, in, len);
            src = out;
        }
        ctx.set_flag(pipe_id::V, pipe_id::MTE3, ready);
        ctx.wait_flag(pipe_id::V, pipe_id::MTE3, ready);
        for (uint64_t r = begin; r < end; ++r) ctx.data_copy(y[r * t.cols + c0], src, len);
    }
}

}  // namespace npusim::kernel
