// Closed-form timing of the memory system: every expected number is computed here from the
// config values, independently of the model code.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <boost/test/unit_test.hpp>
#include <systemc>

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <tuple>

#include "models/common/model_fault.h"
#include "models/dma/burst_dispatcher.h"
#include "platform/dma_stream_workload.h"
#include "tests/test_util.h"

using namespace npusim;
using models::mem_space;
using models::ps_t;

BOOST_AUTO_TEST_SUITE(dma_timing)

// One transfer on an idle path: latency + bursts x burst time, where the burst time is the
// slowest stage's occupancy and the latency is the path's start-up + NoC + GM latency.
BOOST_AUTO_TEST_CASE(idle_transfer_matches_closed_form) {
    auto cfg = test::tiny({"l2.enabled=false", "gm.channels=1"});
    platform::simulation sim(cfg);
    const uint64_t bytes = 24 * 1024;
    ps_t measured = 0;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        measured =
            test::timed_copy(c.core(0), test::copy(mem_space::gm, 0, mem_space::ub, 0, bytes));
    }));
    const auto& p = cfg.aicore.path(mem_space::gm, mem_space::ub);
    const double period = 1e12 / cfg.cube_clock_hz;
    const uint64_t bursts = bytes / p.burst_bytes;
    const double engine =
        std::ceil(p.burst_bytes * period / p.bytes_per_cycle) + p.burst_overhead_cycles * period;
    const double gm = p.burst_bytes * 1e12 / cfg.gm.bandwidth;
    const double noc = p.burst_bytes * 1e12 / cfg.noc.bandwidth;
    const double burst_time = std::max({engine, gm, noc});
    const double latency = p.latency_cycles * period + cfg.noc.latency_ps + cfg.gm.latency_ps;
    BOOST_TEST_MESSAGE("burst time " << burst_time << " ps, latency " << latency << " ps");
    BOOST_CHECK_EQUAL(measured, static_cast<ps_t>(latency + bursts * burst_time));
    // The figures of the tiny preset: 8 ns per 512 B burst at 64 GB/s, 75 ns of latency.
    BOOST_CHECK_EQUAL(measured, 75000u + 48u * 8000u);
}

// Back-to-back copies on one engine with a long start-up and a port slower than GM: each next
// copy's start-up overlaps the previous one's last bursts, so N copies keep the port busy from
// the first burst to the last. A wait_flag between two copies, on a flag set long before, costs
// nothing: the engine wakes within a copy's last start-up early enough that the wait runs when
// the next copy may start (a wait that ran later would return, and start that copy, at the
// later time; waking at each burst's start instead gives 3.61-3.66 us here).
BOOST_AUTO_TEST_CASE(back_to_back_copies_hide_a_long_start_up) {
    auto cfg = test::tiny({"l2.enabled=false", "gm.channels=1", "paths.gm_to_ub.latency=100",
                           "paths.gm_to_ub.bytes_per_cycle=32"});
    platform::simulation sim(cfg);
    const uint64_t bytes = 24 * 1024;
    const unsigned n = 4;
    ps_t measured = 0;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        using models::pipe_id;
        const ps_t t0 = models::now_ps();
        c.core(0).issue(pipe_id::V, models::flag_op{pipe_id::V, pipe_id::MTE2, 0, true});
        for (unsigned i = 0; i < n; ++i) {
            if (i == 1)
                c.core(0).issue(pipe_id::MTE2,
                                models::flag_op{pipe_id::V, pipe_id::MTE2, 0, false});
            c.core(0).issue_copy(
                test::copy(mem_space::gm, uint64_t(i) * bytes, mem_space::ub, 0, bytes));
        }
        c.core(0).wait_idle();
        measured = models::now_ps() - t0;
    }));
    const auto& p = cfg.aicore.path(mem_space::gm, mem_space::ub);
    const double period = 1e12 / cfg.cube_clock_hz;
    const double engine =
        std::ceil(p.burst_bytes * period / p.bytes_per_cycle) + p.burst_overhead_cycles * period;
    const double memory =
        std::max(p.burst_bytes * 1e12 / cfg.gm.bandwidth, p.burst_bytes * 1e12 / cfg.noc.bandwidth);
    const double startup = p.latency_cycles * period;
    const uint64_t bursts = n * (bytes / p.burst_bytes);
    BOOST_REQUIRE_GT(engine, memory);                           // the engine port sets the pace
    BOOST_REQUIRE_LT(startup, bytes / p.burst_bytes * engine);  // a start-up can hide
    // The last burst leaves the port after the others and then takes GM's share of its time.
    const double latency = startup + cfg.noc.latency_ps + cfg.gm.latency_ps;
    BOOST_CHECK_EQUAL(measured, static_cast<ps_t>(latency + (bursts - 1) * engine + memory));
}

