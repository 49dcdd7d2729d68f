// Convolution (cube, through an img2col load) and pooling (vector unit). Tensors are NCHW:
// x [n, c, h, w], conv2d weight [cout, c / groups, kh, kw], outputs [n, c_out, oh, ow].
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "sw/kernel/conv_kernel.h"
#include "sw/ops/library_parts.h"

namespace npusim::ops::lib {

namespace {

using memory::tensor_desc;
using models::dtype;

/// The attribute `name` as two integers, each at least `min`.
std::pair<uint32_t, uint32_t> pair_attr(const std::string& op, const attr_map& attrs,
                                        const std::string& name, int64_t min, const char* what) {
    const auto& v = std::get<std::vector<int64_t>>(attrs.at(name));
    if (v.size() != 2 || v[0] < min || v[1] < min || v[0] > 65535 || v[1] > 65535)
        throw op_error(fmt::format("op '{}' attribute '{}' is {}; expected two {} integers", op,
                                   name, dims(v), what));
    return {uint32_t(v[0]), uint32_t(v[1])};
}

void check_4d(const std::string& op, const tensor_desc& t, const char* name, const char* layout) {
    if (t.shape().size() != 4)
        throw op_error(fmt::format("op '{}' input '{}' has shape {}; expected 4 dimensions {}", op,
                                   name, dims(t.shape()), layout));
}

/// @throws op_error if x [n, c, h, w] has an empty plane (h or w 0): a window would have
/// nothing to read. PyTorch refuses these too; only n and c may be 0 (empty or zero output).
void need_plane(const std::string& op, const std::vector<int64_t>& xs) {
    if (xs[2] == 0 || xs[3] == 0)
        throw op_error(fmt::format(
            "op '{}' input 'x' has shape {}; its height and width must not be 0 (the batch and "
            "channels may be)",
            op, dims(xs)));
}

/// @throws op_error if a dimension does not fit the kernels' 32-bit sizes.
void need_fits(const std::string& op, const char* name, const std::vector<int64_t>& shape) {
    for (int64_t d : shape)
        if (d > int64_t(UINT32_MAX))
            throw op_error(
                fmt::format("op '{}' input '{}' has shape {}; each dimension must be "
                            "under 2^32",
                            op, name, dims(shape)));
}

/// Output extent of a window of `k` taps `d` apart, stride `s`, over `in` plus `p` each side.
/// @throws op_error when the window is larger than the padded input.
uint32_t out_extent(const std::string& op, const char* dim, int64_t in, uint32_t k, uint32_t s,
                    uint32_t p, uint32_t d) {
    const int64_t span = int64_t(k - 1) * d + 1, padded = in + 2 * int64_t(p);
    if (span > padded)
        throw op_error(fmt::format("op '{}' kernel {} {}{} is larger than the padded input {} {}",
                                   op, dim, span, d > 1 ? " (dilated)" : "", dim, padded));
    return uint32_t((padded - span) / s + 1);
}

// --- conv2d ---

kernel::conv2d_shape conv_shape(const std::vector<tensor_desc>& in, const attr_map& attrs) {
    const std::string op = "conv2d";
    check_4d(op, in[0], "x", "[n, c, h, w]");
    check_4d(op, in[1], "weight", "[cout, c / groups, kh, kw]");
    const auto& xs = in[0].shape();
    const auto& ws = in[1].shape();
    kernel::conv2d_shape s;
    std::tie(s.sh, s.sw) = pair_attr(op, attrs, "stride", 1, "positive");
    std::tie(s.ph, s.pw) = pair_attr(op, attrs, "padding", 0, "non-negative");
    std::tie(s.dh, s.dw) = pair_attr(op, attrs, "dilation", 1, "positive");
    const int64_t groups = std::get<int64_t>(attrs.at("groups"));
    if (groups < 1)
        throw op_error(fmt::format(
            "op 'conv2d' attribute 'groups' is {}; expected a positive integer", groups));
    if (xs[1] % groups != 0)
        throw op_error(
            fmt::format("op 'conv2d' input 'x' has {} channels, which groups {} does not divide",
                        xs[1], groups));
    if (ws[0] % groups != 0)
        throw op_error(fmt::format(
            "op 'conv2d' input 'weight' has {} output channels, which groups {} does not divide",
            ws[0], groups));
    if (ws[1] != xs[1] / groups)
        throw op_error(fmt::format(
            "op 'conv2d' input 'weight' has {} input channels per group (dimension 1); expected "
            "{} ({} channels of 'x' / groups {})",
            ws[1], xs[1] / groups, xs[1], groups));
    need_plane(op, xs);
    if (ws[2] < 1 || ws[3] < 1)
        throw op_error(fmt::format(
            "op 'conv2d' input 'weight' has shape {}; its kernel (dimensions 2 and 3) must be at "
            "least 1 x 1",
            dims(ws)));
    need_fits(op, "x", xs);
    need_fits(op, "weight", ws);
    s.n = uint32_t(xs[0]);
    s.c = uint32_t(xs[1]);
    s.h = uint32_t(xs[2]);
    s.w = uint32_t(xs[3]);
    s.cout = uint32_t(ws[0]);
    s.kh = uint32_t(ws[2]);
    s.kw = uint32_t(ws[3]);
    s.groups = uint32_t(groups);
    s.oh = out_extent(op, "height", s.h, s.kh, s.sh, s.ph, s.dh);
    s.ow = out_extent(op, "width", s.w, s.kw, s.sw, s.pw, s.dw);
    return s;
}

void register_conv2d(registry& r) {
    op_schema s;
    s.name = "conv2d";
    s.doc =
        "2-D convolution y[n,cout,oh,ow] of x[n,c,h,w] with weight[cout,c/groups,kh,kw] (NCHW, "
        "no bias), on the cube through an img2col load";
    s.inputs = {{"x", {dtype::fp16}}, {"weight", {dtype::fp16}}};
    s.outputs = {{"y", {dtype::fp16}}};
    s.attrs = {{"stride", std::vector<int64_t>{1, 1}},
               {"padding", std::vector<int64_t>{0, 0}},
               {"dilation", std::vector<int64_t>{1, 1}},
               {"groups", int64_t{1}}};
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map& attrs) {
        const auto c = conv_shape(in, attrs);
        return std::vector<tensor_desc>{tensor_desc("y", dtype::fp16, {c.n, c.cout, c.oh, c.ow})};
    };
    s.reference = [](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                     const attr_map& attrs) {
        const auto c = conv_shape({in[0].desc, in[1].desc}, attrs);
        const auto& x = in[0].values;
        const auto& w = in[1].values;
        for (size_t n = 0; n < c.n; ++n)
            for (size_t co = 0; co < c.cout; ++co) {
                const size_t g = co / c.coutg();
                for (size_t oh = 0; oh < c.oh; ++oh)
                    for (size_t ow = 0; ow < c.ow; ++ow) {
                        double acc = 0;
                        for (size_t ci = 0; ci < c.cg(); ++ci)
                            for (size_t kh = 0; kh < c.kh; ++kh)
                                for (size_t kw = 0; kw < c.kw; ++kw) {
                                    const int64_t ih = int64_t(oh * c.sh + kh * c.dh) - c.ph;
                                    const int64_t iw = int64_t(ow * c.sw + kw * c.dw) - c.pw;
                                    if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w) continue;
                                    acc +=
                                        x[((n * c.c + g * c.cg() + ci) * c.h + size_t(ih)) * c.w +
                                          size_t(iw)] *
                                        w[((co * c.cg() + ci) * c.kh + kh) * c.kw + kw];
                                }
                        out[0].values[((n * c.cout + co) * c.oh + oh) * c.ow + ow] = acc;
                    }
            }
    };
    s.tolerance = 2e-3;  // fp32 accumulation in a different order, then one fp16 rounding
    r.add_op(std::move(s), NPUSIM_HERE);

