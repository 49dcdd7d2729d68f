#include "sw/serving/server.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <unordered_map>

#include "platform/config/config_error.h"
#include "platform/simulation.h"
#include "sw/ops/registry.h"
#include "sw/serving/attention.h"
#include "sw/serving/kv_ops.h"

namespace npusim::serving {

using models::ps_t;
using runtime::status;

latency summarize(std::vector<double> v) {
    latency l;
    l.count = v.size();
    if (v.empty()) return l;
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    l.mean = sum / double(v.size());
    auto pct = [&](double p) {
        const double r = (double(v.size()) - 1) * p / 100.0;
        const size_t lo = size_t(std::floor(r)), hi = std::min(lo + 1, v.size() - 1);
        return v[lo] + (v[hi] - v[lo]) * (r - double(lo));
    };
    l.p50 = pct(50);
    l.p90 = pct(90);
    l.p99 = pct(99);
    return l;
}

namespace {

void check(status st, runtime::context& ctx, const char* what) {
    if (st != status::success)
        throw std::runtime_error(
            fmt::format("serving: {} failed: {}", what, ctx.get_last_error().message));
}

/// Costs an iteration's ops. Instruction level: every op is launched and the iteration takes
/// its device time from the first start to the last end. Op level: the iteration is made of
/// groups (the decode mask, each layer's qkv, attention and mlp, the output head). A group seen
/// for the first time (by its signature) is launched at instruction level, queued behind the
/// ops launched before it in the iteration. Each op gets two costs: the host's, from the
/// previous launched op's submission to its own, and the device's, from the previous op's end
/// (or its own submission, if later) to its own end, so queueing overlap, L2 reuse and
/// dispatch gaps are in it. A group seen before is not launched: its ops' memoized costs are
/// used. The iteration's time then follows the ops in order: the host submits each op its host
/// cost after the previous one, and the device runs it for its device cost once the previous
/// op has ended and it has been submitted. So a host that cannot keep up (small kernels) and a
/// device that has to wait for the host only at the start both come out as simulated.
class cost_runner : public op_runner {
  public:
    cost_runner(runtime::context& ctx, runtime::stream* s, fidelity f)
        : m_ctx(ctx), m_stream(s), m_mode(f) {}

    void begin() {
        m_first = m_ctx.timeline().size();
        m_launched.clear();
        m_order.clear();
    }

    /// Op level: a group seen before is replayed (costed at finish()) and true returned.
    bool replay(const std::string& signature) {
        if (m_mode != fidelity::op) return false;
        const auto it = m_groups.find(signature);
        if (it == m_groups.end()) return false;
        for (const memo* m : it->second) m_order.push_back({m, 0});
        replayed += it->second.size();
        return true;
    }

    void begin_group(const std::string& signature) {
        m_group = m_mode == fidelity::op ? &m_groups[signature] : nullptr;
    }
    void end_group() { m_group = nullptr; }

    status run(const std::string& key, const std::function<status()>& launch) override {
        ++simulated;
        const uint64_t from = m_ctx.submitted(m_stream);
        const status st = launch();
        memo* m = nullptr;
        if (m_group) {
            m = &m_memo[key];
            m_group->push_back(m);
        }
        m_order.push_back({nullptr, m_launched.size()});
        m_launched.push_back({m, from, m_ctx.submitted(m_stream)});
        return st;
    }

    /// The iteration's time; at op level, the launched ops' costs are memoized first.
    ps_t finish() {
        check(m_ctx.synchronize(m_stream), m_ctx, "an iteration");
        const auto& t = m_ctx.timeline();
        if (m_mode == fidelity::instr) {
            ps_t first = ~ps_t(0), last = 0;
            for (size_t i = m_first; i < t.size(); ++i) {
                first = std::min(first, t[i].start);
                last = std::max(last, t[i].end);
            }
            return last > first ? last - first : 0;
        }
        // Measured costs of the launched ops (an op that launched nothing, a view, costs 0).
        std::vector<costs> measured(m_launched.size());
        ps_t prev_end = 0, prev_submitted = 0;
        for (size_t j = 0; j < m_launched.size(); ++j) {
            const launched& op = m_launched[j];
            ps_t start = ~ps_t(0), end = 0, submitted = ~ps_t(0);
            for (size_t i = m_first; i < t.size(); ++i)
                if (t[i].stream == k_stream && t[i].seq >= op.from && t[i].seq < op.to) {
                    start = std::min(start, t[i].start);
                    end = std::max(end, t[i].end);
                    submitted = std::min(submitted, t[i].submitted);
                }
            costs& c = measured[j];
            if (end) {
                if (!prev_end) {  // the iteration starts when its first op does
                    c.device = end - start;
                } else {
                    c.host = submitted - std::min(prev_submitted, submitted);
                    c.device = end - std::min(std::max(prev_end, submitted), end);
                }
                prev_end = std::max(prev_end, end);
                prev_submitted = submitted;
            }
            if (op.cost) op.cost->add(c);
        }
        // The host and the device through the ops in order.
        ps_t host = 0, device = 0;
        for (const auto& [replayed, index] : m_order) {
            const costs c = replayed ? replayed->mean() : measured[index];
            host += c.host;
            device = std::max(device, host) + c.device;
        }
        return device;
    }

