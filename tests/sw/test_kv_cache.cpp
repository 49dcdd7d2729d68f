// The paged KV cache: blocks follow sequence growth, the layout inside a block, preemption by
// recompute and by swap when the cache is full, and bad configurations.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <tuple>

#include "sw/serving/kv_cache.h"
#include "sw/serving/kv_ops.h"
#include "tests/sw/runtime_fixture.h"

using namespace npusim;
using namespace npusim::serving;
using models::ps_t;
using runtime::context;
using runtime::status;
using test::contains;

namespace {

kv_cache_config small(uint64_t max_blocks, preemption mode = preemption::recompute) {
    kv_cache_config c;
    c.layers = 2;
    c.kv_heads = 2;
    c.head_dim = 16;
    c.dtype_bytes = 2;
    c.block_tokens = 4;
    c.max_blocks = max_blocks;
    c.mode = mode;
    return c;
}

/// Fills every block of a sequence with bytes derived from `seed` (pinned, so asynchronous).
std::vector<uint8_t> fill(context& ctx, runtime::stream* s, const paged_kv_cache& kv, uint64_t id,
                          uint8_t seed, std::vector<void*>& keep) {
    const uint64_t bytes = kv.config().block_bytes();
    std::vector<uint8_t> all;
    for (uint64_t b : kv.block_table(id)) {
        void* h = nullptr;
        BOOST_REQUIRE(ctx.malloc_host(h, int64_t(bytes)) == status::success);
        auto* p = static_cast<uint8_t*>(h);
        for (uint64_t i = 0; i < bytes; ++i) p[i] = uint8_t(seed + i * 7 + b);
        all.insert(all.end(), p, p + bytes);
        BOOST_REQUIRE(ctx.memcpy_to_device(s, b, h, bytes) == status::success);
        keep.push_back(h);
    }
    return all;
}

std::vector<uint8_t> read(context& ctx, runtime::stream* s, const paged_kv_cache& kv, uint64_t id) {
    const uint64_t bytes = kv.config().block_bytes();
    std::vector<uint8_t> all(bytes * kv.block_table(id).size());
    for (size_t i = 0; i < kv.block_table(id).size(); ++i)
        BOOST_REQUIRE(ctx.memcpy_to_host(s, all.data() + i * bytes, kv.block_table(id)[i], bytes) ==
                      status::success);
    BOOST_REQUIRE(ctx.synchronize(s) == status::success);
    return all;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(kv_cache)

// Blocks are added as a sequence crosses block boundaries; a token's row is where the layout
// [layer][K, V][kv head][token][head_dim] puts it, as written through slot() and read back.
BOOST_AUTO_TEST_CASE(blocks_follow_growth_and_layout_matches) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        runtime::stream* s = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"kv"}) == status::success);
        const int64_t before = ctx.memory_stats().at("allocated_bytes.all.current");
        {
            paged_kv_cache kv(ctx, s, small(8));
            std::vector<uint64_t> pre;
            BOOST_CHECK(kv.grow(1, 5, pre) == status::success);
            BOOST_CHECK_EQUAL(kv.block_table(1).size(), 2u);
            BOOST_CHECK(kv.grow(1, 3, pre) == status::success);
            BOOST_CHECK_EQUAL(kv.block_table(1).size(), 2u);  // 8 tokens: still 2 blocks
            BOOST_CHECK(kv.grow(1, 1, pre) == status::success);
            BOOST_CHECK_EQUAL(kv.block_table(1).size(), 3u);
            BOOST_CHECK(pre.empty());
            const kv_stats st = kv.stats();
            BOOST_CHECK_EQUAL(st.tokens, 9u);
            BOOST_CHECK_EQUAL(st.slots, 12u);
            BOOST_CHECK_CLOSE(st.utilisation(), 0.75, 1e-9);
            BOOST_CHECK_EQUAL(ctx.memory_stats().at("allocated_bytes.all.current") - before,
                              int64_t(3 * kv.config().block_bytes()));
            // Write each token's V row of layer 1, head 1 through slot(); check the bytes land
            // where a plain CPU computation of the layout says.
            const uint64_t row = 16 * 2;
            std::vector<std::vector<uint8_t>> rows(9, std::vector<uint8_t>(row));
            for (unsigned t = 0; t < 9; ++t) {
                std::iota(rows[t].begin(), rows[t].end(), uint8_t(t * 40));
                BOOST_REQUIRE(ctx.memcpy_to_device(s, kv.slot(1, t, 1, true, 1), rows[t].data(),
                                                   row) == status::success);
            }
            const auto all = read(ctx, s, kv, 1);
            const uint64_t bytes = kv.config().block_bytes();
            for (unsigned t = 0; t < 9; ++t) {
                const uint64_t in_block = (((1 * 2 + 1) * 2 + 1) * 4 + t % 4) * row;
                BOOST_CHECK(
                    std::memcmp(all.data() + (t / 4) * bytes + in_block, rows[t].data(), row) == 0);
            }
            BOOST_CHECK_THROW(kv.slot(1, 9, 0, false, 0), std::out_of_range);
            BOOST_CHECK(kv.release(1) == status::success);
            BOOST_CHECK_EQUAL(kv.stats().blocks_in_use, 0u);
            BOOST_CHECK_EQUAL(kv.stats().peak_blocks, 3u);
        }
        BOOST_CHECK_EQUAL(ctx.memory_stats().at("allocated_bytes.all.current"), before);
    });
}

