// ONNX import: models built here with the ONNX protobuf classes (the structures of
// scripts/gen_workloads.py, as an exporter writes them: Conv + BatchNormalization, MatMul + Add,
// Gemm with a transposed weight, fp32 tensors) import to the same ops and shapes as the shipped
// YAML files, give the same simulated time, and pass --check against the CPU.
#include <onnx/onnx_pb.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <random>

#include "platform/config/config_error.h"
#include "sw/graph/onnx_import.h"
#include "tests/tools/cli_fixture.h"

using namespace npusim;
using namespace npusim::test;

namespace {

// Builds a graph node by node; initializers hold data only when `data` (a full-size model is
// written with shapes only, which the importer accepts for timing).
struct builder {
    onnx::ModelProto model;
    onnx::GraphProto* g;
    bool data;
    std::mt19937 rng{7};
    explicit builder(const std::string& name, bool with_data) : data(with_data) {
        model.set_ir_version(8);
        model.add_opset_import()->set_version(17);
        g = model.mutable_graph();
        g->set_name(name);
    }
    void input(const std::string& name, const std::vector<int64_t>& shape) {
        auto* v = g->add_input();
        v->set_name(name);
        auto* t = v->mutable_type()->mutable_tensor_type();
        t->set_elem_type(onnx::TensorProto::FLOAT);
        for (int64_t d : shape) t->mutable_shape()->add_dim()->set_dim_value(d);
    }
    void output(const std::string& name) { g->add_output()->set_name(name); }
    std::string weight(const std::string& name, const std::vector<int64_t>& shape, double scale,
                       double offset = 0) {
        auto* t = g->add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto::FLOAT);
        int64_t n = 1;
        for (int64_t d : shape) t->add_dims(d), n *= d;
        std::uniform_real_distribution<float> u(float(offset - scale), float(offset + scale));
        if (data)
            for (int64_t i = 0; i < n; ++i) t->add_float_data(u(rng));
        return name;
    }
    // An fp32 initializer holding exactly `v`.
    std::string constant(const std::string& name, const std::vector<int64_t>& shape,
                         const std::vector<float>& v) {
        auto* t = g->add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto::FLOAT);
        for (int64_t d : shape) t->add_dims(d);
        for (float x : v) t->add_float_data(x);
        return name;
    }
    std::string ints(const std::string& name, const std::vector<int64_t>& v) {
        auto* t = g->add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto::INT64);
        t->add_dims(int64_t(v.size()));
        for (int64_t x : v) t->add_int64_data(x);
        return name;
    }
    onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in,
                          const std::string& out) {
        auto* n = g->add_node();
        n->set_op_type(op);
        n->set_name(out);
        for (const auto& i : in) n->add_input(i);
        n->add_output(out);
        return n;
    }
    static void ints_attr(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INTS);
        for (int64_t x : v) a->add_ints(x);
    }
    static void int_attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(v);
    }
    void save(const std::string& path) {
        std::ofstream f(path, std::ios::binary);
        model.SerializeToOstream(&f);
    }
};

