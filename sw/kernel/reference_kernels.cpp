#include "sw/kernel/reference_kernels.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "models/core/fractal_layout.h"

namespace npusim::kernel {

using models::mem_space;
using models::round_up;

elementwise_tiling tile_elementwise(const models::core_params& core, unsigned cores, uint64_t n,
                                    unsigned elem_bytes, unsigned depth) {
    elementwise_tiling t;
    t.n = n;
    t.depth = depth;
    // Three queues (x, y, z) of two buffers each share UB; the tile does not depend on depth so
    // that depth 1 and 2 move the same bursts.
    const uint64_t ub = core.buffer(mem_space::ub).size;
    t.tile = std::max<uint64_t>(128, (ub / 6) / 256 * 256 / elem_bytes);
    t.per_block = std::max<uint64_t>(128, round_up((n + cores - 1) / cores, 128));
    t.block_dim = unsigned(std::max<uint64_t>(1, (n + t.per_block - 1) / t.per_block));
    return t;
}

}  // namespace npusim::kernel
