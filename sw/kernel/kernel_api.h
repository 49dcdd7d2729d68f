#pragma once
// The device-side programming API kernels are written in, in the spirit of Ascend C: typed
// tensors at logical positions, data copies and loads, mmad, vector calls, flags and barriers,
// and queues that insert the flags for you. A kernel is a C++ function run on a core's scalar
// unit for one block; every call issues instructions into the core's pipes.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "models/core/ai_core.h"
#include "models/core/dtype.h"
#include "models/core/instruction.h"
#include "sw/memory/buffer_manager.h"

namespace npusim::kernel {

using models::dtype;
using models::pipe_id;

/// @brief 16-bit float element types (storage only; values convert through float).
struct half {
    uint16_t bits;
};
struct bfloat16 {
    uint16_t bits;
};

/// @brief 4-bit signed integer element (Ascend C int4b_t): a tensor of it packs two elements a
/// byte, element 2i in the low nibble. Only cast() to and from half reads or writes it.
struct int4b {
    uint8_t packed;
};

/// @brief Bytes that `elems` elements of T occupy (int4b: two a byte, rounded up).
template <class T>
constexpr uint64_t bytes_of(uint64_t elems) {
    if constexpr (std::is_same_v<T, int4b>)
        return (elems + 1) / 2;
    else
        return elems * sizeof(T);
}
/// @brief Byte offset of element `elems`; an int4b tensor splits only at even elements.
template <class T>
uint64_t offset_of(uint64_t elems) {
    if (std::is_same_v<T, int4b> && elems % 2 != 0)
        throw std::invalid_argument("an int4b tensor splits at even elements only, not at " +
                                    std::to_string(elems));
    return bytes_of<T>(elems);
}

template <class T>
constexpr dtype dtype_of();
template <>
constexpr dtype dtype_of<float>() {
    return dtype::fp32;
}
template <>
constexpr dtype dtype_of<half>() {
    return dtype::fp16;
}
template <>
constexpr dtype dtype_of<bfloat16>() {
    return dtype::bf16;
}
template <>
constexpr dtype dtype_of<int32_t>() {
    return dtype::int32;
}
template <>
constexpr dtype dtype_of<int8_t>() {
    return dtype::int8;
}
template <>
constexpr dtype dtype_of<int16_t>() {
    return dtype::int16;
}
template <>
constexpr dtype dtype_of<uint16_t>() {
    return dtype::uint16;
}
template <>
constexpr dtype dtype_of<uint32_t>() {
    return dtype::uint32;
}
template <>
constexpr dtype dtype_of<uint8_t>() {
    return dtype::uint8;
}
template <>
constexpr dtype dtype_of<int64_t>() {
    return dtype::int64;
}
template <>
constexpr dtype dtype_of<int4b>() {
    return dtype::int4;
}

/// @brief Logical positions (Ascend C TPosition) and the buffers they live in. C1 is the bias
/// in L1, C2 the bias table (BT) and C2PIPE2GM the FixPipe buffer (FB) of a split chip's cube
/// core.
enum class position : uint8_t { A1, B1, A2, B2, CO1, VECIN, VECOUT, VECCALC, C1, C2, C2PIPE2GM };
models::mem_space space_of(position p);
const char* to_string(position p);

/// @brief A tensor in global memory: element address and count.
template <class T>
struct global_tensor {
    uint64_t addr = 0;  ///< byte address in GM
    uint64_t size = 0;  ///< elements
    global_tensor operator[](uint64_t elems) const {
        return {addr + offset_of<T>(elems), size - elems};
    }
};

/// @brief A tensor in a core's local buffer at a logical position.
template <class T>
struct local_tensor {
    position pos = position::VECCALC;
    uint64_t offset = 0;  ///< byte offset in the position's buffer
    uint64_t size = 0;    ///< elements
    local_tensor operator[](uint64_t elems) const {
        return {pos, offset + offset_of<T>(elems), size - elems};
    }
};

/// @brief Everything a kernel can do on one core for one block.
class kernel_context {
  public:
    kernel_context(models::ai_core& core, unsigned block, unsigned block_dim);

