#include "tools/npusim/sweep_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "platform/config/config_error.h"
#include "platform/config/config_loader.h"
#include "platform/config/schema.h"
#include "platform/config/units.h"
#include "platform/config/yaml_checks.h"
#include "platform/presets.h"
#include "platform/stats.h"
#include "sw/graph/builtin_workloads.h"
#include "sw/graph/onnx_import.h"
#include "sw/graph/shipped_workloads.h"
#include "sw/graph/workload.h"
#include "sw/serving/serving_spec.h"

namespace npusim::tools {

namespace fs = std::filesystem;
using platform::config_error;
using platform::only_keys;

namespace {

using settings = std::vector<std::pair<std::string, std::string>>;

std::string at(const std::string& source, const YAML::Node& n) {
    return platform::yaml_position(source, n);
}

/// "a:\n    inner message" with the inner message's lines indented under the outer one.
std::string nested(const std::string& what, const std::string& inner) {
    std::string s = what + ":\n    ";
    for (char c : inner) s += c == '\n' ? std::string("\n    ") : std::string(1, c);
    return s;
}

const char* kind_name(const YAML::Node& n) {
    return n.IsSequence() ? "a list" : n.IsMap() ? "a mapping" : n.IsNull() ? "nothing" : "a value";
}

/// A single value: not a list or mapping, no control characters.
std::string text(const std::string& source, const YAML::Node& n, const std::string& key,
                 const std::string& fix) {
    if (!n.IsScalar())
        throw config_error(at(source, n), key,
                           "expected a single value, not " + std::string(kind_name(n)), fix);
    const std::string& v = n.Scalar();
    for (unsigned char c : v)
        if (c < 0x20 || c == 0x7f)
            throw config_error(at(source, n), key,
                               "control characters (such as a newline) are not allowed in values",
                               fix);
    return v;
}

double number(const std::string& source, const YAML::Node& n, const std::string& key,
              const std::string& fix) {
    text(source, n, key, fix);
    double v = 0;
    if (!YAML::convert<double>::decode(n, v))
        throw config_error(at(source, n), key, "not a number", fix);
    if (!std::isfinite(v)) throw config_error(at(source, n), key, "must be a finite number", fix);
    return v;
}

/// A varied key must be a platform key; a misspelling names the closest one.
void check_platform_key(const std::string& source, const YAML::Node& n, const std::string& key) {
    if (platform::find_key(key)) return;
    if (const auto* r = platform::find_removed_key(key))
        throw config_error(at(source, n), key, r->what, r->fix);
    std::vector<std::string> all;
    for (const auto& k : platform::platform_schema()) all.push_back(k.path);
    const std::string near = platform::closest(key, all);
    throw config_error(at(source, n), key, "not a platform key",
                       near.empty() ? "see docs/config-reference.md for the keys"
                                    : "did you mean '" + near + "'?");
}

/// A serving-file key varied by a serving sweep ("serving.arrivals.poisson.rate").
bool is_serving_key(const std::string& key) {
    return key.rfind("serving.", 0) == 0;
}

/// The value at a dotted path of a serving summary, for checking metric names.
std::vector<std::string> serving_metrics() {
    std::vector<std::string> m;
    for (const char* l : {"ttft_s", "tpot_s", "e2e_s"})
        for (const char* f : {"mean", "p50", "p90", "p99"}) m.push_back(std::string(l) + "." + f);
    for (const char* k : {"duration_s", "tokens_per_s", "requests_per_s", "iterations",
                          "prefill_tokens", "decode_tokens", "padded_tokens", "peak_running",
                          "preemptions", "kv_blocks", "kv_bytes", "kv_peak_bytes", "kv_usage_mean",
                          "kv_usage_peak", "distinct_ops", "simulated_ops", "replayed_ops"})
        m.push_back(k);
    return m;
}

/// The values of one varied key, with where each was written.
struct axis {
    std::string key;
    std::vector<std::string> values, where;
};

void add_value(axis& a, const std::string& v, const std::string& where) {
    if (std::find(a.values.begin(), a.values.end(), v) != a.values.end())
        throw config_error(where, a.key, "value '" + v + "' is listed twice",
                           "each point must differ; remove the repeat");
    a.values.push_back(v);
    a.where.push_back(where);
}

void list_values(const std::string& source, const YAML::Node& n, axis& a) {
    if (!n.IsSequence() || n.size() == 0)
        throw config_error(at(source, n), a.key, "expected a non-empty list of values",
                           "write e.g. [8, 16, 32]");
    for (const auto& e : n)
        add_value(a, text(source, e, a.key, "write e.g. [8, 16]"), at(source, e));
}

/// "from, to, step" -> the values, inclusive of `to` when a step lands on it; at most `cap`.
void range_values(const std::string& source, const YAML::Node& n, axis& a, size_t cap) {
    const std::string fix = "write e.g. {from: 8, to: 32, step: 8}";
    if (!n.IsMap())
        throw config_error(at(source, n), a.key, "a range is {from: A, to: B, step: S}", fix);
    only_keys(source, n, a.key + ".", {"from", "to", "step"});
    double v[3];
    const char* names[] = {"from", "to", "step"};
    // Values with units ("0.9GHz") are read in the key's kind; the range's values are written
    // in the unit `from` was written in.
    const platform::key_spec* spec = platform::find_key(a.key);
    std::string unit;
    double unit_scale = 1;
    for (int i = 0; i < 3; ++i) {
        const std::string k = a.key + "." + names[i];
        if (!n[names[i]])
            throw config_error(at(source, n), k, "missing", "a range needs from, to and step");
        const std::string t = text(source, n[names[i]], k, fix);
        double plain = 0;
        if (YAML::convert<double>::decode(n[names[i]], plain)) {
            v[i] = number(source, n[names[i]], k, fix);
            continue;
        }
        const auto parsed = spec ? platform::parse_value(spec->kind, t) : std::nullopt;
        if (!parsed || !std::isfinite(*parsed))
            throw config_error(
                at(source, n[names[i]]), k,
                "'" + t + "' is not a number" +
                    (spec ? std::string(" or a ") + platform::base_unit(spec->kind) + " value"
                          : std::string()),
                spec ? platform::unit_help(spec->kind) : fix);
        v[i] = *parsed;
        if (i == 0) {
            const size_t at_unit = t.find_first_not_of("0123456789.+-eE");
            unit = at_unit == std::string::npos ? "" : t.substr(at_unit);
            const auto one = platform::parse_value(spec->kind, "1" + unit);
            unit_scale = one && *one > 0 ? *one : 1;
            if (!one) unit.clear();
        }
    }
    if (v[2] <= 0 || v[1] < v[0])
        throw config_error(at(source, n), a.key, "needs from <= to and step > 0", fix);
    const double steps = (v[1] - v[0]) / v[2];
    if (!std::isfinite(steps) || steps + 1 > double(cap))
        throw config_error(at(source, n), a.key,
                           "this range has more than " + std::to_string(cap) + " values",
                           "use a larger step or a shorter range (the cap is the sweep's point "
                           "cap, raised with --max-points)");
    const size_t count = size_t(std::floor(steps + 1e-9)) + 1;
    const std::string where = at(source, n);
    for (size_t i = 0; i < count; ++i) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.12g%s", (v[0] + double(i) * v[2]) / unit_scale,
                      unit.c_str());
        if (!a.values.empty() && a.values.back() == buf)
            throw config_error(
                where, a.key,
                "step " + std::to_string(v[2]) + " is too small for values this large: they repeat",
                "ranges keep 12 significant digits; use a list or a larger step");
        add_value(a, buf, where);
    }
}

