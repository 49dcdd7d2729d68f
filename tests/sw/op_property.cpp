#include "tests/sw/op_property.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <random>

#include "platform/config/config_error.h"
#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "sw/graph/workload_runner.h"
#include "sw/ops/registry.h"

namespace npusim::test {

namespace {

using models::dtype;
using shape_t = std::vector<int64_t>;

std::string dims(const shape_t& s) {
    return "[" + fmt::format("{}", fmt::join(s, ",")) + "]";
}

int64_t product(const shape_t& s) {
    int64_t p = 1;
    for (int64_t d : s) p *= d;
    return p;
}

/// Draws for one case: dimensions that like boundaries, and the preset's capacities.
class drawer {
  public:
    drawer(uint64_t seed, const platform::platform_config& cfg) : m_rng(seed), m_cfg(cfg) {}

    uint64_t uniform(uint64_t lo, uint64_t hi) {
        return std::uniform_int_distribution<uint64_t>(lo, hi)(m_rng);
    }
    bool chance(double p) { return std::bernoulli_distribution(p)(m_rng); }
    template <class T>
    const T& pick(const std::vector<T>& v) {
        return v[uniform(0, v.size() - 1)];
    }

    /// A dimension in [0, hi]: 0 sometimes, 1, primes, sizes around 16/32/64/128/256, or any.
    int64_t dim(int64_t hi, double zero = 0.04) {
        static const std::vector<int64_t> special = {1,   2,   3,   5,   7,   13,  15,  16,
                                                     17,  31,  32,  33,  63,  64,  65,  127,
                                                     128, 129, 255, 256, 257, 509, 1021};
        if (chance(zero)) return 0;
        int64_t d;
        const uint64_t kind = uniform(0, 9);
        if (kind < 5) {
            d = pick(special);
            if (d > hi) d = int64_t(uniform(1, uint64_t(std::max<int64_t>(1, hi))));
        } else if (kind < 7) {
            d = 1;
        } else {
            d = int64_t(uniform(1, uint64_t(std::max<int64_t>(1, hi))));
        }
        return std::min(d, hi);
    }

    /// Elements near a capacity of the preset's vector core: UB / e divided by 2..8, +-0..17.
    int64_t near_ub(unsigned elem_bytes) {
        const auto& core = m_cfg.split ? m_cfg.aiv : m_cfg.aicore;
        const int64_t ub = int64_t(core.buffer(models::mem_space::ub).size / elem_bytes);
        const int64_t base = ub / int64_t(uniform(2, 8));
        return std::max<int64_t>(1, base + int64_t(uniform(0, 34)) - 17);
    }

    /// A shape of `rank` dims with at most `budget` elements (the last dims shrink to fit).
    shape_t shape(size_t rank, int64_t hi, int64_t budget) {
        shape_t s;
        for (size_t i = 0; i < rank; ++i) s.push_back(dim(hi));
        fit(s, budget);
        return s;
    }
    static void fit(shape_t& s, int64_t budget) {
        for (size_t i = 0; product(s) > budget && i < 64; ++i) {
            auto big = std::max_element(s.begin(), s.end());
            *big = std::max<int64_t>(1, *big / 2);
        }
    }

    /// One of the op's kernels' dtype lists (every dtype combination gets drawn).
    std::vector<dtype> kernel_dtypes(const std::string& op) {
        const auto ks = ops::library().kernels(op);
        std::vector<std::vector<dtype>> distinct;
        for (const auto* k : ks)
            if (std::find(distinct.begin(), distinct.end(), k->dtypes) == distinct.end())
                distinct.push_back(k->dtypes);
        return pick(distinct);
    }

    const platform::platform_config& cfg() const { return m_cfg; }