// A serving loop on a cache too small for every sequence at once: each step every running
// sequence grows by a token; a full cache preempts the latest admitted (recompute), which is
// queued again with its prompt and the tokens it had made. Every request still completes.
BOOST_AUTO_TEST_CASE(full_cache_preempts_by_recompute_and_every_request_completes) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        runtime::stream* s = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"kv"}) == status::success);
        paged_kv_cache kv(ctx, s, small(10));
        struct req {
            unsigned prompt, output, made = 0;
            bool done = false;
        };
        std::mt19937 rng(7);
        std::vector<req> reqs;
        for (int i = 0; i < 6; ++i)
            reqs.push_back({1 + unsigned(rng() % 9), 3 + unsigned(rng() % 9)});
        std::vector<uint64_t> waiting{0, 1, 2, 3, 4, 5}, running;
        unsigned steps = 0;
        while ((!waiting.empty() || !running.empty()) && steps < 1000) {
            ++steps;
            std::vector<uint64_t> pre;
            // Admit waiting requests (prefill: prompt plus what was made before preemption)
            // while a block is free.
            while (!waiting.empty() && kv.stats().blocks_in_use < kv.config().max_blocks) {
                const uint64_t id = waiting.front();
                waiting.erase(waiting.begin());
                BOOST_REQUIRE(kv.grow(id, reqs[id].prompt + reqs[id].made, pre) == status::success);
                running.push_back(id);
            }
            for (size_t i = 0; i < running.size(); ++i) {
                const uint64_t id = running[i];
                if (kv.state(id) != seq_state::running) continue;
                BOOST_REQUIRE_MESSAGE(kv.grow(id, 1, pre) == status::success, kv.error());
                if (++reqs[id].made == reqs[id].output) {
                    reqs[id].done = true;
                    BOOST_CHECK(kv.release(id) == status::success);
                }
            }
            std::vector<uint64_t> still;
            for (uint64_t id : running)
                if (!reqs[id].done && kv.state(id) == seq_state::running) still.push_back(id);
            for (uint64_t id : pre)
                if (!reqs[id].done) waiting.push_back(id);
            running = still;
            BOOST_CHECK_LE(kv.stats().blocks_in_use, 10u);
        }
        for (const auto& r : reqs) BOOST_CHECK(r.done);
        const kv_stats st = kv.stats();
        BOOST_CHECK_GT(st.preemptions, 0u);
        BOOST_CHECK_GT(st.recomputed_tokens, 0u);
        BOOST_CHECK_EQUAL(st.peak_blocks, 10u);
        BOOST_CHECK_EQUAL(st.blocks_in_use, 0u);
    });
}

