// End-to-end tests of the npusim command (DESIGN §7): exit codes, messages, stats JSON, VCD.
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <functional>

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "tests/tools/cli_fixture.h"

using namespace npusim::test;

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(run_tiny_writes_stats) {
    temp_file stats("stats", ".json");
    const cli_result r =
        run_cli("run --platform tiny --workload dma_stream --stats '" + stats.str() + "'");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "all bytes match"), r.out);

    nlohmann::json j;
    BOOST_REQUIRE_NO_THROW(j = nlohmann::json::parse(read_file(stats.str())));
    BOOST_CHECK_EQUAL(j.value("schema", ""), "npusim.stats/1");
    BOOST_REQUIRE(j.contains("sim_time_ns"));
    BOOST_CHECK_GT(j["sim_time_ns"].get<double>(), 0.0);
    BOOST_REQUIRE(j.contains("platform"));
    BOOST_CHECK_EQUAL(j["platform"].value("name", ""), "tiny");

    BOOST_REQUIRE(j.contains("cores") && j["cores"].is_array());
    BOOST_REQUIRE_EQUAL(j["cores"].size(), 2u);
    for (size_t i = 0; i < j["cores"].size(); ++i) {
        const auto& c = j["cores"][i];
        BOOST_CHECK(c.contains("id"));
        BOOST_CHECK(c.contains("id") && c["id"].get<int>() == static_cast<int>(i));
        BOOST_CHECK(c.contains("kind") && c["kind"].is_string());
        BOOST_REQUIRE(c.contains("pipes"));
        for (const char* p : {"MTE1", "MTE2", "MTE3", "M", "V", "FIX"}) {
            BOOST_REQUIRE_MESSAGE(c["pipes"].contains(p), "core " << i << " lacks pipes." << p);
            BOOST_CHECK_MESSAGE(
                c["pipes"][p].contains("busy_ns") && c["pipes"][p]["busy_ns"].is_number(),
                "core " << i << " pipes." << p << ".busy_ns");
            BOOST_CHECK_MESSAGE(
                c["pipes"][p].contains("instructions") && c["pipes"][p]["instructions"].is_number(),
                "core " << i << " pipes." << p << ".instructions");
        }
        // The dma_stream workload keeps MTE2 and MTE3 busy on every core.
        BOOST_CHECK_GT(c["pipes"]["MTE2"]["busy_ns"].get<double>(), 0.0);
        BOOST_CHECK_GT(c["pipes"]["MTE3"]["busy_ns"].get<double>(), 0.0);
    }

    BOOST_REQUIRE(j.contains("memory") && j["memory"].contains("gm"));
    const auto& gm = j["memory"]["gm"];
    BOOST_REQUIRE(gm.contains("read_bytes") && gm.contains("write_bytes"));
    BOOST_CHECK_GT(gm["read_bytes"].get<double>(), 0.0);
    BOOST_CHECK_GT(gm["write_bytes"].get<double>(), 0.0);

    BOOST_REQUIRE(j.contains("ops") && j["ops"].is_array());
    BOOST_CHECK(!j["ops"].empty());
    for (const auto& op : j["ops"]) {
        for (const char* k : {"name", "type", "start_ns", "end_ns", "flops", "bytes"})
            BOOST_CHECK_MESSAGE(op.contains(k), "op lacks " << k << ": " << op.dump());
        if (op.contains("start_ns") && op.contains("end_ns"))
            BOOST_CHECK_LE(op["start_ns"].get<double>(), op["end_ns"].get<double>());
        if (op.contains("end_ns"))
            BOOST_CHECK_LE(op["end_ns"].get<double>(), j["sim_time_ns"].get<double>());
    }
}

BOOST_AUTO_TEST_CASE(run_is_deterministic) {
    temp_file a("det_a", ".json"), b("det_b", ".json");
    BOOST_CHECK_EQUAL(run_cli("run --platform tiny --quiet --stats '" + a.str() + "'").rc, 0);
    BOOST_CHECK_EQUAL(run_cli("run --platform tiny --quiet --stats '" + b.str() + "'").rc, 0);
    const std::string sa = read_file(a.str()), sb = read_file(b.str());
    BOOST_CHECK(!sa.empty());
    BOOST_CHECK_MESSAGE(sa == sb, "two identical runs wrote different stats files");
}

