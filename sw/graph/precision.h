#pragma once
#include <map>
#include <string>
#include <vector>

#include "platform/config/platform_config.h"
#include "sw/graph/workload.h"
#include "sw/ops/op_schema.h"

namespace npusim::graph {

/// @brief What the precision policy did with one op of the source workload.
struct op_precision {
    std::string label;   ///< "matmul -> q"
    std::string where;   ///< the op's file:line:col
    std::string output;  ///< its first output, which keeps its name in the lowered workload
    models::dtype dtype = models::dtype::fp16;  ///< what it computes in (int8: W8A8, fp16 out)
    std::string rule;                           ///< why, in docs/precision.md's words
    /// The lowered ops it runs ("op -> outputs", as launches are named): itself and the casts
    /// and quantizations inserted for it.
    std::vector<std::string> launches;
};

/// @brief A workload with its `precision` applied.
struct precision_plan {
    workload lowered;  ///< dtypes assigned, casts and quantizations inserted
    std::vector<op_precision> ops;
    /// The fp32 reference of every source tensor (empty when not calibrated).
    std::map<std::string, ops::host_tensor> reference;
};

/// @brief The fp32 CPU reference of a workload: init tensors drawn as fp32, every op's
/// reference computed in double from its inputs' references (ops that take no fp32, such as
/// conv2d, get their declared dtypes but the same unrounded values).
std::map<std::string, ops::host_tensor> fp32_reference(const workload& w);

/// @brief Applies the workload's `precision` and the ops' overrides (docs/precision.md): each
/// op gets a dtype by the documented rules, init tensors are converted offline, casts are
/// inserted where a tensor is read in another dtype than it was written in, and an int8 matmul
/// becomes quantize + matmul_dequant (+ add for a bias). With `calibrate`, the fp32 reference
/// is computed and sets the activation scales of int8 matmuls (max |x| / 127); without it (a
/// timing-only run, where values do not matter) the scales are 1.
/// @throws platform::config_error naming an op's override the op cannot take.
precision_plan apply_precision(const workload& w, const platform::platform_config& platform,
                               bool calibrate);

}  // namespace npusim::graph
