// The shipped network workloads (configs/workloads/, from scripts/gen_workloads.py): each one's
// reduced variant matches the CPU reference op by op on every preset, and each full-size
// workload runs timing-only on every preset with every op launched.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

#include "tests/sw/op_fixture.h"

using namespace npusim;

namespace {

std::string shipped(const std::string& name) {
    std::ifstream in(std::string(NPUSIM_SOURCE_DIR) + "/configs/workloads/" + name + ".yaml");
    std::stringstream ss;
    ss << in.rdbuf();
    BOOST_REQUIRE_MESSAGE(!ss.str().empty(), "missing workload " << name);
    return ss.str();
}

/// A full-size workload runs timing-only: no failure, one timed kernel per op.
void runs_timing_only(const std::string& preset, const std::string& name) {
    test::check_runs_timing_only(preset, shipped(name), name + ".yaml");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shipped_workloads)

NPUSIM_PRESET_CASES(resnet50_check, shipped("resnet50_check"))
NPUSIM_PRESET_CASES(bert_check, shipped("bert_check"))
NPUSIM_PRESET_CASES(llama_prefill_check, shipped("llama_prefill_check"))
NPUSIM_PRESET_CASES(llama_decode_check, shipped("llama_decode_check"))
NPUSIM_PRESET_CASES(gemm_check, shipped("gemm_check"))
NPUSIM_PRESET_CASES(sparse_check, shipped("sparse_check"))

NPUSIM_PRESET_TESTS(resnet50_b1, [](const char* p) { runs_timing_only(p, "resnet50_b1"); })
NPUSIM_PRESET_TESTS(resnet50_b32, [](const char* p) { runs_timing_only(p, "resnet50_b32"); })
NPUSIM_PRESET_TESTS(bert_base_s128, [](const char* p) { runs_timing_only(p, "bert_base_s128"); })
NPUSIM_PRESET_TESTS(bert_base_s512, [](const char* p) { runs_timing_only(p, "bert_base_s512"); })
NPUSIM_PRESET_TESTS(llama7b_prefill_s512,
                    [](const char* p) { runs_timing_only(p, "llama7b_prefill_s512"); })
NPUSIM_PRESET_TESTS(llama7b_decode_kv2048,
                    [](const char* p) { runs_timing_only(p, "llama7b_decode_kv2048"); })
NPUSIM_PRESET_TESTS(gemm_suite, [](const char* p) { runs_timing_only(p, "gemm_suite"); })

// Ops on different streams run at the same time: the K projection (stream k) starts while the
// Q projection (stream q) still runs, as do the gate and up projections.
BOOST_AUTO_TEST_CASE(streams_run_concurrently) {
    const auto ops =
        test::run_timing_only("ascend910b1", shipped("llama7b_prefill_s512"), "llama.yaml").ops;
    auto find = [&](const std::string& name) {
        for (const auto& o : ops)
            if (o.name == name) return o;
        BOOST_FAIL("no op " << name);
        return platform::op_record{};
    };
    BOOST_CHECK_LT(find("matmul -> k").start_ps, find("matmul -> q").end_ps);
    BOOST_CHECK_LT(find("matmul -> up").start_ps, find("matmul -> gate").end_ps);
    // and a reader on another stream waits for its producer
    BOOST_CHECK_GE(find("matmul -> scores").start_ps, find("rope -> k_rot").end_ps);
}

BOOST_AUTO_TEST_SUITE_END()
