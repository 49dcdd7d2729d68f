#include "sw/kernel/reference_kernels.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "models/core/fractal_layout.h"

namespace npusim::kernel {

using models::mem_space;
using models::round_up;

matmul_tiling tile_matmul(const models::core_params& core, unsigned cores, uint32_t m, uint32_t k,
                          uint32_t n, unsigned depth) {
    matmul_tiling t;
    t.m = m;
    t.k = k;
    t.n = n;
    t.depth = depth;
    const uint64_t l0a = core.buffer(mem_space::l0a).size, l0b = core.buffer(mem_space::l0b).size;
    const uint64_t l0c = core.buffer(mem_space::l0c).size, l1 = core.buffer(mem_space::l1).size;
    const uint64_t ub = core.buffer(mem_space::ub).size;
    // The largest output tile whose fp32 accumulators fit L0C `depth` times (and, on coupled
    // chips, whose fp16 copy fits UB as often), shrunk to the problem.
    static const uint32_t shapes[][2] = {{128, 256}, {128, 128}, {64, 128},
                                         {64, 64},   {32, 32},   {16, 16}};
    for (auto& s : shapes) {
        const uint32_t bm = std::min<uint32_t>(s[0], uint32_t(round_up(m, 16)));
        const uint32_t bn = std::min<uint32_t>(s[1], uint32_t(round_up(n, 16)));
        // Coupled chips stage the fp16 tile in UB: one NZ scratch plus `depth` ND buffers.
        const bool fits_ub =
            core.kind == models::core_kind::aic || uint64_t(depth + 1) * bm * bn * 2 <= ub;
        if (uint64_t(depth) * bm * bn * 4 <= l0c && fits_ub) {
            t.base_m = bm;
            t.base_n = bn;
            break;
        }
    }
    if (t.base_m == 0) throw std::invalid_argument("matmul: L0C too small for a 16x16 tile");
    // base_k: the largest multiple of 16 whose A and B tiles fit L0A and L0B `depth` times.
    uint64_t bk =
        std::min(l0a / (uint64_t(depth) * t.base_m * 2), l0b / (uint64_t(depth) * t.base_n * 2));
    bk = std::min<uint64_t>(bk / 16 * 16, round_up(k, 16));
    if (bk == 0) throw std::invalid_argument("matmul: L0A/L0B too small for a 16-deep tile");
    t.base_k = uint32_t(std::min<uint64_t>(bk, 128));
    // step_k: how much K one L1 load covers, a multiple of base_k.
    const uint64_t sk = l1 / (uint64_t(depth) * (t.base_m + t.base_n) * 2);
    t.step_k =
        uint32_t(std::max<uint64_t>(t.base_k, std::min<uint64_t>(sk, 512) / t.base_k * t.base_k));
    t.step_k = uint32_t(std::min<uint64_t>(t.step_k, round_up(k, t.base_k)));
    t.block_dim = unsigned(std::min<uint64_t>(cores, t.tiles()));
    return t;
}

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

void matmul_kernel(kernel_context& ctx, global_tensor<half> a, global_tensor<half> b,
                   global_tensor<half> c, const matmul_tiling& t) {
    if (!ctx.has_cube()) return;
    const bool split = ctx.core_type() == models::core_kind::aic;
    tque<half> qa1(ctx, position::A1, t.depth, uint64_t(round_up(t.base_m, 16)) * t.step_k);
    tque<half> qb1(ctx, position::B1, t.depth, uint64_t(t.step_k) * round_up(t.base_n, 16));
    tque<half> qa2(ctx, position::A2, t.depth, uint64_t(t.base_m) * t.base_k);
    tque<half> qb2(ctx, position::B2, t.depth, uint64_t(t.base_k) * t.base_n);
    tque<float> qc(ctx, position::CO1, t.depth, uint64_t(t.base_m) * t.base_n);
    // Coupled chips: L0C -> UB in NZ (vector pipe, cast to fp16), NZ -> ND in UB (vector
    // unit), ND rows -> GM (MTE3).
    std::unique_ptr<tque<half>> qout;
    local_tensor<half> nz;
    if (!split) {
        nz = ctx.alloc<half>(position::VECCALC, uint64_t(t.base_m) * t.base_n);
        qout = std::make_unique<tque<half>>(ctx, position::VECOUT, t.depth,
                                            uint64_t(t.base_m) * t.base_n);
    }

    const uint32_t tiles_n = (t.n + t.base_n - 1) / t.base_n;
    for (uint64_t tile = ctx.block_idx(); tile < t.tiles(); tile += ctx.block_num()) {
        const uint32_t m0 = uint32_t(tile / tiles_n) * t.base_m,
                       n0 = uint32_t(tile % tiles_n) * t.base_n;
        const uint32_t mr = std::min(t.base_m, t.m - m0), nr = std::min(t.base_n, t.n - n0);
        const uint32_t mp = uint32_t(round_up(mr, 16));
        local_tensor<float> acc;
        for (uint32_t ks = 0; ks < t.k; ks += t.step_k) {
            const uint32_t kr = std::min(t.step_k, t.k - ks);
            auto a1 = qa1.alloc_tensor();
            ctx.copy_nd2nz(a1, a[uint64_t(m0) * t.k + ks], mr, kr, t.k);
            qa1.enque(a1);
            auto b1 = qb1.alloc_tensor();
            ctx.copy_nd2nz(b1, b[uint64_t(ks) * t.n + n0], kr, nr, t.n);
            qb1.enque(b1);
            a1 = qa1.deque();
            b1 = qb1.deque();
            for (uint32_t kk = 0; kk < kr; kk += t.base_k) {
                const uint32_t kb = std::min(t.base_k, kr - kk);
                auto a2 = qa2.alloc_tensor();
                ctx.load_a(a2, a1, mp, 0, kk, mr, kb);
                qa2.enque(a2);
                auto b2 = qb2.alloc_tensor();
                ctx.load_b(b2, b1, uint32_t(round_up(kr, 16)), kk, 0, kb, nr);
                qb2.enque(b2);
                a2 = qa2.deque();
                b2 = qb2.deque();
                const bool first = ks == 0 && kk == 0;
                if (first) acc = qc.alloc_tensor();
                ctx.mmad(acc, a2, b2, mr, kb, nr, !first);
                qa2.free_tensor(a2);
                qb2.free_tensor(b2);
            }
            qa1.free_tensor(a1);
            qb1.free_tensor(b1);
        }
        qc.enque(acc);
        acc = qc.deque();
        const global_tensor<half> out = c[uint64_t(m0) * t.n + n0];
        if (split) {
            ctx.fixpipe(out, acc, mr, nr, mp, t.n);
            qc.free_tensor(acc);
        } else {
            const uint32_t np = uint32_t(round_up(nr, 16));
            ctx.l0c_to_ub(nz, acc, uint64_t(mp) * np);
            qc.free_tensor(acc);
            auto nd = qout->alloc_tensor();
            nz_to_nd(ctx, nd, nz, mr, mp, np);
            qout->enque(nd);
            auto ub = qout->deque();
            ctx.copy_2d<half>(mem_space::gm, out.addr, mem_space::ub, ub.offset, mr, nr, t.n, np);
            qout->free_tensor(ub);
        }
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
