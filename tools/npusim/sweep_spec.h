#pragma once
// A sweep file (npusim.sweep/1): a base platform, workloads, parameters to vary and metrics to
// collect, expanded into design points. Each point is one `npusim run` process.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace npusim::tools {

/// @brief Most points a sweep may have unless `--max-points` raises it; also the most values
/// one `range` may produce.
inline constexpr size_t default_max_points = 10000;
/// @brief Longest sweep name (it names the default output folder and the Slurm job).
inline constexpr size_t max_sweep_name_length = 64;
/// @brief Longest per-point timeout: 30 days, in seconds.
inline constexpr double max_sweep_timeout_s = 30 * 24 * 3600.0;

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
    std::string platform;                ///< preset or absolute file path
    std::vector<std::string> workloads;  ///< built-in or shipped names, or absolute files
    std::string serving;  ///< a serving sweep's file (absolute); then workloads holds it alone
    std::vector<std::string> sets;        ///< fixed KEY=VALUE overrides for every point
    std::vector<std::string> parameters;  ///< varied keys, in order of first appearance
    std::vector<std::string> metrics;     ///< dotted paths into the stats JSON, or wall_s
    bool timing_only = true;
    double timeout_s = 600;
    std::vector<sweep_point> points;
};

/// @brief How much load_sweep checks.
struct sweep_load_options {
    size_t max_points = default_max_points;  ///< refuse sweeps with more points
    /// Load every point's platform (base platform, `set:` and the point's values) before
    /// returning; off only where an earlier load already did (a Slurm array task).
    bool check_points = true;
};

/// @brief Loads, checks and expands a sweep file. Parameter groups: `list` (one key, its
/// values), `range` (one key: from, to, step), `grid` (every combination of several keys) and
/// `zip` (several keys stepped together); groups combine as a product, then with the
/// workloads. Everything that can be checked without running is: value types, the name (an
/// identifier), UTF-8, duplicate keys, the point count against the cap, that the platform,
/// the workloads and every point's platform load, and that the metrics exist.
/// @throws platform::config_error naming file:line:col, the key and a fix.
sweep_spec load_sweep(const std::string& file, const sweep_load_options& opt = {});
/// @brief As load_sweep, from text; relative paths resolve against `base_dir`.
sweep_spec load_sweep_text(const std::string& yaml, const std::string& source,
                           const std::string& base_dir = ".", const sweep_load_options& opt = {});
/// @brief Markdown reference of the sweep file's keys and metrics (docs/sweep-reference.md).
std::string sweep_reference_markdown();

}  // namespace npusim::tools
