#pragma once
#include <systemc>

#include <cstdint>
#include <deque>
#include <string>

#include "models/common/model_base.h"
#include "models/common/timing.h"
#include "models/core/instruction.h"
#include "models/params.h"

namespace npusim::models {

class pipe;

/// @brief What a pipe runs its instructions on (the core): executes one instruction to
/// completion on the pipe's thread, waiting for its duration.
class pipe_executor {
  public:
    virtual ~pipe_executor() = default;
    /// @brief Runs one instruction; returns false for synchronisation (not counted as busy).
    virtual bool execute(pipe& p, const instruction& ins) = 0;
    /// @brief Called when an instruction raised a modelled fault.
    virtual void on_fault(pipe& p, const std::string& what) = 0;
};

/// @brief One in-order hardware instruction queue (MTE1, MTE2, MTE3, M, V, FIX) with its own
/// process. It waits once per instruction for that instruction's duration; the queue is
/// bounded, so push() stalls the issuing scalar unit while it is full.
class pipe : public model_base {
  public:
    pipe(const sc_core::sc_module_name& nm, pipe_id id, unsigned depth, pipe_executor& exec);

    /// @brief Enqueues an instruction; waits while the queue is full (call from a thread).
    void push(instruction ins);
    /// @brief Waits until the queue is empty and the last instruction finished.
    void wait_idle();
    bool idle() const { return m_queue.empty() && !m_running; }
    bool full() const { return m_queue.size() >= m_depth; }
    /// @brief Drops every queued instruction (the kernel stopped).
    void drop_queue();

    /// @brief What the running instruction waits for, for deadlock reports ("" = not waiting).
    void set_waiting(std::string what) { m_waiting = std::move(what); }
    const std::string& waiting() const { return m_waiting; }

    pipe_id id() const { return m_id; }
    ps_t busy_ps() const { return m_busy_ps; }
    uint64_t instructions() const { return m_instructions; }
    void visit_stats(const stats_fn& fn) const override;

  private:
    void run();
    void on_trace_attached() override;

    pipe_id m_id;
    unsigned m_depth;
    pipe_executor& m_exec;
    std::deque<instruction> m_queue;
    bool m_running = false;
    sc_core::sc_event m_pushed, m_popped, m_went_idle;
    std::string m_waiting;
    ps_t m_busy_ps = 0;
    uint64_t m_instructions = 0;
    traced_signal m_busy;
};

}  // namespace npusim::models
