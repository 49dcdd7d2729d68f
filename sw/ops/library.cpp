// The built-in operator library: each family of ops registers its schemas and kernels from
// its own file (see library_parts.h).
#include "sw/ops/library_parts.h"

#include <stdexcept>

#include "sw/kernel/fill_kernels.h"

namespace npusim::ops {

namespace lib {

std::string dims(const std::vector<int64_t>& shape) {
    std::string s;
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return "[" + s + "]";
}

const models::core_params& vector_core(const platform::platform_config& p) {
    return p.split ? p.aiv : p.aicore;
}

unsigned vector_units(const platform::platform_config& p) {
    return p.split ? p.vector_cores : p.cores;
}

const models::core_params& cube_core(const platform::platform_config& p) {
    return p.split ? p.aic : p.aicore;
}

void add_fill_kernel(registry& r, const std::string& op, const std::vector<models::dtype>& dtypes,
                     std::function<bool(const op_call&)> applies, double value,
                     const std::string& where) {
    op_kernel k;
    k.op = op;
    k.name = op + "_fill";
    k.dtypes = dtypes;
    k.priority = 100;  // an empty input makes every other kernel's tiling meaningless
    k.applies = [applies](const op_call& c, const platform::platform_config&) {
        return applies(c);
    };
    k.tile = [](const op_call& c, const platform::platform_config& p) {
        const auto& y = c.outputs[0];
        const uint64_t cols = y.shape().empty() ? 1 : uint64_t(y.shape().back());
        const auto t = kernel::tile_fill(vector_core(p), vector_units(p), y.elements() / cols, cols,
                                         models::dtype_size(y.type()));
        tiling_plan tp;
        tp.block_dim = t.block_dim;
        tp.kind = models::kernel_kind::vector;
        tp.bytes = y.storage_bytes();
        tp.data = std::make_shared<kernel::fill_tiling>(t);
        return tp;
    };
    k.body = [value](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                     const op_buffers& b) {
        const auto& t = *static_cast<const kernel::fill_tiling*>(tp.data.get());
        const uint64_t n = c.outputs[0].elements();
        switch (c.outputs[0].type()) {
            case models::dtype::fp16:
                kernel::fill_kernel<kernel::half>(ctx, {b.outputs[0], n}, t, float(value));
                break;
            case models::dtype::fp32:
                kernel::fill_kernel<float>(ctx, {b.outputs[0], n}, t, float(value));
                break;
            case models::dtype::bf16:
                kernel::fill_kernel<kernel::bfloat16>(ctx, {b.outputs[0], n}, t, float(value));
                break;
            case models::dtype::int32:  // value is a whole number (0)
                kernel::fill_kernel<int32_t>(ctx, {b.outputs[0], n}, t, float(value));
                break;
            default:
                throw std::logic_error(std::string("no fill kernel for ") +
                                       models::to_string(c.outputs[0].type()));
        }
    };
    r.add_kernel(std::move(k), where);
}

}  // namespace lib

namespace {

registry build_library() {
    registry r;
    lib::register_elementwise(r);
    lib::register_matmul(r);
    lib::register_norm(r);
    lib::register_views(r);
    lib::register_conv(r);
    lib::register_layout(r);
    lib::register_quant(r);
    lib::register_sparse(r);
    return r;
}

}  // namespace

const registry& library() {
    static const registry lib = build_library();
    return lib;
}

}  // namespace npusim::ops
