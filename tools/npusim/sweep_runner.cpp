#include "tools/npusim/sweep_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "tools/npusim/sweep_report.h"

namespace npusim::tools {

namespace fs = std::filesystem;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int sig) {
    g_signal = sig;
}

/// SIGINT, SIGTERM and SIGHUP stop the run loop (not the process) while this lives, so the
/// running points are killed and nothing half-done is recorded.
class signal_guard {
  public:
    signal_guard() {
        g_signal = 0;
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < 3; ++i) sigaction(m_signals[i], &sa, &m_old[i]);
    }
    ~signal_guard() {
        for (size_t i = 0; i < 3; ++i) sigaction(m_signals[i], &m_old[i], nullptr);
    }
    signal_guard(const signal_guard&) = delete;
    signal_guard& operator=(const signal_guard&) = delete;

  private:
    const int m_signals[3] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction m_old[3];
};

/// One JSON line; bytes that are not UTF-8 (from a log, say) become U+FFFD instead of
/// throwing in the middle of a sweep.
std::string json_line(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

/// Writes `text` to `path` through a temporary file and a rename: readers never see half.
void write_atomically(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp" + std::to_string(getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) throw std::runtime_error("cannot write " + tmp);
    }
    fs::rename(tmp, path);
}

/// The child side of a fork: dies with its parent, then runs `argv` with the given files.
[[noreturn]] void exec_child(pid_t parent, const char* exe, char* const* argv, int in, int out,
                             int err, const char* dir) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (dir && chdir(dir) != 0) _exit(127);
    execv(exe, argv);
    static const char msg[] = "npusim sweep: cannot execute the command\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
}

std::vector<char*> argv_of(std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return argv;
}

std::string point_path(const sweep_options& o, unsigned index, const char* suffix) {
    return o.out_dir + "/points/" + std::to_string(index) + suffix;
}

/// Starts `npusim run` for a point with its output going to the point's log.
pid_t start_point(const sweep_spec& s, const sweep_point& p, const sweep_options& o) {
    fs::create_directories(o.out_dir + "/points");
    std::vector<std::string> args;
    if (s.serving.empty()) {
        args = {o.self,       "run",      "--platform", s.platform,
                "--workload", p.workload, "--stats",    point_path(o, p.index, ".stats.json"),
                "--quiet"};
        if (s.timing_only) args.push_back("--timing-only");
    } else {  // serving.KEY parameters override the serving file, the rest the platform
        args = {o.self,
                "serve",
                s.serving,
                "--stats",
                point_path(o, p.index, ".stats.json"),
                "--out",
                point_path(o, p.index, ""),
                "--quiet"};
    }
    for (const auto& kv : s.sets) args.insert(args.end(), {"--set", kv});
    for (const auto& [k, v] : p.settings) {
        const bool serving_key = !s.serving.empty() && k.rfind("serving.", 0) == 0;
        args.insert(args.end(), {serving_key ? "--with" : "--set",
                                 serving_key ? k.substr(8) + "=" + v : k + "=" + v});
    }
    auto argv = argv_of(args);
    fs::remove(point_path(o, p.index, ".stats.json"));
    const std::string log = point_path(o, p.index, ".log");
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || null < 0) {
        if (fd >= 0) close(fd);
        if (null >= 0) close(null);
        return -1;
    }
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) exec_child(parent, o.self.c_str(), argv.data(), null, fd, fd, nullptr);
    close(fd);
    close(null);
    return pid;
}

/// The value at a dotted path of the stats JSON, or null. A key may itself hold dots
/// ("channel0.busy_ns"), so the longest matching key wins at each level.
json metric_of(const json& at, const std::string& path) {
    if (path.empty()) return at.is_number() ? at : json(nullptr);
    if (!at.is_object()) return nullptr;
    for (size_t end = path.size(); end != std::string::npos && end > 0;
         end = end == 0 ? std::string::npos : path.rfind('.', end - 1)) {
        const std::string key = path.substr(0, end);
        if (auto it = at.find(key); it != at.end()) {
            json v = metric_of(*it, end == path.size() ? "" : path.substr(end + 1));
            if (!v.is_null()) return v;
        }
        if (end == 0) break;
    }
    return nullptr;
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
    std::string e = first_error.empty() ? last : first_error;
    if (e.size() > 500) e = e.substr(0, 500) + "...";
    return e;
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
    r["log"] = point_path(o, p.index, ".log");
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
        if (WEXITSTATUS(wstatus) != 0) r["error"] = error_of(point_path(o, p.index, ".log"));
    }
    json stats;
    if (std::ifstream in(point_path(o, p.index, ".stats.json")); in && r["status"] == "ok") {
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
    write_atomically(point_path(o, p.index, ".result.json"), json_line(r));
    return r;
}

