// LLM serving: batched decode and causal prefill attention against a CPU attention on every
// preset, the serving file's and trace's errors, the latency statistics in closed form, and
// serving runs that preempt and still complete every request.
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "platform/config/config_loader.h"
#include "platform/presets.h"
#include "sw/kernel/attention_kernel.h"
#include "sw/serving/attention.h"
#include "sw/serving/server.h"
#include "tests/sw/op_fixture.h"
#include "tests/sw/runtime_fixture.h"

using namespace npusim;
using namespace npusim::serving;
using runtime::context;
using runtime::status;
using test::contains;

namespace {

float f32(uint16_t x) {
    return models::half_to_float(x);
}

/// softmax(q K^T + mask) V in double for one head: K and V hold `n` rows of `hd`.
std::vector<double> cpu_attention(const uint16_t* q, const uint16_t* k, const uint16_t* v,
                                  unsigned n, unsigned hd) {
    std::vector<double> sc(n), out(hd, 0.0);
    double mx = -1e300, sum = 0;
    for (unsigned t = 0; t < n; ++t) {
        for (unsigned i = 0; i < hd; ++i) sc[t] += double(f32(q[i])) * f32(k[t * hd + i]);
        mx = std::max(mx, sc[t]);
    }
    for (auto& x : sc) sum += (x = std::exp(x - mx));
    for (unsigned t = 0; t < n; ++t)
        for (unsigned i = 0; i < hd; ++i) out[i] += sc[t] / sum * f32(v[t * hd + i]);
    return out;
}

void close_to(const std::vector<double>& want, const uint16_t* got, const std::string& what) {
    for (size_t i = 0; i < want.size(); ++i)
        BOOST_CHECK_MESSAGE(std::abs(f32(got[i]) - want[i]) <= 0.01 + 0.01 * std::abs(want[i]),
                            what << " [" << i << "]: " << f32(got[i]) << " vs " << want[i]);
}

uint64_t put(context& ctx, runtime::stream* s, const std::vector<uint16_t>& v) {
    uint64_t d = 0;
    BOOST_REQUIRE(ctx.malloc(d, int64_t(std::max<size_t>(v.size() * 2, 2)), s) == status::success);
    BOOST_REQUIRE(ctx.memcpy_to_device(s, d, v.data(), v.size() * 2) == status::success);
    return d;
}

/// A cache of 2 KV heads in blocks of 16 tokens.
kv_cache_config cache_of(unsigned layers, unsigned head_dim, uint64_t max_blocks) {
    kv_cache_config kc;
    kc.layers = layers;
    kc.kv_heads = 2;
    kc.head_dim = head_dim;
    kc.block_tokens = 16;
    kc.max_blocks = max_blocks;
    return kc;
}

std::vector<uint16_t> random_halves(std::mt19937& rng, size_t n) {
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::vector<uint16_t> v(n);
    for (auto& x : v) x = models::float_to_half(d(rng));
    return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(serving)

// Decode attention of a batch of 4 sequences (1, 16, 17 and 40 tokens: one token, a full
// 16-token block, one past a block, a partial third block) padded to 5 rows and to 48 tokens,
// on layer 1 of a two-layer cache: gathered (decode_attention) or read in place from the pages
// (paged_decode_attention, here with 4 query heads over 2 KV heads).
void decode_attention_on(const std::string& preset, bool in_place) {
    {
        const auto cfg = platform::load_platform(preset);
        test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
            runtime::stream* s = nullptr;
            BOOST_REQUIRE(ctx.create_stream(s, {"attn"}) == status::success);
            const kv_cache_config kc = cache_of(2, 32, 64);
            paged_kv_cache kv(ctx, s, kc);
            const unsigned heads = kc.kv_heads, hd = kc.head_dim, layer = 1, rows = 5;
            std::mt19937 rng(7);
            const std::vector<unsigned> lens{1, 16, 17, 40};
            std::vector<uint64_t> seqs;
            std::vector<std::vector<uint16_t>> K, V;
            for (unsigned i = 0; i < lens.size(); ++i) {
                std::vector<uint64_t> pre;
                BOOST_REQUIRE(kv.grow(i + 1, lens[i], pre) == status::success);
                seqs.push_back(i + 1);
                K.push_back(random_halves(rng, heads * lens[i] * hd));
                V.push_back(random_halves(rng, K.back().size()));
                for (unsigned h = 0; h < heads; ++h)
                    for (unsigned t = 0; t < lens[i]; ++t)
                        for (unsigned v = 0; v < 2; ++v)
                            BOOST_REQUIRE(ctx.memcpy_to_device(
                                              s, kv.slot(i + 1, t, layer, v == 1, h),
                                              (v ? V : K).back().data() + (h * lens[i] + t) * hd,
                                              hd * 2) == status::success);
            }
            const unsigned padded = decode_padded_length(kv, seqs, 16);
            BOOST_CHECK_EQUAL(padded, 48u);
            // In place also groups queries: 4 query heads over the 2 KV heads.
            const unsigned qh = in_place ? 2 * heads : heads, group = qh / heads;
            const std::vector<uint16_t> q = random_halves(rng, rows * qh * hd);
            const uint64_t qd = put(ctx, s, q),
                           md = put(ctx, s, decode_mask(kv, seqs, padded, rows)),
                           zd = put(ctx, s, std::vector<uint16_t>(kc.block_tokens * hd, 0)),
                           od = put(ctx, s, std::vector<uint16_t>(rows * qh * hd, 0));
            direct_runner run;
            const auto attend = in_place ? paged_decode_attention : decode_attention;
            BOOST_CHECK_MESSAGE(attend(ctx, s, kv, seqs, layer, rows, qh, qd, md, zd, od, padded,
                                       cfg, run) == status::success,
                                ctx.get_last_error().message);
            std::vector<uint16_t> out(rows * qh * hd);
            BOOST_REQUIRE(ctx.memcpy_to_host(s, out.data(), od, out.size() * 2) == status::success);
            BOOST_REQUIRE(ctx.synchronize(s) == status::success);
            for (unsigned i = 0; i < lens.size(); ++i)
                for (unsigned h = 0; h < qh; ++h)
                    close_to(cpu_attention(q.data() + (i * qh + h) * hd,
                                           K[i].data() + h / group * lens[i] * hd,
                                           V[i].data() + h / group * lens[i] * hd, lens[i], hd),
                             out.data() + (i * qh + h) * hd,
                             preset + " sequence " + std::to_string(i) + " query head " +
                                 std::to_string(h));
            BOOST_CHECK_THROW(
                attend(ctx, s, kv, seqs, layer, 3, qh, qd, md, zd, od, padded, cfg, run),
                std::invalid_argument);
            BOOST_CHECK_THROW(
                attend(ctx, s, kv, seqs, layer, rows, 3, qd, md, zd, od, padded, cfg, run),
                std::invalid_argument);
        });
    }
}

