#include "sw/kernel/matmul_kernel.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "models/common/model_fault.h"
#include "models/core/fractal_layout.h"

namespace npusim::kernel {

using models::mem_space;
using models::round_up;

namespace {

// All cores load their tiles at about the same time, so a shared L2 port much busier than this
// makes them queue for their next k-step; tilings above it count as bound by the shared port.
constexpr double k_shared_load = 0.7;

uint32_t c0_of(dtype in) {
    return 32 / models::dtype_size(in);
}

// Elements of one L1 tile: NZ rows padded to 16, columns to whole 32-byte fractal rows.
uint64_t nz_elems(uint64_t rows, uint64_t cols, uint32_t c0) {
    return round_up(rows, 16) * round_up(cols, c0);
}

uint64_t l1_a_elems(const matmul_tiling& t) {
    const uint32_t c0 = c0_of(t.p.in);
    return t.p.transpose_a ? nz_elems(t.step_k, t.base_m, c0) : nz_elems(t.base_m, t.step_k, c0);
}

uint64_t l1_b_elems(const matmul_tiling& t) {
    const uint32_t c0 = c0_of(t.p.in);
    return t.p.transpose_b ? nz_elems(t.base_n, t.step_k, c0) : nz_elems(t.step_k, t.base_n, c0);
}

// Where the epilogue works in UB on coupled chips: the output dtype, or the accumulator's when
// a bias is added (one rounding at the end).
dtype epilogue_type(const matmul_problem& p) {
    if (p.dequant != dequant_kind::none || p.out == dtype::bf16) return dtype::fp32;
    return p.has_bias ? p.acc() : p.out;
}

// UB bytes of the coupled epilogue: the whole tile out of L0C, two output chunks, a scratch
// chunk when the epilogue casts, the bias (and its cast). 32 bytes of alignment slack each.
uint64_t ub_bytes(const matmul_problem& p, uint32_t bm, uint32_t bn, uint32_t cw) {
    const uint64_t e = models::dtype_size(epilogue_type(p)), o = models::dtype_size(p.out);
    const uint64_t mp = round_up(bm, 16), np = round_up(bn, 16);
    uint64_t b = mp * np * e + 2 * mp * cw * o + 32 * 3;
    if (epilogue_type(p) != p.out) b += mp * cw * e + 32;
    if (p.has_bias) b += np * (models::dtype_size(p.bias) + e) + 64;
    if (p.dequant != dequant_kind::none) b += np * 4 + 32;  // the scales
    return b;
}

struct candidate {
    matmul_tiling t;
    double cycles = 0;
};

// One output tile shape with l0c_depth output buffers: the other sizes, and the estimated
// cycles of the whole matmul. Empty if it does not fit.
std::optional<candidate> evaluate(const matmul_chip& chip, const matmul_problem& p, uint32_t bm,
                                  uint32_t bn, unsigned depth, unsigned l0c_depth) {
    const auto& core = chip.core;
    const bool split = core.kind == models::core_kind::aic;
    const uint64_t e = models::dtype_size(p.in);
    const uint32_t c0 = c0_of(p.in);
    const uint64_t mp = round_up(bm, 16), np = round_up(bn, 16);
    if (l0c_depth * mp * np * 4 > core.buffer(mem_space::l0c).size) return {};
    if (split && p.has_bias && np * 4 > core.buffer(mem_space::bt).size) return {};
    const bool fb_scales = split && p.dequant == dequant_kind::channel;
    if (fb_scales && np * 4 > core.buffer(mem_space::fb).size) return {};
    matmul_tiling t;
    t.p = p;
    t.base_m = bm;
    t.base_n = bn;
    t.depth = depth;
    t.l0c_depth = l0c_depth;
    // base_k: the deepest mmad (whole fractals) whose A and B tiles fit L0A and L0B.
    uint64_t bk = std::min(core.buffer(mem_space::l0a).size / (depth * mp * e),
                           core.buffer(mem_space::l0b).size / (depth * np * e));
    bk = std::min<uint64_t>({bk / c0 * c0, round_up(p.k, c0), 256});
    if (bk == 0) return {};
    t.base_k = uint32_t(bk);
    // step_k: the most K per L1 load (whole mmads, at most 512) that fits L1 `depth` times.
    const uint64_t l1 = core.buffer(mem_space::l1).size;
    const uint64_t bias_l1 = (split && p.has_bias ? np * models::dtype_size(p.bias) + 32 : 0) +
                             (fb_scales ? np * 4 + 32 : 0);
    const uint64_t max_step = std::min<uint64_t>(round_up(p.k, bk), std::max<uint64_t>(bk, 512));
    for (uint64_t s = max_step / bk * bk; s >= bk && t.step_k == 0; s -= bk) {
        t.step_k = uint32_t(s);
        if (depth * (l1_a_elems(t) + l1_b_elems(t)) * e + bias_l1 > l1) t.step_k = 0;
    }
    if (t.step_k == 0) return {};
    if (!split) {
        const uint64_t ub = core.buffer(mem_space::ub).size;
        for (uint32_t cw : {uint32_t(np), 128u, 64u, 32u, 16u})
            if (cw <= np && ub_bytes(p, bm, bn, cw) <= ub) {
                t.chunk_n = cw;
                break;
            }
        if (t.chunk_n == 0) return {};
    }
    t.block_dim = unsigned(std::min<uint64_t>(chip.cores, t.tiles()));

    // Cost in cube cycles: a tile takes its mmads, or its share of the shared port if the
    // cores together load faster than it delivers, or its own MTE2 or MTE1 time; one L0C
    // buffer adds the drain of every tile.
    const models::fractal& f = core.cube.of(p.in);
    const double mmads = double((p.k + bk - 1) / bk);
    // Back-to-back mmads cost max(issue floor, fractals) each (their latencies overlap).
    const double t_mmad = std::max(double((mp / f.m) * ((p.k + f.k - 1) / f.k) * (np / f.n)),
                                   mmads * core.cube.issue_cycles);
    const double bytes = double(bm + bn) * p.k * e;
    const double t_shared = chip.shared_bytes_per_cycle > 0
                                ? t.block_dim * bytes / chip.shared_bytes_per_cycle / k_shared_load
                                : 0;
    const auto& gm_l1 = core.path(mem_space::gm, mem_space::l1);
    const double t_port = gm_l1.present() ? bytes / gm_l1.bytes_per_cycle : 0;
    // MTE1 moves every k-step of A and B from L1 into L0A and L0B, one after the other.
    const auto& l0a_path = core.path(mem_space::l1, mem_space::l0a);
    const auto& l0b_path = core.path(mem_space::l1, mem_space::l0b);
    const double t_mte1 = l0a_path.present() && l0b_path.present()
                              ? double(bm) * p.k * e / l0a_path.bytes_per_cycle +
                                    double(bn) * p.k * e / l0b_path.bytes_per_cycle
                              : 0;
    const auto& drain_path = core.path(mem_space::l0c, split ? mem_space::gm : mem_space::ub);
    const double t_drain =
        drain_path.present() ? double(mp * np * 4) / drain_path.bytes_per_cycle : 0;
    const double tile =
        std::max({t_mmad + (l0c_depth == 1 ? t_drain : 0), t_shared, t_port, t_mte1});
    const double waves = double((t.tiles() + chip.cores - 1) / chip.cores);
    return candidate{t, waves * tile + t_drain};
}

// The swizzle whose first wave of tiles loads the fewest distinct A rows and B columns.
uint32_t choose_swizzle(const matmul_tiling& t) {
    const uint32_t tm = t.tiles_m(), tn = t.tiles_n();
    uint32_t best = 1;
    uint64_t best_bytes = ~uint64_t{0};
    const uint64_t wave = t.block_dim;
    for (uint32_t g = 1; g <= tm; g *= 2) {
        // A wave within one group covers g rows; a wave longer than a group, whole rows.
        const uint64_t rows =
            uint64_t(g) * tn >= wave ? g : std::min<uint64_t>(tm, (wave + tn - 1) / tn);
        const uint64_t cols = std::min<uint64_t>(tn, (wave + rows - 1) / rows);
        const uint64_t bytes = rows * t.base_m + cols * t.base_n;
        if (bytes <= best_bytes) {  // ties: more rows, whose A stays in L2 longer
            best = g;
            best_bytes = bytes;
        }
    }
    return best;
}

struct tile_pos {
    uint32_t batch, m0, n0;
};

// Tile index -> position: batch by batch; groups of `swizzle` tile rows, column-major inside.
tile_pos locate(const matmul_tiling& t, uint64_t tile) {
    const uint32_t tm = t.tiles_m(), tn = t.tiles_n();
    const uint64_t per_batch = uint64_t(tm) * tn;
    const uint32_t g = std::min(t.swizzle, tm);
    const uint64_t r = tile % per_batch;
    const uint32_t group = uint32_t(r / (uint64_t(g) * tn));
    const uint32_t idx = uint32_t(r % (uint64_t(g) * tn));
    const uint32_t rows = std::min(g, tm - group * g);
    return {uint32_t(tile / per_batch), (group * g + idx % rows) * t.base_m,
            (idx / rows) * t.base_n};
}

// A 128-bit vector mask enabling the first n elements of a repeat.
void set_mask(models::vector_op& op, uint32_t n) {
    op.mask_lo = n >= 64 ? ~0ull : (1ull << n) - 1;
    op.mask_hi = n <= 64 ? 0 : n >= 128 ? ~0ull : (1ull << (n - 64)) - 1;
}

// nd[r][c] = nd[r][c] op row[c] (the bias, the scales) for `rows` rows of `cols` columns,
// `pitch` elements apart: one repeat per row, the row re-read with repeat stride 0.
template <class E>
void apply_row(kernel_context& ctx, models::vec_opcode opcode, local_tensor<E> nd, uint32_t pitch,
               local_tensor<E> bias, uint32_t rows, uint32_t cols) {
    constexpr uint32_t e = sizeof(E), per_repeat = 256 / e;
    for (uint32_t c = 0; c < cols; c += per_repeat)
        for (uint32_t r0 = 0; r0 < rows; r0 += 255) {
            models::vector_op op;
            op.op = opcode;
            op.type = op.dst_type = dtype_of<E>();
            op.repeats = std::min(255u, rows - r0);
            set_mask(op, std::min(per_repeat, cols - c));
            op.dst = op.src0 = nd.offset + (uint64_t(r0) * pitch + c) * e;
            op.src1 = bias.offset + uint64_t(c) * e;
            op.dst_rep_stride = op.src0_rep_stride = uint16_t(pitch * e / 32);
            op.src1_rep_stride = 0;
            ctx.vector(op);
        }
}

template <class T>
global_tensor<T> gm_at(uint64_t base, uint64_t elems) {
    return {base + elems * sizeof(T), 0};
}

// Coupled chips: L0C -> UB in NZ (cast to E), NZ -> ND and the bias on the vector unit, a cast
// to the output dtype if E differs, then MTE3 to GM, chunk by chunk of columns.
template <class Acc, class Out, class Bias, class E>
struct coupled_epilogue {
    coupled_epilogue(kernel_context& ctx, const matmul_tiling& t)
        : m_ctx(ctx),
          m_t(t),
          m_nz(ctx.alloc<E>(position::VECCALC, round_up(t.base_m, 16) * round_up(t.base_n, 16))),
          m_out(ctx, position::VECOUT, 2, round_up(t.base_m, 16) * t.chunk_n) {
        if (!std::is_same_v<E, Out>)
            m_scratch = ctx.alloc<E>(position::VECCALC, round_up(t.base_m, 16) * t.chunk_n);
        if (t.p.dequant != dequant_kind::none)
            m_scale = ctx.alloc<float>(position::VECCALC, round_up(t.base_n, 16));
        if (t.p.dequant == dequant_kind::channel)
            m_scale_in =
                std::make_unique<tque<float>>(ctx, position::VECIN, 1, round_up(t.base_n, 16));
        if (t.p.has_bias) {
            m_bias_in =
                std::make_unique<tque<Bias>>(ctx, position::VECIN, 1, round_up(t.base_n, 16));
            if (!std::is_same_v<E, Bias>)
                m_bias_e = ctx.alloc<E>(position::VECCALC, round_up(t.base_n, 16));
        }
    }

