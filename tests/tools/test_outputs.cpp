// Output files and run-time bounds of `npusim run`: files are written whole or not at all
// (interrupts, write errors, bad input), flags are bounded, and memory follows what is recorded.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "platform/vcd_writer.h"
#include "tests/tools/cli_fixture.h"

using namespace npusim;
using namespace npusim::test;

namespace {

struct spawn_options {
    rlim_t file_size_limit = RLIM_INFINITY;  ///< RLIMIT_FSIZE: a stand-in for a full disk
    int interrupt_after_ms = -1;             ///< send SIGINT this long after the start
};

struct spawn_result {
    int status = 0;
    std::string out;
    long max_rss_kib = 0;
};

/// Runs npusim with an argument vector (no shell), output captured through a pipe.
spawn_result spawn_npusim(const std::vector<std::string>& args, const spawn_options& o = {}) {
    int fds[2];
    BOOST_REQUIRE(pipe(fds) == 0);
    const pid_t pid = fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        if (o.file_size_limit != RLIM_INFINITY) {
            const rlimit lim{o.file_size_limit, o.file_size_limit};
            setrlimit(RLIMIT_FSIZE, &lim);
            signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead
        }
        std::vector<std::string> all = {NPUSIM_BINARY};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : all) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(NPUSIM_BINARY, argv.data());
        _exit(127);
    }
    close(fds[1]);
    if (o.interrupt_after_ms >= 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(o.interrupt_after_ms));
        kill(pid, SIGINT);
    }
    spawn_result r;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) r.out.append(buf, size_t(n));
    close(fds[0]);
    rusage ru{};
    wait4(pid, &r.status, 0, &ru);
    r.max_rss_kib = ru.ru_maxrss;
    BOOST_TEST_MESSAGE("npusim exit status " << r.status << "\n" << r.out);
    return r;
}

int exit_code(const spawn_result& r) {
    return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
}

