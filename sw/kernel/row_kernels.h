#pragma once
// Row-wise kernels: each row of a [rows, cols] matrix is reduced or normalised on its own
// (reductions, softmax, layernorm, rmsnorm). Rows sit in UB at a padded stride of whole
// vector repeats; a row is reduced by halving its repeats with elementwise ops, then one
// reduce instruction per row gives the row's value, and brcb spreads per-row values into
// 32-byte blocks that a vector op can broadcast along the row.
#include <cstdint>
#include <limits>

#include "models/params.h"
#include "sw/kernel/kernel_api.h"

namespace npusim::kernel {

/// @brief Tiling of a row-wise op: rows per UB tile and rows per block.
struct row_tiling {
    uint64_t rows = 0, cols = 0;
    uint64_t stride = 0;     ///< padded row length in UB, elements (whole repeats)
    uint64_t tile_rows = 0;  ///< rows per UB tile
    uint64_t per_block = 0;  ///< rows per block
    unsigned depth = 2;
    unsigned block_dim = 1;
};

/// @brief Elements a UB tile of `tile_rows` rows takes beyond its queues: the halving
/// scratch (half a row per row), the per-row values and their blocks.
uint64_t row_scratch_bytes(uint64_t tile_rows, uint64_t stride, unsigned elem_bytes);

/// @brief Rows per tile so that `row_buffers` row-sized queue buffers, the scratch and
/// `fixed_bytes` (e.g. gamma and beta) fit UB. When `calc_bytes` is not 0 the compute runs in
/// a wider type (fp32 statistics of fp16 data): `calc_buffers` more row-sized buffers of
/// `calc_bytes` elements, and the scratch in that type. tile_rows is 0 when one row does not fit.
row_tiling tile_rows(const models::core_params& core, unsigned cores, uint64_t rows, uint64_t cols,
                     unsigned elem_bytes, unsigned row_buffers, uint64_t fixed_bytes,
                     unsigned calc_buffers = 0, unsigned calc_bytes = 0);

/// @brief Per-tile scratch of a row kernel: halving space, per-row values and their blocks.
template <class T>
struct row_scratch {
    row_scratch(kernel_context& ctx, const row_tiling& t)
        : half(ctx.alloc<T>(position::VECCALC, t.tile_rows * half_stride(t.stride))),
          stat(ctx.alloc<T>(position::VECCALC, round_up_elems(t.tile_rows))),
          one(ctx.alloc<T>(position::VECCALC, round_up_elems(t.tile_rows))),
          blocks(ctx.alloc<T>(position::VECCALC, (t.tile_rows + 7) / 8 * 8 * (32 / sizeof(T)))) {}
    static uint64_t half_stride(uint64_t stride) {
        const uint64_t per = 256 / sizeof(T);
        return std::max<uint64_t>(1, stride / per / 2) * per;
    }
    static uint64_t round_up_elems(uint64_t n) {
        const uint64_t per = 32 / sizeof(T);
        return (n + per - 1) / per * per;
    }
    local_tensor<T> half, stat, one, blocks;
};

/// @brief Sets elements [cols, stride) of each of `rows` rows to `value` (the identity of the
/// reduction that follows): a masked dup for the rest of the repeat holding column cols-1, then
/// whole repeats up to the stride (a tile laid out for fp16, 128 per repeat, and computed in fp32,
/// 64 per repeat, can have one), each one dup per 240 rows.
template <class T>
void fill_row_padding(kernel_context& ctx, local_tensor<T> x, uint64_t rows, uint64_t cols,
                      uint64_t stride, float value) {
    const uint64_t per = 256 / sizeof(T), used = cols % per;
    auto dup = [&](uint64_t at, uint64_t mask_lo, uint64_t mask_hi) {
        models::vector_op v;
        v.op = models::vec_opcode::dup;
        v.type = v.dst_type = dtype_of<T>();
        v.scalar = value;
        v.mask_lo = mask_lo;
        v.mask_hi = per <= 64 ? 0 : mask_hi;
        v.dst_blk_stride = 1;
        v.dst_rep_stride = static_cast<uint16_t>(stride * sizeof(T) / 32);
        for (uint64_t r = 0; r < rows; r += 240) {
            v.repeats = static_cast<uint32_t>(std::min<uint64_t>(240, rows - r));
            v.dst = x.offset + (r * stride + at) * sizeof(T);
            ctx.vector(v);
        }
    };
    if (used != 0)  // elements [used, per) of the repeat holding the last column
        dup(cols - used, used >= 64 ? 0 : ~0ull << used, used <= 64 ? ~0ull : ~0ull << (used - 64));
    for (uint64_t at = (cols + per - 1) / per * per; at < stride; at += per) dup(at, ~0ull, ~0ull);
}

/// @brief Folds a row of q >= 2 repeats into the first repeat of `h` (q / 2 repeats of room)
/// by halving: h = row[:half] combine row[half:], then h halves itself down to one repeat.
template <class T>
void fold_row(kernel_context& ctx, models::vec_opcode combine, local_tensor<T> h,
              local_tensor<T> row, uint64_t q) {
    const uint64_t per = 256 / sizeof(T);
    uint64_t h2 = q / 2;
    ctx.vector_binary(combine, h, row, row[h2 * per], h2 * per);
    if (q % 2) ctx.vector_binary(combine, h, h, row[2 * h2 * per], per);
    for (q = h2; q > 1; q = h2) {
        h2 = q / 2;
        ctx.vector_binary(combine, h, h, h[h2 * per], h2 * per);
        if (q % 2) ctx.vector_binary(combine, h, h, h[2 * h2 * per], per);
    }
}

/// @brief stat[r] = combine over row r of x (rows x stride, padding holding the identity):
/// `combine` is add or max. Uses scratch.half.
template <class T>
void reduce_rows(kernel_context& ctx, models::vec_opcode combine, local_tensor<T> stat,
                 local_tensor<T> x, local_tensor<T> half, uint64_t rows, uint64_t stride) {
    const uint64_t per = 256 / sizeof(T), q0 = stride / per;
    const uint64_t hs = row_scratch<T>::half_stride(stride);
    local_tensor<T> src = x;
    uint64_t src_stride = stride;
    if (q0 > 1) {
        for (uint64_t r = 0; r < rows; ++r) fold_row(ctx, combine, half[r * hs], x[r * stride], q0);
        src = half;
        src_stride = hs;
    }
    models::vector_op v;
    v.op = combine == models::vec_opcode::max ? models::vec_opcode::reduce_max
                                              : models::vec_opcode::reduce_sum;
    v.type = v.dst_type = dtype_of<T>();
    v.src0_rep_stride = static_cast<uint16_t>(src_stride * sizeof(T) / 32);
    for (uint64_t r = 0; r < rows; r += 240) {  // 240 keeps each chunk's dst 32-byte aligned
        v.repeats = static_cast<uint32_t>(std::min<uint64_t>(240, rows - r));
        v.src0 = src.offset + r * src_stride * sizeof(T);
        v.dst = stat.offset + r * sizeof(T);
        ctx.vector(v);
    }
}

/// @brief d[r] = x[r] op stat[r] for each row (op: sub, mul, ...), through brcb blocks.
template <class T>
void broadcast_rows(kernel_context& ctx, models::vec_opcode op, local_tensor<T> d,
                    local_tensor<T> x, local_tensor<T> stat, local_tensor<T> blocks, uint64_t rows,
                    uint64_t stride) {
    ctx.brcb(blocks, stat, rows);
    const uint64_t per_block = 32 / sizeof(T);
    for (uint64_t r = 0; r < rows; ++r)
        ctx.binary_block(op, d[r * stride], x[r * stride], blocks[r * per_block], stride);
}

/// @brief What a row kernel writes per row: a whole row (at the padded stride in UB), or one
/// value (contiguous in UB, one per row of the tile).
enum class row_output { rows, values };

/// @brief The row kernel loop: each tile of the block's rows is copied into UB (MTE2) at the
/// padded stride, `compute(x_tile, y_tile, rows)` issues the vector work, and the result
/// (whole rows, or one value per row for a reduction) is copied out (MTE3), through
/// double-buffered queues.
template <class I, class O, class F>
void row_kernel(kernel_context& ctx, global_tensor<I> x, global_tensor<O> y, row_output out,
                const row_tiling& t, const F& compute) {
    // Said explicitly, not inferred from the column count: a reduction of one-column rows
    // gives as many values as columns, but they are packed, not at the row stride.
    const bool whole_rows = out == row_output::rows;
    // A tile's output: its rows at the padded stride, or one value per row (not one row of
    // values per row: that grew with the square of the rows and overflowed UB).
    const uint64_t out_elems =
        whole_rows ? t.tile_rows * t.stride : row_scratch<O>::round_up_elems(t.tile_rows);
    tque<I> qx(ctx, position::VECIN, t.depth, t.tile_rows * t.stride);
    tque<O> qy(ctx, position::VECOUT, t.depth, out_elems);
    const uint64_t begin = uint64_t(ctx.block_idx()) * t.per_block;
    const uint64_t end = std::min(t.rows, begin + t.per_block);
    for (uint64_t r0 = begin; r0 < end; r0 += t.tile_rows) {
        const uint64_t n = std::min(t.tile_rows, end - r0);
        auto xl = qx.alloc_tensor();
        ctx.copy_2d<I>(models::mem_space::ub, xl.offset, models::mem_space::gm,
                       x.addr + r0 * t.cols * sizeof(I), uint32_t(n), t.cols, t.stride, t.cols);
        qx.enque(xl);

        auto xi = qx.deque();
        auto yl = qy.alloc_tensor();
        compute(xi, yl, n);
        qx.free_tensor(xi);
        qy.enque(yl);

        auto yo = qy.deque();
        if (whole_rows)
            ctx.copy_2d<O>(models::mem_space::gm, y.addr + r0 * t.cols * sizeof(O),
                           models::mem_space::ub, yo.offset, uint32_t(n), t.cols, t.cols, t.stride);
        else
            ctx.data_copy(y[r0], yo, n);
        qy.free_tensor(yo);
    }
}

}  // namespace npusim::kernel
