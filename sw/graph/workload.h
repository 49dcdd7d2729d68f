#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/core/dtype.h"
#include "sw/ops/op_schema.h"

namespace npusim::graph {

/// @brief How a workload tensor starts out.
/// random: uniform in [mean - scale, mean + scale] (default 0 and 1); randint: uniform integers
/// 0..high-1 (e.g. gather indices into a table of `high` rows); constant: every element `value`;
/// sparse_index: the columns or offsets of a sparse operand's drawn pattern (tensor_decl::sparse);
/// data: the values in tensor_decl::data (an imported model's weights; no file form).
enum class tensor_init { none, random, zeros, ones, randint, constant, sparse_index, data };

/// @brief A sparse operand of a workload file (`sparse:` on a 2-D tensor): rows x cols stored
/// block-sparse in blocks of bm x bk, `density` of the blocks stored, drawn from `seed`.
/// The file's tensor `w` becomes three: `w.values` [blocks, bm, bk] (the tensor's dtype and
/// init), `w.columns` and `w.offsets` (int32), and an op input naming `w` names all three.
struct sparse_layout {
    uint64_t rows = 0, cols = 0, bm = 1, bk = 1;
    double density = 0, skew = 0;
    uint64_t seed = 0;
    enum class part { none, values, columns, offsets } what = part::none;
};

/// @brief A tensor of a workload file.
struct tensor_decl {
    std::string name;
    std::vector<int64_t> shape;
    models::dtype type = models::dtype::fp16;
    tensor_init init = tensor_init::none;
    uint64_t seed = 0;
    int64_t high = 0;  ///< randint's exclusive upper bound
    double scale = 1;  ///< random: uniform in [mean - scale, mean + scale]
    double mean = 0;
    double value = 0;      ///< constant
    sparse_layout sparse;  ///< the part of a sparse operand this tensor is, if any
    /// An int8 weight quantized offline (set by the precision pass, never by a file): each
    /// drawn value v is stored as saturate(rint(v / quant_step)); 0 = not quantized.
    double quant_step = 0;
    /// init data: the values, row-major, one per element (shared: copies of the tensor made
    /// by the precision pass do not copy them).
    std::shared_ptr<const std::vector<float>> data;
    std::string where;  ///< file:line:col of its entry
};

/// @brief An op of a workload file.
struct op_decl {
    std::string op;
    std::vector<std::string> inputs, outputs;
    ops::attr_map attrs;
    std::string stream;     ///< "" = the default stream
    std::string precision;  ///< the op's `precision` override ("" = the workload's policy)
    std::string where;
};

/// @brief A workload file (`schema: npusim.workload/1`, DESIGN §7): tensors and the ops that
/// read and write them, in program order.
struct workload {
    std::string name, source;
    /// `precision`: declared (the file's dtypes as written), fp32, bf16, fp16, int8 or auto
    /// (sw/graph/precision.h, docs/precision.md).
    std::string precision = "declared";
    std::string precision_where;  ///< file:line:col of the key, if given
    std::vector<tensor_decl> tensors;
    std::vector<op_decl> ops;
    const tensor_decl& tensor(const std::string& name) const;
};

/// @brief The three tensors of sparse operand `d` (its name, dtype, init and seed) with layout
/// `l` (`l.seed` draws the pattern): d.values, d.columns and d.offsets.
std::vector<tensor_decl> sparse_tensors(const tensor_decl& d, const sparse_layout& l);

/// @brief Whether `s` names a workload's precision (`whole`: declared, fp32, bf16, fp16, int8,
/// auto) or an op's (fp32, bf16, fp16, int8).
bool is_precision_level(const std::string& s, bool whole);

/// @brief Loads and checks a workload file: keys, shapes, dtypes, inits, that every op exists
/// in the operator library, that every tensor an op reads is declared or an earlier op's
/// output, that each tensor is written once and read only after it is written or initialised.
/// An op output that tensors: does not declare gets the shape and dtype the op infers.
/// @throws platform::config_error naming file:line:col, the key and a fix.
workload load_workload(const std::string& file);
/// @brief `w` as a workload file that loads back to the same tensors and ops: the tensors
/// read before written (with their inits and seeds) are declared, op outputs are left to
/// inference. Data tensors (an imported model's weights) have no file form: they are written
/// as random with their largest magnitude. `comment` opens the file (each line prefixed '# ').
std::string to_yaml(const workload& w, const std::string& comment = "");
workload load_workload_text(const std::string& yaml, const std::string& source);

}  // namespace npusim::graph
