#pragma once
#include <systemc>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "models/common/model_base.h"
#include "models/common/timing.h"
#include "models/params.h"

namespace npusim::models {

/// @brief One in-order hardware instruction queue (MTE1, MTE2, MTE3, M, V, FIX) with its own
/// process. An instruction is a blocking function run on the pipe's thread; it waits once for
/// its own duration. The queue is bounded: push() stalls the issuer while it is full.
class pipe : public model_base {
  public:
    struct instruction {
        std::string text;
        std::function<void()> run;
    };

    pipe(const sc_core::sc_module_name& nm, pipe_id id, unsigned depth);

    /// @brief Enqueues an instruction; waits while the queue is full (call from a thread).
    void push(instruction ins);
    /// @brief Waits until the queue is empty and the last instruction finished.
    void wait_idle();
    bool idle() const { return m_queue.empty() && !m_running; }

    /// @brief The fault that stopped this pipe, empty if none. A faulted pipe drops its queue.
    const std::string& fault() const { return m_fault; }
    pipe_id id() const { return m_id; }
    ps_t busy_ps() const { return m_busy_ps; }
    uint64_t instructions() const { return m_instructions; }
    void visit_stats(const stats_fn& fn) const override;

  private:
    void run();
    void on_trace_attached() override;

    pipe_id m_id;
    unsigned m_depth;
    std::deque<instruction> m_queue;
    bool m_running = false;
    sc_core::sc_event m_pushed, m_popped, m_went_idle;
    std::string m_fault;
    ps_t m_busy_ps = 0;
    uint64_t m_instructions = 0;
    traced_signal m_busy;
};

}  // namespace npusim::models
