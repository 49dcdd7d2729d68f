// Same program, same timeline: a program using every runtime feature is run twice in fresh
// processes (SystemC cannot restart in one) and the two timelines must match bit for bit.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/sw/runtime_fixture.h"

using namespace npusim;
using namespace npusim::runtime;
using models::kernel_kind;

BOOST_AUTO_TEST_SUITE(runtime_determinism)

// With NPUSIM_TIMELINE_OUT set, writes the timeline there.
BOOST_AUTO_TEST_CASE(mixed_program) {
    const auto cfg = platform::load_platform("ascend910b1");
    std::string text;
    test::run_runtime(cfg, [&](platform::chip&, context& ctx) {
        stream *hi = nullptr, *lo = nullptr, *cb = nullptr;
        BOOST_CHECK(ctx.create_stream(hi, {"hi", 0}) == status::success);
        BOOST_CHECK(ctx.create_stream(lo, {"lo", 7}) == status::success);
        BOOST_CHECK(ctx.create_stream(cb, {"cb"}) == status::success);
        event* e = nullptr;
        BOOST_CHECK(ctx.create_event(e, "e") == status::success);
        bool stop = false;
        const unsigned reporter = ctx.spawn_host_thread("reporter", [&] {
            while (!stop) (void)ctx.process_report(20000000);
        });
        BOOST_CHECK(ctx.subscribe_report(reporter, cb) == status::success);
        std::vector<uint8_t> host(1 << 16, 3), back(1 << 16);
        BOOST_CHECK(ctx.launch(lo, "lo_k", 60, kernel_kind::vector, test::spin(300)) ==
                    status::success);
        BOOST_CHECK(ctx.memcpy_to_device(hi, 0, host.data(), host.size()) == status::success);
        BOOST_CHECK(ctx.launch(hi, "hi_k", 20, kernel_kind::cube, [](kernel::kernel_context& c) {
            auto t = c.alloc<kernel::half>(kernel::position::A1, 4096);
            c.data_copy(t, kernel::global_tensor<kernel::half>{0, 4096}, 4096);
        }) == status::success);
        BOOST_CHECK(ctx.record_event(e, hi) == status::success);
        BOOST_CHECK(ctx.stream_wait_event(cb, e) == status::success);
        BOOST_CHECK(ctx.launch(cb, "bad", 1, kernel_kind::vector, test::bad_read(1ull << 40)) ==
                    status::success);
        BOOST_CHECK(ctx.launch_callback(
                        cb, [](status) {}, callback_block::no_block, "nb") == status::success);
        BOOST_CHECK(ctx.launch_callback(
                        cb, [](status) {}, callback_block::block, "b") == status::success);
        task_graph g("g");
        const auto a = g.add_memset("set", 1 << 20, 7, 1 << 16);
        const auto b = g.add_memcpy_on_device("copy", 2 << 20, 1 << 20, 1 << 16, {a});
        g.add_kernel("k", 8, kernel_kind::mix, test::spin(50), {a});
        g.add_memcpy_to_host("out", back.data(), 2 << 20, 1 << 16, {b});
        graph_exec* exec = nullptr;
        BOOST_CHECK(ctx.instantiate(exec, g) == status::success);
        BOOST_CHECK(ctx.launch_graph(exec, lo) == status::success);
        BOOST_CHECK(ctx.launch_graph(exec, lo) == status::success);
        BOOST_CHECK(ctx.synchronize_device() == status::aicore_exception);
        stop = true;
        BOOST_CHECK(ctx.join_host_thread(reporter) == status::success);
        for (uint8_t v : back) BOOST_CHECK_EQUAL(v, 7);
        text = ctx.timeline_text() + "end " + std::to_string(models::now_ps()) + "\n";
    });
    BOOST_CHECK_GT(text.size(), 500u);
    if (const char* out = std::getenv("NPUSIM_TIMELINE_OUT")) std::ofstream(out) << text;
}

BOOST_AUTO_TEST_CASE(two_runs_give_identical_timelines) {
    std::string texts[2];
    for (int i = 0; i < 2; ++i) {
        const std::string file =
            (std::filesystem::temp_directory_path() /
             ("npusim_timeline_" + std::to_string(::getpid()) + "_" + std::to_string(i)))
                .string();
        const std::string cmd = "NPUSIM_TIMELINE_OUT=" + file + " " +
                                std::filesystem::read_symlink("/proc/self/exe").string() +
                                " --run_test=runtime_determinism/mixed_program >/dev/null 2>&1";
        BOOST_REQUIRE_EQUAL(std::system(cmd.c_str()), 0);
        std::ifstream in(file);
        std::stringstream ss;
        ss << in.rdbuf();
        texts[i] = ss.str();
        std::filesystem::remove(file);
    }
    BOOST_CHECK_GT(texts[0].size(), 500u);
    BOOST_CHECK(texts[0] == texts[1]);
}

BOOST_AUTO_TEST_SUITE_END()
