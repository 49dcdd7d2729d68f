#pragma once
// Sparse matrix products written in the kernel API, for A (m x k) stored block-sparse (BSR;
// CSR is 1 x 1 blocks) times a dense B (k x n): the direct kernel on the vector unit and the
// densify step of the dense fallback. The block-sparse kernel is the cube matmul's
// (matmul_args::sparse_a).
#include <cstdint>
#include <string>
#include <vector>

#include "sw/kernel/kernel_api.h"
#include "sw/kernel/partition.h"

namespace npusim::kernel {

/// @brief A in BSR: row block r (bm rows) holds blocks offsets[r] .. offsets[r+1]-1 (int32);
/// block j is bm x bk fp16 values, row-major at values + j bm bk elements, in block column
/// columns[j] (int32, rising within a row block). Bad indices fault the kernel, naming the
/// inputs of op `op`.
struct sparse_operand {
    uint64_t values = 0, columns = 0, offsets = 0;  ///< GM byte addresses
    uint32_t m = 0, k = 0;                          ///< A's logical size
    uint32_t bm = 1, bk = 1;
    uint64_t blocks = 0;  ///< stored blocks (the length of columns)
    std::string op;
    uint64_t row_blocks() const { return m / bm; }
    uint64_t col_blocks() const { return k / bk; }
};

/// @brief The stored blocks of one row block, read by the scalar unit and checked.
struct sparse_row {
    uint64_t first = 0;            ///< the index of its first block
    std::vector<int32_t> columns;  ///< their block columns
};
/// @throws model_fault naming the input ('offsets' or 'columns'), the element and the rule.
sparse_row read_sparse_row(kernel_context& ctx, const sparse_operand& a, uint64_t row_block);

/// @brief The direct kernel's cut: one task is a row block and `tile_n` columns of C; B's rows
/// come in `group` blocks at a time (that many copies in flight per queue buffer).
struct sparse_tiling {
    uint32_t n = 0, tile_n = 0, group = 1;
    unsigned block_dim = 1;
    partition_kind partition = partition_kind::uniform;  ///< uniform or steal
    uint64_t tasks(const sparse_operand& a) const {
        return a.row_blocks() * ((n + tile_n - 1) / tile_n);
    }
};

/// @brief Sizes the tasks of the direct kernel (fp16 B and C, an fp32 accumulator in UB).
sparse_tiling tile_sparse_direct(const models::core_params& core, unsigned cores,
                                 const sparse_operand& a, uint32_t n);

/// @brief C (fp16, m x n) = A x B on the vector unit: for each stored element A[i][j] the row
/// B[j] is copied GM -> UB and added into row i of an fp32 accumulator (axpy).
/// `queue`: the launch's shared word, for partition steal.
void sparse_direct_kernel(kernel_context& ctx, const sparse_operand& a, uint64_t b, uint64_t c,
                          const sparse_tiling& t, uint64_t* queue = nullptr);

/// @brief The densify step's cut: one task is a row block and `chunk_k` columns of A.
struct densify_tiling {
    uint32_t chunk_k = 0;
    unsigned block_dim = 1;
    uint64_t tasks(const sparse_operand& a) const {
        return a.row_blocks() * ((a.k + chunk_k - 1) / chunk_k);
    }
};
densify_tiling tile_densify(const models::core_params& core, unsigned cores,
                            const sparse_operand& a);

/// @brief A dense (fp16, m x k, at `dense`): each chunk zeroed by the vector unit, the stored
/// elements written by scalar stores, then MTE3 to GM.
void densify_kernel(kernel_context& ctx, const sparse_operand& a, uint64_t dense,
                    const densify_tiling& t);

}  // namespace npusim::kernel
