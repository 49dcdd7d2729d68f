// npusim sweep end to end: a point killed on purpose is recorded, an interrupted sweep resumes
// without rerunning recorded points, and the table ends complete; sweep file errors; no shell
// ever sees user text; bounds, the output lock, interrupts, torn lines, --retry-failed and
// metrics edited between runs.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include "platform/stats.h"
#include "tests/tools/cli_fixture.h"
#include "tools/npusim/sweep_spec.h"

using namespace npusim::test;

namespace {

/// Pid of a running `npusim run` whose arguments contain `part`, or 0.
pid_t find_run(const std::string& part) {
    for (const auto& d : fs::directory_iterator("/proc")) {
        const std::string name = d.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmd = read_file(d.path().string() + "/cmdline");
        for (char& c : cmd)
            if (c == '\0') c = ' ';
        if (contains(cmd, " run ") && contains(cmd, part) && contains(cmd, "--stats"))
            return pid_t(std::stoi(name));
    }
    return 0;
}

size_t lines_of(const std::string& path) {
    const std::string s = read_file(path);
    return size_t(std::count(s.begin(), s.end(), '\n'));
}

/// Waits up to 60 s for `done`; false on timeout.
template <class F>
bool wait_for(F done) {
    for (int i = 0; i < 60000; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
}

/// Runs `npusim ARGS` from folder `dir` (so commands a bug ran would leave files there).
cli_result run_in(const fs::path& dir, const std::string& args) {
    const fs::path log = dir / "cli.log";
    const int st = std::system(("cd '" + dir.string() + "' && '" NPUSIM_BINARY "' " + args +
                                " > '" + log.string() + "' 2>&1")
                                   .c_str());
    cli_result r;
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = read_file(log.string());
    fs::remove(log);
    BOOST_TEST_MESSAGE("npusim " << args << " -> " << r.rc << "\n" << r.out);
    return r;
}

/// Starts `npusim ARGS...` in the background with its output in `log`.
pid_t start_npusim(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> all = {NPUSIM_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(NPUSIM_BINARY, argv.data());
        _exit(127);
    }
    return pid;
}

/// Files below `dir` named `stem` or `stem` and digits: what an injected `touch` would make.
std::vector<std::string> files_named(const fs::path& dir, const std::string& stem) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(stem, 0) == 0 &&
            name.find_first_not_of("0123456789", stem.size()) == std::string::npos)
            out.push_back(e.path().string());
    }
    return out;
}

/// Runs `npusim ARGS...` without a shell and waits for it.
cli_result run_argv(const std::vector<std::string>& args, const fs::path& log) {
    const pid_t pid = start_npusim(args, log.string());
    int st = 0;
    waitpid(pid, &st, 0);
    cli_result r;
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = read_file(log.string());
    fs::remove(log);
    return r;
}

