#pragma once
#include <functional>
#include <string>

#include "models/core/task_scheduler.h"
#include "platform/chip.h"
#include "sw/kernel/kernel_api.h"

namespace npusim::kernel {

/// @brief A kernel: called once per block on each core of the block's unit.
using kernel_fn = std::function<void(kernel_context&)>;

/// @brief The scheduler's per-block body that runs `fn` with a kernel context.
models::task_scheduler::block_fn block_body(kernel_fn fn);

/// @brief Launches a kernel on the chip's task scheduler and waits for it (host thread).
/// @returns the launch record; its `fault` names the block, core, pipe and instruction.
models::launch_record launch(platform::chip& chip, const std::string& name, unsigned block_dim,
                             models::kernel_kind kind, const kernel_fn& body);

}  // namespace npusim::kernel
