#pragma once
#include <cstdint>
#include <string>

#include "models/core/vector_op.h"
#include "models/params.h"

namespace npusim::models {

/// @brief The vector unit's arithmetic and cost model (the V pipe does the waiting).
class vector_unit {
  public:
    vector_unit(std::string name, const vector_costs& costs, uint64_t ub_size);

    /// @brief Cycles of one instruction: overhead + ceil(repeats x cycles per repeat of its class).
    uint64_t cycles(const vector_op& op) const;

    /// @brief Checks the operands and, when `functional`, computes the result in `ub`.
    /// @throws model_fault naming this unit, the address and the instruction on a misaligned
    /// (not 32 B) or out-of-UB operand, repeats outside 1..255 or an unsupported dtype.
    void execute(const vector_op& op, uint8_t* ub, bool functional) const;

  private:
    std::string m_name;
    vector_costs m_costs;
    uint64_t m_ub_size;
};

}  // namespace npusim::models
