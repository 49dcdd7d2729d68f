#pragma once
#include <systemc>

#include <algorithm>

#include <array>
#include <functional>
#include <memory>
#include <vector>

#include "models/common/model_base.h"
#include "models/common/protocol_checker.h"
#include "models/core/cube_unit.h"
#include "models/core/instruction.h"
#include "models/core/pipe.h"
#include "models/core/vector_unit.h"
#include "models/dma/dma_engine.h"
#include "models/memory/local_buffer.h"
#include "models/params.h"

namespace npusim::models {

/// @brief Thrown on the scalar unit when the running block has faulted, to unwind the kernel.
struct kernel_aborted {};

/// @brief Timing and outcome of one block on one core.
struct block_result {
    ps_t start = 0, end = 0;
    std::string fault;  ///< empty if the block completed
};

/// @brief One core: local buffers wired to its DMA engines, cube and vector units, the
/// pipes, the flag state between pipes, and the scalar unit that runs a kernel's block.
///
/// Which buffers, engines and pipes exist follows the kind: a coupled AI core has all of them;
/// a split chip's cube core (aic) has L1/L0A/L0B/L0C/BT/FB with MTE1, MTE2, MTE3 (L1->GM), M and
/// FIX; its vector core (aiv) has UB with MTE2, MTE3 and V.
class ai_core : public model_base, public pipe_executor {
  public:
    /// `protocol_check`: put a protocol_checker between every engine and every local buffer.
    /// `dispatcher` books the GM bursts of the core's DMA engines.
    ai_core(const sc_core::sc_module_name& nm, unsigned id, const core_params& p,
            burst_dispatcher& dispatcher, bool protocol_check = false);

    unsigned id() const { return m_id; }
    core_kind core_type() const { return m_p.kind; }
    const core_params& params() const { return m_p; }

    /// @brief The buffer for a space, or nullptr if this core has none.
    local_buffer* buffer(mem_space s) { return m_buffers[size_t(s)].get(); }
    /// @brief The pipe with this id, or nullptr if this core has none.
    pipe* get_pipe(pipe_id id);
    /// @brief The DMA engine owned by a pipe, or nullptr.
    dma_engine* engine(pipe_id id);
    const std::vector<std::unique_ptr<dma_engine>>& engines() const { return m_engines; }
    const std::vector<std::unique_ptr<pipe>>& pipes() const { return m_pipes; }
    /// @brief The L2 and GM traffic this core's engines caused.
    traffic traffic_caused() const;
    cube_unit& cube() { return m_cube; }
    /// @brief The checkers on the engine -> local buffer hops (empty unless asked for).
    const std::vector<std::unique_ptr<protocol_checker>>& checkers() const { return m_checkers; }

    // --- the scalar unit: runs one block of a kernel ---
    /// @brief Starts a block; `done` is called once its instructions have all completed.
    void start_block(std::function<void()> body, std::function<void(const block_result&)> done);
    bool block_running() const { return m_block_active; }
    /// @brief Issues an instruction into a pipe, in order; stalls while that queue is full.
    /// Call from kernel code on the scalar unit. @throws kernel_aborted after a fault.
    void issue(pipe_id p, instruction ins);
    /// @brief A scalar load from GM (GlobalTensor::GetValue): waits until the pipes that write
    /// GM (MTE3, FIX) have drained, reads through the debug transport and charges the GM->local
    /// path's fixed latency as the load's latency, plus a cycle per further 64-byte line of a
    /// longer run. Reads zeros on a timing-only chip (but a control tensor's kept bytes).
    /// @throws model_fault if the address is outside GM; kernel_aborted after a fault.
    void read_global(uint64_t addr, void* data, unsigned bytes);
    /// @brief Scalar stores into a local buffer (LocalTensor::SetValue), one a cycle, once
    /// every pipe has drained: each writes the low `bytes` bytes of `bits` at `offset`. Writes
    /// data on a functional chip only.
    /// @throws model_fault if a store is outside the buffer; kernel_aborted after a fault.
    struct scalar_store {
        uint64_t offset = 0, bits = 0;
    };
    void write_local(mem_space space, const std::vector<scalar_store>& stores, unsigned bytes);
    /// @brief A scalar atomic add on a GM word shared by a launch's blocks (a work queue):
    /// returns the old value and adds `add` at once, then the scalar unit waits the GM path's
    /// fixed latency (the round trip). No pipe drains: the word is written by atomics only.
    uint64_t atomic_add(uint64_t& word, uint64_t add);
    /// @brief PipeBarrier<PIPE_ALL>: waits until every pipe has drained.
    void barrier_all();
    /// @brief Cores a cross-core flag reaches (split chips: a cube core and its vector cores).
    void set_partners(std::vector<ai_core*> partners) { m_partners = std::move(partners); }
    /// @brief A vector core's place beside its cube core (Ascend C GetSubBlockIdx): 0 or 1 on a
    /// split chip, 0 for any other core.
    unsigned sub_block() const {
        if (core_type() != core_kind::aiv || m_partners.empty()) return 0;
        const auto& sib = m_partners.front()->m_partners;
        return unsigned(std::find(sib.begin(), sib.end(), this) - sib.begin());
    }
    /// @brief Vector cores that share the work of a block with this core's cube core (1 when
    /// cube and vector are one core).
    unsigned sub_blocks() const {
        if (core_type() == core_kind::aicore || m_partners.empty()) return 1;
        return unsigned(core_type() == core_kind::aiv ? m_partners.front()->m_partners.size()
                                                      : m_partners.size());
    }

