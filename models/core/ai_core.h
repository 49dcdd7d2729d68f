#pragma once
#include <systemc>

#include <array>
#include <memory>
#include <vector>

#include "models/common/model_base.h"
#include "models/core/pipe.h"
#include "models/dma/dma_engine.h"
#include "models/memory/local_buffer.h"
#include "models/memory/router.h"
#include "models/params.h"

namespace npusim::models {

/// @brief One core: its local buffers behind a local bus, its DMA engines and its pipes.
///
/// Which buffers, engines and pipes exist follows the kind: a coupled AI core has all of them;
/// a split chip's cube core (aic) has L1/L0A/L0B/L0C/BT/FB with MTE1, MTE2, MTE3 (L1->GM), M and
/// FIX; its vector core (aiv) has UB with MTE2, MTE3 and V.
class ai_core : public model_base {
  public:
    ai_core(const sc_core::sc_module_name& nm, unsigned id, const core_params& p);

    unsigned id() const { return m_id; }
    core_kind core_type() const { return m_p.kind; }
    const core_params& params() const { return m_p; }

    /// @brief The buffer for a space, or nullptr if this core has none.
    local_buffer* buffer(mem_space s) { return m_buffers[size_t(s)].get(); }
    /// @brief The pipe with this id, or nullptr if this core has none.
    pipe* get_pipe(pipe_id id);
    /// @brief The engine owned by a pipe, or nullptr.
    dma_engine* engine(pipe_id id);
    const std::vector<std::unique_ptr<dma_engine>>& engines() const { return m_engines; }
    const std::vector<std::unique_ptr<pipe>>& pipes() const { return m_pipes; }

    /// @brief Queues a DMA on the pipe whose engine owns the path.
    /// @throws model_fault if no engine of this core has the path.
    void issue_copy(const dma_request& r);
    /// @brief Waits until every pipe is idle.
    void wait_idle();
    /// @brief First fault reported by any pipe, empty if none.
    std::string fault() const;

    void attach_trace_all(trace_sink* sink);

  private:
    unsigned m_id;
    core_params m_p;
    router m_local_bus;
    std::array<std::unique_ptr<local_buffer>, size_t(mem_space::count)> m_buffers;
    std::vector<std::unique_ptr<dma_engine>> m_engines;
    std::vector<std::unique_ptr<pipe>> m_pipes;
};

/// @brief The pipes a kind of core has, in report order.
std::vector<pipe_id> pipes_of(core_kind kind);

}  // namespace npusim::models
