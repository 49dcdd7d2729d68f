#pragma once
#include <systemc>

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <string>
#include <vector>

#include "models/common/model_base.h"
#include "models/common/traffic.h"
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
    unsigned core = 0;            ///< the (first) core it ran on
    std::vector<unsigned> cores;  ///< every core of its unit (one, or a cube+vector group)
    ps_t start = 0, end = 0;
    std::string fault;
    /// Busy time of each pipe over the block, summed over the unit's cores (a core runs one
    /// block at a time, so its pipes' busy time between start and end is this block's).
    std::map<pipe_id, ps_t> pipe_busy;
    traffic mem;  ///< L2 and GM traffic of the unit's engines over the block
};

/// @brief Outcome of a kernel launch.
struct launch_record {
    std::string name;
    ps_t start = 0, end = 0;  ///< submission and completion of the last block
    std::vector<block_record> blocks;
    std::string fault;  ///< first block fault, empty if all blocks completed
};

/// @brief Hands the blocks of every submitted launch to free cores. Launches share the cores:
/// when they contend, the one with the smaller priority value goes first (then the earlier
/// submission); blocks of one launch go in block order to the lowest free core. No preemption:
/// a running block keeps its core.
class task_scheduler : public model_base {
  public:
    /// Body of a block, run on each core of the block's unit: (core, block index, block_dim).
    using block_fn = std::function<void(ai_core&, unsigned block, unsigned block_dim)>;

    /// @brief A kernel launch; `done` runs (in the simulation) once every block has ended.
    struct request {
        std::string name;
        unsigned block_dim = 1;
        kernel_kind kind = kernel_kind::cube;
        int priority = 0;  ///< smaller goes first
        block_fn body;
        std::function<void(const launch_record&)> done;
    };

    /// @param dispatch_ps device-side cost per launch: a launch's first block starts no sooner
    /// than this after it was submitted (reading the task, setting up the cores).
    task_scheduler(const sc_core::sc_module_name& nm, std::vector<ai_core*> cores, bool split,
                   ps_t dispatch_ps = 0);

    /// @brief Queues a launch and returns at once with its id.
    /// @throws std::invalid_argument if block_dim is 0 or the chip has no cores of that kind.
    uint64_t submit(request r);
    /// @brief Changes the priority of the blocks of launch `id` not yet started (no-op once it
    /// has ended).
    void set_priority(uint64_t id, int priority);

    /// @brief Runs a kernel to completion; blocks the calling (host) thread.
    launch_record launch(const std::string& name, unsigned block_dim, kernel_kind kind,
                         const block_fn& body, int priority = 0);

    /// @brief Number of units (cores or core groups) a kind of kernel can use at once.
    unsigned units(kernel_kind kind) const { return static_cast<unsigned>(units_of(kind).size()); }
    /// @brief Launches submitted and not finished, for deadlock reports.
    std::string blocked_report() const;
    /// @brief Adds a function called with every finished launch (a timeline writer, progress).
    void observe(std::function<void(const launch_record&)> fn) {
        m_observers.push_back(std::move(fn));
    }
    /// @brief Called when the first block of each launch starts (e.g. to flush L2).
    void on_launch_start(std::function<void()> fn) { m_on_launch_start = std::move(fn); }

  private:
    struct active {
        request req;
        uint64_t seq = 0;
        std::vector<std::vector<ai_core*>> units;
        launch_record rec;
        unsigned next_block = 0, running = 0;
        ps_t ready_at = 0;  ///< submission + the dispatch cost
    };
    std::vector<std::vector<ai_core*>> units_of(kernel_kind kind) const;
    void dispatch();
    void start(active& a, const std::vector<ai_core*>& unit);

    std::vector<ai_core*> m_cores;
    std::vector<bool> m_busy;  ///< by core id
    bool m_split;
    ps_t m_dispatch_ps;
    uint64_t m_seq = 0;
    std::list<active> m_active;  ///< stable addresses: blocks point at their launch
    sc_core::sc_event m_wake;
    std::vector<std::function<void(const launch_record&)>> m_observers;
    std::function<void()> m_on_launch_start;
};

}  // namespace npusim::models
