// The loader fuzzer (tools/fuzz): a fixed-seed slice per loader, and the inputs it found as
// named regression cases. Every load must succeed or throw a config_error with a place.
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "platform/config/config_error.h"
#include "tests/test_util.h"
#include "tools/fuzz/loader_fuzz.h"

using namespace npusim;
using fuzz::loader_kind;

namespace {

const std::string configs = std::string(NPUSIM_SOURCE_DIR) + "/configs/";

/// Runs `cases` fixed-seed cases and reports every finding with its input.
void fuzz_slice(loader_kind k, const std::string& dir, uint64_t cases) {
    // The 32 KiB ResNet-50 files take ~10x longer to parse than the others: the slice leaves
    // them to scripts/fuzz-loaders, which uses every file.
    std::vector<std::string> corpus;
    for (const auto& text : fuzz::read_corpus(configs + dir, fuzz::corpus_extension(k)))
        if (text.size() <= 16384) corpus.push_back(text);
    for (auto& extra : fuzz::extra_seeds(k)) corpus.push_back(extra);
    BOOST_REQUIRE(!corpus.empty());
    const auto t0 = std::chrono::steady_clock::now();
    const fuzz::fuzz_stats st = fuzz::run(k, corpus, configs + dir, 20261203, cases);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    BOOST_TEST_MESSAGE(fuzz::to_string(k)
                       << ": " << st.cases << " cases in " << s << " s, " << st.loaded
                       << " loaded, " << st.rejected << " rejected");
    BOOST_CHECK_EQUAL(st.cases, cases);
    // Mutations must exercise both outcomes, or the fuzzer is not reaching the checks.
    BOOST_CHECK_GT(st.loaded, 0u);
    BOOST_CHECK_GT(st.rejected, cases / 4);
    for (const auto& f : st.findings) {
        BOOST_ERROR("case " << f.index << ": " << f.what << "\n--- input ---\n" << f.input);
    }
}

/// Loading `text` must throw a config_error holding every one of `parts`.
void check_rejected(loader_kind k, const std::string& text,
                    std::initializer_list<const char*> parts) {
    const std::string bad = fuzz::classify(k, text, configs + "sweeps");
    BOOST_CHECK_MESSAGE(bad.empty(), bad);
    try {
        fuzz::load_with(k, text, configs + "sweeps");
        BOOST_ERROR("loaded:\n" << text);
    } catch (const platform::config_error& e) {
        for (const char* p : parts)
            BOOST_CHECK_MESSAGE(test::contains(e.what(), p), "lacks \"" << p << "\":\n"
                                                                        << e.what());
    } catch (...) {
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(loader_fuzz)

BOOST_AUTO_TEST_CASE(platform_slice) {
    fuzz_slice(loader_kind::platform, "platforms", 2000);
}
BOOST_AUTO_TEST_CASE(workload_slice) {
    fuzz_slice(loader_kind::workload, "workloads", 3000);
}
BOOST_AUTO_TEST_CASE(sweep_slice) {
    fuzz_slice(loader_kind::sweep, "sweeps", 3000);
}
BOOST_AUTO_TEST_CASE(model_slice) {
    fuzz_slice(loader_kind::model, "models", 2000);
}
BOOST_AUTO_TEST_CASE(serving_slice) {
    fuzz_slice(loader_kind::serving, "serving", 2000);
}
BOOST_AUTO_TEST_CASE(trace_slice) {
    fuzz_slice(loader_kind::trace, "serving", 3000);
}

// The mutator is deterministic: the same seed gives the same inputs.
BOOST_AUTO_TEST_CASE(mutations_are_deterministic) {
    const auto corpus = fuzz::read_corpus(configs + "platforms");
    uint64_t a = 42, b = 42;
    for (int i = 0; i < 50; ++i)
        BOOST_REQUIRE_EQUAL(fuzz::mutate(corpus[0], corpus, a), fuzz::mutate(corpus[0], corpus, b));
}

// Ten levels of ten aliases each would be 10^10 values if expanded: the checks walk each anchor
// once, and the loaders reject the unknown keys at once.
BOOST_AUTO_TEST_CASE(alias_bomb_is_cheap) {
    std::string bomb = "b0: &b0 [1,1,1,1,1,1,1,1,1,1]\n";
    for (int i = 1; i <= 10; ++i) {
        const std::string prev = "*b" + std::to_string(i - 1);
        bomb += "b" + std::to_string(i) + ": &b" + std::to_string(i) + " [" + prev;
        for (int j = 1; j < 10; ++j) bomb += "," + prev;
        bomb += "]\n";
    }
    const auto t0 = std::chrono::steady_clock::now();
    check_rejected(loader_kind::platform, "schema: npusim.platform/1\n" + bomb,
                   {"fuzz-input.yaml:2:1: error: b0: unknown key 'b0'"});
    check_rejected(loader_kind::workload, "schema: npusim.workload/1\n" + bomb,
                   {"fuzz-input.yaml:2:1: error: b0: unknown key"});
    // As a value the loader reads: a shape made of the bomb.
    check_rejected(loader_kind::workload,
                   bomb + "schema: npusim.workload/1\ntensors:\n  x: {shape: *b10, dtype: fp16}\n",
                   {"fuzz-input.yaml:1:1: error: b0: unknown key"});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    BOOST_CHECK_LT(s, 2.0);
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_bounded) {
    const std::string deep = "schema: npusim.workload/1\nname: " + std::string(100, '[') + "1" +
                             std::string(100, ']') + "\n";
    for (loader_kind k : {loader_kind::platform, loader_kind::workload})
        check_rejected(k, deep, {"fuzz-input.yaml:2:", "nested more than 64 levels deep"});
}

// Minimised sweep-loader findings of the fuzzer (seeds 1 and 3): a wrong-typed value escaped as
// YAML::TypedBadConversion ("yaml-cpp: error at line N: bad conversion"), a key given twice
// loaded. Each is a config_error naming the line.
BOOST_AUTO_TEST_CASE(sweep_findings_regressions) {
    const std::string base =
        "# sweep\nschema: npusim.sweep/1\nname: s\nplatform: tiny\nworkloads: [mlp]\n"
        "parameters:\n  - list:\n      chip.cores: [1, 2]\nmetrics: [sim_time_ns]\n";
    auto with = [&](const std::string& key, const std::string& value) {
        std::string t = base;
        const size_t at = t.find("\n" + key + ":");
        if (at == std::string::npos) return t + key + ": " + value + "\n";
        const size_t end = t.find('\n', at + 1);
        return t.substr(0, at + 1) + key + ": " + value + t.substr(end);
    };
    BOOST_REQUIRE_EQUAL(fuzz::classify(loader_kind::sweep, base, configs + "sweeps"), "");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {with("name", "[a]"), "name"},
        {with("name", "{a: b}"), "name"},
        {with("platform", "[tiny]"), "platform"},
        {with("schema", "{a: 1}"), "schema"},
        {with("timing_only", "maybe"), "timing_only"},
        {with("timing_only", "{k: v}"), "timing_only"},
        {base + "name: t\n", "name"},  // a key given twice
    };
    for (const auto& [text, key] : cases) {
        std::string outcome;
        try {
            fuzz::load_with(loader_kind::sweep, text, configs + "sweeps");
            outcome = "loaded";
        } catch (const platform::config_error& e) {
            outcome = e.what();
        } catch (const std::exception& e) {
            outcome = std::string("not a config_error: ") + e.what();
        }
        const bool good = outcome.rfind("fuzz-input.yaml:", 0) == 0 && test::contains(outcome, key);
        BOOST_CHECK_MESSAGE(good, key << ": " << outcome << "\n--- input ---\n" << text);
    }
}

BOOST_AUTO_TEST_SUITE_END()