/// One entry of `parameters`: its axes and how many points it makes.
struct group {
    std::string kind;
    std::vector<axis> axes;
    size_t count = 0;
};

/// a * b, or `over` when the product exceeds it.
size_t times(size_t a, size_t b, size_t over) {
    if (a != 0 && b > over / a) return over + 1;
    return std::min(a * b, over + 1);
}

group read_group(const std::string& source, const YAML::Node& g, std::vector<std::string>& keys,
                 size_t cap, size_t count_limit, bool serving) {
    const std::string fix = "write e.g. - grid: {chip.cores: [8, 16], gm.bandwidth: [1TB/s]}";
    if (!g.IsMap() || g.size() != 1)
        throw config_error(at(source, g), "parameters",
                           "each entry is one of list, range, grid or zip", fix);
    only_keys(source, g, "parameters.", {"list", "range", "grid", "zip"});
    group out;
    out.kind = g.begin()->first.Scalar();
    const YAML::Node body = g.begin()->second;
    if (!body.IsMap() || body.size() == 0)
        throw config_error(at(source, body), "parameters." + out.kind, "expected keys and values",
                           "write e.g. " + out.kind + ": {chip.cores: [8, 16]}");
    if ((out.kind == "list" || out.kind == "range") && body.size() != 1)
        throw config_error(at(source, body), "parameters." + out.kind,
                           out.kind + " varies one key; use grid or zip for several");
    out.count = 1;
    for (const auto& kv : body) {
        const std::string key = kv.first.Scalar();
        if (!serving || !is_serving_key(key)) check_platform_key(source, kv.first, key);
        if (std::find(keys.begin(), keys.end(), key) != keys.end())
            throw config_error(at(source, kv.first), key, "varied twice",
                               "vary each key in one group only");
        keys.push_back(key);
        axis a;
        a.key = key;
        if (out.kind == "range")
            range_values(source, kv.second, a, cap);
        else
            list_values(source, kv.second, a);
        if (out.kind == "zip" && !out.axes.empty() && a.values.size() != out.axes[0].values.size())
            throw config_error(at(source, kv.second), key,
                               "zip lists must have equal lengths (" +
                                   std::to_string(a.values.size()) + " here, " +
                                   std::to_string(out.axes[0].values.size()) + " for " +
                                   out.axes[0].key + ")");
        out.count =
            out.kind == "zip" ? a.values.size() : times(out.count, a.values.size(), count_limit);
        out.axes.push_back(std::move(a));
    }
    return out;
}

