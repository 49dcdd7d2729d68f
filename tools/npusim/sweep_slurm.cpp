#include "tools/npusim/sweep_slurm.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

namespace npusim::tools {

namespace fs = std::filesystem;

namespace {

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
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

/// Runs a shell command and returns its standard output (trailing newline removed).
std::string capture(const std::string& cmd, int& rc) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) {
        rc = -1;
        return out;
    }
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    rc = pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

size_t results_present(const sweep_options& o, const std::vector<unsigned>& todo) {
    size_t n = 0;
    for (unsigned i : todo)
        if (fs::exists(o.out_dir + "/points/" + std::to_string(i) + ".result.json")) ++n;
    return n;
}

}  // namespace

std::string emit_slurm(const sweep_spec& s, const sweep_options& o, const std::string& file) {
    const std::set<std::string> done = recorded_labels(o);
    std::vector<unsigned> todo;
    const std::string dir = o.out_dir + "/slurm";
    fs::create_directories(dir);
    fs::create_directories(o.out_dir + "/points");
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
       << "# one sweep point per array task; collect with: npusim sweep " << file << " --out "
       << o.out_dir << " --collect\n"
       << "exec " << quote(o.self) << " sweep " << quote(file) << " --out " << quote(o.out_dir)
       << " --point \"$SLURM_ARRAY_TASK_ID\"\n";
    return script;
}

int submit_slurm(const sweep_spec& s, const sweep_options& o, const std::string& file) {
    const std::string script = emit_slurm(s, o, file);
    if (script.empty()) {
        std::fprintf(stderr, "every point is already recorded in %s\n", o.out_dir.c_str());
        return collect_sweep(s, o);
    }
    int rc = 0;
    const std::string job = capture("sbatch --parsable " + quote(script) + " 2>&1", rc);
    if (rc != 0 || job.empty() || job.find_first_not_of("0123456789;") != std::string::npos) {
        std::fprintf(stderr,
                     "npusim sweep: sbatch failed: %s\n  hint: is Slurm running and "
                     "SLURM_CONF set? (scripts/slurm-single-node.sh starts a local one)\n",
                     job.c_str());
        return 1;
    }
    const std::string id = job.substr(0, job.find(';'));
    const std::set<std::string> done = recorded_labels(o);
    std::vector<unsigned> todo;
    for (const auto& p : s.points)
        if (!done.count(p.label())) todo.push_back(p.index);
    std::fprintf(stderr, "submitted array job %s (%s)\n", id.c_str(), script.c_str());
    size_t shown = size_t(-1);
    for (int failures = 0; failures < 20;) {
        const std::string q = capture("squeue -h -j " + id + " -o %i 2>/dev/null", rc);
        const size_t have = results_present(o, todo);
        if (have != shown) {
            std::fprintf(stderr, "slurm: %zu/%zu points finished\n", have, todo.size());
            shown = have;
        }
        if (rc == 0 && q.empty()) break;
        failures = rc == 0 ? 0 : failures + 1;  // squeue down for 10 s: collect what is there
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return collect_sweep(s, o);
}

}  // namespace npusim::tools