    unsigned block_idx() const { return m_block; }
    unsigned block_num() const { return m_block_dim; }
    /// @brief This vector core's share of a mix block (GetSubBlockIdx / GetSubBlockNum).
    unsigned sub_block_idx() const { return m_core.sub_block(); }
    unsigned sub_block_num() const { return m_core.sub_blocks(); }
    models::core_kind core_type() const { return m_core.core_type(); }
    bool has_cube() const { return core_type() != models::core_kind::aiv; }
    bool has_vector() const { return core_type() != models::core_kind::aic; }
    models::ai_core& core() { return m_core; }
    const models::core_params& params() const { return m_core.params(); }

    // --- buffers (TPipe::InitBuffer) ---
    /// @brief Allocates `elems` elements at a position, aligned for its buffer.
    /// @throws model_fault naming the buffer, the request and what is left.
    template <class T>
    local_tensor<T> alloc(position pos, uint64_t elems) {
        return {pos, alloc_bytes(pos, bytes_of<T>(elems)), elems};
    }
    uint64_t alloc_bytes(position pos, uint64_t bytes);
    /// @brief `count` buffers of `elems` elements at a position (a queue's buffers).
    template <class T>
    std::vector<local_tensor<T>> alloc_queue(position pos, unsigned count, uint64_t elems) {
        std::vector<local_tensor<T>> out;
        for (uint64_t off : alloc_queue_bytes(pos, count, bytes_of<T>(elems)))
            out.push_back({pos, off, elems});
        return out;
    }
    std::vector<uint64_t> alloc_queue_bytes(position pos, unsigned count, uint64_t bytes);
    uint64_t free_bytes(position pos) const;
    /// @brief A fresh event id for a pipe pair (AllocEventID). @throws model_fault when exhausted.
    uint32_t alloc_event_id(pipe_id src, pipe_id dst);

