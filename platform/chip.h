#pragma once
#include <systemc>

#include <memory>
#include <vector>

#include "models/common/protocol_checker.h"
#include "models/common/trace_sink.h"
#include "models/core/ai_core.h"
#include "models/core/task_scheduler.h"
#include "models/dma/sdma_engine.h"
#include "models/memory/gm_memory.h"
#include "models/memory/host_link.h"
#include "models/memory/l2_cache.h"
#include "models/memory/router.h"
#include "platform/config/platform_config.h"
#include "platform/host_interface.h"

namespace npusim::platform {

/// @brief How a chip is assembled beyond its config: instrumentation for tests, not a platform
/// key.
struct chip_options {
    /// Put a models::protocol_checker on every hop: each engine's global socket -> NoC, each
    /// engine -> each local buffer, host link -> NoC, SDMA -> NoC, NoC -> L2 (or GM), L2 -> GM.
    bool protocol_check = false;
};

/// @brief The chip assembled from a validated config: cores, interconnect, L2, GM and the host
/// link, with every engine's global socket bound to the interconnect.
class chip : public sc_core::sc_module {
  public:
    chip(const sc_core::sc_module_name& nm, const platform_config& cfg,
         const chip_options& opts = {});

    const platform_config& config() const { return m_cfg; }
    models::gm_memory& gm() { return *m_gm; }
    models::l2_cache* l2() { return m_l2.get(); }
    models::router& noc() { return *m_noc; }
    /// @brief Books the cores' GM bursts in order of their start.
    const models::burst_dispatcher& dispatcher() const { return *m_dispatcher; }
    models::host_link& host() { return *m_host; }
    models::sdma_engine& sdma() { return *m_sdma; }
    std::vector<std::unique_ptr<models::ai_core>>& cores() { return m_cores; }
    models::ai_core& core(unsigned i) { return *m_cores.at(i); }
    models::task_scheduler& scheduler() { return *m_scheduler; }
    /// @brief What host software (the runtime) may use of the chip.
    host_interface& host_api() { return *m_host_api; }
    /// @brief What every blocked pipe and scalar unit waits for, for deadlock reports.
    std::string blocked_report() const;

    /// @brief Every protocol checker of the chip, cores' included (none unless asked for).
    std::vector<const models::protocol_checker*> protocol_checkers() const;
    /// @brief Violations recorded by all of them.
    uint64_t protocol_violations() const;

    /// @brief Connects every model to a waveform sink (nullptr = off).
    void attach_trace(models::trace_sink* sink);

  private:
    platform_config m_cfg;
    std::unique_ptr<models::gm_memory> m_gm;
    std::unique_ptr<models::l2_cache> m_l2;
    std::unique_ptr<models::router> m_noc;
    std::unique_ptr<models::host_link> m_host;
    std::unique_ptr<models::burst_dispatcher> m_dispatcher;
    std::unique_ptr<models::sdma_engine> m_sdma;
    std::vector<std::unique_ptr<models::ai_core>> m_cores;
    std::unique_ptr<models::task_scheduler> m_scheduler;
    std::unique_ptr<host_interface> m_host_api;
    std::vector<std::unique_ptr<models::protocol_checker>> m_checkers;
};

}  // namespace npusim::platform
