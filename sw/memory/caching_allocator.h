#pragma once

#include "sw/memory/address_table.h"
#include "sw/memory/size_class_pool.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace npusim::memory {

/// @brief Where device memory really comes from (the driver): whole segments, at a cost.
class device_driver {
  public:
    virtual ~device_driver() = default;
    virtual bool allocate(uint64_t bytes, uint64_t& addr) = 0;
    virtual bool release(uint64_t addr) = 0;
    virtual uint64_t capacity() const = 0;
};

/// @brief How far each stream's work has got, so a freed block can be handed to another stream
/// only once the work that may still use it has completed.
class stream_clock {
  public:
    using stream_id = uint64_t;
    virtual ~stream_clock() = default;
    /// @brief A mark after everything submitted to `s` so far.
    virtual uint64_t position(stream_id s) const = 0;
    /// @brief True once all work of `s` before `mark` has completed.
    virtual bool passed(stream_id s, uint64_t mark) const = 0;
    /// @brief Waits for every stream (before the cache is released); may do nothing.
    virtual void synchronize_all() {}
};

/// @brief Caching allocator settings. Sizes in bytes.
struct allocator_config {
    uint64_t alignment = 512;  ///< block size granule and start alignment (power of two)
    uint64_t max_split_size = ~uint64_t(0);  ///< larger cached blocks are never split
    double gc_threshold = 0;  ///< free old cached blocks once reserved > this x capacity (0 = off)
    bool caching = true;      ///< false: every free goes straight back to the driver
};

/// @brief One figure with PyTorch's four views of it.
struct stat {
    int64_t current = 0, peak = 0, allocated = 0, freed = 0;
    void add(int64_t n) {
        current += n;
        if (n > 0) allocated += n;
        if (n < 0) freed -= n;
        peak = std::max(peak, current);
    }
};

/// @brief A caching device allocator in the manner of PyTorch's: requests are rounded to the
/// alignment; small (<= 1 MiB) and large pools; segments of 2 MiB, 20 MiB or the rounded
/// request from the driver; best-fit reuse, block split and merge with free neighbours;
/// stream-aware reuse; release and retry before out-of-memory. Plain C++: the caller turns
/// driver calls and cache hits into simulated time.
/// @brief One block of a segment in a snapshot. `state` is PyTorch's: "active_allocated",
/// "active_pending_free" (freed, waiting for another stream's work) or "inactive" (cached).
struct block_snapshot {
    uint64_t addr = 0, size = 0, requested = 0;
    std::string state, tag;
};

/// @brief One segment (a driver allocation) and its blocks, in address order.
struct segment_snapshot {
    uint64_t addr = 0, size = 0, allocated = 0;
    uint64_t stream = 0;
    bool small = false;
    std::vector<block_snapshot> blocks;
};

class caching_allocator {
  public:
    using stream_id = stream_clock::stream_id;
    enum pool_kind { all_pools = 0, large_pool = 1, small_pool = 2 };

    caching_allocator(device_driver& driver, stream_clock& clock, allocator_config cfg);
    ~caching_allocator();

    /// @brief Allocates `bytes` for use on `stream`. Returns false if the device is out of
    /// memory even after releasing the cache (error() then says why, with the summary).
    /// @throws std::invalid_argument for a zero size.
    bool allocate(uint64_t bytes, stream_id stream, uint64_t& addr, const std::string& tag = "");
    /// @brief Frees a block. Returns false (see error()) for a double free or a pointer that is
    /// not the start of a live block.
    bool free(uint64_t addr);
    /// @brief Marks a block as used by another stream: once freed, it is reused only after that
    /// stream's work submitted so far has completed.
    bool record_stream(uint64_t addr, stream_id stream);
    /// @brief Returns every cached block that is not part of a live segment to the driver.
    void empty_cache();