  private:
    std::mt19937_64 m_rng;
    const platform::platform_config& m_cfg;
};

graph::tensor_decl tensor(const std::string& name, dtype t, shape_t shape, uint64_t seed) {
    graph::tensor_decl d;
    d.name = name;
    d.type = t;
    d.shape = std::move(shape);
    d.init = graph::tensor_init::random;
    d.seed = seed;
    // Integers over most of their range, so saturation (int8) and wrap-around (int16, int32)
    // are exercised.
    if (t == dtype::int8) d.scale = 200;
    if (t == dtype::int16) d.scale = 40000;
    if (t == dtype::int32) d.scale = 3e9;
    return d;
}

const std::vector<std::string> binary_ops = {"add", "sub", "mul", "div", "maximum", "minimum"};
const std::vector<std::string> unary_ops = {"relu", "exp", "sigmoid", "tanh", "gelu", "silu"};

void draw_binary(drawer& d, op_case& c, const std::vector<dtype>& ts) {
    const size_t rank = d.uniform(1, 4);
    shape_t x = d.shape(rank, 300, 40000), y = x;
    if (d.chance(0.5)) {  // broadcast: drop leading dims of y, set some to 1
        y.erase(y.begin(), y.begin() + long(d.uniform(0, rank - 1)));
        for (auto& v : y)
            if (d.chance(0.4)) v = 1;
        if (d.chance(0.5)) std::swap(x, y);
    }
    c.inputs = {tensor("x", ts[0], x, c.seed + 1), tensor("y", ts[1], y, c.seed + 2)};
}

void draw_rows(drawer& d, op_case& c, dtype t, size_t params) {
    const size_t rank = d.uniform(1, 3);
    shape_t x = d.shape(rank, 300, 40000);
    if (d.chance(0.2)) {  // a row near the UB capacity: row and long-row kernels
        x = {int64_t(d.uniform(1, 3)), d.near_ub(models::dtype_size(t))};
    }
    c.inputs = {tensor("x", t, x, c.seed + 1)};
    const char* names[] = {"gamma", "beta"};
    for (size_t i = 0; i < params; ++i)
        c.inputs.push_back(tensor(names[i], t, {x.back()}, c.seed + 2 + i));
}

void draw_matmul(drawer& d, op_case& c, const std::vector<dtype>& ts, bool bias) {
    const bool ta = d.chance(0.4), tb = d.chance(0.4);
    int64_t m = d.dim(600), k = d.dim(700), n = d.dim(600);
    // cost: the CPU reference is m*k*n multiply-adds per batch
    while (m * k * n > 3000000) {
        int64_t& big = m >= k && m >= n ? m : k >= n ? k : n;
        big = std::max<int64_t>(1, big / 2);
    }
    const int64_t batch = d.chance(0.3) ? d.dim(4) : -1;
    const bool a3 = batch >= 0 && d.chance(0.7), b3 = batch >= 0 && (!a3 || d.chance(0.5));
    shape_t a = ta ? shape_t{k, m} : shape_t{m, k}, b = tb ? shape_t{n, k} : shape_t{k, n};
    if (a3) a.insert(a.begin(), batch);
    if (b3) b.insert(b.begin(), batch);
    c.inputs = {tensor("a", ts[0], a, c.seed + 1), tensor("b", ts[1], b, c.seed + 2)};
    if (bias) c.inputs.push_back(tensor("bias", ts[2], {n}, c.seed + 3));
    if (ts[0] == dtype::int8)  // small integers, exact products
        for (auto& in : c.inputs) {
            in.init = graph::tensor_init::randint;
            in.high = 7;
        }
    if (c.op == "matmul_dequant") {  // one scale or one per column, never 0
        c.inputs.push_back(tensor("scale", dtype::fp32, {d.chance(0.5) ? n : 1}, c.seed + 3));
        c.inputs.back().mean = 1;
        c.inputs.back().scale = 0.5;
    }
    c.attrs["transpose_a"] = ta;
    c.attrs["transpose_b"] = tb;
    c.attrs["out_dtype"] = std::string(models::to_string(ts.back()));
    if (d.chance(0.4)) c.attrs["partition"] = d.pick(std::vector<std::string>{"cost", "steal"});
    if (ts[0] == dtype::fp32 && c.op != "matmul_dequant" && d.chance(0.4)) c.attrs["hf32"] = true;
}

// A block-sparse a (CSR or blocks up to 32x32) at a density from empty to full, evenly or
// skewed over its rows, times a dense b; every strategy that fits the blocks.
void draw_sparse(drawer& d, op_case& c) {
    const std::vector<std::pair<int64_t, int64_t>> blocks = {{1, 1},   {1, 1},   {16, 16}, {16, 16},
                                                             {32, 16}, {16, 32}, {2, 1},   {1, 4}};
    const auto [bm, bk] = d.pick(blocks);
    int64_t rows = d.dim(600 / bm + 1), cols = d.dim(700 / bk + 1), n = d.dim(600);
    while (rows * bm * cols * bk * std::max<int64_t>(n, 1) > 3000000) {
        int64_t& big =
            rows * bm >= n ? (rows * bm >= cols * bk ? rows : cols) : (n >= cols * bk ? n : cols);
        big = std::max<int64_t>(1, big / 2);
    }
    graph::sparse_layout l;
    l.rows = uint64_t(rows * bm);
    l.cols = uint64_t(cols * bk);
    l.bm = uint64_t(bm);
    l.bk = uint64_t(bk);
    l.density = d.pick(std::vector<double>{0, 0.01, 0.05, 0.15, 0.25, 0.5, 1});
    l.skew = d.chance(0.3) ? 1.5 : 0;
    l.seed = c.seed + 1;
    const auto a = graph::sparse_tensors(tensor("a", dtype::fp16, {}, c.seed + 1), l);
    c.inputs.assign(a.begin(), a.end());
    c.inputs.push_back(tensor("b", dtype::fp16, {cols * bk, n}, c.seed + 2));
    std::vector<std::string> strategies = {"auto", "auto", "direct", "dense"};
    if (bm % 16 == 0 && bk % 16 == 0) strategies.push_back("block");
    c.attrs["strategy"] = d.pick(strategies);
    if (d.chance(0.3)) c.attrs["partition"] = std::string("steal");
}

void draw_conv(drawer& d, op_case& c) {
    // Small shapes most of the time; one case in three as large as real layers (channels up to
    // a few hundred, planes up to 112, kernels up to 7), within a budget of multiply-adds that
    // keeps the CPU reference and the functional run fast.
    const bool large = d.chance(0.35);
    const int64_t groups = d.pick(large ? std::vector<int64_t>{1, 1, 1, 2, 4, 32}
                                        : std::vector<int64_t>{1, 1, 1, 2, 3});
    int64_t cin = groups * (large ? d.dim(512 / groups, 0.02) : d.dim(6, 0.05));
    int64_t cout = groups * (large ? d.dim(512 / groups, 0.02) : d.dim(6, 0.05));
    if (large && groups == 32 && d.chance(0.5)) cin = cout = 32 * d.dim(8, 0);  // depthwise-ish
    const int64_t kmax = large ? 7 : 5, hw = large ? 112 : 24;
    const int64_t kh = int64_t(d.uniform(1, uint64_t(kmax))),
                  kw = d.chance(0.7) ? kh : int64_t(d.uniform(1, uint64_t(kmax)));
    int64_t h = int64_t(d.uniform(1, uint64_t(hw))),
            w = d.chance(0.6) ? h : int64_t(d.uniform(1, uint64_t(hw)));
    const int64_t sh = int64_t(d.uniform(1, 3)), sw = d.chance(0.7) ? sh : int64_t(d.uniform(1, 3));
    const int64_t dh = int64_t(d.uniform(1, 2)), dw = int64_t(d.uniform(1, 2));
    const int64_t ph = int64_t(d.uniform(0, uint64_t(kh / 2))),
                  pw = int64_t(d.uniform(0, uint64_t(kw / 2)));
    const int64_t n = d.dim(2, 0.05);
    // cost: n * cout * oh * ow * (cin / groups) * kh * kw multiply-adds, about h * w outputs
    // per output channel; halve the largest of channels and plane until it is under budget
    const auto cost = [&] {
        return std::max<int64_t>(1, n) * cout * (h / sh + 1) * (w / sw + 1) * (cin / groups) * kh *
               kw;
    };
    while (cost() > 4000000) {
        if (h > 8 && (h >= cin / groups || cin / groups <= 1)) {
            h = std::max<int64_t>(1, h / 2);
            w = std::max<int64_t>(1, w / 2);
        } else if (cin / groups > 1 && cin >= cout) {
            cin = groups * std::max<int64_t>(1, cin / groups / 2);
        } else if (cout / groups > 1) {
            cout = groups * std::max<int64_t>(1, cout / groups / 2);
        } else {
            h = std::max<int64_t>(1, h / 2);
            w = std::max<int64_t>(1, w / 2);
        }
    }
    // the dilated window must fit the padded input
    h = std::max(h, (kh - 1) * dh + 1 - 2 * ph);
    w = std::max(w, (kw - 1) * dw + 1 - 2 * pw);
    c.inputs = {tensor("x", dtype::fp16, {n, cin, h, w}, c.seed + 1),
                tensor("weight", dtype::fp16, {cout, cin / groups, kh, kw}, c.seed + 2)};
    c.attrs["stride"] = std::vector<int64_t>{sh, sw};
    c.attrs["padding"] = std::vector<int64_t>{ph, pw};
    c.attrs["dilation"] = std::vector<int64_t>{dh, dw};
    c.attrs["groups"] = groups;
}

void draw_pool(drawer& d, op_case& c, dtype t) {
    const int64_t kh = int64_t(d.uniform(1, 4)), kw = int64_t(d.uniform(1, 4));
    c.inputs = {tensor(
        "x", t,
        {d.dim(2, 0.05), d.dim(5, 0.05), int64_t(d.uniform(1, 40)), int64_t(d.uniform(1, 40))},
        c.seed + 1)};
    c.attrs["kernel"] = std::vector<int64_t>{kh, kw};
    if (d.chance(0.6))
        c.attrs["stride"] =
            std::vector<int64_t>{int64_t(d.uniform(1, 4)), int64_t(d.uniform(1, 4))};
    c.attrs["padding"] = std::vector<int64_t>{int64_t(d.uniform(0, uint64_t(kh / 2))),
                                              int64_t(d.uniform(0, uint64_t(kw / 2)))};
}

void draw_layout(drawer& d, op_case& c, const std::vector<dtype>& ts) {
    if (c.op == "transpose") {
        const size_t rank = d.uniform(1, 4);
        c.inputs = {tensor("x", ts[0], d.shape(rank, 200, 40000), c.seed + 1)};
        std::vector<int64_t> perm(rank);
        for (size_t i = 0; i < rank; ++i) perm[i] = int64_t(i);
        for (size_t i = rank; i > 1; --i) std::swap(perm[i - 1], perm[d.uniform(0, i - 1)]);
        if (d.chance(0.8)) c.attrs["perm"] = perm;
    } else if (c.op == "gather") {
        const size_t rank = d.uniform(1, 3);
        shape_t x = d.shape(rank, 300, 20000);
        const int64_t axis = int64_t(d.uniform(0, rank - 1));
        shape_t idx = d.shape(d.uniform(1, 2), 40, 200);
        if (x[size_t(axis)] == 0) idx[0] = 0;  // no valid index into an empty axis
        c.inputs = {tensor("x", ts[0], x, c.seed + 1), tensor("indices", dtype::int32, idx, 0)};
        c.inputs[1].init = graph::tensor_init::randint;
        c.inputs[1].high = std::max<int64_t>(1, x[size_t(axis)]);
        c.inputs[1].seed = c.seed + 2;
        c.attrs["axis"] = d.chance(0.3) ? axis - int64_t(rank) : axis;
    } else {  // rope
        int64_t s = d.dim(64);
        const int64_t dd = 2 * d.dim(64);
        shape_t x = {s, dd};
        for (size_t i = d.uniform(0, 2); i > 0; --i) x.insert(x.begin(), d.dim(4));
        drawer::fit(x, 40000);
        s = x[x.size() - 2];
        const bool half = d.chance(0.3);
        const int64_t cd = half ? x.back() / 2 : x.back();
        c.inputs = {tensor("x", ts[0], x, c.seed + 1), tensor("cos", ts[1], {s, cd}, c.seed + 2),
                    tensor("sin", ts[2], {s, cd}, c.seed + 3)};
    }
}

}  // namespace

std::string op_case::describe() const {
    std::string s = op;
    for (const auto& t : inputs)
        s += fmt::format(" {} {}{}", t.name, models::to_string(t.type), dims(t.shape));
    std::string a;
    for (const auto& [k, v] : attrs) {
        std::string val;
        std::visit(
            [&](const auto& x) {
                using X = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<X, std::vector<int64_t>>)
                    val = dims(x);
                else if constexpr (std::is_same_v<X, bool>)
                    val = x ? "true" : "false";
                else
                    val = fmt::format("{}", x);
            },
            v);
        a += (a.empty() ? "" : ", ") + k + ": " + val;
    }
    return a.empty() ? s : s + " {" + a + "}";
}

