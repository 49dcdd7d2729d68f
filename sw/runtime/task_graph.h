#pragma once
#include <string>
#include <vector>

#include "sw/runtime/work.h"

namespace npusim::runtime {

/// @brief A graph of device tasks and host callbacks, built once and launched many times
/// (context::instantiate, then context::launch_graph). Edges are dependencies; a node runs
/// once every node it depends on has completed.
class task_graph {
  public:
    using node = unsigned;

    explicit task_graph(std::string name = "graph") : m_name(std::move(name)) {}

    node add_kernel(const std::string& name, unsigned block_dim, models::kernel_kind kind,
                    kernel::kernel_fn fn, const std::vector<node>& deps = {});
    node add_memcpy_to_device(const std::string& name, uint64_t dst, const void* src,
                              uint64_t bytes, const std::vector<node>& deps = {});
    node add_memcpy_to_host(const std::string& name, void* dst, uint64_t src, uint64_t bytes,
                            const std::vector<node>& deps = {});
    node add_memcpy_on_device(const std::string& name, uint64_t dst, uint64_t src, uint64_t bytes,
                              const std::vector<node>& deps = {});
    node add_memset(const std::string& name, uint64_t dst, uint8_t value, uint64_t bytes,
                    const std::vector<node>& deps = {});
    /// @brief A host callback node; it runs on the runtime's callback thread.
    node add_host(const std::string& name, callback_fn fn, const std::vector<node>& deps = {});
    /// @brief A child graph: copies `child`'s nodes in, named "name/node", with their edges;
    /// its first nodes depend on `deps`. Returns its last nodes (those nothing in the child
    /// depends on), to use as the dependencies of what follows it.
    std::vector<node> add_child(const std::string& name, const task_graph& child,
                                const std::vector<node>& deps = {});
    /// @brief `to` runs after `from`.
    /// @throws std::invalid_argument naming the bad node id.
    void add_edge(node from, node to);
    /// @brief Replaces a host node's callback (callback_chain binds one per launch).
    void set_host(node n, callback_fn fn);

    const std::string& name() const { return m_name; }
    size_t size() const { return m_nodes.size(); }
    const work& at(node n) const { return m_nodes.at(n); }
    const std::vector<node>& successors(node n) const { return m_succ.at(n); }
    /// @brief What `n` depends on, in node order.
    std::vector<node> predecessors(node n) const;
    /// @brief One line per node: its kind, its dependency count and names, its successors.
    std::string describe() const;
    /// @brief The nodes of one cycle in order (first repeated at the end), empty if none.
    std::vector<node> find_cycle() const;

  private:
    node add(work w, const std::vector<node>& deps);
    void check(node n, const char* role) const;

    std::string m_name;
    std::vector<work> m_nodes;
    std::vector<std::vector<node>> m_succ;
};

}  // namespace npusim::runtime
