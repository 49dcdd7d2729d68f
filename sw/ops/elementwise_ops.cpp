// Elementwise ops: binary arithmetic, unary activations and cast.
#include <fmt/format.h>

#include <cmath>

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

void register_binary(registry& r, const std::string& name, const std::string& doc,
                     models::vec_opcode opcode, double (*ref)(double, double), double tolerance) {
    op_schema s;
    s.name = name;
    s.doc = doc + "; x and y broadcast as in numpy";
    s.inputs = {{"x", {dtype::fp16, dtype::fp32}}, {"y", {dtype::fp16, dtype::fp32}}};
    s.outputs = {{"z", {dtype::fp16, dtype::fp32}}};
    s.infer = [name](const std::vector<tensor_desc>& in, const attr_map&) {
        if (in[1].type() != in[0].type())
            throw op_error(fmt::format(
                "op '{}' input 'y' is {} but 'x' is {}; both must have "
                "the same dtype",
                name, models::to_string(in[1].type()), models::to_string(in[0].type())));
        return std::vector<tensor_desc>{
            tensor_desc("z", in[0].type(), broadcast_shape(name, in[0].shape(), in[1].shape()))};
    };
    // Plain loops over the output's multi-index; broadcast dims read index 0.
    s.reference = [ref](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                        const attr_map&) {
        const auto& shape = out[0].desc.shape();
        const auto sx = broadcast_strides(in[0].desc.shape(), shape.size());
        const auto sy = broadcast_strides(in[1].desc.shape(), shape.size());
        for (size_t e = 0; e < out[0].values.size(); ++e) {
            uint64_t ix = 0, iy = 0, rem = e;
            for (size_t d = shape.size(); d-- > 0; rem /= uint64_t(shape[d])) {
                ix += rem % uint64_t(shape[d]) * sx[d];
                iy += rem % uint64_t(shape[d]) * sy[d];
            }
            out[0].values[e] = ref(in[0].values[ix], in[1].values[iy]);
        }
    };
    s.tolerance = tolerance;
    r.add_op(std::move(s), NPUSIM_HERE);
    auto broadcast = [](const op_call& c, const platform::platform_config& p) {
        return kernel::tile_broadcast(vector_core(p), vector_units(p), c.inputs[0].shape(),
                                      c.inputs[1].shape(), c.outputs[0].shape(),
                                      c.inputs[0].type());
    };
    for (dtype t : {dtype::fp16, dtype::fp32}) {
        // Same elements on both sides (after collapsing size-1 dims): the flat kernel.
        op_kernel k;
        k.op = name;
        k.name = name + "_" + models::to_string(t);
        k.dtypes = {t, t, t};
        k.applies = [broadcast](const op_call& c, const platform::platform_config& p) {
            return kernel::broadcast_is_elementwise(broadcast(c, p));
        };
        k.tile = [t](const op_call& c, const platform::platform_config& p) {
            const uint64_t n = c.outputs[0].elements();
            tiling_plan tp;
            auto tiling = std::make_shared<kernel::elementwise_tiling>(kernel::tile_elementwise(
                vector_core(p), vector_units(p), n, models::dtype_size(t)));
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
            if (t == dtype::fp16)
                kernel::elementwise_binary_kernel<kernel::half>(
                    ctx, opcode, {b.inputs[0], n}, {b.inputs[1], n}, {b.outputs[0], n}, tiling);
            else
                kernel::elementwise_binary_kernel<float>(
                    ctx, opcode, {b.inputs[0], n}, {b.inputs[1], n}, {b.outputs[0], n}, tiling);
        };
        r.add_kernel(std::move(k), NPUSIM_HERE);

        // Any broadcast: row tiles with row-vector operands reused and per-row values spread
        // into blocks in UB.
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
            if (t == dtype::fp16)
                kernel::broadcast_binary_kernel<kernel::half>(
                    ctx, opcode, {b.inputs[0], nx}, {b.inputs[1], ny}, {b.outputs[0], nz}, tiling);
            else
                kernel::broadcast_binary_kernel<float>(
                    ctx, opcode, {b.inputs[0], nx}, {b.inputs[1], ny}, {b.outputs[0], nz}, tiling);
        };
        r.add_kernel(std::move(bk), NPUSIM_HERE);
    }
}