// N cores streaming at once each get 1/N of GM bandwidth.
BOOST_AUTO_TEST_CASE(cores_share_gm_bandwidth) {
    auto cfg = test::tiny({"chip.cores=4", "l2.enabled=false", "buffers.l1.size=4MiB"});
    platform::simulation sim(cfg);
    const uint64_t bytes = 2 * 1024 * 1024;
    std::vector<double> per_core_bw(5, 0);  // index = number of cores streaming
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        for (unsigned n : {1u, 2u, 4u}) {
            sc_core::sc_event done;
            unsigned left = n;
            std::vector<ps_t> took(n);
            for (unsigned i = 0; i < n; ++i)
                sc_core::sc_spawn([&, i] {
                    took[i] = test::timed_copy(
                        c.core(i),
                        test::copy(mem_space::gm, uint64_t(i) * bytes, mem_space::l1, 0, bytes));
                    if (--left == 0) done.notify();
                });
            sc_core::wait(done);
            double sum = 0;
            for (ps_t t : took) sum += bytes / (t * 1e-12);
            per_core_bw[n] = sum / n;
        }
    }));
    const double gm = cfg.gm.bandwidth;
    for (unsigned n : {1u, 2u, 4u}) {
        BOOST_TEST_MESSAGE(n << " cores: " << per_core_bw[n] / 1e9 << " GB/s each");
        BOOST_CHECK_CLOSE(per_core_bw[n], gm / n, 2.0);  // within 2%: fixed latencies
    }
}

// Bursts run from the start of a transfer, so one that starts off the GM granule makes every
// burst straddle one more granule: (burst + granule) / bandwidth per burst instead of
// burst / bandwidth. Same number of bursts, measurably lower achieved bandwidth.
BOOST_AUTO_TEST_CASE(misaligned_transfer_costs_more) {
    auto cfg = test::tiny({"l2.enabled=false", "gm.channels=1"});
    platform::simulation sim(cfg);
    const uint64_t bytes = 16 * 1024;
    ps_t aligned = 0, misaligned = 0;
    uint64_t bursts_aligned = 0, bursts_misaligned = 0;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        auto& core = c.core(0);
        auto* mte2 = core.engine(models::pipe_id::MTE2);
        aligned = test::timed_copy(core, test::copy(mem_space::gm, 4096, mem_space::ub, 0, bytes));
        bursts_aligned = mte2->bursts();
        misaligned =
            test::timed_copy(core, test::copy(mem_space::gm, 65536 + 16, mem_space::ub, 0, bytes));
        bursts_misaligned = mte2->bursts() - bursts_aligned;
    }));
    const auto& p = cfg.aicore.path(mem_space::gm, mem_space::ub);
    const double period = 1e12 / cfg.cube_clock_hz;
    const double latency = p.latency_cycles * period + cfg.noc.latency_ps + cfg.gm.latency_ps;
    const uint64_t n = bytes / p.burst_bytes;
    BOOST_CHECK_EQUAL(bursts_aligned, n);
    BOOST_CHECK_EQUAL(bursts_misaligned, n);
    BOOST_CHECK_EQUAL(aligned,
                      static_cast<ps_t>(latency + n * (p.burst_bytes * 1e12 / cfg.gm.bandwidth)));
    BOOST_CHECK_EQUAL(misaligned,
                      static_cast<ps_t>(latency + n * ((p.burst_bytes + cfg.gm.access_granule) *
                                                       1e12 / cfg.gm.bandwidth)));
    const double bw_aligned = bytes / (aligned * 1e-12),
                 bw_misaligned = bytes / (misaligned * 1e-12);
    BOOST_TEST_MESSAGE("aligned " << bw_aligned / 1e9 << " GB/s, misaligned " << bw_misaligned / 1e9
                                  << " GB/s");
    BOOST_CHECK_GT(bw_aligned / bw_misaligned, 1.03);
}

