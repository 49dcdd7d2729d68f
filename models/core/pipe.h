#pragma once
#include <systemc>

#include <cstdint>
#include <functional>
#include <string>

#include "models/common/fifo.h"
#include "models/common/model_base.h"
#include "models/common/timing.h"
#include "models/core/instruction.h"
#include "models/params.h"

namespace npusim::models {

class pipe;

/// @brief When an instruction occupied its pipe and when its results are visible (absolute ps).
struct exec_result {
    bool work = true;    ///< false for synchronisation (not counted as busy)
    ps_t issue_end = 0;  ///< the pipe may start its next instruction from here
    ps_t complete = 0;   ///< its results are visible (flags and barriers wait for this)
};

/// @brief What a pipe runs its instructions on (the core).
class pipe_executor {
  public:
    virtual ~pipe_executor() = default;
    /// @brief Runs one instruction that may start at `start` (>= simulation time; the pipe's
    /// local time runs ahead, see pipe). Computes its times without waiting, unless it must
    /// observe or change state other processes see (then it calls pipe::sync_to first).
    virtual exec_result execute(pipe& p, const instruction& ins, ps_t start) = 0;
    /// @brief Called when an instruction raised a modelled fault.
    virtual void on_fault(pipe& p, const std::string& what) = 0;
    /// @brief Whether the completion of everything `p` issued is known (its DMA engine's GM
    /// bursts are booked later, by the chip's dispatcher); if so, the latest is in `complete`.
    virtual bool settled(pipe& p, ps_t& complete) = 0;
    /// @brief Notified when more of `p`'s completions may be known (asked while not settled).
    virtual const sc_core::sc_event& progress(pipe& p) = 0;
};

/// @brief One in-order hardware instruction queue (MTE1, MTE2, MTE3, M, V, FIX) with its own
/// process.
///
/// Issue and latency are separate: an instruction starts at max(the pipe's issue_free, the time
/// it was pushed), holds the pipe until its issue end, and completes later; so back-to-back
/// independent instructions overlap their latencies. The pipe starts each instruction at
/// simulated time equal to its start (it waits until its issue_free), so what the instruction
/// books (the core's buffer banks, its engine's port) is booked in order of time among the
/// core's pipes, independent of how their threads interleave; the executor calls sync_to
/// before anything another process can observe (flags; idleness is reported at completion).
///
/// The queue is bounded: an instruction holds its slot until it starts, so push() stalls the
/// issuing scalar unit while `depth` instructions are queued or popped but not yet started.
class pipe : public model_base {
  public:
    pipe(const sc_core::sc_module_name& nm, pipe_id id, unsigned depth, pipe_executor& exec);

    /// @brief Enqueues an instruction; waits while the queue is full (call from a thread).
    void push(instruction ins);
    /// @brief Waits until the queue is empty and everything issued has completed.
    void wait_idle();
    bool idle() const {
        return m_queue.empty() && !m_running && now_ps() >= std::max(m_issue_free, m_complete);
    }
    bool full() const;
    /// @brief Drops every queued instruction (the kernel stopped).
    void drop_queue();
    /// @brief Waits (on the pipe's thread) until simulation time reaches t.
    void sync_to(ps_t t);

    /// @brief Latest completion of anything this pipe issued (a lower bound until settle()).
    ps_t complete() const { return m_complete; }
    /// @brief Waits until the completion of everything issued is known; returns the latest.
    ps_t settle();

    /// @brief What the running instruction waits for, for deadlock reports (empty: nothing).
    /// Given as a function, formatted only for a report: a pipe waits on every flag.
    void set_waiting(std::function<std::string()> what) { m_waiting = std::move(what); }
    std::string waiting() const { return m_waiting ? m_waiting() : std::string(); }

    pipe_id id() const { return m_id; }
    ps_t busy_ps() const { return m_busy_ps; }
    uint64_t instructions() const { return m_instructions; }
    void visit_stats(const stats_fn& fn) const override;

  private:
    struct entry {
        instruction ins;
        ps_t pushed;
    };
    void run();
    void on_trace_attached() override;

    pipe_id m_id;
    unsigned m_depth;
    pipe_executor& m_exec;
    fifo<entry> m_queue;
    bool m_running = false, m_pusher_waits = false, m_run_waits = false;
    sc_core::sc_event m_pushed, m_popped, m_went_idle;
    std::function<std::string()> m_waiting;
    ps_t m_issue_free = 0, m_complete = 0;
    ps_t m_busy_ps = 0;
    uint64_t m_instructions = 0;
    traced_signal m_busy;
};

}  // namespace npusim::models
