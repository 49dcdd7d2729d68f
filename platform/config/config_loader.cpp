#include "platform/config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "models/core/vector_op.h"
#include "models/core/vector_unit.h"
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
    for (const char* b : {"l1", "l0a", "l0b", "l0c", "ub", "bt", "fb"}) {
        const std::string p = std::string("buffers.") + b;
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
    if (!power_of_two(vt.num("memory.alignment")))
        fail("memory.alignment", "alignment is not a power of two", "use e.g. 512");
    if (!power_of_two(vt.num("gm.granule")))
        fail("gm.granule", "granule is not a power of two", "use e.g. 32");
    if (vt.text("chip.architecture") == "split" && vt.num("chip.vector_cores") < 1)
        fail("chip.vector_cores", "a split chip needs vector cores", "set it to 2 x chip.cores",
             {"chip.architecture", "chip.cores"});
    for (auto& k : platform_schema())
        if (k.path.rfind("paths.", 0) == 0 && k.path.size() > 6 &&
            k.path.compare(k.path.size() - 6, 6, ".burst") == 0 &&
            (!power_of_two(vt.num(k.path)) || vt.num(k.path) < 32))
            fail(k.path, "burst is not a power of two of at least 32 bytes", "use e.g. 512");
}

models::core_params core_from(const value_table& vt, models::core_kind kind, double clock) {
    models::core_params c;
    c.kind = kind;
    c.clock_hz = clock;
    const char* names[] = {"", "l1", "l0a", "l0b", "l0c", "ub", "bt", "fb"};
    for (size_t s = 1; s < size_t(models::mem_space::count); ++s) {
        const std::string p = std::string("buffers.") + names[s];
        auto& b = c.buffers[s];
        b.size = static_cast<uint64_t>(vt.num(p + ".size"));
        b.alignment = static_cast<uint32_t>(vt.num(p + ".alignment"));
        b.banks = static_cast<uint32_t>(vt.num(p + ".banks"));
        b.bank_bytes_per_cycle = vt.num(p + ".bank_bytes_per_cycle");
    }
    using m = models::mem_space;
    const std::pair<const char*, std::pair<m, m>> paths[] = {
        {"gm_to_l1", {m::gm, m::l1}},   {"gm_to_l0a", {m::gm, m::l0a}},
        {"gm_to_l0b", {m::gm, m::l0b}}, {"gm_to_ub", {m::gm, m::ub}},
        {"l1_to_l0a", {m::l1, m::l0a}}, {"l1_to_l0b", {m::l1, m::l0b}},
        {"l1_to_ub", {m::l1, m::ub}},   {"l1_to_bt", {m::l1, m::bt}},
        {"l1_to_fb", {m::l1, m::fb}},   {"l1_to_gm", {m::l1, m::gm}},
        {"ub_to_gm", {m::ub, m::gm}},   {"ub_to_l1", {m::ub, m::l1}},
        {"l0c_to_gm", {m::l0c, m::gm}}, {"l0c_to_l1", {m::l0c, m::l1}},
        {"l0c_to_ub", {m::l0c, m::ub}}, {"ub_to_ub", {m::ub, m::ub}},
    };
    for (auto& [name, sd] : paths) {
        const std::string p = std::string("paths.") + name;
        auto& pp = c.paths[size_t(sd.first)][size_t(sd.second)];
        pp.bytes_per_cycle = vt.num(p + ".bytes_per_cycle");
        pp.latency_cycles = static_cast<uint32_t>(vt.num(p + ".latency"));
        pp.burst_bytes = static_cast<uint32_t>(vt.num(p + ".burst"));
        pp.issue_bytes_per_cycle = vt.num(p + ".issue_bytes_per_cycle");
        pp.issue_cycles = static_cast<uint32_t>(vt.num(p + ".issue_cycles"));
        pp.format_latency_cycles = static_cast<uint32_t>(vt.num(p + ".format_latency"));
        pp.burst_overhead_cycles = static_cast<uint32_t>(vt.num(p + ".burst_overhead"));
    }
    c.dma.max_outstanding = static_cast<uint32_t>(vt.num("dma.max_outstanding"));
    c.dma.write_buffer = static_cast<uint64_t>(vt.num("dma.write_buffer"));
    c.lookahead_ps = static_cast<uint64_t>(vt.num("sim.lookahead"));
    c.dma.queue_depth = static_cast<uint32_t>(vt.num("dma.queue_depth"));
    auto frac = [&](const char* dt) {
        const std::string p = std::string("cube.fractal.") + dt;
        return models::fractal{static_cast<uint32_t>(vt.num(p + ".m")),
                               static_cast<uint32_t>(vt.num(p + ".k")),
                               static_cast<uint32_t>(vt.num(p + ".n"))};
    };
    c.cube.fp16 = frac("fp16");
    c.cube.bf16 = frac("bf16");
    c.cube.int8 = frac("int8");
    c.cube.issue_cycles = static_cast<uint32_t>(vt.num("cube.issue_cycles"));
    c.cube.fixed_cycles = static_cast<uint32_t>(vt.num("cube.fixed_cycles"));
    c.cube.latency_cycles = static_cast<uint32_t>(vt.num("cube.latency"));
    c.vector.issue_cycles = static_cast<uint32_t>(vt.num("vector.issue_cycles"));
    c.vector.latency_cycles = static_cast<uint32_t>(vt.num("vector.latency"));
    const char* classes[] = {"simple", "activation", "transcendental", "reduction", "cast"};
    for (size_t i = 0; i < 5; ++i)
        c.vector.cycles_per_repeat[i] =
            vt.num(std::string("vector.cycles_per_repeat.") + classes[i]);
    for (models::vec_opcode op : models::all_vec_opcodes()) {
        const char* name = models::ascend_name(op);
        if (!name) continue;
        for (auto [src, dst] : models::vector_dtypes(op)) {
            const unsigned sb = models::dtype_size(src), db = models::dtype_size(dst);
            const std::string k =
                std::string("vector.instructions.") + name + "." + models::width_key(sb, db) + ".";
            auto& row = c.vector.instr[size_t(op)][models::vector_costs::width_slot(sb, db)];
            row.issue_cycles = static_cast<uint32_t>(vt.num(k + "issue_cycles"));
            row.fixed_cycles = static_cast<uint32_t>(vt.num(k + "fixed_cycles"));
            row.cycles_per_repeat = vt.num(k + "cycles_per_repeat");
        }
    }
    c.event_ids = static_cast<uint32_t>(vt.num("chip.event_ids"));
    return c;
}

