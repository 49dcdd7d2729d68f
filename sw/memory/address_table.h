#pragma once
// An open-addressing hash table from block address to block: the caching allocator looks up
// every free by address, and a tree or a node-based map costs more than the rest of the work.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace npusim::memory {

template <class T>
class address_table {
  public:
    address_table() { m_slots.assign(64, {empty, nullptr}); }

    T* find(uint64_t addr) const {
        for (size_t i = slot(addr);; i = (i + 1) & mask()) {
            if (m_slots[i].first == addr) return m_slots[i].second;
            if (m_slots[i].first == empty) return nullptr;
        }
    }
    void insert(uint64_t addr, T* value) {
        if ((m_used + m_dead + 1) * 2 > m_slots.size()) rehash();
        size_t i = slot(addr);
        while (m_slots[i].first != empty && m_slots[i].first != dead) i = (i + 1) & mask();
        if (m_slots[i].first == dead) --m_dead;
        m_slots[i] = {addr, value};
        ++m_used;
    }
    void erase(uint64_t addr) {
        for (size_t i = slot(addr);; i = (i + 1) & mask()) {
            if (m_slots[i].first == empty) return;
            if (m_slots[i].first == addr) {
                m_slots[i] = {dead, nullptr};  // a tombstone keeps later probes intact
                --m_used;
                ++m_dead;
                return;
            }
        }
    }

  private:
    static constexpr uint64_t empty = ~uint64_t(0), dead = ~uint64_t(0) - 1;
    size_t mask() const { return m_slots.size() - 1; }
    size_t slot(uint64_t addr) const {
        return size_t((addr >> 5) * 0x9e3779b97f4a7c15ull >> 20) & mask();
    }
    void rehash() {
        std::vector<std::pair<uint64_t, T*>> old;
        old.swap(m_slots);
        const size_t size = m_used * 4 > 64 ? size_t(1) << (64 - __builtin_clzll(m_used * 4)) : 64;
        m_slots.assign(size, {empty, nullptr});
        m_used = m_dead = 0;
        for (const auto& s : old)
            if (s.first != empty && s.first != dead) insert(s.first, s.second);
    }

    std::vector<std::pair<uint64_t, T*>> m_slots;
    size_t m_used = 0, m_dead = 0;
};

}  // namespace npusim::memory
