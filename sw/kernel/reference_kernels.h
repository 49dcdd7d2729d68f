#pragma once
// Reference kernels written in the kernel API: the tiled matmul (matmul_kernel.h) and tiled
// elementwise kernels, with the host-side tiling that sizes them for a platform.
#include <cstdint>
#include <type_traits>

#include "models/params.h"
#include "sw/kernel/kernel_api.h"
#include "sw/kernel/matmul_kernel.h"

namespace npusim::kernel {

/// @brief Tiling of z = x + y over n elements.
struct elementwise_tiling {
    uint64_t n = 0;
    uint64_t tile = 0;       ///< elements per UB tile
    uint64_t per_block = 0;  ///< elements per block (a multiple of 128)
    unsigned depth = 2;
    unsigned block_dim = 1;
};

elementwise_tiling tile_elementwise(const models::core_params& core, unsigned cores, uint64_t n,
                                    unsigned elem_bytes, unsigned depth = 2);

/// @brief Calls fn(offset, length) for each tile of the calling block's share of the elements.
template <class F>
void for_each_tile(const kernel_context& ctx, const elementwise_tiling& t, const F& fn) {
    const uint64_t begin = uint64_t(ctx.block_idx()) * t.per_block;
    const uint64_t end = std::min(t.n, begin + t.per_block);
    for (uint64_t off = begin; off < end; off += t.tile) fn(off, std::min(t.tile, end - off));
}

/// @brief z = x op y (add, sub, mul, div, max, min), tile by tile: MTE2 copies in, V computes,
/// MTE3 copies out, through queues. With C other than T, T is a type the vector ALU does not
/// compute in (bf16, int8): each tile is converted to C (fp32, fp16), computed there and
/// converted back (to nearest; int8 saturates).
template <class T, class C = T>
void elementwise_binary_kernel(kernel_context& ctx, models::vec_opcode op, global_tensor<T> x,
                               global_tensor<T> y, global_tensor<T> z,
                               const elementwise_tiling& t) {
    constexpr bool native = std::is_same_v<T, C>;
    tque<T> qx(ctx, position::VECIN, t.depth, t.tile), qy(ctx, position::VECIN, t.depth, t.tile);
    tque<T> qz(ctx, position::VECOUT, t.depth, t.tile);
    local_tensor<C> cx, cy;
    if constexpr (!native) {
        cx = ctx.alloc<C>(position::VECCALC, t.tile);
        cy = ctx.alloc<C>(position::VECCALC, t.tile);
    }
    for_each_tile(ctx, t, [&](uint64_t off, uint64_t len) {
        auto xl = qx.alloc_tensor();
        ctx.data_copy(xl, x[off], len);
        qx.enque(xl);
        auto yl = qy.alloc_tensor();
        ctx.data_copy(yl, y[off], len);
        qy.enque(yl);

        auto xi = qx.deque();
        auto yi = qy.deque();
        auto zl = qz.alloc_tensor();
        if constexpr (native) {
            ctx.vector_binary(op, zl, xi, yi, len);
            qx.free_tensor(xi);
            qy.free_tensor(yi);
        } else {
            ctx.cast(cx, xi, len);
            ctx.cast(cy, yi, len);
            qx.free_tensor(xi);
            qy.free_tensor(yi);
            ctx.vector_binary(op, cx, cx, cy, len);
            ctx.cast(zl, cx, len);
        }
        qz.enque(zl);

        auto zo = qz.deque();
        ctx.data_copy(z[off], zo, len);
        qz.free_tensor(zo);
    });
}

/// @brief z = x + y (see elementwise_binary_kernel).
template <class T>
void elementwise_add_kernel(kernel_context& ctx, global_tensor<T> x, global_tensor<T> y,
                            global_tensor<T> z, const elementwise_tiling& t) {
    elementwise_binary_kernel(ctx, models::vec_opcode::add, x, y, z, t);
}

/// @brief y = f(x), tile by tile: MTE2 copies in, `compute(ctx, y_tile, x_tile, tmp, len)`
/// issues the vector ops (with one scratch tile of O), MTE3 copies out. I and O differ for a
/// cast.
template <class I, class O, class F>
void elementwise_unary_kernel(kernel_context& ctx, global_tensor<I> x, global_tensor<O> y,
                              const elementwise_tiling& t, const F& compute) {
    tque<I> qx(ctx, position::VECIN, t.depth, t.tile);
    tque<O> qy(ctx, position::VECOUT, t.depth, t.tile);
    auto tmp = ctx.alloc<O>(position::VECCALC, t.tile);
    for_each_tile(ctx, t, [&](uint64_t off, uint64_t len) {
        auto xl = qx.alloc_tensor();
        ctx.data_copy(xl, x[off], len);
        qx.enque(xl);

        auto xi = qx.deque();
        auto yl = qy.alloc_tensor();
        compute(ctx, yl, xi, tmp, len);
        qx.free_tensor(xi);
        qy.enque(yl);

        auto yo = qy.deque();
        ctx.data_copy(y[off], yo, len);
        qy.free_tensor(yo);
    });
}

/// @brief y = f(x) for a type T the vector unit has no such instructions for (bf16): each tile is
/// converted to C (fp32), `compute(ctx, y, x, tmp, len)` runs on C tiles, and the result is
/// converted back, rounded to nearest.
template <class T, class C, class F>
void elementwise_unary_via_kernel(kernel_context& ctx, global_tensor<T> x, global_tensor<T> y,
                                  const elementwise_tiling& t, const F& compute) {
    tque<T> qx(ctx, position::VECIN, t.depth, t.tile);
    tque<T> qy(ctx, position::VECOUT, t.depth, t.tile);
    auto cx = ctx.alloc<C>(position::VECCALC, t.tile), cy = ctx.alloc<C>(position::VECCALC, t.tile),
         tmp = ctx.alloc<C>(position::VECCALC, t.tile);
    for_each_tile(ctx, t, [&](uint64_t off, uint64_t len) {
        auto xl = qx.alloc_tensor();
        ctx.data_copy(xl, x[off], len);
        qx.enque(xl);

        auto xi = qx.deque();
        ctx.cast(cx, xi, len);
        qx.free_tensor(xi);
        compute(ctx, cy, cx, tmp, len);
        auto yl = qy.alloc_tensor();
        ctx.cast(yl, cy, len);
        qy.enque(yl);

        auto yo = qy.deque();
        ctx.data_copy(y[off], yo, len);
        qy.free_tensor(yo);
    });
}

/// @brief y = x converted from `from` to `to` with rounding `round`, tile by tile, through
/// `via` when the vector unit has no direct conversion (both steps exact then); from == to
/// copies. Untyped: x and y are GM byte addresses.
void cast_kernel(kernel_context& ctx, dtype from, dtype via, dtype to, models::round_mode round,
                 uint64_t x, uint64_t y, const elementwise_tiling& t);

}  // namespace npusim::kernel
