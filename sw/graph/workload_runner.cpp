#include "sw/graph/workload_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "models/common/host_buffer.h"
#include "platform/config/config_error.h"
#include "sw/graph/sparse_structure.h"
#include "sw/runtime/context.h"

namespace npusim::graph {

namespace {

std::string describe_shape(const memory::tensor_desc& d) {
    std::string s;
    for (size_t i = 0; i < d.shape().size(); ++i)
        s += (i ? "," : "") + std::to_string(d.shape()[i]);
    return std::string(models::to_string(d.type())) + "[" + s + "]";
}

memory::tensor_desc desc_of(const tensor_decl& t) {
    return memory::tensor_desc(t.name, t.type, t.shape);
}

}  // namespace

std::vector<uint8_t> initial_bytes(const tensor_decl& t) {
    const uint64_t elements = desc_of(t).elements();
    std::vector<uint8_t> bytes(elements * models::dtype_size(t.type));
    if (t.init == tensor_init::zeros) return bytes;
    if (t.init == tensor_init::sparse_index) {
        const sparse_layout& l = t.sparse;
        const sparse_structure s =
            make_sparse_structure(l.rows / l.bm, l.cols / l.bk, l.density, l.skew, l.seed);
        const auto& v = l.what == sparse_layout::part::columns ? s.columns : s.offsets;
        std::memcpy(bytes.data(), v.data(), std::min<size_t>(bytes.size(), v.size() * 4));
        return bytes;
    }
    if (t.init == tensor_init::data) {
        for (uint64_t i = 0; i < elements && t.data && i < t.data->size(); ++i) {
            const double v = (*t.data)[i];
            models::store_from_double(
                bytes.data(), t.type, i,
                t.quant_step > 0 ? std::clamp(std::nearbyint(v / t.quant_step), -128.0, 127.0) : v);
        }
        return bytes;
    }
    std::mt19937_64 rng(t.seed);
    if (t.init == tensor_init::randint) {
        std::uniform_int_distribution<int64_t> d(0, t.high - 1);
        for (uint64_t i = 0; i < elements; ++i)
            models::store_from_double(bytes.data(), t.type, i, double(d(rng)));
        return bytes;
    }
    std::uniform_real_distribution<float> d(float(t.mean - t.scale), float(t.mean + t.scale));
    if (t.quant_step > 0) {  // an int8 weight quantized offline
        for (uint64_t i = 0; i < elements; ++i)
            models::store_from_double(
                bytes.data(), t.type, i,
                std::clamp(std::nearbyint(double(d(rng)) / t.quant_step), -128.0, 127.0));
        return bytes;
    }
    for (uint64_t i = 0; i < elements; ++i)
        models::store_from_double(bytes.data(), t.type, i,
                                  t.init == tensor_init::ones       ? 1.0
                                  : t.init == tensor_init::constant ? t.value
                                                                    : double(d(rng)));
    return bytes;
}

namespace {

/// Where every tensor is, and who uses it.
struct tensor_state {
    uint64_t addr = 0;
    bool live = false;
    runtime::stream* writer = nullptr;  ///< stream of the op that wrote it
    runtime::event* ready = nullptr;    ///< recorded after the writer, if another stream reads it
    int last_use = -1;                  ///< index of the last op that names it or a view of it
    std::vector<std::string> reader_streams;
    bool view = false;  ///< shares another tensor's memory (a reshape); never freed itself
};

/// |got - want| / (|want| + 1); equal infinities and two NaNs agree, any other non-finite
/// mismatch is an infinite error (a NaN must not slip through a comparison).
double relative_error(double got, double want) {
    if (got == want || (std::isnan(got) && std::isnan(want))) return 0;
    if (!std::isfinite(got) || !std::isfinite(want)) return INFINITY;
    return std::fabs(got - want) / (std::fabs(want) + 1);
}

double absolute_error(double got, double want) {
    if (got == want || (std::isnan(got) && std::isnan(want))) return 0;
    if (!std::isfinite(got) || !std::isfinite(want)) return INFINITY;
    return std::fabs(got - want);
}

}  // namespace

workload_plan plan_workload(const workload& w, const platform::platform_config& platform) {
    workload_plan p;
    p.source = &w;
    for (size_t i = 0; i < w.ops.size(); ++i) {
        const op_decl& o = w.ops[i];
        const std::string key = "ops[" + std::to_string(i) + "]";
        std::vector<memory::tensor_desc> inputs;
        for (const auto& n : o.inputs) inputs.push_back(desc_of(w.tensor(n)));
        try {
            p.ops.push_back(ops::library().plan(o.op, inputs, o.attrs, platform));
        } catch (const ops::op_error& e) {
            throw platform::config_error(o.where, key, e.what());
        }
        const auto& specs = p.ops.back().call.schema->inputs;
        for (size_t j = 0; j < o.inputs.size() && j < specs.size(); ++j) {
            const tensor_decl& t = w.tensor(o.inputs[j]);
            const bool zero =
                t.init == tensor_init::zeros || (t.init == tensor_init::constant && t.value == 0);
            if (specs[j].nonzero && zero)
                throw platform::config_error(
                    o.where, key + ".inputs",
                    fmt::format("op '{}' input '{}' is tensor '{}', whose elements are all 0; "
                                "it must hold nonzero finite numbers",
                                o.op, specs[j].name, t.name),
                    "give '" + t.name + "' e.g. 'init: constant, value: 0.05'");
        }
        const auto& got = p.ops.back().call.outputs;
        if (got.size() != o.outputs.size())
            throw platform::config_error(o.where, key + ".outputs",
                                         fmt::format("op '{}' gives {} outputs but {} are named",
                                                     o.op, got.size(), o.outputs.size()));
        for (size_t j = 0; j < got.size(); ++j) {
            const auto declared = desc_of(w.tensor(o.outputs[j]));
            if (declared.shape() != got[j].shape() || declared.type() != got[j].type())
                throw platform::config_error(
                    o.where, key + ".outputs",
                    fmt::format("tensor '{}' is declared {} but op '{}' gives {}", o.outputs[j],
                                describe_shape(declared), o.op, describe_shape(got[j])),
                    "declare it as " + describe_shape(got[j]));
        }
    }
    // Control data, named by the tensor owning the memory (a reshape shares its input's).
    std::map<std::string, std::string> root;
    auto root_of = [&](const std::string& n) {
        auto it = root.find(n);
        return it == root.end() ? n : it->second;
    };
    for (size_t i = 0; i < w.ops.size(); ++i) {
        const op_decl& o = w.ops[i];
        const ops::op_schema& schema = *p.ops[i].call.schema;
        if (schema.view) root[o.outputs[0]] = root_of(o.inputs[0]);
        for (size_t j = 0; j < o.inputs.size(); ++j)
            if (schema.inputs[j].control) p.control.insert(root_of(o.inputs[j]));
    }
    for (size_t i = 0; i < w.ops.size() && p.computed_control.empty(); ++i)
        if (!p.ops[i].call.schema->view)
            for (const auto& n : w.ops[i].outputs)
                if (p.control.count(root_of(n))) p.computed_control = n;
    return p;
}

workload_result run_workload(platform::chip& chip, const workload_plan& plan, bool check,
                             std::vector<platform::op_record>& records) {
    const workload& w = *plan.source;
    const bool functional = chip.config().gm.functional;
    runtime::context ctx(chip, &records);
    workload_result result;
    auto ok = [&](runtime::status s) {
        if (s != runtime::status::success && result.failure.empty())
            result.failure = ctx.get_last_error().message;
        return s == runtime::status::success;
    };
    std::map<std::string, tensor_state> state;
    // A view's uses count as uses of the tensor whose memory it shares (its root).
    std::map<std::string, std::string> root;
    auto root_of = [&](const std::string& n) -> const std::string& {
        auto it = root.find(n);
        return it == root.end() ? n : it->second;
    };
    for (size_t i = 0; i < w.ops.size(); ++i) {
        const op_decl& o = w.ops[i];
        if (plan.ops[i].call.schema->view) root[o.outputs[0]] = root_of(o.inputs[0]);
        for (const auto* names : {&o.inputs, &o.outputs})
            for (const auto& n : *names) state[root_of(n)].last_use = int(i);
        for (const auto& n : o.inputs) state[root_of(n)].reader_streams.push_back(o.stream);
    }
    std::map<std::string, runtime::stream*> streams;
    auto stream_of = [&](const std::string& name) -> runtime::stream* {
        if (name.empty()) return nullptr;
        auto& s = streams[name];
        if (!s) ok(ctx.create_stream(s, {name}));
        return s;
    };
    // Right after a tensor is written, an event for readers on other streams.
    auto publish = [&](const std::string& name, const std::string& writer_stream) {
        tensor_state& ts = state[name];
        for (const auto& r : ts.reader_streams)
            if (r != writer_stream) {
                ok(ctx.create_event(ts.ready, name + "_ready"));
                ok(ctx.record_event(ts.ready, ts.writer));
                return;
            }
    };
    if (!functional && !plan.computed_control.empty()) {
        result.failure = "tensor '" + plan.computed_control +
                         "' decides addresses (an op reads it as indices) but is computed on the "
                         "device, which timing-only mode does not do; run functionally";
        return result;
    }
    // Timing-only: control tensors keep their bytes in GM (and get real ones); every other
    // copy moves no bytes, so its source is one untouched zero buffer, as is that of zeros.
    auto kept = [&](const std::string& n) { return !functional && plan.control.count(n) > 0; };
    auto from_zeros = [&](const tensor_decl& t) {
        return t.init == tensor_init::zeros || (!functional && !kept(t.name));
    };
    uint64_t largest = 0;
    for (const auto& t : w.tensors)
        if (t.init != tensor_init::none && from_zeros(t))
            largest = std::max(largest, desc_of(t).elements() * models::dtype_size(t.type));
    models::host_buffer zeros(largest);
    auto release = [&](const std::string& n, tensor_state& ts) {
        if (kept(n)) chip.gm().keep(ts.addr, desc_of(w.tensor(n)).storage_bytes(), false);
        ok(ctx.free(ts.addr));
        ts.live = false;
    };
    // Init tensors go in first, on the default stream.
    for (const auto& t : w.tensors) {
        if (t.init == tensor_init::none) continue;
        tensor_state& ts = state[t.name];
        const auto d = desc_of(t);
        if (!ok(ctx.malloc(ts.addr, int64_t(std::max<uint64_t>(d.storage_bytes(), 1)), nullptr,
                           t.name)))
            return result;
        ts.live = true;
        if (kept(t.name)) chip.gm().keep(ts.addr, d.storage_bytes(), true);
        if (from_zeros(t)) {
            ok(ctx.memcpy_to_device(nullptr, ts.addr, zeros.data(),
                                    d.elements() * models::dtype_size(t.type)));
        } else {
            const auto bytes = initial_bytes(t);
            ok(ctx.memcpy_to_device(nullptr, ts.addr, bytes.data(), bytes.size()));
        }
        publish(t.name, "");
    }
    for (size_t i = 0; i < w.ops.size() && result.failure.empty(); ++i) {
        const op_decl& o = w.ops[i];
        if (plan.ops[i].call.schema->view) {  // same memory, same writer, same ready event
            tensor_state& v = state[o.outputs[0]];
            const tensor_state& from = state[o.inputs[0]];
            v.addr = from.addr;
            v.writer = from.writer;
            v.ready = from.ready;
            v.live = v.view = true;
            continue;
        }
        runtime::stream* s = stream_of(o.stream);
        ops::op_buffers buffers;
        for (const auto& n : o.inputs) {
            tensor_state& ts = state[n];
            if (ts.writer != s) {  // crosses streams: wait for its writer (or the init copies)
                ok(ctx.stream_wait_event(s, ts.ready));
                ok(ctx.record_stream(ts.addr, s));
            }
            buffers.inputs.push_back(ts.addr);
        }
        for (size_t j = 0; j < o.outputs.size(); ++j) {
            tensor_state& ts = state[o.outputs[j]];
            const auto& d = plan.ops[i].call.outputs[j];
            if (!ok(ctx.malloc(ts.addr, int64_t(std::max<uint64_t>(d.storage_bytes(), 1)), s,
                               o.outputs[j])))
                break;
            ts.live = true;
            ts.writer = s;
            buffers.outputs.push_back(ts.addr);
        }
        if (!result.failure.empty()) break;
        // The kernel's scratch memory in GM, freed in stream order after it.
        const uint64_t scratch = plan.ops[i].tiling.workspace_bytes;
        if (scratch > 0 &&
            !ok(ctx.malloc(buffers.workspace, int64_t(scratch), s, o.op + " workspace")))
            break;
        ok(ops::library().execute(ctx, s, plan.ops[i], buffers,
                                  o.op + " -> " + fmt::format("{}", fmt::join(o.outputs, ","))));
        if (scratch > 0) ok(ctx.free(buffers.workspace));
        for (const auto& n : o.outputs) publish(n, o.stream);
        if (check) continue;  // every tensor is kept for the comparison
        for (const auto* names : {&o.inputs, &o.outputs})
            for (const auto& n : *names) {
                const std::string& r = root_of(n);
                tensor_state& ts = state[r];
                if (ts.live && ts.last_use == int(i)) release(r, ts);
            }
    }
    ok(ctx.synchronize_device());
    if (check && result.failure.empty() && functional) {
        std::map<std::string, ops::host_tensor> host;
        for (const auto& t : w.tensors) {
            tensor_state& ts = state[t.name];
            if (!ts.live) continue;
            const auto d = desc_of(t);
            std::vector<uint8_t> bytes(d.storage_bytes());
            chip.gm().read(ts.addr, bytes.data(), bytes.size());  // a backdoor: no simulated time
            ops::host_tensor h{d, std::vector<double>(d.elements())};
            for (uint64_t e = 0; e < d.elements(); ++e)
                h.values[e] = models::load_as_double(bytes.data(), t.type, e);
            host.emplace(t.name, std::move(h));
        }
        if (plan.fp32_reference)
            for (const auto& [name, ref] : *plan.fp32_reference) {
                const auto it = host.find(name);
                if (it == host.end() || it->second.values.size() != ref.values.size()) continue;
                double worst = 0, sum = 0;
                for (size_t e = 0; e < ref.values.size(); ++e) {
                    const double rel = relative_error(it->second.values[e], ref.values[e]);
                    worst = std::max(worst, rel);
                    sum += rel;
                }
                result.fp32_error[name] = {
                    worst, ref.values.empty() ? 0 : sum / double(ref.values.size())};
            }
        // The end-to-end reference: the network's inputs as the device holds them, then each
        // op's reference from its inputs' references, unrounded.
        std::map<std::string, ops::host_tensor> e2e;
        std::map<std::string, double> e2e_error;  // each op output's end-to-end error
        auto reference = [&](size_t i, const std::vector<ops::host_tensor>& in) {
            std::vector<ops::host_tensor> ref;
            bool empty = true;
            for (const auto& d : plan.ops[i].call.outputs) {
                ref.push_back({d, std::vector<double>(d.elements())});
                empty = empty && d.elements() == 0;
            }
            // Zero-sized outputs have nothing to compare (references may divide by a 0 dim).
            if (!empty) plan.ops[i].call.schema->reference(in, ref, plan.ops[i].call.attrs);
            return ref;
        };
        for (size_t i = 0; i < w.ops.size(); ++i) {
            const op_decl& o = w.ops[i];
            std::vector<ops::host_tensor> in, in_e2e;
            for (const auto& n : o.inputs) {
                in.push_back(host.at(n));
                const auto it = e2e.find(n);
                in_e2e.push_back(it != e2e.end() ? it->second : host.at(n));
            }
            std::vector<ops::host_tensor> ref, ref_e2e;
            try {  // a reference refuses inputs the op cannot take (a scale of 0 or NaN)
                ref = reference(i, in);
                ref_e2e = reference(i, in_e2e);
            } catch (const ops::op_error& e) {
                result.failure = fmt::format("{}: ops[{}]: {}", o.where, i, e.what());
                break;
            }
            op_check c;
            c.label =
                o.op + " -> " + fmt::format("{}", fmt::join(o.outputs, ",")) + " (" + o.where + ")";
            c.tolerance =
                plan.ops[i].call.schema->tolerance_for(plan.ops[i].call.outputs[0].type());
            double sum_rel = 0, sum_abs = 0;
            // The error the op was handed: its inputs' worst end-to-end error.
            double inherited = 0;
            for (const auto& n : o.inputs) {
                const auto it = e2e_error.find(n);
                if (it != e2e_error.end()) inherited = std::max(inherited, it->second);
            }
            for (size_t j = 0; j < ref.size(); ++j) {
                double out_e2e = 0;
                const auto& got = host.at(o.outputs[j]).values;
                const models::dtype t = ref[j].desc.type();
                std::vector<uint8_t> one(models::dtype_size(t));
                for (size_t e = 0; e < got.size(); ++e) {
                    // The reference rounded to the output dtype, as the device stores it.
                    models::store_from_double(one.data(), t, 0, ref[j].values[e]);
                    const double want = models::load_as_double(one.data(), t, 0);
                    const double rel = relative_error(got[e], want),
                                 abs = absolute_error(got[e], want);
                    if (rel > c.max_error || c.worst.empty()) {
                        c.max_error = std::max(c.max_error, rel);
                        c.worst = fmt::format("{}[{}]", o.outputs[j], e);
                        c.worst_got = got[e];
                        c.worst_want = want;
                    }
                    c.max_abs = std::max(c.max_abs, abs);
                    sum_rel += rel;
                    sum_abs += abs;
                    c.nan += std::isnan(got[e]) ? 1 : 0;
                    c.inf += std::isinf(got[e]) ? 1 : 0;
                    out_e2e = std::max(out_e2e, relative_error(got[e], ref_e2e[j].values[e]));
                }
                c.end_to_end = std::max(c.end_to_end, out_e2e);
                e2e_error[o.outputs[j]] = out_e2e;
                c.elements += got.size();
                e2e.insert_or_assign(o.outputs[j], ref_e2e[j]);
            }
            if (c.elements) {
                c.mean_error = sum_rel / double(c.elements);
                c.mean_abs = sum_abs / double(c.elements);
            }
            c.ok = c.max_error <= c.tolerance;
            // Where the result departs: the first op adding more than its tolerance to what it
            // was handed (a view passes its input's error on and is not named).
            if (result.first_divergent.empty() && c.end_to_end > c.tolerance + inherited)
                result.first_divergent = c.label;
            result.checks.push_back(c);
        }
    }
    result.peak_device_bytes = ctx.memory_stats().at("allocated_bytes.all.peak");
    for (auto& [name, ts] : state)
        if (ts.live && !ts.view) release(name, ts);
    return result;
}

}  // namespace npusim::graph
