#include "sw/graph/workload.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "platform/config/config_error.h"
#include "platform/config/schema.h"
#include "platform/config/yaml_checks.h"
#include "sw/graph/sparse_structure.h"
#include "sw/ops/registry.h"

namespace npusim::graph {

using platform::config_error;
using platform::only_keys;
using platform::scalar_text;

namespace {

std::string at(const std::string& source, const YAML::Node& n) {
    return platform::yaml_position(source, n);
}

models::dtype parse_dtype(const std::string& source, const YAML::Node& n, const std::string& key) {
    const std::string text = scalar_text(source, n, key, "e.g. 'dtype: fp16'");
    std::vector<std::string> names;
    for (auto t : {models::dtype::fp32, models::dtype::fp16, models::dtype::bf16,
                   models::dtype::int32, models::dtype::int8}) {
        if (text == models::to_string(t)) return t;
        names.push_back(models::to_string(t));
    }
    throw config_error(at(source, n), key, "unknown dtype '" + text + "'",
                       "use one of " + platform::join_names(names));
}

ops::attr_value parse_attr(const std::string& source, const YAML::Node& n, const std::string& key) {
    if (n.IsSequence()) {
        std::vector<int64_t> v;
        for (const auto& e : n) {
            if (!e.IsScalar())
                throw config_error(at(source, e), key, "list attributes hold integers only",
                                   "write e.g. [1, 2]");
            v.push_back(platform::whole_number(source, e, key, std::numeric_limits<int64_t>::min(),
                                               std::numeric_limits<int64_t>::max()));
        }
        return v;
    }
    if (!n.IsScalar() || n.Scalar().empty())
        throw config_error(at(source, n), key,
                           "an attribute is a number, a boolean, a text or a list of integers, "
                           "not " +
                               platform::describe_node(n),
                           "write e.g. 'axis: -1'");
    const std::string text = n.Scalar();
    if (text == "true" || text == "false") return text == "true";
    // YAML's spellings of infinity and not-a-number, and what strtod would read as them.
    static const char* const non_finite[] = {".inf", "-.inf", "+.inf", ".Inf", "-.Inf", "+.Inf",
                                             ".INF", "-.INF", "+.INF", ".nan", ".NaN",  ".NAN"};
    for (const char* nf : non_finite)
        if (text == nf)
            throw config_error(at(source, n), key, "'" + text + "' is not a finite number",
                               "attributes take finite numbers");
    const char* s = text.c_str();
    char* end = nullptr;
    errno = 0;
    const long long i = std::strtoll(s, &end, 10);
    if (end != s && *end == '\0') {
        if (errno == ERANGE)
            throw config_error(at(source, n), key, "'" + text + "' does not fit in 64 bits",
                               "use a smaller whole number");
        return int64_t(i);
    }
    const double d = std::strtod(s, &end);
    if (end != s && *end == '\0') {
        if (!std::isfinite(d))
            throw config_error(at(source, n), key, "'" + text + "' is not a finite number",
                               "attributes take finite numbers");
        return d;
    }
    return text;
}

// A sparse operand's name -> its three tensors.
using sparse_names = std::map<std::string, std::vector<std::string>>;

std::vector<std::string> names_of(const std::string& source, const YAML::Node& n,
                                  const std::string& key, const std::set<std::string>& declared,
                                  const std::vector<std::string>& all,
                                  const sparse_names& sparse = {}, bool outputs = false,
                                  std::vector<YAML::Node>* origin = nullptr) {
    // An op's output need not be declared: its shape and dtype come from inference.
    if (!n || !n.IsSequence())
        throw config_error(n ? at(source, n) : source, key, "expected a list of tensor names",
                           "write e.g. [x, w]");
    std::vector<std::string> out;
    for (const auto& e : n) {
        const std::string name = scalar_text(source, e, key, "write a tensor name, e.g. [x, w]");
        if (!declared.count(name) && !outputs) {
            const std::string near = platform::closest(name, all);
            throw config_error(at(source, e), key, "tensor '" + name + "' is not declared",
                               near.empty() ? "declare it under tensors:, or write it as an "
                                              "earlier op's output"
                                            : "did you mean '" + near + "'?");
        }
        const auto parts = sparse.find(name);
        const size_t before = out.size();
        if (parts == sparse.end()) {
            out.push_back(name);
        } else if (outputs) {
            throw config_error(at(source, e), key,
                               "tensor '" + name + "' is sparse; a sparse tensor is an input",
                               "write the op's result to a dense tensor");
        } else {
            out.insert(out.end(), parts->second.begin(), parts->second.end());
        }
        if (origin) origin->insert(origin->end(), out.size() - before, e);
    }
    return out;
}

// Declares the outputs of `d` that no entry of tensors: declares, with the shapes and dtypes
// the op's inference gives (the declared ones are checked against it when the op is planned).
void infer_outputs(const std::string& source, const YAML::Node& o, const std::string& key,
                   const op_decl& d, workload& w, std::set<std::string>& declared,
                   std::vector<std::string>& all) {
    std::vector<size_t> missing;
    for (size_t j = 0; j < d.outputs.size(); ++j)
        if (!declared.count(d.outputs[j])) missing.push_back(j);
    if (missing.empty()) return;
    std::vector<memory::tensor_desc> inputs;
    for (const auto& n : d.inputs) {
        const tensor_decl& t = w.tensor(n);
        inputs.emplace_back(t.name, t.type, t.shape);
    }
    ops::op_call call;
    try {
        call = ops::library().call(d.op, inputs, d.attrs);
    } catch (const ops::op_error& e) {
        throw config_error(d.where, key, e.what(),
                           "the op's output '" + d.outputs[missing[0]] +
                               "' is not declared, so its shape comes from this call");
    }
    if (call.outputs.size() != d.outputs.size())
        throw config_error(at(source, o["outputs"]), key + ".outputs",
                           "op '" + d.op + "' gives " + std::to_string(call.outputs.size()) +
                               " outputs but " + std::to_string(d.outputs.size()) + " are named",
                           "name one tensor per output");
    for (size_t j : missing) {
        tensor_decl t;
        t.name = d.outputs[j];
        t.shape = call.outputs[j].shape();
        t.type = call.outputs[j].type();
        t.where = at(source, o["outputs"][j]);
        t.seed = uint64_t(w.tensors.size() + 1);
        declared.insert(t.name);
        all.push_back(t.name);
        w.tensors.push_back(std::move(t));
    }
}

// The three tensors of a sparse operand declared as `d` with `sparse: {...}`.
std::vector<tensor_decl> sparse_parts(const std::string& source, const YAML::Node& n,
                                      const std::string& tensor_key, const tensor_decl& d) {
    const std::string key = tensor_key + ".sparse";
    if (!n.IsMap())
        throw config_error(at(source, n), key, "expected a mapping",
                           "write e.g. 'sparse: {density: 0.05, block: [16, 16]}'");
    only_keys(source, n, key + ".", {"density", "block", "skew"});
    if (d.shape.size() != 2)
        throw config_error(d.where, tensor_key + ".shape",
                           "a sparse tensor is a matrix; its shape has 2 dimensions",
                           "write e.g. 'shape: [1024, 1024]'");
    if (d.type != models::dtype::fp16)
        throw config_error(d.where, tensor_key + ".dtype",
                           "a sparse tensor's values are fp16 (sparse_matmul's dtype)",
                           "write 'dtype: fp16'");
    if (d.init == tensor_init::none || d.init == tensor_init::randint)
        throw config_error(d.where, tensor_key + ".init",
                           "a sparse tensor's stored values need an init (random, ones, "
                           "constant or zeros)",
                           "add e.g. 'init: random'");
    sparse_layout l;
    l.rows = uint64_t(d.shape[0]);
    l.cols = uint64_t(d.shape[1]);
    l.seed = d.seed;
    if (!n["density"])
        throw config_error(at(source, n), key + ".density",
                           "missing: the fraction of the blocks that are stored",
                           "add e.g. 'density: 0.05'");
    l.density = platform::real_number(source, n["density"], key + ".density", 0, 1,
                                      "a fraction of the blocks, e.g. 0.05");
    if (n["block"]) {
        const YAML::Node& b = n["block"];
        if (!b.IsSequence() || b.size() != 2)
            throw config_error(at(source, b), key + ".block", "expected [rows, columns]",
                               "write e.g. 'block: [16, 16]', or [1, 1] for CSR");
        l.bm = uint64_t(platform::whole_number(source, b[0], key + ".block", 1, 4096));
        l.bk = uint64_t(platform::whole_number(source, b[1], key + ".block", 1, 4096));
    }
    if (l.rows % l.bm != 0 || l.cols % l.bk != 0)
        throw config_error(at(source, n), key + ".block",
                           "blocks of " + std::to_string(l.bm) + "x" + std::to_string(l.bk) +
                               " do not tile a " + std::to_string(l.rows) + "x" +
                               std::to_string(l.cols) + " matrix",
                           "pick a block whose sides divide the shape's");
    if (n["skew"])
        l.skew = platform::real_number(source, n["skew"], key + ".skew", 0, 8,
                                       "0 spreads the blocks evenly; s > 0 gives row block r a "
                                       "share proportional to (r + 1)^-s");
    const uint64_t grid = (l.rows / l.bm) * (l.cols / l.bk);
    if (double(grid) * l.density > double(INT32_MAX))
        throw config_error(at(source, n), key + ".density",
                           "more than 2^31 stored blocks; the indices are int32",
                           "use larger blocks or a lower density");
    return sparse_tensors(d, l);
}

}  // namespace

std::vector<tensor_decl> sparse_tensors(const tensor_decl& d, const sparse_layout& l) {
    const sparse_structure st =
        make_sparse_structure(l.rows / l.bm, l.cols / l.bk, l.density, l.skew, l.seed);
    std::vector<tensor_decl> parts(3, d);
    const char* names[] = {".values", ".columns", ".offsets"};
    const sparse_layout::part what[] = {sparse_layout::part::values, sparse_layout::part::columns,
                                        sparse_layout::part::offsets};
    for (int i = 0; i < 3; ++i) {
        parts[i].name = d.name + names[i];
        parts[i].sparse = l;
        parts[i].sparse.what = what[i];
        if (i > 0) {
            parts[i].type = models::dtype::int32;
            parts[i].init = tensor_init::sparse_index;
        }
    }
    parts[0].shape = {int64_t(st.columns.size()), int64_t(l.bm), int64_t(l.bk)};
    parts[1].shape = {int64_t(st.columns.size())};
    parts[2].shape = {int64_t(st.offsets.size())};
    return parts;
}

const tensor_decl& workload::tensor(const std::string& n) const {
    for (const auto& t : tensors)
        if (t.name == n) return t;
    throw std::out_of_range("no tensor '" + n + "' in workload '" + name + "'");
}

bool is_precision_level(const std::string& s, bool whole) {
    for (const char* l : {"fp32", "bf16", "fp16", "int8"})
        if (s == l) return true;
    return whole && (s == "declared" || s == "auto");
}

workload load_workload_text(const std::string& yaml, const std::string& source) {
    const YAML::Node root = platform::load_yaml(source, yaml);
    if (!root.IsMap())
        throw config_error(source, "", "a workload file is a mapping",
                           "start with 'schema: npusim.workload/1'");
    only_keys(source, root, "", {"schema", "name", "precision", "tensors", "ops"});
    if (!root["schema"] || !root["schema"].IsScalar() ||
        root["schema"].Scalar() != "npusim.workload/1")
        throw config_error(root["schema"] ? at(source, root["schema"]) : source + ":1:1", "schema",
                           "missing or unknown schema", "write 'schema: npusim.workload/1'");
    workload w;
    w.source = source;
    w.name =
        root["name"] ? scalar_text(source, root["name"], "name", "write e.g. 'name: mlp'") : source;
    if (root["precision"]) {
        w.precision_where = at(source, root["precision"]);
        w.precision = scalar_text(source, root["precision"], "precision",
                                  "use declared, fp32, bf16, fp16, int8 or auto");
        if (!is_precision_level(w.precision, true))
            throw config_error(w.precision_where, "precision",
                               "unknown precision '" + w.precision + "'",
                               "use declared (the dtypes as written), fp32, bf16, fp16, int8 "
                               "or auto (docs/precision.md)");
    }
    const YAML::Node tensors = root["tensors"];
    if (!tensors || !tensors.IsMap() || tensors.size() == 0)
        throw config_error(tensors ? at(source, tensors) : source, "tensors",
                           "a workload needs a mapping of tensors",
                           "write e.g. 'x: {shape: [4, 8], dtype: fp16}'");
    std::set<std::string> declared;
    std::vector<std::string> all;
    sparse_names sparse;
    for (const auto& kv : tensors) {
        const std::string name = platform::key_text(source, kv.first, "tensors");
        const std::string key = "tensors." + name;
        const YAML::Node& t = kv.second;
        if (!t.IsMap())
            throw config_error(at(source, kv.first), key, "a tensor is a mapping",
                               "write e.g. '{shape: [4, 8], dtype: fp16}'");
        only_keys(source, t, key + ".",
                  {"shape", "dtype", "init", "seed", "high", "scale", "mean", "value", "sparse"});
        tensor_decl d;
        d.name = name;
        d.where = at(source, kv.first);
        if (!t["shape"] || !t["shape"].IsSequence())
            throw config_error(d.where, key + ".shape", "missing or not a list",
                               "write e.g. 'shape: [4, 8]'");
        for (const auto& e : t["shape"])
            d.shape.push_back(platform::whole_number(source, e, key + ".shape", 0,
                                                     std::numeric_limits<int64_t>::max()));
        if (!t["dtype"])
            throw config_error(d.where, key + ".dtype", "missing", "e.g. 'dtype: fp16'");
        d.type = parse_dtype(source, t["dtype"], key + ".dtype");
        if (t["init"]) {
            const std::string init = scalar_text(source, t["init"], key + ".init",
                                                 "use random, zeros, ones, randint or constant");
            if (init == "random")
                d.init = tensor_init::random;
            else if (init == "zeros")
                d.init = tensor_init::zeros;
            else if (init == "ones")
                d.init = tensor_init::ones;
            else if (init == "randint")
                d.init = tensor_init::randint;
            else if (init == "constant")
                d.init = tensor_init::constant;
            else
                throw config_error(at(source, t["init"]), key + ".init",
                                   "unknown init '" + init + "'",
                                   "use random, zeros, ones, randint (with 'high') or constant "
                                   "(with 'value')");
        }
        if (d.init == tensor_init::randint) {
            if (!t["high"])
                throw config_error(d.where, key + ".high",
                                   "missing; init 'randint' draws integers 0..high-1",
                                   "e.g. 'high: 1000' for indices into a table of 1000 rows");
            // Drawn values are stored in the tensor's dtype: int32 bounds every integer type.
            d.high = platform::whole_number(
                source, t["high"], key + ".high", 1, std::numeric_limits<int32_t>::max(),
                "e.g. 'high: 1000' for indices into a table of 1000 rows");
        } else if (t["high"]) {
            throw config_error(at(source, t["high"]), key + ".high",
                               "only init 'randint' takes 'high'");
        }
        if (t["scale"]) {
            if (d.init != tensor_init::random)
                throw config_error(at(source, t["scale"]), key + ".scale",
                                   "only init 'random' takes 'scale'");
            // Drawn values must stay finite in the tensor's dtype (fp16 stops at 65504).
            const double max_scale =
                d.type == models::dtype::fp16 ? 65504.0 : double(std::numeric_limits<float>::max());
            d.scale =
                platform::real_number(source, t["scale"], key + ".scale", 1e-30, max_scale,
                                      "random values are uniform in [-scale, scale], e.g. 0.05");
        }
        // Values must stay finite in the tensor's dtype (fp16 stops at 65504).
        const double max_value =
            d.type == models::dtype::fp16 ? 65504.0 : double(std::numeric_limits<float>::max());
        if (t["mean"]) {
            if (d.init != tensor_init::random)
                throw config_error(at(source, t["mean"]), key + ".mean",
                                   "only init 'random' takes 'mean'");
            d.mean = platform::real_number(source, t["mean"], key + ".mean", -max_value, max_value,
                                           "random values are uniform in [mean - "
                                           "scale, mean + scale], e.g. mean: 1");
        }
        if (d.init == tensor_init::constant) {
            if (!t["value"])
                throw config_error(d.where, key + ".value",
                                   "missing; init 'constant' sets every element to 'value'",
                                   "add e.g. 'value: 0.05'");
            d.value = platform::real_number(source, t["value"], key + ".value", -max_value,
                                            max_value, "every element takes it, e.g. 0.05");
        } else if (t["value"]) {
            throw config_error(at(source, t["value"]), key + ".value",
                               "only init 'constant' takes 'value'");
        }
        d.seed = t["seed"] ? uint64_t(platform::whole_number(source, t["seed"], key + ".seed", 0,
                                                             std::numeric_limits<int64_t>::max()))
                           : uint64_t(w.tensors.size() + 1);
        try {  // catches a size that overflows, and names the tensor
            memory::tensor_desc(name, d.type, d.shape);
        } catch (const std::invalid_argument& e) {
            throw config_error(d.where, key + ".shape", e.what());
        }
        declared.insert(name);
        all.push_back(name);
        if (t["sparse"]) {
            for (auto& part : sparse_parts(source, t["sparse"], key, d)) {
                declared.insert(part.name);
                all.push_back(part.name);
                sparse[name].push_back(part.name);
                w.tensors.push_back(std::move(part));
            }
            continue;
        }
        w.tensors.push_back(std::move(d));
    }
    const YAML::Node op_list = root["ops"];
    if (!op_list || !op_list.IsSequence() || op_list.size() == 0)
        throw config_error(op_list ? at(source, op_list) : source, "ops",
                           "a workload needs a list of ops",
                           "write e.g. '- {op: matmul, inputs: [a, b], outputs: [c]}'");
    std::map<std::string, std::string> written;  // tensor -> where its writer is
    for (size_t i = 0; i < op_list.size(); ++i) {
        const YAML::Node& o = op_list[i];
        const std::string key = "ops[" + std::to_string(i) + "]";
        if (!o.IsMap())
            throw config_error(at(source, o), key, "an op is a mapping",
                               "write e.g. '{op: add, inputs: [x, y], outputs: [z]}'");
        only_keys(source, o, key + ".",
                  {"op", "inputs", "outputs", "attrs", "stream", "precision"});
        op_decl d;
        d.where = at(source, o);
        if (!o["op"])
            throw config_error(d.where, key + ".op", "missing", "name an op from `npusim ops`");
        d.op = scalar_text(source, o["op"], key + ".op", "name an op from `npusim ops`");
        try {
            ops::library().schema(d.op);
        } catch (const ops::op_error& e) {
            throw config_error(at(source, o["op"]), key + ".op", e.what());
        }
        std::vector<YAML::Node> input_nodes;  // the list entry each (expanded) input came from
        d.inputs = names_of(source, o["inputs"], key + ".inputs", declared, all, sparse, false,
                            &input_nodes);
        d.outputs = names_of(source, o["outputs"], key + ".outputs", declared, all, sparse, true);
        for (size_t j = 0; j < d.inputs.size(); ++j) {
            const tensor_decl& t = w.tensor(d.inputs[j]);
            if (t.init == tensor_init::none && !written.count(t.name))
                throw config_error(
                    at(source, input_nodes[j]), key + ".inputs",
                    "tensor '" + t.name + "' is read before any op writes it and has no init",
                    "give it 'init: random' or move its producer earlier");
        }
        for (size_t j = 0; j < d.outputs.size(); ++j) {
            const std::string& n = d.outputs[j];
            if (written.count(n) || (declared.count(n) && w.tensor(n).init != tensor_init::none))
                throw config_error(
                    at(source, o["outputs"][j]), key + ".outputs",
                    "tensor '" + n + "' is written twice" +
                        (written.count(n) ? " (first by the op at " + written[n] + ")"
                                          : " (it has an init)"),
                    "each tensor is written once: give this output a new tensor");
            written[n] = d.where;
        }
        if (o["attrs"]) {
            if (!o["attrs"].IsMap())
                throw config_error(at(source, o["attrs"]), key + ".attrs", "expected a mapping",
                                   "write e.g. '{axis: -1}'");
            for (const auto& kv : o["attrs"]) {
                const std::string name = platform::key_text(source, kv.first, key + ".attrs");
                d.attrs[name] = parse_attr(source, kv.second, key + ".attrs." + name);
            }
        }
        infer_outputs(source, o, key, d, w, declared, all);
        if (o["stream"])
            d.stream = scalar_text(source, o["stream"], key + ".stream", "write e.g. 'stream: s1'");
        if (o["precision"]) {
            d.precision = scalar_text(source, o["precision"], key + ".precision",
                                      "use fp32, bf16, fp16 or int8");
            if (!is_precision_level(d.precision, false))
                throw config_error(at(source, o["precision"]), key + ".precision",
                                   "unknown precision '" + d.precision + "'",
                                   "an op's precision is fp32, bf16, fp16 or int8");
        }
        w.ops.push_back(std::move(d));
    }
    return w;
}

namespace {

// A YAML scalar: plain when it is a simple name, else double-quoted.
std::string yaml_text(const std::string& s) {
    bool plain = !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_');
    for (char c : s)
        plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.');
    std::string lower = s;  // YAML 1.1's booleans and null, in any case
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    for (const char* word : {"true", "false", "null", "yes", "no", "on", "off", "y", "n"})
        plain = plain && lower != word;
    if (plain) return s;
    std::string q = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') q += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
            q += hex;
            continue;
        }
        q += c;
    }
    return q + "\"";
}