// Swap: the victim's blocks go to pinned host memory and come back, possibly at other
// addresses, with the same contents.
BOOST_AUTO_TEST_CASE(swap_preserves_contents) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        runtime::stream* s = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"kv"}) == status::success);
        std::vector<void*> keep;
        {
            paged_kv_cache kv(ctx, s, small(3, preemption::swap));
            std::vector<uint64_t> pre;
            BOOST_CHECK(kv.grow(1, 8, pre) == status::success);  // 2 blocks, admitted first
            const auto a = fill(ctx, s, kv, 1, 11, keep);
            BOOST_CHECK(kv.grow(2, 4, pre) == status::success);  // the third block
            const auto b = fill(ctx, s, kv, 2, 99, keep);
            BOOST_CHECK(kv.grow(1, 4, pre) == status::success);  // a third block: 2 is swapped
            BOOST_REQUIRE_EQUAL(pre.size(), 1u);
            BOOST_CHECK_EQUAL(pre[0], 2u);
            BOOST_CHECK(kv.state(2) == seq_state::swapped);
            std::vector<uint64_t> more;
            BOOST_CHECK(kv.grow(2, 1, more) == status::invalid_argument);
            BOOST_CHECK_EQUAL(kv.error(),
                              "kv cache: sequence 2 is swapped out; call swap_in first");
            const auto a_now = read(ctx, s, kv, 1);  // the first two blocks kept their bytes
            BOOST_CHECK(std::equal(a.begin(), a.end(), a_now.begin()));
            BOOST_CHECK(kv.release(1) == status::success);
            BOOST_CHECK(kv.swap_in(2, more) == status::success);
            BOOST_CHECK(more.empty());
            BOOST_CHECK(kv.state(2) == seq_state::running);
            BOOST_CHECK(read(ctx, s, kv, 2) == b);
            const kv_stats st = kv.stats();
            BOOST_CHECK_EQUAL(st.swapped_out, 1u);
            BOOST_CHECK_EQUAL(st.swapped_in, 1u);
            BOOST_CHECK_EQUAL(st.preemptions, 1u);
        }
        for (void* h : keep) BOOST_CHECK(ctx.free_host(h) == status::success);
    });
}

// What cannot work is refused before anything changes, with the numbers and the fix.
BOOST_AUTO_TEST_CASE(bad_sizes_are_clear_errors) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        kv_cache_config zero = small(4);
        zero.block_tokens = 0;
        try {
            paged_kv_cache bad(ctx, nullptr, zero);
            BOOST_ERROR("accepted block_tokens 0");
        } catch (const std::invalid_argument& e) {
            BOOST_CHECK_EQUAL(std::string(e.what()),
                              "kv cache: block_tokens is 0; give it a positive value");
        }
        paged_kv_cache kv(ctx, nullptr, small(4));
        std::vector<uint64_t> pre;
        BOOST_CHECK(kv.grow(1, 4, pre) == status::success);
        BOOST_CHECK(kv.grow(2, 17, pre) == status::device_oom);
        BOOST_CHECK_EQUAL(kv.error(),
                          "kv cache: sequence 2 needs 5 blocks of 4 tokens for 17 tokens, but the "
                          "cache holds 4; raise max_blocks or cap the sequence length");
        BOOST_CHECK(pre.empty());  // nothing was preempted for a request that cannot fit
        BOOST_CHECK_EQUAL(kv.tokens(1), 4u);
        BOOST_CHECK(kv.release(9) == status::invalid_argument);
    });
}

