#include "sw/runtime/task_graph.h"

#include <algorithm>
#include <stdexcept>

namespace npusim::runtime {

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
    return add(kernel_work(name, block_dim, kind, std::move(fn)), deps);
}

task_graph::node task_graph::add_memcpy_to_device(const std::string& name, uint64_t dst,
                                                  const void* src, uint64_t bytes,
                                                  const std::vector<node>& deps) {
    return add(to_device_work(name, dst, src, bytes), deps);
}

task_graph::node task_graph::add_memcpy_to_host(const std::string& name, void* dst, uint64_t src,
                                                uint64_t bytes, const std::vector<node>& deps) {
    return add(to_host_work(name, dst, src, bytes), deps);
}

task_graph::node task_graph::add_memcpy_on_device(const std::string& name, uint64_t dst,
                                                  uint64_t src, uint64_t bytes,
                                                  const std::vector<node>& deps) {
    return add(on_device_work(name, dst, src, bytes), deps);
}

task_graph::node task_graph::add_memset(const std::string& name, uint64_t dst, uint8_t value,
                                        uint64_t bytes, const std::vector<node>& deps) {
    return add(memset_work(name, dst, value, bytes), deps);
}

task_graph::node task_graph::add_host(const std::string& name, callback_fn fn,
                                      const std::vector<node>& deps) {
    return add(callback_work(name, std::move(fn)), deps);
}

std::vector<task_graph::node> task_graph::add_child(const std::string& name,
                                                    const task_graph& child,
                                                    const std::vector<node>& deps) {
    for (node d : deps) check(d, "dependency");
    const node base = static_cast<node>(m_nodes.size());
    std::vector<node> last;
    for (node n = 0; n < child.size(); ++n) {
        work w = child.at(n);
        w.name = name + "/" + w.name;
        std::vector<node> in;
        for (node p : child.predecessors(n)) in.push_back(base + p);
        add(std::move(w), in.empty() ? deps : in);
        if (child.successors(n).empty()) last.push_back(base + n);
    }
    return last;
}

void task_graph::set_host(node n, callback_fn fn) {
    check(n, "host");
    if (m_nodes[n].kind != work_kind::callback)
        throw std::invalid_argument("graph '" + m_name + "': node '" + m_nodes[n].name +
                                    "' is not a host node");
    m_nodes[n].fn = std::move(fn);
}

std::vector<task_graph::node> task_graph::predecessors(node n) const {
    check(n, "the");
    std::vector<node> out;
    for (node p = 0; p < m_nodes.size(); ++p)
        for (node s : m_succ[p])
            if (s == n) out.push_back(p);
    return out;
}

std::string task_graph::describe() const {
    std::string out = "graph '" + m_name + "': " + std::to_string(m_nodes.size()) + " nodes\n";
    for (node n = 0; n < m_nodes.size(); ++n) {
        const auto in = predecessors(n);
        out += "  '" + m_nodes[n].name + "' (" + to_string(m_nodes[n].kind) +
               "): " + std::to_string(in.size()) +
               (in.size() == 1 ? " dependency" : " dependencies");
        for (size_t i = 0; i < in.size(); ++i)
            out += (i ? ", '" : " ('") + m_nodes[in[i]].name + (i + 1 == in.size() ? "')" : "'");
        out += "; " + std::to_string(m_succ[n].size()) +
               (m_succ[n].size() == 1 ? " successor\n" : " successors\n");
    }
    return out;
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