/// A fresh directory in the temp directory, removed with everything in it at the end.
struct temp_dir {
    explicit temp_dir(const std::string& stem)
        : path(fs::temp_directory_path() / ("npusim_" + stem + "_" + std::to_string(getpid()))) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~temp_dir() { fs::remove_all(path); }
    fs::path path;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(sweep)

BOOST_AUTO_TEST_CASE(killed_point_is_recorded_and_sweep_resumes) {
    const temp_dir tmp("sweep");
    const fs::path& dir = tmp.path;
    const std::string file = (dir / "s.yaml").string(), out = (dir / "out").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nname: t\nplatform: tiny\n"
                           "workloads: [" NPUSIM_SOURCE_DIR
                           "/configs/workloads/mlp.yaml]\n"
                           "parameters:\n  - list: {chip.cores: [1, 2, 3, 4, 5]}\n"
                           "metrics: [sim_time_ns, memory.gm.read_bytes]\n";
    // Start the sweep, kill point 1's simulation when it appears, and interrupt the sweep
    // itself once three points are recorded.
    const pid_t sweep = fork();
    if (sweep == 0) {
        execl(NPUSIM_BINARY, NPUSIM_BINARY, "sweep", file.c_str(), "--out", out.c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    pid_t victim = 0;
    BOOST_REQUIRE(wait_for([&] { return (victim = find_run("chip.cores=2")) != 0; }));
    kill(victim, SIGKILL);
    const std::string jsonl = out + "/results.jsonl";
    BOOST_REQUIRE(wait_for([&] { return lines_of(jsonl) >= 3; }));
    kill(sweep, SIGKILL);
    waitpid(sweep, nullptr, 0);
    // Its running points die with it (they would otherwise run twice after the rerun).
    BOOST_CHECK(wait_for([&] { return find_run(out) == 0; }));
    if (const pid_t orphan = find_run(out)) kill(orphan, SIGKILL);
    const size_t before = lines_of(jsonl);
    BOOST_CHECK_LT(before, 5u);

    // The rerun resumes: only the missing points run, and the table is complete.
    const cli_result r = run_cli("sweep '" + file + "' --out '" + out + "' --jobs 2");
    BOOST_CHECK_EQUAL(r.rc, 1);  // one point failed
    BOOST_CHECK_MESSAGE(contains(r.out, "resuming: " + std::to_string(before) + " of 5"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "5 of 5 points recorded, 1 failed"), r.out);
    BOOST_CHECK_EQUAL(lines_of(jsonl), 5u);
    std::map<unsigned, nlohmann::json> by_index;
    std::istringstream in(read_file(jsonl));
    for (std::string line; std::getline(in, line);) {
        auto j = nlohmann::json::parse(line);
        by_index[j["index"].get<unsigned>()] = j;
    }
    BOOST_REQUIRE_EQUAL(by_index.size(), 5u);
    BOOST_CHECK_EQUAL(by_index[1]["status"], "crashed");
    BOOST_CHECK_EQUAL(by_index[1]["error"], "killed by signal 9 (Killed)");
    BOOST_CHECK(fs::exists(by_index[1]["log"].get<std::string>()));
    for (unsigned i : {0u, 2u, 3u, 4u}) {
        BOOST_CHECK_EQUAL(by_index[i]["status"], "ok");
        BOOST_CHECK_GT(by_index[i]["metrics"]["sim_time_ns"].get<double>(), 0);
    }
    // More cores finish the same work sooner.
    BOOST_CHECK_GT(by_index[0]["metrics"]["sim_time_ns"].get<double>(),
                   by_index[3]["metrics"]["sim_time_ns"].get<double>());
    const std::string csv = read_file(out + "/results.csv");
    BOOST_CHECK_EQUAL(lines_of(out + "/results.csv"), 6u);  // header + 5 points
    BOOST_CHECK(contains(csv, "index,workload,chip.cores,status,wall_s,sim_time_ns"));
    BOOST_CHECK(contains(csv, ",crashed,"));
    BOOST_CHECK(fs::exists(out + "/plots/sim_time_ns.svg"));
}

BOOST_AUTO_TEST_CASE(failed_point_records_its_error) {
    const temp_dir tmp("sweepf");
    const fs::path& dir = tmp.path;
    const std::string file = (dir / "s.yaml").string(), out = (dir / "out").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nname: f\nplatform: tiny\n"
                           "workloads: [" NPUSIM_SOURCE_DIR
                           "/configs/workloads/mlp.yaml]\n"
                           "parameters:\n  - list: {gm.capacity: [32GiB, 1MiB]}\n";
    const cli_result r = run_cli("sweep '" + file + "' --out '" + out + "'");
    BOOST_CHECK_EQUAL(r.rc, 1);
    BOOST_CHECK_MESSAGE(contains(r.out, "2 of 2 points recorded, 1 failed"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "point 1 failed: error: malloc: out of device memory"),
                        r.out);
}

// A real single-node Slurm (scripts/slurm-single-node.sh, Debian packages): the points run as
// an array job and are collected with the local rules; a rerun finds everything recorded.
BOOST_AUTO_TEST_CASE(slurm_array_end_to_end) {
    const temp_dir tmp("slurm");
    const fs::path& dir = tmp.path;
    const std::string script = NPUSIM_SOURCE_DIR "/scripts/slurm-single-node.sh";
    const std::string cluster = (dir / "cluster").string();
    struct stop_cluster {  // even when a check below aborts the case
        std::string cmd;
        ~stop_cluster() { (void)std::system(cmd.c_str()); }
    } guard{"'" + script + "' stop '" + cluster + "'"};
    BOOST_REQUIRE_EQUAL(
        std::system(("'" + script + "' start '" + cluster + "' >/dev/null").c_str()), 0);
    setenv("SLURM_CONF", (cluster + "/slurm.conf").c_str(), 1);
    const std::string file = (dir / "s.yaml").string(), out = (dir / "out").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nname: slurm\nplatform: tiny\n"
                           "workloads: [" NPUSIM_SOURCE_DIR
                           "/configs/workloads/mlp.yaml]\n"
                           "parameters:\n  - list: {gm.capacity: [32GiB, 16GiB, 1MiB]}\n";
    cli_result r = run_cli("sweep '" + file + "' --out '" + out + "' --slurm");
    BOOST_CHECK_EQUAL(r.rc, 1);  // 1 MiB of device memory is too little for the MLP
    BOOST_CHECK_MESSAGE(contains(r.out, "submitted array job"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "collected 3 new results; 0 points missing"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "3 of 3 points recorded, 1 failed"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "point 2 failed: "), r.out);
    BOOST_CHECK(contains(read_file(out + "/slurm/array.sbatch"), "#SBATCH --array=0-2"));
    BOOST_CHECK_EQUAL(lines_of(out + "/results.jsonl"), 3u);
    r = run_cli("sweep '" + file + "' --out '" + out + "' --slurm");
    BOOST_CHECK_MESSAGE(contains(r.out, "every point is already recorded"), r.out);
    BOOST_CHECK_EQUAL(lines_of(out + "/results.jsonl"), 3u);
}

BOOST_AUTO_TEST_CASE(emit_slurm_writes_array_script) {
    const temp_dir tmp("emit");
    const fs::path& dir = tmp.path;
    const std::string file = (dir / "s.yaml").string(), out = (dir / "out").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nname: e\nworkloads: [mlp]\n"
                           "parameters:\n  - range: {chip.cores: {from: 2, to: 8, step: 2}}\n"
                           "  - grid: {gm.latency: [10ns, 20ns], l2.ways: [4, 8, 16]}\n";
    const cli_result r = run_cli("sweep '" + file + "' --out '" + out + "' --emit slurm");
    BOOST_CHECK_EQUAL(r.rc, 0);
    const std::string sb = read_file(out + "/slurm/array.sbatch");
    BOOST_CHECK_MESSAGE(contains(sb, "#SBATCH --array=0-23\n"), sb);  // 4 x 2 x 3 points
    BOOST_CHECK_MESSAGE(contains(sb, "--point \"$SLURM_ARRAY_TASK_ID\""), sb);
    const std::string points = read_file(out + "/slurm/points.txt");
    BOOST_CHECK_EQUAL(std::count(points.begin(), points.end(), '\n'), 24);
    BOOST_CHECK_MESSAGE(
        contains(points, "23\tchip.cores=8 gm.latency=20ns l2.ways=16 workload=mlp\n"), points);
}

// A range takes values with the key's units and writes its values in from's unit.
BOOST_AUTO_TEST_CASE(range_takes_units) {
    const temp_dir tmp("units");
    const std::string file = (tmp.path / "s.yaml").string(), out = (tmp.path / "out").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nname: u\nworkloads: [mlp]\n"
                           "parameters:\n  - range: {chip.clock.cube: {from: 0.9GHz, to: 1.5GHz, "
                           "step: 300MHz}}\n";
    const cli_result r = run_cli("sweep '" + file + "' --out '" + out + "' --emit slurm");
    BOOST_CHECK_EQUAL(r.rc, 0);
    const std::string points = read_file(out + "/slurm/points.txt");
    for (const char* v :
         {"chip.clock.cube=0.9GHz", "chip.clock.cube=1.2GHz", "chip.clock.cube=1.5GHz"})
        BOOST_CHECK_MESSAGE(contains(points, v), points);
    std::ofstream(file) << "schema: npusim.sweep/1\nname: u\nworkloads: [mlp]\n"
                           "parameters:\n  - range: {chip.clock.cube: {from: 0.9GHz, to: 1.5GHz, "
                           "step: 300furlongs}}\n";
    const cli_result bad = run_cli("validate '" + file + "'");
    BOOST_CHECK_EQUAL(bad.rc, 2);
    BOOST_CHECK_MESSAGE(contains(bad.out,
                                 ":5:63: error: chip.clock.cube.step: '300furlongs' is "
                                 "not a number or a Hz value"),
                        bad.out);
}

// A point that runs past the sweep's timeout is killed and recorded as timed out.
BOOST_AUTO_TEST_CASE(slow_point_times_out) {
    const temp_dir tmp("sweept");
    const std::string file = (tmp.path / "s.yaml").string(), out = (tmp.path / "out").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nname: t\nplatform: ascend910\n"
                           "workloads: [bert_base_s512]\ntiming_only: false\ntimeout: 0.2\n"
                           "parameters:\n  - list: {chip.cores: [32]}\n";
    const cli_result r = run_cli("sweep '" + file + "' --out '" + out + "'");
    BOOST_CHECK_EQUAL(r.rc, 1);
    BOOST_CHECK_MESSAGE(contains(r.out, "point 0 timeout: timed out after 0.2 s"), r.out);
    BOOST_CHECK(contains(read_file(out + "/results.csv"), ",timeout,"));
}

BOOST_AUTO_TEST_CASE(sweep_file_errors_name_line_and_key) {
    temp_file f("bad", ".yaml");
    std::ofstream(f.str()) << "schema: npusim.sweep/1\nworkloads: [mlp]\nparameters:\n"
                              "  - grid: {chip.core: [1, 2]}\n";
    cli_result r = run_cli("sweep '" + f.str() + "'");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out, f.str() + ":4:12: error: chip.core: not a platform key"),
                        r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "did you mean 'chip.cores'?"), r.out);
    std::ofstream(f.str()) << "schema: npusim.sweep/1\nworkloads: [mlp]\nparameters:\n"
                              "  - zip: {chip.cores: [1, 2], gm.latency: [1ns]}\n";
    r = run_cli("sweep '" + f.str() + "'");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out,
                                 "gm.latency: zip lists must have equal lengths (1 here, "
                                 "2 for chip.cores)"),
                        r.out);
    const std::pair<std::string, std::string> cases[] = {
        {"schema: npusim.sweep/1\nworkloads: [mlp]\nparameters:\n"
         "  - range: {chip.cores: {from: 8, to: 4, step: 2}}\n",
         ": error: chip.cores: needs from <= to and step > 0"},
        {"schema: npusim.sweep/1\nworkload: [mlp]\n",
         ":2:1: error: workload: unknown key\n  hint: did you mean 'workloads'?"},
        {"schema: npusim.sweep/1\nparameters: []\n", ": error: workloads: missing"},
        {"schema: npusim.sweep/1\nworkloads: [mlp]\nparameters:\n  - list: {chip.cores: 8}\n",
         ": error: chip.cores: expected a non-empty list of values"},
        {"schema: npusim.sweep/1\nworkloads: [mlp]\nset: {gm.bandwith: 1TB/s}\n",
         ":3:7: error: gm.bandwith: not a platform key\n  hint: did you mean 'gm.bandwidth'?"},
        {"schema: npusim.sweep/1\nworkloads: [mlp]\ntimeout: soon\n",
         ":3:10: error: timeout: not a number\n  hint: write e.g. timeout: 600 (seconds)"}};
    for (const auto& [yaml, text] : cases) {
        std::ofstream(f.str()) << yaml;
        r = run_cli("sweep '" + f.str() + "'");
        BOOST_CHECK_EQUAL(r.rc, 2);
        BOOST_CHECK_MESSAGE(contains(r.out, text), "want '" << text << "' in: " << r.out);
    }
    std::ofstream(f.str()) << "schema: npusim.sweep/1\nworkloads: [mlp]\n";
    r = run_cli("sweep '" + f.str() + "' --point 3");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out, "--point 3 is out of range; " + f.str() + " has 1 points"),
                        r.out);
}

