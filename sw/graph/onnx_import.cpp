#include "sw/graph/onnx_import.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "platform/config/config_error.h"
#include "platform/config/schema.h"
#include "sw/ops/registry.h"

namespace npusim::graph {

using platform::config_error;

namespace {

// The ONNX operators the importer maps (for errors: the nearest one to an unsupported type).
const std::vector<std::string>& supported_ops() {
    static const std::vector<std::string> ops = {"Add",
                                                 "AveragePool",
                                                 "BatchNormalization",
                                                 "Cast",
                                                 "Constant",
                                                 "Conv",
                                                 "Div",
                                                 "Dropout",
                                                 "Exp",
                                                 "Flatten",
                                                 "Gather",
                                                 "Gelu",
                                                 "Gemm",
                                                 "GlobalAveragePool",
                                                 "Identity",
                                                 "LayerNormalization",
                                                 "MatMul",
                                                 "Max",
                                                 "MaxPool",
                                                 "Min",
                                                 "Mul",
                                                 "ReduceMax",
                                                 "ReduceMean",
                                                 "ReduceSum",
                                                 "Relu",
                                                 "Reshape",
                                                 "Sigmoid",
                                                 "Softmax",
                                                 "Squeeze",
                                                 "Sub",
                                                 "Tanh",
                                                 "Transpose",
                                                 "Unsqueeze"};
    return ops;
}

// The element count, or -1 when a dimension is negative or the count overflows.
int64_t numel(const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (int64_t d : shape)
        if (d < 0 || __builtin_mul_overflow(n, d, &n)) return -1;
    return n;
}

class importer {
  public:
    importer(const onnx::ModelProto& m, std::string source, const onnx_options& opt)
        : m_g(m.graph()), m_src(std::move(source)), m_opt(opt) {}

    workload import() {
        m_w.name = m_g.name().empty() ? m_src : m_g.name();
        m_w.source = m_src;
        for (const auto& t : m_g.initializer()) m_const[t.name()] = &t;
        for (int i = 0; i < m_g.node_size(); ++i) {
            const auto& n = m_g.node(i);
            if (n.output_size() == 0) fail(i, "the node has no output");
            for (const auto& in : n.input())
                if (!in.empty()) ++m_uses[in], m_consumer[in] = i;
            for (const auto& out : n.output()) m_producer[out] = i;
            if (n.op_type() == "Constant") take_constant(i);
        }
        for (const auto& o : m_g.output()) ++m_uses[o.name()];
        mark_fusable_transposes();
        for (const auto& in : m_g.input())
            if (!m_const.count(in.name())) declare_input(in);
        for (int i = 0; i < m_g.node_size(); ++i)
            if (!m_skip.count(i)) node(i);
        if (m_w.ops.empty())
            throw config_error(m_src, "", "the model's graph has no node the importer maps",
                               "export a model with at least one operator");
        return std::move(m_w);
    }

  private:
    // --- errors and lookups ---
    std::string where(int i) const {
        const auto& n = m_g.node(i);
        return m_src + ": node " + std::to_string(i) + " '" + n.name() + "' (" + n.op_type() + ")";
    }
    [[noreturn]] void fail(int i, const std::string& what, const std::string& hint = "") const {
        throw config_error(where(i), "", what, hint);
    }
    const onnx::AttributeProto* attr(int i, const std::string& name) const {
        for (const auto& a : m_g.node(i).attribute())
            if (a.name() == name) return &a;
        return nullptr;
    }
    int64_t int_attr(int i, const std::string& name, int64_t def) const {
        const auto* a = attr(i, name);
        return a ? a->i() : def;
    }
    float float_attr(int i, const std::string& name, float def) const {
        const auto* a = attr(i, name);
        return a ? a->f() : def;
    }
    std::vector<int64_t> ints_attr(int i, const std::string& name, std::vector<int64_t> def) const {
        const auto* a = attr(i, name);
        return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : def;
    }
    std::string string_attr(int i, const std::string& name, const std::string& def) const {
        const auto* a = attr(i, name);
        return a ? a->s() : def;
    }
    const std::string& in(int i, int k) const {
        static const std::string none;
        const auto& n = m_g.node(i);
        return k < n.input_size() ? n.input(k) : none;
    }
    const std::string& out(int i) const { return m_g.node(i).output(0); }
    // The workload tensor an ONNX value is (through Identity and Dropout).
    std::string value(const std::string& name) const {
        auto it = m_alias.find(name);
        return it == m_alias.end() ? name : it->second;
    }
    // The one node that reads `name`, or -1 (none, several, or a graph output).
    int sole_consumer(const std::string& name) const {
        auto u = m_uses.find(name);
        auto c = m_consumer.find(name);  // none when the one use is as a graph output
        return u == m_uses.end() || u->second != 1 || c == m_consumer.end() ? -1 : c->second;
    }
    int producer(const std::string& name) const {
        auto p = m_producer.find(name);
        return p == m_producer.end() ? -1 : p->second;
    }