/// A folder of its own, so leftover temporaries can be counted.
struct temp_dir {
    temp_dir() {
        static int counter = 0;
        path = fs::temp_directory_path() /
               ("npusim_out_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
    size_t entries() const {
        return size_t(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
    }
    fs::path path;
};

const std::string old_text = "the previous run's stats\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(outputs)

// Bad input must not touch an existing output (it used to be truncated by the pre-run check).
BOOST_AUTO_TEST_CASE(bad_input_keeps_the_old_file) {
    temp_dir d;
    std::ofstream(d.file("s.json")) << old_text;
    const auto r = spawn_npusim({"run", "--platform", "tiny", "--workload", "mlp", "--set",
                                 "chip.cores=0", "--stats", d.file("s.json")});
    BOOST_CHECK_EQUAL(exit_code(r), 2);
    BOOST_CHECK_EQUAL(read_file(d.file("s.json")), old_text);
    BOOST_CHECK_EQUAL(d.entries(), 1u);
}

// Ctrl-C during a run: the process dies of SIGINT, the old file is intact, no temporary left.
BOOST_AUTO_TEST_CASE(interrupt_keeps_the_old_file_and_leaves_no_temporary) {
    temp_dir d;
    std::ofstream(d.file("s.json")) << old_text;
    spawn_options o;
    o.interrupt_after_ms = 400;
    const auto r = spawn_npusim(
        {"run", "--platform", "ascend910", "--workload", "resnet50_b1", "--timing-only", "--stats",
         d.file("s.json"), "--timeline", d.file("t.json"), "--vcd", d.file("w.vcd")},
        o);
    BOOST_CHECK(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGINT);
    BOOST_CHECK_EQUAL(read_file(d.file("s.json")), old_text);
    BOOST_CHECK_EQUAL(d.entries(), 1u);
}

// A write error (here the file size limit; a full disk behaves alike) is a failed run, exit 1
// with the file named, and the old file survives.
BOOST_AUTO_TEST_CASE(write_errors_exit_1_and_keep_the_old_file) {
    temp_dir d;
    std::ofstream(d.file("s.json")) << old_text;
    spawn_options o;
    o.file_size_limit = 2048;
    auto r = spawn_npusim(
        {"run", "--platform", "tiny", "--workload", "mlp", "--quiet", "--stats", d.file("s.json")},
        o);
    BOOST_CHECK_EQUAL(exit_code(r), 1);
    BOOST_CHECK_MESSAGE(contains(r.out, "error: cannot write --stats file " + d.file("s.json") +
                                            ": File too large"),
                        r.out);
    BOOST_CHECK_EQUAL(read_file(d.file("s.json")), old_text);
    BOOST_CHECK_EQUAL(d.entries(), 1u);

    r = spawn_npusim(
        {"run", "--platform", "tiny", "--workload", "mlp", "--quiet", "--vcd", d.file("w.vcd")}, o);
    BOOST_CHECK_EQUAL(exit_code(r), 1);
    BOOST_CHECK_MESSAGE(contains(r.out, "error: cannot write VCD file " + d.file("w.vcd")), r.out);
    BOOST_CHECK(!fs::exists(d.file("w.vcd")));
    BOOST_CHECK_EQUAL(d.entries(), 1u);
}

// A run replaces the old file whole.
BOOST_AUTO_TEST_CASE(success_replaces_the_old_file) {
    temp_dir d;
    std::ofstream(d.file("s.json")) << old_text;
    const auto r = spawn_npusim(
        {"run", "--platform", "tiny", "--workload", "mlp", "--quiet", "--stats", d.file("s.json")});
    BOOST_CHECK_EQUAL(exit_code(r), 0);
    const auto st = nlohmann::json::parse(read_file(d.file("s.json")));
    BOOST_CHECK_EQUAL(st["schema"], "npusim.stats/1");
    BOOST_CHECK_EQUAL(d.entries(), 1u);
}

BOOST_AUTO_TEST_CASE(vcd_into_a_missing_folder_is_found_before_the_run) {
    const auto r = spawn_npusim(
        {"run", "--platform", "tiny", "--workload", "mlp", "--vcd", "/nonexistent/dir/w.vcd"});
    BOOST_CHECK_EQUAL(exit_code(r), 2);
    BOOST_CHECK_MESSAGE(contains(r.out,
                                 "/nonexistent/dir/w.vcd: error: --vcd: cannot write this file "
                                 "(No such file or directory)\n  hint: the folder "
                                 "/nonexistent/dir does not exist; create it first"),
                        r.out);
    BOOST_CHECK(!contains(r.out, "npusim run: workload"));  // nothing ran
}

// Core lists are bounded by the chip: no loop over four billion ids, no wrap-around.
BOOST_AUTO_TEST_CASE(vcd_core_lists_are_bounded) {
    temp_file vcd("w", ".vcd");
    for (const std::string cores : {"0-4294967295", "4294967296", "2", "0-99999999999"}) {
        const auto r = spawn_npusim({"run", "--platform", "tiny", "--workload", "mlp", "--vcd",
                                     vcd.str(), "--vcd-cores", cores});
        BOOST_CHECK_EQUAL(exit_code(r), 2);
        BOOST_CHECK_MESSAGE(contains(r.out, "error: --vcd-cores: "), r.out);
        BOOST_CHECK_MESSAGE(contains(r.out, "hint: write e.g. --vcd-cores 0,2-3"), r.out);
    }
    auto r = spawn_npusim({"run", "--platform", "tiny", "--workload", "mlp", "--vcd", vcd.str(),
                           "--vcd-cores", "0-4294967295"});
    BOOST_CHECK_MESSAGE(
        contains(r.out, "core 4294967295 does not exist (the chip has 2 cores: 0-1)"), r.out);
    r = spawn_npusim({"run", "--platform", "tiny", "--workload", "mlp", "--vcd", vcd.str(),
                      "--vcd-cores", "3-1"});
    BOOST_CHECK_EQUAL(exit_code(r), 2);
    BOOST_CHECK_MESSAGE(contains(r.out, "core range '3-1' ends before it starts"), r.out);
}

BOOST_AUTO_TEST_CASE(vcd_windows_are_bounded) {
    temp_file vcd("w", ".vcd");
    for (const std::string w : {"0:1e300s", "-5ns:1us", "0ns:nan", "5us:1us", "10us"}) {
        const auto r = spawn_npusim({"run", "--platform", "tiny", "--workload", "mlp", "--vcd",
                                     vcd.str(), "--vcd-window", w});
        BOOST_CHECK_EQUAL(exit_code(r), 2);
        BOOST_CHECK_MESSAGE(contains(r.out, "--vcd-window " + w + ": error: --vcd-window: "),
                            r.out);
    }
}

BOOST_AUTO_TEST_CASE(vcd_filters_need_a_vcd) {
    for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
             {"--vcd-cores", "0"}, {"--vcd-signal", "*busy*"}, {"--vcd-window", "0:1us"}}) {
        const auto r =
            spawn_npusim({"run", "--platform", "tiny", "--workload", "mlp", flag, value});
        BOOST_CHECK_EQUAL(exit_code(r), 2);
        BOOST_CHECK_MESSAGE(contains(r.out, flag + ": error: " + flag +
                                                ": filters a waveform, but no --vcd file is "
                                                "given\n  hint: add --vcd FILE, or drop " +
                                                flag),
                            r.out);
    }
}

// Dimensions past 2^31 used to wrap to 32 bits (4294967312 ran as 16).
BOOST_AUTO_TEST_CASE(shapes_are_bounded) {
    auto r = spawn_npusim(
        {"run", "--platform", "tiny", "--workload", "matmul", "--shape", "4294967312x16x16"});
    BOOST_CHECK_EQUAL(exit_code(r), 2);
    BOOST_CHECK_MESSAGE(
        contains(r.out,
                 "--shape 4294967312x16x16: error: --shape: '4294967312' is not a whole "
                 "number from 1 to 2147483648"),
        r.out);
    r = spawn_npusim({"run", "--platform", "tiny", "--workload", "matmul", "--shape",
                      "65536x65536x16", "--timing-only"});
    BOOST_CHECK_EQUAL(exit_code(r), 2);
    BOOST_CHECK_MESSAGE(contains(r.out, "error: --shape: matmul needs 8.0 GiB of global memory"),
                        r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "raise gm.capacity with --set"), r.out);
    r = spawn_npusim({"run", "--platform", "tiny", "--workload", "matmul", "--shape", "64x64"});
    BOOST_CHECK_EQUAL(exit_code(r), 2);
    BOOST_CHECK_MESSAGE(contains(r.out, "error: --shape: matmul takes 3 dimensions"), r.out);
    r = spawn_npusim({"run", "--platform", "tiny", "--workload", "mlp", "--shape", "64"});
    BOOST_CHECK_EQUAL(exit_code(r), 2);
    BOOST_CHECK_MESSAGE(contains(r.out, "only the built-in kernel workloads take a shape"), r.out);
}

