#include "sw/kernel/layout_kernels.h"

#include <algorithm>
#include <string>

#include "models/common/model_fault.h"
#include "models/core/fractal_layout.h"

namespace npusim::kernel {

using models::mem_space;
using models::round_up;
using models::vec_opcode;

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) {
    return (a + b - 1) / b;
}

/// Elements of one UB buffer when UB is shared by `buffers` equal ones, whole blocks.
uint64_t buffer_elems(const models::core_params& core, unsigned buffers, dtype t) {
    const uint64_t ub = core.buffer(mem_space::ub).size;
    return ub / buffers / 32 * 32 / models::dtype_size(t);
}

/// The smaller rows-per-tile that gives every core a tile when there are few tiles.
uint64_t spread_rows(uint64_t tile_rows, uint64_t rows, uint64_t other_tiles, unsigned cores) {
    const uint64_t chunks = ceil_div(cores, std::max<uint64_t>(1, other_tiles));
    return std::max<uint64_t>(1, std::min(tile_rows, ceil_div(rows, chunks)));
}

unsigned blocks_for(uint64_t tiles, unsigned cores) {
    return unsigned(std::max<uint64_t>(1, std::min<uint64_t>(cores, tiles)));
}

models::vector_op vop(vec_opcode op, dtype t) {
    models::vector_op v;
    v.op = op;
    v.type = v.dst_type = t;
    return v;
}

}  // namespace

void vector_rows(kernel_context& ctx, vec_opcode op, dtype t, ub_rows dst, ub_rows a, ub_rows b,
                 uint64_t rows, uint64_t cols, float scalar) {
    const unsigned size = models::dtype_size(t);
    const uint64_t per = 256 / size;
    models::vector_op v = vop(op, t);
    v.scalar = scalar;
    v.dst_blk_stride = dst.blk_stride;
    v.src0_blk_stride = a.blk_stride;
    v.src1_blk_stride = b.blk_stride;
    v.dst_rep_stride = static_cast<uint16_t>(dst.rep_stride);
    v.src0_rep_stride = static_cast<uint16_t>(a.rep_stride);
    v.src1_rep_stride = static_cast<uint16_t>(b.rep_stride);
    for (uint64_t c = 0; c < cols; c += per) {
        const uint64_t w = std::min(per, cols - c);
        v.mask_lo = w >= 64 ? ~0ull : (1ull << w) - 1;
        v.mask_hi = w <= 64 ? 0 : w >= 128 ? ~0ull : (1ull << (w - 64)) - 1;
        // A block-broadcast operand (block stride 0) has one block per row for all columns.
        auto at = [&](const ub_rows& o, uint64_t r) {
            return o.offset + r * o.rep_stride * 32 + (o.blk_stride ? c * size : 0);
        };
        for (uint64_t r = 0; r < rows; r += 255) {
            v.repeats = uint32_t(std::min<uint64_t>(255, rows - r));
            v.dst = at(dst, r);
            v.src0 = at(a, r);
            v.src1 = at(b, r);
            ctx.vector(v);
        }
    }
}

void copy_rows(kernel_context& ctx, dtype t, ub_rows dst, ub_rows src, uint64_t rows,
               uint64_t cols) {
    vector_rows(ctx, vec_opcode::muls, t, dst, src, src, rows, cols, 1.0f);
}

void transpose_tile(kernel_context& ctx, dtype t, uint64_t dst, uint64_t src, uint64_t rows_p,
                    uint64_t cols_p) {
    const uint64_t b = block_elems(t);
    models::vector_op v = vop(vec_opcode::transpose, t);
    v.src0_blk_stride = static_cast<uint16_t>(cols_p / b);  // next source row
    v.src0_rep_stride = 1;                                  // next b columns
    v.dst_blk_stride = static_cast<uint16_t>(rows_p / b);
    v.dst_rep_stride = static_cast<uint16_t>(rows_p);  // b destination rows further
    for (uint64_t i = 0; i < rows_p / b; ++i)
        for (uint64_t j = 0; j < cols_p / b; j += 255) {
            v.repeats = uint32_t(std::min<uint64_t>(255, cols_p / b - j));
            v.src0 = src + (i * b * cols_p + j * b) * 32 / b;
            v.dst = dst + (j * b * rows_p + i * b) * 32 / b;
            ctx.vector(v);
        }
}