    /// Fills the scale row with one scale (per-tensor dequantization).
    void set_scale(float scale) { m_ctx.duplicate(m_scale, scale, round_up(m_t.base_n, 16)); }

    /// Writes the tile `acc` (mr x nr at `out`, row pitch n) and frees it for the cube; `scale`
    /// is the GM address of its columns' scales (per-channel dequantization).
    void write(tque<Acc>& qc, local_tensor<Acc> acc, uint64_t out, uint64_t bias, uint64_t scale,
               uint32_t mr, uint32_t nr) {
        local_tensor<float> s_in;
        if (m_scale_in) {
            s_in = m_scale_in->alloc_tensor();
            m_ctx.data_copy(s_in, gm_at<float>(scale, 0), nr);
            m_scale_in->enque(s_in);
            s_in = m_scale_in->deque();
            m_ctx.data_copy(m_scale, s_in, nr);  // UB -> UB, frees the queue buffer at once
            m_scale_in->free_tensor(s_in);
        }
        const uint32_t mp = uint32_t(round_up(mr, 16)), np = uint32_t(round_up(nr, 16));
        const uint32_t cw = m_t.chunk_n;
        local_tensor<Bias> b_in;
        local_tensor<E> b_e;
        if (m_bias_in) {
            b_in = m_bias_in->alloc_tensor();
            m_ctx.data_copy(b_in, gm_at<Bias>(bias, 0), nr);
            m_bias_in->enque(b_in);
            b_in = m_bias_in->deque();
            if constexpr (std::is_same_v<E, Bias>) {
                b_e = b_in;
            } else {
                b_e = m_bias_e;
                m_ctx.cast(b_e, b_in, nr);
            }
        }
        m_ctx.l0c_to_ub(m_nz, acc, uint64_t(mp) * np);
        qc.free_tensor(acc);
        for (uint32_t c = 0; c < nr; c += cw) {
            const uint32_t w = std::min(cw, nr - c);
            auto o = m_out.alloc_tensor();
            local_tensor<E> nd;
            if constexpr (std::is_same_v<E, Out>)
                nd = o;
            else
                nd = m_scratch;
            nz_to_nd(m_ctx, nd, cw, m_nz, mr, mp, c / 16, uint32_t(round_up(w, 16)) / 16);
            if (m_bias_in) apply_row(m_ctx, models::vec_opcode::add, nd, cw, b_e[c], mr, w);
            if constexpr (std::is_same_v<E, float>)
                if (m_t.p.dequant != dequant_kind::none)
                    apply_row(m_ctx, models::vec_opcode::mul, nd, cw, m_scale[c], mr, w);
            if constexpr (!std::is_same_v<E, Out>) m_ctx.cast(o, nd, uint64_t(mr) * cw);
            m_out.enque(o);
            o = m_out.deque();
            m_ctx.copy_2d<Out>(mem_space::gm, out + uint64_t(c) * sizeof(Out), mem_space::ub,
                               o.offset, mr, w, m_t.p.n, cw);
            m_out.free_tensor(o);
        }
        if (m_bias_in) m_bias_in->free_tensor(b_in);
    }