    // No input channels: each output is a sum of no products, 0.
    add_fill_kernel(
        r, "conv2d", {dtype::fp16, dtype::fp16, dtype::fp16},
        [](const op_call& c) { return c.inputs[0].shape()[1] == 0; }, 0.0, NPUSIM_HERE);
    op_kernel k;
    k.op = "conv2d";
    k.name = "conv2d_img2col";
    k.dtypes = {dtype::fp16, dtype::fp16, dtype::fp16};
    k.tile = [](const op_call& c, const platform::platform_config& p) {
        const auto shape = conv_shape(c.inputs, c.attrs);
        std::shared_ptr<kernel::conv2d_tiling> t;
        try {
            t = std::make_shared<kernel::conv2d_tiling>(
                kernel::tile_conv2d(cube_core(p), p.cores, shape));
        } catch (const std::invalid_argument& e) {
            throw op_error(fmt::format("op 'conv2d' with input 'x' {} cannot be tiled on {}: {}",
                                       dims(c.inputs[0].shape()), p.name, e.what()));
        }
        tiling_plan tp;
        tp.block_dim = t->block_dim;
        tp.kind = models::kernel_kind::cube;
        tp.flops = 2.0 * shape.n * shape.cout * shape.pixels() * shape.k();
        tp.bytes = 2 * (c.inputs[0].elements() + c.inputs[1].elements() + c.outputs[0].elements());
        tp.summary = fmt::format("base {}x{}x{}, chunk_c {}, {} tiles", t->base_m, t->base_n,
                                 t->base_k, t->chunk_c, t->tiles());
        tp.data = t;
        return tp;
    };
    k.body = [](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                const op_buffers& b) {
        const auto& t = *static_cast<const kernel::conv2d_tiling*>(tp.data.get());
        kernel::conv2d_kernel(ctx, {b.inputs[0], c.inputs[0].elements()},
                              {b.inputs[1], c.inputs[1].elements()},
                              {b.outputs[0], c.outputs[0].elements()}, t);
    };
    r.add_kernel(std::move(k), NPUSIM_HERE);
}

