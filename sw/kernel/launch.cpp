#include "sw/kernel/launch.h"

namespace npusim::kernel {

models::launch_record launch(platform::chip& chip, const std::string& name, unsigned block_dim,
                             models::kernel_kind kind, const kernel_fn& body) {
    return chip.scheduler().launch(name, block_dim, kind,
                                   [&body](models::ai_core& core, unsigned blk, unsigned dim) {
                                       kernel_context ctx(core, blk, dim);
                                       body(ctx);
                                   });
}

}  // namespace npusim::kernel