  private:
    kernel_context& m_ctx;
    const matmul_tiling& m_t;
    local_tensor<E> m_nz, m_scratch, m_bias_e;
    local_tensor<float> m_scale;
    tque<Out> m_out;
    std::unique_ptr<tque<Bias>> m_bias_in;
    std::unique_ptr<tque<float>> m_scale_in;
};

// The kernel for one dtype combination; E is the coupled epilogue's type in UB.
template <class In, class Out, class Bias, class E>
void run(kernel_context& ctx, const matmul_args& g, const matmul_tiling& t, uint64_t* queue) {
    using Acc = std::conditional_t<std::is_same_v<In, int8_t>, int32_t, float>;
    if (!ctx.has_cube()) return;
    const matmul_problem& p = t.p;
    const bool split = ctx.core_type() == models::core_kind::aic;
    const uint64_t mp_max = round_up(t.base_m, 16), np_max = round_up(t.base_n, 16);
    const uint64_t a_elems = l1_a_elems(t);
    // One L1 buffer holds a k-step of A and of B: one queue, half the event ids.
    tque<In> q1(ctx, position::A1, t.depth, a_elems + l1_b_elems(t));
    tque<In> qa2(ctx, position::A2, t.depth, mp_max * t.base_k);
    tque<In> qb2(ctx, position::B2, t.depth, uint64_t(t.base_k) * np_max);
    tque<Acc> qc(ctx, position::CO1, t.l0c_depth, mp_max * np_max);
    // Split chips: the bias goes GM -> L1 -> BT and starts each tile's accumulation.
    std::unique_ptr<tque<Bias>> qbias1;
    std::unique_ptr<tque<Acc>> qbias2;
    std::unique_ptr<coupled_epilogue<Acc, Out, Bias, E>> coupled;
    if (split && p.has_bias) {
        qbias1 = std::make_unique<tque<Bias>>(ctx, position::C1, 1, np_max);
        qbias2 = std::make_unique<tque<Acc>>(ctx, position::C2, 1, np_max);
    }
    if (!split) coupled = std::make_unique<coupled_epilogue<Acc, Out, Bias, E>>(ctx, t);
    // Dequantization: one scale, read by the scalar unit; or per column, GM -> L1 -> FB each
    // tile on split chips (the FIX pipe moves L1 -> FB and then reads FB, in order).
    float deq = 1;
    if (p.dequant == dequant_kind::tensor) {
        deq = ctx.get_value(global_tensor<float>{g.scale, 1}, 0);
        if (deq == 0 || !std::isfinite(deq))
            throw models::model_fault(ctx.core().name(), g.scale, "matmul_dequant",
                                      "input 'scale' is " + std::to_string(deq) +
                                          "; a scale must be a nonzero finite number");
        if (coupled) coupled->set_scale(deq);
    }
    local_tensor<float> scale_l1, scale_fb;
    uint32_t ev_scale_in = 0, ev_scale_free = 0;
    bool scale_pending = false;
    if (split && p.dequant == dequant_kind::channel) {
        scale_l1 = ctx.alloc<float>(position::C1, np_max);
        scale_fb = ctx.alloc<float>(position::C2PIPE2GM, np_max);
        ev_scale_in = ctx.alloc_event_id(pipe_id::MTE2, pipe_id::FIX);
        ev_scale_free = ctx.alloc_event_id(pipe_id::FIX, pipe_id::MTE2);
    }

    task_source next(ctx, t.partition, t.tiles(), &t.assignment, queue);
    for (uint64_t tile = next(); tile < t.tiles(); tile = next()) {
        const tile_pos pos = locate(t, tile);
        const uint32_t m0 = pos.m0, n0 = pos.n0;
        const uint32_t mr = std::min(t.base_m, p.m - m0), nr = std::min(t.base_n, p.n - n0);
        const uint32_t mp = uint32_t(round_up(mr, 16));
        const uint64_t a = g.a + (p.a_batched ? uint64_t(pos.batch) * p.m * p.k : 0) * sizeof(In);
        const uint64_t b = g.b + (p.b_batched ? uint64_t(pos.batch) * p.k * p.n : 0) * sizeof(In);
        // A paged B: the address of stored row r (inside one page, by the tiling).
        auto b_row = [&](uint64_t r, uint64_t pitch) {
            if (!g.b_pages) return b + r * pitch * sizeof(In);
            const matmul_pages& pg = *g.b_pages;
            return pg.addr[uint64_t(pos.batch) * pg.per_batch + r / pg.rows] +
                   (r % pg.rows) * pitch * sizeof(In);
        };
        local_tensor<Acc> bt;
        if (qbias1) {
            auto c1 = qbias1->alloc_tensor();
            ctx.data_copy(c1, gm_at<Bias>(g.bias, n0), nr);
            qbias1->enque(c1);
            c1 = qbias1->deque();
            auto c2 = qbias2->alloc_tensor();
            ctx.load_bias_table(c2, c1, nr);
            qbias1->free_tensor(c1);
            qbias2->enque(c2);
            bt = qbias2->deque();
        }
        if (scale_l1.size) {
            if (scale_pending) ctx.wait_flag(pipe_id::FIX, pipe_id::MTE2, ev_scale_free);
            ctx.data_copy(scale_l1, gm_at<float>(g.scale, n0), nr);
            ctx.set_flag(pipe_id::MTE2, pipe_id::FIX, ev_scale_in);
            ctx.wait_flag(pipe_id::MTE2, pipe_id::FIX, ev_scale_in);
            ctx.load_fixpipe_params(scale_fb, scale_l1, nr);
            ctx.set_flag(pipe_id::FIX, pipe_id::MTE2, ev_scale_free);
            scale_pending = true;
        }
        // The k-steps: every step_k of K, or a sparse A's stored blocks of this row block (one
        // step of zeros for a row block with none).
        const sparse_row blocks =
            g.sparse_a ? read_sparse_row(ctx, *g.sparse_a, m0 / t.base_m) : sparse_row{};
        const uint64_t steps = g.sparse_a ? std::max<uint64_t>(1, blocks.columns.size())
                                          : (p.k + t.step_k - 1) / t.step_k;
        local_tensor<Acc> acc;
        for (uint64_t step = 0; step < steps; ++step) {
            const uint32_t ks =
                g.sparse_a
                    ? (blocks.columns.empty() ? 0 : uint32_t(blocks.columns[step]) * t.step_k)
                    : uint32_t(step) * t.step_k;
            const uint32_t kr = std::min(t.step_k, p.k - ks);
            auto ab = q1.alloc_tensor();
            const local_tensor<In> a1 = ab, b1 = ab[a_elems];
            if (g.sparse_a && blocks.columns.empty()) {
                ctx.fill_zero(a1, a_elems);
                ctx.fill_zero(b1, l1_b_elems(t));
            } else if (g.sparse_a) {
                const uint64_t block = blocks.first + step;
                // A block one fractal wide is already NZ in GM: a plain copy, no conversion.
                const global_tensor<In> src =
                    gm_at<In>(g.sparse_a->values, block * t.base_m * t.step_k);
                if (t.step_k == c0_of(p.in))
                    ctx.data_copy(a1, src, uint64_t(mr) * kr);
                else
                    ctx.copy_nd2nz(a1, src, mr, kr, t.step_k);
            } else if (p.transpose_a) {  // stored [k, m]: transposed again by MTE1
                ctx.copy_nd2nz(a1, gm_at<In>(a, uint64_t(ks) * p.m + m0), kr, mr, p.m);
            } else {
                ctx.copy_nd2nz(a1, gm_at<In>(a, uint64_t(m0) * p.k + ks), mr, kr, p.k);
            }
            if (g.sparse_a && blocks.columns.empty())
                ;                    // B's rows are not needed: zeros times zeros
            else if (p.transpose_b)  // stored [n, k]
                ctx.copy_nd2nz(b1, gm_at<In>(b_row(n0, p.k), ks), nr, kr, p.k);
            else
                ctx.copy_nd2nz(b1, gm_at<In>(b_row(ks, p.n), n0), kr, nr, p.n);
            q1.enque(ab);
            ab = q1.deque();
            const uint32_t a_rows = uint32_t(round_up(p.transpose_a ? kr : mr, 16));
            const uint32_t b_rows = uint32_t(round_up(p.transpose_b ? nr : kr, 16));
            for (uint32_t kk = 0; kk < kr; kk += t.base_k) {
                const uint32_t kb = std::min(t.base_k, kr - kk);
                auto a2 = qa2.alloc_tensor();
                if (p.transpose_a)
                    ctx.load_a(a2, a1, a_rows, kk, 0, mr, kb, true);
                else
                    ctx.load_a(a2, a1, a_rows, 0, kk, mr, kb);
                qa2.enque(a2);
                auto b2 = qb2.alloc_tensor();
                if (p.transpose_b)
                    ctx.load_b(b2, b1, b_rows, 0, kk, kb, nr, true);
                else
                    ctx.load_b(b2, b1, b_rows, kk, 0, kb, nr);
                qb2.enque(b2);
                a2 = qa2.deque();
                b2 = qb2.deque();
                const bool first = step == 0 && kk == 0;
                if (first) acc = qc.alloc_tensor();
                if (first && qbias2) {
                    ctx.mmad_bias(acc, a2, b2, bt, mr, kb, nr);
                    qbias2->free_tensor(bt);
                } else {
                    ctx.mmad(acc, a2, b2, mr, kb, nr, !first);
                }
                qa2.free_tensor(a2);
                qb2.free_tensor(b2);
            }
            q1.free_tensor(ab);
        }
        qc.enque(acc);
        acc = qc.deque();
        const uint64_t out = g.c + ((uint64_t(pos.batch) * p.m + m0) * p.n + n0) * sizeof(Out);
        if (split) {
            if (p.dequant == dequant_kind::tensor)
                ctx.fixpipe_dequant(global_tensor<Out>{out, 0}, acc, mr, nr, p.n, deq);
            else if (p.dequant == dequant_kind::channel)
                ctx.fixpipe_dequant(global_tensor<Out>{out, 0}, acc, mr, nr, p.n, scale_fb);
            else
                ctx.fixpipe(global_tensor<Out>{out, 0}, acc, mr, nr, mp, p.n);
            qc.free_tensor(acc);
        } else {
            coupled->write(qc, acc, out, g.bias + uint64_t(n0) * sizeof(Bias),
                           g.scale + uint64_t(n0) * 4, mr, nr);
        }
    }
    if (scale_pending) ctx.wait_flag(pipe_id::FIX, pipe_id::MTE2, ev_scale_free);
}

// Picks E for the output and bias dtypes.
template <class In, class Out, class Bias>
void run_with_bias(kernel_context& ctx, const matmul_args& g, const matmul_tiling& t, uint64_t* q) {
    using Acc = std::conditional_t<std::is_same_v<In, int8_t>, int32_t, float>;
    // Dequantization and bf16 outputs work in fp32 (epilogue_type).
    if constexpr (std::is_same_v<Out, bfloat16>) {
        run<In, Out, Bias, float>(ctx, g, t, q);
    } else {
        if (t.p.dequant != dequant_kind::none)
            run<In, Out, Bias, float>(ctx, g, t, q);
        else if (t.p.has_bias)
            run<In, Out, Bias, Acc>(ctx, g, t, q);
        else
            run<In, Out, Bias, Out>(ctx, g, t, q);
    }
}

template <class In, class Out>
void run_with_out(kernel_context& ctx, const matmul_args& g, const matmul_tiling& t, uint64_t* q) {
    if constexpr (std::is_same_v<In, int8_t>) {
        run_with_bias<In, Out, int32_t>(ctx, g, t, q);
    } else {
        if (t.p.has_bias && t.p.bias == dtype_of<In>())
            run<In, Out, In, float>(ctx, g, t, q);
        else
            run_with_bias<In, Out, float>(ctx, g, t, q);
    }
}

template <class In>
void run_with_in(kernel_context& ctx, const matmul_args& g, const matmul_tiling& t, uint64_t* q) {
    switch (t.p.out) {
        case dtype::fp16:
            return run_with_out<In, half>(ctx, g, t, q);
        case dtype::fp32:
            return run_with_out<In, float>(ctx, g, t, q);
        case dtype::bf16:
            return run_with_out<In, bfloat16>(ctx, g, t, q);
        case dtype::int32:
            if constexpr (std::is_same_v<In, int8_t>)
                return run_with_out<In, int32_t>(ctx, g, t, q);
            break;
        default:
            break;
    }
    throw std::invalid_argument(std::string("matmul: no kernel for ") + models::to_string(t.p.in) +
                                " -> " + models::to_string(t.p.out));
}

}  // namespace

// x * 1 copies exactly and block strides reorder. A repeat takes one row of up to 8 fractal
// columns, a 32-byte piece of each; 4-byte elements have two pieces per fractal row, so two passes.
// Columns [block0, block0 + blocks) x 16 of the NZ tile (mp padded rows) go to nd, `pitch` elements
// per row.
template <class E>
void nz_to_nd(kernel_context& ctx, local_tensor<E> nd, uint32_t pitch, local_tensor<E> nz,
              uint32_t rows, uint32_t mp, uint32_t block0, uint32_t blocks) {
    constexpr uint32_t e = sizeof(E), pieces = e / 2, per_piece = 32 / e;
    for (uint32_t g = 0; g < blocks; g += 8)
        for (uint32_t h = 0; h < pieces; ++h)
            for (uint32_t r0 = 0; r0 < rows; r0 += 255) {
                models::vector_op op;
                op.op = models::vec_opcode::muls;
                op.type = op.dst_type = dtype_of<E>();
                op.scalar = 1.0f;
                op.repeats = std::min(255u, rows - r0);
                set_mask(op, std::min(8u, blocks - g) * per_piece);
                op.src0 = op.src1 = nz.offset + (uint64_t(block0 + g) * mp + r0) * 16 * e + h * 32;
                op.src0_blk_stride = op.src1_blk_stride = uint16_t(mp * pieces);
                op.src0_rep_stride = op.src1_rep_stride = uint16_t(pieces);
                op.dst = nd.offset + (uint64_t(r0) * pitch + g * 16) * e + h * 32;
                op.dst_blk_stride = uint16_t(pieces);
                op.dst_rep_stride = uint16_t(pitch * e / 32);
                ctx.vector(op);
            }
}
template void nz_to_nd<half>(kernel_context&, local_tensor<half>, uint32_t, local_tensor<half>,
                             uint32_t, uint32_t, uint32_t, uint32_t);
template void nz_to_nd<float>(kernel_context&, local_tensor<float>, uint32_t, local_tensor<float>,
                              uint32_t, uint32_t, uint32_t, uint32_t);
template void nz_to_nd<int32_t>(kernel_context&, local_tensor<int32_t>, uint32_t,
                                local_tensor<int32_t>, uint32_t, uint32_t, uint32_t, uint32_t);

matmul_chip matmul_chip_of(const platform::platform_config& p) {
    matmul_chip c;
    c.core = p.split ? p.aic : p.aicore;
    c.cores = p.cores;
    double bw = p.l2.enabled ? p.l2.bandwidth : p.gm.bandwidth;
    if (p.noc.bandwidth > 0) bw = std::min(bw, p.noc.bandwidth);
    c.shared_bytes_per_cycle = bw / c.core.clock_hz;
    return c;
}

matmul_tiling tile_matmul(const matmul_chip& chip, const matmul_problem& p, unsigned depth,
                          uint32_t swizzle) {
    std::optional<candidate> best;
    const uint32_t max_m = std::min<uint32_t>(256, uint32_t(round_up(p.m, 16)));
    const uint32_t max_n = std::min<uint32_t>(256, uint32_t(round_up(p.n, 16)));
    // A tile of a row-major operand is loaded row by row: keep those rows at least 256 bytes
    // (128 fp16) when the buffers allow, or each one becomes its own short burst, which the
    // cost model does not see.
    const uint32_t wide = uint32_t(256 / models::dtype_size(p.in));
    for (const bool narrow : {false, true}) {
        const uint32_t min_m = p.transpose_a && !narrow ? std::min(max_m, wide) : 16;
        const uint32_t min_n = !p.transpose_b && !narrow ? std::min(max_n, wide) : 16;
        for (uint32_t bm = min_m; bm <= max_m; bm += 16)
            for (uint32_t bn = min_n; bn <= max_n; bn += 16)
                for (unsigned l0c_depth : {2u, 1u}) {
                    auto c =
                        evaluate(chip, p, std::min(bm, p.m), std::min(bn, p.n), depth, l0c_depth);
                    // Ties go to the earlier (double-buffered, then smaller) tile.
                    if (c && (!best || c->cycles < best->cycles * (1 - 1e-9))) best = c;
                }
        if (best) break;
    }
    if (!best)
        throw std::invalid_argument("matmul: the core's buffers are too small for one fractal");
    matmul_tiling t = best->t;
    t.swizzle = swizzle ? swizzle : choose_swizzle(t);
    return t;
}

void set_partition(matmul_tiling& t, partition_kind k) {
    t.partition = k;
    t.assignment.clear();
    if (k != partition_kind::cost) return;
    // A tile costs its fractals (m and n padded to 16) times the depth, plus loading its A
    // rows and B columns: the same for full tiles, less at the edges.
    std::vector<double> costs(t.tiles());
    for (uint64_t i = 0; i < costs.size(); ++i) {
        const tile_pos pos = locate(t, i);
        const double mr = std::min(t.base_m, t.p.m - pos.m0),
                     nr = std::min(t.base_n, t.p.n - pos.n0);
        costs[i] = double(round_up(uint64_t(mr), 16)) * double(round_up(uint64_t(nr), 16)) / 256 *
                       double(t.p.k) / 16 +
                   (mr + nr) * double(t.p.k) * models::dtype_size(t.p.in) / 256;
    }
    t.assignment = assign_by_cost(costs, t.block_dim);
}

matmul_tiling tile_block_sparse(const matmul_chip& chip, const matmul_problem& p, uint32_t bm,
                                uint32_t bk) {
    if (bm == 0 || bk == 0 || bm % 16 != 0 || bk % 16 != 0)
        throw std::invalid_argument("the cube needs blocks of whole 16x16 fractals");
    if (p.transpose_a || p.batch != 1)
        throw std::invalid_argument("a sparse A is one matrix, not transposed");
    // Each k-step loads its own small B slab (bk rows), whose fixed cost dominates: the widest
    // base_n that fits while every core still gets a tile, else the widest that fits.
    matmul_problem one = p;
    one.k = bk;
    std::optional<candidate> best;
    for (uint32_t bn = std::min<uint32_t>(256, uint32_t(round_up(p.n, 16))); bn >= 16; bn -= 16) {
        std::optional<candidate> c;
        for (unsigned l0c_depth : {2u, 1u})
            if (!c) c = evaluate(chip, one, bm, std::min(bn, p.n), 2, l0c_depth);
        if (!c || c->t.base_k != bk) continue;
        if (!best) best = c;
        if (c->t.tiles() >= chip.cores) {
            best = c;
            break;
        }
    }
    if (!best)
        throw std::invalid_argument(
            "they do not fit the cube's L0A, L0B and L0C with room for "
            "16 columns");
    matmul_tiling t = best->t;
    t.p = p;
    t.step_k = bk;
    t.swizzle = 1;
    t.block_dim = unsigned(std::min<uint64_t>(chip.cores, t.tiles()));
    return t;
}

matmul_tiling page_tiling(matmul_tiling t, uint32_t rows, unsigned cores) {
    if (rows == 0 || rows % 16 != 0)
        throw std::invalid_argument("matmul: pages of " + std::to_string(rows) +
                                    " rows; a page must hold a multiple of 16 rows");
    // The largest multiple of `unit` at most `limit` that divides `rows`.
    auto fit = [rows](uint32_t limit, uint32_t unit) {
        uint32_t v = std::max(unit, std::min(limit, rows) / unit * unit);
        while (v > unit && rows % v != 0) v -= unit;
        return v;
    };
    if (t.p.transpose_b) {
        t.base_n = fit(t.base_n, 16);
        if (t.chunk_n > t.base_n) t.chunk_n = t.base_n;
    } else {
        if (rows % t.base_k != 0) t.base_k = fit(t.base_k, 16);
        t.step_k = fit(t.step_k, t.base_k);
    }
    t.block_dim = unsigned(std::min<uint64_t>(std::max(cores, 1u), t.tiles()));
    return t;
}

void matmul_kernel(kernel_context& ctx, const matmul_args& g, const matmul_tiling& t, uint64_t* q) {
    ctx.set_hf32_mode(t.p.hf32);
    switch (t.p.in) {
        case dtype::fp16:
            return run_with_in<half>(ctx, g, t, q);
        case dtype::bf16:
            return run_with_in<bfloat16>(ctx, g, t, q);
        case dtype::int8:
            return run_with_in<int8_t>(ctx, g, t, q);
        case dtype::fp32:
            return run_with_in<float>(ctx, g, t, q);
        default:
            throw std::invalid_argument(std::string("matmul: no kernel for ") +
                                        models::to_string(t.p.in) + " inputs");
    }
}

void matmul_kernel(kernel_context& ctx, global_tensor<half> a, global_tensor<half> b,
                   global_tensor<half> c, const matmul_tiling& t) {
    matmul_args args;
    args.a = a.addr;
    args.b = b.addr;
    args.c = c.addr;
    matmul_kernel(ctx, args, t);
}

}  // namespace npusim::kernel
