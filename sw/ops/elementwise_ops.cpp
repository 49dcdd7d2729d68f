// Elementwise ops: binary arithmetic, unary activations and cast.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>

#include "models/core/vector_unit.h"
#include "sw/kernel/layout_kernels.h"
#include "sw/kernel/reference_kernels.h"
#include "sw/ops/library_parts.h"

namespace npusim::ops::lib {

namespace {

using memory::tensor_desc;
using models::dtype;

// --- binary elementwise ops: z = x op y, numpy broadcasting, same dtype ---

// Element strides of `shape` right-aligned to `rank` dims, 0 where a dim is 1 or missing.
std::vector<uint64_t> broadcast_strides(const std::vector<int64_t>& shape, size_t rank) {
    std::vector<uint64_t> st(rank, 0);
    uint64_t acc = 1;
    for (size_t k = 0; k < shape.size(); ++k) {
        const int64_t d = shape[shape.size() - 1 - k];
        st[rank - 1 - k] = d == 1 ? 0 : acc;
        acc *= uint64_t(d);
    }
    return st;
}

/// Calls f with a value of the kernel element type of t (half, float, bfloat16, int8_t, ...).
template <class F>
void with_element(dtype t, F&& f) {
    switch (t) {
        case dtype::fp16:
            return f(kernel::half{});
        case dtype::fp32:
            return f(float{});
        case dtype::bf16:
            return f(kernel::bfloat16{});
        case dtype::int8:
            return f(int8_t{});
        case dtype::int16:
            return f(int16_t{});
        case dtype::int32:
            return f(int32_t{});
        default:
            throw std::logic_error(std::string("no kernel element type for ") +
                                   models::to_string(t));
    }
}

/// The dtypes elementwise ops take: the vector ALU computes fp16, fp32, int16 and int32; bf16
/// is computed in fp32 and int8 in fp16, converting each tile (as CANN's kernels do).
const std::vector<dtype> k_arith_types = {dtype::fp16, dtype::fp32,  dtype::bf16,
                                          dtype::int8, dtype::int16, dtype::int32};
const std::vector<dtype> k_float_types = {dtype::fp16, dtype::fp32, dtype::bf16};

/// One bf16 ulp relative: the fp32 result is rounded to bf16 a second time.
constexpr double k_bf16_tolerance = 8e-3;

/// int16 and int32 results wrap (two's complement, like the vector ALU); the reference
/// computes them in int64 and wraps, so it is exact even where a double is not.
double wrap_to(dtype t, int64_t v) {
    if (t == dtype::int16) return double(int16_t(uint16_t(uint64_t(v))));
    return double(int32_t(uint32_t(uint64_t(v))));
}

void register_binary(registry& r, const std::string& name, const std::string& doc,
                     models::vec_opcode opcode, double (*ref)(double, double),
                     int64_t (*iref)(int64_t, int64_t), double tolerance) {
    const std::vector<dtype> types = iref ? k_arith_types : k_float_types;
    op_schema s;
    s.name = name;
    s.doc = doc + "; x and y broadcast as in numpy";
    s.inputs = {{"x", types}, {"y", types}};
    s.outputs = {{"z", types}};
    s.infer = [name](const std::vector<tensor_desc>& in, const attr_map&) {
        if (in[1].type() != in[0].type())
            throw op_error(fmt::format(
                "op '{}' input 'y' is {} but 'x' is {}; both must have "
                "the same dtype",
                name, models::to_string(in[1].type()), models::to_string(in[0].type())));
        const tensor_desc z("z", in[0].type(), broadcast_shape(name, in[0].shape(), in[1].shape()));
        return std::vector<tensor_desc>{z};
    };
    // Plain loops over the output's multi-index; broadcast dims read index 0.
    s.reference = [ref, iref](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                              const attr_map&) {
        const auto& shape = out[0].desc.shape();
        const dtype t = out[0].desc.type();
        const bool wraps = t == dtype::int16 || t == dtype::int32;
        const auto sx = broadcast_strides(in[0].desc.shape(), shape.size());
        const auto sy = broadcast_strides(in[1].desc.shape(), shape.size());
        for (size_t e = 0; e < out[0].values.size(); ++e) {
            uint64_t ix = 0, iy = 0, rem = e;
            for (size_t d = shape.size(); d-- > 0; rem /= uint64_t(shape[d])) {
                ix += rem % uint64_t(shape[d]) * sx[d];
                iy += rem % uint64_t(shape[d]) * sy[d];
            }
            const double x = in[0].values[ix], y = in[1].values[iy];
            out[0].values[e] = wraps ? wrap_to(t, iref(int64_t(x), int64_t(y))) : ref(x, y);
        }
    };
    s.tolerance = tolerance;
    s.dtype_tolerance[dtype::bf16] = k_bf16_tolerance;
    r.add_op(std::move(s), NPUSIM_HERE);
    auto broadcast = [](const op_call& c, const platform::platform_config& p) {
        const dtype t = c.inputs[0].type();
        return kernel::tile_broadcast(vector_core(p), vector_units(p), c.inputs[0].shape(),
                                      c.inputs[1].shape(), c.outputs[0].shape(), t,
                                      t == dtype::bf16   ? dtype::fp32
                                      : t == dtype::int8 ? dtype::fp16
                                                         : t);
    };
    for (dtype t : types) {
        const bool native = t != dtype::bf16 && t != dtype::int8;
        // Same elements on both sides (after collapsing size-1 dims): the flat kernel.
        op_kernel k;
        k.op = name;
        k.name = name + "_" + models::to_string(t);
        k.dtypes = {t, t, t};
        k.applies = [broadcast](const op_call& c, const platform::platform_config& p) {
            return kernel::broadcast_is_elementwise(broadcast(c, p));
        };
        k.tile = [t, native](const op_call& c, const platform::platform_config& p) {
            const uint64_t n = c.outputs[0].elements();
            tiling_plan tp;
            // Converted tiles: two more buffers of the compute type, sized as for fp32.
            auto tiling = std::make_shared<kernel::elementwise_tiling>(kernel::tile_elementwise(
                vector_core(p), vector_units(p), n, native ? models::dtype_size(t) : 4));
            tp.block_dim = tiling->block_dim;
            tp.kind = models::kernel_kind::vector;
            tp.flops = double(n);
            tp.bytes = 3 * n * models::dtype_size(t);
            tp.data = tiling;
            return tp;
        };
        k.body = [t, opcode](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                             const op_buffers& b) {
            const auto& tiling = *static_cast<const kernel::elementwise_tiling*>(tp.data.get());
            const uint64_t n = c.outputs[0].elements();
            with_element(t, [&](auto e) {
                using T = decltype(e);
                const kernel::global_tensor<T> x{b.inputs[0], n}, y{b.inputs[1], n},
                    z{b.outputs[0], n};
                if constexpr (std::is_same_v<T, kernel::bfloat16>)
                    kernel::elementwise_binary_kernel<T, float>(ctx, opcode, x, y, z, tiling);
                else if constexpr (std::is_same_v<T, int8_t>)
                    kernel::elementwise_binary_kernel<T, kernel::half>(ctx, opcode, x, y, z,
                                                                       tiling);
                else
                    kernel::elementwise_binary_kernel<T>(ctx, opcode, x, y, z, tiling);
            });
        };
        r.add_kernel(std::move(k), NPUSIM_HERE);

        // Any broadcast: row tiles with row-vector operands reused and per-row values spread
        // into blocks in UB (bf16 and int8 converted tile by tile, as above).
        op_kernel bk;
        bk.op = name;
        bk.name = name + "_broadcast_" + models::to_string(t);
        bk.dtypes = {t, t, t};
        bk.priority = -1;
        bk.tile = [t, broadcast](const op_call& c, const platform::platform_config& p) {
            auto tiling = std::make_shared<kernel::broadcast_tiling>(broadcast(c, p));
            tiling_plan tp;
            tp.block_dim = tiling->block_dim;
            tp.kind = models::kernel_kind::vector;
            tp.flops = double(c.outputs[0].elements());
            tp.bytes = (c.inputs[0].elements() + c.inputs[1].elements() + c.outputs[0].elements()) *
                       models::dtype_size(t);
            tp.data = tiling;
            return tp;
        };
        bk.body = [t, opcode](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                              const op_buffers& b) {
            const auto& tiling = *static_cast<const kernel::broadcast_tiling*>(tp.data.get());
            const uint64_t nx = c.inputs[0].elements(), ny = c.inputs[1].elements(),
                           nz = c.outputs[0].elements();
            with_element(t, [&](auto e) {
                using T = decltype(e);
                using C = std::conditional_t<
                    std::is_same_v<T, kernel::bfloat16>, float,
                    std::conditional_t<std::is_same_v<T, int8_t>, kernel::half, T>>;
                kernel::broadcast_binary_kernel<T, C>(
                    ctx, opcode, {b.inputs[0], nx}, {b.inputs[1], ny}, {b.outputs[0], nz}, tiling);
            });
        };
        r.add_kernel(std::move(bk), NPUSIM_HERE);
    }
}

void register_binaries(registry& r) {
    using models::vec_opcode;
    // One rounding of the exact result, as the vector unit does; div is exact in fp32 and
    // rounded once in fp16, the others likewise.
    // int8 results saturate (the conversion back from fp16 does); int16 and int32 wrap.
    register_binary(
        r, "add", "elementwise sum z = x + y", vec_opcode::add,
        [](double x, double y) { return x + y; },
        [](int64_t x, int64_t y) { return int64_t(uint64_t(x) + uint64_t(y)); }, 0);
    register_binary(
        r, "sub", "elementwise difference z = x - y", vec_opcode::sub,
        [](double x, double y) { return x - y; },
        [](int64_t x, int64_t y) { return int64_t(uint64_t(x) - uint64_t(y)); }, 0);
    register_binary(
        r, "mul", "elementwise product z = x * y", vec_opcode::mul,
        [](double x, double y) { return x * y; },
        [](int64_t x, int64_t y) { return int64_t(uint64_t(x) * uint64_t(y)); }, 0);
    register_binary(
        r, "div", "elementwise quotient z = x / y (float dtypes)", vec_opcode::div,
        [](double x, double y) { return x / y; }, nullptr, 1e-3);
    register_binary(
        r, "maximum", "elementwise max(x, y)", vec_opcode::max,
        [](double x, double y) { return std::max(x, y); },
        [](int64_t x, int64_t y) { return std::max(x, y); }, 0);
    register_binary(
        r, "minimum", "elementwise min(x, y)", vec_opcode::min,
        [](double x, double y) { return std::min(x, y); },
        [](int64_t x, int64_t y) { return std::min(x, y); }, 0);
}

// --- unary activations: y = f(x), same shape and dtype ---

void register_unary(registry& r, const std::string& name, const std::string& doc,
                    double (*ref)(double), double tolerance,
                    void (*compute)(kernel::kernel_context&, kernel::local_tensor<kernel::half>,
                                    kernel::local_tensor<kernel::half>,
                                    kernel::local_tensor<kernel::half>, uint64_t),
                    void (*compute32)(kernel::kernel_context&, kernel::local_tensor<float>,
                                      kernel::local_tensor<float>, kernel::local_tensor<float>,
                                      uint64_t)) {
    op_schema s;
    s.name = name;
    s.doc = doc;
    s.inputs = {{"x", k_float_types}};
    s.outputs = {{"y", k_float_types}};
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map&) {
        return std::vector<tensor_desc>{tensor_desc("y", in[0].type(), in[0].shape())};
    };
    s.reference = [ref](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                        const attr_map&) {
        for (size_t i = 0; i < out[0].values.size(); ++i) out[0].values[i] = ref(in[0].values[i]);
    };
    s.tolerance = tolerance;
    s.dtype_tolerance[dtype::bf16] = k_bf16_tolerance + tolerance;
    r.add_op(std::move(s), NPUSIM_HERE);
    for (dtype t : k_float_types) {
        op_kernel k;
        k.op = name;
        k.name = name + "_" + models::to_string(t);
        k.dtypes = {t, t};
        k.tile = [t](const op_call& c, const platform::platform_config& p) {
            const uint64_t n = c.inputs[0].elements();
            // bf16 computes in fp32 tiles: sized as for fp32.
            auto tiling = std::make_shared<kernel::elementwise_tiling>(kernel::tile_elementwise(
                vector_core(p), vector_units(p), n, t == dtype::bf16 ? 4 : models::dtype_size(t)));
            tiling_plan tp;
            tp.block_dim = tiling->block_dim;
            tp.kind = models::kernel_kind::vector;
            tp.flops = double(n);
            tp.bytes = 2 * n * models::dtype_size(t);
            tp.data = tiling;
            return tp;
        };
        k.body = [t, compute, compute32](kernel::kernel_context& ctx, const op_call& c,
                                         const tiling_plan& tp, const op_buffers& b) {
            const auto& tiling = *static_cast<const kernel::elementwise_tiling*>(tp.data.get());
            const uint64_t n = c.inputs[0].elements();
            if (t == dtype::fp16)
                kernel::elementwise_unary_kernel<kernel::half, kernel::half>(
                    ctx, {b.inputs[0], n}, {b.outputs[0], n}, tiling, compute);
            else if (t == dtype::bf16)
                kernel::elementwise_unary_via_kernel<kernel::bfloat16, float>(
                    ctx, {b.inputs[0], n}, {b.outputs[0], n}, tiling, compute32);
            else
                kernel::elementwise_unary_kernel<float, float>(
                    ctx, {b.inputs[0], n}, {b.outputs[0], n}, tiling, compute32);
        };
        r.add_kernel(std::move(k), NPUSIM_HERE);
    }
}

// One vector op: y = op(x).
template <models::vec_opcode Op, class T>
void single(kernel::kernel_context& c, kernel::local_tensor<T> y, kernel::local_tensor<T> x,
            kernel::local_tensor<T>, uint64_t n) {
    c.unary(Op, y, x, n);
}

// gelu, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
template <class T>
void gelu(kernel::kernel_context& c, kernel::local_tensor<T> y, kernel::local_tensor<T> x,
          kernel::local_tensor<T> t, uint64_t n) {
    using models::vec_opcode;
    c.mul(t, x, x, n);
    c.mul(t, t, x, n);
    c.unary(vec_opcode::muls, t, t, n, 0.044715f);
    c.add(t, t, x, n);
    c.unary(vec_opcode::muls, t, t, n, 0.7978845608f);
    c.unary(vec_opcode::tanh, t, t, n);
    c.unary(vec_opcode::adds, t, t, n, 1.f);
    c.mul(t, t, x, n);
    c.unary(vec_opcode::muls, y, t, n, 0.5f);
}

// silu: x * sigmoid(x).
template <class T>
void silu(kernel::kernel_context& c, kernel::local_tensor<T> y, kernel::local_tensor<T> x,
          kernel::local_tensor<T> t, uint64_t n) {
    c.unary(models::vec_opcode::sigmoid, t, x, n);
    c.mul(y, t, x, n);
}

double ref_relu(double x) {
    return x > 0 ? x : 0;
}
double ref_exp(double x) {
    return std::exp(x);
}
double ref_sigmoid(double x) {
    return 1 / (1 + std::exp(-x));
}
double ref_tanh(double x) {
    return std::tanh(x);
}
double ref_gelu(double x) {
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));  // the exact form, not the tanh one
}
double ref_silu(double x) {
    return x / (1 + std::exp(-x));
}