// --slurm with no reachable Slurm says so and how to start one.
BOOST_AUTO_TEST_CASE(slurm_unavailable_is_reported) {
    setenv("SLURM_CONF", "/nonexistent/slurm.conf", 1);  // never a real cluster's
    const temp_dir tmp("noslurm");
    const std::string file = (tmp.path / "s.yaml").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nworkloads: [mlp]\n";
    const cli_result r =
        run_cli("sweep '" + file + "' --out '" + (tmp.path / "out").string() + "' --slurm");
    BOOST_CHECK_EQUAL(r.rc, 1);
    BOOST_CHECK_MESSAGE(contains(r.out,
                                 "npusim sweep: sbatch failed: SLURM_CONF names "
                                 "/nonexistent/slurm.conf, which does not exist"),
                        r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "hint: is Slurm running and SLURM_CONF set?"), r.out);
}

// A sweep's name names folders and a Slurm job: only a checked identifier gets through, and no
// shell ever sees it.
BOOST_AUTO_TEST_CASE(sweep_name_is_a_checked_identifier) {
    const temp_dir tmp("sweepname");
    const std::pair<std::string, std::string> cases[] = {
        {"\"x$(touch PWNED)\"", ":2:7: error: name: 'x$(touch PWNED)' is not a valid sweep name"},
        {"../../x", ":2:7: error: name: '../../x' is not a valid sweep name"},
        {".hidden", ":2:7: error: name: '.hidden' is not a valid sweep name"},
        {std::string(65, 'a'),
         ":2:7: error: name: '" + std::string(65, 'a') + "' is not a valid sweep name"},
        {"\"a\\n!touch PWNED\"",
         ":2:7: error: name: control characters (such as a newline) are not allowed"},
        {"[a]", ":2:7: error: name: expected a single value, not a list"}};
    const std::string file = (tmp.path / "s.yaml").string();
    for (const auto& [name, text] : cases) {
        std::ofstream(file) << "schema: npusim.sweep/1\nname: " << name << "\nworkloads: [mlp]\n";
        const cli_result r = run_in(tmp.path, "sweep s.yaml");
        BOOST_CHECK_EQUAL(r.rc, 2);
        BOOST_CHECK_MESSAGE(contains(r.out, "s.yaml" + text), "want '" << text << "' in " << r.out);
        BOOST_CHECK_MESSAGE(contains(r.out, "hint: use letters, digits, '_', '.' and '-'"), r.out);
        BOOST_CHECK(files_named(tmp.path, "PWNED").empty());
        BOOST_CHECK(!fs::exists(tmp.path / "sweeps"));  // nothing written anywhere
    }
}

