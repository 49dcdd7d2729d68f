#pragma once
#include <string>
#include <vector>

namespace npusim::platform {

/// @brief A platform preset shipped in configs/platforms/ and compiled into the binary.
struct preset {
    std::string name;  ///< e.g. "ascend910"
    std::string file;  ///< e.g. "configs/platforms/ascend910.yaml"
    std::string yaml;
};

inline constexpr const char* default_preset = "ascend910b1";

const std::vector<preset>& presets();
const preset* find_preset(const std::string& name);

}  // namespace npusim::platform
