#include "sw/kernel/sparse_kernels.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/common/model_fault.h"
#include "models/core/fractal_layout.h"

namespace npusim::kernel {

using models::mem_space;
using models::round_up;

sparse_row read_sparse_row(kernel_context& ctx, const sparse_operand& a, uint64_t row_block) {
    auto fault = [&](uint64_t addr, const std::string& what) {
        throw models::model_fault(ctx.core().name(), addr, a.op, a.op + ": " + what);
    };
    const auto range =
        ctx.get_values(global_tensor<int32_t>{a.offsets, a.row_blocks() + 1}, row_block, 2);
    const bool last = row_block + 1 == a.row_blocks();
    if ((row_block == 0 && range[0] != 0) || range[0] < 0 || range[1] < range[0] ||
        uint64_t(range[1]) > a.blocks || (last && uint64_t(range[1]) != a.blocks))
        fault(a.offsets + row_block * 4,
              "input 'offsets' has offsets[" + std::to_string(row_block) + "] = " +
                  std::to_string(range[0]) + " and offsets[" + std::to_string(row_block + 1) +
                  "] = " + std::to_string(range[1]) + "; offsets must rise from 0 to " +
                  std::to_string(a.blocks) + " (the stored blocks)");
    sparse_row r;
    r.first = uint64_t(range[0]);
    r.columns = ctx.get_values(global_tensor<int32_t>{a.columns, a.blocks}, r.first,
                               uint64_t(range[1] - range[0]));
    for (size_t i = 0; i < r.columns.size(); ++i) {
        const int32_t c = r.columns[i];
        const uint64_t at = a.columns + (r.first + i) * 4;
        const std::string what = "input 'columns' has columns[" + std::to_string(r.first + i) +
                                 "] = " + std::to_string(c);
        if (c < 0 || uint64_t(c) >= a.col_blocks())
            fault(at, what + ", outside 0.." + std::to_string(int64_t(a.col_blocks()) - 1) +
                          " (the block columns of a " + std::to_string(a.k) + "-column A)");
        if (i > 0 && c <= r.columns[i - 1])
            fault(at, what + " after " + std::to_string(r.columns[i - 1]) + " in row block " +
                          std::to_string(row_block) +
                          "; the columns of a row block must rise (sorted, no repeats)");
    }
    return r;
}

namespace {

// The row block a task works on, with its blocks' values (the axpy scalars and the densify
// stores), read by the scalar unit once for consecutive tasks of the same row block.
struct row_reader {
    explicit row_reader(const sparse_operand& op) : a(op) {}
    const sparse_operand& a;
    uint64_t have = ~uint64_t{0};
    sparse_row row;
    std::vector<half> values;