platform_config build(const value_table& vt) {
    platform_config c;
    c.source = vt.source();
    c.name = vt.text("chip.name");
    c.description = vt.text("chip.description");
    c.split = vt.text("chip.architecture") == "split";
    c.cores = static_cast<uint32_t>(vt.num("chip.cores"));
    c.vector_cores = static_cast<uint32_t>(vt.num("chip.vector_cores"));
    c.cube_clock_hz = vt.num("chip.clock.cube");
    c.vector_clock_hz = vt.num("chip.clock.vector");
    c.aicore = core_from(vt, models::core_kind::aicore, c.cube_clock_hz);
    c.aic = core_from(vt, models::core_kind::aic, c.cube_clock_hz);
    c.aiv = core_from(vt, models::core_kind::aiv, c.vector_clock_hz);
    c.gm = {static_cast<uint64_t>(vt.num("gm.capacity")),
            static_cast<uint32_t>(vt.num("gm.channels")),
            vt.num("gm.bandwidth"),
            static_cast<models::ps_t>(vt.num("gm.latency")),
            static_cast<uint32_t>(vt.num("gm.interleave")),
            static_cast<uint32_t>(vt.num("gm.granule"))};
    c.l2 = {vt.num("l2.enabled") != 0,
            static_cast<uint64_t>(vt.num("l2.size")),
            static_cast<uint32_t>(vt.num("l2.line")),
            static_cast<uint32_t>(vt.num("l2.ways")),
            static_cast<models::ps_t>(vt.num("l2.hit_latency")),
            static_cast<models::ps_t>(vt.num("l2.miss_latency")),
            vt.num("l2.bandwidth")};
    c.noc = {vt.num("noc.bandwidth"), static_cast<models::ps_t>(vt.num("noc.latency"))};
    c.host_link = {vt.num("host_link.bandwidth"),
                   static_cast<models::ps_t>(vt.num("host_link.latency")),
                   static_cast<uint32_t>(vt.num("host_link.burst")),
                   static_cast<uint32_t>(vt.num("host_link.max_outstanding"))};
    c.memory = {static_cast<uint64_t>(vt.num("memory.alignment")),
                static_cast<uint64_t>(vt.num("memory.max_split_size")),
                vt.num("memory.gc_threshold"), vt.num("memory.caching") != 0,
                vt.num("memory.poison_freed") != 0};
    c.sdma = {vt.num("sdma.bandwidth"), static_cast<uint32_t>(vt.num("sdma.burst")),
              static_cast<uint32_t>(vt.num("sdma.max_outstanding"))};
    auto t = [&](const char* k) {
        return static_cast<models::ps_t>(vt.num(std::string("host_api.") + k));
    };
    c.host_api = {t("launch"),       t("memcpy_setup"),    t("sync_wakeup"),
                  t("callback"),     t("callback_launch"), t("cached_malloc"),
                  t("event_record"), t("malloc"),          t("free")};
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
