#include "tools/npusim/sweep_slurm.h"

#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "platform/config/config_error.h"

namespace npusim::tools {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

namespace {

std::string quote(const std::string& s) {
    return shell_quote(s);
}

/// Paths and names go into the script only if they cannot end a line or, in #SBATCH lines
/// (which sbatch reads without a shell), change the option.
void check_text(const std::string& flag, const std::string& v, bool in_sbatch_line) {
    for (char c : v) {
        const auto u = static_cast<unsigned char>(c);
        const bool plain =
            std::isalnum(u) || std::string("_./+,:@%=-").find(c) != std::string::npos;
        if (u < 0x20 || u == 0x7f || (in_sbatch_line && !plain))
            throw platform::config_error(
                flag + " " + v, flag,
                in_sbatch_line ? "has a character a Slurm #SBATCH line cannot take"
                               : "has a control character (such as a newline)",
                in_sbatch_line ? "use a path of letters, digits and _ . / + , : @ = -"
                               : "rename it without control characters");
    }
}

/// "0-3,5,7-9" from ascending indices.
std::string ranges(const std::vector<unsigned>& v) {
    std::string s;
    for (size_t i = 0; i < v.size();) {
        size_t j = i;
        while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
        s += (s.empty() ? "" : ",") + std::to_string(v[i]) +
             (j > i ? "-" + std::to_string(v[j]) : std::string());
        i = j + 1;
    }
    return s;
}

size_t results_present(const sweep_options& o, const std::vector<unsigned>& todo) {
    size_t n = 0;
    for (unsigned i : todo)
        if (fs::exists(o.out_dir + "/points/" + std::to_string(i) + ".result.json")) ++n;
    return n;
}

/// The script for the points not yet recorded (listed in `todo`), or "" when there are none.
std::string emit(const sweep_spec& s, const sweep_options& o, const std::string& file,
                 std::vector<unsigned>& todo) {
    check_text("--out", o.out_dir, true);
    check_text("sweep file", file, false);
    check_text("npusim path", o.self, false);
    check_text("name", s.name, true);  // a checked identifier already
    const std::set<std::string> done = prepare_results(s, o);
    const std::string dir = o.out_dir + "/slurm";
    fs::create_directories(dir);
    std::ofstream list(dir + "/points.txt");
    for (const auto& p : s.points) {
        list << p.index << "\t" << p.label() << "\n";
        if (done.count(p.label())) continue;
        todo.push_back(p.index);
        // a stale result from an earlier array must not be collected as this one's
        fs::remove(o.out_dir + "/points/" + std::to_string(p.index) + ".result.json");
    }
    if (todo.empty()) return "";
    const std::string script = dir + "/array.sbatch";
    std::ofstream sb(script);
    sb << "#!/bin/bash\n"
       << "#SBATCH --job-name=npusim-" << s.name << "\n"
       << "#SBATCH --array=" << ranges(todo) << "\n"
       << "#SBATCH --output=" << dir << "/%a.out\n"
       << "#SBATCH --cpus-per-task=1\n"
       << "#SBATCH --time=" << int(std::ceil(s.timeout_s / 60)) + 1 << "\n"
       << "# one sweep point per array task; collect with:\n"
       << "#   npusim sweep " << quote(file) << " --out " << quote(o.out_dir) << " --collect\n"
       << "exec " << quote(o.self) << " sweep " << quote(file) << " --out " << quote(o.out_dir)
       << " --point \"$SLURM_ARRAY_TASK_ID\"\n";
    return script;
}

}  // namespace

std::string emit_slurm(const sweep_spec& s, const sweep_options& o, const std::string& file) {
    std::vector<unsigned> todo;
    return emit(s, o, file, todo);
}

int submit_slurm(const sweep_spec& s, const sweep_options& o, const std::string& file) {
    std::vector<unsigned> todo;
    const std::string script = emit(s, o, file, todo);
    if (script.empty()) {
        std::fprintf(stderr, "every point is already recorded in %s\n", o.out_dir.c_str());
        return collect_sweep(s, o);
    }
    std::string job;
    int st = -1;
    const char* conf = std::getenv("SLURM_CONF");
    if (conf && !fs::exists(conf))  // sbatch itself retries such a file for a minute
        job = std::string("SLURM_CONF names ") + conf + ", which does not exist";
    else
        st = run_process({"sbatch", "--parsable", script}, &job, true, "", 120);
    const bool ok = st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!ok || job.empty() || job.find_first_not_of("0123456789;") != std::string::npos) {
        std::fprintf(stderr,
                     "npusim sweep: sbatch failed: %s\n  hint: is Slurm running and "
                     "SLURM_CONF set? (scripts/slurm-single-node.sh starts a local one)\n",
                     st < 0 && job.empty() ? "cannot run sbatch (not on PATH?)" : job.c_str());
        return 1;
    }
    const std::string id = job.substr(0, job.find(';'));
    std::fprintf(stderr, "submitted array job %s (%s)\n", id.c_str(), script.c_str());
    size_t shown = size_t(-1);
    for (int failures = 0; failures < 20 && !interrupt_signal();) {
        std::string q;
        const int qs = run_process({"squeue", "-h", "-j", id, "-o", "%i"}, &q, false, "", 30);
        const bool q_ok = qs >= 0 && WIFEXITED(qs) && WEXITSTATUS(qs) == 0;
        const size_t have = results_present(o, todo);
        if (have != shown) {
            std::fprintf(stderr, "slurm: %zu/%zu points finished\n", have, todo.size());
            shown = have;
        }
        if (q_ok && q.empty()) break;
        failures = q_ok ? 0 : failures + 1;  // squeue down for 10 s: collect what is there
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return collect_sweep(s, o);
}

}  // namespace npusim::tools
