#pragma once
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/core/task_scheduler.h"
#include "platform/config/platform_config.h"
#include "sw/kernel/kernel_api.h"
#include "sw/ops/op_schema.h"
#include "sw/runtime/context.h"

namespace npusim::ops {

/// @brief An op with its arguments checked and its outputs inferred.
struct op_call {
    const op_schema* schema = nullptr;
    std::vector<memory::tensor_desc> inputs, outputs;
    attr_map attrs;  ///< every attribute, defaults filled in
};

/// @brief A kernel's host-side tiling: how many blocks, on which cores, with what per-block
/// parameters (`data`, the kernel's own struct) and how much workspace.
struct tiling_plan {
    unsigned block_dim = 1;
    models::kernel_kind kind = models::kernel_kind::vector;
    uint64_t workspace_bytes = 0;
    std::shared_ptr<const void> data;
    double flops = 0;     ///< for stats
    uint64_t bytes = 0;   ///< the tensors' bytes, for stats
    std::string summary;  ///< the tiling in words for profiles (empty: the block count only)
    /// A first launch of `prologue_blocks` blocks (0: none) before the kernel's, on the same
    /// stream, running the kernel's `prologue` (e.g. a sparse operand densified into the
    /// workspace).
    unsigned prologue_blocks = 0;
    models::kernel_kind prologue_kind = models::kernel_kind::vector;
};

/// @brief Device addresses of an op's inputs, outputs and workspace.
struct op_buffers {
    std::vector<uint64_t> inputs, outputs;
    uint64_t workspace = 0;
    /// A word shared by the blocks of one launch, zero at its start: a dynamic work queue's
    /// next index (registry::execute makes a fresh one per launch).
    std::shared_ptr<uint64_t> queue;
};

/// @brief One kernel of an op, for one dtype combination (inputs, then outputs).
struct op_kernel {
    std::string op, name;
    std::vector<models::dtype> dtypes;
    int priority = 0;  ///< the highest applicable priority wins
    /// @brief Whether the kernel handles these shapes on this platform (empty: always).
    std::function<bool(const op_call&, const platform::platform_config&)> applies;
    std::function<tiling_plan(const op_call&, const platform::platform_config&)> tile;
    std::function<void(kernel::kernel_context&, const op_call&, const tiling_plan&,
                       const op_buffers&)>
        body;
    /// @brief The first launch's body, named `prologue_name`, when the tiling asks for one.
    std::string prologue_name;
    std::function<void(kernel::kernel_context&, const op_call&, const tiling_plan&,
                       const op_buffers&)>
        prologue;
};

/// @brief A planned op (CANN aclnn's first phase): the call, the chosen kernel and its tiling.
/// A view, or an op whose outputs all have zero elements, has no kernel (`kernel` null,
/// `tiling.block_dim` 0): execute launches nothing.
struct op_plan {
    op_call call;
    const op_kernel* kernel = nullptr;
    tiling_plan tiling;
    /// @brief Whether executing the plan launches a kernel.
    bool launches() const { return kernel != nullptr; }
};

/// @brief Ops by name, each with its schema and kernels. Launch is two-phase, as CANN's aclnn
/// API: plan (checks, output inference, kernel choice, tiling, workspace size), then execute
/// on a stream.
class registry {
  public:
    /// @throws op_error if an op of that name exists (naming both registrations).
    void add_op(op_schema s, const std::string& where);
    /// @throws op_error if the op is unknown or a kernel for the same dtypes exists (naming
    /// both registrations).
    void add_kernel(op_kernel k, const std::string& where);

    /// @throws op_error for an unknown op, with the closest names.
    const op_schema& schema(const std::string& op) const;
    std::vector<std::string> names() const;
    std::vector<const op_kernel*> kernels(const std::string& op) const;

    /// @brief Checks the call (dtypes, attributes, shapes) and infers the outputs.
    /// @throws op_error naming the argument and what was expected.
    op_call call(const std::string& op, std::vector<memory::tensor_desc> inputs,
                 attr_map attrs) const;
    /// @brief Checks the call, infers the outputs, picks the kernel and tiles it.
    /// @throws op_error naming the argument and what was expected.
    op_plan plan(const std::string& op, std::vector<memory::tensor_desc> inputs, attr_map attrs,
                 const platform::platform_config& platform) const;
    /// @brief Launches a planned op on a stream (nothing for a view or empty outputs).
    /// `name` labels the launch in timelines and stats (default: the op's name).
    runtime::status execute(runtime::context& ctx, runtime::stream* s, const op_plan& p,
                            const op_buffers& buffers, const std::string& name = "") const;

    /// @brief Every op, its dtypes and its kernels, for `npusim ops`.
    std::string describe() const;

  private:
    struct entry {
        op_schema schema;
        std::string where;
        std::list<std::pair<op_kernel, std::string>> kernels;  ///< with where registered; stable
    };
    const entry& find(const std::string& op) const;
    std::map<std::string, entry> m_ops;
};

/// @brief "sw/ops/library.cpp:42" for registrations (the path from the source tree's sw/ on).
std::string source_location(const char* file, int line);
#define NPUSIM_HERE ::npusim::ops::source_location(__FILE__, __LINE__)

/// @brief The built-in operator library.
const registry& library();

}  // namespace npusim::ops
