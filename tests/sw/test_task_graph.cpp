// Task graphs: dependency order, fan-out/fan-in, relaunch, cycles, failures.
#include <boost/test/unit_test.hpp>

#include <random>
#include <stdexcept>

#include "tests/sw/runtime_fixture.h"

using namespace npusim;
using namespace npusim::runtime;
using models::kernel_kind;
using test::contains;

BOOST_AUTO_TEST_SUITE(task_graph_suite)

// h2d x, h2d y -> (z1 = x + y, z2 = x + x) -> w = z1 + z2 -> d2h w, then a host node; launched
// three times with new inputs, each result checked against the CPU.
BOOST_AUTO_TEST_CASE(diamond_graph_runs_in_dependency_order_and_relaunches) {
    const auto cfg = test::tiny();
    const uint64_t n = 2048, bytes = n * 4;
    const uint64_t x = 0, y = 1 << 16, z1 = 2 << 16, z2 = 3 << 16, w = 4 << 16;
    std::vector<float> hx(n), hy(n), hw(n);
    int host_runs = 0;
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        task_graph g("diamond");
        unsigned dim = 0;
        const auto cx = g.add_memcpy_to_device("x_in", x, hx.data(), bytes);
        const auto cy = g.add_memcpy_to_device("y_in", y, hy.data(), bytes);
        const auto clear = g.add_memset("clear_w", w, 0, bytes);
        const auto k1 = g.add_kernel("k1", 1, kernel_kind::vector,
                                     test::add_floats(cfg, 1, x, y, z1, n, dim), {cx, cy});
        const auto k2 = g.add_kernel("k2", 1, kernel_kind::vector,
                                     test::add_floats(cfg, 1, x, x, z2, n, dim), {cx});
        const auto k3 = g.add_kernel("k3", 1, kernel_kind::vector,
                                     test::add_floats(cfg, 1, z1, z2, w, n, dim), {k1, k2});
        g.add_edge(clear, k3);
        const auto out = g.add_memcpy_to_host("w_out", hw.data(), w, bytes, {k3});
        g.add_host("done",
                   [&](status s) {
                       BOOST_CHECK(s == status::success);
                       ++host_runs;
                   },
                   {out});
        graph_exec* exec = nullptr;
        BOOST_REQUIRE(ctx.instantiate(exec, g) == status::success);
        for (unsigned launch = 0; launch < 3; ++launch) {
            std::mt19937 rng(launch);
            std::uniform_real_distribution<float> d(-4.f, 4.f);
            for (uint64_t i = 0; i < n; ++i) hx[i] = d(rng), hy[i] = d(rng);
            BOOST_CHECK(ctx.launch_graph(exec, nullptr) == status::success);
            BOOST_CHECK(ctx.synchronize() == status::success);
            for (uint64_t i = 0; i < n; ++i)
                BOOST_CHECK_EQUAL(hw[i], (hx[i] + hy[i]) + (hx[i] + hx[i]));
        }
        // Order within each launch: the timeline holds three entries per node.
        auto all = [&](const std::string& name) {
            std::vector<task_record> v;
            for (const auto& r : ctx.timeline())
                if (r.name == "diamond/" + name) v.push_back(r);
            BOOST_CHECK_EQUAL(v.size(), 3u);
            return v;
        };
        const auto vx = all("x_in"), vy = all("y_in"), v1 = all("k1"), v2 = all("k2"),
                   v3 = all("k3"), vo = all("w_out"), vh = all("done"), vc = all("clear_w");
        for (size_t i = 0; i < 3; ++i) {
            BOOST_CHECK_GE(v1[i].start, std::max(vx[i].end, vy[i].end));
            BOOST_CHECK_GE(v2[i].start, vx[i].end);
            BOOST_CHECK_GE(v3[i].start, std::max({v1[i].end, v2[i].end, vc[i].end}));
            BOOST_CHECK_GE(vo[i].start, v3[i].end);
            BOOST_CHECK_GE(vh[i].start, vo[i].end);
            BOOST_CHECK_LT(vx[i].start, vy[i].end);  // the two roots overlap...
            // k2 does not wait for y: it starts one kernel dispatch after x, its only input.
            BOOST_CHECK_EQUAL(v2[i].start, vx[i].end + cfg.kernel_dispatch_ps);
            if (i) BOOST_CHECK_GE(vx[i].start, vh[i - 1].end);  // launches are stream-ordered
        }
    });
    BOOST_CHECK_EQUAL(host_runs, 3);
}

