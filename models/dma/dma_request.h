#pragma once
#include <cstdint>
#include <string>

#include "models/core/dtype.h"
#include "models/params.h"

namespace npusim::models {

/// @brief On-the-fly layout conversion done by the engines that support it in hardware.
enum class layout_conv : uint8_t {
    none,
    nd2nz,  ///< ND rows in, FRACTAL_NZ out (MTE2 GM->L1); padding is zero-filled
    nz2nd,  ///< FRACTAL_NZ in, ND rows out (FixPipe L0C->GM)
    nz2zz,  ///< a sub-block of an NZ matrix in L1 to the cube's left-operand layout (MTE1 L1->L0A)
    nz2zn,  ///< a sub-block of an NZ matrix in L1 to the right-operand layout (MTE1 L1->L0B)
    /// image to column (Load3D, MTE1): a feature-map patch in L1 to a block of its im2col
    /// matrix, L1->L0A as the left operand [pixels x K] (ZZ) or L1->L0B as the right operand
    /// [K x pixels] (ZN); see img2col_geometry
    img2col,
    /// zeros written over rows x row_bytes of the destination, nothing read (InitConstValue
    /// with 0, MTE2 into L1)
    fill,
};

/// @brief The feature map and window of an img2col load.
///
/// The patch in L1 is `channels` planes of height x width elements (row-major), planes
/// `channel_stride` elements apart. Column k of the im2col matrix is (c, kh, kw) with
/// k = (c * kernel_h + kh) * kernel_w + kw, the order of a [Cout, C, KH, KW] weight tensor's
/// rows. Pixel p is output position (p / out_w, p % out_w) of the patch; it reads patch element
/// (oh * stride_h + kh * dilation_h - pad_top, ow * stride_w + kw * dilation_w - pad_left) of
/// plane c, and zero where that lies outside the patch (padding).
struct img2col_geometry {
    uint32_t channels = 0, height = 0, width = 0;
    uint64_t channel_stride = 0;  ///< elements between planes; 0 = height * width
    uint32_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
    int32_t pad_top = 0, pad_left = 0;  ///< negative: the window starts inside the patch
    uint32_t out_w = 1;
    uint32_t pixel0 = 0, k0 = 0;  ///< the block's first pixel and first column of K

    uint64_t plane() const { return channel_stride ? channel_stride : uint64_t(height) * width; }
    uint32_t taps() const { return kernel_h * kernel_w; }
};

/// @brief One DMA instruction: a 2-D strided copy between two memories, optionally converting
/// layouts (see models/core/fractal_layout.h) and element types.
///
/// The source is `rows` x `row_bytes` (bytes of src_type elements) with its stride. A cast
/// (src_type != dst_type, only out of L0C) scales the destination rows to dst_type. For nd2nz
/// and nz2nd the NZ side has rows padded to `row_align` and fractal rows of c0 elements. For
/// nz2zz / nz2zn the source is the sub-block at (nz_row0, nz_col0) of an NZ matrix with
/// `nz_rows` padded rows; rows x row_bytes is the sub-block's size. With `transpose` the L1
/// matrix holds the operand transposed: the stored sub-block at (nz_row0, nz_col0) is cols x rows
/// and the load transposes it on the fly (LoadData with transpose). For img2col rows x
/// row_bytes is the size of the block of the im2col matrix (pixels x K into L0A, K x pixels
/// into L0B) and `fm` its geometry.
struct dma_request {
    mem_space src_space = mem_space::gm;
    mem_space dst_space = mem_space::gm;
    uint64_t src = 0;  ///< byte address in src_space (GM: global address; local: offset)
    uint64_t dst = 0;
    uint32_t rows = 1;
    uint64_t row_bytes = 0;
    uint64_t src_stride = 0;  ///< bytes between row starts; 0 = packed
    uint64_t dst_stride = 0;
    layout_conv conv = layout_conv::none;
    dtype src_type = dtype::fp16, dst_type = dtype::fp16;
    uint32_t c0_elems = 0;    ///< NZ fractal row length in elements; 0 = 32 B / element size
    uint32_t row_align = 16;  ///< NZ rows are padded to a multiple of this
    uint32_t nz_rows = 0, nz_row0 = 0, nz_col0 = 0;  ///< nz2zz / nz2zn source geometry
    img2col_geometry fm;                             ///< img2col source geometry
    bool transpose = false;                          ///< nz2zz / nz2zn of a transposed source
    /// FixPipe dequantization of an nz2nd L0C->GM move: each value times one scale (deq_scale)
    /// or the scale of its column (fp32 values at deq_fb in FB, column 0 first), then the cast.
    enum class deq_mode : uint8_t { none, scalar, vector } deq = deq_mode::none;
    float deq_scale = 1;
    uint64_t deq_fb = 0;

    bool cast() const { return src_type != dst_type; }
    /// No layout conversion and no cast: the copy moves bytes, whatever its element type.
    bool plain() const { return conv == layout_conv::none && !cast(); }
    /// Element bytes of each side; 1 for a plain copy, so an odd length (an int8 or int4
    /// tensor) is not rounded down to the default fp16 elements.
    uint32_t src_elem() const { return plain() ? 1 : dtype_size(src_type); }
    uint32_t dst_elem() const { return plain() ? 1 : dtype_size(dst_type); }
    uint64_t cols() const { return row_bytes / src_elem(); }
    uint64_t bytes() const { return uint64_t(rows) * row_bytes; }
    uint64_t dst_row_bytes() const { return cols() * dst_elem(); }
    uint64_t src_pitch() const { return src_stride ? src_stride : row_bytes; }
    uint64_t dst_pitch() const { return dst_stride ? dst_stride : dst_row_bytes(); }
    /// @brief c0 of the NZ side (its element type decides the default).
    uint32_t c0() const {
        return c0_elems ? c0_elems : 32 / (conv == layout_conv::nz2nd ? src_elem() : dst_elem());
    }
    uint32_t padded_rows() const { return (rows + row_align - 1) / row_align * row_align; }
    /// @brief Bytes the NZ side of nd2nz spans: column blocks x padded rows x fractal row.
    uint64_t nz_bytes() const;
    /// @brief Short text for errors and traces, e.g. "copy GM[0x0]->L1[0x40] 4x512B nd2nz".
    std::string describe() const;
};

}  // namespace npusim::models
