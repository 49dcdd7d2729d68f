#include "platform/stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "platform/chip.h"
#include "platform/config/schema.h"
#include "platform/version.h"

namespace npusim::platform {

using nlohmann::json;

namespace {

json model_stats(const models::model_base& m) {
    json j = json::object();
    m.visit_stats([&](std::string_view k, double v) { j[std::string(k)] = v; });
    return j;
}

}  // namespace

void add_launch(op_record& op, const models::launch_record& rec) {
    for (const auto& b : rec.blocks) {
        ++op.blocks;
        op.block_ps += (b.end - b.start) * std::max<size_t>(1, b.cores.size());
        op.unit_busy_ps[b.core] += b.end - b.start;
        for (const auto& [p, busy] : b.pipe_busy) op.pipe_busy_ps[p] += busy;
        op.mem += b.mem;
    }
}

double imbalance(const op_record& o) {
    models::ps_t most = 0, sum = 0;
    for (const auto& [unit, busy] : o.unit_busy_ps) {
        most = std::max(most, busy);
        sum += busy;
    }
    return sum ? double(most) * double(o.unit_busy_ps.size()) / double(sum) : 1.0;
}

namespace {

/// Each pipe's busy share of the op's block time (cores x duration of each block).
json pipe_ratios(const op_record& o) {
    json r = json::object();
    for (const auto& [p, busy] : o.pipe_busy_ps)
        if (p != models::pipe_id::S && o.block_ps > 0)
            r[models::to_string(p)] = double(busy) / double(o.block_ps);
    return r;
}

}  // namespace

double op_gm_bytes(const nlohmann::json& op) {
    if (op.contains("gm_read_bytes"))
        return op["gm_read_bytes"].get<double>() + op["gm_write_bytes"].get<double>();
    return op["bytes"].get<double>();
}

bool is_kernel_op(const std::string& type) {
    return type.rfind("memcpy", 0) != 0 && type != "memset";
}

/// Figures for sweeps and reports over the kernels alone (host copies and set-up excluded):
/// device_span_ns from the first kernel's start to the last one's end, kernel_busy_ns the
/// time at least one kernel ran, and the FLOP rate over the span (docs/metrics.md).
json summarize(const std::vector<op_record>& ops, double peak_flops) {
    std::vector<std::pair<models::ps_t, models::ps_t>> k;
    double flops = 0;
    for (const auto& o : ops)
        if (is_kernel_op(o.type)) {
            k.emplace_back(o.start_ps, o.end_ps);
            flops += o.flops;
        }
    std::sort(k.begin(), k.end());
    models::ps_t busy = 0, open = 0, close = 0;
    for (const auto& [s, e] : k) {
        if (s > close) {
            busy += close - open;
            open = s;
        }
        close = std::max(close, e);
    }
    busy += close - open;
    const double span_ns = k.empty() ? 0 : (close - k.front().first) / 1000.0;
    const double tflops = span_ns > 0 ? flops / span_ns / 1e3 : 0;
    return {{"kernels", k.size()},
            {"device_span_ns", span_ns},
            {"kernel_busy_ns", busy / 1000.0},
            {"idle_between_kernels_ns", span_ns - busy / 1000.0},
            {"flops", flops},
            {"achieved_tflops", tflops},
            {"fraction_of_peak", peak_flops > 0 ? tflops * 1e12 / peak_flops : 0}};
}

json op_json(const op_record& o) {
    json jo = {{"name", o.name},
               {"type", o.type},
               {"start_ns", o.start_ps / 1000.0},
               {"end_ns", o.end_ps / 1000.0},
               {"flops", o.flops},
               {"bytes", o.bytes}};
    if (!o.op.empty()) jo["op"] = o.op;
    if (!o.kernel.empty()) jo["kernel"] = o.kernel;
    if (!o.tiling.empty()) jo["tiling"] = o.tiling;
    if (o.blocks > 0) {
        jo["blocks"] = o.blocks;
        jo["block_ns"] = o.block_ps / 1000.0;
        jo["pipe_busy_ratio"] = pipe_ratios(o);
        jo["units"] = o.unit_busy_ps.size();
        jo["imbalance"] = imbalance(o);
        const models::traffic& m = o.mem;
        jo["gm_read_bytes"] = m.gm_read_bytes;
        jo["gm_write_bytes"] = m.gm_write_bytes;
        jo["l2_read_bytes"] = m.l2_read_bytes;
        jo["l2_write_bytes"] = m.l2_write_bytes;
        jo["l2_read_hits"] = m.l2_read_hits;
        jo["l2_read_misses"] = m.l2_read_misses;
        jo["l2_write_hits"] = m.l2_write_hits;
        jo["l2_write_misses"] = m.l2_write_misses;
    }
    return jo;
}

json collect_stats(chip& c, const std::vector<op_record>& ops) {
    const platform_config& cfg = c.config();
    json j;
    j["schema"] = "npusim.stats/1";
    j["npusim_version"] = k_version;
    j["sim_time_ns"] = models::now_ps() / 1000.0;
    json params = json::object();
    for (auto& [k, v] : cfg.numbers) params[k] = v;
    for (auto& [k, v] : cfg.texts) params[k] = v;
    j["platform"] = {{"name", cfg.name}, {"source", cfg.source}, {"parameters", params}};

    json cores = json::array();
    for (auto& core : c.cores()) {
        json pipes = json::object();
        for (const char* p : {"MTE1", "MTE2", "MTE3", "M", "V", "FIX"})
            pipes[p] = {{"busy_ns", 0.0}, {"instructions", 0}};
        for (auto& p : core->pipes())
            pipes[models::to_string(p->id())] = {{"busy_ns", p->busy_ps() / 1000.0},
                                                 {"instructions", p->instructions()}};
        json engines = json::object();
        for (auto& e : core->engines()) engines[e->basename()] = model_stats(*e);
        json buffers = json::object();
        for (size_t s = 1; s < size_t(models::mem_space::count); ++s)
            if (auto* b = core->buffer(models::mem_space(s)))
                buffers[models::to_string(models::mem_space(s))] = model_stats(*b);
        cores.push_back({{"id", core->id()},
                         {"kind", models::to_string(core->core_type())},
                         {"pipes", pipes},
                         {"engines", engines},
                         {"buffers", buffers}});
    }
    j["cores"] = cores;

    json mem;
    mem["gm"] = model_stats(c.gm());
    mem["gm"]["peak_bandwidth"] = cfg.gm.bandwidth;
    mem["l2"] = c.l2() ? model_stats(*c.l2()) : json::object();
    mem["noc"] = model_stats(c.noc());
    mem["host_link"] = model_stats(c.host());
    mem["sdma"] = model_stats(c.sdma());
    j["memory"] = mem;

    json jops = json::array();
    for (const auto& o : ops) jops.push_back(op_json(o));
    j["ops"] = jops;
    j["peak_fp16_flops"] = cfg.peak_fp16_flops();
    j["summary"] = summarize(ops, cfg.peak_fp16_flops());
    return j;
}

const std::vector<std::string>& stats_metric_paths() {
    // Kept in step with collect_stats and the models' visit_stats; a test compares it with
    // the stats of a real run.
    static const std::vector<std::string> paths = {"sim_time_ns",
                                                   "peak_fp16_flops",
                                                   "summary.kernels",
                                                   "summary.device_span_ns",
                                                   "summary.kernel_busy_ns",
                                                   "summary.idle_between_kernels_ns",
                                                   "summary.flops",
                                                   "summary.achieved_tflops",
                                                   "summary.fraction_of_peak",
                                                   "memory.gm.read_bytes",
                                                   "memory.gm.write_bytes",
                                                   "memory.gm.reads",
                                                   "memory.gm.writes",
                                                   "memory.gm.peak_bandwidth",
                                                   "memory.l2.hits",
                                                   "memory.l2.misses",
                                                   "memory.l2.read_hits",
                                                   "memory.l2.read_misses",
                                                   "memory.l2.write_hits",
                                                   "memory.l2.write_misses",
                                                   "memory.l2.read_bytes",
                                                   "memory.l2.write_bytes",
                                                   "memory.l2.fill_bytes",
                                                   "memory.l2.busy_ns",
                                                   "memory.noc.bytes",
                                                   "memory.noc.transactions",
                                                   "memory.noc.busy_ns",
                                                   "memory.host_link.h2d_bytes",
                                                   "memory.host_link.d2h_bytes",
                                                   "memory.host_link.busy_ns",
                                                   "memory.sdma.copied_bytes",
                                                   "memory.sdma.filled_bytes",
                                                   "memory.sdma.busy_ns"};
    return paths;
}

bool is_stats_metric(const std::string& path) {
    const auto& all = stats_metric_paths();
    if (std::find(all.begin(), all.end(), path) != all.end()) return true;
    const std::string channel = "memory.gm.channel", busy = ".busy_ns";
    if (path.size() > channel.size() + busy.size() && path.rfind(channel, 0) == 0 &&
        path.compare(path.size() - busy.size(), busy.size(), busy) == 0) {
        const std::string n =
            path.substr(channel.size(), path.size() - channel.size() - busy.size());
        return n.size() <= 4 && n.find_first_not_of("0123456789") == std::string::npos;
    }
    const std::string params = "platform.parameters.";
    if (path.rfind(params, 0) == 0) {
        const key_spec* k = find_key(path.substr(params.size()));
        return k && k->kind != value_kind::text && k->kind != value_kind::choice;
    }
    return false;
}

std::string format_report(const json& s) {
    std::string out;
    auto line = [&](const std::string& t) { out += t + "\n"; };
    const double t_ns = s["sim_time_ns"].get<double>();
    line(fmt::format("platform   {} ({})", s["platform"]["name"].get<std::string>(),
                     s["platform"]["source"].get<std::string>()));
    if (s.contains("run") && !s["run"]["overrides"].empty()) {
        std::string sets;
        for (const auto& o : s["run"]["overrides"])
            sets += (sets.empty() ? "" : ", ") + o.get<std::string>();
        line("overrides  " + sets);
    }
    line(fmt::format("sim time   {:.3f} us", t_ns / 1000.0));

    const json& gm = s["memory"]["gm"];
    const double gm_bytes = gm["read_bytes"].get<double>() + gm["write_bytes"].get<double>();
    const double peak_bw = gm["peak_bandwidth"].get<double>();
    const double bw = t_ns > 0 ? gm_bytes / (t_ns * 1e-9) : 0;
    line(fmt::format(
        "GM         read {:.2f} MiB, write {:.2f} MiB; {:.1f} GB/s of {:.1f} GB/s peak ({:.1f}%) "
        "over the whole run",
        gm["read_bytes"].get<double>() / 1048576, gm["write_bytes"].get<double>() / 1048576,
        bw / 1e9, peak_bw / 1e9, peak_bw > 0 ? 100 * bw / peak_bw : 0.0));
    const json& l2 = s["memory"]["l2"];
    if (!l2.empty()) {
        // Reads and writes apart: a write-through write "misses" into GM by design.
        auto rate = [](double h, double m) { return h + m > 0 ? 100 * h / (h + m) : 0.0; };
        const double rh = l2["read_hits"].get<double>(), rm = l2["read_misses"].get<double>();
        const double wh = l2["write_hits"].get<double>(), wm = l2["write_misses"].get<double>();
        line(
            fmt::format("L2         reads {:.0f} line hits, {:.0f} misses ({:.1f}% hit rate); "
                        "writes {:.0f} hits, {:.0f} misses ({:.1f}%)",
                        rh, rm, rate(rh, rm), wh, wm, rate(wh, wm)));
    }
    const json& host = s["memory"]["host_link"];
    line(fmt::format("host link  H2D {:.2f} MiB, D2H {:.2f} MiB",
                     host["h2d_bytes"].get<double>() / 1048576,
                     host["d2h_bytes"].get<double>() / 1048576));
    double flops = 0;
    for (auto& o : s["ops"]) flops += o["flops"].get<double>();
    line(
        fmt::format("compute    {:.3g} FLOP; {:.2f} TFLOP/s over the whole run, of {:.2f} "
                    "TFLOP/s fp16 peak",
                    flops, t_ns > 0 ? flops / (t_ns * 1e-9) / 1e12 : 0.0,
                    s["peak_fp16_flops"].get<double>() / 1e12));

    const json& sum = s["summary"];
    const double span_ns = sum["device_span_ns"].get<double>();
    line(fmt::format(
        "kernels    {} over {:.3f} us from the first start to the last end, idle between "
        "kernels {:.3f} us ({:.1f}%); {:.2f} TFLOP/s ({:.1f}% of peak)",
        sum["kernels"].get<size_t>(), span_ns / 1000,
        sum["idle_between_kernels_ns"].get<double>() / 1000,
        span_ns > 0 ? 100 * sum["idle_between_kernels_ns"].get<double>() / span_ns : 0.0,
        sum["achieved_tflops"].get<double>(), 100 * sum["fraction_of_peak"].get<double>()));

    // Busy % per pipe over the kernel span (pipes only work inside kernels), averaged and
    // maximum over the cores of each kind.
    std::map<std::string, std::map<std::string, std::pair<double, double>>>
        busy;  // kind->pipe->(sum,max)
    std::map<std::string, int> count;
    std::map<std::string, double> path_bytes;
    for (auto& c : s["cores"]) {
        const std::string kind = c["kind"].get<std::string>();
        ++count[kind];
        for (auto& [p, v] : c["pipes"].items()) {
            const double pct = span_ns > 0 ? 100 * v["busy_ns"].get<double>() / span_ns : 0;
            auto& e = busy[kind][p];
            e.first += pct;
            e.second = std::max(e.second, pct);
        }
        for (auto& [eng, st] : c["engines"].items()) {
            (void)eng;
            for (auto& [k, v] : st.items())
                if (k.rfind("path.", 0) == 0)
                    path_bytes[k.substr(5, k.size() - 11)] += v.get<double>();
        }
    }
    line("");
    line(
        fmt::format("busy %     of the {:.3f} us kernel span, avg/max over cores (over the whole "
                    "run: x {:.3f})",
                    span_ns / 1000, t_ns > 0 ? span_ns / t_ns : 0.0));
    std::string hdr = fmt::format("  {:<8} {:>5}", "kind", "cores");
    for (const char* p : {"MTE1", "MTE2", "MTE3", "M", "V", "FIX"})
        hdr += fmt::format(" {:>11}", p);
    line(hdr);
    for (auto& [kind, pipes] : busy) {
        std::string row = fmt::format("  {:<8} {:>5}", kind, count[kind]);
        for (const char* p : {"MTE1", "MTE2", "MTE3", "M", "V", "FIX"}) {
            auto& e = pipes[p];
            row += fmt::format(" {:>5.1f}/{:<5.1f}", e.first / count[kind], e.second);
        }
        line(row);
    }
    if (!path_bytes.empty()) {
        line("");
        line("bytes per path");
        for (auto& [p, b] : path_bytes) line(fmt::format("  {:<12} {:>12.2f} MiB", p, b / 1048576));
    }
    const json& ops = s["ops"];
    if (!ops.empty()) {
        line("");
        // Achieved rates per op against the chip's roofs, and the pipe that was busiest.
        const double peak_flops = s["peak_fp16_flops"].get<double>();
        line(fmt::format("  {:<24} {:<12} {:>10} {:>10} {:>9} {:>9} {:>9} {:>6} {:>6}  {}", "op",
                         "type", "start us", "time us", "GM MiB", "GM GB/s", "TFLOP/s", "%FLOP",
                         "%GM", "busiest pipe"));
        // Host copies (a network's weights) are summed in one line after the table.
        size_t copies = 0;
        double copy_bytes = 0, copy_ns = 0;
        for (auto& o : ops) {
            const double dt = o["end_ns"].get<double>() - o["start_ns"].get<double>();
            const double b = op_gm_bytes(o), f = o["flops"].get<double>();
            const std::string type = o.value("op", o["type"].get<std::string>());
            if (type.rfind("memcpy", 0) == 0 && ops.size() > 24) {
                ++copies;
                copy_bytes += b;
                copy_ns += dt;
                continue;
            }
            const double gbs = dt > 0 ? b / dt : 0.0, tflops = dt > 0 ? f / dt / 1e3 : 0.0;
            std::string busiest = "-";
            double most = -1;
            if (o.contains("pipe_busy_ratio"))
                for (auto& [p, r] : o["pipe_busy_ratio"].items())
                    if (r.get<double>() > most) {
                        most = r.get<double>();
                        busiest = fmt::format("{} {:.0f}%", p, 100 * most);
                    }
            line(fmt::format(
                "  {:<24} {:<12} {:>10.3f} {:>10.3f} {:>9.3f} {:>9.1f} {:>9.2f} {:>6.1f} {:>6.1f}  "
                "{}",
                o["name"].get<std::string>(), type, o["start_ns"].get<double>() / 1000, dt / 1000,
                b / 1048576, gbs, tflops, peak_flops > 0 ? 100 * tflops * 1e12 / peak_flops : 0.0,
                peak_bw > 0 ? 100 * gbs * 1e9 / peak_bw : 0.0, busiest));
        }
        if (copies)
            line(fmt::format("  and {} host copies: {:.2f} MiB in {:.3f} us", copies,
                             copy_bytes / 1048576, copy_ns / 1000));
    }
    return out;
}

}  // namespace npusim::platform
