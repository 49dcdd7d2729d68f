// npusim_fuzz_ops: runs the property-based op tester (tests/sw/op_property.h) for a while.
// SystemC runs one simulation per process, so the driver runs batches of cases in child
// processes of itself (argument vectors, no shell) and, when a batch faults, crashes or hangs,
// reruns its cases one by one to name the failing ones. Each batch runs twice, functional
// (checked against the CPU references) and timing-only, and the two runs' stats must be
// identical bit for bit; when they are not, each case is run alone to name the ones that
// differ. scripts/fuzz-ops calls it; CTest runs a fixed number of cases per preset.
//
//   npusim_fuzz_ops --minutes N [--seed S] [--preset P|all] [--batch K] [--op NAME]
//   npusim_fuzz_ops --cases N [--seed S] [--preset P|all] [--batch K] [--op NAME]
//   npusim_fuzz_ops --case SEED --preset P          one case, e.g. to reproduce a failure
//
// --op keeps only the cases of one op (the others are drawn and skipped, so a case's seed
// still repeats it with --case alone).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <systemc>
#include <vector>

#include "platform/config/config_loader.h"
#include "sw/ops/registry.h"
#include "tests/sw/op_property.h"

extern char** environ;

namespace {

const std::vector<std::string> k_presets = {"tiny", "ascend910", "ascend910b1", "ascend310p3"};
constexpr unsigned k_child_seconds = 300;  // a batch that runs longer hangs

int usage(const std::string& why) {
    std::cerr << "npusim_fuzz_ops: " << why
              << "\nusage: npusim_fuzz_ops --minutes N|--cases N [--seed S] [--preset P|all] "
                 "[--batch K] [--op NAME]\n"
                 "       npusim_fuzz_ops --case SEED --preset P\n";
    return 2;
}

bool parse_u64(const std::string& s, uint64_t& out) {
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
        return false;
    out = std::stoull(s);
    return true;
}

/// Child mode: one simulation of `seeds`; one line per outcome on stdout, then its stats.
int run_batch(const std::string& preset, const std::vector<uint64_t>& seeds, bool timing_only) {
    alarm(k_child_seconds);
    const auto r = npusim::test::run_cases(preset, seeds, timing_only);
    for (const auto& f : r.refusals) std::cout << "refused " << f << "\n";
    for (const auto& f : r.failures) std::cout << "FAIL " << f << "\n";
    if (!r.batch_failure.empty()) std::cout << "BATCH_FAIL\n";
    std::cout << "done " << r.cases << " " << r.run << " " << r.refused << " " << r.empty << "\n";
    std::cout << "stats " << r.stats.dump() << "\n";
    return r.failures.empty() ? 0 : 1;
}

struct child_result {
    std::string out;
    std::string ended;  ///< "" normal exit, else how it ended (signal)
};

/// Runs this program with `args`, collecting its stdout.
child_result spawn_self(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    static char self[] = "/proc/self/exe";
    argv.push_back(self);
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    child_result r;
    if (pipe(fds) != 0) {
        r.ended = "pipe failed";
        return r;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    pid_t pid = 0;
    if (posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv.data(), environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        close(fds[0]);
        close(fds[1]);
        r.ended = "spawn failed";
        return r;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) r.out.append(buf, size_t(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
        r.ended = WTERMSIG(status) == SIGALRM
                      ? "hung (over " + std::to_string(k_child_seconds) + " s)"
                      : std::string("died of signal ") + strsignal(WTERMSIG(status));
    return r;
}

std::vector<std::string> lines_starting(const std::string& out, const std::string& head) {
    std::vector<std::string> v;
    size_t at = 0;
    while (at < out.size()) {
        size_t end = out.find('\n', at);
        if (end == std::string::npos) end = out.size();
        const std::string line = out.substr(at, end - at);
        if (line.compare(0, head.size(), head) == 0) v.push_back(line.substr(head.size()));
        at = end + 1;
    }
    return v;
}

std::string seed_list(const std::vector<uint64_t>& seeds) {
    std::string s;
    for (uint64_t x : seeds) s += (s.empty() ? "" : ",") + std::to_string(x);
    return s;
}

struct totals {
    uint64_t cases = 0, run = 0, refused = 0, empty = 0;
    std::vector<std::string> failures;
};

void add_counts(totals& t, const std::string& out) {
    for (const auto& d : lines_starting(out, "done ")) {
        unsigned long long c = 0, r = 0, f = 0, e = 0;
        if (std::sscanf(d.c_str(), "%llu %llu %llu %llu", &c, &r, &f, &e) == 4) {
            t.cases += c;
            t.run += r;
            t.refused += f;
            t.empty += e;
        }
    }
}

child_result run_child(const std::string& preset, const std::vector<uint64_t>& seeds,
                       bool timing_only) {
    std::vector<std::string> args = {"--run-batch", "--preset", preset, "--seeds",
                                     seed_list(seeds)};
    if (timing_only) args.push_back("--timing-only");
    return spawn_self(args);
}

/// A child's run completed (whatever its checks said) and printed its stats.
bool completed(const child_result& r) {
    return r.ended.empty() && lines_starting(r.out, "BATCH_FAIL").empty() &&
           !lines_starting(r.out, "done ").empty() && !lines_starting(r.out, "stats ").empty();
}

/// How the timing-only run of `seeds` differs from their functional run `functional` (a
/// completed child's output): "" when its stats are identical.
std::string timing_only_difference(const std::string& preset, const std::vector<uint64_t>& seeds,
                                   const std::string& functional) {
    const auto r = run_child(preset, seeds, true);
    if (!completed(r)) {
        const auto fails = lines_starting(r.out, "FAIL ");
        return "the timing-only run failed where the functional one did not: " +
               (!r.ended.empty() ? r.ended
                : fails.empty()  ? std::string("no result")
                                 : fails[0]);
    }
    const auto d =
        npusim::test::stats_diff(nlohmann::json::parse(lines_starting(functional, "stats ").at(0)),
                                 nlohmann::json::parse(lines_starting(r.out, "stats ").at(0)));
    if (d.empty()) return "";
    return "timing-only stats differ from functional ones in " + std::to_string(d.size()) +
           " values, first " + d[0];
}

/// The timing-only run of a batch whose functional run completed: identical stats, or each
/// case alone to name the ones that differ.
void compare_modes(totals& t, const std::string& preset, const std::vector<uint64_t>& seeds,
                   const std::string& functional) {
    const std::string why = timing_only_difference(preset, seeds, functional);
    if (why.empty()) return;
    size_t named = 0;
    if (seeds.size() > 1)
        for (uint64_t s : seeds) {
            const auto one = run_child(preset, {s}, false);
            if (!completed(one)) continue;
            const std::string alone = timing_only_difference(preset, {s}, one.out);
            if (alone.empty()) continue;
            t.failures.push_back("preset " + preset + ", case " + std::to_string(s) + ": " + alone);
            ++named;
        }
    if (named == 0)  // one case, or only together: the batch
        t.failures.push_back("preset " + preset + ", case" + (seeds.size() > 1 ? "s " : " ") +
                             seed_list(seeds) + ": " + why);
}

/// One batch in a child, functional then timing-only; on a fault, crash or hang, each case
/// alone.
void fuzz_batch(totals& t, const std::string& preset, const std::vector<uint64_t>& seeds) {
    const auto r = run_child(preset, seeds, false);
    if (completed(r)) {
        add_counts(t, r.out);
        for (const auto& f : lines_starting(r.out, "FAIL "))
            t.failures.push_back("preset " + preset + ", " + f);
        compare_modes(t, preset, seeds, r.out);
        return;
    }
    for (uint64_t s : seeds) {
        const auto one = run_child(preset, {s}, false);
        add_counts(t, one.out);
        if (!one.ended.empty()) {
            ++t.cases;
            t.failures.push_back("preset " + preset + ", case " + std::to_string(s) + ": " +
                                 one.ended);
        }
        for (const auto& f : lines_starting(one.out, "FAIL "))
            t.failures.push_back("preset " + preset + ", " + f);
        if (completed(one)) compare_modes(t, preset, {s}, one.out);
    }
}

/// Runs batches for `minutes`, or until `max_cases` cases per preset have run (0: no limit).
int fuzz(double minutes, uint64_t max_cases, uint64_t seed, const std::vector<std::string>& presets,
         unsigned batch, const std::string& only_op) {
    const auto start = std::chrono::steady_clock::now();
    const auto until = start + std::chrono::duration<double>(minutes * 60);
    totals t;
    std::map<std::string, uint64_t> per_preset;
    uint64_t index = 0;
    for (size_t round = 0; std::chrono::steady_clock::now() < until; ++round) {
        if (max_cases && round >= presets.size() * ((max_cases + batch - 1) / batch)) break;
        const std::string& preset = presets[round % presets.size()];
        std::vector<uint64_t> seeds;
        static std::map<std::string, npusim::platform::platform_config> cfgs;
        if (!only_op.empty() && !cfgs.count(preset))
            cfgs.emplace(preset, npusim::platform::load_platform(preset));
        while (seeds.size() < batch) {
            const uint64_t s = npusim::test::case_seed(seed, index++);
            if (only_op.empty() || npusim::test::draw_case(s, cfgs.at(preset)).op == only_op)
                seeds.push_back(s);
        }
        const uint64_t before = t.cases;
        const size_t failed = t.failures.size();
        fuzz_batch(t, preset, seeds);
        per_preset[preset] += t.cases - before;
        for (size_t i = failed; i < t.failures.size(); ++i)
            std::cout << "FAIL " << t.failures[i] << "\n" << std::flush;
    }
    std::cout << "cases run: " << t.cases << " (" << t.run << " checked against the reference, "
              << t.empty << " of them with empty outputs; " << t.refused
              << " refused at planning)\n";
    for (const auto& [p, n] : per_preset) std::cout << "  " << p << ": " << n << " cases\n";
    std::cout << "failures: " << t.failures.size() << "\n";
    for (const auto& f : t.failures) {
        std::cout << "  " << f << "\n";
        const auto c = f.find("case "), p = f.find("preset ");
        if (c != std::string::npos && p != std::string::npos) {
            const std::string preset = f.substr(p + 7, f.find(',', p) - p - 7);
            const std::string s = f.substr(c + 5, f.find(':', c) - c - 5);
            std::cout << "    repeat: scripts/fuzz-ops --preset " << preset << " --case " << s
                      << "\n";
        }
    }
    return t.failures.empty() ? 0 : 1;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    std::vector<std::string> a(argv + 1, argv + argc);
    std::map<std::string, std::string> opt;
    bool batch_mode = false, timing_only = false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] == "--run-batch" || a[i] == "--timing-only") {
            (a[i] == "--run-batch" ? batch_mode : timing_only) = true;
            continue;
        }
        if (a[i] == "--help" || a[i] == "-h") return usage("runs random op cases");
        if (a[i].rfind("--", 0) != 0 || i + 1 >= a.size())
            return usage("unexpected argument '" + a[i] + "'");
        opt[a[i]] = a[i + 1];
        ++i;
    }
    for (const auto& [k, v] : opt)
        if (k != "--minutes" && k != "--cases" && k != "--seed" && k != "--preset" &&
            k != "--batch" && k != "--case" && k != "--seeds" && k != "--op")
            return usage("unknown option '" + k + "'");
    const std::string preset = opt.count("--preset") ? opt["--preset"] : "all";
    std::vector<std::string> presets = k_presets;
    if (preset != "all") {
        try {
            npusim::platform::load_platform(preset);
        } catch (const std::exception& e) {
            return usage(std::string("--preset: ") + e.what());
        }
        presets = {preset};
    }
    try {
        if (batch_mode) {
            std::vector<uint64_t> seeds;
            const std::string& list = opt["--seeds"];
            for (size_t at = 0; at < list.size();) {
                size_t end = list.find(',', at);
                if (end == std::string::npos) end = list.size();
                uint64_t s = 0;
                if (!parse_u64(list.substr(at, end - at), s)) return usage("bad --seeds");
                seeds.push_back(s);
                at = end + 1;
            }
            return run_batch(presets[0], seeds, timing_only);
        }
        if (timing_only) return usage("--timing-only is for the driver's own child runs");
        if (opt.count("--case")) {
            uint64_t s = 0;
            if (!parse_u64(opt["--case"], s)) return usage("--case wants a whole number");
            if (presets.size() != 1) return usage("--case needs --preset");
            const auto cfg = npusim::platform::load_platform(presets[0]);
            std::cout << "case " << s << " on " << presets[0] << ": "
                      << npusim::test::draw_case(s, cfg).describe() << std::endl;
            totals t;
            fuzz_batch(t, presets[0], {s});
            for (const auto& f : t.failures) std::cout << "FAIL " << f << "\n";
            std::cout << (t.failures.empty() ? "passed" : "failed") << "\n";
            return t.failures.empty() ? 0 : 1;
        }
        uint64_t seed = 1, batch = 24;
        if (opt.count("--seed") && !parse_u64(opt["--seed"], seed))
            return usage("--seed wants a whole number");
        if (opt.count("--batch") &&
            (!parse_u64(opt["--batch"], batch) || batch < 1 || batch > 1000))
            return usage("--batch wants a whole number 1..1000");
        double minutes = 7 * 24 * 60;
        uint64_t cases = 0;
        if (opt.count("--minutes") == opt.count("--cases"))
            return usage("give one of --minutes and --cases");
        if (opt.count("--cases") && (!parse_u64(opt["--cases"], cases) || cases < 1))
            return usage("--cases wants a whole number >= 1");
        if (opt.count("--minutes")) {
            try {
                minutes = std::stod(opt["--minutes"]);
            } catch (const std::exception&) {
                return usage("--minutes wants a number");
            }
            if (!(minutes > 0 && minutes <= 7 * 24 * 60))
                return usage("--minutes wants 0 < N <= 10080");
        }
        if (cases && batch > cases) batch = cases;
        std::cout << "fuzzing ops for ";
        if (cases)
            std::cout << cases << " cases per preset (whole batches)";
        else
            std::cout << minutes << " min";
        std::cout << ", seed " << seed << ", preset " << preset << ", " << batch
                  << " cases per process\n"
                  << std::flush;
        const std::string only_op = opt.count("--op") ? opt["--op"] : "";
        if (!only_op.empty()) {
            const auto names = npusim::ops::library().names();
            if (std::find(names.begin(), names.end(), only_op) == names.end())
                return usage("--op: no op named '" + only_op + "'");
        }
        return fuzz(minutes, cases, seed, presets, unsigned(batch), only_op);
    } catch (const std::exception& e) {
        std::cerr << "npusim_fuzz_ops: " << e.what() << "\n";
        return 1;
    }
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