// --- broadcasting binary ops ---

broadcast_tiling tile_broadcast(const models::core_params& core, unsigned cores,
                                const std::vector<int64_t>& x, const std::vector<int64_t>& y,
                                const std::vector<int64_t>& out, dtype t, dtype compute) {
    const size_t n = out.size();
    // Right-aligned element strides; 0 where the operand is broadcast.
    auto strides = [&](const std::vector<int64_t>& s) {
        std::vector<uint64_t> st(n, 0);
        uint64_t acc = 1;
        for (size_t k = 0; k < s.size(); ++k) {
            const size_t i = n - 1 - k, j = s.size() - 1 - k;
            st[i] = s[j] == 1 ? 0 : acc;
            acc *= uint64_t(s[j]);
        }
        return st;
    };
    const auto sx = strides(x), sy = strides(y);
    struct dim {
        uint64_t size, sx, sy;
    };
    std::vector<dim> dims;
    for (size_t i = 0; i < n; ++i) {
        if (out[i] == 1) continue;
        const dim d{uint64_t(out[i]), sx[i], sy[i]};
        // Merge with the outer neighbour when both operands step through it contiguously.
        if (!dims.empty() && dims.back().sx == d.sx * d.size && dims.back().sy == d.sy * d.size)
            dims.back() = {dims.back().size * d.size, d.sx, d.sy};
        else
            dims.push_back(d);
    }
    if (dims.empty()) dims.push_back({1, 1, 1});
    broadcast_tiling b;
    b.cols = dims.back().size;
    b.x_scalar = dims.back().sx == 0;
    b.y_scalar = dims.back().sy == 0;
    dims.pop_back();
    if (dims.empty()) dims.push_back({1, 0, 0});
    for (const dim& d : dims) {
        b.outer.push_back(d.size);
        b.x_stride.push_back(d.sx);
        b.y_stride.push_back(d.sy);
        b.rows *= d.size;
    }
    // Six queue buffers (x, y, z, two each) and the scratch blocks of a per-row operand. A
    // converting kernel (bf16 computed in fp32, int8 in fp16) adds x, y and z in the compute
    // type: sized in that type, the six half-size queues take three of the seven buffers.
    const uint64_t be = std::max(block_elems(t), block_elems(compute)), bc = block_elems(compute),
                   te = buffer_elems(core, 7, compute);
    b.tile_cols = std::max<uint64_t>(1, std::min(b.cols, te / be * be));
    b.pitch = round_up(b.tile_cols, be);
    // A per-row operand's brcb blocks: one per row, rows rounded up to brcb's 8.
    b.tile_rows = std::min({te / b.pitch, te / bc / 8 * 8, b.outer.back()});
    for (size_t d = 0; d + 1 < b.outer.size(); ++d) b.prefixes *= b.outer[d];
    b.tile_rows = spread_rows(b.tile_rows, b.outer.back(), b.prefixes * b.col_tiles(), cores);
    b.block_dim = blocks_for(b.tiles(), cores);
    return b;
}

bool broadcast_is_elementwise(const broadcast_tiling& b) {
    return b.rows == 1 && !b.x_scalar && !b.y_scalar;
}

