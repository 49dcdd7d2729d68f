// Caching allocator speed and effect: replays a transformer training trace (synthesised from
// layer shapes) and a seeded random trace through the caching allocator and prints, for each,
// allocator calls per wall second (alloc+free pairs), the cache hit rate, reserved vs allocated
// bytes at peak, and the simulated host time of the allocator calls with and without caching at
// the ascend910 preset's host API costs. Prints figures; never fails on time, only on an
// allocator call that does not succeed. Pure C++ (no simulation runs), but the library links
// SystemC, so it still enters through sc_main. An optional argument sets the number of pairs in
// the random trace (default 1,000,000).
#include <systemc>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "platform/config/config_loader.h"
#include "sw/memory/caching_allocator.h"
#include "sw/memory/device_allocator.h"

using namespace npusim;

namespace {

constexpr uint64_t capacity = 64ull << 30;  // large enough that no trace runs out of memory
constexpr int wall_runs = 5;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_allocator: %s\n", what.c_str());
    std::fflush(stderr);
    std::_Exit(1);  // not exit(): no SystemC static destructors mid-elaboration
}

/// Every stream has passed every mark: blocks are reusable at once, as on a single stream whose
/// work the host has waited for.
class idle_clock : public memory::stream_clock {
  public:
    uint64_t position(stream_id) const override { return 0; }
    bool passed(stream_id, uint64_t) const override { return true; }
};

/// One allocator call: allocate `bytes` into `slot`, or free what `slot` holds (bytes == 0).
struct op {
    uint32_t slot;
    uint64_t bytes;
};

/// A pre-generated trace, so the timed loop does nothing but allocator calls.
struct trace {
    std::string name;
    std::vector<op> ops;
    uint32_t slots = 0;  ///< addresses live at once at most (slot ids are reused)
    uint64_t pairs = 0;  ///< allocations (each is freed by the end of the trace)
    uint64_t peak_live_bytes = 0;
};

/// Builds a trace from allocations and frees; recycles slot ids so the replay's address table
/// stays small.
class trace_builder {
  public:
    uint32_t alloc(uint64_t bytes) {
        uint32_t s = m_next;
        if (m_spare.empty()) {
            ++m_next;
        } else {
            s = m_spare.back();
            m_spare.pop_back();
        }
        if (s >= m_size.size()) m_size.resize(s + 1);
        m_size[s] = bytes;
        m_live += bytes;
        m_out.peak_live_bytes = std::max(m_out.peak_live_bytes, m_live);
        m_out.ops.push_back({s, bytes});
        ++m_out.pairs;
        return s;
    }
    void free(uint32_t s) {
        m_out.ops.push_back({s, 0});
        m_live -= m_size[s];
        m_spare.push_back(s);
    }
    uint64_t size_of(uint32_t s) const { return m_size[s]; }
    trace done(std::string name) {
        if (m_live != 0) die("trace '" + name + "' leaves blocks allocated");
        m_out.name = std::move(name);
        m_out.slots = m_next;
        return std::move(m_out);
    }

  private:
    trace m_out;
    uint32_t m_next = 0;
    std::vector<uint32_t> m_spare;
    std::vector<uint64_t> m_size;
    uint64_t m_live = 0;
};

/// A decoder-only transformer, trained with activation checkpointing: the forward pass keeps
/// only each layer's input, and the backward pass recomputes a layer before its gradients.
struct model_shape {
    uint64_t batch = 8, seq = 2048, hidden = 4096, heads = 32, layers = 24, steps = 100;
    uint64_t elem = 2;  // fp16
};

/// The activations a layer's backward pass needs, from its recomputed forward pass.
struct saved {
    uint32_t mean1, rstd1, ln1, q, k, v, probs, ctx, h, mean2, rstd2, ln2, up, gelu;
};

class transformer_builder {
  public:
    explicit transformer_builder(const model_shape& m)
        : m(m),
          act(m.batch * m.seq * m.hidden * m.elem),
          wide(4 * act),
          attn(m.batch * m.heads * m.seq * m.seq * m.elem),
          row_stat(m.batch * m.seq * 4),
          ln_ws(64 * m.hidden * 4) {}

