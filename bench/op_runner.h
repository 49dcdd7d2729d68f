#pragma once
// Shared by the operator benchmarks: runs one planned op on a fresh chip (its inputs and output
// allocated, never filled: the benchmarks run timing-only) and reports its kernel.
#include <algorithm>
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
        if (plan.tiling.workspace_bytes > 0 &&
            ctx.malloc(b.workspace, int64_t(plan.tiling.workspace_bytes)) !=
                runtime::status::success)
            r.failure = ctx.get_last_error().message;
        if (ops::library().execute(ctx, nullptr, plan, b) != runtime::status::success ||
            ctx.synchronize() != runtime::status::success)
            r.failure = ctx.get_last_error().message;
        // From the first kernel's start to the last one's end (an op may launch a prologue).
        double first = -1, last = 0;
        for (const auto& t : ctx.timeline())
            if (t.kind == "kernel") {
                if (first < 0) first = double(t.start);
                last = std::max(last, double(t.end));
            }
        r.kernel_ps = first < 0 ? 0 : last - first;
        if (!ops.empty()) r.record = ops.back();
    });
    if (!ok) r.failure = sim.error() + r.failure;
    return r;
}

}  // namespace npusim::bench
