#include "sw/kernel/conv_kernel.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "models/core/fractal_layout.h"
#include "sw/kernel/reference_kernels.h"

namespace npusim::kernel {

using models::mem_space;
using models::pipe_id;
using models::round_up;

namespace {

// The first and last input rows (possibly in the padding) that output rows oh0..oh1 read.
int64_t conv_first_row(const conv2d_shape& s, uint32_t oh0) {
    return int64_t(oh0) * s.sh - s.ph;
}

int64_t conv_last_row(const conv2d_shape& s, uint32_t oh1) {
    return int64_t(oh1) * s.sh - s.ph + int64_t(s.kh - 1) * s.dh;
}

}  // namespace

conv2d_tiling tile_conv2d(const models::core_params& core, unsigned cores, const conv2d_shape& s) {
    conv2d_tiling t;
    t.s = s;
    // The cube tiles are a matmul's: [coutg x K] x [K x pixels].
    matmul_problem prob;
    prob.m = s.coutg();
    prob.k = s.k();
    prob.n = s.pixels();
    const matmul_tiling mm = tile_matmul({core, cores, 0}, prob, t.depth);
    // This kernel double-buffers L0C and, on coupled chips, stages a whole fp16 tile in UB
    // (an NZ scratch and `depth` ND buffers): halve the matmul's tile until both fit. The
    // tile is checked as allocated, rounded up to 16: the matmul's tile of a 17-row problem
    // is 17 rows, and L0C (single-buffered by the matmul) held it, but 32 rows did not.
    uint32_t bm = mm.base_m, bn0 = mm.base_n;
    const uint64_t l0c = core.buffer(mem_space::l0c).size, ub = core.buffer(mem_space::ub).size;
    const bool coupled = core.kind != models::core_kind::aic;
    const auto area = [&] { return uint64_t(round_up(bm, 16)) * round_up(bn0, 16); };
    while (uint64_t(t.depth) * area() * 4 > l0c ||
           (coupled && uint64_t(t.depth + 1) * area() * 2 > ub)) {
        if (bm <= 16 && bn0 <= 16)
            throw std::invalid_argument("L0C or UB cannot hold two 16 x 16 output tiles");
        if (bn0 > 16)
            bn0 = uint32_t(round_up(bn0 / 2, 16));
        else
            bm = uint32_t(round_up(bm / 2, 16));
    }
    t.base_m = bm;
    t.base_k = mm.base_k;
    const uint64_t per_buffer = core.buffer(mem_space::l1).size / t.depth;
    const uint64_t taps = uint64_t(s.kh) * s.kw, mp = round_up(t.base_m, 16);
    // L1 holds, `depth` times, a weight chunk (mp rows x cc * taps columns in NZ, the columns
    // padded to 16) and the input rows of cc channels that a tile of base_n pixels reads.
    // Fewer pixels per tile read fewer rows: shrink base_n until one channel fits.
    for (uint32_t bn = bn0;; bn = uint32_t(round_up(bn / 2, 16))) {
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
            nz_to_nd<half>(ctx, nd, np, nz, mr, mp, 0, np / 16);
            qout->enque(nd);
            auto ub = qout->deque();
            ctx.copy_2d<half>(mem_space::gm, out.addr, mem_space::ub, ub.offset, mr, nr, s.pixels(),
                              np);
            qout->free_tensor(ub);
        }
    }
}

pool2d_tiling tile_pool2d(const models::core_params& core, unsigned cores, const pool2d_shape& s,
                          unsigned elem_bytes, bool max) {
    pool2d_tiling t;
    t.s = s;
    if (s.sw > 7)
        throw std::invalid_argument(
            "a column stride above 7 is not supported (gather_mask takes 16 windows from 8 "
            "blocks)");
    t.wide_sum = !max && elem_bytes == 2;
    const uint64_t acc_bytes = t.wide_sum ? 4 : elem_bytes, per_block = 32 / acc_bytes;
    t.margin = uint32_t(round_up(s.pw, 16));
    // Gathers take whole repeats of `per_block` windows; the last one reads up to tap kw-1 of
    // window repeats * per_block - 1.
    const uint64_t windows = round_up(s.ow, per_block);
    t.out_len = round_up(windows, 16);
    t.row_len = round_up(
        std::max<uint64_t>(t.margin + s.w, t.margin + s.kw - s.pw + (windows - 1) * s.sw), 16);
    // UB per unit of r output rows: its input rows (`depth` times), the combined row (and a
    // cast of one row for wide sums), a gathered tap, the output rows (`depth` times; one wide
    // row) and reciprocals; a few blocks of slack for alignment. The most rows that fit, but
    // enough units for every core.
    const uint64_t ub = core.buffer(mem_space::ub).size;
    auto need = [&](uint64_t r) {
        const uint64_t in_rows = std::min<uint64_t>(s.h, (r - 1) * s.sh + s.kh);
        return t.depth * in_rows * t.row_len * elem_bytes +
               t.row_len * acc_bytes * (t.wide_sum ? 2 : 1) +
               t.out_len * (3 * acc_bytes + t.depth * r * elem_bytes) + 512;
    };
    const uint64_t want = std::max<uint64_t>(1, uint64_t(s.planes) * s.oh / cores);
    uint64_t r = std::min<uint64_t>({s.oh, want, 255});
    while (r > 1 && need(r) > ub) --r;
    if (need(r) > ub)
        throw std::invalid_argument(
            "the input rows of one output row do not fit the vector buffer");
    t.rows = uint32_t(r);
    t.in_rows = uint32_t(std::min<uint64_t>(s.h, (r - 1) * s.sh + s.kh));
    t.per_block = (t.units() + cores - 1) / cores;
    t.block_dim = unsigned((t.units() + t.per_block - 1) / t.per_block);
    return t;
}