// --- max_pool2d, avg_pool2d ---

kernel::pool2d_shape pool_shape(const std::string& op, const tensor_desc& x,
                                const attr_map& attrs) {
    check_4d(op, x, "x", "[n, c, h, w]");
    kernel::pool2d_shape s;
    std::tie(s.kh, s.kw) = pair_attr(op, attrs, "kernel", 1, "positive");
    if (std::get<std::vector<int64_t>>(attrs.at("stride")).empty()) {
        s.sh = s.kh;
        s.sw = s.kw;
    } else {
        std::tie(s.sh, s.sw) = pair_attr(op, attrs, "stride", 1, "positive");
    }
    std::tie(s.ph, s.pw) = pair_attr(op, attrs, "padding", 0, "non-negative");
    if (2 * s.ph > s.kh || 2 * s.pw > s.kw)
        throw op_error(fmt::format(
            "op '{}' attribute 'padding' is [{},{}]; each side must be at most half the kernel "
            "[{},{}]",
            op, s.ph, s.pw, s.kh, s.kw));
    const auto& xs = x.shape();
    need_plane(op, xs);
    need_fits(op, "x", {xs[0] * xs[1], xs[2], xs[3]});
    s.planes = uint32_t(xs[0] * xs[1]);
    s.h = uint32_t(xs[2]);
    s.w = uint32_t(xs[3]);
    s.oh = out_extent(op, "height", s.h, s.kh, s.sh, s.ph, 1);
    s.ow = out_extent(op, "width", s.w, s.kw, s.sw, s.pw, 1);
    return s;
}

