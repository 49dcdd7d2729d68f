#pragma once
#include <cstdint>
#include <string>

#include "models/core/dtype.h"
#include "platform/config/platform_config.h"
#include "sw/serving/kv_cache.h"

namespace npusim::serving {

/// @brief A decoder-only transformer in the LLaMA shape (schema npusim.model/1): attention with
/// `heads` query heads and `kv_heads` K/V heads, a gated FFN (gate, up, down), RMS norms, input
/// embeddings and an output head.
struct model_config {
    std::string name, source;
    unsigned layers = 0, hidden = 0, heads = 0, kv_heads = 0, ffn = 0, vocab = 0;
    models::dtype dtype = models::dtype::fp16;

    unsigned head_dim() const { return hidden / heads; }
    /// @brief Parameters: per layer q, o (hidden^2 each), k, v (hidden x kv_heads x head_dim
    /// each), gate, up, down (hidden x ffn each) and two norms; then embeddings, output head
    /// and the final norm.
    uint64_t parameters() const;
    uint64_t weight_bytes() const;
    /// @brief K and V of one token over every layer.
    uint64_t kv_bytes_per_token() const;
    /// @brief The paged KV cache shape for this model.
    kv_cache_config kv_cache(unsigned block_tokens, uint64_t max_blocks) const;
};

/// @throws platform::config_error naming file:line:col, the key and the fix.
model_config load_model_text(const std::string& yaml, const std::string& source);
model_config load_model(const std::string& file);

/// @brief Throws a config_error at the model file if its weights do not fit the platform's
/// device memory, with both sizes and what to change.
void check_fits(const model_config& m, const platform::platform_config& p);

}  // namespace npusim::serving
