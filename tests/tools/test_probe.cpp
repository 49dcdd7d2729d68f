// `npusim probe`: the JSON it prints, costs against closed forms from the platform keys, and
// bad input (exit 2 listing what is known).
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <string>

#include "tests/tools/cli_fixture.h"

using namespace npusim::test;

namespace {

nlohmann::json probe(const std::string& args) {
    const cli_result r = run_cli("probe " + args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, "npusim probe " << args << ": " << r.out);
    return nlohmann::json::parse(r.out.substr(r.out.find('{')));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(probe_command)

BOOST_AUTO_TEST_CASE(prints_the_documented_json) {
    const auto j = probe("move gm l1 4096 --platform ascend910b1 --count 64");
    BOOST_CHECK_EQUAL(j.size(), 8u);
    BOOST_CHECK_EQUAL(j["schema"], "npusim.probe/1");
    BOOST_CHECK_EQUAL(j["kind"], "move gm l1 4096");
    BOOST_CHECK_EQUAL(j["platform"], "ascend910b1");
    BOOST_CHECK_EQUAL(j["count"], 64);
    BOOST_CHECK_EQUAL(j["bytes_per_instr"], 4096.0);
    const double ns = j["ns_per_instr"];
    BOOST_CHECK_GT(ns, 0.0);
    BOOST_CHECK_CLOSE(j["cycles_per_instr"].get<double>(), ns * 1.85, 1e-6);  // 1.85 GHz
    BOOST_CHECK_CLOSE(j["gib_per_s"].get<double>(), 4096 / (ns * 1e-9) / (1 << 30), 1e-6);
}

// Back-to-back mmads: max(cube.issue_cycles, cube.fixed_cycles + fractals) cycles each (16x16x16
// fp16 fractals).
BOOST_AUTO_TEST_CASE(mmad_costs_its_fractals_or_the_issue_floor) {
    auto j = probe("mmad 64 64 64 --platform ascend910b1 --set cube.fixed_cycles=3");
    BOOST_CHECK_CLOSE(j["cycles_per_instr"].get<double>(), 67.0, 0.5);
    j = probe("mmad 16 16 16 --platform ascend910b1 --set cube.issue_cycles=7");
    BOOST_CHECK_CLOSE(j["cycles_per_instr"].get<double>(), 7.0, 0.5);
    j = probe("mmad 32 64 32 --dtype int8 --platform ascend910b1 --set cube.fixed_cycles=0");
    BOOST_CHECK_CLOSE(j["cycles_per_instr"].get<double>(), 8.0, 0.5);  // int8 fractal k = 32
}

// Back-to-back vector ops: repeats x the class's cycles per repeat when above the floor.
BOOST_AUTO_TEST_CASE(vector_costs_repeats_times_cycles_per_repeat) {
    const auto j = probe(
        "vector vexp fp16_fp16 100 --platform ascend910 "
        "--set vector.cycles_per_repeat.transcendental=6");
    BOOST_CHECK_CLOSE(j["cycles_per_instr"].get<double>(), 600.0, 0.5);
    BOOST_CHECK_EQUAL(j["bytes_per_instr"], 100 * 256.0);
}

// A move back to back: max(issue_cycles, latency + bytes / issue_bytes_per_cycle,
// bytes / bytes_per_cycle + burst_overhead per burst), each term in turn the largest.
BOOST_AUTO_TEST_CASE(move_costs_its_closed_form) {
    const std::string p = " --set paths.l1_to_l0a.";
    auto cycles = [&](const std::string& issue, const std::string& latency,
                      const std::string& issue_bpc, const std::string& bpc,
                      const std::string& overhead) {
        return probe("move l1 l0a 16384 --platform ascend910b1" + p + "issue_cycles=" + issue + p +
                     "latency=" + latency + p + "issue_bytes_per_cycle=" + issue_bpc + p +
                     "bytes_per_cycle=" + bpc + p +
                     "burst_overhead=" + overhead)["cycles_per_instr"]
            .get<double>();
    };
    // The port: 32 bursts of 512 B at 16 B/cycle plus 1 cycle each.
    BOOST_CHECK_CLOSE(cycles("0", "0", "0", "16", "1"), 32 * (512 / 16 + 1), 0.5);
    // The request stage: 100 cycles of start-up, then 16384 B at 128 B/cycle (port 256).
    BOOST_CHECK_CLOSE(cycles("0", "100", "128", "256", "0"), 100 + 16384 / 128, 0.5);
    // The floor.
    BOOST_CHECK_CLOSE(cycles("300", "0", "0", "256", "0"), 300, 0.5);
}

// A conversion adds its format latency to the start-up; a load of R repeats moves R KiB.
BOOST_AUTO_TEST_CASE(format_and_repeat_options) {
    const std::string p = " --set paths.gm_to_l1.";
    auto cycles = [&](const std::string& what, const std::string& format_latency) {
        return probe(what + " --platform ascend910b1" + p + "issue_cycles=0" + p + "latency=300" +
                     p + "issue_bytes_per_cycle=64" + p + "bytes_per_cycle=256" + p +
                     "format_latency=" + format_latency);
    };
    BOOST_CHECK_CLOSE(cycles("move gm l1 8192", "200")["cycles_per_instr"].get<double>(),
                      300 + 8192 / 64, 0.5);
    const auto nd2nz = cycles("move gm l1 8192 --format nd2nz", "200");
    BOOST_CHECK_CLOSE(nd2nz["cycles_per_instr"].get<double>(), 500 + 8192 / 64, 0.5);
    BOOST_CHECK_EQUAL(nd2nz["kind"], "move gm l1 8192 --format nd2nz");
    const auto rep = probe("move l1 l0a --repeat 6 --platform ascend910b1");
    BOOST_CHECK_EQUAL(rep["bytes_per_instr"], 6 * 1024.0);
    BOOST_CHECK_EQUAL(rep["kind"], "move l1 l0a --repeat 6");
    const auto ub = probe("move ub ub 150000 --platform ascend910b1");  // overlapping halves
    BOOST_CHECK_EQUAL(ub["bytes_per_instr"], 150000.0);
}

BOOST_AUTO_TEST_CASE(bad_input_lists_what_is_known) {
    struct {
        const char* args;
        const char* says;
    } cases[] = {
        {"move gm xx 10", "unknown memory 'xx'; known: bt, fb, gm, l0a"},
        {"move ub l0a 100 --platform ascend910b1", "no data path ub->l0a on ascend910b1; known:"},
        {"move gm ub 0", "BYTES '0' is not a whole number from 1 to"},
        {"move gm l0a 999999999", "is not a whole number from 1 to 65536"},
        {"vector vfoo fp16_fp16 3", "'vfoo' is not modelled; known: vabs, vadd"},
        {"vector vadd fp16_fp64_fp16 3", "dtype 'fp64' of 'fp16_fp64_fp16' is not modelled"},
        {"vector vadd fp16_fp16 3", "vadd takes 3 dtypes (src0_src1_dst)"},
        {"vector vadd int8_int8_int8 8", "add is not supported for int8"},
        {"vector vand fp16_fp16_fp16 2",
         "and is not supported for fp16 (int16 or uint16); known: int16, uint16"},
        {"vector vmla fp16_fp32_fp32 2", "vmla works in one dtype; got 'fp16_fp32_fp32'"},
        {"vector vmla fp32_fp32_fp16 2", "mla is not supported for fp32->fp16"},
        {"vector vadd fp16_fp16_fp16 256", "REPEATS '256' is not a whole number from 1 to 255"},
        {"mmad 16 16 16 --dtype fp64", "mmad dtype 'fp64' is not modelled; known: fp16"},
        {"mmad 512 512 16", "A (M x K) needs 524288 bytes of L0A"},
        {"move gm ub 4096 --format nd2nz --platform ascend910b1",
         "format 'nd2nz' is not modelled on this path; known: nd2nz (gm l1), nz2nd (l0c gm)"},
        {"move gm l1 1000 --format nd2nz", "must be a multiple of 512"},
        {"move gm ub --repeat 2", "--repeat is the load of gm or l1 to l0a or l0b"},
        {"move l1 l0a --repeat 100 --platform ascend910b1", "needs 102400 bytes"},
        {"wobble 1", "unknown probe 'wobble'; known: move, mmad, vector"},
    };
    for (const auto& c : cases) {
        const cli_result r = run_cli(std::string("probe ") + c.args);
        BOOST_CHECK_MESSAGE(r.rc == 2, c.args << ": exit " << r.rc);
        BOOST_CHECK_MESSAGE(contains(r.out, c.says), c.args << ": " << r.out);
    }
}

BOOST_AUTO_TEST_SUITE_END()