// kv_append writes each new token's K and V rows into its page: the whole cache afterwards
// equals a CPU model of the layout (zeros except the appended rows), for a token that fills a
// block's last slot, one that opens a new block, and a two-token prefill; on 1 and 2 cores.
BOOST_AUTO_TEST_CASE(kv_append_writes_rows_where_the_cpu_model_puts_them) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        runtime::stream* s = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"kv"}) == status::success);
        for (unsigned cores : {1u, 2u}) {
            paged_kv_cache kv(ctx, s, small(16));
            const kv_cache_config& c = kv.config();
            const uint64_t row = c.head_dim * c.dtype_bytes, bytes = c.block_bytes();
            std::vector<uint64_t> pre;
            BOOST_REQUIRE(kv.grow(1, 3, pre) == status::success);
            BOOST_REQUIRE(kv.grow(2, 4, pre) == status::success);
            for (uint64_t id : {1, 2})
                for (uint64_t b : kv.block_table(id))
                    BOOST_REQUIRE(ctx.memset(s, b, 0, bytes) == status::success);
            BOOST_REQUIRE(kv.grow(1, 1, pre) == status::success);  // token 3: block 0's last slot
            BOOST_REQUIRE(kv.grow(2, 1, pre) == status::success);  // token 4: a new block
            BOOST_REQUIRE(kv.grow(3, 2, pre) == status::success);  // a 2-token prefill
            for (uint64_t id : {2, 3})
                BOOST_REQUIRE(ctx.memset(s, kv.block_table(id).back(), 0, bytes) ==
                              status::success);
            std::mt19937 rng(cores);
            auto staged = [&](size_t n) {
                std::vector<uint8_t> h(n);
                for (auto& x : h) x = uint8_t(rng());
                uint64_t d = 0;
                BOOST_REQUIRE(ctx.malloc(d, int64_t(n), s) == status::success);
                BOOST_REQUIRE(ctx.memcpy_to_device(s, d, h.data(), n) == status::success);
                BOOST_REQUIRE(ctx.synchronize(s) == status::success);
                return std::make_pair(d, h);
            };
            const unsigned layer = 1;
            const auto one = staged(2 * 1 * 2 * c.kv_heads * row);  // seqs 1, 2: one token each
            const auto two = staged(1 * 2 * 2 * c.kv_heads * row);  // seq 3: two tokens
            for (const auto& [seqs, tokens, src] :
                 {std::make_tuple(std::vector<uint64_t>{1, 2}, 1u, one.first),
                  std::make_tuple(std::vector<uint64_t>{3}, 2u, two.first)}) {
                const kv_copy_plan p = plan_kv_append(kv, layer, seqs, tokens, src, cores);
                BOOST_CHECK_EQUAL(p.copies.size(), seqs.size() * tokens * 2 * c.kv_heads);
                BOOST_CHECK_LE(p.block_dim, cores);
                BOOST_CHECK(ctx.launch(s, "kv_append", p.block_dim, models::kernel_kind::vector,
                                       kv_copy_kernel(p)) == status::success);
            }
            BOOST_CHECK(ctx.synchronize(s) == status::success);
            // The CPU model: every block zero, then each appended row at
            // [layer][K, V][head][token % 4][head_dim] of block token / 4.
            auto expect = [&](uint64_t id, const std::vector<uint8_t>& src, unsigned seq_index,
                              unsigned tokens) {
                std::vector<uint8_t> want(bytes * kv.block_table(id).size(), 0);
                for (unsigned t = 0; t < tokens; ++t) {
                    const unsigned token = kv.tokens(id) - tokens + t;
                    for (unsigned v = 0; v < 2; ++v)
                        for (unsigned h = 0; h < c.kv_heads; ++h) {
                            const uint64_t from =
                                (((seq_index * tokens + t) * 2 + v) * c.kv_heads + h) * row;
                            const uint64_t to =
                                (token / 4) * bytes +
                                (((layer * 2 + v) * c.kv_heads + h) * 4 + token % 4) * row;
                            std::copy_n(src.begin() + long(from), row, want.begin() + long(to));
                        }
                }
                return want;
            };
            BOOST_CHECK(read(ctx, s, kv, 1) == expect(1, one.second, 0, 1));
            BOOST_CHECK(read(ctx, s, kv, 2) == expect(2, one.second, 1, 1));
            BOOST_CHECK(read(ctx, s, kv, 3) == expect(3, two.second, 0, 2));
            BOOST_CHECK_THROW(plan_kv_append(kv, layer, {3}, 3, two.first, cores),
                              std::invalid_argument);
            BOOST_CHECK(ctx.free(one.first) == status::success);
            BOOST_CHECK(ctx.free(two.first) == status::success);
        }
    });
}

