#include "sw/kernel/partition.h"

#include <stdexcept>

#include <algorithm>

namespace npusim::kernel {

const char* to_string(partition_kind k) {
    switch (k) {
        case partition_kind::uniform:
            return "uniform";
        case partition_kind::cost:
            return "cost";
        case partition_kind::steal:
            return "steal";
    }
    return "?";
}

bool partition_from_string(const std::string& name, partition_kind& out) {
    for (partition_kind k : {partition_kind::uniform, partition_kind::cost, partition_kind::steal})
        if (name == to_string(k)) {
            out = k;
            return true;
        }
    return false;
}

std::vector<std::vector<uint32_t>> assign_by_cost(const std::vector<double>& costs,
                                                  unsigned blocks) {
    std::vector<uint32_t> order(costs.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return costs[a] > costs[b]; });
    std::vector<std::vector<uint32_t>> out(std::max(1u, blocks));
    std::vector<double> load(out.size(), 0);
    for (uint32_t i : order) {
        const size_t b = size_t(std::min_element(load.begin(), load.end()) - load.begin());
        load[b] += costs[i];
        out[b].push_back(i);
    }
    for (auto& v : out) std::sort(v.begin(), v.end());
    return out;
}

task_source::task_source(kernel_context& ctx, partition_kind kind, uint64_t tasks,
                         const std::vector<std::vector<uint32_t>>* assignment, uint64_t* queue)
    : m_ctx(ctx),
      m_kind(kind),
      m_tasks(tasks),
      m_assignment(assignment),
      m_queue(queue),
      m_next(ctx.block_idx()) {
    if (kind == partition_kind::steal && !queue)
        throw std::invalid_argument("partition steal needs the launch's queue");
    if (kind == partition_kind::cost && !assignment)
        throw std::invalid_argument("partition cost needs an assignment");
}

uint64_t task_source::operator()() {
    switch (m_kind) {
        case partition_kind::uniform: {
            const uint64_t task = m_next;
            m_next += m_ctx.block_num();
            return std::min(task, m_tasks);
        }
        case partition_kind::cost: {
            const auto& mine = m_assignment->at(m_ctx.block_idx());
            return m_taken < mine.size() ? mine[m_taken++] : m_tasks;
        }
        case partition_kind::steal: {
            // A launch takes tasks + blocks values of the word (each block stops at its first
            // value past the tasks), so a replayed launch starts its own round.
            const uint64_t round = m_tasks + m_ctx.block_num();
            const uint64_t v = m_ctx.atomic_add(*m_queue, 1) % round;
            return std::min(v, m_tasks);
        }
    }
    return m_tasks;
}

}  // namespace npusim::kernel