    // --- tensors ---
    models::dtype dtype_of(int32_t elem, const std::string& what) const {
        switch (elem) {
            case onnx::TensorProto::FLOAT:
                return m_opt.float_type;
            case onnx::TensorProto::FLOAT16:
                return models::dtype::fp16;
            case onnx::TensorProto::BFLOAT16:
                return models::dtype::bf16;
            case onnx::TensorProto::INT32:
            case onnx::TensorProto::INT64:
                return models::dtype::int32;
            case onnx::TensorProto::INT8:
                return models::dtype::int8;
            default:
                throw config_error(m_src, "",
                                   what + " has ONNX element type " + std::to_string(elem) +
                                       ", which npusim has not",
                                   "use float, float16, bfloat16, int8, int32 or int64 tensors");
        }
    }
    bool declared(const std::string& n) const { return m_names.count(n) > 0; }
    const tensor_decl& tensor(const std::string& n) const { return m_w.tensor(value(n)); }
    const std::vector<int64_t>& shape(const std::string& n) const { return tensor(n).shape; }
    std::string fresh(const std::string& base) {
        std::string n = base;
        for (int k = 2; declared(n) || m_producer.count(n) || m_const.count(n); ++k)
            n = base + "_" + std::to_string(k);
        return n;
    }
    void add_tensor(tensor_decl t) {
        t.seed = ++m_seeds;  // 1, 2, ... in order of first use, as the shipped files number them
        m_names.insert(t.name);
        m_w.tensors.push_back(std::move(t));
    }
    void declare_input(const onnx::ValueInfoProto& v) {
        tensor_decl t;
        t.name = v.name();
        t.where = m_src + ": graph input '" + v.name() + "'";
        if (!v.type().has_tensor_type())
            throw config_error(t.where, "", "a graph input is not a tensor", "export tensors only");
        const auto& tt = v.type().tensor_type();
        t.type = dtype_of(tt.elem_type(), "graph input '" + v.name() + "'");
        for (const auto& d : tt.shape().dim()) {
            if (!d.has_dim_value())
                throw config_error(t.where, "",
                                   "dimension '" + d.dim_param() + "' has no fixed size",
                                   "export the model with fixed input shapes (e.g. batch 1)");
            if (d.dim_value() < 0)
                throw config_error(t.where, "", "a dimension is negative", "export it again");
            t.shape.push_back(d.dim_value());
        }
        if (!models::is_float(t.type)) {
            t.init = tensor_init::randint;
            t.high = 1;  // raised by a Gather that indexes with it
        } else {
            t.init = tensor_init::random;
        }
        add_tensor(std::move(t));
    }
    // The numbers of a constant (float or integer), for magnitudes, shapes and axes.
    std::vector<double> numbers(const onnx::TensorProto& t) const {
        std::vector<double> v;
        const std::string& raw = t.raw_data();
        auto from_raw = [&](auto sample) {
            using T = decltype(sample);
            for (size_t k = 0; k + sizeof(T) <= raw.size(); k += sizeof(T)) {
                T x;
                std::memcpy(&x, raw.data() + k, sizeof(T));
                v.push_back(double(x));
            }
        };
        switch (t.data_type()) {
            case onnx::TensorProto::FLOAT:
                if (!raw.empty()) from_raw(float{});
                for (float x : t.float_data()) v.push_back(x);
                break;
            case onnx::TensorProto::INT64:
                if (!raw.empty()) from_raw(int64_t{});
                for (int64_t x : t.int64_data()) v.push_back(double(x));
                break;
            case onnx::TensorProto::INT32:
                if (!raw.empty()) from_raw(int32_t{});
                for (int32_t x : t.int32_data()) v.push_back(x);
                break;
            case onnx::TensorProto::DOUBLE:
                if (!raw.empty()) from_raw(double{});
                for (double x : t.double_data()) v.push_back(x);
                break;
            default:
                break;  // fp16/bf16 constants: magnitude unknown, shapes never
        }
        return v;
    }
    std::vector<int64_t> const_ints(int i, const std::string& name) const {
        auto c = m_const.find(name);
        if (c == m_const.end())
            fail(i, "input '" + name + "' must be a constant (an initializer or Constant)",
                 "fold the shapes when exporting (torch.onnx.export does by default)");
        std::vector<int64_t> out;
        for (double x : numbers(*c->second)) out.push_back(int64_t(x));
        return out;
    }
    std::vector<int64_t> dims(const std::string& name) const {
        const auto& c = *m_const.at(name);
        std::vector<int64_t> d(size_t(c.dims_size()));
        for (int i = 0; i < c.dims_size(); ++i) d[size_t(i)] = c.dims(i);
        return d;
    }
    // The values of constant `name` when the file holds one per element, else none (a model
    // written with shapes only).
    std::vector<float> values(const std::string& name) const {
        const std::vector<double> v = numbers(*m_const.at(name));
        const int64_t n = numel(dims(name));
        if (n < 0 || int64_t(v.size()) != n) return {};
        return std::vector<float>(v.begin(), v.end());
    }
    // Declares constant `name` on first use, as `as` (its own name by default) with `shape`
    // (its own by default) and values `vals` (its own by default); returns the tensor's name.
    // Without values it is drawn at random with the constant's magnitude.
    std::string use_const(int i, const std::string& name, std::vector<int64_t> shape = {},
                          const std::string& as = "", const std::vector<float>* vals = nullptr) {
        const onnx::TensorProto& c = *m_const.at(name);
        const std::string n = as.empty() ? name : as;
        if (declared(n)) return n;
        tensor_decl t;
        t.name = n;
        t.where = where(i);
        t.type = dtype_of(c.data_type(), "constant '" + name + "'");
        if (shape.empty()) shape = dims(name);
        if (shape.empty()) shape = {1};
        t.shape = shape;
        std::vector<float> v = vals ? *vals : values(name);
        if (!v.empty() && int64_t(v.size()) == numel(shape)) {
            t.init = tensor_init::data;
            t.data = std::make_shared<const std::vector<float>>(std::move(v));
        } else if (!models::is_float(t.type)) {
            t.init = tensor_init::randint;
            t.high = 1;
        } else {
            t.init = tensor_init::random;
            double m = 0;
            for (double x : numbers(c)) m = std::max(m, std::fabs(x));
            t.scale = m > 0 && std::isfinite(m)
                          ? std::stod(fmt::format("{:.4g}", std::min(std::max(m, 1e-6), 60000.0)))
                          : 0.1;
        }
        add_tensor(std::move(t));
        return n;
    }
    // Batch norm's per-channel scale and shift, gamma / sqrt(var + eps) and
    // beta - mean * scale, folding in a preceding bias; empty without every value.
    std::pair<std::vector<float>, std::vector<float>> bn_affine(int bn, int64_t channels,
                                                                const std::string& bias) {
        const auto g = values(in(bn, 1)), b = values(in(bn, 2)), mu = values(in(bn, 3)),
                   var = values(in(bn, 4));
        const auto cb = bias.empty() ? std::vector<float>(size_t(channels), 0.f) : values(bias);
        for (const auto* v : {&g, &b, &mu, &var, &cb})
            if (int64_t(v->size()) != channels) return {};
        const double eps = float_attr(bn, "epsilon", 1e-5f);
        std::vector<float> scale(static_cast<size_t>(channels)), shift(scale.size());
        for (size_t c = 0; c < scale.size(); ++c) {
            scale[c] = float(g[c] / std::sqrt(double(var[c]) + eps));
            shift[c] = float(b[c] + (double(cb[c]) - mu[c]) * scale[c]);
        }
        return {scale, shift};
    }
    // The workload tensor for input k of node i: a constant is declared on first use.
    std::string operand(int i, int k) {
        const std::string& n = in(i, k);
        if (n.empty()) fail(i, "input " + std::to_string(k) + " is missing");
        if (m_const.count(n)) return use_const(i, n);
        const std::string v = value(n);
        if (!declared(v))
            fail(i,
                 "input '" + n +
                     "' is neither a graph input, an initializer nor an earlier "
                     "node's output",
                 "the graph must be topologically sorted");
        return v;
    }
    void take_constant(int i) {
        const auto* a = attr(i, "value");
        if (!a || !a->has_t())
            fail(i, "only Constant nodes with a 'value' tensor are supported",
                 "export constants as initializers");
        m_const[out(i)] = &a->t();
        m_skip.insert(i);
    }

