// The error text of every misuse the kernel API and the core reject: each names what is wrong
// and where (core, pipe, instruction, address or buffer).
#include <boost/test/unit_test.hpp>
#include <systemc>

#include <functional>
#include <stdexcept>
#include <string>

#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "sw/kernel/launch.h"

using namespace npusim;
using kernel::half;
using kernel::kernel_context;
using kernel::position;
using models::mem_space;
using models::pipe_id;

namespace {

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

/// Runs a one-block kernel and returns its fault text ("" if none).
std::string fault_of(platform::chip& chip, models::kernel_kind kind,
                     const kernel::kernel_fn& body) {
    return kernel::launch(chip, "t", 1, kind, body).fault;
}

struct expectation {
    std::string what;
    std::function<void(kernel_context&)> body;
    std::vector<std::string> texts;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(kernel_errors)

BOOST_AUTO_TEST_CASE(each_misuse_names_its_cause) {
    auto cfg = platform::load_platform("tiny");
    platform::simulation sim(cfg);
    const uint64_t l1_size = cfg.aicore.buffer(mem_space::l1).size;
    models::dma_request gm_ub;
    gm_ub.src_space = mem_space::gm;
    gm_ub.dst_space = mem_space::ub;
    gm_ub.row_bytes = 512;
    const std::vector<expectation> cases = {
        {"alloc beyond UB",
         [](kernel_context& c) { c.alloc<half>(position::VECIN, 1 << 20); },
         {"cannot allocate 2097152 bytes at VECIN in UB", "of 32768 bytes left"}},
        {"event ids exhausted",
         [](kernel_context& c) {
             for (int i = 0; i < 9; ++i) c.alloc_event_id(pipe_id::MTE2, pipe_id::V);
         },
         {"no event id left for MTE2->V (the chip has 8 per pipe pair)"}},
        {"vector operand in L1",
         [](kernel_context& c) {
             auto l1 = c.alloc<half>(position::A1, 128);
             c.add(l1, l1, l1, 128);
         },
         {"add: operand dst is at A1 (L1); vector operands must be in UB"}},
        {"reduce with a non-reduction",
         [](kernel_context& c) {
             auto ub = c.alloc<half>(position::VECIN, 256);
             c.reduce(models::vec_opcode::add, ub, ub, 256);
         },
         {"reduce: add is not a reduction"}},
        {"group reduce over a partial group",
         [](kernel_context& c) {
             auto ub = c.alloc<half>(position::VECIN, 256);
             c.reduce(models::vec_opcode::group_sum, ub, ub, 100);
         },
         {"group_sum: 100 elements is not a multiple of its run of 16"}},
        {"load_a from UB",
         [](kernel_context& c) {
             auto ub = c.alloc<half>(position::VECIN, 256);
             auto a2 = c.alloc<half>(position::A2, 256);
             c.load_a(a2, ub, 16, 0, 0, 16, 16);
         },
         {"load_a: operand src is at VECIN; it must be in L1 (A1/B1)"}},
        {"nz2nd on GM->UB",
         [&](kernel_context& c) {
             auto r = gm_ub;
             r.conv = models::layout_conv::nz2nd;
             c.core().issue(pipe_id::MTE2, r);
         },
         {"pipe MTE2", "nz2nd conversion is only done on the L0C->GM path",
          "copy GM[0x0]->UB[0x0]"}},
        {"nz2zz on GM->UB",
         [&](kernel_context& c) {
             auto r = gm_ub;
             r.conv = models::layout_conv::nz2zz;
             c.core().issue(pipe_id::MTE2, r);
         },
         {"nz2zz loads are only done on the L1->L0A path"}},
        {"cast on GM->UB",
         [&](kernel_context& c) {
             auto r = gm_ub;
             r.dst_type = models::dtype::fp32;
             c.core().issue(pipe_id::MTE2, r);
         },
         {"element casts are only done on the way out of L0C"}},
        {"sub-block off a column block",
         [](kernel_context& c) {
             auto a1 = c.alloc<half>(position::A1, 32 * 32);
             auto a2 = c.alloc<half>(position::A2, 256);
             c.load_a(a2, a1, 32, 0, 8, 16, 16);
         },
         {"sub-block must start on a column block and lie within nz_rows"}},
        {"nd2nz past the end of L1",
         [&](kernel_context& c) {
             c.copy_nd2nz(kernel::local_tensor<half>{position::A1, l1_size - 512, 256},
                          kernel::global_tensor<half>{0, 32 * 16}, 32, 16, 16);
         },
         {"write of 32 bytes at L1[0x10000] is outside the buffer (0x10000 bytes)"}},
        {"barrier on the scalar pipe",
         [](kernel_context& c) { c.pipe_barrier(pipe_id::S); },
         {"PipeBarrier<PIPE_S> is a hardware error"}},
        {"mmad in the V pipe",
         [](kernel_context& c) { c.core().issue(pipe_id::V, models::mmad_op{}); },
         {"pipe V", "mmad runs in the M pipe"}},
        {"set_flag in the wrong pipe",
         [](kernel_context& c) {
             c.core().issue(pipe_id::V, models::flag_op{pipe_id::MTE2, pipe_id::V, 0, true});
         },
         {"set_flag must run in the MTE2 pipe", "set_flag(MTE2, V, 0) [V]"}},
        {"cross-core flag on a coupled chip",
         [](kernel_context& c) { c.cross_core_set_flag(1, pipe_id::MTE3); },
         {"cross-core flags need a split chip (no partner cores)"}},
        {"L0A -> UB copy",
         [](kernel_context& c) {
             c.data_copy(c.alloc<half>(position::VECIN, 256), c.alloc<half>(position::A2, 256),
                         256);
         },
         {"no engine moves L0A->UB"}},
        {"mmad with k = 0",
         [](kernel_context& c) {
             c.mmad(c.alloc<float>(position::CO1, 256), c.alloc<half>(position::A2, 256),
                    c.alloc<half>(position::B2, 256), 16, 0, 16, false);
         },
         {"m, k and n must be in 1..4095", "mmad.fp16"}},
        {"mmad of fp32",
         [](kernel_context& c) {
             models::mmad_op op;
             op.m = op.k = op.n = 16;
             op.in_type = models::dtype::fp32;
             c.core().issue(pipe_id::M, op);
         },
         {"this chip's cube does not multiply fp32 (cube.fp32 is false): use fp16 or bf16"}},
        {"mmad of int16",
         [](kernel_context& c) {
             models::mmad_op op;
             op.m = op.k = op.n = 16;
             op.in_type = models::dtype::int16;
             c.core().issue(pipe_id::M, op);
         },
         {"mmad does not take int16 inputs (use fp16, bf16, int8 or fp32)"}},
        {"mmad operand misaligned",
         [](kernel_context& c) {
             models::mmad_op op;
             op.m = op.k = op.n = 16;
             op.a = 16;
             c.core().issue(pipe_id::M, op);
         },
         {"L0A operand at 0x10 is not 512-byte aligned"}},
        {"mmad operand too large",
         [](kernel_context& c) {
             models::mmad_op op;
             op.m = op.n = 16;
             op.k = 4000;
             c.core().issue(pipe_id::M, op);
         },
         {"L0A operand [0x0, 0x1f400) exceeds the buffer (0x4000 bytes)"}},
        {"empty DMA",
         [&](kernel_context& c) {
             auto r = gm_ub;
             r.row_bytes = 0;
             c.core().issue(pipe_id::MTE2, r);
         },
         {"empty transfer (rows and row_bytes must be > 0)"}},
        {"2-D copy with an unaligned UB stride",
         [](kernel_context& c) {
             c.copy_2d<half>(mem_space::ub, 0, mem_space::gm, 0, 4, 16, 24, 16);
         },
         {"UB row stride 48 is not a multiple of 32 bytes"}},
    };
    std::vector<std::string> faults;
    std::string bad_block_dim;
    BOOST_REQUIRE(sim.run([&](platform::chip& chip, auto&) {
        for (auto& e : cases) faults.push_back(fault_of(chip, models::kernel_kind::vector, e.body));
        try {
            kernel::launch(chip, "t", 0, models::kernel_kind::vector, [](kernel_context&) {});
        } catch (const std::invalid_argument& e) {
            bad_block_dim = e.what();
        }
    }));
    for (size_t i = 0; i < cases.size(); ++i) {
        BOOST_TEST_MESSAGE(cases[i].what << ": " << faults[i]);
        BOOST_CHECK_MESSAGE(contains(faults[i], "block 0: "), cases[i].what << ": " << faults[i]);
        for (auto& t : cases[i].texts)
            BOOST_CHECK_MESSAGE(contains(faults[i], t),
                                cases[i].what << ": '" << faults[i] << "' lacks '" << t << "'");
    }
    BOOST_CHECK_EQUAL(bad_block_dim, "block_dim must be at least 1");
}

// A split chip without two vector cores per cube core has no unit for a mix kernel, and a
// cross-core flag counter holds at most 15 sets.
BOOST_AUTO_TEST_CASE(split_chip_limits) {
    auto cfg = platform::load_platform("ascend910b1", {"chip.cores=2", "chip.vector_cores=1"});
    platform::simulation sim(cfg);
    std::string no_mix, overflow;
    BOOST_REQUIRE(sim.run([&](platform::chip& chip, auto&) {
        try {
            kernel::launch(chip, "t", 1, models::kernel_kind::mix, [](kernel_context&) {});
        } catch (const std::invalid_argument& e) {
            no_mix = e.what();
        }
        overflow = fault_of(chip, models::kernel_kind::cube, [](kernel_context& c) {
            for (int i = 0; i < 16; ++i) c.cross_core_set_flag(3, pipe_id::FIX);
        });
    }));
    BOOST_CHECK_EQUAL(no_mix, "no cores for a mix kernel");
    BOOST_CHECK_MESSAGE(
        contains(overflow, "cross-core flag 3 set more than 15 times without a wait on chip.core2"),
        overflow);
}

BOOST_AUTO_TEST_SUITE_END()
