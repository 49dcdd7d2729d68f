// Memory targets: the TLM-2.0 contract, sparse GM, the L2 cache's hit/miss pattern, local
// buffer checks and DMA faults.
#include <tlm_utils/simple_initiator_socket.h>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "models/common/model_fault.h"
#include "models/memory/gm_memory.h"
#include "models/memory/local_buffer.h"
#include "tests/test_util.h"

using namespace npusim;
using models::mem_space;
using models::ps_t;

namespace {

// A bare initiator to drive a target directly.
struct probe : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<probe> socket;
    explicit probe(const sc_core::sc_module_name& nm) : sc_core::sc_module(nm), socket("socket") {}
    tlm::tlm_response_status access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data,
                                    unsigned len, unsigned char* be = nullptr) {
        tlm::tlm_generic_payload t;
        t.set_command(cmd);
        t.set_address(addr);
        t.set_data_ptr(data);
        t.set_data_length(len);
        t.set_streaming_width(len);
        t.set_byte_enable_ptr(be);
        t.set_byte_enable_length(be ? len : 0);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        socket->b_transport(t, d);
        return t.get_response_status();
    }
};

models::gm_params gm_64g() {
    models::gm_params p;
    p.capacity = 64ull << 30;
    p.channels = 4;
    p.bandwidth = 1e12;
    p.latency_ps = 100000;
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(memory)

BOOST_AUTO_TEST_CASE(gm_is_sparse) {
    models::gm_memory gm("gm", gm_64g());
    const uint64_t far = 60ull << 30;
    const uint32_t a = 0xdeadbeef, b = 0x12345678;
    gm.write(16, &a, 4);
    gm.write(far, &b, 4);
    uint32_t ra = 0, rb = 0, untouched = 1;
    gm.read(16, &ra, 4);
    gm.read(far, &rb, 4);
    gm.read(30ull << 30, &untouched, 4);
    BOOST_CHECK_EQUAL(ra, a);
    BOOST_CHECK_EQUAL(rb, b);
    BOOST_CHECK_EQUAL(untouched, 0u);  // never written reads as zero, allocates nothing
    BOOST_CHECK_EQUAL(gm.pages_allocated(), 2u);
}

BOOST_AUTO_TEST_CASE(gm_keeps_the_tlm_contract) {
    models::gm_memory gm("gm", gm_64g());
    probe p("probe");
    p.socket.bind(gm.target_socket);
    uint8_t buf[64] = {1, 2, 3, 4};
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_WRITE_COMMAND, 128, buf, 64), tlm::TLM_OK_RESPONSE);
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_READ_COMMAND, (64ull << 30) - 32, buf, 64),
                      tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // IGNORE is a timing-only access on every npusim target (docs/tlm-contract.md).
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_IGNORE_COMMAND, 0, buf, 64), tlm::TLM_OK_RESPONSE);
    BOOST_CHECK_EQUAL(p.access(test::k_bad_command, 0, buf, 64), tlm::TLM_COMMAND_ERROR_RESPONSE);
    unsigned char be[64] = {0xff};
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_READ_COMMAND, 0, buf, 64, be),
                      tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);

    // Debug transport and DMI see the bytes written by b_transport.
    tlm::tlm_generic_payload t;
    uint8_t dbg[4] = {};
    t.set_command(tlm::TLM_READ_COMMAND);
    t.set_address(128);
    t.set_data_ptr(dbg);
    t.set_data_length(4);
    BOOST_CHECK_EQUAL(p.socket->transport_dbg(t), 4u);
    BOOST_CHECK_EQUAL(dbg[2], 3);
    tlm::tlm_dmi dmi;
    t.set_address(130);
    BOOST_REQUIRE(p.socket->get_direct_mem_ptr(t, dmi));
    BOOST_CHECK(dmi.is_read_write_allowed());
    BOOST_CHECK_LE(dmi.get_start_address(), 130u);
    BOOST_CHECK_EQUAL(dmi.get_dmi_ptr()[128 - dmi.get_start_address() + 3], 4);
}

BOOST_AUTO_TEST_CASE(local_buffer_checks_range_and_banks) {
    models::buffer_params bp;
    bp.size = 32 * 1024;
    bp.banks = 8;
    bp.bank_bytes_per_cycle = 64;
    models::local_buffer ub("ub", mem_space::ub, bp, 1000);
    probe p("probe");
    p.socket.bind(ub.target_socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);  // multi-sockets connect at the end of elaboration
    uint8_t buf[512] = {};
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_WRITE_COMMAND, 32 * 1024 - 256, buf, 512),
                      tlm::TLM_ADDRESS_ERROR_RESPONSE);
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_WRITE_COMMAND, 0, buf, 512), tlm::TLM_OK_RESPONSE);
    // Same bank at the same time: a conflict; another bank: none.
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_READ_COMMAND, 1024, buf, 512), tlm::TLM_OK_RESPONSE);
    BOOST_CHECK_EQUAL(ub.bank_conflicts(), 1u);
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_READ_COMMAND, 8192, buf, 512), tlm::TLM_OK_RESPONSE);
    BOOST_CHECK_EQUAL(ub.bank_conflicts(), 1u);
}

