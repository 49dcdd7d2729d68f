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

/// The presets every op is checked on: coupled (tiny, ascend910, ascend310p3) and split
/// (ascend910b1).
inline const std::vector<std::string>& all_presets() {
    static const std::vector<std::string> p = {"tiny", "ascend910", "ascend910b1", "ascend310p3"};
    return p;
}

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
