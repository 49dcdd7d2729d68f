// Pipe timing: issue interval vs latency, flags waiting for completion, and the cube's and
// vector unit's traffic through the buffer bank model. Every expected number is a closed form
// of the config values set here (tiny preset, 1 GHz: one cycle = 1000 ps).
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <boost/test/unit_test.hpp>
#include <systemc>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/test_util.h"

using namespace npusim;
using models::dtype;
using models::kernel_kind;
using models::mem_space;
using models::pipe_id;
using models::ps_t;

namespace {

constexpr ps_t k_cycle = 1000;  // tiny runs at 1 GHz

using block_body = std::function<void(models::ai_core&)>;

models::launch_record run_block(platform::chip& c, const block_body& body,
                                kernel_kind kind = kernel_kind::cube) {
    return c.scheduler().launch("t", 1, kind,
                                [&](models::ai_core& core, unsigned, unsigned) { body(core); });
}

ps_t block_time(const models::launch_record& r) {
    return r.blocks.at(0).end - r.blocks.at(0).start;
}

/// dst = src + 1 on fp32, `repeats` x 256 contiguous bytes.
models::vector_op vadds(uint64_t dst, uint64_t src, uint32_t repeats) {
    models::vector_op v;
    v.op = models::vec_opcode::adds;
    v.type = v.dst_type = dtype::fp32;
    v.dst = dst;
    v.src0 = v.src1 = src;
    v.scalar = 1;
    v.repeats = repeats;
    return v;
}

models::mmad_op mmad(uint32_t m, uint32_t k, uint32_t n) {
    models::mmad_op op;
    op.m = m;
    op.k = k;
    op.n = n;
    op.c = 0;
    op.a = 0;
    op.b = 0;
    return op;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pipe_timing)

// n back-to-back independent vector ops: each holds V for max(issue, work) cycles and the last
// completes latency cycles after its issue, so the block takes n * max(issue, work) + latency.
// Source (bank 0) and destination (bank 1) never meet a conflict: each op's bank time
// (repeats x 256 B at 256 B/cycle) fits in its own occupancy. UB counts every byte.
BOOST_AUTO_TEST_CASE(back_to_back_vector_ops_cost_max_issue_work) {
    const uint64_t issue = 6, latency = 5, n = 8;
    auto cfg = test::tiny(
        {"vector.issue_cycles=6", "vector.latency=5", "vector.cycles_per_repeat.simple=1"});
    platform::simulation sim(cfg);
    struct result {
        ps_t block, busy;
        double read, write;
    };
    std::vector<result> got;
    const std::vector<uint32_t> repeats = {2, 10};  // work 2 < issue 6; work 10 > issue 6
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        models::pipe* v = c.core(0).get_pipe(pipe_id::V);
        const auto& ub = *c.core(0).buffer(mem_space::ub);
        for (uint32_t r : repeats) {
            const ps_t busy0 = v->busy_ps();
            const auto s0 = test::stats_of(ub);
            const auto rec = run_block(
                c,
                [&](models::ai_core& k) {
                    for (uint64_t i = 0; i < n; ++i) k.issue(pipe_id::V, vadds(0x1000, 0, r));
                },
                kernel_kind::vector);
            BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
            const auto s1 = test::stats_of(ub);
            got.push_back({block_time(rec), v->busy_ps() - busy0,
                           s1.at("read_bytes") - s0.at("read_bytes"),
                           s1.at("write_bytes") - s0.at("write_bytes")});
            BOOST_CHECK_EQUAL(s1.at("bank_conflicts"), s0.at("bank_conflicts"));
        }
    }),
                          sim.error());
    BOOST_REQUIRE_EQUAL(got.size(), 2u);
    for (size_t i = 0; i < repeats.size(); ++i) {
        const uint64_t occ = std::max<uint64_t>(issue, repeats[i]);
        BOOST_CHECK_EQUAL(got[i].block, (n * occ + latency) * k_cycle);
        BOOST_CHECK_EQUAL(got[i].busy, n * occ * k_cycle);
        BOOST_CHECK_EQUAL(got[i].read, double(n * repeats[i] * 256));
        BOOST_CHECK_EQUAL(got[i].write, double(n * repeats[i] * 256));
    }
    // Spot values: 8 x 6 + 5 = 53 cycles (issue bound); 8 x 10 + 5 = 85 cycles (work bound).
    BOOST_CHECK_EQUAL(got[0].block, 53u * k_cycle);
    BOOST_CHECK_EQUAL(got[1].block, 85u * k_cycle);
}

