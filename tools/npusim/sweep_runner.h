#pragma once
// Runs the points of a sweep: one `npusim run` process per point, --jobs at once, each result
// appended (results.jsonl and results.csv) as it finishes so a rerun resumes; crashed, failed
// and timed-out points are recorded with their error and log, and the sweep goes on.
#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "tools/npusim/sweep_spec.h"

namespace npusim::tools {

struct sweep_options {
    unsigned jobs = 1;
    std::string out_dir;  ///< results, per-point logs and stats, plots
    std::string self;     ///< path of the npusim executable
};

/// @brief Runs one point to completion (or its timeout) and returns its result record:
/// index, label, workload, params, status (ok, failed, crashed, timeout), exit_code, wall_s,
/// error, log, metrics. Also writes it to OUT/points/<index>.result.json.
nlohmann::json run_point(const sweep_spec& s, const sweep_point& p, const sweep_options& o);

/// @brief Labels of the points recorded in OUT/results.jsonl.
std::set<std::string> recorded_labels(const sweep_options& o);

/// @brief Runs every point not yet in OUT/results.jsonl. Returns 0 when all points are ok, 1
/// when some failed.
int run_sweep(const sweep_spec& s, const sweep_options& o);

/// @brief Merges OUT/points/*.result.json (e.g. from a Slurm array) into the results files,
/// with the same resume rules; points with no result are listed as missing. Returns 0 when
/// all points are ok.
int collect_sweep(const sweep_spec& s, const sweep_options& o);

}  // namespace npusim::tools