void register_activations(registry& r) {
    using kernel::half;
    using models::vec_opcode;
    // Tolerances (relative, after rounding the reference to the output dtype): one fp16 ulp is
    // about 1e-3; gelu and silu round several intermediate results, and gelu also carries the
    // tanh approximation's error against the exact erf form (under 1e-3 for |x| <= 4).
    register_unary(r, "relu", "max(x, 0)", ref_relu, 0, single<vec_opcode::relu, half>,
                   single<vec_opcode::relu, float>);
    register_unary(r, "exp", "e^x", ref_exp, 1e-3, single<vec_opcode::exp, half>,
                   single<vec_opcode::exp, float>);
    register_unary(r, "sigmoid", "1 / (1 + e^-x)", ref_sigmoid, 1e-3,
                   single<vec_opcode::sigmoid, half>, single<vec_opcode::sigmoid, float>);
    register_unary(r, "tanh", "hyperbolic tangent", ref_tanh, 1e-3, single<vec_opcode::tanh, half>,
                   single<vec_opcode::tanh, float>);
    register_unary(r, "gelu", "x * Phi(x), computed in the tanh form", ref_gelu, 2e-3, gelu<half>,
                   gelu<float>);
    register_unary(r, "silu", "x * sigmoid(x)", ref_silu, 2e-3, silu<half>, silu<float>);
}

