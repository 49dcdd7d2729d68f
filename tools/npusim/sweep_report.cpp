#include "tools/npusim/sweep_report.h"

#include <sys/wait.h>

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

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

/// One plot per metric: x is the first varied parameter (or the workload), one line per
/// combination of the other parameters and the workload. User text reaches gnuplot only as
/// data (the points' values and series names) or quoted (the sweep name, a checked
/// identifier); gnuplot runs without a shell, in OUT/plots, on files named there.
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
    auto series_of = [&](const json& r) {
        std::string name;
        for (size_t i = 1; i < s.parameters.size(); ++i)
            name += s.parameters[i] + "=" + cell(r["params"].value(s.parameters[i], json())) + " ";
        if (!s.parameters.empty() && s.workloads.size() > 1)
            name += base_name(r["workload"].get<std::string>());
        return name.empty() ? std::string(s.name) : name;
    };
    const std::string dir = out_dir + "/plots";
    fs::create_directories(dir);
    for (const auto& m : s.metrics) {
        std::map<std::string, std::vector<const json*>> series;
        for (const auto& r : results)
            if (r["status"] == "ok" && r["metrics"].value(m, json()).is_number())
                series[series_of(r)].push_back(&r);
        if (series.empty()) continue;
        const std::string stem = file_safe(m);
        std::ofstream script(dir + "/" + stem + ".gp");
        script << "set terminal svg size 800,500 dynamic font 'sans,11'\n"
               << "set output " << gnuplot_quote(stem + ".svg") << "\n"
               << "set title " << gnuplot_quote(s.name + ": " + m) << " noenhanced\n"
               << "set xlabel " << gnuplot_quote(x_key) << " noenhanced\n"
               << "set ylabel " << gnuplot_quote(m) << " noenhanced\n"
               << "set key outside right noenhanced\nset grid\nset yrange [0:*]\n"
               << "plot ";
        size_t i = 0;
        for (const auto& [name, rows] : series) {
            const std::string data = stem + "." + std::to_string(i) + ".dat";
            std::ofstream d(dir + "/" + data);
            d << data_field(x_key) << " " << data_field(name) << "\n";  // the column headers
            for (const json* r : rows)
                d << data_field(x_of(*r)) << " " << cell((*r)["metrics"][m]) << "\n";
            script << (i ? ", " : "") << gnuplot_quote(data)
                   << " using 0:2:xtic(1) with linespoints title columnheader(2)";
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
