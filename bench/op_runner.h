#pragma once
// Shared by the operator benchmarks: runs one planned op on a fresh chip (its inputs and output
// allocated, never filled: the benchmarks run timing-only) and reports its kernel.
#include <string>
#include <vector>

#include "platform/simulation.h"
#include "platform/stats.h"
#include "sw/ops/registry.h"
#include "sw/runtime/context.h"

namespace npusim::bench {

/// @brief What one op's run gave: its kernel's time and record, or why it failed.
struct op_run {
    double kernel_ps = 0;
    platform::op_record record;
    std::string failure;  ///< empty when the run succeeded
};

/// @brief Runs `plan` (inputs `in`) as the whole program of `sim`.
inline op_run run_one_op(platform::simulation& sim, const ops::op_plan& plan,
                         const std::vector<memory::tensor_desc>& in) {
    op_run r;
    const bool ok = sim.run([&](platform::chip& chip, std::vector<platform::op_record>& ops) {
        runtime::context ctx(chip, &ops);
        ops::op_buffers b;
        for (const auto& d : in) {
            uint64_t addr = 0;
            if (ctx.malloc(addr, int64_t(d.storage_bytes())) != runtime::status::success)
                r.failure = ctx.get_last_error().message;
            b.inputs.push_back(addr);
        }
        uint64_t out = 0;
        if (ctx.malloc(out, int64_t(plan.call.outputs[0].storage_bytes())) !=
            runtime::status::success)
            r.failure = ctx.get_last_error().message;
        b.outputs.push_back(out);
        if (ops::library().execute(ctx, nullptr, plan, b) != runtime::status::success ||
            ctx.synchronize() != runtime::status::success)
            r.failure = ctx.get_last_error().message;
        for (const auto& t : ctx.timeline())
            if (t.kind == "kernel") r.kernel_ps = double(t.end - t.start);
        if (!ops.empty()) r.record = ops.back();
    });
    if (!ok) r.failure = sim.error() + r.failure;
    return r;
}

}  // namespace npusim::bench