// The same for mmads: max(issue, fractals) per mmad, + latency once. L0A, L0B and L0C count
// their operand bytes (no accumulate: L0C is only written).
BOOST_AUTO_TEST_CASE(back_to_back_mmads_cost_max_issue_work) {
    const uint64_t issue = 6, latency = 7, n = 5;
    auto cfg = test::tiny({"cube.issue_cycles=6", "cube.latency=7"});
    platform::simulation sim(cfg);
    struct shape {
        uint32_t m, k, n;
        uint64_t fractals;
    };
    const std::vector<shape> shapes = {{16, 16, 16, 1}, {32, 32, 32, 8}};
    std::vector<std::vector<double>> got;  // block, busy, l0a read, l0b read, l0c write
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        auto& core = c.core(0);
        models::pipe* m = core.get_pipe(pipe_id::M);
        for (const shape& s : shapes) {
            const ps_t busy0 = m->busy_ps();
            const auto a0 = test::stats_of(*core.buffer(mem_space::l0a));
            const auto b0 = test::stats_of(*core.buffer(mem_space::l0b));
            const auto c0 = test::stats_of(*core.buffer(mem_space::l0c));
            const auto rec = run_block(c, [&](models::ai_core& k) {
                for (uint64_t i = 0; i < n; ++i) k.issue(pipe_id::M, mmad(s.m, s.k, s.n));
            });
            BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
            const auto a1 = test::stats_of(*core.buffer(mem_space::l0a));
            const auto b1 = test::stats_of(*core.buffer(mem_space::l0b));
            const auto c1 = test::stats_of(*core.buffer(mem_space::l0c));
            got.push_back({double(block_time(rec)), double(m->busy_ps() - busy0),
                           a1.at("read_bytes") - a0.at("read_bytes"),
                           b1.at("read_bytes") - b0.at("read_bytes"),
                           c1.at("write_bytes") - c0.at("write_bytes"),
                           c1.at("read_bytes") - c0.at("read_bytes")});
        }
    }),
                          sim.error());
    BOOST_REQUIRE_EQUAL(got.size(), 2u);
    for (size_t i = 0; i < shapes.size(); ++i) {
        const shape& s = shapes[i];
        const uint64_t occ = std::max<uint64_t>(issue, s.fractals);
        BOOST_CHECK_EQUAL(got[i][0], double((n * occ + latency) * k_cycle));
        BOOST_CHECK_EQUAL(got[i][1], double(n * occ * k_cycle));
        BOOST_CHECK_EQUAL(got[i][2], double(n * s.m * s.k * 2));  // fp16 A
        BOOST_CHECK_EQUAL(got[i][3], double(n * s.k * s.n * 2));  // fp16 B
        BOOST_CHECK_EQUAL(got[i][4], double(n * s.m * s.n * 4));  // fp32 C
        BOOST_CHECK_EQUAL(got[i][5], 0.0);
    }
    BOOST_CHECK_EQUAL(got[0][0], double((5 * 6 + 7) * k_cycle));  // issue bound
    BOOST_CHECK_EQUAL(got[1][0], double((5 * 8 + 7) * k_cycle));  // work bound
}

// An accumulating mmad reads and writes its L0C result.
BOOST_AUTO_TEST_CASE(accumulating_mmad_reads_and_writes_l0c) {
    auto cfg = test::tiny();
    platform::simulation sim(cfg);
    double rd = 0, wr = 0;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        const auto& l0c = *c.core(0).buffer(mem_space::l0c);
        const auto s0 = test::stats_of(l0c);
        run_block(c, [&](models::ai_core& k) {
            auto op = mmad(32, 16, 48);
            op.accumulate = true;
            k.issue(pipe_id::M, op);
        });
        const auto s1 = test::stats_of(l0c);
        rd = s1.at("read_bytes") - s0.at("read_bytes");
        wr = s1.at("write_bytes") - s0.at("write_bytes");
    }),
                          sim.error());
    BOOST_CHECK_EQUAL(rd, 32.0 * 48 * 4);
    BOOST_CHECK_EQUAL(wr, 32.0 * 48 * 4);
}

