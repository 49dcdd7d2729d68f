#pragma once
// Cached free blocks by size class (8 classes per power of two) with a bitmap of non-empty
// classes, so finding, adding and removing a block costs a few instructions instead of a tree
// descent. Classes are ordered, so the smallest fitting block of the first class that has one
// is the best fit overall.
#include <boost/intrusive/list.hpp>

#include <array>
#include <cstdint>

namespace npusim::memory {

template <class Block, boost::intrusive::list_member_hook<> Block::*Hook>
class size_class_pool {
  public:
    using list = boost::intrusive::list<
        Block, boost::intrusive::member_hook<Block, boost::intrusive::list_member_hook<>, Hook>,
        boost::intrusive::constant_time_size<false>>;
    static constexpr unsigned classes = 64 * 8;

    /// @brief The class of a size: its power of two and which eighth of it.
    static unsigned class_of(uint64_t size) {
        const unsigned l = 63u - unsigned(__builtin_clzll(size | 1));
        return l < 3 ? unsigned(size) : l * 8 + unsigned((size >> (l - 3)) & 7);
    }
    /// @brief The smallest size in a class.
    static uint64_t class_min(unsigned c) {
        return c < 24 ? c : (uint64_t(8 + c % 8) << (c / 8 - 3));
    }

    ~size_class_pool() { clear(); }

    void insert(Block& b) {
        const unsigned c = class_of(b.size);
        m_lists[c].push_back(b);
        m_bits[c / 64] |= uint64_t(1) << (c % 64);
    }
    /// @brief Removes a block; its size must be what it was when inserted.
    void erase(Block& b) {
        const unsigned c = class_of(b.size);
        m_lists[c].erase(list::s_iterator_to(b));
        if (m_lists[c].empty()) m_bits[c / 64] &= ~(uint64_t(1) << (c % 64));
    }
    /// @brief The first non-empty class at or after `c`, or `classes` if none.
    unsigned next(unsigned c) const {
        for (unsigned w = c / 64; w < m_bits.size(); ++w) {
            uint64_t bits = m_bits[w];
            if (w == c / 64) bits &= ~uint64_t(0) << (c % 64);
            if (bits) return w * 64 + unsigned(__builtin_ctzll(bits));
        }
        return classes;
    }
    list& at(unsigned c) { return m_lists[c]; }
    void clear() {
        for (auto& l : m_lists) l.clear();
        m_bits.fill(0);
    }

  private:
    std::array<list, classes> m_lists;
    std::array<uint64_t, classes / 64> m_bits{};
};

}  // namespace npusim::memory
