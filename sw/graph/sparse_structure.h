#pragma once
// The stored-block pattern of a sparse operand declared in a workload file (`sparse:`), drawn
// from a seed: which blocks of a row_blocks x col_blocks grid are stored, in BSR order.
#include <cstdint>
#include <vector>

namespace npusim::graph {

/// @brief BSR indices: row block r holds blocks offsets[r] .. offsets[r+1]-1, in block
/// columns columns[...] (rising within a row).
struct sparse_structure {
    std::vector<int32_t> offsets, columns;
};

/// @brief round(density x row_blocks x col_blocks) blocks. skew 0: uniform over the grid;
/// skew s > 0: row block r gets a share of the blocks proportional to (r + 1)^-s (at most a
/// full row), for work that is uneven across rows. Same arguments, same pattern.
sparse_structure make_sparse_structure(uint64_t row_blocks, uint64_t col_blocks, double density,
                                       double skew, uint64_t seed);

}  // namespace npusim::graph