BOOST_AUTO_TEST_CASE(run_unknown_platform) {
    const cli_result r = run_cli("run --platform nosuch");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out, "nosuch: error: no such platform file or preset"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "tiny") && contains(r.out, "ascend910"), r.out);
    const cli_result near = run_cli("run --platform tiyn");
    BOOST_CHECK_EQUAL(near.rc, 2);
    BOOST_CHECK_MESSAGE(contains(near.out, "did you mean 'tiny'?"), near.out);
}

BOOST_AUTO_TEST_CASE(run_set_unknown_key) {
    const cli_result r = run_cli("run --platform tiny --set gm.bandwdth=1GB/s");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out, "--set gm.bandwdth=1GB/s"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "did you mean 'gm.bandwidth'"), r.out);
}

BOOST_AUTO_TEST_CASE(run_set_takes_effect) {
    temp_file stats("set", ".json");
    const cli_result r =
        run_cli("run --platform tiny --quiet --set chip.cores=3 --stats '" + stats.str() + "'");
    BOOST_CHECK_EQUAL(r.rc, 0);
    nlohmann::json j;
    BOOST_REQUIRE_NO_THROW(j = nlohmann::json::parse(read_file(stats.str())));
    BOOST_CHECK_EQUAL(j["cores"].size(), 3u);
}

BOOST_AUTO_TEST_CASE(validate_bad_file) {
    temp_file bad("bad", ".yaml");
    {
        std::ofstream out(bad.path);
        out << "schema: npusim.platform/1\nchip:\n  name: x\n  corse: 4\n";
    }
    const cli_result r = run_cli("validate '" + bad.str() + "'");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out, bad.str() + ":4:3: error: chip.corse"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "did you mean 'chip.cores'?"), r.out);
    // A good file next to a bad one still fails the command.
    const cli_result mixed = run_cli("validate tiny '" + bad.str() + "'");
    BOOST_CHECK_EQUAL(mixed.rc, 2);
    BOOST_CHECK_MESSAGE(contains(mixed.out, "tiny: ok"), mixed.out);
}

BOOST_AUTO_TEST_CASE(validate_presets_ok) {
    const cli_result r = run_cli("validate tiny ascend910");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "tiny: ok"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "ascend910: ok"), r.out);
}

BOOST_AUTO_TEST_CASE(validate_reference_prints_markdown) {
    const cli_result r = run_cli("validate --reference");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "# Platform config reference (npusim.platform/1)"), r.out);
    BOOST_CHECK(contains(r.out, "`gm.bandwidth`"));
}

BOOST_AUTO_TEST_CASE(presets_lists_all) {
    const cli_result r = run_cli("presets");
    BOOST_CHECK_EQUAL(r.rc, 0);
    for (const char* name : {"ascend910", "ascend910b1", "ascend310p3", "tiny"})
        BOOST_CHECK_MESSAGE(
            contains(r.out, std::string("\n") + name + " ") ||
                r.out.compare(0, std::string(name).size() + 1, std::string(name) + " ") == 0,
            "presets output lacks " << name << ":\n"
                                    << r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "default: ascend910"), r.out);
}

BOOST_AUTO_TEST_CASE(bad_usage_exits_2) {
    BOOST_CHECK_EQUAL(run_cli("frobnicate").rc, 2);
    BOOST_CHECK_EQUAL(run_cli("run --no-such-option").rc, 2);
    BOOST_CHECK_EQUAL(run_cli("validate").rc, 2);
    BOOST_CHECK_EQUAL(run_cli("run --platform tiny --set chip.cores").rc, 2);
    BOOST_CHECK_EQUAL(run_cli("run --platform tiny --stream-bytes 12parsecs").rc, 2);
}

BOOST_AUTO_TEST_CASE(vcd_core_filter) {
    temp_file vcd("trace", ".vcd");
    const cli_result r =
        run_cli("run --platform tiny --quiet --vcd '" + vcd.str() + "' --vcd-cores 0");
    BOOST_CHECK_EQUAL(r.rc, 0);
    const std::string text = read_file(vcd.str());
    BOOST_REQUIRE(!text.empty());
    BOOST_CHECK(contains(text, "$timescale 1ns"));
    BOOST_CHECK(contains(text, "$scope module core0 $end"));
    BOOST_CHECK(contains(text, "$enddefinitions"));
    BOOST_CHECK_MESSAGE(!contains(text, "core1"), "--vcd-cores 0 still traced core1");
}