    // --- data movement ---
    /// @brief GM -> local (MTE2), local -> GM (MTE3 / FixPipe) or local -> local, `count` elements.
    template <class T>
    void data_copy(local_tensor<T> dst, global_tensor<T> src, uint64_t count) {
        copy_bytes(models::mem_space::gm, src.addr, space_of(dst.pos), dst.offset,
                   bytes_of<T>(count));
    }
    template <class T>
    void data_copy(global_tensor<T> dst, local_tensor<T> src, uint64_t count) {
        copy_bytes(space_of(src.pos), src.offset, models::mem_space::gm, dst.addr,
                   bytes_of<T>(count));
    }
    template <class T>
    void data_copy(local_tensor<T> dst, local_tensor<T> src, uint64_t count) {
        copy_bytes(space_of(src.pos), src.offset, space_of(dst.pos), dst.offset,
                   bytes_of<T>(count));
    }
    /// @brief GM (ND, rows x cols, row stride in elements) -> L1 in NZ, zero-padded (MTE2).
    template <class T>
    void copy_nd2nz(local_tensor<T> l1, global_tensor<T> gm, uint32_t rows, uint32_t cols,
                    uint64_t gm_stride, uint32_t row_align = 16) {
        models::dma_request r =
            request(models::mem_space::gm, gm.addr, space_of(l1.pos), l1.offset);
        r.rows = rows;
        r.row_bytes = uint64_t(cols) * sizeof(T);
        r.src_stride = gm_stride * sizeof(T);
        r.conv = models::layout_conv::nd2nz;
        r.src_type = r.dst_type = dtype_of<T>();
        r.row_align = row_align;
        issue_dma(r);
    }
    /// @brief Loads the sub-block (row0, col0, rows x cols) of an NZ matrix in L1 with nz_rows
    /// padded rows into L0A (left operand, ZZ) or L0B (right operand, ZN) (MTE1). With
    /// `transpose` the L1 matrix holds the operand transposed: the stored sub-block at
    /// (row0, col0) is cols x rows, and the load transposes it (LoadData with transpose).
    template <class T>
    void load_a(local_tensor<T> l0a, local_tensor<T> l1, uint32_t nz_rows, uint32_t row0,
                uint32_t col0, uint32_t rows, uint32_t cols, bool transpose = false) {
        fractal_load(models::layout_conv::nz2zz, position::A2, l0a.pos, l0a.offset, l1.pos,
                     l1.offset, nz_rows, row0, col0, rows, cols, dtype_of<T>(), transpose);
    }
    template <class T>
    void load_b(local_tensor<T> l0b, local_tensor<T> l1, uint32_t nz_rows, uint32_t row0,
                uint32_t col0, uint32_t rows, uint32_t cols, bool transpose = false) {
        fractal_load(models::layout_conv::nz2zn, position::B2, l0b.pos, l0b.offset, l1.pos,
                     l1.offset, nz_rows, row0, col0, rows, cols, dtype_of<T>(), transpose);
    }
    /// @brief L1 (C1) -> bias table (C2), `count` elements converted to O (MTE1, split chips).
    template <class O, class I>
    void load_bias_table(local_tensor<O> bt, local_tensor<I> l1, uint64_t count) {
        check_position("load_bias_table", "dst", bt.pos, position::C2);
        check_position("load_bias_table", "src", l1.pos, position::C1);
        models::dma_request r =
            request(models::mem_space::l1, l1.offset, models::mem_space::bt, bt.offset);
        r.row_bytes = count * sizeof(I);
        r.src_type = dtype_of<I>();
        r.dst_type = dtype_of<O>();
        issue_dma(r);
    }
    /// @brief Image to column (Load3D, MTE1): the block of `ks` columns of K (from g.k0) by
    /// `pixels` output pixels (from g.pixel0) of the im2col matrix of the feature-map patch at
    /// `l1`, with zero padding, into L0A as the left operand [pixels x ks] or into L0B as the
    /// right operand [ks x pixels]. See models::img2col_geometry.
    template <class T>
    void load_img2col(local_tensor<T> dst, local_tensor<T> l1, const models::img2col_geometry& g,
                      uint32_t pixels, uint32_t ks) {
        const bool left = dst.pos == position::A2;
        if (!left) check_position("load_img2col", "dst", dst.pos, position::B2);
        if (space_of(l1.pos) != models::mem_space::l1)
            check_position("load_img2col", "src", l1.pos, left ? position::A1 : position::B1);
        models::dma_request r =
            request(models::mem_space::l1, l1.offset, space_of(dst.pos), dst.offset);
        r.conv = models::layout_conv::img2col;
        r.rows = left ? pixels : ks;
        r.row_bytes = uint64_t(left ? ks : pixels) * sizeof(T);
        r.src_type = r.dst_type = dtype_of<T>();
        r.fm = g;
        m_core.issue(pipe_id::MTE1, r);
    }
    /// @brief L0C (NZ, m_padded rows) -> GM rows x cols in ND with a cast (FixPipe, split chips).
    template <class O, class I>
    void fixpipe(global_tensor<O> dst, local_tensor<I> l0c, uint32_t rows, uint32_t cols,
                 uint32_t m_padded, uint64_t dst_stride) {
        check_position("fixpipe", "src", l0c.pos, position::CO1);
        models::dma_request r =
            request(models::mem_space::l0c, l0c.offset, models::mem_space::gm, dst.addr);
        r.rows = rows;
        r.row_bytes = uint64_t(cols) * sizeof(I);
        r.dst_stride = dst_stride * sizeof(O);
        r.conv = models::layout_conv::nz2nd;
        r.src_type = dtype_of<I>();
        r.dst_type = dtype_of<O>();
        r.c0_elems = 16;
        r.row_align = 16;
        (void)m_padded;
        issue_dma(r);
    }
    /// @brief fixpipe that dequantizes on the way: each value times `scale`, then the cast.
    template <class O, class I>
    void fixpipe_dequant(global_tensor<O> dst, local_tensor<I> l0c, uint32_t rows, uint32_t cols,
                         uint64_t dst_stride, float scale) {
        fixpipe_deq(dtype_of<O>(), dst.addr, dtype_of<I>(), l0c, rows, cols, dst_stride,
                    models::dma_request::deq_mode::scalar, scale, 0);
    }
    /// @brief fixpipe that dequantizes on the way: column j times scales[j] (in FB, put there
    /// by load_fixpipe_params), then the cast.
    template <class O, class I>
    void fixpipe_dequant(global_tensor<O> dst, local_tensor<I> l0c, uint32_t rows, uint32_t cols,
                         uint64_t dst_stride, local_tensor<float> scales) {
        check_position("fixpipe_dequant", "scales", scales.pos, position::C2PIPE2GM);
        fixpipe_deq(dtype_of<O>(), dst.addr, dtype_of<I>(), l0c, rows, cols, dst_stride,
                    models::dma_request::deq_mode::vector, 1, scales.offset);
    }
    /// @brief L1 (C1) -> FB (C2PIPE2GM), `count` fp32 FixPipe parameters (the FIX pipe).
    void load_fixpipe_params(local_tensor<float> fb, local_tensor<float> l1, uint64_t count) {
        check_position("load_fixpipe_params", "dst", fb.pos, position::C2PIPE2GM);
        check_position("load_fixpipe_params", "src", l1.pos, position::C1);
        models::dma_request r =
            request(models::mem_space::l1, l1.offset, models::mem_space::fb, fb.offset);
        r.row_bytes = count * 4;
        r.src_type = r.dst_type = dtype::fp32;
        issue_dma(r);
    }
    /// @brief L0C -> UB, element for element with a cast (the vector pipe, coupled chips).
    template <class O, class I>
    void l0c_to_ub(local_tensor<O> ub, local_tensor<I> l0c, uint64_t count) {
        check_position("l0c_to_ub", "src", l0c.pos, position::CO1);
        models::dma_request r =
            request(models::mem_space::l0c, l0c.offset, models::mem_space::ub, ub.offset);
        r.row_bytes = count * sizeof(I);
        r.src_type = dtype_of<I>();
        r.dst_type = dtype_of<O>();
        issue_dma(r);
    }
    /// @brief 2-D copy of rows x row_elems elements with element strides (any path).
    template <class T>
    void copy_2d(models::mem_space dst_space, uint64_t dst, models::mem_space src_space,
                 uint64_t src, uint32_t rows, uint64_t row_elems, uint64_t dst_stride,
                 uint64_t src_stride) {
        models::dma_request r = request(src_space, src, dst_space, dst);
        r.rows = rows;
        r.row_bytes = row_elems * sizeof(T);
        r.dst_stride = dst_stride * sizeof(T);
        r.src_stride = src_stride * sizeof(T);
        issue_dma(r);
    }

