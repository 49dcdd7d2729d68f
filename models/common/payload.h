#pragma once
// How every npusim initiator prepares a generic payload before it sends it.
#include <tlm>

#include <cstdint>

namespace npusim::models {

/// @brief Sets every attribute of a reused payload as the base protocol requires of an
/// initiator (IEEE 1666-2011 14.16): nothing a previous target set (DMI hint, response, option)
/// survives into the next transaction.
inline void prepare_payload(tlm::tlm_generic_payload& t, tlm::tlm_command cmd, uint64_t addr,
                            uint8_t* data, unsigned len) {
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(data);
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_byte_enable_ptr(nullptr);
    t.set_byte_enable_length(0);
    t.set_dmi_allowed(false);
    t.set_gp_option(tlm::TLM_MIN_PAYLOAD);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

}  // namespace npusim::models