namespace {

// dst[0 .. out_len) = src[s0 + i * sw] (the column tap at s0 of each window): a gather_mask
// whose mask picks every sw-th element, 16 (fp16) or 8 (fp32) windows per repeat.
template <class A>
void gather_tap(kernel_context& ctx, local_tensor<A> dst, local_tensor<A> src, uint64_t s0,
                uint32_t sw, uint64_t out_len) {
    constexpr uint64_t pb = 32 / sizeof(A);
    const uint64_t base = s0 / pb * pb, phase = s0 - base;
    models::vector_op op;
    op.op = models::vec_opcode::gather_mask;
    op.type = op.dst_type = dtype_of<A>();
    op.mask_lo = op.mask_hi = 0;
    for (uint64_t j = 0; j < pb; ++j) {
        const uint64_t bit = phase + j * sw;
        (bit < 64 ? op.mask_lo : op.mask_hi) |= 1ull << (bit % 64);
    }
    op.src0_blk_stride = 1;
    op.src0_rep_stride = uint16_t(sw);
    const uint64_t repeats = out_len / pb;
    for (uint64_t r = 0; r < repeats; r += 255) {
        op.repeats = uint32_t(std::min<uint64_t>(255, repeats - r));
        op.src0 = src.offset + base * sizeof(A) + r * sw * 32;
        op.dst = dst.offset + r * 32;
        ctx.vector(op);
    }
}

template <class T, class A>
void pool_rows(kernel_context& ctx, bool max, global_tensor<T> x, global_tensor<T> y,
               const pool2d_tiling& t) {
    const pool2d_shape& s = t.s;
    constexpr bool wide = !std::is_same_v<T, A>;
    const models::vec_opcode combine = max ? models::vec_opcode::max : models::vec_opcode::add;
    tque<T> qr(ctx, position::VECIN, t.depth, uint64_t(t.in_rows) * t.row_len);
    tque<T> qo(ctx, position::VECOUT, t.depth, uint64_t(t.rows) * t.out_len);
    auto acc = ctx.alloc<A>(position::VECCALC, t.row_len);
    auto tap = ctx.alloc<A>(position::VECCALC, t.out_len);
    local_tensor<A> widened, out_acc, recip;
    if (wide) {
        widened = ctx.alloc<A>(position::VECCALC, t.row_len);
        out_acc = ctx.alloc<A>(position::VECCALC, t.out_len);
    }
    const float pad = max ? -std::numeric_limits<float>::infinity() : 0.f;
    // The padding around the rows is written once: each buffer goes to V empty, which fills
    // it, and comes back; MTE2 only ever writes the rows.
    for (unsigned i = 0; i < t.depth; ++i) {
        auto b = qr.alloc_tensor();
        qr.enque(b);
        b = qr.deque();
        ctx.duplicate(b, pad, b.size);
        qr.free_tensor(b);
    }
    if (!max) {
        // 1 / (in-bounds columns) per output column; the rows' count is applied per row.
        recip = ctx.alloc<A>(position::VECCALC, t.out_len);
        ctx.duplicate(recip, 1.f / float(s.kw), t.out_len);
        for (uint32_t ow = 0; ow < s.ow; ++ow) {
            const int64_t iw = int64_t(ow) * s.sw - s.pw;
            const int64_t cols = std::min<int64_t>(s.w, iw + s.kw) - std::max<int64_t>(0, iw);
            if (cols == int64_t(s.kw)) continue;
            constexpr uint64_t per_repeat = 256 / sizeof(A);
            models::vector_op op;
            op.op = models::vec_opcode::dup;
            op.type = op.dst_type = dtype_of<A>();
            op.scalar = 1.f / float(cols);
            op.dst = recip.offset + ow / per_repeat * 256;
            const uint64_t bit = ow % per_repeat;
            op.mask_lo = bit < 64 ? 1ull << bit : 0;
            op.mask_hi = bit < 64 ? 0 : 1ull << (bit - 64);
            ctx.vector(op);
        }
    }

    const uint64_t begin = uint64_t(ctx.block_idx()) * t.per_block;
    const uint64_t end = std::min(t.units(), begin + t.per_block);
    for (uint64_t u = begin; u < end; ++u) {
        const uint64_t plane = u / t.row_blocks();
        const uint32_t oh0 = uint32_t(u % t.row_blocks()) * t.rows;
        const uint32_t nr = std::min(t.rows, s.oh - oh0);
        // The unit's input rows, clamped to the input, in one 2-D copy.
        const int64_t first = std::max<int64_t>(0, int64_t(oh0) * s.sh - s.ph);
        const int64_t last =
            std::min<int64_t>(s.h - 1, int64_t(oh0 + nr - 1) * s.sh - s.ph + s.kh - 1);
        auto rb = qr.alloc_tensor();
        ctx.copy_2d<T>(mem_space::ub, rb[t.margin].offset, mem_space::gm,
                       x[(plane * s.h + uint64_t(first)) * s.w].addr, uint32_t(last - first + 1),
                       s.w, t.row_len, s.w);
        qr.enque(rb);
        rb = qr.deque();
        auto o = qo.alloc_tensor();
        for (uint32_t i = 0; i < nr; ++i) {
            const int64_t ih0 = int64_t(oh0 + i) * s.sh - s.ph;
            std::vector<local_tensor<T>> rows;  // the window's rows inside the input
            for (int64_t ih = std::max<int64_t>(ih0, 0); ih < std::min<int64_t>(ih0 + s.kh, s.h);
                 ++ih)
                rows.push_back(rb[uint64_t(ih - first) * t.row_len]);
            // Rows combined element by element (in A).
            local_tensor<A> combined;
            if constexpr (wide) {
                ctx.cast(acc, rows[0], t.row_len);
                for (size_t j = 1; j < rows.size(); ++j) {
                    ctx.cast(widened, rows[j], t.row_len);
                    ctx.vector_binary(combine, acc, acc, widened, t.row_len);
                }
                combined = acc;
            } else {
                combined = rows[0];
                for (size_t j = 1; j < rows.size(); ++j) {
                    ctx.vector_binary(combine, acc, combined, rows[j], t.row_len);
                    combined = acc;
                }
            }
            local_tensor<A> res;
            if constexpr (wide)
                res = out_acc;
            else
                res = o[uint64_t(i) * t.out_len];
            // Column taps of every window, combined.
            for (uint32_t kw = 0; kw < s.kw; ++kw) {
                gather_tap(ctx, kw == 0 ? res : tap, combined, t.margin + kw - s.pw, s.sw,
                           t.out_len);
                if (kw > 0) ctx.vector_binary(combine, res, res, tap, s.ow);
            }
            if (!max) {
                ctx.mul(res, res, recip, s.ow);
                ctx.unary(models::vec_opcode::muls, res, res, s.ow, 1.f / float(rows.size()));
            }
            if constexpr (wide) ctx.cast(o[uint64_t(i) * t.out_len], res, s.ow);
        }
        qr.free_tensor(rb);
        qo.enque(o);
        auto out = qo.deque();
        ctx.copy_2d<T>(mem_space::gm, y[(plane * s.oh + oh0) * s.ow].addr, mem_space::ub,
                       out.offset, nr, s.ow, s.ow, t.out_len);
        qo.free_tensor(out);
    }
}

}  // namespace

template <class T>
void pool2d_kernel(kernel_context& ctx, bool max, global_tensor<T> x, global_tensor<T> y,
                   const pool2d_tiling& t) {
    if (!ctx.has_vector()) return;
    if (t.wide_sum)
        pool_rows<T, float>(ctx, max, x, y, t);
    else
        pool_rows<T, T>(ctx, max, x, y, t);
}

template void pool2d_kernel<half>(kernel_context&, bool, global_tensor<half>, global_tensor<half>,
                                  const pool2d_tiling&);
template void pool2d_kernel<float>(kernel_context&, bool, global_tensor<float>,
                                   global_tensor<float>, const pool2d_tiling&);

}  // namespace npusim::kernel
