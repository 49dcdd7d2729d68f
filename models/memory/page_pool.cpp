#include "models/memory/page_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>

namespace npusim::models {

page_pool::page_pool(uint64_t page_bytes, unsigned ahead)
    : m_page_bytes(page_bytes), m_ahead(ahead) {}

page_pool::~page_pool() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_worker.joinable()) m_worker.join();
    for (uint8_t* p : m_ready) unmap(p, m_page_bytes);
}

uint8_t* page_pool::map() const {
    // A fresh mapping, not new[](): the OS hands out zeroed frames as they are touched, where
    // clearing the page by hand would write all of it once more.
    const uint64_t n = m_page_bytes;
    void* p = mmap(nullptr, 2 * n, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    const uintptr_t raw = reinterpret_cast<uintptr_t>(p);
    const uintptr_t at = (raw + n - 1) / n * n;
    if (at > raw) munmap(p, at - raw);
    if (raw + 2 * n > at + n) munmap(reinterpret_cast<void*>(at + n), raw + 2 * n - at - n);
#ifdef MADV_HUGEPAGE
    // One huge frame per page where the OS allows it: on this class of VM each fault costs a
    // trip to the hypervisor (10-13 us), so 512 small frames cost far more than one huge one
    // (measured 2026-12-07: 0.38 GB/s small, 0.63 GB/s huge, 15 GB/s huge when the host still
    // backs freed memory); docs/timing-model.md, Simulation speed.
    madvise(reinterpret_cast<void*>(at), n, MADV_HUGEPAGE);
#endif
    return reinterpret_cast<uint8_t*>(at);
}

void page_pool::unmap(uint8_t* page, uint64_t page_bytes) {
    munmap(page, page_bytes);
}

uint8_t* page_pool::take() {
    uint8_t* p = nullptr;
    if (m_ahead > 0) {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (!m_ready.empty()) {
                p = m_ready.back();
                m_ready.pop_back();
            }
            // As many ready as were taken so far, up to `ahead`: a run that writes one page
            // pays for one more, not for the whole pool.
            m_want = static_cast<unsigned>(std::min<uint64_t>(m_ahead, ++m_taken));
            if (!m_worker.joinable()) m_worker = std::thread([this] { work(); });
        }
        m_wake.notify_one();
    }
    // The worker is behind (or off): this one is faulted in as it is written.
    return p ? p : map();
}

void page_pool::work() {
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [&] { return m_stop || m_ready.size() + m_mapping < m_want; });
        if (m_stop) return;
        ++m_mapping;
        lock.unlock();
        uint8_t* p = nullptr;
        try {
            p = map();
            // A zero written into every small frame faults it in without changing what the
            // page reads as.
            for (uint64_t off = 0; off < m_page_bytes; off += 4096)
                *reinterpret_cast<volatile uint8_t*>(p + off) = 0;
        } catch (const std::bad_alloc&) {
            // Out of address space: take() maps its own pages, and reports the failure.
        }
        lock.lock();
        --m_mapping;
        if (p)
            m_ready.push_back(p);
        else
            m_want = 0;
    }
}

}  // namespace npusim::models
