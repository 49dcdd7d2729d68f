#pragma once
// Per-initiator accounting of memory traffic: who caused which L2 hits and GM bytes.
#include <tlm>

#include <cstdint>

namespace npusim::models {

/// @brief Traffic an initiator caused in the shared memory system, counted by the targets
/// (L2 and GM) as they serve its accesses.
struct traffic {
    uint64_t l2_read_bytes = 0, l2_write_bytes = 0;
    uint64_t l2_read_hits = 0, l2_read_misses = 0;  ///< lines
    uint64_t l2_write_hits = 0, l2_write_misses = 0;
    uint64_t gm_read_bytes = 0, gm_write_bytes = 0;

    traffic& operator+=(const traffic& o) {
        l2_read_bytes += o.l2_read_bytes, l2_write_bytes += o.l2_write_bytes;
        l2_read_hits += o.l2_read_hits, l2_read_misses += o.l2_read_misses;
        l2_write_hits += o.l2_write_hits, l2_write_misses += o.l2_write_misses;
        gm_read_bytes += o.gm_read_bytes, gm_write_bytes += o.gm_write_bytes;
        return *this;
    }
    traffic& operator-=(const traffic& o) {
        l2_read_bytes -= o.l2_read_bytes, l2_write_bytes -= o.l2_write_bytes;
        l2_read_hits -= o.l2_read_hits, l2_read_misses -= o.l2_read_misses;
        l2_write_hits -= o.l2_write_hits, l2_write_misses -= o.l2_write_misses;
        gm_read_bytes -= o.gm_read_bytes, gm_write_bytes -= o.gm_write_bytes;
        return *this;
    }
};

/// @brief Sticky payload extension naming the account an access is charged to. An initiator
/// sets it once on the payload it reuses; targets that find it add what they served.
class traffic_tag : public tlm::tlm_extension<traffic_tag> {
  public:
    explicit traffic_tag(traffic* account) : account(account) {}
    tlm::tlm_extension_base* clone() const override { return new traffic_tag(account); }
    void copy_from(const tlm::tlm_extension_base& o) override {
        account = static_cast<const traffic_tag&>(o).account;
    }
    traffic* account;
};

/// @brief Marks a cache line fill with the part of it an initiator asked for: GM checks only
/// that part for freed (poisoned) memory, which the rest of the line may border.
class line_fill : public tlm::tlm_extension<line_fill> {
  public:
    tlm::tlm_extension_base* clone() const override { return new line_fill(*this); }
    void copy_from(const tlm::tlm_extension_base& o) override {
        *this = static_cast<const line_fill&>(o);
    }
    uint64_t asked_from = 0, asked_to = 0;
};

/// @brief The account of an access, or null when its initiator keeps none.
inline traffic* account_of(tlm::tlm_generic_payload& t) {
    traffic_tag* tag = t.get_extension<traffic_tag>();
    return tag ? tag->account : nullptr;
}

}  // namespace npusim::models