// Values reach gnuplot only as data: quotes, backquotes, '@' and '!cmd' in a label stay text,
// and a newline is refused at load.
BOOST_AUTO_TEST_CASE(plot_labels_cannot_run_commands) {
    const temp_dir tmp("sweepplot");
    const std::string file = (tmp.path / "s.yaml").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nname: p\nplatform: tiny\nworkloads: [mlp]\n"
                           "parameters:\n  - grid:\n      chip.cores: [1, 2]\n"
                           "      chip.description: ['it''s `touch PWNED1` @x', "
                           "'\" !touch PWNED2 $(touch PWNED3)']\n";
    cli_result r = run_in(tmp.path, "sweep s.yaml --out out --jobs 2");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "4 of 4 points recorded, 0 failed"), r.out);
    const std::string svg = read_file((tmp.path / "out/plots/sim_time_ns.svg").string());
    BOOST_CHECK_MESSAGE(contains(svg, "`touch PWNED1` @x"), svg.substr(0, 2000));
    BOOST_CHECK_MESSAGE(contains(svg, "!touch PWNED2 $(touch PWNED3)"), svg.substr(0, 2000));
    BOOST_CHECK(files_named(tmp.path, "PWNED").empty());
    std::ofstream(file) << "schema: npusim.sweep/1\nname: p\nplatform: tiny\nworkloads: [mlp]\n"
                           "parameters:\n  - list: {chip.description: [\"x\\n!touch PWNED4\"]}\n";
    r = run_in(tmp.path, "sweep s.yaml --out out2");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out,
                                 "s.yaml:6:31: error: chip.description: control "
                                 "characters (such as a newline) are not allowed"),
                        r.out);
    BOOST_CHECK(files_named(tmp.path, "PWNED").empty());
    BOOST_CHECK(!fs::exists(tmp.path / "out2"));
}

// The array script quotes every path; bash runs it as written, whatever the path holds, and a
// path an #SBATCH line cannot take is refused.
BOOST_AUTO_TEST_CASE(slurm_script_quotes_user_text) {
    const temp_dir tmp("sweepsb");
    const fs::path odd = tmp.path / "a b$(touch PWNED)'c";
    fs::create_directories(odd);
    std::ofstream((odd / "s.yaml").string())
        << "schema: npusim.sweep/1\nname: q\nplatform: tiny\nworkloads: [mlp]\n"
           "parameters:\n  - list: {chip.cores: [1, 2]}\n";
    const std::string out = (tmp.path / "out").string();
    const fs::path log = tmp.path / "log";
    cli_result r =
        run_argv({"sweep", (odd / "s.yaml").string(), "--out", out, "--emit", "slurm"}, log);
    BOOST_CHECK_EQUAL(r.rc, 0);
    const std::string sb = read_file(out + "/slurm/array.sbatch");
    const std::string quoted = "'" + tmp.path.string() + "/a b$(touch PWNED)'\\''c/s.yaml'";
    BOOST_CHECK_MESSAGE(contains(sb, "exec '" NPUSIM_BINARY "' sweep " + quoted + " --out '" + out +
                                         "' --point \"$SLURM_ARRAY_TASK_ID\"\n"),
                        sb);
    BOOST_CHECK_MESSAGE(contains(r.out, "then collect: npusim sweep " + quoted), r.out);
    // Run the task as Slurm would: it finds the file and records point 1.
    const int st = std::system(("cd '" + tmp.path.string() + "' && SLURM_ARRAY_TASK_ID=1 bash '" +
                                out + "/slurm/array.sbatch' > /dev/null 2>&1")
                                   .c_str());
    BOOST_CHECK_EQUAL(WEXITSTATUS(st), 0);
    const auto res = nlohmann::json::parse(read_file(out + "/points/1.result.json"));
    BOOST_CHECK_EQUAL(res["status"], "ok");
    BOOST_CHECK_EQUAL(res["label"], "chip.cores=2 workload=mlp");
    BOOST_CHECK(files_named(tmp.path, "PWNED").empty());
    r = run_argv({"sweep", (odd / "s.yaml").string(), "--out", out + " x", "--emit", "slurm"}, log);
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out,
                                 "error: --out: has a character a Slurm #SBATCH line "
                                 "cannot take\n  hint: use a path of letters, digits"),
                        r.out);
}

