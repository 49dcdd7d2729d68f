#include "tools/npusim/commands.h"
#include "sw/serving/serving_spec.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "models/common/model_fault.h"
#include "platform/config/config_loader.h"
#include "platform/config/runnable_checks.h"
#include "platform/config/schema.h"
#include "platform/config/yaml_checks.h"
#include "platform/dma_stream_workload.h"
#include "platform/output_file.h"
#include "platform/presets.h"
#include "platform/profile.h"
#include "platform/simulation.h"
#include "sw/graph/builtin_workloads.h"
#include "sw/graph/onnx_import.h"
#include "sw/graph/precision.h"
#include "sw/graph/shipped_workloads.h"
#include "sw/graph/workload_runner.h"
#include "sw/ops/registry.h"
#include "tools/npusim/sweep_runner.h"
#include "tools/npusim/sweep_slurm.h"
#include "tools/npusim/sweep_spec.h"

namespace npusim::tools {

using namespace npusim::platform;

namespace {

/// The precision policy's choices (docs/precision.md): per source op its dtype, the rule that
/// chose it, its time (the kernels it ran, casts and quantizations included) and, under
/// --check, its output's error against the fp32 reference.
nlohmann::json precision_json(const graph::precision_plan& p, const std::string& level,
                              const nlohmann::json& stats, const graph::workload_result& r) {
    std::map<std::string, double> ns;
    for (const auto& o : stats["ops"])
        ns[o["name"].get<std::string>()] += o["end_ns"].get<double>() - o["start_ns"].get<double>();
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& o : p.ops) {
        double t = 0;
        for (const auto& l : o.launches)
            if (const auto it = ns.find(l); it != ns.end()) t += it->second;
        nlohmann::json j = {{"op", o.label},
                            {"where", o.where},
                            {"dtype", models::to_string(o.dtype)},
                            {"rule", o.rule},
                            {"time_us", t / 1000}};
        if (const auto it = r.fp32_error.find(o.output); it != r.fp32_error.end()) {
            j["fp32_error_max"] = it->second.first;
            j["fp32_error_mean"] = it->second.second;
        }
        ops.push_back(j);
    }
    return {{"policy", level}, {"ops", ops}};
}

std::string precision_report(const nlohmann::json& p) {
    std::string s = fmt::format(
        "precision  policy {} (dtype, rule, time; error against the fp32 "
        "reference under --check)\n",
        p["policy"].get<std::string>());
    for (const auto& o : p["ops"]) {
        s += fmt::format("  {:<28} {:<5} {:>10.3f} us", o["op"].get<std::string>(),
                         o["dtype"].get<std::string>(), o["time_us"].get<double>());
        if (o.contains("fp32_error_max"))
            s += fmt::format("  error max {:.3g} mean {:.3g}", o["fp32_error_max"].get<double>(),
                             o["fp32_error_mean"].get<double>());
        s += "  (" + o["rule"].get<std::string>() + ")\n";
    }
    return s;
}

// "1024x512x256" -> {1024, 512, 256}; each dimension at most 2^31 so that no kernel's 32-bit
// shape fields wrap.
std::vector<uint64_t> parse_shape(const std::string& text) {
    std::vector<uint64_t> dims;
    size_t s = 0;
    while (s <= text.size()) {
        const size_t e = std::min(text.find('x', s), text.size());
        const std::string part = text.substr(s, e - s);
        const bool digits = !part.empty() && part.size() <= 10 &&
                            part.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || std::stoull(part) == 0 || std::stoull(part) > (1ull << 31))
            throw config_error(
                "--shape " + text, "--shape",
                "'" + part + "' is not a whole number from 1 to 2147483648",
                "write dimensions like 1024x1024x1024 (matmul MxKxN) or 1048576 (elementwise N)");
        dims.push_back(std::stoull(part));
        s = e + 1;
    }
    return dims;
}

/// The temporary of an output file reads as the file itself in messages.
std::string with_real_paths(std::string text, const std::vector<const output_file*>& files) {
    for (const output_file* f : files)
        if (f)
            for (size_t at; (at = text.find(f->temp_path())) != std::string::npos;)
                text.replace(at, f->temp_path().size(), f->path());
    return text;
}

}  // namespace

