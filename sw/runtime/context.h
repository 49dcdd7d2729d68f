#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/common/timing.h"
#include "platform/chip.h"
#include "platform/stats.h"
#include "sw/memory/caching_allocator.h"
#include "sw/memory/tensor.h"
#include "sw/runtime/callback_chain.h"
#include "sw/runtime/status.h"
#include "sw/runtime/task_graph.h"
#include "sw/runtime/work.h"

namespace npusim::runtime {

struct runtime_state;
struct stream;
struct event;
struct graph_exec;

/// @brief What a stream does after one of its tasks fails.
enum class failure_mode {
    continue_on_failure,  ///< later work runs; the error surfaces at the next synchronize
    stop_on_failure,      ///< queued work and its dependents are cancelled; launches refused
};

/// @brief Whether later work on a stream waits for a callback.
enum class callback_block { block, no_block };

/// @brief Stream creation options. Priority 0 is the highest, 7 the lowest.
struct stream_options {
    std::string name;
    int priority = 4;
    failure_mode mode = failure_mode::continue_on_failure;
    /// Adaptive priority: a kernel still running at 1.5x its expected time promotes the
    /// stream a level (and again at every further 1.5x); one done in under 0.5x demotes it a
    /// level, never more than 2 below `priority` (the starvation guard).
    bool adaptive = false;
};

/// @brief How a report thread takes its callbacks.
struct report_options {
    unsigned batch = 1;       ///< callbacks delivered per dispatch, at most
    models::ps_t window = 0;  ///< after the first arrives, wait this long for a batch to fill
    /// A callback that has waited longer than this goes first, whatever its priority.
    models::ps_t starvation = 1000000000;  // 1 ms
};

/// @brief What a report thread has delivered.
struct report_stats {
    uint64_t dispatches = 0;  ///< process_report calls that ran callbacks
    uint64_t callbacks = 0;
};

/// @brief Simulated time for "wait forever".
inline constexpr models::ps_t forever = ~models::ps_t(0);

/// @brief One finished (or cancelled) stream task or graph node, for timelines and tests.
struct task_record {
    std::string stream;  ///< stream name
    uint64_t seq = 0;    ///< task number on its stream
    std::string kind;    ///< work_kind name
    std::string name;
    models::ps_t submitted = 0, start = 0, end = 0;
    status result = status::success;
    int64_t memory_allocated = 0;  ///< device bytes in allocated blocks when it ended
};

/// @brief One allocator call in the memory history.
struct memory_event {
    models::ps_t time = 0;
    std::string action;  ///< "alloc" or "free"
    uint64_t addr = 0, bytes = 0;
    std::string stream, tag;  ///< alloc: the stream it is for and its tag
    int64_t allocated_after = 0;
};

/// @brief Device memory now and how it got there (context::memory_snapshot, in the manner of
/// PyTorch's memory_snapshot and memory history).
struct memory_state {
    std::vector<memory::segment_snapshot> segments;
    std::deque<memory_event> history;  ///< oldest first; the last 100,000 calls
};

/// @brief The async runtime on a chip, in the CANN/CUDA style: streams, events, host
/// callbacks, task graphs and errors. Call it from simulated host threads (the host program or
/// threads from spawn_host_thread); every call costs the simulated time the platform's
/// `host_api.*` keys give. Calls return a status; a failing call also sets the calling thread's
/// last error, whose message says what was wrong and how to fix it.
class context {
  public:
    /// @param ops if given, kernels and copies are appended as stats ops when they finish.
    explicit context(platform::chip& chip, std::vector<platform::op_record>* ops = nullptr);
    /// @brief Waits for all streams (unless unwinding after a deadlock), then stops the
    /// runtime's threads.
    ~context();
    context(const context&) = delete;
    context& operator=(const context&) = delete;

    // --- streams (nullptr = the default stream) ---
    status create_stream(stream*& out, const stream_options& opt = {});
    /// @brief Waits for the stream's work, then destroys it.
    status destroy_stream(stream* s);
    /// @brief Sets the failure mode; allowed once per stream.
    status set_failure_mode(stream* s, failure_mode mode);
    /// @brief Waits until everything submitted to the stream has finished (callbacks too);
    /// returns the first error since the last synchronize, if any.
    status synchronize(stream* s = nullptr, models::ps_t timeout = forever);
    status synchronize_device(models::ps_t timeout = forever);
    status query(stream* s, bool& complete);
    /// @brief Sets a stream's priority (0 highest .. 7); kernels waiting for cores take it at once.
    status set_stream_priority(stream* s, int priority);
    status stream_priority(stream* s, int& priority) const;

