#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sw/runtime/context.h"

namespace npusim::serving {

/// @brief What happens to a sequence pushed out of a full cache.
enum class preemption {
    recompute,  ///< its blocks are freed; it must run its prefill again
    swap,       ///< its blocks are copied to pinned host memory and back when it resumes
};

/// @brief The shape of a paged KV cache. A block holds `block_tokens` tokens of K and V for
/// every layer and KV head: [layer][K, V][kv head][token][head_dim] elements.
struct kv_cache_config {
    unsigned layers = 1, kv_heads = 1, head_dim = 128, dtype_bytes = 2;
    unsigned block_tokens = 16;
    uint64_t max_blocks = 0;  ///< device blocks the cache may hold at once
    preemption mode = preemption::recompute;
    uint64_t block_bytes() const {
        return 2ull * layers * kv_heads * head_dim * block_tokens * dtype_bytes;
    }
};

enum class seq_state { running, swapped, preempted };

/// @brief Cache use. `utilisation` is tokens held over token slots in the blocks held (the
/// last block of each sequence is partly empty).
struct kv_stats {
    uint64_t blocks_in_use = 0, peak_blocks = 0, max_blocks = 0;
    uint64_t tokens = 0, slots = 0;
    uint64_t preemptions = 0, swapped_out = 0, swapped_in = 0, recomputed_tokens = 0;
    double utilisation() const { return slots ? double(tokens) / double(slots) : 0.0; }
};

/// @brief A paged KV cache in the manner of vLLM: fixed-size blocks from the runtime's caching
/// allocator, a block table per sequence, blocks added as a sequence grows and freed when it
/// ends. When the cache is full, the most recently admitted other sequence is preempted
/// (recomputed or swapped to host). All copies go on one stream, so they stay ordered with the
/// kernels that read and write the blocks there.
class paged_kv_cache {
  public:
    /// @throws std::invalid_argument naming the bad field.
    paged_kv_cache(runtime::context& ctx, runtime::stream* s, const kv_cache_config& cfg);
    /// @brief Waits for the stream, then frees every block and host buffer.
    ~paged_kv_cache();
    paged_kv_cache(const paged_kv_cache&) = delete;
    paged_kv_cache& operator=(const paged_kv_cache&) = delete;

    /// @brief Makes room for `tokens` more tokens of sequence `id` (admitted if new, or again
    /// after a recompute preemption). Preempts other sequences, latest admitted first, while
    /// the cache is full; their ids are appended to `preempted`. device_oom (see error()) if the
    /// sequence cannot fit even alone; invalid_argument for a swapped-out sequence.
    runtime::status grow(uint64_t id, unsigned tokens, std::vector<uint64_t>& preempted);
    /// @brief Brings a swapped-out sequence back (preempting others if needed).
    runtime::status swap_in(uint64_t id, std::vector<uint64_t>& preempted);
    /// @brief Ends a sequence and frees its blocks (or its host copy).
    runtime::status release(uint64_t id);

    bool has(uint64_t id) const { return m_seqs.count(id) != 0; }
    seq_state state(uint64_t id) const { return at(id).state; }
    unsigned tokens(uint64_t id) const { return at(id).tokens; }
    /// @brief Device address of each of the sequence's blocks, in token order.
    const std::vector<uint64_t>& block_table(uint64_t id) const { return at(id).blocks; }
    /// @brief Device address of token `token`'s K (or V) row for `kv_head` in `layer`.
    uint64_t slot(uint64_t id, unsigned token, unsigned layer, bool value, unsigned kv_head) const;
    kv_stats stats() const;
    const kv_cache_config& config() const { return m_cfg; }
    /// @brief Why the last call failed, with the fix.
    const std::string& error() const { return m_error; }

  private:
    struct sequence {
        seq_state state = seq_state::running;
        unsigned tokens = 0;
        uint64_t admitted = 0;  ///< admission order (latest is preempted first)
        std::vector<uint64_t> blocks;
        std::vector<void*> host;  ///< swapped out: one pinned buffer per block
    };
    const sequence& at(uint64_t id) const;
    runtime::status fail(runtime::status code, std::string why);
    /// Allocates `n` blocks for `id`, preempting others while the cache is full.
    runtime::status take_blocks(uint64_t id, uint64_t n, std::vector<uint64_t>& preempted);
    void preempt(uint64_t victim);
    void free_blocks(sequence& s);
    /// Frees host buffers whose copies have run.
    void collect_host();
    /// Frees `bufs` once the work queued on the stream so far has run.
    void free_host_later(std::vector<void*> bufs);
    void check(runtime::status st, const char* call);

    runtime::context& m_ctx;
    runtime::stream* m_stream;
    kv_cache_config m_cfg;
    std::map<uint64_t, sequence> m_seqs;
    uint64_t m_in_use = 0, m_next_admit = 0;
    kv_stats m_counts;
    std::vector<std::pair<runtime::event*, std::vector<void*>>> m_host_pending;
    std::string m_error;
};

}  // namespace npusim::serving
