#include "sw/kernel/attention_kernel.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

#include "models/core/fractal_layout.h"
#include "sw/kernel/matmul_kernel.h"
#include "sw/kernel/partition.h"
#include "sw/kernel/row_kernels.h"

namespace npusim::kernel {

using models::mem_space;
using models::round_up;
using models::vec_opcode;

namespace {

// Cross-core flags of the split form: S is in the workspace, P is, P V is.
constexpr uint32_t s_ready = 1, p_ready = 2, pv_ready = 3, task_ready = 4;
constexpr uint64_t ws_align = 512;

/// The sizes of one tile's buffers, in elements.
struct shape {
    uint32_t tile, hd;
    bool split;
    uint64_t tp() const { return round_up(tile, 16); }
    uint64_t hdp() const { return round_up(hd, 16); }
    uint64_t ss() const { return round_up(tile, 64); }  // a score row in UB: whole fp32 repeats
    uint64_t rows() const { return split ? (tile + 1) / 2 : tile; }  // query rows per vector core
    uint64_t rows8() const { return round_up(rows(), 8); }
    // Bytes per buffer, each allocation listed (a queue of depth d counts d times).
    std::vector<uint64_t> l1() const {
        const uint64_t kv = tp() * hdp() * 2;
        return {kv, kv, kv, tp() * tp() * 2};  // Q; K and V (one queue of two); P
    }
    std::vector<uint64_t> l0a() const {
        const uint64_t a = tp() * std::max(hdp(), tp()) * 2;
        return {a, a};
    }
    std::vector<uint64_t> l0b() const { return {tp() * hdp() * 2, tp() * hdp() * 2}; }
    std::vector<uint64_t> l0c() const {
        const uint64_t c = tp() * std::max(tp(), hdp()) * 4;
        return {c, c};
    }
    std::vector<uint64_t> ub() const {
        const uint64_t r = rows();
        std::vector<uint64_t> b{r * ss() * 4,   // S
                                r * ss() * 2,   // P
                                r * hdp() * 4,  // P V
                                r * hdp() * 4,  // O
                                r * hdp() * 2,  // O in fp16
                                r * row_scratch<float>::half_stride(ss()) * 4,
                                rows8() * 5 * 4,  // m, l, the tile's m, two of exp(m_old - m_new)
                                rows8() * 32};    // per-row blocks
        if (!split) b.push_back(tp() * std::max(tp(), hdp()) * 4);  // L0C out in NZ
        return b;
    }
};

bool fits(const models::core_params& c, mem_space s, const std::vector<uint64_t>& bytes) {
    const models::buffer_params& b = c.buffer(s);
    const uint64_t align = std::max<uint64_t>(32, b.alignment);
    uint64_t sum = 0;
    for (uint64_t x : bytes) sum += round_up(x, align);
    return sum <= b.size;
}

const float ninf = -std::numeric_limits<float>::infinity();

using task = attention_task;
const task& task_of(const attention_tiling& t, uint64_t i) {
    return t.task_list[i];
}

/// Every task of the problem: the query tiles that see the most key tiles first (the last
/// tiles of the longest prompts), heads round robin.
std::vector<task> list_tasks(const attention_problem& p, uint32_t tile) {
    const std::vector<uint32_t> lengths =
        p.lengths.empty() ? std::vector<uint32_t>{p.tokens} : p.lengths;
    std::vector<task> tiles;  // one per prompt and query tile, head 0
    uint32_t start = 0;
    for (uint32_t len : lengths) {
        for (uint32_t qt = 0; qt < (len + tile - 1) / tile; ++qt)
            tiles.push_back({0, qt, start, len});
        start += len;
    }
    std::stable_sort(tiles.begin(), tiles.end(),
                     [](const task& a, const task& b) { return a.qt > b.qt; });
    std::vector<task> all;
    for (const task& k : tiles)
        for (uint32_t h = 0; h < p.heads; ++h) all.push_back({h, k.qt, k.start, k.length});
    return all;
}

}  // namespace

void set_cost_partition(attention_tiling& t) {
    std::vector<double> costs(t.tasks());
    for (uint64_t i = 0; i < costs.size(); ++i) costs[i] = double(task_of(t, i).qt) + 2;
    t.assignment = assign_by_cost(costs, t.block_dim);
}

namespace {

/// One of a block's two workspace slots (key tiles alternate): S, P and P V tiles.
struct workspace {
    uint64_t s, p, pv;
};
using workspaces = std::array<workspace, 2>;

/// Byte offsets in a slot: S (fp32 tile x tile), P (fp16 tile x tile), P V (fp32 tile x
/// head_dim); `end` is the slot's size.
struct slot_layout {
    uint64_t p, pv, end;
};
slot_layout layout_of(uint64_t tile, uint64_t head_dim) {
    const uint64_t p = round_up(tile * tile * 4, ws_align);
    const uint64_t pv = p + round_up(tile * tile * 2, ws_align);
    return {p, pv, pv + round_up(tile * head_dim * 4, ws_align)};
}

/// The vector half: the online softmax of the query rows [lo, lo + rows) of a query tile.
class softmax_side {
  public:
    softmax_side(kernel_context& ctx, const attention_tiling& t, const shape& sh)
        : m_ctx(ctx),
          m_t(t),
          m_sh(sh),
          m_p(ctx, position::VECOUT, 1, sh.rows() * sh.ss()),
          m_out(ctx, position::VECOUT, 1, sh.rows() * sh.hdp()),
          m_o(ctx.alloc<float>(position::VECCALC, sh.rows() * sh.hdp())),
          m_half(ctx.alloc<float>(position::VECCALC,
                                  sh.rows() * row_scratch<float>::half_stride(sh.ss()))),
          m_stats(ctx.alloc<float>(position::VECCALC, 5 * sh.rows8())),
          m_blocks(ctx.alloc<float>(position::VECCALC, sh.rows8() * 8)) {
        if (m_sh.split) {
            m_s_in = std::make_unique<tque<float>>(ctx, position::VECIN, 1, sh.rows() * sh.ss());
            m_pv_in = std::make_unique<tque<float>>(ctx, position::VECIN, 1, sh.rows() * sh.hdp());
            m_s_seen = ctx.alloc_event_id(models::pipe_id::MTE2, models::pipe_id::MTE3);
        } else {
            m_s = ctx.alloc<float>(position::VECCALC, sh.rows() * sh.ss());
            m_pv = ctx.alloc<float>(position::VECCALC, sh.rows() * sh.hdp());
            m_nz = ctx.alloc<float>(position::VECCALC, sh.tp() * std::max(sh.tp(), sh.hdp()));
            for (uint32_t& id : m_p_written)
                id = ctx.alloc_event_id(models::pipe_id::MTE3, models::pipe_id::MTE2);
        }
        m_m = m_stats;
        m_l = m_stats[m_sh.rows8()];
        m_tile_m = m_stats[2 * m_sh.rows8()];
        m_alpha = {m_stats[3 * m_sh.rows8()], m_stats[4 * m_sh.rows8()]};
    }