NPUSIM_PRESET_TESTS(decode_attention_matches_a_cpu_attention,
                    [](const char* p) { decode_attention_on(p, false); })
NPUSIM_PRESET_TESTS(paged_decode_attention_in_place_matches_a_cpu_attention,
                    [](const char* p) { decode_attention_on(p, true); })

// Causal prefill attention (the fused kernel): token i sees tokens 0..i only, for prompts of 1,
// 5, 17, 64 and 131 tokens (one row, which leaves a split chip's second vector core no rows;
// odd rows inside one tile; a whole 64-row tile; past a 128-row tile, so several query and key
// tiles on every preset, the last of 3 rows), with as many KV heads as query heads and with two
// query heads per KV head.
void prefill_attention_on(const std::string& preset) {
    {
        const auto cfg = platform::load_platform(preset);
        test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
            runtime::stream* s = nullptr;
            BOOST_REQUIRE(ctx.create_stream(s, {"attn"}) == status::success);
            std::mt19937 rng(11);
            const unsigned heads = 4, hd = 32;
            // 4 KV heads, then 2 (grouped-query: query head h reads KV head h / 2).
            for (unsigned kvh : {4u, 2u})
                for (unsigned n : {1u, 5u, 17u, 64u, 131u}) {
                    const unsigned group = heads / kvh;
                    const auto q = random_halves(rng, heads * n * hd),
                               k = random_halves(rng, kvh * n * hd),
                               v = random_halves(rng, k.size());
                    const uint64_t qd = put(ctx, s, q), kd = put(ctx, s, k), vd = put(ctx, s, v),
                                   od = put(ctx, s, std::vector<uint16_t>(q.size(), 0));
                    direct_runner run;
                    BOOST_CHECK_MESSAGE(prefill_attention(ctx, s, heads, kvh, n, hd, qd, kd, vd, od,
                                                          cfg, run) == status::success,
                                        ctx.get_last_error().message);
                    std::vector<uint16_t> out(q.size());
                    BOOST_REQUIRE(ctx.memcpy_to_host(s, out.data(), od, out.size() * 2) ==
                                  status::success);
                    BOOST_REQUIRE(ctx.synchronize(s) == status::success);
                    for (unsigned h = 0; h < heads; ++h)
                        for (unsigned i = 0; i < n; ++i)
                            close_to(cpu_attention(q.data() + (h * n + i) * hd,
                                                   k.data() + h / group * n * hd,
                                                   v.data() + h / group * n * hd, i + 1, hd),
                                     out.data() + (h * n + i) * hd,
                                     preset + " kv heads " + std::to_string(kvh) + " n " +
                                         std::to_string(n) + " token " + std::to_string(i));
                }
        });
    }
}

