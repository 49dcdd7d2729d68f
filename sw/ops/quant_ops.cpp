// Quantization ops: quantize (float -> int8) and dequantize (int8 or int32 -> float), with a
// scale and an offset per tensor or per channel (the last dimension), as ONNX QuantizeLinear /
// DequantizeLinear with fp32 offsets.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sw/kernel/quant_kernels.h"
#include "sw/ops/library_parts.h"

namespace npusim::ops::lib {

namespace {

using memory::tensor_desc;
using models::dtype;

/// Checks the scale and offset shapes against x: [1] (per tensor) or [C] with C the last
/// dimension of x (per channel). Returns the number of channels.
uint64_t check_params(const std::string& op, const std::vector<tensor_desc>& in) {
    const auto& x = in[0].shape();
    const uint64_t channels = in[1].elements();
    const bool per_tensor = in[1].shape().size() == 1 && channels == 1;
    const bool per_channel =
        !x.empty() && in[1].shape().size() == 1 && int64_t(channels) == x.back();
    if (!per_tensor && !per_channel)
        throw op_error(fmt::format(
            "op '{}' input 'scale' is {}; expected [1] (per tensor) or [{}] (per channel: one "
            "scale for each element of the last dimension of 'x' {})",
            op, dims(in[1].shape()), x.empty() ? 1 : x.back(), dims(x)));
    if (in[2].shape() != in[1].shape())
        throw op_error(
            fmt::format("op '{}' input 'offset' is {} but 'scale' is {}; they must "
                        "have the same shape",
                        op, dims(in[2].shape()), dims(in[1].shape())));
    return channels;
}

/// A scale must divide (quantize) or multiply (dequantize) to something meaningful.
void check_scales(const std::string& op, const host_tensor& scale) {
    for (size_t i = 0; i < scale.values.size(); ++i) {
        const double s = scale.values[i];
        if (s == 0 || !std::isfinite(s))
            throw op_error(
                fmt::format("op '{}' input 'scale' element {} is {}; a scale must be "
                            "a nonzero finite number",
                            op, i, s));
    }
}

void register_quant_op(registry& r, bool dequant) {
    const std::string name = dequant ? "dequantize" : "quantize";
    const std::vector<dtype> floats = {dtype::fp16, dtype::fp32, dtype::bf16};
    const std::vector<dtype> ints = {dtype::int8, dtype::int32};
    op_schema s;
    s.name = name;
    s.doc = dequant ? "y = (x - offset) * scale, in fp32, converted to attribute 'dtype'; scale "
                      "and offset fp32, [1] or one per element of the last dimension"
                    : "y = saturate(rint(x / scale + offset)) into int8, in fp32; scale and "
                      "offset fp32, [1] or one per element of the last dimension";
    // The scale and offset are read by the scalar unit per tensor: control inputs, so
    // timing-only runs keep their values.
    s.inputs = {{"x", dequant ? ints : floats},
                {"scale", {dtype::fp32}, true, true},
                {"offset", {dtype::fp32}, true}};
    s.outputs = {{"y", dequant ? floats : std::vector<dtype>{dtype::int8}}};
    if (dequant) s.attrs = {{"dtype", std::string("fp16")}};
    s.infer = [name, dequant](const std::vector<tensor_desc>& in, const attr_map& attrs) {
        check_params(name, in);
        dtype out = dtype::int8;
        if (dequant) {
            const auto& t = std::get<std::string>(attrs.at("dtype"));
            if (!models::dtype_from_string(t, out) || !models::is_float(out))
                throw op_error("op 'dequantize' attribute 'dtype' is '" + t +
                               "'; expected fp16, fp32 or bf16");
        }
        return std::vector<tensor_desc>{tensor_desc("y", out, in[0].shape())};
    };
    // Step by step in fp32, as the kernel does: each step rounds once.
    s.reference = [name, dequant](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                                  const attr_map&) {
        check_scales(name, in[1]);
        const uint64_t channels = in[1].values.size();
        for (size_t e = 0; e < out[0].values.size(); ++e) {
            const float x = float(in[0].values[e]);
            const float sc = float(in[1].values[e % channels]);
            const float of = float(in[2].values[e % channels]);
            if (dequant) {
                out[0].values[e] = double((x - of) * sc);
            } else {
                const float v = x / sc + of;
                out[0].values[e] =
                    std::isnan(v) ? 0 : std::clamp(std::nearbyint(double(v)), -128.0, 127.0);
            }
        }
    };
    s.tolerance = 0;
    r.add_op(std::move(s), NPUSIM_HERE);
    for (dtype xt : dequant ? ints : floats)
        for (dtype yt : dequant ? floats : std::vector<dtype>{dtype::int8}) {
            op_kernel k;
            k.op = name;
            k.name = name + "_" + models::to_string(xt) + "_" + models::to_string(yt);
            k.dtypes = {xt, dtype::fp32, dtype::fp32, yt};
            k.tile = [xt, yt](const op_call& c, const platform::platform_config& p) {
                const uint64_t n = c.inputs[0].elements();
                auto t = std::make_shared<kernel::quant_tiling>(
                    kernel::tile_quant(vector_core(p), vector_units(p), n, c.inputs[1].elements(),
                                       models::dtype_size(xt), models::dtype_size(yt)));
                tiling_plan tp;
                tp.block_dim = t->block_dim;
                tp.kind = models::kernel_kind::vector;
                tp.flops = 2.0 * double(n);
                tp.bytes = n * (models::dtype_size(xt) + models::dtype_size(yt));
                tp.data = t;
                return tp;
            };
            k.body = [dequant, xt, yt](kernel::kernel_context& ctx, const op_call&,
                                       const tiling_plan& tp, const op_buffers& b) {
                kernel::quant_kernel(ctx, dequant, xt, b.inputs[0], b.inputs[1], b.inputs[2], yt,
                                     b.outputs[0],
                                     *static_cast<const kernel::quant_tiling*>(tp.data.get()));
            };
            r.add_kernel(std::move(k), NPUSIM_HERE);
        }
}

}  // namespace

void register_quant(registry& r) {
    register_quant_op(r, false);
    register_quant_op(r, true);
}

}  // namespace npusim::ops::lib