// --- cast: y = x converted to attribute `dtype`, rounded by attribute `round` ---

const std::vector<dtype> k_cast_types = {dtype::fp32,  dtype::fp16,  dtype::bf16,
                                         dtype::int32, dtype::int16, dtype::int8};

/// The middle type of a conversion the vector unit has no single vconv for (int8 -> int16 via
/// fp16, int16 -> int32 via fp32; both steps exact), else `from` itself.
dtype cast_via(dtype from, dtype to) {
    if (from == to) return from;
    models::vector_op v;
    v.op = models::vec_opcode::cast;
    v.type = from;
    v.dst_type = to;
    if (models::why_unsupported(v).empty()) return from;
    for (dtype mid : {dtype::fp16, dtype::fp32}) {
        v.dst_type = mid;
        models::vector_op w = v;
        w.type = mid;
        w.dst_type = to;
        const bool exact = models::dtype_size(mid) > models::dtype_size(from) &&
                           (mid == dtype::fp32 || models::dtype_size(from) == 1);
        if (exact && models::why_unsupported(v).empty() && models::why_unsupported(w).empty())
            return mid;
    }
    throw std::logic_error(std::string("no conversion path ") + models::to_string(from) + "->" +
                           models::to_string(to));
}

/// The reference of one conversion: round by the mode into the target, integers saturate.
double reference_cast(double v, dtype to, models::round_mode m) {
    if (models::is_float(to)) return double(models::round_to_float(v, to, m));
    if (std::isnan(v)) return 0;
    const double r = models::round_to_integer(v, m);
    const double lo = to == dtype::int8 ? -128 : to == dtype::int16 ? -32768 : -2147483648.0;
    return std::clamp(r, lo, -lo - 1);
}

