#include "models/memory/router.h"

namespace npusim::models {

router::router(const sc_core::sc_module_name& nm, double bandwidth, ps_t latency_ps)
    : model_base(nm),
      target_socket("target_socket"),
      initiator_socket("initiator_socket"),
      m_bandwidth(bandwidth),
      m_latency_ps(latency_ps),
      m_rate(bandwidth > 0 ? byte_rate(bandwidth) : byte_rate()) {
    target_socket.bind(*this);
    initiator_socket.register_invalidate_direct_mem_ptr(this, &router::invalidate_dmi);
}

void router::map(uint64_t base, uint64_t size, const std::string& target_name) {
    m_map.push_back({base, size, target_name});
}

const router::region* router::decode(uint64_t addr, unsigned& port) const {
    for (unsigned i = 0; i < m_map.size(); ++i) {
        if (addr >= m_map[i].base && addr - m_map[i].base < m_map[i].size) {
            port = i;
            return &m_map[i];
        }
    }
    return nullptr;
}

void router::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    const uint64_t addr = trans.get_address();
    const uint64_t len = trans.get_data_length();
    // Bursts come in runs to one target: the last route first, without the map.
    if (addr - m_hot.base >= m_hot.size) {
        unsigned port = 0;
        const region* r = decode(addr, port);
        if (!r) {
            trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        m_hot = {r->base, r->size, &out(port)};
    }
    const uint64_t base = m_hot.base;
    if (len > m_hot.size - (addr - base)) {
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    tlm::tlm_blocking_transport_if<>& target = *m_hot.out;
    m_bytes += len;
    ++m_transactions;
    if (m_bandwidth == 0 && m_latency_ps == 0) {  // a core's local bus: no time of its own
        trans.set_address(addr - base);
        target.b_transport(trans, delay);
        trans.set_address(addr);
        return;
    }
    const ps_t now = now_ps();
    ps_t start = now + time_to_ps(delay);
    ps_t link_end = start;
    if (m_bandwidth > 0) {
        const ps_t occ = m_rate.occupancy(len);
        start = m_link.reserve(start, occ);
        link_end = start + occ;
    }
    trans.set_address(addr - base);
    sc_core::sc_time d = ps_to_time(start - now);
    target.b_transport(trans, d);
    trans.set_address(addr);
    delay = ps_to_time(std::max(now + time_to_ps(d), link_end) + m_latency_ps - now);
}

unsigned int router::transport_dbg(tlm::tlm_generic_payload& trans) {
    const uint64_t addr = trans.get_address();
    unsigned port = 0;
    const region* r = decode(addr, port);
    if (!r) return 0;
    trans.set_address(addr - r->base);
    const unsigned int n = initiator_socket[port]->transport_dbg(trans);
    trans.set_address(addr);
    return n;
}

bool router::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
    const uint64_t addr = trans.get_address();
    unsigned port = 0;
    const region* r = decode(addr, port);
    if (!r) {  // denied over the unmapped gap around the address
        uint64_t lo = 0, hi = ~uint64_t{0};
        for (const region& m : m_map) {
            if (m.base > addr)
                hi = std::min(hi, m.base - 1);
            else if (m.base + (m.size - 1) < addr)
                lo = std::max(lo, m.base + m.size);
        }
        dmi.set_start_address(lo);
        dmi.set_end_address(hi);
        return false;
    }
    trans.set_address(addr - r->base);
    const bool ok = initiator_socket[port]->get_direct_mem_ptr(trans, dmi);
    trans.set_address(addr);
    // Back to the initiator's address view: clip to the region in target offsets first (a
    // target may answer up to the end of its address space), then add the base.
    const uint64_t last = r->size - 1;
    dmi.set_start_address(r->base + std::min<uint64_t>(dmi.get_start_address(), last));
    dmi.set_end_address(r->base + std::min<uint64_t>(dmi.get_end_address(), last));
    return ok;
}

void router::invalidate_dmi(int port, sc_dt::uint64 start, sc_dt::uint64 end) {
    const region& r = m_map.at(static_cast<size_t>(port));
    if (start > r.size - 1 || start > end) return;  // nothing of the region
    const uint64_t from = r.base + start, to = r.base + std::min<uint64_t>(end, r.size - 1);
    for (unsigned i = 0; i < target_socket.size(); ++i)
        target_socket[i]->invalidate_direct_mem_ptr(from, to);
}

void router::visit_stats(const stats_fn& fn) const {
    fn("bytes", static_cast<double>(m_bytes));
    fn("transactions", static_cast<double>(m_transactions));
    if (m_bandwidth > 0) fn("busy_ns", m_link.busy_ps() / 1000.0);
}

}  // namespace npusim::models