    // --- scalar ---
    /// @brief One element of a GM tensor, read by the scalar unit (GlobalTensor::GetValue)
    /// once the pipes that write GM have drained. On a timing-only chip, the kept bytes of a
    /// control tensor (gather's indices), zero elsewhere.
    /// @throws model_fault if the element is outside GM.
    template <class T>
    T get_value(global_tensor<T> t, uint64_t index) {
        T v{};
        m_core.read_global(t.addr + index * sizeof(T), &v, sizeof(T));
        return v;
    }

    /// @brief `count` consecutive elements of a GM tensor from `first`, read by the scalar unit
    /// as get_value does: one GM round trip, then one more cycle per further 64-byte line (the
    /// scalar data cache filling its lines back to back).
    template <class T>
    std::vector<T> get_values(global_tensor<T> t, uint64_t first, uint64_t count) {
        std::vector<T> v(count);
        if (count > 0) m_core.read_global(t.addr + first * sizeof(T), v.data(), count * sizeof(T));
        return v;
    }
    /// @brief Scalar stores (LocalTensor::SetValue): dst[index] = value for each pair, one a
    /// cycle once every pipe has drained.
    template <class T>
    void set_values(local_tensor<T> dst, const std::vector<std::pair<uint64_t, T>>& values) {
        static_assert(sizeof(T) <= 8 && !std::is_same_v<T, int4b>);
        std::vector<models::ai_core::scalar_store> stores(values.size());
        for (size_t i = 0; i < values.size(); ++i) {
            stores[i].offset = dst.offset + values[i].first * sizeof(T);
            std::memcpy(&stores[i].bits, &values[i].second, sizeof(T));
        }
        m_core.write_local(space_of(dst.pos), stores, sizeof(T));
    }
    /// @brief Zeros `count` elements at an L1 position (InitConstValue with 0; MTE2).
    template <class T>
    void fill_zero(local_tensor<T> dst, uint64_t count) {
        fill_zero_bytes(dst.pos, dst.offset, bytes_of<T>(count));
    }
    void fill_zero_bytes(position pos, uint64_t offset, uint64_t bytes);

    /// @brief Atomically adds `add` to a word shared by the launch's blocks and returns its old
    /// value (a GM atomic; the scalar unit waits the GM round trip): a work queue's next index.
    uint64_t atomic_add(uint64_t& word, uint64_t add) { return m_core.atomic_add(word, add); }