// Two engines streaming from the same GM share it burst by burst: both finish together rather
// than one after the other.
BOOST_AUTO_TEST_CASE(contending_engines_interleave) {
    auto cfg = test::tiny({"l2.enabled=false", "buffers.l1.size=1MiB"});
    platform::simulation sim(cfg);
    const uint64_t bytes = 512 * 1024;
    ps_t t0 = 0, t1 = 0;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        sc_core::sc_event done;
        int left = 2;
        sc_core::sc_spawn([&] {
            t0 = test::timed_copy(c.core(0), test::copy(mem_space::gm, 0, mem_space::l1, 0, bytes));
            if (--left == 0) done.notify();
        });
        sc_core::sc_spawn([&] {
            t1 = test::timed_copy(c.core(1),
                                  test::copy(mem_space::gm, 1 << 20, mem_space::l1, 0, bytes));
            if (--left == 0) done.notify();
        });
        sc_core::wait(done);
    }));
    BOOST_TEST_MESSAGE("core0 " << t0 << " ps, core1 " << t1 << " ps");
    // The dispatcher books the two engines' bursts in order of start (ties: the lower core), so
    // the two finish within a burst or two of each other.
    const double burst = 512 * 1e12 / cfg.gm.bandwidth;
    BOOST_CHECK_LE(std::abs(double(t0) - double(t1)), 2 * burst);
    // Together they move 1 MiB at the GM's bandwidth.
    BOOST_CHECK_CLOSE(double(std::max(t0, t1)), 2.0 * bytes * 1e12 / cfg.gm.bandwidth, 2.0);
}

// Host link copies: latency + bursts x burst time on an idle link, and the bytes arrive.
BOOST_AUTO_TEST_CASE(host_link_copy_time_and_data) {
    auto cfg = test::tiny({"l2.enabled=false"});
    platform::simulation sim(cfg);
    std::vector<uint8_t> src(64 * 1024), back(src.size());
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 7 + 3);
    ps_t took = 0;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        const ps_t t0 = models::now_ps();
        c.host().to_device(4096, src.data(), src.size());
        took = models::now_ps() - t0;
        c.host().to_host(back.data(), 4096, back.size());
    }));
    BOOST_CHECK(src == back);
    // The link is the slowest stage; what follows it (GM's occupancy plus NoC and GM latency)
    // overlaps with the link unless it is longer than a link burst. A link burst is cut at the
    // channel interleave, and its pieces land on different channels at once.
    const double burst = cfg.host_link.burst_bytes * 1e12 / cfg.host_link.bandwidth;
    const double piece = std::min<double>(cfg.host_link.burst_bytes, cfg.gm.interleave_bytes);
    const double gm_tail = piece * 1e12 / (cfg.gm.bandwidth / cfg.gm.channels) +
                           cfg.noc.latency_ps + cfg.gm.latency_ps;
    const double expect = double(src.size() / cfg.host_link.burst_bytes) * burst +
                          std::max(0.0, gm_tail - burst) + cfg.host_link.latency_ps;
    BOOST_CHECK_CLOSE(double(took), expect, 0.01);
}

// Arbitration by arrival time: a late 512 B copy while another core streams is served in the
// gaps the stream leaves on every shared stage (one core's stream saturates none of them on the
// 910), so it finishes within one burst service time (the slowest stage's occupancy of one
// burst, a GM channel's) of the same copy on an idle chip.
// The dispatcher books the bursts of all its clients in order of start (ties: the lower
// client), whatever order they were registered in, each at the start of its window or before
// it when no other thread is due until then, so never after the burst's start. A burst
// registered after its window was booked is booked at once and counted as late.
BOOST_AUTO_TEST_CASE(dispatcher_books_in_order_of_start) {
    struct booking {
        unsigned client;
        ps_t start, at;
        bool operator==(const booking& o) const {
            return client == o.client && start == o.start && at == o.at;
        }
    };
    std::vector<booking> booked;
    struct client : models::burst_client {
        unsigned id = 0;
        std::deque<ps_t> starts;
        std::vector<booking>* out = nullptr;
        ps_t commit_next() override {
            out->push_back({id, starts.front(), models::now_ps()});
            starts.pop_front();
            return starts.empty() ? 0 : starts.front();
        }
        void bursts_committed(ps_t) override {}
        bool wakes_at(ps_t) const override { return false; }
    };
    const ps_t ns = 1000;
    models::burst_dispatcher d("dispatcher", 10 * ns);
    client a, b;
    a.id = d.add_client(a);
    b.id = d.add_client(b);
    a.out = b.out = &booked;
    auto post = [&](client& c, ps_t start) {
        c.starts.push_back(start);
        d.post(start, c.id);
    };
    uint64_t late_before = 0;
    sc_core::sc_spawn([&] {
        post(b, 25 * ns);  // b registers first, but a's first burst starts earlier
        post(b, 31 * ns);
        post(a, 12 * ns);
        post(a, 25 * ns);
        sc_core::wait(sc_core::sc_time(15, sc_core::SC_NS));  // [10, 20) is booked
        post(b, 40 * ns);
        post(a, 40 * ns);
        sc_core::wait(sc_core::sc_time(30, sc_core::SC_NS));  // at 45: [40, 50) is booked
        late_before = d.late();
        post(a, 46 * ns);  // too late for its window: booked at once
    });
    sc_core::sc_start();
    // [30, 40) and [40, 50) are booked at 20: nothing else runs before 45.
    const std::vector<booking> expected = {{a.id, 12 * ns, 10 * ns}, {a.id, 25 * ns, 20 * ns},
                                           {b.id, 25 * ns, 20 * ns}, {b.id, 31 * ns, 20 * ns},
                                           {a.id, 40 * ns, 20 * ns}, {b.id, 40 * ns, 20 * ns},
                                           {a.id, 46 * ns, 45 * ns}};
    BOOST_REQUIRE_EQUAL(booked.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i)
        BOOST_CHECK_MESSAGE(booked[i] == expected[i],
                            "booking " << i << ": client " << booked[i].client << " start "
                                       << booked[i].start << " at " << booked[i].at);
    BOOST_CHECK_EQUAL(late_before, 0u);
    BOOST_CHECK_EQUAL(d.late(), 1u);
}