NPUSIM_PRESET_TESTS(prefill_attention_is_causal_and_matches_a_cpu_attention, prefill_attention_on)

// A ragged batch in one launch: prompts of 1, 130, 17, 64 and 5 tokens packed one after
// another, each causal within itself (token i of a prompt sees that prompt's tokens 0..i and
// nothing of its neighbours), two query heads per KV head, with the tasks dealt in turn,
// assigned by cost and stolen from a shared queue; then lengths that do not add up to the
// tokens are refused by name.
void ragged_attention_on(const std::string& preset) {
    const auto cfg = platform::load_platform(preset);
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        runtime::stream* s = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"attn"}) == status::success);
        std::mt19937 rng(31);
        const unsigned heads = 4, kvh = 2, hd = 32, group = heads / kvh;
        const std::vector<uint32_t> lengths{1, 130, 17, 64, 5};
        unsigned n = 0;
        for (uint32_t l : lengths) n += l;
        const auto q = random_halves(rng, heads * n * hd), k = random_halves(rng, kvh * n * hd),
                   v = random_halves(rng, k.size());
        const uint64_t qd = put(ctx, s, q), kd = put(ctx, s, k), vd = put(ctx, s, v);
        for (const auto part : {kernel::partition_kind::uniform, kernel::partition_kind::cost,
                                kernel::partition_kind::steal}) {
            const uint64_t od = put(ctx, s, std::vector<uint16_t>(q.size(), 0));
            direct_runner run;
            BOOST_CHECK_MESSAGE(prefill_attention(ctx, s, heads, kvh, n, hd, qd, kd, vd, od, cfg,
                                                  run, lengths, part) == status::success,
                                ctx.get_last_error().message);
            std::vector<uint16_t> out(q.size());
            BOOST_REQUIRE(ctx.memcpy_to_host(s, out.data(), od, out.size() * 2) == status::success);
            BOOST_REQUIRE(ctx.synchronize(s) == status::success);
            for (unsigned h = 0; h < heads; ++h) {
                unsigned start = 0;
                for (uint32_t len : lengths) {
                    const uint64_t kv0 = (uint64_t(h / group) * n + start) * hd;
                    for (unsigned i = 0; i < len; ++i)
                        close_to(cpu_attention(q.data() + (uint64_t(h) * n + start + i) * hd,
                                               k.data() + kv0, v.data() + kv0, i + 1, hd),
                                 out.data() + (uint64_t(h) * n + start + i) * hd,
                                 fmt::format("{} {} head {} prompt at {} (of {}) token {}", preset,
                                             kernel::to_string(part), h, start, len, i));
                    start += len;
                }
            }
        }
        try {
            kernel::attention_problem bad{heads, kvh, n, hd, {1, 2}};
            kernel::tile_attention(cfg, bad);
            BOOST_ERROR("lengths adding up to 3 of " << n << " tokens were accepted");
        } catch (const std::invalid_argument& e) {
            BOOST_CHECK_MESSAGE(contains(e.what(), "the prompt lengths add up to 3 tokens, not " +
                                                       std::to_string(n)),
                                e.what());
        }
    });
}

NPUSIM_PRESET_TESTS(ragged_batch_attention_keeps_prompts_apart, ragged_attention_on)

