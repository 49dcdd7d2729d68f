#pragma once
#include <systemc>
#include <tlm>

#include <cstdint>
#include <optional>
#include <string>

#include "models/common/fifo.h"
#include "models/common/model_fault.h"
#include "models/common/timing.h"
#include "models/dma/burst_dispatcher.h"
#include "models/dma/burst_mover.h"

namespace npusim::models {

/// @brief What the host link and the system DMA share: a blocking copy cut into bursts that the
/// chip's burst dispatcher books in order of start, among the core engines' GM bursts, so their
/// order at the NoC, the L2 and GM does not depend on how far ahead a thread ran.
///
/// A copy registers each burst once its start is known (its own port, an outstanding slot; it
/// waits in SystemC only for a slot whose burst is not booked yet), then waits until every burst
/// is booked and the last one is done. A burst that starts inside a window the dispatcher has
/// already booked (the system DMA's first, as it has no start-up) is booked at once.
class copy_client : public burst_client {
  public:
    ps_t commit_next() final;
    void bursts_committed(ps_t window) final { m_mover.bursts_booked(window); }
    bool wakes_at(ps_t window) const final { return m_mover.wakes_at(window); }

  protected:
    copy_client(const std::string& owner, uint32_t max_outstanding, burst_dispatcher& d);
    ~copy_client() override = default;

    /// One blocking copy: its completion and its fault, as its bursts are booked.
    struct copy {
        const char* what;  ///< the runtime call, for a fault's message
        bool reads;        ///< a burst reads GM first (a copy to the host, an SDMA copy)
        uint8_t value;     ///< the byte an SDMA fill writes
        ps_t done;
        uint64_t left = 0;  ///< bursts not booked yet
        std::optional<model_fault> fault;
    };
    /// One burst: `len` bytes at GM `addr` (and `src` for a device-to-device copy) with its
    /// host-side bytes at `data`; it holds the port for `occ` from `start`.
    struct burst {
        copy* c;
        uint64_t addr, src;
        uint8_t* data;
        uint64_t len;
        ps_t start, occ;
        size_t slot;
    };
    /// Registers the next burst of `c`, which may start at `earliest`; returns its start.
    ps_t add(copy& c, uint64_t addr, uint64_t src, uint8_t* data, uint64_t len, ps_t occ,
             ps_t earliest);
    /// Waits until every burst of `c` is booked and done. @throws the fault of one of them.
    void finish(copy& c);
    /// Books every stage of `b` and moves its data; returns its completion.
    /// @throws model_fault when a target rejects an access.
    virtual ps_t book(const burst& b) = 0;
    /// The target behind `socket`, looked up once (bindings are fixed once simulation runs).
    template <class Socket>
    tlm::tlm_blocking_transport_if<>& target(Socket& socket) {
        if (!m_target) m_target = socket.operator->();
        return *m_target;
    }

    burst_mover m_mover;

  private:
    fifo<burst> m_pending;
    burst_dispatcher& m_dispatcher;
    unsigned m_client;
    tlm::tlm_blocking_transport_if<>* m_target = nullptr;
};

}  // namespace npusim::models
