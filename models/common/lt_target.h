#pragma once
// The forward interface of a loosely-timed target, implemented by the model itself.
#include <systemc>
#include <tlm>

namespace npusim::models {

/// @brief Base of a memory-like target that its `tlm::tlm_target_socket` binds to directly:
/// an initiator's call is one virtual call into the model, where a simple_target_socket adds
/// a callback hop to every burst. Such a target serves blocking transport only; a base-protocol
/// nb_transport_fw BEGIN_REQ completes early through b_transport: the target returns
/// TLM_COMPLETED, the response is in the payload and the access's time in the delay.
class lt_target : public tlm::tlm_fw_transport_if<> {
  public:
    tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                       sc_core::sc_time& delay) override {
        if (phase == tlm::BEGIN_REQ) b_transport(trans, delay);
        return tlm::TLM_COMPLETED;
    }
};

}  // namespace npusim::models
