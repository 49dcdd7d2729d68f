#include "sw/graph/precision.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "platform/config/config_error.h"
#include "sw/graph/workload_runner.h"
#include "sw/ops/registry.h"

namespace npusim::graph {

namespace {

using models::dtype;

// Ops whose fp16 result can leave fp16's range (e^x beyond x = 11, 1/x below 2^-16, a sum of
// many terms): fp32 under `auto`, as in CANN's and PyTorch autocast's "keep in fp32" lists.
// softmax and the norms are not among them: their fp16 kernels compute in fp32 inside.
const std::set<std::string> k_overflowing = {"exp", "div", "reduce_sum"};
// Ops that sum exponentials or squares over a row (their fp16 kernels do so in fp32), and the
// other reductions.
const std::set<std::string> k_rowwise = {"softmax", "layernorm", "rmsnorm", "reduce_mean",
                                         "reduce_max"};
// Ops on the cube.
const std::set<std::string> k_cube = {"matmul", "matmul_bias"};
// Ops that compute in their inputs' dtype with no range of their own.
const std::set<std::string> k_follow = {"add",  "sub",    "mul",       "maximum",    "minimum",
                                        "relu", "tanh",   "sigmoid",   "gelu",       "silu",
                                        "rope", "gather", "transpose", "max_pool2d", "avg_pool2d"};
// Producers whose output is normalised (bounded, outlier-free): an int8 activation.
const std::set<std::string> k_normalising = {"layernorm", "rmsnorm", "softmax"};

std::string label_of(const op_decl& o) {
    return o.op + " -> " + fmt::format("{}", fmt::join(o.outputs, ","));
}

dtype dtype_of_level(const std::string& l) {
    dtype d = dtype::fp16;
    models::dtype_from_string(l, d);
    return d;
}

bool takes(const ops::op_schema& s, size_t input, dtype d) {
    const auto& a = s.inputs[input].dtypes;
    return std::find(a.begin(), a.end(), d) != a.end();
}

/// The largest |value| a weight's init can draw (its quantization bound).
double init_bound(const tensor_decl& t) {
    switch (t.init) {
        case tensor_init::random:
            return std::fabs(t.mean) + t.scale;
        case tensor_init::ones:
            return 1;
        case tensor_init::constant:
            return std::fabs(t.value);
        case tensor_init::data: {
            double m = 0;
            for (float v : *t.data) m = std::max(m, std::fabs(double(v)));
            return m;
        }
        default:
            return 0;
    }
}

class lowering {
  public:
    lowering(const workload& w, const platform::platform_config& p,
             const std::map<std::string, ops::host_tensor>& ref)
        : m_w(w), m_platform(p), m_ref(ref) {
        m_out.name = w.name;
        m_out.source = w.source;
        m_out.precision = w.precision;
        m_out.precision_where = w.precision_where;
        for (const auto& t : w.tensors) m_names.insert(t.name);
    }

    precision_plan run() {
        precision_plan r;
        for (size_t i = 0; i < m_w.ops.size(); ++i) r.ops.push_back(lower(i));
        r.lowered = std::move(m_out);
        return r;
    }

  private:
    const workload& m_w;
    const platform::platform_config& m_platform;
    const std::map<std::string, ops::host_tensor>& m_ref;
    workload m_out;
    std::set<std::string> m_names;                             // every tensor name in use
    std::map<std::string, std::map<dtype, std::string>> m_as;  // source tensor -> its versions
    std::map<std::string, dtype> m_written;                    // produced tensor -> its dtype
    std::set<std::string> m_normalised;
    std::map<std::string, double> m_scale_a;         // activation -> its int8 scale
    std::vector<std::string>* m_launches = nullptr;  // the current op's

    std::string fresh(const std::string& base) {
        std::string n = base;
        for (int k = 2; m_names.count(n); ++k) n = base + "_" + std::to_string(k);
        m_names.insert(n);
        return n;
    }

    bool is_init(const std::string& n) const { return m_w.tensor(n).init != tensor_init::none; }

    /// The dtype a source tensor has when first read: as written, or as declared for inits.
    dtype current(const std::string& n) const {
        const auto it = m_written.find(n);
        return it != m_written.end() ? it->second : m_w.tensor(n).type;
    }

    void add_tensor(tensor_decl d) { m_out.tensors.push_back(std::move(d)); }

    void add_op(op_decl o) {
        m_launches->push_back(label_of(o));
        m_out.ops.push_back(std::move(o));
    }