    trace build() {
        const uint64_t H = m.hidden, e = m.elem;
        // Per layer: Wq, Wk, Wv, Wo [H, H]; W1 [H, 4H] and W2 [4H, H]; both layer norms'
        // gamma and beta [H]; the MLP biases [4H] and [H]. Allocated once, before the steps.
        const std::vector<uint64_t> layer_params = {
            H * H * e, H * H * e, H * H * e, H * H * e, 4 * H * H * e, 4 * H * H * e,
            H * e,     H * e,     H * e,     H * e,     4 * H * e,     H * e};
        std::vector<uint32_t> weights;
        for (uint64_t l = 0; l < m.layers; ++l)
            for (uint64_t bytes : layer_params) weights.push_back(t.alloc(bytes));
        for (uint64_t step = 0; step < m.steps; ++step) {
            std::vector<uint32_t> inputs{t.alloc(act)};  // the embedding's output
            for (uint64_t l = 0; l < m.layers; ++l) inputs.push_back(forward(inputs.back()));
            uint32_t dy = t.alloc(act);  // the loss gradient
            t.free(inputs.back());
            for (uint64_t l = m.layers; l-- > 0;) dy = backward(inputs[l], dy);
            t.free(dy);
            // Optimizer: one temporary the size of each parameter (an unfused update), then
            // zero_grad(set_to_none=True) frees the gradients, as PyTorch 2 does by default.
            for (uint32_t g : grads) t.free(t.alloc(t.size_of(g)));
            for (uint32_t g : grads) t.free(g);
            grads.clear();
        }
        for (uint32_t w : weights) t.free(w);
        return t.done("transformer (B " + std::to_string(m.batch) + ", S " + std::to_string(m.seq) +
                      ", H " + std::to_string(m.hidden) + ", " + std::to_string(m.heads) +
                      " heads, fp16, " + std::to_string(m.layers) + " layers, " +
                      std::to_string(m.steps) + " checkpointed training steps)");
    }

  private:
    /// Forward through one layer without keeping anything: each tensor is freed after its last
    /// use; `x` (the checkpoint) stays. Returns the layer's output.
    uint32_t forward(uint32_t x) {
        saved s = recompute(x, false);
        const uint32_t down = t.alloc(act);
        t.free(s.gelu);
        const uint32_t y = t.alloc(act);
        t.free(down);
        t.free(s.h);
        return y;
    }

    /// The layer's forward pass up to the MLP activation. With `keep`, everything backward
    /// needs stays allocated; otherwise tensors are freed after their last forward use.
    saved recompute(uint32_t x, bool keep) {
        (void)x;  // read by every op below; stays allocated as the checkpoint
        auto drop = [&](uint32_t slot) {
            if (!keep) t.free(slot);
        };
        saved s{};
        s.mean1 = t.alloc(row_stat);
        s.rstd1 = t.alloc(row_stat);
        s.ln1 = t.alloc(act);
        drop(s.mean1);
        drop(s.rstd1);
        s.q = t.alloc(act);
        s.k = t.alloc(act);
        s.v = t.alloc(act);
        drop(s.ln1);
        const uint32_t scores = t.alloc(attn);  // [B, heads, S, S]
        drop(s.q);
        drop(s.k);
        s.probs = t.alloc(attn);
        t.free(scores);  // softmax's backward needs only its output
        s.ctx = t.alloc(act);
        drop(s.probs);
        drop(s.v);
        const uint32_t proj = t.alloc(act);
        drop(s.ctx);
        s.h = t.alloc(act);  // x + attention: the residual stream, needed until the layer's end
        t.free(proj);
        s.mean2 = t.alloc(row_stat);
        s.rstd2 = t.alloc(row_stat);
        s.ln2 = t.alloc(act);
        drop(s.mean2);
        drop(s.rstd2);
        s.up = t.alloc(wide);  // [B, S, 4H]
        drop(s.ln2);
        s.gelu = t.alloc(wide);
        drop(s.up);
        return s;
    }

