#include "tools/npusim/sweep_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "tools/npusim/sweep_report.h"

extern char** environ;

namespace npusim::tools {

namespace fs = std::filesystem;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

std::string point_path(const sweep_options& o, const sweep_point& p, const char* suffix) {
    return o.out_dir + "/points/" + std::to_string(p.index) + suffix;
}

/// Starts `npusim run` for a point with its output going to the point's log.
pid_t start_point(const sweep_spec& s, const sweep_point& p, const sweep_options& o) {
    fs::create_directories(o.out_dir + "/points");
    std::vector<std::string> args = {
        o.self,       "run",      "--platform", s.platform,
        "--workload", p.workload, "--stats",    point_path(o, p, ".stats.json"),
        "--quiet"};
    if (s.timing_only) args.push_back("--timing-only");
    for (const auto& kv : s.sets) args.insert(args.end(), {"--set", kv});
    for (const auto& [k, v] : p.settings) args.insert(args.end(), {"--set", k + "=" + v});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    fs::remove(point_path(o, p, ".stats.json"));
    const std::string log = point_path(o, p, ".log");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, o.self.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    return pid;
}

/// The value at a dotted path of the stats JSON, or null.
json metric_of(const json& stats, const std::string& path) {
    const json* at = &stats;
    std::stringstream ss(path);
    for (std::string part; std::getline(ss, part, '.');) {
        if (!at->is_object() || !at->contains(part)) return nullptr;
        at = &(*at)[part];
    }
    return at->is_number() ? *at : json(nullptr);
}

/// The most telling line of a failed point's log: its first error line, else its last line.
std::string error_of(const std::string& log) {
    std::ifstream in(log);
    std::string line, last, first_error;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        last = line;
        if (first_error.empty() && line.find("error") != std::string::npos) first_error = line;
    }
    return first_error.empty() ? last : first_error;
}

json finish_point(const sweep_spec& s, const sweep_point& p, const sweep_options& o, int wstatus,
                  bool spawned, bool timed_out, double wall) {
    json r;
    r["index"] = p.index;
    r["label"] = p.label();
    r["workload"] = p.workload;
    r["params"] = json::object();
    for (const auto& [k, v] : p.settings) r["params"][k] = v;
    r["wall_s"] = wall;
    r["log"] = point_path(o, p, ".log");
    r["exit_code"] = nullptr;
    r["error"] = "";
    if (!spawned) {
        r["status"] = "failed";
        r["error"] = "could not start " + o.self;
    } else if (timed_out) {
        r["status"] = "timeout";
        r["error"] = fmt::format("timed out after {:g} s", s.timeout_s);
    } else if (WIFSIGNALED(wstatus)) {
        r["status"] = "crashed";
        r["error"] = std::string("killed by signal ") + std::to_string(WTERMSIG(wstatus)) + " (" +
                     strsignal(WTERMSIG(wstatus)) + ")";
    } else {
        r["exit_code"] = WEXITSTATUS(wstatus);
        r["status"] = WEXITSTATUS(wstatus) == 0 ? "ok" : "failed";
        if (WEXITSTATUS(wstatus) != 0) r["error"] = error_of(point_path(o, p, ".log"));
    }
    json stats;
    if (std::ifstream in(point_path(o, p, ".stats.json")); in && r["status"] == "ok") {
        try {
            in >> stats;
        } catch (const json::exception& e) {
            r["status"] = "failed";
            r["error"] = std::string("unreadable stats: ") + e.what();
        }
    }
    r["metrics"] = json::object();
    for (const auto& m : s.metrics)
        r["metrics"][m] = m == "wall_s" ? json(wall) : metric_of(stats, m);
    std::ofstream(point_path(o, p, ".result.json")) << r.dump() << "\n";
    return r;
}

/// A point's simulation in flight.
struct running {
    const sweep_point* p;
    pid_t pid;
    clock_type::time_point t0;
};

/// The point's record once its process has exited, or has been killed at the timeout.
std::optional<json> poll(const sweep_spec& s, const sweep_options& o, const running& r) {
    int st = 0;
    const double wall = std::chrono::duration<double>(clock_type::now() - r.t0).count();
    const bool exited = waitpid(r.pid, &st, WNOHANG) == r.pid;
    const bool late = !exited && wall > s.timeout_s;
    if (late) {
        kill(r.pid, SIGKILL);
        waitpid(r.pid, &st, 0);
    }
    if (!exited && !late) return std::nullopt;
    return finish_point(s, *r.p, o, st, true, late, wall);
}

/// Results already recorded in results.jsonl, by label.
std::map<std::string, json> recorded(const sweep_options& o) {
    std::map<std::string, json> out;
    std::ifstream in(o.out_dir + "/results.jsonl");
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        try {
            json r = json::parse(line);
            out[r.at("label").get<std::string>()] = r;
        } catch (const json::exception&) {
            // a line cut short by an interruption: the point reruns
        }
    }
    return out;
}

