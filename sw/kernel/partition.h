#pragma once
// How a multi-core kernel hands its tiles (or tasks) to its blocks.
#include <cstdint>
#include <string>
#include <vector>

#include "sw/kernel/kernel_api.h"

namespace npusim::kernel {

/// @brief `uniform` deals the tiles out in turn (block b runs tiles b, b + blocks, ...); `cost`
/// assigns them ahead by estimated cost, each to the least-loaded block (longest first);
/// `steal` lets each block take the next tile from a queue shared by the launch (a GM atomic
/// per take) as it finishes the previous one.
enum class partition_kind : uint8_t { uniform, cost, steal };
const char* to_string(partition_kind k);
/// @brief The kind named `name`, or false.
bool partition_from_string(const std::string& name, partition_kind& out);

/// @brief The tiles of `costs` (estimated, any unit) assigned to `blocks` blocks, longest first
/// to the least-loaded block (ties: the lower index), each block's list in tile order.
std::vector<std::vector<uint32_t>> assign_by_cost(const std::vector<double>& costs,
                                                  unsigned blocks);

/// @brief The tasks one block runs, in order, by a partition; `tasks` when it has no more.
/// `assignment` (cost): each block's tasks; `queue` (steal): the launch's shared word.
class task_source {
  public:
    task_source(kernel_context& ctx, partition_kind kind, uint64_t tasks,
                const std::vector<std::vector<uint32_t>>* assignment, uint64_t* queue);
    uint64_t operator()();

  private:
    kernel_context& m_ctx;
    partition_kind m_kind;
    uint64_t m_tasks;
    const std::vector<std::vector<uint32_t>>* m_assignment;
    uint64_t* m_queue;
    uint64_t m_next;
    size_t m_taken = 0;
};

}  // namespace npusim::kernel