    /// @brief Queues a DMA on the pipe whose engine owns the path (outside any kernel).
    /// @throws model_fault if no engine of this core has the path.
    void issue_copy(const dma_request& r);
    /// @brief Waits until every pipe is idle.
    /// Waits until every posted write of the block's engines has reached GM.
    void wait_drained();
    void wait_idle();
    /// @brief The last fault reported on this core, empty if none.
    const std::string& fault() const { return m_fault; }
    /// @brief What this core's pipes and scalar unit are blocked on ("" if nothing).
    std::string blocked_report() const;
    /// @brief After a deadlock: unwinds the scalar unit's stack if a block is stuck on it.
    void kill_stuck_block();

    void attach_trace_all(trace_sink* sink);

    // pipe_executor
    exec_result execute(pipe& p, const instruction& ins, ps_t start) override;
    void on_fault(pipe& p, const std::string& what) override;
    bool settled(pipe& p, ps_t& complete) override;
    const sc_core::sc_event& progress(pipe& p) override;

  private:
    void scalar_thread();
    /// Cycles of a scalar GM access's round trip.
    uint32_t scalar_gm_latency() const;
    void raise(const std::string& unit, const instruction& ins, pipe_id p,
               const std::string& what) const;
    exec_result flag_op_exec(pipe& p, const flag_op& f, ps_t start);
    exec_result cross_flag_exec(pipe& p, const cross_flag_op& f, ps_t start);
    exec_result mmad_exec(pipe& p, const mmad_op& op, ps_t start);
    exec_result vector_exec(pipe& p, const vector_op& op, ps_t start);
    uint8_t& flag(pipe_id src, pipe_id dst, uint32_t id);

    unsigned m_id;
    core_params m_p;
    ps_t m_period;
    std::array<std::unique_ptr<local_buffer>, size_t(mem_space::count)> m_buffers;
    std::vector<std::unique_ptr<dma_engine>> m_engines;
    std::vector<std::unique_ptr<pipe>> m_pipes;
    std::array<pipe*, size_t(pipe_id::FIX) + 1> m_pipe_of{};  // by pipe id
    std::array<dma_engine*, size_t(pipe_id::FIX) + 1> m_engine_of{};
    std::vector<std::unique_ptr<protocol_checker>> m_checkers;
    cube_unit m_cube;
    vector_unit m_vector;

    // set_flag/wait_flag bits per (src pipe, dst pipe, id); pipe ids index 0..10.
    std::vector<uint8_t> m_flags;
    sc_core::sc_event m_flag_changed;
    std::vector<uint32_t> m_cross_flags;  // counters, one per cross-core flag id
    sc_core::sc_event m_cross_changed;
    std::vector<ai_core*> m_partners;

    std::function<void()> m_body;
    std::function<void(const block_result&)> m_done;
    sc_core::sc_event m_block_start;
    sc_core::sc_process_handle m_scalar;
    bool m_block_active = false, m_aborted = false;
    std::string m_fault;
    // What the scalar unit waits for, formatted only for a deadlock report (as a pipe's).
    std::function<std::string()> m_scalar_waiting;
};

/// @brief Whether a kind of core has a buffer (a split chip's cube core has no UB, its vector
/// cores only UB), whatever the platform's buffer sizes say.
bool kind_has_buffer(core_kind kind, mem_space s);
/// @brief The pipes a kind of core has, in report order.
std::vector<pipe_id> pipes_of(core_kind kind);

/// @brief Cross-core flag ids and the most sets a counter can hold (ascend-facts §1.4).
inline constexpr uint32_t cross_flag_ids = 11, cross_flag_max = 15;

}  // namespace npusim::models
