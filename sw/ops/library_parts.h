#pragma once
// Helpers shared by the files of the built-in operator library, and the function each file
// registers its ops with. One file per op family; library.cpp calls them all.
#include <functional>
#include <string>
#include <vector>

#include "platform/config/platform_config.h"
#include "sw/ops/registry.h"

namespace npusim::ops::lib {

/// @brief "[2,3,4]".
std::string dims(const std::vector<int64_t>& shape);

/// @brief The core type vector kernels run on, and how many there are.
const models::core_params& vector_core(const platform::platform_config& p);
unsigned vector_units(const platform::platform_config& p);
/// @brief The core type cube kernels run on.
const models::core_params& cube_core(const platform::platform_config& p);

/// @brief The numpy broadcast of two shapes for op `op`'s inputs 'x' and 'y'.
/// @throws op_error naming both shapes and the first dimension that does not fit.
std::vector<int64_t> broadcast_shape(const std::string& op, const std::vector<int64_t>& x,
                                     const std::vector<int64_t>& y);

/// @brief Registers kernel `op`_fill for the dtypes `dtypes` (inputs, then the one output),
/// chosen over every other kernel for the calls `applies` accepts: calls whose output is not
/// empty but does not depend on any input element (an input with a zero-sized dimension,
/// e.g. a matmul with k = 0). It writes `value` to every output element, no input is read.
void add_fill_kernel(registry& r, const std::string& op, const std::vector<models::dtype>& dtypes,
                     std::function<bool(const op_call&)> applies, double value,
                     const std::string& where);

void register_elementwise(registry& r);  // binary ops, activations, cast
void register_matmul(registry& r);
void register_norm(registry& r);    // reductions, softmax, layernorm, rmsnorm
void register_views(registry& r);   // reshape, copy
void register_conv(registry& r);    // conv2d, max_pool2d, avg_pool2d
void register_layout(registry& r);  // transpose, gather, rope
void register_quant(registry& r);   // quantize, dequantize
void register_sparse(registry& r);  // sparse_matmul

}  // namespace npusim::ops::lib
