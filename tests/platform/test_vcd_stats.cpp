// Outputs of a run: the VCD waveform agrees with the stats, filters work, stats are complete
// and deterministic.
#include <boost/test/unit_test.hpp>
#include <systemc>

#include <fstream>
#include <map>
#include <sstream>

#include "platform/dma_stream_workload.h"
#include "platform/trace_fanout.h"
#include "sw/graph/builtin_workloads.h"
#include "tests/test_util.h"

using namespace npusim;

namespace {

struct vcd_file {
    std::map<std::string, std::string> code_of;  // full dotted path -> id code
    std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>>
        changes;  // code -> (ns, value)
    std::string timescale;
};

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A small reader for the VCD subset we write: scopes, vars, #time and value changes.
vcd_file read_vcd(const std::string& path) {
    vcd_file v;
    std::ifstream in(path);
    std::string tok;
    std::vector<std::string> scope;
    uint64_t now = 0;
    while (in >> tok) {
        if (tok == "$timescale") {
            in >> v.timescale;
        } else if (tok == "$scope") {
            std::string kind, name;
            in >> kind >> name;
            scope.push_back(name);
        } else if (tok == "$upscope") {
            scope.pop_back();
        } else if (tok == "$var") {
            std::string type, width, code, name;
            in >> type >> width >> code >> name;
            std::string full;
            for (auto& s : scope) full += s + ".";
            v.code_of[full + name] = code;
        } else if (tok[0] == '#') {
            now = std::stoull(tok.substr(1));
        } else if (tok[0] == 'b') {
            std::string code;
            in >> code;
            v.changes[code].push_back({now, std::stoull(tok.substr(1), nullptr, 2)});
        } else if ((tok[0] == '0' || tok[0] == '1') && tok.size() > 1) {
            v.changes[tok.substr(1)].push_back({now, uint64_t(tok[0] - '0')});
        }
    }
    return v;
}

uint64_t busy_ns(const vcd_file& v, const std::string& signal) {
    const auto& ch = v.changes.at(v.code_of.at(signal));
    uint64_t total = 0, since = 0;
    bool on = false;
    for (auto [t, val] : ch) {
        if (val && !on) since = t;
        if (!val && on) total += t - since;
        on = val != 0;
    }
    return total;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outputs)

BOOST_AUTO_TEST_CASE(vcd_busy_matches_stats) {
    auto cfg = test::tiny();
    platform::vcd_options vo;
    vo.path = "outputs_vcd_busy.vcd";
    platform::simulation sim(cfg, vo);
    std::string mismatch;
    BOOST_REQUIRE(sim.run(
        [&](platform::chip& c, auto& ops) { mismatch = platform::run_dma_stream(c, {}, ops); }));
    BOOST_CHECK(mismatch.empty());
    const auto stats = sim.stats();
    const vcd_file v = read_vcd(vo.path);
    BOOST_CHECK_EQUAL(v.timescale, "1ns");
    for (unsigned core = 0; core < 2; ++core)
        for (const char* pipe : {"mte2", "mte3"}) {
            const std::string sig = "chip.core" + std::to_string(core) + "." + pipe + ".busy";
            BOOST_REQUIRE_MESSAGE(v.code_of.count(sig), "missing signal " << sig);
            const double want = stats["cores"][core]["pipes"]
                                     [pipe == std::string("mte2") ? "MTE2" : "MTE3"]["busy_ns"];
            const auto n = stats["cores"][core]["pipes"]
                                [pipe == std::string("mte2") ? "MTE2" : "MTE3"]["instructions"]
                                    .get<double>();
            // Times are whole ns in the VCD: each instruction can lose up to 1 ns at each edge.
            BOOST_CHECK_LE(std::abs(double(busy_ns(v, sig)) - want), 2 * n + 1);
            BOOST_CHECK_GT(want, 0.0);
        }
    for (const char* sig :
         {"chip.gm.read_bytes_in_flight", "chip.l2.misses", "chip.core1.mte2_dma.bytes_in_flight"})
        BOOST_CHECK_MESSAGE(v.code_of.count(sig), "missing signal " << sig);
}

BOOST_AUTO_TEST_CASE(vcd_filters_cores_signals_and_window) {
    auto cfg = test::tiny();
    platform::vcd_options vo;
    vo.path = "outputs_vcd_filter.vcd";
    vo.cores = {1};
    vo.signals = {"*.busy"};
    vo.from_ps = 100'000'000;  // 100 us
    vo.to_ps = 120'000'000;
    platform::simulation sim(cfg, vo);
    BOOST_REQUIRE(
        sim.run([&](platform::chip& c, auto& ops) { platform::run_dma_stream(c, {}, ops); }));
    const vcd_file v = read_vcd(vo.path);
    BOOST_CHECK(v.code_of.count("chip.core1.mte2.busy"));
    for (auto& [name, code] : v.code_of) {
        BOOST_CHECK_MESSAGE(name.find("core0") == std::string::npos, name);
        BOOST_CHECK_MESSAGE(name.size() > 5 && name.substr(name.size() - 5) == ".busy", name);
        for (auto [t, val] : v.changes.at(code)) {
            BOOST_CHECK_GE(t, 100'000u);
            BOOST_CHECK_LE(t, 120'000u);
        }
    }
}

BOOST_AUTO_TEST_CASE(stats_have_the_contract_fields) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    BOOST_REQUIRE(
        sim.run([&](platform::chip& c, auto& ops) { platform::run_dma_stream(c, {}, ops); }));
    const auto s = sim.stats();
    BOOST_CHECK_EQUAL(s["schema"], "npusim.stats/1");
    BOOST_CHECK_GT(s["sim_time_ns"].get<double>(), 0.0);
    BOOST_CHECK_EQUAL(s["platform"]["name"], "tiny");
    BOOST_CHECK_EQUAL(s["platform"]["parameters"]["gm.bandwidth"].get<double>(), 64e9);
    BOOST_REQUIRE_EQUAL(s["cores"].size(), 2u);
    for (auto& core : s["cores"]) {
        BOOST_CHECK(core.contains("id") && core["kind"] == "aicore");
        for (const char* p : {"MTE1", "MTE2", "MTE3", "M", "V", "FIX"}) {
            BOOST_CHECK(core["pipes"][p].contains("busy_ns"));
            BOOST_CHECK(core["pipes"][p].contains("instructions"));
        }
    }
    // GM writes: 2 cores x (2 phases of 256 KiB written by MTE3 + 256 KiB of input from the
    // host); the host reads both phases' outputs back.
    const double per_core = 256 * 1024;
    BOOST_CHECK_EQUAL(s["memory"]["gm"]["write_bytes"].get<double>(),
                      2 * (2 * per_core + per_core));
    BOOST_CHECK_EQUAL(s["memory"]["host_link"]["h2d_bytes"].get<double>(), 2 * per_core);
    BOOST_CHECK_EQUAL(s["memory"]["host_link"]["d2h_bytes"].get<double>(), 2 * 2 * per_core);
    for (auto& op : s["ops"])
        for (const char* k : {"name", "type", "start_ns", "end_ns", "flops", "bytes"})
            BOOST_CHECK(op.contains(k));
}

// Written in pieces as simulated time passes or all at close: the same file, byte for byte
// (this also checks that no model reports a change for a time already written).
BOOST_AUTO_TEST_CASE(vcd_streamed_in_pieces_equals_vcd_written_at_once) {
    auto cfg = test::tiny();
    platform::vcd_options whole, pieces;
    whole.path = "outputs_vcd_whole.vcd";
    pieces.path = "outputs_vcd_pieces.vcd";
    pieces.flush_changes = 64;
    whole.from_ps = pieces.from_ps = 3'000'000;  // 3 us
    platform::vcd_writer a(whole), b(pieces);
    platform::trace_fanout both({&a, &b});
    platform::chip c("chip", cfg);
    c.attach_trace(&both);
    std::vector<platform::op_record> ops;
    bool done = false;
    c.host_api().spawn("host", [&] {
        platform::run_dma_stream(c, {}, ops);
        graph::builtin_options mm;  // cube, vector and FixPipe pipes too
        mm.shape = {96, 160, 80};
        graph::run_builtin(c, "matmul", mm, ops);
        done = true;
    });
    sc_core::sc_start();
    BOOST_REQUIRE(done);
    a.close();
    b.close();
    const std::string wa = read_text(whole.path), wb = read_text(pieces.path);
    BOOST_CHECK_GT(wa.size(), 10000u);
    BOOST_CHECK(wa == wb);
}

BOOST_AUTO_TEST_SUITE_END()
