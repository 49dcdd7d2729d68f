// Device memory through the runtime: simulated allocation cost, stream-aware reuse with real
// kernels, tensors, poisoning of freed blocks, alignment and bandwidth, out of memory.
#include <boost/test/unit_test.hpp>

#include "tests/sw/runtime_fixture.h"

using namespace npusim;
using namespace npusim::runtime;
using models::kernel_kind;
using models::ps_t;
using test::contains;

namespace {

constexpr ps_t us = 1000000;
constexpr int64_t MiB = 1 << 20;

/// Host time of 100 malloc/free pairs of 64 KiB.
ps_t churn(context& ctx) {
    const ps_t t0 = models::now_ps();
    for (int i = 0; i < 100; ++i) {
        uint64_t a = 0;
        BOOST_REQUIRE(ctx.malloc(a, 64 << 10) == status::success);
        BOOST_REQUIRE(ctx.free(a) == status::success);
    }
    return models::now_ps() - t0;
}

/// Copies `bytes` from GM `src` into UB, 16 KiB at a time, on one core.
kernel::kernel_fn load_rows(uint64_t src, uint64_t bytes) {
    return [=](kernel::kernel_context& c) {
        auto ub = c.alloc<float>(kernel::position::VECIN, 4096);
        for (uint64_t off = 0; off < bytes; off += 16384)
            c.data_copy(ub, kernel::global_tensor<float>{src + off, 4096}, 4096);
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(device_memory)

// With caching, one driver allocation then cache hits: 10 us + 199 x 0.1 us.
BOOST_AUTO_TEST_CASE(cached_allocation_costs_far_less) {
    test::run_runtime(test::tiny({"host_api.malloc=10us", "host_api.free=5us"}),
                      [&](platform::chip&, context& ctx) {
                          BOOST_CHECK_EQUAL(churn(ctx), 10 * us + 199 * (us / 10));
                          const auto st = ctx.memory_stats();
                          BOOST_CHECK_EQUAL(st.at("num_device_alloc"), 1);
                          BOOST_CHECK_EQUAL(st.at("cache_hits"), 99);
                      });
}

// Without caching, every call reaches the driver: 100 x (10 us + 5 us).
BOOST_AUTO_TEST_CASE(uncached_allocation_reaches_the_driver_every_time) {
    test::run_runtime(
        test::tiny({"host_api.malloc=10us", "host_api.free=5us", "memory.caching=false"}),
        [&](platform::chip&, context& ctx) {
            BOOST_CHECK_EQUAL(churn(ctx), 100 * (15 * us));
            BOOST_CHECK_EQUAL(ctx.memory_stats().at("num_device_free"), 100);
        });
}

// A block freed while its stream's kernel may still use it is reused on that stream at once,
// and on another stream only once the kernel has finished.
BOOST_AUTO_TEST_CASE(stream_aware_reuse_with_running_kernels) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream *s1 = nullptr, *s2 = nullptr;
        BOOST_CHECK(ctx.create_stream(s1, {"s1"}) == status::success);
        BOOST_CHECK(ctx.create_stream(s2, {"s2"}) == status::success);
        uint64_t a = 0, keep = 0, b = 0, c = 0;
        BOOST_CHECK(ctx.malloc(a, 4096, s1) == status::success);
        BOOST_CHECK(ctx.malloc(keep, 4096, s1) == status::success);
        BOOST_CHECK(ctx.launch(s1, "uses_a", 1, kernel_kind::vector, test::spin(3000)) ==
                    status::success);
        BOOST_CHECK(ctx.free(a) == status::success);  // the kernel may still be using it
        BOOST_CHECK(ctx.malloc(b, 4096, s2) == status::success);
        BOOST_CHECK(b != a);
        BOOST_CHECK(ctx.malloc(c, 4096, s1) == status::success);
        BOOST_CHECK_EQUAL(c, a);
        BOOST_CHECK(ctx.free(c) == status::success);
        BOOST_CHECK(ctx.synchronize(s1) == status::success);
        uint64_t d = 0;
        BOOST_CHECK(ctx.malloc(d, 4096, s2) == status::success);
        BOOST_CHECK_EQUAL(d, a);
        // record_stream: s2 reads keep, so after free only s2's finished work releases it.
        BOOST_CHECK(ctx.record_stream(keep, s2) == status::success);
        BOOST_CHECK(ctx.launch(s2, "reads_keep", 1, kernel_kind::vector, test::spin(3000)) ==
                    status::success);
        BOOST_CHECK(ctx.free(keep) == status::success);
        BOOST_CHECK_EQUAL(ctx.memory_stats().at("active.all.current"), 3);  // b, d and keep
        BOOST_CHECK(ctx.synchronize(s2) == status::success);
        uint64_t e = 0;
        BOOST_CHECK(ctx.malloc(e, 4096, s1) == status::success);
        BOOST_CHECK_EQUAL(ctx.memory_stats().at("active.all.current"), 3);  // b, d and e
    });
}

