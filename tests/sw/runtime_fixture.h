#pragma once
// Kernels and helpers for the runtime tests: a spin kernel with a fixed duration, a faulting
// kernel, a float add kernel with its tiling, and running a host program with a context.
#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>
#include <vector>

#include "platform/config/config_loader.h"
#include "platform/simulation.h"
#include "sw/kernel/reference_kernels.h"
#include "sw/runtime/context.h"
#include "tests/test_util.h"

namespace npusim::test {

/// Keeps the V pipe busy: `reps` duplicates of 512 floats per block, no memory traffic.
inline kernel::kernel_fn spin(unsigned reps) {
    return [reps](kernel::kernel_context& c) {
        auto t = c.alloc<float>(kernel::position::VECCALC, 512);
        for (unsigned i = 0; i < reps; ++i) c.duplicate(t, 1.f, 512);
    };
}

/// Reads GM beyond the device's capacity: the core faults with the address.
inline kernel::kernel_fn bad_read(uint64_t addr) {
    return [addr](kernel::kernel_context& c) {
        auto t = c.alloc<float>(kernel::position::VECIN, 64);
        c.data_copy(t, kernel::global_tensor<float>{addr, 64}, 64);
    };
}

/// z = x + y over n floats on `cores` cores.
inline kernel::kernel_fn add_floats(const platform::platform_config& cfg, unsigned cores,
                                    uint64_t x, uint64_t y, uint64_t z, uint64_t n,
                                    unsigned& block_dim) {
    const auto& core = cfg.split ? cfg.aiv : cfg.aicore;
    const kernel::elementwise_tiling t = kernel::tile_elementwise(core, cores, n, 4);
    block_dim = t.block_dim;
    return [=](kernel::kernel_context& c) {
        kernel::elementwise_add_kernel<float>(c, {x, n}, {y, n}, {z, n}, t);
    };
}

/// Runs `body` with a runtime context on a platform; returns the simulation's error text.
inline std::string run_runtime(const platform::platform_config& cfg,
                               const std::function<void(platform::chip&, runtime::context&)>& body,
                               bool expect_ok = true) {
    platform::simulation sim(cfg);
    const bool ok = sim.run([&](platform::chip& chip, std::vector<platform::op_record>& ops) {
        runtime::context ctx(chip, &ops);
        body(chip, ctx);
    });
    if (expect_ok) BOOST_CHECK_MESSAGE(ok, sim.error());
    return sim.error();
}

/// The timeline entries of one stream, in completion order.
inline std::vector<runtime::task_record> of_stream(const runtime::context& ctx,
                                                   const std::string& stream) {
    std::vector<runtime::task_record> out;
    for (const auto& r : ctx.timeline())
        if (r.stream == stream) out.push_back(r);
    return out;
}

/// The one timeline entry with this name (fails the test if there is not exactly one).
inline runtime::task_record entry(const runtime::context& ctx, const std::string& name) {
    runtime::task_record found;
    int n = 0;
    for (const auto& r : ctx.timeline())
        if (r.name == name) {
            found = r;
            ++n;
        }
    BOOST_CHECK_MESSAGE(n == 1, "timeline has " << n << " entries named " << name);
    return found;
}

}  // namespace npusim::test
