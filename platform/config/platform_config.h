#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/common/timing.h"
#include "models/params.h"

namespace npusim::platform {

/// @brief Host API costs in simulated time.
struct host_api_params {
    models::ps_t launch_ps = 0, memcpy_setup_ps = 0, sync_wakeup_ps = 0, callback_ps = 0,
                 callback_launch_ps = 0, cached_malloc_ps = 0, event_record_ps = 0, malloc_ps = 0,
                 free_ps = 0, callback_batch_item_ps = 0, thread_wakeup_ps = 0;
};

/// @brief Device allocator settings (the runtime's caching allocator).
struct memory_params {
    uint64_t alignment = 512;
    uint64_t max_split_size = 0;  ///< 0 = no limit
    double gc_threshold = 0;      ///< 0 = off
    bool caching = true, poison_freed = false;
};

/// @brief A validated platform: the resolved values of every schema key plus the model
/// parameter structs built from them.
struct platform_config {
    std::string source;  ///< file or preset it came from
    std::string name, description;
    bool split = false;
    uint32_t cores = 1, vector_cores = 0;
    double cube_clock_hz = 1e9, vector_clock_hz = 1e9;

    models::core_params aicore, aic, aiv;
    models::gm_params gm;
    models::l2_params l2;
    models::noc_params noc;
    models::host_link_params host_link;
    models::sdma_params sdma;
    memory_params memory;
    host_api_params host_api;
    /// Densities at which sparse_matmul's auto strategy changes kernel (sparse.*).
    struct sparse_thresholds {
        double direct_below = 0.1, dense_from = 0.3;
    } sparse;
    /// Device-side cost per kernel launch in the task scheduler (scheduler.kernel_dispatch).
    models::ps_t kernel_dispatch_ps = 0;

    /// Every schema key's resolved value: numbers in base units, texts as written.
    std::map<std::string, double> numbers;
    std::map<std::string, std::string> texts;
    /// Where each key's value came from: "file:line:col", "--set K=V" or "file (default)".
    std::map<std::string, std::string> where;

    /// @brief The cores of the chip in id order: AI/cube cores first, then vector cores.
    std::vector<models::core_params> core_list() const;
    /// @brief Peak fp16 cube throughput in FLOP/s over all cube-capable cores.
    double peak_fp16_flops() const;
    /// @brief Switches every model to timing-only mode (no arithmetic, no stored bytes).
    void set_timing_only();
};

}  // namespace npusim::platform
