// `npusim run --profile DIR` and `npusim report DIR`: per-op measured traffic on closed forms,
// the CSVs against the stats they come from, and the HTML page in a real headless browser
// (Debian's chromium-headless-shell, installed by scripts/bootstrap.sh).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/tools/cli_fixture.h"

using namespace npusim;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

/// A fresh folder in the temp directory, removed with its contents on destruction.
struct temp_dir {
    explicit temp_dir(const std::string& stem) : file(stem, "") {
        fs::remove_all(file.path);
        fs::create_directories(file.path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(file.path, ec);
    }
    std::string str() const { return file.str(); }
    test::temp_file file;
};

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream in(test::read_file(path));
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::string cur;
        bool quoted = false;
        for (size_t i = 0; i < line.size(); ++i) {
            const char c = line[i];
            if (c == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
                cur += '"';
                ++i;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                f.push_back(cur);
                cur.clear();
            } else {
                cur += c;
            }
        }
        f.push_back(cur);
        rows.push_back(f);
    }
    return rows;
}

size_t column(const std::vector<std::string>& head, const std::string& name) {
    for (size_t i = 0; i < head.size(); ++i)
        if (head[i] == name) return i;
    BOOST_FAIL("no column " + name);
    return 0;
}

/// The DOM of a page after its scripts ran, from a real headless browser.
std::string rendered_dom(const std::string& html) {
    test::temp_file out("dom", ".html"), err("chromium", ".log");
    const std::string cmd =
        "timeout 120 chromium-headless-shell --no-sandbox --disable-gpu --no-first-run "
        "--user-data-dir='" +
        out.str() + ".profile' --dump-dom 'file://" + html + "' > '" + out.str() + "' 2> '" +
        err.str() + "'";
    const int status = std::system(cmd.c_str());
    std::error_code ec;
    fs::remove_all(out.str() + ".profile", ec);
    BOOST_REQUIRE_MESSAGE(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                          "chromium-headless-shell failed (scripts/bootstrap.sh installs it): " +
                              test::read_file(err.str()));
    return test::read_file(out.str());
}