uint64_t case_seed(uint64_t run_seed, uint64_t index) {
    uint64_t z = run_seed * 0x9e3779b97f4a7c15ull + index + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (z ^ (z >> 31)) & 0xffffffffffffull;  // 48 bits: short one-liners
}

op_case draw_case(uint64_t seed, const platform::platform_config& cfg) {
    drawer d(seed, cfg);
    static const std::vector<std::string> all = [] {
        std::vector<std::string> v = ops::library().names();
        return v;
    }();
    op_case c;
    c.seed = seed;
    c.op = d.pick(all);
    const bool kernelless = c.op == "reshape" || c.op == "copy";
    const auto ts = kernelless ? std::vector<dtype>{} : d.kernel_dtypes(c.op);
    const auto is = [&](const std::vector<std::string>& v) {
        return std::find(v.begin(), v.end(), c.op) != v.end();
    };
    if (is(binary_ops)) {
        draw_binary(d, c, ts);
    } else if (is(unary_ops) || c.op == "cast") {
        c.inputs = {tensor("x", ts[0], d.shape(d.uniform(1, 4), 300, 40000), seed + 1)};
        if (d.chance(0.1)) c.inputs[0].shape = {d.near_ub(models::dtype_size(ts[0]))};
        if (c.op == "cast") {
            c.attrs["dtype"] = std::string(models::to_string(ts[1]));
            const bool odd = ts[0] == dtype::fp32 && (ts[1] == dtype::fp16 || ts[1] == dtype::bf16);
            if (d.chance(0.6))
                c.attrs["round"] =
                    d.pick(odd ? std::vector<std::string>{"floor", "ceil", "round", "trunc", "odd"}
                               : std::vector<std::string>{"floor", "ceil", "round", "trunc"});
            if (models::is_float(ts[0]))
                c.inputs[0].scale = d.pick(std::vector<double>{1, 300, 1e5});
        }
    } else if (c.op == "quantize" || c.op == "dequantize") {
        shape_t x = d.shape(d.uniform(1, 3), 300, 40000);
        if (d.chance(0.1)) x = {int64_t(d.uniform(1, 3)), d.near_ub(models::dtype_size(ts[0]))};
        const int64_t channels = !x.empty() && d.chance(0.5) ? x.back() : 1;
        c.inputs = {tensor("x", ts[0], x, seed + 1),
                    tensor("scale", dtype::fp32, {channels}, seed + 2),
                    tensor("offset", dtype::fp32, {channels}, seed + 3)};
        if (c.op == "quantize") c.inputs[0].scale = d.pick(std::vector<double>{1, 100});
        c.inputs[1].mean = 1;  // scales in [0.5, 1.5]: never 0
        c.inputs[1].scale = 0.5;
        c.inputs[2].scale = 10;
        if (c.op == "dequantize") c.attrs["dtype"] = std::string(models::to_string(ts.back()));
    } else if (c.op == "reduce_sum" || c.op == "reduce_mean" || c.op == "reduce_max") {
        const size_t rank = d.uniform(1, 4);
        shape_t x = d.shape(rank, 300, 40000);
        if (d.chance(0.15)) x = {int64_t(d.uniform(1, 3)), d.near_ub(models::dtype_size(ts[0]))};
        c.inputs = {tensor("x", ts[0], x, seed + 1)};
        const int64_t axis = int64_t(d.uniform(0, x.size() - 1));
        c.attrs["axis"] = d.chance(0.3) ? axis - int64_t(x.size()) : axis;
        c.attrs["keepdims"] = d.chance(0.3);
    } else if (c.op == "softmax") {
        draw_rows(d, c, ts[0], 0);
        if (d.chance(0.3)) c.attrs["axis"] = int64_t(c.inputs[0].shape.size() - 1);
    } else if (c.op == "layernorm" || c.op == "rmsnorm") {
        draw_rows(d, c, ts[0], c.op == "layernorm" ? 2 : 1);
        if (d.chance(0.3)) c.attrs["epsilon"] = d.pick(std::vector<double>{1e-3, 1e-5, 1e-6});
    } else if (c.op == "matmul" || c.op == "matmul_bias" || c.op == "matmul_dequant") {
        draw_matmul(d, c, ts, c.op == "matmul_bias");
    } else if (c.op == "conv2d") {
        draw_conv(d, c);
    } else if (c.op == "sparse_matmul") {
        draw_sparse(d, c);
    } else if (c.op == "max_pool2d" || c.op == "avg_pool2d") {
        draw_pool(d, c, ts[0]);
    } else if (c.op == "reshape") {
        shape_t x = d.shape(d.uniform(1, 4), 100, 20000);
        c.inputs = {tensor("x", d.pick(std::vector<dtype>{dtype::fp16, dtype::fp32}), x, seed + 1)};
        shape_t y = x;
        std::reverse(y.begin(), y.end());
        if (d.chance(0.5) && !y.empty() && product(x) > 0) y = {-1};
        c.attrs["shape"] = y;
    } else if (c.op == "copy") {  // a device copy on the SDMA: every dtype, any shape
        c.inputs = {tensor("x",
                           d.pick(std::vector<dtype>{dtype::fp16, dtype::bf16, dtype::fp32,
                                                     dtype::int32, dtype::int8}),
                           d.shape(d.uniform(1, 4), 300, 40000), seed + 1)};
    } else {
        draw_layout(d, c, ts);
    }
    return c;
}