// `run` checks that the platform can run kernels before it starts, as `validate` does.
BOOST_AUTO_TEST_CASE(run_refuses_an_unrunnable_platform) {
    const auto r = spawn_npusim(
        {"run", "--platform", "tiny", "--workload", "mlp", "--set", "chip.event_ids=1"});
    BOOST_CHECK_EQUAL(exit_code(r), 2);
    BOOST_CHECK_MESSAGE(contains(r.out, "error: chip.event_ids: 1 event id"), r.out);
    BOOST_CHECK(!contains(r.out, "npusim run: workload"));
}

// L2 tags are allocated as sets are used: a 64 GiB L2 of 32-byte lines (two billion tags)
// runs a small workload in little memory.
BOOST_AUTO_TEST_CASE(l2_tag_memory_follows_use) {
    const auto r =
        spawn_npusim({"run", "--platform", "tiny", "--workload", "mlp", "--quiet", "--set",
                      "l2.size=64GiB", "--set", "l2.line=32", "--set", "l2.ways=1"});
    BOOST_CHECK_EQUAL(exit_code(r), 0);
    BOOST_CHECK_LT(r.max_rss_kib, 1024 * 1024);
}

// The VCD window holds only its own changes; values before it fold into the first dump.
BOOST_AUTO_TEST_CASE(vcd_window_folds_earlier_changes) {
    temp_file vcd("w", ".vcd");
    platform::vcd_options o;
    o.path = vcd.str();
    o.from_ps = 10'000;
    o.to_ps = 20'000;
    platform::vcd_writer w(o);
    const int level = w.declare("chip.a.busy", 1, false);
    const int count = w.declare("chip.a.bytes", 32, true);
    w.set(level, 7'000, 0);  // reported first, but later in time than the next one
    w.set(level, 5'000, 1);  // earlier in time: must not win over t = 7 ns
    w.add(count, 3'000, 64);
    w.add(count, 9'000, 32);
    w.add(count, 15'000, -16);
    w.set(level, 16'000, 1);
    w.add(count, 25'000, 1000);  // after the window: dropped
    w.close();
    const std::string text = read_file(vcd.str());
    BOOST_CHECK_MESSAGE(contains(text, "#10\n$dumpvars\n0!\nb1100000 \"\n$end\n"), text);
    BOOST_CHECK_MESSAGE(contains(text, "#15\nb1010000 \"\n#16\n1!\n"), text);
    BOOST_CHECK_MESSAGE(!contains(text, "#25"), text);
}

BOOST_AUTO_TEST_SUITE_END()
