#pragma once
// Shared by the benchmarks: wall-clock rates on a shared machine vary from run to run, so a
// figure is measured in several child processes (SystemC elaborates once per process) and
// reported as best and median. A child is this same executable started with other arguments,
// directly (no shell sees any argument or path).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace npusim::bench {

/// @brief Runs `program` with `args` directly (no shell). With `out`, collects its standard
/// output there; without, it writes to ours. Its standard error is ours unless `quiet`.
/// Returns its exit status, or -1 if it could not start.
inline int run_program(const std::string& program, const std::vector<std::string>& args,
                       std::string* out = nullptr, bool quiet = false) {
    if (out) out->clear();
    std::vector<std::string> argv_s{program};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2] = {-1, -1};
    if (out && pipe(fds) != 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (quiet) posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (out) {
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        posix_spawn_file_actions_addclose(&fa, fds[1]);
    }
    std::fflush(stdout);  // the child's lines come after ours
    pid_t pid = 0;
    const int started = posix_spawn(&pid, program.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (out) {
        close(fds[1]);
        char buf[4096];
        for (ssize_t got; started == 0 && (got = read(fds[0], buf, sizeof buf)) != 0;)
            if (got > 0) out->append(buf, size_t(got));
        close(fds[0]);
    }
    if (started != 0) return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// @brief This executable's path (a benchmark runs each case in a child of itself).
inline std::string self_path() {
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    return n > 0 ? std::string(self, size_t(n)) : std::string();
}

/// @brief run_program() on this executable.
inline int run_self(const std::vector<std::string>& args, std::string* out = nullptr) {
    return run_program(self_path(), args, out);
}

/// @brief The sum of one figure (`bursts`, `bytes`) over every DMA engine of every core in a
/// run's stats JSON.
template <class Json>
double engines_total(const Json& stats, const char* key) {
    double total = 0;
    for (const auto& core : stats["cores"])
        for (const auto& e : core["engines"]) total += e[key].template get<double>();
    return total;
}

/// @brief Runs this executable with `args` `runs` times; prints each run's last output line and
/// collects the number in front of `unit` on it. Returns the rates sorted; `rc` becomes
/// non-zero if a run failed.
inline std::vector<double> child_rates(const std::vector<std::string>& args, int runs,
                                       const std::string& unit, int& rc) {
    std::vector<double> rates;
    for (int i = 0; i < runs; ++i) {
        std::string out;
        rc |= run_self(args, &out) != 0;
        if (!out.empty() && out.back() == '\n') out.pop_back();
        const std::string last = out.substr(out.rfind('\n') + 1) + "\n";
        std::printf("%s", last.c_str());
        std::fflush(stdout);
        const auto at = last.find(" " + unit);
        if (at != std::string::npos && at > 0)
            rates.push_back(std::atof(last.substr(last.rfind(' ', at - 1)).c_str()));
    }
    std::sort(rates.begin(), rates.end());
    return rates;
}

}  // namespace npusim::bench
