#pragma once
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <vector>

#include "models/common/model_base.h"
#include "models/common/timing.h"
#include "models/dma/copy_client.h"
#include "models/params.h"

namespace npusim::models {

/// @brief System DMA: a chip-level initiator that copies GM to GM and fills GM for the host
/// runtime (device-to-device memcpy, memset). Calls block the calling thread; several threads
/// may copy at once and share the engine's bandwidth. The chip's burst dispatcher books the
/// bursts (copy_client): a copy's burst reads, then writes once its data is back, in one booking.
class sdma_engine : public model_base, public copy_client {
  public:
    tlm_utils::simple_initiator_socket<sdma_engine> socket;

    sdma_engine(const sc_core::sc_module_name& nm, const sdma_params& p, burst_dispatcher& d);

    /// @brief Copies `len` bytes from GM `src` to GM `dst`; call from a SystemC thread.
    /// @throws model_fault if GM rejects an access.
    void copy(uint64_t dst, uint64_t src, uint64_t len);
    /// @brief Sets `len` bytes at GM `dst` to `value`; call from a SystemC thread.
    void fill(uint64_t dst, uint8_t value, uint64_t len);

    void visit_stats(const stats_fn& fn) const override;

  private:
    void run(uint64_t dst, const uint64_t* src, uint8_t value, uint64_t len);
    ps_t book(const burst& b) override;

    sdma_params m_p;
    byte_rate m_rate;
    std::vector<uint8_t> m_staging;  // one burst's data between its read and its write
    uint64_t m_copied = 0, m_filled = 0;
};

}  // namespace npusim::models