// Decode attention over paged K/V against a plain CPU attention in float, for contexts of 1,
// 4 (one full block), 7 and 13 tokens (partial last blocks), on two layers.
BOOST_AUTO_TEST_CASE(paged_attention_matches_a_cpu_attention) {
    const auto cfg = test::tiny();
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        runtime::stream* s = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"attn"}) == status::success);
        kv_cache_config kc = small(32);
        kc.head_dim = 32;
        paged_kv_cache kv(ctx, s, kc);
        const unsigned heads = kc.kv_heads, hd = kc.head_dim;
        std::mt19937 rng(5);
        std::uniform_real_distribution<float> d(-1.f, 1.f);
        auto h16 = [](float x) { return models::float_to_half(x); };
        auto f32 = [](uint16_t x) { return models::half_to_float(x); };
        uint64_t id = 0;
        for (unsigned n : {1u, 4u, 7u, 13u})
            for (unsigned layer : {0u, 1u}) {
                ++id;
                std::vector<uint64_t> pre;
                BOOST_REQUIRE(kv.grow(id, n, pre) == status::success);
                // K[h][t][:], V[h][t][:] on the host (fp16), written through slot().
                std::vector<uint16_t> K(heads * n * hd), V(K.size()), q(heads * hd);
                for (auto* v : {&K, &V, &q})
                    for (auto& x : *v) x = h16(d(rng));
                for (unsigned h = 0; h < heads; ++h)
                    for (unsigned t = 0; t < n; ++t)
                        for (unsigned v = 0; v < 2; ++v)
                            BOOST_REQUIRE(
                                ctx.memcpy_to_device(s, kv.slot(id, t, layer, v == 1, h),
                                                     (v ? V : K).data() + (h * n + t) * hd,
                                                     hd * 2) == status::success);
                uint64_t qd = 0, od = 0;
                BOOST_REQUIRE(ctx.malloc(qd, heads * hd * 2, s) == status::success);
                BOOST_REQUIRE(ctx.malloc(od, heads * hd * 2, s) == status::success);
                BOOST_REQUIRE(ctx.memcpy_to_device(s, qd, q.data(), q.size() * 2) ==
                              status::success);
                BOOST_CHECK_MESSAGE(
                    paged_attention(ctx, s, kv, id, layer, qd, od, cfg) == status::success,
                    ctx.get_last_error().message);
                std::vector<uint16_t> out(heads * hd);
                BOOST_REQUIRE(ctx.memcpy_to_host(s, out.data(), od, out.size() * 2) ==
                              status::success);
                BOOST_REQUIRE(ctx.synchronize(s) == status::success);
                for (unsigned h = 0; h < heads; ++h) {
                    std::vector<double> sc(n);
                    double mx = -1e30, sum = 0;
                    for (unsigned t = 0; t < n; ++t) {
                        for (unsigned i = 0; i < hd; ++i)
                            sc[t] += double(f32(q[h * hd + i])) * f32(K[(h * n + t) * hd + i]);
                        mx = std::max(mx, sc[t]);
                    }
                    for (auto& x : sc) sum += (x = std::exp(x - mx));
                    for (unsigned i = 0; i < hd; ++i) {
                        double want = 0;
                        for (unsigned t = 0; t < n; ++t)
                            want += sc[t] / sum * f32(V[(h * n + t) * hd + i]);
                        const double got = f32(out[h * hd + i]);
                        BOOST_CHECK_MESSAGE(std::abs(got - want) <= 0.01 + 0.01 * std::abs(want),
                                            "n " << n << " layer " << layer << " head " << h << " ["
                                                 << i << "]: " << got << " vs " << want);
                    }
                }
                BOOST_CHECK(ctx.free(qd) == status::success && ctx.free(od) == status::success);
            }
        // The gather's cost grows with the context: one copy per block and head for K and V.
        const kv_copy_plan g = plan_kv_gather(kv, id, 0, 0, 0, 2);
        BOOST_CHECK_EQUAL(g.copies.size(), 2u * heads * 4);  // 13 tokens: 4 blocks
    });
}

