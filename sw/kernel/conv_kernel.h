#pragma once
// Convolution on the cube through an img2col load, and max / average pooling on the vector
// unit, with the host-side tiling that sizes them for a platform. Tensors are NCHW.
#include <cstdint>

#include "models/params.h"
#include "sw/kernel/kernel_api.h"

namespace npusim::kernel {

/// @brief A 2-D convolution's shapes: x [n, c, h, w], weight [cout, c / groups, kh, kw],
/// y [n, cout, oh, ow].
struct conv2d_shape {
    uint32_t n = 1, c = 1, h = 1, w = 1, cout = 1, kh = 1, kw = 1;
    uint32_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1, groups = 1;
    uint32_t oh = 1, ow = 1;
    uint32_t cg() const { return c / groups; }
    uint32_t coutg() const { return cout / groups; }
    uint32_t k() const { return cg() * kh * kw; }  ///< the im2col matrix's columns per group
    uint32_t pixels() const { return oh * ow; }
};

/// @brief Tiling of conv2d as, per image and group, y[coutg x pixels] = W[coutg x K] x
/// im2col(x)^T[K x pixels]: weights are the cube's left operand (as stored), the im2col matrix
/// the right one, so the result tile is NCHW rows of output pixels.
struct conv2d_tiling {
    conv2d_shape s;
    uint32_t base_m = 0, base_n = 0, base_k = 0;  ///< output channels, pixels, K per mmad
    uint32_t chunk_c = 0;                         ///< input channels per L1 load
    uint64_t patch_plane = 0;  ///< elements per channel plane of the L1 patch (a 16-multiple)
    unsigned depth = 2;
    unsigned block_dim = 1;
    uint64_t m_tiles() const { return (s.coutg() + base_m - 1) / base_m; }
    uint64_t n_tiles() const { return (s.pixels() + base_n - 1) / base_n; }
    uint64_t tiles() const { return uint64_t(s.n) * s.groups * m_tiles() * n_tiles(); }
};

/// @brief Fits L0A/L0B/L0C (as the matmul does), then the L1 patch and weight chunk, and UB on
/// coupled chips. @throws std::invalid_argument if one input channel's patch cannot fit L1.
conv2d_tiling tile_conv2d(const models::core_params& core, unsigned cores, const conv2d_shape& s);

/// @brief The conv2d kernel (fp16 in, fp32 accumulate, fp16 out; cube cores). Per tile and
/// K chunk: the weight rows go GM -> L1 in NZ, the input patch GM -> L1 as channel planes;
/// per K slice load_a brings weights to L0A and load_img2col the im2col block to L0B.
void conv2d_kernel(kernel_context& ctx, global_tensor<half> x, global_tensor<half> w,
                   global_tensor<half> y, const conv2d_tiling& t);

/// @brief A 2-D pooling's shapes: x [n, c, h, w] -> y [n, c, oh, ow].
struct pool2d_shape {
    uint32_t planes = 1, h = 1, w = 1, kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
    uint32_t oh = 1, ow = 1;
};

/// @brief Tiling of pooling: units of `rows` output rows of a plane, split over cores. Each
/// input row sits in a UB row of `row_len` elements after `margin` elements of padding value,
/// with padding value after it too, so that every window tap is in the row.
struct pool2d_tiling {
    pool2d_shape s;
    uint32_t rows = 1;       ///< output rows per unit
    uint32_t in_rows = 1;    ///< input rows a unit reads at most
    uint32_t margin = 0;     ///< padding elements before each row (a 16-multiple, >= pw)
    uint64_t row_len = 0;    ///< elements per UB row (a 16-multiple)
    uint64_t out_len = 0;    ///< elements per output row buffer (whole gather repeats)
    bool wide_sum = false;   ///< sums of fp16 computed in fp32
    uint64_t per_block = 0;  ///< units per block
    unsigned depth = 2;
    unsigned block_dim = 1;
    uint64_t row_blocks() const { return (s.oh + rows - 1) / rows; }
    uint64_t units() const { return uint64_t(s.planes) * row_blocks(); }
};

/// @throws std::invalid_argument if the column stride exceeds 7 or a unit does not fit UB.
pool2d_tiling tile_pool2d(const models::core_params& core, unsigned cores, const pool2d_shape& s,
                          unsigned elem_bytes, bool max);

/// @brief Max or average (over the in-bounds elements) pooling on the vector unit. Per unit,
/// MTE2 brings the input rows in one 2-D copy; per output row V combines the window's rows
/// element by element, then picks each column tap of every window with a periodic gather_mask
/// (stride sw) and combines the taps. Average pooling of fp16 sums in fp32 and divides by the
/// in-bounds element count.
template <class T>
void pool2d_kernel(kernel_context& ctx, bool max, global_tensor<T> x, global_tensor<T> y,
                   const pool2d_tiling& t);

}  // namespace npusim::kernel