// --timing-only skips the arithmetic and the stored bytes but issues the same instructions and
// transactions: simulated time and every pipe's busy time and count are identical.
void check_timing_only_identical(const std::string& args) {
    temp_file functional("fn", ".json"), timing("to", ".json");
    const auto r1 = run_cli(args + " --stats " + functional.str());
    const auto r2 = run_cli(args + " --timing-only --stats " + timing.str());
    BOOST_REQUIRE_EQUAL(r1.rc, 0);
    BOOST_REQUIRE_EQUAL(r2.rc, 0);
    const auto a = nlohmann::json::parse(read_file(functional.str()));
    const auto b = nlohmann::json::parse(read_file(timing.str()));
    BOOST_CHECK_EQUAL(a["sim_time_ns"].get<double>(), b["sim_time_ns"].get<double>());
    BOOST_CHECK(a["cores"] == b["cores"]);
    BOOST_CHECK(a["ops"] == b["ops"]);
    BOOST_CHECK(a["memory"] == b["memory"]);
    BOOST_CHECK_GT(a["sim_time_ns"].get<double>(), 0.0);
}

BOOST_AUTO_TEST_CASE(timing_only_matmul_same_cycles) {
    check_timing_only_identical("run --platform ascend910b1 --workload matmul --shape 300x200x520");
}
BOOST_AUTO_TEST_CASE(timing_only_matmul_coupled_same_cycles) {
    check_timing_only_identical("run --platform tiny --workload matmul --shape 77x50x93");
}
BOOST_AUTO_TEST_CASE(timing_only_elementwise_same_cycles) {
    check_timing_only_identical("run --platform ascend310p3 --workload elementwise --shape 100003");
}
BOOST_AUTO_TEST_CASE(timing_only_dma_stream_same_cycles) {
    check_timing_only_identical("run --platform tiny --stream-bytes 64KiB");
}

/// The stats of `args` with tracing off and with a waveform and a timeline written.
std::pair<nlohmann::json, nlohmann::json> stats_with_and_without_tracing(const std::string& args) {
    temp_file plain("plain", ".json"), traced("traced", ".json"), vcd("trace", ".vcd"),
        timeline("timeline", ".json");
    BOOST_REQUIRE_EQUAL(run_cli(args + " --stats " + plain.str()).rc, 0);
    BOOST_REQUIRE_EQUAL(run_cli(args + " --vcd " + vcd.str() + " --vcd-cores 0-1 --timeline " +
                                timeline.str() + " --stats " + traced.str())
                            .rc,
                        0);
    BOOST_REQUIRE_GT(fs::file_size(vcd.path), 0u);
    BOOST_REQUIRE_GT(fs::file_size(timeline.path), 0u);
    return {nlohmann::json::parse(read_file(plain.str())),
            nlohmann::json::parse(read_file(traced.str()))};
}

// No simulation setting changes a result (docs/timing-model.md, "Order of bookings"): every
// pipe and engine books its work at its start and the burst dispatcher books GM traffic in
// order of start, so tracing (which adds no waits) leaves every number of the stats as it is.
// (sim.lookahead, which moved core-local bank-conflict counts, was removed for this; timing-only
// against functional is checked above.)
void check_tracing_keeps_stats(const std::string& args) {
    const auto [a, b] = stats_with_and_without_tracing(args);
    size_t numbers = 0;
    std::function<void(const nlohmann::json&, const nlohmann::json&, const std::string&)> walk =
        [&](const nlohmann::json& x, const nlohmann::json& y, const std::string& at) {
            if (at == "/platform" || at == "/run") return;  // the settings themselves
            if (x.is_number() && y.is_number()) {
                ++numbers;
                BOOST_CHECK_MESSAGE(x.get<double>() == y.get<double>(),
                                    at << ": " << x << " vs " << y);
            } else if (x.is_object() && y.is_object()) {
                BOOST_CHECK_EQUAL(x.size(), y.size());
                for (auto it = x.begin(); it != x.end(); ++it) {
                    BOOST_CHECK_MESSAGE(y.contains(it.key()), at << "/" << it.key() << " missing");
                    if (y.contains(it.key())) walk(it.value(), y[it.key()], at + "/" + it.key());
                }
            } else if (x.is_array() && y.is_array()) {
                BOOST_CHECK_EQUAL(x.size(), y.size());
                for (size_t k = 0; k < std::min(x.size(), y.size()); ++k)
                    walk(x[k], y[k], at + "/" + std::to_string(k));
            } else {
                BOOST_CHECK_MESSAGE(x == y, at << ": " << x << " vs " << y);
            }
        };
    walk(a, b, "");
    BOOST_TEST_MESSAGE(numbers << " numbers compared");
    BOOST_CHECK_GT(numbers, 50u);
}

