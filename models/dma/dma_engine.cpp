#include "models/dma/dma_engine.h"

#include <cmath>
#include <cstdio>

#include "models/common/model_fault.h"

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
    if (src == m::l0c && dst == m::ub) return pipe_id::V;
    return pipe_id::S;
}

/// Per-instruction state: geometry of both sides and the running completion time.
struct dma_engine::transfer {
    const dma_request& r;
    const path_params& path;
    bool primary_is_src;
    mem_space primary, secondary;
    uint64_t primary_base, primary_pitch, secondary_base, secondary_pitch;
    ps_t arrival;         // when the current window's bursts may start
    ps_t done;            // latest completion seen
    ps_t window_release;  // when the current window's first burst stops occupying resources
};

dma_engine::dma_engine(const sc_core::sc_module_name& nm, pipe_id pipe, const core_params& core)
    : model_base(nm),
      global_socket("global_socket"),
      local_socket("local_socket"),
      m_pipe(pipe),
      m_core(core),
      m_period(period_ps(core.clock_hz)) {
    m_trans.set_byte_enable_ptr(nullptr);
    m_trans.set_extension(&m_timing);
}

bool dma_engine::has_path(mem_space src, mem_space dst) const {
    return engine_for_path(src, dst) == m_pipe && m_core.path(src, dst).present() &&
           (src == mem_space::gm || m_core.buffer(src).size > 0) &&
           (dst == mem_space::gm || m_core.buffer(dst).size > 0);
}

