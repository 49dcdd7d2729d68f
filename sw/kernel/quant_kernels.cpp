#include "sw/kernel/quant_kernels.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "models/common/model_fault.h"
#include "models/core/fractal_layout.h"
#include "sw/kernel/layout_kernels.h"

namespace npusim::kernel {

using models::mem_space;
using models::round_up;
using models::vec_opcode;

quant_tiling tile_quant(const models::core_params& core, unsigned cores, uint64_t n,
                        uint64_t channels, unsigned in_bytes, unsigned out_bytes) {
    quant_tiling t;
    t.per_channel = channels > 1;
    t.cols = t.per_channel ? channels : n;
    t.rows = t.per_channel ? n / channels : 1;
    // A pitch of 32 elements is a whole number of blocks for int8 and every wider type.
    const uint64_t ub = core.buffer(mem_space::ub).size;
    const uint64_t per_elem = 2 * in_bytes + 2 * out_bytes + 4;         // queues and the fp32 tile
    const uint64_t max_elems = (ub - 1024) / (per_elem + 8) / 32 * 32;  // + scale, offset rows
    t.tile_cols =
        std::max<uint64_t>(32, std::min(round_up(t.cols, 32), std::min<uint64_t>(max_elems, 8192)));
    t.pitch = t.tile_cols;
    // Rows: what is left after the scale and offset rows, at most 255 (one repeat count).
    const uint64_t row_room = (ub - 1024 - 8 * t.pitch) / (per_elem * t.pitch);
    t.tile_rows = std::max<uint64_t>(1, std::min<uint64_t>({row_room, 255, t.rows}));
    // Few tiles: cut rows finer so every core gets one.
    if (t.tiles() < cores && t.rows > 1) {
        const uint64_t chunks = (cores + t.col_tiles() - 1) / t.col_tiles();
        t.tile_rows = std::max<uint64_t>(1, (t.rows + chunks - 1) / chunks);
    }
    t.block_dim = unsigned(std::max<uint64_t>(1, std::min<uint64_t>(cores, t.tiles())));
    return t;
}

void quant_kernel(kernel_context& ctx, bool dequant, dtype xt, uint64_t x, uint64_t scale,
                  uint64_t offset, dtype yt, uint64_t y, const quant_tiling& t) {
    const unsigned sx = models::dtype_size(xt), sy = models::dtype_size(yt);
    const uint64_t tile = t.tile_rows * t.pitch;
    tque<uint8_t> qx(ctx, position::VECIN, 2, tile * sx), qy(ctx, position::VECOUT, 2, tile * sy);
    // Per channel, the scale and offset rows of a column tile come in through a queue.
    std::optional<tque<uint8_t>> qp;
    if (t.per_channel) qp.emplace(ctx, position::VECIN, 1, 2 * t.pitch * 4);
    auto work = ctx.alloc<float>(position::VECCALC, tile);
    const uint32_t row_blocks = uint32_t(t.pitch * 4 / 32);
    const ub_rows w{work.offset, row_blocks, 1};
    const dtype f32 = dtype::fp32;
    // Per tensor: the two values fill the rows once, by the scalar unit and vector dup.
    local_tensor<float> params;
    if (!t.per_channel) {
        params = ctx.alloc<float>(position::VECCALC, 2 * t.pitch);
        const float s = ctx.get_value(global_tensor<float>{scale, 1}, 0);
        if (s == 0 || !std::isfinite(s))
            throw models::model_fault(ctx.core().name(), scale, dequant ? "dequantize" : "quantize",
                                      "input 'scale' is " + std::to_string(s) +
                                          "; a scale must be a nonzero finite number");
        const float o = ctx.get_value(global_tensor<float>{offset, 1}, 0);
        ctx.duplicate(params, s, t.pitch);
        ctx.duplicate(params[t.pitch], o, t.pitch);
    }
    uint64_t loaded_col = ~0ull;
    local_tensor<uint8_t> held;  // per channel: the scale and offset rows of column loaded_col
    for (uint64_t k = ctx.block_idx(); k < t.tiles(); k += ctx.block_num()) {
        const uint64_t r0 = k / t.col_tiles() * t.tile_rows, c0 = k % t.col_tiles() * t.tile_cols;
        const uint64_t nr = std::min(t.tile_rows, t.rows - r0),
                       nc = std::min(t.tile_cols, t.cols - c0);
        if (t.per_channel && c0 != loaded_col) {
            if (loaded_col != ~0ull) qp->free_tensor(held);
            auto p = qp->alloc_tensor();
            ctx.data_copy(p, global_tensor<uint8_t>{scale + c0 * 4, nc * 4}, nc * 4);
            ctx.data_copy(p[t.pitch * 4], global_tensor<uint8_t>{offset + c0 * 4, nc * 4}, nc * 4);
            qp->enque(p);
            held = qp->deque();
            params = {held.pos, held.offset, 2 * t.pitch};
            loaded_col = c0;
        }
        auto xl = qx.alloc_tensor();
        ctx.copy_2d<uint8_t>(mem_space::ub, xl.offset, mem_space::gm, x + (r0 * t.cols + c0) * sx,
                             uint32_t(nr), nc * sx, t.pitch * sx, t.cols * sx);
        qx.enque(xl);
        auto xi = qx.deque();
        ctx.convert(f32, work.pos, work.offset, xt, xi.pos, xi.offset, nr * t.pitch);
        qx.free_tensor(xi);
        const ub_rows s{params.offset, 0, 1}, o{params.offset + t.pitch * 4, 0, 1};
        if (dequant) {
            vector_rows(ctx, vec_opcode::sub, f32, w, w, o, nr, nc);
            vector_rows(ctx, vec_opcode::mul, f32, w, w, s, nr, nc);
        } else {
            vector_rows(ctx, vec_opcode::div, f32, w, w, s, nr, nc);
            vector_rows(ctx, vec_opcode::add, f32, w, w, o, nr, nc);
        }
        auto yl = qy.alloc_tensor();
        ctx.convert(yt, yl.pos, yl.offset, f32, work.pos, work.offset, nr * t.pitch);
        qy.enque(yl);
        auto yo = qy.deque();
        ctx.copy_2d<uint8_t>(mem_space::gm, y + (r0 * t.cols + c0) * sy, mem_space::ub, yo.offset,
                             uint32_t(nr), nc * sy, t.cols * sy, t.pitch * sy);
        qy.free_tensor(yo);
    }
    if (loaded_col != ~0ull) qp->free_tensor(held);
}

}  // namespace npusim::kernel
