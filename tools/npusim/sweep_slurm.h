#pragma once
// Sweeps past one machine: the points of a sweep as a Slurm job array. Each array task runs
// `npusim sweep FILE --point K`, which records the point like a local run; `--collect` (or
// --slurm, when the array is done) merges the results with the same resume and failure rules.
#include <string>

#include "tools/npusim/sweep_runner.h"

namespace npusim::tools {

/// @brief Writes OUT/slurm/array.sbatch (an array over the points not yet recorded) and
/// OUT/slurm/points.txt (index and label of each). Returns the script's path, or "" when every
/// point is recorded.
std::string emit_slurm(const sweep_spec& s, const sweep_options& o, const std::string& file);

/// @brief Submits the array with sbatch, waits for it to leave the queue (showing progress),
/// then collects. Returns collect_sweep's result, or 1 if sbatch fails.
int submit_slurm(const sweep_spec& s, const sweep_options& o, const std::string& file);

}  // namespace npusim::tools
