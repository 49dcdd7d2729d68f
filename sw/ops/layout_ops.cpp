// Data-movement ops: transpose, gather (embedding lookup) and rotary position embedding.
#include <fmt/format.h>

#include <algorithm>

#include "sw/kernel/layout_kernels.h"
#include "sw/ops/library_parts.h"

namespace npusim::ops::lib {

namespace {

using memory::tensor_desc;
using models::dtype;

/// Calls f(T{}) with T = half for fp16 and float for fp32.
template <class F>
void with_type(dtype t, const F& f) {
    if (t == dtype::fp16)
        f(kernel::half{});
    else
        f(float{});
}

/// Calls f(T{}) for an op that only moves elements: bf16 moves as int16 (its bits, unchanged).
template <class F>
void with_moved_type(dtype t, const F& f) {
    if (t == dtype::bf16)
        f(int16_t{});
    else
        with_type(t, f);
}

/// The dtype a moving kernel is tiled for (bf16 moves as int16).
dtype moved_as(dtype t) {
    return t == dtype::bf16 ? dtype::int16 : t;
}

/// Bytes an op moves in GM when it reads its inputs and writes its outputs once each.
uint64_t all_bytes(const op_call& c) {
    uint64_t n = 0;
    for (const auto& d : c.inputs) n += d.elements() * models::dtype_size(d.type());
    for (const auto& d : c.outputs) n += d.elements() * models::dtype_size(d.type());
    return n;
}

/// A vector kernel of `op` for one float dtype (inputs then outputs); `tile` builds the
/// kernel's tiling struct S, `run` launches it, `traffic` gives the GM bytes for stats.
template <class S, class Tile, class Run>
void add_vector_kernel(registry& r, const std::string& op, const std::string& name,
                       std::vector<dtype> dtypes, Tile tile, Run run, const std::string& where,
                       uint64_t (*traffic)(const op_call&) = all_bytes) {
    op_kernel k;
    k.op = op;
    k.name = name;
    k.dtypes = std::move(dtypes);
    k.tile = [tile, traffic](const op_call& c, const platform::platform_config& p) {
        auto s = std::make_shared<S>(tile(c, vector_core(p), vector_units(p)));
        tiling_plan tp;
        tp.block_dim = s->block_dim;
        tp.kind = models::kernel_kind::vector;
        tp.bytes = traffic(c);
        tp.data = s;
        return tp;
    };
    k.body = [run](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                   const op_buffers& b) { run(ctx, c, *static_cast<const S*>(tp.data.get()), b); };
    r.add_kernel(std::move(k), where);
}

// --- transpose ---

/// The permutation of attribute 'perm' for a tensor of `rank` dims (empty: reversed).
std::vector<int64_t> permutation(const attr_map& attrs, size_t rank) {
    std::vector<int64_t> perm = std::get<std::vector<int64_t>>(attrs.at("perm"));
    if (perm.empty()) {
        for (size_t i = rank; i-- > 0;) perm.push_back(int64_t(i));
        return perm;
    }
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    bool ok = sorted.size() == rank;
    for (size_t i = 0; ok && i < rank; ++i) ok = sorted[i] == int64_t(i);
    if (!ok)
        throw op_error(fmt::format(
            "op 'transpose' attribute 'perm' {} is not a permutation of 0..{} (x has {} dims)",
            dims(perm), int64_t(rank) - 1, rank));
    return perm;
}

void register_transpose(registry& r) {
    op_schema s;
    s.name = "transpose";
    s.doc =
        "y = x with its dims permuted: y.shape[i] = x.shape[perm[i]] (default perm: "
        "reversed)";
    s.inputs = {{"x", {dtype::fp16, dtype::fp32, dtype::bf16}}};
    s.outputs = {{"y", {dtype::fp16, dtype::fp32, dtype::bf16}}};
    s.attrs = {{"perm", std::vector<int64_t>{}, false}};
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map& attrs) {
        const auto& x = in[0].shape();
        std::vector<int64_t> shape;
        for (int64_t p : permutation(attrs, x.size())) shape.push_back(x[size_t(p)]);
        return std::vector<tensor_desc>{tensor_desc("y", in[0].type(), shape)};
    };
    s.reference = [](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                     const attr_map& attrs) {
        const auto& x = in[0].desc.shape();
        const auto perm = permutation(attrs, x.size());
        std::vector<uint64_t> stride(x.size(), 1);  // x's strides
        for (size_t d = x.size(); d-- > 1;) stride[d - 1] = stride[d] * uint64_t(x[d]);
        const auto& y = out[0].desc.shape();
        for (size_t e = 0; e < out[0].values.size(); ++e) {
            uint64_t src = 0, rem = e;
            for (size_t i = y.size(); i-- > 0; rem /= uint64_t(y[i]))
                src += rem % uint64_t(y[i]) * stride[size_t(perm[i])];
            out[0].values[e] = in[0].values[src];
        }
    };
    s.tolerance = 0;  // moves values only
    r.add_op(std::move(s), NPUSIM_HERE);
    for (dtype t : {dtype::fp16, dtype::fp32, dtype::bf16})
        add_vector_kernel<kernel::transpose_tiling>(
            r, "transpose", "transpose_" + std::string(models::to_string(t)), {t, t},
            [t](const op_call& c, const models::core_params& core, unsigned units) {
                return kernel::tile_transpose(core, units, c.inputs[0].shape(),
                                              permutation(c.attrs, c.inputs[0].shape().size()),
                                              moved_as(t));
            },
            [](kernel::kernel_context& ctx, const op_call& c, const kernel::transpose_tiling& tt,
               const op_buffers& b) {
                const uint64_t n = c.inputs[0].elements();
                with_moved_type(c.inputs[0].type(), [&](auto v) {
                    using T = decltype(v);
                    kernel::transpose_kernel<T>(ctx, {b.inputs[0], n}, {b.outputs[0], n}, tt);
                });
            },
            NPUSIM_HERE);
}

// --- gather ---

/// Attribute 'axis' resolved against x's rank (negative counts from the end).
size_t gather_axis(const attr_map& attrs, const tensor_desc& x) {
    const int64_t rank = int64_t(x.shape().size()), axis = std::get<int64_t>(attrs.at("axis"));
    if (rank == 0 || axis < -rank || axis >= rank)
        throw op_error(
            fmt::format("op 'gather' attribute 'axis' is {} but input 'x' {} has {} dims; expected "
                        "{}..{}",
                        axis, dims(x.shape()), rank, -rank, rank - 1));
    return size_t(axis < 0 ? axis + rank : axis);
}

/// x viewed as [outer, axis_len, inner] around the gather axis.
struct gather_view {
    uint64_t outer = 1, axis_len = 1, inner = 1;
};
gather_view view_of(const tensor_desc& x, size_t axis) {
    gather_view v;
    const auto& s = x.shape();
    for (size_t d = 0; d < s.size(); ++d)
        (d < axis ? v.outer : d == axis ? v.axis_len : v.inner) *= uint64_t(s[d]);
    return v;
}

void register_gather(registry& r) {
    op_schema s;
    s.name = "gather";
    s.doc =
        "y = x indexed along 'axis' by indices (int32): y.shape = x.shape[:axis] + "
        "indices.shape + x.shape[axis+1:]; an embedding lookup for axis 0. An index outside "
        "0..x.shape[axis]-1 faults the kernel";
    s.inputs = {{"x", {dtype::fp16, dtype::fp32, dtype::bf16}}, {"indices", {dtype::int32}, true}};
    s.outputs = {{"y", {dtype::fp16, dtype::fp32, dtype::bf16}}};
    s.attrs = {{"axis", int64_t(0), false}};
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map& attrs) {
        const size_t axis = gather_axis(attrs, in[0]);
        const auto& x = in[0].shape();
        if (x[axis] == 0 && in[1].elements() > 0)
            throw op_error(fmt::format(
                "op 'gather' input 'x' {} is empty along axis {}; there is nothing to gather",
                dims(x), axis));
        std::vector<int64_t> shape(x.begin(), x.begin() + long(axis));
        shape.insert(shape.end(), in[1].shape().begin(), in[1].shape().end());
        shape.insert(shape.end(), x.begin() + long(axis) + 1, x.end());
        return std::vector<tensor_desc>{tensor_desc("y", in[0].type(), shape)};
    };
    s.reference = [](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                     const attr_map& attrs) {
        const gather_view v = view_of(in[0].desc, gather_axis(attrs, in[0].desc));
        const uint64_t n = in[1].values.size();
        for (uint64_t p = 0; p < v.outer; ++p)
            for (uint64_t i = 0; i < n; ++i) {
                const double idx = in[1].values[i];
                if (idx < 0 || idx >= double(v.axis_len))
                    throw op_error(
                        fmt::format("op 'gather' reference: indices[{}] = {} is outside "
                                    "0..{}",
                                    i, idx, v.axis_len - 1));
                for (uint64_t j = 0; j < v.inner; ++j)
                    out[0].values[(p * n + i) * v.inner + j] =
                        in[0].values[(p * v.axis_len + uint64_t(idx)) * v.inner + j];
            }
    };
    s.tolerance = 0;  // moves values only
    r.add_op(std::move(s), NPUSIM_HERE);
    for (dtype t : {dtype::fp16, dtype::fp32, dtype::bf16})
        add_vector_kernel<kernel::gather_tiling>(
            r, "gather", "gather_" + std::string(models::to_string(t)), {t, dtype::int32, t},
            [t](const op_call& c, const models::core_params& core, unsigned units) {
                const gather_view v = view_of(c.inputs[0], gather_axis(c.attrs, c.inputs[0]));
                return kernel::tile_gather(core, units, v.outer, v.axis_len, v.inner,
                                           c.inputs[1].elements(), moved_as(t));
            },
            [](kernel::kernel_context& ctx, const op_call& c, const kernel::gather_tiling& g,
               const op_buffers& b) {
                with_moved_type(c.inputs[0].type(), [&](auto v) {
                    using T = decltype(v);
                    kernel::gather_kernel<T>(ctx, {b.inputs[0], c.inputs[0].elements()},
                                             {b.inputs[1], c.inputs[1].elements()},
                                             {b.outputs[0], c.outputs[0].elements()}, g);
                });
            },
            NPUSIM_HERE,
            // the picked rows in and out, and the indices: not the whole table
            [](const op_call& c) {
                return 2 * c.outputs[0].elements() * models::dtype_size(c.outputs[0].type()) +
                       4 * c.inputs[1].elements();
            });
}

