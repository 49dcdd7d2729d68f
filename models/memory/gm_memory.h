#pragma once
#include <systemc>
#include <tlm>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "models/common/lt_target.h"
#include "models/common/model_base.h"
#include "models/common/timing.h"
#include "models/memory/page_pool.h"
#include "models/params.h"

namespace npusim::models {

/// @brief Global memory (HBM/DDR) target: sparse backing store, interleaved channels (with the
/// address hashed over them), each a serial resource with its share of the bandwidth, plus a
/// fixed access latency.
///
/// Storage is allocated in 2 MiB pages on first write (or DMI request), so a 64 GiB preset
/// costs host memory only for what a workload touches. Unwritten bytes read as zero. Pages are
/// anonymous mappings the OS zeroes; in functional mode a page_pool faults the next ones in on
/// another host thread, ahead of the writes that need them.
///
/// Timing-only (`functional` false): bursts move no bytes, except into and out of kept ranges
/// (keep()): data that decides addresses or control flow, such as gather indices, which the
/// scalar unit reads through the debug transport. Timing then matches functional mode.
class gm_memory : public model_base, public lt_target {
  public:
    tlm::tlm_target_socket<> target_socket;  ///< bound to this model (lt_target)

    gm_memory(const sc_core::sc_module_name& nm, const gm_params& p);

    /// @brief Backdoor copies for loading inputs and checking results (no timing).
    void read(uint64_t addr, void* dst, uint64_t len) const;
    void write(uint64_t addr, const void* src, uint64_t len);

    /// @brief A read of poisoned (freed) memory, for the allocator's debug mode.
    struct poison_hit {
        uint64_t addr = 0, len = 0;
        ps_t time = 0;
    };
    /// @brief Marks [addr, addr + len) freed (reads of it are recorded) or live again.
    void poison(uint64_t addr, uint64_t len, bool freed);
    /// @brief Marks [addr, addr + len) as kept (its bytes are stored even when not functional,
    /// as they decide addresses or control flow) or not any more.
    void keep(uint64_t addr, uint64_t len, bool kept);
    bool has_kept() const { return !m_kept.empty(); }

    /// @brief Reads of poisoned memory between two times.
    std::vector<poison_hit> poison_hits(ps_t from, ps_t to) const;

    uint64_t read_bytes() const { return m_read_bytes; }
    uint64_t write_bytes() const { return m_write_bytes; }
    uint64_t pages_allocated() const { return m_pages.size(); }
    const gm_params& params() const { return m_p; }
    void visit_stats(const stats_fn& fn) const override;

    static constexpr uint64_t page_bytes = 2 * 1024 * 1024;

  private:
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) override;
    unsigned int transport_dbg(tlm::tlm_generic_payload& trans) override;
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) override;
    void on_trace_attached() override;

    uint8_t* page(uint64_t index);  // allocates
    const uint8_t* page_or_null(uint64_t index) const;
    void copy(uint64_t addr, uint8_t* data, uint64_t len, bool to_memory);
    void copy_kept(uint64_t addr, uint8_t* data, uint64_t len, bool to_memory);
    void check_poison(uint64_t addr, uint64_t len);
    unsigned channel_of(uint64_t addr) const;

    gm_params m_p;
    std::vector<calendar> m_channels;
    byte_rate m_channel_rate;
    unsigned m_channel_bits = 0;  // ceil(log2(channels))
    // channel_of()'s folds of the unit index's higher bits, cached by those bits (hashed):
    // a stream's consecutive bursts share them, and the engines' streams interleave.
    struct fold_entry {
        uint64_t high = ~uint64_t{0}, fold = 0;
    };
    static constexpr unsigned k_fold_bits = 6;
    mutable std::array<fold_entry, 1u << k_fold_bits> m_folds{};
    unsigned m_unit_shift = 0, m_granule_shift = 0;  // log2 of the sizes, 0: not a power of two
    page_pool m_pool;
    struct page_unmap {
        void operator()(uint8_t* p) const;
    };
    std::unordered_map<uint64_t, std::unique_ptr<uint8_t, page_unmap>> m_pages;
    uint64_t m_read_bytes = 0, m_write_bytes = 0, m_reads = 0, m_writes = 0;
    traced_signal m_read_inflight, m_write_inflight;
    std::map<uint64_t, uint64_t> m_poisoned;  ///< start -> end of freed ranges
    std::map<uint64_t, uint64_t> m_kept;      ///< start -> end of kept ranges
    std::vector<poison_hit> m_poison_hits;
};

}  // namespace npusim::models
