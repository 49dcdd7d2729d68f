#include "sw/graph/sparse_structure.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace npusim::graph {

namespace {

// `count` of the columns 0..cols-1, each set equally likely, in rising order (Knuth's
// selection sampling).
void pick_columns(std::mt19937_64& rng, uint64_t cols, uint64_t count, std::vector<int32_t>& out) {
    std::uniform_real_distribution<double> u(0, 1);
    for (uint64_t c = 0; c < cols && count > 0; ++c)
        if (double(cols - c) * u(rng) < double(count)) {
            out.push_back(int32_t(c));
            --count;
        }
}

}  // namespace

sparse_structure make_sparse_structure(uint64_t row_blocks, uint64_t col_blocks, double density,
                                       double skew, uint64_t seed) {
    sparse_structure s;
    std::mt19937_64 rng(seed);
    const uint64_t total = row_blocks * col_blocks;
    const uint64_t blocks =
        std::min<uint64_t>(total, uint64_t(std::llround(density * double(total))));
    std::vector<uint64_t> counts(row_blocks, 0);
    if (skew <= 0) {
        // Which of all the grid's blocks: selection sampling over the grid, row by row.
        std::uniform_real_distribution<double> u(0, 1);
        uint64_t left = blocks;
        for (uint64_t i = 0; i < total && left > 0; ++i)
            if (double(total - i) * u(rng) < double(left)) {
                ++counts[i / col_blocks];
                s.columns.push_back(int32_t(i % col_blocks));
                --left;
            }
    } else {
        // Shares by weight, the remainders to the largest fractions, full rows spilling over.
        std::vector<double> w(row_blocks);
        double sum = 0;
        for (uint64_t r = 0; r < row_blocks; ++r) sum += w[r] = std::pow(double(r + 1), -skew);
        uint64_t given = 0;
        for (uint64_t r = 0; r < row_blocks; ++r) {
            counts[r] = std::min<uint64_t>(col_blocks, uint64_t(double(blocks) * w[r] / sum));
            given += counts[r];
        }
        for (uint64_t r = 0; given < blocks; r = (r + 1) % row_blocks)
            if (counts[r] < col_blocks) {
                ++counts[r];
                ++given;
            }
        for (uint64_t r = 0; r < row_blocks; ++r)
            pick_columns(rng, col_blocks, counts[r], s.columns);
    }
    s.offsets.assign(1, 0);
    for (uint64_t r = 0; r < row_blocks; ++r)
        s.offsets.push_back(s.offsets.back() + int32_t(counts[r]));
    return s;
}

}  // namespace npusim::graph