    /// @brief Size of the live block at `addr` (0 if none).
    uint64_t block_size(uint64_t addr) const;
    /// @brief Every segment with its blocks (PyTorch's memory_snapshot()).
    std::vector<segment_snapshot> snapshot() const;
    /// @brief Bytes in allocated blocks now.
    int64_t allocated_bytes() const { return m_allocated_bytes[all_pools].current; }
    const std::string& error() const { return m_error; }

    /// @brief Statistics with PyTorch's memory_stats() keys (plus cache_hits).
    std::map<std::string, int64_t> stats() const;
    void reset_peak();
    /// @brief A printable table in the manner of PyTorch's memory_summary().
    std::string memory_summary() const;
    uint64_t cache_hits() const { return m_cache_hits; }
    uint64_t device_allocs() const { return m_device_allocs; }
    uint64_t device_frees() const { return m_device_frees; }
    const allocator_config& config() const { return m_cfg; }

    /// @brief Called with (addr, size, freed) when a block is freed into or taken from the cache.
    std::function<void(uint64_t, uint64_t, bool)> on_block_state;

  private:
    struct block {
        uint64_t addr = 0, size = 0, requested = 0;
        stream_id stream = 0;
        uint64_t mark = 0;       ///< its stream's clock position when it was freed
        uint64_t cached_at = 0;  ///< allocation count when it was cached (age for GC)
        bool allocated = false, small = false, cached = false;
        block *prev = nullptr, *next = nullptr;            ///< neighbours within the segment
        std::vector<std::pair<stream_id, uint64_t>> uses;  ///< other streams, then their marks
        std::string tag;
        boost::intrusive::list_member_hook<> pool_link;
        bool is_split() const { return prev || next; }
    };
    using pool_set = size_class_pool<block, &block::pool_link>;

    bool is_small(uint64_t size) const;
    uint64_t round_size(uint64_t bytes) const;
    block* new_segment(uint64_t addr, uint64_t size, bool small, stream_id stream);
    void drop_segment(block* b);  ///< an unsplit cached segment back to the driver
    uint64_t segment_size(uint64_t size) const;
    block* find_free(uint64_t size, stream_id stream, bool small);
    block* containing(uint64_t addr) const;
    bool should_split(const block& b, uint64_t size) const;
    block* split(block* b, uint64_t size);
    void release_block(block* b);  ///< a freed block back into its pool, merged
    void process_pending();
    bool release_cached(bool oversize_only, uint64_t need);
    void collect_garbage();
    block* new_block();
    void delete_block(block* b);
    pool_set& pool_of(const block& b) { return b.small ? m_small : m_large; }
    void cache(block* b) {
        b->cached = true;
        pool_of(*b).insert(*b);
    }
    void uncache(block* b) {
        b->cached = false;
        pool_of(*b).erase(*b);
    }
    /// Adds n blocks of `bytes` to a stat array's totals and its pool's.
    static void count(stat (&s)[3], bool small, int64_t n) {
        s[all_pools].add(n);
        s[small ? small_pool : large_pool].add(n);
    }
    std::string oom_message(uint64_t bytes, uint64_t rounded) const;

    device_driver& m_driver;
    stream_clock& m_clock;
    allocator_config m_cfg;
    pool_set m_small, m_large;              ///< cached (free) blocks
    address_table<block> m_live;            ///< allocated blocks by address
    std::map<uint64_t, block*> m_segments;  ///< first block of every segment, by address
    std::vector<block*> m_pending;          ///< freed, waiting for other streams' work
    std::vector<std::unique_ptr<block[]>> m_storage;
    std::vector<block*> m_spare;
    uint64_t m_clock_ticks = 0;  ///< allocations so far, for ages in garbage collection
    std::string m_error;

    stat m_allocation[3], m_segment[3], m_active[3], m_inactive_split[3];
    stat m_allocated_bytes[3], m_reserved_bytes[3], m_active_bytes[3], m_inactive_split_bytes[3],
        m_requested_bytes[3];
    uint64_t m_alloc_retries = 0, m_ooms = 0, m_sync_all = 0, m_device_allocs = 0,
             m_device_frees = 0, m_cache_hits = 0;
};

}  // namespace npusim::memory
