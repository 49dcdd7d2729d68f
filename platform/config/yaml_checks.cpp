#include "platform/config/yaml_checks.h"

#include <algorithm>

#include "platform/config/config_error.h"
#include "platform/config/schema.h"

namespace npusim::platform {

std::string yaml_position(const std::string& source, const YAML::Node& n) {
    return source_position(source, n.Mark().line, n.Mark().column);
}

std::string join_names(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& x : names) s += (s.empty() ? "" : ", ") + x;
    return s;
}

void only_keys(const std::string& source, const YAML::Node& map, const std::string& path,
               const std::vector<std::string>& allowed) {
    for (const auto& kv : map) {
        const std::string key = kv.first.as<std::string>();
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        const std::string near = closest(key, allowed);
        throw config_error(
            yaml_position(source, kv.first), path + key, "unknown key",
            near.empty() ? "allowed keys: " + join_names(allowed) : "did you mean '" + near + "'?");
    }
}

}  // namespace npusim::platform
