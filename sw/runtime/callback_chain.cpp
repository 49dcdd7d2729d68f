// Callback chains: building them, and launching one as a task graph whose host nodes run the
// stages with their inputs, user data, retries and breaks.
#include "sw/runtime/callback_chain.h"

#include <fmt/format.h>

#include <stdexcept>

#include "sw/runtime/api_call.h"
#include "sw/runtime/context.h"

namespace npusim::runtime {

const char* to_string(chain_action a) {
    switch (a) {
        case chain_action::proceed:
            return "proceed";
        case chain_action::retry:
            return "retry";
        case chain_action::break_chain:
            return "break_chain";
        default:
            return "fail";
    }
}

callback_chain::node callback_chain::add_stage(const std::string& name, stage_fn fn,
                                               std::any user_data, const std::vector<node>& deps,
                                               unsigned max_retries) {
    if (!fn)
        throw std::invalid_argument("chain '" + this->name() + "': stage '" + name +
                                    "' has an empty callback");
    const node n = m_graph.add_host(
        name, [](status) {}, deps);  // bound at launch
    m_stages.push_back({std::move(fn), std::move(user_data), max_retries});
    return n;
}

callback_chain::node callback_chain::add_kernel(const std::string& name, unsigned block_dim,
                                                models::kernel_kind kind, kernel::kernel_fn fn,
                                                const std::vector<node>& deps) {
    const node n = m_graph.add_kernel(name, block_dim, kind, std::move(fn), deps);
    m_stages.emplace_back();
    return n;
}

std::vector<callback_chain::node> callback_chain::add_child(const std::string& name,
                                                            const callback_chain& child,
                                                            const std::vector<node>& deps) {
    auto last = m_graph.add_child(name, child.m_graph, deps);
    m_stages.insert(m_stages.end(), child.m_stages.begin(), child.m_stages.end());
    return last;
}

namespace {

/// One launch of a chain: its own copy of the chain, results, user data and block counts.
struct chain_run {
    callback_chain chain;
    std::vector<std::vector<unsigned>> preds;
    std::vector<std::any> results, user_data;
    std::vector<unsigned> attempts;
    std::vector<bool> done;  ///< ran to the end (proceed)
    std::vector<status> ended;
    std::string broken_at;
    std::map<uint64_t, unsigned> holders;       ///< block -> holders not yet ended
    std::vector<std::vector<uint64_t>> blocks;  ///< node -> blocks it holds
};

/// The host node of stage `i`: runs the stage's callback until it proceeds, breaks or fails.
callback_fn stage_node(const std::weak_ptr<runtime_state>& weak,
                       const std::shared_ptr<chain_run>& run, unsigned i) {
    return [weak, run, i](status) {
        auto self = weak.lock();
        if (!self) return;
        runtime_state& st = *self;
        const callback_chain::stage& stg = run->chain.stages()[i];
        const std::string& name = run->chain.graph().at(i).name;
        std::vector<std::any> inputs;
        for (unsigned p : run->preds[i]) inputs.push_back(run->results[p]);
        for (unsigned attempt = 0;; ++attempt) {
            if (attempt) st.api.delay(st.costs.callback_ps);  // dispatched again
            chain_call c{name, attempt, inputs, run->user_data[i], {}};
            chain_action a = chain_action::fail;
            std::string what;
            try {
                a = stg.fn(c);
            } catch (const std::exception& e) {
                if (st.api.unwinding()) throw;
                what = e.what();
                a = run->chain.policy() ? run->chain.policy()(name, what) : chain_action::fail;
            }
            run->attempts[i] = attempt + 1;
            switch (a) {
                case chain_action::proceed:
                    run->results[i] = std::move(c.result);
                    run->done[i] = true;
                    return;
                case chain_action::retry:
                    if (attempt < stg.max_retries) continue;
                    throw std::runtime_error(fmt::format(
                        "stage '{}' asked to retry after attempt {}; it allows {} retries "
                        "(add_stage's max_retries)",
                        name, attempt + 1, stg.max_retries));
                case chain_action::break_chain:
                    run->broken_at = name;
                    st.in_callback.at(st.api.current_thread())->break_graph = true;
                    return;
                case chain_action::fail:
                    throw std::runtime_error(
                        what.empty() ? "stage '" + name + "' returned chain_action::fail" : what);
            }
        }
    };
}

}  // namespace

status context::launch_chain(const callback_chain& chain, stream* handle,
                             const std::vector<chain_hold>& holds) {
    runtime_state& st = *m_state;
    call c(st, "launch_chain");
    status out = status::success;
    stream* s = nullptr;
    if (!c.host_thread(out) || !c.stream_arg(handle, s, out)) return out;
    if (chain.size() == 0)
        return c.fail(status::invalid_argument, "chain '" + chain.name() +
                                                    "' has no stages; add one with add_stage or "
                                                    "add_kernel");
    auto run = std::make_shared<chain_run>(chain_run{chain});
    const size_t n = chain.size();
    run->results.resize(n);
    run->attempts.assign(n, 0);
    run->done.assign(n, false);
    run->ended.assign(n, status::success);
    run->blocks.resize(n);
    for (unsigned i = 0; i < n; ++i) {
        run->preds.push_back(chain.graph().predecessors(i));
        run->user_data.push_back(chain.stages()[i].user_data);
    }
    for (size_t h = 0; h < holds.size(); ++h) {
        const chain_hold& hold = holds[h];
        if (st.memory.block_size(hold.addr) == 0)
            return c.fail(status::invalid_argument,
                          fmt::format("holds[{}]: 0x{:x} is not a live device block; pass an "
                                      "address from malloc",
                                      h, hold.addr));
        if (hold.holders.empty() || run->holders.count(hold.addr))
            return c.fail(status::invalid_argument,
                          fmt::format("holds[{}]: give each block once, with at least one "
                                      "holder node",
                                      h));
        for (auto node : hold.holders) {
            if (node >= n)
                return c.fail(status::invalid_argument,
                              fmt::format("holds[{}]: node {} does not exist (the chain has {} "
                                          "nodes)",
                                          h, node, n));
            run->blocks[node].push_back(hold.addr);
        }
        run->holders[hold.addr] = unsigned(hold.holders.size());
    }
    task_graph g = chain.graph();
    std::weak_ptr<runtime_state> weak = m_state;
    for (unsigned i = 0; i < n; ++i)
        if (chain.stages()[i].fn) g.set_host(i, stage_node(weak, run, i));
    graph_exec* exec = nullptr;
    if (status r = instantiate(exec, g); r != status::success) return r;
    exec->on_node_end = [weak, run](unsigned node, status result) {
        run->ended[node] = result;
        auto self = weak.lock();
        for (uint64_t addr : run->blocks[node])
            if (--run->holders[addr] == 0 && self) self->free_block(addr);
    };
    const status launched = launch_graph(exec, handle);
    (void)destroy_graph(exec);  // queued launches still run it
    if (launched != status::success) return launched;
    if (!chain.final_callback()) return status::success;
    task t;
    t.w = callback_work(chain.name() + "/final", [run](status before) {
        chain_outcome o;
        o.result = before;
        o.broken_at = run->broken_at;
        const task_graph& g = run->chain.graph();
        for (unsigned i = 0; i < g.size(); ++i) {
            o.ended[g.at(i).name] = run->ended[i];
            if (run->done[i]) o.results[g.at(i).name] = run->results[i];
            if (run->chain.stages()[i].fn) o.attempts[g.at(i).name] = run->attempts[i];
        }
        run->chain.final_callback()(o);
    });
    return submit(st, "launch_chain", handle, std::move(t), 0);
}

}  // namespace npusim::runtime
