// `npusim validate`: recognises platform, workload and sweep files by their schema, checks each
// fully (platforms must be runnable, workloads are planned, sweeps expanded) and exits 2 with
// file:line and a fix on any bad file.
#include <boost/test/unit_test.hpp>

#include <fstream>

#include "tests/tools/cli_fixture.h"

using namespace npusim::test;

namespace {

/// Writes `text` to a temp .yaml file.
struct yaml_file : temp_file {
    explicit yaml_file(const std::string& text) : temp_file("validate", ".yaml") {
        std::ofstream(path, std::ios::binary) << text;
    }
};

const std::string src = NPUSIM_SOURCE_DIR;

}  // namespace

BOOST_AUTO_TEST_SUITE(validate_cmd)

BOOST_AUTO_TEST_CASE(recognises_the_three_kinds) {
    const std::string plat = src + "/configs/platforms/tiny.yaml",
                      work = src + "/configs/workloads/mlp.yaml",
                      sweep = src + "/configs/sweeps/resnet50_l1_ub.yaml";
    const cli_result r =
        run_cli("validate '" + plat + "' '" + work + "' '" + sweep + "' ascend910b1");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, plat + ": ok (platform tiny, coupled, 2 cores)"), r.out);
    BOOST_CHECK_MESSAGE(
        contains(r.out, work + ": ok (workload mlp_block, 9 tensors, 4 ops, planned on ascend910"),
        r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, sweep + ": ok (sweep "), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out, "ascend910b1: ok (platform ascend910b1, split, 24 cores)"),
                        r.out);
}

// Model and serving files validate by their schema too, with everything serve checks first.
BOOST_AUTO_TEST_CASE(model_and_serving_files_validate) {
    const cli_result r = run_cli("validate '" + src + "/configs/models/llama13b.yaml' '" + src +
                                 "/configs/serving/llama7b_poisson.yaml'");
    BOOST_CHECK_EQUAL(r.rc, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "ok (model llama13b, 13.02 B parameters, 40 layers)") &&
                            contains(r.out,
                                     "ok (serving llama7b_poisson: llama7b on ascend910b1, "
                                     "1000 requests)"),
                        r.out);
    const yaml_file bad("schema: npusim.serving/1\nmodel: " + src +
                        "/configs/models/llama13b.yaml\nplatform: tiny\narrivals: {poisson: {rate: "
                        "1, requests: 1, prompt_tokens: 8, output_tokens: 8}}\n");
    const cli_result b = run_cli("validate '" + bad.str() + "'");
    BOOST_CHECK_EQUAL(b.rc, 2);
    BOOST_CHECK_MESSAGE(
        contains(b.out, bad.str() + ":2:8: error: model:") && contains(b.out, "GiB"), b.out);
}

BOOST_AUTO_TEST_CASE(file_without_schema_names_the_schemas) {
    const yaml_file f("name: x\ntensors: {}\n");
    const cli_result r = run_cli("validate '" + f.str() + "'");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out, f.str() + ":1:1: error: schema: no 'schema' key"), r.out);
    BOOST_CHECK_MESSAGE(contains(r.out,
                                 "npusim.platform/1, npusim.workload/1, npusim.sweep/1, "
                                 "npusim.model/1, npusim.serving/1 (platform, workload, sweep, "
                                 "model, serving)"),
                        r.out);
    const yaml_file g("schema: npusim.workloads/1\n");
    const cli_result u = run_cli("validate '" + g.str() + "'");
    BOOST_CHECK_EQUAL(u.rc, 2);
    BOOST_CHECK_MESSAGE(contains(u.out, g.str() + ":1:9: error: schema: unknown schema "
                                                  "'npusim.workloads/1'\n  hint: did you mean "
                                                  "'npusim.workload/1'?"),
                        u.out);
    const cli_result missing = run_cli("validate no_such_file.yaml");
    BOOST_CHECK_EQUAL(missing.rc, 2);
    BOOST_CHECK_MESSAGE(
        contains(missing.out, "no_such_file.yaml: error: no such file, preset or shipped workload"),
        missing.out);
}

// The three platforms that loaded but could not run a matmul.
BOOST_AUTO_TEST_CASE(platform_must_be_runnable) {
    const yaml_file defaults("schema: npusim.platform/1\n");
    const cli_result d = run_cli("validate '" + defaults.str() + "'");
    BOOST_CHECK_EQUAL(d.rc, 2);
    BOOST_CHECK_MESSAGE(
        contains(d.out, defaults.str() +
                            ":1:1: error: paths.l0c_to_ub.bytes_per_cycle: path absent (0 "
                            "bytes/cycle), but a coupled chip moves matmul results from L0C "
                            "through the vector unit (not set in the file: the default applies)"),
        d.out);
    const cli_result e = run_cli("validate tiny --set chip.event_ids=1");
    BOOST_CHECK_EQUAL(e.rc, 2);
    BOOST_CHECK_MESSAGE(contains(e.out,
                                 "--set chip.event_ids=1: error: chip.event_ids: 1 event id "
                                 "per pipe pair cannot synchronise a double-buffered queue"),
                        e.out);
    BOOST_CHECK_MESSAGE(contains(e.out, "hint: use at least 2"), e.out);
    // 256 x 256 fp16 = 128KiB for one A tile: more than tiny's 16KiB L0A.
    const yaml_file big(
        "schema: npusim.platform/1\ncube:\n  fractal:\n    fp16: {m: 256, k: 256, "
        "n: 256}\n");
    const cli_result f = run_cli("validate '" + big.str() + "'");
    BOOST_CHECK_EQUAL(f.rc, 2);
    BOOST_CHECK_MESSAGE(contains(f.out, big.str() + ":4:23: error: cube.fractal.fp16.k: a fp16 "
                                                    "fractal tile M0 x K0 of 128KiB does not fit "
                                                    "in l0a (64KiB)"),
                        f.out);
}