void register_binaries(registry& r) {
    using models::vec_opcode;
    // One rounding of the exact result, as the vector unit does; div is exact in fp32 and
    // rounded once in fp16, the others likewise.
    register_binary(
        r, "add", "elementwise sum z = x + y", vec_opcode::add,
        [](double x, double y) { return x + y; }, 0);
    register_binary(
        r, "sub", "elementwise difference z = x - y", vec_opcode::sub,
        [](double x, double y) { return x - y; }, 0);
    register_binary(
        r, "mul", "elementwise product z = x * y", vec_opcode::mul,
        [](double x, double y) { return x * y; }, 0);
    register_binary(
        r, "div", "elementwise quotient z = x / y", vec_opcode::div,
        [](double x, double y) { return x / y; }, 1e-3);
    register_binary(
        r, "maximum", "elementwise max(x, y)", vec_opcode::max,
        [](double x, double y) { return std::max(x, y); }, 0);
    register_binary(
        r, "minimum", "elementwise min(x, y)", vec_opcode::min,
        [](double x, double y) { return std::min(x, y); }, 0);
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
    s.inputs = {{"x", {dtype::fp16, dtype::fp32}}};
    s.outputs = {{"y", {dtype::fp16, dtype::fp32}}};
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map&) {
        return std::vector<tensor_desc>{tensor_desc("y", in[0].type(), in[0].shape())};
    };
    s.reference = [ref](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                        const attr_map&) {
        for (size_t i = 0; i < out[0].values.size(); ++i) out[0].values[i] = ref(in[0].values[i]);
    };
    s.tolerance = tolerance;
    r.add_op(std::move(s), NPUSIM_HERE);
    for (dtype t : {dtype::fp16, dtype::fp32}) {
        op_kernel k;
        k.op = name;
        k.name = name + "_" + models::to_string(t);
        k.dtypes = {t, t};
        k.tile = [t](const op_call& c, const platform::platform_config& p) {
            const uint64_t n = c.inputs[0].elements();
            auto tiling = std::make_shared<kernel::elementwise_tiling>(kernel::tile_elementwise(
                vector_core(p), vector_units(p), n, models::dtype_size(t)));
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

// --- cast: y = x converted to attribute `dtype` ---

void register_cast(registry& r) {
    op_schema s;
    s.name = "cast";
    s.doc = "y = x converted to the dtype named by attribute 'dtype' (rounded to nearest)";
    s.inputs = {{"x", {dtype::fp16, dtype::fp32}}};
    s.outputs = {{"y", {dtype::fp16, dtype::fp32}}};
    s.attrs = {{"dtype", std::string("fp16"), true}};
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map& attrs) {
        const auto& name = std::get<std::string>(attrs.at("dtype"));
        for (dtype t : {dtype::fp16, dtype::fp32})
            if (name == models::to_string(t))
                return std::vector<tensor_desc>{tensor_desc("y", t, in[0].shape())};
        throw op_error("op 'cast' attribute 'dtype' is '" + name + "'; expected fp16 or fp32");
    };
    s.reference = [](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                     const attr_map&) { out[0].values = in[0].values; };
    s.tolerance = 0;  // the comparison rounds the reference to the output dtype: one rounding
    r.add_op(std::move(s), NPUSIM_HERE);
    for (auto [from, to] :
         {std::pair{dtype::fp16, dtype::fp32}, std::pair{dtype::fp32, dtype::fp16}}) {
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
            tp.bytes = n * 6;
            tp.data = tiling;
            return tp;
        };
        k.body = [from](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                        const op_buffers& b) {
            const auto& tiling = *static_cast<const kernel::elementwise_tiling*>(tp.data.get());
            const uint64_t n = c.inputs[0].elements();
            auto cast = [](kernel::kernel_context& c, auto yl, auto xl, auto, uint64_t len) {
                c.cast(yl, xl, len);
            };
            if (from == dtype::fp16)
                kernel::elementwise_unary_kernel<kernel::half, float>(
                    ctx, {b.inputs[0], n}, {b.outputs[0], n}, tiling, cast);
            else
                kernel::elementwise_unary_kernel<float, kernel::half>(
                    ctx, {b.inputs[0], n}, {b.outputs[0], n}, tiling, cast);
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
