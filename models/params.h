#pragma once
// Plain parameter structs for the hardware models. They carry resolved numbers only (no units, no
// YAML); the platform layer fills them from the validated config.
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "models/core/dtype.h"
#include "models/core/vector_op.h"

namespace npusim::models {

/// @brief Local memories of one core; the index doubles as the local address-map slot.
enum class mem_space : uint8_t { gm, l1, l0a, l0b, l0c, ub, bt, fb, count };
/// Inline: the DMA engines name the space of every access they make.
inline const char* to_string(mem_space s) {
    static constexpr const char* names[] = {"GM", "L1", "L0A", "L0B", "L0C", "UB", "BT", "FB"};
    return size_t(s) < std::size(names) ? names[size_t(s)] : "?";
}

/// @brief One data path between two memories, as moved by a DMA engine. Back to back on an idle
/// engine an instruction of S bytes costs max(issue, latency + S / issue rate, S / bandwidth)
/// cycles (docs/timing-model.md).
struct path_params {
    double bytes_per_cycle = 0;  ///< port bandwidth; 0 = the path does not exist
    /// Start-up of each instruction before its first request; not overlapped with the previous
    /// instruction's requests (only with the tail of its data on the port).
    uint32_t latency_cycles = 0;
    double issue_bytes_per_cycle = 0;    ///< rate one instruction issues requests; 0 = unbounded
    uint32_t issue_cycles = 0;           ///< issue floor: an instruction holds its engine this long
    uint32_t format_latency_cycles = 0;  ///< extra start-up of an nd2nz / nz2nd conversion
    uint32_t burst_bytes = 512;          ///< transfers split at multiples of this address boundary
    uint32_t burst_overhead_cycles = 0;  ///< per-burst command cost on the engine port
    bool present() const { return bytes_per_cycle > 0; }
};

/// @brief One on-core buffer (L1, L0A, ...). size 0 = the core has no such buffer.
struct buffer_params {
    uint64_t size = 0;
    uint32_t alignment = 32;
    uint32_t banks = 1;
    double bank_bytes_per_cycle = 256;  ///< throughput of one bank; conflicting bursts serialise
};

/// @brief Global memory (HBM/DDR).
struct gm_params {
    uint64_t capacity = 0;
    uint32_t channels = 1;
    double bandwidth = 0;  ///< bytes/s summed over all channels
    uint64_t latency_ps = 0;
    uint32_t interleave_bytes = 512;  ///< address interleave between channels
    uint32_t access_granule = 32;     ///< smallest access; partial granules cost a whole one
    bool functional = true;           ///< false: timing only, bytes are not stored
};

/// @brief Shared L2 cache stage in front of GM (tags only; data lives in GM).
struct l2_params {
    bool enabled = true;
    uint64_t size = 0;
    uint32_t line_bytes = 512;
    uint32_t ways = 16;
    uint64_t hit_latency_ps = 0;
    uint64_t miss_latency_ps = 0;
    double bandwidth = 0;       ///< bytes/s
    bool functional = true;     ///< false: hits fetch no data (timing only)
    bool cold_kernels = false;  ///< drop every line when a kernel starts (cold-cache runs)
};

/// @brief Chip interconnect between cores and L2/GM.
struct noc_params {
    double bandwidth = 0;  ///< bytes/s, shared by all cores
    uint64_t latency_ps = 0;
};

/// @brief PCIe-like link for host<->device copies.
struct host_link_params {
    double bandwidth = 0;  ///< bytes/s
    uint64_t latency_ps = 0;
    uint32_t burst_bytes = 4096;
    uint32_t max_outstanding = 16;  ///< bursts in flight on the link
};

/// @brief The chip's system DMA, which runs device-to-device copies and memsets for the host.
struct sdma_params {
    double bandwidth = 0;  ///< bytes/s, shared by all copies in flight
    uint32_t burst_bytes = 4096;
    uint32_t max_outstanding = 32;  ///< bursts in flight (a copy's read and write count once)
};

/// @brief DMA engine behaviour shared by all engines of a core.
struct dma_params {
    uint32_t max_outstanding = 64;  ///< bursts an engine has in flight (hardware request slots)
    uint64_t write_buffer = 16384;  ///< bytes of posted GM writes an engine may have in flight
    uint32_t queue_depth = 32;      ///< per-pipe instruction queue depth
};

}  // namespace npusim::models

