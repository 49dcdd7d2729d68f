// Matrix products on the cube: matmul, matmul_bias and matmul_dequant, 2-D or batched,
// fp16/bf16/fp32/int8.
#include <fmt/format.h>

#include <cmath>

#include "sw/kernel/fill_kernels.h"
#include "sw/kernel/matmul_kernel.h"
#include "sw/ops/library_parts.h"

namespace npusim::ops::lib {

namespace {

using memory::tensor_desc;
using models::dtype;

// The output dtypes each input dtype may produce; fp16 is the default.
std::vector<dtype> out_dtypes(dtype in) {
    if (in == dtype::int8) return {dtype::fp16, dtype::fp32, dtype::int32};
    return {dtype::fp16, dtype::fp32, dtype::bf16};
}

// The bias dtypes each input dtype takes: its own or fp32 for floats, int32 for int8.
std::vector<dtype> bias_dtypes(dtype in) {
    if (in == dtype::int8) return {dtype::int32};
    if (in == dtype::fp32) return {dtype::fp32};
    return {in, dtype::fp32};
}

// matmul_dequant: int8 inputs, float outputs.
const std::vector<dtype> k_dequant_outs = {dtype::fp16, dtype::bf16, dtype::fp32};

std::string dtype_names(const std::vector<dtype>& ts) {
    std::string s;
    for (size_t i = 0; i < ts.size(); ++i)
        s += std::string(i == 0               ? ""
                         : i + 1 == ts.size() ? " or "
                                              : ", ") +
             models::to_string(ts[i]);
    return s;
}

/// The problem a call describes: logical sizes, layouts and dtypes, checked.
struct matmul_call {
    kernel::matmul_problem p;
    bool batched_out = false;  ///< the output has a batch dimension
};

matmul_call describe_call(const std::string& op, const std::vector<tensor_desc>& in,
                          const attr_map& attrs, bool dequant = false) {
    matmul_call c;
    auto& p = c.p;
    p.transpose_a = std::get<bool>(attrs.at("transpose_a"));
    p.transpose_b = std::get<bool>(attrs.at("transpose_b"));
    if (const auto it = attrs.find("hf32"); it != attrs.end()) p.hf32 = std::get<bool>(it->second);
    const char* names[] = {"a", "b"};
    for (int i = 0; i < 2; ++i)
        if (in[i].shape().size() != 2 && in[i].shape().size() != 3)
            throw op_error(fmt::format(
                "op '{}' input '{}' has shape {}; expected 2 dimensions, or 3 for a batch", op,
                names[i], dims(in[i].shape())));
    for (int i = 0; i < 2; ++i)
        for (int64_t d : in[i].shape())
            if (d > int64_t(UINT32_MAX))
                throw op_error(
                    fmt::format("op '{}' input '{}' has shape {}; each dimension must "
                                "be under 2^32",
                                op, names[i], dims(in[i].shape())));
    if (in[1].type() != in[0].type())
        throw op_error(
            fmt::format("op '{}' input 'b' is {} but 'a' is {}; both must have the "
                        "same dtype",
                        op, models::to_string(in[1].type()), models::to_string(in[0].type())));
    const auto& as = in[0].shape();
    const auto& bs = in[1].shape();
    const size_t ad = as.size(), bd = bs.size();
    const int64_t a_rows = as[ad - 2], a_cols = as[ad - 1], b_rows = bs[bd - 2],
                  b_cols = bs[bd - 1];
    const int64_t ka = p.transpose_a ? a_rows : a_cols, kb = p.transpose_b ? b_cols : b_rows;
    if (ka != kb)
        throw op_error(fmt::format(
            "op '{}' input 'b' has {} {} but 'a' has {} {}; they must match ({} x {})", op, kb,
            p.transpose_b ? "columns" : "rows", ka, p.transpose_a ? "rows" : "columns",
            p.transpose_a ? "a[k,m]" : "a[m,k]", p.transpose_b ? "b[n,k]" : "b[k,n]"));
    if (ad == 3 && bd == 3 && as[0] != bs[0])
        throw op_error(
            fmt::format("op '{}' input 'b' has a batch of {} but 'a' has {}; they "
                        "must match, or one of them must be 2-D to be shared",
                        op, bs[0], as[0]));
    p.batch = uint32_t(ad == 3 ? as[0] : bd == 3 ? bs[0] : 1);
    p.m = uint32_t(p.transpose_a ? a_cols : a_rows);
    p.k = uint32_t(ka);
    p.n = uint32_t(p.transpose_b ? b_rows : b_cols);
    p.a_batched = ad == 3;
    p.b_batched = bd == 3;
    c.batched_out = ad == 3 || bd == 3;
    p.in = in[0].type();
    const auto& out_name = std::get<std::string>(attrs.at("out_dtype"));
    const auto outs = dequant ? k_dequant_outs : out_dtypes(p.in);
    auto it = std::find_if(outs.begin(), outs.end(),
                           [&](dtype t) { return out_name == models::to_string(t); });
    if (it == outs.end())
        throw op_error(
            fmt::format("op '{}' attribute 'out_dtype' is '{}'; expected {} for {} "
                        "inputs",
                        op, out_name, dtype_names(outs), models::to_string(p.in)));
    p.out = *it;
    if (p.hf32 && p.in != dtype::fp32)
        throw op_error(
            fmt::format("op '{}' attribute 'hf32' rounds fp32 inputs to HF32, but 'a' "
                        "is {}; drop it or give fp32 inputs",
                        op, models::to_string(p.in)));
    const auto& partition = std::get<std::string>(attrs.at("partition"));
    kernel::partition_kind pk{};
    if (!kernel::partition_from_string(partition, pk))
        throw op_error(
            fmt::format("op '{}' attribute 'partition' is '{}'; expected uniform, "
                        "cost or steal",
                        op, partition));
    if (dequant) {
        if (in[2].shape() != std::vector<int64_t>{1} &&
            in[2].shape() != std::vector<int64_t>{int64_t(p.n)})
            throw op_error(fmt::format(
                "op '{}' input 'scale' has shape {}; expected [1] (per tensor) or [{}] (one "
                "scale per output column)",
                op, dims(in[2].shape()), p.n));
        p.dequant = in[2].elements() == 1 && p.n != 1 ? kernel::dequant_kind::tensor
                                                      : kernel::dequant_kind::channel;
    } else if (in.size() == 3) {
        const auto biases = bias_dtypes(p.in);
        if (std::find(biases.begin(), biases.end(), in[2].type()) == biases.end())
            throw op_error(fmt::format("op '{}' input 'bias' is {} but 'a' is {}; expected {}", op,
                                       models::to_string(in[2].type()), models::to_string(p.in),
                                       dtype_names(biases)));
        if (in[2].shape() != std::vector<int64_t>{int64_t(p.n)})
            throw op_error(
                fmt::format("op '{}' input 'bias' has shape {}; expected [{}], one "
                            "value per output column",
                            op, dims(in[2].shape()), p.n));
        p.has_bias = true;
        p.bias = in[2].type();
    }
    return c;
}

// c[b][i][j] = sum_p a(i, p) b(p, j) (+ bias[j]) in double, reading through the layouts.
void reference(const matmul_call& c, const std::vector<host_tensor>& in, host_tensor& out) {
    const auto& p = c.p;
    const uint64_t m = p.m, k = p.k, n = p.n;
    for (uint64_t bi = 0; bi < p.batch; ++bi) {
        const double* a = in[0].values.data() + (p.a_batched ? bi * m * k : 0);
        const double* b = in[1].values.data() + (p.b_batched ? bi * k * n : 0);
        // HF32: the cube rounds both operands first.
        const auto operand = [&](double v) {
            return p.hf32 ? double(models::round_to_hf32(float(v))) : v;
        };
        for (uint64_t i = 0; i < m; ++i)
            for (uint64_t j = 0; j < n; ++j) {
                double acc = p.has_bias ? in[2].values[j] : 0;
                for (uint64_t q = 0; q < k; ++q)
                    acc += operand(p.transpose_a ? a[q * m + i] : a[i * k + q]) *
                           operand(p.transpose_b ? b[j * k + q] : b[q * n + j]);
                // Dequantization: the int32 sum to fp32, times the scale in fp32.
                if (p.dequant != kernel::dequant_kind::none)
                    acc =
                        double(float(acc) * float(in[2].values[in[2].values.size() == 1 ? 0 : j]));
                out.values[(bi * m + i) * n + j] = acc;
            }
    }
}

/// Calls f(T{}) with T the kernel element type of t.
template <class F>
void with_type(dtype t, const F& f) {
    switch (t) {
        case dtype::fp16:
            return f(kernel::half{});
        case dtype::bf16:
            return f(kernel::bfloat16{});
        case dtype::fp32:
            return f(float{});
        default:
            return f(int32_t{});
    }
}

/// The kernel of matmul_bias calls that `applies` picks (k = 0): c = the bias on every row.
void add_bias_rows_kernel(registry& r, const std::string& name, std::vector<dtype> dtypes,
                          std::function<bool(const op_call&)> applies) {
    op_kernel k;
    k.op = name;
    k.name = name + "_bias_rows";
    k.dtypes = std::move(dtypes);
    k.priority = 100;
    k.applies = [applies](const op_call& c, const platform::platform_config&) {
        return applies(c);
    };
    k.tile = [](const op_call& c, const platform::platform_config& p) {
        const auto& y = c.outputs[0];
        const uint64_t cols = uint64_t(y.shape().back());
        const auto t =
            kernel::tile_fill(vector_core(p), vector_units(p), y.elements() / cols, cols,
                              models::dtype_size(y.type()), models::dtype_size(c.inputs[2].type()));
        tiling_plan tp;
        tp.block_dim = t.block_dim;
        tp.kind = models::kernel_kind::vector;
        tp.bytes = y.storage_bytes() + c.inputs[2].storage_bytes();
        tp.data = std::make_shared<kernel::fill_tiling>(t);
        return tp;
    };
    k.body = [](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                const op_buffers& b) {
        const auto& t = *static_cast<const kernel::fill_tiling*>(tp.data.get());
        with_type(c.inputs[2].type(), [&](auto bias) {
            with_type(c.outputs[0].type(), [&](auto out) {
                using R = decltype(bias);
                using O = decltype(out);
                kernel::broadcast_row_kernel<R, O>(ctx, {b.inputs[2], t.cols},
                                                   {b.outputs[0], c.outputs[0].elements()}, t);
            });
        });
    };
    r.add_kernel(std::move(k), NPUSIM_HERE);
}

void register_one(registry& r, const std::string& name, bool bias, bool dequant = false) {
    const std::vector<dtype> ins =
        dequant ? std::vector<dtype>{dtype::int8}
                : std::vector<dtype>{dtype::fp16, dtype::bf16, dtype::fp32, dtype::int8};
    op_schema s;
    s.name = name;
    s.doc = bias      ? "c = a x b + bias (per output column), on the cube"
            : dequant ? "c = (a x b) * scale on the cube, int8 inputs, the int32 sums "
                        "dequantized on their way out of L0C (FixPipe on split chips); scale "
                        "fp32, [1] or one per output column"
                      : "matrix product c = a x b on the cube";
    s.doc +=
        "; a [m,k] or [batch,m,k], b [k,n] or [batch,k,n] (2-D: shared by the batch); "
        "transpose_a / transpose_b read a as [k,m] and b as [n,k]; fp16/bf16/fp32 accumulate in "
        "fp32 (fp32 inputs: chips with cube.fp32), int8 in int32; out_dtype fp16 (default), bf16 "
        "or fp32, or int32 for int8";
    s.inputs = {{"a", ins}, {"b", ins}};
    if (bias) s.inputs.push_back({"bias", {dtype::fp16, dtype::bf16, dtype::fp32, dtype::int32}});
    if (dequant) s.inputs.push_back({"scale", {dtype::fp32}, true, true});
    s.outputs = {
        {"c", dequant ? k_dequant_outs
                      : std::vector<dtype>{dtype::fp16, dtype::bf16, dtype::fp32, dtype::int32}}};
    s.attrs = {{"transpose_a", false, false},
               {"transpose_b", false, false},
               {"out_dtype", std::string("fp16"), false},
               {"partition", std::string("uniform"), false}};
    s.doc +=
        "; partition: how the output tiles go to the cores (uniform: in turn; cost: by "
        "estimated cost, longest first; steal: from a shared queue as cores free up)";
    if (!dequant) {
        s.attrs.push_back({"hf32", false, false});
        s.doc +=
            "; hf32: the cube rounds fp32 inputs to HF32 (11 significand bits, fp32's range) "
            "first, as CANN's allow_hf32";
    }
    s.infer = [name, dequant](const std::vector<tensor_desc>& in, const attr_map& attrs) {
        const matmul_call c = describe_call(name, in, attrs, dequant);
        std::vector<int64_t> shape = {c.p.m, c.p.n};
        if (c.batched_out) shape.insert(shape.begin(), c.p.batch);
        return std::vector<tensor_desc>{tensor_desc("c", c.p.out, shape)};
    };
    s.reference = [name, dequant](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                                  const attr_map& attrs) {
        std::vector<tensor_desc> descs;
        for (const auto& t : in) descs.push_back(t.desc);
        if (dequant)
            for (double v : in[2].values)
                if (v == 0 || !std::isfinite(v))
                    throw op_error(
                        fmt::format("op '{}' input 'scale' holds {}; a scale must be a "
                                    "nonzero finite number",
                                    name, v));
        reference(describe_call(name, descs, attrs, dequant), in, out[0]);
    };
    // The device accumulates in fp32 (int8: int32, exactly) in another order than this double
    // loop, about sqrt(k) * 2^-24 relative to the sum of |products|: under 1e-5 here. Both
    // sides are then rounded once to the output dtype (a bias is added before that rounding)
    // and may land one ulp apart, at most 2^-10 relative for fp16. 2e-3 of |ref| + 1 covers
    // both with room; int32 results are exact.
    // Dequantization: an exact int32 sum, then the same two fp32 roundings on both sides.
    s.tolerance = dequant ? 0 : 2e-3;
    // bf16 keeps 8 significant bits: one rounding is up to 2^-8 relative, twice that apart.
    if (!dequant) s.dtype_tolerance[dtype::bf16] = 8e-3;
    r.add_op(std::move(s), NPUSIM_HERE);

    for (dtype in : ins)
        for (dtype out : dequant ? k_dequant_outs : out_dtypes(in))
            for (dtype b : bias      ? bias_dtypes(in)
                           : dequant ? std::vector<dtype>{dtype::fp32}
                                     : std::vector<dtype>{in}) {
                // k = 0: a sum of no products, zeros (plus the bias on every row).
                auto no_k = [](const op_call& c) {
                    const auto& a = c.inputs[0].shape();
                    return a[a.size() - (std::get<bool>(c.attrs.at("transpose_a")) ? 2 : 1)] == 0;
                };
                if (bias)
                    add_bias_rows_kernel(r, name, {in, in, b, out}, no_k);
                else if (dequant)
                    add_fill_kernel(r, name, {in, in, b, out}, no_k, 0.0, NPUSIM_HERE);
                else
                    add_fill_kernel(r, name, {in, in, out}, no_k, 0.0, NPUSIM_HERE);
                op_kernel k;
                k.op = name;
                k.name = name + "_tiled";
                k.dtypes = {in, in};
                if (bias || dequant) k.dtypes.push_back(b);
                k.dtypes.push_back(out);
                k.tile = [name, dequant](const op_call& c, const platform::platform_config& p) {
                    matmul_call mc = describe_call(name, c.inputs, c.attrs, dequant);
                    kernel::matmul_problem& prob = mc.p;
                    if (prob.in == dtype::fp32 && !cube_core(p).cube.fp32_mmad)
                        throw op_error(fmt::format(
                            "op '{}' input 'a' is fp32, which the cube of {} does not multiply "
                            "(its cube.fp32 is false; the 910B family's does); cast 'a' and "
                            "'b' to fp16 or bf16",
                            name, p.name));
                    // A batch of a times a shared b is one matmul with the batch in m.
                    if (prob.a_batched && !prob.b_batched && !prob.transpose_a) {
                        prob.m *= prob.batch;
                        prob.batch = 1;
                    }
                    auto t = std::make_shared<kernel::matmul_tiling>(
                        kernel::tile_matmul(kernel::matmul_chip_of(p), prob));
                    kernel::partition_kind pk{};
                    kernel::partition_from_string(std::get<std::string>(c.attrs.at("partition")),
                                                  pk);
                    kernel::set_partition(*t, pk);
                    tiling_plan tp;
                    tp.block_dim = t->block_dim;
                    tp.kind = models::kernel_kind::cube;
                    tp.flops = 2.0 * prob.batch * double(prob.m) * prob.n * prob.k;
                    for (const auto& d : c.inputs) tp.bytes += d.storage_bytes();
                    tp.bytes += c.outputs[0].storage_bytes();
                    tp.summary =
                        fmt::format("base {}x{}x{}, step_k {}, swizzle {}, {} tiles{}", t->base_m,
                                    t->base_n, t->base_k, t->step_k, t->swizzle, t->tiles(),
                                    pk == kernel::partition_kind::uniform
                                        ? ""
                                        : std::string(", partition ") + kernel::to_string(pk));
                    tp.data = t;
                    return tp;
                };
                k.body = [](kernel::kernel_context& ctx, const op_call&, const tiling_plan& tp,
                            const op_buffers& buf) {
                    const auto& t = *static_cast<const kernel::matmul_tiling*>(tp.data.get());
                    const uint64_t third = buf.inputs.size() > 2 ? buf.inputs[2] : 0;
                    kernel::matmul_args args;
                    args.a = buf.inputs[0];
                    args.b = buf.inputs[1];
                    args.c = buf.outputs[0];
                    args.bias = args.scale = third;
                    kernel::matmul_kernel(ctx, args, t, buf.queue.get());
                };
                r.add_kernel(std::move(k), NPUSIM_HERE);
            }
}

}  // namespace

void register_matmul(registry& r) {
    register_one(r, "matmul", false);
    register_one(r, "matmul_bias", true);
    register_one(r, "matmul_dequant", false, true);
}

}  // namespace npusim::ops::lib
