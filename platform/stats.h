#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/common/timing.h"
#include "models/core/task_scheduler.h"

namespace npusim::platform {

class chip;

/// @brief One operation of a workload, as it appears in stats `ops[]` and the report.
struct op_record {
    std::string name, type;
    models::ps_t start_ps = 0, end_ps = 0;
    double flops = 0;
    uint64_t bytes = 0;                    ///< the tensors' bytes
    std::string op{}, kernel{}, tiling{};  ///< a kernel's op type, chosen kernel and tiling
    // A kernel's launch (see add_launch): its blocks, their summed duration and each pipe's busy
    // time over them.
    unsigned blocks = 0;
    models::ps_t block_ps = 0;
    std::map<models::pipe_id, models::ps_t> pipe_busy_ps{};
    /// Busy time of each unit that ran blocks (keyed by the unit's first core): the sum of its
    /// blocks' durations. Their max over their mean is the op's load imbalance.
    std::map<unsigned, models::ps_t> unit_busy_ps{};
    models::traffic mem{};  ///< measured: what its blocks' engines read and wrote in L2 and GM
};

/// @brief Max over mean of the units' busy time (1: every unit busy as long as the others).
double imbalance(const op_record& o);

/// @brief Records a kernel's launch in its op: blocks, block time and per-pipe busy time.
void add_launch(op_record& op, const models::launch_record& rec);

/// @brief The GM bytes an op of a stats document moved: measured for a kernel (`gm_read_bytes`
/// + `gm_write_bytes`), the tensors' bytes for a host copy or fill.
double op_gm_bytes(const nlohmann::json& op);

/// @brief True for an op that ran on the AI cores (a kernel, a built-in matmul, a DMA stream),
/// false for host copies and fills ("memcpy*", "memset").
bool is_kernel_op(const std::string& type);

/// @brief The `summary` of a stats document over the kernels of `ops` (docs/metrics.md).
nlohmann::json summarize(const std::vector<op_record>& ops, double peak_flops);

/// @brief An op's entry in stats `ops[]` (docs/metrics.md, "Per op").
nlohmann::json op_json(const op_record& o);

/// @brief Builds the npusim.stats/1 document (DESIGN §7) from a finished simulation.
/// Deterministic: nothing in it depends on the host machine or wall clock.
nlohmann::json collect_stats(chip& c, const std::vector<op_record>& ops);

/// @brief The dotted paths of the numbers in a stats document that a sweep can collect as
/// metrics (per-core and per-op arrays excluded). Also valid, and not listed:
/// memory.gm.channel<N>.busy_ns and platform.parameters.<platform key>.
const std::vector<std::string>& stats_metric_paths();

/// @brief True if `path` names a number of the stats document (see stats_metric_paths).
bool is_stats_metric(const std::string& path);

/// @brief The readable report printed by `npusim run`, made from a stats document.
std::string format_report(const nlohmann::json& stats);

}  // namespace npusim::platform
