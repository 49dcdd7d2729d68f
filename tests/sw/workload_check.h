#pragma once
// Running a workload with --check on a preset: every op against its schema's CPU reference.
#include <boost/test/unit_test.hpp>

#include <string>

#include "sw/graph/workload.h"
#include "sw/graph/workload_runner.h"
#include "tests/sw/runtime_fixture.h"

namespace npusim::test {

/// Runs `yaml` with --check on a preset; every op must match its reference.
inline void check_workload(const std::string& preset, const std::string& yaml) {
    const auto cfg = platform::load_platform(preset);
    const auto w = graph::load_workload_text(yaml, "test.yaml");
    const auto plan = graph::plan_workload(w, cfg);
    graph::workload_result r;
    run_runtime(cfg, [&](platform::chip& chip, runtime::context&) {
        std::vector<platform::op_record> ops;
        r = graph::run_workload(chip, plan, true, ops);
    });
    BOOST_CHECK_EQUAL(r.failure, "");
    BOOST_CHECK_EQUAL(r.checks.size(), w.ops.size());
    for (const auto& c : r.checks)
        BOOST_CHECK_MESSAGE(c.ok, preset << ": " << c.label << " max error " << c.max_error
                                         << " over tolerance " << c.tolerance);
}

}  // namespace npusim::test
