// Timing-only mode gives the same timing as functional mode, bit for bit: data that decides
// addresses (gather indices) is kept, every other tensor moves no bytes.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>

#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "sw/graph/shipped_workloads.h"
#include "sw/graph/workload.h"
#include "sw/graph/workload_runner.h"
#include "tests/sw/op_property.h"
#include "tests/tools/cli_fixture.h"

using namespace npusim;

namespace {

/// `npusim run` functional and timing-only (each in its own process, as SystemC elaborates
/// once per process) give the same stats file, every value bit for bit.
void same_stats(const std::string& preset, const std::string& workload) {
    test::temp_file f("functional", ".json"), t("timing", ".json");
    const std::string run = "run --platform " + preset + " --workload " + workload;
    BOOST_REQUIRE_EQUAL(test::run_cli(run + " --stats " + f.str()).rc, 0);
    BOOST_REQUIRE_EQUAL(test::run_cli(run + " --timing-only --stats " + t.str()).rc, 0);
    const auto fj = nlohmann::json::parse(test::read_file(f.str()));
    const auto tj = nlohmann::json::parse(test::read_file(t.str()));
    const auto d = test::stats_diff(fj, tj);
    BOOST_CHECK_MESSAGE(d.empty(), preset << " " << workload << ": " << d.size()
                                          << " stats differ, first " << (d.empty() ? "" : d[0]));
    BOOST_CHECK_GT(fj.at("sim_time_ns").get<double>(), 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(timing_only)

// Every shipped *_check workload on tiny, one case each (a few tenths of a second each); a new
// one must be added here.
const std::vector<std::string> covered = {"resnet50_check",     "bert_check", "llama_prefill_check",
                                          "llama_decode_check", "gemm_check", "embedding_check",
                                          "sparse_check"};

BOOST_AUTO_TEST_CASE(every_shipped_check_workload_is_covered) {
    for (const auto& s : graph::shipped_workloads())
        if (s.name.size() > 6 && s.name.substr(s.name.size() - 6) == "_check")
            BOOST_CHECK_MESSAGE(std::find(covered.begin(), covered.end(), s.name) != covered.end(),
                                s.name << " has no timing-only case here");
}

BOOST_AUTO_TEST_CASE(resnet50_check_times_as_functional) {
    same_stats("tiny", "resnet50_check");
}
BOOST_AUTO_TEST_CASE(bert_check_times_as_functional) {
    same_stats("tiny", "bert_check");
}
BOOST_AUTO_TEST_CASE(llama_prefill_check_times_as_functional) {
    same_stats("tiny", "llama_prefill_check");
}
BOOST_AUTO_TEST_CASE(llama_decode_check_times_as_functional) {
    same_stats("tiny", "llama_decode_check");
}
BOOST_AUTO_TEST_CASE(gemm_check_times_as_functional) {
    same_stats("tiny", "gemm_check");
}
// Random gather indices over a 1 MiB table, 4x tiny's L2: which lines hit depends on the index
// values (zeros in their place take 232 us instead of 263 us).
BOOST_AUTO_TEST_CASE(embedding_check_times_as_functional) {
    same_stats("tiny", "embedding_check");
}

// Sparse operands: their indices decide which rows of b are read.
BOOST_AUTO_TEST_CASE(sparse_check_times_as_functional) {
    same_stats("ascend910b1", "sparse_check");
}

// The same on ascend910's 32 cores with its L2 cut to 512 KiB (its 32 MiB would hold the whole
// table, and every index would hit).
BOOST_AUTO_TEST_CASE(embedding_check_times_as_functional_on_ascend910) {
    same_stats("ascend910", "embedding_check --set l2.size=512KiB");
}

// Timing-only stores no bytes of tensors that decide nothing: GM allocates no page at all.
BOOST_AUTO_TEST_CASE(timing_only_stores_no_data_without_indices) {
    auto cfg = platform::load_platform("tiny");
    cfg.set_timing_only();
    const auto* s = graph::find_shipped_workload("bert_check");
    BOOST_REQUIRE(s);
    const auto w = graph::load_workload_text(s->yaml, s->file);
    const auto plan = graph::plan_workload(w, cfg);
    BOOST_CHECK(plan.control.empty());
    platform::simulation sim(cfg);
    BOOST_CHECK(sim.run([&](platform::chip& chip, std::vector<platform::op_record>& ops) {
        BOOST_CHECK_EQUAL(graph::run_workload(chip, plan, false, ops).failure, "");
        BOOST_CHECK_GT(chip.gm().write_bytes(), 0u);  // the copies and kernels did write
        BOOST_CHECK_EQUAL(chip.gm().pages_allocated(), 0u);
    }));
}

// Indices computed on the device cannot be kept (timing-only computes nothing): the run is
// refused rather than timed wrong, and `npusim run` runs such a workload functionally.
BOOST_AUTO_TEST_CASE(indices_computed_on_the_device_are_refused) {
    auto cfg = platform::load_platform("tiny");
    cfg.set_timing_only();
    const std::string text =
        "schema: npusim.workload/1\nname: t\ntensors:\n"
        "  a: {shape: [16, 32], dtype: int8, init: ones}\n"
        "  b: {shape: [32, 16], dtype: int8, init: zeros}\n"
        "  c: {shape: [16, 16], dtype: int32}\n"
        "  flat: {shape: [256], dtype: int32}\n"
        "  x: {shape: [8, 32], dtype: fp16, init: random}\n"
        "  y: {shape: [256, 32], dtype: fp16}\n"
        "ops:\n"
        "  - {op: matmul, inputs: [a, b], outputs: [c], attrs: {out_dtype: int32}}\n"
        "  - {op: reshape, inputs: [c], outputs: [flat], attrs: {shape: [256]}}\n"
        "  - {op: gather, inputs: [x, flat], outputs: [y]}\n";
    test::temp_file yaml("computed_indices", ".yaml");
    std::ofstream(yaml.str()) << text;
    const auto w = graph::load_workload_text(text, "w.yaml");
    const auto plan = graph::plan_workload(w, cfg);
    BOOST_CHECK(plan.control == std::set<std::string>{"c"});  // through the reshape
    BOOST_CHECK_EQUAL(plan.computed_control, "c");
    std::string failure;
    platform::simulation sim(cfg);
    BOOST_CHECK(sim.run([&](platform::chip& chip, std::vector<platform::op_record>& ops) {
        failure = graph::run_workload(chip, plan, false, ops).failure;
    }));
    BOOST_CHECK(test::contains(failure, "tensor 'c' decides addresses"));
    // npusim run falls back to a functional run (same timing) and says so.
    const auto r = test::run_cli("run --platform tiny --timing-only --workload " + yaml.str());
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK(test::contains(r.out, "running functionally so the timing is exact"));
}

BOOST_AUTO_TEST_SUITE_END()