/// The settings of a group's points, each with where its values were written.
struct combo {
    settings values;
    std::vector<std::string> where;
};

std::vector<combo> expand(const group& g) {
    std::vector<combo> out;
    if (g.kind == "zip") {
        for (size_t i = 0; i < g.axes[0].values.size(); ++i) {
            combo c;
            for (const auto& a : g.axes) {
                c.values.emplace_back(a.key, a.values[i]);
                c.where.push_back(a.where[i]);
            }
            out.push_back(std::move(c));
        }
        return out;
    }
    out.push_back({});
    for (const auto& a : g.axes) {  // grid (list and range are a one-key grid)
        std::vector<combo> next;
        next.reserve(out.size() * a.values.size());
        for (const auto& c : out)
            for (size_t i = 0; i < a.values.size(); ++i) {
                combo t = c;
                t.values.emplace_back(a.key, a.values[i]);
                t.where.push_back(a.where[i]);
                next.push_back(std::move(t));
            }
        out = std::move(next);
    }
    return out;
}

bool looks_like_file(const std::string& s) {
    auto ends = [&](const std::string& e) {
        return s.size() > e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
    };
    return s.find('/') != std::string::npos || ends(".yaml") || ends(".yml") || ends(".onnx");
}

/// A relative file path against the sweep file's folder, absolute (cluster array tasks start
/// elsewhere).
std::string resolve(const std::string& base_dir, const std::string& path) {
    if (!path.empty() && path[0] == '/') return fs::path(path).lexically_normal().string();
    return fs::absolute(fs::path(base_dir) / path).lexically_normal().string();
}