// A window booked before its start wakes its waiting client at that start, as a window booked at
// its start would: the bookings need no SystemC wait, the waiter's wake-up does.
BOOST_AUTO_TEST_CASE(dispatcher_booking_ahead_wakes_a_waiter_at_the_window_start) {
    struct client : models::burst_client {
        std::deque<ps_t> starts;
        std::vector<std::pair<ps_t, ps_t>> booked, committed;  // (start or window, at)
        ps_t waits_for = 0;
        ps_t commit_next() override {
            booked.push_back({starts.front(), models::now_ps()});
            starts.pop_front();
            return starts.empty() ? 0 : starts.front();
        }
        void bursts_committed(ps_t window) override {
            committed.push_back({window, models::now_ps()});
        }
        bool wakes_at(ps_t window) const override { return window == waits_for; }
    } a;
    const ps_t ns = 1000;
    models::burst_dispatcher d("dispatcher", 10 * ns);
    const unsigned id = d.add_client(a);
    a.waits_for = 30 * ns;
    sc_core::sc_spawn([&] {
        for (ps_t t : {12 * ns, 35 * ns}) {
            a.starts.push_back(t);
            d.post(t, id);
        }
        sc_core::wait(sc_core::sc_time(100, sc_core::SC_NS));  // nothing else is due before
    });
    sc_core::sc_start();
    const std::vector<std::pair<ps_t, ps_t>> booked = {{12 * ns, 10 * ns}, {35 * ns, 10 * ns}};
    const std::vector<std::pair<ps_t, ps_t>> committed = {{10 * ns, 10 * ns}, {30 * ns, 30 * ns}};
    BOOST_CHECK(a.booked == booked);
    BOOST_CHECK(a.committed == committed);
}

// Many clients (the dispatcher's heap several levels deep, with a last parent of one child):
// every burst registered ahead is booked in order of (start, client), as a sort of all of them.
BOOST_AUTO_TEST_CASE(dispatcher_orders_many_clients_like_a_sort) {
    struct client : models::burst_client {
        unsigned id = 0;
        std::deque<ps_t> starts;
        std::vector<std::pair<ps_t, unsigned>>* out = nullptr;
        ps_t commit_next() override {
            out->push_back({starts.front(), id});
            starts.pop_front();
            return starts.empty() ? 0 : starts.front();
        }
        void bursts_committed(ps_t) override {}
        bool wakes_at(ps_t) const override { return false; }
    };
    const ps_t ns = 1000;
    models::burst_dispatcher d("dispatcher", 10 * ns);
    std::vector<client> clients(37);
    std::vector<std::pair<ps_t, unsigned>> booked, expected;
    for (auto& c : clients) {
        c.id = d.add_client(c);
        c.out = &booked;
    }
    std::mt19937_64 rng(7);
    for (auto& c : clients) {  // ties within and across clients are common: starts on a 5 ns grid
        ps_t t = 0;
        for (int i = 0, n = int(rng() % 12); i < n; ++i) {
            t += (rng() % 8) * 5 * ns;
            c.starts.push_back(t);
            expected.push_back({t, c.id});
        }
    }
    sc_core::sc_spawn([&] {
        for (auto& c : clients)
            for (ps_t t : c.starts) d.post(t, c.id);
    });
    sc_core::sc_start();
    std::sort(expected.begin(), expected.end());
    BOOST_CHECK(booked == expected);
    BOOST_CHECK_EQUAL(d.late(), 0u);
}

