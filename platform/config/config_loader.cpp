#include "platform/config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "platform/config/schema.h"
#include "platform/config/yaml_checks.h"
#include "platform/presets.h"

namespace npusim::platform {

namespace {

std::string where_of(const std::string& source, const YAML::Mark& m) {
    return source_position(source, m.line, m.column);
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

bool power_of_two(double v) {
    const auto u = static_cast<uint64_t>(v);
    return u != 0 && (u & (u - 1)) == 0;
}

/// Collects validated values and where each came from.
class value_table {
  public:
    explicit value_table(std::string source) : m_source(std::move(source)) {
        for (auto& k : platform_schema()) {
            m_where[k.path] = m_source + " (default)";
            if (k.kind == value_kind::text || k.kind == value_kind::choice)
                m_texts[k.path] = k.default_text;
            else
                m_numbers[k.path] = *parse_value(k.kind, k.default_text);
        }
    }

    void set(const key_spec& k, const std::string& text, const std::string& where) {
        m_where[k.path] = where;
        if (k.kind == value_kind::text) {
            m_texts[k.path] = text;
            return;
        }
        if (k.kind == value_kind::choice) {
            for (auto& c : k.choices)
                if (c == text) {
                    m_texts[k.path] = text;
                    return;
                }
            const std::string near = closest(text, k.choices);
            throw config_error(
                where, k.path, "'" + text + "' is not one of " + join(k.choices),
                near.empty() ? "use one of " + join(k.choices) : "did you mean '" + near + "'?");
        }
        const auto v = parse_value(k.kind, text);
        if (!v) {
            const std::string range = k.kind == value_kind::boolean
                                          ? ""
                                          : " (a finite value from " + format_value(k.kind, k.min) +
                                                " to " + format_value(k.kind, k.max) + ")";
            const std::string what =
                (k.kind == value_kind::integer ? "'" + text + "' is not a whole number"
                                               : "'" + text + "' is not a valid " +
                                                     std::string(base_unit(k.kind)) + " value") +
                range;
            throw config_error(where, k.path, what, unit_help(k.kind));
        }
        if (*v < k.min || *v > k.max) {
            throw config_error(where, k.path,
                               "value " + text + " is out of range (" +
                                   format_value(k.kind, k.min) + " to " +
                                   format_value(k.kind, k.max) + ")",
                               "use a value from " + format_value(k.kind, k.min) + " to " +
                                   format_value(k.kind, k.max));
        }
        m_numbers[k.path] = *v;
    }

    double num(const std::string& p) const { return m_numbers.at(p); }
    const std::string& text(const std::string& p) const { return m_texts.at(p); }
    const std::string& where(const std::string& p) const { return m_where.at(p); }
    bool is_default(const std::string& p) const { return m_where.at(p) == m_source + " (default)"; }
    const std::string& source() const { return m_source; }
    const std::map<std::string, std::string>& wheres() const { return m_where; }
    std::map<std::string, double> m_numbers;
    std::map<std::string, std::string> m_texts;

  private:
    std::string m_source;
    std::map<std::string, std::string> m_where;
};

// Keys given twice were rejected by load_yaml before the walk.
void walk(const YAML::Node& map, const std::string& prefix, value_table& vt) {
    for (auto it = map.begin(); it != map.end(); ++it) {
        const YAML::Node key_node = it->first;  // copies: the iterator's pair is a temporary
        const YAML::Node val = it->second;
        const std::string key = key_text(vt.source(), key_node, prefix);
        const std::string path = prefix.empty() ? key : prefix + "." + key;
        const std::string where = where_of(vt.source(), key_node.Mark());
        if (key.find('.') != std::string::npos)
            throw config_error(where, path, "dotted key '" + key + "' in a file",
                               "write nested mappings (dotted keys are for --set)");
        if (const key_spec* k = find_key(path)) {
            if (!val.IsScalar()) {
                throw config_error(
                    where, path,
                    std::string("expected a ") + base_unit(k->kind) + " value, got " +
                        (val.IsMap()        ? "a mapping"
                         : val.IsSequence() ? "a list"
                                            : "nothing"),
                    k->kind == value_kind::text     ? "write some text"
                    : k->kind == value_kind::choice ? "use one of " + join(k->choices)
                                                    : unit_help(k->kind));
            }
            vt.set(*k, val.Scalar(), where_of(vt.source(), val.Mark()));
        } else if (const removed_key* r = find_removed_key(path)) {
            throw config_error(where, path, r->what, r->fix);
        } else if (is_section(path)) {
            if (!val.IsMap())
                throw config_error(where, path, "is a section and needs a mapping",
                                   "give it keys such as " + join(children_of(path)));
            walk(val, path, vt);
        } else {
            const std::string near = closest(key, children_of(prefix));
            throw config_error(
                where, path, "unknown key '" + key + "'",
                near.empty()
                    ? "valid keys " +
                          (prefix.empty() ? std::string("at the top") : "in " + prefix) + ": " +
                          join(children_of(prefix))
                    : "did you mean '" + (prefix.empty() ? near : prefix + "." + near) + "'?");
        }
    }
}

void apply_override(const std::string& ov, value_table& vt) {
    const std::string where = "--set " + ov;
    const auto eq = ov.find('=');
    if (eq == std::string::npos || eq == 0)
        throw config_error(where, "", "expected KEY=VALUE", "e.g. --set gm.bandwidth=1.6TB/s");
    const std::string key = ov.substr(0, eq), value = ov.substr(eq + 1);
    const key_spec* k = find_key(key);
    if (const removed_key* r = find_removed_key(key))
        throw config_error(where, key, r->what, r->fix);
    if (!k) {
        std::vector<std::string> all;
        for (auto& s : platform_schema()) all.push_back(s.path);
        const std::string near = closest(key, all);
        throw config_error(where, key, "unknown key",
                           near.empty() ? "see docs/config-reference.md for every key"
                                        : "did you mean '" + near + "'?");
    }
    vt.set(*k, value, where);
}

void cross_check(const value_table& vt) {
    // A check may blame a key left at its default: point at the related key the file did set.
    auto fail = [&](const std::string& key, const std::string& what, const std::string& hint,
                    const std::vector<std::string>& related = {}) {
        std::string where = vt.where(key);
        if (vt.is_default(key)) {
            where = vt.source() + ":1:1";
            for (auto& r : related)
                if (!vt.is_default(r)) {
                    where = vt.where(r);
                    break;
                }
        }
        throw config_error(where, key, what, hint);
    };
    if (vt.text("schema") != platform_schema_id)
        fail("schema", "unsupported schema '" + vt.text("schema") + "'",
             std::string("write schema: ") + platform_schema_id);
    for (const std::string& p : buffer_sections()) {
        const double size = vt.num(p + ".size"), align = vt.num(p + ".alignment");
        if (!power_of_two(align))
            fail(p + ".alignment",
                 "alignment " + format_value(value_kind::size, align) + " is not a power of two",
                 "use e.g. 32 or 512");
        if (std::fmod(size, align) != 0)
            fail(p + ".size",
                 "size is not a multiple of the alignment " + format_value(value_kind::size, align),
                 "round the size", {p + ".alignment"});
        if (std::fmod(size, vt.num(p + ".banks")) != 0)
            fail(p + ".banks", "banks do not divide the size evenly", "use a divisor of the size",
                 {p + ".size"});
    }
    const double line = vt.num("l2.line"), ways = vt.num("l2.ways");
    if (!power_of_two(line)) fail("l2.line", "line size is not a power of two", "use e.g. 512");
    if (std::fmod(vt.num("l2.size"), line * ways) != 0)
        fail("l2.size", "size is not a multiple of line x ways", "make size = sets x line x ways",
             {"l2.ways", "l2.line"});
    // The L2 keeps a line's tag as line / sets in 32 bits (a 16-way set fits a host cache line).
    if (vt.num("l2.enabled") != 0 &&
        vt.num("gm.capacity") / line / (vt.num("l2.size") / (line * ways)) >= 4294967295.0)
        fail("l2.size", "GM has more lines per L2 set than the L2's 32-bit tags can name",
             "make l2.size larger (or l2.ways smaller) relative to gm.capacity",
             {"gm.capacity", "l2.ways", "l2.line"});
    if (!power_of_two(vt.num("memory.alignment")))
        fail("memory.alignment", "alignment is not a power of two", "use e.g. 512");
    if (!power_of_two(vt.num("gm.granule")))
        fail("gm.granule", "granule is not a power of two", "use e.g. 32");
    if (vt.text("chip.architecture") == "split" && vt.num("chip.vector_cores") < 1)
        fail("chip.vector_cores", "a split chip needs vector cores", "set it to 2 x chip.cores",
             {"chip.architecture", "chip.cores"});
    for (const std::string& p : path_sections()) {
        const std::string burst = p + ".burst";
        if (!power_of_two(vt.num(burst)) || vt.num(burst) < 32)
            fail(burst, "burst is not a power of two of at least 32 bytes", "use e.g. 512");
    }
}

platform_config build(const value_table& vt) {
    platform_config c;
    c.source = vt.source();
    c.aicore.kind = models::core_kind::aicore;
    c.aic.kind = models::core_kind::aic;
    c.aiv.kind = models::core_kind::aiv;
    for (const key_spec& k : platform_schema()) {
        if (k.bind.text) k.bind.text(vt.text(k.path), c);
        if (k.bind.chip) k.bind.chip(vt.num(k.path), c);
        if (k.bind.core)
            for (models::core_params* core : {&c.aicore, &c.aic, &c.aiv})
                k.bind.core(vt.num(k.path), *core);
    }
    c.numbers = vt.m_numbers;
    c.texts = vt.m_texts;
    c.where = vt.wheres();
    return c;
}

}  // namespace

platform_config load_platform_text(const std::string& yaml, const std::string& source,
                                   const std::vector<std::string>& overrides) {
    const YAML::Node root = load_yaml(source, yaml);
    if (!root.IsMap())
        throw config_error(source + ":1:1", "", "a platform file must be a mapping of keys",
                           std::string("start with 'schema: ") + platform_schema_id + "'");
    if (!root["schema"])
        throw config_error(source + ":1:1", "schema", "missing key 'schema'",
                           std::string("add 'schema: ") + platform_schema_id + "' at the top");
    value_table vt(source);
    walk(root, "", vt);
    for (auto& ov : overrides) apply_override(ov, vt);
    cross_check(vt);
    return build(vt);
}

platform_config load_platform(const std::string& file_or_preset,
                              const std::vector<std::string>& overrides) {
    std::ifstream in(file_or_preset);
    if (in) {
        std::ostringstream ss;
        ss << in.rdbuf();
        return load_platform_text(ss.str(), file_or_preset, overrides);
    }
    if (const preset* p = find_preset(file_or_preset))
        return load_platform_text(p->yaml, p->file, overrides);
    std::vector<std::string> names;
    for (auto& p : presets()) names.push_back(p.name);
    const std::string near = closest(file_or_preset, names);
    throw config_error(file_or_preset, "", "no such platform file or preset",
                       near.empty() ? "presets: " + join(names) : "did you mean '" + near + "'?");
}

}  // namespace npusim::platform