    // --- ops ---
    // Emits op `op` on `inputs` writing `output`, which takes the shape the op infers.
    void emit(int i, const std::string& op, const std::vector<std::string>& inputs,
              const ops::attr_map& attrs, const std::string& output) {
        std::vector<memory::tensor_desc> descs;
        ops::op_call call;
        try {
            for (const auto& n : inputs) {
                const tensor_decl& t = m_w.tensor(n);
                descs.emplace_back(t.name, t.type, t.shape);  // throws on a bad shape
            }
            call = ops::library().call(op, descs, attrs);
        } catch (const ops::op_error& e) {
            fail(i, "maps to npusim op '" + op + "', which refuses it: " + e.what());
        } catch (const std::invalid_argument& e) {
            fail(i, e.what(), "check the model's shapes");
        }
        tensor_decl t;
        t.name = output;
        t.where = where(i);
        t.shape = call.outputs[0].shape();
        t.type = call.outputs[0].type();
        m_names.insert(output);
        m_w.tensors.push_back(std::move(t));
        op_decl d;
        d.op = op;
        d.inputs = inputs;
        d.outputs = {output};
        d.attrs = attrs;
        d.where = where(i);
        m_w.ops.push_back(std::move(d));
    }
    std::vector<int64_t> symmetric_pads(int i) const {
        const std::string auto_pad = string_attr(i, "auto_pad", "NOTSET");
        if (auto_pad != "NOTSET" && auto_pad != "VALID")
            fail(i, "auto_pad " + auto_pad + " is not supported",
                 "export with explicit pads (auto_pad NOTSET)");
        const auto p = ints_attr(i, "pads", {0, 0, 0, 0});
        if (p.size() != 4 || p[0] != p[2] || p[1] != p[3])
            fail(i, "pads must be 4 values with top = bottom and left = right",
                 "npusim's conv2d and pooling pad symmetrically");
        return {p[0], p[1]};
    }