// Tensors: size from the format, alignment honoured, freed when the handle goes.
BOOST_AUTO_TEST_CASE(tensors_free_their_blocks) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        using memory::tensor_desc;
        {
            memory::device_tensor t, u;
            BOOST_CHECK(ctx.alloc_tensor(t, tensor_desc("act", models::dtype::fp16, {33, 70},
                                                        memory::tensor_format::nz)) ==
                        status::success);
            BOOST_CHECK(ctx.alloc_tensor(u, tensor_desc("w", models::dtype::fp32, {100},
                                                        memory::tensor_format::nd, {}, 4096)) ==
                        status::success);
            BOOST_CHECK_EQUAL(u.addr() % 4096, 0u);
            BOOST_CHECK_EQUAL(t.desc().storage_bytes(), 48u * 80 * 2);
            BOOST_CHECK_EQUAL(ctx.memory_stats().at("allocation.all.current"), 2);
            BOOST_CHECK_EQUAL(ctx.memory_stats().at("requested_bytes.all.current"),
                              48 * 80 * 2 + 400 + (4096 - 512));
            memory::device_tensor moved = std::move(t);
            BOOST_CHECK(!t.valid());
            BOOST_CHECK(moved.valid());
        }
        BOOST_CHECK_EQUAL(ctx.memory_stats().at("allocation.all.current"), 0);
    });
}

// Debug poisoning: a kernel that reads a freed block fails with the address.
BOOST_AUTO_TEST_CASE(poisoned_freed_block_read_is_reported) {
    test::run_runtime(
        test::tiny({"memory.poison_freed=true"}), [&](platform::chip& chip, context& ctx) {
            uint64_t a = 0, live = 0;
            BOOST_CHECK(ctx.malloc(a, 65536) == status::success);
            BOOST_CHECK(ctx.malloc(live, 65536) == status::success);
            BOOST_CHECK(ctx.launch(nullptr, "reads_live", 1, kernel_kind::vector,
                                   load_rows(live, 65536)) == status::success);
            BOOST_CHECK(ctx.synchronize() == status::success);
            BOOST_CHECK(ctx.free(a) == status::success);
            uint8_t byte = 0;
            chip.gm().read(a, &byte, 1);
            BOOST_CHECK_EQUAL(byte, 0xfd);
            BOOST_CHECK(ctx.launch(nullptr, "reads_freed", 1, kernel_kind::vector,
                                   load_rows(a, 65536)) == status::success);
            BOOST_CHECK(ctx.synchronize() == status::freed_memory_read);
            const auto e = ctx.get_last_error();
            BOOST_CHECK_MESSAGE(contains(e.message,
                                         "kernel 'reads_freed' read freed device memory: "
                                         "65536 bytes at GM[0x0]") &&
                                    contains(e.message, "memory.poison_freed is on"),
                                e.message);
            uint64_t again = 1;  // allocated again: no longer poisoned
            BOOST_CHECK(ctx.malloc(again, 65536) == status::success);
            BOOST_CHECK_EQUAL(again, a);
            BOOST_CHECK(ctx.launch(nullptr, "reads_again", 1, kernel_kind::vector,
                                   load_rows(again, 65536)) == status::success);
            BOOST_CHECK(ctx.synchronize() == status::success);
        });
}

// GM reads from the allocator's aligned blocks run faster than the same reads 16 bytes off:
// each misaligned burst touches a partial access granule at both ends. Without an L2 in front,
// which would fetch whole lines either way (a large read then costs one line more).
BOOST_AUTO_TEST_CASE(aligned_blocks_get_more_bandwidth_than_misaligned) {
    const uint64_t bytes = 1 << 20;
    double aligned_gbs = 0, misaligned_gbs = 0;
    test::run_runtime(test::tiny({"l2.enabled=false"}), [&](platform::chip&, context& ctx) {
        uint64_t a = 0;
        BOOST_CHECK(ctx.malloc(a, bytes + 4096) == status::success);
        BOOST_CHECK_EQUAL(a % 512, 0u);
        BOOST_CHECK(ctx.launch(nullptr, "aligned", 1, kernel_kind::vector, load_rows(a, bytes)) ==
                    status::success);
        BOOST_CHECK(ctx.launch(nullptr, "misaligned", 1, kernel_kind::vector,
                               load_rows(a + 16, bytes)) == status::success);
        BOOST_CHECK(ctx.synchronize() == status::success);
        const auto al = test::entry(ctx, "aligned"), mis = test::entry(ctx, "misaligned");
        aligned_gbs = bytes / double(al.end - al.start) * 1e3;
        misaligned_gbs = bytes / double(mis.end - mis.start) * 1e3;
    });
    BOOST_TEST_MESSAGE("aligned " << aligned_gbs << " GB/s, misaligned " << misaligned_gbs
                                  << " GB/s");
    BOOST_CHECK_GT(aligned_gbs, misaligned_gbs * 1.02);
}