// Decode attention cost grows with the context as the model says: the gather moves 2 x heads
// x context x head_dim fp16 values twice (page -> UB -> scratch), so its time, and the whole
// attention's, grows linearly: doubling the context adds twice what the previous doubling did.
// (L2 off: with it, small contexts written just before hit in L2 and large ones do not.)
BOOST_AUTO_TEST_CASE(decode_attention_time_grows_linearly_with_context) {
    const auto cfg = test::tiny({"l2.enabled=false"});
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        runtime::stream* s = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"attn"}) == status::success);
        kv_cache_config kc = small(1024);
        kc.head_dim = 32;
        paged_kv_cache kv(ctx, s, kc);
        uint64_t qd = 0, od = 0;
        BOOST_REQUIRE(ctx.malloc(qd, 4096, s) == status::success);
        BOOST_REQUIRE(ctx.malloc(od, 4096, s) == status::success);
        BOOST_REQUIRE(ctx.memset(s, qd, 0, 4096) == status::success);
        std::vector<double> gather, total;
        uint64_t id = 0;
        for (unsigned n : {128u, 256u, 512u, 1024u}) {
            std::vector<uint64_t> pre;
            BOOST_REQUIRE(kv.grow(++id, n, pre) == status::success);
            for (uint64_t b : kv.block_table(id))
                BOOST_REQUIRE(ctx.memset(s, b, 0, kc.block_bytes()) == status::success);
            BOOST_REQUIRE(ctx.synchronize(s) == status::success);
            const size_t before = ctx.timeline().size();
            BOOST_CHECK(paged_attention(ctx, s, kv, id, 0, qd, od, cfg) == status::success);
            BOOST_REQUIRE(ctx.synchronize(s) == status::success);
            ps_t first = ~ps_t(0), last = 0, g = 0;
            for (size_t i = before; i < ctx.timeline().size(); ++i) {
                const auto& r = ctx.timeline()[i];
                first = std::min(first, r.start);
                last = std::max(last, r.end);
                if (r.name == "kv_gather") g = r.end - r.start;
            }
            gather.push_back(double(g));
            total.push_back(double(last - first));
            BOOST_CHECK(kv.release(id) == status::success);
        }
        for (size_t i = 1; i < total.size(); ++i) BOOST_CHECK_GT(total[i], total[i - 1]);
        for (size_t i = 0; i < total.size(); ++i)
            BOOST_TEST_MESSAGE("context " << (128 << i) << ": gather " << gather[i] / 1e6
                                          << " us, attention " << total[i] / 1e6 << " us");
        for (size_t i = 2; i < gather.size(); ++i) {
            const double ratio = (gather[i] - gather[i - 1]) / (gather[i - 1] - gather[i - 2]);
            BOOST_CHECK_MESSAGE(ratio > 1.8 && ratio < 2.2,
                                "gather growth ratio " << ratio << " at step " << i);
        }
    });
}

BOOST_AUTO_TEST_SUITE_END()