    /// A new query tile: this core's rows are [lo, lo + rows) of its `mr` rows.
    void begin(const task& k, uint32_t mr, const workspaces& ws) {
        m_task = k;
        m_ws = ws;
        m_mr = mr;
        const uint32_t share = m_sh.split ? (mr + 1) / 2 : mr;
        m_lo = std::min(mr, share * m_ctx.sub_block_idx());
        m_rows = std::min(mr - m_lo, share);
        if (m_rows == 0) return;
        m_ctx.duplicate(m_m, ninf, m_rows);
        m_ctx.duplicate(m_l, 0.f, m_rows);
        m_ctx.duplicate(m_o, 0.f, uint64_t(m_rows) * m_sh.hdp());
    }

    /// Coupled chips: the scores or P V tile leaves L0C for UB in ND, `cols` columns.
    void from_l0c(tque<float>& qc, local_tensor<float> nd, uint64_t pitch, uint32_t cols) {
        const uint32_t mp = uint32_t(round_up(m_mr, 16)), np = uint32_t(round_up(cols, 16));
        auto acc = qc.deque();
        m_ctx.l0c_to_ub(m_nz, acc, uint64_t(mp) * np);
        qc.free_tensor(acc);
        nz_to_nd(m_ctx, nd, uint32_t(pitch), m_nz, m_mr, mp, 0, np / 16);
    }