template <class T, class C>
void broadcast_binary_kernel(kernel_context& ctx, vec_opcode op, global_tensor<T> x,
                             global_tensor<T> y, global_tensor<T> z, const broadcast_tiling& b) {
    constexpr bool native = std::is_same_v<T, C>;
    const dtype t = dtype_of<T>(), c = dtype_of<C>();
    const uint64_t be = block_elems(t), bc = block_elems(c), last = b.outer.back();
    // brcb reads and writes whole groups of 8 rows; the values' line is whole blocks.
    const uint64_t rows_p = round_up(b.tile_rows, std::max<uint64_t>(8, be));
    auto elems = [&](bool scalar) { return scalar ? rows_p : b.tile_rows * b.pitch; };
    tque<T> qx(ctx, position::VECIN, 2, elems(b.x_scalar));
    tque<T> qy(ctx, position::VECIN, 2, elems(b.y_scalar));
    tque<T> qz(ctx, position::VECOUT, 2, b.tile_rows * b.pitch);
    local_tensor<C> blocks;  // a per-row operand's values, one block per row
    if (b.x_scalar || b.y_scalar)
        blocks = ctx.alloc<C>(position::VECCALC, round_up(b.tile_rows, 8) * bc);
    // Converting: x, y and z in the compute type.
    local_tensor<C> wide[2], wide_z;
    if constexpr (!native) {
        wide[0] = ctx.alloc<C>(position::VECCALC, elems(b.x_scalar));
        wide[1] = ctx.alloc<C>(position::VECCALC, elems(b.y_scalar));
        wide_z = ctx.alloc<C>(position::VECCALC, b.tile_rows * b.pitch);
    }

    struct side {
        tque<T>& q;
        global_tensor<T> g;
        const std::vector<uint64_t>& stride;
        bool scalar;
    };
    const side sides[2] = {{qx, x, b.x_stride, b.x_scalar}, {qy, y, b.y_stride, b.y_scalar}};
    const uint64_t per_prefix = b.row_tiles() * b.col_tiles();
    for (uint64_t k = ctx.block_idx(); k < b.tiles(); k += ctx.block_num()) {
        const uint64_t prefix = k / per_prefix, r0 = (k % per_prefix) / b.col_tiles() * b.tile_rows,
                       c0 = k % b.col_tiles() * b.tile_cols;
        const uint64_t nr = std::min(b.tile_rows, last - r0),
                       nc = std::min(b.tile_cols, b.cols - c0);
        ub_rows operand[2];
        local_tensor<T> buf[2];
        for (int s = 0; s < 2; ++s) {
            const side& sd = sides[s];
            // The prefix's element offset over the outer dims but the last.
            uint64_t base = 0;
            for (size_t d = b.outer.size() - 1, rem = prefix; d-- > 0; rem /= b.outer[d])
                base += rem % b.outer[d] * sd.stride[d];
            const uint64_t s_last = sd.stride.back();  // 0: every row of the tile is the same
            const uint64_t n = s_last ? nr : 1;
            buf[s] = sd.q.alloc_tensor();
            if (sd.scalar)  // per-row values are contiguous (stride 1) or one value
                ctx.data_copy(buf[s], sd.g[base + r0 * s_last], n);
            else if (n == 1)
                ctx.data_copy(buf[s], sd.g[base + r0 * s_last + c0], nc);
            else
                ctx.copy_2d<T>(mem_space::ub, buf[s].offset, mem_space::gm,
                               sd.g[base + r0 * s_last + c0].addr, uint32_t(nr), nc, b.pitch,
                               s_last);
            sd.q.enque(buf[s]);
        }
        for (int s = 0; s < 2; ++s) {
            const side& sd = sides[s];
            buf[s] = sd.q.deque();
            const bool shared = sd.stride.back() == 0;
            // The operand's values in the compute type.
            local_tensor<C> v;
            if constexpr (native) {
                v = buf[s];
            } else {
                const uint64_t loaded = sd.scalar ? (shared ? 1 : nr)
                                        : shared  ? round_up(nc, be)
                                                  : nr * b.pitch;
                ctx.cast(wide[s], buf[s], loaded);
                v = wide[s];
            }
            if (sd.scalar) {
                ctx.brcb(blocks, v, shared ? 1 : nr);
                operand[s] = {blocks.offset, shared ? 0u : 1u, 0};
            } else {
                operand[s] = {v.offset, shared ? 0u : uint32_t(b.pitch / bc), 1};
            }
        }
        auto zl = qz.alloc_tensor();
        const uint64_t zc = native ? zl.offset : wide_z.offset;
        vector_rows(ctx, op, c, {zc, uint32_t(b.pitch / bc)}, operand[0], operand[1], nr, nc);
        if constexpr (!native) ctx.cast(zl, wide_z, nr * b.pitch);
        qx.free_tensor(buf[0]);
        qy.free_tensor(buf[1]);
        qz.enque(zl);
        auto zo = qz.deque();
        ctx.copy_2d<T>(mem_space::gm, z[(prefix * last + r0) * b.cols + c0].addr, mem_space::ub,
                       zo.offset, uint32_t(nr), nc, b.cols, b.pitch);
        qz.free_tensor(zo);
    }
}

