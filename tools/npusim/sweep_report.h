#pragma once
// The end of a sweep: a summary table of every recorded point and, with gnuplot, one SVG plot
// per metric against the varied parameters.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tools/npusim/sweep_spec.h"

namespace npusim::tools {

/// @brief Prints the summary table, writes it to OUT/summary.txt and plots each metric to
/// OUT/plots/<metric>.svg (skipped, with a note, when gnuplot is missing).
void write_report(const sweep_spec& s, const std::string& out_dir,
                  const std::vector<nlohmann::json>& results);

}  // namespace npusim::tools
