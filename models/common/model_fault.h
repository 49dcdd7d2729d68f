#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace npusim::models {

/// @brief A modelled hardware fault (bad address, misalignment, missing path, ...). It stops the
/// kernel that caused it; the message names unit, address and instruction.
class model_fault : public std::runtime_error {
  public:
    model_fault(std::string unit, uint64_t address, std::string instruction, std::string what)
        : std::runtime_error(unit + ": " + what + " (instruction: " + instruction + ")"),
          m_unit(std::move(unit)),
          m_address(address),
          m_instruction(std::move(instruction)) {}
    const std::string& unit() const { return m_unit; }
    uint64_t address() const { return m_address; }
    const std::string& instruction() const { return m_instruction; }

  private:
    std::string m_unit;
    uint64_t m_address;
    std::string m_instruction;
};

}  // namespace npusim::models
