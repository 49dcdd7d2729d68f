#pragma once
// Built-in workloads of `npusim run` that exercise the kernel API, until workload files arrive.
#include <cstdint>
#include <string>
#include <vector>

#include "platform/chip.h"
#include "platform/stats.h"

namespace npusim::graph {

/// @brief Options shared by the built-in kernel workloads.
struct builtin_options {
    std::vector<uint64_t> shape;  ///< matmul: m, k, n; elementwise: n
    unsigned depth = 2;           ///< queue depth (2 = double buffering)
    bool check = false;           ///< compare with a CPU reference (functional mode only)
};

/// @brief Names of the built-in kernel workloads.
const std::vector<std::string>& builtin_kernel_workloads();

/// @brief Checks a built-in workload's shape before the run: the right number of dimensions,
/// and data that fits the platform's global memory.
/// @throws platform::config_error naming --shape and a fix.
void check_builtin(const std::string& name, const builtin_options& opt,
                   const platform::platform_config& cfg);

/// @brief Runs a built-in kernel workload on the host thread; returns what did not match the
/// CPU reference ("" if it matched or was not checked).
/// @throws std::invalid_argument on a bad shape, std::runtime_error if a kernel faulted.
std::string run_builtin(platform::chip& c, const std::string& name, const builtin_options& opt,
                        std::vector<platform::op_record>& ops);

}  // namespace npusim::graph
