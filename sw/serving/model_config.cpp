#include "sw/serving/model_config.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "platform/config/config_error.h"
#include "platform/config/yaml_checks.h"

namespace npusim::serving {

using platform::config_error;

uint64_t model_config::parameters() const {
    const uint64_t h = hidden, kv = uint64_t(kv_heads) * head_dim();
    const uint64_t per_layer = 2 * h * h + 2 * h * kv + 3 * h * ffn + 2 * h;
    return layers * per_layer + 2 * uint64_t(vocab) * h + h;
}

uint64_t model_config::weight_bytes() const {
    return parameters() * models::dtype_size(dtype);
}

uint64_t model_config::kv_bytes_per_token() const {
    return 2ull * layers * kv_heads * head_dim() * models::dtype_size(dtype);
}

kv_cache_config model_config::kv_cache(unsigned block_tokens, uint64_t max_blocks) const {
    kv_cache_config c;
    c.layers = layers;
    c.kv_heads = kv_heads;
    c.head_dim = head_dim();
    c.dtype_bytes = models::dtype_size(dtype);
    c.block_tokens = block_tokens;
    c.max_blocks = max_blocks;
    return c;
}

model_config load_model_text(const std::string& yaml, const std::string& source) {
    const YAML::Node root = platform::load_yaml(source, yaml);
    if (!root.IsMap())
        throw config_error(source + ":1:1", "", "a model file is a mapping",
                           "start with 'schema: npusim.model/1'");
    platform::only_keys(
        source, root, "",
        {"schema", "name", "layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "dtype"});
    auto pos = [&](const YAML::Node& n) { return platform::yaml_position(source, n); };
    if (!root["schema"] || !root["schema"].IsScalar() ||
        root["schema"].Scalar() != "npusim.model/1")
        throw config_error(root["schema"] ? pos(root["schema"]) : source + ":1:1", "schema",
                           "missing or unknown schema", "write 'schema: npusim.model/1'");
    model_config m;
    m.source = source;
    auto number = [&](const char* key, unsigned& out, bool required, int64_t hi) {
        const YAML::Node n = root[key];
        if (!n) {
            if (required)
                throw config_error(
                    source + ":1:1", key, "missing",
                    std::string("give the model's ") + key + ", e.g. '" + key + ": 32'");
            return;
        }
        out = unsigned(platform::whole_number(source, n, key, 1, hi));
    };
    m.name = root["name"]
                 ? platform::scalar_text(source, root["name"], "name", "e.g. 'name: llama7b'")
                 : "model";
    number("layers", m.layers, true, 1000);
    number("hidden", m.hidden, true, 1 << 20);
    number("heads", m.heads, true, 4096);
    m.kv_heads = m.heads;
    number("kv_heads", m.kv_heads, false, 4096);
    number("ffn", m.ffn, true, 1 << 22);
    number("vocab", m.vocab, true, 1 << 24);
    if (root["dtype"]) {
        const std::string t =
            platform::scalar_text(source, root["dtype"], "dtype", "e.g. 'dtype: fp16'");
        if (t == "fp16")
            m.dtype = models::dtype::fp16;
        else if (t == "bf16")
            m.dtype = models::dtype::bf16;
        else if (t == "fp32")
            m.dtype = models::dtype::fp32;
        else
            throw config_error(pos(root["dtype"]), "dtype", "unknown dtype '" + t + "'",
                               "use one of fp16, bf16, fp32");
    }
    if (m.hidden % m.heads != 0)
        throw config_error(
            pos(root["heads"]), "heads",
            fmt::format("hidden {} is not a multiple of heads {}", m.hidden, m.heads),
            "heads must divide hidden (head_dim = hidden / heads)");
    if (m.heads % m.kv_heads != 0)
        throw config_error(
            pos(root["kv_heads"] ? root["kv_heads"] : root["heads"]), "kv_heads",
            fmt::format("heads {} is not a multiple of kv_heads {}", m.heads, m.kv_heads),
            "kv_heads must divide heads (each KV head serves a group of query "
            "heads)");
    return m;
}

model_config load_model(const std::string& file) {
    std::ifstream in(file);
    if (!in)
        throw config_error(file, "", "cannot read the model file",
                           "check the path; shipped models are in configs/models/");
    std::stringstream ss;
    ss << in.rdbuf();
    return load_model_text(ss.str(), file);
}

void check_fits(const model_config& m, const platform::platform_config& p) {
    if (m.weight_bytes() <= p.gm.capacity) return;
    const auto where = p.where.find("gm.capacity");
    throw config_error(
        m.source, "",
        fmt::format("model '{}' needs {:.2f} GiB of weights ({} parameters in {}), but device "
                    "memory is {:.2f} GiB (gm.capacity, {})",
                    m.name, m.weight_bytes() / 1073741824.0, m.parameters(),
                    models::to_string(m.dtype), p.gm.capacity / 1073741824.0,
                    where == p.where.end() ? p.source : where->second),
        "use a platform with more device memory (e.g. --set gm.capacity=64GiB) or a smaller "
        "model");
}

}  // namespace npusim::serving