// ResNet-50 v1.5 as torchvision exports it (Conv without bias, BatchNormalization, Relu,
// MaxPool, Add, GlobalAveragePool, Flatten, Gemm with transB).
void resnet50(builder& b, int batch, int image, int width_div) {
    auto c = [&](int ch) { return std::max(4, ch / width_div); };
    b.input("image", {batch, 3, image, image});
    int counter = 0;
    auto conv = [&](const std::string& x, int cin, int cout, int k, int stride, int pad, bool relu,
                    const std::string& tag) {
        ++counter;
        const std::string w =
            b.weight(tag + "_w", {cout, cin, k, k}, std::sqrt(3.0 / (cin * k * k)));
        auto* n = b.node("Conv", {x, w}, tag + "_conv");
        builder::ints_attr(n, "kernel_shape", {k, k});
        builder::ints_attr(n, "strides", {stride, stride});
        builder::ints_attr(n, "pads", {pad, pad, pad, pad});
        b.node("BatchNormalization",
               {tag + "_conv", b.weight(tag + "_gamma", {cout}, 0.1, 1),
                b.weight(tag + "_beta", {cout}, 0.1), b.weight(tag + "_mean", {cout}, 0.1),
                b.weight(tag + "_var", {cout}, 0.1, 1)},
               tag + "_bn");
        if (!relu) return tag + "_bn";
        b.node("Relu", {tag + "_bn"}, tag + "_relu");
        return tag + "_relu";
    };
    std::string y = conv("image", 3, c(64), 7, 2, 3, true, "stem");
    auto* mp = b.node("MaxPool", {y}, "pool");
    builder::ints_attr(mp, "kernel_shape", {3, 3});
    builder::ints_attr(mp, "strides", {2, 2});
    builder::ints_attr(mp, "pads", {1, 1, 1, 1});
    y = "pool";
    int cin = c(64);
    const int blocks[] = {3, 4, 6, 3}, mids[] = {64, 128, 256, 512};
    for (int stage = 0; stage < 4; ++stage)
        for (int blk = 0; blk < blocks[stage]; ++blk) {
            const int stride = blk == 0 && stage > 0 ? 2 : 1, mid = c(mids[stage]);
            const std::string tag = "s" + std::to_string(stage + 1) + "b" + std::to_string(blk + 1);
            std::string a = conv(y, cin, mid, 1, 1, 0, true, tag + "_1");
            a = conv(a, mid, mid, 3, stride, 1, true, tag + "_2");
            a = conv(a, mid, mid * 4, 1, 1, 0, false, tag + "_3");
            const std::string sc =
                blk == 0 ? conv(y, cin, mid * 4, 1, stride, 0, false, tag + "_down") : y;
            b.node("Add", {a, sc}, tag + "_sum");
            b.node("Relu", {tag + "_sum"}, tag + "_out");
            y = tag + "_out";
            cin = mid * 4;
        }
    b.node("GlobalAveragePool", {y}, "gap");
    b.node("Flatten", {"gap"}, "flat");
    const int classes = 1000 / width_div;
    auto* fc = b.node("Gemm",
                      {"flat", b.weight("fc_w", {classes, cin}, std::sqrt(3.0 / cin)),
                       b.weight("fc_b", {classes}, 0.1)},
                      "logits");
    builder::int_attr(fc, "transB", 1);
    b.output("logits");
}

