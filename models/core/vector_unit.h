#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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

/// @brief Why the vector unit cannot run `op`'s opcode and dtypes ("" = it can).
std::string why_unsupported(const vector_op& op);
/// @brief The (source, destination) dtypes the unit runs `op` in (destination = source except
/// for cast).
std::vector<std::pair<dtype, dtype>> vector_dtypes(vec_opcode op);

/// @brief The vector unit's arithmetic and cost model (the V pipe does the timing).
class vector_unit {
  public:
    vector_unit(std::string name, const vector_costs& costs, uint64_t ub_size);

    /// @brief Work of one instruction: its fixed cycles + ceil(repeats x cycles per repeat),
    /// from its row of the platform's instruction table or else its class default.
    uint64_t work_cycles(const vector_op& op) const;
    /// @brief Cycles the instruction holds the V pipe: max(its issue floor, work). It completes
    /// latency_cycles later.
    uint64_t issue_cycles(const vector_op& op) const;

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