// Out of memory through the runtime: the status, the message with the summary, and recovery.
BOOST_AUTO_TEST_CASE(out_of_memory_reports_and_recovers) {
    test::run_runtime(test::tiny({"gm.capacity=64MiB"}), [&](platform::chip&, context& ctx) {
        uint64_t a = 0, b = 0;
        BOOST_CHECK(ctx.malloc(a, 40 * MiB, nullptr, "cache") == status::success);
        BOOST_CHECK(ctx.free(a) == status::success);
        BOOST_CHECK(ctx.malloc(b, 50 * MiB) == status::success);  // released the cache
        BOOST_CHECK_EQUAL(ctx.memory_stats().at("num_alloc_retries"), 1);
        uint64_t c = 0;
        BOOST_CHECK(ctx.malloc(c, 20 * MiB, nullptr, "too_much") == status::device_oom);
        const auto e = ctx.get_last_error();
        BOOST_CHECK(band(e.code) == status_band::resource);
        BOOST_CHECK_MESSAGE(contains(e.message,
                                     "malloc: out of device memory: tried to allocate "
                                     "20.0 MiB") &&
                                contains(e.message, "device OOMs: 1"),
                            e.message);
        BOOST_CHECK(ctx.malloc(c, 0) == status::invalid_argument);
        BOOST_CHECK_EQUAL(ctx.get_last_error().message,
                          "malloc: a size of 0 bytes; ask for at least 1 byte");
        BOOST_CHECK(ctx.malloc(c, -5, nullptr, "neg") == status::invalid_argument);
        BOOST_CHECK_EQUAL(ctx.get_last_error().message,
                          "malloc: a size of -5 bytes for 'neg'; ask for at least 1 byte");
        BOOST_CHECK(ctx.free(b + 4096) == status::invalid_argument);
        BOOST_CHECK(contains(ctx.get_last_error().message, "is inside block"));
        BOOST_CHECK(ctx.empty_cache() == status::success);
        BOOST_CHECK(contains(ctx.memory_summary(), "Allocations"));
    });
}

// The memory snapshot: segments and blocks in PyTorch's states, a history of every allocator
// call with the bytes allocated after it, and each task's device memory when it ended.
BOOST_AUTO_TEST_CASE(memory_snapshot_has_blocks_history_and_per_task_use) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream* s = nullptr;
        BOOST_REQUIRE(ctx.create_stream(s, {"work"}) == status::success);
        uint64_t a = 0, b = 0;
        BOOST_REQUIRE(ctx.malloc(a, 3 * MiB, s, "weights") == status::success);
        BOOST_REQUIRE(ctx.malloc(b, MiB, s, "acts") == status::success);
        BOOST_CHECK(ctx.launch(s, "k", 1, kernel_kind::vector, test::spin(3)) == status::success);
        BOOST_CHECK(ctx.synchronize(s) == status::success);
        BOOST_REQUIRE(ctx.free(a) == status::success);
        const memory_state m = ctx.memory_snapshot();
        BOOST_REQUIRE_EQUAL(m.history.size(), 3u);
        const auto &ea = m.history[0], &eb = m.history[1], &fa = m.history[2];
        BOOST_CHECK(ea.action == "alloc" && ea.addr == a && ea.tag == "weights" &&
                    ea.stream == "work");
        BOOST_CHECK(eb.action == "alloc" && eb.addr == b && eb.tag == "acts");
        BOOST_CHECK(fa.action == "free" && fa.addr == a && fa.bytes == ea.bytes);
        BOOST_CHECK_GE(ea.bytes, uint64_t(3 * MiB));
        BOOST_CHECK_EQUAL(ea.allocated_after, int64_t(ea.bytes));
        BOOST_CHECK_EQUAL(eb.allocated_after, int64_t(ea.bytes + eb.bytes));
        BOOST_CHECK_EQUAL(fa.allocated_after, int64_t(eb.bytes));
        BOOST_CHECK(ea.time < eb.time && eb.time < fa.time);
        BOOST_CHECK_EQUAL(test::entry(ctx, "k").memory_allocated, int64_t(ea.bytes + eb.bytes));
        int found = 0;
        uint64_t total = 0;
        for (const auto& seg : m.segments) {
            total += seg.allocated;
            for (const auto& blk : seg.blocks) {
                if (blk.addr == a) {
                    BOOST_CHECK_EQUAL(blk.state, "inactive");
                    ++found;
                }
                if (blk.addr == b) {
                    BOOST_CHECK_EQUAL(blk.state, "active_allocated");
                    BOOST_CHECK_EQUAL(blk.tag, "acts");
                    BOOST_CHECK_EQUAL(blk.requested, uint64_t(MiB));
                    ++found;
                }
            }
        }
        BOOST_CHECK_EQUAL(found, 2);
        BOOST_CHECK_EQUAL(total, eb.bytes);
    });
}

BOOST_AUTO_TEST_SUITE_END()
