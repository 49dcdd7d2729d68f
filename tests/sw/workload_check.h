#pragma once
// Running a workload YAML text through the planner and runner with --check, for the op tests.
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

/// Runs `yaml` with --check on a preset; every op must match its reference.
inline void check_workload(const std::string& preset, const std::string& yaml) {
    const auto r = run_checked(platform::load_platform(preset), yaml);
    const auto w = graph::load_workload_text(yaml, "test.yaml");
    BOOST_CHECK_EQUAL(r.failure, "");
    BOOST_CHECK_EQUAL(r.checks.size(), w.ops.size());
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