// Tiny L2: 256 KiB, 512 B lines, 8 ways -> 64 sets; lines 32 KiB apart share a set. The L2
// keeps 16-bit tags behind tiny's 1 GiB of GM and 32-bit ones behind 64 GiB: the same pattern.
static void check_l2_pattern(const platform::platform_config& cfg) {
    platform::simulation sim(cfg);
    uint64_t cold_miss = 0, warm_hit = 0, ways_hit = 0, thrash_miss = 0;
    ps_t t_miss = 0, t_hit = 0;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        auto& core = c.core(0);
        auto* l2 = c.l2();
        // 16 KiB read twice: 32 cold misses, then 32 hits.
        t_miss = test::timed_copy(core, test::copy(mem_space::gm, 0, mem_space::ub, 0, 16384));
        cold_miss = l2->misses();
        t_hit = test::timed_copy(core, test::copy(mem_space::gm, 0, mem_space::ub, 0, 16384));
        warm_hit = l2->hits();
        // 8 lines of one set fit in its 8 ways: after the first round every access hits.
        const uint64_t set_stride = 32 * 1024, base = 1 << 20;
        const uint64_t h0 = l2->hits(), m0 = l2->misses();
        for (int round = 0; round < 3; ++round)
            for (int w = 0; w < 8; ++w)
                test::timed_copy(
                    core, test::copy(mem_space::gm, base + w * set_stride, mem_space::ub, 0, 512));
        ways_hit = l2->hits() - h0;
        BOOST_CHECK_EQUAL(l2->misses() - m0, 8u);
        // 9 lines of one set cycled in order: LRU evicts each just before its reuse.
        const uint64_t m1 = l2->misses(), base2 = 2 << 20;
        for (int round = 0; round < 3; ++round)
            for (int w = 0; w < 9; ++w)
                test::timed_copy(
                    core, test::copy(mem_space::gm, base2 + w * set_stride, mem_space::ub, 0, 512));
        thrash_miss = l2->misses() - m1;
    }));
    BOOST_CHECK_EQUAL(cold_miss, 32u);
    BOOST_CHECK_EQUAL(warm_hit, 32u);
    BOOST_CHECK_EQUAL(ways_hit, 16u);
    BOOST_CHECK_EQUAL(thrash_miss, 27u);
    BOOST_CHECK_LT(t_hit, t_miss);
}

BOOST_AUTO_TEST_CASE(l2_hits_and_misses_follow_the_access_pattern) {
    check_l2_pattern(test::tiny());
}

BOOST_AUTO_TEST_CASE(l2_with_wide_tags_follows_the_same_pattern) {
    check_l2_pattern(test::tiny({"gm.capacity=64GiB"}));
}

BOOST_AUTO_TEST_CASE(l2_with_wide_tags_tells_lines_apart) {
    // Lines 65536 set strides (2 GiB) apart share a set and the low 16 bits of their tags:
    // they are told apart.
    platform::simulation sim(test::tiny({"gm.capacity=64GiB"}));
    uint64_t hits = 0, misses = 0;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        for (int round = 0; round < 2; ++round)
            for (uint64_t k = 0; k < 3; ++k)
                test::timed_copy(
                    c.core(0), test::copy(mem_space::gm, k * (2ull << 30), mem_space::ub, 0, 512));
        hits = c.l2()->hits();
        misses = c.l2()->misses();
    }));
    BOOST_CHECK_EQUAL(misses, 3u);
    BOOST_CHECK_EQUAL(hits, 3u);
}

// Random reads of more lines than a set holds, against a plain LRU list per set: the hits and
// misses match access by access. 16 ways of 16-bit tags (as in the presets), 8 ways, and 16
// ways of 32-bit tags.
static void check_l2_lru(const std::vector<std::string>& overrides, unsigned ways) {
    platform::simulation sim(test::tiny(overrides));
    const uint64_t line = 512, sets = 256 * 1024 / (line * ways);
    std::mt19937 rng(11);
    std::vector<std::vector<uint64_t>> ref(sets);  // most recently used first
    uint64_t wrong = 0, ref_hits = 0;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        auto* l2 = c.l2();
        for (int k = 0; k < 600; ++k) {
            // 2 sets, ways + 5 lines each: hits at every depth of a set, and evictions.
            const uint64_t set = rng() % 2, way = rng() % (ways + 5);
            const uint64_t n = way * sets + set;
            std::vector<uint64_t>& lru = ref[set];
            const auto it = std::find(lru.begin(), lru.end(), n);
            const bool hit = it != lru.end();
            if (hit) lru.erase(it);
            lru.insert(lru.begin(), n);
            if (lru.size() > ways) lru.pop_back();
            ref_hits += hit;
            const uint64_t h0 = l2->hits();
            test::timed_copy(c.core(0), test::copy(mem_space::gm, n * line, mem_space::ub, 0, 512));
            wrong += (l2->hits() - h0 == 1) != hit;
        }
    }));
    BOOST_CHECK_EQUAL(wrong, 0u);
    BOOST_CHECK_GT(ref_hits, 100u);  // the stream exercises hits, not only misses
}

