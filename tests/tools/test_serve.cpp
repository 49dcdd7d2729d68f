// `npusim serve` end to end on a tiny model: its files, op level against instruction level,
// determinism, a serving sweep over a serving key and a platform key, and bad input.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "tests/tools/cli_fixture.h"

using namespace npusim::test;

namespace {

/// A folder with a tiny model, a trace and a serving file (3 cache blocks of 16 tokens, so the
/// trace's requests preempt one another).
struct serving_folder {
    serving_folder() {
        static int n = 0;
        path = fs::temp_directory_path() /
               ("npusim_serve_" + std::to_string(getpid()) + "_" + std::to_string(n++));
        fs::create_directories(path);
        write("model.yaml",
              "schema: npusim.model/1\nname: tiny\nlayers: 2\nhidden: 64\nheads: 2\nffn: 128\n"
              "vocab: 256\n");
        write("trace.csv",
              "time_s,prompt_tokens,output_tokens\n0,10,8\n0,7,8\n0.00001,12,6\n0.00002,5,1\n"
              "0.00002,9,9\n0.0001,3,2\n");
        write("s.yaml",
              "schema: npusim.serving/1\nmodel: model.yaml\nplatform: tiny\n"
              "arrivals: {trace: trace.csv}\n"
              "scheduler: {max_batch_tokens: 64, max_seqs: 4, block_tokens: 16, kv_blocks: 3,\n"
              "            max_model_len: 24}\n");
    }
    ~serving_folder() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
    }
    std::string at(const std::string& name) const { return (path / name).string(); }
    fs::path path;
};

nlohmann::json summary(const std::string& dir) {
    return nlohmann::json::parse(read_file(dir + "/summary.json"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(serve_cli)

BOOST_AUTO_TEST_CASE(writes_requests_summary_and_timeline) {
    serving_folder f;
    const cli_result r = run_cli("serve '" + f.at("s.yaml") + "' --out '" + f.at("out") +
                                 "' --stats '" + f.at("stats.json") + "'");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "TTFT") && contains(r.out, "preemptions"), r.out);
    const std::string csv = read_file(f.at("out/requests.csv"));
    BOOST_CHECK_EQUAL(std::count(csv.begin(), csv.end(), '\n'), 7);
    const nlohmann::json s = summary(f.at("out"));
    BOOST_CHECK_EQUAL(s["requests"], 6);
    BOOST_CHECK_GT(s["preemptions"].get<int>(), 0);
    BOOST_CHECK(s["ttft_s"]["p99"].get<double>() >= s["ttft_s"]["p50"].get<double>());
    BOOST_CHECK_EQUAL(read_file(f.at("stats.json")), read_file(f.at("out/summary.json")));
    BOOST_CHECK_MESSAGE(contains(csv, "preemptions,load\n"), csv);
    const std::string svg = read_file(f.at("out/latency.svg"));
    size_t dots = 0;
    for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1))
        ++dots;
    BOOST_CHECK_EQUAL(dots, 12u);  // TTFT and end to end of each request
    const auto timeline = nlohmann::json::parse(read_file(f.at("out/timeline.json")));
    BOOST_CHECK_EQUAL(timeline["traceEvents"].size(), s["iterations"].get<size_t>() + 6);
}

// Op level replays what instruction level simulates: same schedule, means within 3%; and the
// same run twice gives the same bytes.
BOOST_AUTO_TEST_CASE(op_level_matches_instruction_level_and_is_deterministic) {
    serving_folder f;
    for (const char* d : {"op", "op2", "instr"})
        BOOST_REQUIRE_EQUAL(run_cli("serve '" + f.at("s.yaml") + "' --quiet --out '" + f.at(d) +
                                    "' --fidelity " + (d[0] == 'i' ? "instr" : "op"))
                                .rc,
                            0);
    BOOST_CHECK_EQUAL(read_file(f.at("op/requests.csv")), read_file(f.at("op2/requests.csv")));
    const nlohmann::json op = summary(f.at("op")), instr = summary(f.at("instr"));
    BOOST_CHECK_EQUAL(op["iterations"], instr["iterations"]);
    for (const char* m : {"ttft_s", "tpot_s"})
        BOOST_CHECK_CLOSE(op[m]["mean"].get<double>(), instr[m]["mean"].get<double>(), 3.0);
    BOOST_CHECK_GT(op["replayed_ops"].get<int>(), 0);
    BOOST_CHECK_EQUAL(instr["replayed_ops"], 0);
}

