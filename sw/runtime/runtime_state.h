#pragma once
// Internals of the runtime shared by the context (API checks), the stream executors, the
// callback threads and the graph runner. Threads hold the state by shared_ptr, so it outlives
// the context until the last of them has returned.
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "platform/chip.h"
#include "platform/host_interface.h"
#include "platform/stats.h"
#include "sw/memory/caching_allocator.h"
#include "sw/memory/device_allocator.h"
#include "sw/runtime/context.h"
#include "sw/runtime/task_graph.h"

namespace npusim::runtime {

struct report;

/// @brief A stream task: the work plus what events and graphs need.
struct task {
    work w;
    uint64_t seq = 0;
    models::ps_t submitted = 0;
    event* ev = nullptr;     ///< event_record / event_wait
    uint64_t gen = 0;        ///< the record generation it completes or waits for
    int report_thread = -1;  ///< callbacks: the report thread, -1 = the runtime's own
    int priority = -1;       ///< callbacks: their place in the report queue (-1: the stream's)
    graph_exec* graph = nullptr;
    uint64_t flow = 0;  ///< timeline flow from the submitting call (0: none)
};

/// @brief One record of an event (a "generation").
struct event_record {
    bool done = false;
    models::ps_t time = 0;
    error_info result;                  ///< error of the recording stream's work, or cancellation
    std::string stream;                 ///< where it was recorded
    const struct stream* on = nullptr;  ///< the recording stream and its task number
    uint64_t seq = 0;
};

struct event {
    std::string name;
    uint64_t recorded = 0;  ///< records enqueued; generation g is records[g - 1]
    std::vector<event_record> records;
    platform::host_signal changed;
    bool destroyed = false;
    bool done(uint64_t gen) const {
        return gen >= 1 && gen <= records.size() && records[gen - 1].done;
    }
};

struct stream {
    std::string name;
    uint64_t id = 0;  ///< index in runtime_state::streams, its id for the allocator
    int priority = 4, base_priority = 4;
    bool adaptive = false;
    std::map<std::string, models::ps_t> fastest;  ///< adaptive: best dispatch-to-end by kernel
    uint64_t launch = ~uint64_t(0);               ///< the kernel it runs (scheduler id)
    failure_mode mode = failure_mode::continue_on_failure;
    bool mode_set = false, destroyed = false, stopped = false;
    std::deque<task> queue;
    uint64_t next_seq = 0;
    unsigned pending = 0;           ///< submitted and not finished, async callbacks included
    uint64_t done_prefix = 0;       ///< every task numbered below this has finished
    std::set<uint64_t> done_ahead;  ///< finished tasks above done_prefix
    error_info error;               ///< first failure since the last synchronize
    error_info stop_cause;          ///< why it stopped (stop on failure)
    int report_thread = -1;
    const task* current = nullptr;  ///< what the executor runs (deadlock reports)
    platform::host_signal work;     ///< a task was queued (or shutdown)
    platform::host_signal changed;  ///< a task finished
    platform::host_signal step;     ///< the current task's asynchronous part finished
};

/// @brief A callback on its way to a callback thread.
struct report {
    work w;
    status before = status::success;  ///< completion status of the work before it
    const stream* s = nullptr;        ///< stream task: its stream and number...
    uint64_t seq = 0;
    std::string graph_node;  ///< ...or the graph node it is, "graph 'g' node 'n' (...)"
    /// @brief Where it came from, for messages (built only when one is needed).
    std::string origin() const;
    error_info error;          ///< set if the callback threw
    bool break_graph = false;  ///< a graph host node asked to cancel the nodes not yet started
    int priority = 4;
    models::ps_t posted = 0;
    models::ps_t start = 0, end = 0;
    std::function<void(report&)> on_done;
};

/// @brief Callbacks waiting for one host thread (a report thread or the runtime's own).
struct report_queue {
    unsigned thread = 0;
    std::deque<std::shared_ptr<report>> items;
    platform::host_signal arrived;
    unsigned streams = 0;     ///< subscribed streams (report threads)
    bool by_priority = true;  ///< false: the runtime's own thread, strictly in order
    report_options opt;
    report_stats stats;
    bool mixed = false;  ///< callbacks of more than one priority waited since it was last empty
    /// @brief The callback that has waited longest (items must not be empty).
    std::deque<std::shared_ptr<report>>::iterator oldest();
    /// @brief Removes and returns the next callback: the first by priority, unless the oldest
    /// has waited past opt.starvation.
    std::shared_ptr<report> take(models::ps_t now);
};

/// @brief A frozen graph: its nodes and, per node, how many dependencies it has.
struct graph_exec {
    task_graph graph;
    std::vector<unsigned> indegree;
    bool destroyed = false;
    /// @brief Called as each node ends or is cancelled (callback chains count holders).
    std::function<void(unsigned node, status result)> on_node_end;
};

/// @brief Stream progress for the allocator's stream-aware reuse.
struct runtime_clock : memory::stream_clock {
    explicit runtime_clock(runtime_state& s) : st(s) {}
    uint64_t position(stream_id s) const override;
    bool passed(stream_id s, uint64_t mark) const override;
    void synchronize_all() override;
    runtime_state& st;
};

struct runtime_state {
    runtime_state(platform::chip& c, std::vector<platform::op_record>* o);