    /// Recomputes the layer from its input `x`, then its gradients from `dy`; frees `x`, `dy`
    /// and the recomputed activations after their last use. Returns the input's gradient.
    uint32_t backward(uint32_t x, uint32_t dy) {
        const uint64_t H = m.hidden, e = m.elem;
        const saved s = recompute(x, true);
        auto grad = [&](uint64_t bytes) { grads.push_back(t.alloc(bytes)); };
        // MLP
        const uint32_t dgelu = t.alloc(wide);
        grad(4 * H * H * e);  // dW2
        grad(H * e);          // db2
        t.free(s.gelu);
        const uint32_t dup = t.alloc(wide);
        t.free(dgelu);
        t.free(s.up);
        const uint32_t dln2 = t.alloc(act);
        grad(4 * H * H * e);  // dW1
        grad(4 * H * e);      // db1
        t.free(dup);
        t.free(s.ln2);
        uint32_t ws = t.alloc(ln_ws);  // layer norm backward's partial sums
        const uint32_t dh = t.alloc(act);
        grad(H * e);  // gamma2
        grad(H * e);  // beta2
        t.free(ws);
        t.free(dln2);
        t.free(s.mean2);
        t.free(s.rstd2);
        t.free(s.h);
        t.free(dy);
        // Attention
        const uint32_t dctx = t.alloc(act);
        grad(H * H * e);  // dWo
        t.free(s.ctx);
        const uint32_t dprobs = t.alloc(attn);
        const uint32_t dv = t.alloc(act);
        t.free(dctx);
        t.free(s.v);
        const uint32_t dscores = t.alloc(attn);
        t.free(dprobs);
        t.free(s.probs);
        const uint32_t dq = t.alloc(act);
        const uint32_t dk = t.alloc(act);
        t.free(dscores);
        t.free(s.q);
        t.free(s.k);
        const uint32_t dln1 = t.alloc(act);
        grad(H * H * e);  // dWq
        grad(H * H * e);  // dWk
        grad(H * H * e);  // dWv
        t.free(dq);
        t.free(dk);
        t.free(dv);
        t.free(s.ln1);
        ws = t.alloc(ln_ws);
        const uint32_t dx = t.alloc(act);
        grad(H * e);  // gamma1
        grad(H * e);  // beta1
        t.free(ws);
        t.free(dln1);
        t.free(dh);
        t.free(s.mean1);
        t.free(s.rstd1);
        t.free(x);
        return dx;
    }

    const model_shape m;
    const uint64_t act, wide, attn, row_stat, ln_ws;  // bytes of [B,S,H], [B,S,4H], [B,h,S,S]...
    trace_builder t;
    std::vector<uint32_t> grads;
};

/// `pairs` allocations with sizes log-uniform in [512 B, 64 MiB], mixed at random with frees of
/// random live blocks; at most `max_live` blocks live at once. Everything is freed at the end.
trace random_trace(uint64_t pairs, size_t max_live, uint64_t seed) {
    trace_builder t;
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> log_size(std::log(512.0), std::log(64.0 * (1 << 20)));
    std::bernoulli_distribution coin(0.5);
    std::vector<uint32_t> live;
    auto free_random = [&] {
        const size_t i = std::uniform_int_distribution<size_t>(0, live.size() - 1)(rng);
        std::swap(live[i], live.back());
        t.free(live.back());
        live.pop_back();
    };
    for (uint64_t n = 0; n < pairs;) {
        if (live.empty() || (live.size() < max_live && coin(rng))) {
            live.push_back(t.alloc(uint64_t(std::exp(log_size(rng)))));
            ++n;
        } else {
            free_random();
        }
    }
    while (!live.empty()) free_random();
    return t.done("random (" + std::to_string(pairs) + " allocations, 512 B..64 MiB log-uniform, " +
                  "<= " + std::to_string(max_live) + " live, seed " + std::to_string(seed) + ")");
}

/// Driver and cache traffic of one replay, for the simulated cost.
struct charges {
    uint64_t driver_allocs = 0, driver_frees = 0, cached_calls = 0;
    double ps(const platform::host_api_params& c) const {
        return double(driver_allocs) * double(c.malloc_ps) +
               double(driver_frees) * double(c.free_ps) +
               double(cached_calls) * double(c.cached_malloc_ps);
    }
};

/// Replays `tr` on stream 0. With `charge`, each call is charged as the runtime charges it: a
/// call that reached no driver is served by the cache, otherwise its driver calls count.
template <bool charge>
void replay(const trace& tr, memory::caching_allocator& a, std::vector<uint64_t>& addr,
            charges* c) {
    for (const op& o : tr.ops) {
        uint64_t allocs0 = 0, frees0 = 0;
        if constexpr (charge) allocs0 = a.device_allocs(), frees0 = a.device_frees();
        if (o.bytes) {
            if (!a.allocate(o.bytes, 0, addr[o.slot])) die(tr.name + ": " + a.error());
        } else if (!a.free(addr[o.slot])) {
            die(tr.name + ": " + a.error());
        }
        if constexpr (charge) {
            const uint64_t allocs = a.device_allocs() - allocs0;
            const uint64_t frees = a.device_frees() - frees0;
            if (allocs + frees == 0) ++c->cached_calls;
            c->driver_allocs += allocs;
            c->driver_frees += frees;
        }
    }
}