BOOST_AUTO_TEST_CASE(tracing_keeps_dma_stream_stats) {
    check_tracing_keeps_stats("run --platform ascend910 --workload dma_stream --timing-only");
}
BOOST_AUTO_TEST_CASE(tracing_keeps_bert_check_stats) {
    check_tracing_keeps_stats("run --platform tiny --workload bert_check --timing-only");
}
// Host-link and system-DMA copies are booked by the burst dispatcher among the cores' bursts:
// uploads that overlap kernels (the streams workload) and a device-to-device copy during a
// matmul.
BOOST_AUTO_TEST_CASE(tracing_keeps_streams_stats) {
    check_tracing_keeps_stats("run --platform ascend910 --workload streams --timing-only");
}
BOOST_AUTO_TEST_CASE(tracing_keeps_copy_during_matmul_stats) {
    temp_file w("copy_during_matmul", ".yaml");
    {
        std::ofstream out(w.path);
        out << "schema: npusim.workload/1\n"
               "name: copy_during_matmul\n"
               "tensors:\n"
               "  a: {shape: [2048, 2048], dtype: fp16, init: random, seed: 1}\n"
               "  b: {shape: [2048, 2048], dtype: fp16, init: random, seed: 2}\n"
               "  x: {shape: [4096, 2048], dtype: fp16, init: random, seed: 3}\n"
               "ops:\n"
               "  - {op: matmul, inputs: [a, b], outputs: [c]}\n"
               "  - {op: copy, inputs: [x], outputs: [y], stream: side}\n";
    }
    check_tracing_keeps_stats("run --platform ascend910 --timing-only --workload '" + w.str() +
                              "'");
}
// Every other shipped *_check workload (tiny, timing-only), each with its own kind of kernel.
BOOST_AUTO_TEST_CASE(tracing_keeps_resnet50_check_stats) {
    check_tracing_keeps_stats("run --platform tiny --timing-only --workload resnet50_check");
}
BOOST_AUTO_TEST_CASE(tracing_keeps_llama_prefill_check_stats) {
    check_tracing_keeps_stats("run --platform tiny --timing-only --workload llama_prefill_check");
}
BOOST_AUTO_TEST_CASE(tracing_keeps_llama_decode_check_stats) {
    check_tracing_keeps_stats("run --platform tiny --timing-only --workload llama_decode_check");
}
BOOST_AUTO_TEST_CASE(tracing_keeps_gemm_check_stats) {
    check_tracing_keeps_stats("run --platform tiny --timing-only --workload gemm_check");
}
BOOST_AUTO_TEST_CASE(tracing_keeps_embedding_check_stats) {
    check_tracing_keeps_stats("run --platform tiny --timing-only --workload embedding_check");
}
BOOST_AUTO_TEST_CASE(tracing_keeps_sparse_check_stats) {
    check_tracing_keeps_stats("run --platform tiny --timing-only --workload sparse_check");
}

// The streams workload runs through the async runtime; two runs give identical stats.
BOOST_AUTO_TEST_CASE(streams_workload_is_checked_and_deterministic) {
    temp_file s1("s1", ".json"), s2("s2", ".json");
    const auto r1 = run_cli(
        "run --platform ascend910b1 --workload streams --shape 70001 --check "
        "--stats " +
        s1.str());
    const auto r2 = run_cli(
        "run --platform ascend910b1 --workload streams --shape 70001 --check "
        "--stats " +
        s2.str());
    BOOST_CHECK_EQUAL(r1.rc, 0);
    BOOST_CHECK(contains(r1.out, "results match the CPU reference"));
    BOOST_CHECK(contains(r1.out, "add_sums"));
    BOOST_CHECK_EQUAL(read_file(s1.str()), read_file(s2.str()));
}

// A workload file runs with per-op checks; a bad one is bad input (exit 2) naming file:line.
BOOST_AUTO_TEST_CASE(workload_file_runs_and_bad_files_are_bad_input) {
    auto r = run_cli("run --platform tiny --workload " + std::string(NPUSIM_SOURCE_DIR) +
                     "/configs/workloads/mlp.yaml --check");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK(contains(r.out, "check  matmul -> h"));
    BOOST_CHECK(contains(r.out, "results match the CPU reference"));
    BOOST_CHECK(contains(r.out, "device memory peak"));
    temp_file bad("bad", ".yaml");
    std::ofstream(bad.str()) << "schema: npusim.workload/1\ntensors:\n  x: {shape: [2], dtype: "
                                "fp16, init: random}\nops:\n  - {op: relux, inputs: [x], "
                                "outputs: [x]}\n";
    r = run_cli("run --platform tiny --workload " + bad.str());
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK(contains(r.out, ":5:10: error: ops[0].op: unknown op 'relux'"));
}

