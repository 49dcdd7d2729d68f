#pragma once
// Values with units, as written in platform files and --set: 64KiB, 1.85GHz, 1.2TB/s, 20ns.
#include <optional>
#include <string>

namespace npusim::platform {

/// @brief The kind of a config value; decides its parser, base unit and documentation.
enum class value_kind {
    integer,          ///< a plain count
    real,             ///< a plain number
    size,             ///< bytes: B, KiB, MiB, GiB, TiB or KB, MB, GB, TB
    frequency,        ///< Hz: Hz, kHz, MHz, GHz
    bandwidth,        ///< bytes/s: B/s, KB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s, TiB/s
    time,             ///< picoseconds internally: ps, ns, us, ms, s
    cycles,           ///< clock cycles: a number, optionally followed by "cycles"
    bytes_per_cycle,  ///< a number, optionally followed by "B/cycle"
    boolean,          ///< true / false
    text,             ///< free text
    choice,           ///< one of a fixed list
};

/// @brief Base unit of a kind, as shown in docs ("bytes", "Hz", ...).
const char* base_unit(value_kind k);
/// @brief An example value of a kind, used in hints.
const char* example(value_kind k);
/// @brief How to write a value of this kind, for error hints.
std::string unit_help(value_kind k);
/// @brief Parses a numeric value in the kind's base unit; nullopt if the text is malformed.
std::optional<double> parse_value(value_kind k, const std::string& text);
/// @brief Formats a base-unit number back into a readable value with a unit ("64KiB").
std::string format_value(value_kind k, double v);

}  // namespace npusim::platform