void dma_engine::check(const dma_request& r, const path_params& path) const {
    (void)path;
    auto fail = [&](uint64_t addr, const std::string& what) {
        throw model_fault(name(), addr, r.describe(), what);
    };
    if (!has_path(r.src_space, r.dst_space))
        fail(0, std::string("no data path ") + to_string(r.src_space) + "->" +
                    to_string(r.dst_space) + " on this engine of a " + to_string(m_core.kind) +
                    " core");
    if (r.rows == 0 || r.row_bytes == 0) fail(0, "empty transfer (rows and row_bytes must be > 0)");
    // Only the paths that convert in hardware: MTE2 GM->L1 (nd2nz), FixPipe L0C->GM (nz2nd).
    if (r.conv == layout_conv::nd2nz &&
        !(r.src_space == mem_space::gm && r.dst_space == mem_space::l1))
        fail(0, "nd2nz conversion is only done on the GM->L1 path");
    if (r.conv == layout_conv::nz2nd &&
        !(r.src_space == mem_space::l0c && r.dst_space == mem_space::gm))
        fail(0, "nz2nd conversion is only done on the L0C->GM path");
    if (r.conv != layout_conv::none &&
        (r.elem_bytes == 0 || r.row_bytes % r.elem_bytes != 0 || (r.c0() * r.elem_bytes) == 0))
        fail(0, "row_bytes must be a whole number of elements for a layout conversion");
    auto check_side = [&](mem_space s, uint64_t addr, uint64_t pitch, bool nz_side) {
        if (s == mem_space::gm) return;
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
    check_side(r.src_space, r.src, r.src_pitch(), r.conv == layout_conv::nz2nd);
    check_side(r.dst_space, r.dst, r.dst_pitch(), r.conv == layout_conv::nd2nz);
}

ps_t dma_engine::access(transfer& t, mem_space space, bool write, uint64_t addr, uint8_t* data,
                        uint64_t len, ps_t start) {
    const bool global = space == mem_space::gm;
    const uint64_t bus_addr = global ? addr : local_base(space) + addr;
    m_trans.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    m_trans.set_address(bus_addr);
    m_trans.set_data_ptr(data);
    m_trans.set_data_length(static_cast<unsigned int>(len));
    m_trans.set_streaming_width(static_cast<unsigned int>(len));
    m_trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    const ps_t now = now_ps();
    sc_core::sc_time delay = ps_to_time(start - now);
    (global ? global_socket : local_socket)->b_transport(m_trans, delay);
    if (m_trans.is_response_error()) {
        char what[200];
        std::snprintf(what, sizeof what, "%s of %llu bytes at %s[0x%llx] rejected: %s",
                      write ? "write" : "read", static_cast<unsigned long long>(len),
                      to_string(space), static_cast<unsigned long long>(addr),
                      m_trans.get_response_string().c_str());
        throw model_fault(name(), addr, t.r.describe(), what);
    }
    return now + time_to_ps(delay);
}

void dma_engine::burst(transfer& t, uint32_t row, uint64_t offset, uint64_t len) {
    const dma_request& r = t.r;
    // The engine port: throughput of the path plus a fixed command cost per burst.
    const auto cycles =
        static_cast<ps_t>(std::ceil(static_cast<double>(len) / t.path.bytes_per_cycle)) +
        t.path.burst_overhead_cycles;
    const ps_t occ = cycles * m_period;
    const ps_t start = m_port.reserve(t.arrival, occ);
    m_timing.release = start + occ;
    uint8_t* buf = m_staging.data();
    const uint64_t paddr = t.primary_base + row * t.primary_pitch + offset;

    // Pieces of the burst on the secondary side: the whole burst, or one per fractal row.
    ps_t done = start + occ;
    auto for_each_piece = [&](auto&& fn) {
        if (r.conv == layout_conv::none) {
            fn(t.secondary_base + row * t.secondary_pitch + offset, uint64_t{0}, len);
            return;
        }
        const uint64_t frac_row = uint64_t(r.c0()) * r.elem_bytes;
        for (uint64_t q = offset; q < offset + len;) {
            const uint64_t n = std::min(offset + len, (q / frac_row + 1) * frac_row) - q;
            const uint64_t block = q / frac_row;
            const uint64_t addr =
                t.secondary_base + (block * r.padded_rows() + row) * frac_row + q % frac_row;
            fn(addr, q - offset, n);
            q += n;
        }
    };
    if (t.primary_is_src) {
        done = std::max(done, access(t, t.primary, false, paddr, buf, len, start));
        for_each_piece([&](uint64_t a, uint64_t off, uint64_t n) {
            done = std::max(done, access(t, t.secondary, true, a, buf + off, n, start));
        });
    } else {
        for_each_piece([&](uint64_t a, uint64_t off, uint64_t n) {
            done = std::max(done, access(t, t.secondary, false, a, buf + off, n, start));
        });
        done = std::max(done, access(t, t.primary, true, paddr, buf, len, start));
    }
    m_inflight.add(start, static_cast<int64_t>(len));
    m_inflight.add(done, -static_cast<int64_t>(len));
    t.done = std::max(t.done, done);
    if (t.window_release == 0) t.window_release = m_timing.release;  // first burst of the window
    ++m_bursts;
}

void dma_engine::pad_nz(transfer& t) {
    // nd2nz leaves no garbage: rows up to the fractal height and the tail of the last column
    // block are written as zeros, as the cube reads whole fractals.
    const dma_request& r = t.r;
    const uint64_t frac_row = uint64_t(r.c0()) * r.elem_bytes;
    const uint64_t blocks = r.nz_bytes() / (r.padded_rows() * frac_row);
    const uint64_t tail = r.row_bytes % frac_row;
    std::fill(m_staging.begin(), m_staging.end(), uint8_t{0});
    auto zero = [&](uint64_t addr, uint64_t len) {
        while (len > 0) {
            const uint64_t n = std::min<uint64_t>(len, m_staging.size());
            t.done = std::max(t.done,
                              access(t, t.secondary, true, addr, m_staging.data(), n, t.arrival));
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

void dma_engine::execute(const dma_request& r) {
    const path_params& path = m_core.path(r.src_space, r.dst_space);
    check(r, path);
    const bool primary_is_src = r.conv == layout_conv::nd2nz ||
                                (r.conv == layout_conv::none &&
                                 (r.src_space == mem_space::gm || r.dst_space != mem_space::gm));
    transfer t{r,
               path,
               primary_is_src,
               primary_is_src ? r.src_space : r.dst_space,
               primary_is_src ? r.dst_space : r.src_space,
               primary_is_src ? r.src : r.dst,
               primary_is_src ? r.src_pitch() : r.dst_pitch(),
               primary_is_src ? r.dst : r.src,
               primary_is_src ? r.dst_pitch() : r.src_pitch(),
               now_ps() + ps_t(path.setup_cycles) * m_period,
               0,
               0};
    t.done = t.arrival;
    if (m_staging.size() < path.burst_bytes) m_staging.resize(path.burst_bytes);

    // Bursts of burst_bytes from the start of each row: a start off the GM granule makes every
    // burst straddle one more granule, which is what misalignment costs.
    uint32_t in_window = 0;
    for (uint32_t row = 0; row < r.rows; ++row) {
        for (uint64_t off = 0; off < r.row_bytes;) {
            const uint64_t n = std::min<uint64_t>(r.row_bytes - off, path.burst_bytes);
            burst(t, row, off, n);
            off += n;
            if (++in_window == m_core.dma.window_bursts) {
                // Issue the next window once this one's first burst is through, so about one
                // window stays reserved ahead: no idle gap for a lone engine, and engines that
                // share a resource interleave window by window.
                sc_core::wait(ps_to_time(std::max(t.window_release, now_ps()) - now_ps()));
                t.arrival = now_ps();
                t.window_release = 0;
                in_window = 0;
            }
        }
    }
    if (r.conv == layout_conv::nd2nz) pad_nz(t);
    const ps_t end = t.done + ps_t(path.latency_cycles) * m_period;
    sc_core::wait(ps_to_time(end - now_ps()));
    m_bytes += r.bytes();
    m_path_bytes[size_t(r.src_space)][size_t(r.dst_space)] += r.bytes();
    ++m_transfers;
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