    /// Key tile j (keys [c0, c0 + nr)): S -> P, written to the workspace for the cube. On
    /// coupled chips S comes from `qc`.
    void scores_to_probs(uint32_t j, uint32_t c0, uint32_t nr, tque<float>* qc) {
        const uint64_t ss = m_sh.ss(), tile = m_t.tile;
        const workspace& ws = m_ws[j % 2];
        const local_tensor<float> alpha = m_alpha[j % 2];
        local_tensor<float> s = m_s;
        if (m_sh.split) {
            m_ctx.cross_core_wait_flag(s_ready, models::pipe_id::MTE2);
            if (m_rows) {
                s = m_s_in->alloc_tensor();
                m_ctx.copy_2d<float>(mem_space::ub, s.offset, mem_space::gm,
                                     ws.s + uint64_t(m_lo) * tile * 4, m_rows, nr, ss, tile);
                m_s_in->enque(s);
                s = m_s_in->deque();
            }
        } else {
            from_l0c(*qc, s, ss, nr);
        }
        if (m_rows) {
            const uint64_t n = uint64_t(m_rows) * ss;
            // Keys after the query are masked; so is the padding past nr.
            const uint32_t q0 = m_task.qt * m_t.tile + m_lo;  // within the prompt
            if (c0 + nr > q0 + 1) {
                for (uint32_t r = 0; r < m_rows; ++r) {
                    const uint64_t keep = std::min<uint64_t>(nr, q0 + r + 1 - c0);
                    if (keep < ss) fill_row_padding(m_ctx, s[r * ss], 1, keep, ss, ninf);
                }
            } else if (nr < ss) {
                fill_row_padding(m_ctx, s, m_rows, nr, ss, ninf);
            }
            reduce_rows(m_ctx, vec_opcode::max, m_tile_m, s, m_half, m_rows, ss);
            m_ctx.max(m_tile_m, m_tile_m, m_m, m_rows);  // the new max
            m_ctx.sub(alpha, m_m, m_tile_m, m_rows);
            m_ctx.unary(vec_opcode::exp, alpha, alpha, m_rows);
            m_ctx.unary(vec_opcode::muls, m_m, m_tile_m, m_rows, 1.f);
            broadcast_rows(m_ctx, vec_opcode::sub, s, s, m_m, m_blocks, m_rows, ss);
            m_ctx.unary(vec_opcode::exp, s, s, n);
            reduce_rows(m_ctx, vec_opcode::add, m_tile_m, s, m_half, m_rows, ss);
            m_ctx.mul(m_l, m_l, alpha, m_rows);
            m_ctx.add(m_l, m_l, m_tile_m, m_rows);
            auto p = m_p.alloc_tensor();
            m_ctx.cast(p, s, n);
            if (m_sh.split) m_s_in->free_tensor(s);
            m_p.enque(p);
            p = m_p.deque();
            m_ctx.copy_2d<half>(mem_space::gm, ws.p + uint64_t(m_lo) * tile * 2, mem_space::ub,
                                p.offset, m_rows, nr, tile, ss);
            m_p.free_tensor(p);
        }
        if (m_sh.split && m_rows == 0) {  // MTE3 signals only once S has come
            m_ctx.set_flag(models::pipe_id::MTE2, models::pipe_id::MTE3, m_s_seen);
            m_ctx.wait_flag(models::pipe_id::MTE2, models::pipe_id::MTE3, m_s_seen);
        }
        if (m_sh.split)
            m_ctx.cross_core_set_flag(p_ready, models::pipe_id::MTE3);
        else
            m_ctx.set_flag(models::pipe_id::MTE3, models::pipe_id::MTE2, m_p_written[j % 2]);
    }

    /// Coupled chips: the cube's MTE2 waits until P is in the workspace.
    void wait_probs(uint32_t j) {
        m_ctx.wait_flag(models::pipe_id::MTE3, models::pipe_id::MTE2, m_p_written[j % 2]);
    }

    /// O = O x exp(m_old - m_new) + P V.
    void accumulate(uint32_t j, tque<float>* qc) {
        const uint64_t hdp = m_sh.hdp(), hd = m_t.p.head_dim;
        local_tensor<float> pv = m_pv;
        if (m_sh.split) {
            m_ctx.cross_core_wait_flag(pv_ready, models::pipe_id::MTE2);
            if (m_rows == 0) return;
            pv = m_pv_in->alloc_tensor();
            m_ctx.copy_2d<float>(mem_space::ub, pv.offset, mem_space::gm,
                                 m_ws[j % 2].pv + uint64_t(m_lo) * hd * 4, m_rows, hd, hdp, hd);
            m_pv_in->enque(pv);
            pv = m_pv_in->deque();
        } else {
            from_l0c(*qc, pv, hdp, uint32_t(hd));
        }
        if (m_rows) {
            broadcast_rows(m_ctx, vec_opcode::mul, m_o, m_o, m_alpha[j % 2], m_blocks, m_rows, hdp);
            m_ctx.add(m_o, m_o, pv, uint64_t(m_rows) * hdp);
        }
        if (m_sh.split) m_pv_in->free_tensor(pv);
    }

