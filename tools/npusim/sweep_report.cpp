#include "tools/npusim/sweep_report.h"

#include <sys/wait.h>

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "platform/config/schema.h"
#include "platform/config/units.h"
#include "tools/npusim/sweep_runner.h"

namespace npusim::tools {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string cell(const json& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    if (v.is_number()) return fmt::format("{:.6g}", v.get<double>());
    return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string base_name(const std::string& path) {
    return fs::path(path).filename().string();
}

/// "gm.bandwidth" -> "gm_bandwidth" for file names.
std::string file_safe(std::string s) {
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return s;
}

/// Text safe in a gnuplot single-quoted string: control characters (a newline would end the
/// command) become spaces and a quote is doubled. Nothing is substituted inside single
/// quotes, not even `backquotes`.
std::string gnuplot_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        q += u < 0x20 || u == 0x7f ? std::string(" ")
             : c == '\''           ? std::string("''")
                                   : std::string(1, c);
    }
    return q + "'";
}

/// A string field of a gnuplot data file: double-quoted, which has no escapes, so a double
/// quote becomes a single one and control characters spaces. Data is never executed.
std::string data_field(const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        q += u < 0x20 || u == 0x7f ? ' ' : c == '"' ? '\'' : c;
    }
    return q + "\"";
}

/// A parameter's value as a number in its key's base unit (nullopt: not numeric).
std::optional<double> numeric(const std::string& key, const std::string& text) {
    const platform::key_spec* k = platform::find_key(key);
    if (!k || k->kind == platform::value_kind::text || k->kind == platform::value_kind::choice)
        return std::nullopt;
    return platform::parse_value(k->kind, text);
}

/// A readable unit for an axis of values up to `max` in `base` units: (label, divisor).
std::pair<std::string, double> scaled_unit(const std::string& base, double max) {
    struct step {
        const char* name;
        double scale;
    };
    static const std::pair<const char*, std::array<step, 4>> units[] = {
        {"ns", {{{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}}}},
        {"bytes", {{{"bytes", 1}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}}}},
        {"Hz", {{{"Hz", 1}, {"kHz", 1e3}, {"MHz", 1e6}, {"GHz", 1e9}}}},
        {"bytes/s", {{{"B/s", 1}, {"MB/s", 1e6}, {"GB/s", 1e9}, {"TB/s", 1e12}}}},
        {"ps", {{{"ps", 1}, {"ns", 1e3}, {"us", 1e6}, {"ms", 1e9}}}},
    };
    const std::array<step, 4>* steps = nullptr;
    for (const auto& [name, table] : units)
        if (base == name) steps = &table;
    if (!steps) return {base, 1};
    step best = steps->front();
    for (const auto& st : *steps)
        if (max >= st.scale) best = st;
    return {best.name, best.scale};
}

/// The base unit of a metric, from its name ("..._ns", "..._bytes").
std::string metric_unit(const std::string& m) {
    auto ends = [&](const char* suffix) {
        const std::string x(suffix);
        return m.size() >= x.size() && m.compare(m.size() - x.size(), x.size(), x) == 0;
    };
    if (ends("_ns")) return "ns";
    if (ends("_bytes") || ends(".bytes")) return "bytes";
    return "";
}

