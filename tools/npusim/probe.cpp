#include "tools/npusim/probe.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/core/ai_core.h"
#include "models/dma/dma_engine.h"
#include "platform/config/config_error.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"

namespace npusim::tools {

namespace {

using models::dtype;
using models::mem_space;
using models::vec_opcode;

const std::map<std::string, mem_space> k_spaces = {{"gm", mem_space::gm},   {"l1", mem_space::l1},
                                                   {"l0a", mem_space::l0a}, {"l0b", mem_space::l0b},
                                                   {"l0c", mem_space::l0c}, {"ub", mem_space::ub},
                                                   {"bt", mem_space::bt},   {"fb", mem_space::fb}};
const std::map<std::string, dtype>& dtypes() {
    static const std::map<std::string, dtype> m = [] {
        std::map<std::string, dtype> out;
        for (const dtype* t = models::all_dtypes_begin(); t != models::all_dtypes_end(); ++t)
            out[models::to_string(*t)] = *t;
        return out;
    }();
    return m;
}
// Ascend vector instruction names, from the vector unit's own list.
const std::map<std::string, vec_opcode>& vector_instructions() {
    static const std::map<std::string, vec_opcode> m = [] {
        std::map<std::string, vec_opcode> out;
        for (vec_opcode op : models::all_vec_opcodes())
            if (const char* n = models::ascend_name(op)) out[n] = op;
        return out;
    }();
    return m;
}

template <class Map>
std::string names(const Map& m) {
    std::string s;
    for (const auto& [k, v] : m) s += (s.empty() ? "" : ", ") + k;
    return s;
}

struct bad_probe {
    std::string what;
};

uint64_t whole(const std::string& text, const char* what, uint64_t lo, uint64_t hi) {
    uint64_t v = 0;
    if (text.empty() || text.size() > 12 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (v = std::stoull(text)) < lo || v > hi)
        throw bad_probe{std::string(what) + " '" + text + "' is not a whole number from " +
                        std::to_string(lo) + " to " + std::to_string(hi)};
    return v;
}

bool has_pipe(const models::core_params& p, models::pipe_id id) {
    const auto pipes = models::pipes_of(p.kind);
    return std::find(pipes.begin(), pipes.end(), id) != pipes.end();
}

/// Bytes of a buffer a core of these parameters has (0: none).
uint64_t buffer_size(const models::core_params& p, mem_space s) {
    return models::kind_has_buffer(p.kind, s) ? p.buffer(s).size : 0;
}

/// The first of the chip's cores whose parameters satisfy `fits`.
template <class Fits>
std::optional<unsigned> pick_core(const std::vector<models::core_params>& cores, Fits fits) {
    for (unsigned i = 0; i < cores.size(); ++i)
        if (fits(cores[i])) return i;
    return std::nullopt;
}

/// One probe: which core, the instruction, and what it moves.
struct plan {
    std::string kind;
    unsigned core = 0;
    models::pipe_id pipe = models::pipe_id::V;
    models::instruction ins;
    double bytes = 0;
};

/// Bytes one repeat of a load moves: two 16 x 16 fp16 fractals, the reading of the repeat
/// tables that matches the size tables (the silicon tables do not say).
constexpr uint64_t k_repeat_bytes = 1024;

plan plan_move(const platform::platform_config& cfg, const probe_args& a) {
    const auto& w = a.what;
    if (w.size() != (a.repeat ? 3u : 4u))
        throw bad_probe{
            "usage: npusim probe move SRC DST BYTES [--format nd2nz|nz2nd], or "
            "npusim probe move SRC DST --repeat R"};
    const auto s = k_spaces.find(w[1]), d = k_spaces.find(w[2]);
    if (s == k_spaces.end() || d == k_spaces.end())
        throw bad_probe{"unknown memory '" + (s == k_spaces.end() ? w[1] : w[2]) +
                        "'; known: " + names(k_spaces)};
    const mem_space src = s->second, dst = d->second;
    const auto cores = cfg.core_list();
    auto has = [](mem_space from, mem_space to) {
        return [=](const models::core_params& p) {
            return has_pipe(p, models::engine_for_path(from, to)) && p.path(from, to).present() &&
                   (from == mem_space::gm || buffer_size(p, from) > 0) &&
                   (to == mem_space::gm || buffer_size(p, to) > 0);
        };
    };
    const auto core = pick_core(cores, has(src, dst));
    if (!core) {
        std::string known;
        for (const auto& [sn, sv] : k_spaces)
            for (const auto& [dn, dv] : k_spaces)
                if (pick_core(cores, has(sv, dv)))
                    known += (known.empty() ? "" : ", ") + sn + "->" + dn;
        throw bad_probe{"no data path " + w[1] + "->" + w[2] + " on " + cfg.name +
                        "; known: " + known};
    }
    const models::core_params& p = cores[*core];
    uint64_t limit = 1ull << 30;
    for (mem_space m : {src, dst})
        if (m != mem_space::gm) limit = std::min<uint64_t>(limit, buffer_size(p, m));
    models::dma_request r;
    r.src_space = src;
    r.dst_space = dst;
    std::string kind = "move " + w[1] + " " + w[2] + " ";
    if (a.repeat) {
        const bool to_l0 = dst == mem_space::l0a || dst == mem_space::l0b;
        if (!to_l0 || (src != mem_space::gm && src != mem_space::l1) || !a.format.empty())
            throw bad_probe{"--repeat is the load of gm or l1 to l0a or l0b (no --format)"};
        const uint64_t bytes = a.repeat * k_repeat_bytes;
        if (bytes > limit)
            throw bad_probe{"--repeat " + std::to_string(a.repeat) + " needs " +
                            std::to_string(bytes) + " bytes; the buffers hold " +
                            std::to_string(limit)};
        // From L1 a fractal load (NZ to ZZ or ZN) of 16 fp16 rows, from GM a plain load.
        r.row_bytes = bytes;
        if (src == mem_space::l1) {
            r.rows = 16;
            r.row_bytes = bytes / 16;
            r.conv =
                dst == mem_space::l0a ? models::layout_conv::nz2zz : models::layout_conv::nz2zn;
        }
        kind += "--repeat " + std::to_string(a.repeat);
        return {kind, *core, models::engine_for_path(src, dst), r, double(bytes)};
    }
    const uint64_t bytes = whole(w[3], "BYTES", 1, limit);
    kind += w[3];
    // Within one buffer the destination ends at its end (overlapping the source when BYTES is
    // more than half of it, as the copy runs forward burst by burst).
    if (src == dst) r.dst = (buffer_size(p, dst) - bytes) / 32 * 32;
    if (a.format.empty()) {
        r.row_bytes = bytes;
    } else {
        // 16 rows (one fractal high) of BYTES / 16 each, fp16 from GM or fp32 out of L0C.
        const bool nd2nz = a.format == "nd2nz", nz2nd = a.format == "nz2nd";
        if (!(nd2nz && src == mem_space::gm && dst == mem_space::l1) &&
            !(nz2nd && src == mem_space::l0c && dst == mem_space::gm))
            throw bad_probe{"format '" + a.format +
                            "' is not modelled on this path; known: nd2nz (gm l1), nz2nd (l0c gm)"};
        if (bytes % 512 != 0)
            throw bad_probe{"BYTES " + w[3] + " of a " + a.format +
                            " move must be a multiple of 512 (16 rows of whole 32-byte blocks)"};
        r.conv = nd2nz ? models::layout_conv::nd2nz : models::layout_conv::nz2nd;
        r.src_type = r.dst_type = nd2nz ? dtype::fp16 : dtype::fp32;
        r.rows = 16;
        r.row_bytes = bytes / 16;
        kind += " --format " + a.format;
    }
    return {kind, *core, models::engine_for_path(src, dst), r, double(bytes)};
}

plan plan_mmad(const platform::platform_config& cfg, const std::vector<std::string>& w,
               const std::string& type) {
    if (w.size() != 4) throw bad_probe{"usage: npusim probe mmad M K N [--dtype fp16|bf16|int8]"};
    const auto t = dtypes().find(type);
    if (t == dtypes().end() ||
        (t->second != dtype::fp16 && t->second != dtype::bf16 && t->second != dtype::int8))
        throw bad_probe{"mmad dtype '" + type + "' is not modelled; known: fp16, bf16, int8"};
    const auto cores = cfg.core_list();
    auto cube = [](const models::core_params& p) {
        return has_pipe(p, models::pipe_id::M) && buffer_size(p, mem_space::l0a) > 0 &&
               buffer_size(p, mem_space::l0c) > 0;
    };
    const auto core = pick_core(cores, cube);
    if (!core) throw bad_probe{cfg.name + " has no cube core"};
    const models::core_params& p = cores[*core];
    const unsigned in = models::dtype_size(t->second);
    models::mmad_op m;
    m.in_type = t->second;
    m.m = static_cast<uint32_t>(whole(w[1], "M", 1, 4096));
    m.k = static_cast<uint32_t>(whole(w[2], "K", 1, 4096));
    m.n = static_cast<uint32_t>(whole(w[3], "N", 1, 4096));
    auto check = [&](mem_space s, uint64_t bytes, const char* what) {
        if (bytes > p.buffer(s).size)
            throw bad_probe{std::string(what) + " needs " + std::to_string(bytes) + " bytes of " +
                            models::to_string(s) + ", which holds " +
                            std::to_string(p.buffer(s).size)};
    };
    check(mem_space::l0a, uint64_t(m.m) * m.k * in, "A (M x K)");
    check(mem_space::l0b, uint64_t(m.k) * m.n * in, "B (K x N)");
    check(mem_space::l0c, uint64_t(m.m) * m.n * 4, "C (M x N, 4-byte accumulators)");
    return {"mmad " + w[1] + " " + w[2] + " " + w[3] + " " + type, *core, models::pipe_id::M, m,
            double(uint64_t(m.m) * m.k + uint64_t(m.k) * m.n) * in};
}

plan plan_vector(const platform::platform_config& cfg, const std::vector<std::string>& w) {
    if (w.size() != 4) throw bad_probe{"usage: npusim probe vector INSTR DTYPES REPEATS"};
    const auto it = vector_instructions().find(w[1]);
    if (it == vector_instructions().end())
        throw bad_probe{"vector instruction '" + w[1] +
                        "' is not modelled; known: " + names(vector_instructions())};
    const vec_opcode op = it->second;
    std::vector<dtype> parts;
    for (size_t a = 0; a <= w[2].size();) {
        const size_t b = std::min(w[2].find('_', a), w[2].size());
        // vmrgsort's list names its 8-byte proposal (score and index) as uint64
        if (op == vec_opcode::merge_sort && parts.size() == 1 &&
            w[2].substr(a, b - a) == "uint64") {
            parts.push_back(parts.front());
            a = b + 1;
            continue;
        }
        const auto t = dtypes().find(w[2].substr(a, b - a));
        if (t == dtypes().end())
            throw bad_probe{"dtype '" + w[2].substr(a, b - a) + "' of '" + w[2] +
                            "' is not modelled; known: " + names(dtypes())};
        parts.push_back(t->second);
        a = b + 1;
    }
    const unsigned n_parts = models::dtype_list_parts(op);
    if (parts.size() != n_parts)
        throw bad_probe{w[1] + " takes " + std::to_string(n_parts) + " dtypes (" +
                        (n_parts == 3 ? "src0_src1_dst" : "src_dst") + "), got '" + w[2] + "'"};
    // The sources share one dtype; only a conversion or a multiply-add names another dst.
    const auto srcs_end = parts.end() - (models::has_dst_type(op) ? 1 : 0);
    if (!std::all_of(parts.begin(), srcs_end, [&](dtype t) { return t == parts[0]; }))
        throw bad_probe{w[1] + " works in one dtype; got '" + w[2] + "'"};
    const auto cores = cfg.core_list();
    auto vec = [](const models::core_params& p) {
        return has_pipe(p, models::pipe_id::V) && buffer_size(p, mem_space::ub) > 0;
    };
    const auto core = pick_core(cores, vec);
    if (!core) throw bad_probe{cfg.name + " has no vector unit"};
    const uint64_t ub = buffer_size(cores[*core], mem_space::ub);
    models::vector_op v;
    v.op = op;
    v.type = parts.front();
    v.dst_type = parts.back();
    if (const std::string why = models::why_unsupported(v); !why.empty()) {
        std::string known;
        for (auto [src, dst] : models::vector_dtypes(op))
            known += (known.empty() ? "" : ", ") + models::cost_key(src, dst);
        throw bad_probe{"dtype '" + w[2] + "' of " + w[1] + " is not modelled: " + why +
                        "; known: " + known};
    }
    v.repeats = static_cast<uint32_t>(whole(w[3], "REPEATS", 1, 255));
    v.scalar = 1.0f;
    // One repeat covers 256 bytes of the wider operand. Each operand gets its own third of UB
    // (whole banks), as a kernel places them to avoid bank conflicts: the probe times the
    // instruction, not a conflict of its own making.
    const unsigned sbits = models::dtype_bits(v.type), dbits = models::dtype_bits(v.dst_type);
    const uint64_t per_repeat = 256 * 8 / std::max(sbits, dbits);
    // A merge sort's repeat is per_repeat proposals of 8 bytes.
    const bool sort = op == vec_opcode::merge_sort;
    const uint64_t src_span = v.repeats * per_repeat * (sort ? 64 : sbits) / 8;
    const uint64_t dst_span = v.repeats * per_repeat * (sort ? 64 : dbits) / 8;
    const bool two = models::uses_src1(op);
    const models::buffer_params& ubp = cores[*core].buffer(mem_space::ub);
    const uint64_t bank = ubp.size / std::max<uint32_t>(1, ubp.banks);
    const uint64_t third = ub / 3 / std::max<uint64_t>(bank, 32) * std::max<uint64_t>(bank, 32);
    if (std::max(src_span, dst_span) > third)
        throw bad_probe{"REPEATS " + w[3] + " needs more than a third of the " +
                        std::to_string(ub) + " bytes of UB per operand"};
    v.src0 = 0;
    v.src1 = two ? third : 0;
    v.dst = 2 * third;
    return {"vector " + w[1] + " " + w[2] + " " + w[3], *core, models::pipe_id::V, v,
            double(src_span)};
}

}  // namespace

int cmd_probe(const probe_args& a) {
    auto cfg = platform::load_platform(a.platform, a.sets);
    plan pl;
    try {
        const std::string kind = a.what.empty() ? "" : a.what[0];
        if (kind == "move")
            pl = plan_move(cfg, a);
        else if (kind == "mmad")
            pl = plan_mmad(cfg, a.what, a.dtype);
        else if (kind == "vector")
            pl = plan_vector(cfg, a.what);
        else
            throw bad_probe{"unknown probe '" + kind + "'; known: move, mmad, vector"};
    } catch (const bad_probe& e) {
        std::cerr << "npusim probe: " << e.what << "\n";
        return 2;
    }
    // Only the timed core (and on a split chip its cube/vector partners) is built: the others
    // would stay idle, and building every core of a big chip costs more than the probe itself.
    const bool vector_core = pl.core >= cfg.cores;
    cfg.cores = 1;
    cfg.vector_cores = cfg.split ? std::min(2u, cfg.vector_cores) : vector_core ? 1 : 0;
    pl.core = vector_core ? 1 : 0;
    platform::simulation sim(cfg);
    double ns = 0;
    std::string fault;
    const bool ok = sim.run([&](platform::chip& c, auto&) {
        models::ai_core& core = c.core(pl.core);
        // Round 0 warms the source (the tables are the L2-hit case); round 1 is timed.
        for (int round = 0; round < 2 && fault.empty(); ++round) {
            const models::ps_t t0 = models::now_ps();
            for (unsigned i = 0; i < a.count; ++i) core.issue(pl.pipe, pl.ins);
            core.wait_idle();
            ns = double(models::now_ps() - t0) / 1000.0 / a.count;
            fault = core.fault();
        }
    });
    if (!ok || !fault.empty()) {
        // The model refused the instruction (a dtype or shape it lacks): bad input.
        std::cerr << "npusim probe: " << pl.kind << ": " << (fault.empty() ? sim.error() : fault)
                  << "\n";
        return 2;
    }
    const double hz = cfg.core_list()[pl.core].clock_hz;
    const nlohmann::json out = {{"schema", "npusim.probe/1"},
                                {"kind", pl.kind},
                                {"platform", cfg.name},
                                {"count", a.count},
                                {"ns_per_instr", ns},
                                {"cycles_per_instr", ns * 1e-9 * hz},
                                {"bytes_per_instr", pl.bytes},
                                {"gib_per_s", ns > 0 ? pl.bytes / (ns * 1e-9) / 1073741824.0 : 0}};
    std::cout << out.dump() << "\n";
    return 0;
}

}  // namespace npusim::tools