// `npusim ops` lists each op with its dtypes and kernels.
BOOST_AUTO_TEST_CASE(ops_lists_the_library) {
    const auto r = run_cli("ops");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK(contains(r.out, "matmul  matrix product"));
    BOOST_CHECK(contains(
        r.out, "a: fp16|bf16|fp32|int8, b: fp16|bf16|fp32|int8 -> c: fp16|bf16|fp32|int32"));
    BOOST_CHECK(contains(r.out, "kernel add_fp32 (fp32, fp32 -> fp32) priority 0"));
}

BOOST_AUTO_TEST_CASE(check_kernel_workloads) {
    auto r = run_cli("run --platform tiny --workload matmul --shape 33x47x18 --check");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK(contains(r.out, "results match the CPU reference"));
    r = run_cli("run --platform tiny --workload elementwise --shape 1001 --check --depth 1");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK(contains(r.out, "results match the CPU reference"));
    r = run_cli("run --platform tiny --workload matmul --check --timing-only");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK(contains(r.out, "cannot check results in timing-only mode"));
    r = run_cli("run --platform tiny --workload matmul --shape 12x0x5");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK(contains(r.out, "'0' is not a whole number from 1 to 2147483648"));
}

// The waveform has a busy signal for every pipe of every core, the cube and vector ones too.
BOOST_AUTO_TEST_CASE(vcd_has_every_pipe) {
    temp_file vcd("pipes", ".vcd");
    const auto r =
        run_cli("run --platform tiny --workload matmul --shape 64x64x64 --vcd " + vcd.str());
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    const std::string text = read_file(vcd.str());
    for (const char* core : {"core0", "core1"}) {
        BOOST_CHECK(contains(text, std::string("$scope module ") + core));
        for (const char* pipe : {"mte1", "mte2", "mte3", "m", "v"})
            BOOST_CHECK_MESSAGE(contains(text, std::string("$scope module ") + pipe + " $end"),
                                pipe);
    }
}

