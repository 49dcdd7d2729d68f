#include "sw/kernel/conv_kernel.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "models/core/fractal_layout.h"
#include "sw/kernel/reference_kernels.h"

namespace npusim::kernel {

using models::mem_space;
using models::pipe_id;
using models::round_up;

int64_t conv_first_row(const conv2d_shape& s, uint32_t oh0) {
    return int64_t(oh0) * s.sh - s.ph;
}

int64_t conv_last_row(const conv2d_shape& s, uint32_t oh1) {
    return int64_t(oh1) * s.sh - s.ph + int64_t(s.kh - 1) * s.dh;
}

conv2d_tiling tile_conv2d(const models::core_params& core, unsigned cores, const conv2d_shape& s) {
    conv2d_tiling t;
    t.s = s;
    // The cube tiles are a matmul's: [coutg x K] x [K x pixels].
    const matmul_tiling mm = tile_matmul(core, cores, s.coutg(), s.k(), s.pixels(), t.depth);
    t.base_m = mm.base_m;
    t.base_k = mm.base_k;
    const uint64_t per_buffer = core.buffer(mem_space::l1).size / t.depth;
    const uint64_t taps = uint64_t(s.kh) * s.kw, mp = round_up(t.base_m, 16);
    // L1 holds, `depth` times, a weight chunk (mp rows x cc * taps columns in NZ, the columns
    // padded to 16) and the input rows of cc channels that a tile of base_n pixels reads.
    // Fewer pixels per tile read fewer rows: shrink base_n until one channel fits.
    for (uint32_t bn = mm.base_n;; bn = uint32_t(round_up(bn / 2, 16))) {
        const uint64_t out_rows = std::min<uint64_t>(s.oh, (bn + s.ow - 2) / s.ow + 1);
        const uint64_t rows =
            std::min<uint64_t>(s.h, (out_rows - 1) * s.sh + uint64_t(s.kh - 1) * s.dh + 1);
        const uint64_t plane = round_up(rows * s.w, 16);
        const uint64_t fixed = mp * 16 * 2;
        const uint64_t cc =
            per_buffer > fixed ? (per_buffer - fixed) / ((mp * taps + plane) * 2) : 0;
        if (cc > 0) {
            t.base_n = bn;
            t.patch_plane = plane;
            // At most ~512 columns of K per load (as the matmul's step_k), so that the first
            // load of a tile is short and the next one overlaps the mmads.
            t.chunk_c =
                uint32_t(std::min<uint64_t>({cc, s.cg(), std::max<uint64_t>(1, 512 / taps)}));
            break;
        }
        if (bn <= 16)
            throw std::invalid_argument(
                "the input rows of one channel that a 16-pixel tile reads do not fit L1");
    }
    // Even tiles: a short last tile costs nearly a full tile's loads, and the cores that get
    // only short tiles idle while the others finish.
    t.base_n = uint32_t(round_up((s.pixels() + t.n_tiles() - 1) / t.n_tiles(), 16));
    t.base_m = uint32_t(round_up((s.coutg() + t.m_tiles() - 1) / t.m_tiles(), 16));
    t.block_dim = unsigned(std::min<uint64_t>(cores, t.tiles()));
    return t;
}

void conv2d_kernel(kernel_context& ctx, global_tensor<half> x, global_tensor<half> w,
                   global_tensor<half> y, const conv2d_tiling& t) {
    if (!ctx.has_cube()) return;
    const conv2d_shape& s = t.s;
    const bool split = ctx.core_type() == models::core_kind::aic;
    const uint32_t taps = s.kh * s.kw, k = s.k();
    tque<half> qw1(ctx, position::A1, t.depth,
                   round_up(t.base_m, 16) * round_up(uint64_t(t.chunk_c) * taps, 16));
    tque<half> qx1(ctx, position::B1, t.depth, t.chunk_c * t.patch_plane);
    tque<half> qa2(ctx, position::A2, t.depth, uint64_t(t.base_m) * t.base_k);
    tque<half> qb2(ctx, position::B2, t.depth, uint64_t(t.base_k) * t.base_n);
    tque<float> qc(ctx, position::CO1, t.depth, uint64_t(t.base_m) * t.base_n);
    // Coupled chips: L0C -> UB in NZ (vector pipe, cast to fp16), NZ -> ND in UB, ND rows ->
    // GM (MTE3), as the matmul does.
    std::unique_ptr<tque<half>> qout;
    local_tensor<half> nz;
    if (!split) {
        nz = ctx.alloc<half>(position::VECCALC, uint64_t(t.base_m) * t.base_n);
        qout = std::make_unique<tque<half>>(ctx, position::VECOUT, t.depth,
                                            uint64_t(t.base_m) * t.base_n);
    }
    models::img2col_geometry geo;
    geo.width = s.w;
    geo.channel_stride = t.patch_plane;
    geo.kernel_h = s.kh;
    geo.kernel_w = s.kw;
    geo.stride_h = s.sh;
    geo.stride_w = s.sw;
    geo.dilation_h = s.dh;
    geo.dilation_w = s.dw;
    geo.pad_left = int32_t(s.pw);
    geo.out_w = s.ow;

    for (uint64_t tile = ctx.block_idx(); tile < t.tiles(); tile += ctx.block_num()) {
        // Output-channel tiles vary fastest, so cores running together read the same input.
        uint64_t rest = tile;
        const uint32_t mt = uint32_t(rest % t.m_tiles());
        rest /= t.m_tiles();
        const uint32_t nt = uint32_t(rest % t.n_tiles());
        rest /= t.n_tiles();
        const uint32_t g = uint32_t(rest % s.groups), img = uint32_t(rest / s.groups);
        const uint32_t m0 = mt * t.base_m, mr = std::min(t.base_m, s.coutg() - m0);
        const uint32_t mp = uint32_t(round_up(mr, 16));
        const uint32_t p0 = nt * t.base_n, nr = std::min(t.base_n, s.pixels() - p0);
        const uint32_t oh0 = p0 / s.ow, oh1 = (p0 + nr - 1) / s.ow;
        // The input rows the tile reads, clamped to the input (the rest is padding).
        const int64_t top = conv_first_row(s, oh0);
        const int64_t r0 = std::clamp<int64_t>(top, 0, int64_t(s.h) - 1);
        const int64_t r1 = std::clamp<int64_t>(conv_last_row(s, oh1) + 1, r0 + 1, s.h);
        geo.height = uint32_t(r1 - r0);
        geo.pad_top = int32_t(r0 - top);
        geo.pixel0 = p0 - oh0 * s.ow;
        local_tensor<float> acc;
        for (uint32_t c0 = 0; c0 < s.cg(); c0 += t.chunk_c) {
            const uint32_t cc = std::min(t.chunk_c, s.cg() - c0), kc = cc * taps;
            auto w1 = qw1.alloc_tensor();
            ctx.copy_nd2nz(w1, w[uint64_t(g * s.coutg() + m0) * k + uint64_t(c0) * taps], mr, kc,
                           k);
            qw1.enque(w1);
            auto x1 = qx1.alloc_tensor();
            const uint64_t plane0 = uint64_t(img) * s.c + uint64_t(g) * s.cg() + c0;
            ctx.copy_2d<half>(mem_space::l1, x1.offset, mem_space::gm,
                              x[(plane0 * s.h + uint64_t(r0)) * s.w].addr, cc,
                              uint64_t(geo.height) * s.w, t.patch_plane, uint64_t(s.h) * s.w);
            qx1.enque(x1);
            w1 = qw1.deque();
            x1 = qx1.deque();
            geo.channels = cc;
            for (uint32_t kk = 0; kk < kc; kk += t.base_k) {
                const uint32_t kb = std::min(t.base_k, kc - kk);
                auto a2 = qa2.alloc_tensor();
                ctx.load_a(a2, w1, mp, 0, kk, mr, kb);
                qa2.enque(a2);
                auto b2 = qb2.alloc_tensor();
                geo.k0 = kk;
                ctx.load_img2col(b2, x1, geo, nr, kb);
                qb2.enque(b2);
                a2 = qa2.deque();
                b2 = qb2.deque();
                const bool first = c0 == 0 && kk == 0;
                if (first) acc = qc.alloc_tensor();
                ctx.mmad(acc, a2, b2, mr, kb, nr, !first);
                qa2.free_tensor(a2);
                qb2.free_tensor(b2);
            }
            qw1.free_tensor(w1);
            qx1.free_tensor(x1);
        }
        qc.enque(acc);
        acc = qc.deque();
        // Rows of the tile are output channels: NCHW rows of `pixels` elements.
        const global_tensor<half> out =
            y[(uint64_t(img) * s.cout + uint64_t(g) * s.coutg() + m0) * s.pixels() + p0];
        if (split) {
            ctx.fixpipe(out, acc, mr, nr, mp, s.pixels());
            qc.free_tensor(acc);
        } else {
            const uint32_t np = uint32_t(round_up(nr, 16));
            ctx.l0c_to_ub(nz, acc, uint64_t(mp) * np);
            qc.free_tensor(acc);
            auto nd = qout->alloc_tensor();
            nz_to_nd(ctx, nd, nz, mr, mp, np);
            qout->enque(nd);
            auto ub = qout->deque();
            ctx.copy_2d<half>(mem_space::gm, out.addr, mem_space::ub, ub.offset, mr, nr, s.pixels(),
                              np);
            qout->free_tensor(ub);
        }
    }
}

pool2d_tiling tile_pool2d(const models::core_params& core, unsigned cores, const pool2d_shape& s,
                          unsigned elem_bytes) {
    pool2d_tiling t;
    t.s = s;
    t.row_blocks = (s.kw * elem_bytes + 31) / 32;
    if (t.row_blocks > 8)
        throw std::invalid_argument("a window row is wider than one vector repeat (256 bytes)");
    // Per output column: the gathered window (`depth` times), the output (`depth` times), a
    // partial result and a reciprocal; a few blocks of slack for the buffers' alignment.
    const uint64_t ub = core.buffer(mem_space::ub).size;
    const uint64_t per_col =
        t.depth * (uint64_t(s.kh) * t.row_blocks * 32 + elem_bytes) + 2 * elem_bytes;
    const uint64_t fit = ub > 512 ? (ub - 512) / per_col : 0;
    t.chunk_ow = uint32_t(std::min<uint64_t>({s.ow, 255, fit}));
    if (t.chunk_ow == 0)
        throw std::invalid_argument("one output's pooling window does not fit the vector buffer");
    t.per_block = (t.units() + cores - 1) / cores;
    t.block_dim = unsigned((t.units() + t.per_block - 1) / t.per_block);
    return t;
}

template <class T>
void pool2d_kernel(kernel_context& ctx, bool max, global_tensor<T> x, global_tensor<T> y,
                   const pool2d_tiling& t) {
    if (!ctx.has_vector()) return;
    const pool2d_shape& s = t.s;
    constexpr uint64_t e = sizeof(T), per_block = 32 / e, per_repeat = 256 / e;
    const uint64_t out_blocks = uint64_t(s.kh) * t.row_blocks;  // per output, in the gather
    tque<T> qg(ctx, position::VECIN, t.depth, t.chunk_ow * out_blocks * per_block);
    tque<T> qo(ctx, position::VECOUT, t.depth, t.chunk_ow);
    const uint32_t rows_per_pass = 8 / t.row_blocks;
    const uint32_t passes = (s.kh + rows_per_pass - 1) / rows_per_pass;
    local_tensor<T> part, recip;
    if (passes > 1) part = ctx.alloc<T>(position::VECCALC, t.chunk_ow);
    if (!max) recip = ctx.alloc<T>(position::VECCALC, t.chunk_ow);
    const uint32_t filled = ctx.alloc_event_id(pipe_id::V, pipe_id::MTE2);
    const float pad = max ? -std::numeric_limits<float>::infinity() : 0.f;
    // One element of a buffer at element i, through a one-bit mask.
    auto set_one = [&](local_tensor<T> d, uint64_t i, float v) {
        models::vector_op op;
        op.op = models::vec_opcode::dup;
        op.type = op.dst_type = dtype_of<T>();
        op.scalar = v;
        op.dst = d.offset + i / per_repeat * 256;
        const uint64_t bit = i % per_repeat;
        op.mask_lo = bit < 64 ? 1ull << bit : 0;
        op.mask_hi = bit < 64 ? 0 : 1ull << (bit - 64);
        ctx.vector(op);
    };
    // Output columns whose whole window row lies inside the input.
    const uint32_t in_lo = (s.pw + s.sw - 1) / s.sw;
    const uint32_t in_hi =
        s.w + s.pw >= s.kw ? std::min<uint32_t>(s.ow, (s.w + s.pw - s.kw) / s.sw + 1) : 0;

    const uint64_t begin = uint64_t(ctx.block_idx()) * t.per_block;
    const uint64_t end = std::min(t.units(), begin + t.per_block);
    for (uint64_t u = begin; u < end; ++u) {
        const uint64_t row = u / t.chunks();  // plane * oh + output row
        const uint32_t oh = uint32_t(row % s.oh);
        const uint64_t plane = row / s.oh;
        const uint32_t ow0 = uint32_t(u % t.chunks()) * t.chunk_ow;
        const uint32_t cw = std::min(t.chunk_ow, s.ow - ow0);
        const uint32_t lo = std::clamp(in_lo, ow0, ow0 + cw);
        const uint32_t hi = std::clamp(in_hi, lo, ow0 + cw);
        // Padding first (V), then the window rows inside the input over it (MTE2).
        auto g = qg.alloc_tensor();
        ctx.duplicate(g, pad, cw * out_blocks * per_block);
        ctx.set_flag(pipe_id::V, pipe_id::MTE2, filled);
        ctx.wait_flag(pipe_id::V, pipe_id::MTE2, filled);
        const int64_t ih0 = int64_t(oh) * s.sh - s.ph;
        uint32_t valid_rows = 0;
        for (uint32_t kh = 0; kh < s.kh; ++kh) {
            const int64_t ih = ih0 + kh;
            if (ih < 0 || ih >= int64_t(s.h)) continue;
            ++valid_rows;
            const uint64_t in_row = (plane * s.h + uint64_t(ih)) * s.w;
            auto dst = [&](uint32_t ow) {
                return g.offset + ((ow - ow0) * out_blocks + uint64_t(kh) * t.row_blocks) * 32;
            };
            if (hi > lo)
                ctx.copy_2d<T>(mem_space::ub, dst(lo), mem_space::gm,
                               x[in_row + uint64_t(lo) * s.sw - s.pw].addr, hi - lo, s.kw,
                               out_blocks * per_block, s.sw);
            // Edge columns: the in-bounds part of the window row, at the start of its block.
            for (uint32_t ow = ow0; ow < ow0 + cw; ++ow) {
                if (ow >= lo && ow < hi) continue;
                const int64_t iw = int64_t(ow) * s.sw - s.pw;
                const int64_t a = std::max<int64_t>(0, iw), b = std::min<int64_t>(s.w, iw + s.kw);
                if (b > a)
                    ctx.copy_2d<T>(mem_space::ub, dst(ow), mem_space::gm,
                                   x[in_row + uint64_t(a)].addr, 1, uint64_t(b - a), 0, 0);
            }
        }
        qg.enque(g);
        auto gi = qg.deque();
        auto o = qo.alloc_tensor();
        // One reduce repeat per output over up to 8 blocks of its window.
        for (uint32_t p = 0; p < passes; ++p) {
            const uint32_t kh0 = p * rows_per_pass, nrows = std::min(rows_per_pass, s.kh - kh0);
            models::vector_op op;
            op.op = max ? models::vec_opcode::reduce_max : models::vec_opcode::reduce_sum;
            op.type = op.dst_type = dtype_of<T>();
            op.repeats = cw;
            op.src0 = gi.offset + uint64_t(kh0) * t.row_blocks * 32;
            op.src0_blk_stride = 1;
            op.src0_rep_stride = uint16_t(out_blocks);
            op.dst = (p == 0 ? o : part).offset;
            op.mask_lo = op.mask_hi = 0;
            for (uint64_t b = 0; b < uint64_t(nrows) * t.row_blocks; ++b) {
                const uint64_t col0 = (b % t.row_blocks) * per_block;
                for (uint64_t j = 0; j < std::min<uint64_t>(per_block, s.kw - col0); ++j) {
                    const uint64_t bit = b * per_block + j;
                    (bit < 64 ? op.mask_lo : op.mask_hi) |= 1ull << (bit % 64);
                }
            }
            ctx.vector(op);
            if (p > 0)
                ctx.vector_binary(max ? models::vec_opcode::max : models::vec_opcode::add, o, o,
                                  part, cw);
        }
        qg.free_tensor(gi);
        if (!max) {
            // Divide by the in-bounds elements: columns (per output) times rows.
            ctx.duplicate(recip, 1.f / float(s.kw), cw);
            for (uint32_t ow = ow0; ow < ow0 + cw; ++ow) {
                if (ow >= lo && ow < hi) continue;
                const int64_t iw = int64_t(ow) * s.sw - s.pw;
                const int64_t cols = std::min<int64_t>(s.w, iw + s.kw) - std::max<int64_t>(0, iw);
                set_one(recip, ow - ow0, 1.f / float(std::max<int64_t>(cols, 1)));
            }
            ctx.mul(o, o, recip, cw);
            ctx.unary(models::vec_opcode::muls, o, o, cw, 1.f / float(std::max(valid_rows, 1u)));
        }
        qo.enque(o);
        auto out = qo.deque();
        ctx.data_copy(y[row * s.ow + ow0], out, cw);
        qo.free_tensor(out);
    }
}

template void pool2d_kernel<half>(kernel_context&, bool, global_tensor<half>, global_tensor<half>,
                                  const pool2d_tiling&);
template void pool2d_kernel<float>(kernel_context&, bool, global_tensor<float>,
                                   global_tensor<float>, const pool2d_tiling&);

}  // namespace npusim::kernel