template void broadcast_binary_kernel<half>(kernel_context&, vec_opcode, global_tensor<half>,
                                            global_tensor<half>, global_tensor<half>,
                                            const broadcast_tiling&);
template void broadcast_binary_kernel<float>(kernel_context&, vec_opcode, global_tensor<float>,
                                             global_tensor<float>, global_tensor<float>,
                                             const broadcast_tiling&);
template void broadcast_binary_kernel<int16_t>(kernel_context&, vec_opcode, global_tensor<int16_t>,
                                               global_tensor<int16_t>, global_tensor<int16_t>,
                                               const broadcast_tiling&);
template void broadcast_binary_kernel<int32_t>(kernel_context&, vec_opcode, global_tensor<int32_t>,
                                               global_tensor<int32_t>, global_tensor<int32_t>,
                                               const broadcast_tiling&);
template void broadcast_binary_kernel<bfloat16, float>(kernel_context&, vec_opcode,
                                                       global_tensor<bfloat16>,
                                                       global_tensor<bfloat16>,
                                                       global_tensor<bfloat16>,
                                                       const broadcast_tiling&);
template void broadcast_binary_kernel<int8_t, half>(kernel_context&, vec_opcode,
                                                    global_tensor<int8_t>, global_tensor<int8_t>,
                                                    global_tensor<int8_t>, const broadcast_tiling&);

// --- transpose ---

uint64_t transpose_tiling::batches() const {
    uint64_t n = 1;
    for (uint64_t d : batch) n *= d;
    return n;
}

