#include "sw/kernel/row_kernels.h"

#include <algorithm>

namespace npusim::kernel {

uint64_t row_scratch_bytes(uint64_t tile_rows, uint64_t stride, unsigned elem_bytes) {
    const uint64_t per = 256 / elem_bytes;
    const uint64_t half = std::max<uint64_t>(1, stride / per / 2) * per;
    const uint64_t values = (tile_rows * elem_bytes + 31) / 32 * 32;
    return tile_rows * half * elem_bytes + 2 * values + (tile_rows + 7) / 8 * 8 * 32;
}

row_tiling tile_rows(const models::core_params& core, unsigned cores, uint64_t rows, uint64_t cols,
                     unsigned elem_bytes, unsigned row_buffers, uint64_t fixed_bytes,
                     unsigned calc_buffers, unsigned calc_bytes) {
    row_tiling t;
    t.rows = rows;
    t.cols = cols;
    const uint64_t per = 256 / elem_bytes;
    t.stride = (cols + per - 1) / per * per;
    t.per_block = std::max<uint64_t>(1, (rows + cores - 1) / cores);
    t.block_dim = unsigned((rows + t.per_block - 1) / t.per_block);
    // 1 KiB of slack covers the 32-byte rounding of each allocation.
    const uint64_t ub = core.buffer(models::mem_space::ub).size;
    const uint64_t budget = ub > fixed_bytes + 1024 ? ub - fixed_bytes - 1024 : 0;
    const unsigned calc = calc_bytes ? calc_bytes : elem_bytes;
    auto fits = [&](uint64_t n) {
        return row_buffers * n * t.stride * elem_bytes + calc_buffers * n * t.stride * calc +
                   row_scratch_bytes(n, t.stride, calc) <=
               budget;
    };
    uint64_t n = 0;
    for (uint64_t step = t.per_block; step > 0; step /= 2)
        while (n + step <= t.per_block && fits(n + step)) n += step;
    t.tile_rows = n;
    return t;
}

}  // namespace npusim::kernel
