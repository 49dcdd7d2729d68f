// The report's metrics against their definitions (docs/metrics.md), on cases with closed forms:
// the kernel summary over overlapping kernels and host copies, and pipe busy % over the kernel
// span for a kernel that follows a long host copy. Also the CLI conventions around them:
// --version, `--stats -`, and the --set overrides echoed in the report and stats.
#include <sys/wait.h>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>

#include "platform/stats.h"
#include "platform/version.h"
#include "tests/tools/cli_fixture.h"

using namespace npusim;
using nlohmann::json;

namespace {

constexpr models::ps_t us = 1000000;

/// A stats document with one core whose M pipe was busy `m_busy_ns`, and the given ops.
json stats_with(double sim_ns, double m_busy_ns, const std::vector<platform::op_record>& ops) {
    json s;
    s["sim_time_ns"] = sim_ns;
    s["platform"] = {{"name", "test"}, {"source", "here"}};
    s["memory"] = {{"gm", {{"read_bytes", 0}, {"write_bytes", 0}, {"peak_bandwidth", 1e12}}},
                   {"l2", json::object()},
                   {"host_link", {{"h2d_bytes", 0}, {"d2h_bytes", 0}}}};
    json pipes = json::object();
    for (const char* p : {"MTE1", "MTE2", "MTE3", "M", "V", "FIX"})
        pipes[p] = {{"busy_ns", std::string(p) == "M" ? m_busy_ns : 0.0}, {"instructions", 1}};
    s["cores"] = json::array({{{"id", 0},
                               {"kind", "aic"},
                               {"pipes", pipes},
                               {"engines", json::object()},
                               {"buffers", json::object()}}});
    json jops = json::array();
    for (const auto& o : ops)
        jops.push_back({{"name", o.name},
                        {"type", o.type},
                        {"start_ns", o.start_ps / 1000.0},
                        {"end_ns", o.end_ps / 1000.0},
                        {"flops", o.flops},
                        {"bytes", o.bytes}});
    s["ops"] = jops;
    s["peak_fp16_flops"] = 1e15;
    s["summary"] = platform::summarize(ops, 1e15);
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

// Kernels at [100, 110] and [105, 120] us (overlapping) and [130, 140] us, host copies before,
// between and after: 3 kernels, span 100..140 = 40 us, busy 20 + 10 = 30 us, the FLOPs of the
// kernels only, over the span.
BOOST_AUTO_TEST_CASE(summary_counts_kernels_of_every_type_not_host_copies) {
    const std::vector<platform::op_record> ops = {
        {"h2d", "memcpy", 0, 100 * us, 0, 1 << 20},
        {"a", "kernel", 100 * us, 110 * us, 4e9, 0},
        {"b", "matmul", 105 * us, 120 * us, 4e9, 0},  // a built-in workload's type
        {"fill", "memset", 120 * us, 125 * us, 0, 1 << 20},
        {"c", "elementwise", 130 * us, 140 * us, 2e9, 0},
        {"d2h", "memcpy_d2h", 140 * us, 200 * us, 0, 1 << 20}};
    const json s = platform::summarize(ops, 1e15);
    BOOST_CHECK_EQUAL(s["kernels"].get<int>(), 3);
    BOOST_CHECK_CLOSE(s["device_span_ns"].get<double>(), 40000.0, 1e-9);
    BOOST_CHECK_CLOSE(s["kernel_busy_ns"].get<double>(), 30000.0, 1e-9);
    BOOST_CHECK_CLOSE(s["idle_between_kernels_ns"].get<double>(), 10000.0, 1e-9);
    BOOST_CHECK_CLOSE(s["flops"].get<double>(), 1e10, 1e-9);
    BOOST_CHECK_CLOSE(s["achieved_tflops"].get<double>(), 1e10 / 40e-6 / 1e12, 1e-9);
    BOOST_CHECK_CLOSE(s["fraction_of_peak"].get<double>(), 1e10 / 40e-6 / 1e15, 1e-9);
    BOOST_CHECK(!platform::is_kernel_op("memcpy_h2d") && !platform::is_kernel_op("memset"));
    BOOST_CHECK(platform::is_kernel_op("kernel") && platform::is_kernel_op("matmul"));
    BOOST_CHECK_EQUAL(platform::summarize({}, 1e15)["device_span_ns"].get<double>(), 0.0);
}

// A 900 us host copy, then a 100 us kernel during which M was busy 95 us: M is 95.0% busy over
// the kernel span, and the whole-run factor is 100 / 1000.
BOOST_AUTO_TEST_CASE(busy_percent_is_over_the_kernel_span) {
    const json s = stats_with(1e6, 95000,
                              {{"weights", "memcpy", 0, 900 * us, 0, 1 << 30},
                               {"k", "kernel", 900 * us, 1000 * us, 0, 0}});
    const std::string r = platform::format_report(s);
    BOOST_CHECK_MESSAGE(r.find("of the 100.000 us kernel span") != std::string::npos, r);
    BOOST_CHECK_MESSAGE(r.find("over the whole run: x 0.100") != std::string::npos, r);
    BOOST_CHECK_MESSAGE(r.find(" 95.0/95.0 ") != std::string::npos, r);
    BOOST_CHECK_MESSAGE(r.find("kernels    1 over 100.000 us") != std::string::npos, r);
    BOOST_CHECK_MESSAGE(r.find("idle between kernels 0.000 us (0.0%)") != std::string::npos, r);
}

// A launch of two blocks: one on core 0 for 100 ns (V busy 50), one on a cube+vector group of
// two cores for 200 ns (M busy 300): block time 100 + 2 x 200 = 500 ns, so V 10%, M 60%.
BOOST_AUTO_TEST_CASE(op_pipe_busy_ratio_over_block_time) {
    models::launch_record rec;
    rec.blocks.resize(2);
    rec.blocks[0].cores = {0};
    rec.blocks[0].start = 0, rec.blocks[0].end = 100000;
    rec.blocks[0].pipe_busy = {{models::pipe_id::V, 50000}, {models::pipe_id::M, 0}};
    rec.blocks[1].cores = {1, 2};
    rec.blocks[1].start = 0, rec.blocks[1].end = 200000;
    rec.blocks[1].pipe_busy = {{models::pipe_id::M, 300000}};
    platform::op_record op{"k", "kernel", 0, 200000, 0, 0};
    platform::add_launch(op, rec);
    BOOST_CHECK_EQUAL(op.blocks, 2u);
    BOOST_CHECK_EQUAL(op.block_ps, 500000u);
    BOOST_CHECK_EQUAL(op.pipe_busy_ps[models::pipe_id::V], 50000u);
    BOOST_CHECK_EQUAL(op.pipe_busy_ps[models::pipe_id::M], 300000u);
    json s = stats_with(1000, 0, {op});
    s["ops"][0]["pipe_busy_ratio"] = {{"V", 0.1}, {"M", 0.6}};
    const std::string r = platform::format_report(s);
    BOOST_CHECK_MESSAGE(r.find("M 60%") != std::string::npos, r);
}

// Load imbalance: three blocks on two units, 300 ns on unit 0, 100 + 100 ns on unit 1 (a cube
// core with its vector cores, keyed by its first core): busy 300 and 200, mean 250, so 1.2.
BOOST_AUTO_TEST_CASE(op_imbalance_is_max_over_mean_unit_busy_time) {
    models::launch_record rec;
    rec.blocks.resize(3);
    rec.blocks[0].core = 0, rec.blocks[0].cores = {0};
    rec.blocks[0].start = 0, rec.blocks[0].end = 300000;
    for (int i : {1, 2}) {
        rec.blocks[i].core = 1, rec.blocks[i].cores = {1, 2, 3};
        rec.blocks[i].start = (i - 1) * 100000, rec.blocks[i].end = i * 100000;
    }
    platform::op_record op{"k", "kernel", 0, 300000, 0, 0};
    platform::add_launch(op, rec);
    const json j = platform::op_json(op);
    BOOST_CHECK_EQUAL(j["units"].get<unsigned>(), 2u);
    BOOST_CHECK_CLOSE(j["imbalance"].get<double>(), 1.2, 1e-9);
    BOOST_CHECK_CLOSE(j["block_ns"].get<double>(), 300 + 3 * 200, 1e-9);
    // One block per unit, all as long: balanced.
    platform::op_record even{"e", "kernel", 0, 100000, 0, 0};
    rec.blocks.resize(2);
    rec.blocks[1].start = 0, rec.blocks[1].end = 300000;
    platform::add_launch(even, rec);
    BOOST_CHECK_CLOSE(platform::op_json(even)["imbalance"].get<double>(), 1.0, 1e-9);
}

// End to end: the one kernel of a built-in run owns every pipe's busy time of the chip.
BOOST_AUTO_TEST_CASE(op_pipe_busy_adds_up_to_the_cores) {
    test::temp_file stats("ops", ".json");
    const test::cli_result r = test::run_cli(
        "run --platform tiny --workload matmul --shape 256x256x256 --timing-only --quiet --stats "
        "'" +
        stats.str() + "'");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    const json s = json::parse(test::read_file(stats.str()));
    const json* kernel = nullptr;
    for (const auto& o : s["ops"])
        if (o["type"] == "matmul") kernel = &o;
    BOOST_REQUIRE(kernel && kernel->contains("pipe_busy_ratio"));
    BOOST_CHECK_GT((*kernel)["blocks"].get<int>(), 0);
    for (const char* p : {"MTE1", "MTE2", "MTE3", "M", "V", "FIX"}) {
        double cores = 0;
        for (const auto& c : s["cores"]) cores += c["pipes"][p]["busy_ns"].get<double>();
        const json& ratio = (*kernel)["pipe_busy_ratio"];
        const double op =
            ratio.contains(p) ? ratio[p].get<double>() * (*kernel)["block_ns"].get<double>() : 0;
        BOOST_CHECK_MESSAGE(std::abs(op - cores) <= 1e-6 * std::max(1.0, cores),
                            p << ": op " << op << " ns, cores " << cores << " ns");
    }
}

BOOST_AUTO_TEST_CASE(version_flag_and_version_in_stats) {
    const test::cli_result v = test::run_cli("--version");
    BOOST_CHECK_EQUAL(v.rc, 0);
    BOOST_CHECK_EQUAL(v.out, std::string("npusim ") + k_version + "\n");
    test::temp_file out("stdout", ".json"), err("stderr");
    const std::string cmd = std::string("'") + NPUSIM_BINARY +
                            "' run --platform tiny --workload matmul --shape 64x64x64 "
                            "--timing-only --set gm.bandwidth=100GB/s --stats - > '" +
                            out.str() + "' 2> '" + err.str() + "'";
    const int status = std::system(cmd.c_str());
    BOOST_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    json s;
    BOOST_REQUIRE_NO_THROW(s = json::parse(test::read_file(out.str())));  // stdout: JSON only
    BOOST_CHECK_EQUAL(s["npusim_version"].get<std::string>(), k_version);
    BOOST_CHECK_EQUAL(s["run"]["overrides"].dump(), "[\"gm.bandwidth=100GB/s\"]");
    BOOST_CHECK_EQUAL(s["summary"]["kernels"].get<int>(), 1);  // the built-in matmul
    const std::string report = test::read_file(err.str());
    BOOST_CHECK_MESSAGE(report.find("overrides  gm.bandwidth=100GB/s") != std::string::npos,
                        report);
    BOOST_CHECK_MESSAGE(report.find("kernels    1 over") != std::string::npos, report);
}

// `--workload -` reads the workload from standard input; its errors name <stdin> and the line.
BOOST_AUTO_TEST_CASE(workload_from_stdin) {
    const std::string file = std::string(NPUSIM_SOURCE_DIR) + "/configs/workloads/bert_check.yaml";
    const test::cli_result ok =
        test::run_cli("run --platform tiny --timing-only --workload - < '" + file + "'");
    BOOST_CHECK_EQUAL(ok.rc, 0);
    BOOST_CHECK_MESSAGE(ok.out.find("workload bert_check (<stdin>, 22 ops") != std::string::npos,
                        ok.out);
    test::temp_file bad("bad", ".yaml");
    {
        std::ofstream f(bad.str());
        f << "schema: npusim.workload/1\nname: x\nbogus: 1\n";
    }
    const test::cli_result no = test::run_cli("run --workload - < '" + bad.str() + "'");
    BOOST_CHECK_EQUAL(no.rc, 2);
    BOOST_CHECK_MESSAGE(no.out.find("<stdin>:3:1: error: bogus: unknown key") != std::string::npos,
                        no.out);
}

BOOST_AUTO_TEST_SUITE_END()
