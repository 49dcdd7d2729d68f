#include "sw/kernel/reference_kernels.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "models/core/fractal_layout.h"

namespace npusim::kernel {

using models::mem_space;
using models::round_up;

elementwise_tiling tile_elementwise(const models::core_params& core, unsigned cores, uint64_t n,
                                    unsigned elem_bytes, unsigned depth) {
    elementwise_tiling t;
    t.n = n;
    t.depth = depth;
    // Three queues (x, y, z) of two buffers each share UB; the tile does not depend on depth so
    // that depth 1 and 2 move the same bursts.
    const uint64_t ub = core.buffer(mem_space::ub).size;
    t.tile = std::max<uint64_t>(128, (ub / 6) / 256 * 256 / elem_bytes);
    t.per_block = std::max<uint64_t>(128, round_up((n + cores - 1) / cores, 128));
    t.block_dim = unsigned(std::max<uint64_t>(1, (n + t.per_block - 1) / t.per_block));
    return t;
}

void cast_kernel(kernel_context& ctx, dtype from, dtype via, dtype to, models::round_mode round,
                 uint64_t x, uint64_t y, const elementwise_tiling& t) {
    const unsigned sf = models::dtype_size(from), sv = models::dtype_size(via),
                   st = models::dtype_size(to);
    tque<uint8_t> qx(ctx, position::VECIN, t.depth, t.tile * sf);
    tque<uint8_t> qy(ctx, position::VECOUT, t.depth, t.tile * st);
    local_tensor<uint8_t> mid;
    if (via != from) mid = ctx.alloc<uint8_t>(position::VECCALC, t.tile * sv);
    for_each_tile(ctx, t, [&](uint64_t off, uint64_t len) {
        auto xl = qx.alloc_tensor();
        ctx.data_copy(xl, global_tensor<uint8_t>{x + off * sf, len * sf}, len * sf);
        qx.enque(xl);

        auto xi = qx.deque();
        auto yl = qy.alloc_tensor();
        if (from == to) {
            ctx.data_copy(yl, xi, len * sf);
        } else if (via != from) {
            ctx.convert(via, mid.pos, mid.offset, from, xi.pos, xi.offset, len);
            ctx.convert(to, yl.pos, yl.offset, via, mid.pos, mid.offset, len, round);
        } else {
            ctx.convert(to, yl.pos, yl.offset, from, xi.pos, xi.offset, len, round);
        }
        qx.free_tensor(xi);
        qy.enque(yl);

        auto yo = qy.deque();
        ctx.data_copy(global_tensor<uint8_t>{y + off * st, len * st}, yo, len * st);
        qy.free_tensor(yo);
    });
}

}  // namespace npusim::kernel