    size_t distinct() const { return m_memo.size(); }
    uint64_t simulated = 0, replayed = 0;
    static constexpr const char* k_stream = "serving";

  private:
    struct costs {
        ps_t host = 0, device = 0;
    };
    /// An op's costs: the mean of every time it was simulated (q, k, v and o projections share
    /// a key but not their L2 luck).
    struct memo {
        costs sum;
        uint64_t count = 0;
        void add(const costs& c) {
            sum.host += c.host;
            sum.device += c.device;
            ++count;
        }
        costs mean() const { return count ? costs{sum.host / count, sum.device / count} : costs{}; }
    };
    struct launched {
        memo* cost;         ///< null at instruction level
        uint64_t from, to;  ///< the stream's task numbers it took
    };

    runtime::context& m_ctx;
    runtime::stream* m_stream;
    fidelity m_mode;
    std::unordered_map<std::string, memo> m_memo;  ///< entries are stable: groups point at them
    std::unordered_map<std::string, std::vector<const memo*>> m_groups;
    std::vector<const memo*>* m_group = nullptr;  ///< the group being launched
    std::vector<launched> m_launched;
    /// The iteration's ops in order: a replayed op's memo, or the index of a launched one.
    std::vector<std::pair<const memo*, size_t>> m_order;
    size_t m_first = 0;
};

/// The model's weights, resident in device memory, and activation buffers for the largest
/// iteration.
struct model_state {
    struct layer {
        uint64_t attn_norm, wq, wk, wv, wo, ffn_norm, w_gate, w_up, w_down;
    };
    std::vector<layer> layers;
    uint64_t final_norm = 0, lm_head = 0, embedding = 0;
    // Activations, [rows][width].
    uint64_t x, h, q, k, v, attn, o, res, gate, up, ffn, down, logits;
    uint64_t qt, kt, vt, at;  // prefill attention's [head][token][head_dim] operands
};

class server {
  public:
    server(runtime::context& ctx, const serving_spec& spec, const std::vector<request>& reqs,
           const platform::platform_config& p, fidelity f)
        : m_ctx(ctx),
          m_spec(spec),
          m_model(spec.model),
          m_p(p),
          m_set(spec.scheduler),
          // The naive cache is one contiguous block of max_model_len tokens per sequence.
          m_block(m_set.layout == cache_layout::naive ? m_set.max_model_len : m_set.block_tokens),
          m_align(m_set.attention_align                 ? m_set.attention_align
                  : m_set.layout == cache_layout::naive ? 128u
                                                        : m_set.block_tokens) {
        check(ctx.create_stream(m_stream, {cost_runner::k_stream}), ctx, "create_stream");
        check(ctx.create_stream(m_kv_stream, {"kv_append"}), ctx, "create_stream");
        check(ctx.create_event(m_kv_ready, "kv ready"), ctx, "create_event");
        check(ctx.create_event(m_kv_appended, "kv appended"), ctx, "create_event");
        m_runner = std::make_unique<cost_runner>(ctx, m_stream, f);
        allocate_model();
        m_result.requests.resize(reqs.size());
        for (size_t i = 0; i < reqs.size(); ++i) m_result.requests[i].req = reqs[i];
    }

    ~server() {
        if (m_host_mask) (void)m_ctx.free_host(m_host_mask);  // every copy has run by now
    }
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    serving_result run();

  private:
    uint64_t alloc(uint64_t bytes, const char* tag) {
        uint64_t a = 0;
        check(m_ctx.malloc(a, int64_t(std::max<uint64_t>(bytes, 2)), m_stream, tag), m_ctx, tag);
        return a;
    }
    void allocate_model();
    /// One forward pass: `decode` sequences one token each (padded to `decode_rows` rows for
    /// the dense ops), then each prefill sequence's tokens.
    void forward(const std::vector<uint64_t>& decode, unsigned decode_rows,
                 const std::vector<uint64_t>& prefill);
    status run_op(const std::string& op, std::vector<memory::tensor_desc> in, ops::attr_map attrs,
                  std::vector<uint64_t> in_addr, uint64_t out, const std::string& label);

