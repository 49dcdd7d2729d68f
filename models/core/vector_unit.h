#pragma once
#include <cstdint>
#include <string>

#include "models/core/vector_op.h"
#include "models/params.h"

namespace npusim::models {

/// @brief The UB bytes one vector instruction addresses: each operand's span over all its
/// repeats (from its base to the end of its last enabled element), as the bank model books them.
struct vector_footprint {
    struct range {
        uint64_t addr = 0, len = 0;
    };
    range reads[3];  ///< src0, src1, select's mask (n_reads of them)
    unsigned n_reads = 0;
    range write;  ///< dst
};

/// @brief The vector unit's arithmetic and cost model (the V pipe does the timing).
class vector_unit {
  public:
    vector_unit(std::string name, const vector_costs& costs, uint64_t ub_size);

    /// @brief Work of one instruction: ceil(repeats x cycles per repeat of its class). It holds
    /// the V pipe for max(issue_cycles, work) and completes latency_cycles later.
    uint64_t work_cycles(const vector_op& op) const;

    /// @brief Checks the operands and, when `functional`, computes the result in `ub`;
    /// fills `fp` (if given) with the UB ranges it reads and writes.
    /// @throws model_fault naming this unit, the address and the instruction on a misaligned
    /// (not 32 B) or out-of-UB operand, repeats outside 1..255 or an unsupported dtype.
    void execute(const vector_op& op, uint8_t* ub, bool functional,
                 vector_footprint* fp = nullptr) const;

  private:
    std::string m_name;
    vector_costs m_costs;
    uint64_t m_ub_size;
};

}  // namespace npusim::models
