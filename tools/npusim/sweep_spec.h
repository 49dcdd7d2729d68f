#pragma once
// A sweep file (npusim.sweep/1): a base platform, workloads, parameters to vary and metrics to
// collect, expanded into design points. Each point is one `npusim run` process.
#include <string>
#include <utility>
#include <vector>

namespace npusim::tools {

/// @brief One design point: a workload and the --set overrides that make it.
struct sweep_point {
    unsigned index = 0;
    std::string workload;
    std::vector<std::pair<std::string, std::string>> settings;  ///< varied keys, in order
    /// @brief "chip.cores=8 gm.bandwidth=800GB/s workload=bert.yaml": identifies the point in
    /// results across runs (resume matches on it).
    std::string label() const;
};

struct sweep_spec {
    std::string name, source;
    std::string platform;                 ///< preset or file (relative to the sweep file)
    std::vector<std::string> workloads;   ///< built-in names or files
    std::vector<std::string> sets;        ///< fixed KEY=VALUE overrides for every point
    std::vector<std::string> parameters;  ///< varied keys, in order of first appearance
    std::vector<std::string> metrics;     ///< dotted paths into the stats JSON, or wall_s
    bool timing_only = true;
    double timeout_s = 600;
    std::vector<sweep_point> points;
};

/// @brief Loads and expands a sweep file. Parameter groups: `list` (one key, its values),
/// `range` (one key: from, to, step), `grid` (every combination of several keys) and `zip`
/// (several keys stepped together); groups combine as a product, then with the workloads.
/// @throws platform::config_error naming file:line:col, the key and a fix.
sweep_spec load_sweep(const std::string& file);
sweep_spec load_sweep_text(const std::string& yaml, const std::string& source,
                           const std::string& base_dir = ".");

}  // namespace npusim::tools