BOOST_AUTO_TEST_CASE(l2_replaces_the_least_recently_used_line_16_ways) {
    check_l2_lru({"l2.ways=16", "gm.capacity=256MiB"}, 16);  // 16-bit tags
}

BOOST_AUTO_TEST_CASE(l2_replaces_the_least_recently_used_line_8_ways) {
    check_l2_lru({}, 8);
}

BOOST_AUTO_TEST_CASE(l2_replaces_the_least_recently_used_line_wide_tags) {
    check_l2_lru({"l2.ways=16", "gm.capacity=64GiB"}, 16);
}

// Reads and writes counted apart (the report's L2 line): 16 KiB (32 lines of 512 B) written to
// fresh GM misses 32 times and allocates, read back it hits 32 times, written again it hits.
BOOST_AUTO_TEST_CASE(l2_counts_reads_and_writes_apart) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    std::map<std::string, double> st;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        auto& core = c.core(0);
        const uint64_t at = 4 << 20;
        test::timed_copy(core, test::copy(mem_space::ub, 0, mem_space::gm, at, 16384));
        test::timed_copy(core, test::copy(mem_space::gm, at, mem_space::ub, 0, 16384));
        test::timed_copy(core, test::copy(mem_space::ub, 0, mem_space::gm, at, 16384));
        st = test::stats_of(*c.l2());
    }));
    BOOST_CHECK_EQUAL(st["write_misses"], 32.0);
    BOOST_CHECK_EQUAL(st["write_hits"], 32.0);
    BOOST_CHECK_EQUAL(st["read_hits"], 32.0);
    BOOST_CHECK_EQUAL(st["read_misses"], 0.0);
    BOOST_CHECK_EQUAL(st["hits"], st["read_hits"] + st["write_hits"]);
    BOOST_CHECK_EQUAL(st["misses"], st["read_misses"] + st["write_misses"]);
}

BOOST_AUTO_TEST_CASE(dma_faults_name_unit_address_and_instruction) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    std::string misaligned, out_of_range, no_path, bad_conv;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        c.core(0).issue_copy(test::copy(mem_space::gm, 0, mem_space::ub, 16, 512));
        c.core(0).wait_idle();
        misaligned = c.core(0).fault();
        c.core(1).issue_copy(test::copy(mem_space::gm, 0, mem_space::ub, 32 * 1024 - 256, 512));
        c.core(1).wait_idle();
        out_of_range = c.core(1).fault();
        models::dma_request conv = test::copy(mem_space::gm, 0, mem_space::ub, 0, 512);
        conv.conv = models::layout_conv::nd2nz;
        c.core(0).issue_copy(conv);  // core 0 stopped at its fault: use a fresh pipe state
        c.core(0).wait_idle();
        bad_conv = c.core(0).fault();
        try {
            c.core(1).issue_copy(test::copy(mem_space::gm, 0, mem_space::l0c, 0, 512));
        } catch (const models::model_fault& f) {
            no_path = f.what();
        }
    }));
    BOOST_TEST_MESSAGE(misaligned << "\n" << out_of_range << "\n" << no_path);
    BOOST_CHECK(misaligned.find("chip.core0.mte2_dma") != std::string::npos);
    BOOST_CHECK(misaligned.find("misaligned UB address 0x10 (needs 32-byte alignment)") !=
                std::string::npos);
    BOOST_CHECK(misaligned.find("copy GM[0x0]->UB[0x10] 1x512B") != std::string::npos);
    BOOST_CHECK(out_of_range.find("chip.core1.mte2_dma") != std::string::npos);
    BOOST_CHECK(out_of_range.find("write of 512 bytes at UB[0x7f00] rejected") !=
                std::string::npos);
    BOOST_CHECK(out_of_range.find("ADDRESS_ERROR") != std::string::npos);
    BOOST_CHECK(no_path.find("no engine for path GM->L0C") != std::string::npos);
    BOOST_CHECK(bad_conv.find("nd2nz conversion is only done on the GM->L1 path") !=
                std::string::npos);
}

// A fault stops the pipe: later instructions queued behind it do not run.
BOOST_AUTO_TEST_CASE(fault_drops_the_rest_of_the_queue) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    uint64_t moved = 1;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        c.core(0).issue_copy(test::copy(mem_space::gm, 0, mem_space::ub, 8, 512));
        c.core(0).issue_copy(test::copy(mem_space::gm, 0, mem_space::ub, 0, 512));
        c.core(0).wait_idle();
        moved = c.core(0).engine(models::pipe_id::MTE2)->bytes_moved();
    }));
    BOOST_CHECK_EQUAL(moved, 0u);
}

BOOST_AUTO_TEST_SUITE_END()