std::string csv_field(std::string v) {
    if (v.find_first_of(",\"\n") == std::string::npos) return v;
    std::string q = "\"";
    for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string text_of(const json& v) {
    if (v.is_null()) return "";
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
}

/// Appends one result to results.jsonl and results.csv (with a header when the CSV is new).
void append_result(const sweep_spec& s, const sweep_options& o, const json& r) {
    {
        std::ofstream j(o.out_dir + "/results.jsonl", std::ios::app);
        j << r.dump() << "\n";
    }
    const std::string csv = o.out_dir + "/results.csv";
    const bool fresh = !fs::exists(csv) || fs::file_size(csv) == 0;
    std::ofstream c(csv, std::ios::app);
    if (fresh) {
        c << "index,workload";
        for (const auto& k : s.parameters) c << "," << csv_field(k);
        c << ",status,wall_s";
        for (const auto& m : s.metrics) c << "," << csv_field(m);
        c << ",error\n";
    }
    c << r["index"].get<unsigned>() << "," << csv_field(r["workload"].get<std::string>());
    for (const auto& k : s.parameters)
        c << "," << csv_field(r["params"].contains(k) ? text_of(r["params"][k]) : "");
    c << "," << r["status"].get<std::string>() << "," << text_of(r["wall_s"]);
    for (const auto& m : s.metrics) c << "," << csv_field(text_of(r["metrics"][m]));
    c << "," << csv_field(r["error"].get<std::string>()) << "\n";
}

/// Progress: a bar redrawn in place on a terminal, one plain line per point otherwise.
class progress {
  public:
    explicit progress(size_t total) : m_total(total), m_tty(isatty(2)), m_t0(clock_type::now()) {}
    void point_done(const json& r) {
        ++m_done;
        if (r["status"] != "ok") ++m_failed;
        const double spent = std::chrono::duration<double>(clock_type::now() - m_t0).count();
        const double left = m_done ? spent / double(m_done) * double(m_total - m_done) : 0;
        char eta[32];
        std::snprintf(eta, sizeof eta, "%dm%02ds left", int(left) / 60, int(left) % 60);
        if (m_tty) {
            const int width = 30, fill = int(width * m_done / std::max<size_t>(1, m_total));
            std::fprintf(stderr, "\r[%s%s] %zu/%zu points, %zu failed, %s   ",
                         std::string(size_t(fill), '#').c_str(),
                         std::string(size_t(width - fill), '.').c_str(), m_done, m_total, m_failed,
                         eta);
            if (m_done == m_total) std::fprintf(stderr, "\n");
        } else {
            std::fprintf(stderr, "point %zu/%zu %s (%s, %.1f s)%s%s; %zu failed, %s\n", m_done,
                         m_total, r["status"].get<std::string>().c_str(),
                         r["label"].get<std::string>().c_str(), r["wall_s"].get<double>(),
                         r["error"].get<std::string>().empty() ? "" : ": ",
                         r["error"].get<std::string>().c_str(), m_failed, eta);
        }
    }

  private:
    size_t m_total, m_done = 0, m_failed = 0;
    bool m_tty;
    clock_type::time_point m_t0;
};

/// The results of every point in sweep order, for the summary (missing points are absent).
std::vector<json> ordered(const sweep_spec& s, const std::map<std::string, json>& by_label) {
    std::vector<json> out;
    for (const auto& p : s.points)
        if (auto it = by_label.find(p.label()); it != by_label.end()) out.push_back(it->second);
    return out;
}

int finish(const sweep_spec& s, const sweep_options& o) {
    const auto results = ordered(s, recorded(o));
    write_report(s, o.out_dir, results);
    for (const auto& r : results)
        if (r["status"] != "ok") return 1;
    return results.size() == s.points.size() ? 0 : 1;
}

}  // namespace

std::set<std::string> recorded_labels(const sweep_options& o) {
    std::set<std::string> out;
    for (const auto& [label, r] : recorded(o)) out.insert(label);
    return out;
}

json run_point(const sweep_spec& s, const sweep_point& p, const sweep_options& o) {
    const running r{&p, start_point(s, p, o), clock_type::now()};
    if (r.pid < 0) return finish_point(s, p, o, 0, false, false, 0);
    for (;;) {
        if (auto done = poll(s, o, r)) return *done;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

int run_sweep(const sweep_spec& s, const sweep_options& o) {
    fs::create_directories(o.out_dir);
    const auto done = recorded(o);
    std::vector<const sweep_point*> todo;
    for (const auto& p : s.points)
        if (!done.count(p.label())) todo.push_back(&p);
    if (!done.empty())
        std::fprintf(stderr, "resuming: %zu of %zu points already recorded in %s\n",
                     s.points.size() - todo.size(), s.points.size(), o.out_dir.c_str());
    progress bar(todo.size());
    std::vector<running> busy;
    size_t next = 0;
    while (next < todo.size() || !busy.empty()) {
        while (next < todo.size() && busy.size() < std::max(1u, o.jobs)) {
            const sweep_point* p = todo[next++];
            const auto t0 = clock_type::now();
            const pid_t pid = start_point(s, *p, o);
            if (pid < 0) {
                const json r = finish_point(s, *p, o, 0, false, false, 0);
                append_result(s, o, r);
                bar.point_done(r);
                continue;
            }
            busy.push_back({p, pid, t0});
        }
        for (size_t i = 0; i < busy.size();) {
            if (auto r = poll(s, o, busy[i])) {
                append_result(s, o, *r);
                bar.point_done(*r);
                busy.erase(busy.begin() + long(i));
            } else {
                ++i;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return finish(s, o);
}

int collect_sweep(const sweep_spec& s, const sweep_options& o) {
    const auto done = recorded(o);
    size_t added = 0, missing = 0;
    for (const auto& p : s.points) {
        if (done.count(p.label())) continue;
        std::ifstream in(point_path(o, p, ".result.json"));
        json r;
        try {
            if (in) in >> r;
        } catch (const json::exception&) {
            r = nullptr;
        }
        if (r.is_object() && r.value("label", "") == p.label()) {
            append_result(s, o, r);
            ++added;
        } else {
            ++missing;
            std::fprintf(stderr, "point %u has no result yet (%s)\n", p.index, p.label().c_str());
        }
    }
    std::fprintf(stderr, "collected %zu new results; %zu points missing\n", added, missing);
    const int rc = finish(s, o);
    return missing ? 1 : rc;
}

}  // namespace npusim::tools