// The fused attention on random shapes: 24 problems of 1 to 4 KV heads with 1 to 3 query heads
// each, 1 to 300 tokens (around the 16-, 64- and 128-row tiles) and head sizes from 1 to 128
// (odd ones included). A head that does not fit the buffers must be refused by name.
void random_attention_on(const std::string& preset) {
    const auto cfg = platform::load_platform(preset);
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        runtime::stream* s = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"attn"}) == status::success);
        std::mt19937 rng(23);
        const std::vector<unsigned> lengths{1, 2, 13, 15, 16, 17, 63, 64, 65, 127, 128, 129, 300};
        const std::vector<unsigned> dims{1, 7, 16, 33, 64, 128};
        auto pick = [&](const std::vector<unsigned>& v) { return v[rng() % v.size()]; };
        unsigned ran = 0;
        for (int c = 0; c < 24; ++c) {
            const unsigned kvh = 1 + rng() % 4, heads = kvh * (1 + rng() % 3), n = pick(lengths),
                           hd = pick(dims), group = heads / kvh;
            const std::string what =
                fmt::format("{} heads {} over {} tokens {} head_dim {}", preset, heads, kvh, n, hd);
            try {
                kernel::tile_attention(cfg, {heads, kvh, n, hd});
            } catch (const std::invalid_argument& e) {
                BOOST_CHECK_MESSAGE(contains(e.what(), fmt::format("head_dim {}", hd)),
                                    what << ": " << e.what());
                BOOST_CHECK_MESSAGE(preset == "tiny", what << ": refused: " << e.what());
                continue;
            }
            ++ran;
            const auto q = random_halves(rng, heads * n * hd), k = random_halves(rng, kvh * n * hd),
                       v = random_halves(rng, k.size());
            const uint64_t qd = put(ctx, s, q), kd = put(ctx, s, k), vd = put(ctx, s, v),
                           od = put(ctx, s, std::vector<uint16_t>(q.size(), 0));
            direct_runner run;
            BOOST_CHECK_MESSAGE(prefill_attention(ctx, s, heads, kvh, n, hd, qd, kd, vd, od, cfg,
                                                  run) == status::success,
                                what << ": " << ctx.get_last_error().message);
            std::vector<uint16_t> out(q.size());
            BOOST_REQUIRE(ctx.memcpy_to_host(s, out.data(), od, out.size() * 2) == status::success);
            BOOST_REQUIRE(ctx.synchronize(s) == status::success);
            for (unsigned h = 0; h < heads; ++h)
                for (unsigned i = 0; i < n; ++i)
                    close_to(
                        cpu_attention(q.data() + (h * n + i) * hd, k.data() + h / group * n * hd,
                                      v.data() + h / group * n * hd, i + 1, hd),
                        out.data() + (h * n + i) * hd, what + " token " + std::to_string(i));
        }
        BOOST_CHECK_GE(ran, 12u);
    });
}

NPUSIM_PRESET_TESTS(fused_attention_on_random_shapes_matches_a_cpu_attention, random_attention_on)

// In-place decode attention reads 2 x heads x context x head_dim fp16 values from the pages, so
// beyond its fixed costs its kernels' time grows linearly with the context: each doubling adds
// twice what the previous one did (within 20%). L2 off: with it, small contexts hit in L2.
BOOST_AUTO_TEST_CASE(in_place_decode_time_grows_linearly_with_context) {
    const auto cfg = test::tiny({"l2.enabled=false"});
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        runtime::stream* s = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"attn"}) == status::success);
        const kv_cache_config kc = cache_of(1, 64, 256);
        paged_kv_cache kv(ctx, s, kc);
        const uint64_t qd = put(ctx, s, std::vector<uint16_t>(2 * 64, 0)),
                       zd = put(ctx, s, std::vector<uint16_t>(16 * 64, 0)),
                       od = put(ctx, s, std::vector<uint16_t>(2 * 64, 0));
        std::vector<double> took;
        uint64_t id = 0;
        for (unsigned n : {256u, 512u, 1024u, 2048u}) {
            std::vector<uint64_t> pre;
            BOOST_REQUIRE(kv.grow(++id, n, pre) == status::success);
            const uint64_t md = put(ctx, s, decode_mask(kv, {id}, n, 1));
            BOOST_REQUIRE(ctx.synchronize(s) == status::success);
            const size_t before = ctx.timeline().size();
            direct_runner run;
            BOOST_CHECK(paged_decode_attention(ctx, s, kv, {id}, 0, 1, 2, qd, md, zd, od, n, cfg,
                                               run) == status::success);
            BOOST_REQUIRE(ctx.synchronize(s) == status::success);
            double busy = 0;  // the four kernels' device time (short ones wait on the host)
            for (size_t i = before; i < ctx.timeline().size(); ++i)
                busy += double(ctx.timeline()[i].end - ctx.timeline()[i].start);
            took.push_back(busy);
            BOOST_TEST_MESSAGE("context " << n << ": " << took.back() / 1e6 << " us");
            BOOST_CHECK(kv.release(id) == status::success);
        }
        for (size_t i = 2; i < took.size(); ++i) {
            const double ratio = (took[i] - took[i - 1]) / (took[i - 1] - took[i - 2]);
            BOOST_CHECK_MESSAGE(ratio > 1.6 && ratio < 2.4,
                                "growth ratio " << ratio << " at step " << i);
        }
    });
}