    void conv(int i) {
        const std::string x = operand(i, 0), wname = in(i, 1);
        const std::vector<int64_t> ws = m_const.count(wname) ? dims(wname) : shape(operand(i, 1));
        if (shape(x).size() != 4 || ws.size() != 4)
            fail(i,
                 "only 2-D convolutions (NCHW input, [Cout, Cin/groups, kH, kW] weight) are "
                 "supported");
        const int64_t cout = ws[0];
        ops::attr_map attrs{{"stride", ints_attr(i, "strides", {1, 1})},
                            {"padding", symmetric_pads(i)}};
        const auto dil = ints_attr(i, "dilations", {1, 1});
        if (dil != std::vector<int64_t>{1, 1}) attrs["dilation"] = dil;
        if (const int64_t g = int_attr(i, "group", 1); g != 1) attrs["groups"] = g;
        // A following BatchNormalization (the conv's only reader) folds into the weights and
        // a per-channel bias, as inference compilers do; so does the conv's own bias.
        const int bn = sole_consumer(out(i));
        const bool fold = bn >= 0 && m_g.node(bn).op_type() == "BatchNormalization";
        const std::string& bias = in(i, 2);
        if (fold) {
            m_skip.insert(bn);
            for (int k = 1; k <= 4; ++k)
                if (!m_const.count(in(bn, k)))
                    fail(bn,
                         "BatchNormalization after a Conv needs constant scale, bias, mean "
                         "and variance to fold");
            if (!bias.empty() && !m_const.count(bias)) fail(i, "the bias must be a constant");
        }
        // With every value in the file the weights are scaled for real; without, shapes only.
        std::vector<float> w_folded, shift;
        if (fold && m_const.count(wname)) {
            auto [scale, sh] = bn_affine(bn, cout, bias);
            w_folded = values(wname);
            if (!scale.empty() && !w_folded.empty()) {
                const size_t per = w_folded.size() / size_t(cout);
                for (size_t k = 0; k < w_folded.size(); ++k) w_folded[k] *= scale[k / per];
                shift = std::move(sh);
            } else {
                w_folded.clear();
            }
        }
        const std::string w =
            !w_folded.empty()
                ? use_const(i, wname, {}, declared(wname) ? fresh(wname) : "", &w_folded)
                : operand(i, 1);
        if (!fold && bias.empty()) {
            emit(i, "conv2d", {x, w}, attrs, out(i));
            return;
        }
        const std::string raw = fresh(out(i) + "_conv");
        emit(i, "conv2d", {x, w}, attrs, raw);
        const int owner = fold ? bn : i;
        const std::string name = fold ? in(bn, 2) : bias;
        if (!m_const.count(name)) fail(owner, "'" + name + "' must be a constant");
        if (numel(dims(name)) != cout)
            fail(owner,
                 "'" + name + "' must hold one value per channel (" + std::to_string(cout) + ")");
        const std::string b =
            use_const(owner, name, {1, cout, 1, 1}, fresh(fold ? out(bn) + "_bias" : name),
                      shift.empty() ? nullptr : &shift);
        emit(i, "add", {raw, b}, {}, fold ? out(bn) : out(i));
    }
    void batchnorm(int i) {
        const std::string x = operand(i, 0);
        if (shape(x).size() < 2) fail(i, "the input needs a channel dimension");
        const int64_t c = shape(x)[1];
        std::vector<int64_t> cs = {1, c};
        for (size_t k = 2; k < shape(x).size(); ++k) cs.push_back(1);
        for (int k = 1; k <= 4; ++k)
            if (!m_const.count(in(i, k)))
                fail(i, "BatchNormalization needs constant scale, bias, mean and variance");
        auto [scale, shift] = bn_affine(i, c, "");
        const std::string s =
            use_const(i, in(i, 1), cs, fresh(out(i) + "_scale"), scale.empty() ? nullptr : &scale);
        const std::string t =
            use_const(i, in(i, 2), cs, fresh(out(i) + "_shift"), shift.empty() ? nullptr : &shift);
        const std::string scaled = fresh(out(i) + "_scaled");
        emit(i, "mul", {x, s}, {}, scaled);
        emit(i, "add", {scaled, t}, {}, out(i));
    }
    // MatMul (and Gemm): transposes read through attributes, a 1-D constant added by the only
    // reader fused as matmul_bias.
    void matmul(int i, bool gemm) {
        std::string a = operand(i, 0), b;
        ops::attr_map attrs;
        if (gemm) {
            if (float_attr(i, "alpha", 1) != 1 || float_attr(i, "beta", 1) != 1)
                fail(i, "Gemm with alpha or beta other than 1 is not supported",
                     "fold the scale into the weights when exporting");
            if (int_attr(i, "transA", 0)) attrs["transpose_a"] = true;
        }
        const std::string& bn = in(i, 1);
        const int tp = producer(bn);
        if (gemm && int_attr(i, "transB", 0)) {
            if (m_const.count(bn)) {  // a constant weight is stored transposed, as ATC does
                std::vector<int64_t> s(m_const.at(bn)->dims().begin(),
                                       m_const.at(bn)->dims().end());
                if (s.size() != 2) fail(i, "Gemm's B must be a matrix");
                std::vector<float> v = values(bn), t;
                for (int64_t r = 0; r < s[1] && !v.empty(); ++r)  // [N, K] -> [K, N]
                    for (int64_t q = 0; q < s[0]; ++q) t.push_back(v[size_t(q * s[1] + r)]);
                b = use_const(i, bn, {s[1], s[0]}, "", t.empty() ? nullptr : &t);
            } else {
                b = operand(i, 1);
                attrs["transpose_b"] = true;
            }
        } else if (!gemm && tp >= 0 && m_fused_transpose.count(tp)) {
            b = operand(tp, 0);
            attrs["transpose_b"] = true;
        } else {
            b = operand(i, 1);
        }
        if (shape(a).size() < 2 || shape(b).size() < 2)
            fail(i, "both operands must have at least 2 dimensions");
        const int64_t n =
            attrs.count("transpose_b") ? shape(b)[shape(b).size() - 2] : shape(b).back();
        std::string bias, result = out(i);
        if (gemm && !in(i, 2).empty()) {
            if (!m_const.count(in(i, 2)) ||
                numel(std::vector<int64_t>(m_const.at(in(i, 2))->dims().begin(),
                                           m_const.at(in(i, 2))->dims().end())) != n)
                fail(i, "Gemm's C must be a constant with one value per output column");
            bias = use_const(i, in(i, 2), {n});
        } else if (!gemm) {
            const int add = sole_consumer(out(i));
            if (add >= 0 && m_g.node(add).op_type() == "Add") {
                const std::string& other = in(add, 0) == out(i) ? in(add, 1) : in(add, 0);
                auto c = m_const.find(other);
                if (c != m_const.end() && c->second->dims_size() == 1 && c->second->dims(0) == n) {
                    bias = use_const(add, other);
                    result = out(add);
                    m_skip.insert(add);
                }
            }
        }
        if (bias.empty())
            emit(i, "matmul", {a, b}, attrs, result);
        else
            emit(i, "matmul_bias", {a, b, bias}, attrs, result);
    }
    // A Transpose that swaps the last two dims of MatMul's B only: read as transpose_b.
    void mark_fusable_transposes() {
        for (int i = 0; i < m_g.node_size(); ++i) {
            const auto& n = m_g.node(i);
            if (n.op_type() != "MatMul" || n.input_size() < 2) continue;
            const int tp = producer(n.input(1));
            if (tp < 0 || m_g.node(tp).op_type() != "Transpose" || sole_consumer(out(tp)) != i)
                continue;
            const auto perm = ints_attr(tp, "perm", {});
            const size_t r = perm.size();
            bool swap = r >= 2 && perm[r - 1] == int64_t(r - 2) && perm[r - 2] == int64_t(r - 1);
            for (size_t k = 0; swap && k + 2 < r; ++k) swap = perm[k] == int64_t(k);
            if (swap) m_skip.insert(tp), m_fused_transpose.insert(tp);
        }
    }
    void reshape_to(int i, const std::string& x, std::vector<int64_t> s) {
        emit(i, "reshape", {x}, {{"shape", s}}, out(i));
    }
    void reshape(int i) {
        const std::string x = operand(i, 0);
        auto s = const_ints(i, in(i, 1));
        const auto& from = shape(x);
        int64_t known = 1, infer = -1;
        for (size_t k = 0; k < s.size(); ++k) {
            if (s[k] == 0 && int_attr(i, "allowzero", 0) == 0) {
                if (k >= from.size()) fail(i, "a 0 in the shape copies a dimension that is absent");
                s[k] = from[k];
            }
            if (s[k] == -1 && infer < 0)
                infer = int64_t(k);
            else if (s[k] < 0 || __builtin_mul_overflow(known, s[k], &known))
                fail(i, "the target shape has a negative or too large dimension");
        }
        if (infer >= 0 && known > 0) s[size_t(infer)] = numel(from) / known;
        reshape_to(i, x, s);
    }
    // --- patterns exporters write for ops ONNX lacks ---
    const std::string& type(int i) const { return m_g.node(i).op_type(); }
    bool const_near(const std::string& name, double want) const {
        auto c = m_const.find(name);
        if (c == m_const.end()) return false;
        const auto v = numbers(*c->second);
        return v.size() == 1 && std::fabs(v[0] - want) <= 1e-3 * std::max(1.0, std::fabs(want));
    }
    // The other input of two-input node i, "" if `value` is not one of them.
    std::string other(int i, const std::string& value) const {
        if (m_g.node(i).input_size() != 2) return "";
        return in(i, 0) == value ? in(i, 1) : in(i, 1) == value ? in(i, 0) : "";
    }
    // GELU as PyTorch exports it before opset 20: x / sqrt(2) (or x * 1/sqrt(2)), Erf, + 1,
    // * x, * 0.5. Returns x and the five nodes from node i, or nothing.
    std::pair<std::string, std::vector<int>> gelu_erf(int i) const {
        std::string x;
        if (type(i) == "Div" && const_near(in(i, 1), std::sqrt(2.0)))
            x = in(i, 0);
        else if (type(i) == "Mul" && const_near(in(i, 1), std::sqrt(0.5)))
            x = in(i, 0);
        else if (type(i) == "Mul" && const_near(in(i, 0), std::sqrt(0.5)))
            x = in(i, 1);
        else
            return {};
        const int e = sole_consumer(out(i));
        if (e < 0 || type(e) != "Erf") return {};
        const int a = sole_consumer(out(e));
        if (a < 0 || type(a) != "Add" || !const_near(other(a, out(e)), 1)) return {};
        const int m = sole_consumer(out(a));
        if (m < 0 || type(m) != "Mul" || other(m, out(a)) != x) return {};
        const int h = sole_consumer(out(m));
        if (h < 0 || type(h) != "Mul" || !const_near(other(h, out(m)), 0.5)) return {};
        return {x, {i, e, a, m, h}};
    }
    // SiLU as exported: Sigmoid(x) * x. Returns the Mul, or -1.
    int silu_mul(int i) const {
        if (type(i) != "Sigmoid") return -1;
        const int m = sole_consumer(out(i));
        return m >= 0 && type(m) == "Mul" && other(m, out(i)) == in(i, 0) ? m : -1;
    }
    // The workload tensor an ONNX value names (a constant is declared on first use).
    std::string operand_named(int i, const std::string& n) {
        if (m_const.count(n)) return use_const(i, n);
        if (!declared(value(n))) fail(i, "input '" + n + "' is not computed before this node");
        return value(n);
    }