    /// O / l, in fp16, to the output rows.
    void finish(uint64_t out) {
        if (m_rows == 0) return;
        const uint64_t hdp = m_sh.hdp(), hd = m_t.p.head_dim;
        broadcast_rows(m_ctx, vec_opcode::div, m_o, m_o, m_l, m_blocks, m_rows, hdp);
        auto o = m_out.alloc_tensor();
        m_ctx.cast(o, m_o, uint64_t(m_rows) * hdp);
        m_out.enque(o);
        o = m_out.deque();
        const uint64_t row =
            uint64_t(m_task.head) * m_t.p.tokens + m_task.start + m_task.qt * m_t.tile + m_lo;
        m_ctx.copy_2d<half>(mem_space::gm, out + row * hd * 2, mem_space::ub, o.offset, m_rows, hd,
                            hd, hdp);
        m_out.free_tensor(o);
    }

  private:
    kernel_context& m_ctx;
    const attention_tiling& m_t;
    shape m_sh;
    tque<half> m_p, m_out;
    std::unique_ptr<tque<float>> m_s_in, m_pv_in;
    local_tensor<float> m_s, m_pv, m_nz, m_o, m_half, m_stats, m_blocks;
    local_tensor<float> m_m, m_l, m_tile_m;
    std::array<local_tensor<float>, 2> m_alpha;  // exp(m_old - m_new) of the last two key tiles
    std::array<uint32_t, 2> m_p_written{};
    uint32_t m_s_seen = 0;
    task m_task{};
    workspaces m_ws{};
    uint32_t m_mr = 0, m_lo = 0, m_rows = 0;
};

/// The cube half: S = Q K^T and P V for each key tile of a task.
class matmul_side {
  public:
    matmul_side(kernel_context& ctx, const attention_tiling& t, const shape& sh)
        : m_ctx(ctx),
          m_t(t),
          m_sh(sh),
          m_q1(ctx, position::A1, 1, sh.tp() * sh.hdp()),
          m_kv1(ctx, position::B1, 2, sh.tp() * sh.hdp()),
          m_p1(ctx, position::A1, 1, sh.tp() * sh.tp()),
          m_a2(ctx, position::A2, 2, sh.tp() * std::max(sh.hdp(), sh.tp())),
          m_b2(ctx, position::B2, 2, sh.tp() * sh.hdp()),
          m_c(ctx, position::CO1, 2, sh.tp() * std::max(sh.tp(), sh.hdp())) {}

    tque<float>& l0c() { return m_c; }

    void load_q(const task& k, uint32_t mr, uint64_t q) {
        m_mr = mr;
        const uint64_t hd = m_t.p.head_dim;
        m_q = m_q1.alloc_tensor();
        m_ctx.copy_nd2nz(
            m_q, rows_of<half>(q, uint64_t(k.head) * m_t.p.tokens + k.start + k.qt * m_t.tile), mr,
            uint32_t(hd), hd);
        m_q1.enque(m_q);
        m_q = m_q1.deque();
    }
    void free_q() { m_q1.free_tensor(m_q); }

    /// S = Q K^T for keys [c0, c0 + nr) of KV head `kvh`; on split chips, to the workspace.
    void scores(uint64_t k, uint32_t kvh, uint32_t c0, uint32_t nr, const workspace& ws) {
        const uint32_t hd = m_t.p.head_dim;
        auto k1 = m_kv1.alloc_tensor();
        m_ctx.copy_nd2nz(k1, rows_of<half>(k, uint64_t(kvh) * m_t.p.tokens + c0), nr, hd, hd);
        m_kv1.enque(k1);
        k1 = m_kv1.deque();
        auto a2 = m_a2.alloc_tensor();
        m_ctx.load_a(a2, m_q, uint32_t(round_up(m_mr, 16)), 0, 0, m_mr, hd);
        m_a2.enque(a2);
        auto b2 = m_b2.alloc_tensor();
        m_ctx.load_b(b2, k1, uint32_t(round_up(nr, 16)), 0, 0, hd, nr, true);
        m_b2.enque(b2);
        m_kv1.free_tensor(k1);
        multiply(m_mr, hd, nr);
        if (m_sh.split) to_workspace(ws.s, nr, m_t.tile, s_ready);
    }

