#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sw/serving/model_config.h"

namespace npusim::serving {

/// @brief How a serving iteration picks its work.
enum class mixing {
    separate,  ///< waiting prompts first, each iteration all prefill or all decode (vLLM v0)
    mixed,     ///< every running sequence decodes and waiting prompts fill the rest of the budget
};

/// @brief How the KV cache is kept.
enum class cache_layout {
    paged,  ///< blocks taken as sequences grow; new tokens appended in place (kv_append)
    naive,  ///< one contiguous region per sequence reserved for max_model_len tokens, and the
            ///< whole cache re-copied every step (concatenating the new token)
};

struct scheduler_settings {
    unsigned max_batch_tokens = 4096;  ///< tokens one iteration may process
    unsigned max_seqs = 64;            ///< sequences running at once
    mixing mix = mixing::separate;
    cache_layout layout = cache_layout::paged;
    unsigned block_tokens = 128;    ///< vLLM-Ascend's default block size
    unsigned max_model_len = 2048;  ///< longest prompt + output (the naive cache reserves it)
    double memory_fraction = 0.9;   ///< of device memory for weights, activations and the cache
    uint64_t kv_blocks = 0;         ///< cache blocks; 0: what memory_fraction leaves
    /// Decode-only iterations run padded up to the next of these batch sizes (graph mode
    /// replays captured batch sizes, as vLLM's capture sizes); empty: no padding.
    std::vector<unsigned> batch_sizes;
    /// Decode attention pads contexts to a multiple of this; 0: block_tokens (whole blocks).
    unsigned attention_align = 0;
};

/// @brief One request: when it arrives (seconds from the start), its prompt and how many
/// tokens it generates. `line` is its line in a trace file (0 otherwise).
struct request {
    uint64_t id = 0;
    double arrival = 0;
    unsigned prompt = 0, output = 0;
    unsigned line = 0;
};

/// @brief A serving study (schema npusim.serving/1).
struct serving_spec {
    std::string source, name;
    std::string model_file, platform;  ///< resolved against the spec's folder
    std::string model_where;           ///< file:line:col of the model key
    model_config model;
    std::vector<std::string> platform_set;  ///< KEY=VALUE overrides of the platform
    scheduler_settings scheduler;
    // Arrivals: a Poisson process ...
    double rate = 0;  ///< requests per second
    unsigned requests = 0, prompt_tokens = 0, output_tokens = 0;
    // ... or a trace file of (time_s, prompt_tokens, output_tokens).
    std::string trace;
    uint64_t seed = 1;
};

/// @throws platform::config_error naming file:line:col, the key and the fix. `overrides`
/// ("arrivals.poisson.rate=8", "scheduler.max_seqs=32") replace keys before checking, so a
/// sweep can vary them.
serving_spec load_serving_text(const std::string& yaml, const std::string& source,
                               const std::vector<std::string>& overrides = {});
serving_spec load_serving(const std::string& file, const std::vector<std::string>& overrides = {});

/// @brief Throws a config_error at the spec's `model:` line if the model's weights do not fit
/// the platform's device memory.
void check_fits(const serving_spec& spec, const platform::platform_config& p);

/// @brief The requests in arrival order: drawn from the Poisson process with the spec's seed,
/// or read from the trace.
/// @throws platform::config_error for a bad trace row (file:line) or a request the scheduler
/// settings can never run.
std::vector<request> make_requests(const serving_spec& spec);

/// @brief Reads a trace: a header `time_s,prompt_tokens,output_tokens`, then one request per
/// line, times not decreasing, token counts at least 1.
std::vector<request> load_trace_text(const std::string& csv, const std::string& source);

}  // namespace npusim::serving
