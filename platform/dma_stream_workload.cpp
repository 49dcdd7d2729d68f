#include "platform/dma_stream_workload.h"

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include <fmt/format.h>

#include <stdexcept>

#include "models/common/host_buffer.h"
#include "models/common/model_fault.h"

namespace npusim::platform {

using models::mem_space;

namespace {

struct phase {
    mem_space buf;
    uint64_t dst;  // GM address of this phase's output
};

// Streams n bytes GM[src] -> buf -> GM[dst] in chunks, double-buffered in the two halves.
void stream(models::ai_core& core, mem_space buf, uint64_t src, uint64_t dst, uint64_t n,
            uint64_t chunk) {
    models::pipe* in = core.get_pipe(models::engine_for_path(mem_space::gm, buf));
    models::pipe* out = core.get_pipe(models::engine_for_path(buf, mem_space::gm));
    for (uint64_t k = 0, off = 0; off < n; ++k, off += chunk) {
        const uint64_t len = std::min(chunk, n - off);
        const uint64_t half = (k % 2) * chunk;
        models::dma_request r;
        r.src_space = mem_space::gm;
        r.src = src + off;
        r.dst_space = buf;
        r.dst = half;
        r.row_bytes = len;
        core.issue_copy(r);
        in->wait_idle();   // the chunk is in before it is copied out
        out->wait_idle();  // the other half's copy-out is done before it is refilled
        std::swap(r.src_space, r.dst_space);
        r.src = half;
        r.dst = dst + off;
        core.issue_copy(r);
        if (!core.fault().empty()) return;
    }
    out->wait_idle();
}

}  // namespace

std::string run_dma_stream(chip& c, const dma_stream_options& opt, std::vector<op_record>& ops) {
    const uint64_t n = opt.bytes_per_core;
    const uint64_t region = (3 * n + 4095) / 4096 * 4096;
    const auto ncores = static_cast<unsigned>(c.cores().size());
    if (uint64_t(ncores) * region > c.config().gm.capacity)
        throw std::invalid_argument(
            fmt::format("dma_stream needs {} bytes of GM but the chip has {}",
                        uint64_t(ncores) * region, c.config().gm.capacity));

    // Inputs: a deterministic pattern per core, sent over the host link.
    // Timing only: no bytes are stored, so the host buffers stay untouched zero mappings.
    const bool functional = c.config().gm.functional;
    models::host_buffer input(uint64_t(ncores) * region);
    uint32_t x = 2463534242u;
    for (unsigned i = 0; i < ncores && functional; ++i)
        for (uint64_t b = 0; b < n; ++b) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            input.data()[i * region + b] = static_cast<uint8_t>(x);
        }
    const models::ps_t h2d0 = models::now_ps();
    for (unsigned i = 0; i < ncores; ++i)
        c.host().to_device(i * region, input.data() + i * region, n);
    ops.push_back({"h2d_inputs", "memcpy", h2d0, models::now_ps(), 0, uint64_t(ncores) * n});

    // One driver thread per core; the host waits for all of them.
    sc_core::sc_event all_done;
    unsigned remaining = 0;
    std::vector<op_record> core_ops;
    std::string fault;
    std::vector<unsigned> phase_count(ncores, 0);
    for (unsigned i = 0; i < ncores; ++i) {
        models::ai_core& core = c.core(i);
        std::vector<phase> phases;
        for (mem_space buf : {mem_space::l1, mem_space::ub}) {
            auto* b = core.buffer(buf);
            auto* ein = core.engine(models::engine_for_path(mem_space::gm, buf));
            auto* eout = core.engine(models::engine_for_path(buf, mem_space::gm));
            if (b && ein && eout && ein->has_path(mem_space::gm, buf) &&
                eout->has_path(buf, mem_space::gm))
                phases.push_back({buf, i * region + (phases.empty() ? n : 2 * n)});
        }
        phase_count[i] = static_cast<unsigned>(phases.size());
        if (phases.empty()) continue;
        ++remaining;
        sc_core::sc_spawn([&, i, phases] {
            models::ai_core& core = c.core(i);
            for (const phase& p : phases) {
                const uint64_t cap = core.buffer(p.buf)->size() / 2;
                uint64_t chunk =
                    opt.chunk_bytes ? opt.chunk_bytes : std::min<uint64_t>(cap, 32 * 1024);
                chunk = std::min(chunk, cap) / 512 * 512;
                const models::ps_t t0 = models::now_ps();
                stream(core, p.buf, i * region, p.dst, n, chunk);
                core_ops.push_back({fmt::format("core{}.gm_{}_gm", i, models::to_string(p.buf)),
                                    "dma_stream", t0, models::now_ps(), 0, 2 * n});
                if (fault.empty() && !core.fault().empty()) fault = core.fault();
            }
            if (--remaining == 0) all_done.notify(sc_core::SC_ZERO_TIME);
        });
    }
    if (remaining > 0) sc_core::wait(all_done);
    ops.insert(ops.end(), core_ops.begin(), core_ops.end());
    if (!fault.empty()) throw models::model_fault("dma_stream", 0, "", fault);

    models::host_buffer output(input.size());
    const models::ps_t d2h0 = models::now_ps();
    uint64_t d2h_bytes = 0;
    for (unsigned i = 0; i < ncores; ++i) {
        c.host().to_host(output.data() + i * region + n, i * region + n, phase_count[i] * n);
        d2h_bytes += phase_count[i] * n;
    }
    ops.push_back({"d2h_outputs", "memcpy", d2h0, models::now_ps(), 0, d2h_bytes});

    if (!functional) return {};  // timing only: no bytes to compare
    for (unsigned i = 0; i < ncores; ++i) {
        const uint8_t* want = input.data() + i * region;
        for (unsigned ph = 0; ph < phase_count[i]; ++ph) {
            const uint8_t* got = output.data() + i * region + (ph + 1) * n;
            for (uint64_t b = 0; b < n; ++b)
                if (got[b] != want[b])
                    return fmt::format("core {} phase {}: byte {} is 0x{:02x}, expected 0x{:02x}",
                                       i, ph, b, got[b], want[b]);
        }
    }
    return {};
}

}  // namespace npusim::platform
