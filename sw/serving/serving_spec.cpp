#include "sw/serving/serving_spec.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "platform/config/config_error.h"
#include "platform/config/yaml_checks.h"
#include "sw/kernel/attention_kernel.h"

namespace npusim::serving {

using platform::config_error;

namespace {

std::string read_file(const std::string& file, const std::string& what, const std::string& hint) {
    std::ifstream in(file);
    if (!in) throw config_error(file, "", "cannot read the " + what, hint);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// A path in the spec, relative to the spec's folder unless absolute.
std::string beside(const std::string& source, const std::string& path) {
    const std::filesystem::path p(path);
    if (p.is_absolute()) return path;
    return (std::filesystem::path(source).parent_path() / p).lexically_normal().string();
}

/// A file named by the spec: no control characters, relative to the spec's folder, and a
/// readable regular file (the error points at the key's line).
std::string file_value(const std::string& source, const YAML::Node& n, const std::string& key,
                       const std::string& hint) {
    const std::string text = platform::scalar_text(source, n, key, hint);
    for (unsigned char c : text)
        if (c < 0x20 || c == 0x7f)
            throw config_error(platform::yaml_position(source, n), key,
                               "the file name has a control character", hint);
    const std::string path = beside(source, text);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw config_error(platform::yaml_position(source, n), key,
                           "'" + path + "' is not a readable file", hint);
    return path;
}

/// Sets KEY.PATH=VALUE in `root`, creating maps on the way.
void apply_override(const std::string& source, YAML::Node root, const std::string& text) {
    const size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        throw config_error(source, text, "an override is KEY=VALUE",
                           "e.g. arrivals.poisson.rate=8 or scheduler.max_seqs=32");
    std::vector<std::string> path;
    std::stringstream keys(text.substr(0, eq));
    for (std::string k; std::getline(keys, k, '.');) path.push_back(k);
    YAML::Node value;
    try {
        value = YAML::Load(text.substr(eq + 1));
    } catch (const YAML::Exception&) {
        value = YAML::Node(text.substr(eq + 1));
    }
    std::vector<YAML::Node> chain{root};
    for (size_t i = 0; i + 1 < path.size(); ++i) {
        YAML::Node next = chain.back()[path[i]];
        if (!next || !next.IsMap()) chain.back()[path[i]] = YAML::Node(YAML::NodeType::Map);
        chain.push_back(chain.back()[path[i]]);
    }
    chain.back()[path.back()] = value;
}

}  // namespace

serving_spec load_serving_text(const std::string& yaml, const std::string& source,
                               const std::vector<std::string>& overrides) {
    YAML::Node root = platform::load_yaml(source, yaml);
    if (!root.IsMap())
        throw config_error(source + ":1:1", "", "a serving file is a mapping",
                           "start with 'schema: npusim.serving/1'");
    for (const auto& o : overrides) apply_override(source, root, o);
    auto pos = [&](const YAML::Node& n) { return platform::yaml_position(source, n); };
    platform::only_keys(
        source, root, "",
        {"schema", "name", "model", "platform", "platform_set", "arrivals", "scheduler", "seed"});
    if (!root["schema"] || !root["schema"].IsScalar() ||
        root["schema"].Scalar() != "npusim.serving/1")
        throw config_error(root["schema"] ? pos(root["schema"]) : source + ":1:1", "schema",
                           "missing or unknown schema", "write 'schema: npusim.serving/1'");
    serving_spec s;
    s.source = source;
    s.name = root["name"] ? platform::scalar_text(source, root["name"], "name", "e.g. 'name: x'")
                          : std::filesystem::path(source).stem().string();
    if (!root["model"])
        throw config_error(source + ":1:1", "model", "missing",
                           "name the model file, e.g. 'model: ../models/llama7b.yaml'");
    s.model_file = file_value(source, root["model"], "model",
                              "name a model file, e.g. 'model: ../models/llama7b.yaml'");
    s.model_where = pos(root["model"]);
    s.model = load_model(s.model_file);
    s.platform = "ascend910b1";
    if (root["platform"]) {
        s.platform = platform::scalar_text(source, root["platform"], "platform",
                                           "a preset name (npusim presets) or a platform file");
        if (s.platform.find('/') != std::string::npos ||
            s.platform.find(".yaml") != std::string::npos)
            s.platform = beside(source, s.platform);
    }
    if (const YAML::Node ps = root["platform_set"]) {
        if (!ps.IsMap())
            throw config_error(pos(ps), "platform_set", "must be a mapping of platform keys",
                               "e.g. 'platform_set: {gm.bandwidth: 1.2TB/s}'");
        for (auto it = ps.begin(); it != ps.end(); ++it) {
            const YAML::Node k = it->first, v = it->second;
            const std::string key = platform::key_text(source, k, "platform_set");
            s.platform_set.push_back(
                key + "=" +
                platform::scalar_text(source, v, "platform_set." + key, "a platform value"));
        }
    }
    // Arrivals: exactly one of poisson and trace.
    const YAML::Node arr = root["arrivals"];
    if (!arr || !arr.IsMap())
        throw config_error(arr ? pos(arr) : source + ":1:1", "arrivals", "missing or not a mapping",
                           "give 'arrivals: {poisson: {rate: 4, requests: 100, prompt_tokens: "
                           "512, output_tokens: 128}}' or 'arrivals: {trace: requests.csv}'");
    platform::only_keys(source, arr, "arrivals.", {"poisson", "trace"});
    if (bool(arr["poisson"]) == bool(arr["trace"]))
        throw config_error(pos(arr), "arrivals", "give exactly one of 'poisson' and 'trace'",
                           "a Poisson process (rate, requests, prompt_tokens, output_tokens) or "
                           "a trace file");
    if (const YAML::Node p = arr["poisson"]) {
        if (!p.IsMap())
            throw config_error(pos(p), "arrivals.poisson", "must be a mapping",
                               "e.g. {rate: 4, requests: 100, prompt_tokens: 512, "
                               "output_tokens: 128}");
        platform::only_keys(source, p, "arrivals.poisson.",
                            {"rate", "requests", "prompt_tokens", "output_tokens"});
        for (const char* k : {"rate", "requests", "prompt_tokens", "output_tokens"})
            if (!p[k])
                throw config_error(pos(p), std::string("arrivals.poisson.") + k, "missing",
                                   "a Poisson source needs rate, requests, prompt_tokens and "
                                   "output_tokens");
        s.rate = platform::real_number(source, p["rate"], "arrivals.poisson.rate", 1e-6, 1e6,
                                       "requests per second, e.g. 4");
        s.requests = unsigned(
            platform::whole_number(source, p["requests"], "arrivals.poisson.requests", 1, 1000000));
        s.prompt_tokens = unsigned(platform::whole_number(
            source, p["prompt_tokens"], "arrivals.poisson.prompt_tokens", 1, 1 << 20));
        s.output_tokens = unsigned(platform::whole_number(
            source, p["output_tokens"], "arrivals.poisson.output_tokens", 1, 1 << 20));
    } else {
        s.trace = file_value(source, arr["trace"], "arrivals.trace",
                             "a CSV file: time_s,prompt_tokens,output_tokens");
    }
    scheduler_settings& c = s.scheduler;
    if (const YAML::Node n = root["scheduler"]) {
        if (!n.IsMap())
            throw config_error(pos(n), "scheduler", "must be a mapping",
                               "e.g. 'scheduler: {max_batch_tokens: 4096, max_seqs: 64}'");
        platform::only_keys(
            source, n, "scheduler.",
            {"max_batch_tokens", "max_seqs", "mixing", "kv_cache", "block_tokens", "max_model_len",
             "memory_fraction", "kv_blocks", "batch_sizes", "attention_align"});
        auto whole = [&](const char* k, unsigned& out, int64_t lo, int64_t hi) {
            if (n[k])
                out = unsigned(
                    platform::whole_number(source, n[k], std::string("scheduler.") + k, lo, hi));
        };
        whole("max_batch_tokens", c.max_batch_tokens, 1, 1 << 24);
        whole("max_seqs", c.max_seqs, 1, 1 << 16);
        whole("block_tokens", c.block_tokens, 1, 1 << 16);
        whole("max_model_len", c.max_model_len, 1, 1 << 24);
        whole("attention_align", c.attention_align, 0, 1 << 16);
        if (n["kv_blocks"])
            c.kv_blocks = uint64_t(
                platform::whole_number(source, n["kv_blocks"], "scheduler.kv_blocks", 1, 1 << 30));
        if (n["memory_fraction"])
            c.memory_fraction = platform::real_number(source, n["memory_fraction"],
                                                      "scheduler.memory_fraction", 0.01, 1.0);
        auto choice = [&](const char* k, std::initializer_list<const char*> names) -> int {
            const std::string t =
                platform::scalar_text(source, n[k], std::string("scheduler.") + k, "");
            int i = 0;
            std::string all;
            for (const char* name : names) {
                if (t == name) return i;
                all += std::string(i++ ? ", " : "") + name;
            }
            throw config_error(pos(n[k]), std::string("scheduler.") + k,
                               "unknown value '" + t + "'", "use one of " + all);
        };
        if (n["mixing"])
            c.mix = choice("mixing", {"separate", "mixed"}) ? mixing::mixed : mixing::separate;
        if (n["kv_cache"])
            c.layout =
                choice("kv_cache", {"paged", "naive"}) ? cache_layout::naive : cache_layout::paged;
        if (const YAML::Node b = n["batch_sizes"]) {
            if (!b.IsSequence())
                throw config_error(pos(b), "scheduler.batch_sizes", "must be a list",
                                   "e.g. [1, 2, 4, 8, 16, 32], or [] for no padding");
            unsigned last = 0;
            for (size_t i = 0; i < b.size(); ++i) {
                const std::string key = fmt::format("scheduler.batch_sizes[{}]", i);
                const unsigned v = unsigned(platform::whole_number(source, b[i], key, 1, 1 << 16));
                if (v <= last)
                    throw config_error(pos(b[i]), key, "batch sizes must increase",
                                       "list them smallest first");
                c.batch_sizes.push_back(last = v);
            }
        } else {
            for (unsigned v : {1u, 2u, 4u})
                if (v <= c.max_seqs) c.batch_sizes.push_back(v);
            for (unsigned v = 8; v < c.max_seqs + 8; v += 8) c.batch_sizes.push_back(v);
        }
        if (c.layout == cache_layout::paged && c.block_tokens % 16 != 0)
            throw config_error(pos(n["block_tokens"] ? n["block_tokens"] : n),
                               "scheduler.block_tokens",
                               fmt::format("{} tokens per block; paged attention reads whole "
                                           "16-row fractals from a block",
                                           c.block_tokens),
                               "use a multiple of 16, e.g. 16 or 128");
        if (!c.batch_sizes.empty() && c.batch_sizes.back() < c.max_seqs)
            throw config_error(pos(n["batch_sizes"]), "scheduler.batch_sizes",
                               fmt::format("the largest batch size {} is below max_seqs {}",
                                           c.batch_sizes.back(), c.max_seqs),
                               "add a size of at least max_seqs");
    } else {
        c.batch_sizes = {1, 2, 4};
        for (unsigned v = 8; v <= c.max_seqs; v += 8) c.batch_sizes.push_back(v);
    }
    if (root["seed"])
        s.seed =
            uint64_t(platform::whole_number(source, root["seed"], "seed", 0, int64_t(1) << 62));
    return s;
}

serving_spec load_serving(const std::string& file, const std::vector<std::string>& overrides) {
    return load_serving_text(
        read_file(file, "serving file", "check the path; shipped ones are in configs/serving/"),
        file, overrides);
}

void check_fits(const serving_spec& spec, const platform::platform_config& p) {
    try {
        check_fits(spec.model, p);
    } catch (const config_error& e) {
        throw config_error(spec.model_where, "model", e.what(),
                           "serve it on a platform with more device memory (platform_set: "
                           "{gm.capacity: 64GiB}) or pick a smaller model");
    }
    const model_config& m = spec.model;
    try {
        kernel::tile_attention(p, {m.heads, m.kv_heads, 1, m.head_dim()});
    } catch (const std::invalid_argument& e) {
        throw config_error(spec.model_where, "model", fmt::format("prefill {}", e.what()),
                           "serve it on a platform with larger core buffers (L1, L0A, L0B, "
                           "L0C, UB) or pick a model with smaller heads");
    }
}

std::vector<request> load_trace_text(const std::string& csv, const std::string& source) {
    std::vector<request> out;
    std::stringstream in(csv);
    std::string line;
    unsigned n = 0;
    const std::string header = "time_s,prompt_tokens,output_tokens";
    while (std::getline(in, line)) {
        ++n;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const std::string where = fmt::format("{}:{}", source, n);
        if (n == 1) {
            if (line != header)
                throw config_error(where, "", "the first line must be the header '" + header + "'",
                                   "then one request per line: seconds, prompt and output tokens");
            continue;
        }
        if (line.empty()) continue;
        std::vector<std::string> f;
        std::stringstream cells(line);
        for (std::string c; std::getline(cells, c, ',');) f.push_back(c);
        if (f.size() != 3)
            throw config_error(where, "", fmt::format("{} fields, expected 3", f.size()),
                               "write time_s,prompt_tokens,output_tokens, e.g. 0.25,512,128");
        auto number = [&](const std::string& text, const char* col) {
            char* end = nullptr;
            errno = 0;
            const double v = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
                throw config_error(where, col, "'" + text + "' is not a number",
                                   "write a decimal number");
            return v;
        };
        request r;
        r.id = out.size();
        r.line = n;
        r.arrival = number(f[0], "time_s");
        if (r.arrival < 0)
            throw config_error(where, "time_s", "a negative time", "times count from 0");
        for (int i = 1; i <= 2; ++i) {
            const char* col = i == 1 ? "prompt_tokens" : "output_tokens";
            const double v = number(f[size_t(i)], col);
            if (v < 1 || v > (1 << 20) || v != std::floor(v))
                throw config_error(where, col,
                                   fmt::format("{} is not a whole number from 1 to "
                                               "1048576",
                                               f[size_t(i)]),
                                   "every request has at least one prompt and one output token");
            (i == 1 ? r.prompt : r.output) = unsigned(v);
        }
        if (!out.empty() && r.arrival < out.back().arrival)
            throw config_error(where, "time_s",
                               fmt::format("time {} is before the previous request's {} (line {})",
                                           f[0], out.back().arrival, out.back().line),
                               "sort the trace by time");
        out.push_back(r);
    }
    if (out.empty())
        throw config_error(source + ":1", "", "the trace has no requests",
                           "add one request per line after the header");
    return out;
}

std::vector<request> make_requests(const serving_spec& spec) {
    std::vector<request> out;
    if (!spec.trace.empty()) {
        out = load_trace_text(read_file(spec.trace, "trace", "check the path in arrivals.trace"),
                              spec.trace);
    } else {
        // Exponential gaps by inversion from 53 random bits: the same on every standard library.
        std::mt19937_64 rng(spec.seed);
        double t = 0;
        for (unsigned i = 0; i < spec.requests; ++i) {
            const double u = double(rng() >> 11) * 0x1.0p-53;
            if (i) t += -std::log1p(-u) / spec.rate;
            out.push_back({i, t, spec.prompt_tokens, spec.output_tokens, 0});
        }
    }
    const scheduler_settings& c = spec.scheduler;
    for (const request& r : out) {
        const std::string where = r.line ? fmt::format("{}:{}", spec.trace, r.line) : spec.source;
        if (r.prompt + r.output > c.max_model_len)
            throw config_error(where, r.line ? "prompt_tokens" : "arrivals.poisson",
                               fmt::format("request {} needs {} tokens, more than max_model_len {}",
                                           r.id, r.prompt + r.output, c.max_model_len),
                               "raise scheduler.max_model_len or shorten the request");
        if (r.prompt + r.output - 1 > c.max_batch_tokens)
            throw config_error(where, r.line ? "prompt_tokens" : "arrivals.poisson",
                               fmt::format("request {}'s prefill of up to {} tokens exceeds "
                                           "max_batch_tokens {}, so it could never run",
                                           r.id, r.prompt + r.output - 1, c.max_batch_tokens),
                               "raise scheduler.max_batch_tokens");
    }
    return out;
}

}  // namespace npusim::serving