// A start past what the dispatcher's keys hold (2^64 ps over the clients' index bits: 2^62 ps,
// about 53 days of simulated time, with three clients) is a model fault, not a wrong order.
BOOST_AUTO_TEST_CASE(dispatcher_refuses_a_start_it_cannot_order) {
    struct client : models::burst_client {
        ps_t commit_next() override { return 0; }
        void bursts_committed(ps_t) override {}
        bool wakes_at(ps_t) const override { return false; }
    } a, b, c;
    models::burst_dispatcher d("dispatcher", 1000);
    d.add_client(a);
    d.add_client(b);
    const unsigned id = d.add_client(c);
    BOOST_CHECK_EXCEPTION(d.post(ps_t{1} << 62, id), models::model_fault,
                          [](const models::model_fault& f) {
                              return std::string(f.what()).find("dispatcher") != std::string::npos;
                          });
}

// The chip's window is the shortest GM start-up or round trip (computed here from the preset),
// and with it no burst of 32 cores streaming is registered too late for its window.
BOOST_AUTO_TEST_CASE(dispatcher_window_keeps_every_burst_in_order) {
    auto cfg = platform::load_platform("ascend910");
    cfg.set_timing_only();
    const double period = 1e12 / cfg.cube_clock_hz;
    ps_t startup = ~ps_t{0};
    for (mem_space s : {mem_space::gm, mem_space::l1, mem_space::l0a, mem_space::l0b,
                        mem_space::l0c, mem_space::ub})
        for (mem_space t : {mem_space::gm, mem_space::l1, mem_space::l0a, mem_space::l0b,
                            mem_space::l0c, mem_space::ub}) {
            const auto& p = cfg.aicore.path(s, t);
            if (p.present() && (s == mem_space::gm || t == mem_space::gm))
                startup = std::min(startup, static_cast<ps_t>(p.latency_cycles * period));
        }
    const ps_t round_trip =
        cfg.noc.latency_ps +
        std::min(cfg.l2.hit_latency_ps, cfg.l2.miss_latency_ps + cfg.gm.latency_ps);
    platform::simulation sim(cfg);
    ps_t window = 0;
    uint64_t late = 1;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto& ops) {
        BOOST_CHECK_EQUAL(platform::run_dma_stream(c, {}, ops), "");
        window = c.dispatcher().window();
        late = c.dispatcher().late();
    }),
                          sim.error());
    BOOST_TEST_MESSAGE("start-up " << startup << " ps, round trip " << round_trip << " ps");
    BOOST_CHECK_EQUAL(window, std::min(startup, round_trip));
    BOOST_CHECK_EQUAL(late, 0u);
}

BOOST_AUTO_TEST_CASE(late_copy_is_not_queued_behind_a_stream) {
    auto cfg = platform::load_platform("ascend910");
    platform::simulation sim(cfg);
    ps_t idle = 0, late = 0, stream = 0;
    const uint64_t stream_bytes = 512 * 1024;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        // Different GM lines for every copy, so each one misses L2 the same way.
        idle =
            test::timed_copy(c.core(0), test::copy(mem_space::gm, 64 << 20, mem_space::ub, 0, 512));
        sc_core::sc_event done;
        sc_core::sc_spawn([&] {
            stream = test::timed_copy(c.core(1),
                                      test::copy(mem_space::gm, 0, mem_space::l1, 0, stream_bytes));
            done.notify();
        });
        sc_core::wait(sc_core::sc_time(500, sc_core::SC_NS));  // well inside the stream
        late = test::timed_copy(c.core(0),
                                test::copy(mem_space::gm, 96 << 20, mem_space::ub, 4096, 512));
        sc_core::wait(done);
    }));
    const double channel_burst = 512 * 1e12 / (cfg.gm.bandwidth / cfg.gm.channels);
    BOOST_TEST_MESSAGE("idle " << idle << " ps, late " << late << " ps, stream " << stream
                               << " ps, burst service " << channel_burst << " ps");
    BOOST_CHECK_GT(stream, 500000u + late);  // the late copy really ran during the stream
    BOOST_CHECK_LE(double(late), double(idle) + channel_burst);
}

