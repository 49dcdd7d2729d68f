#pragma once
// Element offsets in the fractal layouts the cube uses (ascend-facts §1.5). A fractal is 16 rows
// of c0 elements (512 bytes for 2-byte types); matrices are padded to whole fractals.
//   NZ: fractals in column-block-major order, row-major inside (L1, L0C)
//   ZZ: fractals in row-block-major order, row-major inside (L0A: the left operand)
//   ZN: fractals in row-block-major order, column-major inside (L0B: the right operand)
#include <cstdint>

namespace npusim::models {

inline uint64_t round_up(uint64_t v, uint64_t m) {
    return (v + m - 1) / m * m;
}

/// @brief NZ: element (r, c) of a matrix with `rows_padded` rows, given c's column block
/// (c / c0) and its place in it (c % c0): for callers that divide by c0 faster.
inline uint64_t nz_index_split(uint64_t r, uint64_t block, uint64_t within, uint64_t rows_padded,
                               uint64_t c0) {
    return (block * rows_padded + r) * c0 + within;
}

/// @brief NZ: element (r, c) of a matrix with `rows_padded` rows (multiple of 16), c0 per block.
inline uint64_t nz_index(uint64_t r, uint64_t c, uint64_t rows_padded, uint64_t c0) {
    return nz_index_split(r, c / c0, c % c0, rows_padded, c0);
}

/// @brief ZZ: element (r, c) of an m x k left operand; fractals 16 x k0, k padded to k0.
inline uint64_t zz_index(uint64_t r, uint64_t c, uint64_t k_padded, uint64_t k0) {
    return ((r / 16) * (k_padded / k0) + c / k0) * 16 * k0 + (r % 16) * k0 + c % k0;
}

/// @brief ZN: element (r, c) of a k x n right operand; fractals k0 x 16 stored column-major.
inline uint64_t zn_index(uint64_t r, uint64_t c, uint64_t n_padded, uint64_t k0) {
    return ((r / k0) * (n_padded / 16) + c / 16) * 16 * k0 + (c % 16) * k0 + r % k0;
}

}  // namespace npusim::models
