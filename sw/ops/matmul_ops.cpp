// Matrix products on the cube.
#include <fmt/format.h>

#include "sw/kernel/reference_kernels.h"
#include "sw/ops/library_parts.h"

namespace npusim::ops::lib {

using memory::tensor_desc;
using models::dtype;

// --- matmul: c[m, n] = a[m, k] x b[k, n], fp16 in, fp16 out ---

void register_matmul(registry& r) {
    op_schema s;
    s.name = "matmul";
    s.doc = "matrix product c[m,n] = a[m,k] x b[k,n] on the cube";
    s.inputs = {{"a", {dtype::fp16}}, {"b", {dtype::fp16}}};
    s.outputs = {{"c", {dtype::fp16}}};
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map&) {
        const char* names[] = {"a", "b"};
        for (int i = 0; i < 2; ++i)
            if (in[i].shape().size() != 2)
                throw op_error(
                    fmt::format("op 'matmul' input '{}' has shape {}; expected 2 "
                                "dimensions",
                                names[i], dims(in[i].shape())));
        if (in[1].shape()[0] != in[0].shape()[1])
            throw op_error(
                fmt::format("op 'matmul' input 'b' has {} rows but 'a' has {} "
                            "columns; they must match (a[m,k] x b[k,n])",
                            in[1].shape()[0], in[0].shape()[1]));
        return std::vector<tensor_desc>{
            tensor_desc("c", dtype::fp16, {in[0].shape()[0], in[1].shape()[1]})};
    };
    s.reference = [](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                     const attr_map&) {
        const auto m = size_t(in[0].desc.shape()[0]), k = size_t(in[0].desc.shape()[1]),
                   n = size_t(in[1].desc.shape()[1]);
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < n; ++j) {
                double acc = 0;
                for (size_t p = 0; p < k; ++p)
                    acc += in[0].values[i * k + p] * in[1].values[p * n + j];
                out[0].values[i * n + j] = acc;
            }
    };
    s.tolerance = 2e-3;  // fp32 accumulation in a different order, then one fp16 rounding
    r.add_op(std::move(s), NPUSIM_HERE);
    op_kernel k;
    k.op = "matmul";
    k.name = "matmul_tiled";
    k.dtypes = {dtype::fp16, dtype::fp16, dtype::fp16};
    k.tile = [](const op_call& c, const platform::platform_config& p) {
        const auto m = uint32_t(c.inputs[0].shape()[0]), kk = uint32_t(c.inputs[0].shape()[1]),
                   n = uint32_t(c.inputs[1].shape()[1]);
        const auto& core = cube_core(p);
        auto tiling =
            std::make_shared<kernel::matmul_tiling>(kernel::tile_matmul(core, p.cores, m, kk, n));
        tiling_plan tp;
        tp.block_dim = tiling->block_dim;
        tp.kind = models::kernel_kind::cube;
        tp.flops = 2.0 * m * n * kk;
        tp.bytes = 2ull * (uint64_t(m) * kk + uint64_t(kk) * n + uint64_t(m) * n);
        tp.data = tiling;
        return tp;
    };
    k.body = [](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                const op_buffers& b) {
        const auto& t = *static_cast<const kernel::matmul_tiling*>(tp.data.get());
        kernel::matmul_kernel(ctx, {b.inputs[0], c.inputs[0].elements()},
                              {b.inputs[1], c.inputs[1].elements()},
                              {b.outputs[0], c.outputs[0].elements()}, t);
    };
    r.add_kernel(std::move(k), NPUSIM_HERE);
}

}  // namespace npusim::ops::lib