    // --- cube ---
    /// @brief Ascend C SetHF32Mode: later fp32 mmads round their inputs to HF32 first.
    void set_hf32_mode(bool on) { m_hf32 = on; }
    /// @brief C (CO1) = or += A (A2) x B (B2); m, k, n logical sizes.
    template <class C, class T>
    void mmad(local_tensor<C> c, local_tensor<T> a, local_tensor<T> b, uint32_t m, uint32_t k,
              uint32_t n, bool accumulate) {
        models::mmad_op op = mmad_of(c, a, b, m, k, n);
        op.accumulate = accumulate;
        m_core.issue(pipe_id::M, op);
    }
    /// @brief C (CO1) = A (A2) x B (B2) + the bias row in the bias table (C2), split chips.
    template <class C, class T>
    void mmad_bias(local_tensor<C> c, local_tensor<T> a, local_tensor<T> b, local_tensor<C> bias,
                   uint32_t m, uint32_t k, uint32_t n) {
        check_position("mmad", "bias", bias.pos, position::C2);
        models::mmad_op op = mmad_of(c, a, b, m, k, n);
        op.bias_table = true;
        op.bt = bias.offset;
        m_core.issue(pipe_id::M, op);
    }

    // --- vector (V pipe); count elements, contiguous; split into repeats and a masked tail ---
    template <class T>
    void add(local_tensor<T> d, local_tensor<T> a, local_tensor<T> b, uint64_t n) {
        vbin(models::vec_opcode::add, d, a, b, n);
    }
    template <class T>
    void sub(local_tensor<T> d, local_tensor<T> a, local_tensor<T> b, uint64_t n) {
        vbin(models::vec_opcode::sub, d, a, b, n);
    }
    template <class T>
    void mul(local_tensor<T> d, local_tensor<T> a, local_tensor<T> b, uint64_t n) {
        vbin(models::vec_opcode::mul, d, a, b, n);
    }
    /// @brief Any two-operand op (add, sub, mul, div, max, min, add_relu, sub_relu, and_, or_).
    template <class T>
    void vector_binary(models::vec_opcode op, local_tensor<T> d, local_tensor<T> a,
                       local_tensor<T> b, uint64_t n) {
        vbin(op, d, a, b, n);
    }
    template <class T>
    void div(local_tensor<T> d, local_tensor<T> a, local_tensor<T> b, uint64_t n) {
        vbin(models::vec_opcode::div, d, a, b, n);
    }
    template <class T>
    void max(local_tensor<T> d, local_tensor<T> a, local_tensor<T> b, uint64_t n) {
        vbin(models::vec_opcode::max, d, a, b, n);
    }
    template <class T>
    void min(local_tensor<T> d, local_tensor<T> a, local_tensor<T> b, uint64_t n) {
        vbin(models::vec_opcode::min, d, a, b, n);
    }
    /// @brief Unary and scalar forms: op is relu, exp, ln, sqrt, rsqrt, rec, tanh, sigmoid, abs,
    /// not_, copy, adds, muls, maxs, mins, lrelu (leaky relu with slope `scalar`), shl or shr
    /// (shift by `scalar` bits).
    template <class T>
    void unary(models::vec_opcode op, local_tensor<T> d, local_tensor<T> a, uint64_t n,
               float scalar = 0) {
        vbin(op, d, a, a, n, scalar);
    }
    /// @brief d = a op b, where b is one 32-byte block repeated across the whole row (a per-row
    /// scalar after brcb): add, sub, mul, div, max or min.
    template <class T>
    void binary_block(models::vec_opcode op, local_tensor<T> d, local_tensor<T> a,
                      local_tensor<T> block, uint64_t n) {
        vector_run(op, dtype_of<T>(), dtype_of<T>(), d.pos, d.offset, a.pos, a.offset, block.pos,
                   block.offset, n, 0, true);
    }
    /// @brief Fills block i of d (32 bytes) with src[i], for `count` values (Ascend Brcb). d
    /// must hold round_up(count, 8) blocks.
    template <class T>
    void brcb(local_tensor<T> d, local_tensor<T> src, uint64_t count) {
        brcb_run(dtype_of<T>(), d.pos, d.offset, src.pos, src.offset, count);
    }
    template <class T>
    void duplicate(local_tensor<T> d, float scalar, uint64_t n) {
        vbin(models::vec_opcode::dup, d, d, d, n, scalar);
    }
    /// @brief d = a converted, rounded by `round` (vconv; see docs/kernel-api.md for the pairs).
    template <class O, class I>
    void cast(local_tensor<O> d, local_tensor<I> a, uint64_t n,
              models::round_mode round = models::round_mode::rint);
    /// @brief Untyped cast of n elements: the dtypes and byte offsets given at run time.
    void convert(dtype dt, position dp, uint64_t d, dtype st, position sp, uint64_t s, uint64_t n,
                 models::round_mode round = models::round_mode::rint) {
        vector_run(models::vec_opcode::cast, st, dt, dp, d, sp, s, sp, s, n, 0, false, false,
                   round);
    }
    /// @brief d = a x b + d (mla), a x d + b (madd) or relu(a x d + b) (madd_relu); mla also
    /// accumulates fp16 sources into an fp32 d.
    template <class O, class I>
    void multiply_add(models::vec_opcode op, local_tensor<O> d, local_tensor<I> a,
                      local_tensor<I> b, uint64_t n) {
        vector_run(op, dtype_of<I>(), dtype_of<O>(), d.pos, d.offset, a.pos, a.offset, b.pos,
                   b.offset, n, 0);
    }
    /// @brief d = a x scalar + d (Axpy); fp16 a may accumulate into an fp32 d.
    template <class O, class I>
    void axpy(local_tensor<O> d, local_tensor<I> a, float scalar, uint64_t n) {
        vector_run(models::vec_opcode::axpy, dtype_of<I>(), dtype_of<O>(), d.pos, d.offset, a.pos,
                   a.offset, a.pos, a.offset, n, scalar);
    }
    /// @brief d = convert(relu(a + b)) (add_relu_conv) or convert(relu(a - b)) (sub_relu_conv).
    template <class O, class I>
    void relu_convert(models::vec_opcode op, local_tensor<O> d, local_tensor<I> a,
                      local_tensor<I> b, uint64_t n) {
        vector_run(op, dtype_of<I>(), dtype_of<O>(), d.pos, d.offset, a.pos, a.offset, b.pos,
                   b.offset, n, 0);
    }
    /// @brief d = convert(a x scale) (CastDeq with one scale: int32 -> fp16, int16 -> int8).
    template <class O, class I>
    void cast_deq(local_tensor<O> d, local_tensor<I> a, float scale, uint64_t n) {
        vector_run(models::vec_opcode::conv_deq, dtype_of<I>(), dtype_of<O>(), d.pos, d.offset,
                   a.pos, a.offset, a.pos, a.offset, n, scale);
    }
    /// @brief d[i] = convert(a[i] x scales[i % 16]) with 16 fp32 scales (CastDeq, vector scale).
    template <class O, class I>
    void cast_vdeq(local_tensor<O> d, local_tensor<I> a, local_tensor<float> scales, uint64_t n) {
        vector_run(models::vec_opcode::conv_vdeq, dtype_of<I>(), dtype_of<O>(), d.pos, d.offset,
                   a.pos, a.offset, scales.pos, scales.offset, n, 0, true);
    }
    /// @brief Per run of `n` contiguous elements: one result for each 256 bytes (reduce_sum,
    /// reduce_max, reduce_min), each 32-byte block (group_sum, group_max, group_min) or each
    /// pair (pair_sum), packed at d. n is a multiple of the run length.
    template <class T>
    void reduce(models::vec_opcode op, local_tensor<T> d, local_tensor<T> a, uint64_t n) {
        reduce_run(op, dtype_of<T>(), d.pos, d.offset, a.pos, a.offset, n);
    }
    /// @brief Per repeat, merges 4 sorted lists of 8-byte proposals (score of type T, uint32
    /// index at byte 4; 32 per list for fp16, 16 for fp32) into one by descending score
    /// (vmrgsort4). a and d hold `repeats` groups of 4 lists.
    template <class T>
    void merge_sort(local_tensor<T> d, local_tensor<T> a, uint32_t repeats) {
        check_vector_operand("merge_sort", "dst", d.pos);
        check_vector_operand("merge_sort", "src0", a.pos);
        models::vector_op v;
        v.op = models::vec_opcode::merge_sort;
        v.type = v.dst_type = dtype_of<T>();
        v.dst = d.offset;
        v.src0 = a.offset;
        for (uint32_t done = 0; done < repeats; done += v.repeats) {
            v.repeats = std::min<uint32_t>(255, repeats - done);
            m_core.issue(models::pipe_id::V, v);
            const uint64_t step = uint64_t(v.repeats) * (256 / sizeof(T)) * 8;
            v.dst += step;
            v.src0 += step;
        }
    }
    /// @brief d[i] = the element at byte offset offsets[i] from a, for n elements (Gather).
    template <class T>
    void gather(local_tensor<T> d, local_tensor<T> a, local_tensor<uint32_t> offsets, uint64_t n) {
        vector_run(models::vec_opcode::gather, dtype_of<T>(), dtype_of<T>(), d.pos, d.offset, a.pos,
                   a.offset, offsets.pos, offsets.offset, n, 0, false, true);
    }
    /// @brief One hand-built vector instruction (masks, repeats and strides as given).
    void vector(const models::vector_op& op) { m_core.issue(pipe_id::V, op); }