    runtime::context& m_ctx;
    const serving_spec& m_spec;
    const model_config& m_model;
    const platform::platform_config& m_p;
    const scheduler_settings& m_set;
    const unsigned m_block;  ///< tokens per cache block
    const unsigned m_align;  ///< decode contexts are padded to a multiple of this
    runtime::stream* m_stream = nullptr;
    runtime::stream* m_kv_stream = nullptr;  ///< kv_append, overlapping the q projection
    runtime::event *m_kv_ready = nullptr, *m_kv_appended = nullptr;
    std::unique_ptr<cost_runner> m_runner;
    std::unique_ptr<paged_kv_cache> m_kv;
    model_state m_w;
    uint64_t m_zeros = 0;             ///< block_tokens zero rows: decode attention's padding
    uint64_t m_null_rows = 0;         ///< where padding entries' K and V go (read by nothing)
    uint64_t m_mask = 0;              ///< device: the decode mask
    uint16_t* m_host_mask = nullptr;  ///< pinned: the same, staged for the copy
    serving_result m_result;
};

void server::allocate_model() {
    const uint64_t e = models::dtype_size(m_model.dtype), hd = m_model.head_dim();
    const uint64_t h = m_model.hidden, kvw = uint64_t(m_model.kv_heads) * hd, f = m_model.ffn;
    for (unsigned l = 0; l < m_model.layers; ++l) {
        model_state::layer w;
        w.attn_norm = alloc(h * e, "weights");
        w.wq = alloc(h * h * e, "weights");
        w.wk = alloc(h * kvw * e, "weights");
        w.wv = alloc(h * kvw * e, "weights");
        w.wo = alloc(h * h * e, "weights");
        w.ffn_norm = alloc(h * e, "weights");
        w.w_gate = alloc(h * f * e, "weights");
        w.w_up = alloc(h * f * e, "weights");
        w.w_down = alloc(f * h * e, "weights");
        m_w.layers.push_back(w);
    }
    m_w.final_norm = alloc(h * e, "weights");
    m_w.lm_head = alloc(h * m_model.vocab * e, "weights");
    m_w.embedding = alloc(h * m_model.vocab * e, "weights");
    const uint64_t rows =
        std::max<uint64_t>(m_set.max_batch_tokens,
                           m_set.batch_sizes.empty() ? 0 : m_set.batch_sizes.back()) +
        m_set.max_seqs;
    for (uint64_t* a :
         {&m_w.x, &m_w.h, &m_w.q, &m_w.attn, &m_w.o, &m_w.res, &m_w.down, &m_w.qt, &m_w.at})
        *a = alloc(rows * h * e, "activations");
    for (uint64_t* a : {&m_w.k, &m_w.v, &m_w.kt, &m_w.vt})
        *a = alloc(rows * kvw * e, "activations");
    for (uint64_t* a : {&m_w.gate, &m_w.up, &m_w.ffn}) *a = alloc(rows * f * e, "activations");
    m_w.logits = alloc(uint64_t(m_set.max_seqs) * m_model.vocab * e, "activations");
    // The decode mask: [rows][max_model_len + align]. Prefill attention masks in its kernel.
    const uint64_t mask_bytes = 2 * rows * (m_set.max_model_len + m_align);
    m_mask = alloc(mask_bytes, "activations");
    void* host = nullptr;
    check(m_ctx.malloc_host(host, int64_t(mask_bytes)), m_ctx, "malloc_host");
    m_host_mask = static_cast<uint16_t*>(host);
    const uint64_t zero_bytes = uint64_t(m_block) * hd * e;
    m_zeros = alloc(zero_bytes, "activations");
    m_null_rows = alloc(2 * kvw * e, "activations");
    check(m_ctx.memset(m_stream, m_zeros, 0, zero_bytes), m_ctx, "memset");

    // The cache takes what the memory fraction leaves after weights and activations.
    const kv_cache_config shape = m_model.kv_cache(m_block, 1);
    const double budget = double(m_p.gm.capacity) * m_set.memory_fraction;
    const double used =
        double(m_model.weight_bytes()) + double(rows * (9 * h + 4 * kvw + 3 * f) * e);
    const uint64_t blocks = m_set.kv_blocks ? m_set.kv_blocks
                            : budget > used
                                ? uint64_t((budget - used) / double(shape.block_bytes()))
                                : 0;
    const uint64_t longest = m_set.max_model_len;
    if (blocks * m_block < longest)
        throw platform::config_error(
            m_spec.source, m_set.kv_blocks ? "scheduler.kv_blocks" : "scheduler.memory_fraction",
            fmt::format("the KV cache gets {} blocks of {} tokens ({:.2f} GiB), fewer than "
                        "max_model_len {} tokens need",
                        blocks, m_block, blocks * shape.block_bytes() / 1073741824.0, longest),
            "give the cache more blocks (scheduler.kv_blocks or memory_fraction), lower "
            "max_model_len or use a platform with more device memory");
    kv_cache_config cfg = m_model.kv_cache(m_block, blocks);
    m_kv = std::make_unique<paged_kv_cache>(m_ctx, m_stream, cfg);
    m_result.summary.kv_blocks = blocks;
    m_result.summary.kv_bytes = blocks * shape.block_bytes();
}

status server::run_op(const std::string& op, std::vector<memory::tensor_desc> in,
                      ops::attr_map attrs, std::vector<uint64_t> in_addr, uint64_t out,
                      const std::string& label) {
    const ops::registry& lib = ops::library();
    const ops::op_plan plan = lib.plan(op, std::move(in), std::move(attrs), m_p);
    return m_runner->run(plan_key(plan), [&] {
        return lib.execute(m_ctx, m_stream, plan, {in_addr, {out}}, label);
    });
}

void server::forward(const std::vector<uint64_t>& decode, unsigned decode_rows,
                     const std::vector<uint64_t>& prefill) {
    const auto dt = m_model.dtype;
    const int64_t e = int64_t(models::dtype_size(dt)), hd = m_model.head_dim(), h = m_model.hidden,
                  heads = m_model.heads, kvh = m_model.kv_heads, f = m_model.ffn, kvw = kvh * hd;
    int64_t rows = decode_rows;
    for (uint64_t id : prefill) rows += m_kv->tokens(id);
    auto t = [&](const char* name, std::vector<int64_t> shape) {
        return memory::tensor_desc(name, dt, std::move(shape));
    };
    auto ok = [&](status st, const char* what) { check(st, m_ctx, what); };
    const unsigned cores = m_p.split ? m_p.vector_cores : m_p.cores;

    // The decode mask is built once per iteration and shared by every layer.
    unsigned padded = 0;
    if (!decode.empty()) padded = decode_padded_length(*m_kv, decode, m_align);
    // A group's signature names every shape its ops depend on; a group seen before is replayed
    // without building its ops.
    std::string shape = fmt::format("decode rows {} prefill", decode_rows);
    for (uint64_t id : prefill) shape += fmt::format(" {}", m_kv->tokens(id));
    // Attention also depends on how many padded rows hold sequences: they read their own pages
    // (L2 misses), padding rows one page of zeros.
    const std::string attn_shape =
        fmt::format("{} padded {} decode sequences {}", shape, padded, decode.size());
    auto group = [&](const std::string& signature, const std::function<void()>& ops) {
        if (m_runner->replay(signature)) return;
        m_runner->begin_group(signature);
        ops();
        m_runner->end_group();
    };
    if (!decode.empty())
        group("mask " + attn_shape, [&] {
            ok(m_runner->run(fmt::format("decode_mask fp16[{},{}]", decode_rows, padded),
                             [&] {
                                 const auto m = decode_mask(*m_kv, decode, padded, decode_rows);
                                 std::copy(m.begin(), m.end(), m_host_mask);
                                 return m_ctx.memcpy_to_device(m_stream, m_mask, m_host_mask,
                                                               m.size() * 2);
                             }),
               "copying the decode mask");
        });

    for (unsigned l = 0; l < m_model.layers; ++l) {
        const model_state::layer& w = m_w.layers[l];
        group("qkv " + shape, [&] {
            ok(run_op("rmsnorm", {t("x", {rows, h}), t("g", {h})}, {}, {m_w.x, w.attn_norm}, m_w.h,
                      "attn_norm"),
               "attn_norm");
            ok(run_op("matmul", {t("h", {rows, h}), t("wk", {h, kvw})}, {}, {m_w.h, w.wk}, m_w.k,
                      "k_proj"),
               "k_proj");
            ok(run_op("matmul", {t("h", {rows, h}), t("wv", {h, kvw})}, {}, {m_w.h, w.wv}, m_w.v,
                      "v_proj"),
               "v_proj");
            // Rotary embedding: the same elementwise work as with per-token positions (the serving
            // loop runs timing-only, so the table's values do not matter).
            ok(run_op("rope", {t("k", {rows, kvh, hd}), t("cos", {kvh, hd}), t("sin", {kvh, hd})},
                      {}, {m_w.k, m_w.attn, m_w.attn}, m_w.k, "rope_k"),
               "rope_k");
            // kv_append: the decode tokens' K and V, then each prompt's, on the KV stream once
            // K and V are ready, overlapping the q projection. Decode entries past the sequences
            // (batch padding) write to scratch rows.
            auto append = [&](const std::vector<uint64_t>& ids, unsigned tokens, int64_t row,
                              unsigned entries) {
                kv_copy_plan plan = plan_kv_append(*m_kv, l, ids, tokens, m_w.k + row * kvw * e,
                                                   m_w.v + row * kvw * e, cores);
                if (entries > ids.size())
                    pad_kv_append(plan, m_kv->config(), unsigned(ids.size()), entries, m_w.k, m_w.v,
                                  m_null_rows, cores);
                ok(m_runner->run(
                       fmt::format("kv_append {} entries x {} tokens x {} heads x {}",
                                   std::max<size_t>(entries, ids.size()), tokens, kvh, hd),
                       [&] {
                           status st = m_ctx.record_event(m_kv_ready, m_stream);
                           if (st == status::success)
                               st = m_ctx.stream_wait_event(m_kv_stream, m_kv_ready);
                           if (st == status::success)
                               st = m_ctx.launch(m_kv_stream, "kv_append", plan.block_dim,
                                                 models::kernel_kind::vector, kv_copy_kernel(plan));
                           if (st == status::success)
                               st = m_ctx.record_event(m_kv_appended, m_kv_stream);
                           return st;
                       }),
                   "kv_append");
            };
            if (!decode.empty()) append(decode, 1, 0, decode_rows);
            int64_t row = decode_rows;
            for (uint64_t id : prefill) {
                append({id}, m_kv->tokens(id), row, 1);
                row += m_kv->tokens(id);
            }
            ok(run_op("matmul", {t("h", {rows, h}), t("wq", {h, h})}, {}, {m_w.h, w.wq}, m_w.q,
                      "q_proj"),
               "q_proj");
            ok(run_op("rope",
                      {t("q", {rows, heads, hd}), t("cos", {heads, hd}), t("sin", {heads, hd})}, {},
                      {m_w.q, m_w.attn, m_w.attn}, m_w.q, "rope_q"),
               "rope_q");
        });
        // Attention: the decode batch against the paged cache, then each prompt causally.
        group("attention " + attn_shape, [&] {
            // Attention reads the pages kv_append wrote.
            ok(m_ctx.stream_wait_event(m_stream, m_kv_appended), "stream_wait_event");
            if (!decode.empty())
                ok((m_set.layout == cache_layout::paged ? paged_decode_attention
                                                        : decode_attention)(
                       m_ctx, m_stream, *m_kv, decode, l, decode_rows, unsigned(heads), m_w.q,
                       m_mask, m_zeros, m_w.attn, padded, m_p, *m_runner),
                   "decode attention");
            int64_t row = decode_rows;
            for (size_t j = 0; j < prefill.size(); ++j) {
                const int64_t n = m_kv->tokens(prefill[j]);
                const ops::attr_map perm{{"perm", std::vector<int64_t>{1, 0, 2}}};
                ok(run_op("transpose", {t("q", {n, heads, hd})}, perm, {m_w.q + row * h * e},
                          m_w.qt, "q_heads"),
                   "q_heads");
                ok(run_op("transpose", {t("k", {n, kvh, hd})}, perm, {m_w.k + row * kvw * e},
                          m_w.kt, "k_heads"),
                   "k_heads");
                ok(run_op("transpose", {t("v", {n, kvh, hd})}, perm, {m_w.v + row * kvw * e},
                          m_w.vt, "v_heads"),
                   "v_heads");
                ok(prefill_attention(m_ctx, m_stream, unsigned(heads), unsigned(kvh), unsigned(n),
                                     unsigned(hd), m_w.qt, m_w.kt, m_w.vt, m_w.at, m_p, *m_runner),
                   "prefill attention");
                ok(run_op("transpose", {t("a", {heads, n, hd})}, perm, {m_w.at},
                          m_w.attn + row * h * e, "attn_tokens"),
                   "attn_tokens");
                row += n;
            }
        });
        group(fmt::format("mlp {}", rows), [&] {
            ok(run_op("matmul", {t("a", {rows, h}), t("wo", {h, h})}, {}, {m_w.attn, w.wo}, m_w.o,
                      "o_proj"),
               "o_proj");
            ok(run_op("add", {t("x", {rows, h}), t("o", {rows, h})}, {}, {m_w.x, m_w.o}, m_w.res,
                      "residual"),
               "residual");
            ok(run_op("rmsnorm", {t("r", {rows, h}), t("g", {h})}, {}, {m_w.res, w.ffn_norm}, m_w.h,
                      "ffn_norm"),
               "ffn_norm");
            ok(run_op("matmul", {t("h", {rows, h}), t("wg", {h, f})}, {}, {m_w.h, w.w_gate},
                      m_w.gate, "gate_proj"),
               "gate_proj");
            ok(run_op("matmul", {t("h", {rows, h}), t("wu", {h, f})}, {}, {m_w.h, w.w_up}, m_w.up,
                      "up_proj"),
               "up_proj");
            ok(run_op("silu", {t("g", {rows, f})}, {}, {m_w.gate}, m_w.gate, "silu"), "silu");
            ok(run_op("mul", {t("g", {rows, f}), t("u", {rows, f})}, {}, {m_w.gate, m_w.up},
                      m_w.ffn, "swiglu"),
               "swiglu");
            ok(run_op("matmul", {t("f", {rows, f}), t("wd", {f, h})}, {}, {m_w.ffn, w.w_down},
                      m_w.down, "down_proj"),
               "down_proj");
            ok(run_op("add", {t("r", {rows, h}), t("d", {rows, h})}, {}, {m_w.res, m_w.down}, m_w.x,
                      "residual"),
               "residual");
        });
    }
    // The output head on each sequence's last token.
    const int64_t seqs = int64_t(decode_rows + prefill.size());
    group(fmt::format("head {}", seqs), [&] {
        ok(run_op("rmsnorm", {t("x", {seqs, h}), t("g", {h})}, {}, {m_w.x, m_w.final_norm}, m_w.h,
                  "final_norm"),
           "final_norm");
        ok(run_op("matmul", {t("h", {seqs, h}), t("w", {h, int64_t(m_model.vocab)})}, {},
                  {m_w.h, m_w.lm_head}, m_w.logits, "lm_head"),
           "lm_head");
    });
}

serving_result server::run() {
    auto& recs = m_result.requests;
    auto& sum = m_result.summary;
    const size_t n = recs.size();
    std::vector<ps_t> arrival(n);
    for (size_t i = 0; i < n; ++i) arrival[i] = ps_t(std::llround(recs[i].req.arrival * 1e12));
    std::vector<unsigned> generated(n, 0);
    std::deque<uint64_t> waiting;
    std::vector<uint64_t> running;  // admission order
    size_t next = 0, done = 0;
    ps_t now = n ? arrival[0] : 0;
    double usage_time = 0, busy = 0;
    uint64_t peak_blocks = 0;
    auto drop = [](std::vector<uint64_t>& v, uint64_t id) {
        v.erase(std::remove(v.begin(), v.end(), id), v.end());
    };
    while (done < n) {
        while (next < n && arrival[next] <= now) {
            recs[next].load = unsigned(running.size() + waiting.size());
            waiting.push_back(next++);
        }
        if (running.empty() && waiting.empty()) {
            now = arrival[next];
            continue;
        }
        std::vector<uint64_t> decode, prefill;
        unsigned budget = m_set.max_batch_tokens;
        auto preempt = [&](const std::vector<uint64_t>& victims) {
            for (uint64_t v : victims) {
                drop(running, v);
                drop(decode, v);
                ++recs[v].preemptions;
                ++sum.preemptions;
                waiting.push_front(v);
            }
        };
        auto admit = [&] {
            while (!waiting.empty() && running.size() + prefill.size() < m_set.max_seqs) {
                const uint64_t id = waiting.front();
                const unsigned tokens = recs[id].req.prompt + generated[id];
                const kv_stats st = m_kv->stats();
                const uint64_t need = (tokens + m_block - 1) / m_block;
                if (tokens > budget || st.max_blocks - st.blocks_in_use < need) break;
                std::vector<uint64_t> none;
                check(m_kv->grow(id, tokens, none), m_ctx, "growing the cache for a prompt");
                budget -= tokens;
                prefill.push_back(id);
                waiting.pop_front();
            }
        };
        auto grow_decodes = [&] {
            decode = running;
            for (size_t i = 0; i < decode.size(); ++i) {
                std::vector<uint64_t> victims;
                if (m_kv->grow(decode[i], 1, victims) != status::success)
                    throw std::runtime_error("serving: " + m_kv->error());
                const uint64_t me = decode[i];
                preempt(victims);
                i = size_t(std::find(decode.begin(), decode.end(), me) - decode.begin());
            }
            budget -= unsigned(std::min<size_t>(budget, decode.size()));
        };
        if (m_set.mix == mixing::separate) {
            admit();
            if (prefill.empty()) grow_decodes();
        } else {
            grow_decodes();
            admit();
        }
        unsigned decode_rows = unsigned(decode.size());
        if (prefill.empty() && !m_set.batch_sizes.empty())
            decode_rows =
                *std::lower_bound(m_set.batch_sizes.begin(), m_set.batch_sizes.end(), decode_rows);
        m_runner->begin();
        forward(decode, decode_rows, prefill);
        const ps_t took = m_runner->finish();
        check(m_ctx.synchronize(m_kv_stream), m_ctx, "the KV stream");

        const kv_stats st = m_kv->stats();
        peak_blocks = std::max(peak_blocks, st.blocks_in_use);
        usage_time +=
            double(st.blocks_in_use) / double(std::max<uint64_t>(st.max_blocks, 1)) * double(took);
        busy += double(took);
        serving_result::iteration it;
        it.start = double(now) / 1e12;
        now += took;
        it.end = double(now) / 1e12;
        it.prefill_seqs = unsigned(prefill.size());
        it.decode_seqs = unsigned(decode.size());
        sum.padded_tokens += decode_rows - decode.size();
        sum.decode_tokens += decode.size();
        for (uint64_t id : prefill) {
            it.tokens += m_kv->tokens(id);
            sum.prefill_tokens += m_kv->tokens(id);
            running.push_back(id);
            if (recs[id].first_token < 0) recs[id].first_token = double(now) / 1e12;
        }
        it.tokens += unsigned(decode.size());
        m_result.iterations.push_back(it);
        ++sum.iterations;
        std::vector<uint64_t> finished;
        for (uint64_t id : running)
            if (std::find(decode.begin(), decode.end(), id) != decode.end() ||
                std::find(prefill.begin(), prefill.end(), id) != prefill.end())
                if (++generated[id] == recs[id].req.output) finished.push_back(id);
        for (uint64_t id : finished) {
            recs[id].finish = double(now) / 1e12;
            check(m_kv->release(id), m_ctx, "releasing a finished sequence");
            drop(running, id);
            ++done;
        }
        sum.peak_running = std::max(sum.peak_running, unsigned(running.size() + finished.size()));
    }
    // Summary.
    std::vector<double> ttft, tpot, e2e;
    uint64_t out_tokens = 0;
    double first = n ? recs[0].req.arrival : 0, last = 0;
    for (const auto& r : recs) {
        ttft.push_back(r.first_token - r.req.arrival);
        e2e.push_back(r.finish - r.req.arrival);
        if (r.req.output > 1) tpot.push_back((r.finish - r.first_token) / (r.req.output - 1));
        out_tokens += r.req.output;
        last = std::max(last, r.finish);
    }
    sum.ttft = summarize(ttft);
    sum.tpot = summarize(tpot);
    sum.e2e = summarize(e2e);
    sum.duration = last - first;
    sum.tokens_per_s = sum.duration > 0 ? double(out_tokens) / sum.duration : 0;
    sum.requests_per_s = sum.duration > 0 ? double(n) / sum.duration : 0;
    sum.kv_usage_mean = busy > 0 ? usage_time / busy : 0;
    sum.kv_usage_peak = double(peak_blocks) / double(std::max<uint64_t>(sum.kv_blocks, 1));
    sum.kv_peak_bytes = peak_blocks * m_kv->config().block_bytes();
    sum.distinct_ops = m_runner->distinct();
    sum.simulated_ops = m_runner->simulated;
    sum.replayed_ops = m_runner->replayed;
    return m_result;
}

}  // namespace

serving_result serve(const serving_spec& spec, const std::vector<request>& requests,
                     const platform::platform_config& platform, fidelity f) {
    check_fits(spec, platform);
    platform::platform_config cfg = platform;
    cfg.set_timing_only();
    serving_result result;
    std::exception_ptr failure;  // rethrown as it was, once the simulation has ended
    platform::simulation sim(cfg);
    const bool ok = sim.run([&](platform::chip& chip, std::vector<platform::op_record>& ops) {
        runtime::context ctx(chip, &ops);
        try {
            server s(ctx, spec, requests, cfg, f);
            result = s.run();
        } catch (...) {
            failure = std::current_exception();
        }
    });
    if (failure) std::rethrow_exception(failure);
    if (!ok) throw std::runtime_error("serving: the simulation failed: " + sim.error());
    return result;
}

void write_requests_csv(std::ostream& out, const serving_result& r) {
    out << "id,arrival_s,first_token_s,finish_s,prompt_tokens,output_tokens,preemptions,load\n";
    for (const auto& q : r.requests)
        out << fmt::format("{},{:.9f},{:.9f},{:.9f},{},{},{},{}\n", q.req.id, q.req.arrival,
                           q.first_token, q.finish, q.req.prompt, q.req.output, q.preemptions,
                           q.load);
}

namespace {

std::string json_latency(const latency& l) {
    return fmt::format(
        "{{\"mean\": {:.9g}, \"p50\": {:.9g}, \"p90\": {:.9g}, \"p99\": {:.9g}, "
        "\"count\": {}}}",
        l.mean, l.p50, l.p90, l.p99, l.count);
}

std::string json_text(const std::string& s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            o += std::string("\\") + c;
        else if (static_cast<unsigned char>(c) < 0x20)
            o += fmt::format("\\u{:04x}", int(c));
        else
            o += c;
    }
    return o + "\"";
}

}  // namespace

