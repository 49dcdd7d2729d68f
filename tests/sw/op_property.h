#pragma once
// The property-based op tester: random single-op cases (shapes with 0, 1, primes, sizes around
// fractal, repeat and buffer boundaries and near the preset's buffer capacities; random
// attributes; every dtype combination an op has a kernel for), each run on a preset and checked
// against the op's CPU reference. A case is a pure function of its seed and the preset, so
// "--preset P --case S" repeats it. Used by tests/sw/test_op_property.cpp (a fixed-seed slice
// in CTest) and by the npusim_fuzz_ops driver (scripts/fuzz-ops).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "platform/config/platform_config.h"
#include "sw/graph/workload.h"

namespace npusim::test {

/// @brief One random op call: its input tensors (with their inits) and attributes.
struct op_case {
    uint64_t seed = 0;
    std::string op;
    std::vector<graph::tensor_decl> inputs;
    ops::attr_map attrs;
    /// @brief "matmul a fp16[3,0] b fp16[0,5] {transpose_a: false, ...}".
    std::string describe() const;
};

/// @brief The case of seed `seed` on a platform (the platform's buffer sizes shape it).
op_case draw_case(uint64_t seed, const platform::platform_config& cfg);

/// @brief The seed of case `index` of the run with seed `run_seed` (splitmix64).
uint64_t case_seed(uint64_t run_seed, uint64_t index);

/// @brief What running a set of cases gave.
struct property_result {
    uint64_t cases = 0;    ///< cases drawn
    uint64_t run = 0;      ///< planned and run against the reference
    uint64_t refused = 0;  ///< refused at planning with an op_error naming the op
    uint64_t empty = 0;    ///< with zero-sized outputs (planned, nothing launched)
    /// @brief "case SEED: what" for each case that failed; `batch_failure` when the run as a
    /// whole failed (a kernel fault), which the cases do not say on their own.
    std::vector<std::string> failures;
    std::string batch_failure;
    std::vector<std::string> refusals;  ///< "case SEED: op_error text"
    nlohmann::json stats;               ///< the run's stats document (null when nothing ran)
};

/// @brief Draws, plans and runs `seeds` on `preset` in one simulation. Planning errors must be
/// op_errors naming the op; anything else or a run failure is a failure. Functional: every
/// output is checked against its CPU reference (--check), a mismatch is a failure.
/// Timing-only: no data and no check; its stats must equal the functional run's bit for bit
/// (stats_diff), which takes a second process (SystemC elaborates once per process).
property_result run_cases(const std::string& preset, const std::vector<uint64_t>& seeds,
                          bool timing_only = false);

/// @brief Every value of a stats document that differs between a functional and a
/// timing-only run of the same work, as "path: functional vs timing-only".
std::vector<std::string> stats_diff(const nlohmann::json& functional,
                                    const nlohmann::json& timing_only);

}  // namespace npusim::test
