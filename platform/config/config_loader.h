#pragma once
#include <string>
#include <vector>

#include "platform/config/config_error.h"
#include "platform/config/platform_config.h"

namespace npusim::platform {

/// @brief Loads a platform from a YAML file path or a preset name, applies `--set KEY=VALUE`
/// overrides and validates everything.
/// @throws config_error naming file:line, key, the problem and a fix.
platform_config load_platform(const std::string& file_or_preset,
                              const std::vector<std::string>& overrides = {});

/// @brief As load_platform, from YAML text; `source` names it in errors.
platform_config load_platform_text(const std::string& yaml, const std::string& source,
                                   const std::vector<std::string>& overrides = {});

}  // namespace npusim::platform
