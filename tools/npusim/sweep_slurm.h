#pragma once
// Sweeps past one machine: the points of a sweep as a Slurm job array. Each array task runs
// `npusim sweep FILE --point K`, which records the point like a local run; `--collect` (or
// --slurm, when the array is done) merges the results with the same resume and failure rules.
#include <string>

#include "tools/npusim/sweep_runner.h"

namespace npusim::tools {

/// @brief `s` as one bash word: single-quoted, a quote written as '\''.
std::string shell_quote(const std::string& s);

/// @brief Writes OUT/slurm/array.sbatch (an array over the points not yet recorded) and
/// OUT/slurm/points.txt (index and label of each). Returns the script's path, or "" when every
/// point is recorded. Paths go in quoted; a path sbatch cannot take in an #SBATCH line, or
/// with a control character, is refused.
/// @throws platform::config_error naming the flag.
std::string emit_slurm(const sweep_spec& s, const sweep_options& o, const std::string& file);

/// @brief Submits the array with sbatch, waits for it to leave the queue (showing progress),
/// then collects. Returns collect_sweep's result, or 1 if sbatch fails.
int submit_slurm(const sweep_spec& s, const sweep_options& o, const std::string& file);

}  // namespace npusim::tools
