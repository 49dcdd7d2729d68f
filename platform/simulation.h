#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/chip.h"
#include "platform/config/platform_config.h"
#include "platform/stats.h"
#include "platform/timeline_writer.h"
#include "platform/trace_fanout.h"
#include "platform/vcd_writer.h"

namespace npusim::platform {

/// @brief One simulation run: elaborates the chip, runs a host program on a simulated host
/// thread, and collects stats. SystemC elaborates once per process, so make one per process.
class simulation {
  public:
    /// @brief The host program; it records the ops it runs. Throwing fails the run.
    using host_program = std::function<void(chip&, std::vector<op_record>&)>;

    /// `timeline`: the Chrome trace to write, if any. `opts`: how the chip is assembled
    /// (tests).
    explicit simulation(const platform_config& cfg, std::optional<vcd_options> vcd = {},
                        std::optional<timeline_options> timeline = {},
                        const chip_options& opts = {});
    ~simulation();

    chip& get_chip() { return *m_chip; }

    /// @brief Runs to completion, then writes the VCD and timeline. Returns false if the host
    /// program threw or was left waiting when no more events remained (a deadlock; see error()),
    /// or if a trace file could not be written (see trace_error()).
    bool run(const host_program& program);
    const std::string& error() const { return m_error; }
    const std::string& trace_error() const { return m_trace_error; }
    nlohmann::json stats();

  private:
    std::unique_ptr<chip> m_chip;
    std::unique_ptr<vcd_writer> m_vcd;
    std::unique_ptr<timeline_writer> m_timeline;
    std::unique_ptr<trace_fanout> m_fanout;
    std::vector<op_record> m_ops;
    std::string m_error, m_trace_error;
};

}  // namespace npusim::platform