transpose_tiling tile_transpose(const models::core_params& core, unsigned cores,
                                const std::vector<int64_t>& shape, const std::vector<int64_t>& perm,
                                dtype t) {
    // Drop size-1 dims, then merge runs of output positions that are consecutive input dims.
    std::vector<int64_t> kept(shape.size(), -1);
    std::vector<uint64_t> sizes;
    for (size_t d = 0; d < shape.size(); ++d)
        if (shape[d] != 1) {
            kept[d] = int64_t(sizes.size());
            sizes.push_back(uint64_t(shape[d]));
        }
    std::vector<std::pair<int64_t, int64_t>> groups;  // first, last input dim, output order
    for (int64_t p : perm) {
        const int64_t d = kept[size_t(p)];
        if (d < 0) continue;
        if (!groups.empty() && groups.back().second + 1 == d)
            groups.back().second = d;
        else
            groups.push_back({d, d});
    }
    std::vector<size_t> order(groups.size());  // groups in input order
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return groups[a].first < groups[b].first; });
    const size_t m = groups.size();
    std::vector<uint64_t> in_size(m), in_st(m), out_pos(m), out_st(m);
    for (size_t i = 0; i < m; ++i) {
        const auto& g = groups[order[i]];
        in_size[i] = 1;
        for (int64_t d = g.first; d <= g.second; ++d) in_size[i] *= sizes[size_t(d)];
        out_pos[i] = order[i];
    }
    for (size_t i = m, acc = 1; i-- > 0;) {
        in_st[i] = acc;
        acc *= in_size[i];
    }
    std::vector<size_t> in_of_out(m);
    for (size_t i = 0; i < m; ++i) in_of_out[out_pos[i]] = i;
    for (size_t o = m, acc = 1; o-- > 0;) {
        out_st[in_of_out[o]] = acc;
        acc *= in_size[in_of_out[o]];
    }

    transpose_tiling tt;
    const uint64_t be = block_elems(t), te = buffer_elems(core, 4, t);
    auto batch_dim = [&](size_t d) {
        tt.batch.push_back(in_size[d]);
        tt.batch_in.push_back(in_st[d]);
        tt.batch_out.push_back(out_st[d]);
    };
    if (m == 0) {
        // a single element: one 1 x 1 copy
    } else if (in_of_out[m - 1] == m - 1) {  // the innermost dim stays: copy rows
        tt.cols = in_size[m - 1];
        if (m >= 2) {
            const size_t r = in_of_out[m - 2];
            tt.rows = in_size[r];
            tt.in_stride = in_st[r];
            tt.out_stride = tt.cols;
            for (size_t o = 0; o + 2 < m; ++o) batch_dim(in_of_out[o]);
        }
    } else {
        tt.transpose = true;
        const size_t a = in_of_out[m - 1];
        tt.rows = in_size[a];
        tt.cols = in_size[m - 1];
        tt.in_stride = in_st[a];
        tt.out_stride = out_st[m - 1];
        for (size_t d = 0; d + 1 < m; ++d)
            if (d != a) batch_dim(d);
    }
    // Two input and two output buffers; a transposed tile is square-ish in whole blocks.
    if (tt.transpose) {
        // Power-of-two sides keep GM rows on burst boundaries; the rows get the rest of the
        // buffer.
        uint64_t side = be;
        while (side * 2 * side * 2 <= te) side *= 2;
        tt.tile_cols = std::clamp(round_up(tt.cols, be), be, side);
        tt.tile_rows = std::clamp(round_up(tt.rows, be), be, te / tt.tile_cols / be * be);
    } else {
        tt.tile_cols = std::clamp(round_up(tt.cols, be), be, te / be * be);
        tt.tile_rows = std::clamp<uint64_t>(tt.rows, 1, te / tt.tile_cols);
        tt.tile_rows = spread_rows(tt.tile_rows, tt.rows, tt.batches() * tt.col_tiles(), cores);
    }
    tt.block_dim = blocks_for(tt.batches() * tt.row_tiles() * tt.col_tiles(), cores);
    return tt;
}

template <class T>
void transpose_kernel(kernel_context& ctx, global_tensor<T> in, global_tensor<T> out,
                      const transpose_tiling& tt) {
    const dtype t = dtype_of<T>();
    const uint64_t be = block_elems(t);
    tque<T> qi(ctx, position::VECIN, 2, tt.tile_rows * tt.tile_cols);
    tque<T> qo(ctx, position::VECOUT, 2, tt.tile_rows * tt.tile_cols);
    const uint64_t per_batch = tt.row_tiles() * tt.col_tiles();
    const uint64_t tiles = tt.batches() * per_batch, share = ceil_div(tiles, ctx.block_num());
    const uint64_t first = ctx.block_idx() * share, end = std::min(tiles, first + share);
    for (uint64_t i = first; i < end; ++i) {
        const uint64_t k = first + (i - first + ctx.block_idx()) % (end - first);
        uint64_t in_off = 0, out_off = 0;
        for (size_t d = tt.batch.size(), rem = k / per_batch; d-- > 0; rem /= tt.batch[d]) {
            in_off += rem % tt.batch[d] * tt.batch_in[d];
            out_off += rem % tt.batch[d] * tt.batch_out[d];
        }
        const uint64_t r0 = (k % per_batch) / tt.col_tiles() * tt.tile_rows,
                       c0 = k % tt.col_tiles() * tt.tile_cols;
        const uint64_t nr = std::min(tt.tile_rows, tt.rows - r0),
                       nc = std::min(tt.tile_cols, tt.cols - c0);
        const uint64_t nr_p = round_up(nr, be), nc_p = round_up(nc, be);
        auto il = qi.alloc_tensor();
        ctx.copy_2d<T>(mem_space::ub, il.offset, mem_space::gm,
                       in[in_off + r0 * tt.in_stride + c0].addr, uint32_t(nr), nc, nc_p,
                       tt.in_stride);
        qi.enque(il);
        il = qi.deque();
        auto ol = qo.alloc_tensor();
        if (tt.transpose)
            transpose_tile(ctx, t, ol.offset, il.offset, nr_p, nc_p);
        else
            copy_rows(ctx, t, {ol.offset, uint32_t(nc_p / be)}, {il.offset, uint32_t(nc_p / be)},
                      nr, nc);
        qi.free_tensor(il);
        qo.enque(ol);
        ol = qo.deque();
        if (tt.transpose)  // nc rows of nr: the tile's columns become output rows
            ctx.copy_2d<T>(mem_space::gm, out[out_off + c0 * tt.out_stride + r0].addr,
                           mem_space::ub, ol.offset, uint32_t(nc), nr, tt.out_stride, nr_p);
        else
            ctx.copy_2d<T>(mem_space::gm, out[out_off + r0 * tt.out_stride + c0].addr,
                           mem_space::ub, ol.offset, uint32_t(nr), nc, tt.out_stride, nc_p);
        qo.free_tensor(ol);
    }
}

