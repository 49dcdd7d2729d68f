#pragma once
// Checks that a loaded platform can run kernels at all. The loader checks each key's range and
// the consistency of related keys; these checks derive what the kernels need (buffers that
// hold a cube fractal, data paths the matmul and vector kernels use, event ids for double
// buffering), so `npusim validate` can reject a platform that would only fail mid-run.
#include "platform/config/platform_config.h"

namespace npusim::platform {

/// @brief Throws the first reason this platform cannot run a matmul or a vector op.
/// @throws config_error at the key's file:line (or the file when the key is a default), naming
/// the key and a fix.
void check_runnable(const platform_config& cfg);

}  // namespace npusim::platform
