#include "sw/kernel/reference_kernels.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "models/core/fractal_layout.h"

namespace npusim::kernel {

using models::mem_space;
using models::round_up;

// NZ -> ND inside UB with the vector unit: x * 1 copies exactly, block strides do the
// reordering. A repeat takes one row of 8 fractal columns (8 x 32 bytes), one repeat per row.
void nz_to_nd(kernel_context& ctx, local_tensor<half> nd, local_tensor<half> nz, uint32_t rows,
              uint32_t mp, uint32_t np) {
    const uint32_t blocks = np / 16;
    for (uint32_t g = 0; g < blocks; g += 8) {
        const uint32_t n = std::min<uint32_t>(8, blocks - g) * 16;
        models::vector_op op;
        op.op = models::vec_opcode::muls;
        op.type = op.dst_type = models::dtype::fp16;
        op.scalar = 1.0f;
        op.repeats = rows;
        op.mask_lo = n >= 64 ? ~0ull : (1ull << n) - 1;
        op.mask_hi = n <= 64 ? 0 : n >= 128 ? ~0ull : (1ull << (n - 64)) - 1;
        op.src0 = nz.offset + uint64_t(g) * mp * 32;
        op.src0_blk_stride = static_cast<uint16_t>(mp);  // next fractal column
        op.src0_rep_stride = 1;                          // next row
        op.dst = nd.offset + uint64_t(g) * 32;           // g counts 32-byte blocks
        op.dst_blk_stride = 1;
        op.dst_rep_stride = static_cast<uint16_t>(np / 16);
        ctx.vector(op);
    }
}

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

}  // namespace npusim::kernel