template void transpose_kernel<half>(kernel_context&, global_tensor<half>, global_tensor<half>,
                                     const transpose_tiling&);
template void transpose_kernel<float>(kernel_context&, global_tensor<float>, global_tensor<float>,
                                      const transpose_tiling&);
// bf16 moves as int16: a transpose moves bits, whatever they mean.
template void transpose_kernel<int16_t>(kernel_context&, global_tensor<int16_t>,
                                        global_tensor<int16_t>, const transpose_tiling&);

// --- gather ---

gather_tiling tile_gather(const models::core_params& core, unsigned cores, uint64_t outer,
                          uint64_t axis_len, uint64_t inner, uint64_t indices, dtype t) {
    gather_tiling g;
    g.outer = outer;
    g.axis_len = axis_len;
    g.inner = inner;
    g.indices = indices;
    const uint64_t be = block_elems(t), te = buffer_elems(core, 4, t);
    g.tile_cols = std::max<uint64_t>(1, std::min(inner, te / be * be));
    g.tile_rows = std::max<uint64_t>(1, std::min(indices, te / round_up(g.tile_cols, be)));
    g.tile_rows = spread_rows(g.tile_rows, indices, outer * g.col_tiles(), cores);
    g.block_dim = blocks_for(outer * g.row_tiles() * g.col_tiles(), cores);
    return g;
}

template <class T>
void gather_kernel(kernel_context& ctx, global_tensor<T> x, global_tensor<int32_t> idx,
                   global_tensor<T> out, const gather_tiling& g) {
    const dtype t = dtype_of<T>();
    const uint64_t be = block_elems(t), pitch = round_up(g.tile_cols, be);
    const uint64_t per_outer = g.row_tiles() * g.col_tiles(), tiles = g.outer * per_outer;
    // The indices this block needs, read on the scalar unit before any output is written so
    // the reads do not wait for MTE3.
    std::vector<int32_t> index(g.indices);
    std::vector<bool> have(g.row_tiles(), false);
    for (uint64_t k = ctx.block_idx(); k < tiles; k += ctx.block_num()) {
        const uint64_t rt = (k % per_outer) / g.col_tiles();
        if (have[rt]) continue;
        have[rt] = true;
        for (uint64_t i = rt * g.tile_rows; i < std::min(g.indices, (rt + 1) * g.tile_rows); ++i) {
            index[i] = ctx.get_value(idx, i);
            if (index[i] < 0 || uint64_t(index[i]) >= g.axis_len)
                throw models::model_fault(ctx.core().name(), idx[i].addr, "gather",
                                          "gather: indices[" + std::to_string(i) +
                                              "] = " + std::to_string(index[i]) +
                                              " is outside 0.." + std::to_string(g.axis_len - 1) +
                                              " (the size of x along the gather axis is " +
                                              std::to_string(g.axis_len) + ")");
        }
    }
    tque<T> qi(ctx, position::VECIN, 2, g.tile_rows * pitch);
    tque<T> qo(ctx, position::VECOUT, 2, g.tile_rows * pitch);
    for (uint64_t k = ctx.block_idx(); k < tiles; k += ctx.block_num()) {
        const uint64_t p = k / per_outer, i0 = (k % per_outer) / g.col_tiles() * g.tile_rows,
                       c0 = k % g.col_tiles() * g.tile_cols;
        const uint64_t nr = std::min(g.tile_rows, g.indices - i0),
                       nc = std::min(g.tile_cols, g.inner - c0);
        auto il = qi.alloc_tensor();
        for (uint64_t j = 0; j < nr; ++j)
            ctx.data_copy(il[j * pitch],
                          x[(p * g.axis_len + uint64_t(index[i0 + j])) * g.inner + c0], nc);
        qi.enque(il);
        il = qi.deque();
        auto ol = qo.alloc_tensor();
        copy_rows(ctx, t, {ol.offset, uint32_t(pitch / be)}, {il.offset, uint32_t(pitch / be)}, nr,
                  nc);
        qi.free_tensor(il);
        qo.enque(ol);
        ol = qo.deque();
        ctx.copy_2d<T>(mem_space::gm, out[(p * g.indices + i0) * g.inner + c0].addr, mem_space::ub,
                       ol.offset, uint32_t(nr), nc, g.inner, pitch);
        qo.free_tensor(ol);
    }
}