    void node(int i) {
        const std::string& op = m_g.node(i).op_type();
        if (auto [x, nodes] = gelu_erf(i); !nodes.empty()) {
            for (int k : nodes) m_skip.insert(k);
            emit(i, "gelu", {operand_named(i, x)}, {}, out(nodes.back()));
            return;
        }
        if (const int m = silu_mul(i); m >= 0) {
            m_skip.insert(m);
            emit(i, "silu", {operand(i, 0)}, {}, out(m));
            return;
        }
        static const std::map<std::string, std::string> unary = {{"Relu", "relu"},
                                                                 {"Sigmoid", "sigmoid"},
                                                                 {"Tanh", "tanh"},
                                                                 {"Exp", "exp"},
                                                                 {"Gelu", "gelu"}};
        static const std::map<std::string, std::string> binary = {
            {"Add", "add"}, {"Sub", "sub"},     {"Mul", "mul"},
            {"Div", "div"}, {"Max", "maximum"}, {"Min", "minimum"}};
        if (op == "Identity" || op == "Dropout") {
            m_alias[out(i)] = operand(i, 0);
        } else if (auto u = unary.find(op); u != unary.end()) {
            emit(i, u->second, {operand(i, 0)}, {}, out(i));
        } else if (auto b = binary.find(op); b != binary.end()) {
            if (m_g.node(i).input_size() != 2) fail(i, "expected two inputs");
            emit(i, b->second, {operand(i, 0), operand(i, 1)}, {}, out(i));
        } else if (op == "Conv") {
            conv(i);
        } else if (op == "BatchNormalization") {
            batchnorm(i);
        } else if (op == "MatMul" || op == "Gemm") {
            matmul(i, op == "Gemm");
        } else if (op == "Softmax" || op == "LayerNormalization") {
            const std::string x = operand(i, 0);
            const int64_t rank = int64_t(shape(x).size());
            const int64_t axis = int_attr(i, "axis", -1);
            if (axis != -1 && axis != rank - 1)
                fail(i, "only the last axis is supported (axis " + std::to_string(axis) + ")",
                     "transpose the axis last first");
            if (op == "Softmax") {
                emit(i, "softmax", {x}, {}, out(i));
            } else {
                if (in(i, 2).empty()) fail(i, "LayerNormalization needs a bias input");
                emit(i, "layernorm", {x, operand(i, 1), operand(i, 2)},
                     {{"epsilon", double(float_attr(i, "epsilon", 1e-5f))}}, out(i));
            }
        } else if (op == "MaxPool" || op == "AveragePool") {
            if (int_attr(i, "ceil_mode", 0) != 0) fail(i, "ceil_mode 1 is not supported");
            if (ints_attr(i, "dilations", {1, 1}) != std::vector<int64_t>{1, 1})
                fail(i, "dilated pooling is not supported");
            if (op == "AveragePool" && int_attr(i, "count_include_pad", 0) != 0)
                fail(i, "count_include_pad 1 is not supported",
                     "npusim's avg_pool2d averages the in-bounds elements");
            const auto k = ints_attr(i, "kernel_shape", {});
            emit(i, op == "MaxPool" ? "max_pool2d" : "avg_pool2d", {operand(i, 0)},
                 {{"kernel", k},
                  {"stride", ints_attr(i, "strides", {1, 1})},
                  {"padding", symmetric_pads(i)}},
                 out(i));
        } else if (op == "GlobalAveragePool") {
            const std::string x = operand(i, 0);
            if (shape(x).size() != 4) fail(i, "expected an NCHW input");
            emit(i, "avg_pool2d", {x}, {{"kernel", std::vector<int64_t>{shape(x)[2], shape(x)[3]}}},
                 out(i));
        } else if (op == "Reshape") {
            reshape(i);
        } else if (op == "Flatten") {
            const std::string x = operand(i, 0);
            const auto& s = shape(x);
            int64_t axis = int_attr(i, "axis", 1);
            if (axis < 0) axis += int64_t(s.size());
            if (axis < 0 || axis > int64_t(s.size())) fail(i, "axis is out of range");
            const std::vector<int64_t> head(s.begin(), s.begin() + axis),
                tail(s.begin() + axis, s.end());
            reshape_to(i, x, {numel(head), numel(tail)});
        } else if (op == "Squeeze" || op == "Unsqueeze") {
            const std::string x = operand(i, 0);
            auto axes = in(i, 1).empty() ? ints_attr(i, "axes", {}) : const_ints(i, in(i, 1));
            std::vector<int64_t> s = shape(x);
            const int64_t rank = int64_t(s.size()) + (op == "Unsqueeze" ? int64_t(axes.size()) : 0);
            for (auto& a : axes)
                if (a < 0) a += op == "Unsqueeze" ? rank : int64_t(s.size());
            std::sort(axes.begin(), axes.end());
            for (int64_t a : axes)
                if (a < 0 || a >= (op == "Unsqueeze" ? rank : int64_t(s.size())) ||
                    (op == "Squeeze" && s[size_t(a)] != 1))
                    fail(i, "axis " + std::to_string(a) + " cannot be " +
                                (op == "Squeeze" ? "squeezed" : "inserted"));
            if (op == "Unsqueeze") {
                for (int64_t a : axes)
                    s.insert(s.begin() + std::min<int64_t>(a, int64_t(s.size())), 1);
            } else if (axes.empty()) {
                s.erase(std::remove(s.begin(), s.end(), 1), s.end());
            } else {
                for (auto a = axes.rbegin(); a != axes.rend(); ++a) s.erase(s.begin() + *a);
            }
            reshape_to(i, x, s);
        } else if (op == "Transpose") {
            const std::string x = operand(i, 0);
            std::vector<int64_t> perm = ints_attr(i, "perm", {});
            if (perm.empty())
                for (int64_t k = int64_t(shape(x).size()) - 1; k >= 0; --k) perm.push_back(k);
            emit(i, "transpose", {x}, {{"perm", perm}}, out(i));
        } else if (op == "Gather") {
            const std::string x = operand(i, 0), idx = operand(i, 1);
            int64_t axis = int_attr(i, "axis", 0);
            if (axis < 0) axis += int64_t(shape(x).size());
            if (axis < 0 || axis >= int64_t(shape(x).size()))
                fail(i, "axis " + std::to_string(int_attr(i, "axis", 0)) + " is out of range");
            tensor_decl& t = m_w.tensors[index_of(idx)];
            if (t.init == tensor_init::randint)
                t.high = std::max<int64_t>(t.high, shape(x)[size_t(axis)]);
            emit(i, "gather", {x, idx}, {{"axis", axis}}, out(i));
        } else if (op == "Cast") {
            const std::string x = operand(i, 0);
            const models::dtype to = dtype_of(int32_t(int_attr(i, "to", 1)), "Cast's target type");
            if (to == tensor(x).type)
                m_alias[out(i)] = x;
            else
                emit(i, "cast", {x}, {{"dtype", std::string(models::to_string(to))}}, out(i));
        } else if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax") {
            const std::string x = operand(i, 0);
            const auto axes = in(i, 1).empty() ? ints_attr(i, "axes", {}) : const_ints(i, in(i, 1));
            if (axes.size() != 1)
                fail(i, "only a reduction over one axis is supported",
                     "reduce one axis per node (npusim's reduce ops take one 'axis')");
            const std::string r = op == "ReduceMean"  ? "reduce_mean"
                                  : op == "ReduceSum" ? "reduce_sum"
                                                      : "reduce_max";
            emit(i, r, {x}, {{"axis", axes[0]}, {"keepdims", int_attr(i, "keepdims", 1) != 0}},
                 out(i));
        } else {
            // The op a user would reach for instead, else the closest name.
            static const std::map<std::string, std::string> instead = {
                {"Erf", "Gelu"},
                {"LeakyRelu", "Relu"},
                {"PRelu", "Relu"},
                {"Clip", "Relu"},
                {"HardSigmoid", "Sigmoid"},
                {"HardSwish", "Sigmoid"},
                {"Concat", "Reshape"},
                {"Split", "Reshape"},
                {"Slice", "Gather"},
                {"Pow", "Mul"},
                {"Sqrt", "Div"},
                {"ConvTranspose", "Conv"},
                {"InstanceNormalization", "LayerNormalization"},
                {"ReduceMin", "ReduceMax"},
                {"MatMulInteger", "MatMul"}};
            auto it = instead.find(op);
            const std::string near =
                it != instead.end() ? it->second : platform::closest(op, supported_ops());
            fail(i, "op type '" + op + "' is not supported",
                 (near.empty() ? std::string("no supported op is close")
                               : "the nearest supported op is " + near) +
                     "; the supported ops are listed in docs/onnx.md");
        }
    }
    size_t index_of(const std::string& n) const {
        for (size_t k = 0; k < m_w.tensors.size(); ++k)
            if (m_w.tensors[k].name == n) return k;
        return 0;
    }