// A cycle is rejected when the graph is built into an executable one, naming its nodes.
BOOST_AUTO_TEST_CASE(cycle_is_rejected_with_its_nodes) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        task_graph g("loop");
        const auto root = g.add_memset("root", 0, 0, 64);
        const auto a = g.add_kernel("a", 1, kernel_kind::vector, test::spin(1), {root});
        const auto b = g.add_kernel("b", 1, kernel_kind::vector, test::spin(1), {a});
        const auto c = g.add_kernel("c", 1, kernel_kind::vector, test::spin(1), {b});
        g.add_edge(c, a);
        graph_exec* exec = nullptr;
        BOOST_CHECK(ctx.instantiate(exec, g) == status::graph_cycle);
        BOOST_CHECK_EQUAL(ctx.get_last_error().message,
                          "instantiate: graph 'loop' has a cycle: 'a' -> 'b' -> 'c' -> 'a'; "
                          "remove one of these dependencies");
        BOOST_CHECK_EXCEPTION(g.add_edge(c, 9), std::invalid_argument,
                              [](const std::invalid_argument& e) {
                                  return std::string(e.what()) ==
                                         "graph 'loop': target node 9 does not exist (the graph "
                                         "has 4 nodes)";
                              });
        task_graph bad("bad_node");
        bad.add_kernel("empty", 0, kernel_kind::vector, test::spin(1));
        BOOST_CHECK(ctx.instantiate(exec, bad) == status::invalid_argument);
        BOOST_CHECK(contains(ctx.get_last_error().message, "node 'empty': block_dim is 0"));
        BOOST_CHECK(ctx.launch_graph(nullptr, nullptr) == status::invalid_handle);
    });
}

// Continue on failure: what depends on a failed node is skipped, independent nodes run.
BOOST_AUTO_TEST_CASE(failed_node_skips_dependents_in_continue_mode) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        task_graph g("g");
        const auto bad = g.add_kernel("bad", 1, kernel_kind::vector, test::bad_read(2ull << 30));
        g.add_kernel("dependent", 1, kernel_kind::vector, test::spin(5), {bad});
        g.add_kernel("independent", 1, kernel_kind::vector, test::spin(500));
        graph_exec* exec = nullptr;
        BOOST_REQUIRE(ctx.instantiate(exec, g) == status::success);
        BOOST_CHECK(ctx.launch_graph(exec, nullptr) == status::success);
        BOOST_CHECK(ctx.synchronize() == status::aicore_exception);
        const auto e = ctx.get_last_error();
        BOOST_CHECK_MESSAGE(
            contains(e.message, "graph 'g' node 'bad'") && contains(e.message, "0x80000000"),
            e.message);
        BOOST_CHECK(test::entry(ctx, "g/dependent").result == status::task_cancelled);
        BOOST_CHECK(test::entry(ctx, "g/independent").result == status::success);
        BOOST_CHECK(ctx.launch_graph(exec, nullptr) == status::success);  // stream still open
        BOOST_CHECK(ctx.synchronize() == status::aicore_exception);
    });
}

// Stop on failure: nodes not yet started are cancelled and the stream refuses new work.
BOOST_AUTO_TEST_CASE(failed_node_stops_graph_and_stream_in_stop_mode) {
    test::run_runtime(test::tiny(), [&](platform::chip&, context& ctx) {
        stream* s = nullptr;
        BOOST_CHECK(ctx.create_stream(s, {"s", 4, failure_mode::stop_on_failure}) ==
                    status::success);
        task_graph g("g");
        g.add_kernel("bad", 1, kernel_kind::vector, test::bad_read(2ull << 30));
        const auto slow = g.add_kernel("slow", 1, kernel_kind::vector, test::spin(2000));
        g.add_kernel("after_slow", 1, kernel_kind::vector, test::spin(5), {slow});
        graph_exec* exec = nullptr;
        BOOST_REQUIRE(ctx.instantiate(exec, g) == status::success);
        BOOST_CHECK(ctx.launch_graph(exec, s) == status::success);
        BOOST_CHECK(ctx.synchronize(s) == status::aicore_exception);
        BOOST_CHECK(test::entry(ctx, "g/slow").result == status::success);  // was running
        BOOST_CHECK(test::entry(ctx, "g/after_slow").result == status::task_cancelled);
        BOOST_CHECK(ctx.launch_graph(exec, s) == status::stream_stopped);
    });
}

BOOST_AUTO_TEST_SUITE_END()
