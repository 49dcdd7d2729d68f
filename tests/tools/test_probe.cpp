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

// Back-to-back mmads: max(cube.issue_cycles, fractals) cycles each (16x16x16 fp16 fractals).
BOOST_AUTO_TEST_CASE(mmad_costs_its_fractals_or_the_issue_floor) {
    auto j = probe("mmad 64 64 64 --platform ascend910b1");
    BOOST_CHECK_CLOSE(j["cycles_per_instr"].get<double>(), 64.0, 0.5);
    j = probe("mmad 16 16 16 --platform ascend910b1 --set cube.issue_cycles=7");
    BOOST_CHECK_CLOSE(j["cycles_per_instr"].get<double>(), 7.0, 0.5);
    j = probe("mmad 32 64 32 --dtype int8 --platform ascend910b1");  // int8 fractal k = 32
    BOOST_CHECK_CLOSE(j["cycles_per_instr"].get<double>(), 8.0, 0.5);
}

// Back-to-back vector ops: repeats x the class's cycles per repeat when above the floor.
BOOST_AUTO_TEST_CASE(vector_costs_repeats_times_cycles_per_repeat) {
    const auto j = probe(
        "vector vexp fp16_fp16 100 --platform ascend910 "
        "--set vector.cycles_per_repeat.transcendental=6");
    BOOST_CHECK_CLOSE(j["cycles_per_instr"].get<double>(), 600.0, 0.5);
    BOOST_CHECK_EQUAL(j["bytes_per_instr"], 100 * 256.0);
}

// A move whose port is the bottleneck: bytes / bytes_per_cycle + burst_overhead per burst.
BOOST_AUTO_TEST_CASE(move_costs_its_port_time) {
    const auto j =
        probe("move l1 l0a 16384 --platform ascend910b1 --set paths.l1_to_l0a.bytes_per_cycle=16");
    BOOST_CHECK_CLOSE(j["cycles_per_instr"].get<double>(), 32 * (512 / 16 + 1), 0.5);
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
        {"vector vadd fp16_fp16_fp16 256", "REPEATS '256' is not a whole number from 1 to 255"},
        {"mmad 16 16 16 --dtype fp64", "mmad dtype 'fp64' is not modelled; known: fp16"},
        {"mmad 512 512 16", "A (M x K) needs 524288 bytes of L0A"},
        {"wobble 1", "unknown probe 'wobble'; known: move, mmad, vector"},
    };
    for (const auto& c : cases) {
        const cli_result r = run_cli(std::string("probe ") + c.args);
        BOOST_CHECK_MESSAGE(r.rc == 2, c.args << ": exit " << r.rc);
        BOOST_CHECK_MESSAGE(contains(r.out, c.says), c.args << ": " << r.out);
    }
}

BOOST_AUTO_TEST_SUITE_END()
