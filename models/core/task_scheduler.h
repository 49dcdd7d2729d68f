#pragma once
#include <systemc>

#include <functional>
#include <string>
#include <vector>

#include "models/common/model_base.h"
#include "models/core/ai_core.h"

namespace npusim::models {

/// @brief Which cores a kernel's blocks run on.
enum class kernel_kind : uint8_t {
    cube,    ///< cube cores (coupled: AI cores)
    vector,  ///< vector cores (coupled: AI cores)
    mix,     ///< a cube core with its two vector cores per block (coupled: AI cores)
};
const char* to_string(kernel_kind k);

/// @brief Timing of one block of a launch.
struct block_record {
    unsigned block = 0;
    unsigned core = 0;  ///< the (first) core it ran on
    ps_t start = 0, end = 0;
    std::string fault;
};

/// @brief Outcome of a kernel launch.
struct launch_record {
    std::string name;
    ps_t start = 0, end = 0;
    std::vector<block_record> blocks;
    std::string fault;  ///< first block fault, empty if all blocks completed
};

/// @brief Hands the `block_dim` blocks of a launch to free cores in block order, lowest free
/// core first, and reports completion with per-block timing.
class task_scheduler : public model_base {
  public:
    /// Body of a block, run on each core of the block's unit: (core, block index, block_dim).
    using block_fn = std::function<void(ai_core&, unsigned block, unsigned block_dim)>;

    task_scheduler(const sc_core::sc_module_name& nm, std::vector<ai_core*> cores, bool split);

    /// @brief Runs a kernel to completion; blocks the calling (host) thread.
    launch_record launch(const std::string& name, unsigned block_dim, kernel_kind kind,
                         const block_fn& body);

    /// @brief Number of units (cores or core groups) a kind of kernel can use at once.
    unsigned units(kernel_kind kind) const { return static_cast<unsigned>(units_of(kind).size()); }

  private:
    std::vector<std::vector<ai_core*>> units_of(kernel_kind kind) const;

    std::vector<ai_core*> m_cores;
    bool m_split;
    sc_core::sc_event m_unit_done;
};

}  // namespace npusim::models
