// Workload files: loading with errors that name file:line and key, planning against the
// library, and running through the runtime and memory manager with per-op CPU checks.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

#include "platform/config/config_error.h"
#include "sw/graph/workload.h"
#include "sw/graph/workload_runner.h"
#include "tests/sw/runtime_fixture.h"

using namespace npusim;
using test::contains;

namespace {

const std::string head = "schema: npusim.workload/1\nname: t\n";

/// The error text of loading (and planning on tiny) a workload, "" if none.
std::string error_of(const std::string& yaml) {
    try {
        const auto w = graph::load_workload_text(yaml, "w.yaml");
        graph::plan_workload(w, test::tiny());
    } catch (const platform::config_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(workload_files)

BOOST_AUTO_TEST_CASE(shipped_workload_loads) {
    const auto w =
        graph::load_workload(std::string(NPUSIM_SOURCE_DIR) + "/configs/workloads/mlp.yaml");
    BOOST_CHECK_EQUAL(w.name, "mlp_block");
    BOOST_CHECK_EQUAL(w.tensors.size(), 9u);
    BOOST_REQUIRE_EQUAL(w.ops.size(), 4u);
    BOOST_CHECK_EQUAL(w.ops[1].stream, "side");
    BOOST_CHECK(w.tensor("x").init == graph::tensor_init::random);
    BOOST_CHECK(contains(w.ops[0].where, "mlp.yaml:16:5"));
}

BOOST_AUTO_TEST_CASE(errors_name_file_line_key_and_fix) {
    const std::string t =
        "tensors:\n  x: {shape: [4, 8], dtype: fp16, init: random}\n"
        "  y: {shape: [4, 8], dtype: fp16}\n";
    struct bad {
        std::string yaml, text;
    };
    for (const bad& b : std::vector<bad>{
             {"schema: npusim.workload/2\n",
              "w.yaml:1:9: error: schema: missing or unknown schema"},
             {head + "tensors: [1]\n", "w.yaml:3:10: error: tensors: a workload needs a mapping"},
             {head + "tensorz: {}\n",
              "w.yaml:3:1: error: tensorz: unknown key\n  hint: did you "
              "mean 'tensors'?"},
             {head + "tensors:\n  x: {shape: [4, -2], dtype: fp16}\nops: []\n",
              "w.yaml:4:18: error: tensors.x.shape: '-2' is not a whole number from 0 to "
              "9223372036854775807"},
             {head + "tensors:\n  x: {shape: [4], dtype: fp64}\n",
              "w.yaml:4:26: error: tensors.x.dtype: unknown dtype 'fp64'\n  hint: use one of "
              "fp32, fp16, bf16, int32, int8"},
             {head + "tensors:\n  x: {shape: [4], dtype: fp16, init: noise}\n",
              "tensors.x.init: unknown init 'noise'\n  hint: use random, zeros, ones, randint "
              "(with 'high') or constant (with 'value')"},
             {head + "tensors:\n  x: {shape: [4], dtype: fp16, init: constant}\n",
              "tensors.x.value: missing; init 'constant' sets every element to 'value'\n  hint: "
              "add e.g. 'value: 0.05'"},
             {head + "tensors:\n  x: {shape: [4], dtype: fp16, init: ones, mean: 2}\n",
              "tensors.x.mean: only init 'random' takes 'mean'"},
             {head + "tensors:\n  x: {shape: [4], dtype: int32, init: randint}\n",
              "tensors.x.high: missing; init 'randint' draws integers 0..high-1\n  hint: e.g. "
              "'high: 1000' for indices into a table of 1000 rows"},
             {head + "tensors:\n  x: {shape: [4], dtype: int32, init: randint, high: 0}\n",
              "tensors.x.high: '0' is not a whole number from 1 to 2147483647"},
             {head + "tensors:\n  x: {shape: [4], dtype: fp16, init: ones, high: 3}\n",
              "tensors.x.high: only init 'randint' takes 'high'"},
             {head + "tensors:\n  x: {shape: [4], dtype: fp16, init: ones, scale: 3}\n",
              "tensors.x.scale: only init 'random' takes 'scale'"},
             {head + "tensors:\n  x: {shape: [4], dtype: fp16, init: random, scale: -1}\n",
              "tensors.x.scale: '-1' is not a finite number from 1e-30 to 65504\n  hint: "
              "random values are uniform in [-scale, scale], e.g. 0.05"},
             {head + t + "ops:\n  - {op: ad, inputs: [x, x], outputs: [y]}\n",
              "w.yaml:7:10: error: ops[0].op: unknown op 'ad' (did you mean 'add'?)"},
             {head + t + "ops:\n  - {op: add, inputs: [x, xx], outputs: [y]}\n",
              "w.yaml:7:27: error: ops[0].inputs: tensor 'xx' is not declared\n  hint: did you "
              "mean 'x'?"},
             {head + t + "ops:\n  - {op: add, inputs: [x, y], outputs: [y]}\n",
              "w.yaml:7:27: error: ops[0].inputs: tensor 'y' is read before any op writes it and "
              "has no init"},
             {head + t +
                  "ops:\n  - {op: add, inputs: [x, x], outputs: [y]}\n"
                  "  - {op: add, inputs: [x, x], outputs: [y]}\n",
              "w.yaml:8:41: error: ops[1].outputs: tensor 'y' is written twice (first by the op "
              "at w.yaml:7:5)"},
             {head + t + "ops:\n  - {op: add, inputs: [x, x], outputs: [y], strem: a}\n",
              "ops[0].strem: unknown key\n  hint: did you mean 'stream'?"},
             {head + "tensors:\n  x: {shape: [4, 8], dtype: fp16, init: random}\n"
                     "  y: {shape: [4, 9], dtype: fp16}\n"
                     "ops:\n  - {op: add, inputs: [x, x], outputs: [y]}\n",
              "w.yaml:7:5: error: ops[0].outputs: tensor 'y' is declared fp16[4,9] but op 'add' "
              "gives fp16[4,8]\n  hint: declare it as fp16[4,8]"},
             {head + "tensors:\n  a: {shape: [4, 8], dtype: fp16, init: random}\n"
                     "  c: {shape: [4, 8], dtype: fp16}\n"
                     "ops:\n  - {op: matmul, inputs: [a, a], outputs: [c]}\n",
              "w.yaml:7:5: error: ops[0]: op 'matmul' input 'b' has 4 rows but 'a' has 8 columns"},
             {head + "tensors:\n  x: {shape: [4], dtype: fp16, init: random}\n"
                     "  s: {shape: [1], dtype: fp32, init: constant, value: 0}\n"
                     "  o: {shape: [1], dtype: fp32, init: zeros}\n"
                     "  y: {shape: [4], dtype: int8}\n"
                     "ops:\n  - {op: quantize, inputs: [x, s, o], outputs: [y]}\n",
              "w.yaml:9:5: error: ops[0].inputs: op 'quantize' input 'scale' is tensor 's', whose "
              "elements are all 0; it must hold nonzero finite numbers\n  hint: give 's' e.g. "
              "'init: constant, value: 0.05'"},
             {head + "tensors:\n  a: {shape: [4, 8], dtype: fp16, init: random}\n"
                     "ops:\n  - {op: matmul, inputs: [a, a], outputs: [c]}\n",
              "w.yaml:6:5: error: ops[0]: op 'matmul' input 'b' has 4 rows but 'a' has 8 columns; "
              "they must match (a[m,k] x b[k,n])\n  hint: the op's output 'c' is not declared, so "
              "its shape comes from this call"},
             {head + "tensors:\n  a: {shape: [4, 8], dtype: fp16, init: random}\n"
                     "ops:\n  - {op: relu, inputs: [a], outputs: [b, c]}\n",
              "w.yaml:6:38: error: ops[0].outputs: op 'relu' gives 1 outputs but 2 are named\n"
              "  hint: name one tensor per output"},
             {head + "tensors:\n  a: {shape: [4, 8], dtype: fp16, init: random}\n"
                     "ops:\n  - {op: relu, inputs: [b], outputs: [c]}\n",
              "w.yaml:6:25: error: ops[0].inputs: tensor 'b' is not declared\n  hint: did you "
              "mean 'a'?"},
             {head + "tensors:\n  a: {shape: [4, 8], dtype: fp16, init: random}\n"
                     "ops:\n  - {op: relu, inputs: [a], outputs: [b]}\n"
                     "  - {op: relu, inputs: [a], outputs: [b]}\n",
              "w.yaml:7:39: error: ops[1].outputs: tensor 'b' is written twice (first by the op "
              "at w.yaml:6:5)"},
             {"a: [1, 2\n", "w.yaml:2:1: error: YAML syntax error"},
         }) {
        const std::string got = error_of(b.yaml);
        BOOST_CHECK_MESSAGE(contains(got, b.text), "expected '" << b.text << "' in:\n" << got);
    }
}

// An op's output needs no declaration: its shape and dtype come from the op. mlp.yaml with
// its four intermediate tensors left out loads to the same tensors and plans the same kernels
// and tilings as the file that declares them, and runs with every check passing.
BOOST_AUTO_TEST_CASE(undeclared_outputs_are_inferred) {
    const auto cfg = test::tiny();
    const std::string file = std::string(NPUSIM_SOURCE_DIR) + "/configs/workloads/mlp.yaml";
    const auto full = graph::load_workload(file);
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    std::string lean_text;
    size_t declared_out = 0;
    for (size_t at = 0, end; at < text.size(); at = end + 1) {
        end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(at, end - at);
        const bool intermediate = contains(line, "shape:") && !contains(line, "init:");
        declared_out += intermediate;
        if (!intermediate) lean_text += line + "\n";
    }
    BOOST_REQUIRE_EQUAL(declared_out, 4u);  // h, o, res, y
    const auto lean = graph::load_workload_text(lean_text, "lean.yaml");
    BOOST_REQUIRE_EQUAL(lean.tensors.size(), full.tensors.size());
    for (const auto& t : full.tensors) {
        const auto& u = lean.tensor(t.name);
        BOOST_CHECK_MESSAGE(u.shape == t.shape && u.type == t.type, t.name);
    }
    BOOST_CHECK(contains(lean.tensor("h").where, "lean.yaml:12:45"));
    const auto a = graph::plan_workload(full, cfg), b = graph::plan_workload(lean, cfg);
    BOOST_REQUIRE_EQUAL(a.ops.size(), b.ops.size());
    for (size_t i = 0; i < a.ops.size(); ++i) {
        BOOST_CHECK_EQUAL(a.ops[i].kernel->name, b.ops[i].kernel->name);
        BOOST_CHECK_EQUAL(a.ops[i].tiling.block_dim, b.ops[i].tiling.block_dim);
        BOOST_CHECK_EQUAL(a.ops[i].tiling.summary, b.ops[i].tiling.summary);
    }
    graph::workload_result r;
    platform::simulation sim(cfg);
    BOOST_CHECK(sim.run([&](platform::chip& chip, std::vector<platform::op_record>& ops) {
        r = graph::run_workload(chip, b, true, ops);
    }));
    BOOST_CHECK_EQUAL(r.failure, "");
    BOOST_REQUIRE_EQUAL(r.checks.size(), 4u);
    for (const auto& c : r.checks) BOOST_CHECK_MESSAGE(c.ok, c.label << " " << c.max_error);
}

// The same workload twice in one simulation: with --check every tensor is kept, without it
// tensors are freed after their last use, so the peak is lower; both results match the CPU.
BOOST_AUTO_TEST_CASE(runs_with_checks_and_frees_tensors_after_last_use) {
    const auto cfg = test::tiny();
    const auto w =
        graph::load_workload(std::string(NPUSIM_SOURCE_DIR) + "/configs/workloads/mlp.yaml");
    const auto plan = graph::plan_workload(w, cfg);
    graph::workload_result checked, lean;
    platform::simulation sim(cfg);
    BOOST_CHECK(sim.run([&](platform::chip& chip, std::vector<platform::op_record>& ops) {
        checked = graph::run_workload(chip, plan, true, ops);
        lean = graph::run_workload(chip, plan, false, ops);
    }));
    BOOST_CHECK_EQUAL(checked.failure, "");
    BOOST_CHECK_EQUAL(lean.failure, "");
    BOOST_REQUIRE_EQUAL(checked.checks.size(), 4u);
    for (const auto& c : checked.checks) BOOST_CHECK_MESSAGE(c.ok, c.label << " " << c.max_error);
    BOOST_CHECK_LT(lean.peak_device_bytes, checked.peak_device_bytes);
    BOOST_TEST_MESSAGE("peak with checks " << checked.peak_device_bytes << " B, without "
                                           << lean.peak_device_bytes << " B");
}

// A reshape is a view: no kernel, no memory of its own, and readers of the view on another
// stream wait for the viewed tensor's writer; results still match the CPU.
BOOST_AUTO_TEST_CASE(reshape_is_a_view_across_streams) {
    const auto cfg = test::tiny();
    const auto w = graph::load_workload_text(
        head +
            "tensors:\n"
            "  x: {shape: [6, 64], dtype: fp16, init: random}\n"
            "  y: {shape: [6, 64], dtype: fp16}\n"
            "  v: {shape: [2, 3, 64], dtype: fp16}\n"
            "  v2: {shape: [3, 128], dtype: fp16}\n"
            "  z: {shape: [2, 3, 64], dtype: fp16}\n"
            "  s: {shape: [3], dtype: fp16}\n"
            "ops:\n"
            "  - {op: relu, inputs: [x], outputs: [y]}\n"
            "  - {op: reshape, inputs: [y], outputs: [v], attrs: {shape: [2, -1, 64]}}\n"
            "  - {op: reshape, inputs: [v], outputs: [v2], attrs: {shape: [3, 128]}}\n"
            "  - {op: softmax, inputs: [v], outputs: [z], stream: other}\n"
            "  - {op: reduce_sum, inputs: [v2], outputs: [s], stream: third}\n",
        "w.yaml");
    const auto plan = graph::plan_workload(w, cfg);
    graph::workload_result checked, lean;
    std::vector<platform::op_record> ops;
    platform::simulation sim(cfg);
    BOOST_CHECK(sim.run([&](platform::chip& chip, std::vector<platform::op_record>& rec) {
        checked = graph::run_workload(chip, plan, true, rec);
        ops = rec;
        lean = graph::run_workload(chip, plan, false, rec);
    }));
    BOOST_CHECK_EQUAL(checked.failure, "");
    BOOST_REQUIRE_EQUAL(checked.checks.size(), 5u);
    for (const auto& c : checked.checks) BOOST_CHECK_MESSAGE(c.ok, c.label << " " << c.max_error);
    size_t kernels = 0;
    for (const auto& o : ops) kernels += o.type == "kernel";
    BOOST_CHECK_EQUAL(kernels, 3u);  // relu, softmax, reduce_sum: no reshape kernel
    // x, y and z take 1024 B each and s 512 B (512 B granules): the views add nothing
    BOOST_CHECK_EQUAL(checked.peak_device_bytes, 3u * 1024 + 512);
    BOOST_CHECK_EQUAL(lean.failure, "");
}

BOOST_AUTO_TEST_CASE(reshape_errors) {
    BOOST_CHECK_EQUAL(error_of(head + "tensors:\n  x: {shape: [6, 64], dtype: fp16, init: random}\n"
                                      "  y: {shape: [5, 64], dtype: fp16}\n"
                                      "ops:\n  - {op: reshape, inputs: [x], outputs: [y], attrs: "
                                      "{shape: [5, -1]}}\n"),
                      "w.yaml:7:5: error: ops[0]: op 'reshape' cannot view input 'x' [6,64] (384 "
                      "elements) as [5,-1]; the element counts must match");
}

// Every value of the workload schema, given a list, a mapping, a wrong text, a negative, a
// huge number, NaN, infinity or nothing: the loader rejects it with file:line:col and the key
// (never a yaml-cpp conversion error), or accepts it where the value is valid there.
BOOST_AUTO_TEST_CASE(wrong_typed_values_name_file_line_and_key) {
    // @ marks the value under test; each template is one line of an otherwise valid file.
    struct slot {
        std::string line, key;
        bool text_ok;  ///< any plain scalar is valid here
    };
    // Values that are valid in some slots: an empty list of dimensions (a 0-d tensor) or of
    // inputs (the planner checks the count), and a mapping of attributes.
    auto valid_anyway = [](const slot& sl, const std::string& v) {
        return (v.empty() && sl.line.find("[@]") != std::string::npos) ||
               (v == "{k: v}" && sl.key == "ops[0].attrs") ||
               (v == "[a]" && sl.key == "ops[0].outputs");  // a new tensor, shape inferred
    };
    const std::string tensors_head = "tensors:\n  w: {shape: [4], dtype: fp16, init: ones}\n";
    const std::string ops_tail = "ops:\n  - {op: relu, inputs: [w], outputs: [o]}\n";
    const std::vector<slot> slots = {
        {"name: @\n" + tensors_head + "  o: {shape: [4], dtype: fp16}\n" + ops_tail, "name", true},
        {tensors_head +
             "  o: {shape: [4], dtype: fp16}\n  x: {shape: [@], dtype: fp16, init: "
             "ones}\n" +
             ops_tail,
         "tensors.x.shape", false},
        {tensors_head +
             "  o: {shape: [4], dtype: fp16}\n  x: {shape: @, dtype: fp16, init: "
             "ones}\n" +
             ops_tail,
         "tensors.x.shape", false},
        {tensors_head + "  o: {shape: [4], dtype: @}\n" + ops_tail, "tensors.o.dtype", false},
        {tensors_head +
             "  o: {shape: [4], dtype: fp16}\n  x: {shape: [4], dtype: fp16, init: "
             "@}\n" +
             ops_tail,
         "tensors.x.init", false},
        {tensors_head +
             "  o: {shape: [4], dtype: fp16}\n  x: {shape: [4], dtype: fp16, init: "
             "ones, seed: @}\n" +
             ops_tail,
         "tensors.x.seed", false},
        {tensors_head +
             "  o: {shape: [4], dtype: fp16}\n  x: {shape: [4], dtype: int32, init: "
             "randint, high: @}\n" +
             ops_tail,
         "tensors.x.high", false},
        {tensors_head +
             "  o: {shape: [4], dtype: fp16}\n  x: {shape: [4], dtype: fp16, init: "
             "random, scale: @}\n" +
             ops_tail,
         "tensors.x.scale", false},
        {tensors_head + "  o: {shape: [4], dtype: fp16}\n  x: @\n" + ops_tail, "tensors.x", false},
        {tensors_head + "  o: {shape: [4], dtype: fp16}\nops:\n  - {op: @, inputs: [w], "
                        "outputs: [o]}\n",
         "ops[0].op", false},
        {tensors_head + "  o: {shape: [4], dtype: fp16}\nops:\n  - {op: relu, inputs: [@], "
                        "outputs: [o]}\n",
         "ops[0].inputs", false},
        {tensors_head + "  o: {shape: [4], dtype: fp16}\nops:\n  - {op: relu, inputs: [w], "
                        "outputs: @}\n",
         "ops[0].outputs", false},
        {tensors_head + "  o: {shape: [4], dtype: fp16}\nops:\n  - {op: relu, inputs: [w], "
                        "outputs: [o], stream: @}\n",
         "ops[0].stream", true},
        {tensors_head + "  o: {shape: [4], dtype: fp16}\nops:\n  - {op: relu, inputs: [w], "
                        "outputs: [o], attrs: @}\n",
         "ops[0].attrs", false},
        {tensors_head + "  o: {shape: [4], dtype: fp16}\nops:\n  - {op: relu, inputs: [w], "
                        "outputs: [o], attrs: {axis: @}}\n",
         "ops[0].attrs.axis", true},
        {tensors_head + "  o: {shape: [4], dtype: fp16}\nops:\n  - @\n", "ops[0]", false},
        {tensors_head + "  o: {shape: [4], dtype: fp16}\nops: @\n", "ops", false},
        {"tensors: @\n" + ops_tail, "tensors", false},
    };
    const std::vector<std::string> values = {
        "[a]",  "{k: v}", "[[1]]", "wordy", "-1", "1e400", "99999999999999999999",
        ".nan", ".inf",   "-.inf", "",      "~",  "\"\""};
    int rejected = 0;
    for (const auto& sl : slots)
        for (const auto& v : values) {
            std::string yaml = head + sl.line;
            yaml.replace(yaml.find('@'), 1, v);
            try {
                graph::load_workload_text(yaml, "w.yaml");
                // Loaded: only a plain word (or a number read as one) where text is valid.
                const bool plain = v != "[a]" && v != "{k: v}" && v != "[[1]]" && v != "" &&
                                   v != "~" && v != "\"\"";
                BOOST_CHECK_MESSAGE((sl.text_ok && plain) || valid_anyway(sl, v),
                                    "loaded " << sl.key << " = '" << v << "':\n"
                                              << yaml);
            } catch (const platform::config_error& e) {
                ++rejected;
                const std::string msg = e.what();
                BOOST_CHECK_MESSAGE(
                    msg.rfind("w.yaml:", 0) == 0 && contains(msg, ": error: " + sl.key),
                    sl.key << " = '" << v << "' gave:\n"
                           << msg);
                BOOST_CHECK_MESSAGE(!contains(msg, "yaml-cpp") && !contains(msg, "conversion"),
                                    msg);
            } catch (const std::exception& e) {
                BOOST_ERROR(sl.key << " = '" << v << "' threw " << e.what());
            }
        }
    BOOST_TEST_MESSAGE(rejected << " of " << slots.size() * values.size() << " rejected");
}

BOOST_AUTO_TEST_CASE(wrong_typed_values_exact_messages) {
    const std::string t = "tensors:\n  x: {shape: [4], dtype: fp16, init: random, ";
    const std::string o =
        "}\n  y: {shape: [4], dtype: fp16}\nops:\n  - {op: relu, inputs: [x], "
        "outputs: [y]}\n";
    BOOST_CHECK_EQUAL(error_of(head + t + "scale: .inf" + o),
                      "w.yaml:4:53: error: tensors.x.scale: '.inf' is not a finite number from "
                      "1e-30 to 65504\n  hint: random values are uniform in [-scale, "
                      "scale], e.g. 0.05");
    // fp16 holds values up to 65504: a larger scale would draw infinities.
    BOOST_CHECK_EQUAL(error_of(head + t + "scale: 1e5" + o),
                      "w.yaml:4:53: error: tensors.x.scale: '1e5' is not a finite number from "
                      "1e-30 to 65504\n  hint: random values are uniform in [-scale, scale], e.g. "
                      "0.05");
    BOOST_CHECK_EQUAL(error_of(head + t + "seed: [1]" + o),
                      "w.yaml:4:52: error: tensors.x.seed: expected a value, got a list\n  hint: "
                      "write a whole number from 0 to 9223372036854775807");
    BOOST_CHECK_EQUAL(error_of(head + t + "seed: 18446744073709551616" + o),
                      "w.yaml:4:52: error: tensors.x.seed: '18446744073709551616' is not a whole "
                      "number from 0 to 9223372036854775807\n  hint: write a whole number from 0 "
                      "to 9223372036854775807");
    BOOST_CHECK_EQUAL(
        error_of(head + "tensors:\n  x: {shape: [4], dtype: {a: 1}}\n"),
        "w.yaml:4:26: error: tensors.x.dtype: expected a value, got a mapping\n  hint: e.g. "
        "'dtype: fp16'");
    BOOST_CHECK_EQUAL(error_of(head + "tensors:\n  x: {shape: [4], dtype: fp16, init: ones}\n  y: "
                                      "{shape: [4], dtype: fp16}\nops:\n  - {op: relu, inputs: "
                                      "[x], outputs: [y], attrs: {alpha: .nan}}\n"),
                      "w.yaml:7:58: error: ops[0].attrs.alpha: '.nan' is not a finite number\n  "
                      "hint: attributes take finite numbers");
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_errors) {
    BOOST_CHECK_EQUAL(
        error_of(head + "tensors:\n  x: {shape: [4], dtype: fp16, init: ones, dtype: fp32}\n"),
        "w.yaml:4:44: error: tensors.x.dtype: key given twice (first at line 4)\n  hint: keep one "
        "of them");
    BOOST_CHECK_EQUAL(error_of(head + "name: u\n"),
                      "w.yaml:3:1: error: name: key given twice (first at line 2)\n  hint: keep "
                      "one of them");
    BOOST_CHECK_EQUAL(error_of(head + "tensors:\n  x: {shape: [4], dtype: fp16, init: ones}\n  y: "
                                      "{shape: [4], dtype: fp16}\nops:\n  - {op: relu, inputs: "
                                      "[x], outputs: [y], attrs: {axis: 1, axis: 2}}\n"),
                      "w.yaml:7:60: error: ops[0].attrs.axis: key given twice (first at line "
                      "7)\n  hint: keep one of them");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_an_error) {
    BOOST_CHECK_EQUAL(error_of(head + "tensors:\n  x\xc3\x28: {shape: [4], dtype: fp16}\n"),
                      "w.yaml:4:4: error: invalid UTF-8 (byte 0xc3)\n  hint: save the file as "
                      "UTF-8");
}

BOOST_AUTO_TEST_SUITE_END()