// set_flag waits for the completion of the pipe's earlier work and holds the pipe until then:
// op; set_flag; op costs 2 * (occ + latency), against 2 * occ + latency without the flag
// (the second op overlaps the first one's latency).
BOOST_AUTO_TEST_CASE(set_flag_waits_for_completion) {
    const uint64_t occ = 6, latency = 9;
    auto cfg = test::tiny({"vector.issue_cycles=6", "vector.latency=9"});
    platform::simulation sim(cfg);
    ps_t with_flag = 0, without = 0, flag_seen = 0;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        const auto rec = run_block(
            c,
            [&](models::ai_core& k) {
                k.issue(pipe_id::V, vadds(0x1000, 0, 1));
                k.issue(pipe_id::V, models::flag_op{pipe_id::V, pipe_id::MTE3, 0, true});
                k.issue(pipe_id::V, vadds(0x3000, 0x2000, 1));
                k.issue(pipe_id::MTE3, models::flag_op{pipe_id::V, pipe_id::MTE3, 0, false});
                k.issue(pipe_id::MTE3, models::flag_op{pipe_id::MTE3, pipe_id::V, 1, true});
                k.issue(pipe_id::V, models::flag_op{pipe_id::MTE3, pipe_id::V, 1, false});
            },
            kernel_kind::vector);
        BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
        with_flag = block_time(rec);
        flag_seen = c.core(0).get_pipe(pipe_id::MTE3)->complete();
        without = block_time(run_block(
            c,
            [&](models::ai_core& k) {
                k.issue(pipe_id::V, vadds(0x1000, 0, 1));
                k.issue(pipe_id::V, vadds(0x3000, 0x2000, 1));
            },
            kernel_kind::vector));
    }),
                          sim.error());
    BOOST_CHECK_EQUAL(with_flag, 2 * (occ + latency) * k_cycle);
    BOOST_CHECK_EQUAL(without, (2 * occ + latency) * k_cycle);
    // MTE3 passed its wait then (the block started one kernel dispatch in).
    BOOST_CHECK_EQUAL(flag_seen, cfg.kernel_dispatch_ps + (occ + latency) * k_cycle);
}

// An mmad whose L0A bank is held by an MTE1 write (booked on the buffer the way the DMA
// engines book a burst: tiny's L0A is one bank at 256 B/cycle, 4 KiB = 16 cycles) starts when
// the bank is free: the block takes 16 + max(issue, 1) + latency cycles, and the conflict is
// counted.
BOOST_AUTO_TEST_CASE(mmad_waits_for_l0a_bank_held_by_mte1_write) {
    auto cfg = test::tiny({"cube.issue_cycles=3", "cube.latency=2"});
    BOOST_REQUIRE_EQUAL(cfg.numbers.at("buffers.l0a.banks"), 1.0);
    BOOST_REQUIRE_EQUAL(cfg.numbers.at("buffers.l0a.bank_bytes_per_cycle"), 256.0);
    platform::simulation sim(cfg);
    ps_t t = 0, idle = 0;
    double conflicts = 0;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        auto& l0a = *c.core(0).buffer(mem_space::l0a);
        idle = block_time(
            run_block(c, [&](models::ai_core& k) { k.issue(pipe_id::M, mmad(16, 16, 16)); }));
        const double c0 = test::stats_of(l0a).at("bank_conflicts");
        const auto rec = run_block(c, [&](models::ai_core& k) {
            l0a.book(true, 0x2000, 4096, models::now_ps());
            k.issue(pipe_id::M, mmad(16, 16, 16));
        });
        t = block_time(rec);
        conflicts = test::stats_of(l0a).at("bank_conflicts") - c0;
    }),
                          sim.error());
    BOOST_CHECK_EQUAL(idle, (3 + 2) * k_cycle);
    BOOST_CHECK_EQUAL(t, (16 + 3 + 2) * k_cycle);
    BOOST_CHECK_EQUAL(conflicts, 1.0);
}

