#pragma once
// Helpers shared by the files of the built-in operator library, and the function each file
// registers its ops with. One file per op family; library.cpp calls them all.
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

void register_elementwise(registry& r);  // binary ops, activations, cast
void register_matmul(registry& r);
void register_norm(registry& r);   // reductions, softmax, layernorm, rmsnorm
void register_views(registry& r);  // reshape
void register_conv(registry& r);   // conv2d, max_pool2d, avg_pool2d

}  // namespace npusim::ops::lib