// The precision debugger on a network with closed forms. From ones: x = 1 + 2^-10 (exact), and
// a = x * x, which fp16 rounds to 1 + 2^-9: every op matches its own reference exactly (error 0),
// but against the end-to-end reference a is off by 2^-20, i.e. 2^-20 / (a + 1) relative. Then
// b = a - (1 + 2^-9) is 0 on the device and 2^-20 end to end, c = b * 2^14 is 0 and 2^-6
// (relative 2^-6 / (1 + 2^-6)), big = 256 * 256 overflows to Inf in all 16 elements and
// big - big is NaN in all 16. The first op off its (zero) tolerance end to end is a.
BOOST_AUTO_TEST_CASE(check_reports_errors_counts_and_the_first_op_off_end_to_end) {
    temp_file wl("precision", ".yaml");
    std::string tensors = "  one: {shape: [16], dtype: fp16, init: ones}\n";
    for (const char* n : {"two", "four", "p16", "p256", "p1024", "e10", "x", "a", "e9", "y", "b",
                          "p4096", "p16384", "c", "big", "nan"})
        tensors += std::string("  ") + n + ": {shape: [16], dtype: fp16}\n";
    std::ofstream(wl.str()) << "schema: npusim.workload/1\nname: precision_probe\ntensors:\n"
                            << tensors
                            << "ops:\n"
                               "  - {op: add, inputs: [one, one], outputs: [two]}\n"
                               "  - {op: mul, inputs: [two, two], outputs: [four]}\n"
                               "  - {op: mul, inputs: [four, four], outputs: [p16]}\n"
                               "  - {op: mul, inputs: [p16, p16], outputs: [p256]}\n"
                               "  - {op: mul, inputs: [p256, four], outputs: [p1024]}\n"
                               "  - {op: div, inputs: [one, p1024], outputs: [e10]}\n"
                               "  - {op: add, inputs: [one, e10], outputs: [x]}\n"
                               "  - {op: mul, inputs: [x, x], outputs: [a]}\n"
                               "  - {op: add, inputs: [e10, e10], outputs: [e9]}\n"
                               "  - {op: add, inputs: [one, e9], outputs: [y]}\n"
                               "  - {op: sub, inputs: [a, y], outputs: [b]}\n"
                               "  - {op: mul, inputs: [p256, p16], outputs: [p4096]}\n"
                               "  - {op: mul, inputs: [p4096, four], outputs: [p16384]}\n"
                               "  - {op: mul, inputs: [b, p16384], outputs: [c]}\n"
                               "  - {op: mul, inputs: [p256, p256], outputs: [big]}\n"
                               "  - {op: sub, inputs: [big, big], outputs: [nan]}\n";
    const cli_result r = run_cli("run --platform tiny --workload '" + wl.str() + "' --check");
    BOOST_CHECK_EQUAL(r.rc, 0);
    // The detail line under an op's check line.
    auto detail = [&](const std::string& op) {
        const size_t at = r.out.find("check  " + op + " (");
        if (at == std::string::npos) return std::string();
        const size_t from = r.out.find('\n', at) + 1;
        return r.out.substr(from, r.out.find('\n', from) - from);
    };
    const double two20 = std::ldexp(1.0, -20), two6 = std::ldexp(1.0, -6);
    const std::string a = detail("mul -> a");
    BOOST_CHECK_MESSAGE(contains(a,
                                 "relative mean 0; absolute max 0 mean 0; worst a[0] 1.00195 "
                                 "(reference 1.00195); NaN 0 Inf 0 of 16;"),
                        a);
    BOOST_CHECK_MESSAGE(contains(a, fmt::format("end to end {:.3g}",
                                                two20 / (1 + std::ldexp(1.0, -9) + two20 + 1))),
                        a);
    const std::string b = detail("sub -> b");
    BOOST_CHECK_MESSAGE(contains(b, fmt::format("end to end {:.3g}", two20 / (two20 + 1))), b);
    const std::string c = detail("mul -> c");
    BOOST_CHECK_MESSAGE(contains(c, "worst c[0] 0 (reference 0)") &&
                            contains(c, fmt::format("end to end {:.3g}", two6 / (1 + two6))),
                        c);
    const std::string big = detail("mul -> big");
    BOOST_CHECK_MESSAGE(contains(big, "NaN 0 Inf 16 of 16; end to end inf"), big);
    const std::string nan = detail("sub -> nan");
    BOOST_CHECK_MESSAGE(contains(nan, "NaN 16 Inf 0 of 16"), nan);
    BOOST_CHECK_MESSAGE(
        contains(r.out, "check  end to end: first op off its tolerance: mul -> a ("), r.out);
    BOOST_CHECK_MESSAGE(contains(detail("mul -> p4096"), "end to end 0"), detail("mul -> p4096"));
}

// A matmul rounds its fp16 result (end-to-end error about 2^-11, inside its 2e-3 tolerance); a
// reshape (tolerance 0) passes that error on unchanged and adds none, so no op is named.
BOOST_AUTO_TEST_CASE(check_does_not_name_a_view_that_passes_error_on) {
    temp_file wl("view", ".yaml");
    std::ofstream(wl.str())
        << "schema: npusim.workload/1\nname: view_probe\ntensors:\n"
           "  a: {shape: [32, 64], dtype: fp16, init: random, seed: 1}\n"
           "  b: {shape: [64, 48], dtype: fp16, init: random, seed: 2}\n"
           "  c: {shape: [32, 48], dtype: fp16}\n"
           "  d: {shape: [1536], dtype: fp16}\n"
           "ops:\n"
           "  - {op: matmul, inputs: [a, b], outputs: [c]}\n"
           "  - {op: reshape, inputs: [c], outputs: [d], attrs: {shape: [1536]}}\n";
    const cli_result r = run_cli("run --platform tiny --workload '" + wl.str() + "' --check");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "check  end to end: every op within its tolerance"), r.out);
    // The reshape's end-to-end error is the matmul's, and not 0 (fp16 rounding).
    BOOST_CHECK_MESSAGE(!contains(r.out, "end to end 0\n"), r.out);
}