/// The stats of the built-in elementwise add of n fp16 elements on tiny (timing only).
json elementwise_stats(int n, const std::string& options) {
    test::temp_file out("stats", ".json");
    const test::cli_result r =
        test::run_cli("run --platform tiny --workload elementwise --shape " + std::to_string(n) +
                      " --timing-only --quiet " + options + " --stats '" + out.str() + "'");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    return json::parse(test::read_file(out.str()));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(profile)

// An elementwise add of n fp16 elements asks L2 for exactly its two inputs (2·2n bytes) and
// writes its output (2n bytes); L2 writes through, so GM takes exactly those 2n bytes. GM serves
// the bursts L2 missed (part of the inputs stays in L2 after the host copy).
BOOST_AUTO_TEST_CASE(kernel_traffic_is_measured_per_op) {
    const int n = 65536;
    const json s = elementwise_stats(n, "");
    const json* add = nullptr;
    for (const auto& o : s["ops"])
        if (o["type"] == "elementwise") add = &o;
    BOOST_REQUIRE(add);
    const json& o = *add;
    BOOST_CHECK_EQUAL(o["l2_read_bytes"].get<uint64_t>(), 4u * n);
    BOOST_CHECK_EQUAL(o["l2_write_bytes"].get<uint64_t>(), 2u * n);
    BOOST_CHECK_EQUAL(o["gm_write_bytes"].get<uint64_t>(), 2u * n);
    BOOST_CHECK_GT(o["gm_read_bytes"].get<uint64_t>(), 0u);
    BOOST_CHECK_LE(o["gm_read_bytes"].get<uint64_t>(), 4u * n);
    // A lookup per line a burst touches: at least the lines of the inputs.
    const uint64_t line = s["platform"]["parameters"]["l2.line"].get<uint64_t>();
    BOOST_CHECK_GE(o["l2_read_hits"].get<uint64_t>() + o["l2_read_misses"].get<uint64_t>(),
                   4u * n / line);
}

// With --cold-l2 every kernel starts with an empty L2: each line of the add's inputs misses
// once and is filled whole, so GM reads exactly the inputs (a burst that ends inside a line
// leaves the rest of it for the next burst, a hit).
BOOST_AUTO_TEST_CASE(cold_l2_reads_every_input_byte_from_gm) {
    const int n = 65536;
    const json s = elementwise_stats(n, "--cold-l2");
    BOOST_CHECK_EQUAL(s["run"]["overrides"].dump(), "[\"l2.cold_kernels=true\"]");
    for (const auto& o : s["ops"])
        if (o["type"] == "elementwise") {
            BOOST_CHECK_EQUAL(o["gm_read_bytes"].get<uint64_t>(), 4u * n);
            BOOST_CHECK_EQUAL(o["l2_read_misses"].get<uint64_t>(),
                              4u * n / s["platform"]["parameters"]["l2.line"].get<uint64_t>());
        }
}

// Every byte the cores' engines move to or from the GM address space belongs to one kernel:
// summed over the kernels, the per-op figures are the L2's own totals less the host copies'.
BOOST_AUTO_TEST_CASE(per_op_traffic_adds_up_to_the_memory_totals) {
    test::temp_file out("stats", ".json");
    const test::cli_result r =
        test::run_cli("run --platform tiny --workload bert_check --timing-only --quiet --stats '" +
                      out.str() + "'");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    const json s = json::parse(test::read_file(out.str()));
    double l2r = 0, l2w = 0, gmw = 0, rh = 0, rm = 0;
    for (const auto& o : s["ops"])
        if (o.contains("l2_read_bytes")) {
            l2r += o["l2_read_bytes"].get<double>();
            l2w += o["l2_write_bytes"].get<double>();
            gmw += o["gm_write_bytes"].get<double>();
            rh += o["l2_read_hits"].get<double>();
            rm += o["l2_read_misses"].get<double>();
        }
    const json& l2 = s["memory"]["l2"];
    const json& host = s["memory"]["host_link"];
    const double h2d = host["h2d_bytes"].get<double>(), d2h = host["d2h_bytes"].get<double>();
    BOOST_CHECK_GT(l2r, 0);
    BOOST_CHECK_EQUAL(l2r + d2h, l2["read_bytes"].get<double>());
    BOOST_CHECK_EQUAL(l2w + h2d, l2["write_bytes"].get<double>());
    BOOST_CHECK_EQUAL(gmw + h2d, s["memory"]["gm"]["write_bytes"].get<double>());
    BOOST_CHECK_LE(rh + rm, l2["read_hits"].get<double>() + l2["read_misses"].get<double>());
}

// The profile's files agree with the stats they come from: one row per op, the waits sum to
// the idle time between kernels, the op types' shares to 100 %, one roofline dot per op with
// FLOPs and GM bytes.
BOOST_AUTO_TEST_CASE(profile_files_agree_with_the_stats) {
    temp_dir dir("profile");
    const test::cli_result r = test::run_cli(
        "run --platform tiny --workload bert_check --timing-only --quiet --profile '" + dir.str() +
        "'");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    for (const char* f :
         {"stats.json", "op_summary.csv", "op_statistic.csv", "roofline.svg", "timeline.json"})
        BOOST_CHECK_MESSAGE(fs::exists(dir.file.path / f), f);
    const json s = json::parse(test::read_file((dir.file.path / "stats.json").string()));
    const auto rows = read_csv((dir.file.path / "op_summary.csv").string());
    BOOST_REQUIRE_EQUAL(rows.size(), s["ops"].size() + 1);
    const auto& head = rows[0];
    const size_t wait = column(head, "wait_us"), type = column(head, "op_type"),
                 kernel = column(head, "kernel"), gm_r = column(head, "gm_read_bytes"),
                 gm_w = column(head, "gm_write_bytes"), flops = column(head, "flops"),
                 blocks = column(head, "block_dim"), imbalance = column(head, "imbalance");
    double waits = 0;
    size_t dots = 0, matmuls = 0;
    for (size_t i = 1; i < rows.size(); ++i) {
        BOOST_REQUIRE_EQUAL(rows[i].size(), head.size());
        waits += std::stod(rows[i][wait]);
        if (!rows[i][blocks].empty()) {  // a kernel: as in the stats, at least 1
            const double im = std::stod(rows[i][imbalance]);
            BOOST_CHECK_GE(im, 1.0 - 1e-9);
            bool found = false;  // the stats entry of the same op
            for (const auto& o : s["ops"])
                found |= o["name"] == rows[i][column(head, "name")] &&
                         std::abs(o.value("imbalance", 0.0) - im) < 1e-4;
            BOOST_CHECK_MESSAGE(found, rows[i][column(head, "name")] << ": imbalance " << im);
        }
        if (rows[i][type] == "matmul_bias") {
            ++matmuls;
            BOOST_CHECK(!rows[i][kernel].empty());
            BOOST_CHECK_GT(std::stoi(rows[i][blocks]), 0);
        }
        const double gm_bytes =
            rows[i][gm_r].empty() ? 0 : std::stod(rows[i][gm_r]) + std::stod(rows[i][gm_w]);
        if (std::stod(rows[i][flops]) > 0 && gm_bytes > 0) ++dots;
    }
    BOOST_CHECK_GT(matmuls, 0u);
    BOOST_CHECK_CLOSE(waits * 1000, s["summary"]["idle_between_kernels_ns"].get<double>(), 0.1);
    const auto stat = read_csv((dir.file.path / "op_statistic.csv").string());
    double share = 0, count = 0;
    for (size_t i = 1; i < stat.size(); ++i) {
        share += std::stod(stat[i][column(stat[0], "share_pct")]);
        count += std::stod(stat[i][column(stat[0], "count")]);
    }
    BOOST_CHECK_CLOSE(share, 100.0, 0.1);
    BOOST_CHECK_EQUAL(count, double(s["ops"].size()));
    const std::string svg = test::read_file((dir.file.path / "roofline.svg").string());
    const std::regex dot("<circle cx=[^>]*fill-opacity");
    const auto n =
        std::distance(std::sregex_iterator(svg.begin(), svg.end(), dot), std::sregex_iterator());
    BOOST_CHECK_GE(dots, 1u);
    BOOST_CHECK_EQUAL(size_t(n), dots);
}

// The HTML report loads in a real browser without script errors and shows the run's ops.
// An op name that tries to close the data's <script> element stays text.
BOOST_AUTO_TEST_CASE(html_report_renders_in_a_headless_browser) {
    temp_dir dir("report");
    BOOST_REQUIRE_EQUAL(test::run_cli("run --platform tiny --workload bert_check --timing-only "
                                      "--quiet --profile '" +
                                      dir.str() + "'")
                            .rc,
                        0);
    const fs::path stats_file = dir.file.path / "stats.json";
    json s = json::parse(test::read_file(stats_file.string()));
    const std::string hostile = "</script><img src=x onerror=alert(1)>&amp;";
    s["ops"][0]["name"] = hostile;
    std::ofstream(stats_file) << s.dump(1);
    const test::cli_result r = test::run_cli("report '" + dir.str() + "'");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    const std::string dom = rendered_dom((dir.file.path / "report.html").string());
    BOOST_CHECK_MESSAGE(dom.find("data-status=\"ok\"") != std::string::npos, dom.substr(0, 400));
    BOOST_CHECK(dom.find("id=\"ops\" data-rows=\"" + std::to_string(s["ops"].size()) + "\"") !=
                    std::string::npos ||
                dom.find("data-rows=\"" + std::to_string(s["ops"].size()) + "\" id=\"ops\"") !=
                    std::string::npos);
    BOOST_CHECK(dom.find("<td class=\"t\">matmul_bias</td>") != std::string::npos);
    BOOST_CHECK(dom.find("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;") !=
                std::string::npos);
    BOOST_CHECK(dom.find("<img") == std::string::npos);
    BOOST_CHECK(dom.find("<circle") != std::string::npos);  // the roofline is inline
}

// A sweep folder's report: every recorded point in the table, the plots inline.
BOOST_AUTO_TEST_CASE(sweep_report_renders_in_a_headless_browser) {
    temp_dir dir("sweep_report");
    std::ofstream(dir.file.path / "results.jsonl")
        << R"({"index":0,"workload":"a.yaml","status":"ok","params":{"gm.bandwidth":"1TB/s"},"metrics":{"sim_time_ns":100.5}})"
        << "\n"
        << R"({"index":1,"workload":"a.yaml","status":"failed","params":{"gm.bandwidth":"2TB/s"},"metrics":{},"error":"x"})"
        << "\n";
    fs::create_directories(dir.file.path / "plots");
    std::ofstream(dir.file.path / "plots" / "sim_time_ns.svg")
        << "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" "
           "height=\"10\"><rect id=\"plotted\" width=\"5\" height=\"5\"/></svg>\n";
    const test::cli_result r = test::run_cli("report '" + dir.str() + "'");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    const std::string dom = rendered_dom((dir.file.path / "report.html").string());
    BOOST_CHECK_MESSAGE(dom.find("data-status=\"ok\"") != std::string::npos, dom.substr(0, 400));
    BOOST_CHECK(dom.find("data-rows=\"2\"") != std::string::npos);
    BOOST_CHECK(dom.find("<td class=\"t\">failed</td>") != std::string::npos);
    BOOST_CHECK(dom.find("<td>100.500</td>") != std::string::npos);
    BOOST_CHECK(dom.find("id=\"plotted\"") != std::string::npos);
}

// The timeline: stream spans carry the op's arguments, every flow that ends starts at a host
// call, and the L2 bandwidth counter integrates to the bytes L2 served (a closed form: the
// samples hold until the next one).
BOOST_AUTO_TEST_CASE(timeline_has_arguments_flows_and_counters) {
    test::temp_file tl("timeline", ".json"), st("stats", ".json");
    BOOST_REQUIRE_EQUAL(test::run_cli("run --platform tiny --workload bert_check --timing-only "
                                      "--quiet --timeline '" +
                                      tl.str() + "' --stats '" + st.str() + "'")
                            .rc,
                        0);
    const json events = json::parse(test::read_file(tl.str()))["traceEvents"];
    const json s = json::parse(test::read_file(st.str()));
    std::set<uint64_t> starts, ends;
    std::map<std::string, std::vector<std::pair<double, double>>> counters;
    size_t kernels = 0;
    double last_ts = 0;
    for (const auto& e : events) {
        const std::string ph = e["ph"];
        if (ph == "s") starts.insert(e["id"].get<uint64_t>());
        if (ph == "f") ends.insert(e["id"].get<uint64_t>());
        if (ph == "C")
            counters[e["name"]].emplace_back(e["ts"].get<double>(),
                                             e["args"]["value"].get<double>());
        if (ph == "X") last_ts = std::max(last_ts, e["ts"].get<double>() + e["dur"].get<double>());
        if (ph == "X" && e.value("cat", "") == "stream" &&
            e["args"].value("kind", "") == "kernel") {
            ++kernels;
            BOOST_CHECK(e["args"].contains("op") && e["args"].contains("kernel") &&
                        e["args"].contains("tiling") && e["args"].contains("blocks"));
        }
    }
    BOOST_CHECK_EQUAL(kernels, size_t(s["summary"]["kernels"].get<int>()));
    BOOST_CHECK(!ends.empty());
    for (uint64_t id : ends) BOOST_CHECK_MESSAGE(starts.count(id), "flow " << id);
    for (const char* name : {"GM read GB/s", "GM write GB/s", "L2 GB/s",
                             "device memory allocated MiB", "queue depth default"})
        BOOST_CHECK_MESSAGE(counters.count(name), name);
    const auto& l2 = counters["L2 GB/s"];
    double bytes = 0;  // GB/s x us = kB
    for (size_t i = 0; i + 1 < l2.size(); ++i)
        bytes += l2[i].second * (l2[i + 1].first - l2[i].first) * 1e3;
    if (!l2.empty()) BOOST_CHECK_EQUAL(l2.back().second, 0.0);
    const double served = s["memory"]["l2"]["read_bytes"].get<double>() +
                          s["memory"]["l2"]["write_bytes"].get<double>();
    BOOST_CHECK_CLOSE(bytes, served, 0.01);
}

// --timeline-cores and --timeline-window keep only those cores' tracks and that time.
BOOST_AUTO_TEST_CASE(timeline_filters_cores_and_window) {
    test::temp_file tl("timeline", ".json");
    BOOST_REQUIRE_EQUAL(
        test::run_cli("run --platform tiny --workload bert_check --timing-only "
                      "--quiet --timeline '" +
                      tl.str() + "' --timeline-cores 1 --timeline-window 90us:120us")
            .rc,
        0);
    size_t core1 = 0;
    const json trace = json::parse(test::read_file(tl.str()));
    for (const auto& e : trace["traceEvents"]) {
        if (e["ph"] != "X" && e["ph"] != "C") continue;
        const double ts = e["ts"].get<double>(), end = ts + e.value("dur", 0.0);
        BOOST_CHECK_MESSAGE(end >= 90 && ts <= 120, e.dump());
        const int pid = e["pid"].get<int>();
        BOOST_CHECK_MESSAGE(pid < 10 || pid == 11, e.dump());
        core1 += pid == 11;
    }
    BOOST_CHECK_GT(core1, 0u);
    const test::cli_result lone =
        test::run_cli("run --platform tiny --workload matmul --shape 16x16x16 --timeline-cores 0");
    BOOST_CHECK_EQUAL(lone.rc, 2);
    BOOST_CHECK_MESSAGE(lone.out.find("--timeline-cores: filters a timeline, but neither "
                                      "--timeline nor --profile is given") != std::string::npos,
                        lone.out);
}

BOOST_AUTO_TEST_CASE(profile_and_report_misuse_is_named) {
    temp_dir dir("misuse");
    const test::cli_result none = test::run_cli("report '" + dir.str() + "'");
    BOOST_CHECK_EQUAL(none.rc, 2);
    BOOST_CHECK_MESSAGE(none.out.find("holds neither stats.json (a --profile run) nor "
                                      "results.jsonl (a sweep)") != std::string::npos,
                        none.out);
    std::ofstream(dir.file.path / "stats.json") << "{\"schema\": \"other\"}";
    const test::cli_result bad = test::run_cli("report '" + dir.str() + "'");
    BOOST_CHECK_EQUAL(bad.rc, 2);
    BOOST_CHECK_MESSAGE(bad.out.find("stats.json: error: stats.json: not an npusim.stats/1 "
                                     "document") != std::string::npos,
                        bad.out);
    const test::cli_result blocked =
        test::run_cli("run --platform tiny --workload matmul --shape 16x16x16 --profile '" +
                      dir.str() + "/stats.json/sub'");
    BOOST_CHECK_EQUAL(blocked.rc, 2);
    BOOST_CHECK_MESSAGE(
        blocked.out.find("error: --profile: cannot create the folder") != std::string::npos,
        blocked.out);
}

BOOST_AUTO_TEST_SUITE_END()
