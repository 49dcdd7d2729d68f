// GM's page pool: every page it hands out reads as zero, is aligned to its size and is its own,
// whether the worker faulted it in ahead or take() mapped it; a pool destroyed with pages ready
// (and its worker busy) gives them back. GM in functional mode on top of it: written bytes read
// back, unwritten ones as zero.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "models/memory/gm_memory.h"
#include "models/memory/page_pool.h"

using npusim::models::page_pool;

namespace {

constexpr uint64_t k_page = 2 * 1024 * 1024;

// Every 64th byte of the page is zero (a page is 32768 such probes; all of them would be slow
// under AddressSanitizer and find nothing more).
bool reads_zero(const uint8_t* p) {
    for (uint64_t off = 0; off < k_page; off += 64)
        if (p[off] != 0) return false;
    return p[k_page - 1] == 0;
}

void check_pages(page_pool& pool, int n) {
    std::vector<uint8_t*> pages;
    std::set<uint8_t*> distinct;
    for (int i = 0; i < n; ++i) {
        uint8_t* p = pool.take();
        BOOST_REQUIRE(p != nullptr);
        BOOST_CHECK_EQUAL(reinterpret_cast<uintptr_t>(p) % k_page, 0u);
        BOOST_CHECK(reads_zero(p));
        // Written, so a page handed out twice would show the mark.
        p[0] = 0xa5;
        p[k_page - 1] = 0x5a;
        BOOST_CHECK(distinct.insert(p).second);
        pages.push_back(p);
        // Now and then give the worker time to get ahead, so both ways are taken.
        if (i % 4 == 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (uint8_t* p : pages) {
        BOOST_CHECK_EQUAL(p[0], 0xa5);
        BOOST_CHECK_EQUAL(p[k_page - 1], 0x5a);
        page_pool::unmap(p, k_page);
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gm_page_pool)

BOOST_AUTO_TEST_CASE(pages_ahead_are_zero_aligned_and_distinct) {
    page_pool pool(k_page, 4);
    check_pages(pool, 24);
}

BOOST_AUTO_TEST_CASE(pages_without_a_worker_are_zero_aligned_and_distinct) {
    page_pool pool(k_page, 0);
    check_pages(pool, 6);
}

BOOST_AUTO_TEST_CASE(a_pool_with_pages_ready_gives_them_back) {
    for (int round = 0; round < 3; ++round) {
        page_pool pool(k_page, 8);
        for (int i = 0; i < 8; ++i) page_pool::unmap(pool.take(), k_page);
        if (round > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10 * round));
    }  // destroyed while the worker maps (round 0) or with pages ready (AddressSanitizer: no leak)
}

BOOST_AUTO_TEST_CASE(functional_gm_reads_back_what_was_written_and_zero_elsewhere) {
    npusim::models::gm_params p;
    p.capacity = 1ull << 32;
    p.channels = 4;
    p.bandwidth = 1e12;
    p.functional = true;
    npusim::models::gm_memory gm("gm_pool_check", p);
    // Eleven pages, written at both ends of each and across every boundary.
    std::vector<uint8_t> data(64);
    for (uint64_t page = 0; page < 11; ++page) {
        for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(page * 7 + i);
        gm.write(page * k_page + k_page - 32, data.data(), data.size());
    }
    std::vector<uint8_t> back(64), zero(64, 0);
    for (uint64_t page = 0; page < 11; ++page) {
        for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(page * 7 + i);
        gm.read(page * k_page + k_page - 32, back.data(), back.size());
        BOOST_CHECK(back == data);
        gm.read(page * k_page + 4096, back.data(), back.size());  // inside, never written
        if (page > 0) BOOST_CHECK(back == zero);
    }
    gm.read(20 * k_page, back.data(), back.size());  // a page never touched
    BOOST_CHECK(back == zero);
}

BOOST_AUTO_TEST_SUITE_END()