    // --- synchronisation ---
    void set_flag(pipe_id src, pipe_id dst, uint32_t id) {
        m_core.issue(src, models::flag_op{src, dst, id, true});
    }
    void wait_flag(pipe_id src, pipe_id dst, uint32_t id) {
        m_core.issue(dst, models::flag_op{src, dst, id, false});
    }
    void pipe_barrier(pipe_id p);
    void cross_core_set_flag(uint32_t id, pipe_id p) {
        m_core.issue(p, models::cross_flag_op{id, true});
    }
    void cross_core_wait_flag(uint32_t id, pipe_id p) {
        m_core.issue(p, models::cross_flag_op{id, false});
    }

    /// @brief The pipes that produce into and consume from a position on this core.
    pipe_id producer_of(position p) const;
    pipe_id consumer_of(position p) const;

  private:
    template <class C, class T>
    models::mmad_op mmad_of(local_tensor<C> c, local_tensor<T> a, local_tensor<T> b, uint32_t m,
                            uint32_t k, uint32_t n) const {
        check_position("mmad", "c", c.pos, position::CO1);
        check_position("mmad", "a", a.pos, position::A2);
        check_position("mmad", "b", b.pos, position::B2);
        models::mmad_op op;
        op.c = c.offset;
        op.a = a.offset;
        op.b = b.offset;
        op.m = m;
        op.k = k;
        op.n = n;
        op.in_type = dtype_of<T>();
        op.hf32 = m_hf32 && op.in_type == dtype::fp32;
        return op;
    }
    models::dma_request request(models::mem_space s, uint64_t src, models::mem_space d,
                                uint64_t dst) const;
    void copy_bytes(models::mem_space s, uint64_t src, models::mem_space d, uint64_t dst,
                    uint64_t bytes);
    void issue_dma(const models::dma_request& r);
    void fractal_load(models::layout_conv conv, position want, position dst_pos, uint64_t dst,
                      position src_pos, uint64_t src, uint32_t nz_rows, uint32_t row0,
                      uint32_t col0, uint32_t rows, uint32_t cols, dtype t, bool transpose);
    void check_position(const char* call, const char* operand, position got, position want) const;
    void check_vector_operand(const char* call, const char* operand, position got) const;
    template <class T>
    void vbin(models::vec_opcode op, local_tensor<T> d, local_tensor<T> a, local_tensor<T> b,
              uint64_t n, float scalar = 0) {
        vector_run(op, dtype_of<T>(), dtype_of<T>(), d.pos, d.offset, a.pos, a.offset, b.pos,
                   b.offset, n, scalar);
    }
    /// `b_block`: src1 is one 32-byte block read for every element group (strides 0);
    /// `b_offsets`: src1 holds a uint32 per element (a gather's offsets).
    void vector_run(models::vec_opcode op, dtype t, dtype dt, position dp, uint64_t d, position ap,
                    uint64_t a, position bp, uint64_t b, uint64_t n, float scalar,
                    bool b_block = false, bool b_offsets = false,
                    models::round_mode round = models::round_mode::rint);
    template <class I>
    void fixpipe_deq(dtype ot, uint64_t dst, dtype it, local_tensor<I> l0c, uint32_t rows,
                     uint32_t cols, uint64_t dst_stride, models::dma_request::deq_mode mode,
                     float scale, uint64_t fb) {
        check_position("fixpipe_dequant", "src", l0c.pos, position::CO1);
        models::dma_request r =
            request(models::mem_space::l0c, l0c.offset, models::mem_space::gm, dst);
        r.rows = rows;
        r.row_bytes = uint64_t(cols) * sizeof(I);
        r.dst_stride = dst_stride * models::dtype_size(ot);
        r.conv = models::layout_conv::nz2nd;
        r.src_type = it;
        r.dst_type = ot;
        r.c0_elems = 16;
        r.row_align = 16;
        r.deq = mode;
        r.deq_scale = scale;
        r.deq_fb = fb;
        issue_dma(r);
    }
    void reduce_run(models::vec_opcode op, dtype t, position dp, uint64_t d, position ap,
                    uint64_t a, uint64_t n);
    void brcb_run(dtype t, position dp, uint64_t d, position sp, uint64_t s, uint64_t count);