void write_summary_json(std::ostream& out, const serving_spec& spec, const serving_result& r,
                        fidelity f) {
    const serving_summary& s = r.summary;
    out << "{\n";
    out << "  \"schema\": \"npusim.serving-summary/1\",\n";
    out << "  \"name\": " << json_text(spec.name) << ",\n";
    out << "  \"model\": " << json_text(spec.model.name) << ",\n";
    out << "  \"fidelity\": \"" << (f == fidelity::op ? "op" : "instr") << "\",\n";
    out << "  \"requests\": " << r.requests.size() << ",\n";
    out << "  \"ttft_s\": " << json_latency(s.ttft) << ",\n";
    out << "  \"tpot_s\": " << json_latency(s.tpot) << ",\n";
    out << "  \"e2e_s\": " << json_latency(s.e2e) << ",\n";
    out << fmt::format("  \"duration_s\": {:.9g},\n", s.duration);
    out << fmt::format("  \"tokens_per_s\": {:.9g},\n", s.tokens_per_s);
    out << fmt::format("  \"requests_per_s\": {:.9g},\n", s.requests_per_s);
    out << fmt::format("  \"iterations\": {},\n", s.iterations);
    out << fmt::format("  \"prefill_tokens\": {},\n", s.prefill_tokens);
    out << fmt::format("  \"decode_tokens\": {},\n", s.decode_tokens);
    out << fmt::format("  \"padded_tokens\": {},\n", s.padded_tokens);
    out << fmt::format("  \"peak_running\": {},\n", s.peak_running);
    out << fmt::format("  \"preemptions\": {},\n", s.preemptions);
    out << fmt::format("  \"kv_blocks\": {},\n", s.kv_blocks);
    out << fmt::format("  \"kv_bytes\": {},\n", s.kv_bytes);
    out << fmt::format("  \"kv_peak_bytes\": {},\n", s.kv_peak_bytes);
    out << fmt::format("  \"kv_usage_mean\": {:.6f},\n", s.kv_usage_mean);
    out << fmt::format("  \"kv_usage_peak\": {:.6f},\n", s.kv_usage_peak);
    out << fmt::format("  \"distinct_ops\": {},\n", s.distinct_ops);
    out << fmt::format("  \"simulated_ops\": {},\n", s.simulated_ops);
    out << fmt::format("  \"replayed_ops\": {}\n", s.replayed_ops);
    out << "}\n";
}

