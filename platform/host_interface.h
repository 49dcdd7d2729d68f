#pragma once
#include <systemc>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/common/timing.h"
#include "models/core/task_scheduler.h"

namespace npusim::platform {

class chip;

/// @brief A condition host-side threads wait on; wraps a SystemC event so host software never
/// touches SystemC itself.
class host_signal {
  public:
    /// @brief Wakes every thread waiting now, one delta cycle later.
    void notify() { m_event.notify(sc_core::SC_ZERO_TIME); }
    /// @brief Waits for the next notify (call from a host thread).
    void wait() { sc_core::wait(m_event); }
    /// @brief Waits for the next notify or `timeout`; false if the time ran out first.
    bool wait_for(models::ps_t timeout);

  private:
    sc_core::sc_event m_event;
};

/// @brief A span of host-side activity for timelines: `group` is a track group ("host",
/// "streams"), `track` a thread or stream, `name` what ran.
struct activity_span {
    std::string group, track, name;
    models::ps_t start = 0, end = 0;
    /// A host call that queued work starts a flow (`flow_out`) the work's span ends
    /// (`flow_in`); 0: none.
    uint64_t flow_out = 0, flow_in = 0;
    std::vector<std::pair<std::string, std::string>> args{};  ///< shown with the span
};

/// @brief What host software may do to the simulated platform: time, simulated host threads,
/// kernel launches, copies, and deadlock diagnostics. The runtime is built on this alone.
class host_interface {
  public:
    explicit host_interface(chip& c) : m_chip(c) {}

    models::ps_t now() const { return models::now_ps(); }
    /// @brief Spends `ps` of simulated time on the calling host thread.
    void delay(models::ps_t ps);

    /// @brief Starts a simulated host thread; returns its id. `fn` runs at the current time.
    unsigned spawn(const std::string& name, std::function<void()> fn);
    /// @brief Waits until host thread `id` has returned (call from another host thread).
    void join(unsigned id);
    /// @brief Id of the calling host thread, or -1 if it was not started by spawn().
    int current_thread() const;
    const std::string& thread_name(unsigned id) const { return m_threads.at(id).name; }
    unsigned thread_count() const { return static_cast<unsigned>(m_threads.size()); }
    /// @brief True while the calling thread is being unwound after a deadlock (no waiting).
    bool unwinding() const;
    /// @brief True if a spawned thread has not ended.
    bool threads_alive() const;
    /// @brief True if host thread `id` has not ended.
    bool alive(unsigned id) const { return !m_threads.at(id).handle.terminated(); }
    /// @brief Kills every spawned thread still alive; call from a SystemC process.
    void kill_threads();

    /// @brief Units (cores or core groups) a kind of kernel can use; 0 if the chip has none.
    unsigned units(models::kernel_kind kind) const;
    /// @brief Queues a kernel on the task scheduler; `r.done` runs when it ends.
    uint64_t submit_kernel(models::task_scheduler::request r);
    void set_kernel_priority(uint64_t launch, int priority);
    /// @brief Blocking copies and fills (call from a host thread); throw models::model_fault.
    void copy_to_device(uint64_t dst, const void* src, uint64_t n);
    void copy_to_host(void* dst, uint64_t src, uint64_t n);
    void copy_on_device(uint64_t dst, uint64_t src, uint64_t n);
    void fill_device(uint64_t dst, uint8_t value, uint64_t n);
    uint64_t device_capacity() const;
    /// @brief Debug: marks device memory freed (reads of it are recorded) or live again.
    void poison(uint64_t addr, uint64_t len, bool freed);
    /// @brief Reads of freed device memory between two times: "N bytes at GM[0x...]" each.
    std::vector<std::string> freed_reads(models::ps_t from, models::ps_t to) const;

    /// @brief Timelines: where activity spans go (none by default, so recording costs nothing).
    void set_span_sink(std::function<void(activity_span)> sink) { m_span_sink = std::move(sink); }
    bool spans_on() const { return bool(m_span_sink); }
    void record_span(activity_span s) const {
        if (m_span_sink) m_span_sink(std::move(s));
    }
    /// @brief Timelines: where sampled values go (device memory in use, queue depths).
    void set_counter_sink(std::function<void(const std::string&, models::ps_t, double)> sink) {
        m_counter_sink = std::move(sink);
    }
    void record_counter(const std::string& name, double value) const {
        if (m_counter_sink) m_counter_sink(name, now(), value);
    }

    /// @brief Adds a source of "what waits on what" lines for deadlock reports; returns its
    /// key for remove_reporter.
    unsigned add_reporter(std::function<std::string()> fn);
    void remove_reporter(unsigned key);
    /// @brief Lines from every reporter and the chip's blocked units.
    std::string blocked_report() const;

  private:
    struct thread {
        std::string name;
        sc_core::sc_process_handle handle;
    };
    chip& m_chip;
    std::function<void(const std::string&, models::ps_t, double)> m_counter_sink;
    std::vector<thread> m_threads;
    std::unordered_map<const sc_core::sc_object*, unsigned> m_ids;  ///< process -> thread id
    std::vector<std::pair<unsigned, std::function<std::string()>>> m_reporters;
    unsigned m_next_reporter = 0;
    std::function<void(activity_span)> m_span_sink;
};

}  // namespace npusim::platform