/// One plot per metric: x is the first varied parameter (or the workload), one line per
/// combination of the other parameters and the workload, in numeric order of their values.
/// Numeric parameters and metrics get numeric axes, scaled units, and a log scale when their
/// values span a decade or more. User text reaches gnuplot only as data (the points' values
/// and series names) or quoted (the sweep name, a checked identifier); gnuplot runs without a
/// shell, in OUT/plots, on files named there.
void plot(const sweep_spec& s, const std::string& out_dir, const std::vector<json>& results) {
    const std::string gnuplot = find_on_path("gnuplot");
    if (gnuplot.empty()) {
        std::printf("plots skipped: gnuplot not found (scripts/bootstrap.sh installs it)\n");
        return;
    }
    const std::string x_key = s.parameters.empty() ? "workload" : s.parameters[0];
    auto x_of = [&](const json& r) {
        return s.parameters.empty() ? base_name(r["workload"].get<std::string>())
                                    : cell(r["params"].value(x_key, json()));
    };
    // The x axis is numeric when every point's value is.
    bool x_numeric = !s.parameters.empty();
    double x_min = 0, x_max = 0;
    for (size_t i = 0; i < results.size() && x_numeric; ++i) {
        const auto v = numeric(x_key, x_of(results[i]));
        if (!v) x_numeric = false;
        x_min = i == 0 ? v.value_or(0) : std::min(x_min, v.value_or(0));
        x_max = i == 0 ? v.value_or(0) : std::max(x_max, v.value_or(0));
    }
    const platform::key_spec* x_spec = s.parameters.empty() ? nullptr : platform::find_key(x_key);
    const auto [x_unit, x_div] = x_numeric && x_spec
                                     ? scaled_unit(platform::base_unit(x_spec->kind), x_max)
                                     : std::pair<std::string, double>{"", 1};
    // Series keys: the other parameters' values as numbers where they are (numeric order).
    struct series_key {
        std::vector<std::pair<double, std::string>> parts;
        bool operator<(const series_key& o) const { return parts < o.parts; }
    };
    auto series_of = [&](const json& r) {
        series_key k;
        std::string name;
        for (size_t i = 1; i < s.parameters.size(); ++i) {
            const std::string v = cell(r["params"].value(s.parameters[i], json()));
            k.parts.emplace_back(numeric(s.parameters[i], v).value_or(0), v);
            name += s.parameters[i] + "=" + v + " ";
        }
        if (!s.parameters.empty() && s.workloads.size() > 1) {
            const std::string w = base_name(r["workload"].get<std::string>());
            k.parts.emplace_back(0, w);
            name += w;
        }
        return std::make_pair(k, name.empty() ? std::string(s.name) : name);
    };
    const std::string dir = out_dir + "/plots";
    fs::create_directories(dir);
    for (const auto& m : s.metrics) {
        std::map<series_key, std::pair<std::string, std::vector<const json*>>> series;
        double y_min = 0, y_max = 0;
        bool first = true;
        for (const auto& r : results)
            if (r["status"] == "ok" && r["metrics"].value(m, json()).is_number()) {
                auto [key, name] = series_of(r);
                auto& e = series[key];
                e.first = name;
                e.second.push_back(&r);
                const double y = r["metrics"][m].get<double>();
                y_min = first ? y : std::min(y_min, y);
                y_max = first ? y : std::max(y_max, y);
                first = false;
            }
        if (series.empty()) continue;
        const std::string y_base = metric_unit(m);
        const auto [y_unit, y_div] = scaled_unit(y_base, y_max);
        const std::string stem = file_safe(m);
        std::ofstream script(dir + "/" + stem + ".gp");
        script << "set terminal svg size 800,500 dynamic font 'sans,11'\n"
               << "set output " << gnuplot_quote(stem + ".svg") << "\n"
               << "set title " << gnuplot_quote(s.name + ": " + m) << " noenhanced\n"
               << "set xlabel "
               << gnuplot_quote(x_unit.empty() ? x_key : x_key + " (" + x_unit + ")")
               << " noenhanced\n"
               << "set ylabel " << gnuplot_quote(y_unit.empty() ? m : m + " (" + y_unit + ")")
               << " noenhanced\n"
               << "set key outside right noenhanced\nset grid\n";
        if (x_numeric && x_min > 0 && x_max >= 10 * x_min) script << "set logscale x\n";
        if (y_min > 0 && y_max >= 10 * y_min)
            script << "set logscale y\n";
        else
            script << "set yrange [0:*]\n";
        script << "plot ";
        size_t i = 0;
        for (const auto& [key, entry] : series) {
            const auto& [name, rows] = entry;
            const std::string data = stem + "." + std::to_string(i) + ".dat";
            std::ofstream d(dir + "/" + data);
            d << data_field(x_key) << " " << data_field(name) << "\n";  // the column headers
            std::vector<const json*> sorted = rows;
            if (x_numeric)
                std::stable_sort(sorted.begin(), sorted.end(), [&](const json* a, const json* b) {
                    return *numeric(x_key, x_of(*a)) < *numeric(x_key, x_of(*b));
                });
            for (const json* r : sorted) {
                const double y = (*r)["metrics"][m].get<double>() / y_div;
                if (x_numeric)
                    d << fmt::format("{:.12g}", *numeric(x_key, x_of(*r)) / x_div) << " "
                      << fmt::format("{:.12g}", y) << "\n";
                else
                    d << data_field(x_of(*r)) << " " << fmt::format("{:.12g}", y) << "\n";
            }
            script << (i ? ", " : "") << gnuplot_quote(data)
                   << (x_numeric ? " using 1:2" : " using 0:2:xtic(1)")
                   << " with linespoints title columnheader(2)";
            ++i;
        }
        script << "\n";
        script.close();
        const int st = run_process({gnuplot, stem + ".gp"}, nullptr, false, dir);
        if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            std::printf("plot %s/%s.svg\n", dir.c_str(), stem.c_str());
        else
            std::printf("plot of %s failed (script %s/%s.gp)\n", m.c_str(), dir.c_str(),
                        stem.c_str());
    }
}

}  // namespace

void write_report(const sweep_spec& s, const std::string& out_dir,
                  const std::vector<json>& results) {
    std::vector<std::string> head = {"#", "workload"};
    head.insert(head.end(), s.parameters.begin(), s.parameters.end());
    head.push_back("status");
    head.insert(head.end(), s.metrics.begin(), s.metrics.end());
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : results) {
        std::vector<std::string> row = {cell(r["index"]),
                                        base_name(r["workload"].get<std::string>())};
        for (const auto& k : s.parameters) row.push_back(cell(r["params"].value(k, json())));
        row.push_back(r["status"].get<std::string>());
        for (const auto& m : s.metrics) row.push_back(cell(r["metrics"].value(m, json())));
        rows.push_back(row);
    }
    std::vector<size_t> width(head.size());
    for (size_t c = 0; c < head.size(); ++c) {
        width[c] = head[c].size();
        for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
    }
    std::string table;
    auto line = [&](const std::vector<std::string>& row) {
        for (size_t c = 0; c < row.size(); ++c) table += fmt::format("{:<{}}  ", row[c], width[c]);
        table += "\n";
    };
    line(head);
    for (const auto& row : rows) line(row);
    size_t failed = 0;
    for (const auto& r : results)
        if (r["status"] != "ok") ++failed;
    table += fmt::format("{} of {} points recorded, {} failed; results in {}/results.csv\n",
                         results.size(), s.points.size(), failed, out_dir);
    for (const auto& r : results)
        if (r["status"] != "ok")
            table += fmt::format("  point {} {}: {} (log {})\n", cell(r["index"]),
                                 r["status"].get<std::string>(), r["error"].get<std::string>(),
                                 r["log"].get<std::string>());
    std::fputs(table.c_str(), stdout);
    std::ofstream(out_dir + "/summary.txt") << table;
    plot(s, out_dir, results);
}

}  // namespace npusim::tools
