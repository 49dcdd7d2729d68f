#include "platform/config/schema.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "models/core/vector_op.h"
#include "models/core/vector_unit.h"

namespace npusim::platform {

namespace {

// Bandwidths stop at 1000 TB/s (1e15 B/s): far above any chip, and a bound keeps a typo such as
// 1e300TB/s from becoming an infinite bandwidth.
constexpr double max_bandwidth = 1e15;

struct path_default {
    const char* name;
    const char* doc;
    const char* bpc;  // msKPP theoretical map where it has the path
};

// Data paths and the engine that moves them (see models/dma/dma_engine.cpp engine_for_path).
const path_default k_paths[] = {
    {"gm_to_l1", "GM->L1 (MTE2; nd2nz capable)", "256"},
    {"gm_to_l0a", "GM->L0A (MTE2)", "128"},
    {"gm_to_l0b", "GM->L0B (MTE2)", "128"},
    {"gm_to_ub", "GM->UB (MTE2)", "128"},
    {"l1_to_l0a", "L1->L0A (MTE1)", "256"},
    {"l1_to_l0b", "L1->L0B (MTE1)", "128"},
    {"l1_to_ub", "L1->UB (MTE1, coupled chips)", "0"},
    {"l1_to_bt", "L1->BT (MTE1, split chips)", "0"},
    {"l1_to_fb", "L1->FB (FixPipe, split chips)", "0"},
    {"l1_to_gm", "L1->GM (MTE3)", "128"},
    {"ub_to_gm", "UB->GM (MTE3)", "64"},
    {"ub_to_l1", "UB->L1 (MTE3, coupled chips)", "0"},
    {"l0c_to_gm", "L0C->GM (FixPipe; nz2nd capable, split chips)", "0"},
    {"l0c_to_l1", "L0C->L1 (FixPipe, split chips)", "0"},
    {"l0c_to_ub", "L0C->UB (vector pipe, coupled chips)", "0"},
    {"ub_to_ub", "UB->UB (vector pipe)", "128"},
};

struct buffer_default {
    const char* name;
    const char* doc;
    const char* size;
    const char* align;
};

const buffer_default k_buffers[] = {
    {"l1", "L1: staging for cube operands", "1MiB", "32"},
    {"l0a", "L0A: cube left operand", "64KiB", "512"},
    {"l0b", "L0B: cube right operand", "64KiB", "512"},
    {"l0c", "L0C: cube accumulator", "256KiB", "64"},
    {"ub", "UB: unified buffer of the vector unit", "256KiB", "32"},
    {"bt", "BT: bias table (split chips; 0 = absent)", "0", "64"},
    {"fb", "FB: FixPipe parameter buffer (split chips; 0 = absent)", "0", "64"},
};

std::vector<key_spec> build() {
    std::vector<key_spec> v;
    auto add = [&](std::string path, value_kind k, std::string def, double lo, double hi,
                   std::string doc, std::vector<std::string> choices = {}) {
        v.push_back(
            {std::move(path), k, std::move(def), lo, hi, std::move(choices), std::move(doc)});
    };
    using vk = value_kind;
    add("schema", vk::text, platform_schema_id, 0, 0, "schema id; must be npusim.platform/1");
    add("chip.name", vk::text, "custom", 0, 0, "chip name shown in reports");
    add("chip.description", vk::text, "", 0, 0, "free text");
    add("chip.architecture", vk::choice, "coupled", 0, 0,
        "coupled: cube and vector share one AI core; split: cube cores (AIC) and vector cores "
        "(AIV)",
        {"coupled", "split"});
    add("chip.cores", vk::integer, "32", 1, 256, "AI cores (coupled) or cube cores (split)");
    add("chip.vector_cores", vk::integer, "0", 0, 512,
        "stand-alone vector cores (split: the AIVs, paired 2 per AIC)");
    add("chip.event_ids", vk::integer, "8", 1, 64,
        "set_flag/wait_flag event ids per pipe pair (910: 4; 310P, 910B: 8)");
    add("chip.clock.cube", vk::frequency, "1GHz", 1e6, 10e9, "clock of AI/cube cores");
    add("chip.clock.vector", vk::frequency, "1GHz", 1e6, 10e9, "clock of stand-alone vector cores");
    for (auto& b : k_buffers) {
        const std::string p = std::string("buffers.") + b.name;
        add(p + ".size", vk::size, b.size, 0, 64.0 * 1024 * 1024,
            std::string(b.doc) + "; capacity");
        add(p + ".alignment", vk::size, b.align, 1, 4096,
            "required start alignment (power of two)");
        add(p + ".banks", vk::integer, "1", 1, 1024, "number of banks (must divide the size)");
        add(p + ".bank_bytes_per_cycle", vk::bytes_per_cycle, "256", 1, 65536,
            "throughput of one bank; bursts on the same bank serialise");
    }
    for (const char* dt : {"fp16", "bf16", "int8"}) {
        const bool i8 = std::string(dt) == "int8";
        const std::string p = std::string("cube.fractal.") + dt;
        add(p + ".m", vk::integer, "16", 1, 256, std::string(dt) + " fractal rows per cycle (M0)");
        add(p + ".k", vk::integer, i8 ? "32" : "16", 1, 256,
            std::string(dt) + " fractal depth (K0)");
        add(p + ".n", vk::integer, "16", 1, 256, std::string(dt) + " fractal columns (N0)");
    }
    add("cube.issue_cycles", vk::cycles, "4", 1, 1e6,
        "issue floor: an mmad holds the M pipe for max(this, fixed_cycles + its fractal count) "
        "cycles");
    add("cube.fixed_cycles", vk::cycles, "0", 0, 1e6,
        "cycles every mmad adds to its fractal count (operand set-up; not overlapped with the "
        "previous mmad)");
    add("cube.latency", vk::cycles, "8", 0, 1e6,
        "cycles from an mmad's issue end to its result in L0C (flags and barriers wait)");
    add("vector.issue_cycles", vk::cycles, "4", 1, 1e6,
        "issue floor: a vector instruction holds the V pipe for max(this, fixed + repeats x "
        "cycles per repeat) cycles; vector.instructions sets both per instruction");
    add("vector.latency", vk::cycles, "4", 0, 1e6,
        "cycles from a vector instruction's issue end to its result in UB");
    for (auto [cls, def] : {std::pair{"simple", "1"},
                            {"activation", "2"},
                            {"transcendental", "4"},
                            {"reduction", "2"},
                            {"cast", "1"}})
        add(std::string("vector.cycles_per_repeat.") + cls, vk::real, def, 0.01, 1e4,
            std::string("cycles per repeat for ") + cls + " instructions");
    // One row per Ascend vector instruction and operand widths it runs in (the vector unit's
    // own list), so the table cannot name what the model lacks.
    for (models::vec_opcode op : models::all_vec_opcodes()) {
        const char* name = models::ascend_name(op);
        if (!name) continue;
        std::set<std::string> widths;
        for (auto [src, dst] : models::vector_dtypes(op))
            widths.insert(models::width_key(models::dtype_size(src), models::dtype_size(dst)));
        for (const std::string& w : widths) {
            const std::string k = std::string("vector.instructions.") + name + "." + w;
            add(k + ".issue_cycles", vk::cycles, "0", 0, 1e6,
                std::string(name) + " " + w + ": issue floor; 0 = vector.issue_cycles");
            add(k + ".fixed_cycles", vk::cycles, "0", 0, 1e6,
                std::string(name) + " " + w + ": cycles added to every instruction's repeats");
            add(k + ".cycles_per_repeat", vk::real, "0", 0, 1e4,
                std::string(name) + " " + w + ": cycles per repeat; 0 = its class default");
        }
    }
    for (auto& p : k_paths) {
        const std::string k = std::string("paths.") + p.name;
        add(k + ".bytes_per_cycle", vk::bytes_per_cycle, p.bpc, 0, 65536,
            std::string(p.doc) + "; 0 = path absent");
        add(k + ".latency", vk::cycles, "20", 0, 1e6,
            "start-up of every instruction before its first request; the next instruction's "
            "start-up waits for this one's requests");
        add(k + ".issue_bytes_per_cycle", vk::bytes_per_cycle, "0", 0, 65536,
            "rate at which one instruction issues its requests; 0 = as fast as the port takes "
            "them");
        add(k + ".issue_cycles", vk::cycles, "10", 0, 1e6,
            "issue floor: an instruction holds its engine at least this long");
        add(k + ".format_latency", vk::cycles, "0", 0, 1e6,
            "extra start-up of a layout-converting move (nd2nz on gm_to_l1, nz2nd on l0c_to_gm)");
        add(k + ".burst", vk::size, "512", 32, 1 << 20,
            "burst size; bursts end at multiples of it");
        add(k + ".burst_overhead", vk::cycles, "1", 0, 1e6, "per-burst command cost on the engine");
    }
    add("dma.max_outstanding", vk::integer, "64", 1, 4096,
        "bursts a core DMA engine has in flight (its hardware request slots)");
    add("dma.write_buffer", vk::size, "16KiB", 512, 1 << 30,
        "bytes of posted GM writes an engine may have in flight; the issuer is done when the "
        "buffer takes a write");
    add("sim.lookahead", vk::time, "30ns", 10e3, 30e3,
        "simulation setting: how far ahead of simulated time engines and pipes book; times stay "
        "within the tolerance in docs/timing-model.md over the whole range");
    add("dma.queue_depth", vk::integer, "32", 1, 4096, "instruction queue depth per pipe");
    add("noc.bandwidth", vk::bandwidth, "4TB/s", 1e6, max_bandwidth,
        "interconnect bandwidth shared by all cores");
    add("noc.latency", vk::time, "10ns", 0, 1e9, "interconnect latency");
    add("l2.enabled", vk::boolean, "true", 0, 1, "route GM traffic through the L2 cache");
    add("l2.size", vk::size, "32MiB", 4096, 64.0 * 1024 * 1024 * 1024, "L2 capacity");
    add("l2.line", vk::size, "512", 32, 65536, "L2 line size (power of two)");
    add("l2.ways", vk::integer, "16", 1, 1024, "associativity");
    add("l2.hit_latency", vk::time, "50ns", 0, 1e9, "latency of a hit");
    add("l2.miss_latency", vk::time, "20ns", 0, 1e9, "extra latency of a miss on top of GM's");
    add("l2.bandwidth", vk::bandwidth, "4TB/s", 1e6, max_bandwidth,
        "L2 bandwidth shared by all cores");
    add("gm.capacity", vk::size, "32GiB", 1 << 20, 1ull << 50, "global memory capacity");
    add("gm.channels", vk::integer, "8", 1, 1024, "independent channels");
    add("gm.bandwidth", vk::bandwidth, "1.2TB/s", 1e6, max_bandwidth,
        "total bandwidth of all channels");
    add("gm.latency", vk::time, "100ns", 0, 1e9, "access latency");
    add("gm.interleave", vk::size, "512", 32, 1 << 20,
        "address interleave between channels (the channel index is hashed from the address)");
    add("gm.granule", vk::size, "32", 1, 4096, "minimum access; partial granules cost a whole one");
    add("host_link.bandwidth", vk::bandwidth, "32GB/s", 1e6, max_bandwidth,
        "host<->device copy bandwidth");
    add("host_link.latency", vk::time, "1us", 0, 1e12, "latency of a host<->device burst");
    add("host_link.burst", vk::size, "4KiB", 64, 1 << 24, "host link burst size");
    add("host_link.max_outstanding", vk::integer, "16", 1, 4096, "host link bursts in flight");
    add("memory.alignment", vk::size, "512", 32, 1 << 30,
        "device allocator block granule and start alignment (power of two)");
    add("memory.max_split_size", vk::size, "0", 0, 1ull << 50,
        "cached blocks this large or larger are never split (0 = no limit)");
    add("memory.gc_threshold", vk::real, "0", 0, 1,
        "free old cached blocks when reserved memory exceeds this fraction of GM (0 = off)");
    add("memory.caching", vk::boolean, "true", 0, 1,
        "cache freed device blocks for reuse (false: every free reaches the driver)");
    add("memory.poison_freed", vk::boolean, "false", 0, 1,
        "debug: fill freed device blocks with 0xfd and report kernels that read them");
    add("sdma.bandwidth", vk::bandwidth, "200GB/s", 1e6, max_bandwidth,
        "system DMA bandwidth for device-to-device copies and memset (estimate)");
    add("sdma.burst", vk::size, "4KiB", 64, 1 << 24, "system DMA burst size");
    add("sdma.max_outstanding", vk::integer, "32", 1, 4096,
        "system DMA bursts in flight (a copy's read and write count as one)");
    struct api_cost {
        const char *key, *def, *doc;
    };
    for (const api_cost& a :
         {api_cost{"launch", "5us", "kernel launch"},
          api_cost{"memcpy_setup", "2us", "copy set-up"},
          api_cost{"sync_wakeup", "2us", "synchronize wake-up"},
          api_cost{"callback", "3us", "callback dispatch"},
          api_cost{"callback_launch", "1us", "enqueueing a host callback"},
          api_cost{"cached_malloc", "100ns", "device allocation or free served by the cache"},
          api_cost{"event_record", "1us", "event record"},
          api_cost{"malloc", "10us", "device allocation reaching the driver"},
          api_cost{"free", "5us", "device free reaching the driver"}})
        add(std::string("host_api.") + a.key, vk::time, a.def, 0, 1e12,
            std::string("host cost of ") + a.doc);
    return v;
}

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min(
                {prev[j] + 1, cur[j - 1] + 1,
                 prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

}  // namespace

const std::vector<key_spec>& platform_schema() {
    static const std::vector<key_spec> schema = build();
    return schema;
}

const removed_key* find_removed_key(const std::string& path) {
    static const removed_key removed[] = {
        {"dma.window_bursts",
         "was removed: it was a simulation knob that changed results; how far engines book "
         "ahead is now a time, sim.lookahead, and the hardware's bursts in flight are "
         "dma.max_outstanding",
         "delete it; set sim.lookahead (simulation speed) or dma.max_outstanding (hardware)"},
        {"cube.overhead_cycles",
         "was removed: an mmad now costs max(cube.issue_cycles, fractals) of issue plus "
         "cube.latency",
         "set cube.issue_cycles and cube.latency instead"},
        {"vector.overhead_cycles",
         "was removed: a vector instruction now costs max(vector.issue_cycles, work) of issue "
         "plus vector.latency",
         "set vector.issue_cycles and vector.latency instead"},
    };
    static const removed_key setup{
        "paths.*.setup",
        "was removed: a move now costs max(issue_cycles, latency + bytes / "
        "issue_bytes_per_cycle, bytes / bytes_per_cycle) back to back (docs/timing-model.md)",
        "rename it issue_cycles (the floor it was) and see latency"};
    for (auto& r : removed)
        if (path == r.path) return &r;
    if (path.rfind("paths.", 0) == 0 && path.size() > 6 &&
        path.compare(path.size() - 6, 6, ".setup") == 0)
        return &setup;
    return nullptr;
}

const key_spec* find_key(const std::string& path) {
    for (auto& k : platform_schema())
        if (k.path == path) return &k;
    return nullptr;
}

bool is_section(const std::string& prefix) {
    for (auto& k : platform_schema())
        if (k.path.size() > prefix.size() && k.path.compare(0, prefix.size(), prefix) == 0 &&
            k.path[prefix.size()] == '.')
            return true;
    return false;
}

std::vector<std::string> children_of(const std::string& prefix) {
    std::set<std::string> seen;
    std::vector<std::string> out;
    const std::string p = prefix.empty() ? "" : prefix + ".";
    for (auto& k : platform_schema()) {
        if (k.path.compare(0, p.size(), p) != 0) continue;
        const std::string rest = k.path.substr(p.size());
        const std::string child = rest.substr(0, rest.find('.'));
        if (seen.insert(child).second) out.push_back(child);
    }
    return out;
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    size_t best_d = ~size_t{0};
    for (auto& c : candidates) {
        const size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    const size_t limit = std::max<size_t>(2, word.size() / 3);
    return best_d <= limit ? best : "";
}

std::string config_reference_markdown() {
    std::ostringstream o;
    o << "# Platform config reference (" << platform_schema_id << ")\n\n"
      << "Generated from `platform/config/schema.cpp` by `npusim validate --reference`; "
         "do not edit by hand (a test fails when this file is stale).\n\n"
      << "Every key is optional except `schema`; a missing key takes its default. Sizes accept "
         "B, KiB, MiB, GiB, TiB (binary) and KB, MB, GB, TB (decimal); frequencies Hz, kHz, MHz, "
         "GHz; bandwidths B/s to TB/s and KiB/s to TiB/s; times ps, ns, us, ms, s. Any key can be "
         "overridden with `--set key=value`. Numbers must be finite and inside the range shown "
         "(a value that overflows, such as 1e300TB/s, is an error); a key given twice, a list or "
         "mapping where a value belongs, and bytes that are not UTF-8 are errors too. "
         "`npusim validate FILE` also checks that the platform can run a matmul and a vector "
         "op.\n\n"
      << "| key | unit | default | range | meaning |\n|---|---|---|---|---|\n";
    for (auto& k : platform_schema()) {
        std::string range;
        if (k.kind == value_kind::choice) {
            for (auto& c : k.choices) range += (range.empty() ? "" : " \\| ") + c;
        } else if (k.kind != value_kind::text && k.kind != value_kind::boolean) {
            range = format_value(k.kind, k.min) + " .. " + format_value(k.kind, k.max);
        }
        o << "| `" << k.path << "` | " << base_unit(k.kind) << " | "
          << (k.default_text.empty() ? "\"\"" : "`" + k.default_text + "`") << " | " << range
          << " | " << k.doc << " |\n";
    }
    return o.str();
}

}  // namespace npusim::platform
