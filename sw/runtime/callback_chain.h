#pragma once
#include <any>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sw/runtime/task_graph.h"

namespace npusim::runtime {

/// @brief What a chain stage decides once its callback has run (or thrown).
enum class chain_action {
    proceed,      ///< its successors may run
    retry,        ///< run the callback again, up to the stage's retry limit
    break_chain,  ///< cancel every stage not yet started; the final callback still runs
    fail,         ///< the stage fails: its dependents are skipped and the stream gets the error
};
const char* to_string(chain_action a);

/// @brief What a stage's callback is given and hands on.
struct chain_call {
    std::string stage;             ///< its full name, e.g. "model/decode"
    unsigned attempt = 0;          ///< 0, then 1, 2, ... when it is retried
    std::vector<std::any> inputs;  ///< the results of the stages it depends on, in stage order
    std::any& user_data;           ///< given when the stage was added; this launch's copy
    std::any result;               ///< handed to the stages that depend on it
};
using stage_fn = std::function<chain_action(chain_call&)>;
/// @brief Decides what a stage that threw does: proceed (its result stays empty), retry,
/// break_chain or fail.
using exception_policy =
    std::function<chain_action(const std::string& stage, const std::string& what)>;

/// @brief How a chain launch ended, for its final callback.
struct chain_outcome {
    status result = status::success;  ///< the stream's status after the chain (a break is no error)
    std::string broken_at;            ///< the stage that broke the chain, or ""
    std::map<std::string, std::any> results;   ///< every stage that ran to the end, by name
    std::map<std::string, status> ended;       ///< every node: success, its error or cancelled
    std::map<std::string, unsigned> attempts;  ///< host stages: how many times they ran
};

/// @brief A device block a chain launch takes over: freed when the last of `holders` (stage
/// or kernel nodes) has ended or been cancelled.
struct chain_hold {
    uint64_t addr = 0;
    std::vector<task_graph::node> holders;
};

/// @brief A callback chain in CANN's sense, on top of a task graph: host stages whose
/// callbacks get the results of the stages before them and user data, device kernels between
/// them, child chains composed in, a per-exception policy, and a final callback. Launch it
/// with context::launch_chain; each launch has its own results and user-data copies.
class callback_chain {
  public:
    using node = task_graph::node;

    explicit callback_chain(std::string name = "chain") : m_graph(std::move(name)) {}

    /// @brief A host stage; its callback runs on the runtime's callback thread and may launch.
    node add_stage(const std::string& name, stage_fn fn, std::any user_data = {},
                   const std::vector<node>& deps = {}, unsigned max_retries = 3);
    node add_kernel(const std::string& name, unsigned block_dim, models::kernel_kind kind,
                    kernel::kernel_fn fn, const std::vector<node>& deps = {});
    /// @brief Composes `child` in (its stages named "name/stage"); returns its last nodes.
    std::vector<node> add_child(const std::string& name, const callback_chain& child,
                                const std::vector<node>& deps = {});
    void set_exception_policy(exception_policy p) { m_policy = std::move(p); }
    /// @brief Runs after every node has ended or been cancelled, on the runtime's callback
    /// thread, as one more task on the chain's stream.
    void on_final(std::function<void(const chain_outcome&)> fn) { m_final = std::move(fn); }

    const std::string& name() const { return m_graph.name(); }
    size_t size() const { return m_graph.size(); }
    /// @brief Each node with its dependency count and names, and its successor count.
    std::string describe() const { return m_graph.describe(); }

    /// @cond internal: what context::launch_chain reads.
    struct stage {
        stage_fn fn;  ///< empty for a kernel node
        std::any user_data;
        unsigned max_retries = 3;
    };
    const task_graph& graph() const { return m_graph; }
    const std::vector<stage>& stages() const { return m_stages; }
    const exception_policy& policy() const { return m_policy; }
    const std::function<void(const chain_outcome&)>& final_callback() const { return m_final; }
    /// @endcond

  private:
    task_graph m_graph;
    std::vector<stage> m_stages;  ///< by node
    exception_policy m_policy;
    std::function<void(const chain_outcome&)> m_final;
};

}  // namespace npusim::runtime
