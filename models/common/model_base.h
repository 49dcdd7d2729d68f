#pragma once
// Thin common base for every npusim model: the name, a stats visitor and the trace switch, so
// unit code carries no plumbing.
#include <systemc>

#include <functional>
#include <string>
#include <string_view>

#include "models/common/trace_sink.h"

namespace npusim::models {

/// @brief Callback receiving one statistic: key relative to the model, value.
using stats_fn = std::function<void(std::string_view key, double value)>;

/// @brief Base of all npusim SystemC modules.
class model_base : public sc_core::sc_module {
  public:
    explicit model_base(const sc_core::sc_module_name& nm) : sc_core::sc_module(nm) {}

    /// @brief Reports the model's statistics, one call per value.
    virtual void visit_stats(const stats_fn& fn) const { (void)fn; }

    /// @brief Connects the model to a waveform sink (nullptr = off). Call before simulation.
    void attach_trace(trace_sink* sink) {
        m_trace = sink;
        on_trace_attached();
    }

  protected:
    /// @brief Hook for models to declare their signals once the sink is known.
    virtual void on_trace_attached() {}
    /// @brief Full hierarchical path of a signal of this model, e.g. "chip.core0.mte2.busy".
    std::string signal_path(std::string_view signal) const {
        return std::string(name()) + "." + std::string(signal);
    }
    trace_sink* m_trace = nullptr;
};

}  // namespace npusim::models
