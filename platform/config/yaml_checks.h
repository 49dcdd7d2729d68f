#pragma once
// Checks shared by the YAML files other than platforms (workloads, sweeps): positions for
// errors and unknown keys with the closest allowed name.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace npusim::platform {

/// @brief "file:line:col" of a node.
std::string yaml_position(const std::string& source, const YAML::Node& n);

/// @brief "a, b, c".
std::string join_names(const std::vector<std::string>& names);

/// @brief Rejects keys other than `allowed` in a mapping, naming the closest allowed one.
/// @throws config_error at the key, as `path` + key.
void only_keys(const std::string& source, const YAML::Node& map, const std::string& path,
               const std::vector<std::string>& allowed);

}  // namespace npusim::platform