    /// Source tensor `n` as dtype `d`: an init converted offline, or a cast on `stream`.
    std::string get(const std::string& n, dtype d, const op_decl& at) {
        auto& versions = m_as[n];
        if (const auto it = versions.find(d); it != versions.end()) return it->second;
        const tensor_decl& src = m_w.tensor(n);
        if (is_init(n)) {
            tensor_decl c = src;
            c.type = d;
            c.name = d == src.type ? n : fresh(n + "." + models::to_string(d));
            versions[d] = c.name;
            add_tensor(c);
            return versions[d];
        }
        const std::string from = versions.at(m_written.at(n));
        tensor_decl c;
        c.name = fresh(n + "." + models::to_string(d));
        c.shape = src.shape;
        c.type = d;
        c.where = src.where;
        add_tensor(c);
        op_decl cast;
        cast.op = "cast";
        cast.inputs = {from};
        cast.outputs = {c.name};
        cast.attrs["dtype"] = std::string(models::to_string(d));
        cast.stream = at.stream;
        cast.where = at.where;
        add_op(cast);
        versions[d] = c.name;
        return c.name;
    }

    /// Declares source output `n` as written in dtype `d`, under its own name.
    void output(const std::string& n, dtype d) {
        tensor_decl c = m_w.tensor(n);
        c.type = d;
        add_tensor(c);
        m_written[n] = d;
        m_as[n][d] = n;
    }

    bool normalised(const std::string& n) const { return m_normalised.count(n) > 0; }

    /// A matmul whose b is a weight: an init tensor a file fixes (drawn, ones or a constant).
    bool weight_matmul(const op_decl& o) const {
        if (!k_cube.count(o.op) || o.inputs.size() < 2) return false;
        const tensor_decl& b = m_w.tensor(o.inputs[1]);
        return init_bound(b) > 0 && b.shape.size() == 2 && models::is_float(b.type) &&
               b.sparse.what == sparse_layout::part::none && models::is_float(current(o.inputs[0]));
    }

    const models::cube_params& cube_of_chip() const {
        return (m_platform.split ? m_platform.aic : m_platform.aicore).cube;
    }
    bool fp32_cube() const { return cube_of_chip().fp32_mmad; }

    /// The dtype input j is read in when the op computes in `d`: d for its float inputs that
    /// take it, as declared for the others (indices).
    dtype input_dtype(const op_decl& o, const ops::op_schema& s, size_t j, dtype d) const {
        return models::is_float(current(o.inputs[j])) && takes(s, j, d)
                   ? d
                   : m_w.tensor(o.inputs[j]).type;
    }

    /// Whether the op has a kernel computing in `d` for these inputs on this chip (rope has
    /// none for bf16, for one).
    bool plannable(const op_decl& o, const ops::op_schema& s, dtype d) const {
        if (!takes(s, 0, d)) return false;
        std::vector<memory::tensor_desc> in;
        for (size_t j = 0; j < o.inputs.size(); ++j) {
            const auto& t = m_w.tensor(o.inputs[j]);
            in.emplace_back(t.name, input_dtype(o, s, j, d), t.shape);
        }
        ops::attr_map attrs = o.attrs;
        if (k_cube.count(o.op)) attrs["out_dtype"] = std::string(models::to_string(d));
        try {
            ops::library().plan(o.op, in, attrs, m_platform);
            return true;
        } catch (const ops::op_error&) {
            return false;
        }
    }

    /// Roofline estimates (ns) of a weight matmul in fp16 and as int8 with what int8 adds:
    /// each kernel max(FLOPs / the dtype's cube peak, GM bytes / GM bandwidth) plus a launch,
    /// the activation's quantization (unless another matmul already quantized it) and, for a
    /// bias, an add over the output.
    std::pair<double, double> roofline_ns(const op_decl& o) const {
        const auto tb_it = o.attrs.find("transpose_b");
        const bool tb = tb_it != o.attrs.end() && std::get<bool>(tb_it->second);
        const tensor_decl &a = m_w.tensor(o.inputs[0]), &b = m_w.tensor(o.inputs[1]);
        const double k = double(b.shape[tb ? 1 : 0]), n = double(b.shape[tb ? 0 : 1]);
        double ak = 1;
        for (int64_t d : a.shape) ak *= double(d);
        const double m = ak / k, flops = 2 * m * n * k;
        const double bw = m_platform.gm.bandwidth / 1e9;  // bytes per ns
        const double launch =
            double(m_platform.host_api.launch_ps + m_platform.kernel_dispatch_ps) / 1000;
        const auto peak = [&](dtype t) {  // FLOP per ns
            const auto& f = cube_of_chip().of(t);
            return 2.0 * f.m * f.k * f.n * m_platform.cores * m_platform.cube_clock_hz / 1e9;
        };
        const double a_bytes = double(models::dtype_size(current(o.inputs[0])));
        const double fp16 =
            std::max(flops / peak(dtype::fp16), (2 * m * k + 2 * k * n + 2 * m * n) / bw) + launch;
        double int8 =
            std::max(flops / peak(dtype::int8), (m * k + k * n + 2 * m * n) / bw) + launch;
        if (!m_as.count(o.inputs[0]) || !m_as.at(o.inputs[0]).count(dtype::int8))
            int8 += (a_bytes + 1) * m * k / bw + launch;
        if (o.op == "matmul_bias") {
            int8 += 3 * 2 * m * n / bw + launch;
        }
        return {fp16, int8};
    }