namespace {

void diff(const nlohmann::json& f, const nlohmann::json& t, const std::string& path,
          std::vector<std::string>& out) {
    if (f.type() != t.type() || (!f.is_structured() && f != t)) {
        out.push_back(path + ": " + f.dump() + " vs " + t.dump());
        return;
    }
    if (f.is_object()) {
        for (auto it = f.begin(); it != f.end(); ++it)
            diff(it.value(), t.contains(it.key()) ? t[it.key()] : nlohmann::json(),
                 path + "." + it.key(), out);
        for (auto it = t.begin(); it != t.end(); ++it)
            if (!f.contains(it.key())) out.push_back(path + "." + it.key() + ": only timing-only");
    } else if (f.is_array()) {
        if (f.size() != t.size()) out.push_back(path + ": lengths differ");
        for (size_t i = 0; i < std::min(f.size(), t.size()); ++i)
            diff(f[i], t[i], path + "[" + std::to_string(i) + "]", out);
    }
}

}  // namespace

std::vector<std::string> stats_diff(const nlohmann::json& functional,
                                    const nlohmann::json& timing_only) {
    std::vector<std::string> out;
    diff(functional, timing_only, "", out);
    return out;
}

property_result run_cases(const std::string& preset, const std::vector<uint64_t>& seeds,
                          bool timing_only) {
    property_result res;
    auto cfg = platform::load_platform(preset);
    if (timing_only) cfg.set_timing_only();
    graph::workload w;
    w.name = "op_property";
    w.source = "op_property";
    std::vector<uint64_t> in_workload;
    for (uint64_t seed : seeds) {
        ++res.cases;
        op_case c = draw_case(seed, cfg);
        const std::string tag = fmt::format("case {}: {}", seed, c.describe());
        std::vector<memory::tensor_desc> descs;
        for (const auto& t : c.inputs) descs.emplace_back(t.name, t.type, t.shape);
        ops::op_plan plan;
        try {
            plan = ops::library().plan(c.op, descs, c.attrs, cfg);
        } catch (const ops::op_error& e) {
            ++res.refused;
            const std::string what = e.what();
            if (what.find("'" + c.op + "'") == std::string::npos)
                res.failures.push_back(tag + ": planning error does not name the op: " + what);
            else
                res.refusals.push_back(fmt::format("case {}: {}", seed, what));
            continue;
        } catch (const std::exception& e) {
            res.failures.push_back(tag + ": planning threw " + e.what());
            continue;
        }
        if (!plan.launches() && !plan.call.schema->view && !plan.call.schema->device_copy)
            ++res.empty;
        const std::string prefix = fmt::format("c{}_", w.ops.size());
        graph::op_decl o;
        o.op = c.op;
        o.attrs = c.attrs;
        o.where = tag;
        for (auto t : c.inputs) {
            t.name = prefix + t.name;
            t.where = tag;
            o.inputs.push_back(t.name);
            w.tensors.push_back(t);
        }
        for (size_t j = 0; j < plan.call.outputs.size(); ++j) {
            graph::tensor_decl t;
            t.name = prefix + "out" + std::to_string(j);
            t.type = plan.call.outputs[j].type();
            t.shape = plan.call.outputs[j].shape();
            t.where = tag;
            o.outputs.push_back(t.name);
            w.tensors.push_back(t);
        }
        w.ops.push_back(o);
        in_workload.push_back(seed);
    }
    if (w.ops.empty()) return res;
    graph::workload_plan plan;
    try {
        plan = graph::plan_workload(w, cfg);
    } catch (const std::exception& e) {
        res.batch_failure = std::string("planning the workload: ") + e.what();
        res.failures.push_back(res.batch_failure);
        return res;
    }
    graph::workload_result r;
    platform::simulation sim(cfg);
    const bool ok = sim.run([&](platform::chip& chip, std::vector<platform::op_record>& records) {
        // Timing-only too: checking keeps every tensor alive, which the timing follows; with
        // no data the comparison itself is skipped.
        r = graph::run_workload(chip, plan, true, records);
    });
    res.stats = sim.stats();
    if (!ok || !r.failure.empty()) {
        res.batch_failure = !ok ? sim.error() : r.failure;
        res.failures.push_back((w.ops.size() == 1 ? w.ops[0].where + ": " : "") +
                               "run failed: " + res.batch_failure);
        return res;
    }
    res.run = in_workload.size();
    if (timing_only) return res;
    for (size_t i = 0; i < r.checks.size() && i < w.ops.size(); ++i)
        if (!r.checks[i].ok)
            res.failures.push_back(fmt::format("{}: max error {:.4g} over tolerance {}",
                                               w.ops[i].where, r.checks[i].max_error,
                                               r.checks[i].tolerance));
    if (r.checks.size() != w.ops.size())
        res.failures.push_back(fmt::format("{} checks for {} ops", r.checks.size(), w.ops.size()));
    return res;
}

}  // namespace npusim::test
