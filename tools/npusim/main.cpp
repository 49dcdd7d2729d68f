// The npusim command: run, validate, import, presets, ops, sweep, probe (DESIGN §7).
#include <systemc>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "platform/config/config_error.h"
#include "platform/presets.h"
#include "platform/version.h"
#include "sw/graph/shipped_workloads.h"
#include "tools/npusim/commands.h"
#include "tools/npusim/probe.h"

int sc_main(int argc, char* argv[]) {
    CLI::App app{"npusim: a SystemC/TLM-2.0 model of an Ascend-style NPU"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("npusim ") + npusim::k_version);

    npusim::tools::run_args run;
    auto* run_cmd = app.add_subcommand("run", "run a workload on a platform and print the report");
    run_cmd->add_option("--platform", run.platform, "platform YAML file or preset name")
        ->default_val(npusim::platform::default_preset);
    run_cmd
        ->add_option("--workload", run.workload,
                     "workload: a YAML file (- reads standard input), an ONNX model (.onnx, "
                     "docs/onnx.md), a shipped one (see "
                     "configs/workloads/, e.g. "
                     "resnet50_b1, bert_base_s512, llama7b_decode_kv2048) or a built-in "
                     "(dma_stream, matmul, elementwise, streams)")
        ->default_val(npusim::graph::default_workload);
    run_cmd->add_option("--shape", run.shape, "matmul MxKxN, elementwise N or streams N");
    run_cmd->add_option("--depth", run.depth, "queue depth of the kernels (2 = double buffering)")
        ->check(CLI::Range(1, 4));
    run_cmd->add_flag("--timing-only", run.timing_only,
                      "skip arithmetic and data; same cycle counts");
    run_cmd->add_flag("--cold-l2", run.cold_l2,
                      "flush L2 when each kernel starts (same as --set l2.cold_kernels=true)");
    run_cmd->add_flag("--check", run.check,
                      "compare results with a CPU reference (exit 1 on mismatch)");
    run_cmd->add_option("--precision", run.precision,
                        "a workload file's precision policy: declared, fp32, bf16, fp16, int8 "
                        "or auto (overrides the file's 'precision'; docs/precision.md)");
    run_cmd->add_option("--set", run.sets, "override a platform key, e.g. gm.bandwidth=1.6TB/s");
    run_cmd->add_option("--stats", run.stats_file,
                        "write machine-readable stats (JSON; - writes them to standard output "
                        "and the report to standard error)");
    run_cmd->add_option("--vcd", run.vcd_file, "write a VCD waveform (timescale 1 ns)");
    run_cmd->add_option("--timeline", run.timeline_file,
                        "write a Chrome trace (open in Perfetto): host threads, streams, cores, "
                        "pipes");
    run_cmd->add_option("--timeline-cores", run.timeline_cores,
                        "cores whose tracks the timeline keeps, e.g. 0,2-3 (default all)");
    run_cmd->add_option("--timeline-window", run.timeline_window,
                        "time window FROM:TO the timeline keeps, e.g. 0ns:20us");
    run_cmd->add_option("--vcd-cores", run.vcd_cores, "cores to trace, e.g. 0,2-3 (default all)");
    run_cmd->add_option("--vcd-signal", run.vcd_signals, "glob of signals to trace, e.g. '*mte2*'");
    run_cmd->add_option("--vcd-window", run.vcd_window, "time window FROM:TO, e.g. 0ns:20us");
    run_cmd->add_option("--stream-bytes", run.stream_bytes, "dma_stream bytes per core")
        ->default_val("256KiB");
    run_cmd->add_option("--profile", run.profile_dir,
                        "write a profile to DIR (created): stats.json, op_summary.csv, "
                        "op_statistic.csv, roofline.svg, timeline.json (docs/profile.md)");
    run_cmd->add_flag("--quiet", run.quiet, "print nothing on success");

    std::string report_dir;
    auto* report_cmd = app.add_subcommand(
        "report", "write DIR/report.html (self-contained) from a --profile run or a sweep");
    report_cmd->add_option("dir", report_dir, "the --profile or sweep output folder")->required();

    npusim::tools::validate_args val;
    auto* val_cmd = app.add_subcommand(
        "validate",
        "check platform, workload, sweep, model and serving files (by their schema:) and presets; "
        "exit 2 if any "
        "is bad");
    val_cmd->add_option("files", val.files,
                        "files with schema npusim.platform/1, npusim.workload/1, npusim.sweep/1, "
                        "npusim.model/1 or npusim.serving/1, "
                        "preset names or shipped workload names");
    val_cmd->add_option("--set", val.sets, "overrides to validate the platforms with");
    val_cmd->add_option("--platform", val.platform, "platform file or preset to plan workloads on")
        ->default_val(npusim::platform::default_preset);
    val_cmd->add_flag("--reference", val.reference, "print the config reference (Markdown)");
    val_cmd->add_flag("--sweep-reference", val.sweep_reference,
                      "print the sweep file reference (Markdown)");
    npusim::tools::import_args imp;
    auto* import_cmd =
        app.add_subcommand("import", "write an ONNX model as a workload file (docs/onnx.md)");
    import_cmd->add_option("model", imp.model, "the ONNX model (.onnx)")->required();
    import_cmd
        ->add_option("-o,--out", imp.out, "the workload YAML to write (- for standard output)")
        ->required();
    import_cmd
        ->add_option("--float-type", imp.float_type,
                     "the dtype the model's fp32 tensors become: fp16 (as the cube computes) or "
                     "fp32")
        ->check(CLI::IsMember({"fp16", "fp32", "bf16"}))
        ->default_val("fp16");
    auto* presets_cmd = app.add_subcommand("presets", "list the platform presets");
    auto* ops_cmd = app.add_subcommand("ops", "list the operator library: ops, dtypes, kernels");

    npusim::tools::sweep_args sweep;
    auto* sweep_cmd = app.add_subcommand("sweep", "run a parameter sweep (one process per point)");
    sweep_cmd->add_option("file", sweep.file, "sweep YAML (npusim.sweep/1)")->required();
    sweep_cmd->add_option("--jobs,-j", sweep.jobs, "points run at once")->check(CLI::Range(1, 256));
    sweep_cmd->add_option("--out", sweep.out_dir, "results directory (default sweeps/NAME)");
    sweep_cmd->add_option("--point", sweep.point, "run only point K (e.g. one Slurm array task)");
    sweep_cmd->add_flag("--collect", sweep.collect,
                        "merge per-point results into the results files");
    sweep_cmd->add_flag("--slurm", sweep.slurm,
                        "submit the points as a Slurm job array, wait for it, then collect");
    sweep_cmd->add_option("--emit", sweep.emit, "write a job array script only: slurm")
        ->check(CLI::IsMember({"slurm"}));
    sweep_cmd->add_flag("--retry-failed", sweep.retry_failed,
                        "run again the points recorded as failed, crashed or timed out");
    sweep_cmd
        ->add_option("--max-points", sweep.max_points,
                     "refuse sweeps with more points than this (default 10000)")
        ->check(CLI::Range(size_t(1), size_t(100000000)));

    npusim::tools::serve_args serve;
    auto* serve_cmd =
        app.add_subcommand("serve",
                           "serve LLM requests (npusim.serving/1) with continuous batching; writes "
                           "requests.csv, summary.json and timeline.json");
    serve_cmd->add_option("file", serve.file, "serving YAML (npusim.serving/1)")->required();
    serve_cmd
        ->add_option("--fidelity", serve.fidelity,
                     "op: simulate each distinct op once and replay it; instr: simulate "
                     "every op")
        ->check(CLI::IsMember({"op", "instr"}))
        ->default_val("op");
    serve_cmd->add_option("--out", serve.out_dir, "results folder (default serving/NAME)");
    serve_cmd->add_option("--stats", serve.stats_file, "write summary.json here as well");
    serve_cmd->add_option("--set", serve.sets, "override a platform key, e.g. gm.bandwidth=1TB/s");
    serve_cmd->add_option("--with", serve.with,
                          "override a serving key, e.g. arrivals.poisson.rate=8");
    serve_cmd->add_flag("--quiet", serve.quiet, "print nothing on success");

    npusim::tools::probe_args probe;
    auto* probe_cmd = app.add_subcommand(
        "probe",
        "time one instruction kind on an idle core, as the silicon tables were measured (prints "
        "JSON): move SRC DST BYTES [--format F] | move SRC DST --repeat R | mmad M K N | vector "
        "INSTR DTYPES REPEATS");
    probe_cmd
        ->add_option("what", probe.what,
                     "move SRC DST BYTES, mmad M K N or vector INSTR "
                     "DTYPES REPEATS (e.g. vector vadd fp16_fp16_fp16 8)")
        ->required();
    probe_cmd->add_option("--platform", probe.platform, "platform YAML file or preset name")
        ->default_val(npusim::platform::default_preset);
    probe_cmd->add_option("--set", probe.sets, "override a platform key");
    probe_cmd->add_option("--count", probe.count, "back-to-back instructions timed")
        ->check(CLI::Range(1, 1 << 20))
        ->default_val(1024);
    probe_cmd->add_option("--dtype", probe.dtype, "mmad input dtype: fp16, bf16 or int8")
        ->default_val("fp16");
    probe_cmd->add_option("--format", probe.format,
                          "move with a layout conversion: nd2nz (gm l1) or nz2nd (l0c gm)");
    probe_cmd
        ->add_option("--repeat", probe.repeat,
                     "move SRC DST --repeat R: a load of R repeats of 1 KiB (gm or l1 to l0a/l0b)")
        ->check(CLI::Range(1, 255));

    // `npusim` alone runs the main job: the default workload on the default preset, with every
    // op checked against its CPU reference.
    const char* default_args[] = {argv[0], "run", "--check"};
    if (argc == 1) {
        argc = 3;
        argv = const_cast<char**>(default_args);
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    // The commands turn bad input into exit 2 with its file and line; what still escapes is
    // a bug, reported rather than left to std::terminate.
    try {
        if (*run_cmd) return npusim::tools::cmd_run(run);
        if (*val_cmd) {
            if (val.files.empty() && !val.reference && !val.sweep_reference) {
                std::cerr << "npusim validate: give platform, workload or sweep files, preset "
                             "names (or --reference)\n";
                return 2;
            }
            return npusim::tools::cmd_validate(val);
        }
        if (*import_cmd) return npusim::tools::cmd_import(imp);
        if (*presets_cmd) return npusim::tools::cmd_presets();
        if (*ops_cmd) return npusim::tools::cmd_ops();
        if (*sweep_cmd) return npusim::tools::cmd_sweep(sweep);
        if (*serve_cmd) return npusim::tools::cmd_serve(serve);
        if (*probe_cmd) return npusim::tools::cmd_probe(probe);
        if (*report_cmd) return npusim::tools::cmd_report(report_dir);
    } catch (const npusim::platform::config_error& e) {
        std::cerr << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "npusim: internal error: " << e.what()
                  << "\n  hint: this is a bug in npusim; please report it with the command line\n";
        return 1;
    }
    return 2;
}

// SystemC prints its banner before sc_main; a user of the command wants only its own output.
int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