template void gather_kernel<half>(kernel_context&, global_tensor<half>, global_tensor<int32_t>,
                                  global_tensor<half>, const gather_tiling&);
template void gather_kernel<float>(kernel_context&, global_tensor<float>, global_tensor<int32_t>,
                                   global_tensor<float>, const gather_tiling&);
template void gather_kernel<int16_t>(kernel_context&, global_tensor<int16_t>,
                                     global_tensor<int32_t>, global_tensor<int16_t>,
                                     const gather_tiling&);

// --- rotary position embedding ---

rope_tiling tile_rope(const models::core_params& core, unsigned cores, uint64_t batch, uint64_t seq,
                      uint64_t dim, bool half_tables, dtype t) {
    rope_tiling r;
    r.batch = batch;
    r.seq = seq;
    r.dim = dim;
    r.half_tables = half_tables;
    // x, cos+sin (twice the size) and y, two each, and a scratch tile: 9 row tiles. A row is
    // its two halves, each padded to whole blocks.
    const uint64_t be = block_elems(t), te = buffer_elems(core, 9, t);
    r.tile_cols = std::max<uint64_t>(1, std::min(dim / 2, te / 2 / be * be));
    r.tile_seq = std::max<uint64_t>(1, std::min(seq, te / r.pitch(be)));
    r.tile_seq = spread_rows(r.tile_seq, seq, batch * r.col_tiles(), cores);
    r.block_dim = blocks_for(batch * r.seq_tiles() * r.col_tiles(), cores);
    return r;
}