/// A point's simulation in flight.
struct running {
    const sweep_point* p;
    pid_t pid;
    clock_type::time_point t0;
};

/// Kills and reaps the points still running when it goes (an exception, an interrupt).
struct running_set {
    std::vector<running> v;
    ~running_set() { stop(); }
    size_t stop() {
        for (const auto& r : v) kill(r.pid, SIGKILL);
        for (const auto& r : v) waitpid(r.pid, nullptr, 0);
        const size_t n = v.size();
        v.clear();
        return n;
    }
};

/// The point's record once its process has exited, or has been killed at the timeout.
std::optional<json> poll_point(const sweep_spec& s, const sweep_options& o, const running& r) {
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

/// A record read back, with every field the readers use of the right type; nullopt when it
/// cannot identify its point.
std::optional<json> normalized(json r) {
    if (!r.is_object() || !r.contains("label") || !r["label"].is_string()) return std::nullopt;
    auto fix = [&](const char* key, const json& fallback, bool ok) {
        if (!r.contains(key) || !ok) r[key] = fallback;
    };
    fix("index", 0u, r.contains("index") && r["index"].is_number_unsigned());
    for (const char* k : {"workload", "status", "error", "log"})
        fix(k, k == std::string("status") ? "failed" : "", r.contains(k) && r[k].is_string());
    fix("params", json::object(), r.contains("params") && r["params"].is_object());
    fix("metrics", json::object(), r.contains("metrics") && r["metrics"].is_object());
    fix("wall_s", 0.0, r.contains("wall_s") && r["wall_s"].is_number());
    return r;
}

std::string results_file(const sweep_options& o) {
    return o.out_dir + "/results.jsonl";
}

/// The records of results.jsonl in file order (several for one label are possible until
/// prepare_results merges them). A torn last line is cut off the file when `repair` is set.
std::vector<json> read_records(const sweep_options& o, bool repair, bool* torn = nullptr) {
    const std::string path = results_file(o);
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (!text.empty() && text.back() != '\n') {
        text.erase(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
        if (torn) *torn = true;
        if (repair) fs::resize_file(path, text.size());
    }
    std::vector<json> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        try {
            if (auto r = normalized(json::parse(line))) out.push_back(std::move(*r));
        } catch (const json::exception&) {
            // not a record (a damaged line): its point reruns
        }
    }
    return out;
}

/// The last record of each label.
std::map<std::string, json> by_label(const std::vector<json>& records) {
    std::map<std::string, json> out;
    for (const auto& r : records) out[r["label"].get<std::string>()] = r;
    return out;
}

void append_record(const sweep_options& o, const json& r) {
    const std::string line = json_line(r);
    const int fd = open(results_file(o).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot append to " + results_file(o));
    const ssize_t n = write(fd, line.data(), line.size());  // one write: one whole line
    close(fd);
    if (n != ssize_t(line.size())) throw std::runtime_error("cannot append to " + results_file(o));
}

/// The stats of a recorded point, if its files in OUT/points are still that point's.
json stats_of(const sweep_options& o, const json& r) {
    const unsigned index = r["index"].get<unsigned>();
    try {
        std::ifstream res(point_path(o, index, ".result.json"));
        json result;
        res >> result;
        if (!result.is_object() || result.value("label", "") != r["label"].get<std::string>())
            return nullptr;
        std::ifstream st(point_path(o, index, ".stats.json"));
        json stats;
        st >> stats;
        return stats;
    } catch (const json::exception&) {
        return nullptr;
    }
}

/// A record with a value (or null) for every metric of the sweep: a metric added to the sweep
/// file after the point ran is read back from the point's stats file when it is still there.
json with_metrics(const sweep_spec& s, const sweep_options& o, json r) {
    std::optional<json> stats;
    for (const auto& m : s.metrics) {
        if (r["metrics"].contains(m) && (r["metrics"][m].is_number() || r["metrics"][m].is_null()))
            continue;
        if (m == "wall_s") {
            r["metrics"][m] = r["wall_s"];
            continue;
        }
        if (!stats) stats = r["status"] == "ok" ? stats_of(o, r) : json(nullptr);
        r["metrics"][m] = metric_of(*stats, m);
    }
    return r;
}

std::string csv_field(std::string v) {
    if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
    std::string q = "\"";
    for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string text_of(const json& v) {
    if (v.is_null()) return "";
    if (v.is_string()) return v.get<std::string>();
    return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// The records of this sweep's points in sweep order, metrics filled in.
std::vector<json> ordered(const sweep_spec& s, const sweep_options& o) {
    const auto recs = by_label(read_records(o, false));
    std::vector<json> out;
    for (const auto& p : s.points)
        if (auto it = recs.find(p.label()); it != recs.end())
            out.push_back(with_metrics(s, o, it->second));
    return out;
}

/// results.csv, written afresh from the records (one row per point, in sweep order).
void write_csv(const sweep_spec& s, const sweep_options& o, const std::vector<json>& results) {
    std::string c = "index,workload";
    for (const auto& k : s.parameters) c += "," + csv_field(k);
    c += ",status,wall_s";
    for (const auto& m : s.metrics) c += "," + csv_field(m);
    c += ",error\n";
    for (const auto& r : results) {
        c += text_of(r["index"]) + "," + csv_field(r["workload"].get<std::string>());
        for (const auto& k : s.parameters)
            c += "," + csv_field(r["params"].contains(k) ? text_of(r["params"][k]) : "");
        c += "," + csv_field(r["status"].get<std::string>()) + "," + text_of(r["wall_s"]);
        for (const auto& m : s.metrics) c += "," + csv_field(text_of(r["metrics"][m]));
        c += "," + csv_field(r["error"].get<std::string>()) + "\n";
    }
    write_atomically(o.out_dir + "/results.csv", c);
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

int finish(const sweep_spec& s, const sweep_options& o) {
    const auto results = ordered(s, o);
    write_csv(s, o, results);
    write_report(s, o.out_dir, results);
    for (const auto& r : results)
        if (r["status"] != "ok") return 1;
    return results.size() == s.points.size() ? 0 : 1;
}

}  // namespace

sweep_lock::sweep_lock(const std::string& out_dir) {
    fs::create_directories(out_dir);
    const std::string path = out_dir + "/.lock";
    m_fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0)
        throw sweep_busy("npusim sweep: cannot create " + path + ": " + std::strerror(errno) +
                         "\n  hint: give an --out folder you can write to");
    if (flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        char buf[32] = {};
        const ssize_t n = pread(m_fd, buf, sizeof buf - 1, 0);
        std::string pid = n > 0 ? std::string(buf, size_t(n)) : "unknown";
        while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
        close(m_fd);
        m_fd = -1;
        throw sweep_busy("npusim sweep: another sweep (pid " + pid + ") holds " + out_dir +
                         "\n  hint: wait for it to finish, stop it, or give another --out");
    }
    const std::string me = std::to_string(getpid()) + "\n";
    if (ftruncate(m_fd, 0) == 0) (void)!pwrite(m_fd, me.data(), me.size(), 0);
}

sweep_lock::~sweep_lock() {
    if (m_fd >= 0) close(m_fd);  // closing drops the flock
}

std::string find_on_path(const std::string& name) {
    const char* env = std::getenv("PATH");
    std::stringstream ss(env ? env : "/usr/local/bin:/usr/bin:/bin");
    for (std::string dir; std::getline(ss, dir, ':');) {
        const std::string path = (dir.empty() ? std::string(".") : dir) + "/" + name;
        struct stat st {};
        if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0)
            return path;
    }
    return "";
}

int run_process(const std::vector<std::string>& args, std::string* out, bool merge_err,
                const std::string& dir, double timeout_s) {
    const std::string exe =
        args.at(0).find('/') == std::string::npos ? find_on_path(args[0]) : args[0];
    if (exe.empty()) return -1;
    std::vector<std::string> copy = args;
    auto argv = argv_of(copy);
    int pipe_fd[2] = {-1, -1};
    if (out && pipe2(pipe_fd, O_CLOEXEC) != 0) return -1;
    const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    const pid_t parent = getpid();
    const pid_t pid = null < 0 ? -1 : fork();
    if (pid == 0)
        exec_child(parent, exe.c_str(), argv.data(), null, out ? pipe_fd[1] : null,
                   out && merge_err ? pipe_fd[1] : null, dir.empty() ? nullptr : dir.c_str());
    if (null >= 0) close(null);
    if (out) close(pipe_fd[1]);
    if (pid < 0) {
        if (out) close(pipe_fd[0]);
        return -1;
    }
    const auto deadline = clock_type::now() + std::chrono::duration<double>(timeout_s);
    if (out) {
        char buf[4096];
        for (;;) {
            if (clock_type::now() > deadline) break;
            pollfd p{pipe_fd[0], POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            const ssize_t n = read(pipe_fd[0], buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            out->append(buf, size_t(n));
        }
        close(pipe_fd[0]);
        while (!out->empty() && (out->back() == '\n' || out->back() == '\r')) out->pop_back();
    }
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (clock_type::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return status;
}

int interrupt_signal() {
    return g_signal;
}

json run_point(const sweep_spec& s, const sweep_point& p, const sweep_options& o) {
    signal_guard sg;
    running_set busy;
    const pid_t pid = start_point(s, p, o);
    if (pid < 0) return finish_point(s, p, o, 0, false, false, 0);
    busy.v.push_back({&p, pid, clock_type::now()});
    for (;;) {
        if (g_signal) {
            busy.stop();
            return nullptr;
        }
        if (auto done = poll_point(s, o, busy.v[0])) {
            busy.v.clear();
            return *done;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

std::set<std::string> prepare_results(const sweep_spec& s, const sweep_options& o) {
    fs::create_directories(o.out_dir + "/points");
    bool torn = false;
    const auto records = read_records(o, true, &torn);
    auto recs = by_label(records);
    size_t retried = 0;
    if (o.retry_failed)
        for (const auto& p : s.points)
            if (auto it = recs.find(p.label()); it != recs.end() && it->second["status"] != "ok") {
                recs.erase(it);
                ++retried;
            }
    if (torn)
        std::fprintf(stderr, "repaired %s: cut off a torn last line (its point runs again)\n",
                     results_file(o).c_str());
    if (retried) std::fprintf(stderr, "--retry-failed: %zu failed points run again\n", retried);
    // Metrics added to the sweep since a point ran are read back once, here, and kept.
    bool changed = recs.size() != records.size();  // merged repeats or dropped failures
    for (const auto& p : s.points)
        if (auto it = recs.find(p.label()); it != recs.end()) {
            json filled = with_metrics(s, o, it->second);
            if (filled != it->second) {
                it->second = std::move(filled);
                changed = true;
            }
        }
    if (changed) {  // each label once, where its last record was
        std::map<std::string, size_t> last;
        for (size_t i = 0; i < records.size(); ++i)
            last[records[i]["label"].get<std::string>()] = i;
        std::vector<std::pair<size_t, std::string>> order;
        for (const auto& [label, i] : last)
            if (recs.count(label)) order.emplace_back(i, label);
        std::sort(order.begin(), order.end());
        std::string text;
        for (const auto& [i, label] : order) text += json_line(recs[label]);
        write_atomically(results_file(o), text);
    }
    std::set<std::string> out;
    for (const auto& [label, r] : by_label(read_records(o, false))) out.insert(label);
    return out;
}

int run_sweep(const sweep_spec& s, const sweep_options& o) {
    const auto done = prepare_results(s, o);
    std::vector<const sweep_point*> todo;
    for (const auto& p : s.points)
        if (!done.count(p.label())) todo.push_back(&p);
    if (todo.size() < s.points.size())
        std::fprintf(stderr, "resuming: %zu of %zu points already recorded in %s\n",
                     s.points.size() - todo.size(), s.points.size(), o.out_dir.c_str());
    signal_guard sg;
    progress bar(todo.size());
    running_set busy;
    size_t next = 0;
    auto last_csv = clock_type::now();
    while ((next < todo.size() || !busy.v.empty()) && !g_signal) {
        while (next < todo.size() && busy.v.size() < std::max(1u, o.jobs) && !g_signal) {
            const sweep_point* p = todo[next++];
            const auto t0 = clock_type::now();
            const pid_t pid = start_point(s, *p, o);
            if (pid < 0) {
                const json r = finish_point(s, *p, o, 0, false, false, 0);
                append_record(o, r);
                bar.point_done(r);
                continue;
            }
            busy.v.push_back({p, pid, t0});
        }
        for (size_t i = 0; i < busy.v.size() && !g_signal;) {
            if (auto r = poll_point(s, o, busy.v[i])) {
                append_record(o, *r);
                bar.point_done(*r);
                busy.v.erase(busy.v.begin() + long(i));
            } else {
                ++i;
            }
        }
        if (clock_type::now() - last_csv > std::chrono::seconds(2)) {  // a live results.csv
            write_csv(s, o, ordered(s, o));
            last_csv = clock_type::now();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (g_signal) {
        const size_t stopped = busy.stop();
        write_csv(s, o, ordered(s, o));
        std::fprintf(stderr,
                     "\nnpusim sweep: interrupted (%s); stopped %zu running points, not "
                     "recorded\n  hint: run the same command again to resume\n",
                     strsignal(g_signal), stopped);
        return 128 + g_signal;
    }
    return finish(s, o);
}

int collect_sweep(const sweep_spec& s, const sweep_options& o) {
    const auto done = prepare_results(s, o);
    size_t added = 0, missing = 0;
    for (const auto& p : s.points) {
        if (done.count(p.label())) continue;
        std::ifstream in(point_path(o, p.index, ".result.json"));
        std::optional<json> r;
        try {
            if (in) r = normalized(json::parse(in));
        } catch (const json::exception&) {
            r.reset();
        }
        if (r && (*r)["label"] == p.label()) {
            append_record(o, *r);
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
