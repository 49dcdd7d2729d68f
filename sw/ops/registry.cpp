#include "sw/ops/registry.h"

#include <fmt/format.h>

#include <algorithm>

#include "platform/config/schema.h"

namespace npusim::ops {

const char* attr_type_name(const attr_value& v) {
    static const char* names[] = {"integer", "real", "boolean", "text", "list of integers"};
    return names[v.index()];
}

namespace {

std::string dtype_list(const std::vector<models::dtype>& ts, const char* sep = ", ") {
    std::string s;
    for (size_t i = 0; i < ts.size(); ++i)
        s += (i ? sep : "") + std::string(models::to_string(ts[i]));
    return s;
}

/// "fp16", "fp16 or fp32", "fp16, fp32 or bf16".
std::string alternatives(const std::vector<models::dtype>& ts) {
    std::string s;
    for (size_t i = 0; i < ts.size(); ++i)
        s += (i == 0               ? ""
              : i + 1 == ts.size() ? " or "
                                   : ", ") +
             std::string(models::to_string(ts[i]));
    return s;
}

std::string signature(const op_kernel& k, size_t inputs) {
    std::vector<models::dtype> in(k.dtypes.begin(), k.dtypes.begin() + long(inputs));
    std::vector<models::dtype> out(k.dtypes.begin() + long(inputs), k.dtypes.end());
    return "(" + dtype_list(in) + " -> " + dtype_list(out) + ")";
}

}  // namespace

std::string source_location(const char* file, int line) {
    std::string f = file;
    const auto at = f.rfind("/sw/");
    if (at != std::string::npos) f = f.substr(at + 1);
    return f + ":" + std::to_string(line);
}

void registry::add_op(op_schema s, const std::string& where) {
    auto it = m_ops.find(s.name);
    if (it != m_ops.end())
        throw op_error(
            fmt::format("op '{}' registered at {} is already registered at {}; give "
                        "the new op another name",
                        s.name, where, it->second.where));
    const std::string name = s.name;
    m_ops.emplace(name, entry{std::move(s), where, {}});
}

void registry::add_kernel(op_kernel k, const std::string& where) {
    auto it = m_ops.find(k.op);
    if (it == m_ops.end())
        throw op_error(
            fmt::format("kernel '{}' at {} is for op '{}', which is not registered; "
                        "register the op first",
                        k.name, where, k.op));
    entry& e = it->second;
    const size_t want = e.schema.inputs.size() + e.schema.outputs.size();
    if (k.dtypes.size() != want)
        throw op_error(
            fmt::format("kernel '{}' at {} lists {} dtypes; op '{}' has {} inputs and "
                        "outputs",
                        k.name, where, k.dtypes.size(), k.op, want));
    for (const auto& [other, at] : e.kernels)
        if (other.name == k.name && other.dtypes == k.dtypes)
            throw op_error(fmt::format(
                "kernel '{}' {} of op '{}' registered at {} is already registered at {}", k.name,
                signature(k, e.schema.inputs.size()), k.op, where, at));
    e.kernels.emplace_back(std::move(k), where);
}

const registry::entry& registry::find(const std::string& op) const {
    auto it = m_ops.find(op);
    if (it != m_ops.end()) return it->second;
    const auto all = names();
    const std::string near = platform::closest(op, all);
    std::string list;
    for (const auto& n : all) list += (list.empty() ? "" : ", ") + n;
    throw op_error(fmt::format("unknown op '{}'{}; the registered ops are: {}", op,
                               near.empty() ? "" : " (did you mean '" + near + "'?)", list));
}

const op_schema& registry::schema(const std::string& op) const {
    return find(op).schema;
}

std::vector<std::string> registry::names() const {
    std::vector<std::string> out;
    for (const auto& kv : m_ops) out.push_back(kv.first);
    return out;
}

std::vector<const op_kernel*> registry::kernels(const std::string& op) const {
    std::vector<const op_kernel*> out;
    for (const auto& k : find(op).kernels) out.push_back(&k.first);
    return out;
}

op_call registry::call(const std::string& op, std::vector<memory::tensor_desc> inputs,
                       attr_map attrs) const {
    const op_schema& s = find(op).schema;
    if (inputs.size() != s.inputs.size()) {
        std::string names;
        for (const auto& i : s.inputs) names += (names.empty() ? "" : ", ") + i.name;
        throw op_error(fmt::format("op '{}' takes {} inputs ({}) but was given {}", op,
                                   s.inputs.size(), names, inputs.size()));
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
        const auto& allowed = s.inputs[i].dtypes;
        if (std::find(allowed.begin(), allowed.end(), inputs[i].type()) == allowed.end())
            throw op_error(fmt::format("op '{}' input '{}' ({}) is {}; expected {}", op,
                                       s.inputs[i].name, inputs[i].describe(),
                                       models::to_string(inputs[i].type()), alternatives(allowed)));
    }
    std::vector<std::string> attr_names;
    for (const auto& a : s.attrs) attr_names.push_back(a.name);
    for (const auto& [name, value] : attrs) {
        auto spec = std::find_if(s.attrs.begin(), s.attrs.end(),
                                 [&](const attr_spec& a) { return a.name == name; });
        if (spec == s.attrs.end()) {
            const std::string near = platform::closest(name, attr_names);
            throw op_error(fmt::format("op '{}' has no attribute '{}'{}", op, name,
                                       near.empty() ? "" : "; did you mean '" + near + "'?"));
        }
        if (value.index() != spec->type_and_default.index())
            throw op_error(fmt::format("op '{}' attribute '{}' has type {}; expected {}", op, name,
                                       attr_type_name(value),
                                       attr_type_name(spec->type_and_default)));
    }
    for (const auto& a : s.attrs)
        if (!attrs.count(a.name)) {
            if (a.required)
                throw op_error(fmt::format("op '{}' needs attribute '{}' ({})", op, a.name,
                                           attr_type_name(a.type_and_default)));
            attrs[a.name] = a.type_and_default;
        }
    op_call c;
    c.schema = &s;
    c.outputs = s.infer(inputs, attrs);
    c.inputs = std::move(inputs);
    c.attrs = std::move(attrs);
    return c;
}

op_plan registry::plan(const std::string& op, std::vector<memory::tensor_desc> inputs,
                       attr_map attrs, const platform::platform_config& platform) const {
    const entry& e = find(op);
    const op_schema& s = e.schema;
    op_plan p;
    p.call = call(op, std::move(inputs), std::move(attrs));
    std::vector<models::dtype> types;
    for (const auto& t : p.call.inputs) types.push_back(t.type());
    for (const auto& t : p.call.outputs) types.push_back(t.type());
    if (s.view || s.device_copy) return p;  // no kernel runs
    // Zero-sized outputs (a dimension of 0, valid as in PyTorch): nothing to compute, so no
    // kernel is chosen or tiled (tilers divide by tile sizes) and execute launches nothing.
    // The dtypes must still have a kernel, so an empty call is checked like any other.
    const bool empty = std::all_of(p.call.outputs.begin(), p.call.outputs.end(),
                                   [](const memory::tensor_desc& d) { return d.elements() == 0; });
    bool typed = false;
    for (const auto& [k, at] : e.kernels) {
        if (k.dtypes != types) continue;
        typed = true;
        if (empty || (k.applies && !k.applies(p.call, platform))) continue;
        if (!p.kernel || k.priority > p.kernel->priority) p.kernel = &k;
    }
    if (empty && typed) {
        p.tiling.block_dim = 0;
        return p;
    }
    if (!p.kernel) {
        std::string have;
        for (const auto& [k, at] : e.kernels)
            have += (have.empty() ? "" : ", ") + k.name + " " + signature(k, s.inputs.size());
        std::vector<models::dtype> in(types.begin(), types.begin() + long(s.inputs.size()));
        std::vector<models::dtype> out(types.begin() + long(s.inputs.size()), types.end());
        throw op_error(fmt::format(
            "op '{}' has no kernel for ({} -> {}) with these shapes on {}; "
            "its kernels are: {}",
            op, dtype_list(in), dtype_list(out), platform.name, have.empty() ? "none" : have));
    }
    p.tiling = p.kernel->tile(p.call, platform);
    return p;
}

runtime::status registry::execute(runtime::context& ctx, runtime::stream* s, const op_plan& p,
                                  const op_buffers& buffers, const std::string& name) const {
    const op_kernel* k = p.kernel;
    if (p.call.schema->device_copy) {
        const uint64_t bytes = p.call.outputs[0].storage_bytes();
        if (bytes == 0) return runtime::status::success;
        return ctx.memcpy_on_device(s, buffers.outputs[0], buffers.inputs[0], bytes);
    }
    if (p.call.schema->view || !k) return runtime::status::success;  // nothing to run
    const op_call call = p.call;
    const tiling_plan tiling = p.tiling;
    runtime::kernel_info info;
    info.op = call.schema->name;
    info.kernel = k->name;
    info.tiling = fmt::format("{} {} blocks{}{}", tiling.block_dim, models::to_string(tiling.kind),
                              tiling.summary.empty() ? "" : "; ", tiling.summary);
    info.flops = tiling.flops;
    info.bytes = tiling.bytes;
    op_buffers launch_buffers = buffers;
    launch_buffers.queue = std::make_shared<uint64_t>(0);
    const std::string label = name.empty() ? call.schema->name : name;
    if (tiling.prologue_blocks > 0) {
        runtime::kernel_info first = info;
        first.kernel = k->prologue_name;
        first.tiling = fmt::format("{} {} blocks", tiling.prologue_blocks,
                                   models::to_string(tiling.prologue_kind));
        first.flops = 0;
        const runtime::status st = ctx.launch(
            s, label + "." + k->prologue_name, tiling.prologue_blocks, tiling.prologue_kind,
            [k, call, tiling, launch_buffers](kernel::kernel_context& c) {
                k->prologue(c, call, tiling, launch_buffers);
            },
            first);
        if (st != runtime::status::success) return st;
    }
    return ctx.launch(
        s, label, tiling.block_dim, tiling.kind,
        [k, call, tiling, launch_buffers](kernel::kernel_context& c) {
            k->body(c, call, tiling, launch_buffers);
        },
        info);
}

std::string registry::describe() const {
    std::string out;
    for (const auto& [name, e] : m_ops) {
        const op_schema& s = e.schema;
        std::string sig;
        for (const auto& i : s.inputs)
            sig += (sig.empty() ? "" : ", ") + i.name + ": " + dtype_list(i.dtypes, "|");
        sig += " -> ";
        for (size_t i = 0; i < s.outputs.size(); ++i)
            sig +=
                (i ? ", " : "") + s.outputs[i].name + ": " + dtype_list(s.outputs[i].dtypes, "|");
        out += fmt::format("{}  {}\n    {}\n", name, s.doc, sig);
        for (const auto& a : s.attrs)
            out += fmt::format("    attribute {} ({}{})\n", a.name,
                               attr_type_name(a.type_and_default), a.required ? ", required" : "");
        if (s.view) out += "    view: no kernel; the output shares the input's memory\n";
        if (s.device_copy) out += "    device copy: runs on the system DMA (SDMA), no kernel\n";
        for (const auto& [k, at] : e.kernels)
            out += fmt::format("    kernel {} {} priority {}\n", k.name,
                               signature(k, s.inputs.size()), k.priority);
    }
    return out;
}

}  // namespace npusim::ops