    models::ai_core& m_core;
    unsigned m_block, m_block_dim;
    bool m_hf32 = false;                // set_hf32_mode
    memory::buffer_manager m_buffers;   // indexed by mem_space
    std::vector<uint32_t> m_event_ids;  // next id per (src, dst) pipe pair
};

template <class O, class I>
void kernel_context::cast(local_tensor<O> d, local_tensor<I> a, uint64_t n,
                          models::round_mode round) {
    vector_run(models::vec_opcode::cast, dtype_of<I>(), dtype_of<O>(), d.pos, d.offset, a.pos,
               a.offset, a.pos, a.offset, n, 0, false, false, round);
}

/// @brief A queue between the pipe that produces into a position and the one that consumes
/// from it (TQue): alloc_tensor / enque on the producer side, deque / free_tensor on the
/// consumer side. The flags are inserted here; depth 2 gives double buffering.
template <class T>
class tque {
  public:
    tque(kernel_context& ctx, position pos, unsigned depth, uint64_t elems_per_buffer)
        : m_ctx(ctx),
          m_pos(pos),
          m_producer(ctx.producer_of(pos)),
          m_consumer(ctx.consumer_of(pos)) {
        m_bufs = ctx.alloc_queue<T>(pos, depth, elems_per_buffer);
        for (unsigned i = 0; i < depth; ++i) {
            m_fwd.push_back(ctx.alloc_event_id(m_producer, m_consumer));
            m_back.push_back(ctx.alloc_event_id(m_consumer, m_producer));
            m_used.push_back(false);
        }
    }
    /// @brief The next buffer; the producer waits until its previous consumer freed it.
    local_tensor<T> alloc_tensor() {
        const unsigned i = m_alloc++ % m_bufs.size();
        if (m_used[i]) m_ctx.wait_flag(m_consumer, m_producer, m_back[i]);
        m_used[i] = true;
        return m_bufs[i];
    }
    /// @brief The producer is done writing the tensor.
    void enque(const local_tensor<T>&) {
        m_ctx.set_flag(m_producer, m_consumer, m_fwd[m_enq++ % m_bufs.size()]);
    }
    /// @brief The consumer waits for the oldest enqueued tensor.
    local_tensor<T> deque() {
        const unsigned i = m_deq++ % m_bufs.size();
        m_ctx.wait_flag(m_producer, m_consumer, m_fwd[i]);
        return m_bufs[i];
    }
    /// @brief The consumer is done reading the tensor.
    void free_tensor(const local_tensor<T>&) {
        m_ctx.set_flag(m_consumer, m_producer, m_back[m_free++ % m_bufs.size()]);
    }
    pipe_id producer() const { return m_producer; }
    pipe_id consumer() const { return m_consumer; }

  private:
    kernel_context& m_ctx;
    position m_pos;
    pipe_id m_producer, m_consumer;
    std::vector<local_tensor<T>> m_bufs;
    std::vector<uint32_t> m_fwd, m_back;
    std::vector<bool> m_used;
    unsigned m_alloc = 0, m_enq = 0, m_deq = 0, m_free = 0;
};

}  // namespace npusim::kernel
