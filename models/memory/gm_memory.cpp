#include "models/memory/gm_memory.h"

#include <cstring>
#include <string>

#include "models/common/traffic.h"
#include "models/memory/tlm_checks.h"

namespace npusim::models {

gm_memory::gm_memory(const sc_core::sc_module_name& nm, const gm_params& p)
    : model_base(nm),
      target_socket("target_socket"),
      m_p(p),
      m_channels(p.channels),
      m_channel_rate(p.bandwidth / p.channels),
      // Pages faulted in ahead only where bursts write data (timing-only stores kept ranges).
      m_pool(page_bytes, p.functional ? 32 : 0) {
    while ((1ull << m_channel_bits) < m_p.channels) ++m_channel_bits;
    auto shift_of = [](uint64_t n) {  // log2 of a power of two, else 0 (divide)
        unsigned k = 0;
        while (k < 63 && (uint64_t{1} << k) < n) ++k;
        return (uint64_t{1} << k) == n && n > 1 ? k : 0u;
    };
    m_unit_shift = shift_of(m_p.interleave_bytes);
    m_granule_shift = shift_of(m_p.access_granule);
    target_socket.bind(*this);
}

void gm_memory::page_unmap::operator()(uint8_t* p) const {
    page_pool::unmap(p, page_bytes);
}

uint8_t* gm_memory::page(uint64_t index) {
    auto& slot = m_pages[index];
    if (!slot) slot.reset(m_pool.take());
    return slot.get();
}

const uint8_t* gm_memory::page_or_null(uint64_t index) const {
    auto it = m_pages.find(index);
    return it == m_pages.end() ? nullptr : it->second.get();
}

void gm_memory::copy(uint64_t addr, uint8_t* data, uint64_t len, bool to_memory) {
    while (len > 0) {
        const uint64_t off = addr % page_bytes;
        const uint64_t n = std::min(len, page_bytes - off);
        if (to_memory) {
            std::memcpy(page(addr / page_bytes) + off, data, n);
        } else if (const uint8_t* pg = page_or_null(addr / page_bytes)) {
            std::memcpy(data, pg + off, n);
        } else {
            std::memset(data, 0, n);
        }
        addr += n;
        data += n;
        len -= n;
    }
}

void gm_memory::read(uint64_t addr, void* dst, uint64_t len) const {
    const_cast<gm_memory*>(this)->copy(addr, static_cast<uint8_t*>(dst), len, false);
}

void gm_memory::write(uint64_t addr, const void* src, uint64_t len) {
    copy(addr, static_cast<uint8_t*>(const_cast<void*>(src)), len, true);
}

unsigned gm_memory::channel_of(uint64_t addr) const {
    // The interleave unit's index with its higher bits XOR-folded into the channel bits, as
    // memory controllers hash addresses: a matrix walked by rows with a power-of-two pitch then
    // spreads over every channel, where plain modulo interleaving would keep hitting a few.
    const uint64_t unit = m_unit_shift ? addr >> m_unit_shift : addr / m_p.interleave_bytes;
    const unsigned bits = m_channel_bits;
    uint64_t fold = 0;
    if (bits > 0) {
        const uint64_t high = unit >> bits;
        fold_entry& e = m_folds[(high * 0x9e3779b97f4a7c15ull) >> (64 - k_fold_bits)];
        if (e.high != high) {
            e.high = high;
            e.fold = 0;
            for (uint64_t u = high; u != 0; u >>= bits) e.fold ^= u & ((1ull << bits) - 1);
        }
        fold = e.fold;
    }
    const uint64_t hashed = unit ^ fold;
    return static_cast<unsigned>((uint64_t{1} << bits) == m_p.channels ? hashed & (m_p.channels - 1)
                                                                       : hashed % m_p.channels);
}

void gm_memory::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    if (!check_access(trans, m_p.capacity)) return;
    const uint64_t addr = trans.get_address();
    const uint64_t len = trans.get_data_length();
    const bool is_write = trans.is_write();
    const bool timing_only = trans.get_command() == tlm::TLM_IGNORE_COMMAND;

    // A wide burst is cut at the channel interleave: each piece books its own channel, and the
    // burst is done when its last piece is. A partial granule costs a whole one: this is what
    // makes misaligned bursts expensive.
    const uint64_t g = m_p.access_granule, unit = m_p.interleave_bytes;
    const ps_t now = now_ps();
    const ps_t arrival = now + time_to_ps(delay);
    ps_t start = ~ps_t{0}, end = arrival;
    // Shifts where the sizes are powers of two: this runs for every burst.
    const auto down = [](uint64_t x, uint64_t n, unsigned shift) {
        return shift ? x >> shift << shift : x / n * n;
    };
    for (uint64_t a = addr; a < addr + len;) {
        const uint64_t piece_end = std::min(addr + len, down(a, unit, m_unit_shift) + unit);
        const uint64_t first = down(a, g, m_granule_shift),
                       last = down(piece_end + g - 1, g, m_granule_shift);
        const ps_t occ = m_channel_rate.occupancy(last - first);
        const ps_t s = m_channels[channel_of(a)].reserve(arrival, occ);
        start = std::min(start, s);
        end = std::max(end, s + occ);
        a = piece_end;
    }
    const ps_t done = end + m_p.latency_ps;
    delay = ps_to_time(done - now);
    if (timing_only) {  // booked like a read, moves and counts no data
        trans.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }

    if (m_p.functional)
        copy(addr, trans.get_data_ptr(), len, is_write);
    else if (!m_kept.empty())
        copy_kept(addr, trans.get_data_ptr(), len, is_write);
    if (!is_write && !m_poisoned.empty()) {
        if (const line_fill* f = trans.get_extension<line_fill>()) {
            const uint64_t from = std::max(addr, f->asked_from);
            const uint64_t to = std::min(addr + len, f->asked_to);
            if (to > from) check_poison(from, to - from);
        } else {
            check_poison(addr, len);
        }
    }
    if (traffic* a = account_of(trans)) (is_write ? a->gm_write_bytes : a->gm_read_bytes) += len;
    if (is_write) {
        m_write_bytes += len;
        ++m_writes;
        m_write_inflight.add(start, static_cast<int64_t>(len));
        m_write_inflight.add(done, -static_cast<int64_t>(len));
    } else {
        m_read_bytes += len;
        ++m_reads;
        m_read_inflight.add(start, static_cast<int64_t>(len));
        m_read_inflight.add(done, -static_cast<int64_t>(len));
    }
    trans.set_dmi_allowed(true);
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned int gm_memory::transport_dbg(tlm::tlm_generic_payload& trans) {
    const uint64_t addr = trans.get_address();
    uint64_t len = trans.get_data_length();
    if (addr >= m_p.capacity) return 0;
    len = std::min(len, m_p.capacity - addr);
    if (trans.is_write())
        copy(addr, trans.get_data_ptr(), len, true);
    else if (trans.is_read()) {
        copy(addr, trans.get_data_ptr(), len, false);
        if (!m_poisoned.empty()) check_poison(addr, len);
    } else
        return 0;
    return static_cast<unsigned int>(len);
}

void gm_memory::poison(uint64_t addr, uint64_t len, bool freed) {
    const uint64_t end = addr + len;
    // Cut every poisoned range overlapping [addr, end) down to what lies outside it.
    auto it = m_poisoned.upper_bound(addr);
    if (it != m_poisoned.begin() && std::prev(it)->second > addr) --it;
    while (it != m_poisoned.end() && it->first < end) {
        const uint64_t s = it->first, e = it->second;
        it = m_poisoned.erase(it);
        if (s < addr) m_poisoned[s] = addr;
        if (e > end) m_poisoned[end] = e;
    }
    if (!freed) return;
    m_poisoned[addr] = end;
    if (m_p.functional) {  // freed bytes read back as a recognisable pattern
        std::vector<uint8_t> pattern(std::min<uint64_t>(len, page_bytes), 0xfd);
        for (uint64_t off = 0; off < len; off += pattern.size())
            copy(addr + off, pattern.data(), std::min<uint64_t>(pattern.size(), len - off), true);
    }
}

void gm_memory::keep(uint64_t addr, uint64_t len, bool kept) {
    const uint64_t end = addr + len;
    auto it = m_kept.upper_bound(addr);
    if (it != m_kept.begin() && std::prev(it)->second > addr) --it;
    while (it != m_kept.end() && it->first < end) {
        const uint64_t s = it->first, e = it->second;
        it = m_kept.erase(it);
        if (s < addr) m_kept[s] = addr;
        if (e > end) m_kept[end] = e;
    }
    if (kept && len > 0) m_kept[addr] = end;
}

void gm_memory::copy_kept(uint64_t addr, uint8_t* data, uint64_t len, bool to_memory) {
    if (!data) return;  // a timing-only initiator may carry no buffer at all
    const uint64_t end = addr + len;
    auto it = m_kept.upper_bound(addr);
    if (it != m_kept.begin() && std::prev(it)->second > addr) --it;
    for (; it != m_kept.end() && it->first < end; ++it) {
        const uint64_t from = std::max(addr, it->first), to = std::min(end, it->second);
        if (from < to) copy(from, data + (from - addr), to - from, to_memory);
    }
}

void gm_memory::check_poison(uint64_t addr, uint64_t len) {
    auto it = m_poisoned.upper_bound(addr);
    if (it != m_poisoned.begin() && std::prev(it)->second > addr) --it;
    if (it == m_poisoned.end() || it->first >= addr + len) return;
    const uint64_t from = std::max(addr, it->first);
    m_poison_hits.push_back({from, std::min(addr + len, it->second) - from, now_ps()});
}

std::vector<gm_memory::poison_hit> gm_memory::poison_hits(ps_t from, ps_t to) const {
    std::vector<poison_hit> out;
    for (const auto& h : m_poison_hits)
        if (h.time >= from && h.time <= to) out.push_back(h);
    return out;
}

bool gm_memory::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
    const uint64_t addr = trans.get_address();
    if (addr >= m_p.capacity) {  // denied: the range says where DMI does not exist
        dmi.set_start_address(m_p.capacity);
        dmi.set_end_address(~sc_dt::uint64{0});
        return false;
    }
    const uint64_t base = addr / page_bytes * page_bytes;
    dmi.set_dmi_ptr(page(addr / page_bytes));
    dmi.set_start_address(base);
    dmi.set_end_address(std::min(base + page_bytes, m_p.capacity) - 1);
    dmi.allow_read_write();
    dmi.set_read_latency(sc_core::SC_ZERO_TIME);
    dmi.set_write_latency(sc_core::SC_ZERO_TIME);
    return true;
}

void gm_memory::on_trace_attached() {
    m_read_inflight.bind(m_trace, signal_path("read_bytes_in_flight"), 32, true);
    m_write_inflight.bind(m_trace, signal_path("write_bytes_in_flight"), 32, true);
}

void gm_memory::visit_stats(const stats_fn& fn) const {
    fn("read_bytes", static_cast<double>(m_read_bytes));
    fn("write_bytes", static_cast<double>(m_write_bytes));
    fn("reads", static_cast<double>(m_reads));
    fn("writes", static_cast<double>(m_writes));
    for (size_t i = 0; i < m_channels.size(); ++i)
        fn("channel" + std::to_string(i) + ".busy_ns", m_channels[i].busy_ps() / 1000.0);
}

}  // namespace npusim::models