namespace npusim::models {

/// @brief Hardware instruction queues, numbered as the CCE intrinsic ABI numbers them.
enum class pipe_id : uint8_t {
    S = 0,
    V = 1,
    M = 2,
    MTE1 = 3,
    MTE2 = 4,
    MTE3 = 5,
    ALL = 6,
    FIX = 10
};
const char* to_string(pipe_id p);

/// @brief Kind of core: coupled AI core, or the cube / vector core of a split chip.
enum class core_kind : uint8_t { aicore, aic, aiv };
const char* to_string(core_kind k);

/// @brief Cube fractal: rows x depth x columns the cube computes per cycle for one dtype.
struct fractal {
    uint32_t m = 16, k = 16, n = 16;
};

/// @brief Cube unit parameters.
struct cube_params {
    fractal fp16, bf16, int8{16, 32, 16}, fp32{16, 8, 16};
    /// Whether the cube multiplies fp32 operands (910B family; not 910 or 310P).
    bool fp32_mmad = false;
    /// Issue floor: an mmad holds the M pipe for max(issue_cycles, fixed_cycles + its fractal
    /// count) cycles.
    uint32_t issue_cycles = 1;
    uint32_t fixed_cycles = 0;    ///< per-mmad operand set-up, not overlapped with the previous
    uint32_t latency_cycles = 0;  ///< from the end of its issue to its result in L0C
    const fractal& of(dtype t) const {
        return t == dtype::int8 ? int8 : t == dtype::bf16 ? bf16 : t == dtype::fp32 ? fp32 : fp16;
    }
};

/// @brief Cost of one vector instruction in one dtype pair, from the platform's table of
/// instructions; a zero takes the unit-wide default.
struct vector_instr_cost {
    uint32_t issue_cycles = 0;     ///< issue floor (0: vector_costs::issue_cycles)
    uint32_t fixed_cycles = 0;     ///< added to every instruction's repeats
    double cycles_per_repeat = 0;  ///< 0: the class default
};

struct vector_costs {
    uint32_t issue_cycles = 1;    ///< default issue floor
    uint32_t latency_cycles = 0;  ///< from the end of its issue to its result in UB
    double cycles_per_repeat[5] = {1, 2, 4, 2, 1};  ///< class defaults, indexed by vec_class
    /// Per instruction and (source, destination) dtype, shared between the copies every core
    /// and engine keep (copy on write); null while every row is zero.
    std::shared_ptr<std::vector<vector_instr_cost>> instr;
    const vector_instr_cost& row(vec_opcode op, dtype src, dtype dst) const {
        static const vector_instr_cost zero{};
        return instr ? (*instr)[slot(op, src, dst)] : zero;
    }
    vector_instr_cost& row(vec_opcode op, dtype src, dtype dst) {
        if (!instr)
            instr = std::make_shared<std::vector<vector_instr_cost>>(k_vec_opcode_count *
                                                                     k_dtype_count * k_dtype_count);
        else if (instr.use_count() > 1)
            instr = std::make_shared<std::vector<vector_instr_cost>>(*instr);
        return (*instr)[slot(op, src, dst)];
    }

  private:
    static size_t slot(vec_opcode op, dtype src, dtype dst) {
        return (size_t(op) * k_dtype_count + size_t(src)) * k_dtype_count + size_t(dst);
    }
};

/// @brief Everything one core needs to be built.
struct core_params {
    core_kind kind = core_kind::aicore;
    double clock_hz = 1e9;
    std::array<buffer_params, static_cast<size_t>(mem_space::count)> buffers{};
    /// paths[src][dst]; absent paths have bytes_per_cycle 0.
    std::array<std::array<path_params, static_cast<size_t>(mem_space::count)>,
               static_cast<size_t>(mem_space::count)>
        paths{};
    dma_params dma;
    cube_params cube;
    vector_costs vector;
    uint32_t event_ids = 8;  ///< set_flag/wait_flag ids per pipe pair
    bool functional = true;  ///< false: timing only, no arithmetic and no data copies
    const buffer_params& buffer(mem_space s) const { return buffers[static_cast<size_t>(s)]; }
    const path_params& path(mem_space src, mem_space dst) const {
        return paths[static_cast<size_t>(src)][static_cast<size_t>(dst)];
    }
};

}  // namespace npusim::models
