#include "sw/kernel/partition.h"

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

}  // namespace npusim::kernel