memory::allocator_config settings(const platform::platform_config& cfg, bool caching) {
    memory::allocator_config a;
    a.alignment = cfg.memory.alignment;
    a.max_split_size = cfg.memory.max_split_size ? cfg.memory.max_split_size : ~uint64_t(0);
    a.gc_threshold = cfg.memory.gc_threshold;
    a.caching = caching;
    return a;
}

double gib(int64_t bytes) {
    return double(bytes) / double(1ull << 30);
}

void run_trace(const trace& tr, const platform::platform_config& cfg) {
    std::printf("%s: %zu calls, %llu alloc+free pairs, %.2f GiB live at peak\n", tr.name.c_str(),
                tr.ops.size(), static_cast<unsigned long long>(tr.pairs),
                gib(int64_t(tr.peak_live_bytes)));
    std::fflush(stdout);
    idle_clock clock;
    std::vector<uint64_t> addr(tr.slots);

    // Wall clock: a fresh allocator each run (its first segments come from the driver, as in a
    // real process); only the replay is timed. The machine is shared: best and median of several.
    std::vector<double> rates;
    for (int r = 0; r < wall_runs; ++r) {
        memory::device_allocator driver(capacity, cfg.memory.alignment);
        memory::caching_allocator a(driver, clock, settings(cfg, true));
        const auto w0 = std::chrono::steady_clock::now();
        replay<false>(tr, a, addr, nullptr);
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
        rates.push_back(double(tr.pairs) / wall);
    }
    std::sort(rates.begin(), rates.end());
    std::printf("  wall: %d runs, best %.0f pairs/s, median %.0f pairs/s (target >= 5,000,000/s)\n",
                wall_runs, rates.back(), rates[rates.size() / 2]);

    // Simulated cost, hit rate and fragmentation: one charged replay with caching, one without.
    charges with, without;
    memory::device_allocator driver(capacity, cfg.memory.alignment);
    memory::caching_allocator a(driver, clock, settings(cfg, true));
    replay<true>(tr, a, addr, &with);
    {
        memory::device_allocator plain_driver(capacity, cfg.memory.alignment);
        memory::caching_allocator plain(plain_driver, clock, settings(cfg, false));
        replay<true>(tr, plain, addr, &without);
    }
    const auto st = a.stats();
    const int64_t reserved = st.at("reserved_bytes.all.peak");
    const int64_t allocated = st.at("allocated_bytes.all.peak");
    if (st.at("allocated_bytes.all.current") != 0) die(tr.name + ": blocks left allocated");
    std::printf("  cache hits: %llu of %llu allocations (%.2f%%)\n",
                static_cast<unsigned long long>(a.cache_hits()),
                static_cast<unsigned long long>(tr.pairs),
                100.0 * double(a.cache_hits()) / tr.pairs);
    std::printf("  peak: reserved %.3f GiB, allocated %.3f GiB, reserved/allocated %.3f\n",
                gib(reserved), gib(allocated), double(reserved) / double(allocated));
    const double with_ms = with.ps(cfg.host_api) / 1e9, without_ms = without.ps(cfg.host_api) / 1e9;
    auto line = [](const char* what, double ms, const charges& c) {
        std::printf(
            "  simulated allocator time %-10s %10.3f ms (%llu driver allocs, %llu driver frees, "
            "%llu calls served by the cache)\n",
            what, ms, static_cast<unsigned long long>(c.driver_allocs),
            static_cast<unsigned long long>(c.driver_frees),
            static_cast<unsigned long long>(c.cached_calls));
    };
    line("caching", with_ms, with);
    line("no caching", without_ms, without);
    std::printf("  no caching / caching: x%.1f\n", without_ms / with_ms);
    std::fflush(stdout);
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    const uint64_t random_pairs = argc >= 2 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    const auto cfg = platform::load_platform("ascend910");
    std::printf(
        "bench_allocator: caching allocator on ascend910 host API costs (malloc %.2f us, free "
        "%.2f us, cached %.2f us)\n",
        cfg.host_api.malloc_ps / 1e6, cfg.host_api.free_ps / 1e6,
        cfg.host_api.cached_malloc_ps / 1e6);
    std::fflush(stdout);
    run_trace(transformer_builder(model_shape{}).build(), cfg);
    run_trace(random_trace(random_pairs, 1024, 42), cfg);
    return 0;
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
