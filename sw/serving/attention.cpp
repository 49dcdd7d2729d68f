#include "sw/serving/attention.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "models/core/dtype.h"
#include "sw/kernel/attention_kernel.h"
#include "sw/kernel/matmul_kernel.h"
#include "sw/serving/kv_ops.h"

namespace npusim::serving {

using runtime::status;

namespace {

const auto fp16 = models::dtype::fp16;
/// The most negative fp16: added to a score, its exp underflows to 0.
const uint16_t masked_out = models::float_to_half(-65504.f);

std::string shape_text(const memory::tensor_desc& d) {
    std::string s = std::string(models::to_string(d.type())) + "[";
    for (size_t i = 0; i < d.shape().size(); ++i)
        s += (i ? "," : "") + std::to_string(d.shape()[i]);
    return s + "]";
}

}  // namespace

std::string plan_key(const ops::op_plan& p) {
    std::string k = p.call.schema ? p.call.schema->name : "?";
    for (const auto& d : p.call.inputs) k += " " + shape_text(d);
    for (const auto& [name, v] : p.call.attrs) {
        k += " " + name + "=";
        if (auto* i = std::get_if<int64_t>(&v))
            k += std::to_string(*i);
        else if (auto* b = std::get_if<bool>(&v))
            k += *b ? "1" : "0";
        else if (auto* d = std::get_if<double>(&v))
            k += fmt::format("{}", *d);
        else if (auto* t = std::get_if<std::string>(&v))
            k += *t;
        else
            for (int64_t x : std::get<std::vector<int64_t>>(v)) k += std::to_string(x) + ",";
    }
    return k;
}

scratch::~scratch() {
    for (uint64_t a : m_addr)
        if (a) (void)m_ctx.free(a);  // reused only after the stream's earlier work
}

status scratch::get(unsigned slot, uint64_t bytes, uint64_t& addr) {
    if (m_addr.size() <= slot) m_addr.resize(slot + 1, 0);
    if (!m_addr[slot]) {
        const status st = m_ctx.malloc(m_addr[slot], int64_t(bytes), m_stream, "attention scratch");
        if (st != status::success) return st;
    }
    addr = m_addr[slot];
    return status::success;
}

namespace {

/// Runs a planned library op through `run`; its buffers come from `bufs` when it launches.
status run_op(runtime::context& ctx, runtime::stream* s, op_runner& run, const ops::op_plan& plan,
              const std::string& label, const std::function<status(ops::op_buffers&)>& bufs) {
    return run.run(plan_key(plan), [&] {
        ops::op_buffers b;
        if (status st = bufs(b); st != status::success) return st;
        return ops::library().execute(ctx, s, plan, b, label);
    });
}

/// The address of a scratch slot, with the status of taking it.
std::pair<status, uint64_t> slot_of(scratch& sc, unsigned slot, uint64_t bytes) {
    uint64_t a = 0;
    const status st = sc.get(slot, bytes, a);
    return {st, a};
}

/// Scratch slots of decode attention's scores: S, S + mask, softmax.
enum : unsigned { S, MASKED, P, K, V };

/// Scores bytes of a decode batch.
uint64_t score_bytes(int64_t b, int64_t h, int64_t n) {
    return memory::tensor_desc("scores", fp16, {b, h, 1, n}).storage_bytes();
}

/// P = softmax(S + mask) over the scores [b][h][1][n] in scratch slot S, into slot P.
status mask_and_softmax(runtime::context& ctx, runtime::stream* s, op_runner& run, scratch& sc,
                        int64_t b, int64_t h, int64_t n, uint64_t mask,
                        const platform::platform_config& p) {
    const ops::registry& lib = ops::library();
    const memory::tensor_desc sd("scores", fp16, {b, h, 1, n}), md("mask", fp16, {b, 1, 1, n});
    const ops::op_plan masked = lib.plan("add", {sd, md}, {}, p);
    const ops::op_plan probs = lib.plan("softmax", {masked.call.outputs[0]}, {}, p);
    const uint64_t bytes = sd.storage_bytes();
    status st = run_op(ctx, s, run, masked, "attn_mask_add", [&](ops::op_buffers& io) {
        auto [ss, sa] = slot_of(sc, S, bytes);
        auto [so, oa] = slot_of(sc, MASKED, bytes);
        io = {{sa, mask}, {oa}};
        return ss != status::success ? ss : so;
    });
    if (st == status::success)
        st = run_op(ctx, s, run, probs, "attn_softmax", [&](ops::op_buffers& io) {
            auto [si, ia] = slot_of(sc, MASKED, bytes);
            auto [so, oa] = slot_of(sc, P, bytes);
            io = {{ia}, {oa}};
            return si != status::success ? si : so;
        });
    return st;
}

}  // namespace

unsigned decode_padded_length(const paged_kv_cache& kv, const std::vector<uint64_t>& seqs,
                              unsigned align) {
    unsigned longest = 0;
    for (uint64_t id : seqs) longest = std::max(longest, kv.tokens(id));
    align = std::max(align, 1u);
    return (longest + align - 1) / align * align;
}

std::vector<uint16_t> decode_mask(const paged_kv_cache& kv, const std::vector<uint64_t>& seqs,
                                  unsigned padded, unsigned rows) {
    std::vector<uint16_t> mask(std::max<size_t>(seqs.size(), rows) * padded, masked_out);
    for (size_t i = 0; i < seqs.size(); ++i)
        std::fill_n(mask.begin() + int64_t(i * padded), std::min(kv.tokens(seqs[i]), padded),
                    uint16_t(0));
    return mask;
}

status decode_attention(runtime::context& ctx, runtime::stream* s, const paged_kv_cache& kv,
                        const std::vector<uint64_t>& seqs, unsigned layer, unsigned rows,
                        unsigned heads, uint64_t q, uint64_t mask, uint64_t zeros, uint64_t out,
                        unsigned padded, const platform::platform_config& p, op_runner& run) {
    const kv_cache_config& c = kv.config();
    if (c.dtype_bytes != 2)
        throw std::invalid_argument("decode_attention: the cache must hold fp16 (dtype_bytes 2)");
    if (heads != c.kv_heads)
        throw std::invalid_argument(fmt::format(
            "decode_attention: {} query heads over {} KV heads; the gathered form needs them "
            "equal (paged_decode_attention groups query heads)",
            heads, c.kv_heads));
    if (seqs.empty()) return status::success;
    for (uint64_t id : seqs)
        if (kv.tokens(id) == 0 || kv.tokens(id) > padded)
            throw std::invalid_argument(fmt::format(
                "decode_attention: sequence {} holds {} tokens; it needs 1 to {} (grow it first)",
                id, kv.tokens(id), padded));
    if (rows < seqs.size())
        throw std::invalid_argument(
            fmt::format("decode_attention: {} rows cannot hold {} sequences", rows, seqs.size()));
    const int64_t b = rows, h = c.kv_heads, hd = c.head_dim, n = padded;
    const ops::registry& lib = ops::library();
    const memory::tensor_desc qd("q", fp16, {b * h, 1, hd}), kd("k", fp16, {b * h, n, hd}),
        vd("v", fp16, {b * h, n, hd}), pd("probs", fp16, {b * h, 1, n});
    const ops::op_plan scores = lib.plan("matmul", {qd, kd}, {{"transpose_b", true}}, p);
    const ops::op_plan context = lib.plan("matmul", {pd, vd}, {}, p);
    const uint64_t kv_bytes = kd.storage_bytes(), s_bytes = score_bytes(b, h, n);
    scratch sc(ctx, s);
    const unsigned cores = p.split ? p.vector_cores : p.cores;
    status st = run.run(fmt::format("kv_gather {} rows ({} sequences) padded {} x {} heads x {}", b,
                                    seqs.size(), n, h, hd),
                        [&] {
                            auto [sk, k] = slot_of(sc, K, kv_bytes);
                            auto [sv, v] = slot_of(sc, V, kv_bytes);
                            if (sk != status::success) return sk;
                            if (sv != status::success) return sv;
                            const kv_copy_plan g = plan_kv_gather_batch(kv, seqs, rows, layer, k, v,
                                                                        uint64_t(n), zeros, cores);
                            return ctx.launch(s, "kv_gather", g.block_dim,
                                              models::kernel_kind::vector, kv_copy_kernel(g));
                        });
    if (st == status::success)
        st = run_op(ctx, s, run, scores, "attn_scores", [&](ops::op_buffers& io) {
            auto [sk, k] = slot_of(sc, K, kv_bytes);
            auto [ss, sa] = slot_of(sc, S, s_bytes);
            io = {{q, k}, {sa}};
            return sk != status::success ? sk : ss;
        });
    if (st == status::success) st = mask_and_softmax(ctx, s, run, sc, b, h, n, mask, p);
    if (st == status::success)
        st = run_op(ctx, s, run, context, "attn_context", [&](ops::op_buffers& io) {
            auto [sp, pa] = slot_of(sc, P, s_bytes);
            auto [sv, v] = slot_of(sc, V, kv_bytes);
            io = {{pa, v}, {out}};
            return sp != status::success ? sp : sv;
        });
    return st;
}

namespace {

/// The tiling of C[batch][m x n] = A x B with B read through pages of `page_rows` rows.
kernel::matmul_tiling paged_tiling(const platform::platform_config& p, uint32_t batch, uint32_t m,
                                   uint32_t k, uint32_t n, bool transpose_b, uint32_t page_rows) {
    const kernel::matmul_chip chip = kernel::matmul_chip_of(p);
    kernel::matmul_problem prob;
    prob.batch = batch;
    prob.m = m;
    prob.k = k;
    prob.n = n;
    prob.transpose_b = transpose_b;
    return kernel::page_tiling(kernel::tile_matmul(chip, prob), page_rows, chip.cores);
}

status launch_matmul(runtime::context& ctx, runtime::stream* s, const std::string& name,
                     const kernel::matmul_tiling& t, const kernel::matmul_args& args) {
    return ctx.launch(s, name, t.block_dim, models::kernel_kind::cube,
                      [t, args](kernel::kernel_context& k) { kernel::matmul_kernel(k, args, t); });
}

}  // namespace

status paged_decode_attention(runtime::context& ctx, runtime::stream* s, const paged_kv_cache& kv,
                              const std::vector<uint64_t>& seqs, unsigned layer, unsigned rows,
                              unsigned heads, uint64_t q, uint64_t mask, uint64_t zeros,
                              uint64_t out, unsigned padded, const platform::platform_config& p,
                              op_runner& run) {
    const kv_cache_config& c = kv.config();
    if (c.dtype_bytes != 2)
        throw std::invalid_argument("paged_attention: the cache must hold fp16 (dtype_bytes 2)");
    if (seqs.empty()) return status::success;
    const unsigned bt = c.block_tokens;
    if (bt % 16 != 0 || padded % bt != 0 || rows < seqs.size())
        throw std::invalid_argument(fmt::format(
            "paged_attention: blocks of {} tokens, {} padded tokens and {} rows for {} sequences; "
            "blocks must hold a multiple of 16 tokens, padded whole blocks and rows at least "
            "the sequences",
            bt, padded, rows, seqs.size()));
    for (uint64_t id : seqs)
        if (kv.tokens(id) == 0 || kv.tokens(id) > padded)
            throw std::invalid_argument(fmt::format(
                "paged_attention: sequence {} holds {} tokens; it needs 1 to {} (grow it first)",
                id, kv.tokens(id), padded));
    if (heads == 0 || heads % c.kv_heads != 0)
        throw std::invalid_argument(
            fmt::format("paged_attention: {} query heads over {} KV heads; they must be a multiple",
                        heads, c.kv_heads));
    const int64_t b = rows, h = heads, hd = c.head_dim, n = padded;
    const unsigned group = heads / c.kv_heads;  // query heads sharing a KV head
    const uint32_t per = padded / bt;
    // Page tables of K and V: entry (row, query head), page j, in the query head's KV head.
    auto table = [&](bool value) {
        auto t = std::make_shared<kernel::matmul_pages>();
        t->rows = bt;
        t->per_batch = per;
        for (int64_t i = 0; i < b; ++i)
            for (int64_t hh = 0; hh < h; ++hh)
                for (uint32_t j = 0; j < per; ++j) {
                    const bool held =
                        size_t(i) < seqs.size() && j < kv.block_table(seqs[size_t(i)]).size();
                    t->addr.push_back(
                        held ? kv.slot(seqs[size_t(i)], j * bt, layer, value, unsigned(hh) / group)
                             : zeros);
                }
        return std::shared_ptr<const kernel::matmul_pages>(t);
    };
    auto tiling = [&](uint32_t k, uint32_t nn, bool transpose_b) {
        return paged_tiling(p, uint32_t(b * h), 1, k, nn, transpose_b, bt);
    };
    const uint64_t s_bytes = score_bytes(b, h, n);
    scratch sc(ctx, s);
    status st = run.run(fmt::format("paged_scores {} rows ({} sequences) x {} heads x {} padded {}",
                                    b, seqs.size(), h, hd, n),
                        [&] {
                            auto [ss, sa] = slot_of(sc, S, s_bytes);
                            if (ss != status::success) return ss;
                            return launch_matmul(ctx, s, "attn_scores",
                                                 tiling(uint32_t(hd), uint32_t(n), true),
                                                 {q, 0, sa, 0, table(false)});
                        });
    if (st == status::success) st = mask_and_softmax(ctx, s, run, sc, b, h, n, mask, p);
    if (st == status::success)
        st = run.run(fmt::format("paged_context {} rows ({} sequences) x {} heads x {} padded {}",
                                 b, seqs.size(), h, hd, n),
                     [&] {
                         auto [sp, pa] = slot_of(sc, P, s_bytes);
                         if (sp != status::success) return sp;
                         return launch_matmul(ctx, s, "attn_context",
                                              tiling(uint32_t(n), uint32_t(hd), false),
                                              {pa, 0, out, 0, table(true)});
                     });
    return st;
}

status prefill_attention(runtime::context& ctx, runtime::stream* s, unsigned heads,
                         unsigned kv_heads, unsigned tokens, unsigned head_dim, uint64_t q,
                         uint64_t k, uint64_t v, uint64_t out, const platform::platform_config& p,
                         op_runner& run, const std::vector<uint32_t>& lengths,
                         kernel::partition_kind partition) {
    if (tokens == 0) return status::success;
    kernel::attention_problem prob;
    prob.heads = heads;
    prob.kv_heads = kv_heads;
    prob.tokens = tokens;
    prob.head_dim = head_dim;
    prob.lengths = lengths;
    kernel::attention_tiling t = kernel::tile_attention(p, prob);
    // Causal tasks are uneven: assigned by cost they finish together (docs/ops.md).
    if (partition == kernel::partition_kind::cost) kernel::set_cost_partition(t);
    scratch sc(ctx, s);
    return run.run(
        fmt::format("flash_attention {} tokens x {} heads over {} x {}", tokens, heads, kv_heads,
                    head_dim),
        [&] {
            kernel::attention_args args{q, k, v, out, 0};
            if (status st = sc.get(0, t.workspace_bytes(), args.workspace); st != status::success)
                return st;
            std::shared_ptr<kernel::attention_steal> steal;  // fresh for the launch
            if (partition == kernel::partition_kind::steal) {
                steal = std::make_shared<kernel::attention_steal>(t.block_dim);
                args.steal = steal.get();
            }
            return ctx.launch(s, "flash_attention", t.block_dim, models::kernel_kind::mix,
                              [t, args, steal](kernel::kernel_context& kc) {
                                  kernel::attention_kernel(kc, args, t);
                              });
        });
}

}  // namespace npusim::serving