template <class T>
void rope_kernel(kernel_context& ctx, global_tensor<T> x, global_tensor<T> cos,
                 global_tensor<T> sin, global_tensor<T> y, const rope_tiling& r) {
    const dtype t = dtype_of<T>();
    const uint64_t be = block_elems(t), pitch = r.pitch(be), half = r.dim / 2, hc = pitch / 2;
    const uint64_t tdim = r.half_tables ? half : r.dim, tile = r.tile_seq * pitch;
    const uint32_t rs = uint32_t(pitch / be);
    tque<T> qx(ctx, position::VECIN, 2, tile), qt(ctx, position::VECIN, 2, 2 * tile);
    tque<T> qy(ctx, position::VECOUT, 2, tile);
    auto tmp = ctx.alloc<T>(position::VECCALC, tile);
    // The two halves of ns rows of `src` (row stride `stride`, second half at `second`) into
    // the split layout at `dst`.
    // When a tile spans whole rows of block-aligned halves the split layout is the rows
    // themselves: one packed copy instead of two strided ones.
    const bool whole = r.col_tiles() == 1 && hc == half;
    auto load = [&](uint64_t dst, global_tensor<T> src, uint64_t stride, uint64_t second,
                    uint64_t ns, uint64_t nc, bool both) {
        if (both && whole) {
            ctx.data_copy(local_tensor<T>{position::VECIN, dst, ns * pitch}, src, ns * pitch);
            return;
        }
        ctx.copy_2d<T>(mem_space::ub, dst, mem_space::gm, src.addr, uint32_t(ns), nc, pitch,
                       stride);
        if (both)
            ctx.copy_2d<T>(mem_space::ub, dst + hc * sizeof(T), mem_space::gm, src[second].addr,
                           uint32_t(ns), nc, pitch, stride);
    };
    // One task per (batch, rows, columns): the tables are reloaded per batch, mostly from L2;
    // small tasks keep the cores evenly loaded.
    const uint64_t per_batch = r.seq_tiles() * r.col_tiles();
    for (uint64_t k = ctx.block_idx(); k < r.batch * per_batch; k += ctx.block_num()) {
        const uint64_t bi = k / per_batch, s0 = (k % per_batch) / r.col_tiles() * r.tile_seq,
                       c0 = k % r.col_tiles() * r.tile_cols;
        const uint64_t ns = std::min(r.tile_seq, r.seq - s0), nc = std::min(r.tile_cols, half - c0);
        auto xl = qx.alloc_tensor();
        load(xl.offset, x[(bi * r.seq + s0) * r.dim + c0], r.dim, half, ns, nc, true);
        qx.enque(xl);
        auto tl = qt.alloc_tensor();  // cos tile, then sin tile
        load(tl.offset, cos[s0 * tdim + c0], tdim, half, ns, nc, !r.half_tables);
        load(tl.offset + tile * sizeof(T), sin[s0 * tdim + c0], tdim, half, ns, nc, !r.half_tables);
        qt.enque(tl);

        xl = qx.deque();
        tl = qt.deque();
        auto yl = qy.alloc_tensor();
        const uint64_t h2 = hc * sizeof(T), c1 = tl.offset, s1 = tl.offset + tile * sizeof(T);
        const uint64_t c2 = r.half_tables ? c1 : c1 + h2, s2 = r.half_tables ? s1 : s1 + h2;
        const ub_rows x1{xl.offset, rs}, x2{xl.offset + h2, rs}, y1{yl.offset, rs},
            y2{yl.offset + h2, rs}, t1{tmp.offset, rs};
        // rotate_half(x) = (-x2, x1): y1 = x1 c1 - x2 s1, y2 = x2 c2 + x1 s2.
        vector_rows(ctx, vec_opcode::mul, t, t1, x2, {s1, rs}, ns, nc);
        vector_rows(ctx, vec_opcode::mul, t, y1, x1, {c1, rs}, ns, nc);
        vector_rows(ctx, vec_opcode::sub, t, y1, y1, t1, ns, nc);
        vector_rows(ctx, vec_opcode::mul, t, t1, x1, {s2, rs}, ns, nc);
        vector_rows(ctx, vec_opcode::mul, t, y2, x2, {c2, rs}, ns, nc);
        vector_rows(ctx, vec_opcode::add, t, y2, y2, t1, ns, nc);
        qx.free_tensor(xl);
        qt.free_tensor(tl);
        qy.enque(yl);

        yl = qy.deque();
        const global_tensor<T> out = y[(bi * r.seq + s0) * r.dim + c0];
        if (whole) {
            ctx.data_copy(out, yl, ns * pitch);
        } else {
            ctx.copy_2d<T>(mem_space::gm, out.addr, mem_space::ub, yl.offset, uint32_t(ns), nc,
                           r.dim, pitch);
            ctx.copy_2d<T>(mem_space::gm, out[half].addr, mem_space::ub, yl.offset + h2,
                           uint32_t(ns), nc, r.dim, pitch);
        }
        qy.free_tensor(yl);
    }
}

template void rope_kernel<half>(kernel_context&, global_tensor<half>, global_tensor<half>,
                                global_tensor<half>, global_tensor<half>, const rope_tiling&);
template void rope_kernel<float>(kernel_context&, global_tensor<float>, global_tensor<float>,
                                 global_tensor<float>, global_tensor<float>, const rope_tiling&);

}  // namespace npusim::kernel
