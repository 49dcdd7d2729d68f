#include "models/memory/l2_cache.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "models/common/payload.h"
#include "models/common/traffic.h"
#include "models/memory/tlm_checks.h"

namespace npusim::models {

namespace {

/// The way holding `tag` among a set's `ways` tags, or `ways`. Every access scans a set, and a
/// miss scans all of it: 16 bytes of tags per compare where the host has SSE2.
template <class Tag>
uint32_t find_way(const Tag* tags, uint32_t ways, Tag tag) {
    uint32_t i = 0;
#if defined(__SSE2__)
    constexpr uint32_t per = 16 / sizeof(Tag);
    const __m128i want = sizeof(Tag) == 2 ? _mm_set1_epi16(static_cast<short>(tag))
                                          : _mm_set1_epi32(static_cast<int>(tag));
    for (; i + per <= ways; i += per) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(tags + i));
        const __m128i eq = sizeof(Tag) == 2 ? _mm_cmpeq_epi16(v, want) : _mm_cmpeq_epi32(v, want);
        const int found = _mm_movemask_epi8(eq);  // sizeof(Tag) bits per matching tag
        if (found)
            return i +
                   static_cast<uint32_t>(__builtin_ctz(static_cast<unsigned>(found))) / sizeof(Tag);
    }
#endif
    while (i < ways && tags[i] != tag) ++i;
    return i;
}

}  // namespace

l2_cache::l2_cache(const sc_core::sc_module_name& nm, const l2_params& p, uint64_t capacity)
    : model_base(nm),
      target_socket("target_socket"),
      gm_socket("gm_socket"),
      m_p(p),
      m_capacity(capacity),
      m_line(p.line_bytes),
      m_rate(p.bandwidth) {
    m_sets = std::max<uint64_t>(1, p.size / (uint64_t(p.line_bytes) * p.ways));
    m_set_shift = (m_sets & (m_sets - 1)) == 0 ? __builtin_ctzll(m_sets) : -1;
    // A set's tags are line / sets + 1 in at most 32 bits. (The platform loader rejects such
    // a config first, naming the key.)
    if (capacity / p.line_bytes / m_sets >= UINT32_MAX)
        throw std::invalid_argument(std::string(name()) +
                                    ": GM has more lines per set than 32-bit tags name; make "
                                    "l2.size larger or l2.ways smaller");
    // 16-bit tags where they suffice (presets: GM up to 32 GiB behind a 32 MiB L2): a 16-way
    // set then takes half a host cache line, and the sets of a streamed run share them.
    m_narrow = capacity / p.line_bytes / m_sets < 0xffff;
    m_sets_state = std::make_unique<host_buffer>(m_sets * p.ways *
                                                 (m_narrow ? sizeof(uint16_t) : sizeof(uint32_t)));
    m_fill_account = new traffic_tag(nullptr);
    m_fill.set_extension(m_fill_account);
    m_fill_part = new line_fill;
    m_fill.set_extension(m_fill_part);
    target_socket.bind(*this);
    gm_socket.register_invalidate_direct_mem_ptr(this, &l2_cache::invalidate_dmi);
}

template <class Tag>
bool l2_cache::touch_as(uint64_t line) {
    // A set keeps its tags in order of use, so a hit on a recent line is found at once and a
    // miss takes the last way (never-used ways stay last) without a scan for the oldest.
    const bool pow2 = m_set_shift >= 0;
    const uint64_t set = pow2 ? (line & (m_sets - 1)) : line % m_sets;
    Tag* tags = reinterpret_cast<Tag*>(m_sets_state->data()) + set * m_p.ways;
    const auto tag = static_cast<Tag>((pow2 ? line >> m_set_shift : line / m_sets) + 1);
    const uint32_t ways = m_p.ways;
    uint32_t i = find_way(tags, ways, tag);
    const bool hit = i < ways;
    if (!hit) i = ways - 1;
    m_undo.push_back({tags, i, tags[i]});
    std::memmove(tags + 1, tags, i * sizeof(Tag));
    tags[0] = tag;
    return hit;
}