    /// Starts loading V for keys [c0, c0 + nr) ahead of P.
    void load_v(uint64_t v, uint32_t kvh, uint32_t c0, uint32_t nr) {
        auto v1 = m_kv1.alloc_tensor();
        m_ctx.copy_nd2nz(v1, rows_of<half>(v, uint64_t(kvh) * m_t.p.tokens + c0), nr,
                         m_t.p.head_dim, m_t.p.head_dim);
        m_kv1.enque(v1);
    }

    /// P V, once P is in the workspace (the caller has waited for it); on split chips, to the
    /// workspace.
    void context(uint32_t nr, const workspace& ws) {
        const uint32_t hd = m_t.p.head_dim;
        if (m_sh.split)
            for (unsigned i = 0; i < m_ctx.sub_block_num(); ++i)
                m_ctx.cross_core_wait_flag(p_ready, models::pipe_id::MTE2);
        auto p1 = m_p1.alloc_tensor();
        m_ctx.copy_nd2nz(p1, global_tensor<half>{ws.p, 0}, m_mr, nr, m_t.tile);
        m_p1.enque(p1);
        p1 = m_p1.deque();
        auto a2 = m_a2.alloc_tensor();
        m_ctx.load_a(a2, p1, uint32_t(round_up(m_mr, 16)), 0, 0, m_mr, nr);
        m_a2.enque(a2);
        m_p1.free_tensor(p1);
        auto v1 = m_kv1.deque();
        auto b2 = m_b2.alloc_tensor();
        m_ctx.load_b(b2, v1, uint32_t(round_up(nr, 16)), 0, 0, nr, hd);
        m_b2.enque(b2);
        m_kv1.free_tensor(v1);
        multiply(m_mr, nr, hd);
        if (m_sh.split) to_workspace(ws.pv, hd, hd, pv_ready);
    }

  private:
    template <class T>
    global_tensor<T> rows_of(uint64_t base, uint64_t row) const {
        return {base + row * m_t.p.head_dim * sizeof(T), 0};
    }
    void multiply(uint32_t m, uint32_t k, uint32_t n) {
        auto a2 = m_a2.deque();
        auto b2 = m_b2.deque();
        auto acc = m_c.alloc_tensor();
        m_ctx.mmad(acc, a2, b2, m, k, n, false);
        m_a2.free_tensor(a2);
        m_b2.free_tensor(b2);
        m_c.enque(acc);
    }
    void to_workspace(uint64_t dst, uint32_t cols, uint64_t pitch, uint32_t flag) {
        auto acc = m_c.deque();
        m_ctx.fixpipe(global_tensor<float>{dst, 0}, acc, m_mr, cols, uint32_t(round_up(m_mr, 16)),
                      pitch);
        m_c.free_tensor(acc);
        m_ctx.cross_core_set_flag(flag, models::pipe_id::FIX);
    }

