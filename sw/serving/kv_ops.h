#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "sw/kernel/launch.h"
#include "sw/serving/kv_cache.h"

namespace npusim::serving {

/// @brief What one kv_append launch copies: rows of head_dim elements, each from the new
/// tokens' K/V in GM to its slot in the paged cache.
struct kv_append_plan {
    std::vector<std::pair<uint64_t, uint64_t>> rows;  ///< (source, slot) byte addresses
    uint64_t row_bytes = 0;
    unsigned block_dim = 1;
};

/// @brief Plans writing the newest `tokens` tokens of each sequence in `seqs` (already grown in
/// the cache) for one layer. `src` holds them as [sequence][token][K, V][kv head][head_dim];
/// the rows are spread over at most `cores` blocks.
/// @throws std::invalid_argument if a sequence has fewer tokens or is not running.
kv_append_plan plan_kv_append(const paged_kv_cache& kv, unsigned layer,
                              const std::vector<uint64_t>& seqs, unsigned tokens, uint64_t src,
                              unsigned cores);

/// @brief The kv_append kernel: each block moves its rows GM -> UB -> GM (MTE2 then MTE3), two
/// buffers so that one row's read overlaps the previous row's write.
kernel::kernel_fn kv_append_kernel(kv_append_plan plan);

}  // namespace npusim::serving
