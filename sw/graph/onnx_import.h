#pragma once
// ONNX models as workloads (docs/onnx.md): the graph's nodes become the library's ops, with the
// usual inference-time fusions, and its inputs and initializers become tensors.
#include <string>

#include "sw/graph/workload.h"

namespace npusim::graph {

/// @brief How an ONNX model becomes a workload.
struct onnx_options {
    /// The dtype of the model's fp32 tensors: fp16 by default, as the cube computes in fp16
    /// (ATC's force_fp16); fp32 keeps them.
    models::dtype float_type = models::dtype::fp16;
};

/// @brief Imports an ONNX model file (ModelProto, read with Debian's ONNX protobuf library).
///
/// Nodes map to ops (Conv -> conv2d, MatMul/Gemm -> matmul, ...); Conv + BatchNormalization
/// (or a Conv bias) become conv2d + a per-channel add, MatMul + Add of a 1-D constant becomes
/// matmul_bias, a Transpose of the last two dims feeding MatMul's B becomes transpose_b, Gemm's
/// constant transposed B is stored transposed. Initializers become tensors holding their
/// values (folded where a fusion changes them); an initializer with dims but no data (a model
/// saved with shapes only) is drawn at random with magnitude 0.1. Graph inputs are random.
/// @throws platform::config_error naming the file, the node (name, op type) and a fix: an
/// unsupported op names the nearest supported one.
workload import_onnx(const std::string& file, const onnx_options& opt = {});
/// @brief The same from the bytes of a model; `source` names it in errors.
workload import_onnx_bytes(const std::string& bytes, const std::string& source,
                           const onnx_options& opt = {});

/// @brief Whether `path` names an ONNX model (by its .onnx extension).
bool is_onnx_path(const std::string& path);

}  // namespace npusim::graph