std::string yaml_number(double v) {
    char b[40];
    for (int digits = 6; digits <= 17; ++digits) {  // the shortest text that reads back as v
        std::snprintf(b, sizeof b, "%.*g", digits, v);
        if (std::strtod(b, nullptr) == v) break;
    }
    std::string s = b;
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // stays a real
    return s;
}

std::string yaml_list(const std::vector<int64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

std::string yaml_names(const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + yaml_text(v[i]);
    return s + "]";
}

}  // namespace

std::string to_yaml(const workload& w, const std::string& comment) {
    std::string y;
    for (size_t at = 0; !comment.empty() && at <= comment.size();) {
        const size_t end = std::min(comment.find('\n', at), comment.size());
        y += "# " + comment.substr(at, end - at) + "\n";
        at = end + 1;
    }
    y += "schema: npusim.workload/1\nname: " + yaml_text(w.name) + "\n";
    if (w.precision != "declared") y += "precision: " + w.precision + "\n";
    y += "tensors:\n";
    for (tensor_decl t : w.tensors) {
        if (t.init == tensor_init::none) continue;  // an op output: inferred
        if (t.init == tensor_init::sparse_index || t.sparse.what != sparse_layout::part::none ||
            t.quant_step > 0)
            throw std::invalid_argument("tensor '" + t.name +
                                        "' is generated by the loader and has no file form");
        if (t.init == tensor_init::data) {  // values have no file form: their magnitude does
            double m = 0;
            for (float v : *t.data) m = std::max(m, std::fabs(double(v)));
            char mag[32];  // 4 digits
            std::snprintf(mag, sizeof mag, "%.4g", std::min(std::max(m, 1e-6), 60000.0));
            m = m > 0 ? std::strtod(mag, nullptr) : 0;
            if (models::is_float(t.type)) {
                t.init = tensor_init::random;
                t.scale = m > 0 ? std::min(m, 60000.0) : 0.1;
                t.mean = 0;
            } else {
                t.init = tensor_init::randint;
                t.high = std::max<int64_t>(1, int64_t(m) + 1);
            }
        }
        y += "  " + yaml_text(t.name) + ": {shape: " + yaml_list(t.shape) +
             ", dtype: " + models::to_string(t.type);
        switch (t.init) {
            case tensor_init::random:
                y += ", init: random, scale: " + yaml_number(t.scale);
                if (t.mean != 0) y += ", mean: " + yaml_number(t.mean);
                break;
            case tensor_init::zeros:
                y += ", init: zeros";
                break;
            case tensor_init::ones:
                y += ", init: ones";
                break;
            case tensor_init::randint:
                y += ", init: randint, high: " + std::to_string(t.high);
                break;
            case tensor_init::constant:
                y += ", init: constant, value: " + yaml_number(t.value);
                break;
            default:
                break;
        }
        y += ", seed: " + std::to_string(t.seed) + "}\n";
    }
    y += "ops:\n";
    for (const auto& o : w.ops) {
        y += "  - {op: " + o.op + ", inputs: " + yaml_names(o.inputs) +
             ", outputs: " + yaml_names(o.outputs);
        if (!o.attrs.empty()) {
            y += ", attrs: {";
            bool first = true;
            for (const auto& [k, v] : o.attrs) {
                y += (first ? "" : ", ") + k + ": ";
                first = false;
                if (auto i = std::get_if<int64_t>(&v))
                    y += std::to_string(*i);
                else if (auto d = std::get_if<double>(&v))
                    y += yaml_number(*d);
                else if (auto b = std::get_if<bool>(&v))
                    y += *b ? "true" : "false";
                else if (auto s = std::get_if<std::string>(&v))
                    y += yaml_text(*s);
                else
                    y += yaml_list(std::get<std::vector<int64_t>>(v));
            }
            y += "}";
        }
        if (!o.stream.empty()) y += ", stream: " + yaml_text(o.stream);
        if (!o.precision.empty()) y += ", precision: " + o.precision;
        y += "}\n";
    }
    return y;
}

workload load_workload(const std::string& file) {
    std::ifstream in(file);
    if (!in)
        throw config_error(file, "", "cannot read the workload file",
                           "check the path; shipped workloads are in configs/workloads/");
    std::stringstream ss;
    ss << in.rdbuf();
    return load_workload_text(ss.str(), file);
}

}  // namespace npusim::graph
