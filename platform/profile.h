#pragma once
// `npusim run --profile DIR`: msprof-style tables and a roofline made from a stats document
// (docs/profile.md defines every column).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace npusim::platform {

/// @brief One op of a stats document with the derived figures of the profile.
struct op_profile {
    const nlohmann::json* op;  ///< the entry of stats `ops[]`
    std::string op_type;       ///< `op`, else `type` ("kernel" for a bare launch: its name)
    double duration_ns = 0;
    double wait_ns = 0;   ///< device idle before it: since the end of every earlier kernel
    double gm_bytes = 0;  ///< op_gm_bytes
    double tflops = 0, gm_gbps = 0;
    double flop_roof = 0, gm_roof = 0;  ///< fractions of the fp16 peak and the GM bandwidth
    std::string limiting_pipe;          ///< the busiest pipe ("" without blocks)
    double limiting_ratio = 0;
};

/// @brief The ops of `stats` in start order with their derived figures.
std::vector<op_profile> profile_ops(const nlohmann::json& stats);

/// @brief op_summary.csv: one row per op.
std::string op_summary_csv(const nlohmann::json& stats);
/// @brief op_statistic.csv: one row per op type, by total time.
std::string op_statistic_csv(const nlohmann::json& stats);
/// @brief A log-log roofline (SVG): every op with FLOPs and GM bytes against the fp16 compute
/// roof and the GM bandwidth roof.
std::string roofline_svg(const nlohmann::json& stats);

/// @brief Text for an XML/HTML element or attribute: & < > " ' escaped, control characters
/// other than newline and tab dropped.
std::string xml_escape(const std::string& s);
/// @brief A CSV field (RFC 4180); text a spreadsheet would take for a formula (= + - @ first)
/// is prefixed with a quote mark.
std::string csv_field(const std::string& s);

}  // namespace npusim::platform
