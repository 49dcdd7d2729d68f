#pragma once
// Fused causal attention for prefill, in the manner of FlashAttention: for each query head and
// tile of query rows, the cube computes the scores S = Q K^T one key tile at a time up to the
// diagonal, the vector units keep an online softmax (running row max m and sum l, the output O
// rescaled by exp(m_old - m_new) as m grows), and the cube multiplies each tile's probabilities
// P by V. No tokens x tokens matrix is ever stored; only one tile of S, P and P V per block.
//
// Split chips run it as a mix kernel: the cube core hands S and P V to its two vector cores
// through a GM workspace and cross-core flags, each vector core taking half of the query rows,
// and they hand P back the same way. Coupled chips run both halves on one core: S and P V
// leave L0C through UB, and P reaches L1 through the GM workspace.
#include <cstdint>
#include <vector>

#include "platform/config/platform_config.h"
#include "sw/kernel/kernel_api.h"

namespace npusim::kernel {

/// @brief Causal self-attention of one prompt: q [heads][tokens][head_dim], k and v
/// [kv_heads][tokens][head_dim], out like q, all fp16. Query head h reads KV head
/// h / (heads / kv_heads) (grouped-query attention). Scores are not scaled: fold 1/sqrt(head_dim)
/// into q.
struct attention_problem {
    uint32_t heads = 1, kv_heads = 1, tokens = 0, head_dim = 0;
    /// A ragged batch: prompts of these lengths packed one after another along the tokens of
    /// every head (their sum is `tokens`), each causal within itself. Empty: one prompt.
    std::vector<uint32_t> lengths;
};

/// @brief One task: query head `head`, query tile `qt` of the prompt at rows [start, start +
/// length) of the packed tokens.
struct attention_task {
    uint32_t head = 0, qt = 0, start = 0, length = 0;
};

/// @brief A tile of `tile` query rows against key tiles of `tile` keys; one task is one query
/// head and one query tile, handed to blocks round robin, the longest (last) query tiles first.
struct attention_tiling {
    attention_problem p;
    uint32_t tile = 0;
    unsigned block_dim = 1;
    /// Every task, the ones seeing the most key tiles first, heads round robin.
    std::vector<attention_task> task_list;
    /// Empty: tasks dealt out in turn, longest first; else each block's tasks (partition cost).
    std::vector<std::vector<uint32_t>> assignment;
    uint64_t tasks() const { return task_list.size(); }
    /// @brief GM bytes one block uses for S (fp32), P (fp16) and P V (fp32).
    uint64_t workspace_per_block() const;
    uint64_t workspace_bytes() const { return workspace_per_block() * block_dim; }
};

/// @brief The largest tile (128, 64, 32 or 16 rows) whose buffers fit the platform's cores,
/// spread over at most as many blocks as the chip has cube units.
/// @throws std::invalid_argument if no tile fits, if heads is not a multiple of kv_heads, or if
/// the lengths do not add up to tokens.
attention_tiling tile_attention(const platform::platform_config& p, const attention_problem& prob);

/// @brief Assigns the tasks ahead by cost (a task costs its key tiles, plus one for loading Q
/// and writing O), longest first to the least-loaded block. The causal tiles are uneven: the
/// last query tile sees every key tile, the first only its own.
void set_cost_partition(attention_tiling& t);

/// @brief GM byte addresses; `workspace` holds tiling.workspace_bytes().
/// @brief What the blocks of a launch that steals tasks share (fresh for each launch): the
/// queue's next task, a GM word; and per block the tasks its cube core took, in order, with the
/// count published so far (its mailbox in GM, which its vector cores read).
struct attention_steal {
    explicit attention_steal(unsigned blocks) : taken(blocks), published(blocks, 0) {}
    uint64_t next = 0;
    std::vector<std::vector<uint64_t>> taken;
    std::vector<uint64_t> published;
};

struct attention_args {
    uint64_t q = 0, k = 0, v = 0, out = 0, workspace = 0;
    attention_steal* steal = nullptr;  ///< non-null: the blocks steal tasks from a shared queue
};

/// @brief The kernel (launch it as models::kernel_kind::mix with tiling.block_dim blocks).
void attention_kernel(kernel_context& ctx, const attention_args& g, const attention_tiling& t);

}  // namespace npusim::kernel
