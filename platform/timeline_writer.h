#pragma once
// The --timeline file: a Chrome trace (JSON) that Perfetto and chrome://tracing open, with a
// track per host thread, per stream, and per core (its blocks) and pipe, op names and
// arguments on spans, flow arrows from host calls to the work they queued, and counter
// tracks (GM and L2 bandwidth, device memory in use, stream queue depths).
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "models/common/trace_sink.h"
#include "models/core/task_scheduler.h"
#include "platform/host_interface.h"

namespace npusim::platform {

/// @brief Where the timeline goes and what it keeps.
struct timeline_options {
    std::string path;
    std::set<unsigned> cores;                  ///< core tracks to keep; empty: every core
    uint64_t from_ps = 0, to_ps = UINT64_MAX;  ///< spans and samples overlapping this window
};

/// @brief Collects spans during a run and writes them as Chrome trace JSON on close(). Pipe
/// activity arrives as the pipes' busy signals; back-to-back instructions merge into one span,
/// named after the kernel whose block ran on the core. Bandwidth counters come from the
/// bytes GM and L2 serve (their traced byte signals), summed per time slot.
class timeline_writer : public models::trace_sink {
  public:
    explicit timeline_writer(timeline_options o) : m_opt(std::move(o)) {}

    int declare(const std::string& path, unsigned width, bool counter) override;
    void set(int id, uint64_t time_ps, int64_t value) override;
    void add(int id, uint64_t time_ps, int64_t delta) override;

    void add_span(const activity_span& s) { m_spans.push_back(s); }
    void add_launch(const models::launch_record& r);
    /// @brief A sampled value (a counter track named `name`).
    void add_sample(const std::string& name, uint64_t time_ps, double value);

    /// @brief Writes the file; returns the number of spans written. @throws std::runtime_error
    /// if the file cannot be written.
    size_t close();

    /// Width of the slots bandwidth is summed over before it is written.
    static constexpr uint64_t slot_ps = 100000;  // 100 ns

  private:
    struct pipe_track {
        unsigned core;
        std::string pipe;
        std::vector<std::pair<uint64_t, uint64_t>> spans;  ///< merged busy intervals
        uint64_t open = 0;
    };
    struct block_span {
        std::string kernel;
        unsigned block;
        uint64_t start, end;
        std::string cores, fault;
    };
    /// Bytes served per slot; an in-flight signal counts what completes (its decrements).
    struct rate_track {
        std::string name;
        bool completions;
        std::vector<uint64_t> bytes;
    };
    static constexpr int rate_base = 1 << 20;  ///< ids of rate tracks start here
    bool keep_core(unsigned core) const { return m_opt.cores.empty() || m_opt.cores.count(core); }
    bool in_window(uint64_t s, uint64_t e) const { return e >= m_opt.from_ps && s <= m_opt.to_ps; }

    timeline_options m_opt;
    std::vector<pipe_track> m_pipes;
    std::vector<rate_track> m_rates;
    std::vector<activity_span> m_spans;
    std::map<unsigned, std::vector<block_span>> m_blocks;  ///< by core
    std::map<std::string, std::vector<std::pair<uint64_t, double>>> m_samples;
};

}  // namespace npusim::platform
