#include "models/memory/local_buffer.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "models/memory/tlm_checks.h"

namespace npusim::models {

local_buffer::local_buffer(const sc_core::sc_module_name& nm, mem_space space,
                           const buffer_params& p, ps_t clock_period_ps, bool functional)
    : model_base(nm),
      target_socket("target_socket"),
      m_space(space),
      m_p(p),
      m_period(clock_period_ps),
      m_functional(functional),
      m_bank_bytes(std::max<uint64_t>(1, p.size / std::max<uint32_t>(1, p.banks))),
      m_data(p.size),
      m_banks(std::max<uint32_t>(1, p.banks)) {
    if ((m_bank_bytes & (m_bank_bytes - 1)) == 0)
        while ((uint64_t{1} << m_bank_shift) < m_bank_bytes) ++m_bank_shift;
    if (p.bank_bytes_per_cycle == std::floor(p.bank_bytes_per_cycle)) {
        m_bank_bpc_int = static_cast<uint64_t>(p.bank_bytes_per_cycle);
        if (m_bank_bpc_int) m_bank_bpc = divisor(m_bank_bpc_int);
    }
    target_socket.bind(*this);
}

void local_buffer::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    // IGNORE: the DMA engines' scatter/gather (NZ layouts) moves the data through DMI and books
    // the bank time with one such access per burst.
    if (!check_access(trans, m_p.size, true)) return;
    const uint64_t addr = trans.get_address();
    const uint64_t len = trans.get_data_length();

    const ps_t now = now_ps();
    const bool write = trans.is_write();
    const bool timing_only = trans.get_command() == tlm::TLM_IGNORE_COMMAND;
    const ps_t end = book(write, addr, len, now + time_to_ps(delay), !timing_only);
    delay = ps_to_time(end - now);

    // An engine that moves a burst between GM and this buffer through the buffer's own memory
    // (DMI) hands its bytes over in place: nothing to copy.
    uint8_t* const mine = m_data.data() + addr;
    if (timing_only || !m_functional || trans.get_data_ptr() == mine) {
    } else if (write) {
        std::memcpy(mine, trans.get_data_ptr(), len);
    } else {
        std::memcpy(trans.get_data_ptr(), mine, len);
    }
    trans.set_dmi_allowed(true);
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

ps_t local_buffer::book_unit(uint64_t addr, uint64_t len, uint64_t read_bytes, uint64_t write_bytes,
                             ps_t arrival, ps_t span) {
    m_read_bytes += read_bytes;
    m_write_bytes += write_bytes;
    if (len == 0) return arrival;
    const auto [b0, b1] = banks_of(addr, len);
    const ps_t occ = std::min(span, bank_time(len, b1 - b0 + 1));
    const ps_t end = reserve_pieces(m_banks.begin() + ptrdiff_t(b0),
                                    m_banks.begin() + ptrdiff_t(b1 + 1), arrival, occ);
    if (end - occ > arrival) ++m_conflicts;
    return end - occ;
}

std::pair<uint64_t, uint64_t> local_buffer::banks_of(uint64_t addr, uint64_t len) const {
    // Every burst lands here: shifts and integer division when the numbers allow.
    const uint64_t b0 = m_bank_shift ? addr >> m_bank_shift : addr / m_bank_bytes;
    const uint64_t b1 =
        std::min<uint64_t>(m_banks.size() - 1, m_bank_shift ? (addr + len - 1) >> m_bank_shift
                                                            : (addr + len - 1) / m_bank_bytes);
    return {b0, b1};
}

ps_t local_buffer::bank_time(uint64_t len, uint64_t touched) const {
    // ceil(len / (bpc * touched)) as ceil(ceil(len / bpc) / touched): a shift for the usual
    // power-of-two bpc, and most accesses touch one bank.
    const auto whole = [&] {
        const uint64_t per_bank = m_bank_bpc.div(len + m_bank_bpc_int - 1);
        return touched == 1 ? per_bank : (per_bank + touched - 1) / touched;
    };
    const uint64_t cycles =
        m_bank_bpc_int ? whole()
                       : static_cast<uint64_t>(
                             std::ceil(static_cast<double>(len) /
                                       (m_p.bank_bytes_per_cycle * static_cast<double>(touched))));
    return cycles * m_period;
}

ps_t local_buffer::book_banks(uint64_t addr, uint64_t len, ps_t arrival, ps_t& occ) {
    const auto [b0, b1] = banks_of(addr, len);
    occ = bank_time(len, b1 - b0 + 1);
    const ps_t start = reserve_common(m_banks.begin() + ptrdiff_t(b0),
                                      m_banks.begin() + ptrdiff_t(b1 + 1), arrival, occ);
    if (start > arrival) ++m_conflicts;
    return start;
}

unsigned int local_buffer::transport_dbg(tlm::tlm_generic_payload& trans) {
    const uint64_t addr = trans.get_address();
    if (addr >= m_p.size) return 0;
    const uint64_t len = std::min<uint64_t>(trans.get_data_length(), m_p.size - addr);
    if (trans.is_write())
        std::memcpy(m_data.data() + addr, trans.get_data_ptr(), len);
    else if (trans.is_read())
        std::memcpy(trans.get_data_ptr(), m_data.data() + addr, len);
    else
        return 0;
    return static_cast<unsigned int>(len);
}

bool local_buffer::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
    if (trans.get_address() >= m_p.size) {  // past the end: nothing to point at
        dmi.set_start_address(m_p.size);
        dmi.set_end_address(~sc_dt::uint64{0});
        return false;
    }
    dmi.set_dmi_ptr(m_data.data());
    dmi.set_start_address(0);
    dmi.set_end_address(m_p.size - 1);
    dmi.allow_read_write();
    dmi.set_read_latency(sc_core::SC_ZERO_TIME);
    dmi.set_write_latency(sc_core::SC_ZERO_TIME);
    return true;
}

void local_buffer::visit_stats(const stats_fn& fn) const {
    fn("read_bytes", static_cast<double>(m_read_bytes));
    fn("write_bytes", static_cast<double>(m_write_bytes));
    fn("bank_conflicts", static_cast<double>(m_conflicts));
}

}  // namespace npusim::models