// --- rotary position embedding ---

void register_rope(registry& r) {
    op_schema s;
    s.name = "rope";
    s.doc =
        "rotary position embedding, y = x * cos + rotate_half(x) * sin with x [..., S, D] "
        "(D even), rotate_half(x) = concat(-x[..., D/2:], x[..., :D/2]) (NeoX/LLaMA); cos "
        "and sin are [S, D], or [S, D/2] for the same values in both halves";
    s.inputs = {{"x", {dtype::fp16, dtype::fp32}},
                {"cos", {dtype::fp16, dtype::fp32}},
                {"sin", {dtype::fp16, dtype::fp32}}};
    s.outputs = {{"y", {dtype::fp16, dtype::fp32}}};
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map&) {
        const auto& x = in[0].shape();
        if (x.size() < 2 || x.back() % 2 != 0)
            throw op_error(fmt::format(
                "op 'rope' input 'x' {} must have at least 2 dims [..., S, D] with D even",
                dims(x)));
        const int64_t seq = x[x.size() - 2], dim = x.back();
        for (size_t i : {1, 2}) {
            const char* name = i == 1 ? "cos" : "sin";
            if (in[i].type() != in[0].type())
                throw op_error(fmt::format(
                    "op 'rope' input '{}' is {} but 'x' is {}; all must "
                    "have the same dtype",
                    name, models::to_string(in[i].type()), models::to_string(in[0].type())));
            const auto& t = in[i].shape();
            if (t.size() != 2 || t[0] != seq || (t[1] != dim && t[1] != dim / 2))
                throw op_error(fmt::format(
                    "op 'rope' input '{}' has shape {}; for x {} it must be [{},{}] or [{},{}]",
                    name, dims(t), dims(x), seq, dim, seq, dim / 2));
        }
        if (in[1].shape() != in[2].shape())
            throw op_error(
                fmt::format("op 'rope' inputs 'cos' {} and 'sin' {} must have the "
                            "same shape",
                            dims(in[1].shape()), dims(in[2].shape())));
        return std::vector<tensor_desc>{tensor_desc("y", in[0].type(), x)};
    };
    s.reference = [](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                     const attr_map&) {
        const auto& x = in[0].desc.shape();
        const uint64_t seq = uint64_t(x[x.size() - 2]), dim = uint64_t(x.back()), h = dim / 2;
        const uint64_t tdim = uint64_t(in[1].desc.shape()[1]);
        for (uint64_t row = 0; row < out[0].values.size() / dim; ++row) {
            const double* xr = &in[0].values[row * dim];
            const uint64_t srow = row % seq;
            for (uint64_t j = 0; j < dim; ++j) {
                const uint64_t tj = srow * tdim + (tdim == dim ? j : j % h);
                const double rot = j < h ? -xr[j + h] : xr[j - h];
                out[0].values[row * dim + j] = xr[j] * in[1].values[tj] + rot * in[2].values[tj];
            }
        }
    };
    // The kernel rounds both products and their sum to the dtype: up to about 2 ulps of the
    // products' size, i.e. 2^-10 (|x cos| + |x sin|) <= 2e-3 (|y| + 1) for fp16; fp32 is far
    // inside.
    s.tolerance = 2e-3;
    r.add_op(std::move(s), NPUSIM_HERE);
    for (dtype t : {dtype::fp16, dtype::fp32})
        add_vector_kernel<kernel::rope_tiling>(
            r, "rope", "rope_" + std::string(models::to_string(t)), {t, t, t, t},
            [t](const op_call& c, const models::core_params& core, unsigned units) {
                const auto& x = c.inputs[0].shape();
                const uint64_t seq = uint64_t(x[x.size() - 2]), dim = uint64_t(x.back());
                const uint64_t batch = seq * dim > 0 ? c.inputs[0].elements() / (seq * dim) : 0;
                return kernel::tile_rope(core, units, batch, seq, dim,
                                         uint64_t(c.inputs[1].shape()[1]) != dim, t);
            },
            [](kernel::kernel_context& ctx, const op_call& c, const kernel::rope_tiling& rt,
               const op_buffers& b) {
                with_type(c.inputs[0].type(), [&](auto v) {
                    using T = decltype(v);
                    kernel::rope_kernel<T>(ctx, {b.inputs[0], c.inputs[0].elements()},
                                           {b.inputs[1], c.inputs[1].elements()},
                                           {b.inputs[2], c.inputs[2].elements()},
                                           {b.outputs[0], c.outputs[0].elements()}, rt);
                });
            },
            NPUSIM_HERE);
}

}  // namespace

void register_layout(registry& r) {
    register_transpose(r);
    register_gather(r);
    register_rope(r);
}

}  // namespace npusim::ops::lib
