#pragma once
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "models/common/fifo.h"
#include "models/common/host_buffer.h"
#include "models/common/model_base.h"
#include "models/common/model_fault.h"
#include "models/common/timing.h"
#include "models/dma/burst_dispatcher.h"
#include "models/dma/burst_mover.h"
#include "models/dma/dma_request.h"
#include "models/memory/local_buffer.h"
#include "models/params.h"

namespace npusim::models {

/// @brief The pipe whose engine moves data along a path (src -> dst), or S if none does.
pipe_id engine_for_path(mem_space src, mem_space dst);

/// @brief A DMA engine (MTE1, MTE2, MTE3, FixPipe, or the vector unit's L0C->UB mover) as a
/// TLM-2.0 initiator that moves real bytes.
///
/// A transfer is split into bursts of the path's burst size from the start of each row of its
/// primary side (the GM side, or the ND side of a layout conversion). Each burst takes a slot
/// of the engine's burst mover (outstanding limit), reserves the engine port, then
/// every stage it crosses books its own calendar through b_transport. A burst with a GM side
/// does that (and moves its data) when the chip's burst dispatcher books it, in order of port
/// start with every other engine's; a local burst at once. Writes to GM are posted. The
/// local buffer at a transfer's far end (the end that is not GM, or the NZ end of a layout
/// conversion) is reached through DMI: its bursts book the banks and count the bytes directly
/// (the buffer's TLM target only answers an access outside it, with the error); a functional
/// plain copy with a GM side hands GM that memory itself as its data, so the bytes move once.
class dma_engine : public model_base, public burst_client {
    struct transfer;  // per-instruction state, see the .cpp
    struct held;      // a transfer whose GM bursts the dispatcher books later
    /// A GM burst registered with the dispatcher (a host cache line each).
    struct alignas(64) pending_burst {
        held* h;
        uint32_t row;
        uint64_t offset, len;
        ps_t start, release;
        size_t slot;
        uint64_t post;  // posted write id + 1 (0: a read)
    };
    // What the dispatcher's booking of a burst reads of the engine, declared first: next to the
    // burst_client part it calls through, in a few host cache lines. The dispatcher books the
    // chip's bursts in order of start, so consecutive bookings come from different engines and
    // each finds its engine's state cold.
    fifo<pending_burst> m_pending;  // in registration order, which is booking order
    bool m_functional;
    traced_signal m_inflight;
    std::vector<uint8_t> m_staging;

  public:
    tlm_utils::simple_initiator_socket<dma_engine> global_socket;  ///< to the interconnect
    /// To the core's local buffers, bound point to point by connect_local().
    tlm_utils::multi_passthrough_initiator_socket<dma_engine> local_socket;

    dma_engine(const sc_core::sc_module_name& nm, pipe_id pipe, const core_params& core);
    ~dma_engine() override;
    /// @brief Has `d` book this engine's GM bursts (call once, before simulation; the order of
    /// the calls breaks ties between bursts that start together).
    void join(burst_dispatcher& d) {
        m_client = (m_dispatcher = &d)->add_client(*this);
        m_mover.set_window(d.window());
    }

    /// @brief When an instruction frees the pipe for the next one, and when it is complete
    /// (absolute ps; for a GM transfer, a lower bound until settle()). A posted write is
    /// complete when the write buffer accepted it.
    struct timing {
        ps_t issue_end, complete;
    };
    /// @brief Books one instruction that the pipe starts at `start` (>= now); call from the
    /// owning pipe's thread. Waits until each local burst's start (less the start-up its later
    /// bursts cover) and when it needs the completion of a burst the dispatcher has not booked
    /// yet.
    /// @throws model_fault on a missing path, misaligned operand or rejected access (a GM
    /// burst's rejection surfaces at the engine's next call after its booking).
    timing execute(const dma_request& r, ps_t start);
    /// @brief Whether the dispatcher has booked every burst of this engine.
    bool settled() const { return m_pending.empty(); }
    /// @brief Waits until settled(); returns the latest completion of everything this engine
    /// moved. @throws model_fault of a burst the dispatcher booked since the last call.
    ps_t settle();
    /// @brief Notified when bursts of this engine were booked (call before each wait).
    const sc_core::sc_event& progress() { return m_mover.progress(); }
    /// @brief When every posted write of this engine has reached GM (final once settled).
    ps_t drained() const { return m_mover.drained(); }

    /// @brief Binds a local buffer of the core to this engine.
    void connect_local(local_buffer& buffer);
    /// @brief Binds the socket that leads to `buffer` (a protocol checker in front of it, say);
    /// accesses made through DMI book the buffer's banks directly.
    void connect_local(
        local_buffer& buffer,
        tlm_utils::multi_passthrough_initiator_socket<dma_engine>::base_target_socket_type& target);

    /// @brief Reads GM through the interconnect's debug transport, without timing (the scalar
    /// unit's GM loads). Returns the bytes read (fewer past the end of GM).
    unsigned debug_read(uint64_t addr, uint8_t* data, unsigned len);

