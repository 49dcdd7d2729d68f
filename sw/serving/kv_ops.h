#pragma once
#include <cstdint>
#include <vector>

#include "platform/config/platform_config.h"
#include "sw/kernel/launch.h"
#include "sw/serving/kv_cache.h"

namespace npusim::serving {

/// @brief One contiguous GM -> GM move of a KV copy kernel.
struct kv_copy {
    uint64_t src = 0, dst = 0, bytes = 0;
};

/// @brief What one KV copy launch moves, spread over `block_dim` blocks.
struct kv_copy_plan {
    std::vector<kv_copy> copies;
    uint64_t max_bytes = 0;  ///< the largest copy (the UB buffer size)
    unsigned block_dim = 1;
};

/// @brief kv_append: writes the newest `tokens` tokens of each sequence in `seqs` (already grown
/// in the cache) for one layer, one copy per row of head_dim elements. `src` holds them as
/// [sequence][token][K, V][kv head][head_dim]. The copies are spread over at most `cores`
/// blocks.
/// @throws std::invalid_argument if a sequence has fewer tokens or is not running.
kv_copy_plan plan_kv_append(const paged_kv_cache& kv, unsigned layer,
                            const std::vector<uint64_t>& seqs, unsigned tokens, uint64_t src,
                            unsigned cores);

/// @brief kv_append from separate K and V tensors, each [sequence][token][kv head][head_dim]
/// (as a model's K and V projections give them).
kv_copy_plan plan_kv_append(const paged_kv_cache& kv, unsigned layer,
                            const std::vector<uint64_t>& seqs, unsigned tokens, uint64_t k_src,
                            uint64_t v_src, unsigned cores);

/// @brief kv_gather: copies a sequence's K and V for one layer out of its pages into contiguous
/// [kv head][token][head_dim] tensors at `k_dst` and `v_dst`, one copy per block and head (a
/// block holds a head's rows for its tokens contiguously).
kv_copy_plan plan_kv_gather(const paged_kv_cache& kv, uint64_t seq, unsigned layer, uint64_t k_dst,
                            uint64_t v_dst, unsigned cores);

/// @brief Pads a kv_append plan to a batch of `rows` entries, as a graph replayed at a fixed
/// batch size does: entries `first`..rows-1 (their K and V rows in `k_src`/`v_src`, laid out
/// [entry][kv head][head_dim]) are written to `null_rows` (2 x kv_heads rows of scratch, which
/// no attention reads). Rebalances the plan over `cores`.
void pad_kv_append(kv_copy_plan& p, const kv_cache_config& c, unsigned first, unsigned rows,
                   uint64_t k_src, uint64_t v_src, uint64_t null_rows, unsigned cores);

/// @brief kv_gather for a batch of `rows` entries (at least seqs.size()): sequence i's K and V go
/// to [i][kv head][token][head_dim] with `padded` token rows per head. Rows past a sequence's
/// length, and every row of the entries past the sequences, are copied from `zeros` (a device
/// buffer of at least min(block_tokens, 8 KiB of rows) zero rows), or left alone if `zeros` is
/// 0. Each copy moves at most 8 KiB and stays inside one block.
/// @throws std::invalid_argument if a sequence holds more than `padded` tokens.
kv_copy_plan plan_kv_gather_batch(const paged_kv_cache& kv, const std::vector<uint64_t>& seqs,
                                  unsigned rows, unsigned layer, uint64_t k_dst, uint64_t v_dst,
                                  uint64_t padded, uint64_t zeros, unsigned cores);

/// @brief The kernel for any of these plans: each block moves its copies GM -> UB -> GM (MTE2 then
/// MTE3) through two buffers, so that one copy's read overlaps the previous copy's write.
kernel::kernel_fn kv_copy_kernel(kv_copy_plan plan);

/// @brief Decode attention of one sequence for one layer, on stream `s`: `q` holds
/// [heads][1][head_dim] and `out` receives softmax(q K^T) V in the same shape (fp16). It is
/// decode_attention (serving/attention.h) for a batch of one with no padding.
/// @returns the first failing call's status (the context's last error says why).
runtime::status paged_attention(runtime::context& ctx, runtime::stream* s, const paged_kv_cache& kv,
                                uint64_t seq, unsigned layer, uint64_t q, uint64_t out,
                                const platform::platform_config& p);

}  // namespace npusim::serving
