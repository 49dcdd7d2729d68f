#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "platform/config/platform_config.h"
#include "sw/serving/kv_cache.h"
#include "sw/serving/serving_spec.h"

namespace npusim::serving {

/// @brief How a serving run costs its ops.
enum class fidelity {
    op,     ///< each distinct op invocation is simulated at instruction level once, then replayed
    instr,  ///< every op of every iteration is simulated at instruction level
};

/// @brief What happened to one request (times in seconds from the start; -1: never).
struct request_record {
    request req;
    double first_token = -1, finish = -1;
    unsigned preemptions = 0;
    unsigned load = 0;  ///< requests in the system (running and waiting) when it arrived
};

/// @brief The distribution of one latency (seconds). Percentiles interpolate linearly between
/// the two nearest ranks (numpy's default): pXX = sorted[(n-1) * XX / 100].
struct latency {
    double mean = 0, p50 = 0, p90 = 0, p99 = 0;
    size_t count = 0;
};
latency summarize(std::vector<double> values);

struct serving_summary {
    latency ttft;         ///< first token - arrival
    latency tpot;         ///< (finish - first token) / (output tokens - 1), requests with 2+ tokens
    latency e2e;          ///< finish - arrival
    double duration = 0;  ///< first arrival to last finish, seconds
    double tokens_per_s = 0;    ///< output tokens / duration
    double requests_per_s = 0;  ///< completed requests / duration
    uint64_t iterations = 0, prefill_tokens = 0, decode_tokens = 0, padded_tokens = 0;
    uint64_t kv_blocks = 0;      ///< blocks the cache may hold (its memory / block bytes)
    double kv_usage_mean = 0;    ///< blocks in use / kv_blocks, weighted by iteration time
    double kv_usage_peak = 0;    ///< the most blocks in use / kv_blocks
    uint64_t kv_bytes = 0;       ///< device memory given to the cache
    uint64_t kv_peak_bytes = 0;  ///< the most of it in use
    unsigned peak_running = 0;   ///< the most sequences running at once
    uint64_t preemptions = 0;
    // Op costing: distinct invocations simulated, op executions simulated and replayed.
    uint64_t distinct_ops = 0, simulated_ops = 0, replayed_ops = 0;
};

struct serving_result {
    std::vector<request_record> requests;
    serving_summary summary;
    /// @brief Iteration start and end (seconds), tokens and sequences, for the timeline.
    struct iteration {
        double start = 0, end = 0;
        unsigned prefill_seqs = 0, decode_seqs = 0, tokens = 0;
    };
    std::vector<iteration> iterations;
};

/// @brief Serves the spec's requests with an iteration-level scheduler and continuous batching
/// on the simulated platform (timing only: weights stay resident but hold no values).
/// @throws platform::config_error for settings that cannot run (e.g. weights that do not fit);
/// std::runtime_error if the simulation fails.
serving_result serve(const serving_spec& spec, const std::vector<request>& requests,
                     const platform::platform_config& platform, fidelity f);

/// @brief requests.csv: id, arrival, first token, finish, prompt and output tokens, preemptions,
/// and the load at arrival.
void write_requests_csv(std::ostream& out, const serving_result& r);
/// @brief summary.json: the summary's figures and the run's settings.
void write_summary_json(std::ostream& out, const serving_spec& spec, const serving_result& r,
                        fidelity f);
/// @brief latency.svg: each request's TTFT and end-to-end latency (log scale, ms) against the
/// load it met, the requests already in the system when it arrived.
void write_latency_svg(std::ostream& out, const serving_result& r);
/// @brief A Chrome trace (open in Perfetto) with one slice per iteration and a track per request.
void write_serving_timeline(std::ostream& out, const serving_result& r);

}  // namespace npusim::serving