void register_cast(registry& r) {
    op_schema s;
    s.name = "cast";
    s.doc =
        "y = x converted to the dtype named by attribute 'dtype', rounded by attribute 'round' "
        "(rint: to nearest even; floor, ceil, round: ties away from zero, trunc, odd: fp32 to "
        "fp16/bf16 only); integers saturate";
    s.inputs = {{"x", k_cast_types}};
    s.outputs = {{"y", k_cast_types}};
    s.attrs = {{"dtype", std::string("fp16"), true}, {"round", std::string("rint")}};
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map& attrs) {
        const auto& name = std::get<std::string>(attrs.at("dtype"));
        dtype to{};
        if (!models::dtype_from_string(name, to) ||
            std::find(k_cast_types.begin(), k_cast_types.end(), to) == k_cast_types.end())
            throw op_error("op 'cast' attribute 'dtype' is '" + name +
                           "'; expected fp32, fp16, bf16, int32, int16 or int8");
        const auto& round = std::get<std::string>(attrs.at("round"));
        models::round_mode m{};
        if (!models::round_mode_from_string(round, m))
            throw op_error("op 'cast' attribute 'round' is '" + round +
                           "'; expected rint, floor, ceil, round, trunc or odd");
        const dtype from = in[0].type();
        if (m == models::round_mode::odd &&
            !(from == dtype::fp32 && (to == dtype::fp16 || to == dtype::bf16)))
            throw op_error(std::string("op 'cast' attribute 'round' is 'odd', which is for fp32 "
                                       "-> fp16 or bf16 only, not ") +
                           models::to_string(from) + " -> " + name + "; use rint");
        return std::vector<tensor_desc>{tensor_desc("y", to, in[0].shape())};
    };
    s.reference = [](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                     const attr_map& attrs) {
        models::round_mode m{};
        models::round_mode_from_string(std::get<std::string>(attrs.at("round")), m);
        const dtype to = out[0].desc.type();
        for (size_t i = 0; i < out[0].values.size(); ++i)
            out[0].values[i] = reference_cast(in[0].values[i], to, m);
    };
    s.tolerance = 0;  // one rounding, in both
    r.add_op(std::move(s), NPUSIM_HERE);
    for (dtype from : k_cast_types)
        for (dtype to : k_cast_types) {
            const dtype via = cast_via(from, to);
            op_kernel k;
            k.op = "cast";
            k.name = std::string("cast_") + models::to_string(from) + "_" + models::to_string(to);
            k.dtypes = {from, to};
            k.tile = [](const op_call& c, const platform::platform_config& p) {
                const uint64_t n = c.inputs[0].elements();
                auto tiling = std::make_shared<kernel::elementwise_tiling>(
                    kernel::tile_elementwise(vector_core(p), vector_units(p), n, 4));
                tiling_plan tp;
                tp.block_dim = tiling->block_dim;
                tp.kind = models::kernel_kind::vector;
                tp.bytes = n * (models::dtype_size(c.inputs[0].type()) +
                                models::dtype_size(c.outputs[0].type()));
                tp.data = tiling;
                return tp;
            };
            k.body = [from, via, to](kernel::kernel_context& ctx, const op_call& c,
                                     const tiling_plan& tp, const op_buffers& b) {
                models::round_mode m{};
                models::round_mode_from_string(std::get<std::string>(c.attrs.at("round")), m);
                kernel::cast_kernel(ctx, from, via, to, m, b.inputs[0], b.outputs[0],
                                    *static_cast<const kernel::elementwise_tiling*>(tp.data.get()));
            };
            r.add_kernel(std::move(k), NPUSIM_HERE);
        }
}

}  // namespace

std::vector<int64_t> broadcast_shape(const std::string& op, const std::vector<int64_t>& x,
                                     const std::vector<int64_t>& y) {
    std::vector<int64_t> out(std::max(x.size(), y.size()));
    for (size_t k = 0; k < out.size(); ++k) {
        const int64_t dx = k < x.size() ? x[x.size() - 1 - k] : 1;
        const int64_t dy = k < y.size() ? y[y.size() - 1 - k] : 1;
        if (dx != dy && dx != 1 && dy != 1)
            throw op_error(fmt::format(
                "op '{}' inputs 'x' {} and 'y' {} do not broadcast: dimension {} (counting "
                "from the last as -1) is {} in 'x' and {} in 'y'; sizes must be equal or 1",
                op, dims(x), dims(y), -int64_t(k) - 1, dx, dy));
        out[out.size() - 1 - k] = dx == 1 ? dy : dx;
    }
    return out;
}

void register_elementwise(registry& r) {
    register_binaries(r);
    register_activations(r);
    register_cast(r);
}

}  // namespace npusim::ops::lib