std::string read_text(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string check_workload(const std::string& source, const YAML::Node& n,
                           const std::string& base_dir) {
    const std::string fix =
        "give a shipped workload by name (e.g. bert_base_s512, mlp), a built-in (matmul, "
        "elementwise, streams, dma_stream) or a file (.yaml, .onnx) relative to the sweep file's "
        "folder";
    const std::string w = text(source, n, "workloads", fix);
    std::vector<std::string> names = graph::builtin_kernel_workloads();
    names.push_back("dma_stream");
    for (const auto& s : graph::shipped_workloads()) names.push_back(s.name);
    if (std::find(names.begin(), names.end(), w) != names.end()) return w;
    if (!looks_like_file(w)) {
        const std::string near = platform::closest(w, names);
        throw config_error(at(source, n), "workloads", "unknown workload '" + w + "'",
                           near.empty() ? fix : "did you mean '" + near + "'?");
    }
    const std::string path = resolve(base_dir, w);
    if (!fs::is_regular_file(path))
        throw config_error(at(source, n), "workloads", "no such workload file: " + path, fix);
    try {
        if (graph::is_onnx_path(path))
            graph::import_onnx(path);
        else
            graph::load_workload(path);
    } catch (const std::exception& e) {
        throw config_error(at(source, n), "workloads",
                           nested("the workload does not load", e.what()),
                           "fix the workload file, or check it with npusim run --workload " + path);
    }
    return path;
}

/// Loads every distinct point's platform, so a bad value stops the sweep before any point
/// runs; the error points at the value that broke it.
void check_platforms(const sweep_spec& s, const std::string& platform_where,
                     const std::map<std::string, std::string>& set_where,
                     const std::vector<combo>& combos) {
    std::string yaml, file = s.platform;
    if (const platform::preset* p = platform::find_preset(s.platform)) {
        yaml = p->yaml;
        file = p->file;
    } else {
        yaml = read_text(s.platform);
    }
    for (size_t i = 0; i < combos.size(); ++i) {
        std::vector<std::string> sets = s.sets;
        for (const auto& [k, v] : combos[i].values)
            if (s.serving.empty() || !is_serving_key(k)) sets.push_back(k + "=" + v);
        try {
            platform::load_platform_text(yaml, file, sets);
            if (!s.serving.empty()) {  // the serving file with the point's overrides
                std::vector<std::string> with;
                for (const auto& [k, v] : combos[i].values)
                    if (is_serving_key(k)) with.push_back(k.substr(8) + "=" + v);
                serving::make_requests(serving::load_serving(s.serving, with));
            }
        } catch (const std::exception& e) {
            const auto* ce = dynamic_cast<const config_error*>(&e);
            const std::string key = ce ? ce->key() : "";
            std::string where = platform_where;
            if (auto it = set_where.find(key); it != set_where.end()) where = it->second;
            for (size_t k = 0; k < combos[i].values.size(); ++k)
                if (combos[i].values[k].first == key) where = combos[i].where[k];
            std::string label;
            for (const auto& [k, v] : combos[i].values)
                label += (label.empty() ? "" : " ") + k + "=" + v;
            throw config_error(
                where, key,
                nested(std::string(s.serving.empty() ? "the platform" : "the point") +
                           " does not load" + (label.empty() ? "" : " for " + label),
                       e.what()),
                "fix the value; every point's platform is checked before any runs");
        }
    }
}

/// The keys of a sweep file: what the loader accepts and what the reference documents.
struct sweep_key {
    const char* name;
    const char* takes;
    const char* doc;
};
const std::vector<sweep_key>& sweep_keys() {
    static const std::vector<sweep_key> keys = {
        {"schema", "`npusim.sweep/1` (required)", "the file's kind"},
        {"name", "letters, digits, `_`, `.`, `-` (not first `.`), at most 64 (default `sweep`)",
         "names the output folder `sweeps/NAME` and the Slurm job"},
        {"platform", "a preset name or a platform file (default `ascend910`)",
         "the base platform of every point; files are relative to the sweep file's folder"},
        {"workloads",
         "a non-empty list of shipped or built-in workload names or files (required "
         "unless `serving` is given)",
         "every point runs each workload; files are relative to the sweep file's folder"},
        {"serving", "a serving file (`npusim.serving/1`), instead of `workloads`",
         "every point runs `npusim serve` on it; parameters named `serving.KEY` override the "
         "serving file's KEY (e.g. `serving.arrivals.poisson.rate`), the others are platform "
         "keys; `platform` defaults to the serving file's; metrics come from its summary.json "
         "(docs/serving.md)"},
        {"set", "`{KEY: VALUE, ...}` of platform keys",
         "fixed overrides for every point (docs/config-reference.md lists the keys)"},
        {"parameters",
         "a list of groups: `list: {KEY: [values]}`, `range: {KEY: {from, to, step}}`, "
         "`grid: {KEY: [..], KEY: [..]}`, `zip: {KEY: [..], KEY: [..]}`",
         "the varied platform keys. `range` takes numbers or values in the key's units "
         "(`{from: 0.9GHz, to: 2.4GHz, step: 300MHz}`) and writes its values in the unit of "
         "`from`; `grid` makes every combination, `zip` steps its keys together (equal "
         "lengths); groups multiply, then with the workloads. At most 10000 points "
         "(`--max-points`)"},
        {"metrics", "a non-empty list of the metrics below (default `[sim_time_ns]`)",
         "dotted paths into each point's stats, collected into results.csv and plotted"},
        {"timing_only", "`true` or `false` (default `true`)", "runs the points with --timing-only"},
        {"timeout", "seconds, more than 0 and at most 2592000 (default 600)",
         "a point running longer is killed and recorded as timed out"},
    };
    return keys;
}

std::vector<std::string> sweep_key_names() {
    std::vector<std::string> names;
    for (const auto& k : sweep_keys()) names.push_back(k.name);
    return names;
}

sweep_spec load(const std::string& yaml, const std::string& source, const std::string& base_dir,
                const sweep_load_options& opt) {
    // UTF-8, syntax, duplicate and non-scalar keys, nesting depth: the checks every loader shares
    const YAML::Node root = platform::load_yaml(source, yaml);
    if (!root.IsMap())
        throw config_error(source + ":1:1", "", "a sweep file is a mapping",
                           "start with 'schema: npusim.sweep/1'");
    only_keys(source, root, "", sweep_key_names());
    const std::string schema_fix = "start with 'schema: npusim.sweep/1'";
    if (!root["schema"] || text(source, root["schema"], "schema", schema_fix) != "npusim.sweep/1")
        throw config_error(at(source, root["schema"] ? root["schema"] : root), "schema",
                           "expected 'npusim.sweep/1'", schema_fix);
    sweep_spec s;
    s.source = source;

    s.name = "sweep";
    if (const auto n = root["name"]) {
        const std::string fix = "use letters, digits, '_', '.' and '-' (not first '.', at most " +
                                std::to_string(max_sweep_name_length) + "), e.g. name: bert_cores";
        s.name = text(source, n, "name", fix);
        const bool ok = !s.name.empty() && s.name.size() <= max_sweep_name_length &&
                        s.name[0] != '.' && std::all_of(s.name.begin(), s.name.end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                                   c == '.' || c == '-';
                        });
        if (!ok)
            throw config_error(at(source, n), "name", "'" + s.name + "' is not a valid sweep name",
                               fix);
    }

    const std::string platform_where =
        root["platform"] ? at(source, root["platform"]) : source + ":1:1";
    {
        const std::string p = root["platform"]
                                  ? text(source, root["platform"], "platform",
                                         "give a preset name (npusim presets) or a platform file")
                                  : std::string("ascend910");
        s.platform = looks_like_file(p) ? resolve(base_dir, p) : p;
        if (looks_like_file(p) && !fs::is_regular_file(s.platform))
            throw config_error(platform_where, "platform", "no such platform file: " + s.platform,
                               "files are relative to the sweep file's folder; presets go by "
                               "name (npusim presets lists them)");
        try {  // a misspelt preset or a missing file, named before any point
            platform::load_platform(s.platform);
        } catch (const std::exception& e) {
            throw config_error(platform_where, "platform",
                               nested("'" + p + "' does not load", e.what()),
                               "presets go by name (npusim presets lists them); files are "
                               "relative to the sweep file's folder");
        }
    }

    const auto wl = root["workloads"];
    if (const auto sv = root["serving"]) {
        if (wl)
            throw config_error(at(source, wl), "workloads", "a serving sweep has no workloads",
                               "give either serving: FILE or workloads: [..]");
        const std::string fix =
            "name a serving file (npusim.serving/1), relative to the sweep "
            "file's folder";
        s.serving = resolve(base_dir, text(source, sv, "serving", fix));
        if (!fs::is_regular_file(s.serving))
            throw config_error(at(source, sv), "serving", "no such serving file: " + s.serving,
                               fix);
        if (root["platform"])
            throw config_error(at(source, root["platform"]), "platform",
                               "a serving sweep runs on the serving file's platform",
                               "remove platform: here; vary platform keys in parameters or set:");
        try {
            s.platform = serving::load_serving(s.serving).platform;
        } catch (const std::exception& e) {
            throw config_error(at(source, sv), "serving",
                               nested("the serving file does not load", e.what()),
                               "fix it, or check it with npusim serve " + s.serving);
        }
        s.workloads = {s.serving};
    } else if (!wl) {
        throw config_error(at(source, root), "workloads", "missing",
                           "list the workloads, e.g. workloads: [bert_base_s512]");
    }
    if (wl && (wl.IsMap() || wl.IsNull() || (wl.IsSequence() && wl.size() == 0)))
        throw config_error(
            at(source, wl), "workloads",
            "expected a non-empty list of workloads, not " + std::string(kind_name(wl)),
            "write e.g. workloads: [bert_base_s512, mlp]");
    for (const auto& w : !wl               ? YAML::Node(std::vector<YAML::Node>{})
                         : wl.IsSequence() ? wl
                                           : YAML::Node(std::vector<YAML::Node>{wl})) {
        const std::string path = check_workload(source, w, base_dir);
        if (std::find(s.workloads.begin(), s.workloads.end(), path) != s.workloads.end())
            throw config_error(at(source, w), "workloads", "'" + path + "' is listed twice",
                               "remove the repeat");
        s.workloads.push_back(path);
    }

    std::map<std::string, std::string> set_where;
    if (const auto set = root["set"]) {
        if (!set.IsMap())
            throw config_error(at(source, set), "set", "expected KEY: VALUE pairs",
                               "write e.g. set: {gm.bandwidth: 1.6TB/s}");
        for (const auto& kv : set) {
            const std::string key = kv.first.Scalar();
            check_platform_key(source, kv.first, key);
            s.sets.push_back(
                key + "=" +
                text(source, kv.second, key, "write e.g. set: {gm.bandwidth: 1.6TB/s}"));
            set_where[key] = at(source, kv.second);
        }
    }

    std::vector<group> groups;
    const size_t count_limit = 1000000000000000000;  // counts past this are just "more"
    size_t total = s.workloads.size();
    if (const auto params = root["parameters"]) {
        if (!params.IsSequence())
            throw config_error(at(source, params), "parameters", "expected a list of groups",
                               "write e.g. parameters:\n    - grid: {chip.cores: [8, 16]}");
        for (const auto& g : params) {
            groups.push_back(read_group(source, g, s.parameters, opt.max_points, count_limit,
                                        !s.serving.empty()));
            total = times(total, groups.back().count, count_limit);
        }
        for (const auto& k : s.parameters)
            if (set_where.count(k))
                throw config_error(set_where[k], k, "set and varied in parameters",
                                   "remove it from set: or from parameters:");
    }
    // Counted before anything is expanded, so a huge grid fails at once.
    if (total > opt.max_points)
        throw config_error(
            root["parameters"] ? at(source, root["parameters"]) : at(source, root), "parameters",
            (total > count_limit ? "this sweep has more than 10^18 points"
                                 : "this sweep has " + std::to_string(total) + " points") +
                ", more than the cap of " + std::to_string(opt.max_points),
            "vary fewer values, or raise the cap with --max-points N");

    s.metrics = {s.serving.empty() ? "sim_time_ns" : "ttft_s.p99"};
    if (const auto m = root["metrics"]) {
        if (!m.IsSequence() || m.size() == 0)
            throw config_error(at(source, m), "metrics", "expected a non-empty list of metrics",
                               "write e.g. metrics: [sim_time_ns, summary.achieved_tflops]");
        s.metrics.clear();
        std::vector<std::string> valid =
            s.serving.empty() ? platform::stats_metric_paths() : serving_metrics();
        valid.push_back("wall_s");
        for (const auto& e : m) {
            const std::string name =
                text(source, e, "metrics", "write e.g. metrics: [sim_time_ns]");
            const bool known = s.serving.empty()
                                   ? platform::is_stats_metric(name)
                                   : std::find(valid.begin(), valid.end(), name) != valid.end();
            if (name != "wall_s" && !known) {
                const std::string near = platform::closest(name, valid);
                throw config_error(at(source, e), "metrics", "'" + name + "' is not a stats metric",
                                   near.empty() ? "valid metrics: " + platform::join_names(valid)
                                                : "did you mean '" + near + "'?");
            }
            if (std::find(s.metrics.begin(), s.metrics.end(), name) != s.metrics.end())
                throw config_error(at(source, e), "metrics", "'" + name + "' is listed twice",
                                   "remove the repeat");
            s.metrics.push_back(name);
        }
    }
    if (const auto t = root["timing_only"]) {
        text(source, t, "timing_only", "write timing_only: true or false");
        if (!YAML::convert<bool>::decode(t, s.timing_only))
            throw config_error(at(source, t), "timing_only", "expected true or false",
                               "write timing_only: true or false");
    }
    if (const auto t = root["timeout"]) {
        const std::string fix = "write e.g. timeout: 600 (seconds)";
        s.timeout_s = number(source, t, "timeout", fix);
        if (s.timeout_s <= 0 || s.timeout_s > max_sweep_timeout_s)
            throw config_error(at(source, t), "timeout",
                               "must be more than 0 and at most 2592000 seconds (30 days)", fix);
    }

    std::vector<combo> combos{{}};
    for (const auto& g : groups) {
        std::vector<combo> next;
        for (const auto& c : expand(g))
            for (const auto& prev : combos) {
                combo t = prev;
                t.values.insert(t.values.end(), c.values.begin(), c.values.end());
                t.where.insert(t.where.end(), c.where.begin(), c.where.end());
                next.push_back(std::move(t));
            }
        combos = std::move(next);
    }
    if (opt.check_points) check_platforms(s, platform_where, set_where, combos);
    for (const auto& w : s.workloads)
        for (const auto& c : combos) {
            sweep_point p;
            p.index = unsigned(s.points.size());
            p.workload = w;
            p.settings = c.values;
            s.points.push_back(p);
        }
    return s;
}

}  // namespace