// Percentiles interpolate between ranks: for 1..100, p50 = 50.5, p90 = 90.1, p99 = 99.01.
BOOST_AUTO_TEST_CASE(latency_percentiles_in_closed_form) {
    std::vector<double> v;
    for (int i = 100; i >= 1; --i) v.push_back(i);
    const latency l = summarize(v);
    BOOST_CHECK_CLOSE(l.mean, 50.5, 1e-9);
    BOOST_CHECK_CLOSE(l.p50, 50.5, 1e-9);
    BOOST_CHECK_CLOSE(l.p90, 90.1, 1e-9);
    BOOST_CHECK_CLOSE(l.p99, 99.01, 1e-9);
    BOOST_CHECK_EQUAL(summarize({}).count, 0u);
    BOOST_CHECK_EQUAL(summarize({3.0}).p99, 3.0);
}

namespace {

namespace fs = std::filesystem;

/// A folder with a tiny model (2 layers, hidden 64, 2 heads) and serving files.
struct serving_dir {
    serving_dir() {
        static int n = 0;
        path = fs::temp_directory_path() /
               ("npusim_serving_" + std::to_string(getpid()) + "_" + std::to_string(n++));
        fs::create_directories(path);
        write("tiny_model.yaml",
              "schema: npusim.model/1\nname: tiny\nlayers: 2\nhidden: 64\nheads: 2\n"
              "ffn: 128\nvocab: 256\n");
    }
    ~serving_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
    fs::path path;
};

/// A cache of 3 blocks of 16 tokens: two requests of 18 tokens cannot both fit.
const char* tiny_spec =
    "schema: npusim.serving/1\n"
    "model: tiny_model.yaml\n"
    "platform: tiny\n"
    "arrivals: {trace: trace.csv}\n"
    "scheduler: {max_batch_tokens: 64, max_seqs: 4, block_tokens: 16, kv_blocks: 3,\n"
    "            max_model_len: 24}\n";

const char* tiny_trace =
    "time_s,prompt_tokens,output_tokens\n"
    "0,10,8\n0,7,8\n0.00001,12,6\n0.00002,5,1\n0.00002,9,9\n0.0001,3,2\n";

serving_result serve_file(const std::string& file, fidelity f) {
    const serving_spec spec = load_serving(file);
    return serve(spec, make_requests(spec), platform::load_platform(spec.platform), f);
}

}  // namespace