// A write to GM is posted: the pipe is done when the engine's write buffer takes each burst,
// so the instruction costs the path's start-up + bursts x engine occupancy, whatever GM's
// latency; the bytes still reach GM.
BOOST_AUTO_TEST_CASE(posted_write_costs_its_closed_form) {
    auto cfg = test::tiny({"l2.enabled=false", "gm.latency=2us"});
    platform::simulation sim(cfg);
    const uint64_t bytes = 2048;
    ps_t took = 0;
    uint64_t gm_written = 0;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        took = test::timed_copy(c.core(0), test::copy(mem_space::ub, 0, mem_space::gm, 0, bytes));
        sc_core::wait(sc_core::sc_time(5, sc_core::SC_US));
        gm_written = c.gm().write_bytes();
    }));
    const auto& p = cfg.aicore.path(mem_space::ub, mem_space::gm);
    const ps_t period = ps_t(1e12 / cfg.cube_clock_hz);
    const uint64_t bursts = bytes / p.burst_bytes;
    const ps_t engine = ps_t(std::ceil(p.burst_bytes * double(period) / p.bytes_per_cycle)) +
                        p.burst_overhead_cycles * period;
    BOOST_CHECK_LE(bytes, cfg.aicore.dma.write_buffer);
    BOOST_CHECK_EQUAL(took, p.latency_cycles * period + bursts * engine);
    BOOST_CHECK_LT(took, cfg.gm.latency_ps);  // GM's 2 us is not paid by the pipe
    BOOST_CHECK_EQUAL(gm_written, bytes);
}

// The system DMA pipelines its reads and writes, and its 4 KiB bursts spread over the GM
// channels: a 64 MiB device-to-device copy runs at >= 90% of min(SDMA, GM bandwidth / 2) (a
// copy reads and writes GM).
// The dispatcher books the SDMA's and the host link's bursts; a rejected one stops its copy
// with a model fault that names the engine and the runtime call, in the calling thread, and
// the engine copies again afterwards (the fault belongs to the copy).
BOOST_AUTO_TEST_CASE(sdma_and_host_link_report_a_rejected_burst) {
    const auto cfg = test::tiny();
    platform::simulation sim(cfg);
    std::string sdma_fault, host_fault;
    std::vector<uint8_t> buf(8192, 7), back(4096);
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        const uint64_t last = cfg.gm.capacity - 4096;  // the second burst runs past GM
        try {
            c.sdma().copy(0, last, 8192);
        } catch (const models::model_fault& f) {
            sdma_fault = f.what();
        }
        try {
            c.host().to_device(last, buf.data(), 8192);
        } catch (const models::model_fault& f) {
            host_fault = f.what();
        }
        c.host().to_device(0, buf.data(), 4096);
        c.sdma().copy(4096, 0, 4096);
        c.host().to_host(back.data(), 4096, 4096);
    }),
                          sim.error());
    const auto names = [](const std::string& what, const char* unit, const char* call) {
        return what.find(unit) != std::string::npos && what.find(call) != std::string::npos &&
               what.find("rejected") != std::string::npos;
    };
    BOOST_CHECK_MESSAGE(names(sdma_fault, "sdma", "memcpy D2D"), sdma_fault);
    BOOST_CHECK_MESSAGE(names(host_fault, "host_link", "memcpy H2D"), host_fault);
    BOOST_CHECK(back == std::vector<uint8_t>(4096, 7));
}

BOOST_AUTO_TEST_CASE(sdma_copy_reaches_its_bandwidth) {
    auto cfg = platform::load_platform("ascend910");
    cfg.set_timing_only();
    platform::simulation sim(cfg);
    const uint64_t bytes = 64ull << 20;
    ps_t took = 0;
    BOOST_REQUIRE(sim.run([&](platform::chip& c, auto&) {
        const ps_t t0 = models::now_ps();
        c.sdma().copy(1ull << 30, 0, bytes);
        took = models::now_ps() - t0;
    }));
    const double achieved = bytes / (took * 1e-12);
    const double peak = std::min(cfg.sdma.bandwidth, cfg.gm.bandwidth / 2);
    BOOST_TEST_MESSAGE("SDMA copy " << achieved / 1e9 << " GB/s of " << peak / 1e9 << " GB/s");
    BOOST_CHECK_GE(achieved, 0.9 * peak);
}

BOOST_AUTO_TEST_SUITE_END()
