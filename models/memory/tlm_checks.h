#pragma once
// The TLM-2.0 target contract checks shared by every memory-like target.
#include <tlm>

#include <cstdint>

namespace npusim::models {

/// @brief Validates command, byte enables and streaming width, and that [addr, addr+len) lies in
/// [0, size). Sets the response status and returns false on any violation, one status per class
/// (docs/tlm-contract.md): an unknown command COMMAND_ERROR, an empty or out-of-range access
/// ADDRESS_ERROR, byte enables BYTE_ENABLE_ERROR, a streaming width below the length
/// BURST_ERROR. `allow_ignore` accepts TLM_IGNORE_COMMAND, which every npusim memory target
/// treats as a timing-only access: checked and timed like a read, no data moved.
inline bool check_access(tlm::tlm_generic_payload& trans, uint64_t size, bool allow_ignore = true) {
    const tlm::tlm_command cmd = trans.get_command();
    if (cmd != tlm::TLM_READ_COMMAND && cmd != tlm::TLM_WRITE_COMMAND &&
        !(allow_ignore && cmd == tlm::TLM_IGNORE_COMMAND)) {
        trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
        return false;
    }
    const uint64_t addr = trans.get_address();
    const uint64_t len = trans.get_data_length();
    if (len == 0 || addr >= size || len > size - addr) {
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return false;
    }
    if (trans.get_byte_enable_ptr() != nullptr) {
        trans.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return false;
    }
    if (trans.get_streaming_width() < len) {
        trans.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return false;
    }
    return true;
}

}  // namespace npusim::models