// Ranges, the point count and the timeout are bounded and checked at load, before anything
// is allocated or run.
BOOST_AUTO_TEST_CASE(bounds_are_checked_at_load) {
    const temp_dir tmp("sweepbound");
    const std::string file = (tmp.path / "s.yaml").string();
    const std::string head = "schema: npusim.sweep/1\nplatform: tiny\nworkloads: [mlp]\n";
    std::string grid = "parameters:\n  - grid:\n";  // 100^4 = 10^8 points
    for (const char* k : {"chip.cores", "l2.ways", "gm.channels", "dma.queue_depth"}) {
        grid += std::string("      ") + k + ": [";
        for (int i = 1; i <= 100; ++i) grid += std::to_string(i) + (i < 100 ? ", " : "]\n");
    }
    const std::pair<std::string, std::string> cases[] = {
        {"parameters:\n  - range: {chip.cores: {from: 1, to: .inf, step: 1}}\n",
         ":5:39: error: chip.cores.to: must be a finite number"},
        {"parameters:\n  - range: {chip.cores: {from: 1e17, to: 2e17, step: 1}}\n",
         ":5:25: error: chip.cores: this range has more than 10000 values"},
        {"parameters:\n  - range: {chip.cores: {from: .nan, to: 8, step: 1}}\n",
         ":5:32: error: chip.cores.from: must be a finite number"},
        {"parameters:\n  - range: {chip.cores: {from: 1e15, to: 1.000000000001e15, step: "
         "0.125}}\n",
         "error: chip.cores: step 0.125000 is too small for values this large: they repeat"},
        {grid,
         ":5:3: error: parameters: this sweep has 100000000 points, more than the cap of 10000\n"
         "  hint: vary fewer values, or raise the cap with --max-points N"},
        {"timeout: -1\n", ":4:10: error: timeout: must be more than 0 and at most 2592000 seconds"},
        {"timeout: .nan\n", ":4:10: error: timeout: must be a finite number"},
        {"timeout: .inf\n", ":4:10: error: timeout: must be a finite number"}};
    for (const auto& [yaml, text] : cases) {
        std::ofstream(file) << head << yaml;
        const auto t0 = std::chrono::steady_clock::now();
        const cli_result r =
            run_cli("sweep '" + file + "' --out '" + (tmp.path / "o").string() + "'");
        BOOST_CHECK_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                       5.0);
        BOOST_CHECK_EQUAL(r.rc, 2);
        BOOST_CHECK_MESSAGE(contains(r.out, text), "want '" << text << "' in " << r.out);
    }
    // --max-points moves the cap both ways.
    std::ofstream(file) << head << "parameters:\n  - list: {chip.cores: [1, 2, 3, 4]}\n";
    cli_result r = run_cli("sweep '" + file + "' --max-points 3 --emit slurm --out '" +
                           (tmp.path / "o").string() + "'");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out, "this sweep has 4 points, more than the cap of 3"), r.out);
    r = run_cli("sweep '" + file + "' --max-points 4 --emit slurm --out '" +
                (tmp.path / "o").string() + "'");
    BOOST_CHECK_EQUAL(r.rc, 0);
}

