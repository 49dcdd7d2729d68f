#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "models/core/task_scheduler.h"
#include "sw/kernel/launch.h"
#include "sw/runtime/status.h"

namespace npusim::runtime {

/// @brief A host callback; receives the completion status of the work before it.
using callback_fn = std::function<void(status)>;

/// @brief What a stream task or graph node does.
enum class work_kind : uint8_t {
    kernel,
    memcpy_h2d,
    memcpy_d2h,
    memcpy_d2d,
    memset,
    event_record,
    event_wait,
    callback,
    graph,
};
const char* to_string(work_kind k);

/// @brief What a kernel launch is, for stats and profiles: the op it computes, the kernel
/// chosen for it, its tiling in words, and its work.
struct kernel_info {
    std::string op;      ///< op type ("matmul"); empty: a kernel launched directly
    std::string kernel;  ///< the registry kernel chosen for the op
    std::string tiling;  ///< e.g. "base 128x256x64, 24 blocks"
    double flops = 0;
    uint64_t bytes = 0;  ///< the tensors' bytes (the measured traffic is counted apart)
    /// How long it should take from dispatch to end (adaptive priority); 0: the fastest run of
    /// the same kernel name on its stream so far.
    models::ps_t expected_ps = 0;
};

/// @brief One unit of device or host work, as submitted to a stream or added to a graph.
struct work {
    work_kind kind = work_kind::kernel;
    std::string name;
    // kernel
    models::kernel_kind cores = models::kernel_kind::cube;
    unsigned block_dim = 1;
    kernel::kernel_fn kernel;
    std::string op, kernel_name, tiling;  ///< see kernel_info
    double flops = 0;                     ///< for stats
    models::ps_t expected_ps = 0;         ///< see kernel_info
    // copies and memset; for kernels, the bytes they move (for stats)
    uint64_t dst = 0, src = 0, bytes = 0;
    void* host_dst = nullptr;
    const void* host_src = nullptr;
    uint8_t value = 0;
    // callbacks
    callback_fn fn;
    bool blocking = true;  ///< later work on the stream waits for the callback
};

/// @name The work items the stream API and task graphs submit.
/// @{
work kernel_work(const std::string& name, unsigned block_dim, models::kernel_kind kind,
                 kernel::kernel_fn fn, const kernel_info& info = {});
work to_device_work(const std::string& name, uint64_t dst, const void* src, uint64_t bytes);
work to_host_work(const std::string& name, void* dst, uint64_t src, uint64_t bytes);
work on_device_work(const std::string& name, uint64_t dst, uint64_t src, uint64_t bytes);
work memset_work(const std::string& name, uint64_t dst, uint8_t value, uint64_t bytes);
work callback_work(const std::string& name, callback_fn fn, bool blocking = true);
/// @}

}  // namespace npusim::runtime
