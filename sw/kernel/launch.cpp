#include "sw/kernel/launch.h"

namespace npusim::kernel {

models::task_scheduler::block_fn block_body(kernel_fn fn) {
    return [fn = std::move(fn)](models::ai_core& core, unsigned blk, unsigned dim) {
        kernel_context ctx(core, blk, dim);
        fn(ctx);
    };
}

models::launch_record launch(platform::chip& chip, const std::string& name, unsigned block_dim,
                             models::kernel_kind kind, const kernel_fn& body) {
    return chip.scheduler().launch(name, block_dim, kind, block_body(body));
}

}  // namespace npusim::kernel
