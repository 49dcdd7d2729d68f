// One launch of a task graph: nodes start when their dependency count reaches zero.
#include "sw/runtime/runtime_state.h"

namespace npusim::runtime {

namespace {

/// Graph copy nodes run on up to this many runtime worker threads at once (DMA channels).
constexpr unsigned max_copy_workers = 4;

enum class node_state : uint8_t { idle, running, ended };

struct graph_run {
    graph_run(stream& st, graph_exec& ge, uint64_t q)
        : s(st), g(ge), seq(q), waiting(ge.indegree), state(ge.graph.size(), node_state::idle) {}
    stream& s;
    graph_exec& g;
    uint64_t seq;
    models::ps_t submitted = 0;
    std::vector<unsigned> waiting;
    std::vector<node_state> state;
    size_t ended = 0;
    error_info first;
};

using run_ptr = std::shared_ptr<graph_run>;

work node_work(const graph_run& run, unsigned i) {
    work w = run.g.graph.at(i);
    w.name = run.g.graph.name() + "/" + w.name;
    return w;
}

void start_node(const std::shared_ptr<runtime_state>& self, const run_ptr& run, unsigned i);

void end_node(runtime_state& st, const std::shared_ptr<runtime_state>& self, const run_ptr& run,
              unsigned i, models::ps_t start, const error_info& e, bool break_graph = false) {
    graph_run& r = *run;
    st.record_timeline(r.s.name, r.seq, node_work(r, i), r.submitted, start, e.code);
    r.state[i] = node_state::ended;
    ++r.ended;
    if (r.g.on_node_end) r.g.on_node_end(i, e.code);
    auto cancel = [&](unsigned n) {
        r.state[n] = node_state::ended;
        ++r.ended;
        st.record_timeline(r.s.name, r.seq, node_work(r, n), r.submitted, st.api.now(),
                           status::task_cancelled);
        if (r.g.on_node_end) r.g.on_node_end(n, status::task_cancelled);
    };
    if (break_graph) {  // a decision, not an error: nothing not yet started runs
        for (unsigned n = 0; n < r.state.size(); ++n)
            if (r.state[n] == node_state::idle) cancel(n);
    } else if (e.failed()) {
        if (!r.first.failed()) r.first = e;
        if (r.s.mode == failure_mode::stop_on_failure) {
            for (unsigned n = 0; n < r.state.size(); ++n)
                if (r.state[n] == node_state::idle) cancel(n);
        } else {  // only what depends on the failed node is skipped
            std::vector<unsigned> todo(r.g.graph.successors(i));
            while (!todo.empty()) {
                const unsigned n = todo.back();
                todo.pop_back();
                if (r.state[n] != node_state::idle) continue;
                cancel(n);
                for (unsigned s : r.g.graph.successors(n)) todo.push_back(s);
            }
        }
    } else {
        for (unsigned n : r.g.graph.successors(i))
            if (--r.waiting[n] == 0 && r.state[n] == node_state::idle) start_node(self, run, n);
    }
    if (r.ended == r.state.size()) r.s.step.notify();
}

void start_node(const std::shared_ptr<runtime_state>& self, const run_ptr& run, unsigned i) {
    runtime_state& st = *self;
    run->state[i] = node_state::running;
    const work& w = run->g.graph.at(i);
    const std::string origin = "graph '" + run->g.graph.name() + "' node '" + w.name + "' (" +
                               "stream '" + run->s.name + "' task #" + std::to_string(run->seq) +
                               ")";
    switch (w.kind) {
        case work_kind::kernel:
            st.api.submit_kernel(
                {w.name, w.block_dim, w.cores, run->s.priority, kernel::block_body(w.kernel),
                 [self, run, i, origin](const models::launch_record& rec) {
                     const work& w = run->g.graph.at(i);
                     const models::ps_t first = self->record_kernel(w, rec);
                     end_node(*self, self, run, i, first, self->kernel_error(w, origin, rec));
                 }});
            return;
        case work_kind::callback: {
            auto rep = std::make_shared<report>();
            rep->w = w;
            rep->graph_node = origin;
            rep->on_done = [self, run, i](report& r) {
                end_node(*self, self, run, i, r.start, r.error, r.break_graph);
            };
            st.post(st.runtime_queue(self), rep);
            return;
        }
        default:
            st.post_copy(self, [self, run, i, origin] {
                const models::ps_t start = self->api.now();
                error_info e = self->run_copy(run->g.graph.at(i));
                if (e.failed()) e.message = origin + ": " + e.message;
                end_node(*self, self, run, i, start, e);
            });
            return;
    }
}

}  // namespace

error_info runtime_state::run_graph(const std::shared_ptr<runtime_state>& self, stream& s,
                                    graph_exec& g, uint64_t seq) {
    auto run = std::make_shared<graph_run>(s, g, seq);
    run->submitted = api.now();
    if (g.graph.size() == 0) return {};
    for (unsigned i = 0; i < g.graph.size(); ++i)
        if (g.indegree[i] == 0) start_node(self, run, i);
    while (run->ended < g.graph.size()) s.step.wait();
    return run->first;
}

void runtime_state::post_copy(const std::shared_ptr<runtime_state>& self,
                              std::function<void()> job) {
    copy_jobs.push_back(std::move(job));
    copy_arrived.notify();
    if (copy_workers >= max_copy_workers || copy_jobs.size() <= copy_idle) return;
    ++copy_workers;
    spawn_own("runtime copies", [self] {
        runtime_state& st = *self;
        for (;;) {
            ++st.copy_idle;
            while (st.copy_jobs.empty() && !st.shutdown) st.copy_arrived.wait();
            --st.copy_idle;
            if (st.copy_jobs.empty()) return;
            std::function<void()> job = std::move(st.copy_jobs.front());
            st.copy_jobs.pop_front();
            job();
        }
    });
}

}  // namespace npusim::runtime
