#pragma once
// The platform schema (npusim.platform/1): every key, its kind, default, range and meaning.
// Loader, validation, --set and the generated docs/config-reference.md all read this table, and
// each row binds its key to the field it sets.
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "platform/config/units.h"

namespace npusim::models {
struct core_params;
}

namespace npusim::platform {

struct platform_config;

inline constexpr const char* platform_schema_id = "npusim.platform/1";

/// @brief Where a key's value goes in the built platform_config. A row sets exactly one:
/// `text` for text and choice keys; `chip` or `core` for numeric keys (values in base units).
struct key_binder {
    std::function<void(const std::string&, platform_config&)> text;
    std::function<void(double, platform_config&)> chip;
    /// A per-core field: the loader applies it to each core kind (aicore, aic, aiv).
    std::function<void(double, models::core_params&)> core;
};

/// @brief One leaf key of the platform schema.
struct key_spec {
    std::string path;  ///< dotted path, e.g. "gm.bandwidth"
    value_kind kind;
    std::string default_text;  ///< as it would be written in YAML
    double min = 0;
    double max = 0;                    ///< every numeric key has a finite range
    std::vector<std::string> choices;  ///< for value_kind::choice
    std::string doc;
    key_binder bind;
};

/// @brief A key that existed in an earlier version of the schema: setting it is an error that
/// says what replaced it.
struct removed_key {
    const char* path;
    const char* what;  ///< why it is gone
    const char* fix;   ///< what to set instead
};

/// @brief The removed key of a dotted path, or nullptr.
const removed_key* find_removed_key(const std::string& path);
/// @brief All keys, in documentation order.
const std::vector<key_spec>& platform_schema();
/// @brief The per-buffer sections ("buffers.l1", ...), in schema order.
const std::vector<std::string>& buffer_sections();
/// @brief The per-path sections ("paths.gm_to_l1", ...), in schema order.
const std::vector<std::string>& path_sections();
/// @brief The spec of a dotted path, or nullptr.
const key_spec* find_key(const std::string& path);
/// @brief True if some key lies below this dotted prefix (i.e. it names a section).
bool is_section(const std::string& prefix);
/// @brief The valid names directly below a section ("" = top level).
std::vector<std::string> children_of(const std::string& prefix);
/// @brief The candidate closest to `word` by edit distance, or "" if none is close.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);
/// @brief Markdown reference of every key (generated into docs/config-reference.md).
std::string config_reference_markdown();

}  // namespace npusim::platform