std::string sweep_point::label() const {
    std::string s;
    for (const auto& [k, v] : settings) s += k + "=" + v + " ";
    return s + "workload=" + workload;
}

sweep_spec load_sweep_text(const std::string& yaml, const std::string& source,
                           const std::string& base_dir, const sweep_load_options& opt) {
    try {
        return load(yaml, source, base_dir, opt);
    } catch (const config_error&) {
        throw;
    } catch (const YAML::Exception& e) {  // a shape the checks above did not foresee
        throw config_error(
            e.mark.is_null() ? source
                             : platform::source_position(source, e.mark.line, e.mark.column),
            "", "unexpected value: " + e.msg, "see the sweep file rules in docs/guide.md");
    } catch (const std::exception& e) {  // e.g. a path the file system refuses
        throw config_error(source, "", e.what(), "see the sweep file rules in docs/guide.md");
    }
}

sweep_spec load_sweep(const std::string& file, const sweep_load_options& opt) {
    std::ifstream in(file, std::ios::binary);
    if (!in || fs::is_directory(file))
        throw config_error(file, "", "cannot open the sweep file", "check the path");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string dir = fs::path(file).parent_path().string();
    return load_sweep_text(ss.str(), file, dir.empty() ? "." : dir, opt);
}

std::string sweep_reference_markdown() {
    std::string md =
        "# Sweep file reference (npusim.sweep/1)\n\n"
        "Generated from `tools/npusim/sweep_spec.cpp` by `npusim validate --sweep-reference`; do "
        "not edit by hand (a test fails when this file is stale). `npusim validate FILE` checks "
        "a sweep file without running it; docs/guide.md shows one.\n\n"
        "## Keys\n\n| key | takes | what |\n|---|---|---|\n";
    for (const auto& k : sweep_keys())
        md += std::string("| `") + k.name + "` | " + k.takes + " | " + k.doc + " |\n";
    md +=
        "\n## Metrics\n\n"
        "Each is a number of the stats document (docs/metrics.md defines them), checked when the "
        "file loads; a misspelt one names the closest. Also valid: `wall_s` (the point's wall "
        "time), `memory.gm.channel<N>.busy_ns` and `platform.parameters.<platform key>`.\n\n";
    for (const auto& m : platform::stats_metric_paths()) md += "- `" + m + "`\n";
    return md;
}

}  // namespace npusim::tools