void write_latency_svg(std::ostream& out, const serving_result& r) {
    const double w = 720, h = 420, left = 70, right = 20, top = 30, bottom = 50;
    unsigned max_load = 1;
    double lo = 1e300, hi = 0;
    for (const auto& q : r.requests) {
        max_load = std::max(max_load, q.load);
        for (double v : {q.first_token - q.req.arrival, q.finish - q.req.arrival})
            if (v > 0) {
                lo = std::min(lo, v * 1e3);
                hi = std::max(hi, v * 1e3);
            }
    }
    if (hi <= 0) lo = 1, hi = 10;
    // Log scale over whole decades of milliseconds.
    const double d0 = std::floor(std::log10(lo)), d1 = std::max(d0 + 1, std::ceil(std::log10(hi)));
    auto x = [&](double load) { return left + load / max_load * (w - left - right); };
    auto y = [&](double ms) {
        return h - bottom -
               (std::log10(std::max(ms, 1e-300)) - d0) / (d1 - d0) * (h - top - bottom);
    };
    out << fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n",
        w, h);
    out << fmt::format(
        "<text x=\"{}\" y=\"18\">latency against load: TTFT (blue), end to end "
        "(red)</text>\n",
        left);
    out << fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>\n",
                       left, h - bottom, w - right);
    out << fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/>\n",
                       left, top, h - bottom);
    for (double d = d0; d <= d1; ++d)
        out << fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:g} ms</text>\n",
                           left - 6, y(std::pow(10, d)) + 4, std::pow(10, d));
    for (int i = 0; i <= 4; ++i)
        out << fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:.0f}</text>\n",
                           x(max_load * i / 4.0), h - bottom + 18, max_load * i / 4.0);
    out << fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">requests in the system "
        "at arrival</text>\n",
        (left + w - right) / 2, h - 10);
    for (const auto& q : r.requests)
        for (const auto& [v, colour] : {std::make_pair(q.first_token - q.req.arrival, "#1f77b4"),
                                        std::make_pair(q.finish - q.req.arrival, "#d62728")})
            if (v > 0)
                out << fmt::format(
                    "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2\" fill=\"{}\" "
                    "fill-opacity=\"0.6\"/>\n",
                    x(q.load), y(v * 1e3), colour);
    out << "</svg>\n";
}

