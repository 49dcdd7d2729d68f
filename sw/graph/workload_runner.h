#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "platform/chip.h"
#include "platform/stats.h"
#include "sw/graph/workload.h"
#include "sw/ops/registry.h"

namespace npusim::graph {

/// @brief A workload with every op planned on a platform: outputs inferred and checked
/// against their declarations, kernels chosen and tiled.
struct workload_plan {
    const workload* source = nullptr;
    std::vector<ops::op_plan> ops;
    /// Tensors (named by the tensor owning the memory, through views) that an op reads as
    /// control data: values deciding addresses or control flow, such as gather's indices.
    /// Timing-only mode keeps their bytes, so its timing equals functional mode's.
    std::set<std::string> control;
    /// A control tensor that an op computes on the device ("" if none): timing-only mode
    /// computes nothing, so such a workload must run functionally for exact timing.
    std::string computed_control;
    /// With --check, each tensor named here is also compared with these values (a precision
    /// policy's fp32 reference, sw/graph/precision.h); null: none.
    const std::map<std::string, ops::host_tensor>* fp32_reference = nullptr;
};

/// @brief The bytes a tensor with an init starts with (its dtype, its shape): the values are
/// drawn from its seed as floats, so tensors of the same init and seed in different dtypes
/// hold the same values, each rounded to its dtype.
std::vector<uint8_t> initial_bytes(const tensor_decl& t);

/// @brief Plans every op. Done before the simulation, so bad input is reported as such.
/// @throws platform::config_error naming the op's file:line and what does not fit.
workload_plan plan_workload(const workload& w, const platform::platform_config& platform);

/// @brief One op's comparison with its CPU reference, computed from the op's actual inputs
/// and rounded to the output dtype (docs/metrics.md, "--check"). Relative error is
/// |got - want| / (|want| + 1); both errors are 0 where the two are equal (NaN and NaN
/// included) and infinite where only one is finite.
struct op_check {
    std::string label;                    ///< "matmul -> h (file:line)"
    double max_error = 0, tolerance = 0;  ///< the largest relative error, and the op's bound
    double mean_error = 0;                ///< mean relative error over the output elements
    double max_abs = 0, mean_abs = 0;     ///< the largest and mean absolute error
    std::string worst;                    ///< "h[37]": the element of the largest relative error
    double worst_got = 0, worst_want = 0;
    uint64_t elements = 0, nan = 0, inf = 0;  ///< output elements; NaN and infinite ones
    /// The largest relative error against the end-to-end reference: every op's reference
    /// computed from the references of its inputs, in double, from the network's inputs on.
    double end_to_end = 0;
    bool ok = true;
};

/// @brief What a run gives besides the stats.
struct workload_result {
    std::vector<op_check> checks;  ///< with --check
    /// The first op (in file order) whose end-to-end error exceeds its tolerance plus the worst
    /// end-to-end error of its inputs: where the network's result starts to depart from the
    /// reference ("" if none does).
    std::string first_divergent;
    /// With --check and a plan's fp32_reference: each such tensor's largest and mean
    /// relative error against it.
    std::map<std::string, std::pair<double, double>> fp32_error;
    int64_t peak_device_bytes = 0;
    std::string failure;  ///< a runtime error, "" if the run succeeded
};

/// @brief Runs a planned workload through the runtime and the memory manager on the calling
/// (host) thread: init tensors are copied in, each op runs on its stream (events order
/// tensors that cross streams), and a tensor is freed after its last use. With `check`, every
/// tensor is kept and each op's output is compared with its CPU reference computed from the
/// op's actual inputs.
workload_result run_workload(platform::chip& chip, const workload_plan& plan, bool check,
                             std::vector<platform::op_record>& ops);

}  // namespace npusim::graph
