#include "tools/npusim/sweep_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "platform/config/config_error.h"
#include "platform/config/schema.h"
#include "platform/config/yaml_checks.h"

namespace npusim::tools {

using platform::config_error;
using platform::only_keys;

namespace {

using settings = std::vector<std::pair<std::string, std::string>>;

std::string at(const std::string& source, const YAML::Node& n) {
    return platform::yaml_position(source, n);
}

/// A varied key must be a platform key; a misspelling names the closest one.
void check_platform_key(const std::string& source, const YAML::Node& n, const std::string& key) {
    if (platform::find_key(key)) return;
    std::vector<std::string> all;
    for (const auto& k : platform::platform_schema()) all.push_back(k.path);
    const std::string near = platform::closest(key, all);
    throw config_error(at(source, n), key, "not a platform key",
                       near.empty() ? "see docs/config-reference.md for the keys"
                                    : "did you mean '" + near + "'?");
}

std::vector<std::string> scalars(const std::string& source, const YAML::Node& n,
                                 const std::string& key) {
    if (!n.IsSequence() || n.size() == 0)
        throw config_error(at(source, n), key, "expected a non-empty list of values",
                           "write e.g. [8, 16, 32]");
    std::vector<std::string> v;
    for (const auto& e : n) {
        if (!e.IsScalar())
            throw config_error(at(source, e), key, "values are scalars", "write e.g. [8, 16]");
        v.push_back(e.Scalar());
    }
    return v;
}

/// "from, to, step" -> the values, inclusive of `to` when a step lands on it.
std::vector<std::string> range_values(const std::string& source, const YAML::Node& n,
                                      const std::string& key) {
    if (!n.IsMap())
        throw config_error(at(source, n), key, "a range is {from: A, to: B, step: S}",
                           "write e.g. {from: 8, to: 32, step: 8}");
    only_keys(source, n, key + ".", {"from", "to", "step"});
    double v[3];
    const char* names[] = {"from", "to", "step"};
    for (int i = 0; i < 3; ++i) {
        if (!n[names[i]])
            throw config_error(at(source, n), key + "." + names[i], "missing",
                               "a range needs from, to and step");
        try {
            v[i] = n[names[i]].as<double>();
        } catch (const YAML::Exception&) {
            throw config_error(at(source, n[names[i]]), key + "." + names[i], "not a number",
                               "ranges take plain numbers; use a list for values with units");
        }
    }
    if (v[2] <= 0 || v[1] < v[0])
        throw config_error(at(source, n), key, "needs from <= to and step > 0",
                           "write e.g. {from: 8, to: 32, step: 8}");
    std::vector<std::string> out;
    for (double x = v[0]; x <= v[1] + 1e-9 * std::fabs(v[2]); x += v[2]) {
        std::ostringstream s;
        s << x;
        out.push_back(s.str());
    }
    return out;
}

/// The points of one parameter group.
std::vector<settings> expand_group(const std::string& source, const YAML::Node& g,
                                   std::vector<std::string>& keys) {
    if (!g.IsMap() || g.size() != 1)
        throw config_error(at(source, g), "parameters",
                           "each entry is one of list, range, grid or zip",
                           "write e.g. - grid: {chip.cores: [8, 16], gm.bandwidth: [1TB/s]}");
    const std::string kind = g.begin()->first.as<std::string>();
    const YAML::Node body = g.begin()->second;
    only_keys(source, g, "parameters.", {"list", "range", "grid", "zip"});
    if (!body.IsMap() || body.size() == 0)
        throw config_error(at(source, body), "parameters." + kind, "expected keys and values",
                           "write e.g. " + kind + ": {chip.cores: [8, 16]}");
    if ((kind == "list" || kind == "range") && body.size() != 1)
        throw config_error(at(source, body), "parameters." + kind,
                           kind + " varies one key; use grid or zip for several");
    std::vector<std::pair<std::string, std::vector<std::string>>> axes;
    for (const auto& kv : body) {
        const std::string key = kv.first.as<std::string>();
        check_platform_key(source, kv.first, key);
        if (std::find(keys.begin(), keys.end(), key) != keys.end())
            throw config_error(at(source, kv.first), key, "varied twice",
                               "vary each key in one group only");
        keys.push_back(key);
        axes.emplace_back(key, kind == "range" ? range_values(source, kv.second, key)
                                               : scalars(source, kv.second, key));
    }
    std::vector<settings> out;
    if (kind == "zip") {
        const size_t n = axes[0].second.size();
        for (const auto& [k, v] : axes)
            if (v.size() != n)
                throw config_error(at(source, body[k]), k,
                                   "zip lists must have equal lengths (" +
                                       std::to_string(v.size()) + " here, " + std::to_string(n) +
                                       " for " + axes[0].first + ")");
        for (size_t i = 0; i < n; ++i) {
            settings s;
            for (const auto& [k, v] : axes) s.emplace_back(k, v[i]);
            out.push_back(s);
        }
        return out;
    }
    out.push_back({});
    for (const auto& [k, vals] : axes) {  // grid (list and range are a one-key grid)
        std::vector<settings> next;
        for (const auto& s : out)
            for (const auto& v : vals) {
                settings t = s;
                t.emplace_back(k, v);
                next.push_back(t);
            }
        out = std::move(next);
    }
    return out;
}

std::string resolve(const std::string& base_dir, const std::string& path) {
    // presets and built-in workloads are bare names; files are relative to the sweep file
    if (path.find('/') == std::string::npos && path.find(".y") == std::string::npos) return path;
    // absolute, so that cluster array tasks started elsewhere find them
    if (!path.empty() && path[0] == '/') return path;
    if (std::filesystem::exists(path)) return std::filesystem::absolute(path).string();
    return std::filesystem::absolute(base_dir + "/" + path).string();
}

}  // namespace

std::string sweep_point::label() const {
    std::string s;
    for (const auto& [k, v] : settings) s += k + "=" + v + " ";
    return s + "workload=" + workload;
}

sweep_spec load_sweep_text(const std::string& yaml, const std::string& source,
                           const std::string& base_dir) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::ParserException& e) {
        throw config_error(platform::source_position(source, e.mark.line, e.mark.column), "", e.msg,
                           "fix the YAML syntax");
    }
    if (!root.IsMap())
        throw config_error(source + ":1:1", "", "a sweep file is a mapping",
                           "start with 'schema: npusim.sweep/1'");
    only_keys(source, root, "",
              {"schema", "name", "platform", "workloads", "set", "parameters", "metrics",
               "timing_only", "timeout"});
    if (!root["schema"] || root["schema"].as<std::string>() != "npusim.sweep/1")
        throw config_error(at(source, root["schema"] ? root["schema"] : root), "schema",
                           "expected 'npusim.sweep/1'", "start with 'schema: npusim.sweep/1'");
    sweep_spec s;
    s.source = source;
    s.name = root["name"] ? root["name"].as<std::string>() : "sweep";
    s.platform = resolve(
        base_dir, root["platform"] ? root["platform"].as<std::string>() : std::string("ascend910"));
    if (!root["workloads"])
        throw config_error(at(source, root), "workloads", "missing",
                           "list the workloads, e.g. workloads: [configs/workloads/mlp.yaml]");
    for (const auto& w : root["workloads"].IsSequence()
                             ? root["workloads"]
                             : YAML::Node(std::vector<YAML::Node>{root["workloads"]}))
        s.workloads.push_back(resolve(base_dir, w.as<std::string>()));
    if (const auto set = root["set"]) {
        if (!set.IsMap())
            throw config_error(at(source, set), "set", "expected KEY: VALUE pairs",
                               "write e.g. set: {gm.bandwidth: 1.6TB/s}");
        for (const auto& kv : set) {
            check_platform_key(source, kv.first, kv.first.as<std::string>());
            s.sets.push_back(kv.first.as<std::string>() + "=" + kv.second.as<std::string>());
        }
    }
    std::vector<settings> combos{{}};
    if (const auto params = root["parameters"]) {
        if (!params.IsSequence())
            throw config_error(at(source, params), "parameters", "expected a list of groups",
                               "write e.g. parameters:\n    - grid: {chip.cores: [8, 16]}");
        for (const auto& g : params) {
            std::vector<settings> next;
            for (const auto& group : expand_group(source, g, s.parameters))
                for (const auto& c : combos) {
                    settings t = c;
                    t.insert(t.end(), group.begin(), group.end());
                    next.push_back(t);
                }
            combos = std::move(next);
        }
    }
    s.metrics = {"sim_time_ns"};
    if (const auto m = root["metrics"]) s.metrics = scalars(source, m, "metrics");
    if (const auto t = root["timing_only"]) s.timing_only = t.as<bool>();
    if (const auto t = root["timeout"]) {
        try {
            s.timeout_s = t.as<double>();
        } catch (const YAML::Exception&) {
            throw config_error(at(source, t), "timeout", "not a number of seconds",
                               "write e.g. timeout: 600");
        }
    }
    for (const auto& w : s.workloads)
        for (const auto& c : combos) {
            sweep_point p;
            p.index = unsigned(s.points.size());
            p.workload = w;
            p.settings = c;
            s.points.push_back(p);
        }
    return s;
}

sweep_spec load_sweep(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw config_error(file, "", "cannot open the sweep file", "check the path");
    std::stringstream ss;
    ss << in.rdbuf();
    const auto slash = file.rfind('/');
    return load_sweep_text(ss.str(), file,
                           slash == std::string::npos ? "." : file.substr(0, slash));
}

}  // namespace npusim::tools