namespace {

/// The run's --set overrides, with --cold-l2 as the key it stands for.
std::vector<std::string> overrides(const run_args& a) {
    std::vector<std::string> sets = a.sets;
    if (a.cold_l2) sets.push_back("l2.cold_kernels=true");
    return sets;
}

}  // namespace

int cmd_run(const run_args& a) {
    platform_config cfg;
    std::optional<vcd_options> vcd;
    std::optional<timeline_options> timeline;
    dma_stream_options ds;
    graph::builtin_options bo;
    const auto& kernels = graph::builtin_kernel_workloads();
    const bool kernel_workload =
        std::find(kernels.begin(), kernels.end(), a.workload) != kernels.end();
    const graph::shipped_workload* shipped = graph::find_shipped_workload(a.workload);
    const bool from_stdin = a.workload == "-";
    const bool file_workload =
        shipped || from_stdin || a.workload.find('/') != std::string::npos ||
        graph::is_onnx_path(a.workload) ||
        (a.workload.size() > 5 && (a.workload.substr(a.workload.size() - 5) == ".yaml" ||
                                   a.workload.substr(a.workload.size() - 4) == ".yml"));
    graph::workload wl;
    graph::precision_plan precision;
    graph::workload_plan wl_plan;
    std::unique_ptr<output_file> stats_out, vcd_out, timeline_out;
    std::vector<std::unique_ptr<output_file>> profile_out;  // the --profile files
    try {
        cfg = load_platform(a.platform, overrides(a));
        check_runnable(cfg);  // an unrunnable platform is bad input, not a fault mid-run
        if (a.workload != "dma_stream" && !kernel_workload && !file_workload) {
            std::string names;
            for (const auto& w : graph::shipped_workloads()) names += ", " + w.name;
            throw config_error(a.workload, "--workload", "unknown workload",
                               "give a workload file (.yaml), an ONNX model (.onnx), a shipped "
                               "workload (" +
                                   names.substr(2) +
                                   ") or a built-in: dma_stream, matmul, elementwise, streams");
        }
        if (!a.precision.empty() && !file_workload)
            throw config_error(
                "--precision", "--precision",
                "applies to workload files; '" + a.workload + "' is a built-in kernel workload",
                "drop --precision, or give a workload file or a shipped workload");
        if (a.check && a.timing_only)
            throw config_error("--check", "--check", "cannot check results in timing-only mode",
                               "drop --timing-only to compute real results");
        const platform_config functional_cfg = cfg;
        if (a.timing_only) cfg.set_timing_only();
        if (file_workload) {
            if (from_stdin) {
                std::ostringstream text;
                text << std::cin.rdbuf();
                wl = graph::load_workload_text(text.str(), "<stdin>");
            } else {
                wl = shipped ? graph::load_workload_text(shipped->yaml, shipped->file)
                     : graph::is_onnx_path(a.workload) ? graph::import_onnx(a.workload)
                                                       : graph::load_workload(a.workload);
            }
            if (!a.precision.empty()) {
                if (!graph::is_precision_level(a.precision, true))
                    throw config_error("--precision", "--precision",
                                       "unknown precision '" + a.precision + "'",
                                       "use declared, fp32, bf16, fp16, int8 or auto");
                wl.precision = a.precision;
            }
            precision = graph::apply_precision(wl, cfg, !a.timing_only);
            wl_plan = graph::plan_workload(precision.lowered, cfg);
            if (!precision.reference.empty()) wl_plan.fp32_reference = &precision.reference;
            // Timing-only computes nothing, so indices computed on the device would be wrong
            // and so would the timing: such a workload runs functionally (same timing, slower).
            if (a.timing_only && !wl_plan.computed_control.empty()) {
                std::cerr << "note: tensor '" << wl_plan.computed_control
                          << "' is computed on the device and decides addresses (indices); "
                             "running functionally so the timing is exact\n";
                cfg = functional_cfg;
            }
        }
        bo.check = a.check;
        bo.depth = a.depth;
        if (!a.shape.empty() && !kernel_workload)
            throw config_error("--shape " + a.shape, "--shape",
                               "only the built-in kernel workloads take a shape",
                               "use it with --workload matmul, elementwise or streams");
        if (kernel_workload) {
            bo.shape = parse_shape(a.shape.empty() ? (a.workload == "matmul"    ? "1024x1024x1024"
                                                      : a.workload == "streams" ? "4194304"
                                                                                : "16777216")
                                                   : a.shape);
            graph::check_builtin(a.workload, bo, cfg);
        }
        const auto bytes = parse_value(value_kind::size, a.stream_bytes);
        if (!bytes || *bytes <= 0)
            throw config_error("--stream-bytes " + a.stream_bytes, "--stream-bytes",
                               "not a positive size", unit_help(value_kind::size));
        ds.bytes_per_core = static_cast<uint64_t>(*bytes);
        if (a.vcd_file.empty()) {
            for (const auto& [flag, given] : {std::pair{"--vcd-cores", !a.vcd_cores.empty()},
                                              std::pair{"--vcd-signal", !a.vcd_signals.empty()},
                                              std::pair{"--vcd-window", !a.vcd_window.empty()}})
                if (given)
                    throw config_error(flag, flag, "filters a waveform, but no --vcd file is given",
                                       "add --vcd FILE, or drop " + std::string(flag));
        } else {
            vcd_options v;
            v.signals = a.vcd_signals;
            try {
                if (!a.vcd_cores.empty())
                    v.cores = parse_core_list(a.vcd_cores, cfg.cores + cfg.vector_cores);
            } catch (const std::invalid_argument& e) {
                throw config_error("--vcd-cores " + a.vcd_cores, "--vcd-cores", e.what(),
                                   "write e.g. --vcd-cores 0,2-3");
            }
            try {
                if (!a.vcd_window.empty())
                    std::tie(v.from_ps, v.to_ps) = parse_time_window(a.vcd_window);
            } catch (const std::invalid_argument& e) {
                throw config_error("--vcd-window " + a.vcd_window, "--vcd-window", e.what(),
                                   "write e.g. --vcd-window 0ns:20us");
            }
            vcd_out = std::make_unique<output_file>(a.vcd_file, "--vcd");
            v.path = vcd_out->temp_path();
            vcd = v;
        }
        // Output files are created (as temporaries) before the run, so a bad path costs no
        // simulation and an old file survives a failed run.
        if (!a.stats_file.empty() && a.stats_file != "-")
            stats_out = std::make_unique<output_file>(a.stats_file, "--stats");
        if (!a.profile_dir.empty()) {
            std::error_code ec;
            std::filesystem::create_directories(a.profile_dir, ec);
            if (ec || !std::filesystem::is_directory(a.profile_dir))
                throw config_error("--profile " + a.profile_dir, "--profile",
                                   "cannot create the folder: " +
                                       (ec ? ec.message() : std::string("a file is in the way")),
                                   "give a folder you can write to");
            for (const char* f :
                 {"stats.json", "op_summary.csv", "op_statistic.csv", "roofline.svg"})
                profile_out.push_back(std::make_unique<output_file>(
                    (std::filesystem::path(a.profile_dir) / f).string(), "--profile"));
        }
        const std::string timeline_path =
            !a.timeline_file.empty() ? a.timeline_file
            : !a.profile_dir.empty()
                ? (std::filesystem::path(a.profile_dir) / "timeline.json").string()
                : std::string();
        if (timeline_path.empty()) {
            for (const auto& [flag, given] :
                 {std::pair{"--timeline-cores", !a.timeline_cores.empty()},
                  std::pair{"--timeline-window", !a.timeline_window.empty()}})
                if (given)
                    throw config_error(flag, flag,
                                       "filters a timeline, but neither --timeline nor --profile "
                                       "is given",
                                       "add --timeline FILE, or drop " + std::string(flag));
        } else {
            timeline_options t;
            try {
                if (!a.timeline_cores.empty())
                    t.cores = parse_core_list(a.timeline_cores, cfg.cores + cfg.vector_cores);
            } catch (const std::invalid_argument& e) {
                throw config_error("--timeline-cores " + a.timeline_cores, "--timeline-cores",
                                   e.what(), "write e.g. --timeline-cores 0,2-3");
            }
            try {
                if (!a.timeline_window.empty())
                    std::tie(t.from_ps, t.to_ps) = parse_time_window(a.timeline_window);
            } catch (const std::invalid_argument& e) {
                throw config_error("--timeline-window " + a.timeline_window, "--timeline-window",
                                   e.what(), "write e.g. --timeline-window 0ns:20us");
            }
            timeline_out = std::make_unique<output_file>(
                timeline_path, a.timeline_file.empty() ? "--profile" : "--timeline");
            t.path = timeline_out->temp_path();
            timeline = t;
        }
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 2;
    }

    const auto wall0 = std::chrono::steady_clock::now();
    simulation sim(cfg, vcd, timeline);
    // Progress on a terminal, at most once a second: printing only, so the run is unchanged.
    struct progress_state {
        std::chrono::steady_clock::time_point shown;
        size_t kernels = 0;
        bool printed = false;
    };
    auto progress = std::make_shared<progress_state>(progress_state{wall0});
    if (!a.quiet && isatty(STDERR_FILENO))
        sim.get_chip().scheduler().observe([progress, wall0](const models::launch_record& r) {
            ++progress->kernels;
            const auto now = std::chrono::steady_clock::now();
            if (now - progress->shown < std::chrono::seconds(1)) return;
            progress->shown = now;
            progress->printed = true;
            std::fprintf(stderr, "\r  %.1f s: %zu kernels done, simulated %.3f us (%s)\x1b[K",
                         std::chrono::duration<double>(now - wall0).count(), progress->kernels,
                         double(r.end) / 1e6, r.name.substr(0, 40).c_str());
            std::fflush(stderr);
        });
    std::string mismatch;
    graph::workload_result wl_result;
    const bool ok = sim.run([&](chip& c, std::vector<op_record>& ops) {
        if (file_workload) {
            wl_result = graph::run_workload(c, wl_plan, a.check, ops);
            if (!wl_result.failure.empty()) throw std::runtime_error(wl_result.failure);
            for (const auto& chk : wl_result.checks)
                if (!chk.ok && mismatch.empty())
                    mismatch = fmt::format("{}: max error {:.3g} over tolerance {:.3g}", chk.label,
                                           chk.max_error, chk.tolerance);
            return;
        }
        mismatch = kernel_workload ? graph::run_builtin(c, a.workload, bo, ops)
                                   : run_dma_stream(c, ds, ops);
    });
    if (progress->printed) std::fprintf(stderr, "\r\x1b[K");  // the report takes the line
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    nlohmann::json stats = sim.stats();
    stats["run"] = {{"overrides", overrides(a)},
                    {"workload", file_workload ? wl.name : a.workload}};
    if (file_workload && wl.precision != "declared")
        stats["precision"] = precision_json(precision, wl.precision, stats, wl_result);
    // `--stats -`: the JSON alone on stdout, the report on stderr.
    const bool stats_to_stdout = a.stats_file == "-";
    std::ostream& report = stats_to_stdout ? std::cerr : std::cout;
    const std::vector<const output_file*> outputs = {stats_out.get(), vcd_out.get(),
                                                     timeline_out.get()};
    try {
        if (!sim.trace_error().empty())
            throw std::runtime_error(with_real_paths(sim.trace_error(), outputs));
        if (stats_out) stats_out->write_and_commit(stats.dump(2) + "\n");
        if (stats_to_stdout) std::cout << stats.dump(2) << "\n" << std::flush;
        if (vcd_out) vcd_out->commit();
        if (timeline_out) timeline_out->commit();
        if (!profile_out.empty()) {
            profile_out[0]->write_and_commit(stats.dump(2) + "\n");
            profile_out[1]->write_and_commit(op_summary_csv(stats));
            profile_out[2]->write_and_commit(op_statistic_csv(stats));
            profile_out[3]->write_and_commit(roofline_svg(stats));
        }
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    if (!a.quiet) {
        report << "npusim run: workload " << (file_workload ? wl.name : a.workload) << " ("
               << (file_workload ? fmt::format("{}, {} ops",
                                               shipped      ? shipped->file
                                               : from_stdin ? std::string("<stdin>")
                                                            : a.workload,
                                               wl.ops.size())
                   : kernel_workload
                       ? "shape " + (a.shape.empty() ? std::string("default") : a.shape)
                       : fmt::format("{} KiB per core", ds.bytes_per_core / 1024))
               << (a.timing_only ? ", timing only" : "") << ")\n";
        report << format_report(stats);
        if (file_workload)
            report << fmt::format("device memory peak {:.2f} MiB allocated\n",
                                  wl_result.peak_device_bytes / 1048576.0);
        for (const auto& chk : wl_result.checks) {
            report << fmt::format("check  {:<48} max error {:.3g} (tolerance {:.3g}) {}\n",
                                  chk.label, chk.max_error, chk.tolerance,
                                  chk.ok ? "ok" : "MISMATCH");
            report << fmt::format(
                "         relative mean {:.3g}; absolute max {:.3g} mean {:.3g}; worst {} "
                "{:.6g} (reference {:.6g}); NaN {} Inf {} of {}; end to end {:.3g}\n",
                chk.mean_error, chk.max_abs, chk.mean_abs, chk.worst, chk.worst_got, chk.worst_want,
                chk.nan, chk.inf, chk.elements, chk.end_to_end);
        }
        if (stats.contains("precision")) report << precision_report(stats["precision"]);
        if (!wl_result.checks.empty())
            report << (wl_result.first_divergent.empty()
                           ? std::string("check  end to end: every op within its tolerance\n")
                           : "check  end to end: first op off its tolerance: " +
                                 wl_result.first_divergent + "\n");
        report << fmt::format("\nwall time  {:.3f} s\n", wall);
    }
    if (!ok) {
        std::cerr << "error: " << sim.error() << "\n";
        return 1;
    }
    if (!mismatch.empty()) {
        std::cerr << "check failed: " << mismatch << "\n";
        return 1;
    }
    if (!a.quiet) {
        if (a.timing_only)
            report << "check      none (timing only)\n";
        else if (!kernel_workload && !file_workload)
            report << "check      all bytes match\n";
        else if (a.check)
            report << "check      results match the CPU reference\n";
    }
    return 0;
}

namespace {

constexpr const char* k_schemas[] = {platform_schema_id, "npusim.workload/1", "npusim.sweep/1",
                                     "npusim.model/1", "npusim.serving/1"};

std::string schema_list() {
    std::string s;
    for (const char* k : k_schemas) s += std::string(s.empty() ? "" : ", ") + k;
    return s;
}

/// The schema id a file declares, read with the same strict YAML checks as the loaders.
std::string schema_of(const std::string& file, const std::string& text) {
    const YAML::Node root = load_yaml(file, text);
    const std::string hint = "add 'schema: ID' at the top, where ID is one of " + schema_list() +
                             " (platform, workload, sweep, model, serving)";
    if (!root.IsMap() || !root["schema"])
        throw config_error(file + ":1:1", "schema",
                           "no 'schema' key, so validate cannot tell what kind of file this is",
                           hint);
    const YAML::Node s = root["schema"];
    const std::string id = scalar_text(file, s, "schema", hint);
    for (const char* k : k_schemas)
        if (id == k) return id;
    const std::string near = closest(id, {std::begin(k_schemas), std::end(k_schemas)});
    throw config_error(
        yaml_position(file, s), "schema", "unknown schema '" + id + "'",
        near.empty() ? "use one of " + schema_list() : "did you mean '" + near + "'?");
}

/// A platform must load, pass the derived checks and plan a small matmul and a vector op: the
/// planner is what `npusim run` uses, so a platform that passes here can run those ops.
std::string validate_platform(const std::string& file_or_preset,
                              const std::vector<std::string>& sets) {
    const platform_config cfg = load_platform(file_or_preset, sets);
    check_runnable(cfg);
    const std::pair<const char*, std::vector<memory::tensor_desc>> probes[] = {
        {"matmul",
         {memory::tensor_desc("a", models::dtype::fp16, {64, 64}),
          memory::tensor_desc("b", models::dtype::fp16, {64, 64})}},
        {"add",
         {memory::tensor_desc("x", models::dtype::fp16, {4096}),
          memory::tensor_desc("y", models::dtype::fp16, {4096})}}};
    for (const auto& [op, inputs] : probes) {
        try {
            ops::library().plan(op, inputs, {}, cfg);
        } catch (const std::exception& e) {
            throw config_error(
                cfg.source, "",
                std::string("cannot plan a small fp16 ") + op + " on this platform: " + e.what(),
                "check the buffers.* and cube.* keys against a preset");
        }
    }
    return fmt::format("ok (platform {}, {}, {} cores)", cfg.name, cfg.split ? "split" : "coupled",
                       cfg.cores);
}

}  // namespace

int cmd_validate(const validate_args& a) {
    if (a.sweep_reference) {
        std::cout << sweep_reference_markdown();
        return 0;
    }
    if (a.reference) {
        std::cout << config_reference_markdown();
        return 0;
    }
    int rc = 0;
    std::optional<platform_config> plan_platform;  // loaded on the first workload
    for (const auto& f : a.files) {
        try {
            std::string summary;
            std::ifstream in(f, std::ios::binary);
            const graph::shipped_workload* shipped = nullptr;
            if (in && !std::filesystem::is_directory(f)) {
                std::ostringstream ss;
                ss << in.rdbuf();
                const std::string text = ss.str();
                const std::string schema = graph::is_onnx_path(f) ? "onnx" : schema_of(f, text);
                if (schema == "onnx") {  // imported and planned as a workload
                    const graph::workload w = graph::import_onnx_bytes(text, f);
                    if (!plan_platform) plan_platform = load_platform(a.platform, a.sets);
                    graph::plan_workload(w, *plan_platform);
                    summary = fmt::format("ok (ONNX model {}, {} ops, planned on {})", w.name,
                                          w.ops.size(), plan_platform->name);
                } else if (schema == platform_schema_id) {
                    summary = validate_platform(f, a.sets);
                } else if (schema == "npusim.sweep/1") {
                    const sweep_spec spec = load_sweep(f);
                    summary =
                        fmt::format("ok (sweep {}, {} points)", spec.name, spec.points.size());
                } else if (schema == "npusim.model/1") {
                    const serving::model_config m = serving::load_model_text(text, f);
                    summary = fmt::format("ok (model {}, {:.2f} B parameters, {} layers)", m.name,
                                          m.parameters() / 1e9, m.layers);
                } else if (schema == "npusim.serving/1") {
                    // Everything npusim serve checks before it runs.
                    const serving::serving_spec sv = serving::load_serving_text(text, f);
                    const platform_config cfg = load_platform(sv.platform, sv.platform_set);
                    serving::check_fits(sv, cfg);
                    const auto requests = serving::make_requests(sv);
                    summary = fmt::format("ok (serving {}: {} on {}, {} requests)", sv.name,
                                          sv.model.name, cfg.name, requests.size());
                } else {
                    const graph::workload w = graph::load_workload_text(text, f);
                    if (!plan_platform) plan_platform = load_platform(a.platform, a.sets);
                    graph::plan_workload(graph::apply_precision(w, *plan_platform, false).lowered,
                                         *plan_platform);
                    summary =
                        fmt::format("ok (workload {}, {} tensors, {} ops, planned on {})", w.name,
                                    w.tensors.size(), w.ops.size(), plan_platform->name);
                }
            } else if (find_preset(f)) {
                summary = validate_platform(f, a.sets);
            } else if ((shipped = graph::find_shipped_workload(f))) {
                const graph::workload w = graph::load_workload_text(shipped->yaml, shipped->file);
                if (!plan_platform) plan_platform = load_platform(a.platform, a.sets);
                graph::plan_workload(graph::apply_precision(w, *plan_platform, false).lowered,
                                     *plan_platform);
                summary = fmt::format("ok (workload {}, {} ops, planned on {})", w.name,
                                      w.ops.size(), plan_platform->name);
            } else {
                std::vector<std::string> names;
                for (const auto& p : presets()) names.push_back(p.name);
                const std::string near = closest(f, names);
                throw config_error(
                    f, "", "no such file, preset or shipped workload",
                    near.empty() ? "give a platform, workload, sweep, model or serving file (" +
                                       schema_list() + ") or a preset: " + join_names(names)
                                 : "did you mean '" + near + "'?");
            }
            std::cout << f << ": " << summary << "\n";
        } catch (const config_error& e) {
            std::cerr << e.what() << "\n";
            rc = 2;
        } catch (const std::exception& e) {  // not expected: still name the file
            std::cerr << f << ": error: " << e.what() << "\n";
            rc = 2;
        }
    }
    return rc;
}

int cmd_presets() {
    for (auto& p : presets()) {
        const platform_config cfg = load_platform_text(p.yaml, p.file);
        std::cout << fmt::format(
            "{:<14} {:<8} {:>3} + {:<3} cores  {:>6.2f} GHz  {:>7.1f} TFLOP/s fp16  {}\n", p.name,
            cfg.split ? "split" : "coupled", cfg.cores, cfg.vector_cores, cfg.cube_clock_hz / 1e9,
            cfg.peak_fp16_flops() / 1e12, cfg.description);
    }
    std::cout << "default: " << default_preset << "\n";
    return 0;
}

int cmd_import(const import_args& a) {
    graph::onnx_options o;
    o.float_type = a.float_type == "fp32"   ? models::dtype::fp32
                   : a.float_type == "bf16" ? models::dtype::bf16
                                            : models::dtype::fp16;
    const graph::workload w = graph::import_onnx(a.model, o);
    // The written file must load back: a model the library cannot plan is refused here, with
    // the node that failed, not when the YAML is run.
    const std::string yaml =
        graph::to_yaml(w, "Imported from " + a.model +
                              " by npusim import (docs/onnx.md).\n"
                              "Weights are not carried: each is random with its largest "
                              "magnitude.");
    graph::load_workload_text(yaml, a.out);
    if (a.out == "-") {
        std::cout << yaml;
        return 0;
    }
    output_file out(a.out, "--out");
    out.write_and_commit(yaml);
    std::cerr << "wrote " << a.out << ": " << w.ops.size() << " ops, " << w.tensors.size()
              << " tensors\n";
    return 0;
}

int cmd_ops() {
    std::cout << ops::library().describe();
    return 0;
}

int cmd_sweep(const sweep_args& a) {
    sweep_spec spec;
    sweep_load_options lo;
    lo.max_points = a.max_points;
    lo.check_points = a.point < 0;  // an array task: the submitting sweep checked every point
    try {
        spec = load_sweep(a.file, lo);
    } catch (const config_error& e) {
        std::cerr << e.what() << "\n";
        return 2;
    }
    sweep_options o;
    o.jobs = a.jobs;
    o.retry_failed = a.retry_failed;
    o.out_dir = a.out_dir.empty() ? "sweeps/" + spec.name : a.out_dir;
    o.self = std::filesystem::read_symlink("/proc/self/exe").string();
    if (a.point >= 0) {  // no lock: the tasks of an array run at once on one folder
        if (size_t(a.point) >= spec.points.size()) {
            std::cerr << "npusim sweep: --point " << a.point << " is out of range; " << a.file
                      << " has " << spec.points.size() << " points (0.." << spec.points.size() - 1
                      << ")\n";
            return 2;
        }
        const auto r = run_point(spec, spec.points[size_t(a.point)], o);
        if (r.is_null()) return 128 + interrupt_signal();
        return r["status"] == "ok" ? 0 : 1;
    }
    const std::string file = std::filesystem::absolute(a.file).string();
    o.out_dir = std::filesystem::absolute(o.out_dir).lexically_normal().string();
    while (o.out_dir.size() > 1 && o.out_dir.back() == '/') o.out_dir.pop_back();
    try {
        const sweep_lock lock(o.out_dir);  // one sweep at a time writes a results folder
        if (a.collect) return collect_sweep(spec, o);
        if (a.slurm) return submit_slurm(spec, o, file);
        if (a.emit == "slurm") {
            const std::string script = emit_slurm(spec, o, file);
            if (script.empty())
                std::cout << "every point is already recorded in " << o.out_dir << "\n";
            else
                std::cout << "wrote " << script << " and " << o.out_dir
                          << "/slurm/points.txt\nsubmit: sbatch " << shell_quote(script)
                          << "\nthen collect: npusim sweep " << shell_quote(file) << " --out "
                          << shell_quote(o.out_dir) << " --collect\n";
            return 0;
        }
        std::cerr << "sweep '" << spec.name << "': " << spec.points.size() << " points, " << o.jobs
                  << (o.jobs == 1 ? " job" : " jobs") << ", results in " << o.out_dir << "\n";
        return run_sweep(spec, o);
    } catch (const sweep_busy& e) {
        std::cerr << e.what() << "\n";
        return 2;
    } catch (const config_error& e) {
        std::cerr << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {  // a results file that cannot be written, say
        std::cerr << "npusim sweep: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace npusim::tools