// A BERT encoder layer as exported from PyTorch: MatMul + Add for each projection, Reshape and
// Transpose to heads, K transposed again for the scores, Softmax, LayerNormalization and
// (ONNX Runtime's fused) Gelu.
void bert_layer(builder& b, int seq, int hidden, int heads, int ffn) {
    const int d = hidden / heads;
    b.input("x", {seq, hidden});
    const double ws = std::sqrt(3.0 / hidden);
    std::string t[3];
    const char* names[] = {"q", "k", "v"};
    const std::string heads_shape = b.ints("heads_shape", {seq, heads, d});
    for (int p = 0; p < 3; ++p) {
        const std::string n = names[p];
        b.node("MatMul", {"x", b.weight("w" + n, {hidden, hidden}, ws)}, n + "_mm");
        b.node("Add", {n + "_mm", b.weight("b" + n, {hidden}, 0.1)}, n);
        b.node("Reshape", {n, heads_shape}, n + "_heads");
        builder::ints_attr(b.node("Transpose", {n + "_heads"}, n + "_t"), "perm", {1, 0, 2});
        t[p] = n + "_t";
    }
    builder::ints_attr(b.node("Transpose", {t[1]}, "k_tt"), "perm", {0, 2, 1});
    b.node("MatMul", {t[0], "k_tt"}, "scores");
    b.node("Softmax", {"scores"}, "probs");
    b.node("MatMul", {"probs", t[2]}, "ctx");
    builder::ints_attr(b.node("Transpose", {"ctx"}, "ctx_t"), "perm", {1, 0, 2});
    b.node("Reshape", {"ctx_t", b.ints("flat_shape", {seq, hidden})}, "ctx_flat");
    b.node("MatMul", {"ctx_flat", b.weight("wo", {hidden, hidden}, ws)}, "attn_mm");
    b.node("Add", {"attn_mm", b.weight("bo", {hidden}, 0.1)}, "attn");
    b.node("Add", {"attn", "x"}, "res1");
    b.node("LayerNormalization",
           {"res1", b.weight("ln1_g", {hidden}, 1), b.weight("ln1_b", {hidden}, 1)}, "ln1");
    b.node("MatMul", {"ln1", b.weight("w1", {hidden, ffn}, ws)}, "ffn1_mm");
    b.node("Add", {"ffn1_mm", b.weight("b1", {ffn}, 0.1)}, "ffn1");
    b.node("Gelu", {"ffn1"}, "act")->set_domain("com.microsoft");
    b.node("MatMul", {"act", b.weight("w2", {ffn, hidden}, std::sqrt(3.0 / ffn))}, "ffn2_mm");
    b.node("Add", {"ffn2_mm", b.weight("b2", {hidden}, 0.1)}, "ffn2");
    b.node("Add", {"ffn2", "ln1"}, "res2");
    b.node("LayerNormalization",
           {"res2", b.weight("ln2_g", {hidden}, 1), b.weight("ln2_b", {hidden}, 1)}, "out");
    b.output("out");
}

// Simulated time and kernel span of a run, from its stats.
std::pair<double, double> times_of(const std::string& args) {
    temp_file stats("stats", ".json");
    const auto r = run_cli(args + " --stats " + stats.str() + " --quiet");
    BOOST_REQUIRE_EQUAL(r.rc, 0);
    const std::string s = read_file(stats.str());
    auto number_after = [&](const std::string& key) {
        const size_t at = s.find("\"" + key + "\":");
        BOOST_REQUIRE(at != std::string::npos);
        return std::stod(s.substr(at + key.size() + 3));
    };
    return {number_after("sim_time_ns"), number_after("device_span_ns")};
}

