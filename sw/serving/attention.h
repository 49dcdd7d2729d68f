#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "platform/config/platform_config.h"
#include "sw/kernel/partition.h"
#include "sw/ops/registry.h"
#include "sw/serving/kv_cache.h"

namespace npusim::serving {

/// @brief Where a serving step's ops go. `key` names the invocation (op, shapes, tiling inputs):
/// equal keys cost the same. `launch` enqueues it on the stream. The serving loop's runner
/// launches at instruction level or replays a memoized cost (serving::cost_runner).
class op_runner {
  public:
    virtual ~op_runner() = default;
    virtual runtime::status run(const std::string& key,
                                const std::function<runtime::status()>& launch) = 0;
};

/// @brief Launches every op as it comes.
class direct_runner : public op_runner {
  public:
    runtime::status run(const std::string&,
                        const std::function<runtime::status()>& launch) override {
        return launch();
    }
};

/// @brief "matmul fp16[4,64]x fp16[64,8] transpose_b=1": the op, its inputs and attributes.
std::string plan_key(const ops::op_plan& p);

/// @brief Device scratch taken on first use and given back (on the stream) at the end of scope,
/// so ops that are replayed rather than launched allocate nothing.
class scratch {
  public:
    scratch(runtime::context& ctx, runtime::stream* s) : m_ctx(ctx), m_stream(s) {}
    ~scratch();
    scratch(const scratch&) = delete;
    scratch& operator=(const scratch&) = delete;
    /// @brief The address of buffer `slot`, allocated with `bytes` on first use.
    runtime::status get(unsigned slot, uint64_t bytes, uint64_t& addr);

  private:
    runtime::context& m_ctx;
    runtime::stream* m_stream;
    std::vector<uint64_t> m_addr;
};

/// @brief The length every sequence of a decode batch is padded to: the longest context
/// rounded up to a multiple of `align` tokens.
unsigned decode_padded_length(const paged_kv_cache& kv, const std::vector<uint64_t>& seqs,
                              unsigned align);
/// @brief The additive decode mask [rows][padded] (fp16): 0 over the tokens a sequence holds,
/// -65504 over its padding and over rows past the sequences (a batch padded to `rows`).
std::vector<uint16_t> decode_mask(const paged_kv_cache& kv, const std::vector<uint64_t>& seqs,
                                  unsigned padded, unsigned rows);
/// @brief Decode attention of a batch, one new token per sequence, for one layer:
/// `q` holds [row][head][head_dim] and `out` receives softmax(q K^T + mask) V in the same
/// layout (fp16), for `rows` >= seqs.size() rows (rows past the sequences are padding, as a
/// graph replayed at a fixed batch size runs them; their output is not meaningful). Every
/// sequence is padded to `padded` tokens (decode_padded_length): one kv_gather launch copies
/// every sequence's pages into scratch [row][head][padded][head_dim], with padding rows copied
/// from `zeros` (at least block_tokens zero rows on the device), one batched matmul gives the
/// scores, the additive `mask` (decode_mask, on the device) removes the padding before
/// softmax, and one batched matmul with V gives the output. Needs `heads` == kv_heads.
/// @returns the first failing call's status (the context's last error says why).
runtime::status decode_attention(runtime::context& ctx, runtime::stream* s,
                                 const paged_kv_cache& kv, const std::vector<uint64_t>& seqs,
                                 unsigned layer, unsigned rows, unsigned heads, uint64_t q,
                                 uint64_t mask, uint64_t zeros, uint64_t out, unsigned padded,
                                 const platform::platform_config& p, op_runner& run);

/// @brief Decode attention that reads K and V in place from the cache's pages (the paged
/// attention of vLLM): the same as decode_attention, but the batched matmuls take their B
/// operand page by page (kernel::matmul_pages), so nothing is gathered. Pages past a
/// sequence's blocks, and every page of the padding rows, read `zeros` (block_tokens zero
/// rows). `padded` must be a multiple of block_tokens, and block_tokens of 16. `q` holds `heads`
/// query heads per row, a multiple of the cache's KV heads: query head i reads KV head
/// i / (heads / kv_heads) (grouped-query attention).
runtime::status paged_decode_attention(runtime::context& ctx, runtime::stream* s,
                                       const paged_kv_cache& kv, const std::vector<uint64_t>& seqs,
                                       unsigned layer, unsigned rows, unsigned heads, uint64_t q,
                                       uint64_t mask, uint64_t zeros, uint64_t out, unsigned padded,
                                       const platform::platform_config& p, op_runner& run);

/// @brief Causal self-attention of one prompt of `tokens` tokens: q holds
/// [head][token][head_dim], k and v [kv head][token][head_dim] (fp16; query head i reads KV
/// head i / (heads / kv_heads), grouped-query attention), and `out` receives, for each token i,
/// the softmax over tokens 0..i of its scores times V. One fused kernel
/// (kernel::attention_kernel): cube and vector units tile by tile, online softmax, causal.
/// With `lengths`, the tokens are a ragged batch of prompts packed one after another, each
/// causal within itself (token i of a prompt sees that prompt's tokens 0..i). `partition`: the
/// tasks dealt in turn (uniform), assigned by cost (the default) or stolen from a shared queue.
/// @throws std::invalid_argument if heads is not a multiple of kv_heads, the head does not
/// fit the cores' buffers or the lengths do not add up to tokens.
runtime::status prefill_attention(runtime::context& ctx, runtime::stream* s, unsigned heads,
                                  unsigned kv_heads, unsigned tokens, unsigned head_dim, uint64_t q,
                                  uint64_t k, uint64_t v, uint64_t out,
                                  const platform::platform_config& p, op_runner& run,
                                  const std::vector<uint32_t>& lengths = {},
                                  kernel::partition_kind partition = kernel::partition_kind::cost);

}  // namespace npusim::serving
