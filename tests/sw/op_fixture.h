#pragma once
// Runs a workload with --check on a preset: every op must match its CPU reference.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "sw/graph/workload.h"
#include "sw/graph/workload_runner.h"
#include "sw/ops/registry.h"
#include "tests/sw/runtime_fixture.h"

namespace npusim::test {

/// Runs `yaml` on a platform with --check and returns the result (failure text, checks).
inline graph::workload_result run_checked(const platform::platform_config& cfg,
                                          const std::string& yaml) {
    const auto w = graph::load_workload_text(yaml, "test.yaml");
    const auto plan = graph::plan_workload(w, cfg);
    graph::workload_result r;
    run_runtime(cfg, [&](platform::chip& chip, runtime::context&) {
        std::vector<platform::op_record> ops;
        r = graph::run_workload(chip, plan, true, ops);
    });
    return r;
}

/// Runs `yaml` with --check on `preset`; every op must match its reference.
inline void check_workload(const std::string& preset, const std::string& yaml) {
    const auto r = run_checked(platform::load_platform(preset), yaml);
    BOOST_CHECK_EQUAL(r.failure, "");
    BOOST_CHECK_EQUAL(r.checks.size(), graph::load_workload_text(yaml, "test.yaml").ops.size());
    for (const auto& c : r.checks)
        BOOST_CHECK_MESSAGE(c.ok, preset << ": " << c.label << " max error " << c.max_error
                                         << " over tolerance " << c.tolerance);
}

/// A workload run timing-only: its result, op records and plan.
struct timing_run {
    graph::workload_result result;
    std::vector<platform::op_record> ops;
    graph::workload_plan plan;
};

/// Runs `yaml` (named `source` in errors) timing-only on `preset`.
inline timing_run run_timing_only(const std::string& preset, const std::string& yaml,
                                  const std::string& source) {
    auto cfg = platform::load_platform(preset);
    cfg.set_timing_only();
    timing_run t;
    const auto w = graph::load_workload_text(yaml, source);
    t.plan = graph::plan_workload(w, cfg);
    run_runtime(cfg, [&](platform::chip& chip, runtime::context&) {
        t.result = graph::run_workload(chip, t.plan, false, t.ops);
    });
    return t;
}

/// `yaml` runs timing-only on `preset`: no failure, and one kernel that takes time for every
/// op that is not a view.
inline void check_runs_timing_only(const std::string& preset, const std::string& yaml,
                                   const std::string& source) {
    const timing_run t = run_timing_only(preset, yaml, source);
    BOOST_CHECK_EQUAL(t.result.failure, "");
    size_t kernels = 0, expected = 0;
    for (const auto& o : t.ops)
        if (o.type == "kernel") {
            ++kernels;
            BOOST_CHECK_GT(o.end_ps, o.start_ps);
        }
    for (const auto& p : t.plan.ops)
        expected += !p.call.schema->view && !p.call.schema->device_copy;
    BOOST_CHECK_EQUAL(kernels, expected);
}

/// The op_error text of planning `op` on tiny ("" if planning succeeds).
inline std::string plan_error(const std::string& op, const std::vector<memory::tensor_desc>& in,
                              const ops::attr_map& attrs = {}) {
    try {
        ops::library().plan(op, in, attrs, platform::load_platform("tiny"));
    } catch (const ops::op_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace npusim::test

/// One test case per preset (a process runs one simulation), each calling `fn(preset)`:
/// name_tiny, name_ascend910, name_ascend910b1 and name_ascend310p3. CMake registers them
/// (cmake/boost_test_cases.cmake).
#define NPUSIM_PRESET_TESTS(name, fn)          \
    BOOST_AUTO_TEST_CASE(name##_tiny) {        \
        fn("tiny");                            \
    }                                          \
    BOOST_AUTO_TEST_CASE(name##_ascend910) {   \
        fn("ascend910");                       \
    }                                          \
    BOOST_AUTO_TEST_CASE(name##_ascend910b1) { \
        fn("ascend910b1");                     \
    }                                          \
    BOOST_AUTO_TEST_CASE(name##_ascend310p3) { \
        fn("ascend310p3");                     \
    }

/// NPUSIM_PRESET_TESTS checking the workload `yaml_expr` with check_workload.
#define NPUSIM_PRESET_CASES(name, yaml_expr) \
    NPUSIM_PRESET_TESTS(name, [](const char* p) { ::npusim::test::check_workload(p, yaml_expr); })
