#pragma once
// Checks shared by the three YAML loaders (platforms, workloads, sweeps): reading a document
// strictly (valid UTF-8, YAML syntax, no key given twice, bounded nesting and alias expansion),
// positions for errors, unknown keys with the closest allowed name, and typed scalars that
// report a wrong type as bad input instead of a yaml-cpp conversion error.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace npusim::platform {

/// @brief "file:line:col" of a node.
std::string yaml_position(const std::string& source, const YAML::Node& n);

/// @brief "a, b, c".
std::string join_names(const std::vector<std::string>& names);

/// @brief Rejects bytes that are not UTF-8 (including overlong forms and surrogates).
/// @throws config_error at the line and column of the first bad byte.
void require_utf8(const std::string& source, const std::string& text);

/// @brief Rejects any mapping of the document that gives a key twice (yaml-cpp keeps both and
/// lookups silently see the first), and keys that are not plain scalars. Also bounds the walk:
/// nesting deeper than 64 levels or more than 100,000 values are errors; an alias is checked
/// once, where its anchor is (so aliases of aliases cost nothing).
/// @throws config_error at the second occurrence, naming the line of the first.
void reject_duplicate_keys(const std::string& source, const YAML::Node& root);

/// @brief Parses one YAML document strictly: UTF-8, syntax (any yaml-cpp error becomes a
/// config_error at its mark), then reject_duplicate_keys.
/// @throws config_error naming source:line:col.
YAML::Node load_yaml(const std::string& source, const std::string& text);

/// @brief The text of a mapping key; a key that is a list, mapping or empty is an error.
/// @throws config_error at the key, as `path` + "?".
std::string key_text(const std::string& source, const YAML::Node& key, const std::string& path);

/// @brief Rejects keys other than `allowed` in a mapping, naming the closest allowed one.
/// @throws config_error at the key, as `path` + key.
void only_keys(const std::string& source, const YAML::Node& map, const std::string& path,
               const std::vector<std::string>& allowed);

/// @brief "a list", "a mapping", "nothing" or "'text'": what a node is, for messages.
std::string describe_node(const YAML::Node& n);

/// @brief The text of a scalar value; a list, a mapping or an empty value is an error.
/// @throws config_error at the node naming `key`, with `hint`.
std::string scalar_text(const std::string& source, const YAML::Node& n, const std::string& key,
                        const std::string& hint);

/// @brief A whole number in [lo, hi] (decimal, optional sign); anything else, including
/// overflow, is an error naming the range (`hint`, if given, replaces the default hint).
int64_t whole_number(const std::string& source, const YAML::Node& n, const std::string& key,
                     int64_t lo, int64_t hi, const std::string& hint = "");

/// @brief A finite number in [lo, hi] (YAML's .inf and .nan are rejected).
double real_number(const std::string& source, const YAML::Node& n, const std::string& key,
                   double lo, double hi, const std::string& hint = "");

}  // namespace npusim::platform
