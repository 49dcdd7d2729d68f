#include "platform/config/yaml_checks.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "platform/config/config_error.h"
#include "platform/config/schema.h"

namespace npusim::platform {

namespace {

// Config files are small: these bounds only stop hostile input (deep nesting, alias bombs)
// from exhausting the stack or the CPU.
constexpr int k_max_depth = 64;
constexpr uint64_t k_max_nodes = 100000;

struct walk_state {
    const std::string& source;
    uint64_t nodes = 0;
    // Collections already walked, by position: an alias is the same node as its anchor, so
    // walking it again would only repeat the checks (and an alias bomb would take forever).
    std::set<std::pair<int, int>> walked;
};

void walk_keys(walk_state& st, const YAML::Node& n, const std::string& path, int depth) {
    if (++st.nodes > k_max_nodes)
        throw config_error(yaml_position(st.source, n), path,
                           "more than " + std::to_string(k_max_nodes) + " values in one file",
                           "config files hold at most a few thousand values");
    if (depth > k_max_depth)
        throw config_error(yaml_position(st.source, n), path,
                           "nested more than " + std::to_string(k_max_depth) + " levels deep",
                           "config files need only a few levels of nesting");
    if ((n.IsSequence() || n.IsMap()) && n.Mark().pos >= 0 &&
        !st.walked.insert({n.Mark().line, n.Mark().column}).second)
        return;
    if (n.IsSequence()) {
        size_t i = 0;
        for (const auto& e : n) walk_keys(st, e, path + "[" + std::to_string(i++) + "]", depth + 1);
    } else if (n.IsMap()) {
        std::map<std::string, YAML::Mark> seen;
        for (auto it = n.begin(); it != n.end(); ++it) {
            const YAML::Node key = it->first;  // copies: the iterator's pair is a temporary
            const YAML::Node value = it->second;
            const std::string name = key_text(st.source, key, path);
            const std::string full = path.empty() ? name : path + "." + name;
            if (const auto [first, fresh] = seen.emplace(name, key.Mark()); !fresh)
                throw config_error(yaml_position(st.source, key), full,
                                   "key given twice (first at line " +
                                       std::to_string(first->second.line + 1) + ")",
                                   "keep one of them");
            walk_keys(st, value, full, depth + 1);
        }
    }
}

std::string node_path(const std::string& key) {
    return key.empty() ? "(top)" : key;
}

}  // namespace

std::string yaml_position(const std::string& source, const YAML::Node& n) {
    const YAML::Mark m = n.Mark();
    // A node made by a lookup has no mark (-1): point at the file itself.
    if (m.line < 0 || m.column < 0) return source;
    return source_position(source, m.line, m.column);
}

std::string join_names(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& x : names) s += (s.empty() ? "" : ", ") + x;
    return s;
}

void require_utf8(const std::string& source, const std::string& text) {
    int line = 0, column = 0;
    for (size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        size_t len = 0;
        uint32_t cp = 0, min = 0;
        if (c < 0x80) {
            len = 1;
            cp = c;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
            min = 0x10000;
        }
        bool ok = len != 0 && i + len <= text.size();
        for (size_t k = 1; ok && k < len; ++k) {
            const auto b = static_cast<unsigned char>(text[i + k]);
            ok = (b & 0xc0) == 0x80;
            cp = (cp << 6) | (b & 0x3f);
        }
        ok = ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
        if (!ok) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", c);
            throw config_error(source_position(source, line, column), "",
                               std::string("invalid UTF-8 (byte ") + hex + ")",
                               "save the file as UTF-8");
        }
        if (c == '\n') {
            ++line;
            column = 0;
        } else {
            ++column;
        }
        i += len;
    }
}

void reject_duplicate_keys(const std::string& source, const YAML::Node& root) {
    walk_state st{source, 0, {}};
    walk_keys(st, root, "", 0);
}

YAML::Node load_yaml(const std::string& source, const std::string& text) {
    require_utf8(source, text);
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw config_error(e.mark.is_null() ? source + ":1:1"
                                            : source_position(source, e.mark.line, e.mark.column),
                           "", "YAML syntax error: " + e.msg,
                           "check indentation and quoting near this line");
    }
    reject_duplicate_keys(source, root);
    return root;
}

std::string key_text(const std::string& source, const YAML::Node& key, const std::string& path) {
    if (!key.IsScalar() || key.Scalar().empty())
        throw config_error(yaml_position(source, key), path.empty() ? "?" : path + ".?",
                           "a key must be a plain name, not " + describe_node(key),
                           "write 'name: value'");
    return key.Scalar();
}

void only_keys(const std::string& source, const YAML::Node& map, const std::string& path,
               const std::vector<std::string>& allowed) {
    for (auto it = map.begin(); it != map.end(); ++it) {
        const YAML::Node k = it->first;
        const std::string key = key_text(source, k, path);
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        const std::string near = closest(key, allowed);
        throw config_error(
            yaml_position(source, k), path + key, "unknown key",
            near.empty() ? "allowed keys: " + join_names(allowed) : "did you mean '" + near + "'?");
    }
}

std::string describe_node(const YAML::Node& n) {
    if (!n || n.IsNull()) return "nothing";
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a mapping";
    std::string s = n.Scalar();
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return "'" + s + "'";
}

std::string scalar_text(const std::string& source, const YAML::Node& n, const std::string& key,
                        const std::string& hint) {
    if (!n.IsScalar() || n.Scalar().empty())
        throw config_error(yaml_position(source, n), node_path(key),
                           "expected a value, got " + describe_node(n), hint);
    return n.Scalar();
}

int64_t whole_number(const std::string& source, const YAML::Node& n, const std::string& key,
                     int64_t lo, int64_t hi, const std::string& custom_hint) {
    const std::string range =
        "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
    const std::string hint = custom_hint.empty() ? "write " + range : custom_hint;
    const std::string text = scalar_text(source, n, key, hint);
    const char* s = text.c_str();
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s, &end, 10);
    const bool digits = text.find_first_not_of("+-0123456789") == std::string::npos;
    if (!digits || end == s || *end != '\0' || errno == ERANGE || v < lo || v > hi)
        throw config_error(yaml_position(source, n), node_path(key),
                           "'" + text + "' is not " + range, hint);
    return v;
}

double real_number(const std::string& source, const YAML::Node& n, const std::string& key,
                   double lo, double hi, const std::string& custom_hint) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "a finite number from %g to %g", lo, hi);
    const std::string range = buf;
    const std::string hint = custom_hint.empty() ? "write " + range : custom_hint;
    const std::string text = scalar_text(source, n, key, hint);
    const char* s = text.c_str();
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (end == s || *end != '\0' || !std::isfinite(v) || v < lo || v > hi)
        throw config_error(yaml_position(source, n), node_path(key),
                           "'" + text + "' is not " + range, hint);
    return v;
}

}  // namespace npusim::platform