// Every bad value is found at load, before the first point, with file:line:col and a fix.
BOOST_AUTO_TEST_CASE(bad_values_exit_2_before_any_point) {
    const temp_dir tmp("sweepbad");
    const std::string file = (tmp.path / "s.yaml").string();
    const std::string s = "schema: npusim.sweep/1\n";
    const std::pair<std::string, std::string> cases[] = {
        {s + "platform: {a: 1}\nworkloads: [mlp]\n",
         ":2:11: error: platform: expected a single value, not a mapping"},
        {s + "timing_only: maybe\nworkloads: [mlp]\n",
         ":2:14: error: timing_only: expected true or false"},
        {s + "workloads: {}\n",
         ":2:12: error: workloads: expected a non-empty list of workloads, not a mapping"},
        {s + "workloads: [mlp]\nname: \"caf\xe9\"\n",
         ":3:11: error: invalid UTF-8 (byte 0xe9)\n  hint: save the file as UTF-8"},
        {s + "platform: tinny\nworkloads: [mlp]\n",
         ":2:11: error: platform: 'tinny' does not load:\n    tinny: error: no such platform "
         "file or preset\n      hint: did you mean 'tiny'?"},
        {s + "platform: plat/nope.yaml\nworkloads: [mlp]\n",
         ":2:11: error: platform: no such platform file: " +
             (tmp.path / "plat/nope.yaml").string()},
        {s + "workloads: [mlp, wl/nope.yaml]\n",
         ":2:18: error: workloads: no such workload file: " + (tmp.path / "wl/nope.yaml").string()},
        {s + "workloads: [llama7b_decode_kv2047]\n",
         ":2:13: error: workloads: unknown workload 'llama7b_decode_kv2047'\n  hint: did you "
         "mean 'llama7b_decode_kv2048'?"},
        {s + "platform: tiny\nworkloads: [mlp]\nparameters:\n  - list: {chip.cores: [2, [abc]]}\n",
         ":5:28: error: chip.cores: expected a single value, not a list"},
        {s + "platform: tiny\nworkloads: [mlp]\nparameters:\n  - list: {chip.cores: [2, abc]}\n",
         ":5:28: error: chip.cores: the platform does not load for chip.cores=abc:\n"
         "    --set chip.cores=abc: error: chip.cores: 'abc' is not a whole number"},
        {s + "platform: tiny\nworkloads: [mlp]\nset: {chip.cores: 300}\n",
         ":4:19: error: chip.cores: the platform does not load:\n"
         "    --set chip.cores=300: error: chip.cores:"},
        {s + "workloads: [mlp]\nmetrics: [sim_time_ns, summary.device_span]\n",
         ":3:24: error: metrics: 'summary.device_span' is not a stats metric\n  hint: did you "
         "mean 'summary.device_span_ns'?"},
        {s + "workloads: [mlp]\nmetrics: [memory.gm.raed_bytes]\n",
         ":3:11: error: metrics: 'memory.gm.raed_bytes' is not a stats metric\n  hint: did you "
         "mean 'memory.gm.read_bytes'?"},
        {s + "workloads: [mlp]\nworkloads: [mlp]\n",
         ":3:1: error: workloads: key given twice (first at line 2)\n  hint: keep one of them"},
        {s + "workloads: [mlp]\nparameters:\n  - list: {chip.cores: [2, 2]}\n",
         ":4:28: error: chip.cores: value '2' is listed twice"},
        {s + "workloads: [mlp]\n[a]: 1\n",
         ":3:1: error: ?: a key must be a plain name, not a list"}};
    for (const auto& [yaml, text] : cases) {
        std::ofstream(file, std::ios::binary) << yaml;
        const cli_result r =
            run_cli("sweep '" + file + "' --out '" + (tmp.path / "o").string() + "'");
        BOOST_CHECK_EQUAL(r.rc, 2);
        BOOST_CHECK_MESSAGE(contains(r.out, file + text), "want '" << text << "' in " << r.out);
        BOOST_CHECK(!fs::exists(tmp.path / "o"));  // no point ran
    }
}

// Every metric the loader accepts is a number of a real stats document, and back.
BOOST_AUTO_TEST_CASE(metric_paths_match_the_stats) {
    const temp_dir tmp("sweepstats");
    const std::string stats = (tmp.path / "s.json").string();
    const cli_result r =
        run_cli("run --platform tiny --workload mlp --timing-only --quiet --stats '" + stats + "'");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    const auto doc = nlohmann::json::parse(read_file(stats));
    std::set<std::string> numbers;
    std::function<void(const nlohmann::json&, const std::string&)> walk =
        [&](const nlohmann::json& j, const std::string& path) {
            if (j.is_number()) numbers.insert(path);
            if (j.is_object())
                for (const auto& [k, v] : j.items()) walk(v, path.empty() ? k : path + "." + k);
        };
    walk(doc, "");
    for (const auto& p : npusim::platform::stats_metric_paths())
        BOOST_CHECK_MESSAGE(numbers.count(p), p << " is listed but not in the stats");
    for (const auto& n : numbers)
        BOOST_CHECK_MESSAGE(npusim::platform::is_stats_metric(n),
                            n << " is in the stats but not valid");
    BOOST_CHECK(numbers.count("memory.gm.channel0.busy_ns"));
    BOOST_CHECK(!npusim::platform::is_stats_metric("memory.gm.channelx.busy_ns"));
    BOOST_CHECK(!npusim::platform::is_stats_metric("platform.parameters.chip.name"));
}

// A second sweep on the same --out is refused while the first holds the lock.
BOOST_AUTO_TEST_CASE(output_folder_is_locked) {
    const temp_dir tmp("sweeplock");
    const std::string file = (tmp.path / "s.yaml").string(), out = (tmp.path / "out").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nname: l\nplatform: tiny\nworkloads: [mlp]\n";
    fs::create_directories(out);
    const int fd = open((out + "/.lock").c_str(), O_RDWR | O_CREAT, 0644);
    BOOST_REQUIRE_EQUAL(flock(fd, LOCK_EX | LOCK_NB), 0);  // as a running sweep holds it
    BOOST_REQUIRE_EQUAL(write(fd, "4242\n", 5), 5);
    cli_result r = run_cli("sweep '" + file + "' --out '" + out + "'");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out, "npusim sweep: another sweep (pid 4242) holds " + out +
                                            "\n  hint: wait for it to finish"),
                        r.out);
    BOOST_CHECK(!fs::exists(out + "/results.jsonl"));
    close(fd);  // the holder ends: the next sweep runs
    r = run_cli("sweep '" + file + "' --out '" + out + "'");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK_EQUAL(lines_of(out + "/results.jsonl"), 1u);
}