    const onnx::GraphProto& m_g;
    std::string m_src;
    onnx_options m_opt;
    workload m_w;
    std::map<std::string, const onnx::TensorProto*> m_const;
    std::map<std::string, int> m_uses, m_producer, m_consumer;  // m_consumer: the last reader
    std::map<std::string, std::string> m_alias;
    std::set<std::string> m_names;
    std::set<int> m_skip, m_fused_transpose;
    uint64_t m_seeds = 0;
};

}  // namespace

bool is_onnx_path(const std::string& path) {
    return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

workload import_onnx_bytes(const std::string& bytes, const std::string& source,
                           const onnx_options& opt) {
    onnx::ModelProto model;
    if (!model.ParseFromString(bytes))
        throw config_error(source, "", "not an ONNX model (the protobuf does not parse)",
                           "give a .onnx file written by an ONNX exporter");
    if (!model.has_graph())
        throw config_error(source, "", "the ONNX model has no graph", "export the model again");
    importer im(model, source, opt);
    return im.import();
}

workload import_onnx(const std::string& file, const onnx_options& opt) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw config_error(file, "", "cannot read the ONNX model", "check the path");
    std::stringstream ss;
    ss << in.rdbuf();
    return import_onnx_bytes(ss.str(), file, opt);
}

}  // namespace npusim::graph
