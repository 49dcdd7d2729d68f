#pragma once
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <array>
#include <cstdint>
#include <vector>

#include "models/common/model_base.h"
#include "models/common/timing.h"
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
/// primary side (the GM side, or the ND side of a layout conversion). Each burst reserves the
/// engine port, then every stage it crosses adds its own reservation through b_transport. The
/// engine waits once per window of bursts (issuing the next when the current window's first
/// burst is through), so engines that share GM interleave fairly, and once at the end for the
/// latency. NZ scatter/gather in a local buffer moves through DMI with one timing access.
class dma_engine : public model_base {
  public:
    tlm_utils::simple_initiator_socket<dma_engine> global_socket;  ///< to the interconnect
    /// To the core's local buffers, bound point to point by connect_local().
    tlm_utils::multi_passthrough_initiator_socket<dma_engine> local_socket;

    dma_engine(const sc_core::sc_module_name& nm, pipe_id pipe, const core_params& core);
    ~dma_engine() override { m_trans.clear_extension(&m_timing); }  // not heap-owned

    /// @brief Runs one instruction to completion; call from the owning pipe's thread.
    /// @throws model_fault on a missing path, misaligned operand or rejected access.
    void execute(const dma_request& r);

    /// @brief Binds a local buffer of the core to this engine.
    void connect_local(local_buffer& buffer);
    /// @brief Binds the socket that leads to the local buffer of `space` (a protocol checker
    /// in front of it, say).
    void connect_local(
        mem_space space,
        tlm_utils::multi_passthrough_initiator_socket<dma_engine>::base_target_socket_type& target);

    /// @brief Reads GM through the interconnect's debug transport, without timing (the scalar
    /// unit's GM loads). Returns the bytes read (fewer past the end of GM).
    unsigned debug_read(uint64_t addr, uint8_t* data, unsigned len);

    pipe_id pipe() const { return m_pipe; }
    bool has_path(mem_space src, mem_space dst) const;
    uint64_t bytes_moved() const { return m_bytes; }
    uint64_t bursts() const { return m_bursts; }
    void visit_stats(const stats_fn& fn) const override;

  private:
    struct transfer;  // per-instruction state, see the .cpp
    void check(const dma_request& r) const;
    void burst(transfer& t, uint32_t row, uint64_t offset, uint64_t len);
    void pad_nz(transfer& t);
    void fractal_load(const dma_request& r, const path_params& path);
    void img2col_load(const dma_request& r, const path_params& path);
    /// Reserves the engine port for one burst; returns its start, sets m_timing.release.
    ps_t reserve_port(const path_params& path, uint64_t len, ps_t arrival);
    /// One timed access; returns its completion time.
    ps_t access(transfer& t, mem_space space, bool write, uint64_t addr, uint8_t* data,
                uint64_t len, ps_t start, bool timing_only = false);
    /// DMI pointer and size of a local buffer (cached).
    std::pair<uint8_t*, uint64_t> local_memory(mem_space space);
    void on_trace_attached() override;

    pipe_id m_pipe;
    core_params m_core;
    ps_t m_period;
    tlm::tlm_generic_payload m_trans;
    burst_timing m_timing;
    serial_resource m_port;
    std::vector<uint8_t> m_staging, m_cast_buf, m_src_block, m_dst_block;
    std::array<std::array<uint64_t, size_t(mem_space::count)>, size_t(mem_space::count)>
        m_path_bytes{};
    uint64_t m_bytes = 0, m_bursts = 0, m_transfers = 0;
    std::array<std::pair<uint8_t*, uint64_t>, size_t(mem_space::count)> m_dmi{};
    std::array<int, size_t(mem_space::count)> m_local_port;  // local_socket index per space
    unsigned m_local_count = 0;
    traced_signal m_inflight;
};

}  // namespace npusim::models