    // --- device memory (a caching allocator; settings from the platform's memory.* keys) ---
    /// @brief Allocates device memory for use on `s`. A block served from the cache costs
    /// host_api.cached_malloc; one that reaches the driver costs host_api.malloc. device_oom
    /// (after releasing the cache and retrying once) if it does not fit.
    status malloc(uint64_t& addr, int64_t bytes, stream* s = nullptr, const std::string& tag = "");
    /// @brief Frees a block. It is reused on its stream at once, on other streams once the
    /// stream's work submitted so far has completed.
    status free(uint64_t addr);
    /// @brief The block at `addr` is also used by stream `s`: once freed, it waits for that
    /// stream's work too.
    status record_stream(uint64_t addr, stream* s);
    /// @brief Waits for all streams, then returns every unused cached segment to the driver.
    status empty_cache();
    /// @brief Statistics with PyTorch's memory_stats() keys.
    std::map<std::string, int64_t> memory_stats() const;
    void reset_peak_memory_stats();
    /// @brief A table of the statistics in the manner of PyTorch's memory_summary().
    std::string memory_summary() const;
    /// @brief Every segment and block now, and the history of allocations and frees.
    memory_state memory_snapshot() const;
    /// @brief Allocates a tensor; its block is freed when the handle goes. The size follows
    /// the format's padding; the allocation honours the descriptor's alignment.
    status alloc_tensor(memory::device_tensor& out, const memory::tensor_desc& desc,
                        stream* s = nullptr);
    /// @brief Pinned host memory: copies from it are truly asynchronous. Copies from other
    /// (pageable) host memory return only once they have run, as on the real runtime.
    status malloc_host(void*& ptr, int64_t bytes);
    status free_host(void* ptr);

    // --- work ---
    status launch(stream* s, const std::string& name, unsigned block_dim, models::kernel_kind kind,
                  kernel::kernel_fn fn, double flops = 0, uint64_t bytes = 0);
    /// @brief A launch labelled with its op, kernel and tiling (stats `ops[]`, `--profile`).
    status launch(stream* s, const std::string& name, unsigned block_dim, models::kernel_kind kind,
                  kernel::kernel_fn fn, const kernel_info& info);
    /// @brief Host->device copy; `src` must stay valid until the copy has run.
    status memcpy_to_device(stream* s, uint64_t dst, const void* src, uint64_t bytes);
    /// @brief Device->host copy; `dst` must stay valid until the copy has run.
    status memcpy_to_host(stream* s, void* dst, uint64_t src, uint64_t bytes);
    status memcpy_on_device(stream* s, uint64_t dst, uint64_t src, uint64_t bytes);
    status memset(stream* s, uint64_t dst, uint8_t value, uint64_t bytes);

    // --- events ---
    status create_event(event*& out, const std::string& name = "");
    /// @brief Destroys the handle; a pending record still completes for streams waiting on it.
    status destroy_event(event* e);
    /// @brief Captures the work submitted to `s` so far; the event completes when it has run.
    status record_event(event* e, stream* s);
    /// @brief Work submitted to `s` after this call waits for the event's latest record (or,
    /// if it was never recorded, for its first record).
    status stream_wait_event(stream* s, event* e);
    status synchronize_event(event* e, models::ps_t timeout = forever);
    /// @brief Complete if the latest record has run; an event never recorded is not complete.
    status query_event(event* e, bool& complete);
    /// @brief Time between two completed records, in milliseconds.
    status event_elapsed_time(double& ms, event* start, event* end);

    // --- host callbacks ---
    /// @brief Starts a simulated host thread (e.g. a report thread); returns its id.
    unsigned spawn_host_thread(const std::string& name, std::function<void()> fn);
    /// @brief Waits until a thread from spawn_host_thread has returned.
    status join_host_thread(unsigned thread);
    /// @brief Id of the calling host thread.
    int current_thread() const;
    /// @brief Callbacks launched on `s` will run in host thread `thread`, inside its
    /// process_report calls. A stream has one report thread; a thread may serve many streams.
    status subscribe_report(unsigned thread, stream* s);
    status unsubscribe_report(unsigned thread, stream* s);
    /// @brief Runs the next callback (or batch, see set_report_options) for the calling
    /// thread's streams; waits up to `timeout` (forever by default; 0 is rejected).
    /// report_timeout if none came.
    status process_report(models::ps_t timeout = forever);
    /// @brief Batching and starvation settings of report thread `thread`.
    status set_report_options(unsigned thread, const report_options& opt);
    report_stats report_statistics(unsigned thread) const;
    /// @brief Enqueues a callback that runs in the stream's report thread. Waiting callbacks
    /// are taken by `priority` (0 first; -1: the stream's), then in order.
    status launch_callback(stream* s, callback_fn fn, callback_block block,
                           const std::string& name = "callback", int priority = -1);
    /// @brief Enqueues a blocking callback on the runtime's own callback thread.
    status launch_host_func(stream* s, callback_fn fn, const std::string& name = "host_func");

    // --- task graphs ---
    /// @brief Checks and freezes a graph; a cycle is rejected with its nodes named.
    status instantiate(graph_exec*& out, const task_graph& g);
    status launch_graph(graph_exec* g, stream* s);
    status destroy_graph(graph_exec* g);

    // --- callback chains ---
    /// @brief Launches a chain on `s` as one graph (one host launch), then its final callback.
    /// The runtime takes over the blocks in `holds` and frees each when its last holder ends.
    status launch_chain(const callback_chain& c, stream* s,
                        const std::vector<chain_hold>& holds = {});

    // --- errors and introspection ---
    /// @brief The calling thread's last error; cleared by this call.
    error_info get_last_error();
    /// @brief The calling thread's last error; not cleared.
    error_info peek_last_error() const;
    /// @brief Tasks submitted to `s` so far (nullptr: the default stream), which is the `seq`
    /// its next task gets; 0 for a stream that is not this context's. Costs no host time.
    uint64_t submitted(stream* s) const;
    /// @brief Every finished stream task and graph node, in completion order.
    const std::deque<task_record>& timeline() const;
    /// @brief The timeline as text, one task per line (deterministic, for diffs).
    std::string timeline_text() const;

  private:
    std::shared_ptr<runtime_state> m_state;
};

}  // namespace npusim::runtime