// SIGINT stops the sweep: its running point is killed, nothing is recorded for it, and the
// exit status says so.
BOOST_AUTO_TEST_CASE(interrupt_stops_points_and_records_nothing) {
    const temp_dir tmp("sweepint");
    const std::string file = (tmp.path / "s.yaml").string(), out = (tmp.path / "out").string();
    const std::string log = (tmp.path / "log").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nname: i\nplatform: ascend910\n"
                           "workloads: [bert_base_s512]\ntiming_only: false\n";
    const pid_t sweep = start_npusim({"sweep", file, "--out", out}, log);
    BOOST_REQUIRE(wait_for([&] { return find_run(out) != 0; }));
    kill(sweep, SIGINT);
    int st = 0;
    waitpid(sweep, &st, 0);
    BOOST_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 130);
    BOOST_CHECK(wait_for([&] { return find_run(out) == 0; }));
    const std::string text = read_file(log);
    BOOST_CHECK_MESSAGE(contains(text,
                                 "npusim sweep: interrupted (Interrupt); stopped 1 running "
                                 "points, not recorded\n  hint: run the same command again"),
                        text);
    BOOST_CHECK_EQUAL(lines_of(out + "/results.jsonl"), 0u);
    BOOST_CHECK(!fs::exists(out + "/points/0.result.json"));

    // SIGKILL leaves no handler to run, yet the point (seconds of work) dies at once with it.
    std::ofstream(file) << "schema: npusim.sweep/1\nname: i\nplatform: ascend910\n"
                           "workloads: [resnet50_b1]\ntiming_only: false\n";
    const pid_t again = start_npusim({"sweep", file, "--out", out}, log);
    BOOST_REQUIRE(wait_for([&] { return find_run(out) != 0; }));
    kill(again, SIGKILL);
    waitpid(again, nullptr, 0);
    const auto t0 = std::chrono::steady_clock::now();
    BOOST_CHECK(wait_for([&] { return find_run(out) == 0; }));
    BOOST_CHECK_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                   0.5);
    if (const pid_t orphan = find_run(out)) kill(orphan, SIGKILL);
}

// Bytes that are not UTF-8 (here in the output path, so in every record's log path) do not
// stop a sweep: they become U+FFFD in results.jsonl.
BOOST_AUTO_TEST_CASE(non_utf8_text_does_not_abort_a_sweep) {
    const temp_dir tmp("sweeputf");
    const std::string file = (tmp.path / "s.yaml").string();
    const std::string out = (tmp.path / "o\xff").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nname: u\nplatform: tiny\nworkloads: [mlp]\n"
                           "parameters:\n  - list: {gm.capacity: [32GiB, 1MiB]}\n";
    const cli_result r = run_argv({"sweep", file, "--out", out}, tmp.path / "log");
    BOOST_CHECK_EQUAL(r.rc, 1);  // the 1 MiB point fails; the sweep goes on
    BOOST_CHECK_MESSAGE(contains(r.out, "2 of 2 points recorded, 1 failed"), r.out);
    BOOST_CHECK_EQUAL(lines_of(out + "/results.jsonl"), 2u);
    BOOST_CHECK(contains(read_file(out + "/results.jsonl"), "\xef\xbf\xbd/points/"));
}

// A torn last line is cut off before anything is appended; repeated records and a damaged CSV
// do not survive a resume.
BOOST_AUTO_TEST_CASE(torn_line_is_repaired_and_csv_regenerated) {
    const temp_dir tmp("sweeptorn");
    const std::string file = (tmp.path / "s.yaml").string(), out = (tmp.path / "out").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nname: t\nplatform: tiny\nworkloads: [mlp]\n"
                           "parameters:\n  - list: {chip.cores: [1, 2, 3]}\n";
    cli_result r = run_cli("sweep '" + file + "' --out '" + out + "' --jobs 2");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    const std::string jsonl = out + "/results.jsonl";
    std::vector<std::string> lines;
    std::istringstream in(read_file(jsonl));
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    BOOST_REQUIRE_EQUAL(lines.size(), 3u);
    // line 0 twice, line 1 whole, line 2 cut in the middle (an interrupted write)
    std::ofstream(jsonl) << lines[0] << "\n"
                         << lines[0] << "\n"
                         << lines[1] << "\n"
                         << lines[2].substr(0, lines[2].size() / 2);
    std::ofstream(out + "/results.csv") << "garbage\ngarbage\n";
    r = run_cli("sweep '" + file + "' --out '" + out + "'");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "cut off a torn last line"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "resuming: 2 of 3 points"), r.out);
    BOOST_CHECK_EQUAL(lines_of(jsonl), 3u);
    std::set<unsigned> seen;
    std::istringstream again(read_file(jsonl));
    for (std::string l; std::getline(again, l);)
        seen.insert(nlohmann::json::parse(l)["index"].get<unsigned>());
    BOOST_CHECK_EQUAL(seen.size(), 3u);
    const std::string csv = read_file(out + "/results.csv");
    BOOST_CHECK_EQUAL(lines_of(out + "/results.csv"), 4u);  // header + 3 points, no garbage
    BOOST_CHECK(!contains(csv, "garbage"));
    BOOST_CHECK_MESSAGE(contains(csv, "\n0,mlp,1,ok,") && contains(csv, "\n2,mlp,3,ok,"), csv);
}

