#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/core/instruction.h"
#include "models/params.h"

namespace npusim::models {

/// @brief Bytes an mmad's operands occupy in L0A, L0B and L0C (whole fractals), and in BT.
struct mmad_footprint {
    uint64_t a = 0, b = 0, c = 0;
    uint64_t bias = 0;  ///< the BT bias row (fp32/int32 per column)
};

/// @brief The cube unit's arithmetic and cost model (the M pipe does the timing).
///
/// Work: ceil(m/M0) * ceil(k/K0) * ceil(n/N0) cycles for the dtype's fractal; an mmad holds the
/// M pipe for max(issue_cycles, work) and completes latency_cycles later. Arithmetic unpacks the
/// fractal operands to dense float (or int) rows and multiplies with a BLAS sgemm (fp16/bf16) or a
/// blocked integer loop (int8).
class cube_unit {
  public:
    cube_unit(std::string name, const cube_params& p);

    uint64_t work_cycles(const mmad_op& op) const;
    /// @brief Operand bytes of an mmad (padded to whole fractals, as execute() checks them).
    mmad_footprint footprint(const mmad_op& op) const;
    /// @brief Validates operands against the buffer sizes; computes when functional.
    /// @throws model_fault on an unsupported dtype, a shape out of 1..4095, or an operand that
    /// is misaligned or does not fit its buffer.
    void execute(const mmad_op& op, uint8_t* l0a, uint64_t l0a_size, uint8_t* l0b,
                 uint64_t l0b_size, uint8_t* l0c, uint64_t l0c_size, bool functional,
                 const uint8_t* bt = nullptr, uint64_t bt_size = 0);

    /// @brief Multiply-accumulates performed in functional mode (for achieved host GFLOP/s).
    double host_flops() const { return m_flops; }
    double host_seconds() const { return m_seconds; }

  private:
    std::string m_name;
    cube_params m_p;
    std::vector<float> m_a, m_b, m_c;
    std::vector<int32_t> m_ai, m_bi, m_ci;
    double m_flops = 0, m_seconds = 0;
};

}  // namespace npusim::models