// A serving sweep: serving.KEY parameters override the serving file, the others the platform;
// metrics come from each point's summary. A higher HBM bandwidth cannot slow the run down.
BOOST_AUTO_TEST_CASE(a_sweep_over_serving_and_platform_keys) {
    serving_folder f;
    f.write("sweep.yaml",
            "schema: npusim.sweep/1\nname: srv\nserving: s.yaml\nparameters:\n"
            "  - grid:\n      serving.scheduler.max_seqs: [2, 4]\n"
            "      gm.bandwidth: [16GB/s, 64GB/s]\n"
            "metrics: [e2e_s.mean, preemptions]\n");
    const cli_result r = run_cli("sweep '" + f.at("sweep.yaml") + "' --out '" + f.at("o") + "'");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "4 of 4 points recorded, 0 failed"), r.out);
    const std::string csv = read_file(f.at("o/results.csv"));
    BOOST_CHECK_MESSAGE(contains(csv, "e2e_s.mean") && contains(csv, "serving.scheduler.max_seqs"),
                        csv);
    // An unknown metric and a platform given twice are errors at their lines.
    f.write("bad.yaml",
            "schema: npusim.sweep/1\nserving: s.yaml\nplatform: tiny\nmetrics: [ttft_s.p99]\n");
    cli_result b = run_cli("validate '" + f.at("bad.yaml") + "'");
    BOOST_CHECK_MESSAGE(b.rc == 2 && contains(b.out, "bad.yaml:3"), b.out);
    f.write("bad.yaml", "schema: npusim.sweep/1\nserving: s.yaml\nmetrics: [ttft_p99]\n");
    b = run_cli("validate '" + f.at("bad.yaml") + "'");
    BOOST_CHECK_MESSAGE(b.rc == 2 && contains(b.out, "bad.yaml:3") && contains(b.out, "ttft_s"),
                        b.out);
    f.write("bad.yaml",
            "schema: npusim.sweep/1\nserving: s.yaml\nparameters:\n  - list:\n"
            "      serving.scheduler.max_sqes: [2]\n");
    b = run_cli("validate '" + f.at("bad.yaml") + "'");
    BOOST_CHECK_MESSAGE(b.rc == 2 && contains(b.out, "max_sqes"), b.out);
}

BOOST_AUTO_TEST_CASE(bad_input_is_exit_2_with_file_and_line) {
    serving_folder f;
    f.write("bad.yaml",
            "schema: npusim.serving/1\nmodel: model.yaml\nplatform: tiny\n"
            "arrivals: {trace: trace.csv}\nschedular: {max_seqs: 4}\n");
    cli_result r = run_cli("serve '" + f.at("bad.yaml") + "' --out '" + f.at("o") + "'");
    BOOST_CHECK_MESSAGE(r.rc == 2 && contains(r.out, "bad.yaml:5") && contains(r.out, "scheduler"),
                        r.out);
    f.write("trace.csv", "time_s,prompt_tokens,output_tokens\n0.2,4,4\n0.1,4,4\n");
    r = run_cli("serve '" + f.at("s.yaml") + "' --out '" + f.at("o") + "'");
    BOOST_CHECK_MESSAGE(r.rc == 2 && contains(r.out, "trace.csv:3"), r.out);
    r = run_cli("serve '" + f.at("s.yaml") + "' --with arrivals.poisson.rate=-1");
    BOOST_CHECK_MESSAGE(r.rc == 2 && contains(r.out, "exactly one"), r.out);
    BOOST_CHECK(!fs::exists(f.at("o/summary.json")));
}

BOOST_AUTO_TEST_SUITE_END()
