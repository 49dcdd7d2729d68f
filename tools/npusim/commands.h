#pragma once
#include <string>
#include <vector>

namespace npusim::tools {

/// @brief Options of `npusim run` (DESIGN §7).
struct run_args {
    std::string platform = "ascend910";
    std::string workload = "bert_base_s128";  ///< graph::default_workload
    std::vector<std::string> sets;
    std::string stats_file, vcd_file, vcd_cores, vcd_window, timeline_file;
    std::string profile_dir;  ///< --profile: stats, op tables, roofline, timeline
    std::string timeline_cores, timeline_window;  ///< filters of the timeline (as the VCD's)
    std::vector<std::string> vcd_signals;
    std::string stream_bytes = "256KiB";
    std::string shape;   ///< matmul MxKxN or elementwise N
    unsigned depth = 2;  ///< queue depth of the kernel workloads
    bool timing_only = false;
    bool cold_l2 = false;  ///< --cold-l2: --set l2.cold_kernels=true
    bool check = false;
    std::string precision;  ///< --precision: overrides a workload file's policy
    bool quiet = false;
};

/// @brief Options of `npusim import`.
struct import_args {
    std::string model, out;           ///< the .onnx file; the workload YAML written
    std::string float_type = "fp16";  ///< the dtype of the model's fp32 tensors
};

/// @brief Options of `npusim sweep`.
struct sweep_args {
    std::string file, out_dir;
    unsigned jobs = 1;
    int point = -1;             ///< run only this point (a Slurm array task)
    bool collect = false;       ///< merge per-point results (after a Slurm array)
    bool slurm = false;         ///< submit the points as a Slurm array, wait, collect
    std::string emit;           ///< "slurm": write the array script and point list only
    bool retry_failed = false;  ///< rerun points recorded as failed, crashed or timed out
    size_t max_points = 10000;  ///< refuse sweeps with more points (tools::default_max_points)
};

/// @brief Options of `npusim validate`.
struct validate_args {
    std::vector<std::string> files;      ///< platform, workload or sweep files; preset names
    std::vector<std::string> sets;       ///< --set overrides for every platform checked
    std::string platform = "ascend910";  ///< workloads are planned against it
    bool reference = false;              ///< print the config reference instead
    bool sweep_reference = false;        ///< print the sweep file reference instead
};

/// @brief Options of `npusim serve`.
struct serve_args {
    std::string file, out_dir;
    std::string stats_file;         ///< --stats: summary.json written here too (for sweeps)
    std::string fidelity = "op";    ///< op or instr
    std::vector<std::string> sets;  ///< platform overrides
    std::vector<std::string> with;  ///< serving-file overrides, e.g. arrivals.poisson.rate=8
    bool quiet = false;
};

/// Exit codes: 0 success, 1 failed run or check, 2 bad usage or bad input.
int cmd_run(const run_args& a);
/// @brief Checks each file by the kind its `schema:` names (platform: loads and can plan a
/// matmul and a vector op; workload: loads and plans on --platform; sweep: loads and expands).
int cmd_validate(const validate_args& a);
/// @brief `npusim import MODEL.onnx -o OUT.yaml`: the model as a workload file.
int cmd_import(const import_args& a);
int cmd_presets();
int cmd_ops();
int cmd_sweep(const sweep_args& a);
/// @brief Serves a serving file's requests; writes requests.csv, summary.json, timeline.json.
int cmd_serve(const serve_args& a);
/// @brief `npusim report DIR`: DIR/report.html from a --profile run or a sweep's output.
int cmd_report(const std::string& dir);

}  // namespace npusim::tools
