#pragma once
// The --timeline file: a Chrome trace (JSON) that Perfetto and chrome://tracing open, with a
// track per host thread, per stream, and per core (its blocks) and pipe, op names on spans.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/common/trace_sink.h"
#include "models/core/task_scheduler.h"
#include "platform/host_interface.h"

namespace npusim::platform {

/// @brief Collects spans during a run and writes them as Chrome trace JSON on close(). Pipe
/// activity arrives as the pipes' busy signals (only those are declared); back-to-back
/// instructions merge into one span, named after the kernel whose block ran on the core.
class timeline_writer : public models::trace_sink {
  public:
    explicit timeline_writer(std::string path) : m_path(std::move(path)) {}

    int declare(const std::string& path, unsigned width, bool counter) override;
    void set(int id, uint64_t time_ps, int64_t value) override;
    void add(int, uint64_t, int64_t) override {}

    void add_span(const activity_span& s) { m_spans.push_back(s); }
    void add_launch(const models::launch_record& r);

    /// @brief Writes the file; returns the number of spans written. @throws std::runtime_error
    /// if the file cannot be written.
    size_t close();

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
    };
    std::string m_path;
    std::vector<pipe_track> m_pipes;
    std::vector<activity_span> m_spans;
    std::map<unsigned, std::vector<block_span>> m_blocks;  ///< by core
};

}  // namespace npusim::platform