// Bad serving files and traces are errors at file:line before anything runs.
BOOST_AUTO_TEST_CASE(bad_serving_input_names_file_and_line) {
    serving_dir d;
    d.write("trace.csv", tiny_trace);
    auto error = [&](const std::string& spec, const std::string& trace = tiny_trace) {
        d.write("trace.csv", trace);
        const std::string file = d.write("bad.yaml", spec);
        try {
            const serving_spec s = load_serving(file);
            check_fits(s, platform::load_platform(s.platform));
            make_requests(s);
        } catch (const platform::config_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    const std::string good = tiny_spec;
    std::string e = error(good + "max_batch: 3\n");
    BOOST_CHECK_MESSAGE(contains(e, "bad.yaml:7") && contains(e, "max_batch"), e);
    e = error(good, "time_s,prompt_tokens,output_tokens\n0.5,10,8\n0.25,10,8\n");
    BOOST_CHECK_MESSAGE(contains(e, "trace.csv:3") && contains(e, "sort the trace"), e);
    e = error(good, "time_s,prompt_tokens,output_tokens\n0,10,8\n0.1,-4,8\n");
    BOOST_CHECK_MESSAGE(contains(e, "trace.csv:3") && contains(e, "prompt_tokens"), e);
    e = error(good, "time_s,prompt_tokens,output_tokens\n0,10,8\n0.1,10,0\n");
    BOOST_CHECK_MESSAGE(contains(e, "trace.csv:3") && contains(e, "output_tokens"), e);
    e = error(good, "time_s,prompt_tokens,output_tokens\n0,20,8\n");
    BOOST_CHECK_MESSAGE(contains(e, "trace.csv:2") && contains(e, "max_model_len"), e);
    e = error(good, "when,prompt,output\n");
    BOOST_CHECK_MESSAGE(contains(e, "trace.csv:1") && contains(e, "header"), e);
    // LLaMA-7B's 13.5 GB of weights on the 1 GiB tiny platform: named at the model line.
    const std::string big = std::string("schema: npusim.serving/1\nmodel: ") + NPUSIM_SOURCE_DIR +
                            "/configs/models/llama7b.yaml\nplatform: tiny\n"
                            "arrivals: {poisson: {rate: 1, requests: 1, prompt_tokens: 8, "
                            "output_tokens: 8}}\n";
    e = error(big);
    BOOST_CHECK_MESSAGE(
        contains(e, "bad.yaml:2") && contains(e, "GiB") && contains(e, "gm.capacity"), e);
    // Heads of 512 on the tiny platform: the fused prefill attention has no tile that fits.
    d.write("wide_model.yaml",
            "schema: npusim.model/1\nname: wide\nlayers: 1\nhidden: 1024\nheads: 2\n"
            "ffn: 64\nvocab: 64\n");
    e = error(
        "schema: npusim.serving/1\nmodel: wide_model.yaml\nplatform: tiny\n"
        "arrivals: {poisson: {rate: 1, requests: 1, prompt_tokens: 8, output_tokens: 8}}\n");
    BOOST_CHECK_MESSAGE(
        contains(e, "bad.yaml:2") && contains(e, "head_dim 512") && contains(e, "smaller heads"),
        e);
    // Found by the loader fuzzer: a NUL in the model's file name.
    e = error("schema: npusim.serving/1\nmodel: \"a\\u0000b\"\n");
    BOOST_CHECK_MESSAGE(contains(e, "bad.yaml:2") && contains(e, "control character"), e);
    e = error("schema: npusim.serving/1\nmodel: nowhere.yaml\n");
    BOOST_CHECK_MESSAGE(contains(e, "bad.yaml:2") && contains(e, "not a readable file"), e);
    e = error(good + "seed: -1\n");
    BOOST_CHECK_MESSAGE(contains(e, "bad.yaml:7") && contains(e, "seed"), e);
    e = error(
        "schema: npusim.serving/1\nmodel: tiny_model.yaml\narrivals: {trace: t.csv, "
        "poisson: {rate: 1}}\n");
    BOOST_CHECK_MESSAGE(contains(e, "bad.yaml:3") && contains(e, "exactly one"), e);
    e = error(good + "scheduler: {mixing: sometimes}\n");
    BOOST_CHECK_MESSAGE(contains(e, "bad.yaml") && contains(e, "given twice"), e);
    BOOST_CHECK_THROW(
        load_serving_text(good, (d.path / "x.yaml").string(), {"scheduler.mixing=sometimes"}),
        platform::config_error);
}

// A cache too small for two of the requests at once: sequences are preempted (recomputed) and every
// request still completes. Each request's tokens come from one prefill per admission plus one
// per decode step, so decode tokens + requests + preemptions = output tokens in all.
BOOST_AUTO_TEST_CASE(a_full_cache_preempts_and_every_request_completes) {
    serving_dir d;
    d.write("trace.csv", tiny_trace);
    const std::string file = d.write("s.yaml", tiny_spec);
    const serving_result r = serve_file(file, fidelity::op);
    const serving_summary& s = r.summary;
    BOOST_CHECK_GT(s.preemptions, 0u);
    uint64_t outputs = 0;
    for (const auto& q : r.requests) {
        BOOST_CHECK_GE(q.first_token, q.req.arrival);
        BOOST_CHECK_GE(q.finish, q.first_token);
        BOOST_CHECK(q.req.output > 1 || q.finish == q.first_token);
        outputs += q.req.output;
    }
    BOOST_CHECK_EQUAL(s.decode_tokens + r.requests.size() + s.preemptions, outputs);
    BOOST_CHECK_EQUAL(s.ttft.count, 6u);
    BOOST_CHECK_EQUAL(s.tpot.count, 5u);  // one request has a single output token
    BOOST_CHECK_LE(s.kv_usage_peak, 1.0);
    BOOST_CHECK_GT(s.kv_usage_peak, 0.5);
    // Iterations follow one another without overlap.
    for (size_t i = 1; i < r.iterations.size(); ++i)
        BOOST_CHECK_GE(r.iterations[i].start, r.iterations[i - 1].end - 1e-15);
}

// The naive cache reserves max_model_len tokens per sequence: 3 blocks are 3 sequences at
// most, none is ever preempted, and the gathered (re-copied) attention still completes all.
// Its 1024-token blocks (64 KiB per head) are gathered in copies that fit tiny's 32 KiB UB
// twice (a 2048-token LLaMA-13B block once faulted the gather on a 910B1).
BOOST_AUTO_TEST_CASE(a_naive_cache_limits_concurrency_to_its_reservations) {
    serving_dir d;
    d.write("trace.csv", tiny_trace);
    const std::string file = d.write("s.yaml", tiny_spec);
    serving_spec spec =
        load_serving(file, {"scheduler.kv_cache=naive", "scheduler.max_model_len=1024"});
    const serving_result r =
        serve(spec, make_requests(spec), platform::load_platform(spec.platform), fidelity::op);
    BOOST_CHECK_EQUAL(r.summary.kv_blocks, 3u);
    BOOST_CHECK_LE(r.summary.peak_running, 3u);
    BOOST_CHECK_EQUAL(r.summary.preemptions, 0u);
    for (const auto& q : r.requests) BOOST_CHECK_GE(q.finish, q.first_token);
    // Every block holds max_model_len (1024) tokens.
    BOOST_CHECK_EQUAL(r.summary.kv_bytes, 3u * 2 * 2 * 2 * 32 * 1024 * 2);
}

// A grouped-query model (4 query heads over 2 KV heads) serves through kv_append, in-place
// decode attention and grouped prefill attention, and its cache holds 2 heads per token.
BOOST_AUTO_TEST_CASE(a_grouped_query_model_serves) {
    serving_dir d;
    d.write("trace.csv", tiny_trace);
    d.write("gqa.yaml",
            "schema: npusim.model/1\nname: gqa\nlayers: 2\nhidden: 64\nheads: 4\n"
            "kv_heads: 2\nffn: 128\nvocab: 256\n");
    std::string text = tiny_spec;
    text.replace(text.find("tiny_model.yaml"), 15, "gqa.yaml");
    const serving_result r = serve_file(d.write("s.yaml", text), fidelity::op);
    for (const auto& q : r.requests) BOOST_CHECK_GT(q.finish, 0.0);
    // 3 blocks x 16 tokens x 2 layers x (K, V) x 2 KV heads x 16 x 2 bytes.
    BOOST_CHECK_EQUAL(r.summary.kv_bytes, 3u * 16 * 2 * 2 * 2 * 16 * 2);
}

// One request alone: its TTFT is its prefill iteration, its TPOT the mean of its decode
// iterations, its end-to-end latency their sum.
BOOST_AUTO_TEST_CASE(single_request_latencies_in_closed_form) {
    serving_dir d;
    d.write("trace.csv", "time_s,prompt_tokens,output_tokens\n0,9,5\n");
    const std::string file = d.write("s.yaml", tiny_spec);
    const serving_result op = serve_file(file, fidelity::op);
    BOOST_REQUIRE_EQUAL(op.iterations.size(), 5u);
    const auto& it = op.iterations;
    BOOST_CHECK_CLOSE(op.summary.ttft.mean, it[0].end - it[0].start, 1e-6);
    double decode = 0;
    for (size_t i = 1; i < it.size(); ++i) decode += it[i].end - it[i].start;
    BOOST_CHECK_CLOSE(op.summary.tpot.mean, decode / 4, 1e-6);
    BOOST_CHECK_CLOSE(op.summary.e2e.mean, it.back().end, 1e-6);
    BOOST_CHECK_EQUAL(op.summary.requests_per_s, 1 / it.back().end);
}

BOOST_AUTO_TEST_SUITE_END()