    void read(kernel_context& ctx, uint64_t rb) {
        if (rb == have) return;
        row = read_sparse_row(ctx, a, rb);
        const uint64_t per = uint64_t(a.bm) * a.bk;
        values = ctx.get_values(global_tensor<half>{a.values, a.blocks * per}, row.first * per,
                                row.columns.size() * per);
        have = rb;
    }
};

}  // namespace

sparse_tiling tile_sparse_direct(const models::core_params& core, unsigned cores,
                                 const sparse_operand& a, uint32_t n) {
    sparse_tiling t;
    t.n = n;
    // UB: the fp32 accumulator (bm rows), two fp16 output tiles and two B tiles (bk rows).
    const uint64_t ub = core.buffer(mem_space::ub).size - 1024;
    const uint64_t per_col = 4ull * a.bm + 4ull * a.bm + 4ull * a.bk;
    uint64_t tn = std::min<uint64_t>(round_up(std::max<uint32_t>(n, 1), 16), 4096);
    if (ub / per_col < 16)
        throw std::invalid_argument("they leave no room in UB for 16 columns of a row block");
    tn = std::min<uint64_t>(tn, ub / per_col / 16 * 16);
    // Few row blocks: narrower column tiles so every core gets work.
    while (tn > 64 && a.row_blocks() * ((n + tn - 1) / tn) < cores) tn = round_up(tn / 2, 16);
    t.tile_n = uint32_t(tn);
    // What UB has left beyond one block per B buffer holds more blocks' rows: up to 16 copies
    // in flight instead of one.
    const uint64_t used = tn * (8ull * a.bm + 4ull * a.bk);
    t.group = uint32_t(std::max<uint64_t>(
        1, std::min<uint64_t>(16, 1 + (ub > used ? (ub - used) / (4ull * a.bk * tn) : 0))));
    t.block_dim = unsigned(std::max<uint64_t>(1, std::min<uint64_t>(cores, t.tasks(a))));
    return t;
}

void sparse_direct_kernel(kernel_context& ctx, const sparse_operand& a, uint64_t b, uint64_t c,
                          const sparse_tiling& t, uint64_t* queue) {
    const uint64_t pitch = t.tile_n, n_tiles = (t.n + t.tile_n - 1) / t.tile_n;
    auto acc = ctx.alloc<float>(position::VECCALC, uint64_t(a.bm) * pitch);
    tque<half> qb(ctx, position::VECIN, 2, uint64_t(t.group) * a.bk * pitch);
    tque<half> qo(ctx, position::VECOUT, 2, uint64_t(a.bm) * pitch);
    row_reader cur(a);
    task_source next(ctx, t.partition, t.tasks(a), nullptr, queue);
    for (uint64_t task = next(); task < t.tasks(a); task = next()) {
        const uint64_t rb = task / n_tiles, n0 = task % n_tiles * t.tile_n;
        const uint32_t nr = uint32_t(std::min<uint64_t>(t.tile_n, t.n - n0));
        cur.read(ctx, rb);
        const sparse_row& row = cur.row;
        const std::vector<half>& values = cur.values;
        ctx.duplicate(acc, 0.0f, uint64_t(a.bm) * pitch);
        for (size_t g0 = 0; g0 < row.columns.size(); g0 += t.group) {
            // A group of blocks: each one's bk rows of B are consecutive rows (one 2-D copy).
            const size_t g1 = std::min(row.columns.size(), g0 + t.group);
            auto bt = qb.alloc_tensor();
            for (size_t blk = g0; blk < g1; ++blk) {
                const uint64_t k0 = uint64_t(row.columns[blk]) * a.bk;
                ctx.copy_2d<half>(mem_space::ub, bt[(blk - g0) * a.bk * pitch].offset,
                                  mem_space::gm, b + (k0 * t.n + n0) * 2, a.bk, nr, pitch, t.n);
            }
            qb.enque(bt);
            bt = qb.deque();
            for (size_t blk = g0; blk < g1; ++blk)
                for (uint32_t i = 0; i < a.bm; ++i)
                    for (uint32_t j = 0; j < a.bk; ++j)
                        ctx.axpy(acc[i * pitch], bt[((blk - g0) * a.bk + j) * pitch],
                                 models::half_to_float(values[(blk * a.bm + i) * a.bk + j].bits),
                                 nr);
            qb.free_tensor(bt);
        }
        auto o = qo.alloc_tensor();
        ctx.cast(o, acc, uint64_t(a.bm) * pitch);
        qo.enque(o);
        o = qo.deque();
        ctx.copy_2d<half>(mem_space::gm, c + (rb * a.bm * t.n + n0) * 2, mem_space::ub, o.offset,
                          a.bm, nr, t.n, pitch);
        qo.free_tensor(o);
    }
}

densify_tiling tile_densify(const models::core_params& core, unsigned cores,
                            const sparse_operand& a) {
    densify_tiling t;
    // Two fp16 chunks of bm rows in UB.
    const uint64_t ub = core.buffer(mem_space::ub).size - 1024;
    uint64_t ck = std::min<uint64_t>(round_up(std::max<uint32_t>(a.k, 1), 16), 16384);
    if (ub / (4ull * a.bm) < 16)
        throw std::invalid_argument("they leave no room in UB to densify 16 columns");
    ck = std::min<uint64_t>(ck, ub / (4ull * a.bm) / 16 * 16);
    t.chunk_k = uint32_t(ck);
    t.block_dim = unsigned(std::max<uint64_t>(1, std::min<uint64_t>(cores, t.tasks(a))));
    return t;
}

void densify_kernel(kernel_context& ctx, const sparse_operand& a, uint64_t dense,
                    const densify_tiling& t) {
    const uint64_t pitch = t.chunk_k, chunks = (a.k + t.chunk_k - 1) / t.chunk_k;
    tque<half> qo(ctx, position::VECOUT, 2, uint64_t(a.bm) * pitch);
    row_reader cur(a);
    for (uint64_t task = ctx.block_idx(); task < t.tasks(a); task += ctx.block_num()) {
        const uint64_t rb = task / chunks, k0 = task % chunks * t.chunk_k;
        const uint64_t kr = std::min<uint64_t>(t.chunk_k, a.k - k0);
        cur.read(ctx, rb);
        const sparse_row& row = cur.row;
        const std::vector<half>& values = cur.values;
        auto o = qo.alloc_tensor();
        ctx.duplicate(o, 0.0f, uint64_t(a.bm) * pitch);
        std::vector<std::pair<uint64_t, half>> stores;
        for (size_t blk = 0; blk < row.columns.size(); ++blk) {
            const uint64_t c0 = uint64_t(row.columns[blk]) * a.bk;
            if (c0 + a.bk <= k0 || c0 >= k0 + kr) continue;
            for (uint32_t i = 0; i < a.bm; ++i)
                for (uint32_t j = 0; j < a.bk; ++j)
                    if (c0 + j >= k0 && c0 + j < k0 + kr)
                        stores.emplace_back(i * pitch + (c0 + j - k0),
                                            values[(blk * a.bm + i) * a.bk + j]);
        }
        if (!stores.empty()) ctx.set_values(o, stores);
        qo.enque(o);
        o = qo.deque();
        ctx.copy_2d<half>(mem_space::gm, dense + (rb * a.bm * a.k + k0) * 2, mem_space::ub,
                          o.offset, a.bm, kr, a.k, pitch);
        qo.free_tensor(o);
    }
}

}  // namespace npusim::kernel
