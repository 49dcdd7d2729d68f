#include "platform/config/schema.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "models/core/vector_op.h"
#include "models/core/vector_unit.h"
#include "platform/config/platform_config.h"

namespace npusim::platform {

namespace {

// Bandwidths stop at 1000 TB/s (1e15 B/s): far above any chip, and a bound keeps a typo such as
// 1e300TB/s from becoming an infinite bandwidth.
constexpr double max_bandwidth = 1e15;

using models::mem_space;
using P = platform_config;
using C = models::core_params;

struct path_default {
    const char* name;
    mem_space src, dst;
    const char* doc;
    const char* bpc;  // msKPP theoretical map where it has the path
};

// Data paths and the engine that moves them (see models/dma/dma_engine.cpp engine_for_path).
const path_default k_paths[] = {
    {"gm_to_l1", mem_space::gm, mem_space::l1, "GM->L1 (MTE2; nd2nz capable)", "256"},
    {"gm_to_l0a", mem_space::gm, mem_space::l0a, "GM->L0A (MTE2)", "128"},
    {"gm_to_l0b", mem_space::gm, mem_space::l0b, "GM->L0B (MTE2)", "128"},
    {"gm_to_ub", mem_space::gm, mem_space::ub, "GM->UB (MTE2)", "128"},
    {"l1_to_l0a", mem_space::l1, mem_space::l0a, "L1->L0A (MTE1)", "256"},
    {"l1_to_l0b", mem_space::l1, mem_space::l0b, "L1->L0B (MTE1)", "128"},
    {"l1_to_ub", mem_space::l1, mem_space::ub, "L1->UB (MTE1, coupled chips)", "0"},
    {"l1_to_bt", mem_space::l1, mem_space::bt, "L1->BT (MTE1, split chips)", "0"},
    {"l1_to_fb", mem_space::l1, mem_space::fb, "L1->FB (FixPipe, split chips)", "0"},
    {"l1_to_gm", mem_space::l1, mem_space::gm, "L1->GM (MTE3)", "128"},
    {"ub_to_gm", mem_space::ub, mem_space::gm, "UB->GM (MTE3)", "64"},
    {"ub_to_l1", mem_space::ub, mem_space::l1, "UB->L1 (MTE3, coupled chips)", "0"},
    {"l0c_to_gm", mem_space::l0c, mem_space::gm, "L0C->GM (FixPipe; nz2nd capable, split chips)",
     "0"},
    {"l0c_to_l1", mem_space::l0c, mem_space::l1, "L0C->L1 (FixPipe, split chips)", "0"},
    {"l0c_to_ub", mem_space::l0c, mem_space::ub, "L0C->UB (vector pipe, coupled chips)", "0"},
    {"ub_to_ub", mem_space::ub, mem_space::ub, "UB->UB (vector pipe)", "128"},
};

struct buffer_default {
    const char* name;
    mem_space space;
    const char* doc;
    const char* size;
    const char* align;
};

const buffer_default k_buffers[] = {
    {"l1", mem_space::l1, "L1: staging for cube operands", "1MiB", "32"},
    {"l0a", mem_space::l0a, "L0A: cube left operand", "64KiB", "512"},
    {"l0b", mem_space::l0b, "L0B: cube right operand", "64KiB", "512"},
    {"l0c", mem_space::l0c, "L0C: cube accumulator", "256KiB", "64"},
    {"ub", mem_space::ub, "UB: unified buffer of the vector unit", "256KiB", "32"},
    {"bt", mem_space::bt, "BT: bias table (split chips; 0 = absent)", "0", "64"},
    {"fb", mem_space::fb, "FB: FixPipe parameter buffer (split chips; 0 = absent)", "0", "64"},
};

std::string section_of(const buffer_default& b) {
    return std::string("buffers.") + b.name;
}
std::string section_of(const path_default& p) {
    return std::string("paths.") + p.name;
}

key_binder text_field(std::function<void(const std::string&, P&)> f) {
    return {std::move(f), {}, {}};
}
key_binder chip_field(std::function<void(double, P&)> f) {
    return {{}, std::move(f), {}};
}
key_binder core_field(std::function<void(double, C&)> f) {
    return {{}, {}, std::move(f)};
}

// Values arrive range-checked and, for integer kinds, whole.
uint32_t u32(double v) {
    return static_cast<uint32_t>(v);
}
uint64_t u64(double v) {
    return static_cast<uint64_t>(v);
}

std::vector<key_spec> build() {
    std::vector<key_spec> v;
    auto add = [&](std::string path, value_kind k, std::string def, double lo, double hi,
                   std::string doc, key_binder bind, std::vector<std::string> choices = {}) {
        v.push_back({std::move(path), k, std::move(def), lo, hi, std::move(choices), std::move(doc),
                     std::move(bind)});
    };
    using vk = value_kind;
    // Only checked (cross_check): there is one schema, so the config has no field for it.
    add("schema", vk::text, platform_schema_id, 0, 0, "schema id; must be npusim.platform/1",
        text_field([](const std::string&, P&) {}));
    add("chip.name", vk::text, "custom", 0, 0, "chip name shown in reports",
        text_field([](const std::string& t, P& p) { p.name = t; }));
    add("chip.description", vk::text, "", 0, 0, "free text",
        text_field([](const std::string& t, P& p) { p.description = t; }));
    add("chip.architecture", vk::choice, "coupled", 0, 0,
        "coupled: cube and vector share one AI core; split: cube cores (AIC) and vector cores "
        "(AIV)",
        text_field([](const std::string& t, P& p) { p.split = t == "split"; }),
        {"coupled", "split"});
    add("chip.cores", vk::integer, "32", 1, 256, "AI cores (coupled) or cube cores (split)",
        chip_field([](double x, P& p) { p.cores = u32(x); }));
    add("chip.vector_cores", vk::integer, "0", 0, 512,
        "stand-alone vector cores (split: the AIVs, paired 2 per AIC)",
        chip_field([](double x, P& p) { p.vector_cores = u32(x); }));
    add("chip.event_ids", vk::integer, "8", 1, 64,
        "set_flag/wait_flag event ids per pipe pair (910: 4; 310P, 910B: 8)",
        core_field([](double x, C& c) { c.event_ids = u32(x); }));
    // The AI cores of a coupled chip and the cube cores of a split one run at the cube clock.
    add("chip.clock.cube", vk::frequency, "1GHz", 1e6, 10e9, "clock of AI/cube cores",
        chip_field(
            [](double x, P& p) { p.cube_clock_hz = p.aicore.clock_hz = p.aic.clock_hz = x; }));
    add("chip.clock.vector", vk::frequency, "1GHz", 1e6, 10e9, "clock of stand-alone vector cores",
        chip_field([](double x, P& p) { p.vector_clock_hz = p.aiv.clock_hz = x; }));
    for (auto& b : k_buffers) {
        const std::string p = section_of(b);
        const size_t s = size_t(b.space);
        add(p + ".size", vk::size, b.size, 0, 64.0 * 1024 * 1024, std::string(b.doc) + "; capacity",
            core_field([s](double x, C& c) { c.buffers[s].size = u64(x); }));
        add(p + ".alignment", vk::size, b.align, 1, 4096, "required start alignment (power of two)",
            core_field([s](double x, C& c) { c.buffers[s].alignment = u32(x); }));
        add(p + ".banks", vk::integer, "1", 1, 1024, "number of banks (must divide the size)",
            core_field([s](double x, C& c) { c.buffers[s].banks = u32(x); }));
        add(p + ".bank_bytes_per_cycle", vk::bytes_per_cycle, "256", 1, 65536,
            "throughput of one bank; bursts on the same bank serialise",
            core_field([s](double x, C& c) { c.buffers[s].bank_bytes_per_cycle = x; }));
    }
    for (auto [dt, frac] : {std::pair{"fp16", &models::cube_params::fp16},
                            {"bf16", &models::cube_params::bf16},
                            {"int8", &models::cube_params::int8},
                            {"fp32", &models::cube_params::fp32}}) {
        const bool i8 = std::string(dt) == "int8", f32 = std::string(dt) == "fp32";
        const std::string p = std::string("cube.fractal.") + dt;
        add(p + ".m", vk::integer, "16", 1, 256, std::string(dt) + " fractal rows per cycle (M0)",
            core_field([f = frac](double x, C& c) { (c.cube.*f).m = u32(x); }));
        add(p + ".k", vk::integer,
            i8    ? "32"
            : f32 ? "8"
                  : "16",
            1, 256, std::string(dt) + " fractal depth (K0)",
            core_field([f = frac](double x, C& c) { (c.cube.*f).k = u32(x); }));
        add(p + ".n", vk::integer, "16", 1, 256, std::string(dt) + " fractal columns (N0)",
            core_field([f = frac](double x, C& c) { (c.cube.*f).n = u32(x); }));
    }
    add("cube.fp32", vk::boolean, "false", 0, 1,
        "the cube multiplies fp32 operands (the 910B family's fp32 mmad, fractal "
        "cube.fractal.fp32); false: fp32 matmuls are refused",
        core_field([](double x, C& c) { c.cube.fp32_mmad = x != 0; }));
    add("cube.issue_cycles", vk::cycles, "4", 1, 1e6,
        "issue floor: an mmad holds the M pipe for max(this, fixed_cycles + its fractal count) "
        "cycles",
        core_field([](double x, C& c) { c.cube.issue_cycles = u32(x); }));
    add("cube.fixed_cycles", vk::cycles, "0", 0, 1e6,
        "cycles every mmad adds to its fractal count (operand set-up; not overlapped with the "
        "previous mmad)",
        core_field([](double x, C& c) { c.cube.fixed_cycles = u32(x); }));
    add("cube.latency", vk::cycles, "8", 0, 1e6,
        "cycles from an mmad's issue end to its result in L0C (flags and barriers wait)",
        core_field([](double x, C& c) { c.cube.latency_cycles = u32(x); }));
    add("vector.issue_cycles", vk::cycles, "4", 1, 1e6,
        "issue floor: a vector instruction holds the V pipe for max(this, fixed + repeats x "
        "cycles per repeat) cycles; vector.instructions sets both per instruction",
        core_field([](double x, C& c) { c.vector.issue_cycles = u32(x); }));
    add("vector.latency", vk::cycles, "4", 0, 1e6,
        "cycles from a vector instruction's issue end to its result in UB",
        core_field([](double x, C& c) { c.vector.latency_cycles = u32(x); }));
    struct class_cost {
        const char* name;
        models::vec_class cls;
        const char* def;
    };
    for (const class_cost& k : {class_cost{"simple", models::vec_class::simple, "1"},
                                {"activation", models::vec_class::activation, "2"},
                                {"transcendental", models::vec_class::transcendental, "4"},
                                {"reduction", models::vec_class::reduction, "2"},
                                {"cast", models::vec_class::cast, "1"}})
        add(std::string("vector.cycles_per_repeat.") + k.name, vk::real, k.def, 0.01, 1e4,
            std::string("cycles per repeat for ") + k.name + " instructions",
            core_field([i = size_t(k.cls)](double x, C& c) { c.vector.cycles_per_repeat[i] = x; }));
    // One row per Ascend vector instruction and dtypes it runs in (the vector unit's own list),
    // so the table cannot name what the model lacks.
    for (models::vec_opcode op : models::all_vec_opcodes()) {
        const char* name = models::ascend_name(op);
        if (!name) continue;
        for (const auto& sd : models::vector_dtypes(op)) {
            const models::dtype src = sd.first, dst = sd.second;
            const std::string w = models::cost_key(src, dst);
            const std::string k = std::string("vector.instructions.") + name + "." + w;
            add(k + ".issue_cycles", vk::cycles, "0", 0, 1e6,
                std::string(name) + " " + w + ": issue floor; 0 = vector.issue_cycles",
                core_field(
                    [=](double x, C& c) { c.vector.row(op, src, dst).issue_cycles = u32(x); }));
            add(k + ".fixed_cycles", vk::cycles, "0", 0, 1e6,
                std::string(name) + " " + w + ": cycles added to every instruction's repeats",
                core_field(
                    [=](double x, C& c) { c.vector.row(op, src, dst).fixed_cycles = u32(x); }));
            add(k + ".cycles_per_repeat", vk::real, "0", 0, 1e4,
                std::string(name) + " " + w + ": cycles per repeat; 0 = its class default",
                core_field(
                    [=](double x, C& c) { c.vector.row(op, src, dst).cycles_per_repeat = x; }));
        }
    }
    for (auto& p : k_paths) {
        const std::string k = section_of(p);
        const size_t s = size_t(p.src), d = size_t(p.dst);
        add(k + ".bytes_per_cycle", vk::bytes_per_cycle, p.bpc, 0, 65536,
            std::string(p.doc) + "; 0 = path absent",
            core_field([s, d](double x, C& c) { c.paths[s][d].bytes_per_cycle = x; }));
        add(k + ".latency", vk::cycles, "20", 0, 1e6,
            "start-up of every instruction before its first request; the next instruction's "
            "start-up waits for this one's requests",
            core_field([s, d](double x, C& c) { c.paths[s][d].latency_cycles = u32(x); }));
        add(k + ".issue_bytes_per_cycle", vk::bytes_per_cycle, "0", 0, 65536,
            "rate at which one instruction issues its requests; 0 = as fast as the port takes "
            "them",
            core_field([s, d](double x, C& c) { c.paths[s][d].issue_bytes_per_cycle = x; }));
        add(k + ".issue_cycles", vk::cycles, "10", 0, 1e6,
            "issue floor: an instruction holds its engine at least this long",
            core_field([s, d](double x, C& c) { c.paths[s][d].issue_cycles = u32(x); }));
        add(k + ".format_latency", vk::cycles, "0", 0, 1e6,
            "extra start-up of a layout-converting move (nd2nz on gm_to_l1, nz2nd on l0c_to_gm)",
            core_field([s, d](double x, C& c) { c.paths[s][d].format_latency_cycles = u32(x); }));
        add(k + ".burst", vk::size, "512", 32, 1 << 20, "burst size; bursts end at multiples of it",
            core_field([s, d](double x, C& c) { c.paths[s][d].burst_bytes = u32(x); }));
        add(k + ".burst_overhead", vk::cycles, "1", 0, 1e6, "per-burst command cost on the engine",
            core_field([s, d](double x, C& c) { c.paths[s][d].burst_overhead_cycles = u32(x); }));
    }
    add("dma.max_outstanding", vk::integer, "64", 1, 4096,
        "bursts a core DMA engine has in flight (its hardware request slots)",
        core_field([](double x, C& c) { c.dma.max_outstanding = u32(x); }));
    add("dma.write_buffer", vk::size, "16KiB", 512, 1 << 30,
        "bytes of posted GM writes an engine may have in flight; the issuer is done when the "
        "buffer takes a write",
        core_field([](double x, C& c) { c.dma.write_buffer = u64(x); }));
    add("dma.queue_depth", vk::integer, "32", 1, 4096, "instruction queue depth per pipe",
        core_field([](double x, C& c) { c.dma.queue_depth = u32(x); }));
    add("noc.bandwidth", vk::bandwidth, "4TB/s", 1e6, max_bandwidth,
        "interconnect bandwidth shared by all cores",
        chip_field([](double x, P& p) { p.noc.bandwidth = x; }));
    add("noc.latency", vk::time, "10ns", 0, 1e9, "interconnect latency",
        chip_field([](double x, P& p) { p.noc.latency_ps = u64(x); }));
    add("l2.enabled", vk::boolean, "true", 0, 1, "route GM traffic through the L2 cache",
        chip_field([](double x, P& p) { p.l2.enabled = x != 0; }));
    add("l2.size", vk::size, "32MiB", 4096, 64.0 * 1024 * 1024 * 1024, "L2 capacity",
        chip_field([](double x, P& p) { p.l2.size = u64(x); }));
    add("l2.line", vk::size, "512", 32, 65536, "L2 line size (power of two)",
        chip_field([](double x, P& p) { p.l2.line_bytes = u32(x); }));
    add("l2.ways", vk::integer, "16", 1, 1024, "associativity",
        chip_field([](double x, P& p) { p.l2.ways = u32(x); }));
    add("l2.hit_latency", vk::time, "50ns", 0, 1e9, "latency of a hit",
        chip_field([](double x, P& p) { p.l2.hit_latency_ps = u64(x); }));
    add("l2.miss_latency", vk::time, "20ns", 0, 1e9, "extra latency of a miss on top of GM's",
        chip_field([](double x, P& p) { p.l2.miss_latency_ps = u64(x); }));
    add("scheduler.kernel_dispatch", vk::time, "2us", 0, 1e12,
        "device-side cost per kernel launch: the task scheduler reads the task and sets up the "
        "cores before the first block starts; graph launches pay it too (estimate)",
        chip_field([](double x, P& p) { p.kernel_dispatch_ps = u64(x); }));
    add("l2.cold_kernels", vk::boolean, "false", 0, 1,
        "drop every L2 line when a kernel starts, so each kernel reads its data from GM (a "
        "cold-cache measurement; npusim run --cold-l2)",
        chip_field([](double x, P& p) { p.l2.cold_kernels = x != 0; }));
    add("l2.bandwidth", vk::bandwidth, "4TB/s", 1e6, max_bandwidth,
        "L2 bandwidth shared by all cores", chip_field([](double x, P& p) { p.l2.bandwidth = x; }));
    add("gm.capacity", vk::size, "32GiB", 1 << 20, 1ull << 50, "global memory capacity",
        chip_field([](double x, P& p) { p.gm.capacity = u64(x); }));
    add("gm.channels", vk::integer, "8", 1, 1024, "independent channels",
        chip_field([](double x, P& p) { p.gm.channels = u32(x); }));
    add("gm.bandwidth", vk::bandwidth, "1.2TB/s", 1e6, max_bandwidth,
        "total bandwidth of all channels", chip_field([](double x, P& p) { p.gm.bandwidth = x; }));
    add("gm.latency", vk::time, "100ns", 0, 1e9, "access latency",
        chip_field([](double x, P& p) { p.gm.latency_ps = u64(x); }));
    add("gm.interleave", vk::size, "512", 32, 1 << 20,
        "address interleave between channels (the channel index is hashed from the address)",
        chip_field([](double x, P& p) { p.gm.interleave_bytes = u32(x); }));
    add("gm.granule", vk::size, "32", 1, 4096, "minimum access; partial granules cost a whole one",
        chip_field([](double x, P& p) { p.gm.access_granule = u32(x); }));
    add("host_link.bandwidth", vk::bandwidth, "32GB/s", 1e6, max_bandwidth,
        "host<->device copy bandwidth",
        chip_field([](double x, P& p) { p.host_link.bandwidth = x; }));
    add("host_link.latency", vk::time, "1us", 0, 1e12, "latency of a host<->device burst",
        chip_field([](double x, P& p) { p.host_link.latency_ps = u64(x); }));
    add("host_link.burst", vk::size, "4KiB", 64, 1 << 24, "host link burst size",
        chip_field([](double x, P& p) { p.host_link.burst_bytes = u32(x); }));
    add("host_link.max_outstanding", vk::integer, "16", 1, 4096, "host link bursts in flight",
        chip_field([](double x, P& p) { p.host_link.max_outstanding = u32(x); }));
    add("memory.alignment", vk::size, "512", 32, 1 << 30,
        "device allocator block granule and start alignment (power of two)",
        chip_field([](double x, P& p) { p.memory.alignment = u64(x); }));
    add("memory.max_split_size", vk::size, "0", 0, 1ull << 50,
        "cached blocks this large or larger are never split (0 = no limit)",
        chip_field([](double x, P& p) { p.memory.max_split_size = u64(x); }));
    add("memory.gc_threshold", vk::real, "0", 0, 1,
        "free old cached blocks when reserved memory exceeds this fraction of GM (0 = off)",
        chip_field([](double x, P& p) { p.memory.gc_threshold = x; }));
    add("memory.caching", vk::boolean, "true", 0, 1,
        "cache freed device blocks for reuse (false: every free reaches the driver)",
        chip_field([](double x, P& p) { p.memory.caching = x != 0; }));
    add("memory.poison_freed", vk::boolean, "false", 0, 1,
        "debug: fill freed device blocks with 0xfd and report kernels that read them",
        chip_field([](double x, P& p) { p.memory.poison_freed = x != 0; }));
    add("sparse.direct_below", vk::real, "0.1", 0, 1,
        "sparse_matmul with strategy auto, a stored in blocks that are not whole 16x16 fractals "
        "(CSR): the direct kernel (vector unit) below this density, the dense one (densify, "
        "then the cube) from it (bench_sparse measures the crossover)",
        chip_field([](double x, P& p) { p.sparse.direct_below = x; }));
    add("sparse.dense_from", vk::real, "0.3", 0, 1,
        "sparse_matmul with strategy auto, a stored in whole 16x16 fractal blocks: the "
        "block-sparse kernel (the cube, skipping absent blocks) below this density, the dense "
        "one from it; 1: the block-sparse kernel at every density (bench_sparse measures the "
        "crossover)",
        chip_field([](double x, P& p) { p.sparse.dense_from = x; }));
    add("sdma.bandwidth", vk::bandwidth, "200GB/s", 1e6, max_bandwidth,
        "system DMA bandwidth for device-to-device copies and memset (estimate)",
        chip_field([](double x, P& p) { p.sdma.bandwidth = x; }));
    add("sdma.burst", vk::size, "4KiB", 64, 1 << 24, "system DMA burst size",
        chip_field([](double x, P& p) { p.sdma.burst_bytes = u32(x); }));
    add("sdma.max_outstanding", vk::integer, "32", 1, 4096,
        "system DMA bursts in flight (a copy's read and write count as one)",
        chip_field([](double x, P& p) { p.sdma.max_outstanding = u32(x); }));
    struct api_cost {
        const char *key, *def, *doc;
        models::ps_t host_api_params::*field;
    };
    for (const api_cost& a :
         {api_cost{"launch", "5us", "kernel launch", &host_api_params::launch_ps},
          api_cost{"memcpy_setup", "2us", "copy set-up", &host_api_params::memcpy_setup_ps},
          api_cost{"sync_wakeup", "2us", "synchronize wake-up", &host_api_params::sync_wakeup_ps},
          api_cost{"callback", "3us",
                   "callback dispatch: switching to the callback thread and calling into the "
                   "user function (paid per callback)",
                   &host_api_params::callback_ps},
          api_cost{"callback_launch", "1us", "enqueueing a host callback",
                   &host_api_params::callback_launch_ps},
          api_cost{"callback_batch_item", "500ns",
                   "each further callback of a batch delivered in one report dispatch",
                   &host_api_params::callback_batch_item_ps},
          api_cost{"thread_wakeup", "5us",
                   "waking a callback thread that slept because no callback was waiting (a "
                   "thread with a backlog does not pay it)",
                   &host_api_params::thread_wakeup_ps},
          api_cost{"cached_malloc", "100ns", "device allocation or free served by the cache",
                   &host_api_params::cached_malloc_ps},
          api_cost{"event_record", "1us", "event record", &host_api_params::event_record_ps},
          api_cost{"malloc", "10us", "device allocation reaching the driver",
                   &host_api_params::malloc_ps},
          api_cost{"free", "5us", "device free reaching the driver", &host_api_params::free_ps}})
        add(std::string("host_api.") + a.key, vk::time, a.def, 0, 1e12,
            std::string("host cost of ") + a.doc + " (estimate: no measured figure is cited)",
            chip_field([f = a.field](double x, P& p) { p.host_api.*f = u64(x); }));
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

const std::vector<std::string>& buffer_sections() {
    static const std::vector<std::string> v = [] {
        std::vector<std::string> out;
        for (auto& b : k_buffers) out.push_back(section_of(b));
        return out;
    }();
    return v;
}

const std::vector<std::string>& path_sections() {
    static const std::vector<std::string> v = [] {
        std::vector<std::string> out;
        for (auto& p : k_paths) out.push_back(section_of(p));
        return out;
    }();
    return v;
}

const removed_key* find_removed_key(const std::string& path) {
    static const removed_key removed[] = {
        {"dma.window_bursts",
         "was removed: it was a simulation knob that changed results; the hardware's bursts in "
         "flight are dma.max_outstanding",
         "delete it; set dma.max_outstanding (hardware) if you meant bursts in flight"},
        {"sim.lookahead",
         "was removed: it was a simulation setting that moved results (core-local bank "
         "conflicts); every pipe and engine now books its work at its start time and the burst "
         "dispatcher books GM traffic in order of start, so no setting changes a result",
         "delete it"},
        {"sim",
         "was removed: its one key, sim.lookahead, was a simulation setting that moved results; "
         "every pipe and engine now books its work at its start time",
         "delete the sim section"},
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
