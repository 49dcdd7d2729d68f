#include "platform/config/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace npusim::platform {

namespace {

using unit_table = std::vector<std::pair<const char*, double>>;

const unit_table& units_of(value_kind k) {
    static const unit_table size = {{"B", 1},
                                    {"KiB", 1024.0},
                                    {"MiB", 1048576.0},
                                    {"GiB", 1073741824.0},
                                    {"TiB", 1099511627776.0},
                                    {"KB", 1e3},
                                    {"MB", 1e6},
                                    {"GB", 1e9},
                                    {"TB", 1e12}};
    static const unit_table freq = {{"Hz", 1}, {"kHz", 1e3}, {"MHz", 1e6}, {"GHz", 1e9}};
    static const unit_table bw = {
        {"B/s", 1},           {"KB/s", 1e3},           {"MB/s", 1e6},
        {"GB/s", 1e9},        {"TB/s", 1e12},          {"KiB/s", 1024.0},
        {"MiB/s", 1048576.0}, {"GiB/s", 1073741824.0}, {"TiB/s", 1099511627776.0}};
    static const unit_table time = {{"ps", 1}, {"ns", 1e3}, {"us", 1e6}, {"ms", 1e9}, {"s", 1e12}};
    static const unit_table cyc = {{"cycles", 1}, {"cycle", 1}};
    static const unit_table bpc = {{"B/cycle", 1}};
    static const unit_table none = {};
    switch (k) {
        case value_kind::size:
            return size;
        case value_kind::frequency:
            return freq;
        case value_kind::bandwidth:
            return bw;
        case value_kind::time:
            return time;
        case value_kind::cycles:
            return cyc;
        case value_kind::bytes_per_cycle:
            return bpc;
        default:
            return none;
    }
}

// Kinds whose plain numbers (no unit) are accepted, in the base unit.
bool unitless_ok(value_kind k) {
    return k == value_kind::integer || k == value_kind::real || k == value_kind::size ||
           k == value_kind::cycles || k == value_kind::bytes_per_cycle;
}

}  // namespace

const char* base_unit(value_kind k) {
    switch (k) {
        case value_kind::size:
            return "bytes";
        case value_kind::frequency:
            return "Hz";
        case value_kind::bandwidth:
            return "bytes/s";
        case value_kind::time:
            return "time";
        case value_kind::cycles:
            return "cycles";
        case value_kind::bytes_per_cycle:
            return "bytes/cycle";
        case value_kind::integer:
            return "count";
        case value_kind::real:
            return "number";
        case value_kind::boolean:
            return "true/false";
        case value_kind::text:
            return "text";
        case value_kind::choice:
            return "one of";
    }
    return "";
}

const char* example(value_kind k) {
    switch (k) {
        case value_kind::size:
            return "64KiB";
        case value_kind::frequency:
            return "1.85GHz";
        case value_kind::bandwidth:
            return "1.2TB/s";
        case value_kind::time:
            return "20ns";
        case value_kind::cycles:
            return "4";
        case value_kind::bytes_per_cycle:
            return "256";
        case value_kind::integer:
            return "32";
        case value_kind::real:
            return "0.5";
        case value_kind::boolean:
            return "true";
        default:
            return "";
    }
}

std::string unit_help(value_kind k) {
    std::string units;
    for (auto& [name, scale] : units_of(k)) {
        (void)scale;
        if (!units.empty()) units += ", ";
        units += name;
    }
    std::string s = std::string("write a ") + base_unit(k) + " value";
    if (!units.empty()) s += " with a unit (" + units + ")";
    s += std::string(", e.g. ") + example(k);
    return s;
}

std::optional<double> parse_value(value_kind k, const std::string& text) {
    if (k == value_kind::boolean) {
        if (text == "true" || text == "yes" || text == "on") return 1.0;
        if (text == "false" || text == "no" || text == "off") return 0.0;
        return std::nullopt;
    }
    const char* s = text.c_str();
    char* end = nullptr;
    const double num = std::strtod(s, &end);
    if (end == s || !std::isfinite(num)) return std::nullopt;
    std::string unit(end);
    while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.front())))
        unit.erase(0, 1);
    while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.back()))) unit.pop_back();
    double value = num;
    if (unit.empty()) {
        if (!unitless_ok(k)) return std::nullopt;
    } else {
        bool found = false;
        for (auto& [name, scale] : units_of(k)) {
            if (unit == name) {
                value = num * scale;
                found = true;
                break;
            }
        }
        if (!found) return std::nullopt;
    }
    // 1e300TB/s overflows to infinity: not a value.
    if (!std::isfinite(value)) return std::nullopt;
    if (k == value_kind::integer || k == value_kind::size || k == value_kind::cycles) {
        if (std::fabs(value - std::round(value)) > 1e-6 * std::max(1.0, std::fabs(value)))
            return std::nullopt;
        value = std::round(value);
    }
    return value;
}

std::string format_value(value_kind k, double v) {
    char buf[64];
    auto fmt_scaled = [&](const unit_table& t, bool binary_only) {
        const char* best = t.front().first;
        double best_scale = 1;
        for (auto& [name, scale] : t) {
            const bool binary = std::string(name).find('i') != std::string::npos ||
                                std::string(name) == "B" || std::string(name) == "B/s";
            if (binary_only && !binary) continue;
            if (std::fabs(v) >= scale && (!binary_only || std::fmod(v, scale) == 0)) {
                if (scale >= best_scale) {
                    best = name;
                    best_scale = scale;
                }
            }
        }
        std::snprintf(buf, sizeof buf, "%.6g%s", v / best_scale, best);
        return std::string(buf);
    };
    switch (k) {
        case value_kind::size:
            return fmt_scaled(units_of(k), true);
        case value_kind::frequency:
        case value_kind::time:
            return fmt_scaled(units_of(k), false);
        case value_kind::bandwidth: {
            unit_table dec = {
                {"B/s", 1}, {"KB/s", 1e3}, {"MB/s", 1e6}, {"GB/s", 1e9}, {"TB/s", 1e12}};
            return fmt_scaled(dec, false);
        }
        case value_kind::boolean:
            return v != 0 ? "true" : "false";
        default:
            std::snprintf(buf, sizeof buf, "%.6g", v);
            return buf;
    }
}

}  // namespace npusim::platform
