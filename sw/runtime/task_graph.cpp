#include "sw/runtime/task_graph.h"

#include <algorithm>
#include <stdexcept>

namespace npusim::runtime {

const char* to_string(work_kind k) {
    switch (k) {
        case work_kind::kernel:
            return "kernel";
        case work_kind::memcpy_h2d:
            return "memcpy_h2d";
        case work_kind::memcpy_d2h:
            return "memcpy_d2h";
        case work_kind::memcpy_d2d:
            return "memcpy_d2d";
        case work_kind::memset:
            return "memset";
        case work_kind::event_record:
            return "event_record";
        case work_kind::event_wait:
            return "event_wait";
        case work_kind::callback:
            return "callback";
        case work_kind::graph:
            return "graph";
    }
    return "?";
}

void task_graph::check(node n, const char* role) const {
    if (n >= m_nodes.size())
        throw std::invalid_argument("graph '" + m_name + "': " + role + " node " +
                                    std::to_string(n) + " does not exist (the graph has " +
                                    std::to_string(m_nodes.size()) + " nodes)");
}

task_graph::node task_graph::add(work w, const std::vector<node>& deps) {
    for (node d : deps) check(d, "dependency");
    const node n = static_cast<node>(m_nodes.size());
    m_nodes.push_back(std::move(w));
    m_succ.emplace_back();
    for (node d : deps) m_succ[d].push_back(n);
    return n;
}

task_graph::node task_graph::add_kernel(const std::string& name, unsigned block_dim,
                                        models::kernel_kind kind, kernel::kernel_fn fn,
                                        const std::vector<node>& deps) {
    work w;
    w.kind = work_kind::kernel;
    w.name = name;
    w.block_dim = block_dim;
    w.cores = kind;
    w.kernel = std::move(fn);
    return add(std::move(w), deps);
}

task_graph::node task_graph::add_memcpy_to_device(const std::string& name, uint64_t dst,
                                                  const void* src, uint64_t bytes,
                                                  const std::vector<node>& deps) {
    work w;
    w.kind = work_kind::memcpy_h2d;
    w.name = name;
    w.dst = dst;
    w.host_src = src;
    w.bytes = bytes;
    return add(std::move(w), deps);
}

task_graph::node task_graph::add_memcpy_to_host(const std::string& name, void* dst, uint64_t src,
                                                uint64_t bytes, const std::vector<node>& deps) {
    work w;
    w.kind = work_kind::memcpy_d2h;
    w.name = name;
    w.host_dst = dst;
    w.src = src;
    w.bytes = bytes;
    return add(std::move(w), deps);
}

task_graph::node task_graph::add_memcpy_on_device(const std::string& name, uint64_t dst,
                                                  uint64_t src, uint64_t bytes,
                                                  const std::vector<node>& deps) {
    work w;
    w.kind = work_kind::memcpy_d2d;
    w.name = name;
    w.dst = dst;
    w.src = src;
    w.bytes = bytes;
    return add(std::move(w), deps);
}

task_graph::node task_graph::add_memset(const std::string& name, uint64_t dst, uint8_t value,
                                        uint64_t bytes, const std::vector<node>& deps) {
    work w;
    w.kind = work_kind::memset;
    w.name = name;
    w.dst = dst;
    w.value = value;
    w.bytes = bytes;
    return add(std::move(w), deps);
}

task_graph::node task_graph::add_host(const std::string& name, callback_fn fn,
                                      const std::vector<node>& deps) {
    work w;
    w.kind = work_kind::callback;
    w.name = name;
    w.fn = std::move(fn);
    return add(std::move(w), deps);
}

void task_graph::add_edge(node from, node to) {
    check(from, "source");
    check(to, "target");
    m_succ[from].push_back(to);
}

std::vector<task_graph::node> task_graph::find_cycle() const {
    enum : uint8_t { unseen, on_path, finished };
    std::vector<uint8_t> color(m_nodes.size(), unseen);
    std::vector<node> path;
    // Iterative DFS: (node, next successor index) frames; a successor on the path closes a cycle.
    for (node root = 0; root < m_nodes.size(); ++root) {
        if (color[root] != unseen) continue;
        std::vector<std::pair<node, size_t>> stack{{root, 0}};
        color[root] = on_path;
        path.assign(1, root);
        while (!stack.empty()) {
            auto& [n, i] = stack.back();
            if (i == m_succ[n].size()) {
                color[n] = finished;
                stack.pop_back();
                path.pop_back();
                continue;
            }
            const node s = m_succ[n][i++];
            if (color[s] == on_path) {
                std::vector<node> cycle(std::find(path.begin(), path.end(), s), path.end());
                cycle.push_back(s);
                return cycle;
            }
            if (color[s] == unseen) {
                color[s] = on_path;
                path.push_back(s);
                stack.emplace_back(s, 0);
            }
        }
    }
    return {};
}

}  // namespace npusim::runtime