// The precision report's figures on a case with a closed form: y = relu(x) with every x the
// constant 0.1 under `--precision fp16`. The fp32 reference holds fp32(0.1), the device
// fp16(0.1), so every element's error is |fp16(0.1) - fp32(0.1)| / (fp32(0.1) + 1); the op's
// time is its one kernel's span.
BOOST_AUTO_TEST_CASE(precision_report_has_closed_form_time_and_error) {
    temp_file wl("prec", ".yaml"), stats("prec", ".json");
    std::ofstream(wl.str()) << "schema: npusim.workload/1\nname: prec_probe\ntensors:\n"
                               "  x: {shape: [16, 64], dtype: fp32, init: constant, value: 0.1}\n"
                               "  y: {shape: [16, 64], dtype: fp32}\n"
                               "ops:\n"
                               "  - {op: relu, inputs: [x], outputs: [y]}\n";
    const cli_result r = run_cli("run --platform tiny --workload '" + wl.str() +
                                 "' --precision fp16 --check --stats '" + stats.str() + "'");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "precision  policy fp16"), r.out);
    const auto j = nlohmann::json::parse(read_file(stats.str()));
    const auto& p = j.at("precision");
    BOOST_CHECK_EQUAL(p.at("policy"), "fp16");
    BOOST_REQUIRE_EQUAL(p.at("ops").size(), 1u);
    const auto& o = p.at("ops")[0];
    BOOST_CHECK_EQUAL(o.at("op"), "relu -> y");
    BOOST_CHECK_EQUAL(o.at("dtype"), "fp16");
    const double want32 = double(0.1f), got16 = 0.0999755859375;  // fp16(0.1) = 1638 / 2^14
    const double err = (want32 - got16) / (want32 + 1);
    BOOST_CHECK_CLOSE(o.at("fp32_error_max").get<double>(), err, 1e-9);
    BOOST_CHECK_CLOSE(o.at("fp32_error_mean").get<double>(), err, 1e-9);
    double span = 0;
    for (const auto& op : j.at("ops"))
        if (op.at("name") == "relu -> y")
            span += op.at("end_ns").get<double>() - op.at("start_ns").get<double>();
    BOOST_CHECK_GT(span, 0);
    BOOST_CHECK_CLOSE(o.at("time_us").get<double>(), span / 1000, 1e-9);
    // An unknown policy is bad input.
    const cli_result bad = run_cli("run --platform tiny --workload mlp --precision fp8");
    BOOST_CHECK_EQUAL(bad.rc, 2);
    BOOST_CHECK_MESSAGE(contains(bad.out,
                                 "--precision: unknown precision 'fp8'\n  hint: use "
                                 "declared, fp32, bf16, fp16, int8 or auto"),
                        bad.out);
    const cli_result builtin = run_cli("run --platform tiny --workload matmul --precision fp32");
    BOOST_CHECK_EQUAL(builtin.rc, 2);
    BOOST_CHECK_MESSAGE(contains(builtin.out,
                                 "--precision: applies to workload files; 'matmul' "
                                 "is a built-in kernel workload"),
                        builtin.out);
}

// `npusim` alone is the main job: a BERT-base encoder layer on the default preset, every op
// checked against its CPU reference.
BOOST_AUTO_TEST_CASE(main_job_runs_and_checks_the_default_workload) {
    const cli_result r = run_cli("");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "npusim run: workload bert_base_s128"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "platform   ascend910"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "check      results match the CPU reference"), r.out);
    BOOST_CHECK(contains(r.out, "check  softmax -> probs"));
    // a shipped workload by name, from any directory
    const cli_result w = run_cli("run --platform tiny --workload bert_check --check");
    BOOST_CHECK_EQUAL(w.rc, 0);
    BOOST_CHECK_MESSAGE(contains(w.out, "(configs/workloads/bert_check.yaml, 22 ops)"), w.out);
}

// Output paths that cannot be written are bad input, found before the run.
BOOST_AUTO_TEST_CASE(unwritable_outputs_are_bad_input) {
    auto r = run_cli("run --platform tiny --workload mlp --timeline /nonexistent/dir/t.json");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out,
                                 "/nonexistent/dir/t.json: error: --timeline: cannot "
                                 "write this file (No such file or directory)\n  hint: the "
                                 "folder /nonexistent/dir does not exist; create it first"),
                        r.out);
    r = run_cli("run --platform tiny --workload mlp --stats /nonexistent/s.json");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK(contains(r.out, "/nonexistent/s.json: error: --stats: cannot write this file"));
}

BOOST_AUTO_TEST_CASE(run_rejects_bad_workload_options) {
    auto r = run_cli("run --platform tiny --workload resnet");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK(contains(r.out, "resnet: error: --workload: unknown workload"));
    BOOST_CHECK(contains(r.out, "a shipped workload (bert_base_s128, "));
    BOOST_CHECK(contains(r.out, "a built-in: dma_stream, matmul, elementwise, streams"));
    r = run_cli("run --platform tiny --stream-bytes 0");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK(contains(r.out, "--stream-bytes 0: error: --stream-bytes: not a positive size"));
    // The streams do not fit GM: a failed run (exit 1) that says how much it needed.
    r = run_cli(
        "run --platform tiny --workload dma_stream --set gm.capacity=1MiB --stream-bytes "
        "1MiB");
    BOOST_CHECK_EQUAL(r.rc, 1);
    BOOST_CHECK(contains(r.out, "dma_stream needs 6291456 bytes of GM but the chip has 1048576"));
}

