#pragma once
// Helpers shared by the test suites: build a platform from a preset plus overrides and run a
// host program on it. One simulation per test process (SystemC elaborates once).
#include <boost/test/unit_test.hpp>
#include <tlm>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "models/dma/dma_request.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"

namespace npusim::test {

/// @brief A command no target knows. 3 is the only value outside the enumerators that the
/// enum's range holds (0..2 need two bits), so sending it is not undefined behaviour.
inline constexpr tlm::tlm_command k_bad_command = static_cast<tlm::tlm_command>(3);

inline bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

inline platform::platform_config tiny(const std::vector<std::string>& sets = {}) {
    return platform::load_platform("tiny", sets);
}

/// @brief A GM<->local copy request of `bytes` contiguous bytes.
inline models::dma_request copy(models::mem_space src_space, uint64_t src,
                                models::mem_space dst_space, uint64_t dst, uint64_t bytes) {
    models::dma_request r;
    r.src_space = src_space;
    r.src = src;
    r.dst_space = dst_space;
    r.dst = dst;
    r.row_bytes = bytes;
    return r;
}

/// @brief Runs one DMA on a core's owning pipe and waits for it; returns its duration in ps.
inline models::ps_t timed_copy(models::ai_core& core, const models::dma_request& r) {
    const models::ps_t t0 = models::now_ps();
    core.issue_copy(r);
    core.wait_idle();
    return models::now_ps() - t0;
}

/// @brief Every stat a model reports (its visit_stats), by key.
inline std::map<std::string, double> stats_of(const models::model_base& m) {
    std::map<std::string, double> s;
    m.visit_stats([&](std::string_view k, double v) { s[std::string(k)] = v; });
    return s;
}

}  // namespace npusim::test