// --retry-failed runs the failed points again and replaces their records.
BOOST_AUTO_TEST_CASE(retry_failed_replaces_records) {
    const temp_dir tmp("sweepretry");
    const std::string file = (tmp.path / "s.yaml").string(), out = (tmp.path / "out").string();
    std::ofstream(file) << "schema: npusim.sweep/1\nname: r\nplatform: tiny\nworkloads: [mlp]\n"
                           "parameters:\n  - list: {gm.capacity: [32GiB, 1MiB]}\n";
    cli_result r = run_cli("sweep '" + file + "' --out '" + out + "'");
    BOOST_CHECK_EQUAL(r.rc, 1);
    r = run_cli("sweep '" + file + "' --out '" + out + "'");  // a plain resume keeps the failure
    BOOST_CHECK_MESSAGE(contains(r.out, "resuming: 2 of 2 points"), r.out);
    const std::string jsonl = out + "/results.jsonl";
    std::string text = read_file(jsonl);
    const size_t at = text.find("out of device memory");
    BOOST_REQUIRE(at != std::string::npos);
    text.replace(at, 20, "OLD RECORD");  // mark the old record
    std::ofstream(jsonl) << text;
    const std::string ok_line = text.substr(0, text.find('\n'));
    r = run_cli("sweep '" + file + "' --out '" + out + "' --retry-failed");
    BOOST_CHECK_EQUAL(r.rc, 1);  // it fails again: 1 MiB is still too little
    BOOST_CHECK_MESSAGE(contains(r.out, "--retry-failed: 1 failed points run again"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "resuming: 1 of 2 points"), r.out);
    text = read_file(jsonl);
    BOOST_CHECK_EQUAL(lines_of(jsonl), 2u);
    BOOST_CHECK(!contains(text, "OLD RECORD"));
    BOOST_CHECK(contains(text, "out of device memory"));
    BOOST_CHECK(contains(text, ok_line + "\n"));  // the ok point was not rerun
}

// Metrics added after points ran are read back from their stats files; a point whose stats
// are gone shows the metric as missing; an odd old record does not crash the resume.
BOOST_AUTO_TEST_CASE(edited_metrics_are_read_back_on_resume) {
    const temp_dir tmp("sweepmetric");
    const std::string file = (tmp.path / "s.yaml").string(), out = (tmp.path / "out").string();
    const std::string head =
        "schema: npusim.sweep/1\nname: m\nplatform: tiny\nworkloads: [mlp]\n"
        "parameters:\n  - list: {chip.cores: [1, 2]}\n";
    std::ofstream(file) << head << "metrics: [sim_time_ns]\n";
    cli_result r = run_cli("sweep '" + file + "' --out '" + out + "'");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    fs::remove(out + "/points/1.stats.json");
    // an old record of some other point, with metrics of the wrong type
    std::ofstream(out + "/results.jsonl", std::ios::app)
        << R"({"label":"chip.cores=9 workload=mlp","metrics":"x","status":7})"
        << "\n";
    std::ofstream(file) << head << "metrics: [sim_time_ns, memory.gm.read_bytes, wall_s]\n";
    r = run_cli("sweep '" + file + "' --out '" + out + "'");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "resuming: 2 of 2 points"), r.out);
    const auto stats0 = nlohmann::json::parse(read_file(out + "/points/0.stats.json"));
    const double gm0 = stats0["memory"]["gm"]["read_bytes"].get<double>();
    BOOST_CHECK_GT(gm0, 0);
    const std::string csv = read_file(out + "/results.csv");
    BOOST_CHECK_MESSAGE(contains(csv,
                                 "index,workload,chip.cores,status,wall_s,sim_time_ns,"
                                 "memory.gm.read_bytes,wall_s,error\n"),
                        csv);
    std::istringstream rows(csv);
    std::string header, row0, row1;
    std::getline(rows, header);
    std::getline(rows, row0);
    std::getline(rows, row1);
    BOOST_CHECK_MESSAGE(contains(row0, "," + nlohmann::json(gm0).dump() + ","), row0);
    BOOST_CHECK_MESSAGE(contains(row1, ",ok,") && contains(row1, ",,"), row1);  // missing
    BOOST_CHECK_MESSAGE(contains(r.out, "2 of 2 points recorded, 0 failed"), r.out);
}

// The shipped sweeps load from any folder: workloads go by name, files by the sweep's folder.
BOOST_AUTO_TEST_CASE(shipped_sweeps_load_from_any_directory) {
    const temp_dir tmp("sweepship");
    for (const auto& e : fs::directory_iterator(NPUSIM_SOURCE_DIR "/configs/sweeps")) {
        const std::string out = (tmp.path / e.path().stem()).string();
        const cli_result r =
            run_in(tmp.path, "sweep '" + e.path().string() + "' --out '" + out + "' --emit slurm");
        BOOST_CHECK_EQUAL(r.rc, 0);
        BOOST_CHECK_MESSAGE(contains(r.out, "wrote "), r.out);
    }
    // a workload file next to the sweep file is found from elsewhere too
    fs::create_directories(tmp.path / "here/wl");
    fs::copy_file(NPUSIM_SOURCE_DIR "/configs/workloads/mlp.yaml", tmp.path / "here/wl/m.yaml");
    std::ofstream((tmp.path / "here/s.yaml").string())
        << "schema: npusim.sweep/1\nname: f\nplatform: tiny\nworkloads: [wl/m.yaml]\n";
    const cli_result r = run_in(tmp.path, "sweep here/s.yaml --out o");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "1 of 1 points recorded, 0 failed"), r.out);
}

// docs/sweep-reference.md is generated from the loader's own key table and the stats metrics.
BOOST_AUTO_TEST_CASE(sweep_reference_is_up_to_date) {
    const std::string path = std::string(NPUSIM_SOURCE_DIR) + "/docs/sweep-reference.md";
    BOOST_CHECK_MESSAGE(read_file(path) == npusim::tools::sweep_reference_markdown(),
                        "docs/sweep-reference.md is missing or stale; regenerate it with "
                        "`./build/npusim validate --sweep-reference > docs/sweep-reference.md`");
    const std::string md = npusim::tools::sweep_reference_markdown();
    for (const char* s : {"| `parameters` |", "| `timeout` |", "- `summary.device_span_ns`",
                          "- `memory.l2.fill_bytes`"})
        BOOST_CHECK_MESSAGE(contains(md, s), s);
}

BOOST_AUTO_TEST_SUITE_END()