void write_serving_timeline(std::ostream& out, const serving_result& r) {
    out << "{\"traceEvents\": [\n";
    bool first = true;
    auto sep = [&] {
        if (!first) out << ",\n";
        first = false;
    };
    for (const auto& it : r.iterations) {
        sep();
        out << fmt::format(
            "{{\"name\": \"{}\", \"ph\": \"X\", \"pid\": 1, \"tid\": 0, "
            "\"ts\": {:.3f}, \"dur\": {:.3f}, \"args\": {{\"prefill_seqs\": {}, "
            "\"decode_seqs\": {}, \"tokens\": {}}}}}",
            it.prefill_seqs ? (it.decode_seqs ? "mixed" : "prefill") : "decode", it.start * 1e6,
            (it.end - it.start) * 1e6, it.prefill_seqs, it.decode_seqs, it.tokens);
    }
    for (const auto& q : r.requests) {
        sep();
        out << fmt::format(
            "{{\"name\": \"request {}\", \"ph\": \"X\", \"pid\": 2, \"tid\": {}, "
            "\"ts\": {:.3f}, \"dur\": {:.3f}}}",
            q.req.id, q.req.id, q.req.arrival * 1e6, (q.finish - q.req.arrival) * 1e6);
    }
    out << "\n]}\n";
}

}  // namespace npusim::serving
