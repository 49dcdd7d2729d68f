#pragma once
// The instructions the scalar unit issues into the pipes.
#include <cstdint>
#include <string>
#include <variant>

#include "models/core/dtype.h"
#include "models/core/vector_op.h"
#include "models/dma/dma_request.h"
#include "models/params.h"

namespace npusim::models {

/// @brief Cube multiply: C (L0C, NZ, fp32/int32) = or += A (L0A, ZZ) x B (L0B, ZN).
/// m, k, n are the logical sizes; operands are padded to whole fractals of the dtype.
struct mmad_op {
    uint64_t c = 0, a = 0, b = 0;  ///< byte offsets in L0C, L0A, L0B
    uint32_t m = 0, k = 0, n = 0;
    dtype in_type = dtype::fp16;  ///< fp16, bf16 (-> fp32) or int8 (-> int32)
    bool accumulate = false;
    /// fp32 inputs rounded to HF32 before the multiply (Ascend C SetHF32Mode).
    bool hf32 = false;
    /// Split chips: C starts from the bias row in BT (fp32, int32 for int8), not from zero or
    /// the accumulator.
    bool bias_table = false;
    uint64_t bt = 0;  ///< byte offset of the bias row in BT
    std::string describe() const;
};

/// @brief set_flag (runs in the src pipe) or wait_flag (runs in the dst pipe).
struct flag_op {
    pipe_id src = pipe_id::MTE2, dst = pipe_id::V;
    uint32_t id = 0;
    bool set = true;
};

/// @brief Cross-core flag between a split chip's cube core and its vector cores: a counter that
/// set increments on the partner core(s) and wait decrements on this core.
struct cross_flag_op {
    uint32_t id = 0;
    bool set = true;
};

/// @brief PipeBarrier<pipe>: the pipe's earlier work completes first.
struct barrier_op {};

using instruction =
    std::variant<dma_request, mmad_op, vector_op, flag_op, cross_flag_op, barrier_op>;

/// @brief Short text of an instruction for errors and traces.
std::string describe(const instruction& ins, pipe_id pipe);

}  // namespace npusim::models