BOOST_AUTO_TEST_CASE(workload_is_planned_on_the_platform) {
    const std::string body =
        "schema: npusim.workload/1\nname: w\ntensors:\n"
        "  a: {shape: [64, 64], dtype: fp16, init: random}\n"
        "  c: {shape: [64, 32], dtype: fp16}\n"
        "ops:\n  - {op: matmul, inputs: [a, a], outputs: [c]}\n";
    const yaml_file w(body);
    const cli_result r = run_cli("validate --platform tiny '" + w.str() + "'");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out, w.str() + ":7:5: error: ops[0].outputs: tensor 'c' is "
                                                  "declared fp16[64,32] but op 'matmul' gives "
                                                  "fp16[64,64]"),
                        r.out);
    const yaml_file ok(body.substr(0, body.find("[64, 32]")) + "[64, 64]" +
                       body.substr(body.find("[64, 32]") + 8));
    const cli_result good = run_cli("validate --platform tiny '" + ok.str() + "'");
    BOOST_CHECK_EQUAL(good.rc, 0);
    BOOST_CHECK_MESSAGE(contains(good.out, "ok (workload w, 2 tensors, 1 ops, planned on tiny)"),
                        good.out);
    // A bad --platform is reported as such.
    const cli_result bad_platform = run_cli("validate --platform tiy '" + ok.str() + "'");
    BOOST_CHECK_EQUAL(bad_platform.rc, 2);
    BOOST_CHECK_MESSAGE(contains(bad_platform.out, "tiy: error: no such platform file or preset"),
                        bad_platform.out);
}

BOOST_AUTO_TEST_CASE(strict_yaml_for_every_kind) {
    const yaml_file dup(
        "schema: npusim.workload/1\nname: w\ntensors:\n  a: {shape: [4], dtype: fp16, init: "
        "ones}\n  a: {shape: [8], dtype: fp16, init: ones}\nops:\n  - {op: relu, inputs: [a], "
        "outputs: [a]}\n");
    const cli_result d = run_cli("validate '" + dup.str() + "'");
    BOOST_CHECK_EQUAL(d.rc, 2);
    BOOST_CHECK_MESSAGE(contains(d.out, dup.str() + ":5:3: error: tensors.a: key given twice "
                                                    "(first at line 4)"),
                        d.out);
    const yaml_file utf("schema: npusim.platform/1\nchip:\n  name: caf\xe9\n");
    const cli_result u = run_cli("validate '" + utf.str() + "'");
    BOOST_CHECK_EQUAL(u.rc, 2);
    BOOST_CHECK_MESSAGE(contains(u.out, utf.str() + ":3:12: error: invalid UTF-8 (byte 0xe9)"),
                        u.out);
    const yaml_file typed("schema: npusim.workload/1\nname: [w]\ntensors: {}\nops: []\n");
    const cli_result t = run_cli("validate '" + typed.str() + "'");
    BOOST_CHECK_EQUAL(t.rc, 2);
    BOOST_CHECK_MESSAGE(contains(t.out, typed.str() + ":2:7: error: name: expected a value, got a "
                                                      "list"),
                        t.out);
    BOOST_CHECK_MESSAGE(!contains(t.out, "yaml-cpp"), t.out);
}

// The same strict loaders serve `npusim run`: bad values exit 2 with file:line (or the flag).
BOOST_AUTO_TEST_CASE(run_reports_loader_errors_with_exit_2) {
    const yaml_file w(
        "schema: npusim.workload/1\nname: w\ntensors:\n"
        "  x: {shape: [4], dtype: fp16, init: random, seed: [1]}\n"
        "  y: {shape: [4], dtype: fp16}\nops:\n  - {op: relu, inputs: [x], outputs: "
        "[y]}\n");
    const cli_result r = run_cli("run --platform tiny --quiet --workload '" + w.str() + "'");
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK_MESSAGE(contains(r.out, w.str() + ":4:52: error: tensors.x.seed: expected a value, "
                                                  "got a list\n  hint: write a whole number"),
                        r.out);
    const cli_result b = run_cli("run --platform tiny --quiet --set gm.bandwidth=1e300TB/s");
    BOOST_CHECK_EQUAL(b.rc, 2);
    BOOST_CHECK_MESSAGE(contains(b.out,
                                 "--set gm.bandwidth=1e300TB/s: error: gm.bandwidth: "
                                 "'1e300TB/s' is not a valid bytes/s value (a finite value "
                                 "from 1MB/s to 1000TB/s)"),
                        b.out);
}

BOOST_AUTO_TEST_SUITE_END()
