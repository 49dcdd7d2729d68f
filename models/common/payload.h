#pragma once
// Preparing a generic payload for a new transaction, as IEEE 1666-2011 clause 14 requires of an
// initiator that reuses one.
#include <tlm>

#include <cstdint>

namespace npusim::models {

/// @brief Sets every attribute an initiator owns for a new transaction: command, address, data
/// pointer and length, streaming width = length (no streaming), no byte enables, DMI allowed
/// false (14.16: a target may have set it on the payload's previous trip), response status
/// TLM_INCOMPLETE_RESPONSE (14.17) and option TLM_MIN_PAYLOAD (14.8). Extensions are left as
/// they are: they belong to whoever set them.
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
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    t.set_gp_option(tlm::TLM_MIN_PAYLOAD);
}

}  // namespace npusim::models