void l2_cache::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    // GM's checks before any lookup: a hit answers what GM would, a rejected access touches
    // no line.
    if (!check_access(trans, m_capacity)) return;
    const uint64_t addr = trans.get_address();
    const uint64_t len = trans.get_data_length();
    const bool is_write = trans.is_write();
    const bool timing_only = trans.get_command() == tlm::TLM_IGNORE_COMMAND;
    bool all_hit = !timing_only;
    uint64_t hits = 0, misses = 0;
    const uint64_t first = m_line.div(addr), last = m_line.div(addr + len - 1);
    m_undo.clear();
    m_line_hit.clear();
    if (!timing_only) {
        // Which lines hit matters only to a read of several lines, some of them hits (below).
        const bool several = last > first;
        for (uint64_t line = first; line <= last; ++line) {
            const bool hit = touch(line);
            hit ? ++hits : ++misses;
            all_hit &= hit;
            if (several) m_line_hit.push_back(hit);
        }
    }
    const ps_t now = now_ps();
    const ps_t arrival = now + time_to_ps(delay);
    const ps_t occ = m_rate.occupancy(len);
    const ps_t start = m_port.reserve(arrival, occ);

    if (all_hit && !is_write) {
        // Data comes from GM functionally, time from L2 only.
        if (m_p.functional && gm_socket->transport_dbg(trans) != len) {
            trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        trans.set_response_status(tlm::TLM_OK_RESPONSE);
        delay = ps_to_time(start + occ + m_p.hit_latency_ps - now);
    } else if (!is_write && !timing_only && hits == 0 && m_line.mod(addr) == 0 &&
               (m_line.mod(len) == 0 || addr + len == m_capacity)) {
        // A read of whole lines that all missed is its own line fill: GM serves it directly.
        sc_core::sc_time gm_delay = ps_to_time(arrival - now);
        gm().b_transport(trans, gm_delay);
        if (trans.is_response_error()) {
            rollback();
            return;
        }
        delay = ps_to_time(std::max(now + time_to_ps(gm_delay), start + occ) + m_p.miss_latency_ps -
                           now);
    } else if (!is_write && !timing_only) {
        // A read miss fills its missed lines whole, one GM read per run of them; the burst
        // streams through L2 as they return. The data then comes as for a hit.
        ps_t gm_done = arrival;
        traffic* account = account_of(trans);
        if (first == last) m_line_hit.push_back(0);  // one line, and it missed
        for (uint64_t i = 0; i < m_line_hit.size();) {
            if (m_line_hit[i]) {
                ++i;
                continue;
            }
            uint64_t j = i;
            while (j < m_line_hit.size() && !m_line_hit[j]) ++j;
            const uint64_t from = (first + i) * m_p.line_bytes;
            const uint64_t to = std::min(m_capacity, (first + j) * m_p.line_bytes);
            const ps_t done = fill(from, to, arrival, account, addr, addr + len);
            if (m_fill.is_response_error()) {
                trans.set_response_status(m_fill.get_response_status());
                rollback();
                return;
            }
            gm_done = std::max(gm_done, done);
            i = j;
        }
        if (m_p.functional && gm_socket->transport_dbg(trans) != len) {
            trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            rollback();
            return;
        }
        trans.set_response_status(tlm::TLM_OK_RESPONSE);
        delay = ps_to_time(std::max(gm_done, start + occ) + m_p.miss_latency_ps - now);
    } else {
        // Writes go through to GM (and timing-only accesses pass through).
        sc_core::sc_time gm_delay = ps_to_time(arrival - now);
        gm().b_transport(trans, gm_delay);
        if (trans.is_response_error()) {  // GM said no: keep no line this access allocated
            rollback();
            return;
        }
        const ps_t gm_done = now + time_to_ps(gm_delay);
        delay = ps_to_time(std::max(gm_done, start + occ) + m_p.miss_latency_ps - now);
    }
    m_hits += hits;
    m_misses += misses;
    if (is_write) m_write_hits += hits, m_write_misses += misses;
    m_hit_count.add(start, static_cast<int64_t>(hits));
    m_miss_count.add(start, static_cast<int64_t>(misses));
    if (!timing_only) m_byte_count.add(start, static_cast<int64_t>(len));
    if (!timing_only) (is_write ? m_write_bytes : m_read_bytes) += len;
    if (traffic* a = account_of(trans); a && !timing_only) {
        if (is_write)
            a->l2_write_bytes += len, a->l2_write_hits += hits, a->l2_write_misses += misses;
        else
            a->l2_read_bytes += len, a->l2_read_hits += hits, a->l2_read_misses += misses;
    }
}

ps_t l2_cache::fill(uint64_t from, uint64_t to, ps_t arrival, traffic* account, uint64_t asked_from,
                    uint64_t asked_to) {
    m_fill_data.resize(to - from);
    prepare_payload(m_fill, tlm::TLM_READ_COMMAND, from, m_fill_data.data(),
                    static_cast<unsigned>(to - from));
    m_fill_account->account = account;
    m_fill_part->asked_from = asked_from;
    m_fill_part->asked_to = asked_to;
    const ps_t now = now_ps();
    sc_core::sc_time d = ps_to_time(arrival - now);
    gm().b_transport(m_fill, d);
    const uint64_t asked =
        std::max(from, std::min(to, asked_to)) - std::max(from, std::min(to, asked_from));
    m_fill_bytes += (to - from) - asked;
    return now + time_to_ps(d);
}

void l2_cache::rollback() {
    auto undo = [&](auto* tags, const undo_entry& u) {
        std::memmove(tags, tags + 1, u.way * sizeof(*tags));
        tags[u.way] = static_cast<std::remove_pointer_t<decltype(tags)>>(u.old_tag);
    };
    for (auto it = m_undo.rbegin(); it != m_undo.rend(); ++it) {
        if (m_narrow)
            undo(static_cast<uint16_t*>(it->tags), *it);
        else
            undo(static_cast<uint32_t*>(it->tags), *it);
    }
}

unsigned int l2_cache::transport_dbg(tlm::tlm_generic_payload& trans) {
    return gm_socket->transport_dbg(trans);
}

bool l2_cache::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
    return gm_socket->get_direct_mem_ptr(trans, dmi);
}

void l2_cache::invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end) {
    target_socket->invalidate_direct_mem_ptr(start, end);
}

void l2_cache::on_trace_attached() {
    m_hit_count.bind(m_trace, signal_path("hits"), 32, true);
    m_miss_count.bind(m_trace, signal_path("misses"), 32, true);
    m_byte_count.bind(m_trace, signal_path("bytes"), 32, true);
}

void l2_cache::visit_stats(const stats_fn& fn) const {
    fn("hits", static_cast<double>(m_hits));
    fn("misses", static_cast<double>(m_misses));
    fn("read_hits", static_cast<double>(m_hits - m_write_hits));
    fn("read_misses", static_cast<double>(m_misses - m_write_misses));
    fn("write_hits", static_cast<double>(m_write_hits));
    fn("write_misses", static_cast<double>(m_write_misses));
    fn("read_bytes", static_cast<double>(m_read_bytes));
    fn("fill_bytes", static_cast<double>(m_fill_bytes));
    fn("write_bytes", static_cast<double>(m_write_bytes));
    fn("busy_ns", m_port.busy_ps() / 1000.0);
}

}  // namespace npusim::models