    pipe_id pipe() const { return m_pipe; }
    bool has_path(mem_space src, mem_space dst) const;
    uint64_t bytes_moved() const { return m_bytes; }
    uint64_t bursts() const { return m_bursts; }
    /// @brief The L2 and GM traffic this engine's accesses caused.
    const traffic& traffic_caused() const { return m_mover.traffic_caused(); }
    void visit_stats(const stats_fn& fn) const override;

    // burst_client
    ps_t commit_next() override;
    void bursts_committed(ps_t window) override { m_mover.bursts_booked(window); }
    bool wakes_at(ps_t window) const override { return m_mover.wakes_at(window); }
    void prefetch() const override;

  private:
    void check(const dma_request& r) const;
    void burst(transfer& t, uint32_t row, uint64_t offset, uint64_t len);
    /// Moves one burst's data through every stage from `start`; returns its completion.
    ps_t move(transfer& t, uint32_t row, uint64_t offset, uint64_t len, ps_t start, ps_t release);
    /// Throws the fault of a booked burst, if any.
    void rethrow_fault();
    void release_held();
    void pad_nz(transfer& t);
    /// An NZ piece of `bytes` at `addr` of `t`'s local side lies past its `size`.
    [[noreturn]] void piece_outside(const transfer& t, uint64_t addr, uint64_t bytes,
                                    uint64_t size) const;
    timing fill_zero(const dma_request& r, const path_params& path, ps_t begin);
    timing fractal_load(const dma_request& r, const path_params& path, ps_t begin);
    timing img2col_load(const dma_request& r, const path_params& path, ps_t begin);
    /// The state of an instruction that starts at `begin`: its first request may go out after
    /// the path's start-up latency (plus the format-conversion latency of nd2nz/nz2nd).
    transfer begin_transfer(const dma_request& r, const path_params& path, ps_t begin) const;
    /// Issues the next `len` bytes of `t`'s requests and reserves the engine port for them;
    /// returns the burst's start and when it leaves the port. `slotted`: the burst also takes
    /// an outstanding slot and waits until its start, less the instruction's lag (the local
    /// fractal moves book the port only).
    std::pair<ps_t, ps_t> reserve_port(transfer& t, uint64_t len, bool slotted = false);
    /// When the request after `t`'s first `t.requested` bytes may go out: after the start-up,
    /// at the path's issue rate.
    ps_t next_request(const transfer& t) const;
    /// The port-only bursts of a run of `bytes`; returns the first one's start and the last
    /// one's release.
    std::pair<ps_t, ps_t> reserve_run(transfer& t, uint64_t bytes);
    /// When `t` frees the engine for the next instruction, and when it is complete.
    timing finish(const transfer& t, ps_t begin) const;
    /// One timed access; returns its completion time.
    ps_t access(transfer& t, mem_space space, bool write, uint64_t addr, uint8_t* data,
                uint64_t len, ps_t start);
    ps_t access(transfer& t, tlm::tlm_blocking_transport_if<>& target, mem_space space, bool write,
                uint64_t addr, uint8_t* data, uint64_t len, ps_t start);
    /// One access of `t`'s local secondary side: through DMI, booking the buffer's banks,
    /// or through its target where DMI does not cover it (that answers with the error).
    ps_t local_side(transfer& t, bool write, uint64_t addr, uint8_t* data, uint64_t len,
                    ps_t start);
    /// The target the engine reaches `space` through.
    tlm::tlm_blocking_transport_if<>& target_of(mem_space space);
    /// DMI pointer and size of a local buffer (cached). Without DMI: a fault, or {nullptr, 0}
    /// when not `required`.
    std::pair<uint8_t*, uint64_t> local_memory(mem_space space, bool required = true) {
        const auto& slot = m_dmi[size_t(space)];
        return slot.first ? slot : map_local(space, required);
    }
    std::pair<uint8_t*, uint64_t> map_local(mem_space space, bool required);
    void on_trace_attached() override;

    pipe_id m_pipe;
    core_params m_core;
    ps_t m_period;
    burst_mover m_mover;
    burst_dispatcher* m_dispatcher = nullptr;
    unsigned m_client = 0;
    std::deque<std::unique_ptr<held>> m_held;
    std::optional<model_fault> m_fault;
    std::vector<uint8_t> m_cast_buf;
    scratch_buffer m_src_block, m_dst_block;  // a timing-only run never touches them
    std::array<std::array<uint64_t, size_t(mem_space::count)>, size_t(mem_space::count)>
        m_path_bytes{};
    uint64_t m_bytes = 0, m_bursts = 0, m_transfers = 0;
    std::array<std::pair<uint8_t*, uint64_t>, size_t(mem_space::count)> m_dmi{};
    std::array<tlm::tlm_blocking_transport_if<>*, size_t(mem_space::count)>
        m_target{};                                          // per space
    std::array<int, size_t(mem_space::count)> m_local_port;  // local_socket index per space
    std::array<local_buffer*, size_t(mem_space::count)> m_local_buf{};  // for DMI bank booking
    unsigned m_local_count = 0;
};

}  // namespace npusim::models