// --timeline: a Chrome trace with host-thread, stream, core (blocks) and pipe tracks, op names
// on the spans, and each pipe's spans adding up to its busy time in the stats.
BOOST_AUTO_TEST_CASE(timeline_tracks_match_stats) {
    temp_file trace("trace", ".json"), stats("stats", ".json");
    const cli_result r = run_cli("run --platform tiny --workload '" NPUSIM_SOURCE_DIR
                                 "/configs/workloads/mlp.yaml' --timeline '" +
                                 trace.str() + "' --stats '" + stats.str() + "' --quiet");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    const auto t = nlohmann::json::parse(read_file(trace.str()));
    const auto st = nlohmann::json::parse(read_file(stats.str()));
    std::map<std::pair<int, int>, std::string> track;  // (pid, tid) -> name
    std::map<int, std::string> process;
    for (const auto& e : t["traceEvents"])
        if (e["ph"] == "M" && e["name"] == "thread_name")
            track[{e["pid"], e["tid"]}] = e["args"]["name"];
        else if (e["ph"] == "M")
            process[e["pid"]] = e["args"]["name"];
    BOOST_CHECK_EQUAL(process[1], "host threads");
    BOOST_CHECK_EQUAL(process[2], "streams");
    BOOST_CHECK_EQUAL(process[10], "core 0");
    std::map<std::string, double> busy_ns;  // "core/pipe" -> summed span time
    std::set<std::string> host_calls, stream_ops, block_names, pipe_names;
    for (const auto& e : t["traceEvents"]) {
        if (e["ph"] != "X") continue;
        const std::string name = e["name"], tr = track[{e["pid"], e["tid"]}];
        const int pid = e["pid"];
        if (pid == 1) host_calls.insert(tr + ":" + name);
        if (pid == 2) stream_ops.insert(tr + ":" + name);
        if (pid >= 10 && tr == "blocks") block_names.insert(name);
        if (pid >= 10 && tr != "blocks") {
            busy_ns[std::to_string(pid - 10) + "/" + tr] += e["dur"].get<double>() * 1000;
            pipe_names.insert(name);
        }
    }
    BOOST_CHECK(host_calls.count("host:launch"));
    BOOST_CHECK(host_calls.count("host:synchronize_device") ||
                host_calls.count("host:synchronize"));
    BOOST_CHECK(stream_ops.count("default:matmul -> h"));
    BOOST_CHECK(stream_ops.count("side:add -> res") || stream_ops.count("default:add -> res"));
    BOOST_CHECK(block_names.count("matmul -> h #0"));
    BOOST_CHECK(pipe_names.count("matmul -> o"));
    size_t pipes = 0;
    for (const auto& c : st["cores"])
        for (const auto& [pipe, p] : c["pipes"].items()) {
            const double want = p["busy_ns"];
            const std::string key = std::to_string(c["id"].get<int>()) + "/" + pipe;
            if (want == 0) continue;
            ++pipes;
            BOOST_CHECK_MESSAGE(std::fabs(busy_ns[key] - want) < 1e-3 * (1 + want / 1000),
                                key << ": timeline " << busy_ns[key] << " ns, stats " << want);
        }
    BOOST_CHECK_GE(pipes, 8u);
    // summary: the kernels' span, counted from ops[] here
    double first = 1e300, last = 0, flops = 0;
    size_t kernels = 0;
    for (const auto& o : st["ops"])
        if (o["type"] == "kernel") {
            ++kernels;
            first = std::min(first, o["start_ns"].get<double>());
            last = std::max(last, o["end_ns"].get<double>());
            flops += o["flops"].get<double>();
        }
    BOOST_CHECK_EQUAL(st["summary"]["kernels"].get<size_t>(), kernels);
    BOOST_CHECK_CLOSE(st["summary"]["device_span_ns"].get<double>(), last - first, 1e-9);
    BOOST_CHECK_CLOSE(st["summary"]["achieved_tflops"].get<double>(), flops / (last - first) / 1e3,
                      1e-9);
}

BOOST_AUTO_TEST_SUITE_END()
