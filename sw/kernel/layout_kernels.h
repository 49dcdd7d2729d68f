#pragma once
// Data-movement kernels written in the kernel API: broadcasting binary ops, transpose, gather
// and rotary position embedding, with the host-side tilings that size them for a platform.
//
// They share one UB layout: a tile is `rows` rows of a row pitch that is a whole number of
// 32-byte blocks, so every row starts block-aligned and a vector instruction covers one column
// chunk of up to one repeat for up to 255 rows (rows as repeats, the pitch as repeat stride).
#include <cstdint>
#include <vector>

#include "models/params.h"
#include "sw/kernel/kernel_api.h"

namespace npusim::kernel {

/// @brief A UB operand of a 2-D vector op: byte offset, 32-byte blocks between rows (0: every
/// row reads the same data), and the block stride inside a row (0: one 32-byte block holds
/// the row's value, repeated, as kernel_context::brcb writes it).
struct ub_rows {
    uint64_t offset = 0;
    uint32_t rep_stride = 0;
    uint16_t blk_stride = 1;
};

/// @brief dst = a op b (or a op scalar for the scalar forms, b unused) over rows x cols
/// elements of type t, a column chunk of one repeat at a time with the rows as repeats.
void vector_rows(kernel_context& ctx, models::vec_opcode op, dtype t, ub_rows dst, ub_rows a,
                 ub_rows b, uint64_t rows, uint64_t cols, float scalar = 0);

/// @brief Copies rows x cols elements inside UB (x * 1, exact).
void copy_rows(kernel_context& ctx, dtype t, ub_rows dst, ub_rows src, uint64_t rows,
               uint64_t cols);

/// @brief Elements per 32-byte block.
inline uint64_t block_elems(dtype t) {
    return 32 / models::dtype_size(t);
}

/// @brief Transposes a rows x cols tile (both padded to blocks: rows_p, cols_p) at `src` with
/// row pitch cols_p into `dst` with row pitch rows_p (vector transpose of square blocks).
void transpose_tile(kernel_context& ctx, dtype t, uint64_t dst, uint64_t src, uint64_t rows_p,
                    uint64_t cols_p);

// --- broadcasting binary ops ---

/// @brief z = x op y with numpy broadcasting, the output viewed as rows x cols: cols is the
/// (collapsed) innermost dimension, rows run over the collapsed outer dimensions. An operand
/// either has the output's columns (row mode, inner stride 1) or one value per row (scalar
/// mode, inner stride 0); its outer strides are 0 where it is broadcast.
struct broadcast_tiling {
    std::vector<uint64_t> outer;               ///< collapsed outer dims, outermost first
    std::vector<uint64_t> x_stride, y_stride;  ///< element strides per outer dim
    bool x_scalar = false, y_scalar = false;   ///< inner stride 0
    uint64_t cols = 1, rows = 1;               ///< rows = product of outer
    uint64_t prefixes = 1;  ///< product of outer but the last; tiles stay inside one
    uint64_t tile_rows = 1, tile_cols = 1, pitch = 16;  ///< pitch: tile_cols padded to blocks
    unsigned block_dim = 1;
    uint64_t col_tiles() const { return (cols + tile_cols - 1) / tile_cols; }
    uint64_t row_tiles() const { return (outer.back() + tile_rows - 1) / tile_rows; }
    uint64_t tiles() const { return prefixes * row_tiles() * col_tiles(); }
};

/// @brief Collapses the shapes (out = broadcast of x and y, already checked) and sizes the
/// tiles to fit UB of `core` with double buffering; a `compute` type other than t (bf16 in
/// fp32, int8 in fp16) adds the converted tiles.
broadcast_tiling tile_broadcast(const models::core_params& core, unsigned cores,
                                const std::vector<int64_t>& x, const std::vector<int64_t>& y,
                                const std::vector<int64_t>& out, dtype t, dtype compute);

/// @brief Whether the collapsed operands both cover the output element for element (the
/// plain elementwise kernel applies).
bool broadcast_is_elementwise(const broadcast_tiling& b);

/// @brief The broadcasting kernel (see broadcast_tiling). T is the tensors' type; C, the type
/// computed in: T (half, float, int16_t, int32_t), or float for bfloat16 and half for int8_t,
/// each tile converted to C and the result back to T (to nearest; int8 saturates).
template <class T, class C = T>
void broadcast_binary_kernel(kernel_context& ctx, models::vec_opcode op, global_tensor<T> x,
                             global_tensor<T> y, global_tensor<T> z, const broadcast_tiling& b);

// --- transpose ---

/// @brief out = in permuted, as batches of 2-D blocks: each batch copies a rows x cols matrix
/// (input row stride in_stride, contiguous columns) to the output, transposed (row stride
/// out_stride, contiguous) when the innermost dimension moves, as is otherwise.
struct transpose_tiling {
    bool transpose = false;
    uint64_t rows = 1, cols = 1, in_stride = 1, out_stride = 1;
    std::vector<uint64_t> batch, batch_in, batch_out;  ///< batch dims and their strides
    uint64_t tile_rows = 1, tile_cols = 1;             ///< multiples of the block (transpose)
    unsigned block_dim = 1;
    uint64_t batches() const;
    uint64_t row_tiles() const { return (rows + tile_rows - 1) / tile_rows; }
    uint64_t col_tiles() const { return (cols + tile_cols - 1) / tile_cols; }
};

transpose_tiling tile_transpose(const models::core_params& core, unsigned cores,
                                const std::vector<int64_t>& shape, const std::vector<int64_t>& perm,
                                dtype t);

template <class T>
void transpose_kernel(kernel_context& ctx, global_tensor<T> in, global_tensor<T> out,
                      const transpose_tiling& tt);

// --- gather ---

/// @brief out[p, i, :] = x[p, idx[i], :] over x viewed as [outer, axis_len, inner].
struct gather_tiling {
    uint64_t outer = 1, axis_len = 1, inner = 1, indices = 1;
    uint64_t tile_rows = 1, tile_cols = 1;
    unsigned block_dim = 1;
    uint64_t row_tiles() const { return (indices + tile_rows - 1) / tile_rows; }
    uint64_t col_tiles() const { return (inner + tile_cols - 1) / tile_cols; }
};

gather_tiling tile_gather(const models::core_params& core, unsigned cores, uint64_t outer,
                          uint64_t axis_len, uint64_t inner, uint64_t indices, dtype t);

/// @brief Reads the indices on the scalar unit (ctx.get_value); an index outside
/// 0..axis_len-1 faults the block naming it.
template <class T>
void gather_kernel(kernel_context& ctx, global_tensor<T> x, global_tensor<int32_t> idx,
                   global_tensor<T> out, const gather_tiling& g);

// --- rotary position embedding ---

/// @brief y = x * cos + rotate_half(x) * sin over x viewed as [batch, seq, dim]; cos and sin
/// are [seq, dim] or [seq, dim / 2] (`half_tables`: the same values for both halves).
struct rope_tiling {
    uint64_t batch = 1, seq = 1, dim = 2;
    bool half_tables = false;
    uint64_t tile_seq = 1, tile_cols = 1;  ///< tile_cols: columns of each half per tile
    unsigned block_dim = 1;
    uint64_t seq_tiles() const { return (seq + tile_seq - 1) / tile_seq; }
    uint64_t col_tiles() const { return (dim / 2 + tile_cols - 1) / tile_cols; }
    /// @brief UB row pitch: both halves of a tile row, each padded to whole blocks.
    uint64_t pitch(uint64_t block_elems) const {
        return 2 * ((tile_cols + block_elems - 1) / block_elems * block_elems);
    }
};

rope_tiling tile_rope(const models::core_params& core, unsigned cores, uint64_t batch, uint64_t seq,
                      uint64_t dim, bool half_tables, dtype t);

template <class T>
void rope_kernel(kernel_context& ctx, global_tensor<T> x, global_tensor<T> cos,
                 global_tensor<T> sin, global_tensor<T> y, const rope_tiling& r);

}  // namespace npusim::kernel
