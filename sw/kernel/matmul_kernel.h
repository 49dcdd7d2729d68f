#pragma once
// The matmul kernel: C[b] = op(A[b]) x op(B[b]) (+ bias) on the cube, with the host-side tiling
// that sizes it for a platform's buffers and orders its tiles for the L2.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/params.h"
#include "platform/config/platform_config.h"
#include "sw/kernel/kernel_api.h"
#include "sw/kernel/partition.h"
#include "sw/kernel/sparse_kernels.h"

namespace npusim::kernel {

/// @brief How int32 results are dequantized on their way out: not, by one scale, or by one
/// scale per output column (FixPipe on split chips, the vector unit on coupled ones).
enum class dequant_kind : uint8_t { none, tensor, channel };

/// @brief What to multiply: C[batch][m x n] = A[m x k] x B[k x n] (+ bias[n]) (x scale[n]).
struct matmul_problem {
    uint32_t batch = 1, m = 0, k = 0, n = 0;
    dtype in = dtype::fp16;   ///< A and B: fp16, bf16, fp32 (fp32 accumulation) or int8 (int32)
    dtype out = dtype::fp16;  ///< C: fp16, bf16, fp32 or int32 (int8 inputs)
    dequant_kind dequant = dequant_kind::none;  ///< int8 inputs only
    dtype bias = dtype::fp32;                   ///< the bias dtype, when has_bias
    bool has_bias = false;
    bool transpose_a = false;                 ///< A is stored [k, m]
    bool transpose_b = false;                 ///< B is stored [n, k]
    bool a_batched = true, b_batched = true;  ///< false: one matrix for every batch
    bool hf32 = false;  ///< fp32 inputs rounded to HF32 by the cube (set_hf32_mode)
    dtype acc() const { return in == dtype::int8 ? dtype::int32 : dtype::fp32; }
};

/// @brief How the matmul is cut: an L0C output tile of base_m x base_n per block step, K in
/// L1 steps of step_k and mmads of base_k, and the order of the tiles.
struct matmul_tiling {
    matmul_problem p;
    uint32_t base_m = 0, base_n = 0, base_k = 0;  ///< one mmad: L0A/L0B/L0C tiles
    uint32_t step_k = 0;                          ///< K per L1 load (a multiple of base_k)
    unsigned depth = 2;                           ///< L1, L0A and L0B buffers per queue
    unsigned l0c_depth = 2;  ///< output tiles in L0C (1: the cube waits while one drains)
    uint32_t chunk_n = 0;    ///< coupled chips: columns per UB pass of the output
    /// Tiles run in groups of `swizzle` tile rows, column by column inside a group, so that the
    /// cores running at the same time share A rows and B columns in L2 (1: row by row).
    uint32_t swizzle = 1;
    unsigned block_dim = 1;
    partition_kind partition = partition_kind::uniform;
    std::vector<std::vector<uint32_t>> assignment;  ///< partition cost: each block's tiles
    uint32_t tiles_m() const { return (p.m + base_m - 1) / base_m; }
    uint32_t tiles_n() const { return (p.n + base_n - 1) / base_n; }
    uint64_t tiles() const { return uint64_t(p.batch) * tiles_m() * tiles_n(); }
};

/// @brief The chip figures the tiling weighs: the cube core, how many run at once and what
/// the shared L2 (or GM without one) and interconnect deliver per cube cycle.
struct matmul_chip {
    models::core_params core;
    unsigned cores = 1;
    double shared_bytes_per_cycle = 0;  ///< 0: unknown, ignored
};
matmul_chip matmul_chip_of(const platform::platform_config& p);

/// @brief Picks tiles that fit L0A, L0B, L0C, L1 (and UB on coupled chips) with `depth`
/// buffers, weighing cube time against the traffic all cores put on the shared L2, and a
/// swizzle (0: chosen to minimise the bytes the cores running together load).
/// @throws std::invalid_argument if the buffers are too small for one fractal.
matmul_tiling tile_matmul(const matmul_chip& chip, const matmul_problem& p, unsigned depth = 2,
                          uint32_t swizzle = 0);

/// @brief NZ -> ND inside UB on the vector unit: fractal columns [block0, block0 + blocks) x 16
/// of an NZ tile with mp padded rows go to `nd`, rows of `pitch` elements. How a coupled chip's
/// result tile is reordered between L0C and GM. E: half, float or int32_t.
template <class E>
void nz_to_nd(kernel_context& ctx, local_tensor<E> nd, uint32_t pitch, local_tensor<E> nz,
              uint32_t rows, uint32_t mp, uint32_t block0, uint32_t blocks);

/// @brief B stored in pages, as a paged KV cache holds K and V: the stored rows of batch entry
/// i (n rows if transpose_b, else k rows) come `rows` at a time, page j of entry i starting at
/// `addr[i * per_batch + j]` (rows contiguous inside a page). The tiling must not let a tile
/// straddle pages (page_tiling).
struct matmul_pages {
    std::vector<uint64_t> addr;
    uint32_t rows = 0, per_batch = 0;
};

/// @brief GM byte addresses of the operands; `b_pages` (if set) replaces `b`, `sparse_a` (if
/// set) replaces `a`.
struct matmul_args {
    uint64_t a = 0, b = 0, c = 0, bias = 0;
    std::shared_ptr<const matmul_pages> b_pages;
    uint64_t scale = 0;  ///< fp32 dequantization scales (one, or one per column)
    std::shared_ptr<const sparse_operand> sparse_a;  ///< tiled by tile_block_sparse
};

/// @brief Sets the tiling's partition (and, for `cost`, its assignment from each tile's
/// fractal count plus a per-tile overhead of loading its operands).
void set_partition(matmul_tiling& t, partition_kind k);

/// @brief Tiles a matmul whose A is block-sparse with bm x bk blocks (multiples of 16): one
/// row block per tile (base_m = bm), one stored block per k-step (step_k = base_k = bk), and
/// the widest base_n that fits.
/// @throws std::invalid_argument (why, in words about the blocks) if the blocks are not whole
/// fractals or do not fit L0.
matmul_tiling tile_block_sparse(const matmul_chip& chip, const matmul_problem& p, uint32_t bm,
                                uint32_t bk);

/// @brief Narrows a tiling so that no B tile crosses a page of `rows` rows (a multiple of 16):
/// base_n divides `rows` when B is transposed, else step_k does; the blocks are spread again
/// over at most `cores`.
/// @throws std::invalid_argument if `rows` is not a multiple of 16.
matmul_tiling page_tiling(matmul_tiling t, uint32_t rows, unsigned cores);

/// @brief The matmul kernel for every dtype combination of the tiling's problem (cube cores;
/// on coupled chips the result leaves L0C through UB, on split chips through FixPipe).
/// `queue`: the launch's shared word, for partition steal.
void matmul_kernel(kernel_context& ctx, const matmul_args& g, const matmul_tiling& t,
                   uint64_t* queue = nullptr);
/// @brief fp16 C = A x B.
void matmul_kernel(kernel_context& ctx, global_tensor<half> a, global_tensor<half> b,
                   global_tensor<half> c, const matmul_tiling& t);

}  // namespace npusim::kernel