void register_pool(registry& r, const std::string& name, bool max) {
    op_schema s;
    s.name = name;
    s.doc = max ? "2-D max pooling of x[n,c,h,w] (NCHW); padding never wins"
                : "2-D average pooling of x[n,c,h,w] (NCHW) over the in-bounds elements of each "
                  "window (count_include_pad=false)";
    s.inputs = {{"x", {dtype::fp16, dtype::fp32}}};
    s.outputs = {{"y", {dtype::fp16, dtype::fp32}}};
    s.attrs = {{"kernel", std::vector<int64_t>{}, true},
               {"stride", std::vector<int64_t>{}},  // empty: the kernel size
               {"padding", std::vector<int64_t>{0, 0}}};
    s.infer = [name](const std::vector<tensor_desc>& in, const attr_map& attrs) {
        const auto p = pool_shape(name, in[0], attrs);
        const auto& xs = in[0].shape();
        return std::vector<tensor_desc>{
            tensor_desc("y", in[0].type(), {xs[0], xs[1], int64_t(p.oh), int64_t(p.ow)})};
    };
    s.reference = [name, max](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                              const attr_map& attrs) {
        const auto p = pool_shape(name, in[0].desc, attrs);
        for (size_t pl = 0; pl < p.planes; ++pl)
            for (size_t oh = 0; oh < p.oh; ++oh)
                for (size_t ow = 0; ow < p.ow; ++ow) {
                    double acc = max ? -std::numeric_limits<double>::infinity() : 0;
                    size_t count = 0;
                    for (size_t kh = 0; kh < p.kh; ++kh)
                        for (size_t kw = 0; kw < p.kw; ++kw) {
                            const int64_t ih = int64_t(oh * p.sh + kh) - p.ph;
                            const int64_t iw = int64_t(ow * p.sw + kw) - p.pw;
                            if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
                            const double v =
                                in[0].values[(pl * p.h + size_t(ih)) * p.w + size_t(iw)];
                            acc = max ? std::max(acc, v) : acc + v;
                            ++count;
                        }
                    out[0].values[(pl * p.oh + oh) * p.ow + ow] = max ? acc : acc / double(count);
                }
    };
    // max: exact. avg: sums and scaling in fp32 (relative error ~1e-6), then at most one
    // fp16 rounding against the reference's own: one fp16 ulp (~1e-3), with margin.
    s.tolerance = max ? 0 : 2e-3;
    r.add_op(std::move(s), NPUSIM_HERE);
    for (dtype t : {dtype::fp16, dtype::fp32}) {
        op_kernel k;
        k.op = name;
        k.name = name + "_" + models::to_string(t);
        k.dtypes = {t, t};
        k.tile = [name, t, max](const op_call& c, const platform::platform_config& p) {
            const auto shape = pool_shape(name, c.inputs[0], c.attrs);
            std::shared_ptr<kernel::pool2d_tiling> tiling;
            try {
                tiling = std::make_shared<kernel::pool2d_tiling>(kernel::tile_pool2d(
                    vector_core(p), vector_units(p), shape, models::dtype_size(t), max));
            } catch (const std::invalid_argument& e) {
                throw op_error(fmt::format("op '{}' with input 'x' {} cannot be tiled on {}: {}",
                                           name, dims(c.inputs[0].shape()), p.name, e.what()));
            }
            tiling_plan tp;
            tp.block_dim = tiling->block_dim;
            tp.kind = models::kernel_kind::vector;
            tp.flops = double(c.outputs[0].elements()) * shape.kh * shape.kw;
            tp.bytes = (c.inputs[0].elements() + c.outputs[0].elements()) * models::dtype_size(t);
            tp.data = tiling;
            return tp;
        };
        k.body = [t, max](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                          const op_buffers& b) {
            const auto& tiling = *static_cast<const kernel::pool2d_tiling*>(tp.data.get());
            const uint64_t n = c.inputs[0].elements(), m = c.outputs[0].elements();
            if (t == dtype::fp16)
                kernel::pool2d_kernel<kernel::half>(ctx, max, {b.inputs[0], n}, {b.outputs[0], m},
                                                    tiling);
            else
                kernel::pool2d_kernel<float>(ctx, max, {b.inputs[0], n}, {b.outputs[0], m}, tiling);
        };
        r.add_kernel(std::move(k), NPUSIM_HERE);
    }
}

}  // namespace

void register_conv(registry& r) {
    register_conv2d(r);
    register_pool(r, "max_pool2d", true);
    register_pool(r, "avg_pool2d", false);
}

}  // namespace npusim::ops::lib