// A shipped workload's YAML with its stream keys removed (the importer runs one stream).
std::string without_streams(const std::string& name) {
    std::string y =
        read_file(std::string(NPUSIM_SOURCE_DIR) + "/configs/workloads/" + name + ".yaml");
    for (size_t at; (at = y.find(", stream: ")) != std::string::npos;)
        y.erase(at, y.find('}', at) - at);
    return y;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(onnx_import)

// Same ops, same shapes, same simulated time as resnet50_b1.yaml: BN folded into a per-channel
// add after each conv2d, the FC weight stored transposed.
BOOST_AUTO_TEST_CASE(resnet50_b1_matches_the_shipped_file) {
    temp_file model("resnet50", ".onnx");
    builder b("resnet50_b1", false);
    resnet50(b, 1, 224, 1);
    b.save(model.str());
    const auto w = graph::import_onnx(model.str());
    BOOST_CHECK_EQUAL(w.ops.size(), 175u);
    const auto a =
        times_of("run --platform ascend910b1 --workload " + model.str() + " --timing-only");
    const auto s = times_of("run --platform ascend910b1 --workload resnet50_b1 --timing-only");
    BOOST_CHECK_EQUAL(a.first, s.first);
    BOOST_CHECK_EQUAL(a.second, s.second);
}

BOOST_AUTO_TEST_CASE(bert_layer_matches_the_shipped_file_on_one_stream) {
    temp_file model("bert", ".onnx"), yaml("bert", ".yaml");
    builder b("bert_base_s128", false);
    bert_layer(b, 128, 768, 12, 3072);
    b.save(model.str());
    const auto w = graph::import_onnx(model.str());
    BOOST_CHECK_EQUAL(w.ops.size(), 22u);  // MatMul + Add fused, K's transpose read as transpose_b
    std::ofstream(yaml.str()) << without_streams("bert_base_s128");
    const auto a =
        times_of("run --platform ascend910b1 --workload " + model.str() + " --timing-only");
    const auto s =
        times_of("run --platform ascend910b1 --workload " + yaml.str() + " --timing-only");
    BOOST_CHECK_EQUAL(a.first, s.first);
    BOOST_CHECK_EQUAL(a.second, s.second);
}

// The reduced structures with their weights, checked against the CPU op by op, in the same
// simulated time as the shipped *_check files run with --check (one stream); `import` writes a
// YAML file that runs to the same time.
BOOST_AUTO_TEST_CASE(reduced_models_pass_check_and_import_to_yaml) {
    struct m {
        std::string name;
        std::function<void(builder&)> build;
    };
    for (const m& c :
         std::vector<m>{{"resnet50_check", [](builder& b) { resnet50(b, 2, 32, 16); }},
                        {"bert_check", [](builder& b) { bert_layer(b, 40, 96, 4, 200); }}}) {
        temp_file model(c.name, ".onnx"), yaml(c.name, ".yaml");
        builder b(c.name, true);
        c.build(b);
        b.save(model.str());
        temp_file shipped(c.name + "_shipped", ".yaml");
        std::ofstream(shipped.str()) << without_streams(c.name);
        const auto r = run_cli("run --platform tiny --workload " + model.str() + " --check");
        BOOST_CHECK_EQUAL(r.rc, 0);
        BOOST_CHECK(contains(r.out, "check      results match the CPU reference"));
        const auto onnx_checked = times_of("run --platform tiny --check --workload " + model.str());
        const auto yaml_checked =
            times_of("run --platform tiny --check --workload " + shipped.str());
        BOOST_CHECK_EQUAL(onnx_checked.first, yaml_checked.first);
        BOOST_CHECK_EQUAL(onnx_checked.second, yaml_checked.second);
        BOOST_REQUIRE_EQUAL(run_cli("import " + model.str() + " -o " + yaml.str()).rc, 0);
        BOOST_CHECK(contains(read_file(yaml.str()), "schema: npusim.workload/1"));
        const auto a = times_of("run --platform tiny --workload " + model.str() + " --timing-only");
        const auto y = times_of("run --platform tiny --workload " + yaml.str() + " --timing-only");
        BOOST_CHECK_EQUAL(a.first, y.first);
    }
}

// The folds compute what the unfused graph does: conv weights scaled by gamma / sqrt(var + eps)
// per output channel, the bias beta + (conv bias - mean) * that scale; Gemm's B stored
// transposed. Checked against the arithmetic done here, then run with --check.
BOOST_AUTO_TEST_CASE(folds_carry_the_models_values) {
    temp_file model("fold", ".onnx");
    builder b("fold", true);
    b.input("x", {1, 2, 4, 4});
    const std::vector<float> w = {1, 2, 3, 4, 5, 6}, cb = {0.5f, -1, 2}, g = {2, 0.5f, 1},
                             beta = {0.1f, 0.2f, 0.3f}, mu = {1, -2, 0.5f}, var = {3, 0.25f, 1};
    auto* conv =
        b.node("Conv", {"x", b.constant("w", {3, 2, 1, 1}, w), b.constant("cb", {3}, cb)}, "c");
    builder::ints_attr(conv, "kernel_shape", {1, 1});
    b.node("BatchNormalization",
           {"c", b.constant("g", {3}, g), b.constant("beta", {3}, beta), b.constant("mu", {3}, mu),
            b.constant("var", {3}, var)},
           "bn");
    b.node("GlobalAveragePool", {"bn"}, "p");
    b.node("Flatten", {"p"}, "f");
    auto* fc = b.node(
        "Gemm", {"f", b.constant("fw", {2, 3}, {1, 2, 3, 4, 5, 6}), b.constant("fb", {2}, {7, 8})},
        "y");
    builder::int_attr(fc, "transB", 1);
    b.output("y");
    b.save(model.str());
    const auto wl = graph::import_onnx(model.str());
    const auto& conv_op = wl.ops[0];
    BOOST_REQUIRE_EQUAL(conv_op.op, "conv2d");
    const auto& wt = wl.tensor(conv_op.inputs[1]);
    const auto& bt = wl.tensor(wl.ops[1].inputs[1]);
    BOOST_REQUIRE(wt.init == graph::tensor_init::data && bt.init == graph::tensor_init::data);
    for (int c = 0; c < 3; ++c) {
        const double s = g[c] / std::sqrt(double(var[c]) + 1e-5);
        for (int k = 0; k < 2; ++k)
            BOOST_CHECK_CLOSE((*wt.data)[size_t(c * 2 + k)], w[size_t(c * 2 + k)] * s, 1e-4);
        BOOST_CHECK_CLOSE((*bt.data)[size_t(c)], beta[c] + (cb[c] - mu[c]) * s, 1e-4);
    }
    BOOST_CHECK(bt.shape == (std::vector<int64_t>{1, 3, 1, 1}));
    const auto& fw = wl.tensor(wl.ops.back().inputs[1]);
    BOOST_CHECK(fw.shape == (std::vector<int64_t>{3, 2}));
    BOOST_CHECK(*fw.data == (std::vector<float>{1, 4, 2, 5, 3, 6}));
    const auto r = run_cli("run --platform tiny --workload " + model.str() + " --check");
    BOOST_CHECK_EQUAL(r.rc, 0);
}

// GELU and SiLU as PyTorch exports them (Erf and Sigmoid patterns) become gelu and silu.
BOOST_AUTO_TEST_CASE(exported_gelu_and_silu_patterns_fuse) {
    temp_file model("act", ".onnx");
    builder b("act", true);
    b.input("x", {16, 32});
    auto scalar = [&](const std::string& name, float v) { return b.constant(name, {}, {v}); };
    b.node("Div", {"x", scalar("sqrt2", 1.4142135f)}, "d");
    b.node("Erf", {"d"}, "e");
    b.node("Add", {"e", scalar("one", 1)}, "a");
    b.node("Mul", {"x", "a"}, "m");
    b.node("Mul", {"m", scalar("half", 0.5f)}, "g");
    b.node("Sigmoid", {"g"}, "s");
    b.node("Mul", {"s", "g"}, "y");
    b.output("y");
    b.save(model.str());
    const auto w = graph::import_onnx(model.str());
    BOOST_REQUIRE_EQUAL(w.ops.size(), 2u);
    BOOST_CHECK_EQUAL(w.ops[0].op, "gelu");
    BOOST_CHECK_EQUAL(w.ops[0].outputs[0], "g");
    BOOST_CHECK_EQUAL(w.ops[1].op, "silu");
    BOOST_CHECK_EQUAL(w.ops[1].outputs[0], "y");
    const auto r = run_cli("run --platform tiny --workload " + model.str() + " --check");
    BOOST_CHECK_EQUAL(r.rc, 0);
}

// Exporters' value names ("/layer1/Relu_output_0", "onnx::Gemm_12", words YAML reads as
// booleans or null) survive to_yaml and load back to the same workload.
BOOST_AUTO_TEST_CASE(odd_names_round_trip_through_yaml) {
    temp_file model("names", ".onnx");
    builder b("names", true);
    b.input("input.1", {8, 16});
    b.node("Relu", {"input.1"}, "/layer1/Relu_output_0");
    b.node("Sigmoid", {"/layer1/Relu_output_0"}, "NULL");
    b.node("MatMul", {"NULL", b.weight("onnx::MatMul_12", {16, 4}, 0.1)}, "Yes");
    b.node("Tanh", {"Yes"}, "y \"quoted\"");
    b.save(model.str());
    const auto w = graph::import_onnx(model.str());
    const auto back = graph::load_workload_text(graph::to_yaml(w), "back.yaml");
    BOOST_REQUIRE_EQUAL(back.ops.size(), w.ops.size());
    for (size_t i = 0; i < w.ops.size(); ++i) {
        BOOST_CHECK_EQUAL(back.ops[i].op, w.ops[i].op);
        BOOST_CHECK(back.ops[i].inputs == w.ops[i].inputs);
        BOOST_CHECK(back.ops[i].outputs == w.ops[i].outputs);
    }
    for (const auto& t : w.tensors) BOOST_CHECK(back.tensor(t.name).shape == t.shape);
}

// A sweep lists an ONNX model like a workload file (relative to the sweep file).
BOOST_AUTO_TEST_CASE(a_sweep_runs_an_onnx_model) {
    const fs::path dir =
        fs::temp_directory_path() / ("npusim_onnx_sweep_" + std::to_string(getpid()));
    fs::create_directories(dir);
    builder b("bert_check", false);
    bert_layer(b, 40, 96, 4, 200);
    b.save((dir / "bert.onnx").string());
    std::ofstream(dir / "sweep.yaml")
        << "schema: npusim.sweep/1\nname: onnx_cores\nplatform: tiny\n"
           "workloads: [bert.onnx]\ntiming_only: true\n"
           "parameters:\n  - grid:\n      chip.cores: [1, 2]\n"
           "metrics: [summary.device_span_ns]\n";
    const auto r =
        run_cli("sweep " + (dir / "sweep.yaml").string() + " --out " + (dir / "out").string());
    BOOST_CHECK_EQUAL(r.rc, 0);
    const std::string rec = read_file((dir / "out" / "results.jsonl").string());
    size_t ok = 0;
    for (size_t at = 0; (at = rec.find("\"status\":\"ok\"", at)) != std::string::npos; ++at) ++ok;
    BOOST_CHECK_EQUAL(ok, 2u);
    std::error_code ec;
    fs::remove_all(dir, ec);
}

// Bad models: a clear error naming the node, its op type and the nearest supported op.
BOOST_AUTO_TEST_CASE(errors_name_the_node_and_a_fix) {
    temp_file model("bad", ".onnx");
    auto error_of = [&](builder& b) {
        b.save(model.str());
        try {
            graph::import_onnx(model.str());
        } catch (const platform::config_error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    {
        builder b("m", false);
        b.input("x", {4, 8});
        b.node("Relu", {"x"}, "r");
        b.node("Relux", {"r"}, "y");
        BOOST_CHECK(contains(error_of(b), model.str() + ": node 1 'y' (Relux): error: op type "
                                                        "'Relux' is not supported\n  hint: the "
                                                        "nearest supported op is Relu"));
    }
    {
        builder b("m", false);
        b.input("x", {4, 8});
        b.node("Erf", {"x"}, "y");
        BOOST_CHECK(contains(error_of(b),
                             "node 0 'y' (Erf): error: op type 'Erf' is not "
                             "supported\n  hint: the nearest supported op is Gelu; "
                             "the supported ops are listed in docs/onnx.md"));
    }
    {  // a supported reduction, to show the mapping runs
        builder b("m", false);
        b.input("x", {4, 8});
        builder::ints_attr(b.node("ReduceMean", {"x"}, "y"), "axes", {1});
        b.save(model.str());
        const auto w = graph::import_onnx(model.str());
        BOOST_REQUIRE_EQUAL(w.ops.size(), 1u);
        BOOST_CHECK_EQUAL(w.ops[0].op, "reduce_mean");
        BOOST_CHECK(w.tensor("y").shape == (std::vector<int64_t>{4, 1}));
    }
    {
        builder b("m", false);
        b.input("x", {1, 3, 8, 8});
        auto* n = b.node("Conv", {"x", b.weight("w", {4, 3, 3, 3}, 0.1)}, "y");
        builder::ints_attr(n, "pads", {1, 0, 1, 1});
        BOOST_CHECK(contains(error_of(b),
                             "node 0 'y' (Conv): error: pads must be 4 values "
                             "with top = bottom and left = right"));
    }
    {
        builder b("m", false);
        b.input("x", {4, 8});
        b.node("MatMul", {"x", b.weight("w", {4, 8}, 0.1)}, "y");
        BOOST_CHECK(contains(error_of(b),
                             "node 0 'y' (MatMul): error: maps to npusim op "
                             "'matmul', which refuses it: op 'matmul' input 'b' has "
                             "4 rows but 'a' has 8 columns"));
    }
    {
        builder b("m", false);
        auto* v = b.g->add_input();
        v->set_name("x");
        auto* t = v->mutable_type()->mutable_tensor_type();
        t->set_elem_type(onnx::TensorProto::FLOAT);
        t->mutable_shape()->add_dim()->set_dim_param("batch");
        b.node("Relu", {"x"}, "y");
        BOOST_CHECK(contains(error_of(b),
                             "graph input 'x': error: dimension 'batch' has no fixed "
                             "size\n  hint: export the model with fixed input shapes"));
    }
    {
        builder b("small", false);
        b.input("x", {4, 8});
        b.node("Relu", {"x"}, "y");
        b.save(model.str());
        const auto v = run_cli("validate --platform tiny " + model.str());
        BOOST_CHECK_EQUAL(v.rc, 0);
        BOOST_CHECK(contains(v.out, ": ok (ONNX model small, 1 ops, planned on tiny)"));
    }
    std::ofstream(model.str()) << "not a model";
    const auto r = run_cli("run --platform tiny --workload " + model.str());
    BOOST_CHECK_EQUAL(r.rc, 2);
    BOOST_CHECK(contains(r.out, "error: not an ONNX model (the protobuf does not parse)"));
}

// Mutated models (bytes flipped, runs deleted or repeated, truncated) either import or give a
// config_error: never a crash or another exception. A fixed seed, so a finding reproduces.
BOOST_AUTO_TEST_CASE(fuzzed_models_give_errors_not_crashes) {
    std::string seeds[2];
    {
        builder b("bert_check", true);
        bert_layer(b, 8, 16, 2, 24);
        seeds[0] = b.model.SerializeAsString();
        builder r("resnet50_check", false);
        resnet50(r, 1, 32, 16);
        seeds[1] = r.model.SerializeAsString();
    }
    std::mt19937_64 rng(2026);
    int imported = 0, refused = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string m = seeds[round % 2];
        for (int k = 0, edits = 1 + int(rng() % 4); k < edits && !m.empty(); ++k) {
            const size_t at = rng() % m.size();
            switch (rng() % 4) {
                case 0:
                    m[at] = char(rng());
                    break;
                case 1:
                    m.erase(at, 1 + rng() % 8);
                    break;
                case 2:
                    m.insert(at, m.substr(at, 1 + rng() % 8));
                    break;
                default:
                    m[at] = char(m[at] ^ (1 << (rng() % 8)));
                    break;
            }
        }
        try {
            graph::import_onnx_bytes(m, "fuzz.onnx");
            ++imported;
        } catch (const platform::config_error&) {
            ++refused;
        } catch (const std::exception& e) {
            BOOST_ERROR("round " << round << ": " << e.what());
        }
    }
    BOOST_TEST_MESSAGE(imported << " imported, " << refused << " refused");
    BOOST_CHECK_GT(imported, 0);
    BOOST_CHECK_GT(refused, 0);
}

BOOST_AUTO_TEST_SUITE_END()