    /// The dtype an op computes in, and why.
    std::pair<dtype, std::string> choose(const op_decl& o, const ops::op_schema& s,
                                         const std::string& key) {
        const bool cube = k_cube.count(o.op) > 0;
        if (!o.precision.empty()) {
            const dtype d = dtype_of_level(o.precision);
            if (d == dtype::int8
                    ? !weight_matmul(o)
                    : !plannable(
                          o, s,
                          d == dtype::fp32 && !fp32_cube() && k_cube.count(o.op) ? dtype::fp16 : d))
                throw platform::config_error(
                    o.where, key + ".precision",
                    d == dtype::int8
                        ? fmt::format("op '{}' cannot run in int8: only a matmul or matmul_bias "
                                      "whose 'b' is a weight (an init tensor) is quantized",
                                      o.op)
                        : fmt::format("op '{}' has no {} kernel for these inputs on {}", o.op,
                                      o.precision, m_platform.name),
                    "give it a dtype `npusim ops` lists for it, or drop its 'precision'");
            return {d, "set on the op"};
        }
        const std::string& level = m_w.precision;
        if (level == "auto") {
            if (k_overflowing.count(o.op)) return {dtype::fp32, "can overflow fp16: fp32"};
            if (weight_matmul(o) && normalised(o.inputs[0])) {
                const auto [fp16_ns, int8_ns] = roofline_ns(o);
                if (int8_ns < fp16_ns)
                    return {dtype::int8,
                            fmt::format("weight matmul of a normalised input, int8 pays: {:.2f} "
                                        "< {:.2f} us",
                                        int8_ns / 1000, fp16_ns / 1000)};
                if (m_w.tensor(o.outputs[0]).type != dtype::bf16)
                    return {dtype::fp16,
                            fmt::format("weight matmul of a normalised input, int8 does not "
                                        "pay: {:.2f} >= {:.2f} us; fp16",
                                        int8_ns / 1000, fp16_ns / 1000)};
            }
            if (cube && m_w.tensor(o.outputs[0]).type == dtype::bf16)
                return {dtype::bf16, "matmul declared bf16: keeps bf16's range"};
            if (cube) return {dtype::fp16, "matmul: fp16"};
            const dtype in = current(o.inputs[0]);
            if (plannable(o, s, in)) return {in, "follows its input"};
            return {dtype::fp32,
                    fmt::format("no {} kernel for these inputs: fp32", models::to_string(in))};
        }
        const dtype d = dtype_of_level(level);
        if (d == dtype::int8) {
            if (weight_matmul(o)) return {dtype::int8, "int8: weight matmul"};
            if (plannable(o, s, dtype::fp16))
                return {dtype::fp16, "int8 policy, not a weight matmul: fp16"};
        } else if (plannable(o, s, d == dtype::fp32 && cube && !fp32_cube() ? dtype::fp16 : d)) {
            return {d, level};
        }
        return {dtype::fp32, "no " + level + " kernel for these inputs: fp32"};
    }