    platform::chip& chip;
    platform::host_interface& api;
    platform::host_api_params costs;
    std::vector<platform::op_record>* ops;
    bool shutdown = false;
    bool poisoning = false;           ///< memory.poison_freed: kernels are checked for freed reads
    memory::device_allocator driver;  ///< device memory as the driver hands it out
    runtime_clock clock{*this};
    memory::caching_allocator memory;
    std::map<uintptr_t, uint64_t> pinned;  ///< host buffers from malloc_host: start -> bytes

    std::vector<std::unique_ptr<stream>> streams;  ///< [0] is the default stream
    std::vector<std::unique_ptr<event>> events;
    std::vector<std::unique_ptr<graph_exec>> graphs;
    std::map<unsigned, std::unique_ptr<report_queue>> report_queues;  ///< by host thread
    report_queue* runtime_callbacks = nullptr;                        ///< host funcs, graphs
    std::deque<std::function<void()>> copy_jobs;                      ///< graph copy nodes
    platform::host_signal copy_arrived;
    unsigned copy_workers = 0, copy_idle = 0;

    std::deque<task_record> timeline;
    std::deque<memory_event> memory_history;
    void record_memory_event(const char* action, uint64_t addr, uint64_t bytes,
                             const std::string& stream = "", const std::string& tag = "");
    std::map<int, error_info> last_error;  ///< by host thread
    /// @brief What a blocked host thread waits for (deadlock reports and checks): the tasks
    /// of stream `s` numbered below `upto`, event record `gen` of `ev`, or the end of host
    /// thread `thread`.
    struct host_wait {
        std::string call;
        const stream* s = nullptr;
        const event* ev = nullptr;
        uint64_t gen = 0;
        int thread = -1;
        uint64_t upto = ~uint64_t(0);
    };
    std::map<int, host_wait> host_waits;  ///< by host thread
    std::set<unsigned> own_threads;       ///< threads the runtime started
    std::map<int, report*> in_callback;   ///< host thread -> callback it runs
    unsigned reporter = 0;

    /// @brief Starts one of the runtime's own threads.
    unsigned spawn_own(const std::string& name, std::function<void()> fn) {
        const unsigned id = api.spawn(name, std::move(fn));
        own_threads.insert(id);
        return id;
    }

    // --- stream execution (stream_executor.cpp) ---
    void start_executor(const std::shared_ptr<runtime_state>& self, stream& s);
    /// @brief Records the stream's error (first since sync) and stops it in stop mode.
    void fail(stream& s, const error_info& e);
    /// @brief Stops a stream: cancels its queue; later launches are refused.
    void stop(stream& s, const error_info& cause);
    void finish(stream& s, const task& t, models::ps_t start, status result);
    void end_task(stream& s, uint64_t seq);
    /// @brief Waits (host thread) until no stream has unfinished work.
    void wait_all_idle();

    void record_timeline(const std::string& stream, uint64_t seq, const work& w,
                         models::ps_t submitted, models::ps_t start, status result,
                         uint64_t flow = 0);
    /// @brief Changes a stream's priority and that of its kernel waiting for cores.
    void set_priority(stream& s, int priority);
    /// @brief Timeline counters: a stream's queue depth, device memory in use.
    void record_queue_depth(const stream& s) const;
    void record_memory_in_use() const;
    uint64_t flows = 0;  ///< timeline flow ids handed out
    /// @brief Frees a device block; a host thread pays what the allocator did (context_memory.cpp).
    bool free_block(uint64_t addr);
    /// @brief Runs blocking device work (copies, memset); returns the error, if any.
    error_info run_copy(const work& w);
    error_info kernel_error(const work& w, const std::string& where,
                            const models::launch_record& rec) const;
    /// @brief Records a finished kernel in `ops` (if kept); returns its first block's start.
    models::ps_t record_kernel(const work& w, const models::launch_record& rec);

    // --- callbacks (callbacks.cpp) ---
    report_queue& runtime_queue(const std::shared_ptr<runtime_state>& self);
    /// @brief The report queue of a program thread, created on first use.
    report_queue& report_queue_of(unsigned thread);
    void post(report_queue& q, std::shared_ptr<report> r);
    /// @brief Runs one callback on the calling thread after `dispatch` of host time (status,
    /// exceptions).
    void run_report(report& r, models::ps_t dispatch);

    // --- graphs (graph_runner.cpp) ---
    /// @brief Runs one launch of a graph for stream `s`; returns when every node has ended.
    error_info run_graph(const std::shared_ptr<runtime_state>& self, stream& s, graph_exec& g,
                         uint64_t seq);
    void post_copy(const std::shared_ptr<runtime_state>& self, std::function<void()> job);

    // --- deadlocks as they form (wait_for.cpp) ---
    /// @brief The wait-for cycle that host thread `me` starting wait `w` would close, in
    /// words with a fix, or "" if the wait can end.
    std::string closes_cycle(int me, const host_wait& w) const;
    /// @brief The cycle that task `t`, just queued on `s`, closes (through its own wait, the
    /// streams waiting on the record it is, or a blocked host thread), or "".
    std::string closes_cycle(const stream& s, const task& t) const;

    // --- diagnostics ---
    std::string blocked_report() const;
    /// @brief Why an event record is not done, e.g. "it was never recorded".
    static std::string event_detail(const event& e, uint64_t gen);
};

}  // namespace npusim::runtime
