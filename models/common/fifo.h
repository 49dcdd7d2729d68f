#pragma once
#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace npusim::models {

/// @brief A first-in first-out queue in one ring of storage that doubles when full.
///
/// The per-burst queues (bursts waiting for the dispatcher, posted writes, a pipe's
/// instructions) push and pop millions of times a run; std::deque allocates and frees a block
/// every few elements there, this allocates only while it grows. T must be default-constructible
/// and move-assignable; a popped element is left moved-from in its slot.
template <class T>
class fifo {
  public:
    bool empty() const { return m_size == 0; }
    size_t size() const { return m_size; }
    T& front() {
        assert(m_size > 0);
        return m_ring[m_head];
    }
    const T& front() const {
        assert(m_size > 0);
        return m_ring[m_head];
    }
    T& back() {
        assert(m_size > 0);
        return (*this)[m_size - 1];
    }
    /// The i-th element from the front.
    T& operator[](size_t i) { return m_ring[(m_head + i) & (m_ring.size() - 1)]; }
    const T& operator[](size_t i) const { return m_ring[(m_head + i) & (m_ring.size() - 1)]; }
    void push_back(T v) {
        if (m_size == m_ring.size()) grow();
        m_ring[(m_head + m_size) & (m_ring.size() - 1)] = std::move(v);
        ++m_size;
    }
    void pop_front() {
        assert(m_size > 0);
        m_head = (m_head + 1) & (m_ring.size() - 1);
        --m_size;
    }
    void clear() {
        m_head = 0;
        m_size = 0;
    }

  private:
    void grow() {
        std::vector<T> bigger(m_ring.empty() ? 16 : 2 * m_ring.size());
        for (size_t i = 0; i < m_size; ++i) bigger[i] = std::move((*this)[i]);
        m_ring.swap(bigger);
        m_head = 0;
    }
    std::vector<T> m_ring;  // a power of two long
    size_t m_head = 0, m_size = 0;
};

}  // namespace npusim::models