    op_precision lower(size_t i) {
        const op_decl& o = m_w.ops[i];
        const ops::op_schema& s = ops::library().schema(o.op);
        const std::string key = "ops[" + std::to_string(i) + "]";
        op_precision r;
        r.label = label_of(o);
        r.where = o.where;
        r.output = o.outputs.empty() ? "" : o.outputs[0];
        m_launches = &r.launches;
        const bool floating = (k_cube.count(o.op) || k_overflowing.count(o.op) ||
                               k_rowwise.count(o.op) || k_follow.count(o.op)) &&
                              !o.inputs.empty() && models::is_float(current(o.inputs[0]));
        if (s.view || o.op == "copy") {  // no arithmetic: the input's dtype
            const dtype d = current(o.inputs[0]);
            op_decl c = o;
            c.inputs = {get(o.inputs[0], d, o)};
            for (const auto& n : o.outputs) output(n, d);
            if (normalised(o.inputs[0])) m_normalised.insert(o.outputs[0]);
            add_op(c);
            r.dtype = d;
            r.rule = "view or copy: its input's dtype";
            return r;
        }
        if (!floating || (m_w.precision == "declared" && o.precision.empty())) {
            op_decl c = o;
            for (size_t j = 0; j < o.inputs.size(); ++j)
                c.inputs[j] = get(o.inputs[j], m_w.tensor(o.inputs[j]).type, o);
            for (const auto& n : o.outputs) output(n, m_w.tensor(n).type);
            if (k_normalising.count(o.op)) m_normalised.insert(o.outputs[0]);
            add_op(c);
            r.dtype = o.outputs.empty() ? dtype::fp16 : m_w.tensor(o.outputs[0]).type;
            r.rule = floating ? "declared" : "not a float op: as declared";
            return r;
        }
        auto [d, rule] = choose(o, s, key);
        r.dtype = d;
        r.rule = rule;
        if (d == dtype::int8) {
            lower_int8(o);
            return r;
        }
        const bool cube = k_cube.count(o.op) > 0;
        dtype in = d;
        if (cube && d == dtype::fp32 && !fp32_cube()) {
            in = dtype::fp16;  // CANN's allow_fp32_to_fp16: fp16 inputs, fp32 accumulation
            r.rule += "; no fp32 cube on this chip: fp16 inputs, fp32 out";
        }
        op_decl c = o;
        for (size_t j = 0; j < o.inputs.size(); ++j)
            c.inputs[j] = get(o.inputs[j], input_dtype(o, s, j, in), o);
        if (cube) c.attrs["out_dtype"] = std::string(models::to_string(d));
        for (const auto& n : o.outputs) output(n, d);
        if (k_normalising.count(o.op)) m_normalised.insert(o.outputs[0]);
        add_op(c);
        return r;
    }

