// Every op family on shapes drawn at random (fixed seeds, so runs repeat) on every preset, each
// op checked against its CPU reference: sizes land off the fractal, block and repeat sizes.
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <random>

#include "tests/sw/op_fixture.h"

using namespace npusim;

namespace {

/// A workload of one op per family and per seed, with random shapes (one simulation per
/// process, so every draw goes into the same workload).
std::string random_workload(const std::vector<unsigned>& seeds) {
    std::mt19937 rng;
    auto dim = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    std::string t = "schema: npusim.workload/1\ntensors:\n", o = "ops:\n";
    int n = 0;
    auto input = [&](const std::string& shape, const char* dtype = "fp16",
                     const std::string& extra = "init: random") {
        const std::string name = "t" + std::to_string(n++);
        t += fmt::format("  {}: {{shape: [{}], dtype: {}, {}, seed: {}}}\n", name, shape, dtype,
                         extra, n);
        return name;
    };
    auto op = [&](const std::string& kind, const std::vector<std::string>& in,
                  const std::string& shape, const std::string& attrs = "",
                  const char* dtype = "fp16") {
        const std::string name = "t" + std::to_string(n++);
        t += fmt::format("  {}: {{shape: [{}], dtype: {}}}\n", name, shape, dtype);
        o += fmt::format("  - {{op: {}, inputs: [{}], outputs: [{}]{}{}}}\n", kind,
                         fmt::join(in, ", "), name, attrs.empty() ? "" : ", attrs: ", attrs);
    };
    for (unsigned seed : seeds) {
        rng.seed(seed);
        {  // broadcasting add: [a, b, c] + [b, 1]
            const int a = dim(1, 4), b = dim(1, 40), c = dim(1, 300);
            op("add", {input(fmt::format("{}, {}, {}", a, b, c)), input(fmt::format("{}, 1", b))},
               fmt::format("{}, {}, {}", a, b, c));
        }
        {  // activation
            const int a = dim(1, 3000);
            op("gelu", {input(std::to_string(a), "fp32")}, std::to_string(a), "", "fp32");
        }
        {  // row ops
            const int r = dim(1, 20), c = dim(1, 700);
            const std::string x = input(fmt::format("{}, {}", r, c)),
                              rc = fmt::format("{}, {}", r, c);
            op("softmax", {x}, rc);
            op("layernorm", {x, input(std::to_string(c)), input(std::to_string(c))}, rc);
            op("rmsnorm", {x, input(std::to_string(c))}, rc);
        }
        {  // reduction over a random axis
            const int a = dim(1, 9), b = dim(1, 60), c = dim(1, 200), axis = dim(0, 2);
            const int d[3] = {a, b, c};
            std::vector<int> out;
            for (int i = 0; i < 3; ++i)
                if (i != axis) out.push_back(d[i]);
            op("reduce_sum", {input(fmt::format("{}, {}, {}", a, b, c), "fp32")},
               fmt::format("{}", fmt::join(out, ", ")), fmt::format("{{axis: {}}}", axis), "fp32");
        }
        {  // matmul with random transposes
            const int m = dim(1, 90), k = dim(1, 130), nn = dim(1, 90);
            const bool ta = dim(0, 1), tb = dim(0, 1);
            op("matmul",
               {input(ta ? fmt::format("{}, {}", k, m) : fmt::format("{}, {}", m, k)),
                input(tb ? fmt::format("{}, {}", nn, k) : fmt::format("{}, {}", k, nn))},
               fmt::format("{}, {}", m, nn),
               fmt::format("{{transpose_a: {}, transpose_b: {}}}", ta, tb));
        }
        {  // transpose of the last two dims
            const int a = dim(1, 3), b = dim(1, 70), c = dim(1, 70);
            op("transpose", {input(fmt::format("{}, {}, {}", a, b, c))},
               fmt::format("{}, {}, {}", a, c, b), "{perm: [0, 2, 1]}");
        }
        {  // conv2d and pooling
            const int c = dim(1, 6), h = dim(5, 20), w = dim(5, 20), cout = dim(1, 9);
            const int k = 1 + 2 * dim(0, 1), s = dim(1, 2), p = dim(0, k / 2);
            const int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
            const std::string x = input(fmt::format("1, {}, {}, {}", c, h, w));
            op("conv2d", {x, input(fmt::format("{}, {}, {}, {}", cout, c, k, k))},
               fmt::format("1, {}, {}, {}", cout, oh, ow),
               fmt::format("{{stride: [{}, {}], padding: [{}, {}]}}", s, s, p, p));
            op("max_pool2d", {x}, fmt::format("1, {}, {}, {}", c, (h - 2) / 2 + 1, (w - 2) / 2 + 1),
               "{kernel: [2, 2]}");
        }
        {  // gather rows of a table, and rope
            const int v = dim(1, 50), d = dim(1, 100), idx = dim(1, 30);
            op("gather",
               {input(fmt::format("{}, {}", v, d)),
                input(std::to_string(idx), "int32", fmt::format("init: randint, high: {}", v))},
               fmt::format("{}, {}", idx, d));
            const int hs = dim(1, 4), sq = dim(1, 40), dd = 2 * dim(1, 40);
            op("rope",
               {input(fmt::format("{}, {}, {}", hs, sq, dd)), input(fmt::format("{}, {}", sq, dd)),
                input(fmt::format("{}, {}", sq, dd))},
               fmt::format("{}, {}, {}", hs, sq, dd));
        }
    }
    BOOST_TEST_MESSAGE(t + o);
    return t + o;
}

/// Ten random draws on one preset.
void check_random_shapes(const char* preset) {
    test::check_workload(preset, random_workload({11, 12, 13, 14, 15, 16, 17, 18, 19, 20}));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(op_random_shapes)

NPUSIM_PRESET_TESTS(every_family, check_random_shapes)

BOOST_AUTO_TEST_SUITE_END()
