// Row-wise ops: reductions along an axis, softmax, layernorm and rmsnorm, on the vector unit.
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <type_traits>

#include "sw/kernel/row_kernels.h"
#include "sw/ops/library_parts.h"

namespace npusim::ops::lib {

namespace {

using kernel::half;
using kernel::local_tensor;
using memory::tensor_desc;
using models::dtype;
using models::vec_opcode;

/// Calls f(T{}) with T the kernel element type of t (half or float).
template <class F>
void with_type(dtype t, const F& f) {
    if (t == dtype::fp16)
        f(half{});
    else
        f(float{});
}

/// The axis attribute in 0..rank-1. @throws op_error when out of range.
int64_t resolve_axis(const std::string& op, const attr_map& attrs, const tensor_desc& x) {
    const auto rank = int64_t(x.shape().size());
    const int64_t axis = std::get<int64_t>(attrs.at("axis"));
    if (axis < -rank || axis >= rank)
        throw op_error(fmt::format(
            "op '{}' attribute 'axis' is {} but input 'x' has {} dimensions; expected {}..{}", op,
            axis, rank, -rank, rank - 1));
    return axis < 0 ? axis + rank : axis;
}

/// [outer, inner] = elements before and from `axis` (rows and columns for last-axis ops).
std::pair<uint64_t, uint64_t> split_at(const tensor_desc& x, int64_t axis) {
    uint64_t outer = 1, inner = 1;
    for (size_t i = 0; i < x.shape().size(); ++i)
        (int64_t(i) < axis ? outer : inner) *= uint64_t(x.shape()[i]);
    return {outer, inner};
}

/// The last dimension of x, which row-wise ops normalise over.
uint64_t last_dim(const tensor_desc& x) {
    return x.shape().empty() ? 1 : uint64_t(x.shape().back());
}

/// @throws op_error if the input has no dimensions.
void need_dims(const std::string& op, const tensor_desc& x) {
    if (x.shape().empty())
        throw op_error(fmt::format("op '{}' input 'x' has no dimensions; expected at least 1", op));
}

/// @throws op_error unless `p` (gamma or beta) has shape [C], C the last dimension of x.
void need_row_param(const std::string& op, const char* name, const tensor_desc& p,
                    const tensor_desc& x) {
    const auto c = int64_t(last_dim(x));
    if (p.shape() != std::vector<int64_t>{c})
        throw op_error(
            fmt::format("op '{}' input '{}' has shape {}; expected [{}], the last "
                        "dimension of 'x' {}",
                        op, name, dims(p.shape()), c, dims(x.shape())));
    if (p.type() != x.type())
        throw op_error(
            fmt::format("op '{}' input '{}' is {} but 'x' is {}; both must have the "
                        "same dtype",
                        op, name, models::to_string(p.type()), models::to_string(x.type())));
}

/// Applicability and tiling of a row kernel: one row with its queues must fit UB. `wide`
/// (fp16 data computed in fp32) adds `calc_rows` fp32 row buffers, and the scratch is fp32.
kernel::row_tiling row_tiling_for(const op_call& c, const platform::platform_config& p,
                                  unsigned row_buffers, unsigned param_rows, bool wide = false,
                                  unsigned calc_rows = 0) {
    const unsigned e = models::dtype_size(c.inputs[0].type());
    const uint64_t cols = last_dim(c.inputs[0]);
    const uint64_t rows = c.inputs[0].elements() / std::max<uint64_t>(1, cols);
    const uint64_t stride = (cols + 256 / e - 1) / (256 / e) * (256 / e);
    if (!wide)
        return kernel::tile_rows(vector_core(p), vector_units(p), rows, cols, e, row_buffers,
                                 param_rows * stride * e);
    return kernel::tile_rows(vector_core(p), vector_units(p), rows, cols, e, row_buffers,
                             param_rows * stride * e, calc_rows, 4);
}

/// fp16 statistics (sums, means, variances) are computed in fp32, as CANN does: an fp16 mean
/// rounds by 2^-11 of itself, as much as the deviations of a row of close values.
bool wide_stats(dtype t) {
    return t == dtype::fp16;
}

tiling_plan row_plan(const kernel::row_tiling& t, uint64_t bytes, double flops) {
    tiling_plan tp;
    tp.block_dim = t.block_dim;
    tp.kind = models::kernel_kind::vector;
    tp.bytes = bytes;
    tp.flops = flops;
    tp.data = std::make_shared<kernel::row_tiling>(t);
    return tp;
}

const kernel::row_tiling& row_tiling_of(const tiling_plan& tp) {
    return *static_cast<const kernel::row_tiling*>(tp.data.get());
}

// --- reductions: y = reduce of x along `axis` ---

/// Tiling of a reduction over the middle axis of [outer, k, inner]: work items are chunks of
/// `chunk` inner elements of one outer index.
struct axis_reduce_tiling {
    uint64_t outer = 0, k = 0, inner = 0, chunk = 0;
    unsigned block_dim = 1;
    uint64_t items() const { return outer * ((inner + chunk - 1) / chunk); }
};

const axis_reduce_tiling& axis_tiling_of(const tiling_plan& tp) {
    return *static_cast<const axis_reduce_tiling*>(tp.data.get());
}

/// y = combine over k of x[o, k, chunk] for each work item of this block, accumulated in A
/// (fp32 for fp16 sums, so k roundings do not add up), times `scale` (1/k for a mean).
template <class T, class A>
void axis_reduce_kernel(kernel::kernel_context& ctx, vec_opcode combine, uint64_t x, uint64_t y,
                        const axis_reduce_tiling& t, float scale) {
    constexpr bool same = std::is_same_v<T, A>;
    kernel::tque<T> qx(ctx, kernel::position::VECIN, 2, t.chunk);
    kernel::tque<T> qy(ctx, kernel::position::VECOUT, 2, t.chunk);
    const auto acc = ctx.alloc<A>(kernel::position::VECCALC, t.chunk);
    local_tensor<A> wide;
    if constexpr (!same) wide = ctx.alloc<A>(kernel::position::VECCALC, t.chunk);
    const uint64_t chunks = (t.inner + t.chunk - 1) / t.chunk;
    const kernel::global_tensor<T> gx{x, t.outer * t.k * t.inner}, gy{y, t.outer * t.inner};
    for (uint64_t item = ctx.block_idx(); item < t.items(); item += ctx.block_num()) {
        const uint64_t o = item / chunks, i0 = item % chunks * t.chunk;
        const uint64_t len = std::min(t.chunk, t.inner - i0);
        for (uint64_t k = 0; k < t.k; ++k) {
            auto xl = qx.alloc_tensor();
            ctx.data_copy(xl, gx[(o * t.k + k) * t.inner + i0], len);
            qx.enque(xl);
            auto xi = qx.deque();
            local_tensor<A> v;
            if constexpr (same) {
                v = xi;
            } else {
                ctx.cast(wide, xi, len);
                v = wide;
            }
            if (k == 0)
                ctx.unary(vec_opcode::muls, acc, v, len, 1.f);
            else
                ctx.vector_binary(combine, acc, acc, v, len);
            qx.free_tensor(xi);
        }
        auto yl = qy.alloc_tensor();
        if constexpr (same) {
            ctx.unary(vec_opcode::muls, yl, acc, len, scale);
        } else {
            ctx.unary(vec_opcode::muls, acc, acc, len, scale);
            ctx.cast(yl, acc, len);
        }
        qy.enque(yl);
        auto yo = qy.deque();
        ctx.data_copy(gy[o * t.inner + i0], yo, len);
        qy.free_tensor(yo);
    }
}

/// Reduces each row of the last axis: stat per row, scaled by `scale`, computed in A (fp32
/// for fp16 sums: the tile is cast to fp32 first, so the halving tree's partial sums do not
/// round to fp16; the tiling then holds one fp32 tile, see row_tiling_for).
template <class T, class A = T>
void last_axis_reduce(kernel::kernel_context& ctx, vec_opcode combine, uint64_t x, uint64_t y,
                      const kernel::row_tiling& t, float scale) {
    constexpr bool same = std::is_same_v<T, A>;
    const float identity = combine == vec_opcode::max ? -std::numeric_limits<float>::infinity() : 0;
    kernel::row_scratch<A> s(ctx, t);
    local_tensor<A> wide;
    if constexpr (!same) wide = ctx.alloc<A>(kernel::position::VECCALC, t.tile_rows * t.stride);
    kernel::row_kernel<T, T>(
        ctx, {x, t.rows * t.cols}, {y, t.rows}, kernel::row_output::values, t,
        [&](local_tensor<T> xt, local_tensor<T> yt, uint64_t rows) {
            if constexpr (same) {
                kernel::fill_row_padding(ctx, xt, rows, t.cols, t.stride, identity);
                kernel::reduce_rows(ctx, combine, yt, xt, s.half, rows, t.stride);
                if (scale != 1.f) ctx.unary(vec_opcode::muls, yt, yt, rows, scale);
            } else {
                ctx.cast(wide, xt, rows * t.stride);
                kernel::fill_row_padding(ctx, wide, rows, t.cols, t.stride, identity);
                kernel::reduce_rows(ctx, combine, s.stat, wide, s.half, rows, t.stride);
                if (scale != 1.f) ctx.unary(vec_opcode::muls, s.stat, s.stat, rows, scale);
                ctx.cast(yt, s.stat, rows);
            }
        });
}

/// Tiling of a reduction over a last axis too long for a row to fit UB: each row in chunks.
struct long_reduce_tiling {
    uint64_t rows = 0, cols = 0, chunk = 0, per_block = 1;
    unsigned block_dim = 1;
};

constexpr uint64_t k_long_group = 8;  // rows whose values are reduced and stored together

/// Per chunk column: two x buffers, the fp32 copy (fp16 sums) and the halving scratch (half
/// a column); a group's per-row accumulators, values and output buffers and slack: 4 KiB.
long_reduce_tiling long_reduce_for(const op_call& c, const platform::platform_config& p,
                                   bool wide) {
    long_reduce_tiling t;
    const unsigned e = models::dtype_size(c.inputs[0].type()), a = wide ? 4 : e;
    const uint64_t per = 256 / e;
    t.cols = last_dim(c.inputs[0]);
    t.rows = c.inputs[0].elements() / std::max<uint64_t>(1, t.cols);
    const uint64_t ub = vector_core(p).buffer(models::mem_space::ub).size;
    const uint64_t twice_bytes_per_col = 2 * (2 * e + (wide ? a : 0)) + a;
    t.chunk = std::min(ub > 4096 ? (ub - 4096) * 2 / twice_bytes_per_col / per * per : 0,
                       (t.cols + per - 1) / per * per);
    const unsigned units = vector_units(p);
    t.per_block = std::max<uint64_t>(1, (t.rows + units - 1) / units);
    t.block_dim = unsigned((t.rows + t.per_block - 1) / t.per_block);
    return t;
}

/// Reduces rows longer than UB holds: each chunk (cast to A, padded with the identity) is
/// folded to one repeat and combined into its row's repeat accumulator; a group's accumulators
/// are then reduced to one value each and stored together.
template <class T, class A = T>
void long_last_axis_reduce(kernel::kernel_context& ctx, vec_opcode combine, uint64_t x, uint64_t y,
                           const long_reduce_tiling& t, float scale) {
    using kernel::position;
    constexpr bool same = std::is_same_v<T, A>;
    const uint64_t per = 256 / sizeof(T), per_a = 256 / sizeof(A);
    const float identity = combine == vec_opcode::max ? -std::numeric_limits<float>::infinity() : 0;
    kernel::tque<T> qx(ctx, position::VECIN, 2, t.chunk),
        qy(ctx, position::VECOUT, 2, k_long_group);
    const auto half = ctx.alloc<A>(position::VECCALC, std::max(per_a, t.chunk / per_a / 2 * per_a));
    const auto acc = ctx.alloc<A>(position::VECCALC, k_long_group * per_a);
    const auto vals = ctx.alloc<A>(position::VECCALC, k_long_group);
    local_tensor<A> xw;
    if constexpr (!same) xw = ctx.alloc<A>(position::VECCALC, t.chunk);
    const uint64_t first = uint64_t(ctx.block_idx()) * t.per_block;
    const uint64_t last = std::min(t.rows, first + t.per_block);
    for (uint64_t g0 = first; g0 < last; g0 += k_long_group) {
        const uint64_t n = std::min(k_long_group, last - g0);
        for (uint64_t i = 0; i < n; ++i) {
            const kernel::global_tensor<T> row{x + (g0 + i) * t.cols * sizeof(T), t.cols};
            for (uint64_t c0 = 0; c0 < t.cols; c0 += t.chunk) {
                const uint64_t len = std::min(t.chunk, t.cols - c0);
                const uint64_t padded = (len + per - 1) / per * per;
                auto xl = qx.alloc_tensor();
                ctx.data_copy(xl, row[c0], len);
                qx.enque(xl);
                auto xi = qx.deque();
                local_tensor<A> v;
                if constexpr (same) {
                    v = xi;
                } else {
                    ctx.cast(xw, xi, padded);
                    v = xw;
                }
                kernel::fill_row_padding(ctx, v, 1, len, padded, identity);
                local_tensor<A> one = v;
                if (padded / per_a > 1) {
                    kernel::fold_row(ctx, combine, half, v, padded / per_a);
                    one = half;
                }
                const local_tensor<A> a = acc[i * per_a];
                if (c0 == 0)
                    ctx.unary(vec_opcode::muls, a, one, per_a, 1.f);
                else
                    ctx.vector_binary(combine, a, a, one, per_a);
                qx.free_tensor(xi);
            }
        }
        auto yl = qy.alloc_tensor();
        if constexpr (same) {
            kernel::reduce_rows(ctx, combine, yl, acc, half, n, per_a);
            if (scale != 1.f) ctx.unary(vec_opcode::muls, yl, yl, n, scale);
        } else {
            kernel::reduce_rows(ctx, combine, vals, acc, half, n, per_a);
            if (scale != 1.f) ctx.unary(vec_opcode::muls, vals, vals, n, scale);
            ctx.cast(yl, vals, n);
        }
        qy.enque(yl);
        auto yo = qy.deque();
        ctx.data_copy(kernel::global_tensor<T>{y, t.rows}[g0], yo, n);
        qy.free_tensor(yo);
    }
}

void register_reduction(registry& r, const std::string& name, const std::string& doc,
                        vec_opcode combine, bool mean) {
    op_schema s;
    s.name = name;
    s.doc = doc;
    s.inputs = {{"x", {dtype::fp16, dtype::fp32}}};
    s.outputs = {{"y", {dtype::fp16, dtype::fp32}}};
    s.attrs = {{"axis", int64_t(-1)}, {"keepdims", false}};
    s.infer = [name, combine](const std::vector<tensor_desc>& in, const attr_map& attrs) {
        need_dims(name, in[0]);
        const int64_t axis = resolve_axis(name, attrs, in[0]);
        if (combine == vec_opcode::max && in[0].shape()[size_t(axis)] == 0)
            throw op_error(fmt::format(
                "op '{}' input 'x' {} has no elements along attribute 'axis' ({}): the max of "
                "nothing is undefined (PyTorch raises too); reduce a non-empty axis",
                name, dims(in[0].shape()), axis));
        std::vector<int64_t> shape;
        for (size_t i = 0; i < in[0].shape().size(); ++i)
            if (int64_t(i) != axis)
                shape.push_back(in[0].shape()[i]);
            else if (std::get<bool>(attrs.at("keepdims")))
                shape.push_back(1);
        if (shape.empty()) shape.push_back(1);
        return std::vector<tensor_desc>{tensor_desc("y", in[0].type(), shape)};
    };
    s.reference = [combine, mean, name](const std::vector<host_tensor>& in,
                                        std::vector<host_tensor>& out, const attr_map& attrs) {
        const int64_t axis = resolve_axis(name, attrs, in[0].desc);
        const uint64_t outer = split_at(in[0].desc, axis).first;
        const uint64_t k = uint64_t(in[0].desc.shape()[size_t(axis)]);
        const uint64_t inner = split_at(in[0].desc, axis + 1).second;
        for (uint64_t o = 0; o < outer; ++o)
            for (uint64_t i = 0; i < inner; ++i) {
                double acc = combine == vec_opcode::max ? -INFINITY : 0;
                for (uint64_t j = 0; j < k; ++j) {
                    const double v = in[0].values[(o * k + j) * inner + i];
                    acc = combine == vec_opcode::max ? std::max(acc, v) : acc + v;
                }
                out[0].values[o * inner + i] = mean ? acc / double(k) : acc;
            }
    };
    // Max is exact. Sums (and means) of fp16 accumulate in fp32 along every axis, so the check
    // (|got - want| / (|want| + 1), want rounded to fp16 as stored) sees two terms:
    //  - the fp32 halving tree: each of its ~log2(k) levels rounds a partial within 2^-24 of
    //    itself, a bound of log2(k) 2^-24 sum|x| that grows with sum|x|, not with |want| + 1.
    //    For the checked data (|x| <= 1, k <= 2^16) that worst case is 2^-4, far above any
    //    tolerance, but the roundings are independent and of either sign: their sum has a
    //    standard deviation near 2^-25 sqrt(log2(k) sum x^2) <= 2^-25 sqrt(16 * 2^16), 3e-5;
    //  - the result rounded to fp16 once more: the fp32 sum and the exact one can round to
    //    neighbouring fp16 values, one ulp, 2^-10 |want| < 1e-3 (|want| + 1).
    // (Summing in fp16 added an fp16 rounding per level, up to log2(k) 2^-11 sum|x| / (|want|
    // + 1): 0.0041 was seen with k = 33k.) fp32 inputs see only the first term.
    s.tolerance = combine == vec_opcode::max ? 0 : 2e-3;
    r.add_op(std::move(s), NPUSIM_HERE);
    for (dtype t : {dtype::fp16, dtype::fp32}) {
        // Over an empty axis (max is refused at planning): the sum of nothing is 0 and its
        // mean 0 / 0, NaN, as in PyTorch.
        add_fill_kernel(
            r, name, {t, t},
            [name](const op_call& c) {
                const int64_t axis = resolve_axis(name, c.attrs, c.inputs[0]);
                return c.inputs[0].shape()[size_t(axis)] == 0;
            },
            mean ? std::numeric_limits<double>::quiet_NaN() : 0.0, NPUSIM_HERE);
        // fp16 sums over the last axis: fp32 tiles to sum in (max is exact in fp16)
        const bool wide = combine == vec_opcode::add && wide_stats(t);
        const auto last_axis = [name](const op_call& c) {
            return resolve_axis(name, c.attrs, c.inputs[0]) + 1 ==
                   int64_t(c.inputs[0].shape().size());
        };
        op_kernel k;
        k.op = name;
        k.name = name + "_" + models::to_string(t);
        k.dtypes = {t, t};
        k.applies = [last_axis, wide](const op_call& c, const platform::platform_config& p) {
            return !last_axis(c) || row_tiling_for(c, p, 3, 0, wide, 1).tile_rows > 0;
        };
        k.tile = [name, t, wide](const op_call& c, const platform::platform_config& p) {
            const int64_t axis = resolve_axis(name, c.attrs, c.inputs[0]);
            const uint64_t n = c.inputs[0].elements(), e = models::dtype_size(t);
            if (axis + 1 == int64_t(c.inputs[0].shape().size())) {
                auto rt = row_tiling_for(c, p, 3, 0, wide, 1);
                if (rt.tile_rows == 0)
                    throw op_error(
                        fmt::format("op '{}' rows of {} elements do not fit UB on {}; "
                                    "reduce a shorter axis",
                                    name, rt.cols, p.name));
                return row_plan(rt, (n + c.outputs[0].elements()) * e, double(n));
            }
            auto [outer, rest] = split_at(c.inputs[0], axis);
            axis_reduce_tiling at;
            at.outer = outer;
            at.k = uint64_t(c.inputs[0].shape()[size_t(axis)]);
            at.inner = rest / at.k;
            // four T buffers (two in, two out) and two fp32 accumulators in UB
            const uint64_t ub = vector_core(p).buffer(models::mem_space::ub).size;
            at.chunk =
                std::min<uint64_t>(at.inner, std::max<uint64_t>(64, ub / (4 * e + 8) / 64 * 64));
            at.block_dim = unsigned(std::min<uint64_t>(vector_units(p), at.items()));
            tiling_plan tp;
            tp.block_dim = at.block_dim;
            tp.kind = models::kernel_kind::vector;
            tp.bytes = (n + c.outputs[0].elements()) * e;
            tp.flops = double(n);
            tp.data = std::make_shared<axis_reduce_tiling>(at);
            return tp;
        };
        k.body = [name, t, combine, mean](kernel::kernel_context& ctx, const op_call& c,
                                          const tiling_plan& tp, const op_buffers& b) {
            const int64_t axis = resolve_axis(name, c.attrs, c.inputs[0]);
            const uint64_t k = uint64_t(c.inputs[0].shape()[size_t(axis)]);
            const float scale = mean ? float(1.0 / double(k)) : 1.f;
            const bool last = axis + 1 == int64_t(c.inputs[0].shape().size());
            with_type(t, [&](auto type) {
                using T = decltype(type);
                if (last && combine == vec_opcode::add)
                    last_axis_reduce<T, float>(ctx, combine, b.inputs[0], b.outputs[0],
                                               row_tiling_of(tp), scale);
                else if (last)
                    last_axis_reduce<T>(ctx, combine, b.inputs[0], b.outputs[0], row_tiling_of(tp),
                                        scale);
                else if (combine == vec_opcode::add)
                    axis_reduce_kernel<T, float>(ctx, combine, b.inputs[0], b.outputs[0],
                                                 axis_tiling_of(tp), scale);
                else  // max is exact in any type
                    axis_reduce_kernel<T, T>(ctx, combine, b.inputs[0], b.outputs[0],
                                             axis_tiling_of(tp), scale);
            });
        };
        r.add_kernel(std::move(k), NPUSIM_HERE);

        // rows longer than a UB tile holds (priority -1: only when the row kernel does not apply)
        op_kernel lk;
        lk.op = name;
        lk.name = name + "_long_rows_" + models::to_string(t);
        lk.dtypes = {t, t};
        lk.priority = -1;
        lk.applies = [last_axis](const op_call& c, const platform::platform_config&) {
            return last_axis(c);
        };
        lk.tile = [name, wide](const op_call& c, const platform::platform_config& p) {
            const auto lt = long_reduce_for(c, p, wide);
            if (lt.chunk == 0)
                throw op_error(fmt::format("op '{}' cannot reduce rows on {}: its UB is too small",
                                           name, p.name));
            const uint64_t n = c.inputs[0].elements();
            tiling_plan tp;
            tp.block_dim = lt.block_dim;
            tp.kind = models::kernel_kind::vector;
            tp.bytes = (n + c.outputs[0].elements()) * models::dtype_size(c.inputs[0].type());
            tp.flops = double(n);
            tp.data = std::make_shared<long_reduce_tiling>(lt);
            return tp;
        };
        lk.body = [t, combine, mean, wide](kernel::kernel_context& ctx, const op_call& c,
                                           const tiling_plan& tp, const op_buffers& b) {
            const uint64_t k = last_dim(c.inputs[0]);
            const float scale = mean ? float(1.0 / double(k)) : 1.f;
            const auto& lt = *static_cast<const long_reduce_tiling*>(tp.data.get());
            with_type(t, [&](auto type) {
                using T = decltype(type);
                if (wide)
                    long_last_axis_reduce<T, float>(ctx, combine, b.inputs[0], b.outputs[0], lt,
                                                    scale);
                else
                    long_last_axis_reduce<T>(ctx, combine, b.inputs[0], b.outputs[0], lt, scale);
            });
        };
        r.add_kernel(std::move(lk), NPUSIM_HERE);
    }
}

// --- softmax, layernorm and rmsnorm over the last axis ---

/// Registers the fp16 and fp32 kernels of a row-wise normalisation whose inputs are x and
/// `params` row vectors (gamma, beta) and whose compute is `body`; `wide`: fp16 is computed in
/// two fp32 row buffers per tile (see normalise_rows).
template <class Body>
void register_row_kernels(registry& r, const std::string& op, unsigned params, double flops_per,
                          bool wide, Body body) {
    for (dtype t : {dtype::fp16, dtype::fp32}) {
        op_kernel k;
        k.op = op;
        k.name = op + "_" + models::to_string(t);
        k.dtypes = std::vector<dtype>(params + 2, t);
        const bool w = wide && wide_stats(t);
        k.applies = [params, w](const op_call& c, const platform::platform_config& p) {
            return row_tiling_for(c, p, 4, params, w, 2).tile_rows > 0;
        };
        k.tile = [params, flops_per, w](const op_call& c, const platform::platform_config& p) {
            const auto rt = row_tiling_for(c, p, 4, params, w, 2);
            const uint64_t n = c.inputs[0].elements(), e = models::dtype_size(c.inputs[0].type());
            return row_plan(rt, (2 * n + params * rt.cols) * e, flops_per * double(n));
        };
        k.body = [t, body](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                           const op_buffers& b) {
            with_type(t, [&](auto type) { body(type, ctx, c, row_tiling_of(tp), b); });
        };
        r.add_kernel(std::move(k), NPUSIM_HERE);
    }
}

/// Copies the row parameters (gamma, beta: cols elements each) into UB once per block.
template <class T>
std::vector<local_tensor<T>> load_row_params(kernel::kernel_context& ctx,
                                             const std::vector<uint64_t>& addrs,
                                             const kernel::row_tiling& t) {
    std::vector<local_tensor<T>> out;
    for (uint64_t a : addrs) {
        out.push_back(ctx.alloc<T>(kernel::position::VECCALC, t.stride));
        ctx.data_copy(out.back(), kernel::global_tensor<T>{a, t.cols}, t.cols);
    }
    // the vector pipe reads them: wait for MTE2 once
    const uint32_t id = ctx.alloc_event_id(models::pipe_id::MTE2, models::pipe_id::V);
    ctx.set_flag(models::pipe_id::MTE2, models::pipe_id::V, id);
    ctx.wait_flag(models::pipe_id::MTE2, models::pipe_id::V, id);
    return out;
}

// --- rows longer than UB holds: each row in chunks, one pass per statistic ---

enum class row_op { softmax, layernorm, rmsnorm };

/// Chunks of a long row: `chunk` columns (whole repeats) per UB tile; rows split over blocks.
struct long_row_tiling {
    uint64_t rows = 0, cols = 0, chunk = 0, per_block = 1;
    unsigned block_dim = 1;
};

/// Seven and a half chunk buffers (x, parameters and y queues, a work chunk, the halving
/// scratch) fit UB; `wide` (fp16 computed in fp32): six fp16 queue buffers, two fp32 chunks
/// (x, work) and the fp32 halving scratch.
long_row_tiling long_rows_for(const op_call& c, const platform::platform_config& p, bool wide) {
    long_row_tiling t;
    const unsigned e = models::dtype_size(c.inputs[0].type());
    const uint64_t per = 256 / e;
    t.cols = last_dim(c.inputs[0]);
    t.rows = c.inputs[0].elements() / std::max<uint64_t>(1, t.cols);
    const uint64_t ub = vector_core(p).buffer(models::mem_space::ub).size;
    const uint64_t twice_bytes_per_col = wide ? 2 * (6 * e + 2 * 4 + 2) : 15 * e;
    t.chunk =
        std::min((ub - 2048) * 2 / twice_bytes_per_col / per * per, (t.cols + per - 1) / per * per);
    const unsigned units = vector_units(p);
    t.per_block = std::max<uint64_t>(1, (t.rows + units - 1) / units);
    t.block_dim = unsigned((t.rows + t.per_block - 1) / t.per_block);
    return t;
}

/// The long-row kernel: statistics accumulate chunk by chunk into one value per pass (max or
/// sum), then a last pass writes y. x is read once per pass. The compute runs in A: fp32 for
/// fp16 norms (each chunk cast to fp32, y cast back), T for softmax.
template <class T, class A = T>
void long_rows(kernel::kernel_context& ctx, row_op op, const long_row_tiling& t,
               const op_buffers& b, float eps) {
    using kernel::position;
    constexpr bool same = std::is_same_v<T, A>;
    const uint64_t per = 256 / sizeof(T), per_a = 256 / sizeof(A), per_block = 32 / sizeof(A);
    kernel::tque<T> qx(ctx, position::VECIN, 2, t.chunk), qp(ctx, position::VECIN, 2, t.chunk);
    kernel::tque<T> qy(ctx, position::VECOUT, 2, t.chunk);
    const auto work = ctx.alloc<A>(position::VECCALC, t.chunk);
    const auto half = ctx.alloc<A>(position::VECCALC, std::max(per_a, t.chunk / per_a / 2 * per_a));
    const auto part = ctx.alloc<A>(position::VECCALC, per_block);
    const auto stat = ctx.alloc<A>(position::VECCALC, 2 * per_block);  // two statistics
    const auto blocks = ctx.alloc<A>(position::VECCALC, 8 * per_block);
    local_tensor<A> xw;  // the x chunk in A
    if constexpr (!same) xw = ctx.alloc<A>(position::VECCALC, t.chunk);
    const auto s0 = stat, s1 = stat[per_block];
    const float inv_c = float(1.0 / double(t.cols));
    const uint64_t first = uint64_t(ctx.block_idx()) * t.per_block;
    const uint64_t last = std::min(t.rows, first + t.per_block);
    for (uint64_t r = first; r < last; ++r) {
        const uint64_t row = b.inputs[0] + r * t.cols * sizeof(T);
        // One pass over the row's chunks: fn(x chunk, column, length, padded length).
        auto pass = [&](const auto& fn) {
            for (uint64_t c0 = 0; c0 < t.cols; c0 += t.chunk) {
                const uint64_t len = std::min(t.chunk, t.cols - c0);
                auto xl = qx.alloc_tensor();
                ctx.data_copy(xl, kernel::global_tensor<T>{row, t.cols}[c0], len);
                qx.enque(xl);
                auto xi = qx.deque();
                const uint64_t padded = (len + per - 1) / per * per;
                if constexpr (same) {
                    fn(xi, c0, len, padded);
                } else {
                    ctx.cast(xw, xi, padded);
                    fn(xw, c0, len, padded);
                }
                qx.free_tensor(xi);
            }
        };
        // acc = combine over chunks of reduce(v): the chunk's padding must hold the identity.
        auto accumulate = [&](local_tensor<A> acc, vec_opcode combine, local_tensor<A> v,
                              uint64_t c0, uint64_t padded) {
            kernel::reduce_rows(ctx, combine, part, v, half, 1, padded);
            if (c0 == 0)
                ctx.unary(vec_opcode::muls, acc, part, 1, 1.f);
            else
                ctx.vector_binary(combine, acc, acc, part, 1);
        };
        // y chunk = after(f(x chunk)), stored at the chunk's place in the output row: f computes
        // in A, `after` in T (once y is cast back).
        auto produce = [&](const auto& fn, const auto& after) {
            pass([&](local_tensor<A> x, uint64_t c0, uint64_t len, uint64_t padded) {
                auto y = qy.alloc_tensor();
                if constexpr (same) {
                    fn(y, x, c0, len, padded);
                } else {  // work is free in the last pass
                    fn(work, x, c0, len, padded);
                    ctx.cast(y, work, padded);
                }
                after(y, c0, len, padded);
                qy.enque(y);
                auto yo = qy.deque();
                ctx.data_copy(
                    kernel::global_tensor<T>{b.outputs[0] + r * t.cols * sizeof(T), t.cols}[c0], yo,
                    len);
                qy.free_tensor(yo);
            });
        };
        auto spread = [&](local_tensor<A> s) { ctx.brcb(blocks, s, 1); };
        const float ninf = -std::numeric_limits<float>::infinity();
        if (op == row_op::softmax) {
            pass([&](local_tensor<A> x, uint64_t c0, uint64_t len, uint64_t padded) {
                kernel::fill_row_padding(ctx, x, 1, len, padded, ninf);
                accumulate(s0, vec_opcode::max, x, c0, padded);
            });
            spread(s0);
            pass([&](local_tensor<A> x, uint64_t c0, uint64_t len, uint64_t padded) {
                kernel::fill_row_padding(ctx, x, 1, len, padded, ninf);
                ctx.binary_block(vec_opcode::sub, work, x, blocks, padded);
                ctx.unary(vec_opcode::exp, work, work, padded);
                accumulate(s1, vec_opcode::add, work, c0, padded);
            });
            ctx.duplicate(part, 1.f, 1);
            ctx.div(s1, part, s1, 1);
            produce(
                [&](local_tensor<A> y, local_tensor<A> x, uint64_t, uint64_t, uint64_t n) {
                    ctx.brcb(blocks, s0, 1);
                    ctx.binary_block(vec_opcode::sub, y, x, blocks, n);
                    ctx.unary(vec_opcode::exp, y, y, n);
                    ctx.brcb(blocks, s1, 1);
                    ctx.binary_block(vec_opcode::mul, y, y, blocks, n);
                },
                [](local_tensor<T>, uint64_t, uint64_t, uint64_t) {});
            continue;
        }
        const bool centre = op == row_op::layernorm;
        if (centre) {
            pass([&](local_tensor<A> x, uint64_t c0, uint64_t len, uint64_t padded) {
                kernel::fill_row_padding(ctx, x, 1, len, padded, 0);
                accumulate(s0, vec_opcode::add, x, c0, padded);
            });
            ctx.unary(vec_opcode::muls, s0, s0, 1, inv_c);  // the mean
            spread(s0);
        }
        // the variance (or mean square); A is fp32 here, so squares stay in range
        pass([&](local_tensor<A> x, uint64_t c0, uint64_t len, uint64_t padded) {
            kernel::fill_row_padding(ctx, x, 1, len, padded, 0);
            if (centre) {
                ctx.binary_block(vec_opcode::sub, work, x, blocks, padded);
                kernel::fill_row_padding(ctx, work, 1, len, padded, 0);
                ctx.mul(work, work, work, padded);
            } else {
                ctx.mul(work, x, x, padded);
            }
            accumulate(s1, vec_opcode::add, work, c0, padded);
        });
        ctx.unary(vec_opcode::muls, s1, s1, 1, inv_c);
        ctx.unary(vec_opcode::adds, s1, s1, 1, eps);
        ctx.unary(vec_opcode::rsqrt, s1, s1, 1);
        // y = (x - mean) * rstd in A; then, in T, * gamma + beta
        produce(
            [&](local_tensor<A> y, local_tensor<A> x, uint64_t, uint64_t, uint64_t n) {
                if (centre) {
                    ctx.brcb(blocks, s0, 1);
                    ctx.binary_block(vec_opcode::sub, y, x, blocks, n);
                } else {
                    ctx.unary(vec_opcode::muls, y, x, n, 1.f);
                }
                ctx.brcb(blocks, s1, 1);
                ctx.binary_block(vec_opcode::mul, y, y, blocks, n);
            },
            [&](local_tensor<T> y, uint64_t c0, uint64_t len, uint64_t n) {
                auto g = qp.alloc_tensor();
                ctx.data_copy(g, kernel::global_tensor<T>{b.inputs[1], t.cols}[c0], len);
                qp.enque(g);
                local_tensor<T> bt;
                if (centre) {
                    bt = qp.alloc_tensor();
                    ctx.data_copy(bt, kernel::global_tensor<T>{b.inputs[2], t.cols}[c0], len);
                    qp.enque(bt);
                }
                g = qp.deque();
                ctx.mul(y, y, g, n);
                qp.free_tensor(g);
                if (centre) {
                    bt = qp.deque();
                    ctx.add(y, y, bt, n);
                    qp.free_tensor(bt);
                }
            });
    }
}

/// The long-row kernels of `op` (priority -1: used when a whole row does not fit UB).
void register_long_row_kernels(registry& r, const std::string& op, unsigned params, row_op kind,
                               double flops_per) {
    for (dtype t : {dtype::fp16, dtype::fp32}) {
        op_kernel k;
        k.op = op;
        k.name = op + "_long_rows_" + models::to_string(t);
        k.dtypes = std::vector<dtype>(params + 2, t);
        k.priority = -1;
        k.tile = [kind, params, flops_per, t](const op_call& c,
                                              const platform::platform_config& p) {
            const auto lt = long_rows_for(c, p, kind != row_op::softmax && wide_stats(t));
            const uint64_t n = c.inputs[0].elements(), e = models::dtype_size(c.inputs[0].type());
            const uint64_t passes = kind == row_op::rmsnorm ? 2 : 3;
            tiling_plan tp;
            tp.block_dim = lt.block_dim;
            tp.kind = models::kernel_kind::vector;
            tp.bytes = ((passes + 1) * n + params * lt.cols * lt.rows) * e;
            tp.flops = flops_per * double(n);
            tp.data = std::make_shared<long_row_tiling>(lt);
            return tp;
        };
        k.body = [t, kind](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                           const op_buffers& b) {
            const auto& lt = *static_cast<const long_row_tiling*>(tp.data.get());
            const float eps =
                kind == row_op::softmax ? 0.f : float(std::get<double>(c.attrs.at("epsilon")));
            with_type(t, [&](auto type) {
                using T = decltype(type);
                if (kind == row_op::softmax)
                    long_rows<T>(ctx, kind, lt, b, eps);
                else
                    long_rows<T, float>(ctx, kind, lt, b, eps);
            });
        };
        r.add_kernel(std::move(k), NPUSIM_HERE);
    }
}

void register_softmax(registry& r) {
    op_schema s;
    s.name = "softmax";
    s.doc = "y = exp(x - max) / sum(exp(x - max)) along the last axis";
    s.inputs = {{"x", {dtype::fp16, dtype::fp32}}};
    s.outputs = {{"y", {dtype::fp16, dtype::fp32}}};
    s.attrs = {{"axis", int64_t(-1)}};
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map& attrs) {
        need_dims("softmax", in[0]);
        const int64_t axis = resolve_axis("softmax", attrs, in[0]);
        if (axis + 1 != int64_t(in[0].shape().size()))
            throw op_error(
                fmt::format("op 'softmax' attribute 'axis' is {}; only the last "
                            "axis ({} or -1) is supported, transpose first",
                            std::get<int64_t>(attrs.at("axis")), in[0].shape().size() - 1));
        return std::vector<tensor_desc>{tensor_desc("y", in[0].type(), in[0].shape())};
    };
    s.reference = [](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                     const attr_map&) {
        const uint64_t c = last_dim(in[0].desc), rows = in[0].values.size() / c;
        for (uint64_t i = 0; i < rows; ++i) {
            const double* x = &in[0].values[i * c];
            double m = -INFINITY, sum = 0;
            for (uint64_t j = 0; j < c; ++j) m = std::max(m, x[j]);
            for (uint64_t j = 0; j < c; ++j) sum += std::exp(x[j] - m);
            for (uint64_t j = 0; j < c; ++j) out[0].values[i * c + j] = std::exp(x[j] - m) / sum;
        }
    };
    // fp16: x - max, exp, the partial sums, 1/sum and the product each round once.
    s.tolerance = 2e-3;
    r.add_op(std::move(s), NPUSIM_HERE);
    register_row_kernels(
        r, "softmax", 0, 5, false,
        [](auto type, kernel::kernel_context& ctx, const op_call&, const kernel::row_tiling& t,
           const op_buffers& b) {
            using T = decltype(type);
            kernel::row_scratch<T> s(ctx, t);
            ctx.duplicate(s.one, 1.f, t.tile_rows);
            kernel::row_kernel<T, T>(
                ctx, {b.inputs[0], t.rows * t.cols}, {b.outputs[0], t.rows * t.cols},
                kernel::row_output::rows, t,
                [&](local_tensor<T> x, local_tensor<T> y, uint64_t rows) {
                    const uint64_t n = rows * t.stride;
                    kernel::fill_row_padding(ctx, x, rows, t.cols, t.stride,
                                             -std::numeric_limits<float>::infinity());
                    kernel::reduce_rows(ctx, vec_opcode::max, s.stat, x, s.half, rows, t.stride);
                    kernel::broadcast_rows(ctx, vec_opcode::sub, x, x, s.stat, s.blocks, rows,
                                           t.stride);
                    ctx.unary(vec_opcode::exp, y, x, n);  // the padding becomes exp(-inf) = 0
                    kernel::reduce_rows(ctx, vec_opcode::add, s.stat, y, s.half, rows, t.stride);
                    ctx.div(s.stat, s.one, s.stat, rows);
                    kernel::broadcast_rows(ctx, vec_opcode::mul, y, y, s.stat, s.blocks, rows,
                                           t.stride);
                });
        });
    register_long_row_kernels(r, "softmax", 0, row_op::softmax, 5);
}

/// y = (x - mean) * rstd [* gamma + beta] with rstd = 1 / sqrt(var + eps); `centre` false
/// gives rmsnorm (mean taken as 0, var = mean of squares). The statistics and (x - mean) * rstd
/// are computed in fp32 (an fp16 tile is cast to fp32 first, as CANN does), then cast to T,
/// where gamma and beta apply.
template <class T>
void normalise_rows(kernel::kernel_context& ctx, const kernel::row_tiling& t, const op_buffers& b,
                    float eps, bool centre) {
    using A = float;
    constexpr bool same = std::is_same_v<T, A>;
    kernel::row_scratch<A> s(ctx, t);
    const auto params =
        load_row_params<T>(ctx, std::vector<uint64_t>(b.inputs.begin() + 1, b.inputs.end()), t);
    local_tensor<A> xw, yw;
    if constexpr (!same) {
        xw = ctx.alloc<A>(kernel::position::VECCALC, t.tile_rows * t.stride);
        yw = ctx.alloc<A>(kernel::position::VECCALC, t.tile_rows * t.stride);
    }
    const float inv_c = float(1.0 / double(t.cols));
    kernel::row_kernel<T, T>(
        ctx, {b.inputs[0], t.rows * t.cols}, {b.outputs[0], t.rows * t.cols},
        kernel::row_output::rows, t, [&](local_tensor<T> xt, local_tensor<T> yt, uint64_t rows) {
            const uint64_t n = rows * t.stride;
            local_tensor<A> x, y;
            if constexpr (same) {
                x = xt;
                y = yt;
            } else {
                ctx.cast(xw, xt, n);
                x = xw;
                y = yw;
            }
            kernel::fill_row_padding(ctx, x, rows, t.cols, t.stride, 0);
            if (centre) {
                kernel::reduce_rows(ctx, vec_opcode::add, s.stat, x, s.half, rows, t.stride);
                ctx.unary(vec_opcode::muls, s.stat, s.stat, rows, inv_c);
                kernel::broadcast_rows(ctx, vec_opcode::sub, x, x, s.stat, s.blocks, rows,
                                       t.stride);
                kernel::fill_row_padding(ctx, x, rows, t.cols, t.stride, 0);
            }
            // in fp32 the squares of fp16 (or fp32 data of moderate range) stay in range
            ctx.mul(y, x, x, n);
            kernel::reduce_rows(ctx, vec_opcode::add, s.stat, y, s.half, rows, t.stride);
            ctx.unary(vec_opcode::muls, s.stat, s.stat, rows, inv_c);
            ctx.unary(vec_opcode::adds, s.stat, s.stat, rows, eps);
            ctx.unary(vec_opcode::rsqrt, s.stat, s.stat, rows);
            kernel::broadcast_rows(ctx, vec_opcode::mul, y, x, s.stat, s.blocks, rows, t.stride);
            if constexpr (!same) ctx.cast(yt, y, n);
            // whole padded rows: one instruction each, the padding is never stored
            for (uint64_t r = 0; r < rows; ++r) {
                ctx.mul(yt[r * t.stride], yt[r * t.stride], params[0], t.stride);
                if (centre) ctx.add(yt[r * t.stride], yt[r * t.stride], params[1], t.stride);
            }
        });
}

void register_norm_op(registry& r, const std::string& name, bool centre) {
    op_schema s;
    s.name = name;
    s.doc = centre ? "y = (x - mean) / sqrt(var + epsilon) * gamma + beta over the last axis"
                   : "y = x / sqrt(mean(x^2) + epsilon) * gamma over the last axis";
    s.inputs = {{"x", {dtype::fp16, dtype::fp32}}, {"gamma", {dtype::fp16, dtype::fp32}}};
    if (centre) s.inputs.push_back({"beta", {dtype::fp16, dtype::fp32}});
    s.outputs = {{"y", {dtype::fp16, dtype::fp32}}};
    s.attrs = {{"epsilon", centre ? 1e-5 : 1e-6}};
    s.infer = [name, centre](const std::vector<tensor_desc>& in, const attr_map&) {
        need_dims(name, in[0]);
        need_row_param(name, "gamma", in[1], in[0]);
        if (centre) need_row_param(name, "beta", in[2], in[0]);
        return std::vector<tensor_desc>{tensor_desc("y", in[0].type(), in[0].shape())};
    };
    s.reference = [centre](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                           const attr_map& attrs) {
        const double eps = std::get<double>(attrs.at("epsilon"));
        const uint64_t c = last_dim(in[0].desc), rows = in[0].values.size() / c;
        for (uint64_t i = 0; i < rows; ++i) {
            const double* x = &in[0].values[i * c];
            double mean = 0, var = 0;
            if (centre) {
                for (uint64_t j = 0; j < c; ++j) mean += x[j];
                mean /= double(c);
            }
            for (uint64_t j = 0; j < c; ++j) var += (x[j] - mean) * (x[j] - mean);
            const double rstd = 1 / std::sqrt(var / double(c) + eps);
            for (uint64_t j = 0; j < c; ++j)
                out[0].values[i * c + j] =
                    (x[j] - mean) * rstd * in[1].values[j] + (centre ? in[2].values[j] : 0);
        }
    };
    // The mean, the variance and (x - mean) * rstd are computed in fp32 for fp16 data too
    // (their roundings, 2^-24 of a value, are negligible here); fp16 then rounds that
    // normalised value, its product with gamma and the sum with beta, each within 2^-11 of
    // itself on outputs of magnitude up to a few units: 3 * 2^-11 = 1.5e-3 of |y| + 1 at most,
    // and the reference's own rounding of y to fp16 half an ulp more. (With the statistics in
    // fp16, the mean of a short row of close values rounded by as much as its deviations:
    // errors of 0.008-0.06 were seen for 1-3 columns.)
    s.tolerance = 4e-3;
    r.add_op(std::move(s), NPUSIM_HERE);
    register_long_row_kernels(r, name, centre ? 2 : 1, centre ? row_op::layernorm : row_op::rmsnorm,
                              centre ? 8 : 5);
    register_row_kernels(r, name, centre ? 2 : 1, centre ? 8 : 5, true,
                         [centre](auto type, kernel::kernel_context& ctx, const op_call& c,
                                  const kernel::row_tiling& t, const op_buffers& b) {
                             const float eps = float(std::get<double>(c.attrs.at("epsilon")));
                             normalise_rows<decltype(type)>(ctx, t, b, eps, centre);
                         });
}

}  // namespace

void register_norm(registry& r) {
    register_reduction(r, "reduce_sum", "y = sum of x along attribute 'axis'", vec_opcode::add,
                       false);
    register_reduction(r, "reduce_mean", "y = mean of x along attribute 'axis'", vec_opcode::add,
                       true);
    register_reduction(r, "reduce_max", "y = max of x along attribute 'axis'", vec_opcode::max,
                       false);
    register_softmax(r);
    register_norm_op(r, "layernorm", true);
    register_norm_op(r, "rmsnorm", false);
}

}  // namespace npusim::ops::lib
