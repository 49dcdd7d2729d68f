#pragma once
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace npusim::models {

/// @brief Zeroed host pages for GM's backing store, faulted in ahead of use by a background
/// thread when asked to.
///
/// A fresh anonymous page is cleared by the OS on its first touch (and on a virtual machine
/// may have to be backed by the hypervisor too): a run that writes a few hundred MiB of fresh GM
/// pays more for that than for the model. With `ahead` > 0 a worker thread maps and touches up
/// to that many pages before they are asked for (no more than were taken so far), so the cost
/// lands on another host core. A page reads as zero either way: results do not depend on the
/// worker, which touches no SystemC object.
class page_pool {
  public:
    page_pool(uint64_t page_bytes, unsigned ahead);
    ~page_pool();
    page_pool(const page_pool&) = delete;
    page_pool& operator=(const page_pool&) = delete;

    /// @brief A zeroed page of page_bytes, aligned to its size (give it back with unmap()).
    uint8_t* take();
    /// @brief Unmaps a page take() returned.
    static void unmap(uint8_t* page, uint64_t page_bytes);

  private:
    uint8_t* map() const;
    void work();

    const uint64_t m_page_bytes;
    const unsigned m_ahead;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::vector<uint8_t*> m_ready;  // faulted in, not taken yet
    unsigned m_want = 0;            // how many to keep ready
    unsigned m_mapping = 0;         // being faulted in by the worker
    uint64_t m_taken = 0;
    bool m_stop = false;
    std::thread m_worker;
};

}  // namespace npusim::models