    kernel_context& m_ctx;
    const attention_tiling& m_t;
    shape m_sh;
    // L1 holds Q, K then V through one queue (event ids are few: 4 a pipe pair on some chips), P.
    tque<half> m_q1, m_kv1, m_p1, m_a2, m_b2;
    tque<float> m_c;
    local_tensor<half> m_q;
    uint32_t m_mr = 0;
};

}  // namespace

uint64_t attention_tiling::workspace_per_block() const {
    return 2 * layout_of(tile, p.head_dim).end;
}

attention_tiling tile_attention(const platform::platform_config& p, const attention_problem& prob) {
    if (prob.kv_heads == 0 || prob.heads % prob.kv_heads != 0)
        throw std::invalid_argument(
            fmt::format("attention: {} query heads over {} KV heads; they must be a multiple",
                        prob.heads, prob.kv_heads));
    if (prob.head_dim == 0) throw std::invalid_argument("attention: head_dim must be at least 1");
    uint64_t packed = 0;
    for (uint32_t n : prob.lengths) packed += n;
    if (!prob.lengths.empty() && packed != prob.tokens)
        throw std::invalid_argument(fmt::format(
            "attention: the prompt lengths add up to {} tokens, not {}", packed, prob.tokens));
    const models::core_params& cube = p.split ? p.aic : p.aicore;
    const models::core_params& vec = p.split ? p.aiv : p.aicore;
    for (uint32_t tile : {128u, 64u, 32u, 16u}) {
        const shape sh{tile, prob.head_dim, p.split};
        if (!fits(cube, mem_space::l1, sh.l1()) || !fits(cube, mem_space::l0a, sh.l0a()) ||
            !fits(cube, mem_space::l0b, sh.l0b()) || !fits(cube, mem_space::l0c, sh.l0c()) ||
            !fits(vec, mem_space::ub, sh.ub()))
            continue;
        attention_tiling t;
        t.p = prob;
        t.tile = tile;
        t.task_list = list_tasks(prob, tile);
        t.block_dim = unsigned(std::max<uint64_t>(1, std::min<uint64_t>(p.cores, t.tasks())));
        return t;
    }
    throw std::invalid_argument(
        fmt::format("attention: head_dim {} does not fit the core's buffers even with 16-row tiles",
                    prob.head_dim));
}

void attention_kernel(kernel_context& ctx, const attention_args& g, const attention_tiling& t) {
    const bool split = ctx.core_type() != models::core_kind::aicore;
    const shape sh{t.tile, t.p.head_dim, split};
    const slot_layout slot = layout_of(t.tile, t.p.head_dim);
    workspaces w;
    for (uint64_t i = 0; i < 2; ++i) {
        const uint64_t base = g.workspace + (2 * ctx.block_idx() + i) * slot.end;
        w[i] = {base, base + slot.p, base + slot.pv};
    }
    std::unique_ptr<matmul_side> cube;
    std::unique_ptr<softmax_side> vec;
    if (ctx.has_cube()) cube = std::make_unique<matmul_side>(ctx, t, sh);
    if (ctx.has_vector()) vec = std::make_unique<softmax_side>(ctx, t, sh);
    tque<float>* qc = cube && vec ? &cube->l0c() : nullptr;  // coupled: S and P V through UB
    const uint32_t group = t.p.heads / t.p.kv_heads;
    auto run = [&](uint64_t i) {
        const task k = task_of(t, i);
        const uint32_t mr = std::min(t.tile, k.length - k.qt * t.tile);
        const uint32_t kvh = k.head / group;
        auto keys = [&](uint32_t j) { return std::min(t.tile, k.length - j * t.tile); };
        // Software pipelined: the scores of key tile j + 1 go ahead of P V of tile j, so the
        // cube computes them while the vector units take the softmax of tile j.
        auto scores = [&](uint32_t j) {
            if (cube) cube->scores(g.k, kvh, k.start + j * t.tile, keys(j), w[j % 2]);
            if (vec) vec->scores_to_probs(j, j * t.tile, keys(j), qc);
        };
        if (cube) cube->load_q(k, mr, g.q);
        if (vec) vec->begin(k, mr, w);
        scores(0);
        for (uint32_t j = 0; j <= k.qt; ++j) {
            if (j < k.qt) scores(j + 1);
            if (cube) {
                cube->load_v(g.v, kvh, k.start + j * t.tile, keys(j));
                if (vec) vec->wait_probs(j);
                cube->context(keys(j), w[j % 2]);
            }
            if (vec) vec->accumulate(j, qc);
        }
        if (cube) cube->free_q();
        if (vec) vec->finish(g.out);
    };
    if (!g.steal) {
        if (!t.assignment.empty())
            for (uint32_t i : t.assignment.at(ctx.block_idx())) run(i);
        else
            for (uint64_t i = ctx.block_idx(); i < t.tasks(); i += ctx.block_num()) run(i);
        return;
    }
    // Stealing: the cube core (or a coupled core) takes the next task from the shared queue, a
    // GM atomic. On a split chip it publishes the task in its block's mailbox (another GM
    // atomic) and raises a cross-core flag; each vector core waits for the flag and reads the
    // mailbox (a scalar GM read), so the three run the same tasks. Past the last task all stop.
    attention_steal& st = *g.steal;
    std::vector<uint64_t>& mailbox = st.taken.at(ctx.block_idx());
    for (size_t n = 0;; ++n) {
        uint64_t i = 0;
        if (cube) {
            i = std::min<uint64_t>(ctx.atomic_add(st.next, 1), t.tasks());
            if (split) {
                mailbox.push_back(i);
                ctx.atomic_add(st.published[ctx.block_idx()], 1);
                ctx.cross_core_set_flag(task_ready, models::pipe_id::MTE2);
            }
        } else {
            ctx.cross_core_wait_flag(task_ready, models::pipe_id::MTE3);
            ctx.get_value(global_tensor<uint32_t>{g.workspace, 1}, 0);  // the mailbox read
            i = mailbox.at(n);
        }
        if (i >= t.tasks()) return;
        run(i);
    }
}

}  // namespace npusim::kernel
