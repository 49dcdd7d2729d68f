// npusim sweep end to end: a point killed on purpose is recorded, an interrupted sweep resumes
// without rerunning recorded points, and the table ends complete; sweep file errors.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

#include "tests/tools/cli_fixture.h"

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
                           "parameters:\n  - list: {gm.bandwidth: [10GB/s, 10 parsecs]}\n";
    const cli_result r = run_cli("sweep '" + file + "' --out '" + out + "'");
    BOOST_CHECK_EQUAL(r.rc, 1);
    BOOST_CHECK_MESSAGE(contains(r.out, "2 of 2 points recorded, 1 failed"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "point 1 failed: "), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "gm.bandwidth"), r.out);
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
                           "parameters:\n  - list: {chip.cores: [1, 2, 0]}\n";
    cli_result r = run_cli("sweep '" + file + "' --out '" + out + "' --slurm");
    BOOST_CHECK_EQUAL(r.rc, 1);  // chip.cores 0 is out of range
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
    std::ofstream(file) << "schema: npusim.sweep/1\nname: e\nworkloads: [mlp.yaml]\n"
                           "parameters:\n  - range: {chip.cores: {from: 2, to: 8, step: 2}}\n"
                           "  - grid: {gm.latency: [10ns, 20ns], l2.ways: [4, 8, 16]}\n";
    const cli_result r = run_cli("sweep '" + file + "' --out '" + out + "' --emit slurm");
    BOOST_CHECK_EQUAL(r.rc, 0);
    const std::string sb = read_file(out + "/slurm/array.sbatch");
    BOOST_CHECK_MESSAGE(contains(sb, "#SBATCH --array=0-23\n"), sb);  // 4 x 2 x 3 points
    BOOST_CHECK_MESSAGE(contains(sb, "--point \"$SLURM_ARRAY_TASK_ID\""), sb);
    const std::string points = read_file(out + "/slurm/points.txt");
    BOOST_CHECK_EQUAL(std::count(points.begin(), points.end(), '\n'), 24);
    BOOST_CHECK_MESSAGE(contains(points, "23\tchip.cores=8 gm.latency=20ns l2.ways=16 workload="),
                        points);
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
         ":3:10: error: timeout: not a number of seconds"}};
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
    BOOST_CHECK_MESSAGE(contains(r.out, "npusim sweep: sbatch failed: "), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "hint: is Slurm running and SLURM_CONF set?"), r.out);
}

BOOST_AUTO_TEST_SUITE_END()
