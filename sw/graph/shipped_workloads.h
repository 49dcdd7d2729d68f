#pragma once
// The workloads shipped in configs/workloads/, compiled into the binary so that
// `npusim run --workload bert_base_s128` works from any directory.
#include <string>
#include <vector>

namespace npusim::graph {

struct shipped_workload {
    std::string name;  ///< e.g. "bert_base_s128"
    std::string file;  ///< e.g. "configs/workloads/bert_base_s128.yaml"
    std::string yaml;
};

/// @brief The default main job of `npusim` with no arguments.
inline constexpr const char* default_workload = "bert_base_s128";

const std::vector<shipped_workload>& shipped_workloads();
const shipped_workload* find_shipped_workload(const std::string& name);

}  // namespace npusim::graph