// A vector op's read slips between DMA bursts booked on its bank before it: tiny's UB bank 0
// (4 KiB, 256 B/cycle) holds 512-byte bursts (2 cycles) from cycles 4, 10 and 16 after the
// block's start; the op reads 4 KiB there (16 cycles within its 16-cycle occupancy) in the gaps
// [0, 4), [6, 10), [12, 16) and [18, 22), so it starts 3 x 2 cycles late (waiting for a gap
// of 16 cycles it would start at cycle 18), and the conflict is counted once.
BOOST_AUTO_TEST_CASE(vector_read_slips_between_dma_bursts) {
    auto cfg = test::tiny({"vector.latency=3"});
    platform::simulation sim(cfg);
    ps_t idle = 0, t = 0;
    double conflicts = 0;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        auto& ub = *c.core(0).buffer(mem_space::ub);
        const auto op = [](models::ai_core& k) { k.issue(pipe_id::V, vadds(0x1000, 0, 16)); };
        idle = block_time(run_block(c, op, kernel_kind::vector));
        const double c0 = test::stats_of(ub).at("bank_conflicts");
        t = block_time(run_block(
            c,
            [&](models::ai_core& k) {
                for (ps_t at : {4, 10, 16})
                    ub.book(true, 0x200, 512, models::now_ps() + at * k_cycle);
                op(k);
            },
            kernel_kind::vector));
        conflicts = test::stats_of(ub).at("bank_conflicts") - c0;
    }),
                          sim.error());
    BOOST_CHECK_EQUAL(idle, (16 + 3) * k_cycle);
    BOOST_CHECK_EQUAL(t, (3 * 2 + 16 + 3) * k_cycle);
    BOOST_CHECK_EQUAL(conflicts, 1.0);
}

// Vector ops reading a UB bank that a real MTE2 copy writes: 40 back-to-back ops of 16 repeats
// read bank 0 without a gap (each books 16 bank cycles within its 16-cycle occupancy) for
// longer than the copy takes, so whichever of the copy's bursts and the ops arrives second
// waits: conflicts are counted and the block ends later than either alone. UB counts the
// copy's and the ops' bytes.
BOOST_AUTO_TEST_CASE(vector_ops_conflict_with_dma_into_ub) {
    const uint64_t n = 40;
    auto cfg = test::tiny({"l2.enabled=false"});
    platform::simulation sim(cfg);
    ps_t vec = 0, dma = 0, both = 0;
    double conflicts = 0, written = 0, read = 0;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        const auto& ub = *c.core(0).buffer(mem_space::ub);
        const auto copy = test::copy(mem_space::gm, 0, mem_space::ub, 0, 4096);  // bank 0
        const auto ops = [&](models::ai_core& k) {
            for (uint64_t i = 0; i < n; ++i) k.issue(pipe_id::V, vadds(0x1000, 0, 16));
        };
        vec = block_time(run_block(c, ops, kernel_kind::vector));
        dma = block_time(run_block(c, [&](models::ai_core& k) { k.issue(pipe_id::MTE2, copy); }));
        const auto s0 = test::stats_of(ub);
        both = block_time(run_block(
            c,
            [&](models::ai_core& k) {
                k.issue(pipe_id::MTE2, copy);
                ops(k);
            },
            kernel_kind::vector));
        const auto s1 = test::stats_of(ub);
        conflicts = s1.at("bank_conflicts") - s0.at("bank_conflicts");
        written = s1.at("write_bytes") - s0.at("write_bytes");
        read = s1.at("read_bytes") - s0.at("read_bytes");
    }),
                          sim.error());
    BOOST_TEST_MESSAGE("ops alone " << vec << " ps, copy alone " << dma << " ps, together " << both
                                    << " ps");
    BOOST_REQUIRE_GT(vec, dma);  // the ops cover the whole copy
    BOOST_CHECK_GT(conflicts, 0.0);
    BOOST_CHECK_GT(both, vec);
    BOOST_CHECK_EQUAL(written, 4096.0 + n * 16 * 256);
    BOOST_CHECK_EQUAL(read, n * 16.0 * 256);
}

// The keys issue and latency replaced are errors that name the replacement, in a file and in
// --set.
BOOST_AUTO_TEST_CASE(removed_overhead_keys_name_their_replacement) {
    const auto error_of = [](const std::function<void()>& f) -> std::string {
        try {
            f();
        } catch (const platform::config_error& e) {
            return e.what();
        }
        return "";
    };
    const std::string file = error_of([] {
        platform::load_platform_text("schema: npusim.platform/1\ncube:\n  overhead_cycles: 8\n",
                                     "old.yaml");
    });
    BOOST_TEST_MESSAGE(file);
    BOOST_CHECK(file.find("old.yaml:3") != std::string::npos);
    BOOST_CHECK(file.find("cube.overhead_cycles") != std::string::npos);
    BOOST_CHECK(file.find("cube.issue_cycles and cube.latency") != std::string::npos);
    const std::string set =
        error_of([] { platform::load_platform("tiny", {"vector.overhead_cycles=4"}); });
    BOOST_TEST_MESSAGE(set);
    BOOST_CHECK(set.find("--set vector.overhead_cycles=4") != std::string::npos);
    BOOST_CHECK(set.find("vector.issue_cycles and vector.latency") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
