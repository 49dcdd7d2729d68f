#include "models/dma/dma_engine.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "models/common/divisor.h"
#include "models/common/model_fault.h"
#include "models/common/payload.h"
#include "models/core/fractal_layout.h"

namespace npusim::models {

pipe_id engine_for_path(mem_space src, mem_space dst) {
    using m = mem_space;
    if (src == m::gm && (dst == m::l1 || dst == m::l0a || dst == m::l0b || dst == m::ub))
        return pipe_id::MTE2;
    if (src == m::l1 && (dst == m::l0a || dst == m::l0b || dst == m::ub || dst == m::bt))
        return pipe_id::MTE1;
    if ((src == m::ub && (dst == m::gm || dst == m::l1)) || (src == m::l1 && dst == m::gm))
        return pipe_id::MTE3;
    if ((src == m::l0c && (dst == m::gm || dst == m::l1)) || (src == m::l1 && dst == m::fb))
        return pipe_id::FIX;
    if ((src == m::l0c || src == m::ub) && dst == m::ub) return pipe_id::V;
    return pipe_id::S;
}

namespace {

// Element type conversion of a run (FixPipe and the vector unit's L0C->UB move).
void convert(const uint8_t* src, dtype st, uint8_t* dst, dtype dt, uint64_t n) {
    if (n == 0) return;
    if (st == dt) {
        std::memcpy(dst, src, n * dtype_size(st));
        return;
    }
    if (st == dtype::fp32 && dt == dtype::fp16) {  // every fp16 matmul's FixPipe output
        float group[256];
        for (uint64_t i = 0; i < n; i += 256) {
            const uint64_t m = std::min<uint64_t>(256, n - i);
            std::memcpy(group, src + 4 * i, 4 * m);
            floats_to_halves(group, dst + 2 * i, m);
        }
        return;
    }
    for (uint64_t i = 0; i < n; ++i) store_from_float(dst, dt, i, load_as_float(src, st, i));
}

// Calls f with the element size, a compile-time constant for the common sizes so each element
// copy is one move (a memcpy call of a run-time size costs more than the element).
template <class F>
void with_element_size(uint64_t e, F&& f) {
    if (e == 2) return f(std::integral_constant<uint64_t, 2>{});
    if (e == 1) return f(std::integral_constant<uint64_t, 1>{});
    if (e == 4) return f(std::integral_constant<uint64_t, 4>{});
    f(e);
}

}  // namespace

/// Per-instruction state: geometry of both sides and the running completion time. What
/// booking a burst reads comes first, so a GM burst the dispatcher books (an engine's bursts
/// interleave with every other engine's there) reads it from one or two host cache lines.
struct dma_engine::transfer {
    transfer(const dma_request& req, const path_params& p) : r(req), path(p) {}
    uint64_t primary_base = 0, primary_pitch = 0, secondary_base = 0, secondary_pitch = 0;
    divisor pe_div;           // by pe
    uint32_t pe = 1, se = 1;  // element bytes on the primary and secondary side
    layout_conv conv = layout_conv::none;
    bool cast = false;  // elements change type between the sides
    bool primary_is_src = true;
    bool deferred = false;  // its bursts have a GM side: the dispatcher books them
    mem_space primary = mem_space::gm, secondary = mem_space::gm;
    // The sides' targets; for a local secondary side, also the buffer and its memory (DMI):
    // its bursts move through DMI and book the banks directly (the TLM target only answers
    // an access outside the buffer, with its error).
    tlm::tlm_blocking_transport_if<>* primary_target = nullptr;
    tlm::tlm_blocking_transport_if<>* secondary_target = nullptr;
    local_buffer* secondary_buffer = nullptr;
    uint8_t* secondary_mem = nullptr;
    uint64_t secondary_size = 0;
    // A functional plain copy with a GM side: the local memory itself carries the bursts'
    // bytes (GM reads into it or writes from it; no staging copy).
    bool in_place = false;
    divisor c0;           // by the NZ side's fractal row in elements (a conversion's)
    uint64_t rows_p = 0;  // the NZ side's padded rows (a conversion's)
    const dma_request& r;
    const path_params& path;
    ps_t arrival = 0;        // when the first request may go out (after the start-up latency)
    ps_t done = 0;           // latest completion seen (a posted write: its acceptance)
    ps_t issue_end = 0;      // when the last burst left the engine port
    uint64_t requested = 0;  // bytes whose requests went out so far
    uint64_t total = 0;      // bytes the port moves for the instruction (0: unknown)
    ps_t begin = 0;          // when the pipe started the instruction
    uint64_t occ_len = ~uint64_t{0};  // the burst size whose port occupancy `occ` holds
    ps_t occ = 0;
    uint64_t tail_bytes = 0;  // see reserve_port: the lag of a burst near the end
    /// Element index of (row, q) on the NZ side.
    uint64_t nz(uint64_t row, uint64_t q) const {
        return nz_index_split(row, c0.div(q), c0.mod(q), rows_p, c0.d);
    }
};

/// A GM transfer kept until the dispatcher has booked all its bursts (with its own copy of the
/// request: the pipe's is gone by then). The counters a booking updates come first.
struct dma_engine::held {
    explicit held(const dma_request& r) : req(r) {}
    uint64_t pending = 0;     // bursts not booked yet
    bool registered = false;  // every burst is registered (execute returned)
    bool failed = false;      // a burst faulted: the rest move no data
    std::optional<transfer> t;
    dma_request req;
};

dma_engine::dma_engine(const sc_core::sc_module_name& nm, pipe_id pipe, const core_params& core)
    : model_base(nm),
      m_functional(core.functional),
      global_socket("global_socket"),
      local_socket("local_socket"),
      m_pipe(pipe),
      m_core(core),
      m_period(period_ps(core.clock_hz)),
      m_mover(name(), {core.dma.max_outstanding, core.dma.write_buffer}) {
    m_local_port.fill(-1);
}

dma_engine::~dma_engine() = default;

void dma_engine::connect_local(local_buffer& buffer) {
    connect_local(buffer, buffer.target_socket);
}

void dma_engine::connect_local(
    local_buffer& buffer,
    tlm_utils::multi_passthrough_initiator_socket<dma_engine>::base_target_socket_type& target) {
    m_local_port[size_t(buffer.space())] = static_cast<int>(m_local_count++);
    m_local_buf[size_t(buffer.space())] = &buffer;
    local_socket.bind(target);
}

bool dma_engine::has_path(mem_space src, mem_space dst) const {
    return engine_for_path(src, dst) == m_pipe && m_core.path(src, dst).present() &&
           (src == mem_space::gm || m_core.buffer(src).size > 0) &&
           (dst == mem_space::gm || m_core.buffer(dst).size > 0);
}

unsigned dma_engine::debug_read(uint64_t addr, uint8_t* data, unsigned len) {
    tlm::tlm_generic_payload t;
    prepare_payload(t, tlm::TLM_READ_COMMAND, addr, data, len);
    return global_socket->transport_dbg(t);
}

void dma_engine::check(const dma_request& r) const {
    auto fail = [&](uint64_t addr, const std::string& what) {
        throw model_fault(name(), addr, r.describe(), what);
    };
    using m = mem_space;
    if (!has_path(r.src_space, r.dst_space))
        fail(0, std::string("no data path ") + to_string(r.src_space) + "->" +
                    to_string(r.dst_space) + " on this engine of a " + to_string(m_core.kind) +
                    " core");
    if (r.rows == 0 || r.row_bytes == 0) fail(0, "empty transfer (rows and row_bytes must be > 0)");
    // Conversions and casts only where the hardware does them.
    static const struct {
        layout_conv conv;
        m src, dst;
        const char* text;
    } conv_paths[] = {
        {layout_conv::nd2nz, m::gm, m::l1, "nd2nz conversion is only done on the GM->L1 path"},
        {layout_conv::nz2nd, m::l0c, m::gm, "nz2nd conversion is only done on the L0C->GM path"},
        {layout_conv::nz2zz, m::l1, m::l0a, "nz2zz loads are only done on the L1->L0A path"},
        {layout_conv::nz2zn, m::l1, m::l0b, "nz2zn loads are only done on the L1->L0B path"}};
    for (auto& c : conv_paths)
        if (r.conv == c.conv && !(r.src_space == c.src && r.dst_space == c.dst)) fail(0, c.text);
    if (r.conv == layout_conv::fill && !(r.src_space == m::gm && r.dst_space == m::l1))
        fail(0, "fill is only done by the GM->L1 engine, into L1");
    if (r.conv == layout_conv::img2col &&
        !(r.src_space == m::l1 && (r.dst_space == m::l0a || r.dst_space == m::l0b)))
        fail(0, "img2col loads are only done on the L1->L0A and L1->L0B paths");
    if (r.cast() && r.src_space != m::l0c && !(r.src_space == m::l1 && r.dst_space == m::bt))
        fail(0, "element casts are only done on the way out of L0C and on L1->BT");
    if (r.row_bytes % r.src_elem() != 0)  // a plain copy's element is one byte
        fail(0, "row_bytes must be a whole number of elements for a layout conversion or cast");
    auto check_side = [&](m s, uint64_t addr, uint64_t pitch, bool nz_side) {
        if (s == m::gm) return;
        const buffer_params& b = m_core.buffer(s);
        char what[160];
        if (addr % b.alignment != 0) {
            std::snprintf(what, sizeof what,
                          "misaligned %s address 0x%llx (needs %u-byte alignment)", to_string(s),
                          static_cast<unsigned long long>(addr), b.alignment);
            fail(addr, what);
        }
        if (r.rows > 1 && !nz_side && pitch % b.alignment != 0) {
            std::snprintf(what, sizeof what, "%s row stride %llu is not a multiple of %u bytes",
                          to_string(s), static_cast<unsigned long long>(pitch), b.alignment);
            fail(addr, what);
        }
    };
    const bool fractal_load = r.conv == layout_conv::nz2zz || r.conv == layout_conv::nz2zn ||
                              r.conv == layout_conv::img2col;
    check_side(r.src_space, r.src, r.src_pitch(), r.conv == layout_conv::nz2nd || fractal_load);
    check_side(r.dst_space, r.dst, r.dst_pitch(), r.conv == layout_conv::nd2nz || fractal_load);
}

tlm::tlm_blocking_transport_if<>& dma_engine::target_of(mem_space space) {
    // The binding is fixed once simulation runs: look the target up once, not through the
    // socket (an interface check and a vector) on every burst, and keep it as the blocking
    // interface, a virtual base of the forward one: a call then adjusts no pointer through the
    // target's vtable first.
    tlm::tlm_blocking_transport_if<>*& target = m_target[size_t(space)];
    if (!target)
        target = space == mem_space::gm ? global_socket.operator->()
                                        : local_socket[m_local_port[size_t(space)]];
    return *target;
}

ps_t dma_engine::access(transfer& t, mem_space space, bool write, uint64_t addr, uint8_t* data,
                        uint64_t len, ps_t start) {
    return access(t, target_of(space), space, write, addr, data, len, start);
}

ps_t dma_engine::access(transfer& t, tlm::tlm_blocking_transport_if<>& target, mem_space space,
                        bool write, uint64_t addr, uint8_t* data, uint64_t len, ps_t start) {
    return m_mover.transport(
        target, write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, addr, data, len, start,
        [&] { return t.r.describe(); }, to_string(space));
}

std::pair<uint8_t*, uint64_t> dma_engine::map_local(mem_space space, bool required) {
    tlm::tlm_generic_payload probe;
    tlm::tlm_dmi dmi;
    probe.set_address(0);
    probe.set_command(tlm::TLM_READ_COMMAND);
    if (!local_socket[m_local_port[size_t(space)]]->get_direct_mem_ptr(probe, dmi)) {
        if (!required) return {nullptr, 0};
        throw model_fault(name(), 0, "", std::string("no direct access to ") + to_string(space));
    }
    return m_dmi[size_t(space)] = {dmi.get_dmi_ptr(),
                                   dmi.get_end_address() - dmi.get_start_address() + 1};
}

ps_t dma_engine::next_request(const transfer& t) const {
    const path_params& path = t.path;
    if (path.issue_bytes_per_cycle <= 0) return t.arrival;
    return t.arrival + static_cast<ps_t>(
                           std::ceil(double(t.requested) * m_period / path.issue_bytes_per_cycle));
}

std::pair<ps_t, ps_t> dma_engine::reserve_port(transfer& t, uint64_t len, bool slotted) {
    // Requests go out at the path's issue rate after the start-up; the port then moves each
    // burst at the path's bandwidth plus a fixed command cost per burst.
    const path_params& path = t.path;
    const ps_t earliest = next_request(t);
    t.requested += len;
    // In ps, not whole cycles: a port of 156 B/cycle moves a 512-byte burst in 3.3 cycles.
    // A transfer's bursts are nearly all one size: the division is done once per size.
    const ps_t startup = t.arrival - t.begin;
    if (len != t.occ_len) {
        t.occ_len = len;
        t.occ = static_cast<ps_t>(
                    std::ceil(static_cast<double>(len) * m_period / path.bytes_per_cycle)) +
                ps_t(path.burst_overhead_cycles) * m_period;
        // Fewer bytes to come than this may leave a lag (one more than the bound, for the
        // rounding of the floor below).
        t.tail_bytes = startup > t.occ
                           ? static_cast<uint64_t>(std::ceil(double(startup - t.occ) *
                                                             path.bytes_per_cycle / m_period)) +
                                 1
                           : 0;
    }
    const ps_t occ = t.occ;
    // The next instruction may begin as early as the last burst's release minus the start-up.
    // The bytes still to come hold the port for at least their raw transfer time after this
    // burst, so only the bursts within one start-up of the end bring that moment forward.
    const uint64_t rest = t.total > t.requested ? t.total - t.requested : 0;
    ps_t lag = 0;
    if (slotted && !t.deferred && rest < t.tail_bytes) {
        const ps_t tail =
            occ + static_cast<ps_t>(double(rest) * m_period / path.bytes_per_cycle);  // floor
        lag = startup > tail ? startup - tail : 0;
    }
    const ps_t start = !slotted     ? m_mover.port(std::max(earliest, now_ps()), occ)
                       : t.deferred ? m_mover.start_deferred(earliest, occ)
                                    : m_mover.start(earliest, occ, lag);
    t.issue_end = std::max(t.issue_end, start + occ);
    ++m_bursts;
    return {start, start + occ};
}

std::pair<ps_t, ps_t> dma_engine::reserve_run(transfer& t, uint64_t bytes) {
    const path_params& path = t.path;
    const uint64_t b = path.burst_bytes;
    const auto [first, release] = reserve_port(t, std::min(b, bytes));
    ps_t last = release;
    uint64_t off = std::min(b, bytes);
    // Once a full burst lands after everything booked on the port, and requests go out at
    // least as fast as the port moves them, the following full bursts run back to back: one
    // booking holds them all (the calendar would merge them into one interval anyway).
    const uint64_t full = (bytes - off) / b;
    const auto keeps_up = [&] {
        return path.issue_bytes_per_cycle <= 0 ||
               (double(b) * m_period / path.issue_bytes_per_cycle <= double(t.occ) &&
                next_request(t) <= last);
    };
    if (full > 0 && t.occ_len == b && m_mover.port_booked_until() == last && keeps_up()) {
        m_mover.port(last, full * t.occ);
        last += full * t.occ;
        t.requested += full * b;
        t.issue_end = std::max(t.issue_end, last);
        m_bursts += full;
        off += full * b;
    }
    for (; off < bytes; off += b)
        last = std::max(last, reserve_port(t, std::min(b, bytes - off)).second);
    return {first, last};
}

dma_engine::transfer dma_engine::begin_transfer(const dma_request& r, const path_params& path,
                                                ps_t begin) const {
    const bool converts = r.conv == layout_conv::nd2nz || r.conv == layout_conv::nz2nd;
    const ps_t startup =
        ps_t(path.latency_cycles + (converts ? path.format_latency_cycles : 0)) * m_period;
    transfer t(r, path);
    t.primary = r.src_space;
    t.secondary = r.dst_space;
    t.pe = t.se = r.src_elem();
    t.conv = r.conv;
    t.arrival = t.done = t.issue_end = begin + startup;
    t.begin = begin;
    return t;
}

dma_engine::timing dma_engine::finish(const transfer& t, ps_t begin) const {
    // The engine holds the instruction for its issue floor and until its last request went
    // out; it starts the next instruction's start-up at most that start-up before the port
    // frees, so a port-bound stream of instructions keeps the port busy.
    const path_params& path = t.path;
    const ps_t startup = t.arrival - begin;
    const ps_t requests = next_request(t) - begin;
    const ps_t stage = begin + std::max(ps_t(path.issue_cycles) * m_period, requests);
    const ps_t port = t.issue_end > startup ? t.issue_end - startup : 0;
    return {std::max(stage, port), t.done};
}

void dma_engine::burst(transfer& t, uint32_t row, uint64_t offset, uint64_t len) {
    const auto [start, release] = reserve_port(t, len, true);
    const size_t slot = m_mover.take_slot();
    if (!t.deferred) {
        const ps_t done = move(t, row, offset, len, start, release);
        m_mover.resolve(slot, done);
        t.done = std::max(t.done, done);
        return;
    }
    // A write to GM is posted: the issuer is done with it when the write buffer takes it.
    const uint64_t post = t.primary == mem_space::gm && !t.primary_is_src
                              ? m_mover.post(len, start, release, slot) + 1
                              : 0;
    held* h = m_held.back().get();
    if (m_fault) h->failed = true;  // issued after a burst that faulted
    m_pending.push_back({h, row, offset, len, start, release, slot, post});
    ++h->pending;
    m_dispatcher->post(start, m_client);
}

ps_t dma_engine::commit_next() {
    // Read in place, popped at the end: a booking registers no burst, so the ring stays put.
    const pending_burst& b = m_pending.front();
    ps_t done = b.release;
    if (!b.h->failed) {
        try {
            done = move(*b.h->t, b.row, b.offset, b.len, b.start, b.release);
        } catch (const model_fault& f) {
            // The kernel stops at this burst: nothing the pipe issued after it moves data.
            for (auto& h : m_held) h->failed = true;
            if (!m_fault) m_fault = f;
        }
    }
    if (b.post)
        m_mover.drain(b.post - 1, done);
    else
        m_mover.resolve(b.slot, done);
    held* const h = b.h;
    m_pending.pop_front();
    if (--h->pending == 0) release_held();
    return m_pending.empty() ? 0 : m_pending.front().start;
}

void dma_engine::prefetch() const {
    if (m_pending.empty()) return;
    __builtin_prefetch(&m_pending.front());
    m_mover.prefetch();
}

void dma_engine::release_held() {
    while (!m_held.empty() && m_held.front()->registered && m_held.front()->pending == 0)
        m_held.pop_front();
}

void dma_engine::rethrow_fault() {
    if (!m_fault) return;
    const model_fault f = *m_fault;
    m_fault.reset();
    throw f;
}

ps_t dma_engine::settle() {
    while (!m_pending.empty()) sc_core::wait(m_mover.progress());
    const ps_t t = m_mover.latest();
    rethrow_fault();
    return t;
}

ps_t dma_engine::move(transfer& t, uint32_t row, uint64_t offset, uint64_t len, ps_t start,
                      ps_t release) {
    const dma_request& r = t.r;
    ps_t done = release;
    uint8_t* buf = m_staging.data();
    const uint64_t paddr = t.primary_base + row * t.primary_pitch + offset;
    const bool nz_local = t.conv != layout_conv::none && t.secondary != mem_space::gm;
    if (t.in_place) {
        // Both accesses carry the local side's own bytes: GM reads into them or writes from
        // them, and the local side copies nothing. Past the buffer's end the staging buffer
        // stays, and the buffer's answer is the fault.
        const uint64_t saddr = t.secondary_base + row * t.secondary_pitch + offset;
        if (saddr <= t.secondary_size && len <= t.secondary_size - saddr)
            buf = t.secondary_mem + saddr;
    }

    // Pieces of the burst on the secondary side, in elements of the primary side: the whole
    // burst, or one piece per NZ fractal row it crosses.
    auto for_each_piece = [&](auto&& fn) {
        const uint64_t e0 = t.pe_div.div(offset), n_el = t.pe_div.div(len);
        if (t.conv == layout_conv::none) {
            fn(t.secondary_base + row * t.secondary_pitch + e0 * t.se, uint64_t{0}, n_el);
            return;
        }
        for (uint64_t q = e0; q < e0 + n_el;) {
            const uint64_t n = std::min(e0 + n_el, (t.c0.div(q) + 1) * t.c0.d) - q;
            fn(t.secondary_base + t.nz(row, q) * t.se, q - e0, n);
            q += n;
        }
    };
    const bool cast = t.cast;
    if (nz_local) {
        // NZ scatter/gather in a local buffer: one 32-byte-ish piece per fractal row. The
        // pieces move through DMI; one timing-only access books the buffer's bank time.
        uint8_t* const mem = t.secondary_mem;
        const uint64_t size = t.secondary_size;
        uint64_t first = ~uint64_t{0};
        if (t.primary_is_src)
            done = std::max(done,
                            access(t, *t.primary_target, t.primary, false, paddr, buf, len, start));
        auto bound = [&](uint64_t a, uint64_t bytes) {
            if (a + bytes > size) piece_outside(t, a, bytes, size);
            first = std::min(first, a);
        };
        auto piece = [&](uint64_t a, uint64_t el, uint64_t n) {
            bound(a, n * t.se);
            if (r.deq != dma_request::deq_mode::none) {
                const uint64_t col = t.pe_div.div(offset) + el;
                const float* scales = nullptr;
                if (r.deq == dma_request::deq_mode::vector) {
                    const auto [fb, fb_size] = local_memory(mem_space::fb);
                    if (!fb || r.deq_fb + (col + n) * 4 > fb_size)
                        throw model_fault(name(), r.deq_fb, r.describe(),
                                          "the dequantization scales of columns up to " +
                                              std::to_string(col + n) + " are outside FB");
                    scales = reinterpret_cast<const float*>(fb + r.deq_fb) + col;
                }
                for (uint64_t i = 0; i < n; ++i)
                    store_from_float(
                        buf + el * t.pe, r.dst_type, i,
                        load_as_float(mem + a, r.src_type, i) * (scales ? scales[i] : r.deq_scale));
                return;
            }
            if (t.primary_is_src)
                convert(buf + el * t.pe, r.src_type, mem + a, r.dst_type, n);
            else
                convert(mem + a, r.src_type, buf + el * t.pe, r.dst_type, n);
        };
        if (m_functional) {
            for_each_piece(piece);
        } else {  // no data: the first and the last piece (the highest address) suffice
            const uint64_t c0 = t.c0.d, e0 = t.pe_div.div(offset);
            const uint64_t e1 = t.pe_div.div(offset + len) - 1;
            const uint64_t last0 = std::max(e0, t.c0.div(e1) * c0);
            bound(t.secondary_base + t.nz(row, e0) * t.se,
                  (std::min(e1 + 1, (t.c0.div(e0) + 1) * c0) - e0) * t.se);
            bound(t.secondary_base + t.nz(row, last0) * t.se, (e1 + 1 - last0) * t.se);
        }
        // The secondary side is written when the primary side is the source.
        const uint64_t sec_len = std::min(t.pe_div.div(len) * t.se, size - first);
        done = std::max(done, t.secondary_buffer->book(t.primary_is_src, first, sec_len, start));
        if (!t.primary_is_src)
            done = std::max(done,
                            access(t, *t.primary_target, t.primary, true, paddr, buf, len, start));
    } else if (t.primary_is_src) {
        done =
            std::max(done, access(t, *t.primary_target, t.primary, false, paddr, buf, len, start));
        for_each_piece([&](uint64_t a, uint64_t el, uint64_t n) {
            uint8_t* piece = buf + el * t.pe;
            if (cast) {
                m_cast_buf.resize(n * t.se);
                if (m_functional) convert(piece, r.src_type, m_cast_buf.data(), r.dst_type, n);
                piece = m_cast_buf.data();
            }
            done = std::max(done, local_side(t, true, a, piece, n * t.se, start));
        });
    } else {
        for_each_piece([&](uint64_t a, uint64_t el, uint64_t n) {
            uint8_t* piece = buf + el * t.pe;
            if (cast) m_cast_buf.resize(n * t.se);
            done = std::max(
                done, local_side(t, false, a, cast ? m_cast_buf.data() : piece, n * t.se, start));
            if (cast && m_functional) convert(m_cast_buf.data(), r.src_type, piece, r.dst_type, n);
        });
        done =
            std::max(done, access(t, *t.primary_target, t.primary, true, paddr, buf, len, start));
    }
    m_inflight.add(start, static_cast<int64_t>(len));
    m_inflight.add(done, -static_cast<int64_t>(len));
    return done;
}

ps_t dma_engine::local_side(transfer& t, bool write, uint64_t addr, uint8_t* data, uint64_t len,
                            ps_t start) {
    if (!t.secondary_buffer || addr > t.secondary_size || len > t.secondary_size - addr)
        return access(t, *t.secondary_target, t.secondary, write, addr, data, len, start);
    uint8_t* const mine = t.secondary_mem + addr;
    if (m_functional && data != mine) {
        if (write)
            std::memcpy(mine, data, len);
        else
            std::memcpy(data, mine, len);
    }
    return t.secondary_buffer->book(write, addr, len, start);
}

void dma_engine::piece_outside(const transfer& t, uint64_t addr, uint64_t bytes,
                               uint64_t size) const {
    char what[200];
    std::snprintf(what, sizeof what,
                  "%s of %llu bytes at %s[0x%llx] is outside the buffer (0x%llx bytes)",
                  t.primary_is_src ? "write" : "read", (unsigned long long)bytes,
                  to_string(t.secondary), (unsigned long long)addr, (unsigned long long)size);
    throw model_fault(name(), addr, t.r.describe(), what);
}

dma_engine::timing dma_engine::fill_zero(const dma_request& r, const path_params& path,
                                         ps_t begin) {
    // The destination side's port moves the zeros burst by burst; GM is not touched.
    transfer t = begin_transfer(r, path, begin);
    t.primary = t.secondary = r.dst_space;
    t.total = uint64_t(r.rows) * r.row_bytes;
    if (m_staging.size() < path.burst_bytes) m_staging.resize(path.burst_bytes);
    std::fill(m_staging.begin(), m_staging.end(), uint8_t{0});
    for (uint32_t row = 0; row < r.rows; ++row)
        for (uint64_t off = 0; off < r.row_bytes;) {
            const uint64_t n = std::min<uint64_t>(r.row_bytes - off, m_staging.size());
            const auto [start, release] = reserve_port(t, n, true);
            const ps_t done = access(t, r.dst_space, true, r.dst + row * r.dst_pitch() + off,
                                     m_staging.data(), n, start);
            m_mover.complete(std::max(done, release));
            t.done = std::max(t.done, std::max(done, release));
            off += n;
        }
    return finish(t, begin);
}

void dma_engine::pad_nz(transfer& t) {
    // nd2nz leaves no garbage: rows up to the padded height and the tail of the last column
    // block are written as zeros, as the cube reads whole fractals.
    const dma_request& r = t.r;
    const uint64_t frac_row = uint64_t(r.c0()) * r.dst_elem();
    const uint64_t blocks = r.nz_bytes() / (r.padded_rows() * frac_row);
    const uint64_t tail = r.row_bytes % frac_row;
    std::fill(m_staging.begin(), m_staging.end(), uint8_t{0});
    const ps_t from = std::max(t.arrival, now_ps());  // the bursts may have waited
    auto zero = [&](uint64_t addr, uint64_t len) {
        while (len > 0) {
            const uint64_t n = std::min<uint64_t>(len, m_staging.size());
            t.done =
                std::max(t.done, access(t, t.secondary, true, addr, m_staging.data(), n, from));
            addr += n;
            len -= n;
        }
    };
    if (r.padded_rows() > r.rows)
        for (uint64_t b = 0; b < blocks; ++b)
            zero(t.secondary_base + (b * r.padded_rows() + r.rows) * frac_row,
                 (r.padded_rows() - r.rows) * frac_row);
    if (tail != 0)
        for (uint32_t row = 0; row < r.rows; ++row)
            zero(t.secondary_base + ((blocks - 1) * r.padded_rows() + row) * frac_row + tail,
                 frac_row - tail);
}

dma_engine::timing dma_engine::fractal_load(const dma_request& r, const path_params& path,
                                            ps_t begin) {
    // L1 (NZ) -> L0A (ZZ) or L0B (ZN): read the sub-block's rows from each column block of the
    // source, rearrange, and write the operand. Reads and writes are local, so they pipeline
    // burst for burst with no window waits.
    const uint64_t e = r.src_elem(), c0 = 32 / e, k0 = c0;
    const uint64_t rows = r.rows, cols = r.cols();
    const bool left = r.conv == layout_conv::nz2zz;
    const uint64_t rows_p = left ? round_up(rows, 16) : round_up(rows, k0);
    const uint64_t cols_p = left ? round_up(cols, k0) : round_up(cols, 16);
    // The stored sub-block: the operand's, or its transpose.
    const uint64_t s_rows = r.transpose ? cols : rows, s_cols = r.transpose ? rows : cols;
    const uint64_t nz_rows = r.nz_rows ? r.nz_rows : round_up(r.nz_row0 + s_rows, 16);
    if (r.nz_col0 % c0 != 0 || r.nz_row0 + s_rows > nz_rows)
        throw model_fault(name(), r.src, r.describe(),
                          "sub-block must start on a column block and lie within nz_rows");
    const uint64_t blocks = (s_cols + c0 - 1) / c0;
    const uint64_t run = s_rows * c0 * e;  // one column block's rows of the sub-block
    // Every source byte is read; the destination's padding must be zero (functional only).
    const uint64_t out = rows_p * cols_p * e;
    uint8_t* const src_block = m_src_block.at_least(blocks * run);
    uint8_t* const dst_block = m_dst_block.at_least(out);
    if (m_core.functional) std::memset(dst_block, 0, out);  // padding reads as zero
    transfer t = begin_transfer(r, path, begin);
    // Each column block's rows are one contiguous run: the port is booked burst by burst, the
    // run moves in one access that starts with its first burst.
    ps_t first_start = 0;
    for (uint64_t b = 0; b < blocks; ++b) {
        const uint64_t src = r.src + (((r.nz_col0 / c0) + b) * nz_rows + r.nz_row0) * c0 * e;
        const auto [run_start, release] = reserve_run(t, run);
        t.done = std::max(t.done, release);
        if (b == 0) first_start = run_start;
        t.done = std::max(t.done,
                          access(t, r.src_space, false, src, src_block + b * run, run, run_start));
    }
    if (m_core.functional && r.transpose) {  // operand (i, j) is stored (j, i)
        for (uint64_t i = 0; i < rows; ++i)
            for (uint64_t j = 0; j < cols; ++j)
                std::memcpy(
                    dst_block +
                        (left ? zz_index(i, j, cols_p, k0) : zn_index(i, j, cols_p, k0)) * e,
                    src_block + ((i / c0) * s_rows * c0 + j * c0 + i % c0) * e, e);
    } else if (m_core.functional) {
        if (left) {  // ZZ: each fractal row is one NZ fractal row (c0 == k0)
            for (uint64_t i = 0; i < rows; ++i)
                for (uint64_t b = 0; b < blocks; ++b)
                    std::memcpy(dst_block + zz_index(i, b * c0, cols_p, k0) * e,
                                src_block + (b * rows + i) * c0 * e,
                                std::min(c0, cols - b * c0) * e);
        } else {  // ZN: transpose each fractal; a column of a fractal is contiguous
            with_element_size(e, [&](auto es) {
                for (uint64_t c = 0; c < cols; ++c) {
                    const uint8_t* src = src_block + ((c / c0) * rows * c0 + c % c0) * es;
                    for (uint64_t i0 = 0; i0 < rows; i0 += k0) {  // k0 rows: one fractal column
                        uint8_t* dst = dst_block + zn_index(i0, c, cols_p, k0) * es;
                        for (uint64_t i = 0, n = std::min(k0, rows - i0); i < n; ++i)
                            std::memcpy(dst + i * es, src + (i0 + i) * c0 * es, es);
                    }
                }
            });
        }
    }
    t.done = std::max(t.done, access(t, r.dst_space, true, r.dst, dst_block, out, first_start));
    return finish(t, begin);
}

dma_engine::timing dma_engine::img2col_load(const dma_request& r, const path_params& path,
                                            ps_t begin) {
    // Load3D: every element of the im2col block is gathered from the patch (or is padding)
    // and the block is written in whole fractals. The port is booked for the bytes written,
    // as the hardware moves one fractal row (k0 elements of one pixel) per L1 read; the L1
    // banks are booked for the span of the patch the block reads.
    const img2col_geometry& g = r.fm;
    const uint64_t e = r.src_elem(), k0 = 32 / e;
    const bool left = r.dst_space == mem_space::l0a;
    const uint64_t pixels = left ? r.rows : r.cols(), ks = left ? r.cols() : r.rows;
    const uint64_t rows_p = left ? round_up(r.rows, 16) : round_up(r.rows, k0);
    const uint64_t cols_p = left ? round_up(r.cols(), k0) : round_up(r.cols(), 16);
    const uint64_t out = rows_p * cols_p * e;
    const uint64_t taps = g.taps();
    if (g.channels == 0 || g.height == 0 || g.width == 0 || g.out_w == 0 || taps == 0 ||
        g.stride_h == 0 || g.stride_w == 0 || g.dilation_h == 0 || g.dilation_w == 0)
        throw model_fault(name(), r.src, r.describe(),
                          "img2col geometry needs non-zero channels, height, width, out_w, "
                          "kernel, stride and dilation");
    if (g.k0 + ks > g.channels * taps)
        throw model_fault(name(), r.src, r.describe(),
                          "img2col K range goes past the patch's channels x kernel taps");
    const uint64_t c_first = g.k0 / taps, c_last = (g.k0 + ks - 1) / taps;
    const uint64_t span_lo = r.src + c_first * g.plane() * e;
    const uint64_t span_hi = r.src + (c_last * g.plane() + uint64_t(g.height) * g.width) * e;
    const auto [mem, size] = local_memory(mem_space::l1);
    if (span_hi > size)
        throw model_fault(name(), span_hi, r.describe(),
                          "img2col patch reaches past the end of L1");
    uint8_t* const dst_block = m_dst_block.at_least(out);
    if (m_core.functional) {
        std::memset(dst_block, 0, out);
        // The output pixel (oh, ow) steps along with i instead of being divided out of it.
        with_element_size(e, [&](auto es) {
            for (uint64_t j = 0; j < ks; ++j) {
                const uint64_t k = g.k0 + j, c = k / taps, kh = k % taps / g.kernel_w,
                               kw = k % g.kernel_w;
                const uint8_t* plane = mem + r.src + c * g.plane() * es;
                const int64_t dh = int64_t(kh * g.dilation_h) - int64_t(g.pad_top);
                const int64_t dw = int64_t(kw * g.dilation_w) - int64_t(g.pad_left);
                uint64_t oh = g.pixel0 / g.out_w, ow = g.pixel0 % g.out_w;
                for (uint64_t i = 0; i < pixels; ++i) {
                    const int64_t h = int64_t(oh * g.stride_h) + dh;
                    const int64_t w = int64_t(ow * g.stride_w) + dw;
                    if (++ow == g.out_w) ow = 0, ++oh;
                    if (h < 0 || h >= int64_t(g.height) || w < 0 || w >= int64_t(g.width)) continue;
                    const uint64_t at =
                        left ? zz_index(i, j, cols_p, k0) : zn_index(j, i, cols_p, k0);
                    std::memcpy(dst_block + (at * es),
                                plane + (uint64_t(h) * g.width + uint64_t(w)) * es, es);
                }
            }
        });
    }
    transfer t = begin_transfer(r, path, begin);
    const auto [first_start, release] = reserve_run(t, out);
    t.done = std::max(t.done, release);
    // The patch's span of L1 is read through DMI: its banks are booked directly.
    t.done = std::max(t.done, m_local_buf[size_t(mem_space::l1)]->book(
                                  false, span_lo, span_hi - span_lo, first_start));
    t.done = std::max(t.done, access(t, r.dst_space, true, r.dst, dst_block, out, first_start));
    return finish(t, begin);
}

dma_engine::timing dma_engine::execute(const dma_request& r, ps_t begin) {
    rethrow_fault();
    const path_params& path = m_core.path(r.src_space, r.dst_space);
    check(r);
    timing out{};
    if (r.conv == layout_conv::nz2zz || r.conv == layout_conv::nz2zn) {
        out = fractal_load(r, path, begin);
    } else if (r.conv == layout_conv::img2col) {
        out = img2col_load(r, path, begin);
    } else if (r.conv == layout_conv::fill) {
        out = fill_zero(r, path, begin);
    } else {
        // Primary side: the GM side of a plain copy, the ND side of a conversion.
        const bool primary_is_src = r.conv == layout_conv::nd2nz ||
                                    (r.conv == layout_conv::none && (r.src_space == mem_space::gm ||
                                                                     r.dst_space != mem_space::gm));
        // A transfer with a GM side lives on until the dispatcher has booked its bursts.
        const bool deferred = r.src_space == mem_space::gm || r.dst_space == mem_space::gm;
        std::optional<transfer> local;
        held* h = nullptr;
        if (deferred) {
            m_held.push_back(std::make_unique<held>(r));
            h = m_held.back().get();
        }
        struct registered {  // however execute() leaves
            dma_engine& e;
            held* h;
            ~registered() {
                if (!h) return;
                h->registered = true;
                e.release_held();
            }
        } guard{*this, h};
        transfer& t = h ? h->t.emplace(begin_transfer(h->req, path, begin))
                        : local.emplace(begin_transfer(r, path, begin));
        t.deferred = deferred;
        t.primary_is_src = primary_is_src;
        t.primary = primary_is_src ? r.src_space : r.dst_space;
        t.secondary = primary_is_src ? r.dst_space : r.src_space;
        t.primary_base = primary_is_src ? r.src : r.dst;
        t.primary_pitch = primary_is_src ? r.src_pitch() : r.dst_pitch();
        t.secondary_base = primary_is_src ? r.dst : r.src;
        t.secondary_pitch = primary_is_src ? r.dst_pitch() : r.src_pitch();
        t.pe = primary_is_src ? r.src_elem() : r.dst_elem();
        t.se = primary_is_src ? r.dst_elem() : r.src_elem();
        t.pe_div = divisor(t.pe);
        t.cast = t.pe != t.se || r.cast();
        t.primary_target = &target_of(t.primary);
        t.secondary_target = &target_of(t.secondary);
        if (r.conv != layout_conv::none) {
            t.c0 = divisor(r.c0());
            t.rows_p = r.padded_rows();
            if (t.secondary != mem_space::gm) {
                std::tie(t.secondary_mem, t.secondary_size) = local_memory(t.secondary);
                t.secondary_buffer = m_local_buf[size_t(t.secondary)];
            }
        } else if (t.secondary != mem_space::gm) {
            // The local side of a plain copy moves through DMI and books the banks directly.
            std::tie(t.secondary_mem, t.secondary_size) = local_memory(t.secondary, false);
            if (t.secondary_mem) t.secondary_buffer = m_local_buf[size_t(t.secondary)];
            t.in_place = m_functional && !t.cast && deferred && t.secondary_mem;
        }
        if (m_staging.size() < path.burst_bytes) m_staging.resize(path.burst_bytes);
        const uint64_t prow = primary_is_src ? r.row_bytes : r.dst_row_bytes();
        t.total = uint64_t(r.rows) * prow;
        // Bursts of burst_bytes (whole elements) from the start of each row: a start off the
        // GM granule makes every burst straddle one more granule, which is what misalignment
        // costs.
        const uint64_t burst_len = path.burst_bytes / t.pe * t.pe;
        for (uint32_t row = 0; row < r.rows; ++row) {
            for (uint64_t off = 0; off < prow;) {
                const uint64_t n = std::min<uint64_t>(prow - off, burst_len);
                burst(t, row, off, n);
                off += n;
            }
        }
        if (r.conv == layout_conv::nd2nz) pad_nz(t);
        out = finish(t, begin);
    }
    m_mover.note_complete(out.complete);
    m_bytes += r.bytes();
    m_path_bytes[size_t(r.src_space)][size_t(r.dst_space)] += r.bytes();
    ++m_transfers;
    return out;
}

void dma_engine::on_trace_attached() {
    m_inflight.bind(m_trace, signal_path("bytes_in_flight"), 32, true);
}

void dma_engine::visit_stats(const stats_fn& fn) const {
    fn("bytes", static_cast<double>(m_bytes));
    fn("bursts", static_cast<double>(m_bursts));
    fn("transfers", static_cast<double>(m_transfers));
    for (size_t s = 0; s < m_path_bytes.size(); ++s)
        for (size_t d = 0; d < m_path_bytes[s].size(); ++d)
            if (m_path_bytes[s][d] != 0)
                fn(std::string("path.") + to_string(mem_space(s)) + "_to_" +
                       to_string(mem_space(d)) + ".bytes",
                   static_cast<double>(m_path_bytes[s][d]));
}

}  // namespace npusim::models
