// The caching allocator on its own: pools, rounding, split and merge, best fit, oversize
// rules, stream-aware reuse, statistics after known sequences, OOM recovery, bad input. Every
// expected figure is worked out by hand from PyTorch's rules in the comments.
#include <boost/test/unit_test.hpp>

#include <stdexcept>

#include "sw/memory/caching_allocator.h"
#include "sw/memory/device_allocator.h"
#include "sw/memory/tensor.h"

using namespace npusim::memory;

namespace {

constexpr uint64_t KiB = 1024, MiB = 1024 * 1024;

/// Streams whose progress the test sets by hand.
struct manual_clock : stream_clock {
    std::map<stream_id, uint64_t> submitted, done;
    uint64_t position(stream_id s) const override {
        auto it = submitted.find(s);
        return it == submitted.end() ? 0 : it->second;
    }
    bool passed(stream_id s, uint64_t mark) const override {
        auto it = done.find(s);
        return (it == done.end() ? 0 : it->second) >= mark;
    }
};

struct fixture {
    explicit fixture(uint64_t capacity = 1024 * MiB, allocator_config cfg = {})
        : driver(capacity, 512), alloc(driver, clock, cfg) {}
    uint64_t get(uint64_t bytes, stream_clock::stream_id s = 0, const std::string& tag = "") {
        uint64_t a = ~uint64_t(0);
        BOOST_REQUIRE_MESSAGE(alloc.allocate(bytes, s, a, tag), alloc.error());
        return a;
    }
    int64_t stat(const std::string& key) { return alloc.stats().at(key); }
    device_allocator driver;
    manual_clock clock;
    caching_allocator alloc;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(caching_allocator_suite)

BOOST_AUTO_TEST_CASE(rounding_pools_split_merge_and_stats) {
    fixture f;
    // 1 byte -> a 512-byte block in the small pool, cut from a new 2 MiB segment.
    const uint64_t a = f.get(1);
    BOOST_CHECK_EQUAL(f.stat("allocation.small_pool.current"), 1);
    BOOST_CHECK_EQUAL(f.stat("segment.small_pool.current"), 1);
    BOOST_CHECK_EQUAL(f.stat("reserved_bytes.all.current"), int64_t(2 * MiB));
    BOOST_CHECK_EQUAL(f.stat("allocated_bytes.all.current"), 512);
    BOOST_CHECK_EQUAL(f.stat("requested_bytes.all.current"), 1);
    BOOST_CHECK_EQUAL(f.stat("inactive_split.small_pool.current"), 1);
    BOOST_CHECK_EQUAL(f.stat("inactive_split_bytes.small_pool.current"), int64_t(2 * MiB - 512));
    // 3 MiB -> large pool, a 20 MiB segment split 3 + 17.
    const uint64_t b = f.get(3 * MiB);
    BOOST_CHECK_EQUAL(f.stat("segment.large_pool.current"), 1);
    BOOST_CHECK_EQUAL(f.stat("reserved_bytes.all.current"), int64_t(22 * MiB));
    BOOST_CHECK_EQUAL(f.stat("inactive_split_bytes.large_pool.current"), int64_t(17 * MiB));
    // 12 MiB fits the cached 17 MiB remainder (best fit, a cache hit), split 12 + 5.
    const uint64_t c = f.get(12 * MiB);
    BOOST_CHECK_EQUAL(c, b + 3 * MiB);
    BOOST_CHECK_EQUAL(f.stat("cache_hits"), 1);
    BOOST_CHECK_EQUAL(f.stat("num_device_alloc"), 2);
    BOOST_CHECK_EQUAL(f.stat("allocated_bytes.large_pool.current"), int64_t(15 * MiB));
    BOOST_CHECK_EQUAL(f.stat("inactive_split.large_pool.current"), 1);
    BOOST_CHECK_EQUAL(f.stat("inactive_split_bytes.large_pool.current"), int64_t(5 * MiB));
    // Free b: no free neighbour yet, so it becomes a second inactive split block.
    BOOST_CHECK(f.alloc.free(b));
    BOOST_CHECK_EQUAL(f.stat("inactive_split.large_pool.current"), 2);
    BOOST_CHECK_EQUAL(f.stat("inactive_split_bytes.large_pool.current"), int64_t(8 * MiB));
    // Free c: it merges with both neighbours into the whole 20 MiB segment.
    BOOST_CHECK(f.alloc.free(c));
    BOOST_CHECK_EQUAL(f.stat("inactive_split.large_pool.current"), 0);
    BOOST_CHECK_EQUAL(f.stat("inactive_split_bytes.large_pool.current"), 0);
    BOOST_CHECK_EQUAL(f.stat("allocation.large_pool.freed"), 2);
    BOOST_CHECK_EQUAL(f.stat("allocated_bytes.large_pool.freed"), int64_t(15 * MiB));
    BOOST_CHECK_EQUAL(f.stat("active.all.current"), 1);
    // empty_cache returns the unsplit 20 MiB segment; the small one still holds a.
    f.alloc.empty_cache();
    BOOST_CHECK_EQUAL(f.stat("num_device_free"), 1);
    BOOST_CHECK_EQUAL(f.stat("num_sync_all_streams"), 1);
    BOOST_CHECK_EQUAL(f.stat("reserved_bytes.all.current"), int64_t(2 * MiB));
    BOOST_CHECK_EQUAL(f.stat("reserved_bytes.all.peak"), int64_t(22 * MiB));
    f.alloc.reset_peak();
    BOOST_CHECK_EQUAL(f.stat("reserved_bytes.all.peak"), int64_t(2 * MiB));
    BOOST_CHECK_EQUAL(f.alloc.block_size(a), 512u);
    const std::string summary = f.alloc.memory_summary();
    BOOST_CHECK(summary.find("Allocated memory") != std::string::npos);
    BOOST_CHECK(summary.find("from large pool") != std::string::npos);
    BOOST_CHECK(summary.find("device OOMs: 0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(best_fit_picks_the_smallest_free_block_that_fits) {
    fixture f;
    const uint64_t A = f.get(4 * KiB), x = f.get(512), B = f.get(8 * KiB), y = f.get(512),
                   C = f.get(16 * KiB), z = f.get(512);
    BOOST_CHECK_EQUAL(B, A + 4 * KiB + 512);
    for (uint64_t p : {A, B, C}) BOOST_CHECK(f.alloc.free(p));
    BOOST_CHECK_EQUAL(f.get(5000), B);      // 5120: A is too small, B fits best
    BOOST_CHECK_EQUAL(f.get(12 * KiB), C);  // C, not the big remainder
    BOOST_CHECK_EQUAL(f.get(4 * KiB), A);
    for (uint64_t p : {A, B, C, x, y, z}) BOOST_CHECK(f.alloc.free(p));
    // Everything merged back into one segment-sized free block.
    BOOST_CHECK_EQUAL(f.stat("inactive_split.all.current"), 0);
    BOOST_CHECK_EQUAL(f.get(MiB), A);
    BOOST_CHECK_EQUAL(f.stat("num_device_alloc"), 1);
}

BOOST_AUTO_TEST_CASE(oversize_blocks_follow_the_split_limit) {
    allocator_config cfg;
    cfg.max_split_size = 40 * MiB;
    fixture f(1024 * MiB, cfg);
    const uint64_t big = f.get(50 * MiB);
    BOOST_CHECK(f.alloc.free(big));
    // Below the limit: never served from a block above it.
    const uint64_t small = f.get(3 * MiB);
    BOOST_CHECK(small != big);
    BOOST_CHECK_EQUAL(f.stat("num_device_alloc"), 2);
    // Above the limit: a cached block less than 20 MiB larger is taken whole, not split.
    BOOST_CHECK_EQUAL(f.get(45 * MiB), big);
    BOOST_CHECK_EQUAL(f.alloc.block_size(big), 50 * MiB);
    BOOST_CHECK_EQUAL(f.stat("max_split_size"), int64_t(40 * MiB));
}

BOOST_AUTO_TEST_CASE(freed_block_is_reused_by_its_stream_at_once_by_others_after_its_work) {
    fixture f;
    f.clock.submitted[1] = 5;  // stream 1 has work in flight
    const uint64_t a = f.get(4 * KiB, 1);
    f.get(4 * KiB, 1);  // a live neighbour keeps a's block from merging
    BOOST_CHECK(f.alloc.free(a));
    BOOST_CHECK(f.get(4 * KiB, 3) != a);      // stream 3 must not get it yet
    BOOST_CHECK_EQUAL(f.get(4 * KiB, 1), a);  // stream 1 may: its work is ordered after
    BOOST_CHECK(f.alloc.free(a));
    BOOST_CHECK(f.get(4 * KiB, 2) != a);
    f.clock.done[1] = 5;  // stream 1's work has finished
    BOOST_CHECK_EQUAL(f.get(4 * KiB, 2), a);
}

BOOST_AUTO_TEST_CASE(record_stream_defers_reuse_until_that_stream_is_done) {
    fixture f;
    const uint64_t a = f.get(4 * KiB, 1);
    BOOST_CHECK(f.alloc.record_stream(a, 3));
    f.clock.submitted[3] = 2;
    BOOST_CHECK(f.alloc.free(a));
    BOOST_CHECK_EQUAL(f.stat("active.all.current"), 1);  // freed, but stream 3 may read it
    BOOST_CHECK_EQUAL(f.stat("allocation.all.current"), 0);
    BOOST_CHECK(f.get(4 * KiB, 1) != a);  // even its own stream waits
    f.clock.done[3] = 2;
    const uint64_t c = f.get(8 * KiB, 1);  // processing pending frees releases a
    BOOST_CHECK_EQUAL(f.stat("active.all.current"), 2);
    BOOST_CHECK(c != a);
    BOOST_CHECK_EQUAL(f.get(4 * KiB, 1), a);
    BOOST_CHECK(!f.alloc.record_stream(12345, 2));
}

BOOST_AUTO_TEST_CASE(out_of_memory_releases_the_cache_retries_then_reports) {
    fixture f(24 * MiB);
    const uint64_t a = f.get(12 * MiB);  // a 12 MiB segment
    BOOST_CHECK(f.alloc.free(a));        // cached
    const uint64_t b = f.get(20 * MiB);  // needs the cache released: one retry
    (void)b;
    BOOST_CHECK_EQUAL(f.stat("num_alloc_retries"), 1);
    BOOST_CHECK_EQUAL(f.stat("num_device_free"), 1);
    uint64_t c = 0;
    BOOST_CHECK(!f.alloc.allocate(10 * MiB, 0, c));
    BOOST_CHECK_EQUAL(f.stat("num_ooms"), 1);
    const std::string e = f.alloc.error();
    BOOST_CHECK_MESSAGE(
        e.find("out of device memory: tried to allocate 10.0 MiB (10485760 bytes, rounded to "
               "10485760); the device has 24.0 MiB in total, 20.0 MiB reserved by the cache of "
               "which 20.0 MiB is allocated, 4.0 MiB not reserved") == 0,
        e);
    BOOST_CHECK(e.find("device OOMs: 1") != std::string::npos);
    BOOST_CHECK(e.find("Reserved memory") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_frees_and_sizes_name_the_pointer) {
    fixture f;
    BOOST_CHECK(!f.alloc.free(0x3039));
    BOOST_CHECK_EQUAL(f.alloc.error(),
                      "0x3039 was not allocated by this allocator (no device segment holds it)");
    const uint64_t a = f.get(4 * KiB, 0, "weights");
    BOOST_CHECK(!f.alloc.free(a + 512));
    BOOST_CHECK_EQUAL(f.alloc.error(),
                      "0x200 is inside block [0x0, +4096) ('weights'); free the address the "
                      "allocation returned");
    BOOST_CHECK(f.alloc.free(a));
    BOOST_CHECK(!f.alloc.free(a));
    BOOST_CHECK_EQUAL(f.alloc.error(), "0x0 is not allocated: it was already freed (double free)");
    uint64_t out = 0;
    BOOST_CHECK_EXCEPTION(f.alloc.allocate(0, 0, out, "empty"), std::invalid_argument,
                          [](const std::invalid_argument& e) {
                              return std::string(e.what()) ==
                                     "allocate 'empty': a size of 0 bytes; ask for at least 1 "
                                     "byte";
                          });
    allocator_config bad;
    bad.alignment = 48;
    device_allocator d(MiB, 512);
    manual_clock clk;
    BOOST_CHECK_EXCEPTION(caching_allocator(d, clk, bad), std::invalid_argument,
                          [](const std::invalid_argument& e) {
                              return std::string(e.what()) ==
                                     "allocator alignment 48 is not a power of two; use 32, 64, "
                                     "512, ...";
                          });
}

BOOST_AUTO_TEST_CASE(without_caching_every_free_reaches_the_driver) {
    allocator_config cfg;
    cfg.caching = false;
    fixture f(1024 * MiB, cfg);
    for (int i = 0; i < 3; ++i) BOOST_CHECK(f.alloc.free(f.get(4 * KiB)));
    BOOST_CHECK_EQUAL(f.stat("num_device_alloc"), 3);
    BOOST_CHECK_EQUAL(f.stat("num_device_free"), 3);
    BOOST_CHECK_EQUAL(f.stat("cache_hits"), 0);
    BOOST_CHECK_EQUAL(f.stat("reserved_bytes.all.current"), 0);
}

BOOST_AUTO_TEST_CASE(garbage_collection_frees_old_cached_blocks_over_the_threshold) {
    allocator_config cfg;
    cfg.gc_threshold = 0.5;
    fixture f(100 * MiB, cfg);
    const uint64_t a = f.get(30 * MiB), b = f.get(30 * MiB);
    BOOST_CHECK(f.alloc.free(a));
    BOOST_CHECK(f.alloc.free(b));
    BOOST_CHECK_EQUAL(f.stat("reserved_bytes.all.current"), int64_t(60 * MiB));
    f.get(35 * MiB);  // a miss over 50 MiB reserved: both old 30 MiB blocks go first
    BOOST_CHECK_EQUAL(f.stat("num_device_free"), 2);
    BOOST_CHECK_EQUAL(f.stat("reserved_bytes.all.current"), int64_t(36 * MiB));
    BOOST_CHECK_EQUAL(f.stat("num_alloc_retries"), 0);
}

BOOST_AUTO_TEST_CASE(tensor_sizes_follow_format_padding) {
    using npusim::models::dtype;
    BOOST_CHECK_EQUAL(tensor_desc("a", dtype::fp16, {3, 5}).storage_bytes(), 30u);
    // NZ pads rows to 16 and columns to 32 bytes of elements (16 fp16, 8 fp32, 32 int8).
    BOOST_CHECK_EQUAL(tensor_desc("b", dtype::fp16, {3, 5}, tensor_format::nz).storage_bytes(),
                      16u * 16 * 2);
    BOOST_CHECK_EQUAL(tensor_desc("c", dtype::fp16, {2, 17, 33}, tensor_format::nz).storage_bytes(),
                      2u * 32 * 48 * 2);
    BOOST_CHECK_EQUAL(tensor_desc("d", dtype::int8, {40, 40}, tensor_format::nz).storage_bytes(),
                      48u * 64);
    BOOST_CHECK_EQUAL(
        tensor_desc("e", dtype::fp16, {1, 3, 4, 4}, tensor_format::nc1hwc0).storage_bytes(),
        1u * 1 * 4 * 4 * 16 * 2);
    BOOST_CHECK_EQUAL(
        tensor_desc("f", dtype::fp32, {2, 20, 3, 3}, tensor_format::nc1hwc0).storage_bytes(),
        2u * 3 * 3 * 3 * 8 * 4);
    // ND with a row stride of 8 elements: rows are padded.
    const tensor_desc g("g", dtype::fp32, {3, 5}, tensor_format::nd, {8, 1});
    BOOST_CHECK_EQUAL(g.storage_bytes(), (2u * 8 + 4 + 1) * 4);
    const tensor_desc h("h", dtype::fp16, {2, 3, 4});
    BOOST_CHECK((h.strides() == std::vector<int64_t>{12, 4, 1}));
    BOOST_CHECK_EQUAL(h.describe(), "'h' fp16[2,3,4] ND");
    BOOST_CHECK_EQUAL(tensor_desc("z", dtype::fp16, {4, 0}).storage_bytes(), 0u);
}

BOOST_AUTO_TEST_CASE(bad_tensor_descriptions_name_the_tensor) {
    using npusim::models::dtype;
    auto fails = [](auto make, const std::string& text) {
        try {
            make();
        } catch (const std::invalid_argument& e) {
            BOOST_CHECK_EQUAL(e.what(), text);
            return;
        }
        BOOST_ERROR("no error for: " << text);
    };
    fails(
        [] {
            tensor_desc("x", dtype::fp16, {2, -3});
        },
        "tensor 'x': dimension 1 is -3; dimensions must be 0 or more");
    fails(
        [] {
            tensor_desc("big", dtype::fp32, {1ll << 40, 1ll << 30});
        },
        "tensor 'big': its size overflows 64 bits; use a smaller shape");
    fails([] { tensor_desc("y", dtype::fp16, {4}, tensor_format::nd, {}, 48); },
          "tensor 'y': alignment 48 is not a power of two; use e.g. 32 or 512");
    fails([] { tensor_desc("v", dtype::fp16, {4}, tensor_format::nz); },
          "tensor 'v': NZ needs at least 2 dimensions (rows, cols)");
    fails(
        [] {
            tensor_desc("w", dtype::fp16, {4, 4}, tensor_format::nd, {1});
        },
        "tensor 'w': 1 strides for a 2-D shape; give one per dimension");
}

BOOST_AUTO_TEST_SUITE_END()