    /// c = a x w (+ bias) as W8A8: a quantized per tensor by its calibrated range, the weight
    /// quantized offline, the int32 sums dequantized by scale_a x scale_w on the way out.
    void lower_int8(const op_decl& o) {
        const std::string& a = o.inputs[0];
        const tensor_decl& w = m_w.tensor(o.inputs[1]);
        std::string a8;
        if (const auto it = m_as[a].find(dtype::int8); it != m_as[a].end()) {
            a8 = it->second;
        } else {
            double range = 0;
            if (const auto ref = m_ref.find(a); ref != m_ref.end())
                for (double v : ref->second.values)
                    if (std::isfinite(v)) range = std::max(range, std::fabs(v));
            m_scale_a[a] = range > 0 ? range / 127 : 1;
            const dtype af = is_init(a) ? dtype::fp16 : current(a);
            const std::string from = get(a, af, o);
            tensor_decl scale{}, offset{}, q{};
            scale.name = fresh(a + ".qscale");
            offset.name = fresh(a + ".qoffset");
            scale.shape = offset.shape = {1};
            scale.type = offset.type = dtype::fp32;
            scale.init = tensor_init::constant;
            scale.value = m_scale_a[a];
            offset.init = tensor_init::zeros;
            scale.where = offset.where = o.where;
            q.name = fresh(a + ".int8");
            q.shape = m_w.tensor(a).shape;
            q.type = dtype::int8;
            q.where = o.where;
            add_tensor(scale);
            add_tensor(offset);
            add_tensor(q);
            op_decl quant;
            quant.op = "quantize";
            quant.inputs = {from, scale.name, offset.name};
            quant.outputs = {q.name};
            quant.stream = o.stream;
            quant.where = o.where;
            add_op(quant);
            m_as[a][dtype::int8] = a8 = q.name;
        }
        std::string w8;
        const double step = init_bound(w) / 127;
        if (const auto it = m_as[w.name].find(dtype::int8); it != m_as[w.name].end()) {
            w8 = it->second;
        } else {
            tensor_decl q = w;
            q.name = fresh(w.name + ".int8");
            q.type = dtype::int8;
            q.quant_step = step;
            if (q.init != tensor_init::random && q.init != tensor_init::data) {
                // ones and constants: bound / step = 127
                q.init = tensor_init::constant;
                q.value = w.init == tensor_init::constant && w.value < 0 ? -127 : 127;
                q.quant_step = 0;
            }
            add_tensor(q);
            m_as[w.name][dtype::int8] = w8 = q.name;
        }
        tensor_decl deq{};
        deq.name = fresh(o.outputs[0] + ".dqscale");
        deq.shape = {1};
        deq.type = dtype::fp32;
        deq.init = tensor_init::constant;
        deq.value = m_scale_a[a] * step;
        deq.where = o.where;
        add_tensor(deq);
        op_decl mm;
        mm.op = "matmul_dequant";
        mm.inputs = {a8, w8, deq.name};
        for (const char* k : {"transpose_a", "transpose_b", "partition"})
            if (o.attrs.count(k)) mm.attrs[k] = o.attrs.at(k);
        mm.attrs["out_dtype"] = std::string("fp16");
        mm.stream = o.stream;
        mm.where = o.where;
        const bool bias = o.op == "matmul_bias";
        if (!bias) {
            mm.outputs = {o.outputs[0]};
            output(o.outputs[0], dtype::fp16);
            add_op(mm);
            return;
        }
        tensor_decl acc = m_w.tensor(o.outputs[0]);
        acc.name = fresh(o.outputs[0] + ".acc");
        acc.type = dtype::fp16;
        add_tensor(acc);
        mm.outputs = {acc.name};
        add_op(mm);
        op_decl add;
        add.op = "add";
        add.inputs = {acc.name, get(o.inputs[2], dtype::fp16, o)};
        add.outputs = {o.outputs[0]};
        add.stream = o.stream;
        add.where = o.where;
        output(o.outputs[0], dtype::fp16);
        add_op(add);
    }
};

}  // namespace

std::map<std::string, ops::host_tensor> fp32_reference(const workload& w) {
    std::map<std::string, ops::host_tensor> v;
    auto to32 = [](dtype t) { return models::is_float(t) ? dtype::fp32 : t; };
    for (const auto& t : w.tensors) {
        if (t.init == tensor_init::none) continue;
        tensor_decl c = t;
        c.type = to32(t.type);
        const auto bytes = initial_bytes(c);
        memory::tensor_desc d(t.name, c.type, t.shape);
        ops::host_tensor h{d, std::vector<double>(d.elements())};
        for (uint64_t e = 0; e < d.elements(); ++e)
            h.values[e] = models::load_as_double(bytes.data(), c.type, e);
        v.emplace(t.name, std::move(h));
    }
    for (const auto& o : w.ops) {
        std::vector<memory::tensor_desc> wide, declared;
        std::vector<ops::host_tensor> in;
        for (const auto& n : o.inputs) {
            const auto& t = w.tensor(n);
            wide.emplace_back(n, to32(t.type), t.shape);
            declared.emplace_back(n, t.type, t.shape);
            in.push_back(v.at(n));
        }
        ops::attr_map attrs = o.attrs;
        if (attrs.count("out_dtype")) attrs["out_dtype"] = std::string("fp32");
        ops::op_call call;
        try {
            call = ops::library().call(o.op, wide, attrs);
        } catch (const ops::op_error&) {  // an op without fp32 (conv2d): its own dtypes
            call = ops::library().call(o.op, declared, o.attrs);
        }
        for (size_t j = 0; j < in.size(); ++j) in[j].desc = call.inputs[j];
        std::vector<ops::host_tensor> out;
        bool empty = true;
        for (const auto& d : call.outputs) {
            out.push_back({d, std::vector<double>(d.elements())});
            empty = empty && d.elements() == 0;
        }
        if (!empty) call.schema->reference(in, out, call.attrs);
        for (size_t j = 0; j < o.outputs.size() && j < out.size(); ++j)
            v.insert_or_assign(o.outputs[j], std::move(out[j]));
    }
    return v;
}

precision_plan apply_precision(const workload& w, const platform::platform_config& platform,
                               bool calibrate) {
    bool overrides = false;
    for (const auto& o : w.ops) overrides = overrides || !o.precision.empty();
    if (w.precision == "declared" && !overrides) {  // the file as written
        precision_plan p;
        p.lowered = w;
        for (const auto& o : w.ops) {
            op_precision r;
            r.label = label_of(o);
            r.where = o.where;
            r.output = o.outputs.empty() ? "" : o.outputs[0];
            r.dtype = o.outputs.empty() ? dtype::fp16 : w.tensor(o.outputs[0]).type;
            r.rule = "declared";
            r.launches = {label_of(o)};
            p.ops.push_back(r);
        }
        return p;
    }
    std::map<std::string, ops::host_tensor> ref;
    if (calibrate) ref = fp32_reference(w);
    precision_plan p = lowering(w, platform, ref).run();
    p.reference = std::move(ref);
    return p;
}

}  // namespace npusim::graph
